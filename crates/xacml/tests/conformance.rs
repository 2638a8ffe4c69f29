//! OASIS XACML 3.0 conformance suite runner.
//!
//! Reads the suite from the sibling `shared/conformance/xacml3` directory
//! (see its README for the special cases handled here), evaluates every
//! case and compares with the expected response: Decision, top-level status
//! code, obligations and advice (as sets keyed by id), returned attributes
//! and the PolicyIdentifierList.
//!
//! Every mandatory case is named in `data/mandatory_cases.txt` and must pass;
//! the optional Part III cases are reported, with a floor on their pass rate.
//! The runner acts as the context handler: it supplies current-time/-date/
//! -dateTime where a request lacks them (XACML 3.0 §10.2.5).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use systembruker_xacml::{
    AttributeValue, Attributes, Decision, DecisionResult, Obligation, Pdp, Policy,
    PolicyRepository, Request, Status, results_from_json, results_from_xml,
};

/// The mandatory cases, by name: each must pass.
const MANDATORY_CASES: &str = include_str!("data/mandatory_cases.txt");
/// Minimum share of optional Part III cases that must pass (78/81: IIIC002/003
/// hierarchical resources, IIIE301 ContextSelectorId).
const OPTIONAL_PASS_RATE: f64 = 0.95;
/// Altinn edited these expectations to Indeterminate (suite README, "Altinn
/// edits"): their requests lack current-time/-date/-dateTime, which the context
/// handler must supply, so OASIS's own expectation is Permit. We hold to OASIS's.
const OASIS_EXPECTATIONS: [&str; 3] = ["IIA017", "IIA019", "IIA021"];

/// Cases where OASIS allows rejecting the policy at load time.
const LOAD_REJECTION_ALLOWED: [&str; 4] = ["IIA004", "IIC003", "IIC012", "IIC014"];
/// Cases whose results may come in any order (multiple decision profile).
const UNORDERED_CATEGORIES: [&str; 2] = ["IIIC", "IIIE"];

fn suite_dir() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/conformance/xacml3");
    dir.is_dir().then_some(dir)
}

fn read(path: &Path) -> Result<String, String> {
    std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
}

fn category_of(id: &str) -> String {
    id.chars().take_while(|c| !c.is_ascii_digit()).collect()
}

fn case_ids(dir: &Path) -> Vec<String> {
    let mut ids: Vec<String> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(|e| e.ok()?.file_name().into_string().ok())
                .filter_map(|n| n.strip_suffix("Request.xml").map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    ids.sort();
    ids
}

/// Load the root policy of a case, with every other `<id>Policy*.xml` file
/// of the case in the reference repository.
fn load_policy(dir: &Path, id: &str) -> Result<Policy, String> {
    let mut repo = PolicyRepository::new();
    let prefix = format!("{id}Policy");
    let mut extra: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| e.to_string())?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            let name = p.file_name().and_then(|n| n.to_str()).unwrap_or_default();
            name.starts_with(&prefix) && name.ends_with(".xml") && name != format!("{prefix}.xml")
        })
        .collect();
    extra.sort();
    for path in &extra {
        // A referenced policy with a static error may be rejected (IIE003).
        let _ = repo.add_xml(&read(path)?);
    }
    let main = dir.join(format!("{prefix}.xml"));
    if main.exists() {
        return Policy::from_xml_with_repository(&read(&main)?, &repo).map_err(|e| e.to_string());
    }
    // IID029/IID030: several root policies.
    let roots = extra
        .iter()
        .map(|p| Policy::from_xml_with_repository(&read(p)?, &repo).map_err(|e| e.to_string()))
        .collect::<Result<Vec<_>, _>>()?;
    if roots.is_empty() {
        return Err("no policy file".into());
    }
    Ok(Policy::from_roots(roots))
}

fn evaluate(policy: &Policy, request_text: Result<Request, String>) -> Vec<DecisionResult> {
    match request_text {
        Ok(mut request) => {
            request.supply_current_time(chrono::Utc::now());
            Pdp::evaluate(policy, &request)
        }
        Err(message) => vec![DecisionResult::syntax_error(message)],
    }
}

fn mandatory_case_ids() -> Vec<&'static str> {
    MANDATORY_CASES
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect()
}

fn effect_key(list: &[Obligation]) -> BTreeMap<String, Vec<String>> {
    let mut map: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for o in list {
        let entry = map.entry(o.id.clone()).or_default();
        for a in &o.assignments {
            entry.push(format!(
                "{}|{}|{}|{}",
                a.attribute_id,
                a.category.as_deref().unwrap_or_default(),
                a.value.data_type().uri(),
                a.value
            ));
        }
        entry.sort();
    }
    map
}

/// Returned attributes as (category, attribute id, value) triples.
fn attribute_triples(list: &[Attributes]) -> Vec<(&str, &str, &AttributeValue)> {
    list.iter()
        .flat_map(|c| {
            c.attributes.iter().flat_map(move |a| {
                a.values
                    .iter()
                    .map(move |v| (c.category.as_str(), a.id.as_str(), v))
            })
        })
        .collect()
}

/// Multiset equality with values compared by data type (x500Name, ipAddress...).
fn same_attributes(expected: &[Attributes], actual: &[Attributes]) -> bool {
    let mut remaining = attribute_triples(actual);
    let wanted = attribute_triples(expected);
    if wanted.len() != remaining.len() {
        return false;
    }
    wanted
        .iter()
        .all(|w| match remaining.iter().position(|r| r == w) {
            Some(i) => {
                remaining.remove(i);
                true
            }
            None => false,
        })
}

fn compare_one(expected: &DecisionResult, actual: &DecisionResult) -> Result<(), String> {
    if expected.decision != actual.decision {
        return Err(format!(
            "decision {:?}, expected {:?} ({})",
            actual.decision,
            expected.decision,
            actual.status.message.as_deref().unwrap_or("no message")
        ));
    }
    if expected.status.code != actual.status.code {
        return Err(format!(
            "status {:?}, expected {:?} ({})",
            actual.status.code,
            expected.status.code,
            actual.status.message.as_deref().unwrap_or("no message")
        ));
    }
    if effect_key(&expected.obligations) != effect_key(&actual.obligations) {
        return Err(format!(
            "obligations {:?}, expected {:?}",
            effect_key(&actual.obligations),
            effect_key(&expected.obligations)
        ));
    }
    if effect_key(&expected.advice) != effect_key(&actual.advice) {
        return Err(format!(
            "advice {:?}, expected {:?}",
            effect_key(&actual.advice),
            effect_key(&expected.advice)
        ));
    }
    if !same_attributes(&expected.attributes, &actual.attributes) {
        return Err("returned attributes differ".into());
    }
    let mut e = expected.policy_identifiers.clone();
    let mut a = actual.policy_identifiers.clone();
    e.sort_by(|x, y| x.id.cmp(&y.id));
    a.sort_by(|x, y| x.id.cmp(&y.id));
    if e != a {
        return Err(format!("policy ids {a:?}, expected {e:?}"));
    }
    Ok(())
}

fn compare(
    expected: &[DecisionResult],
    actual: &[DecisionResult],
    unordered: bool,
) -> Result<(), String> {
    if expected.len() != actual.len() {
        return Err(format!(
            "{} results, expected {}",
            actual.len(),
            expected.len()
        ));
    }
    if !unordered {
        return expected
            .iter()
            .zip(actual)
            .try_for_each(|(e, a)| compare_one(e, a));
    }
    let mut remaining: Vec<&DecisionResult> = actual.iter().collect();
    for e in expected {
        let pos = remaining
            .iter()
            .position(|a| compare_one(e, a).is_ok())
            .ok_or_else(|| format!("no result matches expected {:?}", e.decision))?;
        remaining.remove(pos);
    }
    Ok(())
}

fn run_case(dir: &Path, id: &str) -> Result<(), String> {
    let expected = if OASIS_EXPECTATIONS.contains(&id) {
        vec![DecisionResult::new(Decision::Permit, Status::ok())]
    } else {
        results_from_xml(&read(&dir.join(format!("{id}Response.xml")))?)
            .map_err(|e| format!("bad expected response: {e}"))?
    };
    let policy = match load_policy(dir, id) {
        Ok(p) => p,
        Err(_) if LOAD_REJECTION_ALLOWED.contains(&id) => return Ok(()),
        Err(e) => return Err(format!("policy rejected: {e}")),
    };
    let request =
        Request::from_xml(&read(&dir.join(format!("{id}Request.xml")))?).map_err(|e| e.to_string());
    let actual = evaluate(&policy, request);
    let unordered = UNORDERED_CATEGORIES.contains(&category_of(id).as_str());
    compare(&expected, &actual, unordered)
}

/// The JSON-profile fixtures: IIA001 request/response, and the JSON forms of
/// the IIA022 and IIIE303 responses.
fn run_json_cases(dir: &Path) -> Vec<(String, Result<(), String>)> {
    let case = |id: &str, json_request: bool| -> Result<(), String> {
        let policy = load_policy(dir, id)?;
        let request = if json_request {
            Request::from_json(&read(&dir.join(format!("{id}Request.json")))?)
        } else {
            Request::from_xml(&read(&dir.join(format!("{id}Request.xml")))?)
        }
        .map_err(|e| e.to_string());
        let expected = results_from_json(&read(&dir.join(format!("{id}Response.json")))?)
            .map_err(|e| format!("bad expected response: {e}"))?;
        let actual = evaluate(&policy, request);
        compare(&expected, &actual, id.starts_with("IIIE"))
    };
    vec![
        ("IIA001.json".into(), case("IIA001", true)),
        ("IIA022.json".into(), case("IIA022", false)),
        ("IIIE303.json".into(), case("IIIE303", false)),
    ]
}

#[derive(Default)]
struct Tally {
    passed: usize,
    passed_ids: Vec<String>,
    failed: Vec<(String, String)>,
}

#[test]
fn oasis_conformance_suite() {
    let Some(dir) = suite_dir() else {
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!("conformance suite not found at ../../../shared/conformance/xacml3");
        }
        println!(
            "conformance suite not found next to the repo (shared/conformance/xacml3); skipping"
        );
        return;
    };
    let mut by_category: BTreeMap<String, Tally> = BTreeMap::new();
    for id in case_ids(&dir) {
        let outcome = std::panic::catch_unwind(|| run_case(&dir, &id))
            .unwrap_or_else(|_| Err("panicked".into()));
        let tally = by_category.entry(category_of(&id)).or_default();
        match outcome {
            Ok(()) => {
                tally.passed += 1;
                tally.passed_ids.push(id);
            }
            Err(reason) => tally.failed.push((id, reason)),
        }
    }
    let json = by_category.entry("JSON".into()).or_default();
    for (id, outcome) in run_json_cases(&dir) {
        match outcome {
            Ok(()) => {
                json.passed += 1;
                json.passed_ids.push(id);
            }
            Err(reason) => json.failed.push((id, reason)),
        }
    }
    report_and_assert(&by_category);
}

fn report_and_assert(by_category: &BTreeMap<String, Tally>) {
    let mandatory_categories = ["IIA", "IIB", "IIC", "IID", "IIE", "IIF", "JSON"];
    let (mut o_pass, mut o_total) = (0, 0);
    for (cat, t) in by_category {
        println!("{cat}: {} passed, {} failed", t.passed, t.failed.len());
        if !mandatory_categories.contains(&cat.as_str()) {
            o_pass += t.passed;
            o_total += t.passed + t.failed.len();
        }
    }
    let mut outcome: BTreeMap<&str, Option<&str>> = BTreeMap::new();
    for (cat, t) in by_category {
        for id in &t.passed_ids {
            outcome.insert(id, None);
        }
        for (id, reason) in &t.failed {
            println!("  FAIL {cat} {id}: {reason}");
            outcome.insert(id, Some(reason));
        }
    }
    let listed = mandatory_case_ids();
    let mut failures: Vec<String> = Vec::new();
    for id in &listed {
        match outcome.get(id) {
            Some(None) => {}
            Some(Some(reason)) => failures.push(format!("{id}: {reason}")),
            None => failures.push(format!("{id}: not found in the suite")),
        }
    }
    for (cat, t) in by_category {
        if !mandatory_categories.contains(&cat.as_str()) {
            continue;
        }
        let all = t.passed_ids.iter().chain(t.failed.iter().map(|(id, _)| id));
        for id in all.filter(|id| !listed.contains(&id.as_str())) {
            failures.push(format!(
                "{id}: mandatory but not in data/mandatory_cases.txt"
            ));
        }
    }
    println!(
        "mandatory: {}/{} named cases pass; optional (Part III): {o_pass}/{o_total}",
        listed.len() - failures.len().min(listed.len()),
        listed.len()
    );
    assert!(
        failures.is_empty(),
        "mandatory conformance cases failing:\n{}",
        failures.join("\n")
    );
    let rate = if o_total == 0 {
        1.0
    } else {
        o_pass as f64 / o_total as f64
    };
    assert!(
        rate >= OPTIONAL_PASS_RATE,
        "optional pass rate {o_pass}/{o_total} below {OPTIONAL_PASS_RATE}"
    );
}
