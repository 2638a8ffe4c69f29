//! Rights of Altinn-shaped policies.
//!
//! An Altinn rule's Target has three AnyOf groups: subjects (one AllOf per
//! role code or access package), resource (one AllOf per resource attribute
//! set) and actions (one AllOf per action). A right is one action on one
//! resource attribute set, with every subject that is granted it.

use crate::policy::{Effect, Expr, Match, Rule};
use crate::request::{ACTION_ID, category};

/// An `attribute id = value` pair taken from a Match.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SubjectMatch {
    pub attribute_id: String,
    pub value: String,
}

/// One action on one resource attribute set, and who may perform it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Right {
    /// The `action-id` value, e.g. `read`.
    pub action: String,
    /// The resource attributes that identify the resource, e.g.
    /// `urn:altinn:resource` = `ske-krav-og-betalinger`.
    pub resource: Vec<SubjectMatch>,
    /// Subjects granted the right, e.g. `urn:altinn:rolecode` = `DAGL`.
    pub subjects: Vec<SubjectMatch>,
}

fn pair(m: &Match) -> Option<(String, SubjectMatch)> {
    let Expr::Designator(d) = &m.source else {
        return None;
    };
    Some((
        d.category.clone(),
        SubjectMatch {
            attribute_id: d.attribute_id.clone(),
            value: m.literal.to_string(),
        },
    ))
}

#[derive(Default)]
struct RuleShape {
    subjects: Vec<SubjectMatch>,
    resources: Vec<Vec<SubjectMatch>>,
    actions: Vec<String>,
}

fn shape_of(rule: &Rule) -> RuleShape {
    let mut shape = RuleShape::default();
    for any_of in &rule.target.any_ofs {
        for all_of in any_of {
            let pairs: Vec<(String, SubjectMatch)> = all_of.iter().filter_map(pair).collect();
            let Some((cat, _)) = pairs.first() else {
                continue;
            };
            if cat == category::ACTION {
                shape.actions.extend(
                    pairs
                        .iter()
                        .filter(|(_, p)| p.attribute_id == ACTION_ID)
                        .map(|(_, p)| p.value.clone()),
                );
            } else if cat == category::RESOURCE {
                shape
                    .resources
                    .push(pairs.into_iter().map(|(_, p)| p).collect());
            } else if cat.contains("subject-category") {
                shape.subjects.extend(pairs.into_iter().map(|(_, p)| p));
            }
        }
    }
    if shape.resources.is_empty() {
        shape.resources.push(Vec::new());
    }
    shape
}

pub(crate) fn rights_of(rules: &[Rule]) -> Vec<Right> {
    let mut rights: Vec<Right> = Vec::new();
    for rule in rules.iter().filter(|r| r.effect == Effect::Permit) {
        let shape = shape_of(rule);
        for action in &shape.actions {
            for resource in &shape.resources {
                let existing = rights
                    .iter_mut()
                    .find(|r| &r.action == action && &r.resource == resource);
                let right = match existing {
                    Some(r) => r,
                    None => {
                        rights.push(Right {
                            action: action.clone(),
                            resource: resource.clone(),
                            subjects: Vec::new(),
                        });
                        let last = rights.len() - 1;
                        &mut rights[last]
                    }
                };
                for s in &shape.subjects {
                    if !right.subjects.contains(s) {
                        right.subjects.push(s.clone());
                    }
                }
            }
        }
    }
    rights
}
