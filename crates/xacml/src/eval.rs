//! Evaluation of the compiled tree against one individual request.

use crate::error::{EvalError, Status};
use crate::functions::{self, Func, HigherOrder, Val, XPathFn, match_values};
use crate::policy::{
    Algorithm, Designator, Directives, Effect, EffectExpr, Expr, Match, Node, PolicyDef,
    PolicySetDef, Rule, Selector, Target,
};
use crate::request::{Attributes, Request};
use crate::response::{AttributeAssignment, Obligation, PolicyIdentifier};
use crate::value::AttributeValue;
use crate::xpath;
use std::borrow::Cow;

/// The attribute groups visible to one individual request.
pub(crate) struct Ctx<'r> {
    pub request: &'r Request,
    /// Indexes into `request.categories`; `None` means all of them.
    pub selection: Option<&'r [usize]>,
}

impl<'r> Ctx<'r> {
    fn groups(&self) -> impl Iterator<Item = &'r Attributes> + '_ {
        let selection = self.selection;
        self.request
            .categories
            .iter()
            .enumerate()
            .filter(move |(i, _)| selection.is_none_or(|s| s.contains(i)))
            .map(|(_, g)| g)
    }

    /// The `<Content>` document of `category`, if the request gave one.
    fn content(&self, category: &str) -> Option<&'r str> {
        self.groups()
            .filter(|g| g.category == category)
            .find_map(|g| g.content.as_deref())
    }

    /// Bag of values for a designator. Borrowed when a single request
    /// attribute holds all of them (the common case), collected otherwise.
    fn lookup(&self, d: &Designator) -> Val<'r> {
        let mut found: Option<&'r [AttributeValue]> = None;
        let mut collected: Option<Vec<AttributeValue>> = None;
        for group in self.groups().filter(|g| g.category == d.category) {
            for attr in &group.attributes {
                if attr.id != d.attribute_id {
                    continue;
                }
                if d.issuer.is_some() && attr.issuer != d.issuer {
                    continue;
                }
                let all_typed = attr.values.iter().all(|v| v.data_type() == d.data_type);
                match (&mut collected, found) {
                    (None, None) if all_typed => found = Some(&attr.values),
                    _ => {
                        let bag = collected.get_or_insert_with(|| {
                            found
                                .take()
                                .map(<[AttributeValue]>::to_vec)
                                .unwrap_or_default()
                        });
                        bag.extend(
                            attr.values
                                .iter()
                                .filter(|v| v.data_type() == d.data_type)
                                .cloned(),
                        );
                    }
                }
            }
        }
        match (collected, found) {
            (Some(bag), _) => Val::Bag(Cow::Owned(bag)),
            (None, Some(slice)) => Val::Bag(Cow::Borrowed(slice)),
            (None, None) => Val::Bag(Cow::Borrowed(&[])),
        }
    }
}

// ------------------------------------------------------------ expressions

pub(crate) fn eval<'a>(expr: &'a Expr, ctx: &Ctx<'a>) -> Result<Val<'a>, EvalError> {
    match expr {
        Expr::Value(v) => Ok(Val::One(Cow::Borrowed(v))),
        Expr::Designator(d) => {
            let bag = ctx.lookup(d);
            if d.must_be_present && matches!(&bag, Val::Bag(b) if b.is_empty()) {
                return Err(EvalError::missing(format!(
                    "attribute {} ({}) of category {} is required but missing",
                    d.attribute_id,
                    d.data_type.short_name(),
                    d.category
                )));
            }
            Ok(bag)
        }
        Expr::Selector(s) => {
            let bag = select(s, ctx)?;
            if s.must_be_present && bag.is_empty() {
                return Err(EvalError::missing(format!(
                    "AttributeSelector {} over the <Content> of {} selects nothing and is required",
                    s.path, s.category
                )));
            }
            Ok(Val::Bag(Cow::Owned(bag)))
        }
        Expr::Function(_) => Err(EvalError::processing(
            "a function can only be used as an argument of a higher-order function",
        )),
        Expr::Apply {
            func,
            args,
            regexes,
        } => apply(*func, args, regexes, ctx),
    }
}

/// An `AttributeSelector`'s bag (empty when the category has no `<Content>`).
fn select(s: &Selector, ctx: &Ctx<'_>) -> Result<Vec<AttributeValue>, EvalError> {
    let Some(doc) = ctx.content(&s.category) else {
        return Ok(Vec::new());
    };
    xpath::Content::parse(doc)?.select(&s.path, &s.namespaces, |nodes| {
        xpath::node_values(nodes, s.data_type)
    })
}

/// `xpath-node-count`, `xpath-node-equal`, `xpath-node-match`. Without a
/// `<Content>` in the expression's category the count is 0 and the others false.
fn xpath_function<'a>(
    kind: XPathFn,
    args: &'a [Expr],
    ctx: &Ctx<'a>,
) -> Result<Val<'a>, EvalError> {
    let values = args
        .iter()
        .map(|a| eval(a, ctx))
        .collect::<Result<Vec<_>, _>>()?;
    let wanted = if kind == XPathFn::Count { 1 } else { 2 };
    if values.len() != wanted {
        return Err(EvalError::processing(format!(
            "the XPath function takes {wanted} argument(s), got {}",
            values.len()
        )));
    }
    let (category, path, namespaces) = xpath_argument(&values, 0)?;
    if kind == XPathFn::Count {
        let count = match ctx.content(category) {
            None => 0,
            Some(doc) => xpath::Content::parse(doc)?.select(path, namespaces, |n| Ok(n.len()))?,
        };
        let count = i64::try_from(count).map_err(|_| EvalError::processing("too many nodes"))?;
        return Ok(Val::owned(AttributeValue::Integer(count)));
    }
    let (category2, path2, namespaces2) = xpath_argument(&values, 1)?;
    let doc = match ctx.content(category) {
        Some(doc) if category == category2 => doc,
        _ => return Ok(Val::bool(false)),
    };
    let content = xpath::Content::parse(doc)?;
    let found = content.select(path, namespaces, |first| {
        content.select(path2, namespaces2, |second| {
            Ok(match kind {
                XPathFn::Equal => xpath::node_equal(first, second),
                _ => xpath::node_match(first, second),
            })
        })
    })?;
    Ok(Val::bool(found))
}

/// The `i`th argument as an xpathExpression: (category, path, namespaces).
type XPathArgument<'v> = (&'v str, &'v str, &'v [(String, String)]);

fn xpath_argument<'v>(values: &'v [Val<'_>], i: usize) -> Result<XPathArgument<'v>, EvalError> {
    match values.get(i).map(Val::one).transpose()? {
        Some(AttributeValue::XPathExpression {
            category,
            path,
            namespaces,
        }) => Ok((category, path, namespaces)),
        Some(other) => Err(EvalError::processing(format!(
            "expected an xpathExpression, got {}",
            other.data_type().short_name()
        ))),
        None => Err(EvalError::processing("missing xpathExpression argument")),
    }
}

fn eval_bool(expr: &Expr, ctx: &Ctx<'_>) -> Result<bool, EvalError> {
    match eval(expr, ctx)? {
        Val::One(v) => match v.as_ref() {
            AttributeValue::Boolean(b) => Ok(*b),
            other => Err(EvalError::processing(format!(
                "expected a boolean, got {}",
                other.data_type().short_name()
            ))),
        },
        Val::Bag(_) => Err(EvalError::processing("expected a boolean, got a bag")),
    }
}

fn apply<'a>(
    func: Func,
    args: &'a [Expr],
    regexes: &'a [Option<regex::Regex>],
    ctx: &Ctx<'a>,
) -> Result<Val<'a>, EvalError> {
    match func {
        Func::Or => logical(args, ctx, true),
        Func::And => logical(args, ctx, false),
        Func::NOf => n_of(args, ctx),
        Func::HigherOrder(kind) => higher_order(kind, args, ctx),
        Func::XPath(kind) => xpath_function(kind, args, ctx),
        _ => {
            let values = args
                .iter()
                .map(|a| eval(a, ctx))
                .collect::<Result<Vec<_>, _>>()?;
            functions::call(func, &values, regexes)
        }
    }
}

/// `or` (stop_on = true) and `and` (stop_on = false), short-circuiting; an
/// error only matters when no argument decides the result.
fn logical<'a>(args: &'a [Expr], ctx: &Ctx<'a>, stop_on: bool) -> Result<Val<'a>, EvalError> {
    let mut error = None;
    for a in args {
        match eval_bool(a, ctx) {
            Ok(b) if b == stop_on => return Ok(Val::bool(stop_on)),
            Ok(_) => {}
            Err(e) => {
                error.get_or_insert(e);
            }
        }
    }
    match error {
        Some(e) => Err(e),
        None => Ok(Val::bool(!stop_on)),
    }
}

fn n_of<'a>(args: &'a [Expr], ctx: &Ctx<'a>) -> Result<Val<'a>, EvalError> {
    let (first, rest) = args
        .split_first()
        .ok_or_else(|| EvalError::processing("n-of needs at least one argument"))?;
    let needed = match eval(first, ctx)?.one()? {
        AttributeValue::Integer(n) => *n,
        _ => {
            return Err(EvalError::processing(
                "n-of: first argument must be an integer",
            ));
        }
    };
    if needed <= 0 {
        return Ok(Val::bool(true));
    }
    if usize::try_from(needed).map_or(true, |n| n > rest.len()) {
        return Err(EvalError::processing(
            "n-of: more true arguments required than given",
        ));
    }
    let mut count = 0i64;
    let mut error = None;
    for a in rest {
        match eval_bool(a, ctx) {
            Ok(true) => {
                count += 1;
                if count >= needed {
                    return Ok(Val::bool(true));
                }
            }
            Ok(false) => {}
            Err(e) => {
                error.get_or_insert(e);
            }
        }
    }
    match error {
        Some(e) => Err(e),
        None => Ok(Val::bool(false)),
    }
}

/// Call `func` on one tuple of single values.
fn call_on(func: Func, tuple: &[&AttributeValue]) -> Result<Val<'static>, EvalError> {
    let args: Vec<Val<'_>> = tuple.iter().map(|v| Val::One(Cow::Borrowed(*v))).collect();
    match func {
        Func::Or | Func::And => {
            let stop_on = func == Func::Or;
            let mut result = !stop_on;
            for v in tuple {
                match v {
                    AttributeValue::Boolean(b) if *b == stop_on => result = stop_on,
                    AttributeValue::Boolean(_) => {}
                    _ => return Err(EvalError::processing("logical function needs booleans")),
                }
            }
            Ok(Val::bool(result))
        }
        Func::NOf | Func::HigherOrder(_) => Err(EvalError::processing(
            "this function cannot be passed to a higher-order function",
        )),
        _ => functions::call(func, &args, &[]),
    }
}

fn call_bool(func: Func, tuple: &[&AttributeValue]) -> Result<bool, EvalError> {
    match call_on(func, tuple)?.one()? {
        AttributeValue::Boolean(b) => Ok(*b),
        _ => Err(EvalError::processing(
            "higher-order function needs a boolean-valued function",
        )),
    }
}

/// Bound on the number of tuples a higher-order function may visit.
const MAX_TUPLES: usize = 1_000_000;

fn higher_order<'a>(
    kind: HigherOrder,
    args: &'a [Expr],
    ctx: &Ctx<'a>,
) -> Result<Val<'a>, EvalError> {
    let (f, rest) = args
        .split_first()
        .ok_or_else(|| EvalError::processing("higher-order function needs a function argument"))?;
    let Expr::Function(func) = f else {
        return Err(EvalError::processing(
            "first argument of a higher-order function must be a <Function>",
        ));
    };
    let values = rest
        .iter()
        .map(|a| eval(a, ctx))
        .collect::<Result<Vec<_>, _>>()?;
    match kind {
        HigherOrder::AnyOf | HigherOrder::AnyOfAny => cross_product_any(*func, &values, true),
        HigherOrder::AllOf => cross_product_any(*func, &values, false),
        HigherOrder::Map => map(*func, &values),
        HigherOrder::AllOfAny | HigherOrder::AnyOfAll | HigherOrder::AllOfAll => {
            two_bags(kind, *func, &values)
        }
    }
}

/// Each argument as a slice of candidate values (singletons for single values).
fn as_slices<'v>(values: &'v [Val<'_>]) -> Vec<&'v [AttributeValue]> {
    values
        .iter()
        .map(|v| match v {
            Val::One(x) => std::slice::from_ref(x.as_ref()),
            Val::Bag(b) => b.as_ref(),
        })
        .collect()
}

/// Visit every tuple of the cross product of `slices` until `visit` says stop.
fn for_each_tuple(
    slices: &[&[AttributeValue]],
    mut visit: impl FnMut(&[&AttributeValue]) -> Result<bool, EvalError>,
) -> Result<(), EvalError> {
    let total = slices
        .iter()
        .try_fold(1usize, |acc, s| acc.checked_mul(s.len()))
        .filter(|n| *n <= MAX_TUPLES)
        .ok_or_else(|| EvalError::processing("higher-order function over too many values"))?;
    let mut tuple: Vec<&AttributeValue> = Vec::with_capacity(slices.len());
    for mut n in 0..total {
        tuple.clear();
        for s in slices.iter().rev() {
            tuple.push(&s[n % s.len()]);
            n /= s.len();
        }
        tuple.reverse();
        if !visit(&tuple)? {
            break;
        }
    }
    Ok(())
}

/// any-of / any-of-any (want = true): some tuple is true.
/// all-of (want = false): every tuple is true.
fn cross_product_any(func: Func, values: &[Val<'_>], any: bool) -> Result<Val<'static>, EvalError> {
    let slices = as_slices(values);
    let mut result = !any;
    for_each_tuple(&slices, |tuple| {
        let b = call_bool(func, tuple)?;
        if b == any {
            result = any;
            return Ok(false);
        }
        Ok(true)
    })?;
    Ok(Val::bool(result))
}

fn map(func: Func, values: &[Val<'_>]) -> Result<Val<'static>, EvalError> {
    let slices = as_slices(values);
    let mut out = Vec::new();
    for_each_tuple(&slices, |tuple| {
        match call_on(func, tuple)? {
            Val::One(v) => out.push(v.into_owned()),
            Val::Bag(_) => return Err(EvalError::processing("map: function returned a bag")),
        }
        Ok(true)
    })?;
    Ok(Val::Bag(Cow::Owned(out)))
}

fn two_bags(kind: HigherOrder, func: Func, values: &[Val<'_>]) -> Result<Val<'static>, EvalError> {
    let [a, b] = values else {
        return Err(EvalError::processing(
            "function expects a function and two bags",
        ));
    };
    let (a, b) = (a.bag()?, b.bag()?);
    let holds_for = |x: &AttributeValue, all: bool| -> Result<bool, EvalError> {
        for y in b {
            if call_bool(func, &[x, y])? != all {
                return Ok(!all);
            }
        }
        Ok(all)
    };
    let result = match kind {
        HigherOrder::AllOfAny => {
            let mut ok = true;
            for x in a {
                if !holds_for(x, false)? {
                    ok = false;
                    break;
                }
            }
            ok
        }
        HigherOrder::AnyOfAll => {
            let mut ok = false;
            for x in a {
                if holds_for(x, true)? {
                    ok = true;
                    break;
                }
            }
            ok
        }
        _ => {
            let mut ok = true;
            for x in a {
                if !holds_for(x, true)? {
                    ok = false;
                    break;
                }
            }
            ok
        }
    };
    Ok(Val::bool(result))
}

// ---------------------------------------------------------------- targets

fn eval_match(m: &Match, ctx: &Ctx<'_>) -> Result<bool, EvalError> {
    let bag = eval(&m.source, ctx)?;
    let values = bag.bag()?;
    let mut error = None;
    for v in values {
        match match_values(m.func, m.regex.as_ref(), &m.literal, v) {
            Ok(true) => return Ok(true),
            Ok(false) => {}
            Err(e) => {
                error.get_or_insert(e);
            }
        }
    }
    error.map_or(Ok(false), Err)
}

/// Combine three-valued results: `stop_on` decides immediately, errors win
/// over the neutral value.
fn three_valued<T>(
    items: &[T],
    stop_on: bool,
    mut f: impl FnMut(&T) -> Result<bool, EvalError>,
) -> Result<bool, EvalError> {
    let mut error = None;
    for item in items {
        match f(item) {
            Ok(b) if b == stop_on => return Ok(stop_on),
            Ok(_) => {}
            Err(e) => {
                error.get_or_insert(e);
            }
        }
    }
    error.map_or(Ok(!stop_on), Err)
}

pub(crate) fn eval_target(t: &Target, ctx: &Ctx<'_>) -> Result<bool, EvalError> {
    three_valued(&t.any_ofs, false, |any_of| {
        three_valued(any_of, true, |all_of| {
            three_valued(all_of, false, |m| eval_match(m, ctx))
        })
    })
}

// --------------------------------------------------------------- outcomes

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Permit,
    Deny,
    NotApplicable,
    IndD,
    IndP,
    IndDP,
}

/// Result of evaluating a rule, policy or policy set.
#[derive(Debug, Clone)]
pub(crate) struct Outcome {
    pub kind: Kind,
    pub status: Status,
    pub obligations: Vec<Obligation>,
    pub advice: Vec<Obligation>,
    pub policy_ids: Vec<PolicyIdentifier>,
}

impl Outcome {
    fn plain(kind: Kind) -> Self {
        Outcome {
            kind,
            status: Status::ok(),
            obligations: Vec::new(),
            advice: Vec::new(),
            policy_ids: Vec::new(),
        }
    }
    fn not_applicable() -> Self {
        Self::plain(Kind::NotApplicable)
    }
    fn indeterminate(kind: Kind, status: Status) -> Self {
        Outcome {
            status,
            ..Self::plain(kind)
        }
    }
    fn effect(effect: Effect) -> Self {
        Self::plain(effect_kind(effect))
    }
    fn decided_effect(&self) -> Option<Effect> {
        match self.kind {
            Kind::Permit => Some(Effect::Permit),
            Kind::Deny => Some(Effect::Deny),
            _ => None,
        }
    }
    fn absorb(&mut self, other: Outcome) {
        self.obligations.extend(other.obligations);
        self.advice.extend(other.advice);
        self.policy_ids.extend(other.policy_ids);
    }
}

fn effect_kind(e: Effect) -> Kind {
    match e {
        Effect::Permit => Kind::Permit,
        Effect::Deny => Kind::Deny,
    }
}

fn ind_kind(e: Effect) -> Kind {
    match e {
        Effect::Permit => Kind::IndP,
        Effect::Deny => Kind::IndD,
    }
}

fn eval_effect_exprs(
    list: &[EffectExpr],
    effect: Effect,
    ctx: &Ctx<'_>,
) -> Result<Vec<Obligation>, EvalError> {
    let mut out = Vec::new();
    for e in list.iter().filter(|e| e.applies_to == effect) {
        let mut assignments = Vec::new();
        for a in &e.assignments {
            let values: Vec<AttributeValue> = match eval(&a.expr, ctx)? {
                Val::One(v) => vec![v.into_owned()],
                Val::Bag(b) => b.into_owned(),
            };
            assignments.extend(values.into_iter().map(|value| AttributeAssignment {
                attribute_id: a.attribute_id.clone(),
                category: a.category.clone(),
                issuer: a.issuer.clone(),
                value,
            }));
        }
        out.push(Obligation {
            id: e.id.clone(),
            assignments,
        });
    }
    Ok(out)
}

/// Attach obligations and advice of `directives` to a Permit/Deny outcome;
/// a failing assignment turns the outcome Indeterminate.
fn with_directives(mut outcome: Outcome, directives: &Directives, ctx: &Ctx<'_>) -> Outcome {
    let Some(effect) = outcome.decided_effect() else {
        return outcome;
    };
    if directives.obligations.is_empty() && directives.advice.is_empty() {
        return outcome;
    }
    let evaluated = eval_effect_exprs(&directives.obligations, effect, ctx)
        .and_then(|o| Ok((o, eval_effect_exprs(&directives.advice, effect, ctx)?)));
    match evaluated {
        Ok((obligations, advice)) => {
            outcome.obligations.extend(obligations);
            outcome.advice.extend(advice);
            outcome
        }
        Err(e) => Outcome::indeterminate(ind_kind(effect), e.0),
    }
}

fn eval_rule(rule: &Rule, ctx: &Ctx<'_>) -> Outcome {
    match eval_target(&rule.target, ctx) {
        Ok(true) => {}
        Ok(false) => return Outcome::not_applicable(),
        Err(e) => return Outcome::indeterminate(ind_kind(rule.effect), e.0),
    }
    if let Some(cond) = &rule.condition {
        match eval_bool(cond, ctx) {
            Ok(true) => {}
            Ok(false) => return Outcome::not_applicable(),
            Err(e) => return Outcome::indeterminate(ind_kind(rule.effect), e.0),
        }
    }
    with_directives(Outcome::effect(rule.effect), &rule.directives, ctx)
}

/// Apply the result of an Indeterminate target to the combined value
/// (XACML 3.0 section 7.13, table 7).
fn under_indeterminate_target(combined: Outcome, status: Status) -> Outcome {
    match combined.kind {
        Kind::NotApplicable => Outcome::not_applicable(),
        Kind::Permit => Outcome::indeterminate(Kind::IndP, status),
        Kind::Deny => Outcome::indeterminate(Kind::IndD, status),
        other => Outcome::indeterminate(other, combined.status),
    }
}

fn eval_policy(p: &PolicyDef, ctx: &Ctx<'_>) -> Outcome {
    let target = eval_target(&p.target, ctx);
    if matches!(target, Ok(false)) {
        return Outcome::not_applicable();
    }
    let combined = combine(p.algorithm, &p.rules, |r| eval_rule(r, ctx), |_| Ok(true));
    if let Err(e) = target {
        return under_indeterminate_target(combined, e.0);
    }
    finish(combined, &p.directives, ctx, false, &p.id, &p.version)
}

fn finish(
    combined: Outcome,
    directives: &Directives,
    ctx: &Ctx<'_>,
    is_policy_set: bool,
    id: &str,
    version: &str,
) -> Outcome {
    let mut outcome = with_directives(combined, directives, ctx);
    if outcome.decided_effect().is_some() && ctx.request.return_policy_id_list {
        outcome.policy_ids.push(PolicyIdentifier {
            is_policy_set,
            id: id.to_string(),
            version: version.to_string(),
        });
    }
    outcome
}

fn eval_policy_set(p: &PolicySetDef, ctx: &Ctx<'_>) -> Outcome {
    let target = eval_target(&p.target, ctx);
    if matches!(target, Ok(false)) {
        return Outcome::not_applicable();
    }
    let combined = combine(
        p.algorithm,
        &p.children,
        |c| eval_node(c, ctx),
        |c| node_applicable(c, ctx),
    );
    if let Err(e) = target {
        return under_indeterminate_target(combined, e.0);
    }
    finish(combined, &p.directives, ctx, true, &p.id, &p.version)
}

pub(crate) fn eval_node(node: &Node, ctx: &Ctx<'_>) -> Outcome {
    match node {
        Node::Policy(p) => eval_policy(p, ctx),
        Node::PolicySet(p) => eval_policy_set(p, ctx),
        Node::Unresolved { id } => Outcome::indeterminate(
            Kind::IndDP,
            Status::processing_error(format!("policy reference `{id}` could not be resolved")),
        ),
    }
}

/// A Permit decided outside the tree (a right delegated to the subject), with the
/// root's own Permit obligations and advice, as if the root's rules had permitted.
pub(crate) fn permit_with_root_directives(node: &Node, ctx: &Ctx<'_>) -> Outcome {
    let permit = Outcome::effect(Effect::Permit);
    match node {
        Node::Policy(p) => with_directives(permit, &p.directives, ctx),
        Node::PolicySet(p) => with_directives(permit, &p.directives, ctx),
        Node::Unresolved { .. } => permit,
    }
}

/// Whether a child's target matches (only-one-applicable).
fn node_applicable(node: &Node, ctx: &Ctx<'_>) -> Result<bool, EvalError> {
    match node {
        Node::Policy(p) => eval_target(&p.target, ctx),
        Node::PolicySet(p) => eval_target(&p.target, ctx),
        Node::Unresolved { id } => Err(EvalError::processing(format!(
            "policy reference `{id}` could not be resolved"
        ))),
    }
}

// ------------------------------------------------------- combining algorithms

/// Accumulates outcomes of children and remembers the first error status.
#[derive(Default)]
struct Tally {
    permit: Option<Outcome>,
    deny: Option<Outcome>,
    ind_d: bool,
    ind_p: bool,
    ind_dp: bool,
    status: Option<Status>,
}

impl Tally {
    fn add(&mut self, o: Outcome) {
        let slot = match o.kind {
            Kind::Permit => &mut self.permit,
            Kind::Deny => &mut self.deny,
            Kind::NotApplicable => return,
            Kind::IndD | Kind::IndP | Kind::IndDP => {
                match o.kind {
                    Kind::IndD => self.ind_d = true,
                    Kind::IndP => self.ind_p = true,
                    _ => self.ind_dp = true,
                }
                self.status.get_or_insert(o.status);
                return;
            }
        };
        match slot {
            Some(acc) => acc.absorb(o),
            None => *slot = Some(o),
        }
    }

    fn indeterminate(&mut self, kind: Kind) -> Outcome {
        let status = self
            .status
            .take()
            .unwrap_or_else(|| Status::processing_error("indeterminate"));
        Outcome::indeterminate(kind, status)
    }

    fn any_error(&self) -> bool {
        self.ind_d || self.ind_p || self.ind_dp
    }
}

fn combine<T>(
    alg: Algorithm,
    children: &[T],
    eval_child: impl FnMut(&T) -> Outcome,
    applicable: impl FnMut(&T) -> Result<bool, EvalError>,
) -> Outcome {
    let mut eval_child = eval_child;
    match alg {
        Algorithm::DenyOverrides => overrides(children, eval_child, Kind::Deny),
        Algorithm::PermitOverrides => overrides(children, eval_child, Kind::Permit),
        Algorithm::DenyUnlessPermit => unless(children, eval_child, Kind::Permit),
        Algorithm::PermitUnlessDeny => unless(children, eval_child, Kind::Deny),
        Algorithm::FirstApplicable => children
            .iter()
            .map(&mut eval_child)
            .find(|o| o.kind != Kind::NotApplicable)
            .unwrap_or_else(Outcome::not_applicable),
        Algorithm::OnlyOneApplicable => only_one(children, eval_child, applicable),
        Algorithm::RootOnlyOneApplicable => {
            let mut applicable = applicable;
            only_one(children, eval_child, |c| Ok(applicable(c).unwrap_or(false)))
        }
        Algorithm::LegacyDenyOverrides => legacy_overrides(children, eval_child, Kind::Deny),
        Algorithm::LegacyPermitOverrides => legacy_overrides(children, eval_child, Kind::Permit),
    }
}

/// deny-overrides (winner = Deny) and permit-overrides (winner = Permit),
/// with the XACML 3.0 extended Indeterminate values.
fn overrides<T>(
    children: &[T],
    mut eval_child: impl FnMut(&T) -> Outcome,
    winner: Kind,
) -> Outcome {
    let mut tally = Tally::default();
    for c in children {
        let o = eval_child(c);
        if o.kind == winner {
            return o;
        }
        tally.add(o);
    }
    let (win_err, lose_err, loser) = if winner == Kind::Deny {
        (tally.ind_d, tally.ind_p, tally.permit.take())
    } else {
        (tally.ind_p, tally.ind_d, tally.deny.take())
    };
    let win_ind = if winner == Kind::Deny {
        Kind::IndD
    } else {
        Kind::IndP
    };
    let lose_ind = if winner == Kind::Deny {
        Kind::IndP
    } else {
        Kind::IndD
    };
    if tally.ind_dp || (win_err && (lose_err || loser.is_some())) {
        return tally.indeterminate(Kind::IndDP);
    }
    if win_err {
        return tally.indeterminate(win_ind);
    }
    if let Some(o) = loser {
        return o;
    }
    if lose_err {
        return tally.indeterminate(lose_ind);
    }
    Outcome::not_applicable()
}

/// deny-unless-permit (winner = Permit) and permit-unless-deny (winner = Deny).
fn unless<T>(children: &[T], mut eval_child: impl FnMut(&T) -> Outcome, winner: Kind) -> Outcome {
    let mut tally = Tally::default();
    for c in children {
        let o = eval_child(c);
        if o.kind == winner {
            return o;
        }
        tally.add(o);
    }
    let fallback = if winner == Kind::Permit {
        tally.deny.take()
    } else {
        tally.permit.take()
    };
    let fallback_kind = if winner == Kind::Permit {
        Kind::Deny
    } else {
        Kind::Permit
    };
    fallback.unwrap_or_else(|| Outcome::plain(fallback_kind))
}

fn only_one<T>(
    children: &[T],
    eval_child: impl FnMut(&T) -> Outcome,
    mut applicable: impl FnMut(&T) -> Result<bool, EvalError>,
) -> Outcome {
    let mut chosen = None;
    for c in children {
        match applicable(c) {
            Ok(false) => {}
            Ok(true) if chosen.is_none() => chosen = Some(c),
            Ok(true) => {
                return Outcome::indeterminate(
                    Kind::IndDP,
                    Status::processing_error("only-one-applicable: more than one policy applies"),
                );
            }
            Err(e) => return Outcome::indeterminate(Kind::IndDP, e.0),
        }
    }
    chosen.map_or_else(Outcome::not_applicable, eval_child)
}

/// XACML 1.x deny-/permit-overrides. At rule level an Indeterminate rule
/// with the winning effect makes the result Indeterminate; at policy level
/// (where children carry no effect) an Indeterminate counts as the winner
/// for deny-overrides, as in XACML 1.0.
fn legacy_overrides<T>(
    children: &[T],
    mut eval_child: impl FnMut(&T) -> Outcome,
    winner: Kind,
) -> Outcome {
    let mut tally = Tally::default();
    let mut potential_winner = false;
    for c in children {
        let o = eval_child(c);
        if o.kind == winner {
            return o;
        }
        let winner_ind = if winner == Kind::Deny {
            Kind::IndD
        } else {
            Kind::IndP
        };
        if o.kind == winner_ind || o.kind == Kind::IndDP {
            potential_winner = true;
        }
        tally.add(o);
    }
    if potential_winner {
        return tally.indeterminate(Kind::IndDP);
    }
    let loser = if winner == Kind::Deny {
        tally.permit.take()
    } else {
        tally.deny.take()
    };
    if let Some(o) = loser {
        return o;
    }
    if tally.any_error() {
        return tally.indeterminate(Kind::IndDP);
    }
    Outcome::not_applicable()
}
