//! The portal over HTTP, as a browser without JavaScript uses it (cookies kept,
//! redirects followed by hand so each one can be checked), on SQLite and PostgreSQL:
//! the vendor's confirmUrl, login, approval and the redirect back to the vendor, CSRF,
//! escalation, creation and deletion, languages, open redirects and dev-only login.
#![allow(clippy::unwrap_used)]

mod common;

use common::browser;
use common::portal::{Page, UI, choose_party, get, log_in, logged_in, nb, post, read, text};
use common::{VENDOR_SCOPES, api_post};

use std::time::{Duration, Instant};

use reqwest::{Client, StatusCode};
use serde_json::{Value, json};
use systembruker_domain::catalogue::Catalogue;
use systembruker_domain::systemuser::RequestStatus;
use systembruker_http::demo::{
    BERNT, DEMO_RESOURCE, OLA, PIA, ROR_OG_VANN, SMARTCLOUD, TALLMAKERNE, TINA,
};
use systembruker_http::testing::TestServer;
use systembruker_storage::{RegisterStore, SystemUserKey, SystemUserStore};
use uuid::Uuid;

systembruker_http::server_tests!(
    pia_approves_from_the_vendor_link_and_lands_on_the_redirect_url,
    forged_posts_are_refused_and_change_nothing,
    ola_sees_what_he_lacks_and_escalates_then_pia_approves_from_the_overview,
    pia_creates_and_deletes_system_access_in_the_portal,
    change_requests_are_approved_in_the_portal,
    agent_requests_are_approved_by_the_accounting_firm,
    request_links_switch_party_or_explain_why_not,
    language_switch_sets_the_cookie_and_html_lang,
    goto_never_leads_off_the_portal,
    error_pages_are_pages,
    ola_sees_none_of_the_system_access_he_may_not_read,
    posts_from_other_origins_are_refused,
);

const SYSTEM: &str = "991825827_portaltest";
const RECEIPT: &str = "https://smartcloud.example/receipt";

// ---------------------------------------------------------------- helpers

/// Follows redirects inside our server; returns the last page and the first location
/// outside it (if any).
async fn follow(client: &Client, server: &TestServer, mut page: Page) -> (Page, Option<String>) {
    for _ in 0..10 {
        if !page.status.is_redirection() {
            return (page, None);
        }
        let location = page.location();
        if location.starts_with("http") && !location.starts_with(&server.url) {
            return (page, Some(location));
        }
        page = get(client, server, &location).await;
    }
    panic!("too many redirects");
}

async fn vendor_post(server: &TestServer, path: &str, body: Value) -> Value {
    let token = server
        .enterprise_token(SMARTCLOUD, VENDOR_SCOPES)
        .await
        .unwrap();
    api_post(server, &token, path, body).await
}

/// SmartCloud registers a test system (the demo right and the tax package).
async fn register_system(server: &TestServer) {
    vendor_post(
        server,
        "systemregister/vendor",
        json!({
            "id": SYSTEM,
            "vendor": {"authority": "iso6523-actorid-upis", "ID": format!("0192:{SMARTCLOUD}")},
            "name": {"nb": "Portaltest", "nn": "Portaltest", "en": "Portal test"},
            "description": {"nb": "Test", "nn": "Test", "en": "Test"},
            "rights": [{"resource": [{"id": "urn:altinn:resource", "value": DEMO_RESOURCE}]}],
            "accessPackages": [{"urn": "urn:altinn:accesspackage:skatt-naering"},
                               {"urn": "urn:altinn:accesspackage:regnskapsforer-med-signeringsrettighet"}],
            "clientId": [Uuid::new_v4().to_string()],
            "allowedRedirectUrls": [RECEIPT],
            "isVisible": false
        }),
    )
    .await;
}

/// A standard request for `org` with the demo right; returns (id, confirmUrl).
async fn standard_request(
    server: &TestServer,
    org: &str,
    redirect: Option<&str>,
) -> (Uuid, String) {
    let mut body = json!({
        "systemId": SYSTEM, "partyOrgNo": org,
        "rights": [{"resource": [{"id": "urn:altinn:resource", "value": DEMO_RESOURCE}]}]
    });
    if let Some(url) = redirect {
        body["redirectUrl"] = json!(url);
    }
    let request = vendor_post(server, "systemuser/request/vendor", body).await;
    (
        Uuid::parse_str(request["id"].as_str().unwrap()).unwrap(),
        request["confirmUrl"].as_str().unwrap().to_string(),
    )
}

async fn request_status(server: &TestServer, id: Uuid) -> (RequestStatus, bool) {
    let request = server.store.request(id).await.unwrap().unwrap();
    (request.status, request.escalated)
}

fn package_name(code: &str) -> String {
    Catalogue::builtin().package(code).unwrap().name.nb.clone()
}

// ---------------------------------------------------------------- cases

async fn pia_approves_from_the_vendor_link_and_lands_on_the_redirect_url(server: TestServer) {
    register_system(&server).await;
    let (id, confirm_url) = standard_request(
        &server,
        ROR_OG_VANN,
        Some("https://smartcloud.example/receipt?order=17"),
    )
    .await;
    let pia = browser();

    // Not logged in: the link leads to the (test) login and back.
    let first = get(&pia, &server, &confirm_url).await;
    assert_eq!(first.status, StatusCode::SEE_OTHER);
    let (login_page, _) = follow(&pia, &server, first).await;
    login_page.assert_has(&nb("login.test.title"));
    login_page.assert_has("Pia Rørlegger");
    let goto = confirm_url.strip_prefix(&server.url).unwrap();
    let done = post(
        &pia,
        &server,
        &format!("{UI}/login/test"),
        &[("csrf", &login_page.csrf()), ("pid", PIA), ("goto", goto)],
    )
    .await;
    assert_eq!(done.location(), goto);
    assert!(
        done.cookies()
            .iter()
            .any(|c| c.starts_with("sb_portal_session=")
                && c.contains("HttpOnly")
                && c.contains("SameSite=Lax")
                && c.contains("Path=/accessmanagement/ui"))
    );

    // The request page: who asks, for whom, what it gets.
    let started = Instant::now();
    let page = get(&pia, &server, goto).await;
    let elapsed = started.elapsed();
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("<html lang=\"nb\">"));
    page.assert_has(&nb("request.heading"));
    page.assert_has("Portaltest");
    page.assert_has("SmartCloud AS, org.nr. 991 825 827");
    page.assert_has("Krav og betalinger");
    page.assert_has("Rør og Vann AS");
    assert!(!page.has(&nb("missing.heading")), "Pia lacks nothing");
    assert_eq!(page.headers["cache-control"], "no-store");
    assert!(
        elapsed < Duration::from_secs(2),
        "request page took {elapsed:?}"
    );

    // Approve: the session ends and the browser goes on to the vendor's registered URL.
    let approved = post(
        &pia,
        &server,
        &format!("{UI}/systemuser/request/approve"),
        &[("csrf", &page.csrf()), ("id", &id.to_string())],
    )
    .await;
    assert_eq!(approved.status, StatusCode::SEE_OTHER, "{}", approved.body);
    let (last, outside) = follow(&pia, &server, approved).await;
    assert_eq!(
        outside.as_deref(),
        Some("https://smartcloud.example/receipt?order=17")
    );
    assert!(last.cookies().iter().any(|c| c.contains("Max-Age=0")));
    assert_eq!(request_status(&server, id).await.0, RequestStatus::Accepted);
    let user = server.store.system_user(id).await.unwrap().unwrap();
    assert_eq!(user.owner_org, ROR_OG_VANN);
    assert!(!user.is_deleted);

    // Logged out: the overview asks for a login again.
    let after = get(&pia, &server, &format!("{UI}/systemuser/overview")).await;
    assert_eq!(after.status, StatusCode::SEE_OTHER);
    assert!(after.location().starts_with(&format!("{UI}/login?goto=")));

    // Without a redirect URL, the answer ends on our receipt.
    let (other, url) = standard_request(&server, "315200008", None).await;
    let bernt = logged_in(&server, BERNT).await;
    let page = get(&bernt, &server, &url).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let rejected = post(
        &bernt,
        &server,
        &format!("{UI}/systemuser/request/reject"),
        &[("csrf", &page.csrf()), ("id", &other.to_string())],
    )
    .await;
    let (receipt, outside) = follow(&bernt, &server, rejected).await;
    assert_eq!(outside, None);
    receipt.assert_has(&nb("receipt.rejected.title"));
    assert_eq!(
        request_status(&server, other).await.0,
        RequestStatus::Rejected
    );
    // The answered request now says so.
    let bernt = logged_in(&server, BERNT).await;
    get(&bernt, &server, &url)
        .await
        .assert_has(&nb("request.status.rejected"));
}

async fn forged_posts_are_refused_and_change_nothing(server: TestServer) {
    register_system(&server).await;
    let (id, confirm_url) = standard_request(&server, ROR_OG_VANN, Some(RECEIPT)).await;
    let pia = logged_in(&server, PIA).await;
    let page = get(&pia, &server, &confirm_url).await;
    let csrf = page.csrf();
    let approve = format!("{UI}/systemuser/request/approve");
    let id_text = id.to_string();

    let missing = post(&pia, &server, &approve, &[("id", &id_text)]).await;
    assert_eq!(missing.status, StatusCode::FORBIDDEN);
    missing.assert_has(&nb("error.csrf.title"));
    assert!(missing.body.contains("role=\"alert\""));

    let wrong = "0".repeat(64);
    let forged = post(
        &pia,
        &server,
        &approve,
        &[("csrf", &wrong), ("id", &id_text)],
    )
    .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);

    // The right token from another site is refused too.
    let cross_site = read(
        pia.post(server.at(&approve))
            .header("Origin", "https://evil.example")
            .form(&[("csrf", csrf.as_str()), ("id", &id_text)])
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(cross_site.status, StatusCode::FORBIDDEN);

    // Without a session at all: the "session ended" page.
    let stranger = post(
        &browser(),
        &server,
        &approve,
        &[("csrf", &csrf), ("id", &id_text)],
    )
    .await;
    assert_eq!(stranger.status, StatusCode::FORBIDDEN);
    stranger.assert_has(&nb("error.expired.title"));

    assert_eq!(
        request_status(&server, id).await,
        (RequestStatus::New, false)
    );
    assert!(server.store.system_user(id).await.unwrap().is_none());

    // Delete and logout are protected the same way.
    let logout = post(&pia, &server, &format!("{UI}/logout"), &[("csrf", &wrong)]).await;
    assert_eq!(logout.status, StatusCode::FORBIDDEN);
    assert_eq!(
        get(&pia, &server, &confirm_url).await.status,
        StatusCode::OK
    );
}

async fn ola_sees_what_he_lacks_and_escalates_then_pia_approves_from_the_overview(
    server: TestServer,
) {
    register_system(&server).await;
    let (id, confirm_url) = standard_request(&server, ROR_OG_VANN, Some(RECEIPT)).await;
    let ola = logged_in(&server, OLA).await;
    let page = get(&ola, &server, &confirm_url).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    page.assert_has(&nb("missing.heading"));
    page.assert_has(&nb("missing.access_manager.name"));
    page.assert_has(&nb("escalate.submit"));
    assert!(
        !page.body.contains("/systemuser/request/approve"),
        "no approve button for Ola"
    );

    // Ola tries anyway: the API's rule refuses, the page says why, nothing changes.
    let tried = post(
        &ola,
        &server,
        &format!("{UI}/systemuser/request/approve"),
        &[("csrf", &page.csrf()), ("id", &id.to_string())],
    )
    .await;
    assert!(
        tried
            .location()
            .contains("error=error.api.not_access_manager"),
        "{}",
        tried.location()
    );
    let (explained, _) = follow(&ola, &server, tried).await;
    explained.assert_has(&nb("error.api.not_access_manager"));
    assert_eq!(
        request_status(&server, id).await,
        (RequestStatus::New, false)
    );

    // He passes it on.
    let escalated = post(
        &ola,
        &server,
        &format!("{UI}/systemuser/request/escalate"),
        &[("csrf", &page.csrf()), ("id", &id.to_string())],
    )
    .await;
    let (done, _) = follow(&ola, &server, escalated).await;
    done.assert_has(&nb("escalate.done.heading"));
    assert_eq!(
        request_status(&server, id).await,
        (RequestStatus::New, true)
    );
    // "Done, log out" ends at the vendor.
    let finish = post(
        &ola,
        &server,
        &format!("{UI}/logout"),
        &[
            ("csrf", &done.csrf()),
            ("request", &id.to_string()),
            ("kind", "standard"),
            ("outcome", "escalated"),
        ],
    )
    .await;
    assert_eq!(
        follow(&ola, &server, finish).await.1.as_deref(),
        Some(RECEIPT)
    );

    // Pia sees it waiting on her overview, approves inside the portal and stays.
    let pia = logged_in(&server, PIA).await;
    let overview = get(&pia, &server, &format!("{UI}/systemuser/overview")).await;
    assert_eq!(overview.status, StatusCode::OK, "{}", overview.body);
    overview.assert_has(&nb("overview.pending.heading"));
    let link = format!("{UI}/systemuser/request?id={id}&#38;from=overview");
    assert!(overview.body.contains(&link), "{}", overview.body);
    let page = get(&pia, &server, &link.replace("&#38;", "&")).await;
    assert!(!page.has(&nb("missing.heading")));
    assert!(page.body.contains("/systemuser/request/approve"));
    let approved = post(
        &pia,
        &server,
        &format!("{UI}/systemuser/request/approve"),
        &[
            ("csrf", &page.csrf()),
            ("id", &id.to_string()),
            ("from", "overview"),
        ],
    )
    .await;
    assert_eq!(
        approved.location(),
        format!("{UI}/systemuser/overview?new={id}")
    );
    let overview = get(&pia, &server, &approved.location()).await;
    assert_eq!(overview.status, StatusCode::OK);
    overview.assert_has(&nb("overview.new"));
    assert!(overview.body.contains("card is-new"));
    assert!(!overview.has(&nb("overview.pending.heading")));
    assert_eq!(request_status(&server, id).await.0, RequestStatus::Accepted);
}

async fn pia_creates_and_deletes_system_access_in_the_portal(server: TestServer) {
    let pia = logged_in(&server, PIA).await;
    let started = Instant::now();
    let overview = get(&pia, &server, &format!("{UI}/systemuser/overview")).await;
    let elapsed = started.elapsed();
    assert_eq!(overview.status, StatusCode::OK, "{}", overview.body);
    overview.assert_has(&nb("overview.own.empty"));
    assert!(
        elapsed < Duration::from_secs(2),
        "overview took {elapsed:?}"
    );

    // Step 1 lists visible systems only.
    let pick = get(&pia, &server, &format!("{UI}/systemuser/create")).await;
    assert_eq!(pick.status, StatusCode::OK, "{}", pick.body);
    pick.assert_has("SmartLønn");
    assert!(
        !pick.has("SmartRegnskap"),
        "the demo's invisible system is not offered"
    );
    let none = get(
        &pia,
        &server,
        &format!("{UI}/systemuser/create?q=nothing-like-this"),
    )
    .await;
    none.assert_has(&nb("create.no_match"));

    // Step 2 says exactly what it gets.
    let confirm = get(
        &pia,
        &server,
        &format!("{UI}/systemuser/create?system=991825827_smartlonn"),
    )
    .await;
    assert_eq!(confirm.status, StatusCode::OK, "{}", confirm.body);
    confirm.assert_has("Krav og betalinger");
    confirm.assert_has(&package_name("skatt-naering"));
    confirm.assert_has(&nb("create.submit"));
    let created = post(
        &pia,
        &server,
        &format!("{UI}/systemuser/create"),
        &[("csrf", &confirm.csrf()), ("system", "991825827_smartlonn")],
    )
    .await;
    let location = created.location();
    let new_id = location
        .strip_prefix(&format!("{UI}/systemuser/overview?new="))
        .unwrap_or_else(|| panic!("{location}"));
    let key = SystemUserKey {
        system_id: "991825827_smartlonn".into(),
        org: ROR_OG_VANN.into(),
        external_ref: ROR_OG_VANN.into(),
    };
    let stored = server
        .store
        .system_user_by_key(&key)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.id.to_string(), new_id);
    let overview = get(&pia, &server, &location).await;
    overview.assert_has(&nb("overview.new"));
    overview.assert_has("SmartLønn");

    // Creating it twice is refused with a reason.
    let again = get(
        &pia,
        &server,
        &format!("{UI}/systemuser/create?system=991825827_smartlonn"),
    )
    .await;
    again.assert_has(&nb("create.exists"));

    // The details page in plain words.
    let details = get(&pia, &server, &format!("{UI}/systemuser/{new_id}")).await;
    assert_eq!(details.status, StatusCode::OK, "{}", details.body);
    details.assert_has("Krav og betalinger");
    details.assert_has(&package_name("skatt-naering"));
    details.assert_has(&nb("details.created").replace("{date}", ""));

    // Delete, with a confirmation step.
    let confirm = get(&pia, &server, &format!("{UI}/systemuser/{new_id}/delete")).await;
    assert_eq!(confirm.status, StatusCode::OK);
    confirm.assert_has(&nb("delete.submit"));
    let deleted = post(
        &pia,
        &server,
        &format!("{UI}/systemuser/{new_id}/delete"),
        &[("csrf", &confirm.csrf())],
    )
    .await;
    assert_eq!(
        deleted.location(),
        format!("{UI}/systemuser/overview?notice=deleted")
    );
    assert!(
        server
            .store
            .system_user_by_key(&key)
            .await
            .unwrap()
            .is_none()
    );
    get(&pia, &server, &deleted.location())
        .await
        .assert_has(&nb("overview.notice.deleted"));
    assert_eq!(
        get(&pia, &server, &format!("{UI}/systemuser/{new_id}"))
            .await
            .status,
        StatusCode::NOT_FOUND
    );

    // Ola is no access manager: no creation for him.
    let ola = logged_in(&server, OLA).await;
    let refused = get(&ola, &server, &format!("{UI}/systemuser/create")).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    refused.assert_has(&nb("create.not_allowed"));
    let overview = get(&ola, &server, &format!("{UI}/systemuser/overview")).await;
    overview.assert_has(&nb("overview.not_access_manager"));
}

async fn change_requests_are_approved_in_the_portal(server: TestServer) {
    register_system(&server).await;
    let (id, confirm_url) = standard_request(&server, ROR_OG_VANN, None).await;
    let pia = logged_in(&server, PIA).await;
    let page = get(&pia, &server, &confirm_url).await;
    post(
        &pia,
        &server,
        &format!("{UI}/systemuser/request/approve"),
        &[
            ("csrf", &page.csrf()),
            ("id", &id.to_string()),
            ("from", "overview"),
        ],
    )
    .await;
    assert_eq!(request_status(&server, id).await.0, RequestStatus::Accepted);

    let correlation = Uuid::new_v4();
    let change = vendor_post(
        &server,
        &format!(
            "systemuser/changerequest/vendor?correlation-id={correlation}&system-user-id={id}"
        ),
        json!({"requiredAccessPackages": [{"urn": "urn:altinn:accesspackage:skatt-naering"}],
               "redirectUrl": RECEIPT}),
    )
    .await;
    let url = change["confirmUrl"].as_str().unwrap();
    let page = get(&pia, &server, url).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    page.assert_has(&nb("change.heading"));
    page.assert_has(&nb("change.group.add_packages.one"));
    page.assert_has(&package_name("skatt-naering"));
    let approved = post(
        &pia,
        &server,
        &format!("{UI}/systemuser/changerequest/approve"),
        &[("csrf", &page.csrf()), ("id", &correlation.to_string())],
    )
    .await;
    assert_eq!(
        follow(&pia, &server, approved).await.1.as_deref(),
        Some(RECEIPT)
    );
    let stored = server
        .store
        .change_request(correlation)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.status, RequestStatus::Accepted);
    let grants = server.store.system_user_grants(id).await.unwrap();
    assert!(grants.packages.contains(&"skatt-naering".to_string()));
}

async fn agent_requests_are_approved_by_the_accounting_firm(server: TestServer) {
    register_system(&server).await;
    let request = vendor_post(
        &server,
        "systemuser/request/vendor/agent",
        json!({"systemId": SYSTEM, "partyOrgNo": TALLMAKERNE, "redirectUrl": RECEIPT,
               "accessPackages": [{"urn": "urn:altinn:accesspackage:regnskapsforer-med-signeringsrettighet"}]}),
    )
    .await;
    let id = request["id"].as_str().unwrap().to_string();
    let tina = browser();
    let url = request["confirmUrl"].as_str().unwrap();
    log_in(&tina, &server, TINA, url.strip_prefix(&server.url).unwrap()).await;
    let page = get(&tina, &server, url).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    page.assert_has(&nb("request.agent.heading"));
    page.assert_has(&package_name("regnskapsforer-med-signeringsrettighet"));
    page.assert_has(&nb("request.agent.clients_after"));
    let approved = post(
        &tina,
        &server,
        &format!("{UI}/systemuser/agentrequest/approve"),
        &[("csrf", &page.csrf()), ("id", &id)],
    )
    .await;
    assert_eq!(
        follow(&tina, &server, approved).await.1.as_deref(),
        Some(RECEIPT)
    );
    let user = server
        .store
        .system_user(Uuid::parse_str(&id).unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(user.owner_org, TALLMAKERNE);

    // Its page shows the package and the place for clients.
    let tina = logged_in(&server, TINA).await;
    choose_party(&tina, &server, "Tallmakerne AS").await;
    let overview = get(&tina, &server, &format!("{UI}/systemuser/overview")).await;
    overview.assert_has(&nb("overview.clients.heading"));
    let details = get(&tina, &server, &format!("{UI}/systemuser/{id}")).await;
    assert_eq!(
        details.location(),
        format!("{UI}/systemuser/{id}/agentdelegation")
    );
    let details = get(&tina, &server, &details.location()).await;
    details.assert_has(&nb("details.agent.clients_heading"));
    details.assert_has(&package_name("regnskapsforer-med-signeringsrettighet"));
}

async fn request_links_switch_party_or_explain_why_not(server: TestServer) {
    register_system(&server).await;
    // Tina acts for Tallmakerne and its clients: she must choose.
    let tina = logged_in(&server, TINA).await;
    let overview = get(&tina, &server, &format!("{UI}/systemuser/overview")).await;
    assert!(
        overview
            .location()
            .starts_with(&format!("{UI}/party?goto="))
    );
    let parties = get(&tina, &server, &overview.location()).await;
    parties.assert_has("Tallmakerne AS");
    parties.assert_has("Bakeriet Brød AS");
    let searched = get(&tina, &server, &format!("{UI}/party?q=bakeriet")).await;
    assert!(!searched.has("Tallmakerne AS") || searched.body.matches("choice-name").count() == 1);
    choose_party(&tina, &server, "Tallmakerne AS").await;

    // A link for Bakeriet switches her to Bakeriet (she may act for it).
    let (_, url) = standard_request(&server, "315200008", None).await;
    let page = get(&tina, &server, &url).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    page.assert_has(&nb("request.switched").replace("{org}", "Bakeriet Brød AS"));
    let overview = get(&tina, &server, &format!("{UI}/systemuser/overview")).await;
    overview.assert_has(&nb("overview.heading").replace("{org}", "Bakeriet Brød AS"));

    // Bernt has nothing to do with Rør og Vann: the page says so and names it.
    let (_, url) = standard_request(&server, ROR_OG_VANN, None).await;
    let bernt = logged_in(&server, BERNT).await;
    let page = get(&bernt, &server, &url).await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    page.assert_has(&nb("error.no_access.title"));
    page.assert_has("Rør og Vann AS");

    // Choosing a party one is not related to is refused.
    let parties = get(&bernt, &server, &format!("{UI}/party")).await;
    let ror = server
        .store
        .organization(&systembruker_domain::OrgNumber::parse(ROR_OG_VANN).unwrap())
        .await
        .unwrap()
        .unwrap();
    let refused = post(
        &bernt,
        &server,
        &format!("{UI}/party"),
        &[("csrf", &parties.csrf()), ("party", &ror.uuid.to_string())],
    )
    .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
}

async fn language_switch_sets_the_cookie_and_html_lang(server: TestServer) {
    let client = browser();
    let login = format!("{UI}/login/test");
    let page = get(&client, &server, &login).await;
    assert!(page.body.contains("<html lang=\"nb\">"));
    page.assert_has(&text("nb", "login.test.title"));
    for language in ["en", "nn", "nb"] {
        let switched = get(
            &client,
            &server,
            &format!("{UI}/language?lang={language}&goto=%2Faccessmanagement%2Fui%2Flogin%2Ftest"),
        )
        .await;
        assert_eq!(switched.status, StatusCode::SEE_OTHER);
        assert_eq!(switched.location(), login);
        assert!(
            switched
                .cookies()
                .iter()
                .any(|c| c.starts_with(&format!("sb_portal_lang={language};"))),
            "{:?}",
            switched.cookies()
        );
        let page = get(&client, &server, &login).await;
        assert!(page.body.contains(&format!("<html lang=\"{language}\">")));
        page.assert_has(&text(language, "login.test.title"));
        page.assert_has(&text(language, "chrome.skip"));
    }
    // The browser's preference counts until the user chooses.
    let english = read(
        browser()
            .get(server.at(&login))
            .header("Accept-Language", "en-GB,en;q=0.9")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert!(english.body.contains("<html lang=\"en\">"));
}

async fn goto_never_leads_off_the_portal(server: TestServer) {
    let overview = format!("{UI}/systemuser/overview");
    for evil in [
        "https://evil.example/",
        "//evil.example/x",
        "/\\evil.example",
        "/accessmanagement/ui/../../evil",
    ] {
        let client = browser();
        let done = log_in(&client, &server, PIA, evil).await;
        assert_eq!(done.location(), overview, "login goto {evil}");
        let switched = get(
            &client,
            &server,
            &format!("{UI}/language?lang=en&goto={}", urlencode(evil)),
        )
        .await;
        assert_eq!(switched.location(), overview, "language goto {evil}");
        let entry = get(
            &client,
            &server,
            &format!("{UI}/login?goto={}", urlencode(evil)),
        )
        .await;
        assert!(!entry.location().contains("evil"), "{}", entry.location());
    }
}

fn urlencode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'.' | b'_' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

async fn error_pages_are_pages(server: TestServer) {
    let pia = logged_in(&server, PIA).await;
    let unknown = get(&pia, &server, &format!("{UI}/no/such/page")).await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    unknown.assert_has(&nb("error.not_found.title"));
    assert!(unknown.body.contains("<main id=\"main\""));
    let no_id = get(&pia, &server, &format!("{UI}/systemuser/request")).await;
    assert_eq!(no_id.status, StatusCode::NOT_FOUND);
    no_id.assert_has(&nb("error.bad_link.title"));
    let missing = get(
        &pia,
        &server,
        &format!("{UI}/systemuser/request?id={}", Uuid::new_v4()),
    )
    .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    missing.assert_has(&nb("error.api.request_not_found"));
    // The stylesheet and script are ours, cached, and say what they are.
    let css = read(
        pia.get(server.at(&format!("{UI}/assets/portal.css")))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(css.status, StatusCode::OK);
    assert!(
        css.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/css")
    );
    assert!(
        css.headers["cache-control"]
            .to_str()
            .unwrap()
            .contains("max-age")
    );
    let etag = css.headers["etag"].to_str().unwrap().to_string();
    let again = read(
        pia.get(server.at(&format!("{UI}/assets/portal.css")))
            .header("If-None-Match", etag)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(again.status, StatusCode::NOT_MODIFIED);
}

/// Outside dev mode the test login does not exist, and login says it is not set up.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_login_is_absent_outside_dev_mode() {
    let store = systembruker_storage::testing::sqlite_store().await.unwrap();
    let server = TestServer::start_with(store, false).await.unwrap();
    let client = browser();
    let page = get(&client, &server, &format!("{UI}/login/test")).await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);
    assert!(!page.has(&nb("login.test.title")));
    let posted = post(
        &client,
        &server,
        &format!("{UI}/login/test"),
        &[("pid", PIA)],
    )
    .await;
    assert_eq!(posted.status, StatusCode::NOT_FOUND);
    let entry = get(&client, &server, &format!("{UI}/login")).await;
    assert_eq!(entry.status, StatusCode::SERVICE_UNAVAILABLE);
    entry.assert_has(&nb("login.unavailable.title"));
    // Pages still ask for a login.
    let overview = get(&client, &server, &format!("{UI}/systemuser/overview")).await;
    assert!(
        overview
            .location()
            .starts_with(&format!("{UI}/login?goto="))
    );
}

/// Pia approves a request for Rør og Vann and SmartCloud asks to change the new system
/// user: (system user id, change request confirmUrl).
async fn approved_with_change(server: &TestServer) -> (Uuid, String) {
    register_system(server).await;
    let (id, confirm_url) = standard_request(server, ROR_OG_VANN, None).await;
    let pia = logged_in(server, PIA).await;
    let page = get(&pia, server, &confirm_url).await;
    post(
        &pia,
        server,
        &format!("{UI}/systemuser/request/approve"),
        &[
            ("csrf", &page.csrf()),
            ("id", &id.to_string()),
            ("from", "overview"),
        ],
    )
    .await;
    assert_eq!(request_status(server, id).await.0, RequestStatus::Accepted);
    let change = vendor_post(
        server,
        &format!(
            "systemuser/changerequest/vendor?correlation-id={}&system-user-id={id}",
            Uuid::new_v4()
        ),
        json!({"requiredAccessPackages": [{"urn": "urn:altinn:accesspackage:skatt-naering"}]}),
    )
    .await;
    (id, change["confirmUrl"].as_str().unwrap().to_string())
}

async fn ola_sees_none_of_the_system_access_he_may_not_read(server: TestServer) {
    let (id, change_url) = approved_with_change(&server).await;
    let details = format!("{UI}/systemuser/{id}");
    let overview = format!("{UI}/systemuser/overview");

    let pia = logged_in(&server, PIA).await;
    let page = get(&pia, &server, &overview).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains(&details), "{}", page.body);
    assert_eq!(get(&pia, &server, &details).await.status, StatusCode::OK);
    assert_eq!(get(&pia, &server, &change_url).await.status, StatusCode::OK);

    // Ola holds a package for Rør og Vann, so he may choose it, but not read its access.
    let ola = logged_in(&server, OLA).await;
    let page = get(&ola, &server, &overview).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    page.assert_has(&nb("overview.not_access_manager"));
    assert!(!page.body.contains(&details), "{}", page.body);
    for url in [details.as_str(), change_url.as_str()] {
        let refused = get(&ola, &server, url).await;
        assert_eq!(
            refused.status,
            StatusCode::FORBIDDEN,
            "{url}: {}",
            refused.body
        );
        refused.assert_has(&nb("error.api.not_access_manager"));
        assert!(!refused.has("Portaltest"), "{url}: {}", refused.body);
    }
}

async fn posts_from_other_origins_are_refused(server: TestServer) {
    register_system(&server).await;
    let (id, confirm_url) = standard_request(&server, ROR_OG_VANN, None).await;
    let pia = logged_in(&server, PIA).await;
    let page = get(&pia, &server, &confirm_url).await;
    let csrf = page.csrf();
    let id_text = id.to_string();
    // Rejecting is the harmless answer: refused attempts must leave the request New.
    let reject = server.at(&format!("{UI}/systemuser/request/reject"));
    let port = server.url.rsplit(':').next().unwrap().to_string();
    let https = server.url.replacen("http://", "https://", 1);
    let other_port = format!("http://127.0.0.1:{}", port.parse::<u16>().unwrap() ^ 1);
    let foreign_referer = "https://evil.example/form".to_string();
    let same_site_referer = format!("{https}/accessmanagement/ui/");
    let refused: [(&str, &[(&str, &str)]); 6] = [
        ("foreign Referer", &[("Referer", foreign_referer.as_str())]),
        ("cross-site fetch", &[("Sec-Fetch-Site", "cross-site")]),
        (
            "https Origin for an http portal",
            &[("Origin", https.as_str())],
        ),
        ("another port", &[("Origin", other_port.as_str())]),
        (
            "same-site without proof",
            &[("Sec-Fetch-Site", "same-site")],
        ),
        (
            "user navigation from a foreign page",
            &[
                ("Sec-Fetch-Site", "none"),
                ("Referer", same_site_referer.as_str()),
            ],
        ),
    ];
    for (case, headers) in refused {
        let mut request = pia.post(&reject);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let answer = read(
            request
                .form(&[("csrf", csrf.as_str()), ("id", &id_text)])
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(
            answer.status,
            StatusCode::FORBIDDEN,
            "{case}: {}",
            answer.body
        );
        answer.assert_has(&nb("error.csrf.title"));
        assert_eq!(
            request_status(&server, id).await,
            (RequestStatus::New, false),
            "{case}"
        );
    }
    // The portal's own page: same origin, told by Origin, Referer and Sec-Fetch-Site.
    let answer = read(
        pia.post(&reject)
            .header("Origin", server.url.as_str())
            .header("Referer", confirm_url.as_str())
            .header("Sec-Fetch-Site", "same-origin")
            .form(&[("csrf", csrf.as_str()), ("id", &id_text)])
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert!(
        answer.status.is_redirection(),
        "{}: {}",
        answer.status,
        answer.body
    );
    assert_eq!(request_status(&server, id).await.0, RequestStatus::Rejected);
}
