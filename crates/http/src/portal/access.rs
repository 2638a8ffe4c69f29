//! "Users and access" (docs/rules.md#access-management-for-people): who has access to
//! the organisation and what they hold (register roles read-only, packages and single
//! rights given here), giving access to a person (national id number and last name) or
//! an organisation (org number) with a confirm step, revoking, the asks for access an
//! access manager answers, and the person's own asks. The rules are the application
//! layer's (`people_access`, `access_asks`); these handlers parse forms and show pages.

use std::collections::BTreeSet;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use systembruker_app::AppError;
use systembruker_app::access_asks::{self, AskArgs};
use systembruker_app::delegations::{self, DelegationArgs, Param};
use systembruker_app::people_access::{self, Connection, RightArgs};
use systembruker_domain::OrgNumber;
use systembruker_domain::party::Party;
use systembruker_domain::systemuser::SystemUserType;
use systembruker_storage::{AccessAsk, AskStatus, AskedThing};
use uuid::Uuid;

use super::extract::{CsrfForm, Viewer};
use super::i18n::Texts;
use super::names::{Names, org_number};
use super::page::{Chrome, Failure, html, see_other};
use super::party::{Acting, acting};
use super::{PortalState, with_query};
use crate::authentication::requests::to_dto;

/// The section's pages.
pub(crate) const ACCESS: &str = "/accessmanagement/ui/access";
const GIVE: &str = "/accessmanagement/ui/access/give";
const ASK: &str = "/accessmanagement/ui/access/ask";

/// Form fields as pairs, so repeated check boxes (`thing=…&thing=…`) survive.
type Fields = Vec<(String, String)>;

fn field<'f>(fields: &'f Fields, name: &str) -> Option<&'f str> {
    fields
        .iter()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.trim())
        .filter(|value| !value.is_empty())
}

/// The things a form names: `thing=package:<code>` and `thing=right:<resource>:<action>`.
fn things_of(fields: &Fields) -> Vec<AskedThing> {
    let mut out = BTreeSet::new();
    for (_, value) in fields.iter().filter(|(key, _)| key == "thing") {
        if let Some(code) = value.strip_prefix("package:") {
            out.insert(AskedThing::Package {
                code: code.to_string(),
            });
        } else if let Some((resource_id, action)) = value
            .strip_prefix("right:")
            .and_then(|rest| rest.rsplit_once(':'))
        {
            out.insert(AskedThing::Right {
                resource_id: resource_id.to_string(),
                action: action.to_string(),
            });
        }
    }
    out.into_iter().collect()
}

/// A thing as a form value (see [`things_of`]).
fn thing_value(thing: &AskedThing) -> String {
    match thing {
        AskedThing::Package { code } => format!("package:{code}"),
        AskedThing::Right {
            resource_id,
            action,
        } => format!("right:{resource_id}:{action}"),
    }
}

/// A refusal in the section's own words: the key goes into `?error=`.
fn error_key(error: &AppError) -> &'static str {
    match error {
        AppError::MayNotDelegate { .. } => "access.error.may_not_give",
        AppError::Forbidden(_) => "access.error.forbidden",
        AppError::Conflict(_) => "access.error.pending",
        AppError::NotFound(_) => "access.error.not_found",
        _ => "access.error.invalid",
    }
}

/// The words for `?error=`: only the section's own keys; anything else (an edited
/// link) reads as the generic refusal.
fn error_text(t: Texts, key: &str) -> String {
    let text = t.get(key);
    if key.starts_with("access.error.") && text != key {
        text.to_string()
    } else {
        t.get("access.error.invalid").to_string()
    }
}

fn notice_text(t: Texts, key: &str) -> Option<String> {
    let key = match key {
        "given" => "access.notice.given",
        "revoked" => "access.notice.revoked",
        "asked" => "access.notice.asked",
        "granted" => "access.notice.granted",
        "declined" => "access.notice.declined",
        _ => return None,
    };
    Some(t.get(key).to_string())
}

/// A use case's refusal sends the person back to `path` with the reason; our own
/// failures (storage) show the error page.
fn back_with_error(path: &str, error: AppError) -> Result<Response, Failure> {
    if super::page::is_fault(&error) {
        return Err(error.into());
    }
    Ok(see_other(&with_query(
        path,
        &[("error", error_key(&error))],
    )))
}

/// One thing held or asked, in plain words.
struct ThingRow {
    kind: String,
    name: String,
    description: String,
    /// The form value that names it (to revoke it).
    value: String,
    /// The remove button's words, naming the thing and the holder.
    revoke: String,
}

async fn thing_row(names: &mut Names<'_>, thing: &AskedThing) -> Result<ThingRow, Failure> {
    let t = names.texts();
    let value = thing_value(thing);
    Ok(match thing {
        AskedThing::Package { code } => {
            let grant = names.package(code);
            ThingRow {
                kind: grant.kind,
                name: grant.name,
                description: grant.description,
                value,
                revoke: String::new(),
            }
        }
        AskedThing::Right {
            resource_id,
            action,
        } => {
            let grant = names.resource(resource_id).await?;
            ThingRow {
                kind: t.get("access.kind.right").to_string(),
                name: format!("{} ({})", grant.name, action_name(t, action)),
                description: grant.description,
                value,
                revoke: String::new(),
            }
        }
    })
}

/// An action in plain words where we know it, else as the policy names it.
fn action_name(t: Texts, action: &str) -> String {
    match action {
        "read" => t.get("access.action.read").to_string(),
        "write" => t.get("access.action.write").to_string(),
        "sign" => t.get("access.action.sign").to_string(),
        other => other.to_string(),
    }
}

/// A party at the other end of a connection.
struct ConnectionRow {
    uuid: String,
    name: String,
    meta: String,
    roles: Vec<String>,
    things: Vec<ThingRow>,
}

async fn connection_row(
    state: &PortalState,
    names: &mut Names<'_>,
    connection: Connection,
) -> Result<ConnectionRow, Failure> {
    let t = names.texts();
    let language = t.language();
    let mut things = Vec::new();
    for d in &connection.packages {
        let thing = AskedThing::Package {
            code: d.package_code.clone(),
        };
        things.push(thing_row(names, &thing).await?);
    }
    for r in &connection.rights {
        let thing = AskedThing::Right {
            resource_id: r.resource_id.clone(),
            action: r.action.clone(),
        };
        things.push(thing_row(names, &thing).await?);
    }
    let roles = connection
        .roles
        .iter()
        .map(|code| match state.catalogue.role(code) {
            Ok(role) => role.name.get(language).to_string(),
            Err(_) => code.clone(),
        })
        .collect();
    for thing in &mut things {
        thing.revoke = t.with2(
            "access.revoke",
            ("what", &thing.name),
            ("name", &connection.party.name),
        );
    }
    Ok(ConnectionRow {
        uuid: connection.party.uuid.to_string(),
        name: connection.party.name.clone(),
        meta: party_meta(t, &connection.party),
        roles,
        things,
    })
}

/// "Person", or "Organisation, org.nr. 123 456 789".
fn party_meta(t: Texts, party: &Party) -> String {
    match party.org_number() {
        Some(org) => format!(
            "{}, {} {}",
            t.get("access.party.organisation"),
            t.get("common.org_no"),
            org_number(org)
        ),
        None => t.get("access.party.person").to_string(),
    }
}

/// An ask, as the lists show it.
struct AskRow {
    id: String,
    who: String,
    things: Vec<ThingRow>,
    status: String,
    pending: bool,
    date: String,
}

async fn ask_row(
    state: &PortalState,
    names: &mut Names<'_>,
    ask: &AccessAsk,
) -> Result<AskRow, Failure> {
    let t = names.texts();
    let who = state
        .store
        .party_by_uuid(ask.person)
        .await?
        .map(|p| p.name)
        .unwrap_or_default();
    let mut things = Vec::new();
    for thing in &ask.things {
        things.push(thing_row(names, thing).await?);
    }
    let status = match ask.status {
        AskStatus::Pending => "access.ask.status.pending",
        AskStatus::Granted => "access.ask.status.granted",
        AskStatus::Declined => "access.ask.status.declined",
    };
    Ok(AskRow {
        id: ask.id.to_string(),
        who,
        things,
        status: t.get(status).to_string(),
        pending: ask.status == AskStatus::Pending,
        date: t.date(ask.answered_at.unwrap_or(ask.created_at)),
    })
}

#[derive(Template)]
#[template(path = "portal/access.html")]
struct AccessPage {
    t: Texts,
    chrome: Chrome,
    heading: String,
    manager: bool,
    reads: bool,
    notice: Option<String>,
    error: Option<String>,
    asks: Vec<AskRow>,
    given: Vec<ConnectionRow>,
    received: Vec<ConnectionRow>,
    mine: Vec<AskRow>,
}

#[derive(Deserialize)]
pub(crate) struct AccessQuery {
    notice: Option<String>,
    error: Option<String>,
}

fn party_param(acting: &Acting) -> Param {
    Param::new("party", Some(acting.party.uuid.to_string().as_str()))
}

/// `GET /access`: who has what, the asks to answer, the person's own asks.
pub(crate) async fn overview(
    State(state): State<PortalState>,
    viewer: Viewer,
    Query(query): Query<AccessQuery>,
) -> Response {
    let result = async {
        let t = viewer.t();
        let acting = acting(&state, &viewer).await?;
        let caller = viewer.caller();
        let app = &state.app.app;
        let mut names = Names::new(&state, t);
        let manager = acting.standing.access_manager;
        let reads = acting.standing.reads_access;
        let (mut given, mut received, mut asks) = (Vec::new(), Vec::new(), Vec::new());
        if reads {
            let found = people_access::connections_of(app, acting.party.uuid).await?;
            for c in found.given {
                given.push(connection_row(&state, &mut names, c).await?);
            }
            for c in found.received {
                received.push(connection_row(&state, &mut names, c).await?);
            }
            let pending = Some(AskStatus::Pending);
            for ask in access_asks::received(app, &caller, &party_param(&acting), pending).await? {
                asks.push(ask_row(&state, &mut names, &ask).await?);
            }
        }
        let mut mine = Vec::new();
        for ask in access_asks::sent(app, &caller).await? {
            if ask.party == acting.party.uuid {
                mine.push(ask_row(&state, &mut names, &ask).await?);
            }
        }
        let page = AccessPage {
            t,
            chrome: Chrome::new(&viewer.visit, t.get("access.title"))
                .party(&acting.party)
                .current("access"),
            heading: t.with("access.heading", "org", &acting.party.name),
            manager,
            reads,
            notice: query.notice.as_deref().and_then(|n| notice_text(t, n)),
            error: query.error.as_deref().map(|e| error_text(t, e)),
            asks,
            given,
            received,
            mine,
        };
        Ok(html(StatusCode::OK, &page))
    }
    .await;
    viewer.finish(result)
}

/// `POST /access/find`: a person by national id number and last name, or an
/// organisation by number; then on to picking what to give.
pub(crate) async fn find(
    State(state): State<PortalState>,
    viewer: Viewer,
    CsrfForm(fields): CsrfForm<Fields>,
) -> Response {
    let result = async {
        let acting = acting(&state, &viewer).await?;
        let caller = viewer.caller();
        let app = &state.app.app;
        let found = if let Some(org) = field(&fields, "org") {
            let digits: String = org.chars().filter(|c| !c.is_whitespace()).collect();
            match OrgNumber::parse(&digits) {
                Ok(org) => match state.store.organization(&org).await? {
                    Some(party) => people_access::as_manager(app, &caller, acting.party.uuid)
                        .await
                        .map(|_| party),
                    None => Err(AppError::NotFound("no such organisation".into())),
                },
                Err(_) => Err(AppError::invalid_field("org", "not an org number")),
            }
        } else {
            let pid = field(&fields, "pid").unwrap_or_default();
            let last_name = field(&fields, "last_name").unwrap_or_default();
            people_access::find_person(app, &caller, &party_param(&acting), pid, last_name).await
        };
        match found {
            Ok(party) if party.uuid == acting.party.uuid => Ok(see_other(&with_query(
                ACCESS,
                &[("error", "access.error.self")],
            ))),
            Ok(party) => Ok(see_other(&with_query(
                GIVE,
                &[("to", &party.uuid.to_string())],
            ))),
            Err(e) => back_with_error(ACCESS, e),
        }
    }
    .await;
    viewer.finish(result)
}

/// A package offered on the pick page.
struct PackageOption {
    /// The check box's element id.
    id: String,
    value: String,
    name: String,
    description: String,
}

/// An area of packages on the pick page.
struct AreaGroupRow {
    name: String,
    packages: Vec<PackageOption>,
}

/// A resource found by the search, and (when chosen) its actions.
struct ResourceOption {
    id: String,
    name: String,
    href: String,
}

struct ActionOption {
    value: String,
    name: String,
    may: bool,
}

#[derive(Template)]
#[template(path = "portal/access_pick.html")]
struct PickPage {
    t: Texts,
    chrome: Chrome,
    /// `give` or `ask`.
    mode: &'static str,
    heading: String,
    lead: String,
    to: String,
    query: String,
    areas: Vec<AreaGroupRow>,
    /// "12 access packages", in the page's language.
    count_text: String,
    resource_query: String,
    resources: Vec<ResourceOption>,
    resource: Option<String>,
    resource_name: String,
    actions: Vec<ActionOption>,
    error: Option<String>,
}

#[derive(Deserialize)]
pub(crate) struct PickQuery {
    to: Option<String>,
    #[serde(default)]
    q: String,
    #[serde(default)]
    rq: String,
    resource: Option<String>,
    error: Option<String>,
}

/// How many resources a search lists at most.
const MAX_RESOURCES: usize = 20;

/// The packages (filtered by the search, grouped by area) as check boxes.
fn package_areas(
    state: &PortalState,
    t: Texts,
    packages: &[&systembruker_domain::catalogue::AccessPackage],
    query: &str,
) -> (Vec<AreaGroupRow>, usize) {
    let language = t.language();
    let wanted = query.trim().to_lowercase();
    let mut areas: Vec<AreaGroupRow> = Vec::new();
    let mut count = 0;
    for package in packages {
        let name = package.name.get(language);
        let description = package.description.get(language);
        if !wanted.is_empty()
            && !name.to_lowercase().contains(&wanted)
            && !description.to_lowercase().contains(&wanted)
        {
            continue;
        }
        count += 1;
        let area = state
            .catalogue
            .area_of(package)
            .map(|a| a.name.get(language).to_string())
            .unwrap_or_default();
        let option = PackageOption {
            id: format!("pkg-{count}"),
            value: format!("package:{}", package.code),
            name: name.to_string(),
            description: description.to_string(),
        };
        match areas.iter_mut().find(|a| a.name == area) {
            Some(row) => row.packages.push(option),
            None => areas.push(AreaGroupRow {
                name: area,
                packages: vec![option],
            }),
        }
    }
    (areas, count)
}

/// Delegable resources whose id or title matches the search.
async fn resource_search(
    state: &PortalState,
    names: &mut Names<'_>,
    base: &str,
    query: &PickQuery,
) -> Result<Vec<ResourceOption>, Failure> {
    let wanted = query.rq.trim().to_lowercase();
    if wanted.is_empty() {
        return Ok(Vec::new());
    }
    let mut out = Vec::new();
    for stored in state.store.resources().await? {
        let r = stored.resource;
        if !r.delegable
            || r.resource_type == systembruker_domain::resource::ResourceType::MaskinportenSchema
        {
            continue;
        }
        let name = names.resource(&r.identifier).await?.name;
        if !r.identifier.to_lowercase().contains(&wanted) && !name.to_lowercase().contains(&wanted)
        {
            continue;
        }
        let mut pairs = vec![
            ("resource", r.identifier.as_str()),
            ("rq", query.rq.as_str()),
        ];
        if let Some(to) = &query.to {
            pairs.push(("to", to.as_str()));
        }
        out.push(ResourceOption {
            href: with_query(base, &pairs),
            id: r.identifier.clone(),
            name,
        });
        if out.len() == MAX_RESOURCES {
            break;
        }
    }
    Ok(out)
}

/// `GET /access/give?to=`: pick packages (by area, with search) and single rights of a
/// resource to give the party `to`.
pub(crate) async fn give_page(
    State(state): State<PortalState>,
    viewer: Viewer,
    Query(query): Query<PickQuery>,
) -> Response {
    let result = pick(&state, &viewer, query, "give").await;
    viewer.finish(result)
}

/// `GET /access/ask`: pick what to ask the organisation's access managers for.
pub(crate) async fn ask_page(
    State(state): State<PortalState>,
    viewer: Viewer,
    Query(query): Query<PickQuery>,
) -> Response {
    let result = pick(&state, &viewer, query, "ask").await;
    viewer.finish(result)
}

async fn pick(
    state: &PortalState,
    viewer: &Viewer,
    query: PickQuery,
    mode: &'static str,
) -> Result<Response, Failure> {
    let t = viewer.t();
    let acting = acting(state, viewer).await?;
    let app = &state.app.app;
    let mut names = Names::new(state, t);
    let (heading, lead, to, packages, manager) = if mode == "give" {
        let to = query
            .to
            .as_deref()
            .and_then(|to| Uuid::parse_str(to).ok())
            .ok_or(Failure::NotFound)?;
        let receiver = state
            .store
            .party_by_uuid(to)
            .await?
            .ok_or(Failure::NotFound)?;
        let manager =
            match people_access::as_manager(app, &viewer.caller(), acting.party.uuid).await {
                Ok(manager) => manager,
                Err(_) => return Err(Failure::Refused("access.error.forbidden")),
            };
        let packages = people_access::givable_packages(app, &manager);
        (
            t.with("access.give.heading", "name", &receiver.name),
            t.with("access.give.lead", "org", &acting.party.name),
            to.to_string(),
            packages,
            Some(manager),
        )
    } else {
        let packages: Vec<_> = state
            .catalogue
            .packages()
            .iter()
            .filter(|p| p.is_assignable)
            .collect();
        (
            t.with("access.ask.heading", "org", &acting.party.name),
            t.get("access.ask.lead").to_string(),
            String::new(),
            packages,
            None,
        )
    };
    let (areas, package_count) = package_areas(state, t, &packages, &query.q);
    let base = if mode == "give" { GIVE } else { ASK };
    let resources = resource_search(state, &mut names, base, &query).await?;
    let mut actions = Vec::new();
    let mut resource_name = String::new();
    let resource = query.resource.clone().filter(|r| !r.trim().is_empty());
    if let Some(id) = &resource {
        resource_name = names.resource(id).await?.name;
        match &manager {
            Some(manager) => {
                for option in people_access::right_options(app, manager, id).await? {
                    actions.push(ActionOption {
                        value: format!("right:{id}:{}", option.action),
                        name: action_name(t, &option.action),
                        may: option.may_give,
                    });
                }
            }
            None => {
                let mut seen = BTreeSet::new();
                for right in systembruker_app::resources::rights(app, id).await? {
                    if seen.insert(right.action.clone()) {
                        actions.push(ActionOption {
                            value: format!("right:{id}:{}", right.action),
                            name: action_name(t, &right.action),
                            may: true,
                        });
                    }
                }
            }
        }
    }
    let page = PickPage {
        t,
        chrome: Chrome::new(&viewer.visit, heading.clone())
            .party(&acting.party)
            .current("access"),
        mode,
        heading,
        lead,
        to,
        query: query.q.trim().to_string(),
        areas,
        count_text: t.count("access.pick.count", package_count),
        resource_query: query.rq.trim().to_string(),
        resources,
        resource,
        resource_name,
        actions,
        error: query.error.as_deref().map(|e| error_text(t, e)),
    };
    Ok(html(StatusCode::OK, &page))
}

#[derive(Template)]
#[template(path = "portal/access_confirm.html")]
struct ConfirmPage {
    t: Texts,
    chrome: Chrome,
    heading: String,
    to: String,
    things: Vec<ThingRow>,
    back: String,
}

/// `POST /access/give/confirm`: what the receiver will get, before anything changes.
pub(crate) async fn confirm(
    State(state): State<PortalState>,
    viewer: Viewer,
    CsrfForm(fields): CsrfForm<Fields>,
) -> Response {
    let result = async {
        let t = viewer.t();
        let acting = acting(&state, &viewer).await?;
        let to = field(&fields, "to")
            .and_then(|to| Uuid::parse_str(to).ok())
            .ok_or(Failure::BadForm)?;
        let receiver = state
            .store
            .party_by_uuid(to)
            .await?
            .ok_or(Failure::NotFound)?;
        let back = with_query(GIVE, &[("to", &to.to_string())]);
        let things = things_of(&fields);
        if things.is_empty() {
            return Ok(see_other(&with_query(
                GIVE,
                &[("to", &to.to_string()), ("error", "access.error.nothing")],
            )));
        }
        let mut names = Names::new(&state, t);
        let mut rows = Vec::new();
        for thing in &things {
            rows.push(thing_row(&mut names, thing).await?);
        }
        let page = ConfirmPage {
            t,
            chrome: Chrome::new(&viewer.visit, t.get("access.confirm.title"))
                .party(&acting.party)
                .current("access"),
            heading: t.with2(
                "access.confirm.heading",
                ("name", &receiver.name),
                ("org", &acting.party.name),
            ),
            to: to.to_string(),
            things: rows,
            back,
        };
        Ok(html(StatusCode::OK, &page))
    }
    .await;
    viewer.finish(result)
}

/// `POST /access/give`: gives everything confirmed, all or nothing.
pub(crate) async fn give(
    State(state): State<PortalState>,
    viewer: Viewer,
    CsrfForm(fields): CsrfForm<Fields>,
) -> Response {
    let result = async {
        let acting = acting(&state, &viewer).await?;
        let to = field(&fields, "to")
            .and_then(|to| Uuid::parse_str(to).ok())
            .ok_or(Failure::BadForm)?;
        let caller = viewer.caller();
        let app = &state.app.app;
        let back = with_query(GIVE, &[("to", &to.to_string())]);
        let manager = match people_access::as_manager(app, &caller, acting.party.uuid).await {
            Ok(manager) => manager,
            Err(e) => return back_with_error(&back, e),
        };
        match people_access::give_all(app, &caller, &manager, to, &things_of(&fields)).await {
            Ok(()) => Ok(see_other(&with_query(ACCESS, &[("notice", "given")]))),
            Err(e) => back_with_error(&back, e),
        }
    }
    .await;
    viewer.finish(result)
}

/// `POST /access/revoke`: takes back one package or right the organisation gave.
pub(crate) async fn revoke(
    State(state): State<PortalState>,
    viewer: Viewer,
    CsrfForm(fields): CsrfForm<Fields>,
) -> Response {
    let result = async {
        let acting = acting(&state, &viewer).await?;
        let caller = viewer.caller();
        let app = &state.app.app;
        let party = acting.party.uuid.to_string();
        let to = field(&fields, "to").ok_or(Failure::BadForm)?;
        let outcome = match things_of(&fields).first() {
            Some(AskedThing::Package { code }) => {
                let args = DelegationArgs {
                    party: Param::new("party", Some(party.as_str())),
                    from: Param::new("from", None),
                    to: Param::new("to", Some(to)),
                    package: Param::new("package", Some(code.as_str())),
                };
                delegations::remove(app, &caller, &args).await
            }
            Some(AskedThing::Right {
                resource_id,
                action,
            }) => {
                let args = RightArgs {
                    party: Param::new("party", Some(party.as_str())),
                    to: Param::new("to", Some(to)),
                    resource: Param::new("resource", Some(resource_id.as_str())),
                    action: Param::new("action", Some(action.as_str())),
                };
                people_access::remove_right(app, &caller, &args).await
            }
            None => return Err(Failure::BadForm),
        };
        match outcome {
            Ok(()) => Ok(see_other(&with_query(ACCESS, &[("notice", "revoked")]))),
            Err(e) => back_with_error(ACCESS, e),
        }
    }
    .await;
    viewer.finish(result)
}

/// `POST /access/ask`: the person asks for the things ticked.
pub(crate) async fn ask(
    State(state): State<PortalState>,
    viewer: Viewer,
    CsrfForm(fields): CsrfForm<Fields>,
) -> Response {
    let result = async {
        let acting = acting(&state, &viewer).await?;
        let things = things_of(&fields);
        let mut args = AskArgs {
            party: party_param(&acting),
            ..AskArgs::default()
        };
        for thing in things {
            match thing {
                AskedThing::Package { code } => args.packages.push(code),
                AskedThing::Right {
                    resource_id,
                    action,
                } => args.rights.push((resource_id, action)),
            }
        }
        match access_asks::ask(&state.app.app, &viewer.caller(), &args).await {
            Ok(_) => Ok(see_other(&with_query(ACCESS, &[("notice", "asked")]))),
            Err(e) => back_with_error(ASK, e),
        }
    }
    .await;
    viewer.finish(result)
}

#[derive(Deserialize)]
pub(crate) struct AskForRequestForm {
    id: String,
    kind: Option<String>,
    from: Option<String>,
}

/// `POST /access/ask/request`: from a request's missing-rights view, the person asks
/// for exactly what they lack to approve it; back to the request page.
pub(crate) async fn ask_for_request(
    State(state): State<PortalState>,
    viewer: Viewer,
    CsrfForm(form): CsrfForm<AskForRequestForm>,
) -> Response {
    let result = async {
        let id = Uuid::parse_str(form.id.trim()).map_err(|_| Failure::BadForm)?;
        let kind = match form.kind.as_deref() {
            Some("agent") => SystemUserType::Agent,
            _ => SystemUserType::Standard,
        };
        let app = &state.app.app;
        let request = systembruker_app::requests::live_request(app, id, kind).await?;
        let org = OrgNumber::parse(&request.party_org).map_err(|_| Failure::NotFound)?;
        let party = state
            .store
            .organization(&org)
            .await?
            .ok_or(Failure::NotFound)?;
        let dto = to_dto(&state, request);
        // The agent request's approver need not hold the packages: only the role counts.
        let (resources, packages) = match kind {
            SystemUserType::Standard => (
                dto.rights
                    .clone()
                    .unwrap_or_default()
                    .iter()
                    .filter_map(|r| r.resource_id().map(str::to_string))
                    .collect::<Vec<_>>(),
                dto.access_packages
                    .iter()
                    .filter_map(|p| state.catalogue.package(&p.urn).ok().map(|p| p.code.clone()))
                    .collect::<Vec<_>>(),
            ),
            SystemUserType::Agent => (Vec::new(), Vec::new()),
        };
        let outcome =
            access_asks::ask_for_approval(app, &viewer.caller(), party.uuid, &resources, &packages)
                .await;
        let page = match kind {
            SystemUserType::Standard => "/accessmanagement/ui/systemuser/request",
            SystemUserType::Agent => "/accessmanagement/ui/systemuser/agentrequest",
        };
        let asked = match outcome {
            Ok(_) => "sent",
            Err(AppError::Conflict(_)) => "pending",
            Err(e) => return Err(e.into()),
        };
        let id = id.to_string();
        let mut pairs = vec![("id", id.as_str()), ("asked", asked)];
        if form.from.as_deref() == Some("overview") {
            pairs.push(("from", "overview"));
        }
        Ok(see_other(&with_query(page, &pairs)))
    }
    .await;
    viewer.finish(result)
}

/// `POST /access/asks/{id}/{grant|decline}`: an access manager answers an ask.
pub(crate) async fn answer(
    State(state): State<PortalState>,
    viewer: Viewer,
    Path((id, answer)): Path<(String, String)>,
    CsrfForm(_fields): CsrfForm<Fields>,
) -> Response {
    let result = async {
        let acting = acting(&state, &viewer).await?;
        let id = Uuid::parse_str(id.trim()).map_err(|_| Failure::NotFound)?;
        let app = &state.app.app;
        let caller = viewer.caller();
        let party = party_param(&acting);
        let (outcome, notice) = match answer.as_str() {
            "grant" => (
                access_asks::grant(app, &caller, &party, id).await,
                "granted",
            ),
            "decline" => (
                access_asks::decline(app, &caller, &party, id).await,
                "declined",
            ),
            _ => return Err(Failure::NotFound),
        };
        match outcome {
            Ok(_) => Ok(see_other(&with_query(ACCESS, &[("notice", notice)]))),
            Err(e) => back_with_error(ACCESS, e),
        }
    }
    .await;
    viewer.finish(result)
}
