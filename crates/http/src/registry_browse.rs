//! Reading the resource registry as its consumers do (public, as in the reference):
//! `resource/Search`, `resource/updated`, `resource/orgs`, `resource/export`,
//! `resource/{id}/policy/subjects`, `resource/{id}/policy/rules` and
//! `resource/bysubjects`. The rules are `systembruker_app::registry_browse`.

use std::collections::BTreeMap;

use axum::extract::{Path, Query, State};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use systembruker_app::registry_browse::{
    self, AttributeUrn, FlatRule, ResourceSearch, UpdatedCursor, UpdatedSubject,
};
use systembruker_domain::resource::{ResourceType, ServiceResource, TranslatedText};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::authentication::{Page, PageLinks};
use crate::extract::Json;
use crate::problem::{ApiError, ApiResult, ValidationError};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(search))
        .routes(routes!(updated))
        .routes(routes!(orgs))
        .routes(routes!(export))
        .routes(routes!(policy_subjects))
        .routes(routes!(policy_rules))
        .routes(routes!(by_subjects))
}

/// An attribute and value with its URN, as the reference's registry names subjects and
/// resources.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AttributeMatchV2 {
    #[serde(rename = "type")]
    pub attribute: String,
    pub value: String,
    pub urn: String,
}

impl From<&AttributeUrn> for AttributeMatchV2 {
    fn from(a: &AttributeUrn) -> Self {
        Self {
            attribute: a.attribute.clone(),
            value: a.value.clone(),
            urn: a.urn(),
        }
    }
}

fn page<T>(data: Vec<T>, next: Option<String>) -> Page<T> {
    Page {
        links: PageLinks { next },
        data,
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
struct SearchQuery {
    /// Part of the identifier.
    id: Option<String>,
    /// Part of a title, in any language.
    title: Option<String>,
    /// Part of a description, in any language.
    description: Option<String>,
    /// The resource type, exactly (`GenericAccessResource`, `AltinnApp`, …).
    resource_type: Option<String>,
    /// Part of a keyword.
    keyword: Option<String>,
    /// Part of the identifier, a title or a description.
    search_term: Option<String>,
}

fn resource_type(text: &str) -> ApiResult<ResourceType> {
    serde_json::from_value(serde_json::Value::String(text.trim().to_string())).map_err(|_| {
        ApiError::invalid_field(
            "STD-00010",
            "resourceType",
            format!("{text:?} is not a resource type"),
        )
    })
}

#[utoipa::path(get, path = "/resourceregistry/api/v1/resource/Search", tag = "resourceregistry", operation_id = "search_resources",
    description = "The resources matching every filter given (case-insensitive parts; `resourceType` exactly).",
    params(SearchQuery),
    responses((status = 200, body = Vec<ServiceResource>), (status = 400, body = crate::problem::ProblemBody)))]
async fn search(
    State(state): State<AppState>,
    Query(query): Query<SearchQuery>,
) -> ApiResult<axum::Json<Vec<ServiceResource>>> {
    let filters = ResourceSearch {
        id: query.id,
        title: query.title,
        description: query.description,
        resource_type: query
            .resource_type
            .as_deref()
            .filter(|t| !t.trim().is_empty())
            .map(resource_type)
            .transpose()?,
        keyword: query.keyword,
        search_term: query.search_term,
    };
    Ok(axum::Json(
        registry_browse::search(&state.app, &filters).await?,
    ))
}

/// A (resource, subject) pair of a policy that changed.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UpdatedResourceSubject {
    pub resource_urn: String,
    pub subject_urn: String,
    /// When the resource or its policy last changed (RFC 3339).
    pub updated_at: String,
    /// Always false: a deleted resource leaves the feed with its policy.
    pub deleted: bool,
}

impl From<&UpdatedSubject> for UpdatedResourceSubject {
    fn from(u: &UpdatedSubject) -> Self {
        Self {
            resource_urn: u.resource.urn(),
            subject_urn: u.subject.urn(),
            updated_at: crate::authentication::timestamp(u.updated_at),
            deleted: false,
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
struct UpdatedQuery {
    /// Changes at or after this moment (RFC 3339).
    since: Option<String>,
    /// The continuation token of the previous page's `next` link.
    token: Option<String>,
    /// Most pairs per page, 1–1000 (default 1000).
    limit: Option<i64>,
}

/// The cursor a `token` carries: `{updatedAt millis}\n{resource urn}\n{subject urn}`,
/// base64url-encoded.
fn encode_cursor(last: &UpdatedSubject) -> String {
    let raw = format!(
        "{}\n{}\n{}",
        last.updated_at,
        last.resource.urn(),
        last.subject.urn()
    );
    URL_SAFE_NO_PAD.encode(raw)
}

fn decode_cursor(token: &str) -> ApiResult<UpdatedCursor> {
    let refused = || {
        ApiError::invalid_field(
            "STD-00010",
            "token",
            "the token is not one this API gave out",
        )
    };
    let raw = URL_SAFE_NO_PAD
        .decode(token.trim())
        .map_err(|_| refused())?;
    let raw = String::from_utf8(raw).map_err(|_| refused())?;
    let mut parts = raw.splitn(3, '\n');
    let (Some(at), Some(resource), Some(subject)) = (parts.next(), parts.next(), parts.next())
    else {
        return Err(refused());
    };
    Ok(UpdatedCursor {
        updated_at: at.parse().map_err(|_| refused())?,
        resource: resource.to_string(),
        subject: subject.to_string(),
    })
}

fn limit_refused() -> ApiError {
    ApiError::validation(vec![ValidationError {
        code: "RR.VLD-00001".into(),
        title: "The limit must be between 1 and 1000".into(),
        paths: vec!["?limit".into()],
        detail: None,
    }])
}

#[utoipa::path(get, path = "/resourceregistry/api/v1/resource/updated", tag = "resourceregistry",
    description = "The (resource, subject) pairs of policies changed at or after `since`, oldest first, paged with a `next` link.",
    params(UpdatedQuery),
    responses((status = 200, body = Page<UpdatedResourceSubject>), (status = 400, body = crate::problem::ProblemBody)))]
async fn updated(
    State(state): State<AppState>,
    Query(query): Query<UpdatedQuery>,
) -> ApiResult<axum::Json<Page<UpdatedResourceSubject>>> {
    let since_text = query.since.unwrap_or_default();
    let since = chrono::DateTime::parse_from_rfc3339(since_text.trim())
        .map_err(|_| {
            ApiError::invalid_field(
                "STD-00010",
                "since",
                format!("{since_text:?} is not an RFC 3339 time"),
            )
        })?
        .timestamp_millis();
    let limit = query.limit.unwrap_or(1000);
    if !(1..=1000).contains(&limit) {
        return Err(limit_refused());
    }
    let cursor = query
        .token
        .as_deref()
        .filter(|t| !t.is_empty())
        .map(decode_cursor)
        .transpose()?;
    let limit = usize::try_from(limit).map_err(|_| limit_refused())?;
    let mut pairs = registry_browse::updated(&state.app, since, cursor.as_ref(), limit).await?;
    let more = pairs.len() > limit;
    pairs.truncate(limit);
    let next = more.then(|| pairs.last()).flatten().map(|last| {
        format!(
            "{}/resourceregistry/api/v1/resource/updated?since={}&token={}&limit={limit}",
            state.config.public_url.trim_end_matches('/'),
            url_encode(&crate::authentication::timestamp(last.updated_at)),
            encode_cursor(last)
        )
    });
    Ok(axum::Json(page(
        pairs.iter().map(UpdatedResourceSubject::from).collect(),
        next,
    )))
}

fn url_encode(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

/// A resource owner in the reference's `orgs` list.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OrgDto {
    pub name: TranslatedText,
    pub logo: String,
    pub orgnr: String,
    pub homepage: String,
    pub environments: Vec<String>,
}

/// `{orgs: {<org code>: OrgDto}}`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OrgList {
    pub orgs: BTreeMap<String, OrgDto>,
}

#[utoipa::path(get, path = "/resourceregistry/api/v1/resource/orgs", tag = "resourceregistry",
    description = "The owners of the registry's resources, by org code (the org number when a resource names none).",
    responses((status = 200, body = OrgList)))]
async fn orgs(State(state): State<AppState>) -> ApiResult<axum::Json<OrgList>> {
    let owners = registry_browse::owners(&state.app).await?;
    let orgs = owners
        .into_iter()
        .map(|(code, owner)| {
            let dto = OrgDto {
                name: owner.name.unwrap_or_default(),
                logo: String::new(),
                orgnr: owner.org_number,
                homepage: String::new(),
                environments: Vec::new(),
            };
            (code, dto)
        })
        .collect();
    Ok(axum::Json(OrgList { orgs }))
}

/// Escapes a Turtle string literal.
fn literal(text: &str) -> String {
    let escaped = text
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
        .replace('\r', "\\r");
    format!("\"{escaped}\"")
}

/// The resources as DCAT services in Turtle: identifier, titles, descriptions, owner.
fn turtle(public_url: &str, resources: &[ServiceResource]) -> String {
    let mut out = String::from(
        "@prefix dcat: <http://www.w3.org/ns/dcat#> .\n@prefix dct: <http://purl.org/dc/terms/> .\n\n",
    );
    for r in resources {
        let mut lines = vec![
            format!(
                "<{public_url}/resourceregistry/api/v1/resource/{}> a dcat:DataService",
                r.identifier
            ),
            format!("    dct:identifier {}", literal(&r.identifier)),
        ];
        for (lang, text) in [
            ("nb", &r.title.nb),
            ("nn", &r.title.nn),
            ("en", &r.title.en),
        ] {
            if let Some(text) = text {
                lines.push(format!("    dct:title {}@{lang}", literal(text)));
            }
        }
        for (lang, text) in [
            ("nb", &r.description.nb),
            ("nn", &r.description.nn),
            ("en", &r.description.en),
        ] {
            if let Some(text) = text {
                lines.push(format!("    dct:description {}@{lang}", literal(text)));
            }
        }
        lines.push(format!(
            "    dct:publisher <https://data.brreg.no/enhetsregisteret/api/enheter/{}>",
            r.has_competent_authority.organization
        ));
        out.push_str(&lines.join(" ;\n"));
        out.push_str(" .\n\n");
    }
    out
}

#[utoipa::path(get, path = "/resourceregistry/api/v1/resource/export", tag = "resourceregistry",
    description = "Every resource as a DCAT data service, in Turtle.",
    responses((status = 200, content_type = "text/turtle", body = String)))]
async fn export(State(state): State<AppState>) -> ApiResult<impl axum::response::IntoResponse> {
    let resources = systembruker_app::resources::list(&state.app).await?;
    let body = turtle(state.config.public_url.trim_end_matches('/'), &resources);
    Ok((
        [(
            axum::http::header::CONTENT_TYPE,
            "text/turtle; charset=utf-8",
        )],
        body,
    ))
}

#[utoipa::path(get, path = "/resourceregistry/api/v1/resource/{id}/policy/subjects", tag = "resourceregistry",
    description = "The subjects the resource's policy names, once each, in lower case.",
    params(("id" = String, Path)),
    responses((status = 200, body = Page<AttributeMatchV2>), (status = 404, body = crate::problem::ProblemBody)))]
async fn policy_subjects(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<Page<AttributeMatchV2>>> {
    let subjects = registry_browse::subjects(&state.app, &id).await?;
    Ok(axum::Json(page(
        subjects.iter().map(AttributeMatchV2::from).collect(),
        None,
    )))
}

/// One subject, one action and one resource: a policy rule flattened.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PolicyRuleDto {
    pub subject: AttributeMatchV2,
    pub action: AttributeMatchV2,
    pub resource: Vec<AttributeMatchV2>,
}

impl From<&FlatRule> for PolicyRuleDto {
    fn from(rule: &FlatRule) -> Self {
        let action = AttributeUrn {
            attribute: "urn:oasis:names:tc:xacml:1.0:action:action-id".into(),
            value: rule.action.clone(),
        };
        Self {
            subject: (&rule.subject).into(),
            action: (&action).into(),
            resource: rule.resource.iter().map(AttributeMatchV2::from).collect(),
        }
    }
}

#[utoipa::path(get, path = "/resourceregistry/api/v1/resource/{id}/policy/rules", tag = "resourceregistry",
    description = "The resource's policy flattened: one subject, action and resource per rule.",
    params(("id" = String, Path)),
    responses((status = 200, body = Vec<PolicyRuleDto>), (status = 404, body = crate::problem::ProblemBody)))]
async fn policy_rules(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<Vec<PolicyRuleDto>>> {
    let rules = registry_browse::rules(&state.app, &id).await?;
    Ok(axum::Json(rules.iter().map(PolicyRuleDto::from).collect()))
}

/// A subject and the resources whose policy names it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SubjectResources {
    pub subject: AttributeMatchV2,
    pub resources: Vec<AttributeMatchV2>,
}

#[utoipa::path(post, path = "/resourceregistry/api/v1/resource/bysubjects", tag = "resourceregistry",
    description = "For each subject URN in the body, the resources whose policy names it.",
    request_body = Vec<String>,
    responses((status = 200, body = Page<SubjectResources>), (status = 400, body = crate::problem::ProblemBody)))]
async fn by_subjects(
    State(state): State<AppState>,
    Json(subjects): Json<Vec<String>>,
) -> ApiResult<axum::Json<Page<SubjectResources>>> {
    let found = registry_browse::by_subjects(&state.app, &subjects).await?;
    let data = found
        .iter()
        .map(|(subject, resources)| SubjectResources {
            subject: subject.into(),
            resources: resources.iter().map(AttributeMatchV2::from).collect(),
        })
        .collect();
    Ok(axum::Json(page(data, None)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_updated_token_carries_the_last_pair_and_time() {
        let last = UpdatedSubject {
            resource: AttributeUrn::resource("krav"),
            subject: AttributeUrn::parse("urn:altinn:rolecode:dagl")
                .unwrap_or_else(|| unreachable!()),
            updated_at: 1_700_000_000_123,
        };
        let cursor = decode_cursor(&encode_cursor(&last)).unwrap_or_else(|_| unreachable!());
        assert_eq!(cursor.updated_at, last.updated_at);
        assert_eq!(cursor.resource, "urn:altinn:resource:krav");
        assert_eq!(cursor.subject, "urn:altinn:rolecode:dagl");
        assert!(decode_cursor("not base64!").is_err());
        assert!(decode_cursor(&URL_SAFE_NO_PAD.encode("x\ny\nz")).is_err());
    }

    #[test]
    fn the_export_escapes_literals() {
        assert_eq!(literal("a \"b\"\n"), "\"a \\\"b\\\"\\n\"");
    }
}
