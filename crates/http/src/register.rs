//! Register API: parties and ER roles (read API and operator API).

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use serde::{Deserialize, Serialize};
use systembruker_app::register;
use systembruker_domain::catalogue::Role;
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

fn parse_org(path: &str, value: &str) -> ApiResult<OrgNumber> {
    OrgNumber::parse(value).map_err(|e| ApiError::invalid_id(path, &e))
}

/// Parses the org number in `path` and finds the organisation.
async fn find_org(state: &AppState, path: &str, value: &str) -> ApiResult<Party> {
    let org = parse_org(path, value)?;
    Ok(register::organization(&state.app, &org).await?)
}

/// Parses the org number or person number in `path` and finds the party.
async fn find_party(state: &AppState, path: &str, value: &str) -> ApiResult<Party> {
    let id = PartyIdentifier::parse(value).map_err(|e| ApiError::invalid_id(path, &e))?;
    Ok(register::party(&state.app, &id).await?)
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
    let party = register::person(&state.app, &pid).await?;
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
    let party = register::party_by_uuid(&state.app, uuid).await?;
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
    let holders = register::role_holders(&state.app, &org).await?;
    Ok(axum::Json(
        holders
            .into_iter()
            .map(|h| RoleHolderDto {
                role_urn: h.role.map(|r| r.urn.clone()).unwrap_or_default(),
                legacy_code: h
                    .role
                    .and_then(|r| r.legacy_code.as_ref().map(|c| c.to_uppercase())),
                role: h.role_code,
                holder: PartyDto::new(&h.holder, caller.is_admin()),
            })
            .collect(),
    ))
}

#[utoipa::path(post, path = "/admin/api/v1/register/parties", tag = "admin",
    request_body(content = Vec<import::schema::PartyImportRowSchema>, description = "JSON array, or text/csv with the columns of test-parties.csv"),
    security(("bearer" = ["systembruker:admin"])),
    responses((status = 200, body = import::schema::ImportResponseSchema), (status = 400, body = import::schema::ImportResponseSchema), (status = 409, body = crate::problem::ProblemBody)))]
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

/// Reads the change in the order its fields are checked: the role, the organisation,
/// the holder.
async fn resolve_role_change(
    state: &AppState,
    req: &RoleChangeRequest,
) -> ApiResult<register::RoleChange> {
    let role = register::er_role(state.catalogue, "/role", &req.role)?;
    let from = find_org(state, "/from", &req.from).await?;
    let to = find_party(state, "/to", &req.to).await?;
    Ok(register::RoleChange::new(from, to, role)?)
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
    let change = resolve_role_change(&state, &req).await?;
    let added = register::add_role(&state.app, &caller, &change).await?;
    let status = if added {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, role_change_response(req, change.role, added)))
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
    let change = resolve_role_change(&state, &req).await?;
    register::remove_role(&state.app, &caller, &change).await?;
    Ok(role_change_response(req, change.role, true))
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
    let changes = register::role_changes(&state.app, q.after, q.limit).await?;
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
