//! The register: parties (organisations, persons) and the ER roles between them.

use sqlx::any::AnyRow;
use sqlx::{Any, Row, Transaction};
use systembruker_domain::party::{NewParty, NewPartyKind, Party, PartyKind};
use systembruker_domain::{OrgNumber, PersonNumber};
use uuid::Uuid;

use crate::sql::parse_uuid;
use crate::{SqlStore, StoreError, StoreResult, now_millis};

/// What an import did.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct ImportReport {
    pub created: usize,
    pub updated: usize,
}

/// "Organisation `from` has role `role_code` held by party `to`."
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleAssignment {
    pub from: Uuid,
    pub to: Uuid,
    /// The role's code in the catalogue, e.g. `daglig-leder`, `regnskapsforer`.
    pub role_code: String,
    pub created_at: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RoleChangeKind {
    Added,
    Removed,
}

/// One entry of the append-only role change feed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleChange {
    pub seq: i64,
    pub from: Uuid,
    pub to: Uuid,
    pub role_code: String,
    pub kind: RoleChangeKind,
    pub changed_at: i64,
    pub changed_by: Option<String>,
}

#[async_trait::async_trait]
pub trait RegisterStore {
    /// Creates or updates parties, all or nothing. A party is matched on its org or
    /// person number; a given uuid or party id that contradicts the stored one is a conflict.
    async fn import_parties(&self, parties: &[NewParty]) -> StoreResult<ImportReport>;
    async fn party_by_uuid(&self, uuid: Uuid) -> StoreResult<Option<Party>>;
    async fn party_by_id(&self, id: i64) -> StoreResult<Option<Party>>;
    async fn organization(&self, org: &OrgNumber) -> StoreResult<Option<Party>>;
    async fn person(&self, pid: &PersonNumber) -> StoreResult<Option<Party>>;
    async fn party_count(&self) -> StoreResult<i64>;
    /// Adds an ER role; `Ok(false)` when it already existed (nothing changes then).
    async fn add_role(
        &self,
        from: Uuid,
        to: Uuid,
        role_code: &str,
        changed_by: &str,
    ) -> StoreResult<bool>;
    /// Removes an ER role; `Ok(false)` when there was none.
    async fn remove_role(
        &self,
        from: Uuid,
        to: Uuid,
        role_code: &str,
        changed_by: &str,
    ) -> StoreResult<bool>;
    /// The roles others hold in organisation `org`.
    async fn roles_in(&self, org: Uuid) -> StoreResult<Vec<RoleAssignment>>;
    /// The roles party `holder` holds in any organisation.
    async fn roles_held_by(&self, holder: Uuid) -> StoreResult<Vec<RoleAssignment>>;
    /// Role changes with a sequence number above `after`, oldest first.
    async fn role_changes_since(&self, after: i64, limit: i64) -> StoreResult<Vec<RoleChange>>;
}

const PARTY_COLUMNS: &str = "party_uuid, party_id, party_type, name, org_number, person_number, \
                             unit_type, unit_status, main_unit_uuid";

fn party_from_row(row: &AnyRow) -> StoreResult<Party> {
    let uuid = parse_uuid(&row.try_get::<String, _>("party_uuid")?)?;
    let party_type: String = row.try_get("party_type")?;
    let kind = if party_type == "organization" {
        let org: String = row.try_get("org_number")?;
        PartyKind::Organization {
            org_number: OrgNumber::parse(&org).map_err(|e| StoreError::Corrupt(e.to_string()))?,
            unit_type: row.try_get("unit_type")?,
            unit_status: row.try_get("unit_status")?,
            main_unit: row
                .try_get::<Option<String>, _>("main_unit_uuid")?
                .map(|s| parse_uuid(&s))
                .transpose()?,
        }
    } else {
        let pid: String = row.try_get("person_number")?;
        PartyKind::Person {
            person_number: PersonNumber::parse(&pid)
                .map_err(|e| StoreError::Corrupt(e.to_string()))?,
        }
    };
    Ok(Party {
        uuid,
        id: row.try_get("party_id")?,
        name: row.try_get("name")?,
        kind,
    })
}

fn role_from_row(row: &AnyRow) -> StoreResult<RoleAssignment> {
    Ok(RoleAssignment {
        from: parse_uuid(&row.try_get::<String, _>("from_party")?)?,
        to: parse_uuid(&row.try_get::<String, _>("to_party")?)?,
        role_code: row.try_get("role_code")?,
        created_at: row.try_get("created_at")?,
    })
}

impl SqlStore {
    async fn party_where(&self, clause: &str, value: String) -> StoreResult<Option<Party>> {
        let sql = format!("SELECT {PARTY_COLUMNS} FROM parties WHERE {clause} = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(value)
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(party_from_row).transpose()
    }

    async fn roles_where(&self, column: &str, party: Uuid) -> StoreResult<Vec<RoleAssignment>> {
        let sql = format!(
            "SELECT from_party, to_party, role_code, created_at FROM er_roles \
             WHERE {column} = $1 ORDER BY created_at, role_code"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(party.to_string())
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(role_from_row).collect()
    }
}

/// Identifier column and value of a party to import.
fn identifier_column(party: &NewParty) -> (&'static str, String) {
    match &party.kind {
        NewPartyKind::Organization { org_number, .. } => ("org_number", org_number.to_string()),
        NewPartyKind::Person { person_number } => ("person_number", person_number.to_string()),
    }
}

async fn upsert_party(tx: &mut Transaction<'_, Any>, party: &NewParty) -> StoreResult<bool> {
    let (column, identifier) = identifier_column(party);
    let existing = sqlx::query(trusted_sql!(
        "SELECT party_uuid, party_id FROM parties WHERE {column} = $1"
    ))
    .bind(&identifier)
    .fetch_optional(&mut **tx)
    .await?;
    let (unit_type, unit_status) = match &party.kind {
        NewPartyKind::Organization {
            unit_type,
            unit_status,
            ..
        } => (unit_type.clone(), unit_status.clone()),
        NewPartyKind::Person { .. } => (None, None),
    };
    if let Some(row) = existing {
        let stored_uuid: String = row.try_get("party_uuid")?;
        let stored_id: i64 = row.try_get("party_id")?;
        if party.uuid.is_some_and(|u| u.to_string() != stored_uuid)
            || party.id.is_some_and(|i| i != stored_id)
        {
            return Err(StoreError::conflict(format!(
                "party {identifier} is already registered with partyUuid {stored_uuid} and partyId {stored_id}"
            )));
        }
        sqlx::query(
            "UPDATE parties SET name = $1, unit_type = $2, unit_status = $3 WHERE party_uuid = $4",
        )
        .bind(&party.name)
        .bind(unit_type)
        .bind(unit_status)
        .bind(stored_uuid)
        .execute(&mut **tx)
        .await?;
        return Ok(false);
    }
    let party_id = match party.id {
        Some(id) => id,
        None => {
            // Assigned ids start above the reference's test data range.
            sqlx::query_scalar::<_, i64>(
                "SELECT COALESCE(MAX(party_id), 60000000) + 1 FROM parties",
            )
            .fetch_one(&mut **tx)
            .await?
        }
    };
    let (org, pid, party_type) = match &party.kind {
        NewPartyKind::Organization { org_number, .. } => {
            (Some(org_number.to_string()), None, "organization")
        }
        NewPartyKind::Person { person_number } => (None, Some(person_number.to_string()), "person"),
    };
    sqlx::query(
        "INSERT INTO parties (party_uuid, party_id, party_type, name, org_number, person_number, \
         unit_type, unit_status, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(party.uuid.unwrap_or_else(Uuid::new_v4).to_string())
    .bind(party_id)
    .bind(party_type)
    .bind(&party.name)
    .bind(org)
    .bind(pid)
    .bind(unit_type)
    .bind(unit_status)
    .bind(now_millis())
    .execute(&mut **tx)
    .await?;
    Ok(true)
}

/// Main units are linked after every party exists, so a file may list a sub-unit
/// before its main unit.
async fn link_main_unit(tx: &mut Transaction<'_, Any>, party: &NewParty) -> StoreResult<()> {
    let NewPartyKind::Organization {
        org_number,
        main_unit,
        ..
    } = &party.kind
    else {
        return Ok(());
    };
    if let Some(main) = main_unit {
        let exists: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM parties WHERE party_uuid = $1")
            .bind(main.to_string())
            .fetch_one(&mut **tx)
            .await?;
        if exists == 0 {
            return Err(StoreError::Invalid(format!(
                "main unit {main} of {org_number} is not in the register"
            )));
        }
    }
    sqlx::query("UPDATE parties SET main_unit_uuid = $1 WHERE org_number = $2")
        .bind(main_unit.map(|u| u.to_string()))
        .bind(org_number.to_string())
        .execute(&mut **tx)
        .await?;
    Ok(())
}

async fn record_role_change(
    tx: &mut Transaction<'_, Any>,
    (from, to, role_code): (Uuid, Uuid, &str),
    kind: RoleChangeKind,
    changed_by: &str,
) -> StoreResult<()> {
    let change = match kind {
        RoleChangeKind::Added => "added",
        RoleChangeKind::Removed => "removed",
    };
    sqlx::query(
        "INSERT INTO role_changes (from_party, to_party, role_code, change, changed_at, changed_by) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(from.to_string())
    .bind(to.to_string())
    .bind(role_code)
    .bind(change)
    .bind(now_millis())
    .bind(changed_by)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

#[async_trait::async_trait]
impl RegisterStore for SqlStore {
    async fn import_parties(&self, parties: &[NewParty]) -> StoreResult<ImportReport> {
        let mut tx = self.begin_write().await?;
        let mut report = ImportReport::default();
        for party in parties {
            if upsert_party(&mut tx, party).await? {
                report.created += 1;
            } else {
                report.updated += 1;
            }
        }
        for party in parties {
            link_main_unit(&mut tx, party).await?;
        }
        tx.commit().await?;
        Ok(report)
    }

    async fn party_by_uuid(&self, uuid: Uuid) -> StoreResult<Option<Party>> {
        self.party_where("party_uuid", uuid.to_string()).await
    }

    async fn party_by_id(&self, id: i64) -> StoreResult<Option<Party>> {
        let sql = format!("SELECT {PARTY_COLUMNS} FROM parties WHERE party_id = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(party_from_row).transpose()
    }

    async fn organization(&self, org: &OrgNumber) -> StoreResult<Option<Party>> {
        self.party_where("org_number", org.to_string()).await
    }

    async fn person(&self, pid: &PersonNumber) -> StoreResult<Option<Party>> {
        self.party_where("person_number", pid.to_string()).await
    }

    async fn party_count(&self) -> StoreResult<i64> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM parties")
            .fetch_one(self.pool())
            .await?)
    }

    async fn add_role(
        &self,
        from: Uuid,
        to: Uuid,
        role_code: &str,
        changed_by: &str,
    ) -> StoreResult<bool> {
        let mut tx = self.begin_write().await?;
        let inserted = sqlx::query(
            "INSERT INTO er_roles (from_party, to_party, role_code, created_at) \
             VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
        )
        .bind(from.to_string())
        .bind(to.to_string())
        .bind(role_code)
        .bind(now_millis())
        .execute(&mut *tx)
        .await?
        .rows_affected()
            == 1;
        if inserted {
            record_role_change(
                &mut tx,
                (from, to, role_code),
                RoleChangeKind::Added,
                changed_by,
            )
            .await?;
        }
        tx.commit().await?;
        Ok(inserted)
    }

    async fn remove_role(
        &self,
        from: Uuid,
        to: Uuid,
        role_code: &str,
        changed_by: &str,
    ) -> StoreResult<bool> {
        let mut tx = self.begin_write().await?;
        let deleted = sqlx::query(
            "DELETE FROM er_roles WHERE from_party = $1 AND to_party = $2 AND role_code = $3",
        )
        .bind(from.to_string())
        .bind(to.to_string())
        .bind(role_code)
        .execute(&mut *tx)
        .await?
        .rows_affected()
            == 1;
        if deleted {
            record_role_change(
                &mut tx,
                (from, to, role_code),
                RoleChangeKind::Removed,
                changed_by,
            )
            .await?;
        }
        tx.commit().await?;
        Ok(deleted)
    }

    async fn roles_in(&self, org: Uuid) -> StoreResult<Vec<RoleAssignment>> {
        self.roles_where("from_party", org).await
    }

    async fn roles_held_by(&self, holder: Uuid) -> StoreResult<Vec<RoleAssignment>> {
        self.roles_where("to_party", holder).await
    }

    async fn role_changes_since(&self, after: i64, limit: i64) -> StoreResult<Vec<RoleChange>> {
        let rows = sqlx::query(
            "SELECT seq, from_party, to_party, role_code, change, changed_at, changed_by \
             FROM role_changes WHERE seq > $1 ORDER BY seq LIMIT $2",
        )
        .bind(after)
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|row| {
                let change: String = row.try_get("change")?;
                Ok(RoleChange {
                    seq: row.try_get("seq")?,
                    from: parse_uuid(&row.try_get::<String, _>("from_party")?)?,
                    to: parse_uuid(&row.try_get::<String, _>("to_party")?)?,
                    role_code: row.try_get("role_code")?,
                    kind: if change == "added" {
                        RoleChangeKind::Added
                    } else {
                        RoleChangeKind::Removed
                    },
                    changed_at: row.try_get("changed_at")?,
                    changed_by: row.try_get("changed_by")?,
                })
            })
            .collect()
    }
}
