//! Issue 2: the server, register, catalogue, resource registry and their error handling,
//! over HTTP against a real server on SQLite and on PostgreSQL.
#![allow(clippy::unwrap_used)]

use reqwest::{Client, Response, StatusCode};
use serde_json::{Value, json};
use systembruker_http::testing::{ADMIN_TOKEN, TestServer};

systembruker_http::server_tests!(
    health_and_readiness,
    demo_organisations_are_found_by_number,
    catalogue_has_223_packages_and_dagl_is_access_manager,
    demo_resource_and_policy_are_served,
    invalid_org_number_is_a_400_naming_the_field,
    person_lookup_needs_the_admin_scope,
    unknown_role_code_is_refused_and_changes_nothing,
    roles_accept_urn_and_legacy_code_in_any_case,
    malformed_json_is_a_400_problem,
    oversized_body_is_a_413_problem,
    unknown_route_is_a_404_problem,
    import_json_is_all_or_nothing_with_a_report,
    import_csv_uses_the_reference_columns,
    duplicate_resource_id_is_a_409,
    invalid_resource_is_a_400_listing_every_field,
    resource_write_by_a_non_owner_is_forbidden,
    policy_must_be_xml_with_a_policy_root,
    openapi_covers_every_json_endpoint,
    metrics_count_requests_by_route_and_status,
    demo_load_is_idempotent,
);

fn admin(server: &TestServer, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
    Client::new()
        .request(method, server.at(path))
        .bearer_auth(ADMIN_TOKEN)
}

async fn get_admin(server: &TestServer, path: &str) -> Response {
    admin(server, reqwest::Method::GET, path)
        .send()
        .await
        .unwrap()
}

async fn get_json(server: &TestServer, path: &str) -> Value {
    reqwest::get(server.at(path))
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// Asserts an RFC 7807 problem with `status` and returns its body.
async fn problem(response: Response, status: StatusCode) -> Value {
    assert_eq!(response.status(), status);
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json"
    );
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["status"], status.as_u16());
    assert!(body["traceId"].as_str().is_some_and(|t| !t.is_empty()));
    assert!(body["code"].as_str().is_some());
    body
}

async fn health_and_readiness(server: TestServer) {
    assert_eq!(
        reqwest::get(server.at("/health")).await.unwrap().status(),
        200
    );
    assert_eq!(
        reqwest::get(server.at("/health/ready"))
            .await
            .unwrap()
            .status(),
        200
    );
    // With the database gone, the process still lives but is not ready.
    server.store.close().await;
    assert_eq!(
        reqwest::get(server.at("/health")).await.unwrap().status(),
        200
    );
    assert_eq!(
        reqwest::get(server.at("/health/ready"))
            .await
            .unwrap()
            .status(),
        503
    );
}

async fn demo_organisations_are_found_by_number(server: TestServer) {
    for (org, name) in [
        ("974761076", "Skatteetaten"),
        ("991825827", "SmartCloud AS"),
        ("315000009", "Rør og Vann AS"),
        ("315100003", "Tallmakerne AS"),
        ("315200008", "Bakeriet Brød AS"),
    ] {
        let r = get_admin(&server, &format!("/register/api/v1/organizations/{org}")).await;
        assert_eq!(r.status(), 200, "{org}");
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["name"], name);
        assert_eq!(body["organizationIdentifier"], org);
        assert_eq!(body["partyType"], "organization");
        let uuid = body["partyUuid"].as_str().unwrap().to_string();
        let by_uuid: Value = get_admin(&server, &format!("/register/api/v1/parties/{uuid}"))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(by_uuid["partyId"], body["partyId"]);
    }
    let roles: Value = get_admin(&server, "/register/api/v1/organizations/315000009/roles")
        .await
        .json()
        .await
        .unwrap();
    let pairs: Vec<(String, String)> = roles
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["legacyCode"].as_str().unwrap().to_string(),
                r["holder"]["name"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert!(pairs.contains(&("DAGL".into(), "Pia Rørlegger".into())));
    assert!(pairs.contains(&("REGN".into(), "Tallmakerne AS".into())));
    // Reading the register needs a token.
    let anonymous = reqwest::get(server.at("/register/api/v1/organizations/315000009"))
        .await
        .unwrap();
    let body = problem(anonymous, StatusCode::UNAUTHORIZED).await;
    assert!(body["detail"].as_str().unwrap().contains("bearer token"));
}

async fn catalogue_has_223_packages_and_dagl_is_access_manager(server: TestServer) {
    let export = get_json(
        &server,
        "/accessmanagement/api/v1/meta/info/accesspackages/export",
    )
    .await;
    let groups = export.as_array().unwrap();
    assert_eq!(groups.len(), 5);
    let packages: usize = groups
        .iter()
        .flat_map(|g| g["areas"].as_array().unwrap())
        .map(|a| a["packages"].as_array().unwrap().len())
        .sum();
    assert_eq!(packages, 223);
    for code in ["DAGL", "dagl", "urn:altinn:external-role:ccr:daglig-leder"] {
        let rows = get_json(
            &server,
            &format!("/accessmanagement/api/v1/meta/info/roles/{code}/packages"),
        )
        .await;
        let codes: Vec<&str> = rows
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["package"]["code"].as_str().unwrap())
            .collect();
        assert!(codes.contains(&"tilgangsstyrer"), "{code}");
    }
    let package = get_json(
        &server,
        "/accessmanagement/api/v1/meta/info/accesspackages/package/urn/urn:altinn:accesspackage:skatt-naering",
    )
    .await;
    assert_eq!(package["code"], "skatt-naering");
    let missing = reqwest::get(server.at(
        "/accessmanagement/api/v1/meta/info/accesspackages/package/urn/urn:altinn:accesspackage:nope",
    ))
    .await
    .unwrap();
    problem(missing, StatusCode::NOT_FOUND).await;
}

async fn demo_resource_and_policy_are_served(server: TestServer) {
    let r = get_json(
        &server,
        "/resourceregistry/api/v1/resource/ske-krav-og-betalinger",
    )
    .await;
    assert_eq!(r["title"]["nb"], "Krav og betalinger");
    assert_eq!(r["resourceType"], "GenericAccessResource");
    assert_eq!(r["hasCompetentAuthority"]["organization"], "974761076");
    assert_eq!(
        r["resourceReferences"][0]["reference"],
        "skatteetaten:kravogbetalinger"
    );
    let list = get_json(&server, "/resourceregistry/api/v1/resource/resourcelist").await;
    assert!(
        list.as_array()
            .unwrap()
            .iter()
            .any(|r| r["identifier"] == "ske-krav-og-betalinger")
    );
    let policy =
        reqwest::get(server.at("/resourceregistry/api/v1/resource/ske-krav-og-betalinger/policy"))
            .await
            .unwrap();
    assert_eq!(policy.status(), 200);
    let xml = policy.text().await.unwrap();
    assert!(xml.contains("skatt-naering") && xml.contains(">DAGL<"));
}

async fn invalid_org_number_is_a_400_naming_the_field(server: TestServer) {
    let body = problem(
        get_admin(&server, "/register/api/v1/organizations/315000008").await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_eq!(body["errors"][0]["paths"][0], "orgNo");
    assert!(
        body["errors"][0]["title"]
            .as_str()
            .unwrap()
            .contains("mod-11")
    );
    let body = problem(
        get_admin(&server, "/register/api/v1/organizations/12345").await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert!(
        body["errors"][0]["title"]
            .as_str()
            .unwrap()
            .contains("9 digits")
    );
    let body = problem(
        admin(
            &server,
            reqwest::Method::POST,
            "/admin/api/v1/register/roles",
        )
        .json(&json!({"from": "315000001", "to": "315100003", "role": "REGN"}))
        .send()
        .await
        .unwrap(),
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_eq!(body["errors"][0]["paths"][0], "/from");
}

async fn person_lookup_needs_the_admin_scope(server: TestServer) {
    let r = get_admin(&server, "/register/api/v1/persons/14857510098").await;
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["personIdentifier"], "14857510098");
    let bad = get_admin(&server, "/register/api/v1/persons/14857510099").await;
    let body = problem(bad, StatusCode::BAD_REQUEST).await;
    assert_eq!(body["errors"][0]["paths"][0], "pid");
    let anonymous = reqwest::get(server.at("/register/api/v1/persons/14857510098"))
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);
    assert!(anonymous.headers().contains_key("www-authenticate"));
    // A valid token without the operator scope is refused with 403.
    let vendor = server
        .enterprise_token("991825827", "altinn:authentication/systemregister.write")
        .await
        .unwrap();
    let r = Client::new()
        .get(server.at("/register/api/v1/persons/14857510098"))
        .bearer_auth(vendor)
        .send()
        .await
        .unwrap();
    let www = r.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(www.contains("insufficient_scope"));
    problem(r, StatusCode::FORBIDDEN).await;
}

async fn role_change_count(server: &TestServer) -> usize {
    let feed: Value = get_admin(server, "/admin/api/v1/register/rolechanges?limit=1000")
        .await
        .json()
        .await
        .unwrap();
    feed.as_array().unwrap().len()
}

async fn post_role(server: &TestServer, method: reqwest::Method, body: Value) -> Response {
    admin(server, method, "/admin/api/v1/register/roles")
        .json(&body)
        .send()
        .await
        .unwrap()
}

async fn unknown_role_code_is_refused_and_changes_nothing(server: TestServer) {
    let before = role_change_count(&server).await;
    let r = post_role(
        &server,
        reqwest::Method::POST,
        json!({"from": "315000009", "to": "315100003", "role": "XYZ"}),
    )
    .await;
    let body = problem(r, StatusCode::BAD_REQUEST).await;
    assert_eq!(body["errors"][0]["paths"][0], "/role");
    assert!(body["errors"][0]["title"].as_str().unwrap().contains("XYZ"));
    // A role that exists but is not an ER role is refused too.
    let r = post_role(
        &server,
        reqwest::Method::POST,
        json!({"from": "315000009", "to": "315100003", "role": "rettighetshaver"}),
    )
    .await;
    let body = problem(r, StatusCode::BAD_REQUEST).await;
    assert!(body["errors"][0]["title"].as_str().unwrap().contains("ER"));
    assert_eq!(role_change_count(&server).await, before);
}

async fn roles_accept_urn_and_legacy_code_in_any_case(server: TestServer) {
    let before = role_change_count(&server).await;
    let role = |r: &str| json!({"from": "315200008", "to": "02889010080", "role": r});
    let first = post_role(
        &server,
        reqwest::Method::POST,
        role("urn:altinn:external-role:ccr:styreleder"),
    )
    .await;
    assert_eq!(first.status(), 201);
    let body: Value = first.json().await.unwrap();
    assert_eq!(body["role"], "styreleder");
    assert_eq!(body["changed"], true);
    // The same role again, by its ER code in lower case: nothing changes.
    let again = post_role(&server, reqwest::Method::POST, role("lede")).await;
    assert_eq!(again.status(), 200);
    assert_eq!(again.json::<Value>().await.unwrap()["changed"], false);
    assert_eq!(role_change_count(&server).await, before + 1);
    let removed = post_role(&server, reqwest::Method::DELETE, role("LEDE")).await;
    assert_eq!(removed.status(), 200);
    let gone = post_role(&server, reqwest::Method::DELETE, role("LEDE")).await;
    problem(gone, StatusCode::NOT_FOUND).await;
    let feed: Value = get_admin(&server, "/admin/api/v1/register/rolechanges?limit=1000")
        .await
        .json()
        .await
        .unwrap();
    let last = feed.as_array().unwrap().last().unwrap();
    assert_eq!(last["change"], "removed");
    assert_eq!(last["role"], "styreleder");
    assert_eq!(last["changedBy"], "operator");
}

async fn malformed_json_is_a_400_problem(server: TestServer) {
    let r = admin(
        &server,
        reqwest::Method::POST,
        "/admin/api/v1/register/roles",
    )
    .header("content-type", "application/json")
    .body("{\"from\": \"315000009\",")
    .send()
    .await
    .unwrap();
    let body = problem(r, StatusCode::BAD_REQUEST).await;
    assert!(body["detail"].as_str().unwrap().contains("JSON"));
    let r = admin(
        &server,
        reqwest::Method::POST,
        "/resourceregistry/api/v1/resource",
    )
    .header("content-type", "application/json")
    .body("[1,2")
    .send()
    .await
    .unwrap();
    problem(r, StatusCode::BAD_REQUEST).await;
}

async fn oversized_body_is_a_413_problem(server: TestServer) {
    let big = format!("[\"{}\"]", "a".repeat(2 * 1024 * 1024));
    let before = get_json(&server, "/resourceregistry/api/v1/resource/resourcelist").await;
    for path in [
        "/admin/api/v1/register/parties",
        "/resourceregistry/api/v1/resource",
        "/resourceregistry/api/v1/resource/ske-krav-og-betalinger/policy",
    ] {
        let r = admin(&server, reqwest::Method::POST, path)
            .header("content-type", "application/json")
            .body(big.clone())
            .send()
            .await
            .unwrap();
        problem(r, StatusCode::PAYLOAD_TOO_LARGE).await;
    }
    assert_eq!(
        get_json(&server, "/resourceregistry/api/v1/resource/resourcelist").await,
        before
    );
}

async fn unknown_route_is_a_404_problem(server: TestServer) {
    let r = reqwest::get(server.at("/no/such/route")).await.unwrap();
    let body = problem(r, StatusCode::NOT_FOUND).await;
    assert!(body["detail"].as_str().unwrap().contains("/no/such/route"));
}

async fn import_json_is_all_or_nothing_with_a_report(server: TestServer) {
    let batch = json!([
        {"partyType": "organization", "name": "Ny Bedrift AS", "organizationIdentifier": "310202398", "unitType": "AS"},
        {"partyType": "organization", "name": "Feil AS", "organizationIdentifier": "310202399"},
        {"partyType": "person", "name": "", "personIdentifier": "14857510098"}
    ]);
    let r = admin(
        &server,
        reqwest::Method::POST,
        "/admin/api/v1/register/parties",
    )
    .json(&batch)
    .send()
    .await
    .unwrap();
    assert_eq!(r.status(), 400);
    let report: Value = r.json().await.unwrap();
    assert_eq!(report["created"], 0);
    let rejected = report["rejected"].as_array().unwrap();
    assert_eq!(rejected.len(), 2);
    assert_eq!(rejected[0]["row"], 2);
    assert!(
        rejected[0]["reasons"][0]
            .as_str()
            .unwrap()
            .contains("organizationIdentifier")
    );
    assert_eq!(rejected[1]["row"], 3);
    assert!(rejected[1]["reasons"][0].as_str().unwrap().contains("name"));
    // The valid row was not stored either.
    assert_eq!(
        get_admin(&server, "/register/api/v1/organizations/310202398")
            .await
            .status(),
        404
    );
    let ok = admin(
        &server,
        reqwest::Method::POST,
        "/admin/api/v1/register/parties",
    )
    .json(&json!([batch[0]]))
    .send()
    .await
    .unwrap();
    assert_eq!(ok.status(), 200);
    assert_eq!(ok.json::<Value>().await.unwrap()["created"], 1);
    assert_eq!(
        get_admin(&server, "/register/api/v1/organizations/310202398")
            .await
            .status(),
        200
    );
}

async fn import_csv_uses_the_reference_columns(server: TestServer) {
    let csv = "party_uuid,party_id,party_type,display_name,person_identifier,organization_identifier,unit_status,unit_type,mainunit_party_uuid\n\
               ,,organization,CSV BEDRIFT AS,,310202398,N,AS,\n\
               ,,person,CSV PERSON,02889010080,,,,\n";
    let r = admin(
        &server,
        reqwest::Method::POST,
        "/admin/api/v1/register/parties",
    )
    .header("content-type", "text/csv")
    .body(csv)
    .send()
    .await
    .unwrap();
    assert_eq!(r.status(), 200);
    let report: Value = r.json().await.unwrap();
    // The person exists (Ola, from the demo): updated, not created.
    assert_eq!(
        (report["created"].clone(), report["updated"].clone()),
        (json!(1), json!(1))
    );
    let broken = admin(
        &server,
        reqwest::Method::POST,
        "/admin/api/v1/register/parties",
    )
    .header("content-type", "text/csv")
    .body("party_type,display_name\n\"unterminated")
    .send()
    .await
    .unwrap();
    problem(broken, StatusCode::BAD_REQUEST).await;
}

fn resource_json(id: &str, owner: &str) -> Value {
    json!({
        "identifier": id,
        "title": {"nb": "Tittel", "nn": "Tittel", "en": "Title"},
        "description": {"nb": "B", "nn": "B", "en": "D"},
        "rightDescription": {"nb": "R", "nn": "R", "en": "R"},
        "resourceType": "GenericAccessResource",
        "hasCompetentAuthority": {"organization": owner}
    })
}

async fn duplicate_resource_id_is_a_409(server: TestServer) {
    let r = admin(
        &server,
        reqwest::Method::POST,
        "/resourceregistry/api/v1/resource",
    )
    .json(&resource_json("ske-krav-og-betalinger", "974761076"))
    .send()
    .await
    .unwrap();
    let body = problem(r, StatusCode::CONFLICT).await;
    assert!(
        body["detail"]
            .as_str()
            .unwrap()
            .contains("ske-krav-og-betalinger")
    );
    let r = get_json(
        &server,
        "/resourceregistry/api/v1/resource/ske-krav-og-betalinger",
    )
    .await;
    assert_eq!(r["title"]["nb"], "Krav og betalinger");
}

async fn invalid_resource_is_a_400_listing_every_field(server: TestServer) {
    let mut bad = resource_json("X", "974761076");
    bad["title"] = json!({"nb": "Bare bokmål"});
    let r = admin(
        &server,
        reqwest::Method::POST,
        "/resourceregistry/api/v1/resource",
    )
    .json(&bad)
    .send()
    .await
    .unwrap();
    let body = problem(r, StatusCode::BAD_REQUEST).await;
    let paths: Vec<&str> = body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["paths"][0].as_str().unwrap())
        .collect();
    assert_eq!(paths, ["/identifier", "/title"]);
    // An invalid owner org number never reaches validation: the body does not parse.
    let r = admin(
        &server,
        reqwest::Method::POST,
        "/resourceregistry/api/v1/resource",
    )
    .json(&resource_json("gyldig-id", "974761077"))
    .send()
    .await
    .unwrap();
    let body = problem(r, StatusCode::BAD_REQUEST).await;
    assert!(body["detail"].as_str().unwrap().contains("mod-11"));
}

async fn resource_write_by_a_non_owner_is_forbidden(server: TestServer) {
    let scope = "altinn:resourceregistry/resource.write";
    let smartcloud = server.enterprise_token("991825827", scope).await.unwrap();
    let skatteetaten = server.enterprise_token("974761076", scope).await.unwrap();
    let mut changed = resource_json("ske-krav-og-betalinger", "974761076");
    changed["title"]["nb"] = json!("Kapret");
    let client = Client::new();
    let r = client
        .put(server.at("/resourceregistry/api/v1/resource/ske-krav-og-betalinger"))
        .bearer_auth(&smartcloud)
        .json(&changed)
        .send()
        .await
        .unwrap();
    problem(r, StatusCode::FORBIDDEN).await;
    let r = client
        .put(server.at("/resourceregistry/api/v1/resource/ske-krav-og-betalinger/policy"))
        .bearer_auth(&smartcloud)
        .body("<Policy/>")
        .send()
        .await
        .unwrap();
    problem(r, StatusCode::FORBIDDEN).await;
    let r = client
        .delete(server.at("/resourceregistry/api/v1/resource/ske-krav-og-betalinger"))
        .bearer_auth(&smartcloud)
        .send()
        .await
        .unwrap();
    problem(r, StatusCode::FORBIDDEN).await;
    // Nor may a vendor create a resource in another organisation's name.
    let r = client
        .post(server.at("/resourceregistry/api/v1/resource"))
        .bearer_auth(&smartcloud)
        .json(&resource_json("smartcloud-fake", "974761076"))
        .send()
        .await
        .unwrap();
    problem(r, StatusCode::FORBIDDEN).await;
    let unchanged = get_json(
        &server,
        "/resourceregistry/api/v1/resource/ske-krav-og-betalinger",
    )
    .await;
    assert_eq!(unchanged["title"]["nb"], "Krav og betalinger");
    // The owner may.
    let r = client
        .put(server.at("/resourceregistry/api/v1/resource/ske-krav-og-betalinger"))
        .bearer_auth(&skatteetaten)
        .json(&changed)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}

async fn policy_must_be_xml_with_a_policy_root(server: TestServer) {
    let path = "/resourceregistry/api/v1/resource/ske-krav-og-betalinger/policy";
    let original = reqwest::get(server.at(path))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for bad in ["not xml", "<Policy><Rule></Policy>", "<Resource/>"] {
        let r = admin(&server, reqwest::Method::PUT, path)
            .body(bad)
            .send()
            .await
            .unwrap();
        problem(r, StatusCode::BAD_REQUEST).await;
    }
    let r = admin(
        &server,
        reqwest::Method::PUT,
        "/resourceregistry/api/v1/resource/no-such-resource/policy",
    )
    .body(original.clone())
    .send()
    .await
    .unwrap();
    problem(r, StatusCode::NOT_FOUND).await;
    assert_eq!(
        reqwest::get(server.at(path))
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
        original
    );
}

async fn openapi_covers_every_json_endpoint(server: TestServer) {
    let doc = get_json(&server, "/swagger/v1/swagger.json").await;
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    let paths = doc["paths"].as_object().unwrap();
    for (path, method) in [
        ("/register/api/v1/organizations/{orgNo}", "get"),
        ("/register/api/v1/persons/{pid}", "get"),
        ("/register/api/v1/parties/{partyUuid}", "get"),
        ("/register/api/v1/organizations/{orgNo}/roles", "get"),
        ("/admin/api/v1/register/parties", "post"),
        ("/admin/api/v1/register/roles", "post"),
        ("/admin/api/v1/register/roles", "delete"),
        ("/admin/api/v1/register/rolechanges", "get"),
        (
            "/accessmanagement/api/v1/meta/info/accesspackages/export",
            "get",
        ),
        (
            "/accessmanagement/api/v1/meta/info/accesspackages/package/urn/{urn}",
            "get",
        ),
        (
            "/accessmanagement/api/v1/meta/info/roles/{code}/packages",
            "get",
        ),
        ("/resourceregistry/api/v1/resource", "post"),
        ("/resourceregistry/api/v1/resource/resourcelist", "get"),
        ("/resourceregistry/api/v1/resource/{id}", "get"),
        ("/resourceregistry/api/v1/resource/{id}", "put"),
        ("/resourceregistry/api/v1/resource/{id}", "delete"),
        ("/resourceregistry/api/v1/resource/{id}/policy", "get"),
        ("/resourceregistry/api/v1/resource/{id}/policy", "put"),
    ] {
        let op = &paths.get(path).unwrap_or_else(|| panic!("{path} missing"))[method];
        assert!(op.is_object(), "{method} {path} missing");
        assert!(
            op["responses"].as_object().is_some_and(|r| !r.is_empty()),
            "{method} {path}"
        );
    }
    // JSON bodies and responses carry schemas.
    let post_roles = &paths["/admin/api/v1/register/roles"]["post"];
    assert!(post_roles["requestBody"]["content"]["application/json"]["schema"].is_object());
    assert!(doc["components"]["schemas"]["PartyDto"].is_object());
    assert!(doc["components"]["schemas"]["ServiceResource"].is_object());
}

async fn metrics_count_requests_by_route_and_status(server: TestServer) {
    get_admin(&server, "/register/api/v1/organizations/315000009").await;
    get_admin(&server, "/register/api/v1/organizations/315000008").await;
    let text = server.metrics_text().await.unwrap();
    assert!(
        text.contains(
            "systembruker_http_requests_total{method=\"GET\",route=\"/register/api/v1/organizations/{orgNo}\",status=\"200\"} 1"
        ),
        "{text}"
    );
    assert!(text.contains("status=\"400\"} 1"));
    assert!(text.contains("systembruker_http_request_duration_seconds_bucket"));
}

async fn demo_load_is_idempotent(server: TestServer) {
    use systembruker_storage::RegisterStore;
    let parties = server.store.party_count().await.unwrap();
    let changes = role_change_count(&server).await;
    systembruker_http::demo::load(&server.store).await.unwrap();
    assert_eq!(server.store.party_count().await.unwrap(), parties);
    assert_eq!(role_change_count(&server).await, changes);
    assert_eq!(
        parties,
        242 + 10,
        "reference parties plus the cast (SmartCloud is in both; with the two developers of For developers)"
    );
}
