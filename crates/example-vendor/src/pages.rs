//! The pages of SmartRegnskap.

use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use reqwest::Method;
use serde::Deserialize;
use serde_json::Value;

use crate::html::{esc, kroner, org_number, page};
use crate::platform::{CallError, DEMO_SCOPE};
use crate::{Signup, State as AppState};

type Page = Result<Response, Response>;

fn error_page(status: StatusCode, title: &str, message: &str) -> Response {
    let body = format!(
        r#"<div class="card refusal"><h1>{}</h1><p>{}</p><p><a href="/">Til forsiden</a></p></div>"#,
        esc(title),
        esc(message)
    );
    (status, page(title, &body)).into_response()
}

fn platform_error(what: &str, error: &CallError) -> Response {
    error_page(
        StatusCode::BAD_GATEWAY,
        "Noe gikk galt",
        &format!("{what}: {error}"),
    )
}

/// Posts must come from this app's own pages: a form on another site cannot make
/// SmartCloud send requests in a customer's name.
fn same_origin(state: &AppState, headers: &HeaderMap) -> Result<(), Response> {
    let origin = headers
        .get(header::ORIGIN)
        .or_else(|| headers.get(header::REFERER))
        .and_then(|v| v.to_str().ok());
    match origin {
        Some(o) if o != state.public_url && !o.starts_with(&format!("{}/", state.public_url)) => {
            Err(error_page(
                StatusCode::FORBIDDEN,
                "Ikke tillatt",
                "Skjemaet ble sendt fra en annen side.",
            ))
        }
        _ => Ok(()),
    }
}

async fn known_signup(state: &AppState, reference: &str) -> Result<Signup, Response> {
    state.signup(reference).await.ok_or_else(|| {
        error_page(
            StatusCode::NOT_FOUND,
            "Ukjent kunde",
            "SmartRegnskap kjenner ikke denne registreringen. Start på nytt fra forsiden.",
        )
    })
}

pub async fn front() -> Html<String> {
    page(
        "Jobb smartere med SmartCloud",
        r#"<section class="hero">
<p class="hint">SmartRegnskap fra SmartCloud AS</p>
<h1>Jobb smartere med SmartCloud</h1>
<p>Regnskapet ditt henter krav og betalinger fra Skatteetaten selv, hver dag, uten at noen
må logge inn. Du gir SmartRegnskap en <strong>systemtilgang</strong> i Altinn én gang, og kan
trekke den tilbake når du vil.</p>
<p><a class="button" href="/signup">Prøv gratis</a> <a class="button secondary" href="/login">Logg inn</a></p>
</section>
<section class="card">
<h2>Slik kommer du i gang</h2>
<ol>
<li>Oppgi organisasjonsnummeret til virksomheten din.</li>
<li>Du sendes til Altinn, der daglig leder eller en tilgangsstyrer godkjenner det SmartRegnskap ber om.</li>
<li>Tilbake hos oss ser du virksomhetens krav og betalinger.</li>
</ol>
</section>
<section class="card">
<h2>For regnskapsførere</h2>
<p>Fører du regnskap for andre? Gi SmartRegnskap en systemtilgang for klienter, og velg selv
hvilke kunder den skal gjelde for.</p>
<p><a class="button secondary" href="/signup/accountant">Kom i gang som regnskapsfører</a></p>
</section>"#,
    )
}

pub async fn login(State(state): State<AppState>) -> Html<String> {
    let signups = state.signups.read().await;
    let mut items: Vec<&Signup> = signups.values().collect();
    items.sort_by(|a, b| a.org_name.cmp(&b.org_name));
    let list = if items.is_empty() {
        r#"<p>Ingen virksomheter er registrert ennå. <a href="/signup">Prøv gratis</a>.</p>"#
            .to_string()
    } else {
        let rows: String = items
            .iter()
            .map(|s| {
                format!(
                    r#"<li><a href="{}">{}</a> ({}){}</li>"#,
                    esc(&s.dashboard()),
                    esc(&s.org_name),
                    org_number(&s.org),
                    if s.is_agent() {
                        " – regnskapsfører"
                    } else {
                        ""
                    }
                )
            })
            .collect();
        format!("<ul>{rows}</ul>")
    };
    page(
        "Logg inn",
        &format!(
            r#"<div class="card"><h1>Logg inn</h1><p class="hint">I demoen er innloggingen en liste over virksomhetene som er registrert i SmartRegnskap.</p>{list}</div>"#
        ),
    )
}

fn signup_page(error: Option<&str>, org: &str) -> Html<String> {
    let error = error
        .map(|e| format!(r#"<p class="card refusal" role="alert">{}</p>"#, esc(e)))
        .unwrap_or_default();
    page(
        "Prøv gratis",
        &format!(
            r#"<div class="card"><h1>Prøv SmartRegnskap gratis</h1>{error}
<form method="post" action="/signup">
<label for="org">Organisasjonsnummer for virksomheten</label>
<input id="org" name="org" inputmode="numeric" autocomplete="off" value="{}" aria-describedby="org-hint" required>
<p id="org-hint" class="hint">Ni siffer, for eksempel 315000009 (Rør og Vann AS i demoen).</p>
<button type="submit">Start prøveperioden</button>
</form>
<p class="hint">Du sendes videre til Altinn for å godkjenne at SmartRegnskap kan lese krav og betalinger hos Skatteetaten for virksomheten.</p></div>"#,
            esc(org)
        ),
    )
}

pub async fn signup_form() -> Html<String> {
    signup_page(None, "")
}

#[derive(Debug, Deserialize)]
pub struct SignupForm {
    #[serde(default)]
    pub org: String,
    #[serde(default)]
    pub pid: String,
}

fn valid_number(text: &str, digits: usize) -> Option<String> {
    let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    (compact.len() == digits && compact.bytes().all(|b| b.is_ascii_digit())).then_some(compact)
}

/// Stores the sign-up and sends the browser to the platform's confirm page.
async fn remember_and_confirm(state: &AppState, signup: Signup) -> Response {
    let confirm = signup.confirm_url.clone();
    state
        .signups
        .write()
        .await
        .insert(signup.external_ref.clone(), signup);
    Redirect::to(&confirm).into_response()
}

fn confirm_url_of(request: &Value) -> Result<(String, String), Response> {
    match (request["id"].as_str(), request["confirmUrl"].as_str()) {
        (Some(id), Some(url)) if !url.is_empty() => Ok((id.to_string(), url.to_string())),
        _ => Err(error_page(
            StatusCode::BAD_GATEWAY,
            "Noe gikk galt",
            "Altinn svarte uten en lenke til forespørselen.",
        )),
    }
}

pub async fn signup(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<SignupForm>,
) -> Page {
    same_origin(&state, &headers)?;
    let Some(org) = valid_number(&form.org, 9) else {
        return Err((
            StatusCode::BAD_REQUEST,
            signup_page(Some("Organisasjonsnummeret må ha ni siffer."), &form.org),
        )
            .into_response());
    };
    let external_ref = uuid::Uuid::new_v4().to_string();
    let redirect = format!("{}?ref={external_ref}", state.receipt_url());
    let request = match state
        .platform
        .request_standard(&org, &external_ref, &redirect)
        .await
    {
        Ok(request) => request,
        Err(e) if e.status.is_some_and(|s| s.is_client_error()) => {
            let message = format!("Altinn avviste forespørselen: {}", e.detail);
            return Err(
                (StatusCode::BAD_REQUEST, signup_page(Some(&message), &org)).into_response()
            );
        }
        Err(e) => return Err(platform_error("Forespørselen kunne ikke sendes", &e)),
    };
    let (request_id, confirm_url) = confirm_url_of(&request)?;
    let org_name = state.platform.organisation_name(&org).await;
    Ok(remember_and_confirm(
        &state,
        Signup {
            external_ref,
            org,
            org_name,
            request_id,
            confirm_url,
            accountant: None,
            change: None,
        },
    )
    .await)
}

fn accountant_page(error: Option<&str>, org: &str, pid: &str) -> Html<String> {
    let error = error
        .map(|e| format!(r#"<p class="card refusal" role="alert">{}</p>"#, esc(e)))
        .unwrap_or_default();
    page(
        "For regnskapsførere",
        &format!(
            r#"<div class="card"><h1>SmartRegnskap for regnskapsførere</h1>{error}
<p>Regnskapsføreren får en systemtilgang for klienter: SmartRegnskap handler for de kundene
dere legger til, og bare for dem.</p>
<form method="post" action="/signup/accountant">
<label for="org">Organisasjonsnummer for regnskapsføreren</label>
<input id="org" name="org" inputmode="numeric" autocomplete="off" value="{}" required>
<label for="pid">Ditt fødselsnummer</label>
<input id="pid" name="pid" inputmode="numeric" autocomplete="off" value="{}" aria-describedby="pid-hint" required>
<p id="pid-hint" class="hint">I demoen står fødselsnummeret for innloggingen med ID-porten: Tina Tallmaker er 21906810074.</p>
<button type="submit">Be om systemtilgang for klienter</button>
</form></div>"#,
            esc(org),
            esc(pid)
        ),
    )
}

pub async fn accountant_form() -> Html<String> {
    accountant_page(None, "315100003", "21906810074")
}

pub async fn accountant_signup(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<SignupForm>,
) -> Page {
    same_origin(&state, &headers)?;
    let (Some(org), Some(pid)) = (valid_number(&form.org, 9), valid_number(&form.pid, 11)) else {
        let message = "Organisasjonsnummeret må ha ni siffer og fødselsnummeret elleve.";
        return Err((
            StatusCode::BAD_REQUEST,
            accountant_page(Some(message), &form.org, &form.pid),
        )
            .into_response());
    };
    let external_ref = uuid::Uuid::new_v4().to_string();
    let redirect = format!("{}?ref={external_ref}", state.receipt_url());
    let request = match state
        .platform
        .request_agent(&org, &external_ref, &redirect)
        .await
    {
        Ok(request) => request,
        Err(e) if e.status.is_some_and(|s| s.is_client_error()) => {
            let message = format!("Altinn avviste forespørselen: {}", e.detail);
            return Err((
                StatusCode::BAD_REQUEST,
                accountant_page(Some(&message), &org, &pid),
            )
                .into_response());
        }
        Err(e) => return Err(platform_error("Forespørselen kunne ikke sendes", &e)),
    };
    let (request_id, confirm_url) = confirm_url_of(&request)?;
    let org_name = state.platform.organisation_name(&org).await;
    Ok(remember_and_confirm(
        &state,
        Signup {
            external_ref,
            org,
            org_name,
            request_id,
            confirm_url,
            accountant: Some(pid),
            change: None,
        },
    )
    .await)
}

#[derive(Debug, Deserialize)]
pub struct ReceiptQuery {
    #[serde(rename = "ref", default)]
    pub reference: String,
    #[serde(default)]
    pub change: Option<String>,
}

/// (heading, explanation, success) for a request status.
fn status_text(status: &str) -> (&'static str, &'static str, bool) {
    match status {
        "Accepted" => ("Godkjent", "SmartRegnskap har fått tilgangen.", true),
        "New" => (
            "Venter på godkjenning",
            "Forespørselen er ikke besvart ennå.",
            false,
        ),
        "Rejected" => ("Avvist", "Forespørselen ble avvist i Altinn.", false),
        "Denied" => ("Avslått", "Altinn avslo forespørselen.", false),
        "Timedout" => ("Utløpt", "Forespørselen ble ikke besvart i tide.", false),
        _ => (
            "Ukjent status",
            "Altinn svarte med en status vi ikke kjenner.",
            false,
        ),
    }
}

pub async fn receipt(State(state): State<AppState>, Query(query): Query<ReceiptQuery>) -> Page {
    let signup = known_signup(&state, &query.reference).await?;
    let answer = match &query.change {
        Some(change) => state.platform.change_status(change).await,
        None => {
            state
                .platform
                .request_status(&signup.request_id, signup.is_agent())
                .await
        }
    };
    let request = answer.map_err(|e| platform_error("Statusen kunne ikke hentes", &e))?;
    let status = request["status"].as_str().unwrap_or("");
    let (heading, explanation, accepted) = status_text(status);
    let what = if query.change.is_some() {
        "Endringsforespørselen"
    } else if signup.is_agent() {
        "Systemtilgangen for klienter"
    } else {
        "Systemtilgangen"
    };
    let next = if accepted {
        format!(
            r#"<p><a class="button" href="{}">Til oversikten</a></p>"#,
            esc(&signup.dashboard())
        )
    } else if status == "New" {
        format!(
            r#"<p><a class="button" href="{}">Åpne forespørselen i Altinn</a></p>"#,
            esc(&signup.confirm_url)
        )
    } else {
        r#"<p><a class="button" href="/signup">Prøv på nytt</a></p>"#.to_string()
    };
    let body = format!(
        r#"<div class="card {class}"><h1>Kvittering</h1>
<p>{what} for <strong>{name}</strong> ({org}): <span class="status" data-status="{status}">{heading}</span></p>
<p>{explanation}</p>{next}</div>"#,
        class = if accepted { "ok" } else { "refusal" },
        name = esc(&signup.org_name),
        org = org_number(&signup.org),
        status = esc(status),
        explanation = esc(explanation),
    );
    Ok(page("Kvittering", &body).into_response())
}

/// The claims and payments as tables.
fn statement_html(statement: &Value) -> String {
    let empty = Vec::new();
    let claims = statement["claims"].as_array().unwrap_or(&empty);
    let payments = statement["payments"].as_array().unwrap_or(&empty);
    let text = |v: &Value, k: &str| esc(v[k].as_str().unwrap_or(""));
    let amount = |v: &Value| kroner(v["amount"].as_u64().unwrap_or(0));
    let claim_rows: String = claims
        .iter()
        .map(|c| {
            let status = if c["status"] == "paid" { "Betalt" } else { "Åpent" };
            format!(
                r#"<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class="amount">{}</td><td>{status}</td></tr>"#,
                text(c, "id"),
                text(c, "kind"),
                text(c, "period"),
                text(c, "due"),
                amount(c),
            )
        })
        .collect();
    let payment_rows: String = payments
        .iter()
        .map(|p| {
            format!(
                r#"<tr><td>{}</td><td class="amount">{}</td><td>{}</td></tr>"#,
                text(p, "date"),
                amount(p),
                text(p, "claim_id")
            )
        })
        .collect();
    let payments = if payments.is_empty() {
        "<p>Ingen innbetalinger.</p>".to_string()
    } else {
        format!(
            r#"<table><caption>Innbetalinger</caption><thead><tr><th scope="col">Dato</th><th scope="col" class="amount">Beløp</th><th scope="col">Gjelder krav</th></tr></thead><tbody>{payment_rows}</tbody></table>"#
        )
    };
    format!(
        r#"<table class="claims"><caption>Krav</caption><thead><tr><th scope="col">Krav</th><th scope="col">Type</th><th scope="col">Periode</th><th scope="col">Forfall</th><th scope="col" class="amount">Beløp</th><th scope="col">Status</th></tr></thead><tbody>{claim_rows}</tbody></table>{payments}"#
    )
}

/// The refusal and what to do about it.
fn refusal_html(heading: &str, error: &CallError, advice: &str) -> String {
    let code = error
        .code
        .as_deref()
        .map(|c| format!(" <code>{}</code>", esc(c)))
        .unwrap_or_default();
    format!(
        r#"<div class="card refusal" data-refusal="{}"><h3>{}</h3><p>{}{code}</p><p><strong>Hva kan du gjøre?</strong> {}</p></div>"#,
        esc(error.code.as_deref().unwrap_or("")),
        esc(heading),
        esc(&error.detail),
        advice
    )
}

/// What the provider said for `org` with `token`: the statement, or the refusal.
async fn provider_statement(state: &AppState, token: &str, org: &str) -> Result<Value, CallError> {
    let url = format!("{}/api/kravogbetalinger/v1/{org}", state.provider_url);
    state.platform.call(Method::GET, &url, token, None).await
}

fn advice_for_provider(error: &CallError, org_name: &str) -> String {
    match error.status.map(|s| s.as_u16()) {
        Some(403) => format!(
            "Skatteetaten har spurt Altinn, og {} har ikke (lenger) gitt SmartRegnskap tilgang til krav og betalinger. Be daglig leder eller en tilgangsstyrer godkjenne en ny forespørsel.",
            esc(org_name)
        ),
        Some(503) => "Skatteetaten kunne ikke sjekke tilgangen nå, og slipper da ingen inn. Prøv igjen om litt.".to_string(),
        _ => "Prøv igjen om litt.".to_string(),
    }
}

pub async fn customer(State(state): State<AppState>, Path(reference): Path<String>) -> Page {
    let signup = known_signup(&state, &reference).await?;
    let client = &state.platform.client;
    let again = format!(
        r#"<form method="post" action="/signup"><input type="hidden" name="org" value="{}"><button type="submit">Be om tilgang på nytt</button></form>"#,
        esc(&signup.org)
    );
    let content = match client
        .system_user_token(DEMO_SCOPE, &signup.org, Some(signup.external_ref.as_str()))
        .await
    {
        Err(e) => {
            let error = CallError::from(e);
            let advice = if error.code.as_deref() == Some("MP-303") {
                "Systemtilgangen finnes ikke: den er slettet i Altinn eller aldri godkjent. Be om tilgang på nytt."
            } else {
                "Prøv igjen om litt."
            };
            format!(
                "{}{again}",
                refusal_html(
                    "Maskinporten ga ikke SmartRegnskap et token for virksomheten",
                    &error,
                    advice
                )
            )
        }
        Ok(token) => match provider_statement(&state, &token, &signup.org).await {
            Ok(statement) => format!(
                r#"<section class="card ok" aria-labelledby="claims-heading"><h2 id="claims-heading">Krav og betalinger fra Skatteetaten</h2>{}</section>
<section class="card"><h2>Trenger du mer?</h2><p>La SmartRegnskap også levere skattemeldingen for {} (tilgangspakken «Skatt næring»).</p>
<form method="post" action="/customer/{}/change"><button type="submit">Be om utvidet tilgang</button></form></section>"#,
                statement_html(&statement),
                esc(&signup.org_name),
                esc(&signup.external_ref)
            ),
            Err(error) => {
                // The next visit asks Maskinporten again instead of reusing this token.
                client
                    .forget(&signup.org, Some(signup.external_ref.as_str()))
                    .await;
                format!(
                    "{}{again}",
                    refusal_html(
                        "Skatteetaten avviste kallet",
                        &error,
                        &advice_for_provider(&error, &signup.org_name)
                    )
                )
            }
        },
    };
    let body = format!(
        r#"<h1>{}</h1><p class="hint">Organisasjonsnummer {} · systembruker {}</p>{content}"#,
        esc(&signup.org_name),
        org_number(&signup.org),
        esc(&signup.request_id)
    );
    Ok(page(&signup.org_name, &body).into_response())
}

pub async fn change(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(reference): Path<String>,
) -> Page {
    same_origin(&state, &headers)?;
    let signup = known_signup(&state, &reference).await?;
    let correlation = uuid::Uuid::new_v4().to_string();
    let redirect = format!(
        "{}?ref={}&change={correlation}",
        state.receipt_url(),
        signup.external_ref
    );
    let request = state
        .platform
        .request_change(&signup.request_id, &correlation, &redirect)
        .await
        .map_err(|e| platform_error("Endringsforespørselen kunne ikke sendes", &e))?;
    let confirm = request["confirmUrl"].as_str().unwrap_or("").to_string();
    if confirm.is_empty() {
        let body = format!(
            r#"<div class="card ok"><h1>Ingen endring trengs</h1><p>SmartRegnskap har allerede det den ber om.</p><p><a href="{}">Til oversikten</a></p></div>"#,
            esc(&signup.dashboard())
        );
        return Ok(page("Ingen endring trengs", &body).into_response());
    }
    if let Some(stored) = state.signups.write().await.get_mut(&reference) {
        stored.change = Some(correlation);
    }
    Ok(Redirect::to(&confirm).into_response())
}

/// One of the firm's clients as the dashboard shows it.
struct Client {
    party: String,
    org: String,
    name: String,
    delegated: bool,
}

fn clients_of(delegated: &[Value], available: &[Value]) -> Vec<Client> {
    let mut clients: Vec<Client> = Vec::new();
    for (list, is_delegated) in [(delegated, true), (available, false)] {
        for c in list {
            let org = c["clientOrganizationNumber"]
                .as_str()
                .unwrap_or("")
                .to_string();
            if org.is_empty() || clients.iter().any(|k| k.org == org) {
                continue;
            }
            clients.push(Client {
                party: c["clientId"].as_str().unwrap_or("").to_string(),
                org,
                name: c["clientOrganizationName"]
                    .as_str()
                    .unwrap_or("")
                    .to_string(),
                delegated: is_delegated,
            });
        }
    }
    clients.sort_by(|a, b| a.name.cmp(&b.name));
    clients
}

pub async fn firm(State(state): State<AppState>, Path(reference): Path<String>) -> Page {
    let signup = known_signup(&state, &reference).await?;
    let pid = signup.accountant.clone().unwrap_or_default();
    let platform = &state.platform;
    let person = platform
        .person_token(&pid)
        .await
        .map_err(|e| platform_error("Innloggingen mot Altinn feilet", &e))?;
    let lists = async {
        let delegated = platform.clients(&person, &signup.request_id, false).await?;
        let available = platform.clients(&person, &signup.request_id, true).await?;
        Ok::<_, CallError>((delegated, available))
    };
    let (delegated, available) = match lists.await {
        Ok(lists) => lists,
        Err(error) => {
            let body = format!(
                r#"<h1>{}</h1>{}"#,
                esc(&signup.org_name),
                refusal_html(
                    "Klientlisten kunne ikke hentes",
                    &error,
                    "Systemtilgangen for klienter må være godkjent, og du må være klientadministrator hos regnskapsføreren."
                )
            );
            return Ok(page(&signup.org_name, &body).into_response());
        }
    };
    let token = platform
        .client
        .system_user_token(DEMO_SCOPE, &signup.org, Some(signup.external_ref.as_str()))
        .await
        .map_err(CallError::from);
    let mut sections = String::new();
    for client in clients_of(&delegated, &available) {
        let data = match &token {
            Err(error) => refusal_html(
                "Maskinporten ga ikke SmartRegnskap et token",
                error,
                "Systemtilgangen for klienter finnes ikke lenger. Be om den på nytt.",
            ),
            Ok(token) => match provider_statement(&state, token, &client.org).await {
                Ok(statement) => statement_html(&statement),
                Err(error) => refusal_html(
                    "Skatteetaten avviste kallet",
                    &error,
                    "Legg til virksomheten som klient for systemtilgangen, så får SmartRegnskap handle for den.",
                ),
            },
        };
        let action = if client.delegated {
            r#"<p class="status">Klient i SmartRegnskap</p>"#.to_string()
        } else {
            format!(
                r#"<p class="status">Ikke lagt til</p><form method="post" action="/firm/{}/clients"><input type="hidden" name="client" value="{}"><button type="submit">Legg til {} som klient</button></form>"#,
                esc(&signup.external_ref),
                esc(&client.party),
                esc(&client.name)
            )
        };
        sections.push_str(&format!(
            r#"<section class="card client" data-org="{org}" aria-labelledby="client-{org}"><h2 id="client-{org}">{name} ({org_spaced})</h2>{action}{data}</section>"#,
            org = esc(&client.org),
            name = esc(&client.name),
            org_spaced = org_number(&client.org),
        ));
    }
    if sections.is_empty() {
        sections = r#"<p class="card">Regnskapsføreren har ingen klienter som kan legges til.</p>"#
            .to_string();
    }
    let body = format!(
        r#"<h1>{}</h1><p class="hint">Regnskapsfører {} · systembruker for klienter {}</p>
<p>Klientene under er hentet fra Altinn (klientdelegerings-API-et). SmartRegnskap henter krav og betalinger for hver av dem med systemtilgangen for klienter; Skatteetaten spør Altinn om tilgangen gjelder for akkurat den klienten.</p>{sections}"#,
        esc(&signup.org_name),
        org_number(&signup.org),
        esc(&signup.request_id)
    );
    Ok(page(&signup.org_name, &body).into_response())
}

#[derive(Debug, Deserialize)]
pub struct AddClientForm {
    #[serde(default)]
    pub client: String,
}

pub async fn add_client(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(reference): Path<String>,
    Form(form): Form<AddClientForm>,
) -> Page {
    same_origin(&state, &headers)?;
    let signup = known_signup(&state, &reference).await?;
    let pid = signup.accountant.clone().unwrap_or_default();
    let person = state
        .platform
        .person_token(&pid)
        .await
        .map_err(|e| platform_error("Innloggingen mot Altinn feilet", &e))?;
    state
        .platform
        .add_client(&person, &signup.request_id, &form.client)
        .await
        .map_err(|e| platform_error("Klienten kunne ikke legges til", &e))?;
    Ok(Redirect::to(&signup.dashboard()).into_response())
}
