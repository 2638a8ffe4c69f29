//! Register API: parties and ER roles (read API and operator API).

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use serde::{Deserialize, Serialize};
use systembruker_domain::catalogue::{Catalogue, Role};
use systembruker_domain::party::{Party, PartyKind};
use systembruker_domain::{OrgNumber, PartyIdentifier, PersonNumber};
use systembruker_storage::RoleChangeKind;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::AppState;
use crate::auth::{AdminScope, Authenticated, PersonRead, Scoped};
use crate::extract::{Body, Json};
use crate::problem::{ApiError, ApiResult};

pub mod import;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_organization))
        .routes(routes!(get_person))
        .routes(routes!(get_party))
        .routes(routes!(get_organization_roles))
        .routes(routes!(import_parties))
        .routes(routes!(add_role, remove_role))
        .routes(routes!(role_changes))
}

/// A party in the reference's JSON names.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct PartyDto {
    pub party_uuid: Uuid,
    pub party_id: i64,
    /// `organization` or `person`.
    pub party_type: String,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub organization_identifier: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub person_identifier: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unit_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unit_status: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub main_unit_party_uuid: Option<Uuid>,
}

impl PartyDto {
    /// `show_person_number`: person numbers are personal data, shown to operators only.
    pub fn new(party: &Party, show_person_number: bool) -> Self {
        let mut dto = Self {
            party_uuid: party.uuid,
            party_id: party.id,
            party_type: party.party_type().as_str().to_string(),
            name: party.name.clone(),
            organization_identifier: None,
            person_identifier: None,
            unit_type: None,
            unit_status: None,
            main_unit_party_uuid: None,
        };
        match &party.kind {
            PartyKind::Organization {
                org_number,
                unit_type,
                unit_status,
                main_unit,
            } => {
                dto.organization_identifier = Some(org_number.to_string());
                dto.unit_type = unit_type.clone();
                dto.unit_status = unit_status.clone();
                dto.main_unit_party_uuid = *main_unit;
            }
            PartyKind::Person { person_number } if show_person_number => {
                dto.person_identifier = Some(person_number.to_string());
            }
            PartyKind::Person { .. } => {}
        }
        dto
    }
}

pub(crate) fn parse_org(path: &str, value: &str) -> ApiResult<OrgNumber> {
    OrgNumber::parse(value).map_err(|e| ApiError::invalid_id(path, &e))
}

pub(crate) async fn find_org(state: &AppState, path: &str, value: &str) -> ApiResult<Party> {
    let org = parse_org(path, value)?;
    state
        .store
        .organization(&org)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("organisation {org} is not in the register")))
}

/// Finds a party by org number or person number.
pub(crate) async fn find_party(state: &AppState, path: &str, value: &str) -> ApiResult<Party> {
    let id = PartyIdentifier::parse(value).map_err(|e| ApiError::invalid_id(path, &e))?;
    let party = match id {
        PartyIdentifier::Org(org) => state.store.organization(&org).await?,
        PartyIdentifier::Person(pid) => state.store.person(&pid).await?,
    };
    party.ok_or_else(|| ApiError::not_found(format!("party {id} is not in the register")))
}

/// Looks up an ER role by code, URN or legacy code; other roles are refused.
pub(crate) fn er_role(state: &AppState, path: &str, key: &str) -> ApiResult<&'static Role> {
    let catalogue: &'static Catalogue = state.catalogue;
    let role = catalogue
        .role(key)
        .map_err(|e| ApiError::invalid_field("STD-00011", path, e.to_string()))?;
    if !role.is_er_role() {
        return Err(ApiError::invalid_field(
            "STD-00011",
            path,
            format!(
                "{key} is not a role of the Central Coordinating Register (ER); only ER roles can be registered here"
            ),
        ));
    }
    Ok(role)
}

#[utoipa::path(get, path = "/register/api/v1/organizations/{orgNo}", tag = "register",
    params(("orgNo" = String, Path, description = "Organisation number")),
    security(("bearer" = [])),
    responses((status = 200, body = PartyDto), (status = 400, body = crate::problem::ProblemBody), (status = 404, body = crate::problem::ProblemBody)))]
async fn get_organization(
    State(state): State<AppState>,
    _caller: Authenticated,
    Path(org_no): Path<String>,
) -> ApiResult<axum::Json<PartyDto>> {
    let party = find_org(&state, "orgNo", &org_no).await?;
    Ok(axum::Json(PartyDto::new(&party, false)))
}

#[utoipa::path(get, path = "/register/api/v1/persons/{pid}", tag = "register",
    params(("pid" = String, Path, description = "National identity number")),
    security(("bearer" = ["systembruker:admin"])),
    responses((status = 200, body = PartyDto), (status = 400, body = crate::problem::ProblemBody), (status = 404, body = crate::problem::ProblemBody)))]
async fn get_person(
    State(state): State<AppState>,
    _caller: Scoped<PersonRead>,
    Path(pid): Path<String>,
) -> ApiResult<axum::Json<PartyDto>> {
    let pid = PersonNumber::parse(&pid).map_err(|e| ApiError::invalid_id("pid", &e))?;
    let party = state
        .store
        .person(&pid)
        .await?
        .ok_or_else(|| ApiError::not_found("no person with that number is in the register"))?;
    Ok(axum::Json(PartyDto::new(&party, true)))
}

#[utoipa::path(get, path = "/register/api/v1/parties/{partyUuid}", tag = "register",
    params(("partyUuid" = Uuid, Path)),
    security(("bearer" = [])),
    responses((status = 200, body = PartyDto), (status = 400, body = crate::problem::ProblemBody), (status = 404, body = crate::problem::ProblemBody)))]
async fn get_party(
    State(state): State<AppState>,
    caller: Authenticated,
    Path(party_uuid): Path<String>,
) -> ApiResult<axum::Json<PartyDto>> {
    let uuid = Uuid::parse_str(&party_uuid).map_err(|_| {
        ApiError::invalid_field("STD-00010", "partyUuid", "partyUuid must be a UUID")
    })?;
    let party = state
        .store
        .party_by_uuid(uuid)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("party {uuid} is not in the register")))?;
    Ok(axum::Json(PartyDto::new(&party, caller.is_admin())))
}

/// A role held in an organisation.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RoleHolderDto {
    /// The role's code, e.g. `daglig-leder`.
    pub role: String,
    pub role_urn: String,
    /// The ER short code, e.g. `DAGL`.
    pub legacy_code: Option<String>,
    pub holder: PartyDto,
}

#[utoipa::path(get, path = "/register/api/v1/organizations/{orgNo}/roles", tag = "register",
    params(("orgNo" = String, Path)),
    security(("bearer" = [])),
    responses((status = 200, body = Vec<RoleHolderDto>), (status = 400, body = crate::problem::ProblemBody), (status = 404, body = crate::problem::ProblemBody)))]
async fn get_organization_roles(
    State(state): State<AppState>,
    caller: Authenticated,
    Path(org_no): Path<String>,
) -> ApiResult<axum::Json<Vec<RoleHolderDto>>> {
    let org = find_org(&state, "orgNo", &org_no).await?;
    let mut out = Vec::new();
    for assignment in state.store.roles_in(org.uuid).await? {
        let Some(holder) = state.store.party_by_uuid(assignment.to).await? else {
            continue;
        };
        let role = state.catalogue.role(&assignment.role_code).ok();
        out.push(RoleHolderDto {
            role: assignment.role_code.clone(),
            role_urn: role.map(|r| r.urn.clone()).unwrap_or_default(),
            legacy_code: role.and_then(|r| r.legacy_code.as_ref().map(|c| c.to_uppercase())),
            holder: PartyDto::new(&holder, caller.is_admin()),
        });
    }
    Ok(axum::Json(out))
}

#[utoipa::path(post, path = "/admin/api/v1/register/parties", tag = "admin",
    request_body(content = Vec<import::PartyImportRow>, description = "JSON array, or text/csv with the columns of test-parties.csv"),
    security(("bearer" = ["systembruker:admin"])),
    responses((status = 200, body = import::ImportResponse), (status = 400, body = import::ImportResponse), (status = 409, body = crate::problem::ProblemBody)))]
async fn import_parties(
    State(state): State<AppState>,
    _caller: Scoped<AdminScope>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<(StatusCode, axum::Json<import::ImportResponse>)> {
    let is_csv = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/csv"));
    let parsed = if is_csv {
        import::parse_csv(body.text()?)
    } else {
        import::parse_json(body.text()?)
    }?;
    let response = import::apply(state.store.as_ref(), parsed).await?;
    let status = if response.rejected.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::BAD_REQUEST
    };
    Ok((status, axum::Json(response)))
}

/// `{"from":"<orgNo>","to":"<orgNo or pid>","role":"REGN"}`
#[derive(Debug, Deserialize, Serialize, ToSchema)]
pub struct RoleChangeRequest {
    pub from: String,
    pub to: String,
    pub role: String,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RoleChangeResponse {
    pub from: String,
    pub to: String,
    pub role: String,
    pub role_urn: String,
    /// False when nothing changed (the role was already there, or already gone).
    pub changed: bool,
}

async fn resolve_role_change(
    state: &AppState,
    req: &RoleChangeRequest,
) -> ApiResult<(Party, Party, &'static Role)> {
    let role = er_role(state, "/role", &req.role)?;
    let from = find_org(state, "/from", &req.from).await?;
    let to = find_party(state, "/to", &req.to).await?;
    if from.uuid == to.uuid {
        return Err(ApiError::invalid_field(
            "STD-00012",
            "/to",
            "an organisation cannot hold a role in itself",
        ));
    }
    Ok((from, to, role))
}

fn role_change_response(
    req: RoleChangeRequest,
    role: &Role,
    changed: bool,
) -> axum::Json<RoleChangeResponse> {
    axum::Json(RoleChangeResponse {
        from: req.from.trim().to_string(),
        to: req.to.trim().to_string(),
        role: role.code.clone(),
        role_urn: role.urn.clone(),
        changed,
    })
}

#[utoipa::path(post, path = "/admin/api/v1/register/roles", tag = "admin",
    request_body = RoleChangeRequest,
    security(("bearer" = ["systembruker:admin"])),
    responses((status = 201, body = RoleChangeResponse), (status = 200, body = RoleChangeResponse, description = "Already registered"), (status = 400, body = crate::problem::ProblemBody), (status = 404, body = crate::problem::ProblemBody)))]
async fn add_role(
    State(state): State<AppState>,
    caller: Scoped<AdminScope>,
    Json(req): Json<RoleChangeRequest>,
) -> ApiResult<(StatusCode, axum::Json<RoleChangeResponse>)> {
    let (from, to, role) = resolve_role_change(&state, &req).await?;
    let added = state
        .store
        .add_role(from.uuid, to.uuid, &role.code, &caller.audit_name())
        .await?;
    let status = if added {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, role_change_response(req, role, added)))
}

#[utoipa::path(delete, path = "/admin/api/v1/register/roles", tag = "admin",
    request_body = RoleChangeRequest,
    security(("bearer" = ["systembruker:admin"])),
    responses((status = 200, body = RoleChangeResponse), (status = 400, body = crate::problem::ProblemBody), (status = 404, body = crate::problem::ProblemBody)))]
async fn remove_role(
    State(state): State<AppState>,
    caller: Scoped<AdminScope>,
    Json(req): Json<RoleChangeRequest>,
) -> ApiResult<axum::Json<RoleChangeResponse>> {
    let (from, to, role) = resolve_role_change(&state, &req).await?;
    let removed = state
        .store
        .remove_role(from.uuid, to.uuid, &role.code, &caller.audit_name())
        .await?;
    if !removed {
        return Err(ApiError::not_found(format!(
            "{} does not hold the role {} in {}",
            req.to.trim(),
            role.code,
            req.from.trim()
        )));
    }
    Ok(role_change_response(req, role, true))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct ChangesQuery {
    /// Return changes with a sequence number above this (default 0).
    pub after: Option<i64>,
    /// At most this many (default 100, at most 1000).
    pub limit: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RoleChangeEventDto {
    pub seq: i64,
    pub from_party_uuid: Uuid,
    pub to_party_uuid: Uuid,
    pub role: String,
    /// `added` or `removed`.
    pub change: String,
    pub changed_at: chrono::DateTime<chrono::Utc>,
    pub changed_by: Option<String>,
}

#[utoipa::path(get, path = "/admin/api/v1/register/rolechanges", tag = "admin",
    params(ChangesQuery),
    security(("bearer" = ["systembruker:admin"])),
    responses((status = 200, body = Vec<RoleChangeEventDto>)))]
async fn role_changes(
    State(state): State<AppState>,
    _caller: Scoped<AdminScope>,
    Query(q): Query<ChangesQuery>,
) -> ApiResult<axum::Json<Vec<RoleChangeEventDto>>> {
    let limit = q.limit.unwrap_or(100).clamp(1, 1000);
    let changes = state
        .store
        .role_changes_since(q.after.unwrap_or(0), limit)
        .await?;
    Ok(axum::Json(
        changes
            .into_iter()
            .map(|c| RoleChangeEventDto {
                seq: c.seq,
                from_party_uuid: c.from,
                to_party_uuid: c.to,
                role: c.role_code,
                change: match c.kind {
                    RoleChangeKind::Added => "added".into(),
                    RoleChangeKind::Removed => "removed".into(),
                },
                changed_at: chrono::DateTime::from_timestamp_millis(c.changed_at)
                    .unwrap_or_default(),
                changed_by: c.changed_by,
            })
            .collect(),
    ))
}
