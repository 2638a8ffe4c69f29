//! Browsing the access-package catalogue and the roles, under the reference's
//! `/accessmanagement/api/v1/meta/info/` (public, as there): search, area groups, areas,
//! packages with the resources they give access to, and roles. Names are in the
//! `Accept-Language` (bokmål by default). An empty list answers 204, as the reference.

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use systembruker_app::catalogue_browse::{self, PackageHit};
use systembruker_domain::catalogue::{ExportArea, ExportAreaGroup, ExportPackage, Role};
use systembruker_domain::resource::ServiceResource;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::AppState;
use crate::meta::language;
use crate::problem::{ApiError, ApiResult};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(search))
        .routes(routes!(groups))
        .routes(routes!(group))
        .routes(routes!(group_areas))
        .routes(routes!(area))
        .routes(routes!(area_packages))
        .routes(routes!(package))
        .routes(routes!(package_resources))
        .routes(routes!(roles))
        .routes(routes!(role))
}

/// A list, or 204 when it is empty (the reference's metadata API answers so).
fn list_or_no_content<T: Serialize>(items: Vec<T>) -> Response {
    if items.is_empty() {
        StatusCode::NO_CONTENT.into_response()
    } else {
        axum::Json(items).into_response()
    }
}

fn parse_uuid(name: &str, text: &str) -> ApiResult<Uuid> {
    Uuid::parse_str(text.trim())
        .map_err(|_| ApiError::invalid_field("STD-00010", name, format!("{text:?} is not a uuid")))
}

/// An area group without its areas.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AreaGroupDto {
    pub id: Uuid,
    pub name: String,
    /// The group's key (`General`, `Industry`, …).
    pub urn: String,
    pub description: String,
    /// `Organization` or `Person`.
    #[serde(rename = "type")]
    pub entity_type: String,
}

/// An area without its packages.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AreaDto {
    pub id: Uuid,
    pub name: String,
    pub urn: String,
    pub description: String,
    pub icon: String,
    pub group_id: Uuid,
}

impl AreaGroupDto {
    fn new(group: &ExportAreaGroup) -> Self {
        Self {
            id: group.id,
            name: group.name.clone(),
            urn: group.urn.clone(),
            description: group.description.clone(),
            entity_type: group.entity_type.clone(),
        }
    }
}

impl AreaDto {
    fn new(area: &ExportArea, group: Uuid) -> Self {
        Self {
            id: area.id,
            name: area.name.clone(),
            urn: area.urn.clone(),
            description: area.description.clone(),
            icon: area.icon.clone(),
            group_id: group,
        }
    }
}

fn export(state: &AppState, headers: &HeaderMap) -> Vec<ExportAreaGroup> {
    state.catalogue.export(language(headers))
}

fn group_by_id(groups: Vec<ExportAreaGroup>, id: &str) -> ApiResult<ExportAreaGroup> {
    let id = parse_uuid("id", id)?;
    groups
        .into_iter()
        .find(|g| g.id == id)
        .ok_or_else(|| ApiError::not_found(format!("there is no area group {id}")))
}

fn area_by_id(groups: Vec<ExportAreaGroup>, id: &str) -> ApiResult<(ExportArea, Uuid)> {
    let id = parse_uuid("id", id)?;
    groups
        .into_iter()
        .flat_map(|g| {
            let group = g.id;
            g.areas.into_iter().map(move |a| (a, group))
        })
        .find(|(a, _)| a.id == id)
        .ok_or_else(|| ApiError::not_found(format!("there is no area {id}")))
}

fn package_by_id(state: &AppState, headers: &HeaderMap, id: &str) -> ApiResult<ExportPackage> {
    let id = parse_uuid("id", id)?;
    catalogue_browse::packages(state.catalogue, language(headers))
        .into_iter()
        .find(|p| p.id == id)
        .ok_or_else(|| ApiError::not_found(format!("there is no access package {id}")))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
struct SearchQuery {
    /// Words to look for; a package matches a word of its name or description that
    /// starts with one of them.
    term: Option<String>,
    /// Also look in the titles of the resources each package gives access to.
    #[serde(default)]
    search_in_resources: bool,
}

/// A word of a matched field.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SearchWordDto {
    pub content: String,
    pub lowercase_content: String,
    pub is_match: bool,
    pub score: f64,
}

/// A matched field.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SearchFieldDto {
    pub field: String,
    pub value: String,
    pub score: f64,
    pub words: Vec<SearchWordDto>,
}

/// A search hit: the package, its score and the fields that matched.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PackageSearchHit {
    pub object: ExportPackage,
    pub score: f64,
    pub fields: Vec<SearchFieldDto>,
}

impl From<PackageHit> for PackageSearchHit {
    fn from(hit: PackageHit) -> Self {
        let fields = hit
            .fields
            .into_iter()
            .map(|f| SearchFieldDto {
                field: f.field.to_string(),
                value: f.value,
                score: f.score,
                words: f
                    .words
                    .into_iter()
                    .map(|w| SearchWordDto {
                        lowercase_content: w.content.to_lowercase(),
                        content: w.content,
                        is_match: w.is_match,
                        score: w.score,
                    })
                    .collect(),
            })
            .collect();
        Self {
            object: hit.package,
            score: hit.score,
            fields,
        }
    }
}

#[utoipa::path(get, path = "/accessmanagement/api/v1/meta/info/accesspackages/search", tag = "accessmanagement",
    description = "Access packages whose name or description (and with `searchInResources`, a resource's title) has a word starting with a word of `term`, best first; 204 when none.",
    params(SearchQuery),
    responses((status = 200, body = Vec<PackageSearchHit>), (status = 204), (status = 400, body = crate::problem::ProblemBody)))]
async fn search(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<SearchQuery>,
) -> ApiResult<Response> {
    let term = query.term.unwrap_or_default();
    if term.trim().is_empty() {
        return Err(ApiError::invalid_field(
            "STD-00010",
            "term",
            "a search needs a term",
        ));
    }
    let titles = if query.search_in_resources {
        catalogue_browse::resource_titles(&state.app).await?
    } else {
        Default::default()
    };
    let packages = catalogue_browse::packages(state.catalogue, language(&headers));
    let hits = catalogue_browse::search_packages(packages, &term, &titles);
    Ok(list_or_no_content(
        hits.into_iter().map(PackageSearchHit::from).collect(),
    ))
}

#[utoipa::path(get, path = "/accessmanagement/api/v1/meta/info/accesspackages/group", tag = "accessmanagement",
    description = "Every area group.", responses((status = 200, body = Vec<AreaGroupDto>)))]
async fn groups(State(state): State<AppState>, headers: HeaderMap) -> Response {
    list_or_no_content(
        export(&state, &headers)
            .iter()
            .map(AreaGroupDto::new)
            .collect(),
    )
}

#[utoipa::path(get, path = "/accessmanagement/api/v1/meta/info/accesspackages/group/{id}", tag = "accessmanagement",
    params(("id" = String, Path, description = "The area group's id")),
    responses((status = 200, body = AreaGroupDto), (status = 400, body = crate::problem::ProblemBody), (status = 404, body = crate::problem::ProblemBody)))]
async fn group(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<AreaGroupDto>> {
    let group = group_by_id(export(&state, &headers), &id)?;
    Ok(axum::Json(AreaGroupDto::new(&group)))
}

#[utoipa::path(get, path = "/accessmanagement/api/v1/meta/info/accesspackages/group/{id}/areas", tag = "accessmanagement",
    params(("id" = String, Path, description = "The area group's id")),
    responses((status = 200, body = Vec<AreaDto>), (status = 204), (status = 400, body = crate::problem::ProblemBody), (status = 404, body = crate::problem::ProblemBody)))]
async fn group_areas(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let group = group_by_id(export(&state, &headers), &id)?;
    Ok(list_or_no_content(
        group
            .areas
            .iter()
            .map(|a| AreaDto::new(a, group.id))
            .collect(),
    ))
}

#[utoipa::path(get, path = "/accessmanagement/api/v1/meta/info/accesspackages/area/{id}", tag = "accessmanagement",
    params(("id" = String, Path, description = "The area's id")),
    responses((status = 200, body = AreaDto), (status = 400, body = crate::problem::ProblemBody), (status = 404, body = crate::problem::ProblemBody)))]
async fn area(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<AreaDto>> {
    let (area, group) = area_by_id(export(&state, &headers), &id)?;
    Ok(axum::Json(AreaDto::new(&area, group)))
}

#[utoipa::path(get, path = "/accessmanagement/api/v1/meta/info/accesspackages/area/{id}/packages", tag = "accessmanagement",
    params(("id" = String, Path, description = "The area's id")),
    responses((status = 200, body = Vec<ExportPackage>), (status = 204), (status = 400, body = crate::problem::ProblemBody), (status = 404, body = crate::problem::ProblemBody)))]
async fn area_packages(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let (area, _) = area_by_id(export(&state, &headers), &id)?;
    Ok(list_or_no_content(area.packages))
}

#[utoipa::path(get, path = "/accessmanagement/api/v1/meta/info/accesspackages/package/{id}", tag = "accessmanagement",
    params(("id" = String, Path, description = "The package's id")),
    responses((status = 200, body = ExportPackage), (status = 400, body = crate::problem::ProblemBody), (status = 404, body = crate::problem::ProblemBody)))]
async fn package(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<ExportPackage>> {
    Ok(axum::Json(package_by_id(&state, &headers, &id)?))
}

#[utoipa::path(get, path = "/accessmanagement/api/v1/meta/info/accesspackages/package/{id}/resources", tag = "accessmanagement",
    description = "The resources whose policy names the package; 204 when none does.",
    params(("id" = String, Path, description = "The package's id")),
    responses((status = 200, body = Vec<ServiceResource>), (status = 204), (status = 400, body = crate::problem::ProblemBody), (status = 404, body = crate::problem::ProblemBody)))]
async fn package_resources(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let package = package_by_id(&state, &headers, &id)?;
    let resources =
        systembruker_app::registry_browse::package_resources(&state.app, &package.code).await?;
    Ok(list_or_no_content(resources))
}

#[utoipa::path(get, path = "/accessmanagement/api/v1/meta/info/roles", tag = "accessmanagement",
    description = "Every role: ER roles, guardianship roles, Altinn 2 role codes and Altinn 3 roles.",
    responses((status = 200, body = Vec<Role>)))]
async fn roles(State(state): State<AppState>) -> axum::Json<Vec<Role>> {
    axum::Json(state.catalogue.roles().to_vec())
}

#[utoipa::path(get, path = "/accessmanagement/api/v1/meta/info/roles/{id}", tag = "accessmanagement",
    params(("id" = String, Path, description = "The role's id, code, URN or legacy code (DAGL)")),
    responses((status = 200, body = Role), (status = 404, body = crate::problem::ProblemBody)))]
async fn role(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<Role>> {
    let found = match Uuid::parse_str(id.trim()) {
        Ok(uuid) => state.catalogue.role_by_id(uuid),
        Err(_) => state.catalogue.role(&id),
    };
    found
        .map(|r| axum::Json(r.clone()))
        .map_err(|e| ApiError::not_found(e.to_string()))
}
