//! System users (docs/rules.md#system-users, #maskinporten-lookup): the owner's list,
//! detail and delete,
//! end-user-driven creation, the vendor lookups and Maskinporten's `byExternalId`.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use systembruker_domain::OrgNumber;
use systembruker_domain::system::{AccessPackageRef, Right};
use systembruker_domain::systemuser::{SystemUserType, check_packages};
use systembruker_storage::{Approval, NewSystemUser, StoredSystemUser, SystemUserKey};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::access::{Need, access_manager, delegation_check, require};
use super::requests::{PageQuery, own_system};
use super::systemregister::live_system;
use super::{
    Page, actor, auth_problem, org_of, page, page_token, parse_id, problem, resolve_org_party,
    timestamp, vendor_of,
};
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
}

/// `GET …/{id}/delegations`: what the system user holds now.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DelegationsDto {
    pub system_user_id: Uuid,
    pub rights: Vec<Right>,
    pub access_packages: Vec<AccessPackageRef>,
}

/// The live grants as the reference's rights and package URNs.
async fn live_delegations(state: &AppState, user: &StoredSystemUser) -> ApiResult<DelegationsDto> {
    let grants = state.store.system_user_grants(user.id).await?;
    let mut resources: Vec<&str> = grants
        .rights
        .iter()
        .map(|r| r.resource_id.as_str())
        .collect();
    resources.dedup();
    let mut packages: Vec<AccessPackageRef> = grants
        .packages
        .iter()
        .map(|code| AccessPackageRef::new(code))
        .collect();
    // Agent users keep their packages on the user; clients provide them.
    packages.extend(
        user.access_packages
            .iter()
            .map(|code| AccessPackageRef::new(code)),
    );
    Ok(DelegationsDto {
        system_user_id: user.id,
        rights: resources.into_iter().map(Right::on_resource).collect(),
        access_packages: packages,
    })
}

/// The party's own live system user, else AUTH-00015 (404) — also for another party's.
async fn owned_user(state: &AppState, party_org: &str, id: &str) -> ApiResult<StoredSystemUser> {
    let id = parse_id("systemUserId", id)?;
    state
        .store
        .system_user(id)
        .await?
        .filter(|u| !u.is_deleted && u.owner_org == party_org)
        .ok_or_else(|| {
            problem(
                15,
                format!("system user {id} does not exist for this party"),
            )
        })
}

/// The party, for a user the PDP lets read what `need` names (AUTH-00066 otherwise).
async fn readable_party(
    state: &AppState,
    caller: &Caller,
    party: &str,
    need: Need,
) -> ApiResult<systembruker_domain::party::Party> {
    let party = resolve_org_party(state, party).await?;
    require(state, caller, party.uuid, need).await?;
    Ok(party)
}

pub(crate) async fn list(
    state: &AppState,
    caller: &Caller,
    party: &str,
    kind: SystemUserType,
) -> ApiResult<axum::Json<Vec<SystemUserDto>>> {
    // The reference lists standard users to access managers ("AM read") and agent
    // users to whoever sees the overview, client administrators included.
    let need = match kind {
        SystemUserType::Standard => Need::ReadAccess,
        SystemUserType::Agent => Need::ReadOverview,
    };
    let party = readable_party(state, caller, party, need).await?;
    let users = state.store.system_users_of(&org_of(&party), kind).await?;
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
    Ok(axum::Json(detail(&state, &caller, &party, &id).await?))
}

/// One of the party's system users with what it holds now, for a user related to the party.
pub(crate) async fn detail(
    state: &AppState,
    caller: &Caller,
    party: &str,
    id: &str,
) -> ApiResult<SystemUserDto> {
    let party = readable_party(state, caller, party, Need::ReadOverview).await?;
    let user = owned_user(state, &org_of(&party), id).await?;
    let live = live_delegations(state, &user).await?;
    let mut dto = SystemUserDto::internal(user);
    dto.rights = Some(live.rights);
    dto.access_packages = Some(live.access_packages);
    Ok(dto)
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
    let party = readable_party(&state, &caller, &party, Need::ReadOverview).await?;
    let user = owned_user(&state, &org_of(&party), &id).await?;
    Ok(axum::Json(live_delegations(&state, &user).await?))
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
pub(crate) async fn delete_for_party(
    state: &AppState,
    caller: &Caller,
    party: &str,
    id: &str,
) -> ApiResult<()> {
    let party = resolve_org_party(state, party).await?;
    access_manager(state, caller, party.uuid).await?;
    let id = parse_id("systemUserId", id)?;
    let user = state
        .store
        .system_user(id)
        .await?
        .filter(|u| !u.is_deleted)
        .ok_or_else(|| problem(15, format!("system user {id} does not exist")))?;
    if user.owner_org != org_of(&party) {
        return Err(problem(
            24,
            format!("system user {id} does not belong to party {}", party.id),
        ));
    }
    if user.user_type != SystemUserType::Standard {
        return Err(problem(
            36,
            "agent system users are deleted through the agent routes",
        ));
    }
    if !state.store.delete_system_user(id, &actor(caller)).await? {
        return Err(problem(15, format!("system user {id} does not exist")));
    }
    Ok(())
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
pub(crate) async fn create_for_party(
    state: &AppState,
    caller: &Caller,
    party: &str,
    body: CreateSystemUserBody,
) -> ApiResult<SystemUserDto> {
    let party = resolve_org_party(state, party).await?;
    let standing = access_manager(state, caller, party.uuid).await?;
    let system = live_system(state, body.system_id.trim()).await?.system;
    let org = org_of(&party);
    let key = SystemUserKey {
        system_id: system.id.clone(),
        org: org.clone(),
        external_ref: org,
    };
    if state.store.system_user_by_key(&key).await?.is_some() {
        return Err(problem(
            4,
            "a system user exists for this system and organisation",
        ));
    }
    // Everything the system offers is delegated, after the same checks as an approval.
    let codes = check_packages(
        &system.access_packages,
        &system,
        SystemUserType::Standard,
        state.catalogue,
    )
    .map_err(auth_problem)?;
    let resources: Vec<String> = system
        .rights
        .iter()
        .filter_map(|r| r.resource_id().map(str::to_string))
        .collect();
    let grants = delegation_check(state, &standing, &resources, &codes).await?;
    let user = NewSystemUser {
        id: Uuid::new_v4(),
        key,
        owner_party_uuid: party.uuid,
        integration_title: body
            .integration_title
            .map(|t| t.trim().to_string())
            .filter(|t| !t.is_empty())
            .unwrap_or_else(|| system.name_nb().to_string()),
        user_type: SystemUserType::Standard,
        access_packages: Vec::new(),
    };
    match state
        .store
        .create_system_user(&user, &grants, &actor(caller))
        .await?
    {
        Approval::Approved(stored) => Ok(SystemUserDto::internal(*stored)),
        Approval::KeyTaken | Approval::NotNew => Err(problem(
            4,
            "a system user exists for this system and organisation",
        )),
    }
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
        .filter(|r| !r.is_empty())
        .unwrap_or(owner.as_str())
        .to_string();
    let user = state
        .store
        .system_user_for_client(client_id, vendor.as_str(), owner.as_str(), &external_ref)
        .await?
        .ok_or_else(|| {
            problem(
                15,
                "no system user matches this client, vendor, owner and external reference",
            )
        })?;
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
    let vendor = vendor_of(&caller)?;
    let system_id = query
        .system_id
        .filter(|s| !s.trim().is_empty())
        .ok_or_else(|| {
            ApiError::invalid_field("STD-00010", "system-id", "system-id is required")
        })?;
    let org = required_org("orgno", query.orgno.as_deref())?;
    own_system(&state, &vendor, &system_id).await?;
    let key = SystemUserKey {
        system_id,
        org: org.to_string(),
        external_ref: query
            .external_ref
            .filter(|r| !r.trim().is_empty())
            .unwrap_or_else(|| org.to_string()),
    };
    let user = state.store.system_user_by_key(&key).await?.ok_or_else(|| {
        problem(
            15,
            "no system user matches this system, organisation and external reference",
        )
    })?;
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
    let vendor = vendor_of(&caller)?;
    own_system(&state, &vendor, &system_id).await?;
    let after = page_token(query.token.as_deref())?;
    let rows = state
        .store
        .system_users_by_system(&system_id, after, super::PAGE_SIZE + 1)
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
