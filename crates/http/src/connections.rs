//! End-user delegation API in the reference's style (docs/rules.md#delegations, #delegation-check):
//! business-to-business package delegation (`enduser/connections/accesspackages`) and
//! the delegation checks for packages and resource rights.
//!
//! Every route needs an end-user token (scope `altinn:portal/enduser` and a `pid`).
//! Listing a party's delegations needs the PDP to permit `read`, changing them `write`,
//! on the system resource `altinn_access_management` for the party; a delegation check
//! only answers about the caller.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use serde::Serialize;
use systembruker_domain::catalogue::{
    AccessPackage, DelegationCheck, PackageRef, Reason, can_delegate,
};
use systembruker_domain::resource::ResourceType;
use systembruker_domain::{PartyIdentifier, PersonNumber};
use systembruker_storage::{DelegationFilter, StoredPackageDelegation, SubjectFacts, now_millis};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::AppState;
use crate::auth::{EndUserScope, Scoped};
use crate::authentication::access::{Action, permitted};
use crate::pdp::Enrichment;
use crate::problem::{ApiError, ApiResult};
use crate::resources::{AttributeMatch, PolicyRight, rights_of};
use crate::system_resources::ACCESS_MANAGEMENT;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_delegations, add_delegation, remove_delegation))
        .routes(routes!(package_delegation_check))
        .routes(routes!(resource_delegation_check))
}

/// Query parameters as (name, value) pairs, so repeated names (`packages=a&packages=b`)
/// survive and each problem can name the parameter.
type Params = Vec<(String, String)>;

fn param<'p>(params: &'p Params, name: &str) -> Option<&'p str> {
    params
        .iter()
        .find(|(key, _)| key.eq_ignore_ascii_case(name))
        .map(|(_, value)| value.trim())
        .filter(|value| !value.is_empty())
}

fn required<'p>(params: &'p Params, name: &str) -> ApiResult<&'p str> {
    param(params, name).ok_or_else(|| {
        ApiError::invalid_field(
            "STD-00013",
            name,
            format!("the query parameter {name} is required"),
        )
    })
}

/// The logged-in person's party uuid; other callers are refused.
async fn caller_party(state: &AppState, caller: &Scoped<EndUserScope>) -> ApiResult<Uuid> {
    let pid: &PersonNumber = caller.pid.as_ref().ok_or_else(|| {
        ApiError::forbidden("this endpoint needs an end-user token (a logged-in person)")
    })?;
    let person = state
        .store
        .person(pid)
        .await?
        .ok_or_else(|| ApiError::forbidden("the logged-in person is not in the register"))?;
    Ok(person.uuid)
}

/// `changed_by` for the caller: the user id when the token has one, else the party.
fn audit_name(caller: &Scoped<EndUserScope>, party: Uuid) -> String {
    match caller.user_id {
        Some(_) => caller.audit_name(),
        None => format!("party:{party}"),
    }
}

/// A party given as party uuid, organisation number or person number.
async fn resolve_party(state: &AppState, name: &str, value: &str) -> ApiResult<Uuid> {
    let party = if let Ok(uuid) = Uuid::parse_str(value) {
        state.store.party_by_uuid(uuid).await?
    } else {
        let id = PartyIdentifier::parse(value).map_err(|_| {
            ApiError::invalid_field(
                "STD-00010",
                name,
                format!(
                    "{name} must be a party uuid, an organisation number or a person number; got {value:?}"
                ),
            )
        })?;
        match id {
            PartyIdentifier::Org(org) => state.store.organization(&org).await?,
            PartyIdentifier::Person(pid) => state.store.person(&pid).await?,
        }
    };
    party.map(|p| p.uuid).ok_or_else(|| {
        ApiError::not_found(format!(
            "the party in {name} ({value}) is not in the register"
        ))
    })
}

fn package<'c>(state: &'c AppState, name: &str, value: &str) -> ApiResult<&'c AccessPackage> {
    state.catalogue.package(value).map_err(|_| {
        ApiError::invalid_field(
            "DelegationCheckFailureInvalidPackage",
            name,
            format!("{value} is not an access package (give its URN, code or id)"),
        )
    })
}

/// Refuses a caller the PDP does not let read (`Action::Read`) or change
/// (`Action::Write`) `party`'s access: the system resource `altinn_access_management`,
/// as the system-user routes. A person always acts for themselves.
async fn check_acts_for(
    state: &AppState,
    caller: Uuid,
    party: Uuid,
    action: Action,
) -> ApiResult<()> {
    if caller == party || permitted(state, caller, party, ACCESS_MANAGEMENT, action).await? {
        return Ok(());
    }
    Err(ApiError::forbidden(format!(
        "you do not manage access for party {party}: that needs {} on {ACCESS_MANAGEMENT} (the tilgangsstyrer or hovedadministrator package, or a role such as daglig leder)",
        action.as_str()
    )))
}

/// A stored package delegation, with the package named in full.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PackageDelegationDto {
    pub from: Uuid,
    pub to: Uuid,
    pub package: PackageRef,
    pub can_delegate: bool,
    pub created_at: i64,
    pub created_by: String,
}

impl PackageDelegationDto {
    fn new(state: &AppState, stored: StoredPackageDelegation) -> ApiResult<Self> {
        let package = state
            .catalogue
            .package(&stored.package_code)
            .map_err(|e| ApiError::internal(e.to_string()))?;
        Ok(Self {
            from: stored.from,
            to: stored.to,
            package: PackageRef::new(state.catalogue, package),
            can_delegate: stored.can_delegate,
            created_at: stored.created_at,
            created_by: stored.created_by,
        })
    }
}

/// The caller, the party they act for, and the PIP's facts about the two.
struct Acting {
    caller: Uuid,
    party: Uuid,
    facts: SubjectFacts,
}

async fn acting(
    state: &AppState,
    caller: &Scoped<EndUserScope>,
    params: &Params,
) -> ApiResult<Acting> {
    let me = caller_party(state, caller).await?;
    let party = resolve_party(state, "party", required(params, "party")?).await?;
    let facts = state.store.subject_facts(me, party).await?;
    Ok(Acting {
        caller: me,
        party,
        facts,
    })
}

#[utoipa::path(get, path = "/accessmanagement/api/v1/enduser/connections/accesspackages",
    tag = "accessmanagement",
    params(("party" = String, Query, description = "The party acted for: uuid, org number or person number"),
        ("from" = Option<String>, Query), ("to" = Option<String>, Query), ("package" = Option<String>, Query)),
    security(("bearer" = ["altinn:portal/enduser"])),
    responses((status = 200, body = Vec<PackageDelegationDto>), (status = 400, body = crate::problem::ProblemBody),
        (status = 403, body = crate::problem::ProblemBody)))]
async fn list_delegations(
    State(state): State<AppState>,
    caller: Scoped<EndUserScope>,
    Query(params): Query<Params>,
) -> ApiResult<axum::Json<Vec<PackageDelegationDto>>> {
    let acting = acting(&state, &caller, &params).await?;
    check_acts_for(&state, acting.caller, acting.party, Action::Read).await?;
    let from = optional_party(&state, &params, "from").await?;
    let to = optional_party(&state, &params, "to").await?;
    let package_code = match param(&params, "package") {
        Some(value) => Some(package(&state, "package", value)?.code.clone()),
        None => None,
    };
    // Without from/to: what the party gave and what it received.
    let filters = match (from, to) {
        (None, None) => vec![(Some(acting.party), None), (None, Some(acting.party))],
        (from, to) => {
            if from != Some(acting.party) && to != Some(acting.party) {
                return Err(ApiError::invalid_field(
                    "STD-00014",
                    "party",
                    "from or to must be the party you act for",
                ));
            }
            vec![(from, to)]
        }
    };
    let mut out = Vec::new();
    for (from, to) in filters {
        let filter = DelegationFilter {
            from,
            to,
            package_code: package_code.clone(),
        };
        for stored in state.store.package_delegations(&filter).await? {
            out.push(PackageDelegationDto::new(&state, stored)?);
        }
    }
    Ok(axum::Json(out))
}

async fn optional_party(state: &AppState, params: &Params, name: &str) -> ApiResult<Option<Uuid>> {
    match param(params, name) {
        Some(value) => Ok(Some(resolve_party(state, name, value).await?)),
        None => Ok(None),
    }
}

/// The delegation a POST or DELETE names: from (default: the party) → to, package.
async fn named_delegation(
    state: &AppState,
    acting: &Acting,
    params: &Params,
) -> ApiResult<(Uuid, Uuid, &'static AccessPackage)> {
    let from = optional_party(state, params, "from")
        .await?
        .unwrap_or(acting.party);
    let to = resolve_party(state, "to", required(params, "to")?).await?;
    let catalogue: &'static systembruker_domain::catalogue::Catalogue = state.catalogue;
    let value = required(params, "package")?;
    let package = catalogue.package(value).map_err(|_| {
        ApiError::invalid_field(
            "DelegationCheckFailureInvalidPackage",
            "package",
            format!("{value} is not an access package (give its URN, code or id)"),
        )
    })?;
    if from == to {
        return Err(ApiError::invalid_field(
            "STD-00014",
            "to",
            "a party cannot delegate to itself",
        ));
    }
    Ok((from, to, package))
}

#[utoipa::path(post, path = "/accessmanagement/api/v1/enduser/connections/accesspackages",
    tag = "accessmanagement",
    params(("party" = String, Query, description = "The party that gives the package (you act for it)"),
        ("from" = Option<String>, Query, description = "Must equal party when given"),
        ("to" = String, Query, description = "The receiver: uuid, org number or person number"),
        ("package" = String, Query, description = "Package URN, code or id"),
        ("canDelegate" = Option<bool>, Query, description = "May the receiver pass it on (default false)")),
    security(("bearer" = ["altinn:portal/enduser"])),
    responses((status = 201, body = PackageDelegationDto), (status = 200, body = PackageDelegationDto, description = "It existed already"),
        (status = 400, body = crate::problem::ProblemBody), (status = 403, body = crate::problem::ProblemBody),
        (status = 404, body = crate::problem::ProblemBody)))]
async fn add_delegation(
    State(state): State<AppState>,
    caller: Scoped<EndUserScope>,
    Query(params): Query<Params>,
) -> ApiResult<(StatusCode, axum::Json<PackageDelegationDto>)> {
    let acting = acting(&state, &caller, &params).await?;
    check_acts_for(&state, acting.caller, acting.party, Action::Write).await?;
    let (from, to, package) = named_delegation(&state, &acting, &params).await?;
    if from != acting.party {
        return Err(ApiError::invalid_field(
            "STD-00014",
            "from",
            "you can only delegate from the party you act for",
        ));
    }
    let check = can_delegate(
        state.catalogue,
        acting.caller,
        from,
        &package.code,
        &acting.facts,
    )
    .map_err(|e| ApiError::internal(e.to_string()))?;
    if !check.result {
        return Err(ApiError::forbidden(format!(
            "you may not delegate {} for this party",
            package.urn
        ))
        .extension(
            "delegationCheck",
            serde_json::to_value(&check).unwrap_or_default(),
        ));
    }
    let can_pass_on = match param(&params, "canDelegate") {
        None => false,
        Some(v) => v.parse::<bool>().map_err(|_| {
            ApiError::invalid_field(
                "STD-00010",
                "canDelegate",
                "canDelegate must be true or false",
            )
        })?,
    };
    let stored = StoredPackageDelegation {
        from,
        to,
        package_code: package.code.clone(),
        can_delegate: can_pass_on,
        created_at: now_millis(),
        created_by: audit_name(&caller, acting.caller),
    };
    let created = state.store.add_package_delegation(&stored).await?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    let filter = DelegationFilter {
        from: Some(from),
        to: Some(to),
        package_code: Some(package.code.clone()),
    };
    let current = state
        .store
        .package_delegations(&filter)
        .await?
        .into_iter()
        .next()
        .unwrap_or(stored);
    Ok((
        status,
        axum::Json(PackageDelegationDto::new(&state, current)?),
    ))
}

#[utoipa::path(delete, path = "/accessmanagement/api/v1/enduser/connections/accesspackages",
    tag = "accessmanagement",
    params(("party" = String, Query, description = "The giver or the receiver (you act for it)"),
        ("from" = Option<String>, Query, description = "The giver (default: party)"),
        ("to" = String, Query), ("package" = String, Query)),
    security(("bearer" = ["altinn:portal/enduser"])),
    responses((status = 204), (status = 400, body = crate::problem::ProblemBody),
        (status = 403, body = crate::problem::ProblemBody), (status = 404, body = crate::problem::ProblemBody)))]
async fn remove_delegation(
    State(state): State<AppState>,
    caller: Scoped<EndUserScope>,
    Query(params): Query<Params>,
) -> ApiResult<StatusCode> {
    let acting = acting(&state, &caller, &params).await?;
    check_acts_for(&state, acting.caller, acting.party, Action::Write).await?;
    let (from, to, package) = named_delegation(&state, &acting, &params).await?;
    if acting.party != from && acting.party != to {
        return Err(ApiError::invalid_field(
            "STD-00014",
            "party",
            "the party you act for must be the giver or the receiver",
        ));
    }
    let who = audit_name(&caller, acting.caller);
    if state
        .store
        .remove_package_delegation(from, to, &package.code, &who)
        .await?
    {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::not_found(format!(
            "{from} has not delegated {} to {to}",
            package.urn
        )))
    }
}

#[utoipa::path(get, path = "/accessmanagement/api/v1/enduser/connections/accesspackages/delegationcheck",
    tag = "accessmanagement",
    params(("party" = String, Query, description = "The party acted for: uuid, org number or person number"),
        ("packages" = Vec<String>, Query, description = "Package URNs, codes or ids; repeat or separate with commas")),
    security(("bearer" = ["altinn:portal/enduser"])),
    responses((status = 200, body = Vec<DelegationCheck>), (status = 400, body = crate::problem::ProblemBody),
        (status = 403, body = crate::problem::ProblemBody), (status = 404, body = crate::problem::ProblemBody)))]
async fn package_delegation_check(
    State(state): State<AppState>,
    caller: Scoped<EndUserScope>,
    Query(params): Query<Params>,
) -> ApiResult<axum::Json<Vec<DelegationCheck>>> {
    let acting = acting(&state, &caller, &params).await?;
    let wanted: Vec<&str> = params
        .iter()
        .filter(|(key, _)| {
            key.eq_ignore_ascii_case("packages") || key.eq_ignore_ascii_case("package")
        })
        .flat_map(|(_, value)| value.split(','))
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .collect();
    if wanted.is_empty() {
        return Err(ApiError::invalid_field(
            "STD-00013",
            "packages",
            "name at least one package in the query parameter packages",
        ));
    }
    let mut checks = Vec::with_capacity(wanted.len());
    for value in wanted {
        let package = package(&state, "packages", value)?;
        let check = can_delegate(
            state.catalogue,
            acting.caller,
            acting.party,
            &package.code,
            &acting.facts,
        )
        .map_err(|e| ApiError::internal(e.to_string()))?;
        checks.push(check);
    }
    Ok(axum::Json(checks))
}

/// The reference's `DelegationCheckReasonCode` values we produce.
#[derive(Debug, Clone, Copy, Serialize, ToSchema, PartialEq, Eq)]
pub enum ReasonCode {
    RoleAccess,
    DelegationAccess,
    MissingRoleAccess,
    MissingDelegationAccess,
    PackageAccess,
    MissingPackageAccess,
    ResourceNotDelegable,
    ResourceIsMaskinPortenSchema,
}

/// A right of the resource, in the reference's shape.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RightRef {
    pub key: String,
    pub name: String,
    pub resource: Vec<AttributeMatch>,
    pub action: String,
}

/// One way the caller may (or may not) delegate a right.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RightReason {
    pub code: ReasonCode,
    /// The role code that gives the right (RoleAccess).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role_code: Option<String>,
    /// The package that gives the right (PackageAccess), with the paths that let the
    /// caller delegate it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub package: Option<PackageRef>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub paths: Vec<Reason>,
}

impl RightReason {
    fn code(code: ReasonCode) -> Self {
        Self {
            code,
            role_code: None,
            package: None,
            paths: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RightCheck {
    pub right: RightRef,
    pub result: bool,
    pub reason_codes: Vec<ReasonCode>,
    pub reasons: Vec<RightReason>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ResourceCheck {
    pub resource: String,
    pub rights: Vec<RightCheck>,
}

#[utoipa::path(get, path = "/accessmanagement/api/v1/enduser/connections/resources/delegationcheck",
    tag = "accessmanagement",
    params(("party" = String, Query, description = "The party acted for: uuid, org number or person number"),
        ("resource" = String, Query, description = "Resource identifier")),
    security(("bearer" = ["altinn:portal/enduser"])),
    responses((status = 200, body = ResourceCheck), (status = 400, body = crate::problem::ProblemBody),
        (status = 403, body = crate::problem::ProblemBody), (status = 404, body = crate::problem::ProblemBody)))]
async fn resource_delegation_check(
    State(state): State<AppState>,
    caller: Scoped<EndUserScope>,
    Query(params): Query<Params>,
) -> ApiResult<axum::Json<ResourceCheck>> {
    let resource_id = required(&params, "resource")?.to_string();
    let acting = acting(&state, &caller, &params).await?;
    let resource = state
        .store
        .resource(&resource_id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("resource {resource_id:?} does not exist")))?
        .resource;
    let rights = rights_of(&state, &resource_id).await?;
    let enrichment = Enrichment::from_facts(state.catalogue, acting.facts.clone())
        .map_err(|e| ApiError::internal(e.to_string()))?;
    let blocked = if !resource.delegable {
        Some(ReasonCode::ResourceNotDelegable)
    } else if resource.resource_type == ResourceType::MaskinportenSchema {
        Some(ReasonCode::ResourceIsMaskinPortenSchema)
    } else {
        None
    };
    let mut checks = Vec::with_capacity(rights.len());
    for right in &rights {
        let reasons = match blocked {
            Some(code) => vec![RightReason::code(code)],
            None => right_reasons(
                &state,
                (acting.caller, acting.party, &acting.facts),
                &enrichment,
                &resource_id,
                right,
            )?,
        };
        checks.push(right_check(right, reasons));
    }
    Ok(axum::Json(ResourceCheck {
        resource: resource_id,
        rights: checks,
    }))
}

fn right_check(right: &PolicyRight, reasons: Vec<RightReason>) -> RightCheck {
    let granting = [
        ReasonCode::RoleAccess,
        ReasonCode::PackageAccess,
        ReasonCode::DelegationAccess,
    ];
    let result = reasons.iter().any(|r| granting.contains(&r.code));
    let mut reason_codes: Vec<ReasonCode> = reasons.iter().map(|r| r.code).collect();
    reason_codes.dedup();
    RightCheck {
        right: RightRef {
            key: right.right_key.clone(),
            name: right.action.clone(),
            resource: right.resource.clone(),
            action: right.action.clone(),
        },
        result,
        reason_codes,
        reasons,
    }
}

/// Why `user` may delegate the right for `party` (role, package, direct delegation), or
/// why not. The delegation-check endpoint and system-user approval both decide by this.
pub(crate) fn right_reasons(
    state: &AppState,
    (user, party, facts): (Uuid, Uuid, &SubjectFacts),
    enrichment: &Enrichment,
    resource_id: &str,
    right: &PolicyRight,
) -> ApiResult<Vec<RightReason>> {
    let mut reasons = Vec::new();
    for code in &right.role_codes {
        if enrichment
            .role_codes
            .iter()
            .any(|held| held.eq_ignore_ascii_case(code))
        {
            reasons.push(RightReason {
                role_code: Some(code.clone()),
                ..RightReason::code(ReasonCode::RoleAccess)
            });
        }
    }
    for code in &right.access_packages {
        let Ok(package) = state.catalogue.package(code) else {
            continue; // a policy may name a package the catalogue lacks: it gives nothing
        };
        let check = can_delegate(state.catalogue, user, party, &package.code, facts)
            .map_err(|e| ApiError::internal(e.to_string()))?;
        if check.result {
            reasons.push(RightReason {
                package: Some(check.package),
                paths: check.reasons,
                ..RightReason::code(ReasonCode::PackageAccess)
            });
        }
    }
    if facts.has_right(resource_id, &right.action) {
        reasons.push(RightReason::code(ReasonCode::DelegationAccess));
    }
    if reasons.is_empty() {
        if !right.role_codes.is_empty() {
            reasons.push(RightReason::code(ReasonCode::MissingRoleAccess));
        }
        if !right.access_packages.is_empty() {
            reasons.push(RightReason::code(ReasonCode::MissingPackageAccess));
        }
        reasons.push(RightReason::code(ReasonCode::MissingDelegationAccess));
    }
    Ok(reasons)
}
