//! The lists: the clients section of the agent's page and the "add clients" page.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use systembruker_storage::{ClientCandidate, StoredSystemUser};
use uuid::Uuid;

use super::*;
use systembruker_app::clients::{agent_clients, available_clients, owned_agent, self_possible};

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
    let client_admin = acting.standing.client_administrator;
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
