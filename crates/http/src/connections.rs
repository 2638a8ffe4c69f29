//! End-user delegation API in the reference's style (docs/rules.md#delegations, #delegation-check):
//! business-to-business package delegation (`enduser/connections/accesspackages`) and
//! the delegation checks for packages and resource rights. The use cases are
//! `systembruker_app::delegations`; here the query is parsed and the answer shaped.
//!
//! Every route needs an end-user token (scope `altinn:portal/enduser` and a `pid`).

use axum::extract::{Query, State};
use axum::http::StatusCode;
use serde::Serialize;
use systembruker_app::delegations::{self, DelegationArgs, ListQuery, Param};
use systembruker_domain::catalogue::{DelegationCheck, PackageRef};
use systembruker_domain::delegation::{ReasonCode, RightReason};
use systembruker_storage::StoredPackageDelegation;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::AppState;
use crate::auth::{EndUserScope, Scoped};
use crate::problem::{ApiError, ApiResult};
use systembruker_app::resources::{AttributeMatch, PolicyRight};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_delegations, add_delegation, remove_delegation))
        .routes(routes!(package_delegation_check))
        .routes(routes!(resource_delegation_check))
}

/// Query parameters as (name, value) pairs, so repeated names (`packages=a&packages=b`)
/// survive and each problem can name the parameter.
pub(crate) type Params = Vec<(String, String)>;

pub(crate) fn param<'p>(params: &'p Params, name: &str) -> Option<&'p str> {
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

/// A parameter as the use cases take it.
pub(crate) fn arg(params: &Params, name: &'static str) -> Param {
    Param::new(name, param(params, name))
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
    let query = ListQuery {
        party: arg(&params, "party"),
        from: arg(&params, "from"),
        to: arg(&params, "to"),
        package: arg(&params, "package"),
    };
    let stored = delegations::list(&state.app, &caller, &query).await?;
    let dtos = stored
        .into_iter()
        .map(|d| PackageDelegationDto::new(&state, d))
        .collect::<ApiResult<_>>()?;
    Ok(axum::Json(dtos))
}

/// The delegation a POST or DELETE names: from (default: the party) → to, package.
fn delegation_args(params: &Params) -> DelegationArgs {
    DelegationArgs {
        party: arg(params, "party"),
        from: arg(params, "from"),
        to: arg(params, "to"),
        package: arg(params, "package"),
    }
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
    let args = delegation_args(&params);
    let can_pass_on = arg(&params, "canDelegate");
    let (created, stored) = delegations::add(&state.app, &caller, &args, &can_pass_on).await?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((
        status,
        axum::Json(PackageDelegationDto::new(&state, stored)?),
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
    delegations::remove(&state.app, &caller, &delegation_args(&params)).await?;
    Ok(StatusCode::NO_CONTENT)
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
    let wanted: Vec<String> = params
        .iter()
        .filter(|(key, _)| {
            key.eq_ignore_ascii_case("packages") || key.eq_ignore_ascii_case("package")
        })
        .flat_map(|(_, value)| value.split(','))
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_string)
        .collect();
    let party = arg(&params, "party");
    let checks = delegations::package_checks(&state.app, &caller, &party, &wanted).await?;
    Ok(axum::Json(checks))
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
    let party = arg(&params, "party");
    let checks = delegations::resource_check(&state.app, &caller, &party, &resource_id).await?;
    let rights = checks
        .into_iter()
        .map(|(right, reasons)| right_check(&right, reasons))
        .collect();
    Ok(axum::Json(ResourceCheck {
        resource: resource_id,
        rights,
    }))
}

fn right_check(right: &PolicyRight, reasons: Vec<RightReason>) -> RightCheck {
    let result = reasons.iter().any(|r| r.code.grants());
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
