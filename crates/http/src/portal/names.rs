//! Names in plain words: systems, organisations, resources and access packages in the
//! visitor's language, each looked up once per page however often it appears.

use std::collections::{BTreeMap, HashMap};

use systembruker_domain::OrgNumber;
use systembruker_domain::catalogue::Language;
use systembruker_domain::system::{AccessPackageRef, RegisteredSystem, Right};
use systembruker_storage::StoreResult;

use super::i18n::{Texts, code};
use crate::AppState;

/// `991825827` as people write it: `991 825 827`.
pub(crate) fn org_number(org: &OrgNumber) -> String {
    spaced(org.as_str())
}

/// A bare organisation number in groups of three.
pub(crate) fn spaced(digits: &str) -> String {
    let mut out = String::with_capacity(digits.len() + 2);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && i % 3 == 0 {
            out.push(' ');
        }
        out.push(c);
    }
    out
}

/// A text map (`nb`/`nn`/`en` → text) in `language`, falling back to bokmål.
pub(crate) fn localized(map: &BTreeMap<String, String>, language: Language) -> Option<String> {
    map.get(code(language))
        .or_else(|| map.get("nb"))
        .filter(|text| !text.trim().is_empty())
        .cloned()
}

/// One right or access package, as the pages list them.
#[derive(Debug, Clone)]
pub(crate) struct Grant {
    /// "Service" or "Access package", in the visitor's language.
    pub kind: String,
    pub name: String,
    pub description: String,
    /// Who offers the service (resource owner), when known.
    pub owner: Option<String>,
}

/// Looks names up for one page, each at most once.
pub(crate) struct Names<'a> {
    state: &'a AppState,
    t: Texts,
    systems: HashMap<String, Option<RegisteredSystem>>,
    orgs: HashMap<String, Option<String>>,
    resources: HashMap<String, Grant>,
}

impl<'a> Names<'a> {
    pub(crate) fn new(state: &'a AppState, t: Texts) -> Self {
        Self {
            state,
            t,
            systems: HashMap::new(),
            orgs: HashMap::new(),
            resources: HashMap::new(),
        }
    }

    /// The texts of the page's language.
    pub(crate) fn texts(&self) -> Texts {
        self.t
    }

    /// A system from the register (deleted ones included, so old links still read well).
    pub(crate) async fn system(&mut self, id: &str) -> StoreResult<Option<RegisteredSystem>> {
        if !self.systems.contains_key(id) {
            let found = self.state.store.system(id).await?.map(|s| s.system);
            self.systems.insert(id.to_string(), found);
        }
        Ok(self.systems.get(id).cloned().flatten())
    }

    /// The system's name in the visitor's language (its id when unknown).
    pub(crate) async fn system_name(&mut self, id: &str) -> StoreResult<String> {
        Ok(self
            .system(id)
            .await?
            .and_then(|s| localized(&s.name, self.t.language()))
            .unwrap_or_else(|| id.to_string()))
    }

    /// An organisation's name from the register (empty when unknown).
    pub(crate) async fn org_name(&mut self, org: &str) -> StoreResult<String> {
        if !self.orgs.contains_key(org) {
            let name = match OrgNumber::parse(org) {
                Ok(number) => self
                    .state
                    .store
                    .organization(&number)
                    .await?
                    .map(|p| p.name),
                Err(_) => None,
            };
            self.orgs.insert(org.to_string(), name);
        }
        Ok(self.orgs.get(org).cloned().flatten().unwrap_or_default())
    }

    /// A system's vendor: name and spaced org number.
    pub(crate) async fn vendor(
        &mut self,
        system: &RegisteredSystem,
    ) -> StoreResult<(String, String)> {
        match system.vendor_org() {
            Some(org) => Ok((self.org_name(org.as_str()).await?, org_number(&org))),
            None => Ok((String::new(), String::new())),
        }
    }

    /// A resource (service) in plain words: its title, what the right gives, its owner.
    pub(crate) async fn resource(&mut self, id: &str) -> StoreResult<Grant> {
        if let Some(known) = self.resources.get(id) {
            return Ok(known.clone());
        }
        let language = self.t.language();
        let stored = self.state.store.resource(id).await?;
        let grant = match stored {
            Some(stored) => {
                let r = stored.resource;
                let pick = |text: &systembruker_domain::resource::TranslatedText| {
                    let value = match language {
                        Language::Nb => &text.nb,
                        Language::Nn => &text.nn,
                        Language::En => &text.en,
                    };
                    value
                        .clone()
                        .or_else(|| text.nb.clone())
                        .filter(|v| !v.trim().is_empty())
                };
                Grant {
                    kind: self.t.get("grant.kind.service").to_string(),
                    name: pick(&r.title).unwrap_or_else(|| id.to_string()),
                    description: r
                        .right_description
                        .as_ref()
                        .and_then(pick)
                        .or_else(|| pick(&r.description))
                        .unwrap_or_default(),
                    owner: r.has_competent_authority.name.as_ref().and_then(pick),
                }
            }
            None => Grant {
                kind: self.t.get("grant.kind.service").to_string(),
                name: id.to_string(),
                description: String::new(),
                owner: None,
            },
        };
        self.resources.insert(id.to_string(), grant.clone());
        Ok(grant)
    }

    /// An access package (by URN or code) in plain words, from the catalogue.
    pub(crate) fn package(&self, key: &str) -> Grant {
        let language = self.t.language();
        match self.state.catalogue.package(key) {
            Ok(package) => Grant {
                kind: self.t.get("grant.kind.package").to_string(),
                name: package.name.get(language).to_string(),
                description: package.description.get(language).to_string(),
                owner: None,
            },
            Err(_) => Grant {
                kind: self.t.get("grant.kind.package").to_string(),
                name: key.to_string(),
                description: String::new(),
                owner: None,
            },
        }
    }

    /// Rights (by resource) then packages, in plain words.
    pub(crate) async fn grants(
        &mut self,
        rights: &[Right],
        packages: &[AccessPackageRef],
    ) -> StoreResult<Vec<Grant>> {
        let mut out = Vec::new();
        let mut seen = Vec::new();
        for id in rights.iter().filter_map(Right::resource_id) {
            if !seen.contains(&id) {
                seen.push(id);
                out.push(self.resource(id).await?);
            }
        }
        out.extend(packages.iter().map(|p| self.package(&p.urn)));
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn org_numbers_are_grouped() {
        assert_eq!(spaced("991825827"), "991 825 827");
        assert_eq!(spaced(""), "");
    }
}
