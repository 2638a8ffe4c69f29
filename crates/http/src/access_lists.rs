//! Access lists of the resource registry, under the reference's paths
//! (`/resourceregistry/api/v1/access-lists/{owner}/…`) and in its JSON shapes. The rules
//! (who owns what, which parties may be members) are in `systembruker_app::access_lists`.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use systembruker_app::access_lists::{self, ListWith, PartyRef};
use systembruker_storage::{
    AccessList, AccessListConnection, AccessListMember, ListKey, MemberChange,
};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::auth::{ADMIN_SCOPE, ScopeRule, Scoped};
use crate::extract::Json;
use crate::problem::{ApiError, ApiResult};

/// Reading access lists (the write scope reads too).
pub struct AccessListRead;
impl ScopeRule for AccessListRead {
    const ANY_OF: &'static [&'static str] = &[
        "altinn:resourceregistry/accesslist.read",
        "altinn:resourceregistry/accesslist.write",
        ADMIN_SCOPE,
    ];
}

/// Changing access lists.
pub struct AccessListWrite;
impl ScopeRule for AccessListWrite {
    const ANY_OF: &'static [&'static str] =
        &["altinn:resourceregistry/accesslist.write", ADMIN_SCOPE];
}

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_by_owner))
        .routes(routes!(get_list, upsert_list, delete_list))
        .routes(routes!(
            get_members,
            add_members,
            remove_members,
            replace_members
        ))
        .routes(routes!(get_connections))
        .routes(routes!(upsert_connection, delete_connection))
}

/// Unix milliseconds as RFC 3339.
fn timestamp(millis: i64) -> String {
    chrono::DateTime::from_timestamp_millis(millis)
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// An access list, as the reference shows it.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AccessListInfo {
    /// `urn:altinn:access-list:{owner}:{identifier}`.
    pub urn: String,
    pub identifier: String,
    pub name: String,
    pub description: String,
    pub created_at: String,
    pub updated_at: String,
}

impl From<&AccessList> for AccessListInfo {
    fn from(list: &AccessList) -> Self {
        Self {
            urn: format!("urn:altinn:access-list:{}:{}", list.owner, list.identifier),
            identifier: list.identifier.clone(),
            name: list.name.clone(),
            description: list.description.clone(),
            created_at: timestamp(list.created_at),
            updated_at: timestamp(list.updated_at),
        }
    }
}

/// A member: its party uuid URN, since when, and its other identifiers.
#[derive(Debug, Serialize, ToSchema)]
pub struct Membership {
    /// `urn:altinn:party:uuid:{uuid}`.
    pub id: String,
    pub since: String,
    /// `urn:altinn:party:uuid`, `urn:altinn:party:id`, `urn:altinn:organization:identifier-no`.
    #[schema(value_type = Object)]
    pub identifiers: serde_json::Map<String, serde_json::Value>,
}

impl From<&AccessListMember> for Membership {
    fn from(member: &AccessListMember) -> Self {
        let mut identifiers = serde_json::Map::new();
        identifiers.insert(
            "urn:altinn:party:uuid".into(),
            member.party.to_string().into(),
        );
        identifiers.insert("urn:altinn:party:id".into(), member.party_id.into());
        if let Some(org) = &member.org_number {
            identifiers.insert(
                "urn:altinn:organization:identifier-no".into(),
                org.clone().into(),
            );
        }
        Self {
            id: format!("urn:altinn:party:uuid:{}", member.party),
            since: timestamp(member.since),
            identifiers,
        }
    }
}

/// A connection to a resource; no `actionFilters` means every action.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ResourceConnection {
    pub resource_identifier: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub action_filters: Option<Vec<String>>,
    pub created_at: String,
    pub updated_at: String,
}

impl From<&AccessListConnection> for ResourceConnection {
    fn from(connection: &AccessListConnection) -> Self {
        Self {
            resource_identifier: connection.resource_id.clone(),
            action_filters: (!connection.actions.is_empty()).then(|| connection.actions.clone()),
            created_at: timestamp(connection.created_at),
            updated_at: timestamp(connection.updated_at),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Links {
    /// Always null: every item is on one page.
    pub next: Option<String>,
}

/// The reference's paginated list: `{"links": {"next": null}, "data": [...]}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Page<T> {
    pub links: Links,
    pub data: Vec<T>,
}

fn page<T, U>(items: &[T]) -> Page<U>
where
    for<'a> U: From<&'a T>,
{
    Page {
        links: Links { next: None },
        data: items.iter().map(U::from).collect(),
    }
}

/// The body of a create or update.
#[derive(Debug, Deserialize, ToSchema)]
pub struct UpsertAccessList {
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
}

/// The body of a members change: party URNs (`urn:altinn:organization:identifier-no:…`,
/// `urn:altinn:party:uuid:…`, `urn:altinn:party:id:…`).
#[derive(Debug, Deserialize, ToSchema)]
pub struct MembersBody {
    pub data: Vec<String>,
}

/// The body of a resource connection.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UpsertConnection {
    #[serde(default)]
    pub action_filters: Option<Vec<String>>,
}

fn parse_members(body: &MembersBody) -> ApiResult<Vec<PartyRef>> {
    body.data
        .iter()
        .enumerate()
        .map(|(index, urn)| {
            PartyRef::parse(urn).map_err(|message| {
                ApiError::invalid_field("STD-00010", &format!("/data/{index}"), message)
            })
        })
        .collect()
}

#[utoipa::path(get, path = "/resourceregistry/api/v1/access-lists/{owner}", tag = "accesslists",
    params(("owner" = String, Path)), security(("bearer" = ["altinn:resourceregistry/accesslist.read"])),
    responses((status = 200, body = Page<AccessListInfo>), (status = 403, body = crate::problem::ProblemBody)))]
async fn list_by_owner(
    State(state): State<AppState>,
    caller: Scoped<AccessListRead>,
    Path(owner): Path<String>,
) -> ApiResult<axum::Json<Page<AccessListInfo>>> {
    let lists = access_lists::lists(&state.app, &caller, &owner).await?;
    Ok(axum::Json(page(&lists)))
}

#[utoipa::path(get, path = "/resourceregistry/api/v1/access-lists/{owner}/{identifier}", tag = "accesslists",
    params(("owner" = String, Path), ("identifier" = String, Path)),
    security(("bearer" = ["altinn:resourceregistry/accesslist.read"])),
    responses((status = 200, body = AccessListInfo), (status = 403, body = crate::problem::ProblemBody),
        (status = 404, body = crate::problem::ProblemBody)))]
async fn get_list(
    State(state): State<AppState>,
    caller: Scoped<AccessListRead>,
    Path((owner, identifier)): Path<(String, String)>,
) -> ApiResult<axum::Json<AccessListInfo>> {
    let key = ListKey {
        owner: &owner,
        identifier: &identifier,
    };
    let list = access_lists::get(&state.app, &caller, key).await?;
    Ok(axum::Json(AccessListInfo::from(&list)))
}

#[utoipa::path(put, path = "/resourceregistry/api/v1/access-lists/{owner}/{identifier}", tag = "accesslists",
    params(("owner" = String, Path), ("identifier" = String, Path)), request_body = UpsertAccessList,
    security(("bearer" = ["altinn:resourceregistry/accesslist.write"])),
    responses((status = 200, body = AccessListInfo, description = "updated"), (status = 201, body = AccessListInfo, description = "created"),
        (status = 400, body = crate::problem::ProblemBody), (status = 403, body = crate::problem::ProblemBody)))]
async fn upsert_list(
    State(state): State<AppState>,
    caller: Scoped<AccessListWrite>,
    Path((owner, identifier)): Path<(String, String)>,
    Json(body): Json<UpsertAccessList>,
) -> ApiResult<(StatusCode, axum::Json<AccessListInfo>)> {
    let key = ListKey {
        owner: &owner,
        identifier: &identifier,
    };
    let description = body.description.unwrap_or_default();
    let (list, created) =
        access_lists::upsert(&state.app, &caller, key, &body.name, &description).await?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, axum::Json(AccessListInfo::from(&list))))
}

#[utoipa::path(delete, path = "/resourceregistry/api/v1/access-lists/{owner}/{identifier}", tag = "accesslists",
    params(("owner" = String, Path), ("identifier" = String, Path)),
    security(("bearer" = ["altinn:resourceregistry/accesslist.write"])),
    responses((status = 200, body = AccessListInfo, description = "deleted"), (status = 204, description = "there was no such list"),
        (status = 403, body = crate::problem::ProblemBody)))]
async fn delete_list(
    State(state): State<AppState>,
    caller: Scoped<AccessListWrite>,
    Path((owner, identifier)): Path<(String, String)>,
) -> ApiResult<Response> {
    let key = ListKey {
        owner: &owner,
        identifier: &identifier,
    };
    Ok(
        match access_lists::delete(&state.app, &caller, key).await? {
            Some(list) => axum::Json(AccessListInfo::from(&list)).into_response(),
            None => StatusCode::NO_CONTENT.into_response(),
        },
    )
}

fn members_page(found: &ListWith<Vec<AccessListMember>>) -> axum::Json<Page<Membership>> {
    axum::Json(page(&found.data))
}

#[utoipa::path(get, path = "/resourceregistry/api/v1/access-lists/{owner}/{identifier}/members", tag = "accesslists",
    params(("owner" = String, Path), ("identifier" = String, Path)),
    security(("bearer" = ["altinn:resourceregistry/accesslist.read"])),
    responses((status = 200, body = Page<Membership>), (status = 403, body = crate::problem::ProblemBody),
        (status = 404, body = crate::problem::ProblemBody)))]
async fn get_members(
    State(state): State<AppState>,
    caller: Scoped<AccessListRead>,
    Path((owner, identifier)): Path<(String, String)>,
) -> ApiResult<axum::Json<Page<Membership>>> {
    let key = ListKey {
        owner: &owner,
        identifier: &identifier,
    };
    let found = access_lists::members(&state.app, &caller, key).await?;
    Ok(members_page(&found))
}

async fn change_members(
    state: &AppState,
    caller: &Scoped<AccessListWrite>,
    (owner, identifier): (String, String),
    change: MemberChange,
    body: &MembersBody,
) -> ApiResult<axum::Json<Page<Membership>>> {
    let parties = parse_members(body)?;
    let key = ListKey {
        owner: &owner,
        identifier: &identifier,
    };
    let found = access_lists::change_members(&state.app, caller, key, change, &parties).await?;
    Ok(members_page(&found))
}

#[utoipa::path(post, path = "/resourceregistry/api/v1/access-lists/{owner}/{identifier}/members", tag = "accesslists",
    params(("owner" = String, Path), ("identifier" = String, Path)), request_body = MembersBody,
    security(("bearer" = ["altinn:resourceregistry/accesslist.write"])),
    responses((status = 200, body = Page<Membership>), (status = 400, body = crate::problem::ProblemBody),
        (status = 403, body = crate::problem::ProblemBody), (status = 404, body = crate::problem::ProblemBody)))]
async fn add_members(
    State(state): State<AppState>,
    caller: Scoped<AccessListWrite>,
    Path(path): Path<(String, String)>,
    Json(body): Json<MembersBody>,
) -> ApiResult<axum::Json<Page<Membership>>> {
    change_members(&state, &caller, path, MemberChange::Add, &body).await
}

#[utoipa::path(delete, path = "/resourceregistry/api/v1/access-lists/{owner}/{identifier}/members", tag = "accesslists",
    params(("owner" = String, Path), ("identifier" = String, Path)), request_body = MembersBody,
    security(("bearer" = ["altinn:resourceregistry/accesslist.write"])),
    responses((status = 200, body = Page<Membership>), (status = 400, body = crate::problem::ProblemBody),
        (status = 403, body = crate::problem::ProblemBody), (status = 404, body = crate::problem::ProblemBody)))]
async fn remove_members(
    State(state): State<AppState>,
    caller: Scoped<AccessListWrite>,
    Path(path): Path<(String, String)>,
    Json(body): Json<MembersBody>,
) -> ApiResult<axum::Json<Page<Membership>>> {
    change_members(&state, &caller, path, MemberChange::Remove, &body).await
}

#[utoipa::path(put, path = "/resourceregistry/api/v1/access-lists/{owner}/{identifier}/members", tag = "accesslists",
    params(("owner" = String, Path), ("identifier" = String, Path)), request_body = MembersBody,
    security(("bearer" = ["altinn:resourceregistry/accesslist.write"])),
    responses((status = 200, body = Page<Membership>), (status = 400, body = crate::problem::ProblemBody),
        (status = 403, body = crate::problem::ProblemBody), (status = 404, body = crate::problem::ProblemBody)))]
async fn replace_members(
    State(state): State<AppState>,
    caller: Scoped<AccessListWrite>,
    Path(path): Path<(String, String)>,
    Json(body): Json<MembersBody>,
) -> ApiResult<axum::Json<Page<Membership>>> {
    change_members(&state, &caller, path, MemberChange::Replace, &body).await
}

#[utoipa::path(get, path = "/resourceregistry/api/v1/access-lists/{owner}/{identifier}/resource-connections", tag = "accesslists",
    params(("owner" = String, Path), ("identifier" = String, Path)),
    security(("bearer" = ["altinn:resourceregistry/accesslist.read"])),
    responses((status = 200, body = Page<ResourceConnection>), (status = 403, body = crate::problem::ProblemBody),
        (status = 404, body = crate::problem::ProblemBody)))]
async fn get_connections(
    State(state): State<AppState>,
    caller: Scoped<AccessListRead>,
    Path((owner, identifier)): Path<(String, String)>,
) -> ApiResult<axum::Json<Page<ResourceConnection>>> {
    let key = ListKey {
        owner: &owner,
        identifier: &identifier,
    };
    let found = access_lists::connections(&state.app, &caller, key).await?;
    Ok(axum::Json(page(&found.data)))
}

#[utoipa::path(put, path = "/resourceregistry/api/v1/access-lists/{owner}/{identifier}/resource-connections/{resource}", tag = "accesslists",
    params(("owner" = String, Path), ("identifier" = String, Path), ("resource" = String, Path)),
    request_body = UpsertConnection, security(("bearer" = ["altinn:resourceregistry/accesslist.write"])),
    responses((status = 200, body = ResourceConnection), (status = 400, body = crate::problem::ProblemBody),
        (status = 403, body = crate::problem::ProblemBody), (status = 404, body = crate::problem::ProblemBody)))]
async fn upsert_connection(
    State(state): State<AppState>,
    caller: Scoped<AccessListWrite>,
    Path((owner, identifier, resource)): Path<(String, String, String)>,
    Json(body): Json<UpsertConnection>,
) -> ApiResult<axum::Json<ResourceConnection>> {
    let key = ListKey {
        owner: &owner,
        identifier: &identifier,
    };
    let actions = body.action_filters.unwrap_or_default();
    let found = access_lists::connect(&state.app, &caller, key, &resource, &actions).await?;
    Ok(axum::Json(ResourceConnection::from(&found.data)))
}

#[utoipa::path(delete, path = "/resourceregistry/api/v1/access-lists/{owner}/{identifier}/resource-connections/{resource}", tag = "accesslists",
    params(("owner" = String, Path), ("identifier" = String, Path), ("resource" = String, Path)),
    security(("bearer" = ["altinn:resourceregistry/accesslist.write"])),
    responses((status = 200, body = ResourceConnection, description = "removed"), (status = 204, description = "there was no such connection"),
        (status = 403, body = crate::problem::ProblemBody), (status = 404, body = crate::problem::ProblemBody)))]
async fn delete_connection(
    State(state): State<AppState>,
    caller: Scoped<AccessListWrite>,
    Path((owner, identifier, resource)): Path<(String, String, String)>,
) -> ApiResult<Response> {
    let key = ListKey {
        owner: &owner,
        identifier: &identifier,
    };
    Ok(
        match access_lists::disconnect(&state.app, &caller, key, &resource).await? {
            Some(found) => axum::Json(ResourceConnection::from(&found.data)).into_response(),
            None => StatusCode::NO_CONTENT.into_response(),
        },
    )
}
