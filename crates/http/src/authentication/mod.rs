//! `/authentication/api/v1/`: the system register, vendor requests, approval by the end
//! user, system users and change requests (docs/rules.md), with the reference's
//! paths, JSON and `AUTH-000NN` / `AUTH.VLD-000NN` codes, and its gaps closed
//! (docs/rules.md#differences):
//! every vendor route checks ownership, statuses are stored, uniqueness is enforced by
//! the database, and every change lands in an append-only history.

pub(crate) mod approval;
pub(crate) mod changerequests;
pub(crate) mod clients;
mod events;
mod history;
pub(crate) mod requests;
pub(crate) mod systemregister;
pub(crate) mod systemusers;

use serde::Serialize;
use systembruker_domain::party::Party;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use uuid::Uuid;

use crate::AppState;
use crate::problem::{ApiError, ApiResult};

pub use systemusers::SystemUserDto;

/// The path prefix of every route here.
pub const PREFIX: &str = "/authentication/api/v1";

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(systemregister::routes())
        .merge(requests::routes())
        .merge(approval::routes())
        .merge(systemusers::routes())
        .merge(changerequests::routes())
        .merge(clients::routes())
        .merge(history::routes())
        .merge(events::routes())
}

/// `{party}` in a route: the party id (integer) as in the reference, or the party uuid.
/// Only organisations own system users.
pub(crate) async fn resolve_org_party(state: &AppState, text: &str) -> ApiResult<Party> {
    Ok(systembruker_app::systemusers::owner_party(&state.app, party_key(text)?).await?)
}

/// Unix milliseconds as RFC 3339, as the reference's `DateTime` fields.
pub(crate) fn timestamp(millis: i64) -> String {
    chrono::DateTime::from_timestamp_millis(millis)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
        .unwrap_or_default()
}

/// Links of a page.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PageLinks {
    /// The next page, or null on the last page.
    pub next: Option<String>,
}

/// A page of results, as the reference pages: `{links:{next}, data:[]}`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Page<T> {
    pub links: PageLinks,
    pub data: Vec<T>,
}

/// Page size of the vendor lists, as in the reference.
pub(crate) const PAGE_SIZE: i64 = 50;

/// Builds a keyset page from `PAGE_SIZE + 1` rows: the extra row only says there is more.
pub(crate) fn page<T, U>(
    state: &AppState,
    path: &str,
    mut rows: Vec<T>,
    id: impl Fn(&T) -> Uuid,
    dto: impl Fn(T) -> U,
) -> Page<U> {
    let more = rows.len() as i64 > PAGE_SIZE;
    rows.truncate(PAGE_SIZE as usize);
    let next = more.then(|| rows.last().map(&id)).flatten().map(|last| {
        format!(
            "{}{PREFIX}/{path}?token={last}",
            state.config.public_url.trim_end_matches('/')
        )
    });
    Page {
        links: PageLinks { next },
        data: rows.into_iter().map(dto).collect(),
    }
}

/// The `token` query parameter of a paged list: the last id of the previous page.
pub(crate) fn page_token(token: Option<&str>) -> ApiResult<Option<Uuid>> {
    token
        .filter(|t| !t.is_empty())
        .map(|t| {
            Uuid::parse_str(t).map_err(|_| {
                ApiError::invalid_field(
                    "STD-00010",
                    "token",
                    "the paging token is not one this API gave out",
                )
            })
        })
        .transpose()
}

/// Parses a uuid from a route or query parameter.
pub(crate) fn parse_id(name: &str, text: &str) -> ApiResult<Uuid> {
    Uuid::parse_str(text.trim())
        .map_err(|_| ApiError::invalid_field("STD-00010", name, format!("{text:?} is not a uuid")))
}

/// `{party}` in a route: the party id (integer) as in the reference, or the party uuid.
pub(crate) fn party_key(text: &str) -> ApiResult<systembruker_app::systemusers::PartyKey> {
    use systembruker_app::systemusers::PartyKey;
    if let Ok(id) = text.parse::<i64>() {
        Ok(PartyKey::Id(id))
    } else if let Ok(uuid) = Uuid::parse_str(text) {
        Ok(PartyKey::Uuid(uuid))
    } else {
        Err(ApiError::invalid_field(
            "STD-00010",
            "party",
            format!("{text:?} is neither a party id nor a party uuid"),
        ))
    }
}
