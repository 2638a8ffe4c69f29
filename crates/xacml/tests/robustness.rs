//! Fuzz-style robustness: mutated and arbitrary XML / JSON must never panic
//! the parsers or the evaluator.

use proptest::prelude::*;
use std::path::Path;
use systembruker_xacml::{
    Pdp, Policy, Request, results_from_json, results_from_xml, to_json, to_xml,
};

const DEMO_POLICY: &str = include_str!("data/ske-krav-og-betalinger.xml");

/// A handful of seed documents: conformance files when the suite is next to
/// the repo, plus the demo policy and a JSON request.
fn corpus() -> Vec<String> {
    let mut docs = vec![
        DEMO_POLICY.to_string(),
        r#"{"Request":{"AccessSubject":[{"Attribute":[{"AttributeId":"urn:altinn:rolecode","Value":["DAGL",1,true,2.5]}]}],
        "Category":[{"CategoryId":"urn:custom","Attribute":[{"AttributeId":"x","Value":"P1D","DataType":"dayTimeDuration"}]}],
        "MultiRequests":{"RequestReference":[{"ReferenceId":["a"]}]}}}"#
            .to_string(),
    ];
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/conformance/xacml3");
    for name in [
        "IIA001Policy.xml",
        "IIA001Request.json",
        "IIC090Policy.xml",
        "IIC300Request.xml",
        "IID300Policy.xml",
        "IIIA001Policy.xml",
        "IIIE303Request.xml",
        "IIA022Request.xml",
    ] {
        if let Ok(text) = std::fs::read_to_string(dir.join(name)) {
            docs.push(text);
        }
    }
    docs
}

#[derive(Debug, Clone)]
enum Mutation {
    Truncate(usize),
    FlipByte(usize, u8),
    Insert(usize, String),
    Delete(usize, usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        any::<usize>().prop_map(Mutation::Truncate),
        (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Mutation::FlipByte(i, b)),
        (
            any::<usize>(),
            prop_oneof![
                Just("<".to_string()),
                Just("</Apply>".to_string()),
                Just("&amp;&#0;&bogus;".to_string()),
                Just("\"]}{[,".to_string()),
                Just(
                    "<Apply FunctionId=\"urn:oasis:names:tc:xacml:1.0:function:and\">".to_string()
                ),
                ".{0,12}",
            ]
        )
            .prop_map(|(i, s)| Mutation::Insert(i, s)),
        (any::<usize>(), 0usize..64).prop_map(|(i, n)| Mutation::Delete(i, n)),
    ]
}

fn apply(doc: &str, mutations: &[Mutation]) -> String {
    let mut bytes = doc.as_bytes().to_vec();
    for m in mutations {
        let len = bytes.len().max(1);
        match m {
            Mutation::Truncate(i) => bytes.truncate(i % len),
            Mutation::FlipByte(i, b) => {
                if let Some(x) = bytes.get_mut(i % len) {
                    *x ^= b;
                }
            }
            Mutation::Insert(i, s) => {
                let at = (i % len).min(bytes.len());
                bytes.splice(at..at, s.bytes());
            }
            Mutation::Delete(i, n) => {
                let at = (i % len).min(bytes.len());
                let end = (at + n).min(bytes.len());
                bytes.drain(at..end);
            }
        }
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

/// Feed a document to every parser; evaluate whatever parses.
fn exercise(text: &str, policy: &Policy) {
    if let Ok(p) = Policy::from_xml(text) {
        let _ = p.rights();
        let _ = p.referenced_attribute_ids();
        let request = Request::builder().action("read").build();
        let _ = to_json(&Pdp::evaluate(&p, &request));
    }
    for request in [Request::from_xml(text), Request::from_json(text)]
        .into_iter()
        .flatten()
    {
        // The count a PDP checks its limit with, taken without expanding, is exact.
        assert_eq!(request.decision_count(), request.individual_count());
        assert_eq!(request.split().len(), request.decision_count());
        let _ = request.echoed_bytes();
        let results = Pdp::evaluate(policy, &request);
        assert_eq!(results.len(), request.decision_count());
        let _ = to_xml(&results);
        let _ = to_json(&results);
    }
    let _ = results_from_xml(text);
    let _ = results_from_json(text);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn mutated_documents_never_panic(seed in any::<prop::sample::Index>(), ms in prop::collection::vec(mutation(), 1..4)) {
        let docs = corpus();
        let doc = &docs[seed.index(docs.len())];
        let policy = Policy::from_xml(DEMO_POLICY).expect("demo policy");
        exercise(&apply(doc, &ms), &policy);
    }

    #[test]
    fn arbitrary_text_never_panics(text in ".{0,200}") {
        let policy = Policy::from_xml(DEMO_POLICY).expect("demo policy");
        exercise(&text, &policy);
    }
}

#[test]
fn every_conformance_document_survives_every_parser() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/conformance/xacml3");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        // CI always has the suite beside the repo: there a missing suite is a failure.
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!("conformance suite not found at {}", dir.display());
        }
        println!("conformance suite not found; skipping");
        return;
    };
    let policy = Policy::from_xml(DEMO_POLICY).expect("demo policy");
    for entry in entries.flatten() {
        if let Ok(text) = std::fs::read_to_string(entry.path()) {
            exercise(&text, &policy);
        }
    }
}
