//! The overview: the organisation's own system accesses, its system accesses for
//! clients, and (for access managers) requests other users passed on to them.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use systembruker_app as app;
use systembruker_domain::systemuser::SystemUserType;

use super::extract::Viewer;
use super::i18n::Texts;
use super::names::Names;
use super::page::{Chrome, Failure, html};
use super::party::{Acting, acting};
use super::{PortalState, with_query};

/// One system access in a list.
struct UserRow {
    title: String,
    system: String,
    vendor: String,
    href: String,
    is_new: bool,
}

/// One request waiting for an access manager.
struct PendingRow {
    title: String,
    reference: String,
    kind: String,
    href: String,
}

#[derive(Template)]
#[template(path = "portal/overview.html")]
struct OverviewPage {
    t: Texts,
    chrome: Chrome,
    heading: String,
    access_manager: bool,
    own: Vec<UserRow>,
    clients: Vec<UserRow>,
    pending: Vec<PendingRow>,
    notice: Option<String>,
}

#[derive(Deserialize)]
pub(crate) struct OverviewQuery {
    /// The system access just created or approved, marked "new".
    new: Option<String>,
    notice: Option<String>,
}

/// `GET /systemuser/overview`.
pub(crate) async fn overview(
    State(state): State<PortalState>,
    viewer: Viewer,
    Query(query): Query<OverviewQuery>,
) -> Response {
    let result = render(&state, &viewer, query).await;
    viewer.finish(result)
}

async fn render(
    state: &PortalState,
    viewer: &Viewer,
    query: OverviewQuery,
) -> Result<Response, Failure> {
    let t = viewer.t();
    let acting = acting(state, viewer).await?;
    let caller = viewer.caller();
    let mut names = Names::new(state, t);
    let new_id = query.new.unwrap_or_default();
    let mut own = Vec::new();
    let mut clients = Vec::new();
    // Each list only for those the PDP lets read it; the others see the page's notice.
    for (kind, into, readable) in [
        (
            SystemUserType::Standard,
            &mut own,
            acting.standing.reads_access,
        ),
        (
            SystemUserType::Agent,
            &mut clients,
            acting.standing.reads_overview,
        ),
    ] {
        if !readable {
            continue;
        }
        let party = acting.key();
        let users = app::systemusers::list(&state.app.app, &caller, party, kind).await?;
        for user in users {
            let system = names.system(&user.system_id).await?;
            let vendor = match &system {
                Some(system) => names.vendor(system).await?.0,
                None => String::new(),
            };
            let href = match kind {
                SystemUserType::Standard => format!("/accessmanagement/ui/systemuser/{}", user.id),
                SystemUserType::Agent => {
                    format!(
                        "/accessmanagement/ui/systemuser/{}/agentdelegation",
                        user.id
                    )
                }
            };
            into.push(UserRow {
                system: names.system_name(&user.system_id).await?,
                title: user.integration_title,
                vendor,
                href,
                is_new: user.id.to_string() == new_id,
            });
        }
    }
    let pending = pending_rows(state, viewer, &acting, &mut names).await?;
    let notice = match query.notice.as_deref() {
        Some("deleted") => Some(t.get("overview.notice.deleted").to_string()),
        _ => None,
    };
    let page = OverviewPage {
        t,
        chrome: Chrome::new(&viewer.visit, t.get("overview.title"))
            .party(&acting.party)
            .current("overview"),
        heading: t.with("overview.heading", "org", &acting.party.name),
        access_manager: acting.standing.access_manager,
        own,
        clients,
        pending,
        notice,
    };
    Ok(html(StatusCode::OK, &page))
}

/// Escalated requests, for access managers only (others cannot answer them).
async fn pending_rows(
    state: &PortalState,
    viewer: &Viewer,
    acting: &Acting,
    names: &mut Names<'_>,
) -> Result<Vec<PendingRow>, Failure> {
    let t = viewer.t();
    if !acting.standing.access_manager {
        return Ok(Vec::new());
    }
    let caller = viewer.caller();
    let mut rows = Vec::new();
    for (kind, page, label) in [
        (
            SystemUserType::Standard,
            "request",
            t.get("overview.pending.standard"),
        ),
        (
            SystemUserType::Agent,
            "agentrequest",
            t.get("overview.pending.agent"),
        ),
    ] {
        let app = &state.app.app;
        let party = acting.key();
        let (_, requests) =
            app::approval::pending(app, &caller, party, &acting.org(), kind).await?;
        for request in requests {
            let id = request.id.to_string();
            let title = if request.integration_title.is_empty() {
                names.system_name(&request.system_id).await?
            } else {
                request.integration_title
            };
            rows.push(PendingRow {
                title,
                reference: id
                    .chars()
                    .rev()
                    .take(5)
                    .collect::<Vec<_>>()
                    .into_iter()
                    .rev()
                    .collect(),
                kind: label.to_string(),
                href: with_query(
                    &format!("/accessmanagement/ui/systemuser/{page}"),
                    &[("id", &id), ("from", "overview")],
                ),
            });
        }
    }
    Ok(rows)
}
