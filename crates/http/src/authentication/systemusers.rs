//! System users (docs/rules.md#system-users), as HTTP routes over `app::systemusers`: the
//! owner's list, detail and delete, end-user-driven creation, the vendor lookups and
//! Maskinporten's `byExternalId`.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use systembruker_app as app;
use systembruker_app::systemusers::Holdings;
use systembruker_domain::OrgNumber;
use systembruker_domain::system::{AccessPackageRef, Right};
use systembruker_domain::systemuser::SystemUserType;
use systembruker_storage::StoredSystemUser;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::requests::PageQuery;
use super::{Page, page, page_token, parse_id, party_key, timestamp};
use crate::AppState;
use crate::auth::{Caller, EndUserScope, Scoped, SystemUserLookup, VendorSystemUserRead};
use crate::extract::Json;
use crate::problem::{ApiError, ApiResult};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_standard))
        .routes(routes!(list_agent))
        .routes(routes!(get_system_user, delete_system_user))
        .routes(routes!(delegations))
        .routes(routes!(create_system_user))
        .routes(routes!(by_external_id))
        .routes(routes!(vendor_by_query))
        .routes(routes!(vendor_by_system))
}

/// A system user (`SystemUserInternalDTO`; the external projection leaves out the
/// optional fields). Detail views add the live `rights` and `accessPackages`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SystemUserDto {
    pub id: Uuid,
    pub integration_title: String,
    pub system_id: String,
    pub product_name: String,
    pub reportee_org_no: String,
    pub created: String,
    pub is_deleted: bool,
    pub supplier_name: String,
    pub supplier_orgno: String,
    pub external_ref: String,
    pub user_type: SystemUserType,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub party_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub party_uuid: Option<Uuid>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rights: Option<Vec<Right>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_packages: Option<Vec<AccessPackageRef>>,
}

impl SystemUserDto {
    /// The external projection (what vendors and Maskinporten see).
    pub(crate) fn external(user: StoredSystemUser) -> Self {
        Self {
            id: user.id,
            integration_title: user.integration_title,
            product_name: user.system_id.clone(),
            system_id: user.system_id,
            reportee_org_no: user.owner_org,
            created: timestamp(user.created_at),
            is_deleted: user.is_deleted,
            supplier_name: String::new(),
            supplier_orgno: user.vendor_org,
            external_ref: user.external_ref,
            user_type: user.user_type,
            party_id: None,
            party_uuid: None,
            rights: None,
            access_packages: None,
        }
    }

    /// The owner's view, with the party.
    fn internal(user: StoredSystemUser) -> Self {
        let party_id = user.owner_party_id.to_string();
        let party_uuid = user.owner_party_uuid;
        Self {
            party_id: Some(party_id),
            party_uuid: Some(party_uuid),
            ..Self::external(user)
        }
    }

    /// The owner's view with what the system user holds now.
    pub(crate) fn detailed(user: StoredSystemUser, holdings: Holdings) -> Self {
        Self {
            rights: Some(holdings.rights),
            access_packages: Some(holdings.access_packages),
            ..Self::internal(user)
        }
    }
}

/// `GET …/{id}/delegations`: what the system user holds now.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DelegationsDto {
    pub system_user_id: Uuid,
    pub rights: Vec<Right>,
    pub access_packages: Vec<AccessPackageRef>,
}

impl DelegationsDto {
    fn new(system_user_id: Uuid, holdings: Holdings) -> Self {
        Self {
            system_user_id,
            rights: holdings.rights,
            access_packages: holdings.access_packages,
        }
    }
}

async fn list(
    state: &AppState,
    caller: &Caller,
    party: &str,
    kind: SystemUserType,
) -> ApiResult<axum::Json<Vec<SystemUserDto>>> {
    let party = party_key(party)?;
    let users = app::systemusers::list(&state.app, caller, party, kind).await?;
    Ok(axum::Json(
        users.into_iter().map(SystemUserDto::internal).collect(),
    ))
}

#[utoipa::path(get, path = "/authentication/api/v1/systemuser/{party}", tag = "systemuser",
    params(("party" = String, Path, description = "Party id (or party uuid)")), security(("bearer" = ["altinn:portal/enduser"])),
    responses((status = 200, body = Vec<SystemUserDto>), (status = 403, body = crate::problem::ProblemBody)))]
async fn list_standard(
    State(state): State<AppState>,
    caller: Scoped<EndUserScope>,
    Path(party): Path<String>,
) -> ApiResult<axum::Json<Vec<SystemUserDto>>> {
    list(&state, &caller, &party, SystemUserType::Standard).await
}

#[utoipa::path(get, path = "/authentication/api/v1/systemuser/agent/{party}", tag = "systemuser",
    params(("party" = String, Path)), security(("bearer" = ["altinn:portal/enduser"])),
    responses((status = 200, body = Vec<SystemUserDto>), (status = 403, body = crate::problem::ProblemBody)))]
async fn list_agent(
    State(state): State<AppState>,
    caller: Scoped<EndUserScope>,
    Path(party): Path<String>,
) -> ApiResult<axum::Json<Vec<SystemUserDto>>> {
    list(&state, &caller, &party, SystemUserType::Agent).await
}

#[utoipa::path(get, path = "/authentication/api/v1/systemuser/{party}/{systemUserId}", tag = "systemuser",
    params(("party" = String, Path), ("systemUserId" = String, Path)), security(("bearer" = ["altinn:portal/enduser"])),
    responses((status = 200, body = SystemUserDto), (status = 403, body = crate::problem::ProblemBody),
        (status = 404, body = crate::problem::ProblemBody)))]
async fn get_system_user(
    State(state): State<AppState>,
    caller: Scoped<EndUserScope>,
    Path((party, id)): Path<(String, String)>,
) -> ApiResult<axum::Json<SystemUserDto>> {
    let (user, holdings) = detail_of(&state, &caller, &party, &id).await?;
    Ok(axum::Json(SystemUserDto::detailed(user, holdings)))
}

async fn detail_of(
    state: &AppState,
    caller: &Caller,
    party: &str,
    id: &str,
) -> ApiResult<(StoredSystemUser, Holdings)> {
    let party = party_key(party)?;
    let id = parse_id("systemUserId", id)?;
    Ok(app::systemusers::detail(&state.app, caller, party, id).await?)
}

#[utoipa::path(get, path = "/authentication/api/v1/systemuser/{party}/{systemUserId}/delegations", tag = "systemuser",
    params(("party" = String, Path), ("systemUserId" = String, Path)), security(("bearer" = ["altinn:portal/enduser"])),
    responses((status = 200, body = DelegationsDto), (status = 403, body = crate::problem::ProblemBody),
        (status = 404, body = crate::problem::ProblemBody)))]
async fn delegations(
    State(state): State<AppState>,
    caller: Scoped<EndUserScope>,
    Path((party, id)): Path<(String, String)>,
) -> ApiResult<axum::Json<DelegationsDto>> {
    let (user, holdings) = detail_of(&state, &caller, &party, &id).await?;
    Ok(axum::Json(DelegationsDto::new(user.id, holdings)))
}

#[utoipa::path(delete, path = "/authentication/api/v1/systemuser/{party}/{systemUserId}", tag = "systemuser",
    params(("party" = String, Path), ("systemUserId" = String, Path)), security(("bearer" = ["altinn:portal/enduser"])),
    responses((status = 202, body = i32), (status = 400, body = crate::problem::ProblemBody),
        (status = 403, body = crate::problem::ProblemBody), (status = 404, body = crate::problem::ProblemBody)))]
async fn delete_system_user(
    State(state): State<AppState>,
    caller: Scoped<EndUserScope>,
    Path((party, id)): Path<(String, String)>,
) -> ApiResult<(StatusCode, axum::Json<i32>)> {
    delete_for_party(&state, &caller, &party, &id).await?;
    Ok((StatusCode::ACCEPTED, axum::Json(1)))
}

/// Deletes one of the party's standard system users; the caller must be access manager.
async fn delete_for_party(
    state: &AppState,
    caller: &Caller,
    party: &str,
    id: &str,
) -> ApiResult<()> {
    let party = party_key(party)?;
    let id = parse_id("systemUserId", id)?;
    Ok(app::systemusers::delete(&state.app, caller, party, id).await?)
}

/// `POST systemuser/{party}/create` (end-user-driven creation).
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreateSystemUserBody {
    #[serde(default)]
    pub integration_title: Option<String>,
    pub system_id: String,
}

#[utoipa::path(post, path = "/authentication/api/v1/systemuser/{party}/create", tag = "systemuser",
    params(("party" = String, Path)), request_body = CreateSystemUserBody, security(("bearer" = ["altinn:portal/enduser"])),
    responses((status = 200, body = SystemUserDto), (status = 400, body = crate::problem::ProblemBody),
        (status = 403, body = crate::problem::ProblemBody), (status = 404, body = crate::problem::ProblemBody)))]
async fn create_system_user(
    State(state): State<AppState>,
    caller: Scoped<EndUserScope>,
    Path(party): Path<String>,
    Json(body): Json<CreateSystemUserBody>,
) -> ApiResult<axum::Json<SystemUserDto>> {
    Ok(axum::Json(
        create_for_party(&state, &caller, &party, body).await?,
    ))
}

/// End-user-driven creation: every right and package of the system, after the
/// delegation check; the caller must be access manager for the party.
async fn create_for_party(
    state: &AppState,
    caller: &Caller,
    party: &str,
    body: CreateSystemUserBody,
) -> ApiResult<SystemUserDto> {
    let party = party_key(party)?;
    let user = app::systemusers::create(
        &state.app,
        caller,
        party,
        &body.system_id,
        body.integration_title,
    )
    .await?;
    Ok(SystemUserDto::internal(user))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ByExternalIdQuery {
    client_id: Option<String>,
    system_provider_org_no: Option<String>,
    system_user_owner_org_no: Option<String>,
    external_ref: Option<String>,
}

fn required_org(name: &str, value: Option<&str>) -> ApiResult<OrgNumber> {
    let value = value
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .ok_or_else(|| ApiError::invalid_field("STD-00010", name, format!("{name} is required")))?;
    OrgNumber::parse_iso6523(value).map_err(|e| ApiError::invalid_id(name, &e))
}

#[utoipa::path(get, path = "/authentication/api/v1/systemuser/byExternalId", tag = "systemuser",
    params(("clientId" = String, Query), ("systemProviderOrgNo" = String, Query), ("systemUserOwnerOrgNo" = String, Query),
        ("externalRef" = Option<String>, Query, description = "Defaults to the owner's org number")),
    security(("bearer" = ["altinn:maskinporten/systemuser.read"])),
    responses((status = 200, body = SystemUserDto), (status = 400, body = crate::problem::ProblemBody),
        (status = 404, body = crate::problem::ProblemBody)))]
async fn by_external_id(
    State(state): State<AppState>,
    _caller: Scoped<SystemUserLookup>,
    Query(query): Query<ByExternalIdQuery>,
) -> ApiResult<(
    [(axum::http::HeaderName, &'static str); 1],
    axum::Json<SystemUserDto>,
)> {
    let client_id = query
        .client_id
        .as_deref()
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .ok_or_else(|| ApiError::invalid_field("STD-00010", "clientId", "clientId is required"))?;
    let vendor = required_org(
        "systemProviderOrgNo",
        query.system_provider_org_no.as_deref(),
    )?;
    let owner = required_org(
        "systemUserOwnerOrgNo",
        query.system_user_owner_org_no.as_deref(),
    )?;
    let external_ref = query
        .external_ref
        .as_deref()
        .map(str::trim)
        .filter(|r| !r.is_empty());
    let user =
        app::systemusers::for_client(&state.app, client_id, &vendor, &owner, external_ref).await?;
    Ok((
        [(axum::http::header::CACHE_CONTROL, "no-store")],
        axum::Json(SystemUserDto::external(user)),
    ))
}

#[derive(Debug, Deserialize)]
struct ByQuery {
    #[serde(rename = "system-id")]
    system_id: Option<String>,
    orgno: Option<String>,
    #[serde(rename = "external-ref")]
    external_ref: Option<String>,
}

#[utoipa::path(get, path = "/authentication/api/v1/systemuser/vendor/byquery", tag = "systemuser",
    params(("system-id" = String, Query), ("orgno" = String, Query), ("external-ref" = Option<String>, Query)),
    security(("bearer" = ["altinn:authentication/systemuser.request.read"])),
    responses((status = 200, body = SystemUserDto), (status = 400, body = crate::problem::ProblemBody),
        (status = 404, body = crate::problem::ProblemBody)))]
async fn vendor_by_query(
    State(state): State<AppState>,
    caller: Scoped<VendorSystemUserRead>,
    Query(query): Query<ByQuery>,
) -> ApiResult<axum::Json<SystemUserDto>> {
    let system_id = query
        .system_id
        .filter(|s| !s.trim().is_empty())
        .ok_or_else(|| {
            ApiError::invalid_field("STD-00010", "system-id", "system-id is required")
        })?;
    let org = required_org("orgno", query.orgno.as_deref())?;
    let external_ref = query.external_ref.filter(|r| !r.trim().is_empty());
    let user = app::systemusers::by_key(&state.app, &caller, system_id, &org, external_ref).await?;
    Ok(axum::Json(SystemUserDto::external(user)))
}

#[utoipa::path(get, path = "/authentication/api/v1/systemuser/vendor/bysystem/{systemId}", tag = "systemuser",
    params(("systemId" = String, Path), ("token" = Option<String>, Query)),
    security(("bearer" = ["altinn:authentication/systemregister.write"])),
    responses((status = 200, body = Page<SystemUserDto>), (status = 404, body = crate::problem::ProblemBody)))]
async fn vendor_by_system(
    State(state): State<AppState>,
    caller: Scoped<VendorSystemUserRead>,
    Path(system_id): Path<String>,
    Query(query): Query<PageQuery>,
) -> ApiResult<axum::Json<Page<SystemUserDto>>> {
    let after = page_token(query.token.as_deref())?;
    let rows =
        app::systemusers::by_system(&state.app, &caller, &system_id, after, super::PAGE_SIZE + 1)
            .await?;
    let path = format!("systemuser/vendor/bysystem/{system_id}");
    Ok(axum::Json(page(
        &state,
        &path,
        rows,
        |u| u.id,
        SystemUserDto::external,
    )))
}
