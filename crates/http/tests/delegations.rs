//! End-user delegation API and delegation checks with the demo data, on SQLite and
//! PostgreSQL, with tokens from the dev test tools.
#![allow(clippy::unwrap_used)]

use serde_json::{Value, json};
use systembruker_http::demo::{BAKERIET, BERNT, DEMO_RESOURCE, OLA, PIA, ROR_OG_VANN, TALLMAKERNE};
use systembruker_http::server_tests;
use systembruker_http::testing::{ADMIN_TOKEN, TestServer};

server_tests!(
    pia_may_delegate_the_package_and_the_right_and_ola_may_not,
    delegating_and_revoking_through_the_api_changes_decisions,
    only_access_managers_of_the_party_may_delegate,
    bad_parameters_are_400_naming_the_parameter,
);

const ENDUSER: &str = "altinn:portal/enduser";
const CONNECTIONS: &str = "/accessmanagement/api/v1/enduser/connections";

async fn token(server: &TestServer, pid: &str) -> String {
    server.personal_token(pid, ENDUSER).await.unwrap()
}

async fn call(
    server: &TestServer,
    method: reqwest::Method,
    token: &str,
    path: &str,
    query: &[(&str, &str)],
) -> (u16, Value) {
    let response = reqwest::Client::new()
        .request(method, server.at(path))
        .bearer_auth(token)
        .query(query)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

async fn get(server: &TestServer, token: &str, path: &str, query: &[(&str, &str)]) -> (u16, Value) {
    call(server, reqwest::Method::GET, token, path, query).await
}

async fn pia_may_delegate_the_package_and_the_right_and_ola_may_not(server: TestServer) {
    let check = format!("{CONNECTIONS}/accesspackages/delegationcheck");
    let pia = token(&server, PIA).await;
    let query = [
        ("party", ROR_OG_VANN),
        ("packages", "urn:altinn:accesspackage:skatt-naering"),
        ("packages", "regnskapsforer-med-signeringsrettighet"),
    ];
    let (status, body) = get(&server, &pia, &check, &query).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body[0]["package"]["code"], "skatt-naering");
    assert_eq!(body[0]["result"], true);
    assert_eq!(body[0]["reasons"][0]["description"], "Direct-RolePackage");
    assert_eq!(body[0]["reasons"][0]["grant"]["role"], "daglig-leder");
    // ER-only packages are not assignable: nobody may delegate them.
    assert_eq!(body[1]["result"], false);
    assert_eq!(body[1]["reasons"][0]["description"], "NoAccess");

    let ola = token(&server, OLA).await;
    let (status, body) = get(&server, &ola, &check, &query[..2]).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body[0]["result"], false, "{body}");
    assert_eq!(body[0]["reasons"][0]["description"], "NoAccess");

    let rights = format!("{CONNECTIONS}/resources/delegationcheck");
    let query = [("party", ROR_OG_VANN), ("resource", DEMO_RESOURCE)];
    let (status, body) = get(&server, &pia, &rights, &query).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["resource"], DEMO_RESOURCE);
    let read = &body["rights"][0];
    assert_eq!(read["right"]["key"], "ske-krav-og-betalinger:read");
    assert_eq!(read["result"], true);
    assert_eq!(read["reasonCodes"], json!(["RoleAccess", "PackageAccess"]));
    assert_eq!(read["reasons"][0]["roleCode"], "DAGL");
    assert_eq!(read["reasons"][1]["package"]["code"], "skatt-naering");

    // Ola may read (through the delegated package) but may not pass the right on.
    let (status, body) = get(&server, &ola, &rights, &query).await;
    assert_eq!(status, 200, "{body}");
    let read = &body["rights"][0];
    assert_eq!(read["result"], false, "{body}");
    assert_eq!(
        read["reasonCodes"],
        json!([
            "MissingRoleAccess",
            "MissingPackageAccess",
            "MissingDelegationAccess"
        ])
    );
}

async fn delegating_and_revoking_through_the_api_changes_decisions(server: TestServer) {
    let pia = token(&server, PIA).await;
    let path = format!("{CONNECTIONS}/accesspackages");
    // The demo delegation is listed for the giver.
    let (status, list) = get(&server, &pia, &path, &[("party", ROR_OG_VANN)]).await;
    assert_eq!(status, 200, "{list}");
    assert_eq!(list.as_array().unwrap().len(), 1, "{list}");
    assert_eq!(list[0]["package"]["code"], "skatt-naering");
    assert_eq!(list[0]["createdBy"], "demo (Pia Rørlegger)");

    // Pia gives Bernt the package for Rør og Vann: he may read now.
    let give = [
        ("party", ROR_OG_VANN),
        ("to", BERNT),
        ("package", "skatt-naering"),
    ];
    assert_eq!(pdp(&server, BERNT).await, "NotApplicable");
    let (status, body) = call(&server, reqwest::Method::POST, &pia, &path, &give).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(
        body["package"]["urn"],
        "urn:altinn:accesspackage:skatt-naering"
    );
    let (status, _) = call(&server, reqwest::Method::POST, &pia, &path, &give).await;
    assert_eq!(status, 200, "a second POST changes nothing");
    assert_eq!(pdp(&server, BERNT).await, "Permit");

    // Revoking Ola's package: his very next decision is NotApplicable.
    assert_eq!(pdp(&server, OLA).await, "Permit");
    let revoke = [
        ("party", ROR_OG_VANN),
        ("to", OLA),
        ("package", "skatt-naering"),
    ];
    let (status, body) = call(&server, reqwest::Method::DELETE, &pia, &path, &revoke).await;
    assert_eq!(status, 204, "{body}");
    assert_eq!(pdp(&server, OLA).await, "NotApplicable");
    let (status, _) = call(&server, reqwest::Method::DELETE, &pia, &path, &revoke).await;
    assert_eq!(status, 404);
}

/// The PDP's decision on `pid` reading the demo resource for Rør og Vann.
async fn pdp(server: &TestServer, pid: &str) -> String {
    let body = json!({"Request": {
        "AccessSubject": [{"Attribute": [{"AttributeId": "urn:altinn:person:identifier-no", "Value": pid}]}],
        "Action": [{"Attribute": [{"AttributeId": "urn:oasis:names:tc:xacml:1.0:action:action-id", "Value": "read"}]}],
        "Resource": [{"Attribute": [{"AttributeId": "urn:altinn:resource", "Value": DEMO_RESOURCE},
            {"AttributeId": "urn:altinn:organization:identifier-no", "Value": ROR_OG_VANN}]}]}});
    let response: Value = reqwest::Client::new()
        .post(server.at("/authorization/api/v1/authorize"))
        .bearer_auth(ADMIN_TOKEN)
        .json(&body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    response["Response"][0]["Decision"]
        .as_str()
        .unwrap()
        .to_string()
}

async fn only_access_managers_of_the_party_may_delegate(server: TestServer) {
    let path = format!("{CONNECTIONS}/accesspackages");
    let give = [
        ("party", ROR_OG_VANN),
        ("to", BERNT),
        ("package", "skatt-naering"),
    ];
    // Ola holds a package for Rør og Vann but does not manage its access.
    let ola = token(&server, OLA).await;
    let (status, body) = call(&server, reqwest::Method::POST, &ola, &path, &give).await;
    assert_eq!(status, 403, "{body}");
    assert!(body["detail"].as_str().unwrap().contains("tilgangsstyrer"));
    let (status, _) = get(&server, &ola, &path, &[("party", ROR_OG_VANN)]).await;
    assert_eq!(status, 403);
    // Bernt manages his bakery, not Rør og Vann.
    let bernt = token(&server, BERNT).await;
    let (status, _) = call(&server, reqwest::Method::POST, &bernt, &path, &give).await;
    assert_eq!(status, 403);
    // An enterprise (vendor) token is not an end user.
    let vendor = server.enterprise_token(TALLMAKERNE, ENDUSER).await.unwrap();
    let (status, _) = get(&server, &vendor, &path, &[("party", BAKERIET)]).await;
    assert_eq!(status, 403);
    // The admin token lacks the end-user scope.
    let (status, _) = get(&server, ADMIN_TOKEN, &path, &[("party", BAKERIET)]).await;
    assert_eq!(status, 403);
    // A package Pia may not delegate (ER-only) is refused with the check attached.
    let pia = token(&server, PIA).await;
    let er_only = [
        ("party", ROR_OG_VANN),
        ("to", BERNT),
        ("package", "regnskapsforer-lonn"),
    ];
    let (status, body) = call(&server, reqwest::Method::POST, &pia, &path, &er_only).await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(body["delegationCheck"]["result"], false);
}

async fn bad_parameters_are_400_naming_the_parameter(server: TestServer) {
    let pia = token(&server, PIA).await;
    let path = format!("{CONNECTIONS}/accesspackages");
    let check = format!("{CONNECTIONS}/accesspackages/delegationcheck");
    let rights = format!("{CONNECTIONS}/resources/delegationcheck");
    type Case<'a> = (&'a str, Vec<(&'a str, &'a str)>, &'a str);
    let cases: [Case; 6] = [
        (path.as_str(), vec![], "party"),
        (path.as_str(), vec![("party", "12345")], "party"),
        (check.as_str(), vec![("party", ROR_OG_VANN)], "packages"),
        (
            check.as_str(),
            vec![("party", ROR_OG_VANN), ("packages", "no-such-package")],
            "packages",
        ),
        (rights.as_str(), vec![("party", ROR_OG_VANN)], "resource"),
        (
            path.as_str(),
            vec![("party", ROR_OG_VANN), ("to", "not-a-party")],
            "to",
        ),
    ];
    for (url, query, parameter) in cases {
        let method = if parameter == "to" {
            reqwest::Method::POST
        } else {
            reqwest::Method::GET
        };
        let (status, body) = call(&server, method, &pia, url, &query).await;
        assert_eq!(status, 400, "{url} {query:?}: {body}");
        assert_eq!(body["errors"][0]["paths"][0], parameter, "{body}");
    }
    let (status, _) = get(
        &server,
        &pia,
        &rights,
        &[("party", ROR_OG_VANN), ("resource", "nope")],
    )
    .await;
    assert_eq!(status, 404);
}
