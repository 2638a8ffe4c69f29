//! "For developers" (`/accessmanagement/ui/developer`): the organisation's Maskinporten
//! clients and keys, the scopes it owns and who may use them, and its systems in the
//! system register, for a person holding the access package `maskinporten-administrator`
//! for the organisation. Every change goes through the same use cases as the
//! self-service API and the system register's API (`systembruker_app::selfservice`,
//! `systembruker_app::systemregister`), so the rules and their messages are the same.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use systembruker_app as app;
use systembruker_app::AppError;
use systembruker_app::selfservice::clients::{self as own_clients, ClientInput};
use systembruker_app::selfservice::scopes::{self as own_scopes, ScopeSettings};
use systembruker_app::selfservice::{DEVELOPER_PACKAGE, Developer};
use systembruker_domain::OrgNumber;
use systembruker_domain::system::RegisteredSystem;
use systembruker_storage::now_millis;
use uuid::Uuid;

use super::extract::{CsrfForm, Viewer};
use super::i18n::Texts;
use super::names::{localized, spaced};
use super::page::{Chrome, Failure, html, is_fault, see_other};
use super::party::{Acting, acting};
use super::{PortalState, with_query};
use crate::auth::Caller;
use crate::problem::ApiError;

pub(crate) const DEVELOPER: &str = "/accessmanagement/ui/developer";
const SYSTEM_FORM: &str = "/accessmanagement/ui/developer/system";

/// A form as name/value pairs (checkbox groups send a name many times).
type Fields = Vec<(String, String)>;

fn field<'a>(fields: &'a Fields, name: &str) -> &'a str {
    fields
        .iter()
        .find(|(n, _)| n == name)
        .map_or("", |(_, v)| v.trim())
}

fn all(fields: &Fields, name: &str) -> Vec<String> {
    fields
        .iter()
        .filter(|(n, v)| n == name && !v.trim().is_empty())
        .map(|(_, v)| v.trim().to_string())
        .collect()
}

/// A refusal shown above the forms: the API's code and its words.
pub(crate) struct Problem {
    code: String,
    details: Vec<String>,
}

fn problem(error: &AppError) -> Problem {
    let details = match error {
        AppError::Validation(failures) => failures
            .iter()
            .map(|f| format!("{}: {}", f.code, f.title))
            .collect(),
        other => vec![other.to_string()],
    };
    Problem {
        code: ApiError::from(error.clone()).code,
        details,
    }
}

struct KeyRow {
    kid: String,
    expires: String,
    expired: bool,
}

struct ClientRow {
    id: String,
    name: String,
    description: String,
    scopes: Vec<String>,
    lifetime: u32,
    keys: Vec<KeyRow>,
}

struct GrantRow {
    org: String,
    digits: String,
    name: String,
    since: String,
}

struct ScopeRow {
    name: String,
    description: String,
    open: bool,
    max_age: String,
    access: Vec<GrantRow>,
}

struct SystemRow {
    id: String,
    name: String,
    visible: bool,
    /// "2 clients".
    clients: String,
    edit_href: String,
    create_href: String,
}

#[derive(Template)]
#[template(path = "portal/developer.html")]
struct DeveloperPage {
    t: Texts,
    chrome: Chrome,
    org_name: String,
    may: bool,
    /// The access package that gives access here.
    package: &'static str,
    notice: Option<String>,
    problem: Option<Problem>,
    clients: Vec<ClientRow>,
    usable_scopes: Vec<String>,
    scopes: Vec<ScopeRow>,
    prefixes: Vec<String>,
    systems: Vec<SystemRow>,
}

/// The developer acting for the chosen organisation, or `None` when the person does
/// not hold the package for it.
async fn developer_for(
    state: &PortalState,
    viewer: &Viewer,
    acting: &Acting,
) -> Result<Option<Developer>, Failure> {
    let Some(org) = acting.party.org_number().copied() else {
        return Ok(None);
    };
    match Developer::from_person(&state.app.app, &viewer.caller(), org).await {
        Ok(developer) => Ok(Some(developer)),
        Err(AppError::Forbidden(_)) => Ok(None),
        Err(other) => Err(other.into()),
    }
}

/// The caller the system register's use cases see: the organisation as the vendor, the
/// person as the one who changes.
fn vendor_caller(viewer: &Viewer, developer: &Developer) -> Caller {
    let mut caller = viewer.caller();
    caller.consumer_org = Some(developer.org);
    caller
}

#[derive(Deserialize)]
pub(crate) struct PageQuery {
    done: Option<String>,
}

/// What a finished change says, by `?done=`.
const DONE: [&str; 9] = [
    "client_created",
    "client_deleted",
    "key_added",
    "key_removed",
    "scope_created",
    "access_granted",
    "access_revoked",
    "system_saved",
    "scope_updated",
];

/// `GET /developer`.
pub(crate) async fn page(
    State(state): State<PortalState>,
    viewer: Viewer,
    Query(query): Query<PageQuery>,
) -> Response {
    let result = async {
        let acting = acting(&state, &viewer).await?;
        let developer = developer_for(&state, &viewer, &acting).await?;
        let notice = query
            .done
            .as_deref()
            .filter(|d| DONE.contains(d))
            .map(|d| viewer.t().get(&format!("developer.done.{d}")).to_string());
        render(&state, &viewer, &acting, developer.as_ref(), notice, None).await
    }
    .await;
    viewer.finish(result)
}

async fn render(
    state: &PortalState,
    viewer: &Viewer,
    acting: &Acting,
    developer: Option<&Developer>,
    notice: Option<String>,
    problem: Option<Problem>,
) -> Result<Response, Failure> {
    let t = viewer.t();
    let chrome = Chrome::new(&viewer.visit, t.get("developer.title"))
        .party(&acting.party)
        .current("developer");
    let Some(developer) = developer else {
        let page = DeveloperPage {
            t,
            chrome,
            org_name: acting.party.name.clone(),
            may: false,
            package: DEVELOPER_PACKAGE,
            notice: None,
            problem: None,
            clients: Vec::new(),
            usable_scopes: Vec::new(),
            scopes: Vec::new(),
            prefixes: Vec::new(),
            systems: Vec::new(),
        };
        return Ok(html(StatusCode::FORBIDDEN, &page));
    };
    let app = &state.app.app;
    let now = now_millis();
    let clients = own_clients::list(app, developer)
        .await?
        .into_iter()
        .map(|own| ClientRow {
            id: own.client.client_id.to_string(),
            name: own.client.client_name,
            description: own.client.description.unwrap_or_default(),
            scopes: own.client.scopes,
            lifetime: own.client.access_token_lifetime,
            keys: own
                .keys
                .into_iter()
                .map(|k| KeyRow {
                    kid: k.kid,
                    expires: t.date(k.expires_at),
                    expired: k.expires_at <= now,
                })
                .collect(),
        })
        .collect();
    let mut scopes = Vec::new();
    for own in own_scopes::list(app, developer).await? {
        let mut access = Vec::new();
        for grant in own.access {
            let name = match state.store.organization(&grant.consumer_org).await? {
                Some(party) => party.name,
                None => String::new(),
            };
            access.push(GrantRow {
                org: spaced(grant.consumer_org.as_str()),
                digits: grant.consumer_org.to_string(),
                name,
                since: t.date(grant.since),
            });
        }
        scopes.push(ScopeRow {
            description: own.scope.description.clone().unwrap_or_default(),
            open: own.scope.accessible_for_all,
            max_age: own
                .scope
                .at_max_age
                .map(|a| a.to_string())
                .unwrap_or_default(),
            name: own.scope.name,
            access,
        });
    }
    let vendor = vendor_caller(viewer, developer);
    let systems = app::systemregister::vendor_systems(app, &vendor)
        .await?
        .into_iter()
        .filter(|s| !s.is_deleted)
        .map(|s| SystemRow {
            name: localized(&s.name, t.language()).unwrap_or_else(|| s.id.clone()),
            visible: s.is_visible,
            clients: t.count("developer.systems.clients", s.client_id.len()),
            edit_href: with_query(SYSTEM_FORM, &[("id", &s.id)]),
            create_href: with_query(
                "/accessmanagement/ui/systemuser/create",
                &[("system", &s.id)],
            ),
            id: s.id,
        })
        .collect();
    let status = if problem.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    let page = DeveloperPage {
        t,
        chrome,
        org_name: acting.party.name.clone(),
        may: true,
        package: DEVELOPER_PACKAGE,
        notice,
        problem,
        clients,
        usable_scopes: own_clients::usable_scopes(app, developer).await?,
        scopes,
        prefixes: own_scopes::own_prefixes(app, developer).await?,
        systems,
    };
    Ok(html(status, &page))
}

/// Runs a developer's change: 303 back to the page with `done`, or the page again with
/// the refusal (a fault of ours is the error page).
async fn change<F, Fut>(
    state: &PortalState,
    viewer: &Viewer,
    done: &str,
    work: F,
) -> Result<Response, Failure>
where
    F: FnOnce(Developer) -> Fut,
    Fut: Future<Output = Result<(), AppError>>,
{
    let acting = acting(state, viewer).await?;
    let Some(developer) = developer_for(state, viewer, &acting).await? else {
        return Err(Failure::Refused("developer.not_allowed"));
    };
    match work(developer.clone()).await {
        Ok(()) => Ok(see_other(&with_query(DEVELOPER, &[("done", done)]))),
        Err(error) if is_fault(&error) => Err(error.into()),
        Err(error) => {
            render(
                state,
                viewer,
                &acting,
                Some(&developer),
                None,
                Some(problem(&error)),
            )
            .await
        }
    }
}

fn client_id(fields: &Fields) -> Result<Uuid, AppError> {
    Uuid::parse_str(field(fields, "client"))
        .map_err(|_| AppError::invalid_field("/client", "choose one of the clients"))
}

fn public_key(fields: &Fields) -> Result<systembruker_token::jwk::RsaJwk, AppError> {
    let kid = Some(field(fields, "kid")).filter(|k| !k.is_empty());
    own_clients::read_public_key(field(fields, "key"), kid)
}

/// `POST /developer/clients`: a new client, with a first key when one is pasted.
pub(crate) async fn create_client(
    State(state): State<PortalState>,
    viewer: Viewer,
    CsrfForm(fields): CsrfForm<Fields>,
) -> Response {
    let app = &state.app.app;
    let fields = &fields;
    let result = change(&state, &viewer, "client_created", |developer| async move {
        let lifetime = match field(fields, "lifetime") {
            "" => None,
            text => Some(text.parse::<u32>().map_err(|_| {
                AppError::invalid_field("/access_token_lifetime", "a whole number of seconds")
            })?),
        };
        let input = ClientInput {
            name: field(fields, "name").to_string(),
            description: Some(field(fields, "description").to_string()),
            scopes: all(fields, "scope"),
            access_token_lifetime: lifetime,
        };
        let keys = if field(fields, "key").is_empty() {
            Vec::new()
        } else {
            vec![public_key(fields)?]
        };
        own_clients::create(app, &developer, &input, keys).await?;
        Ok(())
    })
    .await;
    viewer.finish(result)
}

/// `POST /developer/clients/delete`.
pub(crate) async fn delete_client(
    State(state): State<PortalState>,
    viewer: Viewer,
    CsrfForm(fields): CsrfForm<Fields>,
) -> Response {
    let app = &state.app.app;
    let fields = &fields;
    let result = change(&state, &viewer, "client_deleted", |developer| async move {
        own_clients::delete(app, &developer, client_id(fields)?).await
    })
    .await;
    viewer.finish(result)
}

/// `POST /developer/keys/add`: a public JWK or PEM key; a private key is refused.
pub(crate) async fn add_key(
    State(state): State<PortalState>,
    viewer: Viewer,
    CsrfForm(fields): CsrfForm<Fields>,
) -> Response {
    let app = &state.app.app;
    let fields = &fields;
    let result = change(&state, &viewer, "key_added", |developer| async move {
        let key = public_key(fields)?;
        own_clients::add_keys(app, &developer, client_id(fields)?, vec![key]).await?;
        Ok(())
    })
    .await;
    viewer.finish(result)
}

/// `POST /developer/keys/remove`.
pub(crate) async fn remove_key(
    State(state): State<PortalState>,
    viewer: Viewer,
    CsrfForm(fields): CsrfForm<Fields>,
) -> Response {
    let app = &state.app.app;
    let fields = &fields;
    let result = change(&state, &viewer, "key_removed", |developer| async move {
        own_clients::remove_key(app, &developer, client_id(fields)?, field(fields, "kid")).await
    })
    .await;
    viewer.finish(result)
}

/// `POST /developer/scopes`: a new scope under one of the organisation's prefixes.
pub(crate) async fn create_scope(
    State(state): State<PortalState>,
    viewer: Viewer,
    CsrfForm(fields): CsrfForm<Fields>,
) -> Response {
    let app = &state.app.app;
    let fields = &fields;
    let result = change(&state, &viewer, "scope_created", |developer| async move {
        let at_max_age = match field(fields, "max_age") {
            "" => None,
            text => Some(text.parse::<u32>().map_err(|_| {
                AppError::invalid_field("/at_max_age", "a whole number of seconds")
            })?),
        };
        let settings = ScopeSettings {
            description: field(fields, "description").to_string(),
            long_description: None,
            allowed_integration_types: Vec::new(),
            at_max_age,
            accessible_for_all: field(fields, "open") == "true",
            delegation_source: None,
        };
        own_scopes::create(
            app,
            &developer,
            field(fields, "prefix"),
            field(fields, "subscope"),
            &settings,
        )
        .await?;
        Ok(())
    })
    .await;
    viewer.finish(result)
}

fn consumer(fields: &Fields) -> Result<OrgNumber, AppError> {
    let digits: String = field(fields, "org")
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    OrgNumber::parse(&digits).map_err(|e| AppError::invalid_field("/consumer_orgno", e.to_string()))
}

/// `POST /developer/scopes/grant`.
pub(crate) async fn grant(
    State(state): State<PortalState>,
    viewer: Viewer,
    CsrfForm(fields): CsrfForm<Fields>,
) -> Response {
    let app = &state.app.app;
    let fields = &fields;
    let result = change(&state, &viewer, "access_granted", |developer| async move {
        own_scopes::grant(app, &developer, field(fields, "scope"), consumer(fields)?).await?;
        Ok(())
    })
    .await;
    viewer.finish(result)
}

/// `POST /developer/scopes/revoke`.
pub(crate) async fn revoke(
    State(state): State<PortalState>,
    viewer: Viewer,
    CsrfForm(fields): CsrfForm<Fields>,
) -> Response {
    let app = &state.app.app;
    let fields = &fields;
    let result = change(&state, &viewer, "access_revoked", |developer| async move {
        own_scopes::revoke(app, &developer, field(fields, "scope"), consumer(fields)?).await
    })
    .await;
    viewer.finish(result)
}

// ----- the system register: create and edit a system -----

struct Checkbox {
    value: String,
    label: String,
    checked: bool,
}

#[derive(Template)]
#[template(path = "portal/developer_system.html")]
struct SystemPage {
    t: Texts,
    chrome: Chrome,
    editing: bool,
    vendor_prefix: String,
    /// The part after `<orgno>_`.
    suffix: String,
    name_nb: String,
    name_nn: String,
    name_en: String,
    description_nb: String,
    description_nn: String,
    description_en: String,
    resources: Vec<Checkbox>,
    packages: Vec<Checkbox>,
    /// Some package is chosen: the list starts open.
    packages_open: bool,
    clients: Vec<Checkbox>,
    redirects: String,
    visible: bool,
    problem: Option<Problem>,
}

/// What the form holds, whether read from a stored system or a post.
#[derive(Default)]
struct SystemForm {
    editing: bool,
    suffix: String,
    names: [String; 3],
    descriptions: [String; 3],
    resources: Vec<String>,
    packages: Vec<String>,
    clients: Vec<String>,
    redirects: String,
    visible: bool,
}

const LANGUAGE_CODES: [&str; 3] = ["nb", "nn", "en"];

impl SystemForm {
    fn of(system: &RegisteredSystem, org: &OrgNumber) -> Self {
        let text = |map: &std::collections::BTreeMap<String, String>, code: &str| {
            map.get(code).cloned().unwrap_or_default()
        };
        Self {
            editing: true,
            suffix: system
                .id
                .strip_prefix(&format!("{org}_"))
                .unwrap_or(&system.id)
                .to_string(),
            names: LANGUAGE_CODES.map(|c| text(&system.name, c)),
            descriptions: LANGUAGE_CODES.map(|c| text(&system.description, c)),
            resources: system
                .rights
                .iter()
                .filter_map(|r| r.resource_id().map(str::to_string))
                .collect(),
            packages: system
                .access_packages
                .iter()
                .map(|p| {
                    p.urn
                        .trim_start_matches("urn:altinn:accesspackage:")
                        .to_string()
                })
                .collect(),
            clients: system.client_id.clone(),
            redirects: system.allowed_redirect_urls.join("\n"),
            visible: system.is_visible,
        }
    }

    fn read(fields: &Fields) -> Self {
        Self {
            editing: field(fields, "editing") == "true",
            suffix: field(fields, "suffix").to_string(),
            names: LANGUAGE_CODES.map(|c| field(fields, &format!("name_{c}")).to_string()),
            descriptions: LANGUAGE_CODES
                .map(|c| field(fields, &format!("description_{c}")).to_string()),
            resources: all(fields, "resource"),
            packages: all(fields, "package"),
            clients: all(fields, "client"),
            redirects: field(fields, "redirects").to_string(),
            visible: field(fields, "visible") == "true",
        }
    }

    /// The system the register's use cases take.
    fn system(&self, org: &OrgNumber) -> Result<RegisteredSystem, AppError> {
        let languages = |texts: &[String; 3]| {
            LANGUAGE_CODES
                .iter()
                .zip(texts)
                .map(|(code, text)| (code.to_string(), serde_json::Value::from(text.as_str())))
                .collect::<serde_json::Map<_, _>>()
        };
        let value = serde_json::json!({
            "id": format!("{org}_{}", self.suffix),
            "vendor": {"authority": "iso6523-actorid-upis", "ID": format!("0192:{org}")},
            "name": languages(&self.names),
            "description": languages(&self.descriptions),
            "rights": self.resources.iter().map(|r| serde_json::json!(
                {"resource": [{"id": "urn:altinn:resource", "value": r}]})).collect::<Vec<_>>(),
            "accessPackages": self.packages.iter().map(|p| serde_json::json!(
                {"urn": format!("urn:altinn:accesspackage:{p}")})).collect::<Vec<_>>(),
            "clientId": self.clients,
            "allowedRedirectUrls": self.redirects.lines().map(str::trim)
                .filter(|l| !l.is_empty()).collect::<Vec<_>>(),
            "isVisible": self.visible,
        });
        serde_json::from_value(value).map_err(|e| AppError::BadRequest(e.to_string()))
    }
}

async fn system_page(
    state: &PortalState,
    viewer: &Viewer,
    acting: &Acting,
    developer: &Developer,
    form: SystemForm,
    problem: Option<Problem>,
) -> Result<Response, Failure> {
    let t = viewer.t();
    let language = t.language();
    let mut resources = Vec::new();
    for stored in state.store.resources().await? {
        let resource = stored.resource;
        if !resource.delegable || !resource.visible {
            continue;
        }
        let title = match language {
            systembruker_domain::catalogue::Language::Nn => resource.title.nn.clone(),
            systembruker_domain::catalogue::Language::En => resource.title.en.clone(),
            systembruker_domain::catalogue::Language::Nb => None,
        }
        .or_else(|| resource.title.nb.clone())
        .unwrap_or_else(|| resource.identifier.clone());
        resources.push(Checkbox {
            checked: form.resources.contains(&resource.identifier),
            label: format!("{title} ({})", resource.identifier),
            value: resource.identifier,
        });
    }
    let packages: Vec<Checkbox> = state
        .catalogue
        .packages()
        .iter()
        .filter(|p| p.is_delegable || p.is_assignable)
        .map(|p| Checkbox {
            checked: form.packages.contains(&p.code),
            label: p.name.get(language).to_string(),
            value: p.code.clone(),
        })
        .collect();
    let clients = own_clients::list(&state.app.app, developer)
        .await?
        .into_iter()
        .map(|own| {
            let id = own.client.client_id.to_string();
            Checkbox {
                checked: form.clients.contains(&id),
                label: format!("{} ({id})", own.client.client_name),
                value: id,
            }
        })
        .collect();
    let title = if form.editing {
        "developer.system.edit_title"
    } else {
        "developer.system.new_title"
    };
    let [name_nb, name_nn, name_en] = form.names;
    let [description_nb, description_nn, description_en] = form.descriptions;
    let page = SystemPage {
        t,
        chrome: Chrome::new(&viewer.visit, t.get(title))
            .party(&acting.party)
            .current("developer"),
        editing: form.editing,
        vendor_prefix: format!("{}_", developer.org),
        suffix: form.suffix,
        name_nb,
        name_nn,
        name_en,
        description_nb,
        description_nn,
        description_en,
        resources,
        packages_open: packages.iter().any(|p| p.checked),
        packages,
        clients,
        redirects: form.redirects,
        visible: form.visible,
        problem,
    };
    let status = if page.problem.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    Ok(html(status, &page))
}

#[derive(Deserialize)]
pub(crate) struct SystemQuery {
    id: Option<String>,
}

/// `GET /developer/system[?id=]`: the form for a new system, or one of the
/// organisation's systems to edit.
pub(crate) async fn system_form(
    State(state): State<PortalState>,
    viewer: Viewer,
    Query(query): Query<SystemQuery>,
) -> Response {
    let result = async {
        let acting = acting(&state, &viewer).await?;
        let Some(developer) = developer_for(&state, &viewer, &acting).await? else {
            return Err(Failure::Refused("developer.not_allowed"));
        };
        let form = match query.id.as_deref().filter(|id| !id.trim().is_empty()) {
            Some(id) => {
                let vendor = vendor_caller(&viewer, &developer);
                let system = app::systemregister::vendor_system(&state.app.app, &vendor, id)
                    .await
                    .map_err(|_| Failure::NotFound)?;
                if system.is_deleted {
                    return Err(Failure::NotFound);
                }
                SystemForm::of(&system, &developer.org)
            }
            None => SystemForm {
                visible: false,
                ..SystemForm::default()
            },
        };
        system_page(&state, &viewer, &acting, &developer, form, None).await
    }
    .await;
    viewer.finish(result)
}

/// `POST /developer/system`: registers or changes the system with the register's rules.
pub(crate) async fn save_system(
    State(state): State<PortalState>,
    viewer: Viewer,
    CsrfForm(fields): CsrfForm<Fields>,
) -> Response {
    let result = async {
        let acting = acting(&state, &viewer).await?;
        let Some(developer) = developer_for(&state, &viewer, &acting).await? else {
            return Err(Failure::Refused("developer.not_allowed"));
        };
        let form = SystemForm::read(&fields);
        let vendor = vendor_caller(&viewer, &developer);
        let app = &state.app.app;
        let saved = match form.system(&developer.org) {
            Ok(system) if form.editing => {
                let id = system.id.clone();
                app::systemregister::replace_system(app, &vendor, &id, system).await
            }
            Ok(system) => app::systemregister::create_system(app, &vendor, system)
                .await
                .map(|_| ()),
            Err(error) => Err(error),
        };
        match saved {
            Ok(()) => Ok(see_other(&with_query(
                DEVELOPER,
                &[("done", "system_saved")],
            ))),
            Err(error) if is_fault(&error) => Err(error.into()),
            Err(error) => {
                let problem = problem(&error);
                system_page(&state, &viewer, &acting, &developer, form, Some(problem)).await
            }
        }
    }
    .await;
    viewer.finish(result)
}
