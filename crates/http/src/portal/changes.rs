//! The vendor's change request page: what would be added to and removed from an
//! existing system access, and approve or reject (access managers only; change
//! requests cannot be passed on, and answering always ends with logout).

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use systembruker_domain::systemuser::RequestStatus;
use uuid::Uuid;

use super::extract::{CsrfForm, Viewer};
use super::i18n::Texts;
use super::names::{Grant, Names};
use super::page::{Chrome, Failure, error_param, error_text, html, see_other};
use super::party::{acting_for, choose};
use super::requests::{Missing, after_answer, missing_rights, status_message};
use super::session::{Outcome, PendingAnswer, RequestKind};
use super::{PortalState, with_query};
use systembruker_app::systemusers::{PartyKey, owner_party};
use systembruker_app::{AppError, changerequests};

const PAGE: &str = "/accessmanagement/ui/systemuser/changerequest";

#[derive(Deserialize)]
pub(crate) struct ChangeQuery {
    id: Option<String>,
    error: Option<String>,
}

/// One group of changes ("these packages will be added", …).
struct Group {
    heading: String,
    grants: Vec<Grant>,
}

#[derive(Template)]
#[template(path = "portal/change.html")]
struct ChangePage {
    t: Texts,
    chrome: Chrome,
    id: String,
    intro: String,
    title: String,
    vendor_line: String,
    status: Option<String>,
    groups: Vec<Group>,
    may_reject: bool,
    may_approve: bool,
    not_access_manager: bool,
    missing: Vec<Missing>,
    switched: Option<String>,
    error: Option<String>,
}

/// `GET /systemuser/changerequest?id=`.
pub(crate) async fn change(
    State(state): State<PortalState>,
    viewer: Viewer,
    Query(query): Query<ChangeQuery>,
) -> Response {
    let result = show(&state, &viewer, query).await;
    viewer.finish(result)
}

/// The group heading: singular or plural by count.
fn group(t: Texts, key: &str, grants: Vec<Grant>) -> Option<Group> {
    if grants.is_empty() {
        return None;
    }
    let form = if grants.len() == 1 { "one" } else { "other" };
    Some(Group {
        heading: t.get(&format!("{key}.{form}")).to_string(),
        grants,
    })
}

async fn show(
    state: &PortalState,
    viewer: &Viewer,
    query: ChangeQuery,
) -> Result<Response, Failure> {
    let t = viewer.t();
    let id = query
        .id
        .as_deref()
        .and_then(|id| Uuid::parse_str(id.trim()).ok())
        .ok_or(Failure::BadLink)?;
    let (request, user) = changerequests::for_reader(&state.app.app, &viewer.caller(), id).await?;
    let party = user.owner_party_uuid;
    let switched = viewer.party != Some(party);
    if switched {
        choose(state, viewer, party).await;
    }
    let acting = acting_for(state, viewer, party)
        .await?
        .ok_or(Failure::NoAccess(None))?;
    let mut names = Names::new(state, t);
    let system_name = names.system_name(&request.system_id).await?;
    let vendor = match names.system(&request.system_id).await? {
        Some(system) => names.vendor(&system).await?,
        None => (String::new(), String::new()),
    };
    let groups = [
        // The keys are listed in full so the catalogue test sees them:
        // t.count("change.group.add_packages", n), t.count("change.group.remove_packages", n),
        // t.count("change.group.add_rights", n), t.count("change.group.remove_rights", n).
        group(
            t,
            "change.group.add_packages",
            names.grants(&[], &request.required_packages).await?,
        ),
        group(
            t,
            "change.group.remove_packages",
            names.grants(&[], &request.unwanted_packages).await?,
        ),
        group(
            t,
            "change.group.add_rights",
            names.grants(&request.required_rights, &[]).await?,
        ),
        group(
            t,
            "change.group.remove_rights",
            names.grants(&request.unwanted_rights, &[]).await?,
        ),
    ]
    .into_iter()
    .flatten()
    .collect();
    let status = changerequests::effective_status(&state.app.app, &request);
    let open = status == RequestStatus::New;
    let access_manager = acting.standing.access_manager;
    let missing = if open {
        let plan = changerequests::plan(&state.app.app, &request).await?;
        missing_rights(
            state,
            &mut names,
            &acting.standing,
            &plan.add_rights,
            &plan.add_packages,
        )
        .await?
    } else {
        Vec::new()
    };
    let may_reject = open && access_manager;
    let page = ChangePage {
        t,
        chrome: Chrome::new(&viewer.visit, t.get("change.heading"))
            .party(&acting.party)
            .focused(),
        id: id.to_string(),
        intro: t.with("change.intro", "system", &system_name),
        title: t.with2(
            "change.for",
            ("title", &user.integration_title),
            ("org", &acting.party.name),
        ),
        vendor_line: t.with2(
            "common.delivered_by",
            ("vendor", &vendor.0),
            ("org", &vendor.1),
        ),
        status: status_message(t, status, true),
        groups,
        may_reject,
        may_approve: may_reject && missing.is_empty(),
        not_access_manager: open && !access_manager,
        missing,
        switched: switched.then(|| t.with("request.switched", "org", &acting.party.name)),
        error: query.error.as_deref().map(|code| error_text(t, code)),
    };
    Ok(html(StatusCode::OK, &page))
}

#[derive(Deserialize)]
pub(crate) struct ChangeForm {
    id: String,
}

/// `POST /systemuser/changerequest/{approve|reject}`.
pub(crate) async fn answer(
    State(state): State<PortalState>,
    viewer: Viewer,
    Path(action): Path<String>,
    CsrfForm(form): CsrfForm<ChangeForm>,
) -> Response {
    let result = async {
        let id = Uuid::parse_str(form.id.trim()).map_err(|_| Failure::BadForm)?;
        let (_, user) = changerequests::for_reader(&state.app.app, &viewer.caller(), id).await?;
        let (app, caller) = (&state.app.app, viewer.caller());
        let outcome = match action.as_str() {
            "approve" => Outcome::Approved,
            "reject" => Outcome::Rejected,
            _ => return Err(Failure::NotFound),
        };
        let outcome = async {
            let party = owner_party(app, PartyKey::Uuid(user.owner_party_uuid)).await?;
            match outcome {
                Outcome::Approved => changerequests::approve(app, &caller, &party, id).await?,
                _ => changerequests::reject(app, &caller, &party, id).await?,
            }
            Ok::<_, AppError>(outcome)
        }
        .await;
        Ok(match outcome {
            Ok(outcome) => {
                let answer = PendingAnswer {
                    kind: RequestKind::Change,
                    id,
                    outcome,
                };
                after_answer(&state, &viewer, answer, false).await
            }
            Err(e) => see_other(&with_query(
                PAGE,
                &[("id", &id.to_string()), ("error", error_param(&e))],
            )),
        })
    }
    .await;
    viewer.finish(result)
}
