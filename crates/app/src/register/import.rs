//! Bulk import of parties (operator API and `systembruker import parties`), all or nothing.

use std::collections::{HashMap, HashSet};

use serde::{Deserialize, Serialize};
use systembruker_domain::party::{NewParty, NewPartyKind};
use systembruker_domain::{OrgNumber, PersonNumber};
use systembruker_storage::{RegisterStore, StoreError};
use uuid::Uuid;

use crate::{AppError, AppResult};

/// One party to import. JSON uses these names; CSV uses the columns of the reference's
/// test-parties.csv (`party_uuid, party_id, party_type, display_name, person_identifier,
/// organization_identifier, unit_status, unit_type, mainunit_party_uuid`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PartyImportRow {
    #[serde(alias = "party_uuid")]
    pub party_uuid: Option<String>,
    #[serde(alias = "party_id")]
    pub party_id: Option<String>,
    /// `organization` or `person`.
    #[serde(alias = "party_type")]
    pub party_type: Option<String>,
    #[serde(alias = "display_name", alias = "displayName")]
    pub name: Option<String>,
    #[serde(alias = "person_identifier")]
    pub person_identifier: Option<String>,
    #[serde(alias = "organization_identifier")]
    pub organization_identifier: Option<String>,
    #[serde(alias = "unit_status")]
    pub unit_status: Option<String>,
    #[serde(alias = "unit_type")]
    pub unit_type: Option<String>,
    #[serde(alias = "mainunit_party_uuid", alias = "mainUnitPartyUuid")]
    pub main_unit_party_uuid: Option<String>,
}

/// A row that was refused, and every reason why.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct RejectedRow {
    /// 1-based position in the input (for CSV: the data row, not counting the header).
    pub row: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub identifier: Option<String>,
    pub reasons: Vec<String>,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct ImportResponse {
    pub created: usize,
    pub updated: usize,
    /// When not empty, nothing was stored.
    pub rejected: Vec<RejectedRow>,
}

fn non_empty(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

fn parse_row(index: usize, row: &PartyImportRow) -> Result<NewParty, RejectedRow> {
    let mut reasons = Vec::new();
    let uuid = non_empty(&row.party_uuid).and_then(|s| {
        Uuid::parse_str(s)
            .map_err(|_| reasons.push(format!("partyUuid {s:?} is not a UUID")))
            .ok()
    });
    let id = non_empty(&row.party_id).and_then(|s| match s.parse::<i64>() {
        Ok(n) if n > 0 => Some(n),
        _ => {
            reasons.push(format!("partyId {s:?} is not a positive integer"));
            None
        }
    });
    let name = non_empty(&row.name).map(str::to_string);
    if name.is_none() {
        reasons.push("name is required".into());
    }
    let main_unit = non_empty(&row.main_unit_party_uuid).and_then(|s| {
        Uuid::parse_str(s)
            .map_err(|_| reasons.push(format!("mainUnitPartyUuid {s:?} is not a UUID")))
            .ok()
    });
    let identifier = non_empty(&row.organization_identifier)
        .or(non_empty(&row.person_identifier))
        .map(str::to_string);
    let kind = match non_empty(&row.party_type)
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        Some("organization" | "organisation") => {
            match OrgNumber::parse(non_empty(&row.organization_identifier).unwrap_or_default()) {
                Ok(org_number) => Some(NewPartyKind::Organization {
                    org_number,
                    unit_type: non_empty(&row.unit_type).map(str::to_string),
                    unit_status: non_empty(&row.unit_status).map(str::to_string),
                    main_unit,
                }),
                Err(e) => {
                    reasons.push(format!("organizationIdentifier: {e}"));
                    None
                }
            }
        }
        Some("person") => {
            match PersonNumber::parse(non_empty(&row.person_identifier).unwrap_or_default()) {
                Ok(person_number) => Some(NewPartyKind::Person { person_number }),
                Err(e) => {
                    reasons.push(format!("personIdentifier: {e}"));
                    None
                }
            }
        }
        other => {
            reasons.push(format!(
                "partyType must be \"organization\" or \"person\", got {:?}",
                other.unwrap_or_default()
            ));
            None
        }
    };
    match (kind, name) {
        (Some(kind), Some(name)) if reasons.is_empty() => Ok(NewParty {
            uuid,
            id,
            name,
            kind,
        }),
        _ => Err(RejectedRow {
            row: index + 1,
            identifier,
            reasons,
        }),
    }
}

/// The parsed rows and the rows refused while parsing.
pub struct ParsedImport {
    pub parties: Vec<NewParty>,
    pub rejected: Vec<RejectedRow>,
}

fn parse_rows(rows: Vec<PartyImportRow>) -> ParsedImport {
    let mut parties = Vec::new();
    let mut rejected = Vec::new();
    let mut seen: HashMap<String, usize> = HashMap::new();
    for (i, row) in rows.iter().enumerate() {
        match parse_row(i, row) {
            Ok(party) => {
                let key = party.identifier().to_string();
                if let Some(first) = seen.insert(key.clone(), i + 1) {
                    rejected.push(RejectedRow {
                        row: i + 1,
                        identifier: Some(key),
                        reasons: vec![format!("the same party is already in row {first}")],
                    });
                } else {
                    parties.push(party);
                }
            }
            Err(r) => rejected.push(r),
        }
    }
    ParsedImport { parties, rejected }
}

pub fn parse_json(text: &str) -> AppResult<ParsedImport> {
    let rows: Vec<PartyImportRow> = serde_json::from_str(text).map_err(|e| {
        AppError::BadRequest(format!("the body must be a JSON array of parties: {e}"))
    })?;
    Ok(parse_rows(rows))
}

pub fn parse_csv(text: &str) -> AppResult<ParsedImport> {
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let mut rows = Vec::new();
    for (i, record) in reader.deserialize::<PartyImportRow>().enumerate() {
        rows.push(record.map_err(|e| {
            AppError::BadRequest(format!("CSV data row {} cannot be read: {e}", i + 1))
        })?);
    }
    Ok(parse_rows(rows))
}

/// Rejects main-unit references that point neither into the batch nor into the register.
async fn check_main_units(
    store: &(dyn RegisterStore + Send + Sync),
    parsed: &mut ParsedImport,
) -> Result<(), StoreError> {
    let in_batch: HashSet<Uuid> = parsed.parties.iter().filter_map(|p| p.uuid).collect();
    for (i, party) in parsed.parties.iter().enumerate() {
        if let NewPartyKind::Organization {
            main_unit: Some(main),
            ..
        } = &party.kind
            && !in_batch.contains(main)
            && store.party_by_uuid(*main).await?.is_none()
        {
            parsed.rejected.push(RejectedRow {
                row: i + 1,
                identifier: Some(party.identifier().to_string()),
                reasons: vec![format!(
                    "main unit {main} is neither in this import nor in the register"
                )],
            });
        }
    }
    Ok(())
}

/// Stores the parties when every row is valid; otherwise stores nothing and reports.
/// The error is the storage's own, so the command line and the demo loader can say
/// what went wrong (the API turns it into a problem).
pub async fn apply(
    store: &(dyn RegisterStore + Send + Sync),
    mut parsed: ParsedImport,
) -> Result<ImportResponse, StoreError> {
    check_main_units(store, &mut parsed).await?;
    if !parsed.rejected.is_empty() {
        parsed.rejected.sort_by_key(|r| r.row);
        return Ok(ImportResponse {
            created: 0,
            updated: 0,
            rejected: parsed.rejected,
        });
    }
    let report = store.import_parties(&parsed.parties).await?;
    Ok(ImportResponse {
        created: report.created,
        updated: report.updated,
        rejected: Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_of_the_reference_parses_completely() {
        let text = include_str!("../../data/test-parties.csv");
        let parsed = parse_csv(text).unwrap();
        assert!(parsed.rejected.is_empty(), "{:?}", parsed.rejected);
        assert_eq!(parsed.parties.len(), 242);
    }

    #[test]
    fn each_bad_field_is_named() {
        let rows = vec![
            PartyImportRow {
                party_type: Some("organization".into()),
                name: Some("X".into()),
                organization_identifier: Some("123456789".into()),
                ..Default::default()
            },
            PartyImportRow {
                party_type: Some("robot".into()),
                ..Default::default()
            },
        ];
        let parsed = parse_rows(rows);
        assert!(parsed.parties.is_empty());
        assert!(parsed.rejected[0].reasons[0].starts_with("organizationIdentifier"));
        assert_eq!(
            parsed.rejected[1].reasons.len(),
            2,
            "{:?}",
            parsed.rejected[1]
        );
    }

    #[test]
    fn duplicates_in_one_batch_are_rejected() {
        let row = PartyImportRow {
            party_type: Some("person".into()),
            name: Some("Pia".into()),
            person_identifier: Some("14857510098".into()),
            ..Default::default()
        };
        let parsed = parse_rows(vec![row.clone(), row]);
        assert_eq!(parsed.parties.len(), 1);
        assert_eq!(parsed.rejected[0].row, 2);
    }
}
