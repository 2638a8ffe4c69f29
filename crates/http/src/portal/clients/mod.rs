//! Client management for agent system accesses (docs/rules.md#clients): which of the accounting
//! firm's clients the system may act for. The agent's page lists the clients it has,
//! with a search and pages; the "add clients" page lists the firm's clients that provide
//! every package, to add or remove one at a time or all that match a search at once.
//!
//! Every rule is the client-delegation API's (`systembruker_app::clients`): only a
//! client administrator (package `klientadministrator`) sees and changes clients, only an
//! access manager adds or removes the firm itself. A firm may have 20,000 clients, so
//! search and paging run on the server and a page never renders more than [`PAGE_SIZE`]
//! rows; "add all" runs in batches of `batches::BATCH_SIZE`, so one client that cannot be added
//! does not stop the others.
//!
//! This file holds what every page shares (the search, the pages, the agent, what a
//! refusal means); [`listing`] renders the lists, [`single`] adds and removes one client,
//! [`batches`] adds all that match a search.

mod batches;
mod listing;
mod single;

pub(crate) use batches::{add_all_batch, add_all_post};
pub(crate) use listing::{ClientsSection, add_page, section};
pub(crate) use single::{add_post, remove_post, self_post};

use std::collections::HashSet;

use serde::Deserialize;
use systembruker_storage::StoredSystemUser;
use uuid::Uuid;

use super::extract::{CsrfForm, CsrfJson, Viewer};
use super::i18n::Texts;
use super::names::{Names, spaced};
use super::page::{Chrome, Failure, error_param, error_text, html, see_other};
use super::party::{Acting, acting};
use super::{PortalState, with_query};
use systembruker_app::AppError;
use systembruker_app::clients::{agent_clients, owned_agent};
use systembruker_domain::RuleError;

/// Rows per page: enough to scan, few enough to render in a blink with any number of clients.
const PAGE_SIZE: usize = 25;

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
    /// The message key of a refusal to explain.
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
    // The same PDP decision the client API asks (`write` on altinn_client_administration).
    let client_admin = acting.standing.client_administrator;
    Ok(Agent {
        acting,
        user,
        client_admin,
    })
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
        let reason = &error_text(t, code);
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
