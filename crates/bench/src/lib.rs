//! Realistic data for the PDP benchmark (`benches/pdp.rs`), generated once into a
//! SQLite file and reused: organisations, persons, ER roles, resources with XACML
//! policies and package delegations, plus a deterministic set of questions.
//!
//! The full scale (issue 4) is 1,000,000 organisations, 2,000,000 ER roles, 100,000
//! resources with policies and 200,000 package delegations: `SB_BENCH_SCALE=1`.
//! Smaller runs scale every count down (`SB_BENCH_SCALE=0.01` is a quick smoke run).
//! Every identifier is a function of an index, so the questions can be computed
//! without reading the database back.

use std::time::Instant;

use sqlx::AssertSqlSafe;
use systembruker_domain::catalogue::Catalogue;
use systembruker_storage::SqlStore;
use uuid::Uuid;

/// Counts of everything generated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scale {
    pub orgs: u64,
    /// One person per organisation (its daglig leder).
    pub persons: u64,
    /// Organisations 0..accountants are accounting firms (REGN for odd organisations).
    pub accountants: u64,
    pub resources: u64,
    pub delegations: u64,
}

impl Scale {
    /// The issue's full scale times `factor`.
    pub fn of(factor: f64) -> Self {
        let n = |full: f64| ((full * factor).round() as u64).max(10);
        Scale {
            orgs: n(1_000_000.0),
            persons: n(1_000_000.0),
            accountants: n(20_000.0),
            resources: n(100_000.0),
            delegations: n(200_000.0),
        }
    }

    /// From `SB_BENCH_SCALE` (default 0.01).
    pub fn from_env() -> Self {
        let factor = std::env::var("SB_BENCH_SCALE")
            .ok()
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.01);
        Self::of(factor)
    }

    /// DAGL for every organisation, LEDE for even ones, REGN for odd ones: 2 per org.
    pub fn er_roles(&self) -> u64 {
        self.orgs + self.orgs.div_ceil(2) + self.orgs / 2
    }

    /// A file name that changes with the scale, so each scale is generated once.
    pub fn file_name(&self) -> String {
        format!(
            "pdp-bench-o{}-r{}-d{}-v1.db",
            self.orgs, self.resources, self.delegations
        )
    }
}

const ORG_TAG: u128 = 0x0b00_0000_0000_0000_0000_0000_0000_0000;
const PERSON_TAG: u128 = 0x0c00_0000_0000_0000_0000_0000_0000_0000;

pub fn org_uuid(i: u64) -> Uuid {
    Uuid::from_u128(ORG_TAG | u128::from(i))
}

pub fn person_uuid(j: u64) -> Uuid {
    Uuid::from_u128(PERSON_TAG | u128::from(j))
}

fn digits(mut n: u64, len: usize) -> Vec<u64> {
    let mut out = vec![0; len];
    for slot in out.iter_mut().rev() {
        *slot = n % 10;
        n /= 10;
    }
    out
}

fn weighted(digits: &[u64], weights: &[u64]) -> u64 {
    digits.iter().zip(weights).map(|(d, w)| d * w).sum()
}

/// A valid organisation number (mod 11) unique to `i`: 4xxxxxxxx.
pub fn org_number(i: u64) -> String {
    for t in 0..8 {
        let prefix = 40_000_000 + i * 8 + t;
        let d = digits(prefix, 8);
        let control = (11 - weighted(&d, &[3, 2, 7, 6, 5, 4, 3, 2]) % 11) % 11;
        if control < 10 {
            return format!("{prefix}{control}");
        }
    }
    // Eight consecutive prefixes without a valid control digit do not occur.
    format!("{}", 400_000_000 + i)
}

/// A valid (synthetic) person number unique to `j`.
pub fn person_number(j: u64) -> String {
    for t in 0..8 {
        let base = 100_000_000 + j * 8 + t;
        let mut d = digits(base, 9);
        let s1 = weighted(&d, &[3, 7, 6, 1, 8, 9, 4, 5, 2]);
        let Some(k1) = [11, 12, 13, 14]
            .iter()
            .map(|c| (c - s1 % 11) % 11)
            .find(|k| *k < 10)
        else {
            continue;
        };
        d.push(k1);
        let k2 = (11 - weighted(&d, &[5, 4, 3, 2, 7, 6, 5, 4, 3, 2]) % 11) % 11;
        if k2 < 10 {
            return format!("{base}{k1}{k2}");
        }
    }
    format!("{}", 10_000_000_000 + j)
}

/// The holder of each generated ER role of organisation `i`: (holder uuid, role code).
pub fn roles_of(scale: &Scale, i: u64) -> Vec<(Uuid, &'static str)> {
    let mut roles = vec![(person_uuid(i % scale.persons), "daglig-leder")];
    if i.is_multiple_of(2) {
        roles.push((person_uuid((i * 7 + 3) % scale.persons), "styreleder"));
    } else {
        roles.push((org_uuid(i % scale.accountants), "regnskapsforer"));
    }
    roles
}

/// Packages a service owner may use in policies and a party may delegate.
pub fn policy_packages(catalogue: &Catalogue) -> Vec<String> {
    catalogue
        .packages()
        .iter()
        .filter(|p| {
            p.entity_type == "Organization" && p.is_assignable && p.is_available_for_service_owners
        })
        .map(|p| p.code.clone())
        .collect()
}

/// Package delegation `k`: (giver org, receiver person, package code).
pub fn delegation(scale: &Scale, packages: &[String], k: u64) -> (u64, u64, String) {
    let from = (k * 13) % scale.orgs;
    let to = (k * 31 + 5) % scale.persons;
    let package = packages[(k as usize * 7) % packages.len()].clone();
    (from, to, package)
}

/// What resource `r`'s policy grants: read to these role codes and packages, write to DAGL.
#[derive(Debug, Clone)]
pub struct ResourceRules {
    pub id: String,
    pub read_roles: Vec<&'static str>,
    pub read_packages: Vec<String>,
}

pub fn resource_rules(packages: &[String], r: u64) -> ResourceRules {
    let mut read_roles = Vec::new();
    if r % 10 < 7 {
        read_roles.push("DAGL");
    }
    if r.is_multiple_of(3) {
        read_roles.push("LEDE");
    }
    read_roles.push("REGN");
    let read_packages = (0..3)
        .map(|j| packages[((r * 7 + j * 11) as usize) % packages.len()].clone())
        .collect();
    ResourceRules {
        id: format!("bench-res-{r}"),
        read_roles,
        read_packages,
    }
}

fn subject_match(attribute: &str, value: &str) -> String {
    format!(
        r#"<xacml:AllOf><xacml:Match MatchId="urn:oasis:names:tc:xacml:3.0:function:string-equal-ignore-case"><xacml:AttributeValue DataType="http://www.w3.org/2001/XMLSchema#string">{value}</xacml:AttributeValue><xacml:AttributeDesignator AttributeId="{attribute}" Category="urn:oasis:names:tc:xacml:1.0:subject-category:access-subject" DataType="http://www.w3.org/2001/XMLSchema#string" MustBePresent="false"/></xacml:Match></xacml:AllOf>"#
    )
}

fn rule(id: &str, resource: &str, action: &str, subjects: &str) -> String {
    format!(
        r#"<xacml:Rule RuleId="{id}" Effect="Permit"><xacml:Target><xacml:AnyOf>{subjects}</xacml:AnyOf><xacml:AnyOf><xacml:AllOf><xacml:Match MatchId="urn:oasis:names:tc:xacml:1.0:function:string-equal"><xacml:AttributeValue DataType="http://www.w3.org/2001/XMLSchema#string">{resource}</xacml:AttributeValue><xacml:AttributeDesignator AttributeId="urn:altinn:resource" Category="urn:oasis:names:tc:xacml:3.0:attribute-category:resource" DataType="http://www.w3.org/2001/XMLSchema#string" MustBePresent="false"/></xacml:Match></xacml:AllOf></xacml:AnyOf><xacml:AnyOf><xacml:AllOf><xacml:Match MatchId="urn:oasis:names:tc:xacml:1.0:function:string-equal"><xacml:AttributeValue DataType="http://www.w3.org/2001/XMLSchema#string">{action}</xacml:AttributeValue><xacml:AttributeDesignator AttributeId="urn:oasis:names:tc:xacml:1.0:action:action-id" Category="urn:oasis:names:tc:xacml:3.0:attribute-category:action" DataType="http://www.w3.org/2001/XMLSchema#string" MustBePresent="false"/></xacml:Match></xacml:AllOf></xacml:AnyOf></xacml:Target></xacml:Rule>"#
    )
}

/// The resource's XACML policy, in the Altinn shape (docs/authorization.md#resource-policies).
pub fn policy_xml(rules: &ResourceRules) -> String {
    let read_subjects: String = rules
        .read_roles
        .iter()
        .map(|role| subject_match("urn:altinn:rolecode", role))
        .chain(
            rules
                .read_packages
                .iter()
                .map(|p| subject_match("urn:altinn:accesspackage", p)),
        )
        .collect();
    let write_subjects = subject_match("urn:altinn:rolecode", "DAGL");
    format!(
        r#"<xacml:Policy xmlns:xacml="urn:oasis:names:tc:xacml:3.0:core:schema:wd-17" PolicyId="urn:altinn:policyid:{id}" Version="1" RuleCombiningAlgId="urn:oasis:names:tc:xacml:3.0:rule-combining-algorithm:deny-overrides"><xacml:Target/>{read}{write}<xacml:ObligationExpressions><xacml:ObligationExpression ObligationId="urn:altinn:obligation:authenticationLevel1" FulfillOn="Permit"><xacml:AttributeAssignmentExpression AttributeId="urn:altinn:obligation-assignment:1" Category="urn:altinn:minimum-authenticationlevel"><xacml:AttributeValue DataType="http://www.w3.org/2001/XMLSchema#integer">2</xacml:AttributeValue></xacml:AttributeAssignmentExpression></xacml:ObligationExpression></xacml:ObligationExpressions></xacml:Policy>"#,
        id = rules.id,
        read = rule(
            &format!("{}:read", rules.id),
            &rules.id,
            "read",
            &read_subjects
        ),
        write = rule(
            &format!("{}:write", rules.id),
            &rules.id,
            "write",
            &write_subjects
        ),
    )
}

/// Inserts `rows` (already-rendered SQL tuples) in statements of `chunk` rows.
pub async fn insert_rows(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    head: &str,
    rows: impl Iterator<Item = String>,
    chunk: usize,
) -> anyhow::Result<()> {
    let mut batch: Vec<String> = Vec::with_capacity(chunk);
    let flush = |batch: &mut Vec<String>| -> Option<String> {
        if batch.is_empty() {
            return None;
        }
        let sql = format!("{head} VALUES {} ON CONFLICT DO NOTHING", batch.join(","));
        batch.clear();
        Some(sql)
    };
    for row in rows {
        batch.push(row);
        if batch.len() == chunk
            && let Some(sql) = flush(&mut batch)
        {
            // Every value is generated here from indexes (digits, uuids, fixed codes).
            sqlx::query(AssertSqlSafe(sql)).execute(&mut **tx).await?;
        }
    }
    if let Some(sql) = flush(&mut batch) {
        sqlx::query(AssertSqlSafe(sql)).execute(&mut **tx).await?;
    }
    Ok(())
}

fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// Opens the benchmark database at `path`, generating it first when it is missing.
pub async fn open_or_generate(path: &std::path::Path, scale: &Scale) -> anyhow::Result<SqlStore> {
    let exists = path.exists();
    let store = SqlStore::open(&format!("sqlite://{}", path.display())).await?;
    let done: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM resource_policies")
        .fetch_one(store.pool())
        .await?;
    if !exists || done < scale.resources as i64 {
        let started = Instant::now();
        generate(&store, scale).await?;
        eprintln!(
            "generated {scale:?} into {} in {:.1} s",
            path.display(),
            started.elapsed().as_secs_f64()
        );
    }
    Ok(store)
}

/// Writes the whole data set (idempotent: existing rows are kept).
pub async fn generate(store: &SqlStore, scale: &Scale) -> anyhow::Result<()> {
    let catalogue = Catalogue::builtin();
    let packages = policy_packages(catalogue);
    let now = 1_700_000_000_000_i64;
    let mut tx = store.pool().begin().await?;
    insert_rows(
        &mut tx,
        "INSERT INTO parties (party_uuid, party_id, party_type, name, org_number, unit_type, created_at)",
        (0..scale.orgs).map(|i| {
            format!(
                "('{}', {}, 'organization', 'Bench org {i}', '{}', 'AS', {now})",
                org_uuid(i),
                100_000_000 + i,
                org_number(i)
            )
        }),
        2000,
    )
    .await?;
    insert_rows(
        &mut tx,
        "INSERT INTO parties (party_uuid, party_id, party_type, name, person_number, created_at)",
        (0..scale.persons).map(|j| {
            format!(
                "('{}', {}, 'person', 'Bench person {j}', '{}', {now})",
                person_uuid(j),
                200_000_000 + j,
                person_number(j)
            )
        }),
        2000,
    )
    .await?;
    insert_rows(
        &mut tx,
        "INSERT INTO er_roles (from_party, to_party, role_code, created_at)",
        (0..scale.orgs).flat_map(|i| {
            roles_of(scale, i).into_iter().map(move |(holder, role)| {
                format!("('{}', '{holder}', '{role}', {now})", org_uuid(i))
            })
        }),
        2000,
    )
    .await?;
    insert_rows(
        &mut tx,
        "INSERT INTO package_delegations (from_party, to_party, package_code, can_delegate, created_at, created_by)",
        (0..scale.delegations).map(|k| {
            let (from, to, package) = delegation(scale, &packages, k);
            format!(
                "('{}', '{}', {}, FALSE, {now}, 'bench')",
                org_uuid(from),
                person_uuid(to),
                quote(&package)
            )
        }),
        2000,
    )
    .await?;
    let body = resource_body_template()?;
    insert_rows(
        &mut tx,
        "INSERT INTO resources (identifier, owner_org, resource_type, delegable, body, created_at, updated_at, version)",
        (0..scale.resources).map(|r| {
            let id = format!("bench-res-{r}");
            let body = body.replace("__ID__", &id);
            format!("('{id}', '974761076', 'GenericAccessResource', TRUE, {}, {now}, {now}, 1)", quote(&body))
        }),
        500,
    )
    .await?;
    insert_rows(
        &mut tx,
        "INSERT INTO resource_policies (resource_id, policy_xml, updated_at, version)",
        (0..scale.resources).map(|r| {
            let xml = policy_xml(&resource_rules(&packages, r));
            format!("('bench-res-{r}', {}, {now}, 1)", quote(&xml))
        }),
        200,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

fn resource_body_template() -> anyhow::Result<String> {
    Ok(serde_json::to_string(&serde_json::json!({
        "identifier": "__ID__",
        "title": {"nb": "Bench", "nn": "Bench", "en": "Bench"},
        "description": {"nb": "Bench", "nn": "Bench", "en": "Bench"},
        "rightDescription": {"nb": "Bench", "nn": "Bench", "en": "Bench"},
        "resourceType": "GenericAccessResource",
        "delegable": true,
        "hasCompetentAuthority": {"organization": "974761076", "orgcode": "skd",
            "name": {"nb": "Skatteetaten", "nn": "Skatteetaten", "en": "Skatteetaten"}}
    }))?)
}

/// One decision question: a person asks to perform `action` on `resource` for `org`.
#[derive(Debug, Clone)]
pub struct Question {
    pub person: u64,
    pub org: u64,
    pub resource: u64,
    pub action: &'static str,
}

impl Question {
    /// The XACML JSON request the HTTP benchmark sends.
    pub fn json(&self) -> String {
        format!(
            r#"{{"Request":{{"AccessSubject":[{{"Attribute":[{{"AttributeId":"urn:altinn:person:identifier-no","Value":"{pid}"}}]}}],"Action":[{{"Attribute":[{{"AttributeId":"urn:oasis:names:tc:xacml:1.0:action:action-id","Value":"{action}"}}]}}],"Resource":[{{"Attribute":[{{"AttributeId":"urn:altinn:resource","Value":"bench-res-{res}"}},{{"AttributeId":"urn:altinn:organization:identifier-no","Value":"{org}"}}]}}]}}}}"#,
            pid = person_number(self.person),
            action = self.action,
            res = self.resource,
            org = org_number(self.org),
        )
    }
}

/// `count` deterministic questions: daglig leder of the org (40 %), receiver of a
/// delegation from the org (20 %), styreleder (20 %), anyone for any org (20 %).
pub fn questions(scale: &Scale, count: usize) -> Vec<Question> {
    let catalogue = Catalogue::builtin();
    let packages = policy_packages(catalogue);
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        // xorshift64*: reproducible without a dependency.
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        state.wrapping_mul(0x2545_f491_4f6c_dd1d)
    };
    (0..count)
        .map(|_| {
            let kind = next() % 10;
            let resource = next() % scale.resources;
            let action = if next().is_multiple_of(5) {
                "write"
            } else {
                "read"
            };
            let (person, org) = match kind {
                0..=3 => {
                    let org = next() % scale.orgs;
                    (org % scale.persons, org)
                }
                4 | 5 => {
                    let (from, to, _) = delegation(scale, &packages, next() % scale.delegations);
                    (to, from)
                }
                6 | 7 => {
                    let org = (next() % scale.orgs) & !1;
                    ((org * 7 + 3) % scale.persons, org)
                }
                _ => (next() % scale.persons, next() % scale.orgs),
            };
            Question {
                person,
                org,
                resource,
                action,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use systembruker_domain::{OrgNumber, PersonNumber};

    #[test]
    fn generated_identifiers_are_valid_and_unique() {
        let mut orgs = std::collections::HashSet::new();
        let mut pids = std::collections::HashSet::new();
        for i in 0..20_000 {
            let org = org_number(i);
            assert!(OrgNumber::parse(&org).is_ok(), "{org}");
            assert!(orgs.insert(org));
            let pid = person_number(i);
            assert!(PersonNumber::parse(&pid).is_ok(), "{pid}");
            assert!(pids.insert(pid));
        }
    }

    #[test]
    fn policies_load_in_the_engine() {
        let packages = policy_packages(Catalogue::builtin());
        for r in 0..50 {
            let policy =
                systembruker_xacml::Policy::from_xml(&policy_xml(&resource_rules(&packages, r)));
            assert!(policy.is_ok(), "{:?}", policy.err());
        }
    }

    #[test]
    fn scale_counts_match_the_issue() {
        let full = Scale::of(1.0);
        assert_eq!((full.orgs, full.er_roles()), (1_000_000, 2_000_000));
        assert_eq!((full.resources, full.delegations), (100_000, 200_000));
    }
}
