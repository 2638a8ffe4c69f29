//! `/authentication/api/v1/`: the system register, vendor requests, approval by the end
//! user, system users and change requests (docs/rules.md), with the reference's
//! paths, JSON and `AUTH-000NN` / `AUTH.VLD-000NN` codes, and its gaps closed
//! (docs/rules.md#differences):
//! every vendor route checks ownership, statuses are stored, uniqueness is enforced by
//! the database, and every change lands in an append-only history.

pub(crate) mod access;
pub(crate) mod approval;
pub(crate) mod changerequests;
pub(crate) mod clients;
pub(crate) mod gate;
mod history;
pub(crate) mod requests;
pub(crate) mod systemregister;
pub(crate) mod systemusers;

use axum::http::StatusCode;
use serde::Serialize;
use systembruker_domain::OrgNumber;
use systembruker_domain::RuleError;
use systembruker_domain::party::Party;
use systembruker_storage::Actor;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use uuid::Uuid;

use crate::AppState;
use crate::auth::Caller;
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
}

/// Status and title of each `AUTH-000NN` problem we produce (Core/Problems/Problem.cs).
fn problem_status(number: u8) -> (StatusCode, &'static str) {
    match number {
        0 => (StatusCode::BAD_REQUEST, "Reportee organisation not found"),
        1 => (StatusCode::BAD_REQUEST, "Rights not found or not delegable"),
        4 => (
            StatusCode::BAD_REQUEST,
            "A system user exists for this system, organisation and external reference",
        ),
        6 => (
            StatusCode::BAD_REQUEST,
            "The request for this key was accepted",
        ),
        7 => (
            StatusCode::BAD_REQUEST,
            "The request for this key is pending",
        ),
        8 => (
            StatusCode::BAD_REQUEST,
            "The request for this key was denied",
        ),
        9 => (
            StatusCode::BAD_REQUEST,
            "The request for this key was rejected",
        ),
        10 => (StatusCode::NOT_FOUND, "Request not found"),
        11 => (StatusCode::NOT_FOUND, "System not found"),
        12 => (StatusCode::NOT_FOUND, "Request could not be stored"),
        13 => (StatusCode::CONFLICT, "The request is not New"),
        14 => (StatusCode::FORBIDDEN, "Delegation check failed"),
        15 => (StatusCode::NOT_FOUND, "System user not found"),
        16 => (StatusCode::FORBIDDEN, "Missing role access"),
        18 => (StatusCode::FORBIDDEN, "Missing delegation access"),
        21 => (StatusCode::BAD_REQUEST, "Redirect URI not allowed"),
        23 => (
            StatusCode::UNAUTHORIZED,
            "Vendor organisation number not in the token",
        ),
        24 => (
            StatusCode::FORBIDDEN,
            "The system user is not owned by the party",
        ),
        26 => (StatusCode::BAD_REQUEST, "The system has no redirect URIs"),
        30 => (StatusCode::NOT_FOUND, "Agent request not found"),
        34 => (StatusCode::BAD_REQUEST, "Expected an agent system user"),
        36 => (StatusCode::BAD_REQUEST, "Expected a standard system user"),
        38 => (StatusCode::BAD_REQUEST, "Client delegation not found"),
        41 | 42 => (
            StatusCode::FORBIDDEN,
            "The party does not match the request",
        ),
        49 => (StatusCode::BAD_REQUEST, "Party uuid missing"),
        53 => (
            StatusCode::BAD_REQUEST,
            "Missing access to delegate the access packages",
        ),
        58 => (
            StatusCode::BAD_REQUEST,
            "An agent system user needs at least one access package",
        ),
        59 => (
            StatusCode::BAD_REQUEST,
            "At least one right or access package is required",
        ),
        61 => (
            StatusCode::CONFLICT,
            "The change request is not New; use a new correlation id",
        ),
        63 => (
            StatusCode::BAD_REQUEST,
            "Access package not offered by the system",
        ),
        64 => (
            StatusCode::BAD_REQUEST,
            "Access package not assignable to a standard system user",
        ),
        65 => (
            StatusCode::BAD_REQUEST,
            "Access package not delegable to an agent system user",
        ),
        66 => (
            StatusCode::FORBIDDEN,
            "The user is not access manager for the party",
        ),
        68 => (StatusCode::FORBIDDEN, "Missing package access"),
        70 => (StatusCode::FORBIDDEN, "Resource not delegable"),
        71 => (StatusCode::FORBIDDEN, "Resource is a Maskinporten schema"),
        79 => (StatusCode::BAD_REQUEST, "Client not found"),
        80 => (
            StatusCode::BAD_REQUEST,
            "The client lacks access packages the system user needs",
        ),
        _ => (StatusCode::BAD_REQUEST, "System user request failed"),
    }
}

/// Renders a rule's refusal (kept while call sites move to `?` on [`RuleError`]).
pub(crate) fn auth_problem(problem: RuleError) -> ApiError {
    problem.into()
}

/// LEGACY, to be removed by the service-layer work: a problem by bare number.
pub(crate) fn problem(number: u8, detail: impl Into<String>) -> ApiError {
    let (status, title) = problem_status(number);
    ApiError::new(status, &format!("AUTH-{number:05}"), title).detail(detail)
}

/// The vendor a Maskinporten token was issued to (`consumer`), else AUTH-00023 (401).
pub(crate) fn vendor_of(caller: &Caller) -> ApiResult<OrgNumber> {
    Ok(systembruker_app::systemregister::vendor_of(caller)?)
}

/// Who makes a change, for the history.
pub(crate) fn actor(caller: &Caller) -> Actor {
    systembruker_app::systemregister::actor(caller)
}

/// `{party}` in a route: the party id (integer) as in the reference, or the party uuid.
/// Only organisations own system users.
pub(crate) async fn resolve_org_party(state: &AppState, text: &str) -> ApiResult<Party> {
    Ok(systembruker_app::systemusers::owner_party(&state.app, party_key(text)?).await?)
}

/// The organisation number of a party known to be an organisation.
pub(crate) fn org_of(party: &Party) -> String {
    systembruker_app::systemusers::org_of(party)
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
