//! The compiled policy tree and its construction from the XML DOM.

use crate::error::PolicyError;
use crate::functions::{Func, compile_regex};
use crate::value::{AttributeValue, DataType};
use crate::xml::Element;
use regex::Regex;
use std::collections::HashMap;
use std::sync::Arc;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Effect {
    Permit,
    Deny,
}

#[derive(Debug, Clone)]
pub(crate) struct Designator {
    pub category: String,
    pub attribute_id: String,
    pub data_type: DataType,
    pub issuer: Option<String>,
    pub must_be_present: bool,
}

#[derive(Debug, Clone)]
pub(crate) enum Expr {
    Value(AttributeValue),
    Designator(Designator),
    /// AttributeSelector: XPath over the category's `<Content>`.
    Selector(Selector),
    Apply {
        func: Func,
        args: Vec<Expr>,
        /// Pre-compiled regex per argument position (literal patterns only).
        regexes: Vec<Option<Regex>>,
    },
    Function(Func),
}

/// An `AttributeSelector`: `path` evaluated over `category`'s `<Content>`, each
/// selected node's string value read as `data_type`.
#[derive(Debug, Clone)]
pub(crate) struct Selector {
    pub category: String,
    pub path: String,
    pub data_type: DataType,
    pub must_be_present: bool,
    /// Namespace prefixes in scope on the selector element.
    pub namespaces: Vec<(String, String)>,
}

#[derive(Debug, Clone)]
pub(crate) struct Match {
    pub func: Func,
    pub literal: AttributeValue,
    pub source: Expr,
    pub regex: Option<Regex>,
}

/// Target: AND of AnyOf; AnyOf: OR of AllOf; AllOf: AND of Match.
/// An empty target matches everything.
#[derive(Debug, Clone, Default)]
pub(crate) struct Target {
    pub any_ofs: Vec<Vec<Vec<Match>>>,
}

#[derive(Debug, Clone)]
pub(crate) struct AssignmentExpr {
    pub attribute_id: String,
    pub category: Option<String>,
    pub issuer: Option<String>,
    pub expr: Expr,
}

/// ObligationExpression or AdviceExpression.
#[derive(Debug, Clone)]
pub(crate) struct EffectExpr {
    pub id: String,
    pub applies_to: Effect,
    pub assignments: Vec<AssignmentExpr>,
}

#[derive(Debug, Clone, Default)]
pub(crate) struct Directives {
    pub obligations: Vec<EffectExpr>,
    pub advice: Vec<EffectExpr>,
}

#[derive(Debug, Clone)]
pub(crate) struct Rule {
    /// Kept for diagnostics (Debug output).
    #[allow(dead_code)]
    pub id: String,
    pub effect: Effect,
    pub target: Target,
    pub condition: Option<Expr>,
    pub directives: Directives,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Algorithm {
    DenyOverrides,
    PermitOverrides,
    FirstApplicable,
    OnlyOneApplicable,
    /// Combination of several root policies: only-one-applicable where a
    /// policy whose target cannot be evaluated counts as not applicable.
    RootOnlyOneApplicable,
    DenyUnlessPermit,
    PermitUnlessDeny,
    LegacyDenyOverrides,
    LegacyPermitOverrides,
}

impl Algorithm {
    fn from_id(id: &str, policy_level: bool) -> Option<Algorithm> {
        let kind = if policy_level {
            "policy-combining-algorithm"
        } else {
            "rule-combining-algorithm"
        };
        let (version, name) = id
            .strip_prefix("urn:oasis:names:tc:xacml:")?
            .split_once(&format!(":{kind}:"))?;
        let legacy = version != "3.0";
        let alg = match (name, legacy) {
            ("deny-overrides" | "ordered-deny-overrides", false) => Algorithm::DenyOverrides,
            ("permit-overrides" | "ordered-permit-overrides", false) => Algorithm::PermitOverrides,
            ("deny-overrides" | "ordered-deny-overrides", true) => Algorithm::LegacyDenyOverrides,
            ("permit-overrides" | "ordered-permit-overrides", true) => {
                Algorithm::LegacyPermitOverrides
            }
            ("deny-unless-permit", _) => Algorithm::DenyUnlessPermit,
            ("permit-unless-deny", _) => Algorithm::PermitUnlessDeny,
            ("first-applicable", _) => Algorithm::FirstApplicable,
            ("only-one-applicable", _) if policy_level => Algorithm::OnlyOneApplicable,
            _ => return None,
        };
        Some(alg)
    }
}

#[derive(Debug, Clone)]
pub(crate) struct PolicyDef {
    pub id: String,
    pub version: String,
    pub target: Target,
    pub algorithm: Algorithm,
    pub rules: Vec<Rule>,
    pub directives: Directives,
}

#[derive(Debug, Clone)]
pub(crate) struct PolicySetDef {
    pub id: String,
    pub version: String,
    pub target: Target,
    pub algorithm: Algorithm,
    pub children: Vec<Node>,
    pub directives: Directives,
}

#[derive(Debug, Clone)]
pub(crate) enum Node {
    Policy(Arc<PolicyDef>),
    PolicySet(Arc<PolicySetDef>),
    /// A reference that could not be resolved; evaluates to Indeterminate.
    Unresolved {
        id: String,
    },
}

impl Node {
    pub fn kind_and_id(&self) -> (&'static str, &str) {
        match self {
            Node::Policy(p) => ("Policy", &p.id),
            Node::PolicySet(p) => ("PolicySet", &p.id),
            Node::Unresolved { id } => ("Reference", id),
        }
    }
}

// ---------------------------------------------------------------------------
// Compilation from the DOM
// ---------------------------------------------------------------------------

/// Maximum nesting of policy references, to stop reference cycles.
const MAX_REFERENCE_DEPTH: usize = 16;
/// Bound on expression nodes (variable inlining can multiply them).
const MAX_EXPR_NODES: usize = 200_000;

/// Raw policy documents by id, used to resolve references.
#[derive(Debug, Clone, Default)]
pub(crate) struct RawRepository {
    pub policies: HashMap<String, Arc<Element>>,
    pub policy_sets: HashMap<String, Arc<Element>>,
}

pub(crate) struct Compiler<'r> {
    repo: &'r RawRepository,
    depth: usize,
    expr_nodes: usize,
}

fn required<'a>(el: &'a Element, attr: &'static str) -> Result<&'a str, PolicyError> {
    el.attr(attr).ok_or_else(|| PolicyError::missing(el, attr))
}

fn parse_bool_attr(el: &Element, attr: &'static str) -> Result<bool, PolicyError> {
    match el.attr(attr).map(str::trim) {
        None | Some("false") | Some("0") => Ok(false),
        Some("true") | Some("1") => Ok(true),
        Some(other) => Err(PolicyError::invalid(
            el,
            format!("{attr} must be true or false, not `{other}`"),
        )),
    }
}

fn data_type_attr(el: &Element) -> Result<DataType, PolicyError> {
    let uri = required(el, "DataType")?;
    DataType::from_uri(uri).ok_or_else(|| PolicyError::UnknownIdentifier {
        element: el.name.clone(),
        line: el.line,
        kind: "data type",
        id: uri.to_string(),
    })
}

fn effect_attr(el: &Element, attr: &'static str) -> Result<Effect, PolicyError> {
    match required(el, attr)?.trim() {
        "Permit" => Ok(Effect::Permit),
        "Deny" => Ok(Effect::Deny),
        other => Err(PolicyError::invalid(
            el,
            format!("{attr} must be Permit or Deny, not `{other}`"),
        )),
    }
}

pub(crate) fn literal_value(el: &Element) -> Result<AttributeValue, PolicyError> {
    let dt = data_type_attr(el)?;
    if dt == DataType::XPathExpression {
        return Ok(AttributeValue::XPathExpression {
            category: el.attr("XPathCategory").unwrap_or_default().to_string(),
            path: el.text.trim().to_string(),
            namespaces: el.namespaces.as_ref().clone(),
        });
    }
    AttributeValue::parse(dt, &el.text).map_err(|e| PolicyError::invalid(el, e.to_string()))
}

fn unknown_function(el: &Element, id: &str) -> PolicyError {
    PolicyError::UnknownIdentifier {
        element: el.name.clone(),
        line: el.line,
        kind: "function",
        id: id.to_string(),
    }
}

/// Variable definitions of the policy being compiled, by id.
type Variables<'a> = HashMap<&'a str, &'a Element>;

impl<'r> Compiler<'r> {
    pub fn new(repo: &'r RawRepository) -> Self {
        Compiler {
            repo,
            depth: 0,
            expr_nodes: 0,
        }
    }

    pub fn node(&mut self, el: &Element) -> Result<Node, PolicyError> {
        match el.name.as_str() {
            "Policy" => Ok(Node::Policy(Arc::new(self.policy(el)?))),
            "PolicySet" => Ok(Node::PolicySet(Arc::new(self.policy_set(el)?))),
            other => Err(PolicyError::NotAPolicy {
                found: other.to_string(),
            }),
        }
    }

    fn policy(&mut self, el: &Element) -> Result<PolicyDef, PolicyError> {
        let id = required(el, "PolicyId")?.to_string();
        let alg_id = required(el, "RuleCombiningAlgId")?;
        let algorithm =
            Algorithm::from_id(alg_id, false).ok_or_else(|| PolicyError::UnknownIdentifier {
                element: el.name.clone(),
                line: el.line,
                kind: "rule-combining algorithm",
                id: alg_id.to_string(),
            })?;
        let variables: Variables<'_> = el
            .children_named("VariableDefinition")
            .map(|v| Ok((required(v, "VariableId")?, v)))
            .collect::<Result<_, PolicyError>>()?;
        let mut rules = Vec::new();
        for rule in el.children_named("Rule") {
            rules.push(self.rule(rule, &variables)?);
        }
        Ok(PolicyDef {
            id,
            version: el.attr("Version").unwrap_or("1.0").to_string(),
            target: self.target_of(el, &variables)?,
            algorithm,
            rules,
            directives: self.directives(el, &variables)?,
        })
    }

    fn policy_set(&mut self, el: &Element) -> Result<PolicySetDef, PolicyError> {
        let id = required(el, "PolicySetId")?.to_string();
        let alg_id = required(el, "PolicyCombiningAlgId")?;
        let algorithm =
            Algorithm::from_id(alg_id, true).ok_or_else(|| PolicyError::UnknownIdentifier {
                element: el.name.clone(),
                line: el.line,
                kind: "policy-combining algorithm",
                id: alg_id.to_string(),
            })?;
        let mut children = Vec::new();
        for child in &el.children {
            match child.name.as_str() {
                "Policy" | "PolicySet" => children.push(self.node(child)?),
                "PolicyIdReference" => children.push(self.reference(child, false)),
                "PolicySetIdReference" => children.push(self.reference(child, true)),
                _ => {}
            }
        }
        let no_vars = Variables::new();
        Ok(PolicySetDef {
            id,
            version: el.attr("Version").unwrap_or("1.0").to_string(),
            target: self.target_of(el, &no_vars)?,
            algorithm,
            children,
            directives: self.directives(el, &no_vars)?,
        })
    }

    /// Resolve a reference through the repository. Failures (missing, cyclic
    /// or invalid target) do not fail the referring policy: the reference
    /// evaluates to Indeterminate only if a combining algorithm reaches it.
    fn reference(&mut self, el: &Element, set: bool) -> Node {
        let id = el.text.trim().to_string();
        let table = if set {
            &self.repo.policy_sets
        } else {
            &self.repo.policies
        };
        let Some(target) = table.get(&id).cloned() else {
            return Node::Unresolved { id };
        };
        if self.depth >= MAX_REFERENCE_DEPTH {
            return Node::Unresolved { id };
        }
        self.depth += 1;
        let compiled = self.node(&target);
        self.depth -= 1;
        compiled.unwrap_or(Node::Unresolved { id })
    }

    fn rule(&mut self, el: &Element, vars: &Variables<'_>) -> Result<Rule, PolicyError> {
        let condition = match el.child("Condition") {
            Some(c) => {
                let inner = c
                    .children
                    .first()
                    .ok_or_else(|| PolicyError::invalid(c, "Condition needs an expression"))?;
                Some(self.expr(inner, vars, 0)?)
            }
            None => None,
        };
        Ok(Rule {
            id: required(el, "RuleId")?.to_string(),
            effect: effect_attr(el, "Effect")?,
            target: self.target_of(el, vars)?,
            condition,
            directives: self.directives(el, vars)?,
        })
    }

    fn target_of(&mut self, parent: &Element, vars: &Variables<'_>) -> Result<Target, PolicyError> {
        let Some(target) = parent.child("Target") else {
            return Ok(Target::default());
        };
        let mut any_ofs = Vec::new();
        for any_of in target.children_named("AnyOf") {
            let mut all_ofs = Vec::new();
            for all_of in any_of.children_named("AllOf") {
                let matches = all_of
                    .children_named("Match")
                    .map(|m| self.match_element(m, vars))
                    .collect::<Result<Vec<_>, _>>()?;
                all_ofs.push(matches);
            }
            any_ofs.push(all_ofs);
        }
        Ok(Target { any_ofs })
    }

    fn match_element(&mut self, el: &Element, vars: &Variables<'_>) -> Result<Match, PolicyError> {
        let func_id = required(el, "MatchId")?;
        let func = Func::from_id(func_id).ok_or_else(|| unknown_function(el, func_id))?;
        let literal_el = el
            .child("AttributeValue")
            .ok_or_else(|| PolicyError::invalid(el, "Match needs an <AttributeValue>"))?;
        let literal = literal_value(literal_el)?;
        let source_el = el
            .children
            .iter()
            .find(|c| c.name == "AttributeDesignator" || c.name == "AttributeSelector")
            .ok_or_else(|| {
                PolicyError::invalid(
                    el,
                    "Match needs an <AttributeDesignator> or <AttributeSelector>",
                )
            })?;
        let regex = match (&func, &literal) {
            // An invalid pattern is reported at evaluation time (Indeterminate).
            (Func::RegexpMatch(_), AttributeValue::String(p)) => compile_regex(p).ok(),
            _ => None,
        };
        Ok(Match {
            func,
            literal,
            source: self.expr(source_el, vars, 0)?,
            regex,
        })
    }

    fn directives(
        &mut self,
        el: &Element,
        vars: &Variables<'_>,
    ) -> Result<Directives, PolicyError> {
        let mut out = Directives::default();
        if let Some(obls) = el.child("ObligationExpressions") {
            for o in obls.children_named("ObligationExpression") {
                out.obligations
                    .push(self.effect_expr(o, "ObligationId", "FulfillOn", vars)?);
            }
        }
        if let Some(advs) = el.child("AdviceExpressions") {
            for a in advs.children_named("AdviceExpression") {
                out.advice
                    .push(self.effect_expr(a, "AdviceId", "AppliesTo", vars)?);
            }
        }
        Ok(out)
    }

    fn effect_expr(
        &mut self,
        el: &Element,
        id_attr: &'static str,
        effect_attr_name: &'static str,
        vars: &Variables<'_>,
    ) -> Result<EffectExpr, PolicyError> {
        let mut assignments = Vec::new();
        for a in el.children_named("AttributeAssignmentExpression") {
            let inner = a.children.first().ok_or_else(|| {
                PolicyError::invalid(a, "AttributeAssignmentExpression needs an expression")
            })?;
            assignments.push(AssignmentExpr {
                attribute_id: required(a, "AttributeId")?.to_string(),
                category: a.attr("Category").map(str::to_string),
                issuer: a.attr("Issuer").map(str::to_string),
                expr: self.expr(inner, vars, 0)?,
            });
        }
        Ok(EffectExpr {
            id: required(el, id_attr)?.to_string(),
            applies_to: effect_attr(el, effect_attr_name)?,
            assignments,
        })
    }

    fn expr(
        &mut self,
        el: &Element,
        vars: &Variables<'_>,
        depth: usize,
    ) -> Result<Expr, PolicyError> {
        self.expr_nodes += 1;
        if self.expr_nodes > MAX_EXPR_NODES || depth > 128 {
            return Err(PolicyError::invalid(
                el,
                "expression is too large or too deeply nested",
            ));
        }
        match el.name.as_str() {
            "AttributeValue" => Ok(Expr::Value(literal_value(el)?)),
            "AttributeDesignator" => Ok(Expr::Designator(Designator {
                category: required(el, "Category")?.to_string(),
                attribute_id: required(el, "AttributeId")?.to_string(),
                data_type: data_type_attr(el)?,
                issuer: el.attr("Issuer").map(str::to_string),
                must_be_present: parse_bool_attr(el, "MustBePresent")?,
            })),
            "AttributeSelector" => {
                if el.attr("ContextSelectorId").is_some() {
                    return Err(PolicyError::invalid(
                        el,
                        "ContextSelectorId is not supported: write the path from the <Content> element",
                    ));
                }
                Ok(Expr::Selector(Selector {
                    category: required(el, "Category")?.to_string(),
                    path: required(el, "Path")?.trim().to_string(),
                    data_type: data_type_attr(el)?,
                    must_be_present: parse_bool_attr(el, "MustBePresent")?,
                    namespaces: el.namespaces.as_ref().clone(),
                }))
            }
            "Function" => {
                let id = required(el, "FunctionId")?;
                Ok(Expr::Function(
                    Func::from_id(id).ok_or_else(|| unknown_function(el, id))?,
                ))
            }
            "VariableReference" => {
                let id = required(el, "VariableId")?;
                let def = vars.get(id).ok_or_else(|| {
                    PolicyError::invalid(el, format!("no VariableDefinition with id `{id}`"))
                })?;
                let inner = def.children.first().ok_or_else(|| {
                    PolicyError::invalid(def, "VariableDefinition needs an expression")
                })?;
                // Inlined: definitions are pure, and the depth bound stops cycles.
                self.expr(inner, vars, depth + 1)
            }
            "Apply" => self.apply(el, vars, depth),
            other => Err(PolicyError::invalid(
                el,
                format!("<{other}> is not an expression"),
            )),
        }
    }

    fn apply(
        &mut self,
        el: &Element,
        vars: &Variables<'_>,
        depth: usize,
    ) -> Result<Expr, PolicyError> {
        let id = required(el, "FunctionId")?;
        let func = Func::from_id(id).ok_or_else(|| unknown_function(el, id))?;
        let mut args = Vec::new();
        let mut regexes = Vec::new();
        for child in el.children.iter().filter(|c| c.name != "Description") {
            let arg = self.expr(child, vars, depth + 1)?;
            let regex = match (&func, &arg, args.is_empty()) {
                (Func::RegexpMatch(_), Expr::Value(AttributeValue::String(p)), true) => {
                    compile_regex(p).ok()
                }
                _ => None,
            };
            regexes.push(regex);
            args.push(arg);
        }
        Ok(Expr::Apply {
            func,
            args,
            regexes,
        })
    }
}
