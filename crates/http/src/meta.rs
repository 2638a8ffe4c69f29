//! Access-package and role metadata (public, as in the reference).

use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use serde::Deserialize;
use systembruker_domain::catalogue::{AccessPackage, ExportAreaGroup, Language, RolePackageRow};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::problem::{ApiError, ApiResult};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(export_packages))
        .routes(routes!(package_by_urn))
        .routes(routes!(role_packages))
}

/// The language of the `Accept-Language` header's first choice, else bokmål.
pub(crate) fn language(headers: &HeaderMap) -> Language {
    headers
        .get(axum::http::header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .map(Language::from_tag)
        .unwrap_or_default()
}

#[utoipa::path(get, path = "/accessmanagement/api/v1/meta/info/accesspackages/export", tag = "accessmanagement",
    description = "All access packages, grouped by area group and area, named in the Accept-Language.",
    responses((status = 200, body = Vec<ExportAreaGroup>)))]
async fn export_packages(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> axum::Json<Vec<ExportAreaGroup>> {
    axum::Json(state.catalogue.export(language(&headers)))
}

#[utoipa::path(get, path = "/accessmanagement/api/v1/meta/info/accesspackages/package/urn/{urn}", tag = "accessmanagement",
    params(("urn" = String, Path, description = "e.g. urn:altinn:accesspackage:skatt-naering")),
    responses((status = 200, body = AccessPackage), (status = 404, body = crate::problem::ProblemBody)))]
async fn package_by_urn(
    State(state): State<AppState>,
    Path(urn): Path<String>,
) -> ApiResult<axum::Json<AccessPackage>> {
    state
        .catalogue
        .package_by_urn(&urn)
        .map(|p| axum::Json(p.clone()))
        .map_err(|e| ApiError::not_found(e.to_string()))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
struct VariantQuery {
    /// The organisation form the role is held in (e.g. AS, ESEK); filters variant-specific rows.
    variant: Option<String>,
}

#[utoipa::path(get, path = "/accessmanagement/api/v1/meta/info/roles/{code}/packages", tag = "accessmanagement",
    params(("code" = String, Path, description = "Role code, URN or legacy code (DAGL)"), VariantQuery),
    responses((status = 200, body = Vec<RolePackageRow>), (status = 404, body = crate::problem::ProblemBody)))]
async fn role_packages(
    State(state): State<AppState>,
    Path(code): Path<String>,
    Query(q): Query<VariantQuery>,
) -> ApiResult<axum::Json<Vec<RolePackageRow<'static>>>> {
    let variant = q.variant.as_deref().filter(|v| !v.trim().is_empty());
    if let Some(v) = variant {
        state
            .catalogue
            .entity_variant(v)
            .map_err(|e| ApiError::invalid_field("STD-00011", "variant", e.to_string()))?;
    }
    state
        .catalogue
        .packages_for_role(&code, variant)
        .map(axum::Json)
        .map_err(|e| ApiError::not_found(e.to_string()))
}
