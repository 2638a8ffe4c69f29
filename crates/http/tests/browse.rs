//! Browsing the catalogue (`/accessmanagement/api/v1/meta/info/…`) and the resource
//! registry (`/resourceregistry/api/v1/resource/…`) as their public consumers do, on
//! SQLite and PostgreSQL, with the demo resource `ske-krav-og-betalinger` (its policy
//! names DAGL and the packages `skatt-naering` and `regnskapsforer-med-signeringsrettighet`).
#![allow(clippy::unwrap_used)]

use reqwest::{Client, StatusCode};
use serde_json::{Value, json};
use systembruker_http::demo::{DEMO_RESOURCE, SKATTEETATEN};
use systembruker_http::testing::TestServer;

systembruker_http::server_tests!(
    area_groups_areas_and_packages_are_browsed_by_id,
    packages_are_found_by_search,
    a_package_lists_the_resources_that_name_it,
    roles_are_listed_and_found,
    resources_are_searched_by_their_fields,
    a_policy_is_read_as_subjects_and_flat_rules,
    resources_are_found_by_the_subjects_they_name,
    the_updated_feed_pages_with_a_token,
    the_owners_and_the_export_list_the_registry,
);

const META: &str = "/accessmanagement/api/v1/meta/info";
const REGISTRY: &str = "/resourceregistry/api/v1/resource";

async fn get(server: &TestServer, path: &str) -> (StatusCode, Value) {
    let response = Client::new()
        .get(server.at(path))
        .header("Accept-Language", "en")
        .send()
        .await
        .unwrap();
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn ok(server: &TestServer, path: &str) -> Value {
    let (status, body) = get(server, path).await;
    assert_eq!(status, StatusCode::OK, "{path}: {body}");
    body
}

async fn area_groups_areas_and_packages_are_browsed_by_id(server: TestServer) {
    let groups = ok(&server, &format!("{META}/accesspackages/group")).await;
    assert_eq!(groups.as_array().unwrap().len(), 5, "{groups}");
    let general = groups
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["urn"] == "General")
        .unwrap();
    let id = general["id"].as_str().unwrap();
    assert_eq!(
        ok(&server, &format!("{META}/accesspackages/group/{id}")).await["name"],
        general["name"]
    );
    // The reference's trailing-slash form of the list.
    assert_eq!(
        ok(&server, &format!("{META}/accesspackages/group/")).await,
        groups
    );
    let areas = ok(&server, &format!("{META}/accesspackages/group/{id}/areas")).await;
    let area = &areas[0];
    assert_eq!(area["groupId"], id);
    let area_id = area["id"].as_str().unwrap();
    assert_eq!(
        ok(&server, &format!("{META}/accesspackages/area/{area_id}")).await["urn"],
        area["urn"]
    );
    let packages = ok(
        &server,
        &format!("{META}/accesspackages/area/{area_id}/packages"),
    )
    .await;
    let package = &packages[0];
    assert_eq!(package["areaId"], area_id);
    let package_id = package["id"].as_str().unwrap();
    let found = ok(
        &server,
        &format!("{META}/accesspackages/package/{package_id}"),
    )
    .await;
    assert_eq!(found["code"], package["code"]);

    // Unknown ids are 404, ids that are no uuid 400, each as problem JSON.
    let unknown = uuid::Uuid::new_v4();
    for path in [
        format!("group/{unknown}"),
        format!("group/{unknown}/areas"),
        format!("area/{unknown}"),
        format!("area/{unknown}/packages"),
        format!("package/{unknown}"),
        format!("package/{unknown}/resources"),
    ] {
        let (status, body) = get(&server, &format!("{META}/accesspackages/{path}")).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}: {body}");
        assert!(body["code"].is_string(), "{body}");
    }
    for path in ["group/x", "area/x/packages", "package/x"] {
        let (status, body) = get(&server, &format!("{META}/accesspackages/{path}")).await;
        assert_eq!(
            (status, body["errors"][0]["code"].clone()),
            (StatusCode::BAD_REQUEST, json!("STD-00010")),
            "{path}"
        );
    }
}

async fn packages_are_found_by_search(server: TestServer) {
    let hits = ok(&server, &format!("{META}/accesspackages/search?term=tax")).await;
    let hits = hits.as_array().unwrap();
    assert!(
        hits.iter().any(|h| h["object"]["code"] == "skatt-naering"),
        "{hits:?}"
    );
    assert!(
        hits.windows(2)
            .all(|w| w[0]["score"].as_f64() >= w[1]["score"].as_f64())
    );
    assert!(
        hits[0]["fields"][0]["words"]
            .as_array()
            .unwrap()
            .iter()
            .any(|w| w["isMatch"] == true)
    );
    // Nothing found: 204; no term: 400.
    let response = Client::new()
        .get(server.at(&format!("{META}/accesspackages/search?term=qqqzzz")))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let (status, body) = get(&server, &format!("{META}/accesspackages/search")).await;
    assert_eq!(
        (status, body["errors"][0]["code"].clone()),
        (StatusCode::BAD_REQUEST, json!("STD-00010"))
    );
    // In resources: the demo resource's title finds the packages its policy names.
    let hits = ok(
        &server,
        &format!("{META}/accesspackages/search?term=krav&searchInResources=true"),
    )
    .await;
    assert!(
        hits.as_array()
            .unwrap()
            .iter()
            .any(|h| h["object"]["code"] == "skatt-naering"),
        "{hits}"
    );
}

async fn a_package_lists_the_resources_that_name_it(server: TestServer) {
    let hits = ok(&server, &format!("{META}/accesspackages/search?term=tax")).await;
    let package = hits
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["object"]["code"] == "skatt-naering")
        .unwrap();
    let id = package["object"]["id"].as_str().unwrap();
    let resources = ok(
        &server,
        &format!("{META}/accesspackages/package/{id}/resources"),
    )
    .await;
    assert_eq!(resources[0]["identifier"], DEMO_RESOURCE, "{resources}");
    // A package no policy names: 204.
    let all = ok(&server, &format!("{META}/accesspackages/group")).await;
    let group = all[0]["id"].as_str().unwrap();
    let areas = ok(
        &server,
        &format!("{META}/accesspackages/group/{group}/areas"),
    )
    .await;
    let area = areas[0]["id"].as_str().unwrap();
    let packages = ok(
        &server,
        &format!("{META}/accesspackages/area/{area}/packages"),
    )
    .await;
    let unnamed = packages
        .as_array()
        .unwrap()
        .iter()
        .find(|p| {
            p["code"] != "skatt-naering" && p["code"] != "regnskapsforer-med-signeringsrettighet"
        })
        .unwrap();
    let response = Client::new()
        .get(server.at(&format!(
            "{META}/accesspackages/package/{}/resources",
            unnamed["id"].as_str().unwrap()
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
}

async fn roles_are_listed_and_found(server: TestServer) {
    let roles = ok(&server, &format!("{META}/roles")).await;
    let dagl = roles
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["code"] == "daglig-leder")
        .unwrap()
        .clone();
    let id = dagl["id"].as_str().unwrap();
    assert_eq!(ok(&server, &format!("{META}/roles/{id}")).await, dagl);
    assert_eq!(ok(&server, &format!("{META}/roles/DAGL")).await["id"], id);
    let (status, body) = get(&server, &format!("{META}/roles/{}", uuid::Uuid::new_v4())).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    assert_eq!(
        get(&server, &format!("{META}/roles/no-such-role")).await.0,
        StatusCode::NOT_FOUND
    );
}

async fn resources_are_searched_by_their_fields(server: TestServer) {
    for query in [
        "id=KRAV-og",
        "title=claims",
        "searchTerm=refunds",
        "resourceType=GenericAccessResource",
    ] {
        let found = ok(&server, &format!("{REGISTRY}/Search?{query}")).await;
        assert!(
            found
                .as_array()
                .unwrap()
                .iter()
                .any(|r| r["identifier"] == DEMO_RESOURCE),
            "{query}: {found}"
        );
    }
    let none = ok(&server, &format!("{REGISTRY}/Search?id=krav&title=lønn")).await;
    assert_eq!(none, json!([]));
    let none = ok(
        &server,
        &format!("{REGISTRY}/Search?resourceType=AltinnApp&id=krav"),
    )
    .await;
    assert_eq!(none, json!([]));
    let (status, body) = get(&server, &format!("{REGISTRY}/Search?resourceType=Nonsense")).await;
    assert_eq!(
        (status, body["errors"][0]["code"].clone()),
        (StatusCode::BAD_REQUEST, json!("STD-00010"))
    );
}

async fn a_policy_is_read_as_subjects_and_flat_rules(server: TestServer) {
    let subjects = ok(
        &server,
        &format!("{REGISTRY}/{DEMO_RESOURCE}/policy/subjects"),
    )
    .await;
    let urns: Vec<&str> = subjects["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["urn"].as_str().unwrap())
        .collect();
    assert!(urns.contains(&"urn:altinn:rolecode:dagl"), "{subjects}");
    assert!(
        urns.contains(&"urn:altinn:accesspackage:skatt-naering"),
        "{subjects}"
    );
    assert_eq!(subjects["links"]["next"], Value::Null);
    let rules = ok(&server, &format!("{REGISTRY}/{DEMO_RESOURCE}/policy/rules")).await;
    let rules = rules.as_array().unwrap();
    assert_eq!(
        rules.len(),
        urns.len(),
        "one flat rule per subject of the one read right"
    );
    assert_eq!(rules[0]["action"]["value"], "read");
    assert_eq!(
        rules[0]["resource"][0]["urn"],
        format!("urn:altinn:resource:{DEMO_RESOURCE}")
    );
    for path in [
        "no-such-resource/policy/subjects",
        "no-such-resource/policy/rules",
    ] {
        let (status, body) = get(&server, &format!("{REGISTRY}/{path}")).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}: {body}");
    }
}

async fn resources_are_found_by_the_subjects_they_name(server: TestServer) {
    let response = Client::new()
        .post(server.at(&format!("{REGISTRY}/bysubjects")))
        .json(&json!([
            "urn:altinn:rolecode:DAGL",
            "urn:altinn:rolecode:regna"
        ]))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let found: Value = response.json().await.unwrap();
    assert_eq!(
        found["data"][0]["subject"]["urn"],
        "urn:altinn:rolecode:dagl"
    );
    let named: Vec<&Value> = found["data"][0]["resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| &r["value"])
        .collect();
    assert!(named.contains(&&json!(DEMO_RESOURCE)), "{found}");
    assert_eq!(found["data"][1]["resources"], json!([]));
    // Not a URN, not a list, not JSON: 400.
    for (body, content_type) in [
        ("[\"dagl\"]", "application/json"),
        ("{}", "application/json"),
        ("x", "text/plain"),
    ] {
        let response = Client::new()
            .post(server.at(&format!("{REGISTRY}/bysubjects")))
            .header("Content-Type", content_type)
            .body(body)
            .send()
            .await
            .unwrap();
        assert!(
            response.status().is_client_error(),
            "{body}: {}",
            response.status()
        );
    }
}

async fn the_updated_feed_pages_with_a_token(server: TestServer) {
    let all = ok(
        &server,
        &format!("{REGISTRY}/updated?since=2000-01-01T00:00:00Z"),
    )
    .await;
    let pairs = all["data"].as_array().unwrap();
    assert!(pairs.len() >= 3, "{all}");
    assert!(
        pairs
            .iter()
            .any(|p| p["resourceUrn"] == format!("urn:altinn:resource:{DEMO_RESOURCE}"))
    );
    assert_eq!(all["links"]["next"], Value::Null);
    // One pair a page: following the links walks every pair once, in order.
    let mut next = Some(format!(
        "{REGISTRY}/updated?since=2000-01-01T00:00:00Z&limit=1"
    ));
    let mut walked = Vec::new();
    while let Some(url) = next {
        let url = url
            .strip_prefix(&server.url)
            .map(str::to_string)
            .unwrap_or(url);
        let page = ok(&server, &url).await;
        assert_eq!(page["data"].as_array().unwrap().len(), 1, "{page}");
        walked.push(page["data"][0]["subjectUrn"].clone());
        next = page["links"]["next"].as_str().map(str::to_string);
        assert!(walked.len() <= pairs.len(), "the feed repeats itself");
    }
    let expected: Vec<Value> = pairs.iter().map(|p| p["subjectUrn"].clone()).collect();
    assert_eq!(walked, expected);
    // Nothing changed since the future; a bad time, limit or token is refused.
    assert_eq!(
        ok(
            &server,
            &format!("{REGISTRY}/updated?since=2999-01-01T00:00:00Z")
        )
        .await["data"],
        json!([])
    );
    for query in [
        "",
        "since=yesterday",
        "since=2000-01-01T00:00:00Z&limit=0",
        "since=2000-01-01T00:00:00Z&limit=1001",
        "since=2000-01-01T00:00:00Z&token=zz%21",
    ] {
        let (status, body) = get(&server, &format!("{REGISTRY}/updated?{query}")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{query}: {body}");
    }
}

async fn the_owners_and_the_export_list_the_registry(server: TestServer) {
    let orgs = ok(&server, &format!("{REGISTRY}/orgs")).await;
    assert_eq!(orgs["orgs"]["skd"]["orgnr"], SKATTEETATEN, "{orgs}");
    assert_eq!(orgs["orgs"]["skd"]["name"]["nb"], "Skatteetaten");
    let response = Client::new()
        .get(server.at(&format!("{REGISTRY}/export")))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/turtle")
    );
    let text = response.text().await.unwrap();
    assert!(
        text.contains(&format!("dct:identifier \"{DEMO_RESOURCE}\"")),
        "{text}"
    );
    assert!(
        text.contains("dct:title \"Claims and payments\"@en"),
        "{text}"
    );
}
