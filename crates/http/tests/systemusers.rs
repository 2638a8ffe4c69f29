//! System register, requests, approval, system users and change requests over HTTP:
//! the reference's error codes, vendor isolation and concurrency, on both backends.
#![allow(clippy::unwrap_used)]

use reqwest::{Client, Method, StatusCode};
use serde_json::{Value, json};
use systembruker_http::demo::{
    BAKERIET, DEMO_RESOURCE, OLA, PIA, ROR_OG_VANN, SKATTEETATEN, SMARTCLOUD, TINA,
};
use systembruker_http::testing::{ADMIN_TOKEN, TestServer};

mod common;
use common::{Api, PORTAL, person, right, vendor};

systembruker_http::server_tests!(
    system_register_reports_every_validation_code,
    system_register_checks_ownership_and_soft_deletes,
    request_create_rules_and_codes,
    vendors_cannot_see_each_others_requests_and_users,
    approval_codes_and_all_or_nothing_delegation_check,
    concurrent_approvals_give_one_system_user,
    end_user_creation_and_lookups,
    change_requests_are_checked_and_applied_once,
    history_is_exposed_to_operators,
    access_manager_without_the_rights_fails_the_delegation_check,
    agent_users_are_not_deleted_by_the_standard_route,
    a_vendor_may_name_only_its_own_clients,
);

const SYSTEM: &str = "991825827_tester";
/// Another vendor (Tallmakerne AS) for isolation tests.
const OTHER_VENDOR: &str = "315100003";
const ROR: i64 = 70_000_003;

fn system_body(id: &str, vendor_org: &str) -> Value {
    json!({
        "id": id,
        "vendor": {"authority": "iso6523-actorid-upis", "ID": format!("0192:{vendor_org}")},
        "name": {"nb": "Tester", "nn": "Tester", "en": "Tester"},
        "description": {"nb": "a", "nn": "b", "en": "c"},
        "rights": [right(DEMO_RESOURCE)],
        "accessPackages": [{"urn": "urn:altinn:accesspackage:skatt-naering"},
                           {"urn": "urn:altinn:accesspackage:regnskapsforer-med-signeringsrettighet"}],
        "clientId": [uuid::Uuid::new_v4().to_string()],
        "allowedRedirectUrls": ["https://tester.example/done"],
        "isVisible": false
    })
}

fn codes(body: &Value) -> Vec<String> {
    body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["code"].as_str().unwrap().to_string())
        .collect()
}

async fn register(api: &Api<'_>, body: Value) {
    let (status, answer) = api.post("systemregister/vendor", body).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
}

async fn request(api: &Api<'_>, body: Value) -> (StatusCode, Value) {
    api.post("systemuser/request/vendor", body).await
}

/// A New standard request for Rør og Vann with the demo right; returns its id.
async fn new_request(api: &Api<'_>, external_ref: &str) -> String {
    let (status, body) = request(
        api,
        json!({"systemId": SYSTEM, "partyOrgNo": ROR_OG_VANN, "externalRef": external_ref, "rights": [right(DEMO_RESOURCE)]}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body["id"].as_str().unwrap().to_string()
}

async fn system_register_reports_every_validation_code(server: TestServer) {
    let api = vendor(&server, SMARTCLOUD).await;
    register(&api, system_body(SYSTEM, SMARTCLOUD)).await;
    let taken_client = {
        let (_, stored) = api.get(&format!("systemregister/vendor/{SYSTEM}")).await;
        stored["clientId"][0].clone()
    };
    let mut bad = system_body("991825827 tester", SMARTCLOUD);
    bad["name"] = json!({"nb": "only bokmål"});
    bad["allowedRedirectUrls"] = json!(["http://tester.example/", "https://ok.example/"]);
    bad["clientId"] = json!(["dup", "dup", taken_client]);
    bad["rights"] = json!([right(DEMO_RESOURCE), right(DEMO_RESOURCE), right("no-such-resource"),
        {"resource": [{"id": "urn:altinn:app", "value": "x"}]}]);
    bad["accessPackages"] = json!([{"urn": "urn:altinn:accesspackage:skatt-naering"},
        {"urn": "urn:altinn:accesspackage:skatt-naering"}, {"urn": "urn:nope"},
        {"urn": "urn:altinn:accesspackage:regnskapsforer-med-signeringsrettighet"}]);
    bad["isVisible"] = json!(true);
    let (status, body) = api.post("systemregister/vendor", bad).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["code"], "STD-00000");
    let found = codes(&body);
    for code in [
        "13", "01", "19", "05", "11", "04", "06", "03", "09", "07", "08", "18",
    ] {
        assert!(
            found.contains(&format!("AUTH.VLD-000{code}")),
            "AUTH.VLD-000{code} missing: {body}"
        );
    }
    let redirect = body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["code"] == "AUTH.VLD-00005")
        .unwrap();
    assert_eq!(redirect["paths"], json!(["/allowedRedirectUrls/0"]));
    // The id is taken (VLD-00002); a bad vendor is reported alone (VLD-00000).
    let (_, body) = api
        .post("systemregister/vendor", system_body(SYSTEM, SMARTCLOUD))
        .await;
    assert_eq!(codes(&body), ["AUTH.VLD-00002"]);
    let mut vendorless = system_body("x y", SMARTCLOUD);
    vendorless["vendor"]["ID"] = json!("9908:991825827");
    let (_, body) = api.post("systemregister/vendor", vendorless).await;
    assert_eq!(codes(&body), ["AUTH.VLD-00000"]);
    // A resource of a type systems may not use (VLD-00017).
    let owner = Api {
        server: &server,
        token: server
            .enterprise_token(SKATTEETATEN, "altinn:resourceregistry/resource.write")
            .await
            .unwrap(),
    };
    let (status, _) = owner.post("/resourceregistry/api/v1/resource", json!({
        "identifier": "mp-schema-x", "title": {"nb": "a", "nn": "b", "en": "c"}, "description": {"nb": "a", "nn": "b", "en": "c"},
        "rightDescription": {"nb": "a", "nn": "b", "en": "c"}, "resourceType": "MaskinportenSchema",
        "resourceReferences": [{"reference": "skatteetaten:x", "referenceType": "MaskinportenScope"}],
        "hasCompetentAuthority": {"organization": SKATTEETATEN}})).await;
    assert_eq!(status, StatusCode::CREATED);
    let mut typed = system_body("991825827_typed", SMARTCLOUD);
    typed["rights"] = json!([right("mp-schema-x")]);
    let (_, body) = api.post("systemregister/vendor", typed).await;
    assert_eq!(codes(&body), ["AUTH.VLD-00017"]);
    // PUT with another id in the body (VLD-00012).
    let (status, body) = api
        .send(
            Method::PUT,
            &format!("systemregister/vendor/{SYSTEM}"),
            Some(system_body("991825827_other", SMARTCLOUD)),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(codes(&body), ["AUTH.VLD-00012"]);
    // In dev mode http://localhost redirect URLs are allowed.
    let mut local = system_body("991825827_local", SMARTCLOUD);
    local["allowedRedirectUrls"] = json!(["http://localhost:5173/cb"]);
    register(&api, local).await;
}

async fn system_register_checks_ownership_and_soft_deletes(server: TestServer) {
    let smartcloud = vendor(&server, SMARTCLOUD).await;
    let other = vendor(&server, OTHER_VENDOR).await;
    // A vendor may not register a system in another vendor's name.
    let (status, _) = other
        .post("systemregister/vendor", system_body(SYSTEM, SMARTCLOUD))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    register(&smartcloud, system_body(SYSTEM, SMARTCLOUD)).await;
    let path = format!("systemregister/vendor/{SYSTEM}");
    assert_eq!(other.get(&path).await.0, StatusCode::FORBIDDEN);
    assert_eq!(
        other.send(Method::DELETE, &path, None).await.0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        other.get(&format!("{path}/changelog")).await.0,
        StatusCode::FORBIDDEN
    );
    let (status, _) = other
        .send(Method::PUT, &format!("{path}/rights"), Some(json!([])))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, mine) = smartcloud.get("systemregister/vendor").await;
    assert_eq!(status, StatusCode::OK);
    assert!(mine.as_array().unwrap().iter().any(|s| s["id"] == SYSTEM));
    assert!(
        other
            .get("systemregister/vendor")
            .await
            .1
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["id"] != SYSTEM)
    );
    // Rights and packages are replaced separately; each write is in the change log.
    let (status, body) = smartcloud
        .send(Method::PUT, &format!("{path}/rights"), Some(json!([])))
        .await;
    assert_eq!((status, body), (StatusCode::OK, json!({"succeeded": true})));
    let (status, _) = smartcloud
        .send(
            Method::PUT,
            &format!("{path}/accesspackages"),
            Some(json!([{"urn": "urn:altinn:accesspackage:skatt-naering"}])),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (_, log) = smartcloud.get(&format!("{path}/changelog")).await;
    let kinds: Vec<&str> = log
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["changeType"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["create", "rights_update", "access_package_update"]);
    assert_eq!(log[0]["changedByOrgNumber"], SMARTCLOUD);
    // The portal lists visible systems only; SmartCloud makes it visible, then deletes it.
    let pia = person(&server, PIA).await;
    assert!(
        pia.get("systemregister")
            .await
            .1
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["systemId"] != SYSTEM)
    );
    let mut visible = system_body(SYSTEM, SMARTCLOUD);
    visible["isVisible"] = json!(true);
    visible["accessPackages"] = json!([{"urn": "urn:altinn:accesspackage:skatt-naering"}]);
    assert_eq!(
        smartcloud.send(Method::PUT, &path, Some(visible)).await.0,
        StatusCode::OK
    );
    let (_, list) = pia.get("systemregister").await;
    let listed = list
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["systemId"] == SYSTEM)
        .unwrap()
        .clone();
    assert_eq!(listed["systemVendorOrgName"], "SmartCloud AS");
    assert_eq!(
        smartcloud.send(Method::DELETE, &path, None).await.0,
        StatusCode::OK
    );
    assert!(
        pia.get("systemregister")
            .await
            .1
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["systemId"] != SYSTEM)
    );
    assert_eq!(
        pia.get(&format!("systemregister/{SYSTEM}")).await.1["code"],
        "AUTH-00011"
    );
    let (_, stored) = smartcloud.get(&path).await;
    assert_eq!(stored["isDeleted"], true);
    assert_eq!(
        smartcloud
            .send(Method::PUT, &path, Some(system_body(SYSTEM, SMARTCLOUD)))
            .await
            .0,
        StatusCode::BAD_REQUEST
    );
    // The demo system is there, invisible because it offers a client-only package.
    let (status, demo) = smartcloud
        .get("systemregister/vendor/991825827_smartregnskap")
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(demo["isVisible"], false);
}

async fn request_create_rules_and_codes(server: TestServer) {
    let api = vendor(&server, SMARTCLOUD).await;
    register(&api, system_body(SYSTEM, SMARTCLOUD)).await;
    let base =
        json!({"systemId": SYSTEM, "partyOrgNo": ROR_OG_VANN, "rights": [right(DEMO_RESOURCE)]});
    let with = |change: Value| {
        let mut body = base.clone();
        for (k, v) in change.as_object().unwrap() {
            body[k] = v.clone();
        }
        body
    };
    let cases = [
        (
            "unknown system",
            with(json!({"systemId": "991825827_nope"})),
            "AUTH-00011",
        ),
        (
            "unknown party",
            with(json!({"partyOrgNo": "974761077"})),
            "AUTH-00000",
        ),
        (
            "no redirect match",
            with(json!({"redirectUrl": "https://evil.example/done"})),
            "AUTH-00021",
        ),
        (
            "nothing requested",
            with(json!({"rights": null})),
            "AUTH-00001",
        ),
        (
            "empty lists",
            with(json!({"rights": [], "accessPackages": []})),
            "AUTH-00059",
        ),
        (
            "right not offered",
            with(json!({"rights": [right("other-resource")]})),
            "AUTH-00001",
        ),
        (
            "package not offered",
            with(json!({"accessPackages": [{"urn": "urn:altinn:accesspackage:regnskap"}]})),
            "AUTH-00063",
        ),
        (
            "client-only package",
            with(
                json!({"accessPackages": [{"urn": "urn:altinn:accesspackage:regnskapsforer-med-signeringsrettighet"}]}),
            ),
            "AUTH-00064",
        ),
    ];
    for (case, body, code) in cases {
        let (status, answer) = request(&api, body).await;
        assert!(status.is_client_error(), "{case}: {status} {answer}");
        assert_eq!(answer["code"], code, "{case}: {answer}");
    }
    let (status, answer) = api
        .post(
            "systemuser/request/vendor/agent",
            json!({"systemId": SYSTEM, "partyOrgNo": ROR_OG_VANN}),
        )
        .await;
    assert_eq!(
        (status, answer["code"].clone()),
        (StatusCode::BAD_REQUEST, json!("AUTH-00058"))
    );
    // A token without a consumer organisation (AUTH-00023).
    let personal = Api {
        server: &server,
        token: server
            .personal_token(PIA, "altinn:authentication/systemuser.request.write")
            .await
            .unwrap(),
    };
    let (status, answer) = request(&personal, base.clone()).await;
    assert_eq!(
        (status, answer["code"].clone()),
        (StatusCode::UNAUTHORIZED, json!("AUTH-00023"))
    );
    // A system without redirect URLs (AUTH-00026).
    let mut bare = system_body("991825827_bare", SMARTCLOUD);
    bare["allowedRedirectUrls"] = json!([]);
    register(&api, bare).await;
    let (_, answer) = request(
        &api,
        with(json!({"systemId": "991825827_bare", "redirectUrl": "https://tester.example/done"})),
    )
    .await;
    assert_eq!(answer["code"], "AUTH-00026");
    // Created once; posting again returns the same request with 200.
    let (status, first) = request(
        &api,
        with(json!({"redirectUrl": "https://tester.example/done?x=1"})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{first}");
    assert_eq!(first["integrationTitle"], "Tester");
    let (status, again) = request(&api, base.clone()).await;
    assert_eq!(
        (status, again["id"].clone()),
        (StatusCode::OK, first["id"].clone())
    );
    let id = first["id"].as_str().unwrap();
    let (_, by_ref) = api
        .get(&format!(
            "systemuser/request/vendor/byexternalref/{SYSTEM}/{ROR_OG_VANN}/{ROR_OG_VANN}"
        ))
        .await;
    assert_eq!(by_ref["id"], id);
    let (_, page) = api
        .get(&format!("systemuser/request/vendor/bysystem/{SYSTEM}"))
        .await;
    assert_eq!(page["data"].as_array().unwrap().len(), 1);
    assert_eq!(page["links"]["next"], Value::Null);
    // The standard id is not an agent request (AUTH-00030).
    assert_eq!(
        api.get(&format!("systemuser/request/vendor/agent/{id}"))
            .await
            .1["code"],
        "AUTH-00030"
    );
    // Deleting frees the key; a deleted request is gone (AUTH-00010).
    assert_eq!(
        api.send(
            Method::DELETE,
            &format!("systemuser/request/vendor/{id}"),
            None
        )
        .await
        .0,
        StatusCode::ACCEPTED
    );
    assert_eq!(
        api.get(&format!("systemuser/request/vendor/{id}")).await.1["code"],
        "AUTH-00010"
    );
    assert_eq!(request(&api, base).await.0, StatusCode::CREATED);
}

async fn vendors_cannot_see_each_others_requests_and_users(server: TestServer) {
    let smartcloud = vendor(&server, SMARTCLOUD).await;
    let other = vendor(&server, OTHER_VENDOR).await;
    register(&smartcloud, system_body(SYSTEM, SMARTCLOUD)).await;
    let id = new_request(&smartcloud, "iso-1").await;
    for path in [
        format!("systemuser/request/vendor/{id}"),
        format!("systemuser/request/vendor/byexternalref/{SYSTEM}/{ROR_OG_VANN}/iso-1"),
        format!("systemuser/request/vendor/bysystem/{SYSTEM}"),
        format!("systemuser/vendor/bysystem/{SYSTEM}"),
        format!(
            "systemuser/vendor/byquery?system-id={SYSTEM}&orgno={ROR_OG_VANN}&external-ref=iso-1"
        ),
    ] {
        let (status, body) = other.get(&path).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}: {body}");
        assert_eq!(body["code"], "AUTH-00011", "{path}");
    }
    // The reference let any vendor delete any request; here only its vendor may.
    let (status, _) = other
        .send(
            Method::DELETE,
            &format!("systemuser/request/vendor/{id}"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(
        smartcloud
            .get(&format!("systemuser/request/vendor/{id}"))
            .await
            .1["status"],
        "New"
    );
    // Another vendor cannot create a request for SmartCloud's system either.
    let (_, body) = request(
        &other,
        json!({"systemId": SYSTEM, "partyOrgNo": ROR_OG_VANN, "rights": [right(DEMO_RESOURCE)]}),
    )
    .await;
    assert_eq!(body["code"], "AUTH-00011");
    // Once approved, the user is visible to its vendor only.
    let pia = person(&server, PIA).await;
    assert_eq!(
        pia.post(
            &format!("systemuser/request/{ROR}/{id}/approve"),
            json!(null)
        )
        .await
        .1,
        true
    );
    let (_, found) = smartcloud
        .get(&format!(
            "systemuser/vendor/byquery?system-id={SYSTEM}&orgno={ROR_OG_VANN}&external-ref=iso-1"
        ))
        .await;
    assert_eq!(found["id"], id.as_str());
    assert_eq!(found["productName"], SYSTEM);
    let (_, page) = smartcloud
        .get(&format!("systemuser/vendor/bysystem/{SYSTEM}"))
        .await;
    assert_eq!(page["data"][0]["id"], id.as_str());
    // Change requests for it are the vendor's alone.
    let (status, _) = other
        .post(
            &format!(
                "systemuser/changerequest/vendor?correlation-id={}&system-user-id={id}",
                uuid::Uuid::new_v4()
            ),
            json!({"requiredAccessPackages": [{"urn": "urn:altinn:accesspackage:skatt-naering"}]}),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

async fn approval_codes_and_all_or_nothing_delegation_check(server: TestServer) {
    let api = vendor(&server, SMARTCLOUD).await;
    register(&api, system_body(SYSTEM, SMARTCLOUD)).await;
    let id = new_request(&api, "appr-1").await;
    let pia = person(&server, PIA).await;
    let ola = person(&server, OLA).await;
    let bernt = person(&server, systembruker_http::demo::BERNT).await;
    // Bernt has no relation to Rør og Vann: he may not even see the request (AUTH-00066).
    assert_eq!(
        bernt.get(&format!("systemuser/request/{id}")).await.1["code"],
        "AUTH-00066"
    );
    assert_eq!(
        bernt
            .post(
                &format!("systemuser/request/{ROR}/{id}/escalate"),
                json!(null)
            )
            .await
            .1,
        false
    );
    // Pia's view says she may approve; the party in the route must be the request's (AUTH-00041).
    assert_eq!(
        pia.get(&format!("systemuser/request/{id}")).await.1["userMayEscalateButNotApprove"],
        false
    );
    let bakeriet_party = 70_000_005;
    let (status, body) = pia
        .post(
            &format!("systemuser/request/{bakeriet_party}/{id}/approve"),
            json!(null),
        )
        .await;
    assert_eq!(
        (status, body["code"].clone()),
        (StatusCode::FORBIDDEN, json!("AUTH-00066")),
        "Pia is not access manager of Bakeriet"
    );
    let (_, body) = bernt
        .post(
            &format!("systemuser/request/{bakeriet_party}/{id}/approve"),
            json!(null),
        )
        .await;
    assert_eq!(
        body["code"], "AUTH-00041",
        "Bernt manages Bakeriet, but the request is for Rør og Vann"
    );
    // Reject, then a second answer is 409 (AUTH-00013).
    assert_eq!(
        ola.post(
            &format!("systemuser/request/{ROR}/{id}/reject"),
            json!(null)
        )
        .await
        .1["code"],
        "AUTH-00066"
    );
    assert_eq!(
        pia.post(
            &format!("systemuser/request/{ROR}/{id}/reject"),
            json!(null)
        )
        .await
        .1,
        true
    );
    let (status, body) = pia
        .post(
            &format!("systemuser/request/{ROR}/{id}/approve"),
            json!(null),
        )
        .await;
    assert_eq!(
        (status, body["code"].clone()),
        (StatusCode::CONFLICT, json!("AUTH-00013"))
    );
    assert_eq!(
        api.get(&format!("systemuser/request/vendor/{id}")).await.1["status"],
        "Rejected"
    );
    // A right nobody may delegate: the check names it, and nothing is created.
    let owner = Api {
        server: &server,
        token: server
            .enterprise_token(SKATTEETATEN, "altinn:resourceregistry/resource.write")
            .await
            .unwrap(),
    };
    let (status, _) = owner.post("/resourceregistry/api/v1/resource", json!({
        "identifier": "ikke-delegerbar", "title": {"nb": "a", "nn": "b", "en": "c"}, "description": {"nb": "a", "nn": "b", "en": "c"},
        "resourceType": "GenericAccessResource", "delegable": false,
        "hasCompetentAuthority": {"organization": SKATTEETATEN}})).await;
    assert_eq!(status, StatusCode::CREATED);
    let mut locked = system_body("991825827_locked", SMARTCLOUD);
    locked["rights"] = json!([right(DEMO_RESOURCE), right("ikke-delegerbar")]);
    register(&api, locked).await;
    let (status, body) = request(
        &api,
        json!({"systemId": "991825827_locked", "partyOrgNo": ROR_OG_VANN,
        "rights": [right(DEMO_RESOURCE), right("ikke-delegerbar")]}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let locked_id = body["id"].as_str().unwrap();
    let (status, body) = pia
        .post(
            &format!("systemuser/request/{ROR}/{locked_id}/approve"),
            json!(null),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(body["code"], "AUTH-00070");
    assert_eq!(body["failures"][0]["name"], "ikke-delegerbar");
    assert_eq!(
        body["failures"].as_array().unwrap().len(),
        1,
        "the delegable right passed: {body}"
    );
    assert_eq!(
        api.get(&format!("systemuser/request/vendor/{locked_id}"))
            .await
            .1["status"],
        "New"
    );
    let (_, users) = pia.get(&format!("systemuser/{ROR}")).await;
    assert_eq!(users, json!([]), "nothing was created");
    // Someone else's system user cannot be deleted through another party (AUTH-00015/24).
    let ok = new_request(&api, "appr-2").await;
    assert_eq!(
        pia.post(
            &format!("systemuser/request/{ROR}/{ok}/approve"),
            json!(null)
        )
        .await
        .1,
        true
    );
    let (status, body) = bernt
        .send(
            Method::DELETE,
            &format!("systemuser/{bakeriet_party}/{ok}"),
            None,
        )
        .await;
    assert_eq!(
        (status, body["code"].clone()),
        (StatusCode::FORBIDDEN, json!("AUTH-00024"))
    );
    assert_eq!(
        pia.get(&format!("systemuser/{bakeriet_party}/{ok}"))
            .await
            .0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        pia.get(&format!("systemuser/{ROR}/{}", uuid::Uuid::new_v4()))
            .await
            .1["code"],
        "AUTH-00015"
    );
    // A request for a key that already has a system user (AUTH-00004).
    let (_, body) = request(&api, json!({"systemId": SYSTEM, "partyOrgNo": ROR_OG_VANN, "externalRef": "appr-2", "rights": [right(DEMO_RESOURCE)]})).await;
    assert_eq!(body["code"], "AUTH-00004");
}

async fn concurrent_approvals_give_one_system_user(server: TestServer) {
    let api = vendor(&server, SMARTCLOUD).await;
    register(&api, system_body(SYSTEM, SMARTCLOUD)).await;
    let id = new_request(&api, "race").await;
    let token = server.personal_token(PIA, PORTAL).await.unwrap();
    let url = server.at(&format!(
        "/authentication/api/v1/systemuser/request/{ROR}/{id}/approve"
    ));
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let (url, token) = (url.clone(), token.clone());
            tokio::spawn(async move {
                let response = Client::new()
                    .post(url)
                    .bearer_auth(token)
                    .send()
                    .await
                    .unwrap();
                let status = response.status();
                (status, response.json::<Value>().await.unwrap())
            })
        })
        .collect();
    let mut outcomes = Vec::new();
    for task in tasks {
        outcomes.push(task.await.unwrap());
    }
    let ok = outcomes
        .iter()
        .filter(|(s, _)| *s == StatusCode::OK)
        .count();
    let conflicts = outcomes
        .iter()
        .filter(|(s, b)| *s == StatusCode::CONFLICT && b["code"] == "AUTH-00013")
        .count();
    assert_eq!((ok, conflicts), (1, 7), "{outcomes:?}");
    let pia = person(&server, PIA).await;
    assert_eq!(
        pia.get(&format!("systemuser/{ROR}"))
            .await
            .1
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

async fn end_user_creation_and_lookups(server: TestServer) {
    let api = vendor(&server, SMARTCLOUD).await;
    let mut body = system_body(SYSTEM, SMARTCLOUD);
    body["accessPackages"] = json!([{"urn": "urn:altinn:accesspackage:skatt-naering"}]);
    register(&api, body).await;
    let pia = person(&server, PIA).await;
    let ola = person(&server, OLA).await;
    let path = format!("systemuser/{ROR}/create");
    assert_eq!(
        ola.post(&path, json!({"systemId": SYSTEM})).await.1["code"],
        "AUTH-00066"
    );
    assert_eq!(
        pia.post(&path, json!({"systemId": "991825827_nope"}))
            .await
            .1["code"],
        "AUTH-00011"
    );
    let (status, user) = pia
        .post(
            &path,
            json!({"systemId": SYSTEM, "integrationTitle": "Mitt regnskap"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{user}");
    assert_eq!(user["integrationTitle"], "Mitt regnskap");
    assert_eq!(user["externalRef"], ROR_OG_VANN);
    assert_eq!(
        pia.post(&path, json!({"systemId": SYSTEM})).await.1["code"],
        "AUTH-00004"
    );
    let id = user["id"].as_str().unwrap();
    let (_, delegations) = pia.get(&format!("systemuser/{ROR}/{id}/delegations")).await;
    assert_eq!(
        delegations["accessPackages"],
        json!([{"urn": "urn:altinn:accesspackage:skatt-naering"}])
    );
    assert_eq!(
        delegations["rights"][0]["resource"][0]["value"],
        DEMO_RESOURCE
    );
    // Maskinporten's lookup needs its scope and all three parameters.
    let client_id = api.get(&format!("systemregister/vendor/{SYSTEM}")).await.1["clientId"][0]
        .as_str()
        .unwrap()
        .to_string();
    let mp = Api {
        server: &server,
        token: server
            .enterprise_token(SKATTEETATEN, "altinn:maskinporten/systemuser.read")
            .await
            .unwrap(),
    };
    let query = format!(
        "systemuser/byExternalId?clientId={client_id}&systemProviderOrgNo={SMARTCLOUD}&systemUserOwnerOrgNo={ROR_OG_VANN}"
    );
    let (status, found) = mp.get(&query).await;
    assert_eq!(status, StatusCode::OK, "{found}");
    assert_eq!(
        (found["id"].clone(), found["productName"].clone()),
        (json!(id), json!(SYSTEM))
    );
    assert_eq!(
        api.get(&query).await.0,
        StatusCode::FORBIDDEN,
        "vendors lack the lookup scope"
    );
    let missing =
        format!("systemuser/byExternalId?clientId={client_id}&systemProviderOrgNo={SMARTCLOUD}");
    assert_eq!(mp.get(&missing).await.0, StatusCode::BAD_REQUEST);
    let wrong_ref = format!("{query}&externalRef=other");
    assert_eq!(mp.get(&wrong_ref).await.1["code"], "AUTH-00015");
    let other_owner = format!(
        "systemuser/byExternalId?clientId={client_id}&systemProviderOrgNo={SMARTCLOUD}&systemUserOwnerOrgNo={BAKERIET}"
    );
    assert_eq!(mp.get(&other_owner).await.0, StatusCode::NOT_FOUND);
    // Only the access manager deletes; afterwards the lookup finds nothing.
    assert_eq!(
        ola.send(Method::DELETE, &format!("systemuser/{ROR}/{id}"), None)
            .await
            .1["code"],
        "AUTH-00066"
    );
    assert_eq!(
        pia.send(Method::DELETE, &format!("systemuser/{ROR}/{id}"), None)
            .await
            .0,
        StatusCode::ACCEPTED
    );
    assert_eq!(mp.get(&query).await.0, StatusCode::NOT_FOUND);
    assert_eq!(
        pia.send(Method::DELETE, &format!("systemuser/{ROR}/{id}"), None)
            .await
            .1["code"],
        "AUTH-00015"
    );
}

async fn change_requests_are_checked_and_applied_once(server: TestServer) {
    let api = vendor(&server, SMARTCLOUD).await;
    register(&api, system_body(SYSTEM, SMARTCLOUD)).await;
    let pia = person(&server, PIA).await;
    let id = new_request(&api, "change").await;
    assert_eq!(
        pia.post(
            &format!("systemuser/request/{ROR}/{id}/approve"),
            json!(null)
        )
        .await
        .1,
        true
    );
    let create = |correlation: &str| {
        format!("systemuser/changerequest/vendor?correlation-id={correlation}&system-user-id={id}")
    };
    let (status, none) = api
        .post(&create(&uuid::Uuid::new_v4().to_string()), json!({}))
        .await;
    assert_eq!(
        (status, none["status"].clone(), none["confirmUrl"].clone()),
        (StatusCode::OK, json!("NoChangeNeeded"), json!(""))
    );
    assert_eq!(
        api.post(&create(&id), json!({})).await.0,
        StatusCode::BAD_REQUEST,
        "correlation id = system user id"
    );
    let bad = json!({"requiredAccessPackages": [{"urn": "urn:altinn:accesspackage:regnskap"}]});
    assert_eq!(
        api.post(&create(&uuid::Uuid::new_v4().to_string()), bad)
            .await
            .1["code"],
        "AUTH-00063"
    );
    let bad = json!({"requiredRights": [right("other")]});
    assert_eq!(
        api.post(&create(&uuid::Uuid::new_v4().to_string()), bad)
            .await
            .1["code"],
        "AUTH-00001"
    );
    let bad = json!({"requiredAccessPackages": [{"urn": "urn:altinn:accesspackage:skatt-naering"}], "redirectUrl": "https://evil.example/"});
    assert_eq!(
        api.post(&create(&uuid::Uuid::new_v4().to_string()), bad)
            .await
            .1["code"],
        "AUTH-00021"
    );
    let correlation = uuid::Uuid::new_v4().to_string();
    let change = json!({"requiredAccessPackages": [{"urn": "urn:altinn:accesspackage:skatt-naering"}], "unwantedRights": [right(DEMO_RESOURCE)]});
    let (status, stored) = api.post(&create(&correlation), change.clone()).await;
    assert_eq!(status, StatusCode::CREATED, "{stored}");
    assert!(
        stored["confirmUrl"]
            .as_str()
            .unwrap()
            .contains("/accessmanagement/ui/systemuser/changerequest?id=")
    );
    assert_eq!(
        api.post(&create(&correlation), change).await.0,
        StatusCode::OK,
        "re-post returns it"
    );
    assert_eq!(
        api.get(&format!("systemuser/changerequest/vendor/{correlation}"))
            .await
            .1["status"],
        "New"
    );
    // The party in the route must own the system user (the reference ignored it).
    let bernt = person(&server, systembruker_http::demo::BERNT).await;
    let (status, body) = bernt
        .post(
            &format!("systemuser/changerequest/70000005/{correlation}/approve"),
            json!(null),
        )
        .await;
    assert_eq!(
        (status, body["code"].clone()),
        (StatusCode::FORBIDDEN, json!("AUTH-00041"))
    );
    assert_eq!(
        pia.post(
            &format!("systemuser/changerequest/{ROR}/{correlation}/approve"),
            json!(null)
        )
        .await
        .1,
        true
    );
    let (status, body) = pia
        .post(
            &format!("systemuser/changerequest/{ROR}/{correlation}/approve"),
            json!(null),
        )
        .await;
    assert_eq!(
        (status, body["code"].clone()),
        (StatusCode::CONFLICT, json!("AUTH-00061"))
    );
    let (_, delegations) = pia.get(&format!("systemuser/{ROR}/{id}/delegations")).await;
    assert_eq!(
        delegations["accessPackages"],
        json!([{"urn": "urn:altinn:accesspackage:skatt-naering"}])
    );
    assert_eq!(delegations["rights"], json!([]));
    assert_eq!(
        pia.get(&format!("systemuser/changerequest/{correlation}"))
            .await
            .0,
        StatusCode::OK
    );
    // Tina is related through Tallmakerne's REGN role, but reading Rør og Vann's change
    // requests needs read on altinn_access_management for it.
    let tina = person(&server, TINA).await;
    let (status, body) = tina
        .get(&format!("systemuser/changerequest/{correlation}"))
        .await;
    assert_eq!(
        (status, body["code"].clone()),
        (StatusCode::FORBIDDEN, json!("AUTH-00066"))
    );
}

async fn history_is_exposed_to_operators(server: TestServer) {
    let api = vendor(&server, SMARTCLOUD).await;
    register(&api, system_body(SYSTEM, SMARTCLOUD)).await;
    let id = new_request(&api, "hist").await;
    let pia = person(&server, PIA).await;
    assert_eq!(
        pia.post(
            &format!("systemuser/request/{ROR}/{id}/approve"),
            json!(null)
        )
        .await
        .1,
        true
    );
    let admin = Api {
        server: &server,
        token: ADMIN_TOKEN.to_string(),
    };
    let (status, rows) = admin
        .get(&format!(
            "/admin/api/v1/history?entity=request&entityId={id}"
        ))
        .await;
    assert_eq!(status, StatusCode::OK);
    let actions: Vec<&str> = rows
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["create", "approve"]);
    assert_eq!(rows[1]["actor"], "userId:70000011");
    assert_eq!(rows[1]["before"]["status"], "New");
    let (_, users) = admin
        .get(&format!(
            "/admin/api/v1/history?entity=system_user&entityId={id}"
        ))
        .await;
    assert_eq!(
        users[0]["after"]["grants"]["rights"][0]["resourceId"],
        DEMO_RESOURCE
    );
    assert_eq!(
        api.get("/admin/api/v1/history").await.0,
        StatusCode::FORBIDDEN
    );
}

/// A policy that permits `read` of `resource` to holders of the role DAGL only.
fn dagl_only_policy(resource: &str) -> String {
    format!(
        r#"<xacml:Policy xmlns:xacml="urn:oasis:names:tc:xacml:3.0:core:schema:wd-17" PolicyId="urn:test:{resource}" Version="1"
  RuleCombiningAlgId="urn:oasis:names:tc:xacml:3.0:rule-combining-algorithm:deny-overrides"><xacml:Target/>
  <xacml:Rule RuleId="r1" Effect="Permit"><xacml:Target>
    <xacml:AnyOf><xacml:AllOf><xacml:Match MatchId="urn:oasis:names:tc:xacml:3.0:function:string-equal-ignore-case">
      <xacml:AttributeValue DataType="http://www.w3.org/2001/XMLSchema#string">DAGL</xacml:AttributeValue>
      <xacml:AttributeDesignator AttributeId="urn:altinn:rolecode" Category="urn:oasis:names:tc:xacml:1.0:subject-category:access-subject" DataType="http://www.w3.org/2001/XMLSchema#string" MustBePresent="false"/>
    </xacml:Match></xacml:AllOf></xacml:AnyOf>
    <xacml:AnyOf><xacml:AllOf><xacml:Match MatchId="urn:oasis:names:tc:xacml:1.0:function:string-equal">
      <xacml:AttributeValue DataType="http://www.w3.org/2001/XMLSchema#string">{resource}</xacml:AttributeValue>
      <xacml:AttributeDesignator AttributeId="urn:altinn:resource" Category="urn:oasis:names:tc:xacml:3.0:attribute-category:resource" DataType="http://www.w3.org/2001/XMLSchema#string" MustBePresent="false"/>
    </xacml:Match></xacml:AllOf></xacml:AnyOf>
    <xacml:AnyOf><xacml:AllOf><xacml:Match MatchId="urn:oasis:names:tc:xacml:1.0:function:string-equal">
      <xacml:AttributeValue DataType="http://www.w3.org/2001/XMLSchema#string">read</xacml:AttributeValue>
      <xacml:AttributeDesignator AttributeId="urn:oasis:names:tc:xacml:1.0:action:action-id" Category="urn:oasis:names:tc:xacml:3.0:attribute-category:action" DataType="http://www.w3.org/2001/XMLSchema#string" MustBePresent="false"/>
    </xacml:Match></xacml:AllOf></xacml:AnyOf>
  </xacml:Target></xacml:Rule></xacml:Policy>"#
    )
}

/// Creates a resource owned by Skatteetaten whose policy permits DAGL only.
async fn create_dagl_only_resource(server: &TestServer, id: &str) {
    let client = Client::new();
    let resource = json!({
        "identifier": id,
        "title": {"nb": "Rolle", "nn": "Rolle", "en": "Role"},
        "description": {"nb": "a", "nn": "b", "en": "c"},
        "rightDescription": {"nb": "a", "nn": "b", "en": "c"},
        "resourceType": "GenericAccessResource",
        "hasCompetentAuthority": {"organization": SKATTEETATEN}
    });
    let r = client
        .post(server.at("/resourceregistry/api/v1/resource"))
        .bearer_auth(ADMIN_TOKEN)
        .json(&resource)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let r = client
        .post(server.at(&format!("/resourceregistry/api/v1/resource/{id}/policy")))
        .bearer_auth(ADMIN_TOKEN)
        .body(dagl_only_policy(id))
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        StatusCode::CREATED,
        "{}",
        r.text().await.unwrap()
    );
}

async fn access_manager_without_the_rights_fails_the_delegation_check(server: TestServer) {
    // Pia makes Ola access manager of Rør og Vann. He holds skatt-naering (demo
    // delegation, not re-delegable) but not the role DAGL.
    let pia = person(&server, PIA).await;
    let (status, body) = pia
        .send(
            Method::POST,
            &format!(
                "/accessmanagement/api/v1/enduser/connections/accesspackages?party={ROR_OG_VANN}&to={OLA}&package=tilgangsstyrer"
            ),
            None,
        )
        .await;
    assert!(status.is_success(), "{status} {body}");
    let ola = person(&server, OLA).await;
    let role_resource = "ske-rolle-test";
    create_dagl_only_resource(&server, role_resource).await;
    let api = vendor(&server, SMARTCLOUD).await;
    let mut system = system_body(SYSTEM, SMARTCLOUD);
    system["rights"] = json!([right(DEMO_RESOURCE), right(role_resource)]);
    register(&api, system).await;

    let ask = |external_ref: &str, body: Value| {
        let mut body = body;
        body["systemId"] = json!(SYSTEM);
        body["partyOrgNo"] = json!(ROR_OG_VANN);
        body["externalRef"] = json!(external_ref);
        request(&api, body)
    };
    let (_, by_package) = ask("dc-right", json!({"rights": [right(DEMO_RESOURCE)]})).await;
    let (_, by_role) = ask("dc-role", json!({"rights": [right(role_resource)]})).await;
    let (_, package) = ask(
        "dc-package",
        json!({"accessPackages": [{"urn": "urn:altinn:accesspackage:skatt-naering"}]}),
    )
    .await;
    for (req, code, named) in [
        (&by_package, "AUTH-00068", DEMO_RESOURCE),
        (&by_role, "AUTH-00016", role_resource),
        (
            &package,
            "AUTH-00053",
            "urn:altinn:accesspackage:skatt-naering",
        ),
    ] {
        let id = req["id"].as_str().unwrap();
        let (status, body) = ola
            .post(
                &format!("systemuser/request/{ROR}/{id}/approve"),
                json!(null),
            )
            .await;
        assert!(status.is_client_error(), "{status} {body}");
        assert_eq!(body["code"], code, "{body}");
        assert_eq!(body["failures"][0]["name"], named, "{body}");
        // Nothing was created: the request is still New and has no system user.
        let (_, now) = api.get(&format!("systemuser/request/vendor/{id}")).await;
        assert_eq!(now["status"], "New");
    }
    let (_, users) = pia.get(&format!("systemuser/{ROR}")).await;
    assert_eq!(users.as_array().map(Vec::len), Some(0), "{users}");
    // Pia holds everything: she may approve all three.
    for req in [&by_package, &by_role, &package] {
        let id = req["id"].as_str().unwrap();
        let (status, body) = pia
            .post(
                &format!("systemuser/request/{ROR}/{id}/approve"),
                json!(null),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
}

async fn agent_users_are_not_deleted_by_the_standard_route(server: TestServer) {
    let api = vendor(&server, SMARTCLOUD).await;
    register(&api, system_body(SYSTEM, SMARTCLOUD)).await;
    let tallmakerne = systembruker_http::demo::TALLMAKERNE;
    let tallmakerne_party = 70_000_004;
    let (status, agent_request) = api
        .post(
            "systemuser/request/vendor/agent",
            json!({"systemId": SYSTEM, "partyOrgNo": tallmakerne,
                   "accessPackages": [{"urn": "urn:altinn:accesspackage:regnskapsforer-med-signeringsrettighet"}]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{agent_request}");
    let id = agent_request["id"].as_str().unwrap();
    let tina = person(&server, TINA).await;
    let (status, body) = tina
        .post(
            &format!("systemuser/request/agent/{tallmakerne_party}/{id}/approve"),
            json!(null),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = tina
        .send(
            Method::DELETE,
            &format!("systemuser/{tallmakerne_party}/{id}"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["code"], "AUTH-00036");
    let (_, agents) = tina
        .get(&format!("systemuser/agent/{tallmakerne_party}"))
        .await;
    assert_eq!(agents.as_array().map(Vec::len), Some(1), "{agents}");
}

/// A Maskinporten client of `org`, made through the operator API; returns its id.
async fn client_of(server: &TestServer, org: &str) -> String {
    let response = Client::new()
        .post(server.at("/admin/api/v1/maskinporten/clients"))
        .bearer_auth(ADMIN_TOKEN)
        .json(&json!({"client_name": "Theirs", "consumer_org": org, "scopes": []}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    let client: Value = response.json().await.unwrap();
    client["client_id"].as_str().unwrap().to_string()
}

/// Issue 14: a vendor that puts another organisation's client id on its system would
/// block the client's owner (AUTH.VLD-00004 for the owner); it is refused with
/// AUTH.VLD-00020 on create and on replace, and the owner can still use its client.
async fn a_vendor_may_name_only_its_own_clients(server: TestServer) {
    let other_client = client_of(&server, OTHER_VENDOR).await;
    let own_client = client_of(&server, SMARTCLOUD).await;
    let smartcloud = vendor(&server, SMARTCLOUD).await;
    let mut claiming = system_body(SYSTEM, SMARTCLOUD);
    claiming["clientId"] = json!([other_client]);
    let (status, body) = smartcloud.post("systemregister/vendor", claiming).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(codes(&body), ["AUTH.VLD-00020"], "{body}");
    assert_eq!(body["errors"][0]["paths"], json!(["/clientId/0"]));
    // Its own client is fine; swapping in the other's on replace is refused.
    let mut own = system_body(SYSTEM, SMARTCLOUD);
    own["clientId"] = json!([own_client]);
    register(&smartcloud, own.clone()).await;
    own["clientId"] = json!([own_client, other_client]);
    let path = format!("systemregister/vendor/{SYSTEM}");
    let (status, body) = smartcloud.send(Method::PUT, &path, Some(own)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(codes(&body), ["AUTH.VLD-00020"], "{body}");
    // The owner registers its client on its own system.
    let owner = vendor(&server, OTHER_VENDOR).await;
    let mut theirs = system_body(&format!("{OTHER_VENDOR}_theirs"), OTHER_VENDOR);
    theirs["clientId"] = json!([other_client]);
    register(&owner, theirs).await;
}
