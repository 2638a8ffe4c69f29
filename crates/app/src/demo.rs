//! Demo data (`serve --demo`): the reference's test parties and the cast of the user
//! journeys, with fixed numbers so scripts can rely on them. Loading is idempotent:
//! what exists already is left as it is.

use anyhow::Context;
use systembruker_domain::party::{NewParty, NewPartyKind};
use systembruker_domain::resource::ServiceResource;
use systembruker_domain::{OrgNumber, PersonNumber};
use systembruker_storage::{Store, StoreError, StoredPackageDelegation};
use uuid::Uuid;

use crate::register::import;

pub const SKATTEETATEN: &str = "974761076";
pub const SMARTCLOUD: &str = "991825827";
pub const ROR_OG_VANN: &str = "315000009";
pub const TALLMAKERNE: &str = "315100003";
pub const BAKERIET: &str = "315200008";
pub const PIA: &str = "14857510098";
pub const OLA: &str = "02889010080";
pub const TINA: &str = "21906810074";
pub const BERNT: &str = "05828210051";
pub const DEMO_RESOURCE: &str = "ske-krav-og-betalinger";

const TEST_PARTIES_CSV: &str = include_str!("../data/test-parties.csv");
pub const DEMO_POLICY: &str = include_str!("../data/ske-krav-og-betalinger.xml");

/// (org number, name, unit type, fixed party id). SmartCloud's number is in the reference's
/// test parties already (under another name): it keeps the ids from there and is renamed.
const ORGANISATIONS: [(&str, &str, &str, Option<i64>); 5] = [
    (SKATTEETATEN, "Skatteetaten", "ORGL", Some(70_000_001)),
    (SMARTCLOUD, "SmartCloud AS", "AS", None),
    (ROR_OG_VANN, "Rør og Vann AS", "AS", Some(70_000_003)),
    (TALLMAKERNE, "Tallmakerne AS", "AS", Some(70_000_004)),
    (BAKERIET, "Bakeriet Brød AS", "AS", Some(70_000_005)),
];

/// (person number, name, fixed party id)
const PERSONS: [(&str, &str, i64); 4] = [
    (PIA, "Pia Rørlegger", 70_000_011),
    (OLA, "Ola Nordmann", 70_000_012),
    (TINA, "Tina Tallmaker", 70_000_013),
    (BERNT, "Bernt Baker", 70_000_014),
];

/// (organisation, holder, role)
const ROLES: [(&str, &str, &str); 5] = [
    (ROR_OG_VANN, PIA, "DAGL"),
    (ROR_OG_VANN, TALLMAKERNE, "REGN"),
    (TALLMAKERNE, TINA, "DAGL"),
    (BAKERIET, BERNT, "DAGL"),
    (BAKERIET, TALLMAKERNE, "REGN"),
];

/// Business-to-business delegations: (giver, receiver, package code, given by).
/// Pia, as daglig leder of Rør og Vann AS, gives Ola the tax package (the issue's
/// `skattnaering` is the catalogue's `skatt-naering`).
const DELEGATIONS: [(&str, &str, &str, &str); 1] =
    [(ROR_OG_VANN, OLA, "skatt-naering", "demo (Pia Rørlegger)")];

/// A stable uuid per demo party, so a fresh database gets the same ids every time.
fn demo_uuid(identifier: &str) -> Uuid {
    Uuid::new_v5(
        &Uuid::NAMESPACE_OID,
        format!("systembruker-demo:{identifier}").as_bytes(),
    )
}

fn cast() -> Result<Vec<NewParty>, anyhow::Error> {
    let mut parties = Vec::new();
    for (org, name, unit_type, id) in ORGANISATIONS {
        parties.push(NewParty {
            uuid: id.map(|_| demo_uuid(org)),
            id,
            name: name.to_string(),
            kind: NewPartyKind::Organization {
                org_number: OrgNumber::parse(org)?,
                unit_type: Some(unit_type.to_string()),
                unit_status: Some("N".to_string()),
                main_unit: None,
            },
        });
    }
    for (pid, name, id) in PERSONS {
        parties.push(NewParty {
            uuid: Some(demo_uuid(pid)),
            id: Some(id),
            name: name.to_string(),
            kind: NewPartyKind::Person {
                person_number: PersonNumber::parse(pid)?,
            },
        });
    }
    Ok(parties)
}

fn demo_resource() -> Result<ServiceResource, anyhow::Error> {
    Ok(serde_json::from_value(serde_json::json!({
        "identifier": DEMO_RESOURCE,
        "title": {"nb": "Krav og betalinger", "nn": "Krav og betalingar", "en": "Claims and payments"},
        "description": {
            "nb": "Oversikt over krav, innbetalinger og utbetalinger hos Skatteetaten.",
            "nn": "Oversikt over krav, innbetalingar og utbetalingar hjå Skatteetaten.",
            "en": "Overview of claims, payments and refunds at the Norwegian Tax Administration."
        },
        "rightDescription": {
            "nb": "Gir tilgang til å lese krav og betalinger for virksomheten.",
            "nn": "Gjev tilgang til å lese krav og betalingar for verksemda.",
            "en": "Gives access to read the organisation's claims and payments."
        },
        "resourceType": "GenericAccessResource",
        "delegable": true,
        "resourceReferences": [
            {"referenceSource": "Default", "reference": "skatteetaten:kravogbetalinger", "referenceType": "MaskinportenScope"}
        ],
        "hasCompetentAuthority": {"organization": SKATTEETATEN, "orgcode": "skd",
            "name": {"nb": "Skatteetaten", "nn": "Skatteetaten", "en": "Norwegian Tax Administration"}}
    }))?)
}

async fn party_uuid(store: &dyn Store, identifier: &str) -> Result<Uuid, anyhow::Error> {
    let party = if identifier.len() == 11 {
        store.person(&PersonNumber::parse(identifier)?).await?
    } else {
        store.organization(&OrgNumber::parse(identifier)?).await?
    };
    party
        .map(|p| p.uuid)
        .ok_or_else(|| anyhow::anyhow!("demo party {identifier} is missing"))
}

/// The demo resource's Maskinporten scope.
pub const DEMO_SCOPE: &str = "skatteetaten:kravogbetalinger";

/// Registers the demo resource's scope with Skatteetaten as owner, as the resource
/// registry does for resources created over HTTP, and gives SmartCloud AS access to it.
async fn register_demo_scope(store: &dyn Store) -> Result<(), anyhow::Error> {
    use systembruker_token::ports::RegisteredScope;
    store
        .register_scope(&RegisteredScope {
            name: DEMO_SCOPE.to_string(),
            owner_org: OrgNumber::parse(SKATTEETATEN)?,
            description: Some("Krav og betalinger (Skatteetaten)".to_string()),
            created_at: systembruker_storage::now_millis(),
        })
        .await?;
    store
        .grant_scope_access(DEMO_SCOPE, &OrgNumber::parse(SMARTCLOUD)?)
        .await?;
    Ok(())
}

/// Loads the demo data; a second call changes nothing.
pub async fn load(store: &dyn Store) -> Result<(), anyhow::Error> {
    let parsed = import::parse_csv(TEST_PARTIES_CSV)
        .map_err(|e| anyhow::anyhow!("the built-in test parties cannot be read: {e}"))?;
    let report = import::apply(store, parsed)
        .await
        .context("storing the test parties")?;
    anyhow::ensure!(
        report.rejected.is_empty(),
        "test parties rejected: {:?}",
        report.rejected
    );
    store.import_parties(&cast()?).await?;
    let catalogue = systembruker_domain::catalogue::Catalogue::builtin();
    for (org, holder, role) in ROLES {
        let role = catalogue.role(role)?;
        store
            .add_role(
                party_uuid(store, org).await?,
                party_uuid(store, holder).await?,
                &role.code,
                "demo",
            )
            .await?;
    }
    for (from, to, package, by) in DELEGATIONS {
        let delegation = StoredPackageDelegation {
            from: party_uuid(store, from).await?,
            to: party_uuid(store, to).await?,
            package_code: catalogue.package(package)?.code.clone(),
            can_delegate: false,
            created_at: systembruker_storage::now_millis(),
            created_by: by.to_string(),
        };
        store.add_package_delegation(&delegation).await?;
    }
    match store.create_resource(&demo_resource()?).await {
        Ok(_) | Err(StoreError::Conflict(_)) => {}
        Err(e) => return Err(e.into()),
    }
    register_demo_scope(store).await?;
    if store.policy(DEMO_RESOURCE).await?.is_none() {
        store.put_policy(DEMO_RESOURCE, DEMO_POLICY).await?;
    }
    register_demo_system(store).await?;
    load_developers(store).await?;
    // A demo server (and every test server) decides its end-user APIs with these.
    crate::system_resources::ensure(store).await?;
    Ok(())
}

/// SmartCloud AS's system in the system register.
pub const DEMO_SYSTEM: &str = "991825827_smartregnskap";

/// SmartRegnskap: the demo resource as a right, and two access packages. It is not
/// visible in the portal's list: `regnskapsforer-med-signeringsrettighet` can only be
/// delegated to agent (client) system users, and a visible system may not offer such a
/// package (AUTH.VLD-00018). Vendor requests and the API's end-user creation work the
/// same. It has no client id: the operator adds the one `systembruker client create`
/// prints, with `PUT systemregister/vendor/991825827_smartregnskap` (see docs/systemusers.md).
pub fn demo_system() -> Result<systembruker_domain::system::RegisteredSystem, anyhow::Error> {
    Ok(serde_json::from_value(serde_json::json!({
        "id": DEMO_SYSTEM,
        "vendor": {"authority": "iso6523-actorid-upis", "ID": format!("0192:{SMARTCLOUD}")},
        "name": {"nb": "SmartRegnskap", "nn": "SmartRekneskap", "en": "SmartAccounting"},
        "description": {
            "nb": "Regnskapssystem fra SmartCloud AS.",
            "nn": "Rekneskapssystem frå SmartCloud AS.",
            "en": "Accounting system from SmartCloud AS."
        },
        "rights": [{"resource": [{"id": "urn:altinn:resource", "value": DEMO_RESOURCE}]}],
        "accessPackages": [
            {"urn": "urn:altinn:accesspackage:skatt-naering"},
            {"urn": "urn:altinn:accesspackage:regnskapsforer-med-signeringsrettighet"}
        ],
        "clientId": [],
        "isVisible": false,
        "allowedRedirectUrls": ["https://smartcloud.example/receipt"]
    }))?)
}

/// SmartCloud AS's payroll system, offered in the portal's list for end-user creation.
pub const DEMO_VISIBLE_SYSTEM: &str = "991825827_smartlonn";

/// SmartLønn: visible in the portal, so an access manager can create its system access
/// without a vendor request. It offers the demo resource and `skatt-naering`, which is
/// assignable (a visible system may only offer assignable packages).
pub fn demo_visible_system() -> Result<systembruker_domain::system::RegisteredSystem, anyhow::Error>
{
    Ok(serde_json::from_value(serde_json::json!({
        "id": DEMO_VISIBLE_SYSTEM,
        "vendor": {"authority": "iso6523-actorid-upis", "ID": format!("0192:{SMARTCLOUD}")},
        "name": {"nb": "SmartLønn", "nn": "SmartLøn", "en": "SmartPayroll"},
        "description": {
            "nb": "Lønnssystem fra SmartCloud AS.",
            "nn": "Lønssystem frå SmartCloud AS.",
            "en": "Payroll system from SmartCloud AS."
        },
        "rights": [{"resource": [{"id": "urn:altinn:resource", "value": DEMO_RESOURCE}]}],
        "accessPackages": [{"urn": "urn:altinn:accesspackage:skatt-naering"}],
        "clientId": [],
        "isVisible": true,
        "allowedRedirectUrls": ["https://smartcloud.example/receipt"]
    }))?)
}

/// Registers the demo systems unless a system with the id exists (deleted ones included).
async fn register_demo_system(store: &dyn Store) -> Result<(), anyhow::Error> {
    let actor = systembruker_storage::Actor::named("demo");
    for (id, system) in [
        (DEMO_SYSTEM, demo_system()?),
        (DEMO_VISIBLE_SYSTEM, demo_visible_system()?),
    ] {
        if store.system(id).await?.is_some() {
            continue;
        }
        match store.create_system(&system, &actor).await {
            Ok(_) | Err(StoreError::Conflict(_)) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

// ----- self-service: the developers of Skatteetaten and SmartCloud AS -----

/// Skatteetaten's daglig leder: holds `maskinporten-administrator` through the role map.
pub const SIGRID: &str = "12887210037";
/// SmartCloud AS's daglig leder, likewise.
pub const SVERRE: &str = "03917910110";

/// (person number, name, fixed party id, organisation where they are DAGL)
const DEVELOPERS: [(&str, &str, i64, &str); 2] = [
    (SIGRID, "Sigrid Skattum", 70_000_015, SKATTEETATEN),
    (SVERRE, "Sverre Skyvik", 70_000_016, SMARTCLOUD),
];

/// Scope prefixes given to organisations: (prefix, owner).
const PREFIXES: [(&str, &str); 2] = [("skatteetaten", SKATTEETATEN), ("smartcloud", SMARTCLOUD)];

/// The self-service cast: a daglig leder for Skatteetaten and one for SmartCloud AS, and
/// the scope prefixes `skatteetaten` and `smartcloud` of the two.
async fn load_developers(store: &dyn Store) -> Result<(), anyhow::Error> {
    let mut people = Vec::new();
    for (pid, name, id, _) in DEVELOPERS {
        people.push(NewParty {
            uuid: Some(demo_uuid(pid)),
            id: Some(id),
            name: name.to_string(),
            kind: NewPartyKind::Person {
                person_number: PersonNumber::parse(pid)?,
            },
        });
    }
    store.import_parties(&people).await?;
    let catalogue = systembruker_domain::catalogue::Catalogue::builtin();
    let dagl = catalogue.role("DAGL")?;
    for (pid, _, _, org) in DEVELOPERS {
        store
            .add_role(
                party_uuid(store, org).await?,
                party_uuid(store, pid).await?,
                &dagl.code,
                "demo",
            )
            .await?;
    }
    let actor = systembruker_storage::Actor::named("demo");
    for (prefix, owner) in PREFIXES {
        store
            .give_scope_prefix(prefix, &OrgNumber::parse(owner)?, &actor)
            .await?;
    }
    Ok(())
}
