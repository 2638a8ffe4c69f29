//! One system access: what it may do in plain words, when it was created, and deleting
//! it (with a confirmation step). Agent system accesses show their packages and their
//! clients (`super::clients`); deleting one removes its clients too.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use systembruker_app::{self as app, AppError};
use systembruker_domain::RuleError;
use systembruker_domain::systemuser::SystemUserType;
use uuid::Uuid;

use super::clients::{ClientsSection, ListQuery, section};
use super::extract::{CsrfForm, Viewer};
use super::i18n::Texts;
use super::names::{Grant, Names};
use super::page::{Chrome, Failure, error_param, error_text, html, see_other};
use super::party::{Acting, acting};
use super::{OVERVIEW, PortalState, with_query};
use crate::authentication::SystemUserDto;
use systembruker_app::clients::agent_clients;

#[derive(Deserialize)]
pub(crate) struct DetailQuery {
    error: Option<String>,
}

#[derive(Template)]
#[template(path = "portal/details.html")]
struct DetailPage {
    t: Texts,
    chrome: Chrome,
    id: String,
    title: String,
    for_org: String,
    system_name: String,
    vendor_line: String,
    created: String,
    services: Vec<Grant>,
    packages: Vec<Grant>,
    agent: bool,
    clients: Option<ClientsSection>,
    may_delete: bool,
    error: Option<String>,
}

/// `GET /systemuser/{id}`.
pub(crate) async fn standard(
    State(state): State<PortalState>,
    viewer: Viewer,
    Path(id): Path<String>,
    Query(query): Query<DetailQuery>,
) -> Response {
    let result = show(&state, &viewer, &id, query.error, None).await;
    viewer.finish(result)
}

/// `GET /systemuser/{id}/agentdelegation`.
pub(crate) async fn agent(
    State(state): State<PortalState>,
    viewer: Viewer,
    Path(id): Path<String>,
    Query(query): Query<ListQuery>,
) -> Response {
    let result = show(&state, &viewer, &id, None, Some(query)).await;
    viewer.finish(result)
}

/// The page of a system access of either type.
fn detail_path(user: &SystemUserDto) -> String {
    match user.user_type {
        SystemUserType::Standard => format!("/accessmanagement/ui/systemuser/{}", user.id),
        SystemUserType::Agent => format!(
            "/accessmanagement/ui/systemuser/{}/agentdelegation",
            user.id
        ),
    }
}

/// The system access, if it belongs to the chosen organisation.
async fn load(
    state: &PortalState,
    viewer: &Viewer,
    acting: &Acting,
    id: &str,
) -> Result<SystemUserDto, Failure> {
    let id = Uuid::parse_str(id.trim()).map_err(|_| Failure::NotFound)?;
    let app = &state.app.app;
    let party = acting.key();
    match app::systemusers::detail(app, &viewer.caller(), party, id).await {
        Ok((user, holdings)) => Ok(SystemUserDto::detailed(user, holdings)),
        Err(AppError::Rule(RuleError::SystemUserNotFound { .. })) => Err(Failure::NotFound),
        Err(e) => Err(e.into()),
    }
}

fn created_millis(user: &SystemUserDto) -> i64 {
    chrono::DateTime::parse_from_rfc3339(&user.created)
        .map(|t| t.timestamp_millis())
        .unwrap_or_default()
}

/// The page of a standard system access, or with `clients` (the list's view) an agent's.
async fn show(
    state: &PortalState,
    viewer: &Viewer,
    id: &str,
    error: Option<String>,
    clients: Option<ListQuery>,
) -> Result<Response, Failure> {
    let t = viewer.t();
    let kind = match clients {
        Some(_) => SystemUserType::Agent,
        None => SystemUserType::Standard,
    };
    let acting = acting(state, viewer).await?;
    let user = load(state, viewer, &acting, id).await?;
    if user.user_type != kind {
        return Err(Failure::Redirect(detail_path(&user)));
    }
    let mut names = Names::new(state, t);
    let system_name = names.system_name(&user.system_id).await?;
    let vendor = match names.system(&user.system_id).await? {
        Some(system) => names.vendor(&system).await?,
        None => (String::new(), String::new()),
    };
    let services = names
        .grants(user.rights.as_deref().unwrap_or_default(), &[])
        .await?;
    let packages = names
        .grants(&[], user.access_packages.as_deref().unwrap_or_default())
        .await?;
    let clients = match &clients {
        Some(query) => Some(section(state, viewer, &acting, user.id, query).await?),
        None => None,
    };
    let page = DetailPage {
        t,
        chrome: Chrome::new(&viewer.visit, user.integration_title.clone())
            .party(&acting.party)
            .current("overview"),
        id: user.id.to_string(),
        title: user.integration_title.clone(),
        for_org: t.with("details.for", "org", &acting.party.name),
        system_name,
        vendor_line: t.with2(
            "common.delivered_by",
            ("vendor", &vendor.0),
            ("org", &vendor.1),
        ),
        created: t.with("details.created", "date", &t.date(created_millis(&user))),
        services,
        packages,
        agent: kind == SystemUserType::Agent,
        clients,
        may_delete: acting.standing.access_manager,
        error: error.as_deref().map(|code| error_text(t, code)),
    };
    Ok(html(StatusCode::OK, &page))
}

#[derive(Template)]
#[template(path = "portal/delete.html")]
struct DeletePage {
    t: Texts,
    chrome: Chrome,
    id: String,
    question: String,
    /// For an agent: its clients go too.
    clients_warning: Option<String>,
    back: String,
}

/// `GET /systemuser/{id}/delete`: "are you sure?".
pub(crate) async fn confirm_delete(
    State(state): State<PortalState>,
    viewer: Viewer,
    Path(id): Path<String>,
) -> Response {
    let result = async {
        let t = viewer.t();
        let acting = acting(&state, &viewer).await?;
        let user = load(&state, &viewer, &acting, &id).await?;
        if !acting.standing.access_manager {
            return Err(Failure::App(
                RuleError::NotAccessManager {
                    detail: "only access managers delete system access".into(),
                }
                .into(),
            ));
        }
        let clients_warning = match user.user_type {
            SystemUserType::Agent => Some(clients_warning(&state, t, user.id).await?),
            SystemUserType::Standard => None,
        };
        let page = DeletePage {
            t,
            chrome: Chrome::new(&viewer.visit, t.get("delete.title"))
                .party(&acting.party)
                .current("overview"),
            id: user.id.to_string(),
            question: t.with("delete.question", "title", &user.integration_title),
            clients_warning,
            back: detail_path(&user),
        };
        Ok(html(StatusCode::OK, &page))
    }
    .await;
    viewer.finish(result)
}

/// What deleting an agent does to its clients, in numbers.
async fn clients_warning(state: &PortalState, t: Texts, id: uuid::Uuid) -> Result<String, Failure> {
    let count = agent_clients(&state.app.app, id).await?.len();
    Ok(if count == 0 {
        t.get("delete.agent.no_clients").to_string()
    } else {
        t.count("delete.agent.clients", count)
    })
}

#[derive(Deserialize)]
pub(crate) struct DeleteForm {}

/// `POST /systemuser/{id}/delete`: deletes (the API's rules decide), then the overview.
pub(crate) async fn delete(
    State(state): State<PortalState>,
    viewer: Viewer,
    Path(id): Path<String>,
    CsrfForm(_form): CsrfForm<DeleteForm>,
) -> Response {
    let result = async {
        let acting = acting(&state, &viewer).await?;
        let user = load(&state, &viewer, &acting, &id).await?;
        let caller = viewer.caller();
        let app = &state.app.app;
        let deleted = match user.user_type {
            SystemUserType::Agent => {
                app::clients::delete_agent(app, &caller, &acting.party, user.id).await
            }
            SystemUserType::Standard => {
                app::systemusers::delete(app, &caller, acting.key(), user.id).await
            }
        };
        match deleted {
            Ok(()) => Ok(see_other(&with_query(OVERVIEW, &[("notice", "deleted")]))),
            Err(AppError::Rule(RuleError::SystemUserNotFound { .. })) => Err(Failure::NotFound),
            Err(e) => Ok(see_other(&with_query(
                &detail_path(&user),
                &[("error", error_param(&e))],
            ))),
        }
    }
    .await;
    viewer.finish(result)
}
