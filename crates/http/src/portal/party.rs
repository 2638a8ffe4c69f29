//! The organisation a person acts for ("party", "aktør"): which ones they may choose
//! (from ER roles and delegations, and the clients of organisations where they hold a
//! key role), the page that lists them with a search, and the chosen one for every page.

use std::collections::HashSet;

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use systembruker_app::systemusers::PartyKey;
use systembruker_domain::OrgNumber;
use systembruker_domain::party::Party;
use systembruker_storage::{DelegationFilter, StoreResult};
use uuid::Uuid;

use super::extract::{CsrfForm, Viewer};
use super::i18n::Texts;
use super::names::org_number;
use super::page::{Chrome, Failure, html, see_other};
use super::{OVERVIEW, PARTY, PortalState, safe_goto, with_query};
use crate::AppState;
use systembruker_app::access::{Standing, standing};

/// At most this many organisations reached through a key role are listed; any other
/// is found by searching for its organisation number.
const MAX_CLIENTS_LISTED: usize = 200;

/// An organisation the person may choose.
#[derive(Debug, Clone)]
pub(crate) struct PartyChoice {
    pub uuid: Uuid,
    pub name: String,
    /// Spaced organisation number.
    pub org: String,
    digits: String,
}

impl PartyChoice {
    fn of(party: &Party) -> Option<Self> {
        let org = party.org_number()?;
        Some(Self {
            uuid: party.uuid,
            name: party.name.clone(),
            org: org_number(org),
            digits: org.as_str().to_string(),
        })
    }

    fn matches(&self, query: &str) -> bool {
        let digits: String = query.chars().filter(char::is_ascii_digit).collect();
        self.name.to_lowercase().contains(&query.to_lowercase())
            || (!digits.is_empty() && self.digits.contains(&digits))
    }
}

/// The organisations `person` may act for, by name: those that gave them a role or a
/// package, then (up to a limit) those that gave a role or package to an organisation
/// in which the person holds a key role (e.g. an accounting firm's clients).
pub(crate) async fn representable(state: &AppState, person: Uuid) -> StoreResult<Vec<PartyChoice>> {
    let roles = state.store.roles_held_by(person).await?;
    let given = state
        .store
        .package_delegations(&DelegationFilter {
            to: Some(person),
            ..DelegationFilter::default()
        })
        .await?;
    let mut direct: Vec<Uuid> = roles.iter().map(|r| r.from).collect();
    direct.extend(given.iter().map(|d| d.from));
    let key_orgs: Vec<Uuid> = roles
        .iter()
        .filter(|r| {
            state
                .catalogue
                .role(&r.role_code)
                .is_ok_and(|role| role.is_key_role)
        })
        .map(|r| r.from)
        .collect();
    let mut clients = Vec::new();
    for org in unique(key_orgs) {
        clients.extend(state.store.roles_held_by(org).await?.iter().map(|r| r.from));
        let to_org = DelegationFilter {
            to: Some(org),
            ..DelegationFilter::default()
        };
        clients.extend(
            state
                .store
                .package_delegations(&to_org)
                .await?
                .iter()
                .map(|d| d.from),
        );
    }
    let direct = unique(direct);
    let known: HashSet<Uuid> = direct.iter().copied().collect();
    let clients: Vec<Uuid> = unique(clients)
        .into_iter()
        .filter(|c| !known.contains(c) && *c != person)
        .take(MAX_CLIENTS_LISTED)
        .collect();
    let mut out = Vec::new();
    for uuid in direct.into_iter().chain(clients) {
        if let Some(choice) = state
            .store
            .party_by_uuid(uuid)
            .await?
            .as_ref()
            .and_then(PartyChoice::of)
        {
            out.push(choice);
        }
    }
    out.sort_by_key(|c| c.name.to_lowercase());
    Ok(out)
}

fn unique(ids: Vec<Uuid>) -> Vec<Uuid> {
    let mut seen = HashSet::new();
    ids.into_iter().filter(|id| seen.insert(*id)).collect()
}

/// The chosen organisation and what the person may do for it.
pub(crate) struct Acting {
    pub party: Party,
    pub standing: Standing,
}

impl Acting {
    /// The party, as the use cases take it.
    pub(crate) fn key(&self) -> PartyKey {
        PartyKey::Uuid(self.party.uuid)
    }

    pub(crate) fn org(&self) -> String {
        self.party
            .org_number()
            .map(|o| o.as_str().to_string())
            .unwrap_or_default()
    }
}

/// `party` if it is an organisation the person is related to.
pub(crate) async fn acting_for(
    state: &AppState,
    viewer: &Viewer,
    party: Uuid,
) -> Result<Option<Acting>, Failure> {
    let Some(party) = state.store.party_by_uuid(party).await? else {
        return Ok(None);
    };
    if party.org_number().is_none() {
        return Ok(None);
    }
    let standing = standing(&state.app, viewer.login.person_uuid, party.uuid).await?;
    Ok(standing.related.then_some(Acting { party, standing }))
}

/// The organisation the viewer acts for; without one (or one they lost access to),
/// the party page first, then back here.
pub(crate) async fn acting(state: &PortalState, viewer: &Viewer) -> Result<Acting, Failure> {
    if let Some(party) = viewer.party
        && let Some(acting) = acting_for(state, viewer, party).await?
    {
        return Ok(acting);
    }
    Err(Failure::Redirect(with_query(
        PARTY,
        &[("goto", &viewer.visit.here)],
    )))
}

/// Makes `party` the viewer's chosen organisation.
pub(crate) async fn choose(state: &PortalState, viewer: &Viewer, party: Uuid) {
    state
        .sessions
        .update(&viewer.session_id, |s| s.party = Some(party))
        .await;
}

#[derive(Deserialize)]
pub(crate) struct ChooseQuery {
    #[serde(default)]
    q: String,
    goto: Option<String>,
}

#[derive(Template)]
#[template(path = "portal/party.html")]
struct PartyPage {
    t: Texts,
    chrome: Chrome,
    query: String,
    goto: String,
    choices: Vec<PartyChoice>,
    current: Option<Uuid>,
    total: usize,
}

impl PartyPage {
    fn is_current(&self, uuid: &Uuid) -> bool {
        self.current == Some(*uuid)
    }
}

/// `GET /party`: the organisations to choose from, filtered by `q`.
pub(crate) async fn party_page(
    State(state): State<PortalState>,
    viewer: Viewer,
    Query(query): Query<ChooseQuery>,
) -> Response {
    let result = render_choices(&state, &viewer, query).await;
    viewer.finish(result)
}

async fn render_choices(
    state: &PortalState,
    viewer: &Viewer,
    query: ChooseQuery,
) -> Result<Response, Failure> {
    let t = viewer.t();
    let all = representable(state, viewer.login.person_uuid).await?;
    let total = all.len();
    let wanted = query.q.trim().to_string();
    let mut choices: Vec<PartyChoice> = all.into_iter().filter(|c| c.matches(&wanted)).collect();
    if choices.is_empty()
        && let Some(found) = search_by_number(state, viewer, &wanted).await?
    {
        choices.push(found);
    }
    let page = PartyPage {
        t,
        chrome: Chrome::new(&viewer.visit, t.get("party.title")),
        query: wanted,
        goto: safe_goto(query.goto.as_deref()).unwrap_or_else(|| OVERVIEW.to_string()),
        choices,
        current: viewer.party,
        total,
    };
    Ok(html(StatusCode::OK, &page))
}

/// An organisation number typed in full finds any organisation the person is related
/// to, also one beyond the listed limit.
async fn search_by_number(
    state: &PortalState,
    viewer: &Viewer,
    query: &str,
) -> Result<Option<PartyChoice>, Failure> {
    let digits: String = query.chars().filter(|c| !c.is_whitespace()).collect();
    let Ok(org) = OrgNumber::parse(&digits) else {
        return Ok(None);
    };
    let Some(party) = state.store.organization(&org).await? else {
        return Ok(None);
    };
    Ok(acting_for(state, viewer, party.uuid)
        .await?
        .and_then(|a| PartyChoice::of(&a.party)))
}

#[derive(Deserialize)]
pub(crate) struct ChooseForm {
    party: String,
    goto: Option<String>,
}

/// `POST /party`: choose an organisation the person is related to, then go on.
pub(crate) async fn choose_post(
    State(state): State<PortalState>,
    viewer: Viewer,
    CsrfForm(form): CsrfForm<ChooseForm>,
) -> Response {
    let result = async {
        let party = Uuid::parse_str(form.party.trim()).map_err(|_| Failure::BadForm)?;
        if acting_for(&state, &viewer, party).await?.is_none() {
            return Err(Failure::NoAccess(None));
        }
        choose(&state, &viewer, party).await;
        let goto = safe_goto(form.goto.as_deref()).unwrap_or_else(|| OVERVIEW.to_string());
        Ok(see_other(&goto))
    }
    .await;
    viewer.finish(result)
}
