//! Creating system access without a vendor request: pick a visible system, see exactly
//! what it will get and whether you may give it, confirm.

use std::collections::HashSet;

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use systembruker_app as app;
use systembruker_domain::system::RegisteredSystem;
use systembruker_domain::systemuser::{SystemUserType, check_packages};
use systembruker_storage::SystemUserKey;

use super::extract::{CsrfForm, Viewer};
use super::i18n::Texts;
use super::names::{Grant, Names, localized, spaced};
use super::page::{Chrome, Failure, error_param, error_text, html, see_other};
use super::party::{Acting, acting};
use super::requests::{Missing, missing_rights};
use super::{OVERVIEW, PortalState, with_query};
use crate::authentication::systemregister::visible_summaries;

const CREATE: &str = "/accessmanagement/ui/systemuser/create";

#[derive(Deserialize)]
pub(crate) struct CreateQuery {
    #[serde(default)]
    q: String,
    system: Option<String>,
    error: Option<String>,
}

/// A system on the pick list.
struct Choice {
    id: String,
    name: String,
    description: String,
    vendor: String,
    /// The organisation has system access for it already.
    taken: bool,
}

#[derive(Template)]
#[template(path = "portal/create_pick.html")]
struct PickPage {
    t: Texts,
    chrome: Chrome,
    query: String,
    choices: Vec<Choice>,
    total: usize,
    may_create: bool,
}

#[derive(Template)]
#[template(path = "portal/create_confirm.html")]
struct ConfirmPage {
    t: Texts,
    chrome: Chrome,
    system_id: String,
    heading: String,
    vendor_line: String,
    grants: Vec<Grant>,
    missing: Vec<Missing>,
    existing: Option<String>,
    error: Option<String>,
}

/// `GET /systemuser/create`: step 1 (pick) or, with `system`, step 2 (confirm).
pub(crate) async fn create(
    State(state): State<PortalState>,
    viewer: Viewer,
    Query(query): Query<CreateQuery>,
) -> Response {
    let result = async {
        let acting = acting(&state, &viewer).await?;
        match query
            .system
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            Some(system) => {
                confirm_page(&state, &viewer, &acting, system, query.error.as_deref()).await
            }
            None => pick_page(&state, &viewer, &acting, query.q.trim()).await,
        }
    }
    .await;
    viewer.finish(result)
}

async fn pick_page(
    state: &PortalState,
    viewer: &Viewer,
    acting: &Acting,
    query: &str,
) -> Result<Response, Failure> {
    let t = viewer.t();
    let language = t.language();
    let taken: HashSet<String> = state
        .store
        .system_users_of(&acting.org(), SystemUserType::Standard)
        .await?
        .into_iter()
        .map(|u| u.system_id)
        .collect();
    let systems = visible_summaries(state).await?;
    let total = systems.len();
    let wanted = query.to_lowercase();
    let mut choices: Vec<Choice> = systems
        .into_iter()
        .map(|s| Choice {
            name: localized(&s.name, language).unwrap_or_else(|| s.system_id.clone()),
            description: localized(&s.description, language).unwrap_or_default(),
            vendor: format!(
                "{} ({})",
                s.system_vendor_org_name,
                spaced(&s.system_vendor_org_number)
            ),
            taken: taken.contains(&s.system_id),
            id: s.system_id,
        })
        .filter(|c| {
            wanted.is_empty()
                || c.name.to_lowercase().contains(&wanted)
                || c.vendor.to_lowercase().contains(&wanted)
                || c.vendor.replace(' ', "").contains(&wanted.replace(' ', ""))
        })
        .collect();
    choices.sort_by_key(|c| c.name.to_lowercase());
    let status = if acting.standing.access_manager {
        StatusCode::OK
    } else {
        StatusCode::FORBIDDEN
    };
    let page = PickPage {
        t,
        chrome: Chrome::new(&viewer.visit, t.get("create.title"))
            .party(&acting.party)
            .current("create"),
        query: query.to_string(),
        choices,
        total,
        may_create: acting.standing.access_manager,
    };
    Ok(html(status, &page))
}

/// The codes of the system's packages, as a standard system user gets them.
fn package_codes(state: &PortalState, system: &RegisteredSystem) -> Vec<String> {
    check_packages(
        &system.access_packages,
        system,
        SystemUserType::Standard,
        state.catalogue,
    )
    .unwrap_or_default()
}

async fn confirm_page(
    state: &PortalState,
    viewer: &Viewer,
    acting: &Acting,
    system_id: &str,
    error: Option<&str>,
) -> Result<Response, Failure> {
    let t = viewer.t();
    // A visible system, or one of the organisation's own (a self-developed system).
    let system = match app::requests::live_system(&state.app.app, system_id).await {
        Ok(system)
            if system.is_visible
                || system
                    .vendor_org()
                    .is_some_and(|o| o.as_str() == acting.org()) =>
        {
            system
        }
        _ => return Err(Failure::NotFound),
    };
    let mut names = Names::new(state, t);
    let system_name = names.system_name(&system.id).await?;
    let (vendor, vendor_org) = names.vendor(&system).await?;
    let grants = names
        .grants(&system.rights, &system.access_packages)
        .await?;
    let resources: Vec<String> = system
        .rights
        .iter()
        .filter_map(|r| r.resource_id().map(str::to_string))
        .collect();
    let missing = if acting.standing.access_manager {
        missing_rights(
            state,
            &mut names,
            &acting.standing,
            &resources,
            &package_codes(state, &system),
        )
        .await?
    } else {
        Vec::new()
    };
    let org = acting.org();
    let key = SystemUserKey {
        system_id: system.id.clone(),
        org: org.clone(),
        external_ref: org,
    };
    let existing = state
        .store
        .system_user_by_key(&key)
        .await?
        .map(|u| format!("/accessmanagement/ui/systemuser/{}", u.id));
    let heading_key = if grants.len() == 1 {
        "create.confirm.heading.one"
    } else {
        "create.confirm.heading.other"
    };
    let page = ConfirmPage {
        t,
        chrome: Chrome::new(&viewer.visit, t.get("create.confirm.title"))
            .party(&acting.party)
            .current("create"),
        heading: t.with2(
            heading_key,
            ("system", &system_name),
            ("org", &acting.party.name),
        ),
        vendor_line: t.with2(
            "common.delivered_by",
            ("vendor", &vendor),
            ("org", &vendor_org),
        ),
        system_id: system.id.clone(),
        grants,
        missing,
        existing,
        error: error.map(|code| error_text(t, code)),
    };
    let status = if acting.standing.access_manager {
        StatusCode::OK
    } else {
        StatusCode::FORBIDDEN
    };
    Ok(html(status, &page))
}

#[derive(Deserialize)]
pub(crate) struct CreateForm {
    system: String,
}

/// `POST /systemuser/create`: creates the system access (the API's rules decide), then
/// the overview with it marked new; on refusal, back to step 2 with the reason.
pub(crate) async fn create_post(
    State(state): State<PortalState>,
    viewer: Viewer,
    CsrfForm(form): CsrfForm<CreateForm>,
) -> Response {
    let result = async {
        let acting = acting(&state, &viewer).await?;
        let app = &state.app.app;
        let party = acting.key();
        let system = form.system.trim();
        match app::systemusers::create(app, &viewer.caller(), party, system, None).await {
            Ok(user) => Ok(see_other(&with_query(
                OVERVIEW,
                &[("new", &user.id.to_string())],
            ))),
            Err(e) => Ok(see_other(&with_query(
                CREATE,
                &[("system", system), ("error", error_param(&e))],
            ))),
        }
    }
    .await;
    viewer.finish(result)
}
