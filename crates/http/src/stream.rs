//! `GET /authentication/api/v1/systemuser/internal/systemusers/stream?token=`: the change
//! feed of system users for the register (internal: operators and the platform's own
//! `altinn:authentication/systemuser.admin`). The rules are
//! `systembruker_app::systemuser_stream`.

use axum::extract::{Query, State};
use serde::{Deserialize, Serialize};
use systembruker_app::systemuser_stream::{StreamItem, stream};
use systembruker_domain::systemuser::SystemUserType;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::AppState;
use crate::auth::{ADMIN_SCOPE, ScopeRule, Scoped};
use crate::authentication::{PREFIX, timestamp};
use crate::problem::{ApiError, ApiResult};

/// Internal readers of the system-user feed.
pub struct SystemUserStreamScope;
impl ScopeRule for SystemUserStreamScope {
    const ANY_OF: &'static [&'static str] =
        &["altinn:authentication/systemuser.admin", ADMIN_SCOPE];
}

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(system_user_stream))
}

/// A system user as the register mirrors it.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SystemUserRegisterDto {
    pub id: Uuid,
    pub party_org_no: String,
    pub party_id: i64,
    pub party_uuid: Uuid,
    pub integration_title: String,
    pub is_deleted: bool,
    pub last_changed: String,
    pub created: String,
    pub sequence_no: i64,
    /// `standard` or `agent`.
    pub system_user_type: String,
}

impl From<&StreamItem> for SystemUserRegisterDto {
    fn from(item: &StreamItem) -> Self {
        let user = &item.user;
        Self {
            id: user.id,
            party_org_no: user.owner_org.clone(),
            party_id: user.owner_party_id,
            party_uuid: user.owner_party_uuid,
            integration_title: user.integration_title.clone(),
            is_deleted: user.is_deleted,
            last_changed: timestamp(user.updated_at),
            created: timestamp(user.created_at),
            sequence_no: item.sequence,
            system_user_type: match user.user_type {
                SystemUserType::Agent => "agent",
                SystemUserType::Standard => "standard",
            }
            .to_string(),
        }
    }
}

/// Links of a feed page.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct StreamLinks {
    /// The next page; given whenever this one has items (a consumer polls it for more).
    pub next: Option<String>,
}

/// Where a feed page starts and ends in the history's sequence.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct StreamStats {
    pub page_start: i64,
    pub page_end: i64,
}

/// A page of the feed: `{links:{next}, stats:{pageStart, pageEnd}, data:[]}`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SystemUserStreamPage {
    pub links: StreamLinks,
    pub stats: StreamStats,
    pub data: Vec<SystemUserRegisterDto>,
}

#[derive(Debug, Deserialize, IntoParams)]
struct StreamQuery {
    /// The continuation token of the previous page's `next` link (a sequence number).
    token: Option<String>,
}

fn parse_token(token: Option<&str>) -> ApiResult<i64> {
    match token.map(str::trim).filter(|t| !t.is_empty()) {
        None => Ok(0),
        Some(t) => t.parse::<i64>().ok().filter(|n| *n >= 0).ok_or_else(|| {
            ApiError::invalid_field(
                "STD-00010",
                "token",
                "the token is not one this API gave out",
            )
        }),
    }
}

#[utoipa::path(get, path = "/authentication/api/v1/systemuser/internal/systemusers/stream", tag = "systemuser",
    description = "The change feed of system users (deleted ones too), 100 history rows a page, for the register.",
    params(StreamQuery),
    security(("bearer" = ["altinn:authentication/systemuser.admin", "systembruker:admin"])),
    responses((status = 200, body = SystemUserStreamPage), (status = 400, body = crate::problem::ProblemBody),
        (status = 401, body = crate::problem::ProblemBody), (status = 403, body = crate::problem::ProblemBody)))]
async fn system_user_stream(
    State(state): State<AppState>,
    _caller: Scoped<SystemUserStreamScope>,
    Query(query): Query<StreamQuery>,
) -> ApiResult<axum::Json<SystemUserStreamPage>> {
    let after = parse_token(query.token.as_deref())?;
    let (items, end) = stream(&state.app, after).await?;
    let next = (!items.is_empty()).then(|| {
        format!(
            "{}{PREFIX}/systemuser/internal/systemusers/stream?token={end}",
            state.config.public_url.trim_end_matches('/')
        )
    });
    Ok(axum::Json(SystemUserStreamPage {
        links: StreamLinks { next },
        stats: StreamStats {
            page_start: after,
            page_end: end,
        },
        data: items.iter().map(SystemUserRegisterDto::from).collect(),
    }))
}

#[cfg(test)]
mod tests {
    use super::parse_token;

    #[test]
    fn the_stream_token_is_a_sequence_number() {
        assert_eq!(parse_token(None).ok(), Some(0));
        assert_eq!(parse_token(Some("42")).ok(), Some(42));
        assert!(parse_token(Some("-1")).is_err());
        assert!(parse_token(Some("abc")).is_err());
    }
}
