//! Access management for people over the API, in the reference's `enduser/connections`
//! and `enduser/request` style (docs/rules.md#access-management-for-people): who has
//! access to a party and what they hold, finding a person by national id number and
//! last name, single rights of a resource given and revoked, and asks for access. The
//! use cases are `systembruker_app::people_access` and `::access_asks`.
//!
//! Every route needs an end-user token (scope `altinn:portal/enduser` and a `pid`).

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use systembruker_app::access_asks::{self, AskArgs};
use systembruker_app::people_access::{self, Connection, RightArgs};
use systembruker_domain::catalogue::PackageRef;
use systembruker_domain::party::{Party, PartyType};
use systembruker_storage::{AccessAsk, AskStatus, AskedThing, ResourceRight};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::AppState;
use crate::auth::{EndUserScope, Scoped};
use crate::connections::{Params, arg, param};
use crate::extract::Json;
use crate::problem::{ApiError, ApiResult};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_connections))
        .routes(routes!(find_person))
        .routes(routes!(list_rights, add_right, remove_right))
        .routes(routes!(send_ask))
        .routes(routes!(sent_asks))
        .routes(routes!(received_asks))
        .routes(routes!(answer_ask))
}

/// A party at the other end of a connection. A person's national id number is never
/// shown.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PartyDto {
    pub uuid: Uuid,
    pub name: String,
    #[serde(rename = "type")]
    pub party_type: PartyType,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub organization_number: Option<String>,
}

impl From<&Party> for PartyDto {
    fn from(party: &Party) -> Self {
        Self {
            uuid: party.uuid,
            name: party.name.clone(),
            party_type: party.party_type(),
            organization_number: party.org_number().map(|o| o.as_str().to_string()),
        }
    }
}

/// A single right: one action on one resource.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RightDto {
    pub from: Uuid,
    pub to: Uuid,
    pub resource: String,
    pub action: String,
    /// `<resource>:<action>`, the reference's right key.
    pub right_key: String,
    pub created_at: i64,
    pub created_by: String,
}

impl From<ResourceRight> for RightDto {
    fn from(r: ResourceRight) -> Self {
        Self {
            right_key: format!("{}:{}", r.resource_id, r.action),
            from: r.from,
            to: r.to,
            resource: r.resource_id,
            action: r.action,
            created_at: r.created_at,
            created_by: r.created_by,
        }
    }
}

/// One party connected to the acting party and what passes between them.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ConnectionDto {
    pub party: PartyDto,
    /// Roles from the register (read-only), by catalogue code.
    pub roles: Vec<String>,
    pub packages: Vec<PackageRef>,
    pub rights: Vec<RightDto>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ConnectionsDto {
    /// Parties with access to the acting party: its register roles, packages and single
    /// rights it gave.
    pub given: Vec<ConnectionDto>,
    /// Parties the acting party received access from.
    pub received: Vec<ConnectionDto>,
}

fn connection_dto(state: &AppState, c: Connection) -> ApiResult<ConnectionDto> {
    let packages = c
        .packages
        .iter()
        .map(|d| {
            state
                .catalogue
                .package(&d.package_code)
                .map(|p| PackageRef::new(state.catalogue, p))
                .map_err(|e| ApiError::internal(e.to_string()))
        })
        .collect::<ApiResult<_>>()?;
    Ok(ConnectionDto {
        party: PartyDto::from(&c.party),
        roles: c.roles,
        packages,
        rights: c.rights.into_iter().map(RightDto::from).collect(),
    })
}

#[utoipa::path(get, path = "/accessmanagement/api/v1/enduser/connections",
    tag = "accessmanagement",
    params(("party" = String, Query, description = "The party acted for: uuid, org number or person number")),
    security(("bearer" = ["altinn:portal/enduser"])),
    responses((status = 200, body = ConnectionsDto), (status = 400, body = crate::problem::ProblemBody),
        (status = 403, body = crate::problem::ProblemBody), (status = 404, body = crate::problem::ProblemBody)))]
async fn list_connections(
    State(state): State<AppState>,
    caller: Scoped<EndUserScope>,
    Query(params): Query<Params>,
) -> ApiResult<axum::Json<ConnectionsDto>> {
    let found = people_access::connections(&state.app, &caller, &arg(&params, "party")).await?;
    let convert = |list: Vec<Connection>| {
        list.into_iter()
            .map(|c| connection_dto(&state, c))
            .collect::<ApiResult<Vec<_>>>()
    };
    Ok(axum::Json(ConnectionsDto {
        given: convert(found.given)?,
        received: convert(found.received)?,
    }))
}

/// Who to find: both the national id number and the last name must match.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PersonLookup {
    pub person_identifier: String,
    pub last_name: String,
}

#[utoipa::path(post, path = "/accessmanagement/api/v1/enduser/connections/persons/lookup",
    tag = "accessmanagement",
    params(("party" = String, Query, description = "The party acted for (you manage its access)")),
    request_body = PersonLookup,
    security(("bearer" = ["altinn:portal/enduser"])),
    responses((status = 200, body = PartyDto), (status = 400, body = crate::problem::ProblemBody),
        (status = 403, body = crate::problem::ProblemBody),
        (status = 404, body = crate::problem::ProblemBody, description = "No person with that number and last name (the same answer for either mismatch)")))]
async fn find_person(
    State(state): State<AppState>,
    caller: Scoped<EndUserScope>,
    Query(params): Query<Params>,
    Json(body): Json<PersonLookup>,
) -> ApiResult<axum::Json<PartyDto>> {
    let person = people_access::find_person(
        &state.app,
        &caller,
        &arg(&params, "party"),
        &body.person_identifier,
        &body.last_name,
    )
    .await?;
    Ok(axum::Json(PartyDto::from(&person)))
}

fn right_args(params: &Params) -> RightArgs {
    RightArgs {
        party: arg(params, "party"),
        to: arg(params, "to"),
        resource: arg(params, "resource"),
        action: arg(params, "action"),
    }
}

#[utoipa::path(get, path = "/accessmanagement/api/v1/enduser/connections/resources/rights",
    tag = "accessmanagement",
    params(("party" = String, Query, description = "The giver (you act for it)"),
        ("to" = Option<String>, Query, description = "Only rights given to this party (uuid or org number)")),
    security(("bearer" = ["altinn:portal/enduser"])),
    responses((status = 200, body = Vec<RightDto>), (status = 400, body = crate::problem::ProblemBody),
        (status = 403, body = crate::problem::ProblemBody)))]
async fn list_rights(
    State(state): State<AppState>,
    caller: Scoped<EndUserScope>,
    Query(params): Query<Params>,
) -> ApiResult<axum::Json<Vec<RightDto>>> {
    let rights = people_access::rights_given(
        &state.app,
        &caller,
        &arg(&params, "party"),
        &arg(&params, "to"),
    )
    .await?;
    Ok(axum::Json(rights.into_iter().map(RightDto::from).collect()))
}

#[utoipa::path(post, path = "/accessmanagement/api/v1/enduser/connections/resources/rights",
    tag = "accessmanagement",
    params(("party" = String, Query, description = "The giver (you manage its access)"),
        ("to" = String, Query, description = "The receiver: party uuid, or an org number (a person by uuid only)"),
        ("resource" = String, Query, description = "Resource identifier"),
        ("action" = String, Query, description = "An action of the resource's policy, e.g. read")),
    security(("bearer" = ["altinn:portal/enduser"])),
    responses((status = 201, body = RightDto), (status = 200, body = RightDto, description = "It existed already"),
        (status = 400, body = crate::problem::ProblemBody), (status = 403, body = crate::problem::ProblemBody),
        (status = 404, body = crate::problem::ProblemBody)))]
async fn add_right(
    State(state): State<AppState>,
    caller: Scoped<EndUserScope>,
    Query(params): Query<Params>,
) -> ApiResult<(StatusCode, axum::Json<RightDto>)> {
    let (created, right) =
        people_access::add_right(&state.app, &caller, &right_args(&params)).await?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, axum::Json(RightDto::from(right))))
}

#[utoipa::path(delete, path = "/accessmanagement/api/v1/enduser/connections/resources/rights",
    tag = "accessmanagement",
    params(("party" = String, Query, description = "The giver (you manage its access)"),
        ("to" = String, Query), ("resource" = String, Query), ("action" = String, Query)),
    security(("bearer" = ["altinn:portal/enduser"])),
    responses((status = 204), (status = 400, body = crate::problem::ProblemBody),
        (status = 403, body = crate::problem::ProblemBody), (status = 404, body = crate::problem::ProblemBody)))]
async fn remove_right(
    State(state): State<AppState>,
    caller: Scoped<EndUserScope>,
    Query(params): Query<Params>,
) -> ApiResult<StatusCode> {
    people_access::remove_right(&state.app, &caller, &right_args(&params)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// One right asked for.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct AskedRight {
    pub resource: String,
    pub action: String,
}

/// What a person asks for.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct AskBody {
    /// Package URNs or codes.
    #[serde(default)]
    pub packages: Vec<String>,
    #[serde(default)]
    pub rights: Vec<AskedRight>,
}

/// One thing asked for.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase", tag = "type")]
pub enum AskedDto {
    Package { package: PackageRef },
    Right { resource: String, action: String },
}

/// An ask for access and its answer.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AskDto {
    pub id: Uuid,
    /// The asking person's party uuid.
    pub from: Uuid,
    /// The party asked.
    pub to: Uuid,
    pub asked: Vec<AskedDto>,
    /// `pending`, `granted` or `declined`.
    pub status: String,
    pub created_at: i64,
    pub answered_by: Option<String>,
    pub answered_at: Option<i64>,
}

fn ask_dto(state: &AppState, ask: AccessAsk) -> ApiResult<AskDto> {
    let asked = ask
        .things
        .into_iter()
        .map(|thing| match thing {
            AskedThing::Package { code } => state
                .catalogue
                .package(&code)
                .map(|p| AskedDto::Package {
                    package: PackageRef::new(state.catalogue, p),
                })
                .map_err(|e| ApiError::internal(e.to_string())),
            AskedThing::Right {
                resource_id,
                action,
            } => Ok(AskedDto::Right {
                resource: resource_id,
                action,
            }),
        })
        .collect::<ApiResult<_>>()?;
    Ok(AskDto {
        id: ask.id,
        from: ask.person,
        to: ask.party,
        asked,
        status: ask.status.as_str().to_string(),
        created_at: ask.created_at,
        answered_by: ask.answered_by,
        answered_at: ask.answered_at,
    })
}

fn ask_dtos(state: &AppState, asks: Vec<AccessAsk>) -> ApiResult<Vec<AskDto>> {
    asks.into_iter().map(|a| ask_dto(state, a)).collect()
}

#[utoipa::path(post, path = "/accessmanagement/api/v1/enduser/request",
    tag = "accessmanagement",
    params(("party" = String, Query, description = "The party asked (uuid or org number)")),
    request_body = AskBody,
    security(("bearer" = ["altinn:portal/enduser"])),
    responses((status = 201, body = AskDto), (status = 400, body = crate::problem::ProblemBody),
        (status = 403, body = crate::problem::ProblemBody), (status = 404, body = crate::problem::ProblemBody),
        (status = 409, body = crate::problem::ProblemBody, description = "Something asked is pending already")))]
async fn send_ask(
    State(state): State<AppState>,
    caller: Scoped<EndUserScope>,
    Query(params): Query<Params>,
    Json(body): Json<AskBody>,
) -> ApiResult<(StatusCode, axum::Json<AskDto>)> {
    let args = AskArgs {
        party: arg(&params, "party"),
        packages: body.packages,
        rights: body
            .rights
            .into_iter()
            .map(|r| (r.resource, r.action))
            .collect(),
    };
    let ask = access_asks::ask(&state.app, &caller, &args).await?;
    Ok((StatusCode::CREATED, axum::Json(ask_dto(&state, ask)?)))
}

#[utoipa::path(get, path = "/accessmanagement/api/v1/enduser/request/sent",
    tag = "accessmanagement",
    security(("bearer" = ["altinn:portal/enduser"])),
    responses((status = 200, body = Vec<AskDto>), (status = 403, body = crate::problem::ProblemBody)))]
async fn sent_asks(
    State(state): State<AppState>,
    caller: Scoped<EndUserScope>,
) -> ApiResult<axum::Json<Vec<AskDto>>> {
    let asks = access_asks::sent(&state.app, &caller).await?;
    Ok(axum::Json(ask_dtos(&state, asks)?))
}

fn status_arg(params: &Params) -> ApiResult<Option<AskStatus>> {
    match param(params, "status")
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        None => Ok(None),
        Some("pending") => Ok(Some(AskStatus::Pending)),
        Some("granted") => Ok(Some(AskStatus::Granted)),
        Some("declined") => Ok(Some(AskStatus::Declined)),
        Some(other) => Err(ApiError::invalid_field(
            "STD-00010",
            "status",
            format!("status is pending, granted or declined; got {other:?}"),
        )),
    }
}

#[utoipa::path(get, path = "/accessmanagement/api/v1/enduser/request/received",
    tag = "accessmanagement",
    params(("party" = String, Query, description = "The party asked (you read its access)"),
        ("status" = Option<String>, Query, description = "pending, granted or declined")),
    security(("bearer" = ["altinn:portal/enduser"])),
    responses((status = 200, body = Vec<AskDto>), (status = 400, body = crate::problem::ProblemBody),
        (status = 403, body = crate::problem::ProblemBody)))]
async fn received_asks(
    State(state): State<AppState>,
    caller: Scoped<EndUserScope>,
    Query(params): Query<Params>,
) -> ApiResult<axum::Json<Vec<AskDto>>> {
    let status = status_arg(&params)?;
    let asks = access_asks::received(&state.app, &caller, &arg(&params, "party"), status).await?;
    Ok(axum::Json(ask_dtos(&state, asks)?))
}

#[utoipa::path(post, path = "/accessmanagement/api/v1/enduser/request/{id}/{answer}",
    tag = "accessmanagement",
    params(("id" = Uuid, Path), ("answer" = String, Path, description = "approve (gives everything asked) or reject"),
        ("party" = String, Query, description = "The party asked (you manage its access)")),
    security(("bearer" = ["altinn:portal/enduser"])),
    responses((status = 200, body = AskDto), (status = 400, body = crate::problem::ProblemBody),
        (status = 403, body = crate::problem::ProblemBody), (status = 404, body = crate::problem::ProblemBody),
        (status = 409, body = crate::problem::ProblemBody, description = "Answered already")))]
async fn answer_ask(
    State(state): State<AppState>,
    caller: Scoped<EndUserScope>,
    Path((id, answer)): Path<(String, String)>,
    Query(params): Query<Params>,
) -> ApiResult<axum::Json<AskDto>> {
    let id = Uuid::parse_str(&id)
        .map_err(|_| ApiError::invalid_field("STD-00010", "id", "the ask id is a uuid"))?;
    let party = arg(&params, "party");
    let ask = match answer.as_str() {
        "approve" => access_asks::grant(&state.app, &caller, &party, id).await?,
        "reject" => access_asks::decline(&state.app, &caller, &party, id).await?,
        _ => {
            return Err(ApiError::not_found("answer an ask with approve or reject"));
        }
    };
    Ok(axum::Json(ask_dto(&state, ask)?))
}
