//! The XACML function library: identifiers resolved once at load time to a
//! [`Func`], and evaluated over already-evaluated arguments.

use crate::error::EvalError;
use crate::value::{AttributeValue as V, DataType, parse_double, x500_rdns};
use regex::Regex;
use std::borrow::Cow;
use std::cmp::Ordering;

/// A value produced while evaluating an expression: a single value or a bag.
/// Borrowed variants point into the policy or the request (no copying on the
/// hot path).
#[derive(Debug, Clone)]
pub(crate) enum Val<'a> {
    One(Cow<'a, V>),
    Bag(Cow<'a, [V]>),
}

impl<'a> Val<'a> {
    pub fn bool(b: bool) -> Val<'static> {
        Val::One(Cow::Owned(V::Boolean(b)))
    }
    pub fn owned(v: V) -> Val<'static> {
        Val::One(Cow::Owned(v))
    }
    pub fn one(&self) -> Result<&V, EvalError> {
        match self {
            Val::One(v) => Ok(v),
            Val::Bag(_) => Err(EvalError::processing("expected a single value, got a bag")),
        }
    }
    pub fn bag(&self) -> Result<&[V], EvalError> {
        match self {
            Val::Bag(b) => Ok(b),
            Val::One(_) => Err(EvalError::processing("expected a bag, got a single value")),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Cmp {
    Gt,
    Ge,
    Lt,
    Le,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Arith {
    Add,
    Subtract,
    Multiply,
    Divide,
    Mod,
    Abs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum HigherOrder {
    AnyOf,
    AllOf,
    AnyOfAny,
    AllOfAny,
    AnyOfAll,
    AllOfAll,
    Map,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SetOp {
    Intersection,
    AtLeastOneMemberOf,
    Union,
    Subset,
    SetEquals,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StrOp {
    StartsWith,
    EndsWith,
    Contains,
    Substring,
}

/// A resolved XACML function.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Func {
    Equal(DataType),
    StringEqualIgnoreCase,
    Compare(DataType, Cmp),
    IntegerArith(Arith),
    DoubleArith(Arith),
    Round,
    Floor,
    DoubleToInteger,
    IntegerToDouble,
    Or,
    And,
    NOf,
    Not,
    StringNormalizeSpace,
    StringNormalizeToLowerCase,
    StringConcatenate,
    /// dateTime/date +/- durations: (value type, duration type, subtract?)
    TemporalAdd(DataType, DataType, bool),
    TimeInRange,
    OneAndOnly(DataType),
    BagSize(DataType),
    IsIn(DataType),
    Bag(DataType),
    Set(DataType, SetOp),
    HigherOrder(HigherOrder),
    RegexpMatch(DataType),
    X500NameMatch,
    Rfc822NameMatch,
    Str(DataType, StrOp),
    FromString(DataType),
    ToString(DataType),
    XPath(XPathFn),
}

/// The XPath functions over `<Content>` (evaluated with the request at hand).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum XPathFn {
    Count,
    Equal,
    Match,
}

impl Func {
    /// Resolve a function identifier (any XACML version prefix).
    pub fn from_id(id: &str) -> Option<Func> {
        let name = id
            .strip_prefix("urn:oasis:names:tc:xacml:")
            .and_then(|rest| rest.split_once(":function:"))
            .map(|(_, name)| name)?;
        Self::from_name(name)
    }

    fn from_name(name: &str) -> Option<Func> {
        use Func as F;
        let fixed = match name {
            "string-equal-ignore-case" => F::StringEqualIgnoreCase,
            "round" => F::Round,
            "floor" => F::Floor,
            "double-to-integer" => F::DoubleToInteger,
            "integer-to-double" => F::IntegerToDouble,
            "or" => F::Or,
            "and" => F::And,
            "n-of" => F::NOf,
            "not" => F::Not,
            "string-normalize-space" => F::StringNormalizeSpace,
            "string-normalize-to-lower-case" => F::StringNormalizeToLowerCase,
            "string-concatenate" => F::StringConcatenate,
            "time-in-range" => F::TimeInRange,
            "any-of" => F::HigherOrder(HigherOrder::AnyOf),
            "all-of" => F::HigherOrder(HigherOrder::AllOf),
            "any-of-any" => F::HigherOrder(HigherOrder::AnyOfAny),
            "all-of-any" => F::HigherOrder(HigherOrder::AllOfAny),
            "any-of-all" => F::HigherOrder(HigherOrder::AnyOfAll),
            "all-of-all" => F::HigherOrder(HigherOrder::AllOfAll),
            "map" => F::HigherOrder(HigherOrder::Map),
            "x500Name-match" => F::X500NameMatch,
            "rfc822Name-match" => F::Rfc822NameMatch,
            "xpath-node-count" => F::XPath(XPathFn::Count),
            "xpath-node-equal" => F::XPath(XPathFn::Equal),
            "xpath-node-match" => F::XPath(XPathFn::Match),
            _ => return Self::typed(name),
        };
        Some(fixed)
    }

    /// `{type}-{operation}` names, e.g. `integer-greater-than`, `string-bag`.
    fn typed(name: &str) -> Option<Func> {
        if let Some(t) = name.strip_prefix("string-from-") {
            return Some(Func::ToString(type_named(t)?));
        }
        // Longest type name first so `dateTime` wins over `date`.
        let (dt, op) = DataType::ALL
            .iter()
            .filter_map(|t| {
                let rest = name.strip_prefix(t.short_name())?.strip_prefix('-')?;
                Some((*t, rest))
            })
            .max_by_key(|(t, _)| t.short_name().len())?;
        Self::typed_op(dt, op)
    }

    fn typed_op(dt: DataType, op: &str) -> Option<Func> {
        use Func as F;
        let arith = |a| match dt {
            DataType::Integer => Some(F::IntegerArith(a)),
            DataType::Double if a != Arith::Mod => Some(F::DoubleArith(a)),
            _ => None,
        };
        let f = match op {
            "equal" => F::Equal(dt),
            "greater-than" => F::Compare(dt, Cmp::Gt),
            "greater-than-or-equal" => F::Compare(dt, Cmp::Ge),
            "less-than" => F::Compare(dt, Cmp::Lt),
            "less-than-or-equal" => F::Compare(dt, Cmp::Le),
            "add" => arith(Arith::Add)?,
            "subtract" => arith(Arith::Subtract)?,
            "multiply" => arith(Arith::Multiply)?,
            "divide" => arith(Arith::Divide)?,
            "mod" => arith(Arith::Mod)?,
            "abs" => arith(Arith::Abs)?,
            "one-and-only" => F::OneAndOnly(dt),
            "bag-size" => F::BagSize(dt),
            "is-in" => F::IsIn(dt),
            "bag" => F::Bag(dt),
            "intersection" => F::Set(dt, SetOp::Intersection),
            "at-least-one-member-of" => F::Set(dt, SetOp::AtLeastOneMemberOf),
            "union" => F::Set(dt, SetOp::Union),
            "subset" => F::Set(dt, SetOp::Subset),
            "set-equals" => F::Set(dt, SetOp::SetEquals),
            "regexp-match" => F::RegexpMatch(dt),
            "starts-with" => F::Str(dt, StrOp::StartsWith),
            "ends-with" => F::Str(dt, StrOp::EndsWith),
            "contains" => F::Str(dt, StrOp::Contains),
            "substring" => F::Str(dt, StrOp::Substring),
            "from-string" => F::FromString(dt),
            "add-dayTimeDuration" => F::TemporalAdd(dt, DataType::DayTimeDuration, false),
            "subtract-dayTimeDuration" => F::TemporalAdd(dt, DataType::DayTimeDuration, true),
            "add-yearMonthDuration" => F::TemporalAdd(dt, DataType::YearMonthDuration, false),
            "subtract-yearMonthDuration" => F::TemporalAdd(dt, DataType::YearMonthDuration, true),
            _ => return None,
        };
        Some(f)
    }
}

fn type_named(short: &str) -> Option<DataType> {
    DataType::ALL.into_iter().find(|t| t.short_name() == short)
}

// ---------- evaluation of ordinary (eagerly evaluated) functions ----------

fn arity(args: &[Val<'_>], n: usize) -> Result<(), EvalError> {
    if args.len() == n {
        Ok(())
    } else {
        Err(EvalError::processing(format!(
            "function expects {n} arguments, got {}",
            args.len()
        )))
    }
}

fn type_error(expected: DataType, got: &V) -> EvalError {
    EvalError::processing(format!(
        "expected a {} value, got {}",
        expected.short_name(),
        got.data_type().short_name()
    ))
}

fn check_type(v: &V, dt: DataType) -> Result<(), EvalError> {
    if v.data_type() == dt {
        Ok(())
    } else {
        Err(type_error(dt, v))
    }
}

fn boolean(v: &V) -> Result<bool, EvalError> {
    match v {
        V::Boolean(b) => Ok(*b),
        other => Err(type_error(DataType::Boolean, other)),
    }
}

fn integer(v: &V) -> Result<i64, EvalError> {
    match v {
        V::Integer(i) => Ok(*i),
        other => Err(type_error(DataType::Integer, other)),
    }
}

fn double(v: &V) -> Result<f64, EvalError> {
    match v {
        V::Double(d) => Ok(*d),
        other => Err(type_error(DataType::Double, other)),
    }
}

fn string_of(v: &V, dt: DataType) -> Result<&str, EvalError> {
    check_type(v, dt)?;
    v.as_str().ok_or_else(|| type_error(dt, v))
}

/// `{type}-equal` for two single values (also used by Match and bags).
pub(crate) fn equal(dt: DataType, a: &V, b: &V) -> Result<bool, EvalError> {
    check_type(a, dt)?;
    check_type(b, dt)?;
    a.typed_eq(b).ok_or_else(|| type_error(dt, b))
}

/// Evaluate a two-argument predicate used in a `<Match>`, without building
/// argument vectors: this is the hot path of Altinn policies.
pub(crate) fn match_values(
    func: Func,
    regex: Option<&Regex>,
    literal: &V,
    value: &V,
) -> Result<bool, EvalError> {
    match func {
        Func::Equal(dt) => equal(dt, literal, value),
        Func::StringEqualIgnoreCase => {
            let a = string_of(literal, DataType::String)?;
            let b = string_of(value, DataType::String)?;
            Ok(eq_ignore_case(a, b))
        }
        Func::RegexpMatch(dt) => regexp_match(dt, regex, literal, value),
        other => {
            let args = [
                Val::One(Cow::Borrowed(literal)),
                Val::One(Cow::Borrowed(value)),
            ];
            boolean(call(other, &args, &[None, None])?.one()?)
        }
    }
}

fn eq_ignore_case(a: &str, b: &str) -> bool {
    if a.is_ascii() && b.is_ascii() {
        return a.eq_ignore_ascii_case(b);
    }
    a.to_lowercase() == b.to_lowercase()
}

/// Upper bound on a regex compiled at evaluation time (pattern from the
/// request), to keep hostile input cheap.
const RUNTIME_REGEX_SIZE_LIMIT: usize = 1 << 20;

pub(crate) fn compile_regex(pattern: &str) -> Result<Regex, String> {
    regex::RegexBuilder::new(&translate_xsd_regex(pattern))
        .size_limit(RUNTIME_REGEX_SIZE_LIMIT)
        .build()
        .map_err(|e| e.to_string())
}

/// XML Schema regexes are mostly a subset of Rust's; the differences that
/// matter in practice are character class subtraction (unsupported) and
/// `\i`/`\c` escapes, which we map to approximations.
fn translate_xsd_regex(pattern: &str) -> String {
    pattern
        .replace("\\i", "[_:A-Za-z]")
        .replace("\\c", "[-._:A-Za-z0-9]")
}

fn regexp_match(
    dt: DataType,
    precompiled: Option<&Regex>,
    pattern: &V,
    value: &V,
) -> Result<bool, EvalError> {
    let pattern = string_of(pattern, DataType::String)?;
    let text = string_of(value, dt)?;
    if let Some(re) = precompiled {
        return Ok(re.is_match(text));
    }
    let re = compile_regex(pattern).map_err(EvalError::processing)?;
    Ok(re.is_match(text))
}

/// Call an eagerly evaluated function. `regexes[i]` is a pre-compiled regex
/// for argument `i` when it was a literal pattern.
pub(crate) fn call(
    func: Func,
    args: &[Val<'_>],
    regexes: &[Option<Regex>],
) -> Result<Val<'static>, EvalError> {
    use Func as F;
    match func {
        F::Equal(dt) => {
            arity(args, 2)?;
            Ok(Val::bool(equal(dt, args[0].one()?, args[1].one()?)?))
        }
        F::StringEqualIgnoreCase | F::RegexpMatch(_) => {
            arity(args, 2)?;
            let re = regexes.first().and_then(Option::as_ref);
            Ok(Val::bool(match_values(
                func,
                re,
                args[0].one()?,
                args[1].one()?,
            )?))
        }
        F::Compare(dt, cmp) => compare(dt, cmp, args),
        F::IntegerArith(op) => integer_arith(op, args),
        F::DoubleArith(op) => double_arith(op, args),
        F::Round | F::Floor | F::DoubleToInteger | F::IntegerToDouble => numeric_unary(func, args),
        F::Not => {
            arity(args, 1)?;
            Ok(Val::bool(!boolean(args[0].one()?)?))
        }
        F::StringNormalizeSpace | F::StringNormalizeToLowerCase | F::StringConcatenate => {
            string_fn(func, args)
        }
        F::TemporalAdd(dt, dur, subtract) => temporal_add(dt, dur, subtract, args),
        F::TimeInRange => time_in_range(args),
        F::OneAndOnly(_) | F::BagSize(_) | F::IsIn(_) | F::Bag(_) => bag_fn(func, args),
        F::Set(dt, op) => set_fn(dt, op, args),
        F::X500NameMatch => {
            arity(args, 2)?;
            let pattern = x500_rdns(string_of(args[0].one()?, DataType::X500Name)?);
            let name = x500_rdns(string_of(args[1].one()?, DataType::X500Name)?);
            Ok(Val::bool(name.ends_with(&pattern)))
        }
        F::Rfc822NameMatch => rfc822_match(args),
        F::Str(dt, op) => str_op(dt, op, args),
        F::FromString(dt) => {
            arity(args, 1)?;
            let s = string_of(args[0].one()?, DataType::String)?;
            let v = V::parse(dt, s).map_err(|e| EvalError::syntax(e.to_string()))?;
            Ok(Val::owned(v))
        }
        F::ToString(dt) => {
            arity(args, 1)?;
            let v = args[0].one()?;
            check_type(v, dt)?;
            Ok(Val::owned(V::String(v.to_string())))
        }
        F::Or | F::And | F::NOf | F::HigherOrder(_) | F::XPath(_) => Err(EvalError::processing(
            "internal: special function evaluated eagerly",
        )),
    }
}

fn ordering(dt: DataType, a: &V, b: &V) -> Result<Option<Ordering>, EvalError> {
    check_type(a, dt)?;
    check_type(b, dt)?;
    let ord = match (a, b) {
        (V::Integer(x), V::Integer(y)) => Some(x.cmp(y)),
        (V::Double(x), V::Double(y)) => x.partial_cmp(y),
        (V::String(x), V::String(y)) => Some(x.cmp(y)),
        (V::Date(x), V::Date(y)) => Some(x.cmp(y)),
        (V::Time(x), V::Time(y)) => Some(x.cmp(y)),
        (V::DateTime(x), V::DateTime(y)) => Some(x.cmp(y)),
        (V::DayTimeDuration(x), V::DayTimeDuration(y)) => Some(x.cmp(y)),
        (V::YearMonthDuration(x), V::YearMonthDuration(y)) => Some(x.cmp(y)),
        _ => {
            return Err(EvalError::processing(format!(
                "{} values cannot be ordered",
                dt.short_name()
            )));
        }
    };
    Ok(ord)
}

fn compare(dt: DataType, cmp: Cmp, args: &[Val<'_>]) -> Result<Val<'static>, EvalError> {
    arity(args, 2)?;
    // NaN compares false with everything (IEEE 754), hence Option.
    let ord = ordering(dt, args[0].one()?, args[1].one()?)?;
    let result = ord.is_some_and(|o| match cmp {
        Cmp::Gt => o == Ordering::Greater,
        Cmp::Ge => o != Ordering::Less,
        Cmp::Lt => o == Ordering::Less,
        Cmp::Le => o != Ordering::Greater,
    });
    Ok(Val::bool(result))
}

fn overflow() -> EvalError {
    EvalError::processing("integer overflow")
}

fn integer_arith(op: Arith, args: &[Val<'_>]) -> Result<Val<'static>, EvalError> {
    let nums = args
        .iter()
        .map(|a| integer(a.one()?))
        .collect::<Result<Vec<_>, _>>()?;
    let result = match op {
        Arith::Abs => {
            arity(args, 1)?;
            nums[0].checked_abs().ok_or_else(overflow)?
        }
        Arith::Add | Arith::Multiply => {
            if nums.len() < 2 {
                return Err(EvalError::processing(
                    "function expects at least 2 arguments",
                ));
            }
            let fold = |acc: i64, n: i64| {
                if op == Arith::Add {
                    acc.checked_add(n)
                } else {
                    acc.checked_mul(n)
                }
            };
            nums[1..]
                .iter()
                .try_fold(nums[0], |acc, n| fold(acc, *n))
                .ok_or_else(overflow)?
        }
        Arith::Subtract => {
            arity(args, 2)?;
            nums[0].checked_sub(nums[1]).ok_or_else(overflow)?
        }
        Arith::Divide | Arith::Mod => {
            arity(args, 2)?;
            if nums[1] == 0 {
                return Err(EvalError::processing("division by zero"));
            }
            let r = if op == Arith::Divide {
                nums[0].checked_div(nums[1])
            } else {
                nums[0].checked_rem(nums[1])
            };
            r.ok_or_else(overflow)?
        }
    };
    Ok(Val::owned(V::Integer(result)))
}

fn double_arith(op: Arith, args: &[Val<'_>]) -> Result<Val<'static>, EvalError> {
    let nums = args
        .iter()
        .map(|a| double(a.one()?))
        .collect::<Result<Vec<_>, _>>()?;
    let result = match op {
        Arith::Abs => {
            arity(args, 1)?;
            nums[0].abs()
        }
        Arith::Add | Arith::Multiply => {
            if nums.len() < 2 {
                return Err(EvalError::processing(
                    "function expects at least 2 arguments",
                ));
            }
            let combine = |acc: f64, n: &f64| if op == Arith::Add { acc + n } else { acc * n };
            nums[1..].iter().fold(nums[0], combine)
        }
        Arith::Subtract => {
            arity(args, 2)?;
            nums[0] - nums[1]
        }
        Arith::Divide | Arith::Mod => {
            arity(args, 2)?;
            if nums[1] == 0.0 {
                return Err(EvalError::processing("division by zero"));
            }
            nums[0] / nums[1]
        }
    };
    Ok(Val::owned(V::Double(result)))
}

fn numeric_unary(func: Func, args: &[Val<'_>]) -> Result<Val<'static>, EvalError> {
    arity(args, 1)?;
    let v = args[0].one()?;
    let out = match func {
        Func::Round => {
            // XPath round: halves go towards positive infinity.
            V::Double((double(v)? + 0.5).floor())
        }
        Func::Floor => V::Double(double(v)?.floor()),
        Func::IntegerToDouble => V::Double(integer(v)? as f64),
        _ => {
            let d = double(v)?.trunc();
            if !d.is_finite() || d.abs() >= 9.2e18 {
                return Err(EvalError::processing("double out of integer range"));
            }
            V::Integer(d as i64)
        }
    };
    Ok(Val::owned(out))
}

fn string_fn(func: Func, args: &[Val<'_>]) -> Result<Val<'static>, EvalError> {
    if func == Func::StringConcatenate {
        if args.len() < 2 {
            return Err(EvalError::processing(
                "string-concatenate expects at least 2 arguments",
            ));
        }
        let mut out = String::new();
        for a in args {
            out.push_str(string_of(a.one()?, DataType::String)?);
        }
        return Ok(Val::owned(V::String(out)));
    }
    arity(args, 1)?;
    let s = string_of(args[0].one()?, DataType::String)?;
    let out = if func == Func::StringNormalizeSpace {
        s.trim_matches(|c: char| c.is_ascii_whitespace())
            .to_string()
    } else {
        s.to_lowercase()
    };
    Ok(Val::owned(V::String(out)))
}

fn temporal_add(
    dt: DataType,
    dur: DataType,
    subtract: bool,
    args: &[Val<'_>],
) -> Result<Val<'static>, EvalError> {
    arity(args, 2)?;
    let out_of_range = || EvalError::processing("date arithmetic out of range");
    let out = match (args[0].one()?, args[1].one()?) {
        (V::DateTime(t), V::DayTimeDuration(d)) if dur == DataType::DayTimeDuration => {
            V::DateTime(t.add_day_time(*d, subtract).ok_or_else(out_of_range)?)
        }
        (V::DateTime(t), V::YearMonthDuration(d)) if dur == DataType::YearMonthDuration => {
            V::DateTime(t.add_year_month(*d, subtract).ok_or_else(out_of_range)?)
        }
        (V::Date(t), V::YearMonthDuration(d)) if dur == DataType::YearMonthDuration => {
            V::Date(t.add_year_month(*d, subtract).ok_or_else(out_of_range)?)
        }
        (a, _) => return Err(type_error(dt, a)),
    };
    check_type(&out, dt)?;
    Ok(Val::owned(out))
}

fn time_in_range(args: &[Val<'_>]) -> Result<Val<'static>, EvalError> {
    arity(args, 3)?;
    let t = |v: &V| match v {
        V::Time(t) => Ok(t.day_nanos()),
        other => Err(type_error(DataType::Time, other)),
    };
    let (x, lo, hi) = (t(args[0].one()?)?, t(args[1].one()?)?, t(args[2].one()?)?);
    // A range whose upper bound is before its lower bound wraps midnight.
    let inside = if lo <= hi {
        lo <= x && x <= hi
    } else {
        x >= lo || x <= hi
    };
    Ok(Val::bool(inside))
}

fn bag_fn(func: Func, args: &[Val<'_>]) -> Result<Val<'static>, EvalError> {
    match func {
        Func::OneAndOnly(dt) => {
            arity(args, 1)?;
            match args[0].bag()? {
                [single] => {
                    check_type(single, dt)?;
                    Ok(Val::owned(single.clone()))
                }
                bag => Err(EvalError::processing(format!(
                    "{}-one-and-only: bag has {} values, expected exactly one",
                    dt.short_name(),
                    bag.len()
                ))),
            }
        }
        Func::BagSize(dt) => {
            arity(args, 1)?;
            let bag = args[0].bag()?;
            bag.iter().try_for_each(|v| check_type(v, dt))?;
            let n = i64::try_from(bag.len()).map_err(|_| overflow())?;
            Ok(Val::owned(V::Integer(n)))
        }
        Func::IsIn(dt) => {
            arity(args, 2)?;
            let needle = args[0].one()?;
            Ok(Val::bool(contains(dt, args[1].bag()?, needle)?))
        }
        Func::Bag(dt) => {
            let values = args
                .iter()
                .map(|a| {
                    let v = a.one()?;
                    check_type(v, dt)?;
                    Ok(v.clone())
                })
                .collect::<Result<Vec<_>, EvalError>>()?;
            Ok(Val::Bag(Cow::Owned(values)))
        }
        _ => Err(EvalError::processing("internal: not a bag function")),
    }
}

fn contains(dt: DataType, bag: &[V], needle: &V) -> Result<bool, EvalError> {
    for v in bag {
        if equal(dt, needle, v)? {
            return Ok(true);
        }
    }
    check_type(needle, dt)?;
    Ok(false)
}

fn distinct(dt: DataType, values: impl IntoIterator<Item = V>) -> Result<Vec<V>, EvalError> {
    let mut out: Vec<V> = Vec::new();
    for v in values {
        if !contains(dt, &out, &v)? {
            out.push(v);
        }
    }
    Ok(out)
}

fn set_fn(dt: DataType, op: SetOp, args: &[Val<'_>]) -> Result<Val<'static>, EvalError> {
    if op == SetOp::Union {
        if args.len() < 2 {
            return Err(EvalError::processing("union expects at least 2 bags"));
        }
        let mut all = Vec::new();
        for a in args {
            all.extend(a.bag()?.iter().cloned());
        }
        return Ok(Val::Bag(Cow::Owned(distinct(dt, all)?)));
    }
    arity(args, 2)?;
    let (a, b) = (args[0].bag()?, args[1].bag()?);
    a.iter().chain(b).try_for_each(|v| check_type(v, dt))?;
    let all_in = |x: &[V], y: &[V]| -> Result<bool, EvalError> {
        for v in x {
            if !contains(dt, y, v)? {
                return Ok(false);
            }
        }
        Ok(true)
    };
    let result = match op {
        SetOp::Intersection => {
            let mut common = Vec::new();
            for v in a {
                if contains(dt, b, v)? {
                    common.push(v.clone());
                }
            }
            return Ok(Val::Bag(Cow::Owned(distinct(dt, common)?)));
        }
        SetOp::AtLeastOneMemberOf => {
            let mut any = false;
            for v in a {
                if contains(dt, b, v)? {
                    any = true;
                    break;
                }
            }
            any
        }
        SetOp::Subset => all_in(a, b)?,
        SetOp::SetEquals => all_in(a, b)? && all_in(b, a)?,
        SetOp::Union => false,
    };
    Ok(Val::bool(result))
}

fn rfc822_match(args: &[Val<'_>]) -> Result<Val<'static>, EvalError> {
    arity(args, 2)?;
    let pattern = string_of(args[0].one()?, DataType::String)?;
    let name = string_of(args[1].one()?, DataType::Rfc822Name)?;
    let (local, domain) = name.split_once('@').unwrap_or(("", name));
    let domain = domain.to_ascii_lowercase();
    let result = if let Some((p_local, p_domain)) = pattern.split_once('@') {
        // A full mailbox: local part exact, domain case-insensitive.
        p_local == local && p_domain.to_ascii_lowercase() == domain
    } else if pattern.starts_with('.') {
        // `.example.com`: any host in that domain.
        domain.ends_with(&pattern.to_ascii_lowercase())
    } else {
        // A host name: exactly that host.
        domain == pattern.to_ascii_lowercase()
    };
    Ok(Val::bool(result))
}

fn str_op(dt: DataType, op: StrOp, args: &[Val<'_>]) -> Result<Val<'static>, EvalError> {
    if op == StrOp::Substring {
        return substring(dt, args);
    }
    arity(args, 2)?;
    // The first argument is always a string; the second has the function's type.
    let needle = string_of(args[0].one()?, DataType::String)?;
    let hay = string_of(args[1].one()?, dt)?;
    let result = match op {
        StrOp::StartsWith => hay.starts_with(needle),
        StrOp::EndsWith => hay.ends_with(needle),
        _ => hay.contains(needle),
    };
    Ok(Val::bool(result))
}

fn substring(dt: DataType, args: &[Val<'_>]) -> Result<Val<'static>, EvalError> {
    arity(args, 3)?;
    let s = string_of(args[0].one()?, dt)?;
    let start = integer(args[1].one()?)?;
    let end = integer(args[2].one()?)?;
    let chars: Vec<char> = s.chars().collect();
    let len = i64::try_from(chars.len()).map_err(|_| overflow())?;
    // -1 as the end means "to the end of the string".
    let end = if end == -1 { len } else { end };
    if start < 0 || end < start || end > len {
        return Err(EvalError::processing(format!(
            "substring bounds {start}..{end} outside string of length {len}"
        )));
    }
    let (from, to) = (
        usize::try_from(start).map_err(|_| overflow())?,
        usize::try_from(end).map_err(|_| overflow())?,
    );
    let out: String = chars[from..to].iter().collect();
    Ok(Val::owned(V::String(out)))
}

/// Parse helper used by the JSON request reader for numbers.
pub(crate) fn double_from_str(s: &str) -> Option<f64> {
    parse_double(s)
}
