//! The policy decision point's context handler (docs/authorization.md#the-pdp); the HTTP API
//! `POST /authorization/api/v1/authorize` is a thin adapter over it in `http/src/pdp.rs`.
//!
//! For each individual request the [`ContextHandler`] resolves the subject (person,
//! organisation or system user) and the resource party, enriches the subject with the
//! roles (`urn:altinn:rolecode`) and access packages (`urn:altinn:accesspackage`) it
//! holds *for that party* from the PIP, evaluates the resource's compiled policy, and —
//! when that is NotApplicable — the rights given to the subject directly. A Permit
//! through such a right carries the policy's own obligations (the minimum authentication
//! level) and the request's IncludeInResult attributes, as the reference's does.
//!
//! Role codes are offered in upper and lower case (`DAGL` and `dagl`), so a policy
//! matching either with `string-equal` finds the holder; a person acting for
//! themselves holds `privatperson` (PRIV) for their own party (the PIP adds it). An app
//! named by `urn:altinn:org` + `urn:altinn:app` is decided by the policy of the
//! registry's resource `app_{org}_{app}`.
//!
//! No stale caches: every request first reads the database's change counters (one
//! primary-key read, bumped by triggers in the same transaction as every change to
//! roles, delegations, rights and policies). When the facts counter moved, the cached
//! enrichments are dropped; when the policy counter moved, each cached policy is checked
//! against its stored version before it is used again. Several processes sharing one
//! database therefore all see a change on their very next decision.

mod access_lists;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use systembruker_domain::catalogue::{Catalogue, LookupError, packages_held};
use systembruker_domain::{OrgNumber, PersonNumber};
use systembruker_storage::{AuthzVersions, Store, StoreError, SubjectFacts};
use systembruker_xacml::{
    ACTION_ID, AttributeValue, Decision, DecisionResult, Pdp, Policy, Request, Status, StatusCode,
    category,
};
use uuid::Uuid;

/// Subject attribute ids (docs/authorization.md#the-pdp).
pub mod attr {
    pub const SYSTEM_USER: &str = "urn:altinn:systemuser:uuid";
    pub const USER_ID: &str = "urn:altinn:userid";
    pub const PERSON: &str = "urn:altinn:person:identifier-no";
    pub const ORGANIZATION: &str = "urn:altinn:organization:identifier-no";
    pub const ORGANIZATION_LEGACY: &str = "urn:altinn:organizationnumber";
    pub const PARTY_UUID: &str = "urn:altinn:party:uuid";
    pub const PARTY_ID: &str = "urn:altinn:partyid";
    pub const RESOURCE: &str = "urn:altinn:resource";
    pub const ORG: &str = "urn:altinn:org";
    pub const APP: &str = "urn:altinn:app";
    /// Added by the PIP: ER / Altinn 2 role codes, in upper and lower case (`DAGL`, `dagl`).
    pub const ROLE_CODE: &str = "urn:altinn:rolecode";
    /// Added by the PIP: the ER role's code (`daglig-leder`).
    pub const CCR_ROLE: &str = "urn:altinn:external-role:ccr";
    /// Added by the PIP: bare package codes (`skatt-naering`).
    pub const ACCESS_PACKAGE: &str = "urn:altinn:accesspackage";
}

/// Attributes only the PIP may supply: a caller that sends them is refused, so no
/// one can claim a role or package the register does not give them.
const PIP_ATTRIBUTES: [&str; 3] = [attr::ROLE_CODE, attr::CCR_ROLE, attr::ACCESS_PACKAGE];

/// How many compiled policies and enrichments one process keeps.
#[derive(Debug, Clone, Copy)]
pub struct CacheLimits {
    pub policies: usize,
    pub enrichments: usize,
}

impl Default for CacheLimits {
    fn default() -> Self {
        Self {
            policies: 200_000,
            enrichments: 200_000,
        }
    }
}

/// A policy compiled once when first used, with what it needs from the PIP.
pub struct CachedPolicy {
    pub policy: Policy,
    /// The stored policy's version (bumped on every replacement).
    version: i64,
    /// The policy counter at which `version` was last confirmed.
    confirmed_at: i64,
    needs_roles: bool,
    needs_packages: bool,
}

/// What the PIP adds to a subject acting for one party.
#[derive(Debug, Clone, Default)]
pub struct Enrichment {
    pub role_codes: Vec<String>,
    pub ccr_roles: Vec<String>,
    pub packages: Vec<String>,
    facts: SubjectFacts,
}

impl Enrichment {
    /// Computes the enrichment from the PIP's facts with the catalogue's rules.
    pub fn from_facts(catalogue: &Catalogue, facts: SubjectFacts) -> Result<Self, LookupError> {
        let mut role_codes = Vec::new();
        let mut ccr_roles = Vec::new();
        for fact in facts.direct_roles() {
            let role = catalogue.role(&fact.role)?;
            if role.is_er_role() {
                ccr_roles.push(role.code.clone());
            }
            role_codes.extend(role_code(role));
            role_codes.extend(
                catalogue
                    .implied_roles(&role.code)?
                    .into_iter()
                    .filter_map(role_code),
            );
        }
        role_codes.sort();
        role_codes.dedup();
        let packages = packages_held(catalogue, facts.subject, facts.party, &facts)?
            .into_iter()
            .map(|held| held.package.code)
            .collect();
        Ok(Self {
            role_codes,
            ccr_roles,
            packages,
            facts,
        })
    }
}

/// The `urn:altinn:rolecode` value of a role: the ER or Altinn 2 code in upper case
/// (the canonical form the delegation check compares; [`rolecode_values`] gives the
/// forms a decision offers).
fn role_code(role: &systembruker_domain::catalogue::Role) -> Option<String> {
    let code = role
        .legacy_code
        .as_deref()
        .or_else(|| role.urn.strip_prefix("urn:altinn:rolecode:"))?;
    Some(code.to_uppercase())
}

struct Caches {
    versions: Option<AuthzVersions>,
    policies: HashMap<String, Arc<CachedPolicy>>,
    enrichments: HashMap<(Uuid, Uuid), Arc<Enrichment>>,
    /// Identifier → party uuid. Only hits are kept: the mapping never changes once a
    /// party exists, so this needs no invalidation.
    parties: HashMap<String, Uuid>,
}

/// Why an individual request could not be decided.
struct Undecidable(DecisionResult);

impl From<StoreError> for Undecidable {
    fn from(err: StoreError) -> Self {
        tracing::error!(error = %err, "PIP lookup failed");
        Undecidable(DecisionResult::processing_error(
            "the policy information point is unavailable; try again",
        ))
    }
}

impl From<LookupError> for Undecidable {
    fn from(err: LookupError) -> Self {
        tracing::error!(error = %err, "stored facts name something the catalogue lacks");
        Undecidable(DecisionResult::processing_error(format!(
            "stored facts do not match the catalogue: {err}"
        )))
    }
}

fn indeterminate(code: StatusCode, message: impl Into<String>) -> Undecidable {
    Undecidable(DecisionResult::new(
        Decision::Indeterminate,
        Status {
            code,
            message: Some(message.into()),
        },
    ))
}

/// What one decision was about and what decided it, as far as the context handler got
/// (an Indeterminate answer may leave parts unknown). For the audit.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Trace {
    pub subject: Option<TracedSubject>,
    /// The resource party.
    pub party: Option<Uuid>,
    pub resource: Option<String>,
    /// The requested action ids, comma-separated.
    pub action: Option<String>,
    /// `policy:{resource}@{version}`, `delegation:{resource}` or `access-list:{resource}`.
    pub decided_by: Option<String>,
}

/// The subject of a traced decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TracedSubject {
    SystemUser(Uuid),
    /// A person or organisation of the register.
    Party(Uuid),
    /// Named, but not in the register.
    Unknown,
}

/// Who asks.
enum Subject {
    /// A party (person or organisation), by uuid.
    Known(Uuid),
    /// A system user, by uuid.
    SystemUser(Uuid),
    /// Named, but not in the register: decided without enrichment.
    Unknown,
}

impl Subject {
    fn traced(&self) -> Option<TracedSubject> {
        Some(match self {
            Subject::SystemUser(uuid) => TracedSubject::SystemUser(*uuid),
            Subject::Known(uuid) => TracedSubject::Party(*uuid),
            Subject::Unknown => TracedSubject::Unknown,
        })
    }
}

/// The requested action ids, comma-separated.
fn actions(request: &Request) -> Option<String> {
    let actions: Vec<String> = request
        .values(category::ACTION, ACTION_ID)
        .map(value_text)
        .collect();
    (!actions.is_empty()).then(|| actions.join(","))
}

/// The context handler: resolves, enriches, evaluates. Cheap to share (`Arc`).
pub struct ContextHandler {
    store: Arc<dyn Store>,
    catalogue: &'static Catalogue,
    limits: CacheLimits,
    caches: Mutex<Caches>,
    decisions: Family<DecisionLabels, Counter>,
    access_lists: access_lists::ModeCache,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct DecisionLabels {
    pub decision: String,
}

impl ContextHandler {
    pub fn new(store: Arc<dyn Store>, catalogue: &'static Catalogue, limits: CacheLimits) -> Self {
        Self {
            store,
            catalogue,
            limits,
            caches: Mutex::new(Caches {
                versions: None,
                policies: HashMap::new(),
                enrichments: HashMap::new(),
                parties: HashMap::new(),
            }),
            decisions: Family::default(),
            access_lists: access_lists::ModeCache::new(limits.policies),
        }
    }

    /// The decision counter family, for the metrics registry.
    pub fn decision_counter(&self) -> Family<DecisionLabels, Counter> {
        self.decisions.clone()
    }

    fn caches(&self) -> std::sync::MutexGuard<'_, Caches> {
        // A panic while holding the lock leaves plain maps behind: still usable.
        self.caches.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Decides every individual request of `request`, in order.
    /// The `urn:altinn:rolecode` values (upper case) the subject's roles give for the
    /// party, implied roles included, as a decision's enrichment has them.
    pub fn role_codes(&self, facts: &SubjectFacts) -> Result<Vec<String>, LookupError> {
        Ok(Enrichment::from_facts(self.catalogue, facts.clone())?.role_codes)
    }

    pub async fn authorize(&self, request: &Request) -> Vec<DecisionResult> {
        self.authorize_traced(request)
            .await
            .into_iter()
            .map(|(result, _)| result)
            .collect()
    }

    /// [`Self::authorize`], with what each decision was about and what decided it (for
    /// the audit).
    pub async fn authorize_traced(&self, request: &Request) -> Vec<(DecisionResult, Trace)> {
        let versions = match self.refresh().await {
            Ok(versions) => versions,
            Err(Undecidable(result)) => {
                return vec![(result, Trace::default()); request.decision_count()];
            }
        };
        let mut results = Vec::with_capacity(request.decision_count());
        // One individual request is built at a time: its copy of the attributes is
        // dropped before the next is made.
        for individual in request.individuals() {
            let mut trace = Trace::default();
            let result = match individual {
                Ok(mut single) => {
                    match self
                        .decide_with_access_lists(&mut single, versions, &mut trace)
                        .await
                    {
                        Ok(result) | Err(Undecidable(result)) => result,
                    }
                }
                Err(message) => DecisionResult::processing_error(message),
            };
            self.decisions
                .get_or_create(&DecisionLabels {
                    decision: result.decision.as_str().to_string(),
                })
                .inc();
            results.push((result, trace));
        }
        results
    }

    /// Reads the change counters and drops what they say is stale.
    async fn refresh(&self) -> Result<AuthzVersions, Undecidable> {
        let now = self.store.authz_versions().await?;
        let mut caches = self.caches();
        if caches.versions.is_none_or(|seen| seen.facts != now.facts) {
            caches.enrichments.clear();
        }
        caches.versions = Some(now);
        Ok(now)
    }

    async fn decide(
        &self,
        request: &mut Request,
        versions: AuthzVersions,
        trace: &mut Trace,
    ) -> Result<DecisionResult, Undecidable> {
        request.check_subject_and_resource().map_err(Undecidable)?;
        refuse_supplied(request, &PIP_ATTRIBUTES)?;
        // XACML 3.0 §10.2.5: the context handler supplies the current time, so a policy
        // condition on it ("valid until") is decided rather than missing an attribute.
        request.supply_current_time(chrono::Utc::now());
        trace.action = actions(request);
        let subject = self.subject(request).await?;
        trace.subject = subject.traced();
        let resource_id = resource_id(request)?;
        trace.resource = Some(resource_id.clone());
        let party = self.resource_party(request).await?;
        trace.party = party;
        let enrichment = match (subject, party) {
            (Subject::Known(subject) | Subject::SystemUser(subject), Some(party)) => {
                Some(self.enrichment(subject, party, versions).await?)
            }
            _ => None,
        };
        let Some(policy) = self.policy(&resource_id, versions).await? else {
            return Ok(if delegated(enrichment.as_deref(), &resource_id, request) {
                trace.decided_by = Some(format!("delegation:{resource_id}"));
                Pdp::permit_outside(None, request)
            } else {
                DecisionResult::new(Decision::NotApplicable, Status::ok())
            });
        };
        if let Some(enrichment) = &enrichment {
            enrich(request, &policy, enrichment);
        }
        let result = Pdp::decide(&policy.policy, request);
        if result.decision == Decision::NotApplicable
            && delegated(enrichment.as_deref(), &resource_id, request)
        {
            trace.decided_by = Some(format!("delegation:{resource_id}"));
            // As the reference: a delegation without obligations of its own carries
            // the resource policy's (docs/authorization.md#the-pdp).
            return Ok(Pdp::permit_outside(Some(&policy.policy), request));
        }
        trace.decided_by = Some(format!("policy:{resource_id}@{}", policy.version));
        Ok(result)
    }

    /// The subject: a system user (the only subject attribute then), a person, or an
    /// organisation.
    async fn subject(&self, request: &Request) -> Result<Subject, Undecidable> {
        let attributes: Vec<(&str, &AttributeValue)> = request
            .categories()
            .iter()
            .filter(|c| c.category == category::ACCESS_SUBJECT)
            .flat_map(|c| c.attributes.iter())
            .flat_map(|a| a.values.iter().map(move |v| (a.id.as_str(), v)))
            .collect();
        if attributes.iter().any(|(id, _)| *id == attr::SYSTEM_USER) {
            return system_user(&attributes);
        }
        for (id, value) in &attributes {
            let text = value_text(value);
            let found = match *id {
                attr::PERSON => self.party_by_identifier(id, &text).await?,
                attr::ORGANIZATION | attr::ORGANIZATION_LEGACY => {
                    self.party_by_identifier(attr::ORGANIZATION, &text).await?
                }
                attr::USER_ID | attr::PARTY_ID | attr::PARTY_UUID => {
                    self.party_by_identifier(id, &text).await?
                }
                _ => continue,
            };
            return Ok(found.map_or(Subject::Unknown, Subject::Known));
        }
        Ok(Subject::Unknown)
    }

    /// The resource party, given as party id, party uuid, org number or person number.
    /// Every party value given must name the same party: a request naming two (say the
    /// org number of one and the party id of another) is Indeterminate, as no one can
    /// tell which party the caller meant.
    async fn resource_party(&self, request: &Request) -> Result<Option<Uuid>, Undecidable> {
        let mut named: Option<(String, Option<Uuid>)> = None;
        for id in [
            attr::PARTY_UUID,
            attr::PARTY_ID,
            attr::ORGANIZATION,
            attr::ORGANIZATION_LEGACY,
            attr::PERSON,
        ] {
            let lookup_id = if id == attr::ORGANIZATION_LEGACY {
                attr::ORGANIZATION
            } else {
                id
            };
            for value in request.values(category::RESOURCE, id) {
                let text = value_text(value);
                let party = self.party_by_identifier(lookup_id, &text).await?;
                match &named {
                    None => named = Some((format!("{id} {text:?}"), party)),
                    Some((_, first)) if *first == party => {}
                    Some((first, _)) => {
                        return Err(indeterminate(
                            StatusCode::ProcessingError,
                            format!(
                                "the resource party is ambiguous: {first} and {id} {text:?} do not name the same party"
                            ),
                        ));
                    }
                }
            }
        }
        Ok(named.and_then(|(_, party)| party))
    }

    /// Looks a party up by one of its identifiers; `None` when it is not registered.
    /// `urn:altinn:userid` is the person's party id here: the register has no
    /// separate user ids.
    async fn party_by_identifier(
        &self,
        id: &str,
        value: &str,
    ) -> Result<Option<Uuid>, Undecidable> {
        let key = format!("{id}={value}");
        if let Some(uuid) = self.caches().parties.get(&key) {
            return Ok(Some(*uuid));
        }
        let bad = |what: &str| {
            indeterminate(
                StatusCode::SyntaxError,
                format!("{id} {value:?} is not {what}"),
            )
        };
        let store = &self.store;
        let party = match id {
            attr::PARTY_UUID => {
                let uuid = Uuid::parse_str(value).map_err(|_| bad("a uuid"))?;
                store.party_by_uuid(uuid).await?
            }
            attr::PARTY_ID | attr::USER_ID => {
                let number = value.parse::<i64>().map_err(|_| bad("a number"))?;
                store.party_by_id(number).await?
            }
            attr::ORGANIZATION => {
                let org =
                    OrgNumber::parse(value).map_err(|_| bad("a valid organisation number"))?;
                store.organization(&org).await?
            }
            _ => {
                let pid = PersonNumber::parse(value).map_err(|_| bad("a valid person number"))?;
                store.person(&pid).await?
            }
        };
        let uuid = party.map(|p| p.uuid);
        if let Some(uuid) = uuid {
            let mut caches = self.caches();
            if caches.parties.len() >= self.limits.enrichments {
                caches.parties.clear();
            }
            caches.parties.insert(key, uuid);
        }
        Ok(uuid)
    }

    async fn enrichment(
        &self,
        subject: Uuid,
        party: Uuid,
        versions: AuthzVersions,
    ) -> Result<Arc<Enrichment>, Undecidable> {
        if let Some(hit) = self.caches().enrichments.get(&(subject, party)) {
            return Ok(hit.clone());
        }
        let facts = self.store.subject_facts(subject, party).await?;
        let enrichment = Arc::new(Enrichment::from_facts(self.catalogue, facts)?);
        let mut caches = self.caches();
        // Keep it only if no change was seen since the counters were read: facts read
        // after the counter are at least that new, so the tag is never too young.
        if caches.versions.is_some_and(|v| v.facts == versions.facts) {
            if caches.enrichments.len() >= self.limits.enrichments {
                caches.enrichments.clear();
            }
            caches
                .enrichments
                .insert((subject, party), enrichment.clone());
        }
        Ok(enrichment)
    }

    /// The resource's compiled policy, parsed once and re-checked after any policy change.
    async fn policy(
        &self,
        resource_id: &str,
        versions: AuthzVersions,
    ) -> Result<Option<Arc<CachedPolicy>>, Undecidable> {
        let cached = self.caches().policies.get(resource_id).cloned();
        if let Some(hit) = &cached
            && hit.confirmed_at == versions.policies
        {
            return Ok(cached);
        }
        let Some(stored) = self.store.policy(resource_id).await? else {
            self.caches().policies.remove(resource_id);
            return Ok(None);
        };
        let entry = match cached {
            Some(hit) if hit.version == stored.version => CachedPolicy {
                policy: hit.policy.clone(),
                version: hit.version,
                confirmed_at: versions.policies,
                needs_roles: hit.needs_roles,
                needs_packages: hit.needs_packages,
            },
            _ => compile(&stored.xml, stored.version, versions.policies).map_err(|e| {
                indeterminate(
                    StatusCode::ProcessingError,
                    format!("the stored policy of {resource_id} does not load: {e}"),
                )
            })?,
        };
        let entry = Arc::new(entry);
        let mut caches = self.caches();
        if caches.policies.len() >= self.limits.policies {
            caches.policies.clear();
        }
        caches
            .policies
            .insert(resource_id.to_string(), entry.clone());
        Ok(Some(entry))
    }
}

fn compile(
    xml: &str,
    version: i64,
    confirmed_at: i64,
) -> Result<CachedPolicy, systembruker_xacml::PolicyError> {
    let policy = Policy::from_xml(xml)?;
    let ids = policy.referenced_attribute_ids();
    let uses = |id: &str| ids.iter().any(|i| i == id);
    Ok(CachedPolicy {
        needs_roles: uses(attr::ROLE_CODE) || uses(attr::CCR_ROLE),
        needs_packages: uses(attr::ACCESS_PACKAGE),
        policy,
        version,
        confirmed_at,
    })
}

fn value_text(value: &AttributeValue) -> String {
    value
        .as_str()
        .map_or_else(|| value.to_string(), str::to_string)
}

fn system_user(attributes: &[(&str, &AttributeValue)]) -> Result<Subject, Undecidable> {
    if attributes.len() != 1 {
        return Err(indeterminate(
            StatusCode::ProcessingError,
            "urn:altinn:systemuser:uuid must be the only subject attribute",
        ));
    }
    let text = value_text(attributes[0].1);
    Uuid::parse_str(&text)
        .map(Subject::SystemUser)
        .map_err(|_| {
            indeterminate(
                StatusCode::SyntaxError,
                format!("urn:altinn:systemuser:uuid {text:?} is not a uuid"),
            )
        })
}

/// The subject attributes `ids` are the PIP's to give: a caller who sends one of them
/// (a role, a package, a list membership) is refused, so nobody claims what the register
/// does not say.
fn refuse_supplied(request: &Request, ids: &[&str]) -> Result<(), Undecidable> {
    for id in ids {
        if request
            .values(category::ACCESS_SUBJECT, id)
            .next()
            .is_some()
        {
            return Err(indeterminate(
                StatusCode::ProcessingError,
                format!(
                    "the subject attribute {id} is supplied by the PDP's information point; remove it from the request"
                ),
            ));
        }
    }
    Ok(())
}

/// The registry id of the app an app policy's resource match names (`urn:altinn:org`
/// and `urn:altinn:app` → `app_{org}_{app}`), so the delegation check reads an app's
/// rules as it reads any resource's.
pub fn app_resource_id(matches: &[systembruker_xacml::SubjectMatch]) -> Option<String> {
    let value = |id: &str| {
        matches
            .iter()
            .find(|m| m.attribute_id == id)
            .map(|m| m.value.as_str())
    };
    Some(format!("app_{}_{}", value(attr::ORG)?, value(attr::APP)?))
}

/// `urn:altinn:resource`, or `app_{org}_{app}` for an app given as org + app.
fn resource_id(request: &Request) -> Result<String, Undecidable> {
    if let Some(id) = request.values(category::RESOURCE, attr::RESOURCE).next() {
        return Ok(value_text(id));
    }
    let org = request.values(category::RESOURCE, attr::ORG).next();
    let app = request.values(category::RESOURCE, attr::APP).next();
    match (org, app) {
        (Some(org), Some(app)) => Ok(format!("app_{}_{}", value_text(org), value_text(app))),
        _ => Err(indeterminate(
            StatusCode::ProcessingError,
            "the resource needs urn:altinn:resource, or urn:altinn:org with urn:altinn:app",
        )),
    }
}

/// The `urn:altinn:rolecode` values a decision offers for one role code: the code as
/// the reference's role sources hand it out, upper case for ER and Altinn 2 codes
/// (`DAGL`, `REGNA`) and lower case in many app and resource policies (`dagl`,
/// `regna`). Offering both lets a policy's `string-equal` match either; a policy
/// using `string-equal-ignore-case` matches the same holder either way.
fn rolecode_values(code: &str) -> impl Iterator<Item = String> {
    let upper = code.to_uppercase();
    let lower = code.to_lowercase();
    let both = (lower != upper).then_some(lower);
    std::iter::once(upper).chain(both)
}

fn enrich(request: &mut Request, policy: &CachedPolicy, enrichment: &Enrichment) {
    let subject = category::ACCESS_SUBJECT;
    if policy.needs_roles {
        for value in enrichment
            .role_codes
            .iter()
            .flat_map(|c| rolecode_values(c))
        {
            request.add_attribute(subject, attr::ROLE_CODE, AttributeValue::string(value));
        }
        for code in &enrichment.ccr_roles {
            request.add_attribute(
                subject,
                attr::CCR_ROLE,
                AttributeValue::string(code.clone()),
            );
        }
    }
    if policy.needs_packages {
        for code in &enrichment.packages {
            request.add_attribute(
                subject,
                attr::ACCESS_PACKAGE,
                AttributeValue::string(code.clone()),
            );
        }
    }
}

/// Whether the party gave the subject this very right (resource × action).
fn delegated(enrichment: Option<&Enrichment>, resource_id: &str, request: &Request) -> bool {
    enrichment.is_some_and(|enrichment| {
        request
            .values(category::ACTION, ACTION_ID)
            .any(|action| enrichment.facts.has_right(resource_id, &value_text(action)))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_role_code_is_offered_in_upper_and_lower_case() {
        let values: Vec<String> = rolecode_values("DAGL").collect();
        assert_eq!(values, ["DAGL", "dagl"]);
        let values: Vec<String> = rolecode_values("regna").collect();
        assert_eq!(values, ["REGNA", "regna"]);
        let values: Vec<String> = rolecode_values("FFØR").collect();
        assert_eq!(values, ["FFØR", "ffør"]);
    }

    #[test]
    fn the_legacy_codes_of_er_roles_are_derived_as_the_reference_does() {
        // Pia is daglig leder of an AS: DAGL and the Altinn 2 roles the role map gives it.
        let (org, pia) = (Uuid::from_u128(1), Uuid::from_u128(2));
        let facts = SubjectFacts {
            subject: pia,
            party: org,
            facts: systembruker_domain::catalogue::InMemoryFacts::default()
                .with_org(org, "AS", None)
                .with_role(org, pia, "daglig-leder"),
            ..SubjectFacts::default()
        };
        let enrichment = Enrichment::from_facts(Catalogue::builtin(), facts).unwrap();
        for code in ["DAGL", "REGNA", "APIADM", "ADMAI", "HADM", "KLADM"] {
            assert!(
                enrichment.role_codes.iter().any(|c| c == code),
                "{code}: {:?}",
                enrichment.role_codes
            );
        }
        assert_eq!(enrichment.ccr_roles, ["daglig-leder"]);
    }
}
