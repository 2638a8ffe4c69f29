//! Browsing the access-package catalogue as the reference's metadata API does: the
//! packages in one list, a free-text search over them, and (with the resource registry)
//! the resources a package gives access to.

use std::collections::BTreeMap;

use systembruker_domain::catalogue::{Catalogue, ExportAreaGroup, ExportPackage, Language};

use crate::registry_browse::{PACKAGE_ATTRIBUTE, resource_policies};
use crate::{App, AppResult};

/// Every package of the export, in the catalogue's order, named in `language`.
pub fn packages(catalogue: &Catalogue, language: Language) -> Vec<ExportPackage> {
    flatten(catalogue.export(language))
}

fn flatten(groups: Vec<ExportAreaGroup>) -> Vec<ExportPackage> {
    groups
        .into_iter()
        .flat_map(|g| g.areas)
        .flat_map(|a| a.packages)
        .collect()
}

/// One word of a searched field, and whether it matched a word of the term.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchWord {
    pub content: String,
    pub is_match: bool,
    pub score: f64,
}

/// A field of a hit with its words.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchField {
    pub field: &'static str,
    pub value: String,
    pub score: f64,
    pub words: Vec<SearchWord>,
}

/// A package that matched, with its score and the fields that matched.
#[derive(Debug, Clone)]
pub struct PackageHit {
    pub package: ExportPackage,
    pub score: f64,
    pub fields: Vec<SearchField>,
}

/// How much a match in each field counts: the name most, a resource's title least.
const NAME_WEIGHT: f64 = 1.0;
const DESCRIPTION_WEIGHT: f64 = 0.5;
const RESOURCE_WEIGHT: f64 = 0.3;

fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_string)
        .collect()
}

/// A word matches a term word it starts with (`skatt` finds `skattemelding`); a whole
/// word counts fully, a prefix by the share of the word it covers.
fn word_score(word: &str, terms: &[String]) -> f64 {
    let word = word.to_lowercase();
    terms
        .iter()
        .filter(|t| word.starts_with(t.as_str()))
        .map(|t| t.chars().count() as f64 / word.chars().count().max(1) as f64)
        .fold(0.0, f64::max)
}

fn field(name: &'static str, value: &str, weight: f64, terms: &[String]) -> Option<SearchField> {
    let words: Vec<SearchWord> = words(value)
        .into_iter()
        .map(|w| {
            let score = word_score(&w, terms);
            SearchWord {
                content: w,
                is_match: score > 0.0,
                score,
            }
        })
        .collect();
    let score = words.iter().map(|w| w.score).sum::<f64>() * weight;
    (score > 0.0).then(|| SearchField {
        field: name,
        value: value.to_string(),
        score,
        words,
    })
}

/// The packages whose name, description or (when given) resource titles contain a word
/// starting with a word of `term`, best first. An empty term finds nothing.
pub fn search_packages(
    packages: Vec<ExportPackage>,
    term: &str,
    resource_titles: &BTreeMap<String, Vec<String>>,
) -> Vec<PackageHit> {
    let terms: Vec<String> = words(term).iter().map(|w| w.to_lowercase()).collect();
    if terms.is_empty() {
        return Vec::new();
    }
    let mut hits: Vec<PackageHit> = packages
        .into_iter()
        .filter_map(|package| {
            let mut fields: Vec<SearchField> = [
                field("Name", &package.name, NAME_WEIGHT, &terms),
                field(
                    "Description",
                    &package.description,
                    DESCRIPTION_WEIGHT,
                    &terms,
                ),
            ]
            .into_iter()
            .flatten()
            .collect();
            for title in resource_titles.get(&package.code).into_iter().flatten() {
                fields.extend(field("Resource", title, RESOURCE_WEIGHT, &terms));
            }
            let score: f64 = fields.iter().map(|f| f.score).sum();
            (score > 0.0).then_some(PackageHit {
                package,
                score,
                fields,
            })
        })
        .collect();
    hits.sort_by(|a, b| b.score.total_cmp(&a.score));
    hits
}

/// The titles (in bokmål, else any language) of the resources each package gives access
/// to, by package code: what `searchInResources=true` searches too.
pub async fn resource_titles(app: &App) -> AppResult<BTreeMap<String, Vec<String>>> {
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for policy in resource_policies(app).await? {
        let title = policy.resource.title.clone();
        let Some(title) = title.nb.or(title.en).or(title.nn) else {
            continue;
        };
        for subject in policy.subjects() {
            if subject.attribute == PACKAGE_ATTRIBUTE {
                out.entry(subject.value).or_default().push(title.clone());
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn catalogue() -> &'static Catalogue {
        Catalogue::builtin()
    }

    #[test]
    fn every_package_is_listed_once() {
        let all = packages(catalogue(), Language::Nb);
        assert_eq!(all.len(), catalogue().packages().len());
    }

    #[test]
    fn a_search_finds_packages_by_the_start_of_a_word_best_first() {
        let all = packages(catalogue(), Language::Nb);
        let hits = search_packages(all.clone(), "Skatt", &BTreeMap::new());
        assert!(!hits.is_empty());
        assert!(hits.iter().any(|h| h.package.code == "skatt-naering"));
        assert!(hits.windows(2).all(|w| w[0].score >= w[1].score));
        assert!(
            hits[0]
                .fields
                .iter()
                .any(|f| f.words.iter().any(|w| w.is_match))
        );
        assert!(search_packages(all.clone(), "  ", &BTreeMap::new()).is_empty());
        assert!(search_packages(all, "qqqzzz", &BTreeMap::new()).is_empty());
    }

    #[test]
    fn a_search_in_resources_finds_a_package_by_its_resources_title() {
        let all = packages(catalogue(), Language::Nb);
        let titles = BTreeMap::from([(
            "skatt-naering".to_string(),
            vec!["Krav og betalinger".to_string()],
        )]);
        let hits = search_packages(all.clone(), "betalinger", &titles);
        assert!(
            hits.iter().any(|h| h.package.code == "skatt-naering"
                && h.fields.iter().any(|f| f.field == "Resource"))
        );
        let without = search_packages(all, "betalinger", &BTreeMap::new());
        assert!(!without.iter().any(|h| h.package.code == "skatt-naering"));
    }
}
