//! The vendor's request pages (the confirmUrl): who asks, for which organisation, what
//! the system access will get, and what the person may do — approve and reject, or see
//! which rights they lack and pass the request on to an access manager.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use systembruker_app::approval::RequestRef;
use systembruker_app::systemusers::PartyKey;
use systembruker_app::{self as app, AppError};
use systembruker_domain::systemuser::{RequestStatus, SystemUserType};
use systembruker_domain::{OrgNumber, RuleError};
use uuid::Uuid;

use super::extract::{CsrfForm, Viewer};
use super::i18n::Texts;
use super::names::{Grant, Names};
use super::page::{Chrome, Failure, error_param, error_text, html, see_other};
use super::party::{acting_for, choose};
use super::session::{Outcome, PendingAnswer, RequestKind};
use super::{OVERVIEW, PortalState, with_query};
use crate::authentication::requests::to_dto;
use systembruker_app::access::{Standing, delegation_failures};

/// Something the person lacks to approve, in plain words.
pub(crate) struct Missing {
    pub name: String,
    pub reason: String,
}

/// The delegation check the approval will run, run now: every right and package the
/// person could not pass on, and why.
pub(crate) async fn missing_rights(
    state: &PortalState,
    names: &mut Names<'_>,
    standing: &Standing,
    resources: &[String],
    packages: &[String],
) -> Result<Vec<Missing>, Failure> {
    let (_, failures) = delegation_failures(&state.app.app, standing, resources, packages).await?;
    let t = names.texts();
    let mut out = Vec::new();
    for failure in failures {
        let name = if failure.kind == "accessPackage" {
            names.package(&failure.name).name
        } else {
            names.resource(&failure.name).await?.name
        };
        let reason = t.get(failure.lack.message_key());
        out.push(Missing {
            name,
            reason: reason.to_string(),
        });
    }
    Ok(out)
}

/// The status message of a request that can no longer be answered.
pub(crate) fn status_message(t: Texts, status: RequestStatus, change: bool) -> Option<String> {
    let key = match (status, change) {
        (RequestStatus::Accepted, false) => "request.status.accepted",
        (RequestStatus::Rejected, false) => "request.status.rejected",
        (RequestStatus::Timedout, false) => "request.status.timedout",
        (RequestStatus::Denied, false) => "request.status.denied",
        (RequestStatus::Accepted, true) => "change.status.accepted",
        (RequestStatus::Rejected, true) => "change.status.rejected",
        (RequestStatus::Timedout, true) => "change.status.timedout",
        (RequestStatus::Denied, true) => "change.status.denied",
        (RequestStatus::New | RequestStatus::NoChangeNeeded, _) => return None,
    };
    Some(t.get(key).to_string())
}

#[derive(Deserialize)]
pub(crate) struct RequestQuery {
    id: Option<String>,
    from: Option<String>,
    /// The reference's "opened inside the portal" flag: the same as `from=overview`.
    skiplogout: Option<String>,
    error: Option<String>,
    forwarded: Option<String>,
    /// After "ask for access": `sent`, or `pending` when an ask was waiting already.
    asked: Option<String>,
}

#[derive(Template)]
#[template(path = "portal/request.html")]
struct RequestPage {
    t: Texts,
    chrome: Chrome,
    agent: bool,
    id: String,
    kind: &'static str,
    action: String,
    heading: String,
    intro: String,
    acts_for: String,
    vendor_line: String,
    status: Option<String>,
    grants: Vec<Grant>,
    may_reject: bool,
    may_approve: bool,
    not_access_manager: bool,
    missing: Vec<Missing>,
    may_escalate: bool,
    escalated: bool,
    forwarded_now: bool,
    switched: Option<String>,
    error: Option<String>,
    from: String,
    own_org_hint: bool,
    /// The person lacks something and may ask the access managers for it.
    may_ask: bool,
    asked: Option<String>,
}

fn page_path(kind: SystemUserType) -> &'static str {
    match kind {
        SystemUserType::Standard => "/accessmanagement/ui/systemuser/request",
        SystemUserType::Agent => "/accessmanagement/ui/systemuser/agentrequest",
    }
}

/// `GET /systemuser/request?id=`.
pub(crate) async fn standard(
    State(state): State<PortalState>,
    viewer: Viewer,
    Query(query): Query<RequestQuery>,
) -> Response {
    let result = show(&state, &viewer, query, SystemUserType::Standard).await;
    viewer.finish(result)
}

/// `GET /systemuser/agentrequest?id=`.
pub(crate) async fn agent(
    State(state): State<PortalState>,
    viewer: Viewer,
    Query(query): Query<RequestQuery>,
) -> Response {
    let result = show(&state, &viewer, query, SystemUserType::Agent).await;
    viewer.finish(result)
}

/// The organisation a request is for, by name, for the "you cannot act for" page.
async fn request_org_name(state: &PortalState, t: Texts, id: Uuid) -> Option<String> {
    let request = state.store.request(id).await.ok()??;
    let name = Names::new(state, t)
        .org_name(&request.party_org)
        .await
        .ok()?;
    (!name.is_empty()).then_some(name)
}

/// The rules' "no access" becomes a page naming the organisation; others pass through.
pub(crate) async fn view_failure(
    state: &PortalState,
    t: Texts,
    id: Uuid,
    error: AppError,
) -> Failure {
    if matches!(error, AppError::Rule(RuleError::NotAccessManager { .. })) {
        Failure::NoAccess(request_org_name(state, t, id).await)
    } else {
        error.into()
    }
}

fn parse_uuid(text: Option<&str>) -> Option<Uuid> {
    text.and_then(|t| Uuid::parse_str(t.trim()).ok())
}

async fn show(
    state: &PortalState,
    viewer: &Viewer,
    query: RequestQuery,
    kind: SystemUserType,
) -> Result<Response, Failure> {
    let t = viewer.t();
    let id = parse_uuid(query.id.as_deref()).ok_or(Failure::BadLink)?;
    let view = match app::approval::view(&state.app.app, &viewer.caller(), id, kind).await {
        Ok(view) => view,
        Err(e) => return Err(view_failure(state, t, id, e).await),
    };
    let party = view.party.uuid;
    let dto = to_dto(state, view.request);
    // A link for another organisation the person may act for switches to it.
    let switched = viewer.party != Some(party);
    if switched {
        choose(state, viewer, party).await;
    }
    let acting = acting_for(state, viewer, party)
        .await?
        .ok_or(Failure::NoAccess(None))?;
    let mut names = Names::new(state, t);
    let system_name = names.system_name(&dto.system_id).await?;
    let vendor = match names.system(&dto.system_id).await? {
        Some(system) => names.vendor(&system).await?,
        None => (String::new(), String::new()),
    };
    let rights = dto.rights.clone().unwrap_or_default();
    let grants = names.grants(&rights, &dto.access_packages).await?;
    let open = dto.status == RequestStatus::New;
    let access_manager = acting.standing.access_manager;
    let missing = if open && kind == SystemUserType::Standard {
        let resources: Vec<String> = rights
            .iter()
            .filter_map(|r| r.resource_id().map(str::to_string))
            .collect();
        let packages: Vec<String> = dto
            .access_packages
            .iter()
            .filter_map(|p| state.catalogue.package(&p.urn).ok().map(|p| p.code.clone()))
            .collect();
        missing_rights(state, &mut names, &acting.standing, &resources, &packages).await?
    } else {
        Vec::new()
    };
    let may_ask = open && (!access_manager || !missing.is_empty());
    let may_reject = open && access_manager;
    let may_approve = may_reject && missing.is_empty();
    let agent = kind == SystemUserType::Agent;
    let own_org_hint = agent
        && dto.access_packages.iter().all(|p| {
            state
                .catalogue
                .package(&p.urn)
                .is_ok_and(|p| p.is_assignable)
        });
    let (heading, intro, acts_for) = if agent {
        (
            t.get("request.agent.heading"),
            t.with("request.agent.intro", "system", &system_name),
            t.with2(
                "request.agent.acts_for",
                ("system", &system_name),
                ("org", &acting.party.name),
            ),
        )
    } else {
        (
            t.get("request.heading"),
            t.with("request.intro", "system", &system_name),
            t.with2(
                "request.acts_for",
                ("system", &system_name),
                ("org", &acting.party.name),
            ),
        )
    };
    let inside =
        query.from.as_deref() == Some("overview") || query.skiplogout.as_deref() == Some("true");
    let from = if inside {
        "overview".to_string()
    } else {
        String::new()
    };
    let page = RequestPage {
        t,
        chrome: Chrome::new(&viewer.visit, heading)
            .party(&acting.party)
            .focused(),
        agent,
        id: id.to_string(),
        kind: if agent { "agent" } else { "standard" },
        action: page_path(kind).to_string(),
        heading: heading.to_string(),
        intro,
        acts_for,
        vendor_line: t.with2(
            "common.delivered_by",
            ("vendor", &vendor.0),
            ("org", &vendor.1),
        ),
        status: status_message(t, dto.status, false),
        grants,
        may_reject,
        may_approve,
        not_access_manager: open && !access_manager,
        missing,
        may_escalate: open && !may_approve && !dto.escalated,
        escalated: open && !may_approve && dto.escalated && query.forwarded.is_none(),
        forwarded_now: open && dto.escalated && query.forwarded.is_some(),
        switched: switched.then(|| t.with("request.switched", "org", &acting.party.name)),
        error: query.error.as_deref().map(|code| error_text(t, code)),
        from,
        own_org_hint,
        may_ask,
        asked: match query.asked.as_deref() {
            Some("sent") => Some(t.get("access.request.asked").to_string()),
            Some("pending") => Some(t.get("access.request.already_asked").to_string()),
            _ => None,
        },
    };
    Ok(html(StatusCode::OK, &page))
}

#[derive(Deserialize)]
pub(crate) struct AnswerForm {
    id: String,
    from: Option<String>,
}

/// `POST /systemuser/request/{approve|reject|escalate}`.
pub(crate) async fn answer_standard(
    State(state): State<PortalState>,
    viewer: Viewer,
    Path(action): Path<String>,
    CsrfForm(form): CsrfForm<AnswerForm>,
) -> Response {
    let result = answer(&state, &viewer, &action, form, SystemUserType::Standard).await;
    viewer.finish(result)
}

/// `POST /systemuser/agentrequest/{approve|reject|escalate}`.
pub(crate) async fn answer_agent(
    State(state): State<PortalState>,
    viewer: Viewer,
    Path(action): Path<String>,
    CsrfForm(form): CsrfForm<AnswerForm>,
) -> Response {
    let result = answer(&state, &viewer, &action, form, SystemUserType::Agent).await;
    viewer.finish(result)
}

/// After an answer: inside the portal, back to the overview; from a vendor's link, the
/// session ends and the browser goes on to the vendor (or our receipt).
pub(crate) async fn after_answer(
    state: &PortalState,
    viewer: &Viewer,
    answer: PendingAnswer,
    from_overview: bool,
) -> Response {
    if from_overview {
        let new = answer.id.to_string();
        let pairs: &[(&str, &str)] = if answer.outcome == Outcome::Approved {
            &[("new", &new)]
        } else {
            &[]
        };
        return see_other(&with_query(OVERVIEW, pairs));
    }
    state
        .sessions
        .update(&viewer.session_id, |s| s.pending = Some(answer))
        .await;
    see_other("/accessmanagement/ui/logout/answered")
}

async fn answer(
    state: &PortalState,
    viewer: &Viewer,
    action: &str,
    form: AnswerForm,
    kind: SystemUserType,
) -> Result<Response, Failure> {
    let id = parse_uuid(Some(&form.id)).ok_or(Failure::BadForm)?;
    let from = form.from.filter(|f| f == "overview");
    let back = |extra: (&str, &str)| {
        let id = id.to_string();
        let mut pairs = vec![("id", id.as_str()), extra];
        if let Some(from) = &from {
            pairs.push(("from", from.as_str()));
        }
        see_other(&with_query(page_path(kind), &pairs))
    };
    let app = &state.app.app;
    let request = app::requests::live_request(app, id, kind).await?;
    let org = OrgNumber::parse(&request.party_org).map_err(|_| Failure::NotFound)?;
    let party = state
        .store
        .organization(&org)
        .await?
        .ok_or(Failure::NotFound)?;
    let caller = viewer.caller();
    let target = RequestRef {
        party: PartyKey::Uuid(party.uuid),
        id,
        kind,
    };
    let outcome = match action {
        "approve" => app::approval::approve(app, &caller, target)
            .await
            .map(|()| Outcome::Approved),
        "reject" => app::approval::reject(app, &caller, target)
            .await
            .map(|()| Outcome::Rejected),
        "escalate" => match app::approval::escalate(app, &caller, target).await {
            Ok(true) => Ok(Outcome::Escalated),
            Ok(false) => return Err(Failure::NoAccess(Some(party.name))),
            Err(e) => Err(e),
        },
        _ => return Err(Failure::NotFound),
    };
    match outcome {
        Ok(Outcome::Escalated) => Ok(back(("forwarded", "1"))),
        Ok(outcome) => {
            let kind = match kind {
                SystemUserType::Standard => RequestKind::Standard,
                SystemUserType::Agent => RequestKind::Agent,
            };
            let answer = PendingAnswer { kind, id, outcome };
            Ok(after_answer(state, viewer, answer, from.is_some()).await)
        }
        Err(e) => Ok(back(("error", error_param(&e)))),
    }
}
