//! Parties of the register: organisations and persons.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::ids::{OrgNumber, PersonNumber};

/// What kind of party this is, with the identifier that belongs to that kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PartyKind {
    Organization {
        org_number: OrgNumber,
        /// ER unit form, e.g. AS, ENK, BEDR, ESEK, NUF (an entity variant in the catalogue).
        unit_type: Option<String>,
        unit_status: Option<String>,
        /// The main unit (hovedenhet) of a sub-unit such as a BEDR.
        main_unit: Option<Uuid>,
    },
    Person {
        person_number: PersonNumber,
    },
}

/// A party as stored in the register.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Party {
    pub uuid: Uuid,
    pub id: i64,
    pub name: String,
    pub kind: PartyKind,
}

impl Party {
    pub fn party_type(&self) -> PartyType {
        match self.kind {
            PartyKind::Organization { .. } => PartyType::Organization,
            PartyKind::Person { .. } => PartyType::Person,
        }
    }

    pub fn org_number(&self) -> Option<&OrgNumber> {
        match &self.kind {
            PartyKind::Organization { org_number, .. } => Some(org_number),
            PartyKind::Person { .. } => None,
        }
    }

    pub fn person_number(&self) -> Option<&PersonNumber> {
        match &self.kind {
            PartyKind::Person { person_number } => Some(person_number),
            PartyKind::Organization { .. } => None,
        }
    }

    /// The identifier as a string: org number or person number.
    pub fn identifier(&self) -> &str {
        match &self.kind {
            PartyKind::Organization { org_number, .. } => org_number.as_str(),
            PartyKind::Person { person_number } => person_number.as_str(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "kebab-case")]
pub enum PartyType {
    Organization,
    Person,
}

impl PartyType {
    pub fn as_str(self) -> &'static str {
        match self {
            PartyType::Organization => "organization",
            PartyType::Person => "person",
        }
    }
}

/// A party to be created or updated by an import. `uuid` and `id` are optional: the
/// register assigns them when missing, and keeps existing ones on re-import.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewParty {
    pub uuid: Option<Uuid>,
    pub id: Option<i64>,
    pub name: String,
    pub kind: NewPartyKind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NewPartyKind {
    Organization {
        org_number: OrgNumber,
        unit_type: Option<String>,
        unit_status: Option<String>,
        main_unit: Option<Uuid>,
    },
    Person {
        person_number: PersonNumber,
    },
}

impl NewParty {
    pub fn identifier(&self) -> &str {
        match &self.kind {
            NewPartyKind::Organization { org_number, .. } => org_number.as_str(),
            NewPartyKind::Person { person_number } => person_number.as_str(),
        }
    }
}
