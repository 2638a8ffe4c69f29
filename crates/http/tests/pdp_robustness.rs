//! Property tests (the fuzz targets; cargo-fuzz needs nightly): whatever body reaches
//! the PDP or the policy upload, the answer is a decision or a 400 problem — never a
//! 500, never a panic, and the server keeps answering.
#![allow(clippy::unwrap_used)]

use std::sync::OnceLock;

use proptest::prelude::*;
use serde_json::{Value, json};
use systembruker_http::demo::{DEMO_RESOURCE, PIA, ROR_OG_VANN};
use systembruker_http::testing::{ADMIN_TOKEN, TestBackend, TestServer};

/// One server (SQLite) and runtime for all cases.
fn server() -> &'static (tokio::runtime::Runtime, TestServer) {
    static SERVER: OnceLock<(tokio::runtime::Runtime, TestServer)> = OnceLock::new();
    SERVER.get_or_init(|| {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let server = runtime
            .block_on(TestServer::start(TestBackend::Sqlite))
            .unwrap()
            .unwrap();
        (runtime, server)
    })
}

fn send(method: reqwest::Method, path: &str, content_type: &str, body: Vec<u8>) -> (u16, String) {
    let (runtime, server) = server();
    runtime.block_on(async {
        let response = reqwest::Client::new()
            .request(method, server.at(path))
            .bearer_auth(ADMIN_TOKEN)
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .unwrap();
        (response.status().as_u16(), response.text().await.unwrap())
    })
}

/// JSON shaped like a decision request, with random keys, values and nesting.
fn request_like() -> impl Strategy<Value = Value> {
    let keys = prop::sample::select(vec![
        "Request",
        "AccessSubject",
        "Action",
        "Resource",
        "Attribute",
        "AttributeId",
        "Value",
        "Id",
        "MultiRequests",
        "RequestReference",
        "ReferenceId",
        "ReturnPolicyIdList",
        "DataType",
        "Category",
        "IncludeInResult",
        "urn:altinn:systemuser:uuid",
    ]);
    let values = prop::sample::select(vec![
        "urn:altinn:person:identifier-no",
        "urn:altinn:systemuser:uuid",
        "urn:altinn:resource",
        "urn:altinn:organization:identifier-no",
        "urn:altinn:partyid",
        "urn:altinn:party:uuid",
        "urn:oasis:names:tc:xacml:1.0:action:action-id",
        "read",
        PIA,
        ROR_OG_VANN,
        DEMO_RESOURCE,
        "http://www.w3.org/2001/XMLSchema#integer",
        "s1",
        "",
        "not-a-uuid",
        "-1",
        "999999999999999999999",
    ]);
    let leaf = prop_oneof![
        values.prop_map(|v| json!(v)),
        any::<i64>().prop_map(|n| json!(n)),
        any::<bool>().prop_map(|b| json!(b)),
        Just(Value::Null),
    ];
    leaf.prop_recursive(5, 64, 6, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec((keys.clone(), inner), 0..5).prop_map(|pairs| Value::Object(
                pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
            )),
        ]
    })
}

fn check_pdp_answer(status: u16, text: &str) -> Result<(), TestCaseError> {
    prop_assert!(status == 200 || status == 400, "status {status}: {text}");
    let body: Value = serde_json::from_str(text).unwrap();
    if status == 200 {
        prop_assert!(body["Response"].is_array(), "{text}");
    } else {
        prop_assert!(body["code"].is_string(), "{text}");
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn pdp_answers_any_json_with_a_decision_or_a_400(doc in request_like()) {
        let body = json!({"Request": doc}).to_string().into_bytes();
        let (status, text) = send(reqwest::Method::POST, "/authorization/api/v1/authorize", "application/json", body);
        check_pdp_answer(status, &text)?;
    }

    #[test]
    fn pdp_answers_any_bytes_with_a_decision_or_a_400(bytes in prop::collection::vec(any::<u8>(), 0..300)) {
        let (status, text) = send(reqwest::Method::POST, "/authorization/api/v1/authorize", "application/json", bytes);
        check_pdp_answer(status, &text)?;
    }

    #[test]
    fn policy_upload_refuses_broken_policies_with_a_400(cut in 0usize..4000, at in 0usize..4000, junk in "[<>/=\"a-zA-Z ]{0,8}") {
        let policy = include_str!("../data/ske-krav-og-betalinger.xml");
        let at = at.min(policy.len());
        let cut = cut.min(policy.len());
        let (mut broken, end) = (String::new(), cut.max(at));
        // Keep char boundaries: the demo policy has non-ASCII text in a comment.
        if policy.is_char_boundary(at) && policy.is_char_boundary(end) {
            broken.push_str(&policy[..at]);
            broken.push_str(&junk);
            broken.push_str(&policy[end..]);
        } else {
            broken.push_str(&junk);
        }
        let path = format!("/resourceregistry/api/v1/resource/{DEMO_RESOURCE}/policy");
        let (status, text) = send(reqwest::Method::PUT, &path, "application/xml", broken.into_bytes());
        prop_assert!(status == 200 || status == 400, "status {status}: {text}");
        if status == 400 {
            let body: Value = serde_json::from_str(&text).unwrap();
            prop_assert!(body["errors"][0]["title"].as_str().unwrap().contains("the policy was refused"), "{text}");
        }
    }
}
