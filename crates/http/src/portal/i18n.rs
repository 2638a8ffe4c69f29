//! The portal's texts: one catalogue per language (`crates/http/i18n/{nb,nn,en}.json`),
//! compiled into the program. Templates never hold user-visible words; they ask a
//! [`Texts`] for a key. Tests check that the three catalogues have the same keys and
//! that every key a template or the code uses exists.

use std::collections::HashMap;
use std::sync::LazyLock;

use systembruker_domain::catalogue::Language;

const NB: &str = include_str!("../../i18n/nb.json");
const NN: &str = include_str!("../../i18n/nn.json");
const EN: &str = include_str!("../../i18n/en.json");

struct Catalogues {
    nb: HashMap<String, String>,
    nn: HashMap<String, String>,
    en: HashMap<String, String>,
}

/// A catalogue that does not parse is a build mistake the tests catch; at run time it
/// shows keys instead of failing every page.
fn parse(language: &str, source: &str) -> HashMap<String, String> {
    serde_json::from_str(source).unwrap_or_else(|e| {
        tracing::error!(language, error = %e, "portal text catalogue does not parse");
        HashMap::new()
    })
}

static CATALOGUES: LazyLock<Catalogues> = LazyLock::new(|| Catalogues {
    nb: parse("nb", NB),
    nn: parse("nn", NN),
    en: parse("en", EN),
});

/// Every language the portal offers, in the order the switcher shows them.
pub(crate) const LANGUAGES: [Language; 3] = [Language::Nb, Language::Nn, Language::En];

/// The `lang` attribute and cookie value of a language.
pub(crate) fn code(language: Language) -> &'static str {
    match language {
        Language::Nb => "nb",
        Language::Nn => "nn",
        Language::En => "en",
    }
}

/// A language from the cookie or a query parameter; only the three exact codes count.
pub(crate) fn parse_code(text: &str) -> Option<Language> {
    match text.trim() {
        "nb" => Some(Language::Nb),
        "nn" => Some(Language::Nn),
        "en" => Some(Language::En),
        _ => None,
    }
}

/// The texts of one language, as templates use them: `t.get("app.name")`.
#[derive(Clone, Copy)]
pub(crate) struct Texts {
    language: Language,
    map: &'static HashMap<String, String>,
}

impl Texts {
    pub(crate) fn new(language: Language) -> Self {
        let catalogues = &*CATALOGUES;
        let map = match language {
            Language::Nb => &catalogues.nb,
            Language::Nn => &catalogues.nn,
            Language::En => &catalogues.en,
        };
        Self { language, map }
    }

    pub(crate) fn language(&self) -> Language {
        self.language
    }

    /// The `lang` code: `nb`, `nn` or `en`.
    pub(crate) fn code(&self) -> &'static str {
        code(self.language)
    }

    /// The text for `key`; a missing key shows as itself (the tests forbid that).
    pub(crate) fn get<'a>(&self, key: &'a str) -> &'a str {
        match self.map.get(key) {
            Some(text) => text.as_str(),
            None => key,
        }
    }

    /// The text for `key` with `{name}` replaced by `value`.
    pub(crate) fn with(&self, key: &str, name: &str, value: &str) -> String {
        self.get(key).replace(&format!("{{{name}}}"), value)
    }

    /// The text for `key` with two placeholders filled.
    pub(crate) fn with2(
        &self,
        key: &str,
        (name1, value1): (&str, &str),
        (name2, value2): (&str, &str),
    ) -> String {
        self.with(key, name1, value1)
            .replace(&format!("{{{name2}}}"), value2)
    }

    /// `key.one` or `key.other` by `count`, with `{count}` filled.
    pub(crate) fn count(&self, key: &str, count: usize) -> String {
        let form = if count == 1 { "one" } else { "other" };
        self.get(&format!("{key}.{form}"))
            .replace("{count}", &count.to_string())
    }

    /// A date (unix milliseconds) as people write it in this language.
    pub(crate) fn date(&self, millis: i64) -> String {
        let Some(time) = chrono::DateTime::from_timestamp_millis(millis) else {
            return String::new();
        };
        match self.language {
            Language::En => time.format("%-d %B %Y").to_string(),
            Language::Nb | Language::Nn => time.format("%d.%m.%Y").to_string(),
        }
    }
}

/// Every key of a catalogue (for the tests).
#[cfg(test)]
fn keys(language: Language) -> std::collections::BTreeSet<String> {
    Texts::new(language).map.keys().cloned().collect()
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    #[test]
    fn every_catalogue_parses_and_has_the_same_keys() {
        for (language, source) in [("nb", NB), ("nn", NN), ("en", EN)] {
            let parsed: Result<HashMap<String, String>, _> = serde_json::from_str(source);
            assert!(parsed.is_ok(), "{language}.json: {parsed:?}");
        }
        let nb = keys(Language::Nb);
        assert!(nb.len() > 100, "the bokmål catalogue looks empty");
        for language in [Language::Nn, Language::En] {
            let other = keys(language);
            let missing: Vec<_> = nb.difference(&other).collect();
            let extra: Vec<_> = other.difference(&nb).collect();
            assert!(
                missing.is_empty() && extra.is_empty(),
                "{}: missing {missing:?}, extra {extra:?}",
                code(language)
            );
        }
    }

    #[test]
    fn no_text_is_blank_and_placeholders_match() {
        let placeholder = regex::Regex::new(r"\{[a-z_]+\}").expect("valid regex");
        let names = |text: &str| -> BTreeSet<String> {
            placeholder
                .find_iter(text)
                .map(|m| m.as_str().to_string())
                .collect()
        };
        let nb = Texts::new(Language::Nb);
        for key in keys(Language::Nb) {
            for language in LANGUAGES {
                let text = Texts::new(language).get(&key).to_string();
                assert!(!text.trim().is_empty(), "{key} is blank in {language:?}");
                assert_eq!(
                    names(&text),
                    names(nb.get(&key)),
                    "{key}: placeholders differ in {language:?}"
                );
            }
        }
    }

    /// Every `t.get("…")`, `t.with("…"`, `t.with2("…"` and `t.count("…"` in the
    /// templates and in the portal's code names a key of the catalogues.
    #[test]
    fn every_key_in_use_exists() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut sources = Vec::new();
        // Folders of the portal's code (e.g. `src/portal/clients/`) are read too.
        let mut folders: Vec<_> = ["templates/portal", "src/portal"]
            .iter()
            .map(|folder| dir.join(folder))
            .collect();
        while let Some(folder) = folders.pop() {
            let entries = std::fs::read_dir(&folder).expect("folder exists");
            for entry in entries.flatten() {
                if entry.path().is_dir() {
                    folders.push(entry.path());
                    continue;
                }
                let text = std::fs::read_to_string(entry.path()).expect("readable");
                sources.push((entry.path().display().to_string(), text));
            }
        }
        let usage = regex::Regex::new(r#"\bt\.(get|with|with2|count)\(\s*"([a-z0-9_.\-]+)""#)
            .expect("valid regex");
        let known = keys(Language::Nb);
        let mut used = 0;
        for (path, text) in &sources {
            for found in usage.captures_iter(text) {
                used += 1;
                let key = &found[2];
                if &found[1] == "count" {
                    for form in ["one", "other"] {
                        let full = format!("{key}.{form}");
                        assert!(known.contains(&full), "{path}: unknown key {full}");
                    }
                } else {
                    assert!(known.contains(key), "{path}: unknown key {key}");
                }
            }
        }
        assert!(used > 100, "only {used} keys found in use");
    }

    #[test]
    fn dates_follow_the_language() {
        let millis = 1_767_225_600_000; // 2026-01-01T00:00:00Z
        assert_eq!(Texts::new(Language::Nb).date(millis), "01.01.2026");
        assert_eq!(Texts::new(Language::En).date(millis), "1 January 2026");
    }
}
