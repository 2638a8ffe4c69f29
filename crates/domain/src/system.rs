//! The system register (docs/rules.md#system-register): a vendor's *system*, bound to Maskinporten
//! clients, with the rights and access packages its system users may ask for.
//!
//! Validation is pure: the caller gathers the few facts that need I/O (which resources
//! exist, which client ids other systems hold, whether the id is taken) into
//! [`SystemFacts`], and [`validate_system`] returns every failure at once, each with its
//! `AUTH.VLD-000NN` code and JSON path, as the reference's `ValidationProblem` does.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde::{Deserialize, Serialize};

use crate::catalogue::Catalogue;
use crate::ids::OrgNumber;
use crate::resource::ResourceType;

/// The ISO 6523 authority every organisation reference carries.
pub const ISO6523_AUTHORITY: &str = "iso6523-actorid-upis";
/// The attribute id every right's resource pair must use.
pub const RESOURCE_ATTRIBUTE: &str = "urn:altinn:resource";
/// The URN prefix of access packages.
pub const PACKAGE_URN_PREFIX: &str = "urn:altinn:accesspackage:";

/// `{authority, ID}` as in Maskinporten's `consumer` claim (`ID` = `0192:<orgno>`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OrgReference {
    pub authority: String,
    #[serde(rename = "ID", alias = "id", alias = "Id")]
    pub id: String,
}

impl OrgReference {
    pub fn for_org(org: &OrgNumber) -> Self {
        Self {
            authority: ISO6523_AUTHORITY.to_string(),
            id: org.iso6523(),
        }
    }

    /// The organisation number when this is a valid `iso6523-actorid-upis` / `0192:` reference.
    pub fn org_number(&self) -> Option<OrgNumber> {
        if !self.authority.eq_ignore_ascii_case(ISO6523_AUTHORITY) {
            return None;
        }
        OrgNumber::parse(self.id.strip_prefix("0192:")?).ok()
    }
}

/// One `id = value` pair naming a resource, e.g. `urn:altinn:resource` = `ske-krav-og-betalinger`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AttributePair {
    pub id: String,
    pub value: String,
}

/// A single right: an optional action on one resource (the reference's `Right`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Right {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<String>,
    #[serde(default)]
    pub resource: Vec<AttributePair>,
}

impl Right {
    /// A right on the whole resource `resource_id`.
    pub fn on_resource(resource_id: &str) -> Self {
        Self {
            action: None,
            resource: vec![AttributePair {
                id: RESOURCE_ATTRIBUTE.to_string(),
                value: resource_id.to_string(),
            }],
        }
    }

    /// The resource id, when the right names one with `urn:altinn:resource`.
    pub fn resource_id(&self) -> Option<&str> {
        self.resource
            .iter()
            .find(|pair| pair.id == RESOURCE_ATTRIBUTE)
            .map(|pair| pair.value.as_str())
    }

    /// The attribute pairs as a set: two rights name the same resource when these are
    /// equal (the reference's comparison; the action is ignored).
    pub fn resource_key(&self) -> Vec<AttributePair> {
        let mut pairs = self.resource.clone();
        pairs.sort();
        pairs.dedup();
        pairs
    }

    /// The duplicate key (docs/rules.md#system-register): action plus the attribute pairs.
    fn duplicate_key(&self) -> (Option<String>, Vec<AttributePair>) {
        (self.action.clone(), self.resource_key())
    }
}

/// An access package by URN, e.g. `urn:altinn:accesspackage:skatt-naering`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AccessPackageRef {
    pub urn: String,
}

impl AccessPackageRef {
    pub fn new(code: &str) -> Self {
        Self {
            urn: format!("{PACKAGE_URN_PREFIX}{code}"),
        }
    }
}

fn default_true() -> bool {
    true
}

/// A system as the vendor registers it (`RegisterSystemRequest`) and as the vendor
/// endpoints return it (`RegisteredSystemResponse`, with `isDeleted`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct RegisteredSystem {
    /// `<vendor orgno>_<name>`, e.g. `991825827_smartregnskap`.
    pub id: String,
    pub vendor: OrgReference,
    /// Language → text; `nb`, `nn` and `en` are required.
    pub name: BTreeMap<String, String>,
    pub description: BTreeMap<String, String>,
    #[serde(default)]
    pub rights: Vec<Right>,
    #[serde(default)]
    pub access_packages: Vec<AccessPackageRef>,
    #[serde(default)]
    pub client_id: Vec<String>,
    #[serde(default = "default_true")]
    pub is_visible: bool,
    #[serde(default, alias = "allowedredirecturls", alias = "AllowedRedirectUrls")]
    pub allowed_redirect_urls: Vec<String>,
    /// Output only.
    #[serde(default)]
    pub is_deleted: bool,
}

impl RegisteredSystem {
    /// The vendor's organisation number from `vendor.ID`, when valid.
    pub fn vendor_org(&self) -> Option<OrgNumber> {
        self.vendor.org_number()
    }

    /// The Norwegian (bokmål) name, the default integration title.
    pub fn name_nb(&self) -> &str {
        self.name.get("nb").map(String::as_str).unwrap_or(&self.id)
    }

    /// Trims every string, as the reference's `TrimStringsActionFilter` does.
    pub fn trimmed(mut self) -> Self {
        self.id = self.id.trim().to_string();
        self.vendor.authority = self.vendor.authority.trim().to_string();
        self.vendor.id = self.vendor.id.trim().to_string();
        for map in [&mut self.name, &mut self.description] {
            for text in map.values_mut() {
                *text = text.trim().to_string();
            }
        }
        for right in &mut self.rights {
            right.action = right.action.take().map(|a| a.trim().to_string());
            for pair in &mut right.resource {
                pair.id = pair.id.trim().to_string();
                pair.value = pair.value.trim().to_string();
            }
        }
        for package in &mut self.access_packages {
            package.urn = package.urn.trim().to_string();
        }
        for text in self
            .client_id
            .iter_mut()
            .chain(&mut self.allowed_redirect_urls)
        {
            *text = text.trim().to_string();
        }
        self
    }

    /// The catalogue codes of the system's packages (unknown URNs are skipped).
    pub fn package_codes(&self, catalogue: &Catalogue) -> Vec<String> {
        self.access_packages
            .iter()
            .filter_map(|p| catalogue.package(&p.urn).ok())
            .map(|p| p.code.clone())
            .collect()
    }
}

/// The portal's view of a system (`RegisteredSystemDTO`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct SystemSummary {
    pub system_id: String,
    pub system_vendor_org_number: String,
    pub system_vendor_org_name: String,
    pub name: BTreeMap<String, String>,
    pub description: BTreeMap<String, String>,
    pub rights: Vec<Right>,
    pub access_packages: Vec<AccessPackageRef>,
    pub is_visible: bool,
}

/// One failed rule: its `AUTH.VLD-000NN` code, a title and the JSON paths it concerns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidationFailure {
    pub code: &'static str,
    pub title: String,
    pub paths: Vec<String>,
}

impl ValidationFailure {
    fn new(code: &'static str, path: impl Into<String>, title: impl Into<String>) -> Self {
        Self {
            code,
            title: title.into(),
            paths: vec![path.into()],
        }
    }
}

/// Validation codes of the reference (`ValidationErrors.cs`) plus our own `00019`.
pub mod vld {
    pub const VENDOR_PREFIX: &str = "AUTH.VLD-00000";
    pub const ID_PREFIX: &str = "AUTH.VLD-00001";
    pub const ID_EXISTS: &str = "AUTH.VLD-00002";
    pub const RESOURCE_NOT_FOUND: &str = "AUTH.VLD-00003";
    pub const CLIENT_ID_TAKEN: &str = "AUTH.VLD-00004";
    pub const REDIRECT_URL: &str = "AUTH.VLD-00005";
    pub const DUPLICATE_RIGHT: &str = "AUTH.VLD-00006";
    pub const DUPLICATE_PACKAGE: &str = "AUTH.VLD-00007";
    pub const PACKAGE_INVALID: &str = "AUTH.VLD-00008";
    pub const RIGHT_ATTRIBUTE: &str = "AUTH.VLD-00009";
    pub const DUPLICATE_CLIENT_ID: &str = "AUTH.VLD-00011";
    pub const ID_MISMATCH: &str = "AUTH.VLD-00012";
    pub const ID_SPACES: &str = "AUTH.VLD-00013";
    pub const RESOURCE_TYPE: &str = "AUTH.VLD-00017";
    pub const VISIBLE_CLIENT_PACKAGE: &str = "AUTH.VLD-00018";
    /// Ours: the reference leaves missing languages to a database error.
    pub const LANGUAGES: &str = "AUTH.VLD-00019";
    /// Ours: the client id is a Maskinporten client of another organisation than the
    /// system's vendor (a vendor may not claim, and so block, another's client).
    pub const CLIENT_NOT_VENDORS: &str = "AUTH.VLD-00020";
}

/// Resource types a system may name in its rights (docs/rules.md#system-register, code 17).
pub const ALLOWED_RESOURCE_TYPES: [ResourceType; 7] = [
    ResourceType::AltinnApp,
    ResourceType::Systemresource,
    ResourceType::Default,
    ResourceType::CorrespondenceService,
    ResourceType::BrokerService,
    ResourceType::GenericAccessResource,
    ResourceType::MigratedApp,
];

/// What validation needs from storage and configuration.
#[derive(Debug, Clone, Default)]
pub struct SystemFacts {
    /// Whether a system with this id exists already (deleted ones count). Create only.
    pub id_taken: bool,
    /// The type of each resource the rights name that exists in the resource registry.
    pub resources: HashMap<String, ResourceType>,
    /// Client ids held by other, live systems.
    pub client_ids_taken: HashSet<String>,
    /// Client ids of Maskinporten clients whose consumer org is not the system's vendor.
    pub client_ids_foreign: HashSet<String>,
    /// Development mode: `http://localhost…` redirect URLs are allowed too.
    pub dev: bool,
}

/// Validates a system to create or replace. Returns every failure; the vendor check
/// (`AUTH.VLD-00000`) is returned alone, as in the reference.
pub fn validate_system(
    system: &RegisteredSystem,
    catalogue: &Catalogue,
    facts: &SystemFacts,
) -> Vec<ValidationFailure> {
    let Some(vendor) = system.vendor_org() else {
        return vec![ValidationFailure::new(
            vld::VENDOR_PREFIX,
            "/vendor/ID",
            "the vendor must be {\"authority\":\"iso6523-actorid-upis\",\"ID\":\"0192:<orgno>\"} with a valid organisation number",
        )];
    };
    let mut failures = validate_id(system, &vendor, facts);
    failures.extend(validate_languages(system));
    failures.extend(validate_redirect_urls(
        &system.allowed_redirect_urls,
        facts.dev,
    ));
    failures.extend(validate_client_ids(&system.client_id, facts));
    failures.extend(validate_rights(&system.rights, facts));
    failures.extend(validate_packages(system, catalogue));
    failures
}

fn validate_id(
    system: &RegisteredSystem,
    vendor: &OrgNumber,
    facts: &SystemFacts,
) -> Vec<ValidationFailure> {
    let mut failures = Vec::new();
    if system.id.chars().any(char::is_whitespace) || system.id.is_empty() {
        failures.push(ValidationFailure::new(
            vld::ID_SPACES,
            "/id",
            "the system id must not be empty or contain spaces",
        ));
    }
    let prefix = system.id.split('_').next().unwrap_or_default();
    if prefix != vendor.as_str() || !system.id.contains('_') {
        failures.push(ValidationFailure::new(
            vld::ID_PREFIX,
            "/id",
            format!("the system id must be <vendor orgno>_<name>, starting with {vendor}_"),
        ));
    }
    if facts.id_taken {
        failures.push(ValidationFailure::new(
            vld::ID_EXISTS,
            "/id",
            format!(
                "a system with id {} exists already (deleted systems keep their id); choose another id",
                system.id
            ),
        ));
    }
    failures
}

fn validate_languages(system: &RegisteredSystem) -> Vec<ValidationFailure> {
    [
        ("/name", &system.name),
        ("/description", &system.description),
    ]
    .into_iter()
    .filter_map(|(path, texts)| {
        let missing: Vec<&str> = ["nb", "nn", "en"]
            .into_iter()
            .filter(|lang| texts.get(*lang).is_none_or(|t| t.trim().is_empty()))
            .collect();
        (!missing.is_empty()).then(|| {
            ValidationFailure::new(
                vld::LANGUAGES,
                path,
                format!(
                    "text is required in nb, nn and en; missing: {}",
                    missing.join(", ")
                ),
            )
        })
    })
    .collect()
}

/// An absolute `https` URL with a host; in dev mode also `http://localhost[:port]…`.
pub fn is_allowed_redirect_url(url: &str, dev: bool) -> bool {
    let Some(parts) = UrlParts::parse(url) else {
        return false;
    };
    match parts.scheme.as_str() {
        "https" => true,
        "http" => dev && (parts.host == "localhost" || parts.host == "127.0.0.1"),
        _ => false,
    }
}

fn validate_redirect_urls(urls: &[String], dev: bool) -> Vec<ValidationFailure> {
    urls.iter()
        .enumerate()
        .filter(|(_, url)| !is_allowed_redirect_url(url, dev))
        .map(|(i, url)| {
            ValidationFailure::new(
                vld::REDIRECT_URL,
                format!("/allowedRedirectUrls/{i}"),
                format!("{url:?} is not an absolute https URL"),
            )
        })
        .collect()
}

fn validate_client_ids(ids: &[String], facts: &SystemFacts) -> Vec<ValidationFailure> {
    let mut failures = Vec::new();
    let mut seen = HashSet::new();
    for (i, id) in ids.iter().enumerate() {
        let path = format!("/clientId/{i}");
        if !seen.insert(id) {
            failures.push(ValidationFailure::new(
                vld::DUPLICATE_CLIENT_ID,
                path.clone(),
                format!("client id {id} is listed twice"),
            ));
        }
        if facts.client_ids_foreign.contains(id) {
            failures.push(ValidationFailure::new(
                vld::CLIENT_NOT_VENDORS,
                path.clone(),
                format!("client id {id} is a Maskinporten client of another organisation; a system may name only its vendor's clients"),
            ));
        }
        if facts.client_ids_taken.contains(id) {
            failures.push(ValidationFailure::new(
                vld::CLIENT_ID_TAKEN,
                path,
                format!("client id {id} belongs to another system; a client id may be on one system only"),
            ));
        }
    }
    failures
}

fn validate_rights(rights: &[Right], facts: &SystemFacts) -> Vec<ValidationFailure> {
    let mut failures = Vec::new();
    let mut seen = HashSet::new();
    for (i, right) in rights.iter().enumerate() {
        for (j, pair) in right.resource.iter().enumerate() {
            let path = format!("/rights/{i}/resource/{j}");
            if pair.id != RESOURCE_ATTRIBUTE {
                failures.push(ValidationFailure::new(
                    vld::RIGHT_ATTRIBUTE,
                    format!("{path}/id"),
                    format!(
                        "the attribute id must be {RESOURCE_ATTRIBUTE}, not {:?}",
                        pair.id
                    ),
                ));
                continue;
            }
            match facts.resources.get(&pair.value) {
                None => failures.push(ValidationFailure::new(
                    vld::RESOURCE_NOT_FOUND,
                    format!("{path}/value"),
                    format!("resource {:?} is not in the resource registry", pair.value),
                )),
                Some(kind) if !ALLOWED_RESOURCE_TYPES.contains(kind) => {
                    failures.push(ValidationFailure::new(
                        vld::RESOURCE_TYPE,
                        format!("{path}/value"),
                        format!(
                            "resource {:?} has type {kind:?}, which a system may not request",
                            pair.value
                        ),
                    ))
                }
                Some(_) => {}
            }
        }
        if right.resource.is_empty() {
            failures.push(ValidationFailure::new(
                vld::RIGHT_ATTRIBUTE,
                format!("/rights/{i}/resource"),
                "a right must name a resource with urn:altinn:resource",
            ));
        }
        if !seen.insert(right.duplicate_key()) {
            failures.push(ValidationFailure::new(
                vld::DUPLICATE_RIGHT,
                format!("/rights/{i}"),
                "this right is listed twice",
            ));
        }
    }
    failures
}

fn validate_packages(system: &RegisteredSystem, catalogue: &Catalogue) -> Vec<ValidationFailure> {
    let mut failures = Vec::new();
    let mut seen = HashSet::new();
    for (i, package) in system.access_packages.iter().enumerate() {
        let path = format!("/accessPackages/{i}/urn");
        let well_formed =
            package.urn.split(':').count() >= 4 && package.urn.starts_with(PACKAGE_URN_PREFIX);
        let found = catalogue
            .package_by_urn(&package.urn)
            .ok()
            .filter(|_| well_formed);
        let Some(found) = found else {
            failures.push(ValidationFailure::new(
                vld::PACKAGE_INVALID,
                path,
                format!(
                    "{:?} is not a known access package URN (urn:altinn:accesspackage:<code>)",
                    package.urn
                ),
            ));
            continue;
        };
        if !found.is_assignable && !found.is_delegable {
            failures.push(ValidationFailure::new(
                vld::PACKAGE_INVALID,
                path.clone(),
                format!(
                    "access package {} can be neither assigned nor delegated to a system user",
                    found.code
                ),
            ));
        }
        if !seen.insert(found.id) {
            failures.push(ValidationFailure::new(
                vld::DUPLICATE_PACKAGE,
                path.clone(),
                format!("access package {} is listed twice", found.code),
            ));
        }
        if system.is_visible && !found.is_assignable {
            failures.push(ValidationFailure::new(
                vld::VISIBLE_CLIENT_PACKAGE,
                path,
                format!(
                    "access package {} is for client (agent) system users only, so the system cannot be visible for end-user creation; set isVisible to false",
                    found.code
                ),
            ));
        }
    }
    failures
}

/// The parts of a URL the redirect rules compare: scheme, host, port and path
/// (lower-cased scheme and host; the query and fragment are ignored).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UrlParts {
    pub scheme: String,
    pub host: String,
    pub port: Option<u16>,
    pub path: String,
}

impl UrlParts {
    pub fn parse(url: &str) -> Option<Self> {
        let (scheme, rest) = url.split_once("://")?;
        let scheme = scheme.to_ascii_lowercase();
        if !scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
            || scheme.is_empty()
        {
            return None;
        }
        let rest = rest.split(['?', '#']).next().unwrap_or_default();
        let (authority, path) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, "/"),
        };
        if authority.contains('@')
            || authority.is_empty()
            || authority.contains(char::is_whitespace)
        {
            return None;
        }
        let (host, port) = match authority.rsplit_once(':') {
            Some((host, port)) if !host.ends_with(']') || host.starts_with('[') => {
                (host, Some(port.parse::<u16>().ok()?))
            }
            _ => (authority, None),
        };
        if host.is_empty() {
            return None;
        }
        let default_port = match scheme.as_str() {
            "https" => Some(443),
            "http" => Some(80),
            _ => None,
        };
        Some(Self {
            scheme,
            host: host.to_ascii_lowercase(),
            port: port.or(default_port),
            path: if path.is_empty() {
                "/".into()
            } else {
                path.to_string()
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn smartregnskap() -> RegisteredSystem {
        serde_json::from_value(serde_json::json!({
            "id": "991825827_smartregnskap",
            "vendor": {"authority": "iso6523-actorid-upis", "ID": "0192:991825827"},
            "name": {"nb": "SmartRegnskap", "nn": "SmartRekneskap", "en": "SmartAccounting"},
            "description": {"nb": "a", "nn": "b", "en": "c"},
            "rights": [{"resource": [{"id": "urn:altinn:resource", "value": "ske-krav-og-betalinger"}]}],
            "accessPackages": [{"urn": "urn:altinn:accesspackage:skatt-naering"},
                               {"urn": "urn:altinn:accesspackage:regnskapsforer-med-signeringsrettighet"}],
            "clientId": ["c1"],
            "isVisible": false,
            "allowedredirecturls": ["https://smartcloud.example/receipt"]
        }))
        .unwrap()
    }

    fn facts() -> SystemFacts {
        SystemFacts {
            resources: HashMap::from([(
                "ske-krav-og-betalinger".to_string(),
                ResourceType::GenericAccessResource,
            )]),
            ..SystemFacts::default()
        }
    }

    fn codes(failures: &[ValidationFailure]) -> Vec<&'static str> {
        failures.iter().map(|f| f.code).collect()
    }

    #[test]
    fn demo_system_is_valid() {
        let system = smartregnskap();
        assert_eq!(
            system.allowed_redirect_urls.len(),
            1,
            "lower-case alias is read"
        );
        assert_eq!(
            validate_system(&system, Catalogue::builtin(), &facts()),
            vec![]
        );
        assert_eq!(system.vendor_org().unwrap().as_str(), "991825827");
        assert_eq!(system.name_nb(), "SmartRegnskap");
    }

    #[test]
    fn bad_vendor_is_reported_alone() {
        let mut system = smartregnskap();
        system.vendor.id = "0193:991825827".into();
        system.id = "bad id".into();
        assert_eq!(
            codes(&validate_system(&system, Catalogue::builtin(), &facts())),
            [vld::VENDOR_PREFIX]
        );
    }

    #[test]
    fn every_failure_is_reported() {
        let mut system = smartregnskap();
        system.id = "315000009 x".into();
        system.name.remove("nn");
        system.allowed_redirect_urls = vec!["http://evil.example/".into(), "relative/path".into()];
        system.client_id = vec!["c1".into(), "c1".into(), "taken".into(), "foreign".into()];
        system
            .rights
            .push(Right::on_resource("ske-krav-og-betalinger"));
        system.rights.push(Right::on_resource("unknown-resource"));
        system.rights.push(Right::on_resource("mp-schema"));
        system.rights.push(Right {
            action: None,
            resource: vec![AttributePair {
                id: "urn:altinn:app".into(),
                value: "x".into(),
            }],
        });
        system
            .access_packages
            .push(AccessPackageRef::new("skatt-naering"));
        system.access_packages.push(AccessPackageRef {
            urn: "urn:nope".into(),
        });
        system.is_visible = true;
        let mut facts = facts();
        facts.id_taken = true;
        facts.client_ids_taken.insert("taken".into());
        facts.client_ids_foreign.insert("foreign".into());
        facts
            .resources
            .insert("mp-schema".into(), ResourceType::MaskinportenSchema);
        let failures = validate_system(&system, Catalogue::builtin(), &facts);
        let found = codes(&failures);
        for code in [
            vld::ID_SPACES,
            vld::ID_PREFIX,
            vld::ID_EXISTS,
            vld::LANGUAGES,
            vld::REDIRECT_URL,
            vld::DUPLICATE_CLIENT_ID,
            vld::CLIENT_ID_TAKEN,
            vld::CLIENT_NOT_VENDORS,
            vld::DUPLICATE_RIGHT,
            vld::RESOURCE_NOT_FOUND,
            vld::RESOURCE_TYPE,
            vld::RIGHT_ATTRIBUTE,
            vld::DUPLICATE_PACKAGE,
            vld::PACKAGE_INVALID,
            vld::VISIBLE_CLIENT_PACKAGE,
        ] {
            assert!(found.contains(&code), "{code} missing from {failures:#?}");
        }
        let redirect_paths: Vec<&str> = failures
            .iter()
            .filter(|f| f.code == vld::REDIRECT_URL)
            .map(|f| f.paths[0].as_str())
            .collect();
        assert_eq!(
            redirect_paths,
            ["/allowedRedirectUrls/0", "/allowedRedirectUrls/1"]
        );
    }

    #[test]
    fn localhost_redirects_only_in_dev_mode() {
        assert!(is_allowed_redirect_url("https://a.example/x?y=1", false));
        assert!(!is_allowed_redirect_url("http://localhost:3000/cb", false));
        assert!(is_allowed_redirect_url("http://localhost:3000/cb", true));
        assert!(!is_allowed_redirect_url("http://a.example/", true));
        assert!(!is_allowed_redirect_url("https://user@a.example/", false));
        assert!(!is_allowed_redirect_url("/receipt", true));
    }

    #[test]
    fn url_parts_ignore_query_and_default_the_port() {
        let a = UrlParts::parse("HTTPS://Smart.Example/receipt?x=1").unwrap();
        let b = UrlParts::parse("https://smart.example:443/receipt").unwrap();
        assert_eq!(a, b);
        assert_ne!(a, UrlParts::parse("https://smart.example/other").unwrap());
    }

    #[test]
    fn rights_compare_on_the_attribute_set() {
        let a = Right {
            action: Some("read".into()),
            resource: vec![
                AttributePair {
                    id: "b".into(),
                    value: "2".into(),
                },
                AttributePair {
                    id: "a".into(),
                    value: "1".into(),
                },
            ],
        };
        let b = Right {
            action: None,
            resource: vec![
                AttributePair {
                    id: "a".into(),
                    value: "1".into(),
                },
                AttributePair {
                    id: "b".into(),
                    value: "2".into(),
                },
            ],
        };
        assert_eq!(a.resource_key(), b.resource_key());
    }

    #[test]
    fn strings_are_trimmed() {
        let mut system = smartregnskap();
        system.id = "  991825827_smartregnskap ".into();
        system.client_id = vec![" c1 ".into()];
        let system = system.trimmed();
        assert_eq!(system.id, "991825827_smartregnskap");
        assert_eq!(system.client_id, ["c1"]);
    }
}
