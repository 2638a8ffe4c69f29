//! Client management for agent system accesses (portal.md §1.4): which of the accounting
//! firm's clients the system may act for. The agent's page lists the clients it has,
//! with a search and pages; the "add clients" page lists the firm's clients that provide
//! every package, to add or remove one at a time or all that match a search at once.
//!
//! Every rule is the client-delegation API's (`crate::authentication::clients`): only a
//! client administrator (package `klientadministrator`) sees and changes clients, only an
//! access manager adds or removes the firm itself. A firm may have 20,000 clients, so
//! search and paging run on the server and a page never renders more than [`PAGE_SIZE`]
//! rows; "add all" runs in batches of [`BATCH_SIZE`], so one client that cannot be added
//! does not stop the others.

use std::collections::HashSet;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use systembruker_storage::{ClientCandidate, NewClientDelegation, StoredSystemUser};
use uuid::Uuid;

use super::extract::{CsrfForm, CsrfJson, Viewer};
use super::i18n::Texts;
use super::names::{Names, spaced};
use super::page::{Chrome, Failure, api_message_key, html, see_other};
use super::party::{Acting, acting};
use super::{PortalState, with_query};
use crate::auth::Caller;
use crate::authentication::access::Action;
use crate::authentication::clients::{
    add_clients, add_firm_itself, agent_clients, available_clients, available_plans,
    client_administrator, owned_agent, plan_for, remove_client, remove_firm_itself, self_possible,
};
use crate::problem::ApiError;
use systembruker_app::AppError;
use systembruker_domain::RuleError;

/// Rows per page: enough to scan, few enough to render in a blink with any number of clients.
const PAGE_SIZE: usize = 25;
/// Clients per `add_clients` call of "add all": one transaction each, so a client whose
/// relation ended meanwhile only costs its own batch a second, one-by-one try.
const BATCH_SIZE: usize = 500;
/// Batches per call of the script: every call reads the firm's client list again (each
/// batch moves the facts counter its cache hangs on), so a call does a few batches, and
/// still answers within about a second for the progress bar.
const BATCHES_PER_CALL: usize = 4;

/// The agent's page, where its clients are listed.
fn details_path(id: Uuid) -> String {
    format!("/accessmanagement/ui/systemuser/{id}/agentdelegation")
}

/// The page for adding clients to the agent.
fn add_path(id: Uuid) -> String {
    format!("{}/clients", details_path(id))
}

// ----- search, filter and pages, carried through links and forms -----

/// A list's search, page and filter, as links and forms carry them, and what just
/// happened (after a form post) for the notice.
#[derive(Debug, Deserialize, Default, Clone)]
pub(crate) struct ListQuery {
    #[serde(default)]
    pub q: String,
    #[serde(default)]
    pub page: String,
    #[serde(default)]
    pub hide_added: String,
    /// `added`, `removed`, `self_added` or `self_removed`.
    pub done: Option<String>,
    /// The client it was done to.
    pub client: Option<String>,
    /// An API problem code to explain.
    pub error: Option<String>,
}

impl ListQuery {
    fn search(&self) -> &str {
        self.q.trim()
    }

    fn page_number(&self) -> usize {
        self.page.trim().parse().unwrap_or(1).max(1)
    }

    fn hides_added(&self) -> bool {
        !self.hide_added.trim().is_empty()
    }

    /// `path` with this search and filter, on `page`.
    fn href(&self, path: &str, page: usize) -> String {
        let page = page.to_string();
        let mut pairs = Vec::new();
        if !self.search().is_empty() {
            pairs.push(("q", self.search()));
        }
        if self.hides_added() {
            pairs.push(("hide_added", "1"));
        }
        if page != "1" {
            pairs.push(("page", page.as_str()));
        }
        with_query(path, &pairs)
    }

    /// The hidden fields a row's form sends, so the answer returns to the same view.
    fn carry(&self, from: &'static str) -> Carry {
        Carry {
            from,
            q: self.search().to_string(),
            page: self.page_number().to_string(),
            hide_added: if self.hides_added() { "1" } else { "" },
        }
    }
}

/// What a row's form carries back: which page it came from and that page's view.
pub(crate) struct Carry {
    pub from: &'static str,
    pub q: String,
    pub page: String,
    pub hide_added: &'static str,
}

/// A search for part of a name, or (digits and spaces only) part of an org number.
struct Search {
    lower: String,
    digits: Option<String>,
}

impl Search {
    fn new(query: &str) -> Self {
        let query = query.trim();
        let numeric = !query.is_empty()
            && query
                .chars()
                .all(|c| c.is_ascii_digit() || c.is_whitespace());
        Self {
            lower: query.to_lowercase(),
            digits: numeric.then(|| query.chars().filter(char::is_ascii_digit).collect()),
        }
    }

    fn matches(&self, name: &str, org: &str) -> bool {
        if self.lower.is_empty() {
            return true;
        }
        match &self.digits {
            Some(digits) => org.contains(digits.as_str()),
            None => name.to_lowercase().contains(&self.lower),
        }
    }
}

/// Where a list is among its pages, with the links to the neighbours.
pub(crate) struct Paging {
    pub pages: usize,
    pub position: String,
    pub previous: Option<String>,
    pub next: Option<String>,
}

/// The page the query asks for (the last one when it asks beyond), and its links
/// (`path`, then `anchor`: where on the page the list starts).
fn paged<T>(
    items: Vec<T>,
    query: &ListQuery,
    (path, anchor): (&str, &str),
    t: Texts,
) -> (Vec<T>, Paging) {
    let pages = items.len().div_ceil(PAGE_SIZE).max(1);
    let page = query.page_number().min(pages);
    let shown = items
        .into_iter()
        .skip((page - 1) * PAGE_SIZE)
        .take(PAGE_SIZE)
        .collect();
    let paging = Paging {
        pages,
        position: t.with2(
            "clients.paging.position",
            ("page", &page.to_string()),
            ("pages", &pages.to_string()),
        ),
        previous: (page > 1).then(|| format!("{}{anchor}", query.href(path, page - 1))),
        next: (page < pages).then(|| format!("{}{anchor}", query.href(path, page + 1))),
    };
    (shown, paging)
}

/// `20000` as people read it: `20 000` in Norwegian, `20,000` in English.
fn grouped(t: Texts, n: usize) -> String {
    let separator = if t.code() == "en" { "," } else { "\u{a0}" };
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push_str(separator);
        }
        out.push(c);
    }
    out
}

/// `key.one` or `key.other` with `{count}` as a grouped number.
fn counted(t: Texts, key: &str, n: usize) -> String {
    t.count(key, n).replace(&n.to_string(), &grouped(t, n))
}

/// "Showing 26–50 of 20 000" (or just the count when it fits on one page).
fn showing(t: Texts, total: usize, page: &Paging, shown: usize, query: &ListQuery) -> String {
    if page.pages <= 1 {
        return counted(t, "clients.count", total);
    }
    let first = (query.page_number().min(page.pages) - 1) * PAGE_SIZE + 1;
    let last = first + shown.saturating_sub(1);
    t.with2(
        "clients.showing",
        (
            "range",
            &format!("{}–{}", grouped(t, first), grouped(t, last)),
        ),
        ("total", &grouped(t, total)),
    )
}

// ----- the agent, and who may do what with it -----

/// One client as the lists show it.
pub(crate) struct ClientRow {
    pub uuid: String,
    pub name: String,
    /// Spaced: `315 000 009`.
    pub org: String,
    pub added: bool,
}

impl ClientRow {
    fn new(uuid: Uuid, name: &str, org: &str, added: bool) -> Self {
        Self {
            uuid: uuid.to_string(),
            name: name.to_string(),
            org: spaced(org),
            added,
        }
    }
}

/// The agent system access of the chosen organisation, and whether the person is its
/// client administrator.
struct Agent {
    acting: Acting,
    user: StoredSystemUser,
    client_admin: bool,
}

impl Agent {
    /// Only client administrators see and change the clients.
    fn require_client_admin(&self) -> Result<(), Failure> {
        if self.client_admin {
            Ok(())
        } else {
            Err(Failure::Refused("error.api.not_client_admin"))
        }
    }
}

/// The agent `id` of the organisation the viewer acts for: 404 when there is none, the
/// standard details page when it is a standard system access.
async fn open_agent(state: &PortalState, viewer: &Viewer, id: &str) -> Result<Agent, Failure> {
    let acting = acting(state, viewer).await?;
    let id = Uuid::parse_str(id.trim()).map_err(|_| Failure::NotFound)?;
    let user = match owned_agent(&state.app.app, &acting.party, id).await {
        Ok(user) => user,
        Err(AppError::Rule(RuleError::SystemUserNotFound { .. })) => return Err(Failure::NotFound),
        Err(AppError::Rule(RuleError::ExpectedAgent)) => {
            return Err(Failure::Redirect(format!(
                "/accessmanagement/ui/systemuser/{id}"
            )));
        }
        Err(e) => return Err(e.into()),
    };
    let client_admin = is_client_admin(state, viewer, acting.party.uuid).await?;
    Ok(Agent {
        acting,
        user,
        client_admin,
    })
}

/// The API's client-administrator check as a yes or no.
async fn is_client_admin(
    state: &PortalState,
    viewer: &Viewer,
    firm: Uuid,
) -> Result<bool, Failure> {
    match client_administrator(state, &viewer.caller(), firm, Action::Write).await {
        Ok(()) => Ok(true),
        Err(e) if e.status == StatusCode::FORBIDDEN => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// The clients the agent has now.
async fn delegated_set(state: &PortalState, agent: Uuid) -> Result<HashSet<Uuid>, Failure> {
    Ok(agent_clients(&state.app.app, agent)
        .await?
        .iter()
        .map(|c| c.client)
        .collect())
}

/// What went wrong for a person: the rule's refusal in plain words, with the packages a
/// client lacks when the rule names them.
fn reason(names: &Names<'_>, error: &AppError) -> String {
    let t = names.texts();
    let text = t.get(error.message_key()).to_string();
    let missing: Vec<String> = match error {
        AppError::Rule(RuleError::ClientLacksPackages { missing, .. }) => {
            missing.iter().map(|c| names.package(c).name).collect()
        }
        _ => Vec::new(),
    };
    if missing.is_empty() {
        text
    } else {
        format!(
            "{text} {}",
            t.with("clients.missing_packages", "packages", &missing.join(", "))
        )
    }
}

/// The notice or error after a form post, naming the client.
async fn feedback(
    state: &PortalState,
    t: Texts,
    query: &ListQuery,
) -> Result<(Option<String>, Option<String>), Failure> {
    let name = match query.client.as_deref().map(|c| Uuid::parse_str(c.trim())) {
        Some(Ok(client)) => state.store.party_by_uuid(client).await?.map(|p| p.name),
        _ => None,
    };
    let error = query.error.as_deref().map(|code| {
        let reason = t.get(api_message_key(code));
        match &name {
            Some(name) => t.with2("clients.failed_for", ("name", name), ("reason", reason)),
            None => reason.to_string(),
        }
    });
    let name = name.unwrap_or_else(|| t.get("clients.the_client").to_string());
    let notice = match query.done.as_deref() {
        Some("added") => Some(t.with("clients.notice.added", "name", &name)),
        Some("removed") => Some(t.with("clients.notice.removed", "name", &name)),
        Some("self_added") => Some(t.get("clients.notice.self_added").to_string()),
        Some("self_removed") => Some(t.get("clients.notice.self_removed").to_string()),
        _ => None,
    };
    Ok((notice, error))
}

// ----- the clients section of the agent's page -----

/// The organisation itself, first in the list when it is (or may be) one of the clients.
pub(crate) struct OwnRow {
    pub name: String,
    pub org: String,
    pub added: bool,
    /// An access manager may add or remove it.
    pub may_change: bool,
}

/// The clients part of an agent's page.
pub(crate) struct ClientsSection {
    pub client_admin: bool,
    pub not_admin_text: String,
    pub own: Option<OwnRow>,
    pub rows: Vec<ClientRow>,
    /// Clients delegated, the organisation itself not counted.
    pub delegated: usize,
    pub search: String,
    pub count_text: String,
    pub paging: Paging,
    pub base: String,
    pub add_href: String,
    pub self_action: String,
    pub carry: Carry,
    pub notice: Option<String>,
    pub error: Option<String>,
}

/// The organisation itself as a client: shown when it is one, or when the access manager
/// may make it one (every package of the agent can be given to the firm itself).
fn own_row(
    state: &PortalState,
    acting: &Acting,
    agent: &StoredSystemUser,
    added: bool,
) -> Result<Option<OwnRow>, Failure> {
    let access_manager = acting.standing.access_manager;
    let shown = added || (access_manager && self_possible(&state.app.app, agent)?);
    Ok(shown.then(|| OwnRow {
        name: acting.party.name.clone(),
        org: spaced(&acting.org()),
        added,
        may_change: access_manager,
    }))
}

/// The clients section of the agent `agent_id`'s page.
pub(crate) async fn section(
    state: &PortalState,
    viewer: &Viewer,
    acting: &Acting,
    agent_id: Uuid,
    query: &ListQuery,
) -> Result<ClientsSection, Failure> {
    let t = viewer.t();
    let user = owned_agent(&state.app.app, &acting.party, agent_id).await?;
    let client_admin = is_client_admin(state, viewer, acting.party.uuid).await?;
    let access_manager = acting.standing.access_manager;
    let firm = acting.party.uuid;
    let delegated = if client_admin || access_manager {
        agent_clients(&state.app.app, user.id).await?
    } else {
        std::sync::Arc::default()
    };
    let own_added = delegated.iter().any(|c| c.client == firm);
    let own = own_row(state, acting, &user, own_added)?;
    let search = Search::new(query.search());
    let matching: Vec<_> = delegated
        .iter()
        .filter(|c| c.client != firm && client_admin)
        .filter(|c| search.matches(&c.name, &c.org_number))
        .collect();
    let total = delegated.len() - usize::from(own_added);
    let matched = matching.len();
    let base = details_path(user.id);
    let (page, paging) = paged(matching, query, (&base, "#clients"), t);
    let rows: Vec<ClientRow> = page
        .iter()
        .map(|c| ClientRow::new(c.client, &c.name, &c.org_number, true))
        .collect();
    let count_text = showing(t, matched, &paging, rows.len(), query);
    let (notice, error) = feedback(state, t, query).await?;
    Ok(ClientsSection {
        client_admin,
        not_admin_text: t.with("clients.not_client_admin", "org", &acting.party.name),
        own,
        rows,
        delegated: total,
        search: query.search().to_string(),
        count_text,
        paging,
        add_href: add_path(user.id),
        self_action: format!("{base}/self"),
        base,
        carry: query.carry("details"),
        notice,
        error,
    })
}

// ----- the "add clients" page -----

#[derive(Template)]
#[template(path = "portal/clients_add.html")]
struct AddPage {
    t: Texts,
    chrome: Chrome,
    title: String,
    lead: String,
    back: String,
    base: String,
    action: String,
    none_text: String,
    /// Clients that could be added at all (every package provided).
    available: usize,
    search: String,
    hide_added: bool,
    count_text: String,
    rows: Vec<ClientRow>,
    paging: Paging,
    carry: Carry,
    /// Matching clients not added yet: what "add all" would add.
    pending: usize,
    pending_text: String,
    add_all_label: String,
    notice: Option<String>,
    error: Option<String>,
}

/// `GET /systemuser/{id}/agentdelegation/clients`.
pub(crate) async fn add_page(
    State(state): State<PortalState>,
    viewer: Viewer,
    Path(id): Path<String>,
    Query(query): Query<ListQuery>,
) -> Response {
    let result = render_add_page(&state, &viewer, &id, &query).await;
    viewer.finish(result)
}

async fn render_add_page(
    state: &PortalState,
    viewer: &Viewer,
    id: &str,
    query: &ListQuery,
) -> Result<Response, Failure> {
    let t = viewer.t();
    let agent = open_agent(state, viewer, id).await?;
    agent.require_client_admin()?;
    let available = available_clients(&state.app.app, &agent.user).await?;
    let added = delegated_set(state, agent.user.id).await?;
    let search = Search::new(query.search());
    let matching: Vec<&ClientCandidate> = available
        .iter()
        .filter(|c| search.matches(&c.name, &c.org_number))
        .collect();
    let pending = matching
        .iter()
        .filter(|c| !added.contains(&c.party))
        .count();
    let listed: Vec<&ClientCandidate> = matching
        .into_iter()
        .filter(|c| !query.hides_added() || !added.contains(&c.party))
        .collect();
    let listed_count = listed.len();
    let base = add_path(agent.user.id);
    let (page, paging) = paged(listed, query, (&base, ""), t);
    let rows: Vec<ClientRow> = page
        .iter()
        .map(|c| ClientRow::new(c.party, &c.name, &c.org_number, added.contains(&c.party)))
        .collect();
    let (notice, error) = feedback(state, t, query).await?;
    let firm = &agent.acting.party.name;
    let page = AddPage {
        t,
        chrome: Chrome::new(&viewer.visit, t.get("clients.add.title"))
            .party(&agent.acting.party)
            .current("overview"),
        title: agent.user.integration_title.clone(),
        lead: t.with("clients.add.lead", "org", firm),
        back: details_path(agent.user.id),
        action: base.clone(),
        none_text: t.with("clients.add.none", "org", firm),
        available: available.len(),
        search: query.search().to_string(),
        hide_added: query.hides_added(),
        count_text: showing(t, listed_count, &paging, rows.len(), query),
        rows,
        paging,
        carry: query.carry("add"),
        pending,
        pending_text: if query.search().is_empty() {
            t.get("clients.add_all.hint").to_string()
        } else {
            t.get("clients.add_all.hint_search").to_string()
        },
        add_all_label: counted(t, "clients.add_all.submit", pending),
        base,
        notice,
        error,
    };
    Ok(html(StatusCode::OK, &page))
}

// ----- adding and removing one client -----

/// A row's form: the client, and the view to return to.
#[derive(Deserialize)]
pub(crate) struct ClientForm {
    client: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    q: String,
    #[serde(default)]
    page: String,
    #[serde(default)]
    hide_added: String,
}

impl ClientForm {
    fn client(&self) -> Result<Uuid, Failure> {
        Uuid::parse_str(self.client.trim()).map_err(|_| Failure::BadForm)
    }

    /// Back to the page the form was on, with the outcome for the notice.
    fn answer(&self, agent: Uuid, done: &str, outcome: Result<(), ApiError>) -> Response {
        let path = if self.from == "details" {
            details_path(agent)
        } else {
            add_path(agent)
        };
        let outcome = match &outcome {
            Ok(()) => ("done", done),
            Err(e) => ("error", e.code.as_str()),
        };
        let mut pairs = vec![outcome, ("client", self.client.trim())];
        for (name, value) in [
            ("q", self.q.trim()),
            ("page", self.page.trim()),
            ("hide_added", self.hide_added.trim()),
        ] {
            if !value.is_empty() {
                pairs.push((name, value));
            }
        }
        see_other(&format!("{}#notice", with_query(&path, &pairs)))
    }
}

/// A server fault is a page of its own; a refusal is explained next to the list.
fn refusal_or_fault(outcome: Result<(), ApiError>) -> Result<Result<(), ApiError>, Failure> {
    match outcome {
        Err(e) if e.status.is_server_error() => Err(Failure::Api(e)),
        other => Ok(other),
    }
}

/// `POST /systemuser/{id}/agentdelegation/clients/add`: adds one client.
pub(crate) async fn add_post(
    State(state): State<PortalState>,
    viewer: Viewer,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<ClientForm>,
) -> Response {
    let result = async {
        let agent = open_agent(&state, &viewer, &id).await?;
        agent.require_client_admin()?;
        let client = form.client()?;
        let outcome = match plan_for(&state.app.app, &agent.user, client).await {
            Ok(plan) => add_clients(&state.app.app, &viewer.caller(), &agent.user, &[plan])
                .await
                .map(|_| ()),
            Err(e) => Err(e),
        };
        let outcome = outcome.map_err(ApiError::from);
        Ok(form.answer(agent.user.id, "added", refusal_or_fault(outcome)?))
    }
    .await;
    viewer.finish(result)
}

/// `POST /systemuser/{id}/agentdelegation/clients/remove`: removes one client (the
/// organisation itself goes through the access manager's rule).
pub(crate) async fn remove_post(
    State(state): State<PortalState>,
    viewer: Viewer,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<ClientForm>,
) -> Response {
    let result = async {
        let agent = open_agent(&state, &viewer, &id).await?;
        let client = form.client()?;
        let caller = viewer.caller();
        let outcome = if client == agent.acting.party.uuid {
            remove_firm_itself(&state, &caller, &agent.acting.party, agent.user.id)
                .await
                .map(|_| ())
        } else {
            agent.require_client_admin()?;
            remove_client(&state.app.app, &caller, &agent.user, client)
                .await
                .map_err(ApiError::from)
        };
        Ok(form.answer(agent.user.id, "removed", refusal_or_fault(outcome)?))
    }
    .await;
    viewer.finish(result)
}

#[derive(Deserialize)]
pub(crate) struct SelfForm {
    action: String,
}

/// `POST /systemuser/{id}/agentdelegation/self`: the access manager adds or removes the
/// organisation itself.
pub(crate) async fn self_post(
    State(state): State<PortalState>,
    viewer: Viewer,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<SelfForm>,
) -> Response {
    let result = async {
        let acting = acting(&state, &viewer).await?;
        let id = Uuid::parse_str(id.trim()).map_err(|_| Failure::NotFound)?;
        let caller = viewer.caller();
        let (done, outcome) = match form.action.as_str() {
            "add" => (
                "self_added",
                add_firm_itself(&state, &caller, &acting.party, id).await,
            ),
            "remove" => (
                "self_removed",
                remove_firm_itself(&state, &caller, &acting.party, id).await,
            ),
            _ => return Err(Failure::BadForm),
        };
        let pairs = match outcome {
            Ok(_) => [("done", done.to_string())],
            Err(e) if e.code == "AUTH-00015" => return Err(Failure::NotFound),
            Err(e) if e.status.is_server_error() => return Err(Failure::Api(e)),
            Err(e) => [("error", e.code)],
        };
        let pairs = pairs
            .each_ref()
            .map(|(name, value)| (*name, value.as_str()));
        Ok(see_other(&format!(
            "{}#notice",
            with_query(&details_path(id), &pairs)
        )))
    }
    .await;
    viewer.finish(result)
}

// ----- adding all that match a search -----

/// A client "add all" could not add, and why.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct FailedClient {
    pub name: String,
    pub reason: String,
}

/// What a run of "add all" (or one batch of it) did.
#[derive(Debug, Default, Serialize)]
pub(crate) struct Tally {
    /// Clients that were not added before: added now, or failed.
    pub attempted: usize,
    pub added: usize,
    pub failed: Vec<FailedClient>,
}

impl Tally {
    fn count_added(&mut self, new: u64) {
        let new = usize::try_from(new).unwrap_or(usize::MAX);
        self.attempted += new;
        self.added += new;
    }
}

type Planned = (ClientCandidate, NewClientDelegation);

/// The firm's clients that match the search, each with its plan, in the list's order.
async fn matching_plans(
    state: &PortalState,
    agent: &StoredSystemUser,
    query: &str,
) -> Result<Vec<Planned>, Failure> {
    let search = Search::new(query);
    let mut plans = available_plans(&state.app.app, agent).await?;
    plans.retain(|(c, _)| search.matches(&c.name, &c.org_number));
    Ok(plans)
}

/// The part of the matching list one call of the script adds, from `offset`, and where
/// the next call starts. Clients added before are in it too: `add_clients` leaves them as
/// they are and does not count them, which spares every call a read of the agent's
/// 20,000 clients.
fn call_at(matching: &[Planned], offset: usize) -> (&[Planned], usize) {
    let start = offset.min(matching.len());
    let end = start
        .saturating_add(BATCH_SIZE * BATCHES_PER_CALL)
        .min(matching.len());
    (&matching[start..end], end)
}

/// Adds one batch in one call; if that fails, each client on its own, to tell which
/// ones cannot be added and why. Counts only clients that were not there before.
async fn add_batch(
    state: &PortalState,
    (caller, t): (&Caller, Texts),
    agent: &StoredSystemUser,
    batch: &[Planned],
    tally: &mut Tally,
) {
    let plans: Vec<NewClientDelegation> = batch.iter().map(|(_, plan)| plan.clone()).collect();
    if let Ok(new) = add_clients(&state.app.app, caller, agent, &plans).await {
        tally.count_added(new);
        return;
    }
    let names = Names::new(state, t);
    for (candidate, plan) in batch {
        match add_clients(&state.app.app, caller, agent, std::slice::from_ref(plan)).await {
            Ok(new) => tally.count_added(new),
            Err(e) => {
                tally.attempted += 1;
                tally.failed.push(FailedClient {
                    name: candidate.name.clone(),
                    reason: reason(&names, &e),
                });
            }
        }
    }
}

#[derive(Deserialize)]
pub(crate) struct AddAllForm {
    #[serde(default)]
    q: String,
}

#[derive(Template)]
#[template(path = "portal/clients_result.html")]
struct ResultPage {
    t: Texts,
    chrome: Chrome,
    summary: String,
    complete: bool,
    failed: Vec<FailedClient>,
    back: String,
    more: String,
}

/// `POST /systemuser/{id}/agentdelegation/clients/add-all`: without JavaScript, every
/// batch in this one request, then the summary.
pub(crate) async fn add_all_post(
    State(state): State<PortalState>,
    viewer: Viewer,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<AddAllForm>,
) -> Response {
    let result = async {
        let t = viewer.t();
        let agent = open_agent(&state, &viewer, &id).await?;
        agent.require_client_admin()?;
        let matching = matching_plans(&state, &agent.user, &form.q).await?;
        let caller = viewer.caller();
        let mut tally = Tally::default();
        for batch in matching.chunks(BATCH_SIZE) {
            add_batch(&state, (&caller, t), &agent.user, batch, &mut tally).await;
        }
        let summary = if tally.attempted == 0 {
            t.get("clients.add_all.nothing").to_string()
        } else {
            t.with2(
                "clients.add_all.result",
                ("added", &grouped(t, tally.added)),
                ("total", &grouped(t, tally.attempted)),
            )
        };
        let query = ListQuery {
            q: form.q.clone(),
            ..ListQuery::default()
        };
        let page = ResultPage {
            t,
            chrome: Chrome::new(&viewer.visit, t.get("clients.add_all.result_title"))
                .party(&agent.acting.party)
                .current("overview"),
            summary,
            complete: tally.failed.is_empty(),
            failed: tally.failed,
            back: details_path(agent.user.id),
            more: query.href(&add_path(agent.user.id), 1),
        };
        Ok(html(StatusCode::OK, &page))
    }
    .await;
    viewer.finish(result)
}

/// One batch of "add all", asked for by the portal's script.
#[derive(Deserialize)]
pub(crate) struct BatchRequest {
    #[serde(default)]
    q: String,
    #[serde(default)]
    offset: usize,
}

/// What one batch did, and where the next starts.
#[derive(Serialize)]
struct BatchAnswer {
    #[serde(flatten)]
    tally: Tally,
    next: usize,
    done: bool,
}

/// `POST /systemuser/{id}/agentdelegation/clients/add-all/batch` (JSON, CSRF header):
/// the next [`BATCHES_PER_CALL`] batches of clients that match the search, from
/// `offset`, so the script can show progress. Any refusal is a JSON status; the script then sends the
/// plain form, whose page explains.
pub(crate) async fn add_all_batch(
    State(state): State<PortalState>,
    viewer: Viewer,
    Path(id): Path<String>,
    CsrfJson(request): CsrfJson<BatchRequest>,
) -> Response {
    let result = async {
        let agent = open_agent(&state, &viewer, &id).await?;
        agent.require_client_admin()?;
        let matching = matching_plans(&state, &agent.user, &request.q).await?;
        let (part, next) = call_at(&matching, request.offset);
        let caller = viewer.caller();
        let mut tally = Tally::default();
        for batch in part.chunks(BATCH_SIZE) {
            add_batch(
                &state,
                (&caller, viewer.t()),
                &agent.user,
                batch,
                &mut tally,
            )
            .await;
        }
        Ok(BatchAnswer {
            tally,
            next,
            done: next >= matching.len(),
        })
    }
    .await;
    match result {
        Ok(answer) => axum::Json(answer).into_response(),
        Err(failure) => {
            let status = match failure {
                Failure::NotFound => StatusCode::NOT_FOUND,
                Failure::Api(e) => e.status,
                _ => StatusCode::FORBIDDEN,
            };
            (status, axum::Json(serde_json::json!({ "refused": true }))).into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use systembruker_domain::catalogue::Language;

    use super::*;

    #[test]
    fn search_takes_names_or_org_numbers() {
        let by_name = Search::new("  brød ");
        assert!(by_name.matches("Bakeriet Brød AS", "315200008"));
        assert!(!by_name.matches("Rør og Vann AS", "315000009"));
        let by_number = Search::new("315 000");
        assert!(by_number.matches("Rør og Vann AS", "315000009"));
        assert!(!by_number.matches("Bakeriet Brød AS", "315200008"));
        assert!(Search::new("").matches("Anything", "1"));
        // A name with digits is searched as a name.
        assert!(Search::new("klient 00042").matches("Klient 00042 AS", "1"));
    }

    #[test]
    fn pages_clamp_and_link() {
        let t = Texts::new(Language::En);
        let query = ListQuery {
            q: "as".into(),
            page: "99".into(),
            ..ListQuery::default()
        };
        let (rows, paging) = paged((0..60).collect::<Vec<_>>(), &query, ("/x", "#list"), t);
        assert_eq!(rows, (50..60).collect::<Vec<_>>());
        assert_eq!(paging.pages, 3);
        assert_eq!(paging.previous.as_deref(), Some("/x?q=as&page=2#list"));
        assert_eq!(paging.next, None);
        let first = ListQuery::default();
        let (rows, paging) = paged((0..10).collect::<Vec<_>>(), &first, ("/x", ""), t);
        assert_eq!((rows.len(), paging.pages), (10, 1));
    }

    #[test]
    fn numbers_are_grouped_per_language() {
        assert_eq!(grouped(Texts::new(Language::En), 20_000), "20,000");
        assert_eq!(
            grouped(Texts::new(Language::Nb), 1_234_567),
            "1\u{a0}234\u{a0}567"
        );
        assert_eq!(grouped(Texts::new(Language::Nn), 999), "999");
    }

    #[test]
    fn calls_cover_the_list_once() {
        let planned: Vec<Planned> = (0..4_501)
            .map(|i| {
                let party = Uuid::from_u128(i);
                let candidate = ClientCandidate {
                    party,
                    party_id: 0,
                    org_number: String::new(),
                    name: format!("{i}"),
                    unit_type: None,
                    relations: Vec::new(),
                };
                let plan = NewClientDelegation {
                    client: party,
                    packages: Vec::new(),
                };
                (candidate, plan)
            })
            .collect();
        let mut offset = 0;
        let mut sizes = Vec::new();
        while offset < planned.len() {
            let (part, next) = call_at(&planned, offset);
            sizes.push(part.len());
            offset = next;
        }
        assert_eq!(sizes, [2_000, 2_000, 501]);
        assert_eq!(call_at(&planned, 9_000), (&planned[..0], 4_501));
    }

    /// A relation that ends between the plan and the insert sinks its batch; the retry
    /// one by one adds the others and names the one that failed, with the reason.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_failing_batch_is_retried_client_by_client() {
        use systembruker_domain::clients::ClientRelation;
        use systembruker_domain::systemuser::SystemUserType;
        use systembruker_storage::{Actor, Grants, NewSystemUser, SystemUserKey};

        use crate::demo::{BAKERIET, DEMO_SYSTEM, TALLMAKERNE, TINA};
        use crate::testing::{TestBackend, TestServer};

        let server = TestServer::start(TestBackend::Sqlite)
            .await
            .expect("server starts")
            .expect("sqlite is always there");
        let state = PortalState::new(server.state.clone());
        let org = systembruker_domain::OrgNumber::parse(TALLMAKERNE).expect("valid");
        let firm = state
            .store
            .organization(&org)
            .await
            .expect("store answers")
            .expect("demo firm");
        let id = Uuid::new_v4();
        let new = NewSystemUser {
            id,
            key: SystemUserKey {
                system_id: DEMO_SYSTEM.into(),
                org: TALLMAKERNE.into(),
                external_ref: "retry".into(),
            },
            owner_party_uuid: firm.uuid,
            integration_title: "SmartRegnskap".into(),
            user_type: SystemUserType::Agent,
            access_packages: vec!["regnskapsforer-med-signeringsrettighet".into()],
        };
        state
            .store
            .create_system_user(&new, &Grants::default(), &Actor::named("test"))
            .await
            .expect("created");
        let agent = owned_agent(&state.app.app, &firm, id).await.expect("agent");
        let mut planned = available_plans(&state.app.app, &agent)
            .await
            .expect("plans");
        assert_eq!(planned.len(), 2);
        // Bakeriet's plan now rests on an auditor role it never gave.
        for (candidate, plan) in &mut planned {
            if candidate.org_number == BAKERIET {
                for package in &mut plan.packages {
                    package.via = Some(ClientRelation::Role("revisor".into()));
                }
            }
        }
        let caller = Caller {
            pid: Some(systembruker_domain::PersonNumber::parse(TINA).expect("valid")),
            ..Caller::default()
        };
        let mut tally = Tally::default();
        let t = Texts::new(Language::En);
        add_batch(&state, (&caller, t), &agent, &planned, &mut tally).await;
        assert_eq!((tally.attempted, tally.added), (2, 1));
        assert_eq!(tally.failed.len(), 1);
        assert_eq!(tally.failed[0].name, "Bakeriet Brød AS");
        assert_eq!(tally.failed[0].reason, t.get("error.api.not_a_client"));
        let now = delegated_set(&state, id).await.expect("listed");
        assert_eq!(now.len(), 1);
        assert!(!now.contains(&planned[0].0.party), "Bakeriet was not added");
        // Again, with Bakeriet's plan mended: Rør og Vann is there already and not counted.
        let mended = available_plans(&state.app.app, &agent)
            .await
            .expect("plans");
        let mut tally = Tally::default();
        add_batch(&state, (&caller, t), &agent, &mended, &mut tally).await;
        assert_eq!(
            (tally.attempted, tally.added, tally.failed.len()),
            (1, 1, 0)
        );
    }

    #[test]
    fn keys_chosen_in_code_exist() {
        for language in super::super::i18n::LANGUAGES {
            let t = Texts::new(language);
            for key in [
                "error.api.not_client_admin",
                "clients.notice.added",
                "clients.notice.removed",
                "clients.notice.self_added",
                "clients.notice.self_removed",
                "clients.count.one",
                "clients.count.other",
                "clients.add_all.submit.one",
                "clients.add_all.submit.other",
            ] {
                assert_ne!(t.get(key), key, "{key} missing in {}", t.code());
            }
        }
    }
}
