//! XACML 3.0 policy engine for systembruker.
//!
//! Small surface over a compiled evaluation tree:
//!
//! ```
//! use systembruker_xacml::{Decision, Pdp, Policy, Request};
//!
//! let policy = Policy::from_xml(r#"
//! <xacml:Policy xmlns:xacml="urn:oasis:names:tc:xacml:3.0:core:schema:wd-17"
//!   PolicyId="p" Version="1"
//!   RuleCombiningAlgId="urn:oasis:names:tc:xacml:3.0:rule-combining-algorithm:deny-overrides">
//!   <xacml:Target/>
//!   <xacml:Rule RuleId="r" Effect="Permit"><xacml:Target/></xacml:Rule>
//! </xacml:Policy>"#).expect("valid policy");
//! let request = Request::builder().action("read").build();
//! assert_eq!(Pdp::decide(&policy, &request).decision, Decision::Permit);
//! ```
//!
//! Unsupported features are listed in the crate README.

mod error;
mod eval;
mod functions;
mod policy;
mod request;
mod response;
mod rights;
mod temporal;
mod value;
mod xml;
mod xpath;

pub use error::{PolicyError, RequestError, Status, StatusCode};
pub use request::{ACTION_ID, Attribute, Attributes, Request, RequestBuilder, category};
pub use response::{
    Advice, AttributeAssignment, Decision, DecisionResult, Obligation, PolicyIdentifier,
    results_from_json, results_from_xml, to_json, to_xml,
};
pub use rights::{Right, SubjectMatch};
pub use temporal::{DayTimeDuration, XsDate, XsDateTime, XsTime, YearMonthDuration};
pub use value::{AttributeValue, DataType, ValueError};

use eval::{Ctx, Kind, Outcome, eval_node, permit_with_root_directives};
use policy::{Algorithm, Compiler, Expr, Node, PolicySetDef, RawRepository, Target};
use std::collections::BTreeSet;
use std::sync::Arc;

/// A compiled policy or policy set, ready to evaluate.
#[derive(Debug, Clone)]
pub struct Policy {
    root: Node,
}

/// Policies and policy sets that references (`PolicyIdReference`,
/// `PolicySetIdReference`) can be resolved against.
#[derive(Debug, Clone, Default)]
pub struct PolicyRepository {
    raw: RawRepository,
}

impl PolicyRepository {
    pub fn new() -> Self {
        Self::default()
    }

    /// Add a `<Policy>` or `<PolicySet>` document, indexed by its id.
    pub fn add_xml(&mut self, xml: &str) -> Result<(), PolicyError> {
        let root = parse_policy_dom(xml)?;
        let (table, id_attr) = match root.name.as_str() {
            "Policy" => (&mut self.raw.policies, "PolicyId"),
            "PolicySet" => (&mut self.raw.policy_sets, "PolicySetId"),
            other => {
                return Err(PolicyError::NotAPolicy {
                    found: other.to_string(),
                });
            }
        };
        let id = root
            .attr(id_attr)
            .ok_or_else(|| PolicyError::missing(&root, id_attr))?
            .to_string();
        table.insert(id, Arc::new(root));
        Ok(())
    }
}

fn parse_policy_dom(xml: &str) -> Result<xml::Element, PolicyError> {
    xml::parse_document(xml).map_err(|e| PolicyError::Xml {
        line: e.line,
        message: e.message,
    })
}

impl Policy {
    /// Parse and compile a `<Policy>` or `<PolicySet>` document.
    pub fn from_xml(xml: &str) -> Result<Policy, PolicyError> {
        Self::from_xml_with_repository(xml, &PolicyRepository::default())
    }

    /// Like [`from_xml`](Self::from_xml), resolving references through `repo`.
    /// Unresolvable references evaluate to Indeterminate.
    pub fn from_xml_with_repository(
        xml: &str,
        repo: &PolicyRepository,
    ) -> Result<Policy, PolicyError> {
        let root = parse_policy_dom(xml)?;
        let node = Compiler::new(&repo.raw).node(&root)?;
        let policy = Policy { root: node };
        if policy.rule_count() == 0 && !policy.has_references() {
            let (_, id) = policy.root.kind_and_id();
            return Err(PolicyError::NoRules {
                policy_id: id.to_string(),
            });
        }
        Ok(policy)
    }

    /// Treat several root policies as one: the PDP combines them with
    /// only-one-applicable (at most one may apply to a request).
    pub fn from_roots(roots: Vec<Policy>) -> Policy {
        let set = PolicySetDef {
            id: "urn:systembruker:xacml:roots".to_string(),
            version: "1.0".to_string(),
            target: Target::default(),
            algorithm: Algorithm::RootOnlyOneApplicable,
            children: roots.into_iter().map(|p| p.root).collect(),
            directives: Default::default(),
        };
        Policy {
            root: Node::PolicySet(Arc::new(set)),
        }
    }

    /// Id of the root Policy / PolicySet.
    pub fn id(&self) -> &str {
        self.root.kind_and_id().1
    }

    /// Number of rules in the whole tree (including referenced policies).
    pub fn rule_count(&self) -> usize {
        let mut n = 0;
        walk_policies(&self.root, &mut |p| n += p.rules.len());
        n
    }

    fn has_references(&self) -> bool {
        fn any_ref(node: &Node) -> bool {
            match node {
                Node::Unresolved { .. } => true,
                Node::Policy(_) => false,
                Node::PolicySet(s) => s.children.iter().any(any_ref),
            }
        }
        any_ref(&self.root)
    }

    /// Every attribute id used by a designator anywhere in the policy
    /// (targets, conditions, obligations), sorted. Lets the PDP decide which
    /// attributes to fetch (e.g. `urn:altinn:accesspackage`).
    pub fn referenced_attribute_ids(&self) -> Vec<String> {
        let mut ids = BTreeSet::new();
        visit_exprs(&self.root, &mut |e| {
            if let Expr::Designator(d) = e {
                ids.insert(d.attribute_id.clone());
            }
        });
        ids.into_iter().collect()
    }

    /// Rights of an Altinn-shaped policy; see [`Right`].
    pub fn rights(&self) -> Vec<Right> {
        let mut rules = Vec::new();
        walk_policies(&self.root, &mut |p| rules.extend(p.rules.iter().cloned()));
        rights::rights_of(&rules)
    }
}

fn walk_policies(node: &Node, f: &mut dyn FnMut(&policy::PolicyDef)) {
    match node {
        Node::Policy(p) => f(p),
        Node::PolicySet(s) => s.children.iter().for_each(|c| walk_policies(c, f)),
        Node::Unresolved { .. } => {}
    }
}

fn visit_target(t: &Target, f: &mut dyn FnMut(&Expr)) {
    for m in t.any_ofs.iter().flatten().flatten() {
        visit_expr(&m.source, f);
    }
}

fn visit_expr(e: &Expr, f: &mut dyn FnMut(&Expr)) {
    f(e);
    if let Expr::Apply { args, .. } = e {
        args.iter().for_each(|a| visit_expr(a, f));
    }
}

fn visit_directives(d: &policy::Directives, f: &mut dyn FnMut(&Expr)) {
    for a in d
        .obligations
        .iter()
        .chain(&d.advice)
        .flat_map(|o| &o.assignments)
    {
        visit_expr(&a.expr, f);
    }
}

fn visit_exprs(node: &Node, f: &mut dyn FnMut(&Expr)) {
    match node {
        Node::Policy(p) => {
            visit_target(&p.target, f);
            visit_directives(&p.directives, f);
            for r in &p.rules {
                visit_target(&r.target, f);
                if let Some(c) = &r.condition {
                    visit_expr(c, f);
                }
                visit_directives(&r.directives, f);
            }
        }
        Node::PolicySet(s) => {
            visit_target(&s.target, f);
            visit_directives(&s.directives, f);
            s.children.iter().for_each(|c| visit_exprs(c, f));
        }
        Node::Unresolved { .. } => {}
    }
}

/// The policy decision point: evaluates requests against a policy.
#[derive(Debug, Clone, Copy, Default)]
pub struct Pdp;

impl Pdp {
    /// Evaluate every individual request of `request` (multiple decision
    /// profile: `MultiRequests` or repeated categories), in order.
    pub fn evaluate(policy: &Policy, request: &Request) -> Vec<DecisionResult> {
        if request.is_simple() {
            return vec![Self::decide(policy, request)];
        }
        request
            .individual_requests()
            .iter()
            .map(|individual| match individual {
                Ok(selection) => decide_with(policy, request, Some(selection)),
                Err(message) => DecisionResult::processing_error(message.clone()),
            })
            .collect()
    }

    /// Evaluate `request` as a single individual request (all attribute
    /// groups together). The fast path for code-built requests.
    pub fn decide(policy: &Policy, request: &Request) -> DecisionResult {
        decide_with(policy, request, None)
    }

    /// A Permit that something outside `policy` decided, such as a right delegated to
    /// the subject: it carries the obligations and advice `policy` itself (not one of its
    /// rules) attaches to Permit, e.g. the minimum authentication level, and the
    /// request's IncludeInResult attributes, like any other result. No policy: neither
    /// obligations nor advice.
    pub fn permit_outside(policy: Option<&Policy>, request: &Request) -> DecisionResult {
        let ctx = Ctx {
            request,
            selection: None,
        };
        let outcome = match policy {
            Some(policy) => permit_with_root_directives(&policy.root, &ctx),
            None => Outcome {
                kind: Kind::Permit,
                status: Status::ok(),
                obligations: Vec::new(),
                advice: Vec::new(),
                policy_ids: Vec::new(),
            },
        };
        to_result(outcome, &ctx)
    }
}

fn decide_with(policy: &Policy, request: &Request, selection: Option<&[usize]>) -> DecisionResult {
    let ctx = Ctx { request, selection };
    let outcome = eval_node(&policy.root, &ctx);
    to_result(outcome, &ctx)
}

fn to_result(outcome: Outcome, ctx: &Ctx<'_>) -> DecisionResult {
    let decision = match outcome.kind {
        Kind::Permit => Decision::Permit,
        Kind::Deny => Decision::Deny,
        Kind::NotApplicable => Decision::NotApplicable,
        Kind::IndD | Kind::IndP | Kind::IndDP => Decision::Indeterminate,
    };
    let decided = matches!(decision, Decision::Permit | Decision::Deny);
    let mut result = DecisionResult::new(decision, outcome.status);
    if decided {
        result.obligations = outcome.obligations;
        result.advice = outcome.advice;
    }
    result.policy_identifiers = outcome.policy_ids;
    result.attributes = included_attributes(ctx);
    result
}

/// Request attributes flagged IncludeInResult, grouped by category.
fn included_attributes(ctx: &Ctx<'_>) -> Vec<Attributes> {
    let groups: Vec<&Attributes> = match ctx.selection {
        None => ctx.request.categories.iter().collect(),
        Some(idx) => idx
            .iter()
            .filter_map(|i| ctx.request.categories.get(*i))
            .collect(),
    };
    groups
        .into_iter()
        .filter_map(|g| {
            let attributes: Vec<Attribute> = g
                .attributes
                .iter()
                .filter(|a| a.include_in_result)
                .cloned()
                .collect();
            (!attributes.is_empty()).then(|| Attributes {
                category: g.category.clone(),
                id: None,
                attributes,
                content: None,
            })
        })
        .collect()
}
