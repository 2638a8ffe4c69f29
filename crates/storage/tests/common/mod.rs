//! The firm the storage tests share: Tallmakerne AS with two clients (Rør og Vann AS by
//! the accountant role, Bakeriet Brød AS by a delegated package), an organisation with no
//! relation, and SmartCloud's system.
#![allow(clippy::unwrap_used, dead_code)]

use systembruker_domain::party::{NewParty, NewPartyKind, Party};
use systembruker_domain::system::RegisteredSystem;
use systembruker_domain::systemuser::SystemUserType;
use systembruker_domain::{OrgNumber, PersonNumber};
use systembruker_storage::{
    Actor, Approval, DelegationStore, Grants, NewSystemUser, RegisterStore, SqlStore, StoreResult,
    StoredPackageDelegation, SystemRegisterStore, SystemUserKey, SystemUserStore,
};
use uuid::Uuid;

pub const VENDOR: &str = "991825827";
pub const FIRM: &str = "315100003";
pub const CLIENT_A: &str = "315000009";
pub const CLIENT_B: &str = "315200008";
pub const OTHER: &str = "310300004";
pub const SYSTEM: &str = "991825827_smartregnskap";
pub const PACKAGE: &str = "regnskapsforer-med-signeringsrettighet";

#[derive(Clone, Copy)]
pub struct Setup {
    pub firm: Uuid,
    pub client_a: Uuid,
    pub client_b: Uuid,
    pub other: Uuid,
}

pub fn org(number: &str, name: &str) -> NewParty {
    NewParty {
        uuid: None,
        id: None,
        name: name.into(),
        kind: NewPartyKind::Organization {
            org_number: OrgNumber::parse(number).unwrap(),
            unit_type: Some("AS".into()),
            unit_status: None,
            main_unit: None,
        },
    }
}

pub fn person(number: &str, name: &str) -> NewParty {
    NewParty {
        uuid: None,
        id: None,
        name: name.into(),
        kind: NewPartyKind::Person {
            person_number: PersonNumber::parse(number).unwrap(),
        },
    }
}

/// The stored organisation `number` (it must be in the register).
pub async fn organization(store: &SqlStore, number: &str) -> Party {
    store
        .organization(&OrgNumber::parse(number).unwrap())
        .await
        .unwrap()
        .unwrap()
}

pub async fn uuid_of(store: &SqlStore, number: &str) -> Uuid {
    organization(store, number).await.uuid
}

pub fn system() -> RegisteredSystem {
    serde_json::from_value(serde_json::json!({
        "id": SYSTEM,
        "vendor": {"authority": "iso6523-actorid-upis", "ID": format!("0192:{VENDOR}")},
        "name": {"nb": "SmartRegnskap", "nn": "SmartRekneskap", "en": "SmartAccounting"},
        "description": {"nb": "a", "nn": "b", "en": "c"},
        "rights": [],
        "accessPackages": [{"urn": format!("urn:altinn:accesspackage:{PACKAGE}")}],
        "clientId": [],
        "isVisible": false
    }))
    .unwrap()
}

/// A firm with two clients (one by role, one by a delegated package) and a vendor system.
pub async fn setup(store: &SqlStore) -> Setup {
    store
        .import_parties(&[
            org(VENDOR, "SmartCloud AS"),
            org(FIRM, "Tallmakerne AS"),
            org(CLIENT_A, "Rør og Vann AS"),
            org(CLIENT_B, "Bakeriet Brød AS"),
            org(OTHER, "Annet AS"),
        ])
        .await
        .unwrap();
    let setup = Setup {
        firm: uuid_of(store, FIRM).await,
        client_a: uuid_of(store, CLIENT_A).await,
        client_b: uuid_of(store, CLIENT_B).await,
        other: uuid_of(store, OTHER).await,
    };
    store
        .add_role(setup.client_a, setup.firm, "regnskapsforer", "test")
        .await
        .unwrap();
    store
        .add_package_delegation(&StoredPackageDelegation {
            from: setup.client_b,
            to: setup.firm,
            package_code: PACKAGE.into(),
            can_delegate: false,
            created_at: 0,
            created_by: "test".into(),
        })
        .await
        .unwrap();
    store
        .create_system(&system(), &Actor::named("vendor"))
        .await
        .unwrap();
    setup
}

/// An approved agent system user of `firm` for SmartCloud's system with `external_ref`.
pub async fn agent(store: &SqlStore, firm: Uuid, external_ref: &str) -> StoreResult<Uuid> {
    let id = Uuid::new_v4();
    let user = NewSystemUser {
        id,
        key: SystemUserKey {
            system_id: SYSTEM.into(),
            org: FIRM.into(),
            external_ref: external_ref.into(),
        },
        owner_party_uuid: firm,
        integration_title: "SmartRegnskap".into(),
        user_type: SystemUserType::Agent,
        access_packages: vec![PACKAGE.into()],
    };
    let approval = store
        .create_system_user(&user, &Grants::default(), &Actor::named("tina"))
        .await?;
    assert!(matches!(approval, Approval::Approved(_)), "{approval:?}");
    Ok(id)
}
