//! The portal's client management for agent system accesses, over HTTP as a browser
//! without JavaScript uses it (plus the JSON batches its script sends), on SQLite and
//! PostgreSQL: Tina, daglig leder of the accounting firm Tallmakerne AS, lists the
//! firm's clients, adds one, adds all, removes one, searches and pages; the firm adds
//! itself; others are refused; deleting the agent removes its clients. Every change is
//! checked in the database.
#![allow(clippy::unwrap_used)]

mod common;

use common::portal::{self, Page, UI, choose_party, escape, get, nb, post, read, text, unescape};
use common::{PORTAL as PORTAL_SCOPE, VENDOR_SCOPES, api_post, uuid_of};

use std::time::{Duration, Instant};

use regex::Regex;
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};
use systembruker_domain::OrgNumber;
use systembruker_domain::party::{NewParty, NewPartyKind};
use systembruker_http::demo::{BAKERIET, OLA, PIA, ROR_OG_VANN, SMARTCLOUD, TALLMAKERNE, TINA};
use systembruker_http::testing::TestServer;
use systembruker_storage::{
    ClientDelegationStore, DelegationStore, RegisterStore, StoredPackageDelegation, SystemUserStore,
};
use uuid::Uuid;

systembruker_http::server_tests!(
    tina_adds_and_removes_clients,
    clients_are_searched_and_paged_on_the_server,
    add_all_runs_in_batches_and_reports_failures,
    only_client_administrators_manage_clients,
    the_firm_adds_itself,
    deleting_the_agent_removes_its_clients,
);

const PACKAGE: &str = "regnskapsforer-med-signeringsrettighet";
/// Tallmakerne AS's party id in the demo data.
const TALLMAKERNE_PARTY: i64 = 70_000_004;
/// An organisation of the reference's test parties, not a client of Tallmakerne.
const VAGLAND: &str = "910480081";

// ---------------------------------------------------------------- a browser

impl Page {
    /// The client rows' names, in order.
    fn client_names(&self) -> Vec<String> {
        let pattern = Regex::new(r#"<span class="client-name">([^<]+?)\s*(<|$)"#).unwrap();
        pattern
            .captures_iter(&self.body)
            .map(|c| unescape(c[1].trim()))
            .collect()
    }
}

/// Follows a redirect inside the portal (dropping the fragment, as browsers do).
async fn follow(client: &Client, server: &TestServer, page: Page) -> Page {
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    let location = page.location();
    let path = location.split('#').next().unwrap();
    get(client, server, path).await
}

/// A browser logged in as `pid` (test login) acting for `party`.
async fn logged_in(server: &TestServer, pid: &str, party: &str) -> Client {
    let client = portal::logged_in(server, pid).await;
    choose_party(&client, server, party).await;
    client
}

// ---------------------------------------------------------------- the agent

/// SmartCloud registers an agent system with `package`, asks Tallmakerne AS for an
/// agent system user, and Tina approves it. Returns its id.
async fn agent_with(server: &TestServer, system: &str, package: &str) -> Uuid {
    let vendor = server
        .enterprise_token(SMARTCLOUD, VENDOR_SCOPES)
        .await
        .unwrap();
    api_post(
        server,
        &vendor,
        "systemregister/vendor",
        json!({
            "id": system,
            "vendor": {"authority": "iso6523-actorid-upis", "ID": format!("0192:{SMARTCLOUD}")},
            "name": {"nb": "SmartRegnskap klient", "nn": "SmartRekneskap klient", "en": "SmartAccounting client"},
            "description": {"nb": "For regnskapsførere", "nn": "For rekneskapsførarar", "en": "For accountants"},
            "rights": [],
            "accessPackages": [{"urn": format!("urn:altinn:accesspackage:{package}")}],
            "clientId": [Uuid::new_v4().to_string()],
            "isVisible": false
        }),
    )
    .await;
    let request = api_post(
        server,
        &vendor,
        "systemuser/request/vendor/agent",
        json!({"systemId": system, "partyOrgNo": TALLMAKERNE,
               "accessPackages": [{"urn": format!("urn:altinn:accesspackage:{package}")}]}),
    )
    .await;
    let id = request["id"].as_str().unwrap().to_string();
    let tina = server.personal_token(TINA, PORTAL_SCOPE).await.unwrap();
    api_post(
        server,
        &tina,
        &format!("systemuser/request/agent/{TALLMAKERNE_PARTY}/{id}/approve"),
        Value::Null,
    )
    .await;
    Uuid::parse_str(&id).unwrap()
}

async fn accountant_agent(server: &TestServer) -> Uuid {
    agent_with(server, "991825827_portal_klient", PACKAGE).await
}

/// The agent's clients in the database, by organisation number.
async fn delegated(server: &TestServer, agent: Uuid) -> Vec<String> {
    let mut orgs: Vec<String> = server
        .store
        .delegated_clients(agent)
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.org_number)
        .collect();
    orgs.sort();
    orgs
}

fn details(agent: Uuid) -> String {
    format!("{UI}/systemuser/{agent}/agentdelegation")
}

fn add_page(agent: Uuid) -> String {
    format!("{UI}/systemuser/{agent}/agentdelegation/clients")
}

/// A valid organisation number (mod 11) unique to `i`: 4xxxxxxxx.
fn org_number(i: u64) -> String {
    for t in 0..8 {
        let prefix = 40_000_000 + i * 8 + t;
        let digits: Vec<u64> = format!("{prefix:08}")
            .bytes()
            .map(|b| u64::from(b - b'0'))
            .collect();
        let sum: u64 = digits
            .iter()
            .zip([3, 2, 7, 6, 5, 4, 3, 2])
            .map(|(d, w)| d * w)
            .sum();
        let control = (11 - sum % 11) % 11;
        if control < 10 {
            return format!("{prefix}{control}");
        }
    }
    unreachable!("eight prefixes in a row without a control digit")
}

/// `count` more organisations ("Klient 00000 AS", …) that gave Tallmakerne the REGN role.
async fn more_clients(server: &TestServer, count: u64) {
    let parties: Vec<NewParty> = (0..count)
        .map(|i| NewParty {
            uuid: Some(Uuid::from_u128(0x5eed_0000_0000 + u128::from(i))),
            id: None,
            name: format!("Klient {i:05} AS"),
            kind: NewPartyKind::Organization {
                org_number: OrgNumber::parse(&org_number(i)).unwrap(),
                unit_type: Some("AS".into()),
                unit_status: Some("N".into()),
                main_unit: None,
            },
        })
        .collect();
    server.store.import_parties(&parties).await.unwrap();
    let firm = uuid_of(server, TALLMAKERNE).await;
    for party in &parties {
        server
            .store
            .add_role(party.uuid.unwrap(), firm, "regnskapsforer", "test")
            .await
            .unwrap();
    }
}

/// The uuid in a row's form for the client named `name`.
fn row_client(page: &Page, name: &str) -> String {
    let pattern = Regex::new(&format!(
        r#"(?s)<span class="client-name">{}\s*<.*?name="client" value="([0-9a-f-]{{36}})""#,
        regex::escape(&escape(name))
    ))
    .unwrap();
    pattern
        .captures(&page.body)
        .unwrap_or_else(|| panic!("no row for {name}:\n{}", page.body))[1]
        .to_string()
}

async fn add_one(client: &Client, server: &TestServer, agent: Uuid, who: &str) -> Page {
    let page = get(client, server, &add_page(agent)).await;
    let uuid = row_client(&page, who);
    post(
        client,
        server,
        &format!("{}/add", add_page(agent)),
        &[("csrf", &page.csrf()), ("client", &uuid), ("from", "add")],
    )
    .await
}

/// One batch of "add all" as the portal's script sends it.
async fn batch(
    client: &Client,
    server: &TestServer,
    agent: Uuid,
    csrf: Option<&str>,
    body: Value,
) -> (StatusCode, Value) {
    let mut request = client
        .post(server.at(&format!("{}/add-all/batch", add_page(agent))))
        .json(&body);
    if let Some(token) = csrf {
        request = request.header("X-CSRF-Token", token);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

// ---------------------------------------------------------------- cases

async fn tina_adds_and_removes_clients(server: TestServer) {
    let agent = accountant_agent(&server).await;
    let tina = logged_in(&server, TINA, "Tallmakerne AS").await;

    // The agent's page: its package, no clients yet, a way to add them.
    let page = get(&tina, &server, &details(agent)).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    page.assert_has(&nb("details.agent.clients_heading"));
    page.assert_has(&nb("clients.empty"));
    page.assert_has(&nb("clients.add_link"));
    assert!(page.body.contains(&format!("href=\"{}\"", add_page(agent))));

    // Both demo clients can be added; org numbers are grouped.
    let started = Instant::now();
    let list = get(&tina, &server, &add_page(agent)).await;
    let elapsed = started.elapsed();
    assert_eq!(list.status, StatusCode::OK, "{}", list.body);
    assert_eq!(list.client_names(), ["Bakeriet Brød AS", "Rør og Vann AS"]);
    list.assert_has("315 000 009");
    list.assert_has(&nb("clients.add_all.submit.other").replace("{count}", "2"));
    assert!(
        elapsed < Duration::from_secs(2),
        "add page took {elapsed:?}"
    );

    // Tina adds Rør og Vann AS: back on the list with a notice, and in the database.
    let added = add_one(&tina, &server, agent, "Rør og Vann AS").await;
    assert!(
        added.location().ends_with("#notice"),
        "{}",
        added.location()
    );
    let list = follow(&tina, &server, added).await;
    list.assert_has(&nb("clients.notice.added").replace("{name}", "Rør og Vann AS"));
    assert!(list.body.contains("role=\"status\""));
    list.assert_has(&nb("clients.added_badge"));
    list.assert_has(&nb("clients.add_all.submit.one").replace("{count}", "1"));
    assert_eq!(delegated(&server, agent).await, [ROR_OG_VANN]);

    // Hiding the added ones leaves Bakeriet; searching by name or number finds one each.
    let hidden = get(&tina, &server, &format!("{}?hide_added=1", add_page(agent))).await;
    assert_eq!(hidden.client_names(), ["Bakeriet Brød AS"]);
    let by_name = get(&tina, &server, &format!("{}?q=bakeriet", add_page(agent))).await;
    assert_eq!(by_name.client_names(), ["Bakeriet Brød AS"]);
    let by_number = get(
        &tina,
        &server,
        &format!("{}?q=315+000+009", add_page(agent)),
    )
    .await;
    assert_eq!(by_number.client_names(), ["Rør og Vann AS"]);
    let nothing = get(&tina, &server, &format!("{}?q=zzz", add_page(agent))).await;
    nothing.assert_has(&nb("clients.no_match"));

    // The agent's page lists it, with a remove button; removing it there comes back there.
    let page = get(&tina, &server, &details(agent)).await;
    assert_eq!(page.client_names(), ["Rør og Vann AS"]);
    page.assert_has(&nb("clients.manage_link"));
    let ror = row_client(&page, "Rør og Vann AS");
    let removed = post(
        &tina,
        &server,
        &format!("{}/remove", add_page(agent)),
        &[
            ("csrf", &page.csrf()),
            ("client", &ror),
            ("from", "details"),
        ],
    )
    .await;
    assert!(
        removed.location().starts_with(&details(agent)),
        "{}",
        removed.location()
    );
    let page = follow(&tina, &server, removed).await;
    page.assert_has(&nb("clients.notice.removed").replace("{name}", "Rør og Vann AS"));
    page.assert_has(&nb("clients.empty"));
    assert!(delegated(&server, agent).await.is_empty());

    // Removing it again: AUTH-00038 in plain words, role=alert.
    let again = post(
        &tina,
        &server,
        &format!("{}/remove", add_page(agent)),
        &[("csrf", &page.csrf()), ("client", &ror), ("from", "add")],
    )
    .await;
    assert!(
        again
            .location()
            .contains("error=error.api.client_not_added")
    );
    let explained = follow(&tina, &server, again).await;
    explained.assert_has(&nb("error.api.client_not_added"));
    assert!(explained.body.contains("role=\"alert\""));

    // AUTH-00079: an organisation that is no client; AUTH-00080: one that lacks the package.
    let csrf = explained.csrf();
    let stranger = uuid_of(&server, SMARTCLOUD).await.to_string();
    let refused = post(
        &tina,
        &server,
        &format!("{}/add", add_page(agent)),
        &[("csrf", &csrf), ("client", &stranger)],
    )
    .await;
    assert!(refused.location().contains("error=error.api.not_a_client"));
    follow(&tina, &server, refused)
        .await
        .assert_has(&nb("error.api.not_a_client"));
    let vagland = uuid_of(&server, VAGLAND).await;
    give_tax_package(&server, vagland).await;
    let lacking = post(
        &tina,
        &server,
        &format!("{}/add", add_page(agent)),
        &[("csrf", &csrf), ("client", &vagland.to_string())],
    )
    .await;
    assert!(
        lacking
            .location()
            .contains("error=error.api.client_lacks_packages")
    );
    follow(&tina, &server, lacking)
        .await
        .assert_has(&nb("error.api.client_lacks_packages"));
    assert!(delegated(&server, agent).await.is_empty());

    // The same texts in English.
    let switched = get(
        &tina,
        &server,
        &format!("{UI}/language?lang=en&goto=%2Faccessmanagement%2Fui%2Fsystemuser%2Foverview"),
    )
    .await;
    assert_eq!(switched.status, StatusCode::SEE_OTHER);
    let english = get(
        &tina,
        &server,
        &format!(
            "{}?error=error.api.client_lacks_packages&client={vagland}",
            add_page(agent)
        ),
    )
    .await;
    assert!(english.body.contains("<html lang=\"en\">"));
    english.assert_has(&text("en", "clients.add.title"));
    english.assert_has(
        &text("en", "clients.failed_for")
            .replace("{name}", "VÅGLAND OG LOM")
            .replace("{reason}", &text("en", "error.api.client_lacks_packages")),
    );
}

/// Vågland gives Tallmakerne only the tax package: a client, but not for the accountant package.
async fn give_tax_package(server: &TestServer, from: Uuid) {
    let tallmakerne = uuid_of(server, TALLMAKERNE).await;
    server
        .store
        .add_package_delegation(&StoredPackageDelegation {
            from,
            to: tallmakerne,
            package_code: "skatt-naering".into(),
            can_delegate: false,
            created_at: 0,
            created_by: "test".into(),
        })
        .await
        .unwrap();
}

async fn clients_are_searched_and_paged_on_the_server(server: TestServer) {
    let agent = accountant_agent(&server).await;
    more_clients(&server, 60).await;
    let tina = logged_in(&server, TINA, "Tallmakerne AS").await;

    // 62 clients: three pages of at most 25 rows, Bakeriet first by name.
    let first = get(&tina, &server, &add_page(agent)).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.body);
    let names = first.client_names();
    assert_eq!(names.len(), 25);
    assert_eq!(names[0], "Bakeriet Brød AS");
    first.assert_has(
        &nb("clients.paging.position")
            .replace("{page}", "1")
            .replace("{pages}", "3"),
    );
    first.assert_has(&nb("clients.add_all.submit.other").replace("{count}", "62"));
    assert!(first.body.contains("rel=\"next\""));
    assert!(!first.body.contains("rel=\"prev\""));
    let last = get(&tina, &server, &format!("{}?page=3", add_page(agent))).await;
    assert_eq!(last.client_names().len(), 12);
    assert_eq!(last.client_names().last().unwrap(), "Rør og Vann AS");
    assert!(!last.body.contains("rel=\"next\""));
    let beyond = get(&tina, &server, &format!("{}?page=99", add_page(agent))).await;
    assert_eq!(beyond.client_names(), last.client_names());

    // The search runs on the server and the pages follow it.
    let search = get(
        &tina,
        &server,
        &format!("{}?q=klient+0004", add_page(agent)),
    )
    .await;
    assert_eq!(search.client_names().len(), 10);
    search.assert_has(&nb("clients.add_all.submit.other").replace("{count}", "10"));
    assert!(!search.body.contains("rel=\"next\""));
    let number = org_number(42);
    let by_number = get(&tina, &server, &format!("{}?q={number}", add_page(agent))).await;
    assert_eq!(by_number.client_names(), ["Klient 00042 AS"]);

    // "Add all" with a search adds only the matching ones (the script's JSON batch).
    let (status, answer) = batch(
        &tina,
        &server,
        agent,
        Some(&search.csrf()),
        json!({"q": "klient 0004", "offset": 0}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(
        (
            answer["attempted"].clone(),
            answer["added"].clone(),
            answer["done"].clone()
        ),
        (json!(10), json!(10), json!(true))
    );
    assert_eq!(answer["failed"], json!([]));
    assert_eq!(delegated(&server, agent).await.len(), 10);

    // The agent's page pages its clients too, and searches them.
    let all = post(
        &tina,
        &server,
        &format!("{}/add-all", add_page(agent)),
        &[("csrf", &search.csrf()), ("q", "")],
    )
    .await;
    assert_eq!(all.status, StatusCode::OK, "{}", all.body);
    all.assert_has(
        &nb("clients.add_all.result")
            .replace("{added}", "52")
            .replace("{total}", "52"),
    );
    assert_eq!(delegated(&server, agent).await.len(), 62);
    let page = get(&tina, &server, &details(agent)).await;
    assert_eq!(page.client_names().len(), 25);
    page.assert_has(
        &nb("clients.paging.position")
            .replace("{page}", "1")
            .replace("{pages}", "3"),
    );
    let page2 = get(&tina, &server, &format!("{}?page=2", details(agent))).await;
    assert_eq!(page2.client_names().len(), 25);
    assert_ne!(page2.client_names(), page.client_names());
    let found = get(&tina, &server, &format!("{}?q=r%C3%B8r", details(agent))).await;
    assert_eq!(found.client_names(), ["Rør og Vann AS"]);
    let hidden = get(&tina, &server, &format!("{}?hide_added=1", add_page(agent))).await;
    hidden.assert_has(&nb("clients.no_match"));
    assert!(!hidden.body.contains("data-bulk"), "nothing left to add");
}

async fn add_all_runs_in_batches_and_reports_failures(server: TestServer) {
    let agent = accountant_agent(&server).await;
    let tina = logged_in(&server, TINA, "Tallmakerne AS").await;
    let page = get(&tina, &server, &add_page(agent)).await;
    let csrf = page.csrf();
    assert!(page.body.contains("data-bulk"));
    assert!(page.body.contains("<progress"));
    assert!(page.body.contains("aria-live=\"polite\""));

    // The script's batch endpoint wants the CSRF header and JSON.
    let (status, _) = batch(&tina, &server, agent, None, json!({"offset": 0})).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = batch(&tina, &server, agent, Some(&"0".repeat(64)), json!({})).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let as_form = read(
        tina.post(server.at(&format!("{}/add-all/batch", add_page(agent))))
            .header("X-CSRF-Token", &csrf)
            .form(&[("offset", "0")])
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(as_form.status, StatusCode::FORBIDDEN);
    let cross_site = read(
        tina.post(server.at(&format!("{}/add-all/batch", add_page(agent))))
            .header("X-CSRF-Token", &csrf)
            .header("Origin", "https://evil.example")
            .json(&json!({"offset": 0}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(cross_site.status, StatusCode::FORBIDDEN);
    assert!(delegated(&server, agent).await.is_empty());

    // With the header and JSON, one batch adds both demo clients. (A batch that fails
    // and is retried one by one is tested next to the code, in `portal::clients`.)
    let (status, answer) = batch(&tina, &server, agent, Some(&csrf), json!({"offset": 0})).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(
        (answer["attempted"].clone(), answer["added"].clone()),
        (json!(2), json!(2))
    );
    assert_eq!(
        (answer["next"].clone(), answer["done"].clone()),
        (json!(2), json!(true))
    );
    assert_eq!(delegated(&server, agent).await, [ROR_OG_VANN, BAKERIET]);

    // Again: nothing left, the plain form says so.
    let (_, answer) = batch(&tina, &server, agent, Some(&csrf), json!({"offset": 0})).await;
    assert_eq!(
        (answer["attempted"].clone(), answer["done"].clone()),
        (json!(0), json!(true))
    );
    let nothing = post(
        &tina,
        &server,
        &format!("{}/add-all", add_page(agent)),
        &[("csrf", &csrf)],
    )
    .await;
    nothing.assert_has(&nb("clients.add_all.nothing"));
}

async fn only_client_administrators_manage_clients(server: TestServer) {
    let agent = accountant_agent(&server).await;
    let ror = uuid_of(&server, ROR_OG_VANN).await.to_string();

    // A forged post from Tina's own browser (no token) changes nothing.
    let tina = logged_in(&server, TINA, "Tallmakerne AS").await;
    let forged = post(
        &tina,
        &server,
        &format!("{}/add", add_page(agent)),
        &[("client", ror.as_str())],
    )
    .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    forged.assert_has(&nb("error.csrf.title"));
    let wrong = "0".repeat(64);
    let forged = post(
        &tina,
        &server,
        &format!("{}/add-all", add_page(agent)),
        &[("csrf", wrong.as_str())],
    )
    .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    assert!(delegated(&server, agent).await.is_empty());

    // Pia runs Rør og Vann AS: Tallmakerne's agent is not hers to see or change.
    let pia = logged_in(&server, PIA, "Rør og Vann AS").await;
    let page = get(&pia, &server, &details(agent)).await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);
    let overview = get(&pia, &server, &format!("{UI}/systemuser/overview")).await;
    let tried = post(
        &pia,
        &server,
        &format!("{}/add", add_page(agent)),
        &[("csrf", &overview.csrf()), ("client", &ror)],
    )
    .await;
    assert_eq!(tried.status, StatusCode::NOT_FOUND);
    assert!(delegated(&server, agent).await.is_empty());

    // Ola has a package from Tallmakerne (so he may act for it) but neither sees its
    // system users (read on altinn_system_user_overview) nor manages its clients: the
    // agent's page and every change are refused.
    let tallmakerne = uuid_of(&server, TALLMAKERNE).await;
    let ola_uuid = server
        .store
        .person(&systembruker_domain::PersonNumber::parse(OLA).unwrap())
        .await
        .unwrap()
        .unwrap()
        .uuid;
    let give_ola = |package: &str| StoredPackageDelegation {
        from: tallmakerne,
        to: ola_uuid,
        package_code: package.into(),
        can_delegate: false,
        created_at: 0,
        created_by: "test".into(),
    };
    server
        .store
        .add_package_delegation(&give_ola("skatt-naering"))
        .await
        .unwrap();
    let ola = logged_in(&server, OLA, "Tallmakerne AS").await;
    let page = get(&ola, &server, &details(agent)).await;
    assert_eq!(page.status, StatusCode::FORBIDDEN, "{}", page.body);
    page.assert_has(&nb("error.api.not_access_manager"));
    page.assert_lacks(&nb("clients.add_link"));
    page.assert_lacks(&nb("details.delete"));
    let csrf = get(&ola, &server, &format!("{UI}/systemuser/overview"))
        .await
        .csrf();
    let refused = get(&ola, &server, &add_page(agent)).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    refused.assert_has(&nb("error.api.not_client_admin"));
    for action in ["add", "remove", "add-all"] {
        let tried = post(
            &ola,
            &server,
            &format!("{}/{action}", add_page(agent)),
            &[("csrf", &csrf), ("client", &ror)],
        )
        .await;
        assert_eq!(tried.status, StatusCode::FORBIDDEN, "{action}");
    }
    let (status, _) = batch(&ola, &server, agent, Some(&csrf), json!({})).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(delegated(&server, agent).await.is_empty());

    // As access manager he sees the agent, but still is no client administrator: the
    // page explains, and the clients stay out of his reach.
    server
        .store
        .add_package_delegation(&give_ola("tilgangsstyrer"))
        .await
        .unwrap();
    let page = get(&ola, &server, &details(agent)).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    page.assert_has(&nb("clients.not_client_admin").replace("{org}", "Tallmakerne AS"));
    page.assert_lacks(&nb("clients.add_link"));
    let refused = get(&ola, &server, &add_page(agent)).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    refused.assert_has(&nb("error.api.not_client_admin"));
    let tried = post(
        &ola,
        &server,
        &format!("{}/add", add_page(agent)),
        &[("csrf", &page.csrf()), ("client", &ror)],
    )
    .await;
    assert_eq!(tried.status, StatusCode::FORBIDDEN);
    assert!(delegated(&server, agent).await.is_empty());
}

async fn the_firm_adds_itself(server: TestServer) {
    // The tax package is assignable, so Tallmakerne may be a "client" of its own agent.
    let agent = agent_with(&server, "991825827_portal_skatt", "skatt-naering").await;
    let tina = logged_in(&server, TINA, "Tallmakerne AS").await;
    let page = get(&tina, &server, &details(agent)).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    page.assert_has(&nb("clients.own.badge"));
    page.assert_has(&nb("clients.own.add"));
    let added = post(
        &tina,
        &server,
        &format!("{}/self", details(agent)),
        &[("csrf", &page.csrf()), ("action", "add")],
    )
    .await;
    let page = follow(&tina, &server, added).await;
    page.assert_has(&nb("clients.notice.self_added"));
    page.assert_has(&nb("clients.own.remove"));
    assert_eq!(page.client_names()[0], "Tallmakerne AS");
    assert_eq!(delegated(&server, agent).await, [TALLMAKERNE]);
    let removed = post(
        &tina,
        &server,
        &format!("{}/self", details(agent)),
        &[("csrf", &page.csrf()), ("action", "remove")],
    )
    .await;
    follow(&tina, &server, removed)
        .await
        .assert_has(&nb("clients.notice.self_removed"));
    assert!(delegated(&server, agent).await.is_empty());

    // The accountant package is for clients only: no "add your organisation" there.
    let accountant = accountant_agent(&server).await;
    let page = get(&tina, &server, &details(accountant)).await;
    page.assert_lacks(&nb("clients.own.add"));
}

async fn deleting_the_agent_removes_its_clients(server: TestServer) {
    let agent = accountant_agent(&server).await;
    let tina = logged_in(&server, TINA, "Tallmakerne AS").await;
    let page = get(&tina, &server, &add_page(agent)).await;
    post(
        &tina,
        &server,
        &format!("{}/add-all", add_page(agent)),
        &[("csrf", &page.csrf())],
    )
    .await
    .assert_has(
        &nb("clients.add_all.result")
            .replace("{added}", "2")
            .replace("{total}", "2"),
    );
    assert_eq!(delegated(&server, agent).await.len(), 2);

    // The agent's page offers deletion; the confirmation warns about the clients.
    let page = get(&tina, &server, &details(agent)).await;
    page.assert_has(&nb("details.delete"));
    let confirm = get(&tina, &server, &format!("{UI}/systemuser/{agent}/delete")).await;
    assert_eq!(confirm.status, StatusCode::OK, "{}", confirm.body);
    confirm.assert_has(&nb("delete.agent.clients.other").replace("{count}", "2"));
    let deleted = post(
        &tina,
        &server,
        &format!("{UI}/systemuser/{agent}/delete"),
        &[("csrf", &confirm.csrf())],
    )
    .await;
    assert_eq!(
        deleted.location(),
        format!("{UI}/systemuser/overview?notice=deleted")
    );
    let user = server.store.system_user(agent).await.unwrap().unwrap();
    assert!(user.is_deleted);
    assert!(delegated(&server, agent).await.is_empty());
    assert_eq!(
        get(&tina, &server, &details(agent)).await.status,
        StatusCode::NOT_FOUND
    );
}

/// The client pages with the demo data and with 20,000 clients: a page renders at most
/// 25 rows and a search narrows the list on the server. Prints the rows of BENCHMARKS.md's
/// "Portal" table. Run on purpose, in release:
/// `cargo test --release -p systembruker-http --test portal_clients -- --ignored --nocapture`
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "generates 20,000 clients; run in release for BENCHMARKS.md"]
async fn client_pages_with_20000_clients() {
    for backend in [
        systembruker_http::testing::TestBackend::Sqlite,
        systembruker_http::testing::TestBackend::Postgres,
    ] {
        let Some(server) = TestServer::start(backend).await.unwrap() else {
            continue;
        };
        let agent = accountant_agent(&server).await;
        let tina = logged_in(&server, TINA, "Tallmakerne AS").await;
        let report = |label: &str, (p50, p99): (f64, f64)| {
            println!("| {backend:?} | {label} | {p50:.1} ms | {p99:.1} ms |");
        };
        report(
            "demo data: add page (2 clients)",
            measure(&tina, &server, &add_page(agent)).await,
        );
        report(
            "demo data: agent page (no clients)",
            measure(&tina, &server, &details(agent)).await,
        );
        let page = get(&tina, &server, &add_page(agent)).await;
        post(
            &tina,
            &server,
            &format!("{}/add-all", add_page(agent)),
            &[("csrf", &page.csrf())],
        )
        .await;
        report(
            "demo data: agent page (2 clients)",
            measure(&tina, &server, &details(agent)).await,
        );

        let started = Instant::now();
        more_clients(&server, 19_998).await;
        eprintln!(
            "{backend:?}: generated 19,998 clients in {:?}",
            started.elapsed()
        );
        let started = Instant::now();
        assert_eq!(
            get(&tina, &server, &add_page(agent)).await.status,
            StatusCode::OK
        );
        println!(
            "| {backend:?} | 20,000: add page, first read after a change | {:.1} ms | |",
            started.elapsed().as_secs_f64() * 1e3
        );
        for (label, path) in [
            ("20,000: add page, page 1", add_page(agent)),
            (
                "20,000: add page, page 400",
                format!("{}?page=400", add_page(agent)),
            ),
            (
                "20,000: add page, search",
                format!("{}?q=klient+1999", add_page(agent)),
            ),
        ] {
            report(label, measure(&tina, &server, &path).await);
        }
        let page = get(&tina, &server, &add_page(agent)).await;
        assert_eq!(page.client_names().len(), 25);
        page.assert_has(&nb("clients.add_all.submit.other").replace("{count}", "19\u{a0}998"));
        let started = Instant::now();
        let all = post(
            &tina,
            &server,
            &format!("{}/add-all", add_page(agent)),
            &[("csrf", &page.csrf())],
        )
        .await;
        println!(
            "| {backend:?} | 20,000: add all 19,998 (one form post, batches of 500) | {:.2} s | |",
            started.elapsed().as_secs_f64()
        );
        all.assert_has(
            &nb("clients.add_all.result")
                .replace("{added}", "19\u{a0}998")
                .replace("{total}", "19\u{a0}998"),
        );
        assert_eq!(delegated(&server, agent).await.len(), 20_000);
        // As the script does it: a second agent, batch after batch from the page.
        let second = agent_with(&server, "991825827_portal_klient2", PACKAGE).await;
        let csrf = get(&tina, &server, &add_page(second)).await.csrf();
        let started = Instant::now();
        let (mut offset, mut added, mut calls) = (0, 0, 0);
        loop {
            let body = json!({"q": "", "offset": offset});
            let (status, answer) = batch(&tina, &server, second, Some(&csrf), body).await;
            assert_eq!(status, StatusCode::OK, "{answer}");
            added += answer["added"].as_u64().unwrap();
            offset = answer["next"].as_u64().unwrap();
            calls += 1;
            if answer["done"] == json!(true) {
                break;
            }
        }
        assert_eq!(added, 20_000);
        println!(
            "| {backend:?} | 20,000: add all 20,000 with the script ({calls} calls of 4 batches of 500) | {:.2} s | |",
            started.elapsed().as_secs_f64()
        );
        // The first read after a change fills the cache; the rest come from it.
        let started = Instant::now();
        assert_eq!(
            get(&tina, &server, &details(agent)).await.status,
            StatusCode::OK
        );
        println!(
            "| {backend:?} | 20,000: agent page, first read after a change | {:.1} ms | |",
            started.elapsed().as_secs_f64() * 1e3
        );
        for (label, path) in [
            ("20,000: agent page, 20,000 clients", details(agent)),
            (
                "20,000: agent page, search",
                format!("{}?q=klient+1999", details(agent)),
            ),
            ("20,000: add page, all added", add_page(agent)),
        ] {
            report(label, measure(&tina, &server, &path).await);
        }
    }
}

/// p50 and p99 in milliseconds of 40 GETs of `path` (over loopback HTTP), after one
/// that may fill the caches.
async fn measure(client: &Client, server: &TestServer, path: &str) -> (f64, f64) {
    assert_eq!(get(client, server, path).await.status, StatusCode::OK);
    let mut times = Vec::new();
    for _ in 0..40 {
        let started = Instant::now();
        let page = get(client, server, path).await;
        times.push(started.elapsed().as_secs_f64() * 1e3);
        assert_eq!(page.status, StatusCode::OK, "{path}");
    }
    times.sort_by(f64::total_cmp);
    (times[times.len() / 2], times[(times.len() * 99) / 100])
}
