//! Clients of a facilitator and the client delegations of its agent system users
//! (docs/rules.md#clients). The database keeps the cascade: a delegation row references
//! the ER role or the package delegation it rests on, so ending the relation removes it
//! (migration 0005), and the history records every removal, cascades included.

use std::collections::{HashMap, HashSet};

use sqlx::Row;
use sqlx::any::AnyRow;
use systembruker_domain::clients::{CLIENT_ROLES, ClientRelation, ProvidedPackage};
use uuid::Uuid;

use crate::history::record;
use crate::sql::parse_uuid;
use crate::{Actor, SqlStore, StoreError, StoreResult, now_millis};

/// An organisation with at least one client relation to the facilitator.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ClientCandidate {
    pub party: Uuid,
    pub party_id: i64,
    pub org_number: String,
    pub name: String,
    pub unit_type: Option<String>,
    pub relations: Vec<ClientRelation>,
}

/// A client to delegate to an agent, with one entry per package of the agent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewClientDelegation {
    pub client: Uuid,
    pub packages: Vec<ProvidedPackage>,
}

/// A client delegated to an agent system user.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DelegatedClient {
    pub client: Uuid,
    pub party_id: i64,
    pub org_number: String,
    pub name: String,
    pub packages: Vec<String>,
    pub created_at: i64,
}

#[async_trait::async_trait]
pub trait ClientDelegationStore {
    /// Every organisation that gave `facilitator` a client role or delegated it a
    /// package, by name, with its relations (two indexed queries, whatever the count).
    async fn clients_of(&self, facilitator: Uuid) -> StoreResult<Vec<ClientCandidate>>;
    /// One client of `facilitator`, or `None` when it has no client relation to it.
    async fn client_of(
        &self,
        facilitator: Uuid,
        client: Uuid,
    ) -> StoreResult<Option<ClientCandidate>>;
    /// Delegates the clients to the agent system user `user` of `facilitator`, all or
    /// nothing; clients already delegated are left as they are. Returns how many were
    /// new. A relation that ended meanwhile makes the whole call fail (`Invalid`).
    async fn add_clients(
        &self,
        user: Uuid,
        facilitator: Uuid,
        clients: &[NewClientDelegation],
        actor: &Actor,
    ) -> StoreResult<u64>;
    /// Removes one client from the agent system user; `false` when it was not delegated.
    async fn remove_client(&self, user: Uuid, client: Uuid, actor: &Actor) -> StoreResult<bool>;
    /// The clients delegated to the agent system user, by name.
    async fn delegated_clients(&self, user: Uuid) -> StoreResult<Vec<DelegatedClient>>;
}

/// Rows per multi-row INSERT: well under both backends' limits on bound values.
const ROWS_PER_INSERT: usize = 400;

/// Groups `(party columns, relation)` rows by party.
fn candidates_from_rows(rows: &[AnyRow]) -> StoreResult<Vec<ClientCandidate>> {
    let mut order: Vec<ClientCandidate> = Vec::new();
    let mut index: HashMap<Uuid, usize> = HashMap::new();
    for row in rows {
        let party = parse_uuid(&row.try_get::<String, _>("party_uuid")?)?;
        let relation = match (
            row.try_get::<Option<String>, _>("role_code")?,
            row.try_get::<Option<String>, _>("package_code")?,
        ) {
            (Some(role), _) => ClientRelation::Role(role),
            (None, Some(package)) => ClientRelation::Package(package),
            (None, None) => return Err(StoreError::Corrupt("client row without relation".into())),
        };
        let at = *index.entry(party).or_insert_with(|| order.len());
        if at == order.len() {
            order.push(ClientCandidate {
                party,
                party_id: row.try_get("party_id")?,
                org_number: row
                    .try_get::<Option<String>, _>("org_number")?
                    .unwrap_or_default(),
                name: row.try_get("name")?,
                unit_type: row.try_get("unit_type")?,
                relations: Vec::new(),
            });
        }
        order[at].relations.push(relation);
    }
    Ok(order)
}

/// The client relations to `$1`, optionally limited to the client `$2` (bound NULL for all).
fn client_relations_sql() -> String {
    let roles = CLIENT_ROLES
        .iter()
        .map(|code| format!("'{code}'"))
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        "SELECT p.party_uuid, p.party_id, p.org_number, p.name, p.unit_type, \
                r.role_code AS role_code, CAST(NULL AS TEXT) AS package_code \
         FROM er_roles r JOIN parties p ON p.party_uuid = r.from_party \
         WHERE r.to_party = $1 AND r.role_code IN ({roles}) \
           AND ($2 IS NULL OR r.from_party = $2) \
         UNION ALL \
         SELECT p.party_uuid, p.party_id, p.org_number, p.name, p.unit_type, \
                CAST(NULL AS TEXT) AS role_code, d.package_code AS package_code \
         FROM package_delegations d JOIN parties p ON p.party_uuid = d.from_party \
         WHERE d.to_party = $1 AND p.party_type = 'organization' \
           AND ($2 IS NULL OR d.from_party = $2)"
    )
}

/// The relation columns of one delegated package.
fn via_columns(via: &Option<ClientRelation>) -> (Option<&str>, Option<&str>) {
    match via {
        Some(ClientRelation::Role(role)) => (Some(role.as_str()), None),
        Some(ClientRelation::Package(package)) => (None, Some(package.as_str())),
        None => (None, None),
    }
}

impl SqlStore {
    async fn client_relations(
        &self,
        facilitator: Uuid,
        client: Option<Uuid>,
    ) -> StoreResult<Vec<ClientCandidate>> {
        let rows = sqlx::query(trusted_sql!("{}", client_relations_sql()))
            .bind(facilitator.to_string())
            .bind(client.map(|c| c.to_string()))
            .fetch_all(self.pool())
            .await?;
        let mut candidates = candidates_from_rows(&rows)?;
        // Sorted here rather than by the database: a byte-order sort of 20,000 names
        // costs far less than a collation-aware ORDER BY, and is the same on both backends.
        candidates.sort_by(|a, b| a.name.cmp(&b.name).then(a.party.cmp(&b.party)));
        Ok(candidates)
    }
}

/// Inserts the delegation rows of `clients` in multi-row statements; returns the clients
/// that got at least one row. A concurrent call that delegated the same client first (on
/// PostgreSQL both may have read it as new) leaves its rows in place and this call's
/// rows out, so only one of them reports it (and writes its history).
async fn insert_rows(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    user: Uuid,
    facilitator: Uuid,
    clients: &[&NewClientDelegation],
    actor: &Actor,
) -> StoreResult<HashSet<String>> {
    let rows: Vec<(Uuid, &ProvidedPackage)> = clients
        .iter()
        .flat_map(|c| c.packages.iter().map(move |p| (c.client, p)))
        .collect();
    let now = now_millis();
    let mut inserted = HashSet::new();
    for chunk in rows.chunks(ROWS_PER_INSERT) {
        // Binds: $1 user, $2 facilitator, $3 time, then five per row.
        let values = (0..chunk.len())
            .map(|i| {
                let b = 3 + i * 5;
                format!(
                    "($1, ${}, $2, ${}, ${}, ${}, $3, ${})",
                    b + 1,
                    b + 2,
                    b + 3,
                    b + 4,
                    b + 5
                )
            })
            .collect::<Vec<_>>()
            .join(", ");
        let sql = trusted_sql!(
            "INSERT INTO client_delegations (system_user_id, client_party, facilitator, \
             package_code, via_role, via_package, created_at, created_by) VALUES {values} \
             ON CONFLICT (system_user_id, client_party, package_code) DO NOTHING \
             RETURNING client_party"
        );
        let mut query = sqlx::query(sql)
            .bind(user.to_string())
            .bind(facilitator.to_string())
            .bind(now);
        for (client, package) in chunk {
            let (role, delegated) = via_columns(&package.via);
            query = query
                .bind(client.to_string())
                .bind(package.package.clone())
                .bind(role.map(str::to_string))
                .bind(delegated.map(str::to_string))
                .bind(actor.name.clone());
        }
        for row in query.fetch_all(&mut **tx).await? {
            inserted.insert(row.try_get::<String, _>("client_party")?);
        }
    }
    Ok(inserted)
}

#[async_trait::async_trait]
impl ClientDelegationStore for SqlStore {
    async fn clients_of(&self, facilitator: Uuid) -> StoreResult<Vec<ClientCandidate>> {
        self.client_relations(facilitator, None).await
    }

    async fn client_of(
        &self,
        facilitator: Uuid,
        client: Uuid,
    ) -> StoreResult<Option<ClientCandidate>> {
        Ok(self
            .client_relations(facilitator, Some(client))
            .await?
            .pop())
    }

    async fn add_clients(
        &self,
        user: Uuid,
        facilitator: Uuid,
        clients: &[NewClientDelegation],
        actor: &Actor,
    ) -> StoreResult<u64> {
        let mut tx = self.begin_write().await?;
        let existing: Vec<String> = sqlx::query(
            "SELECT DISTINCT client_party FROM client_delegations WHERE system_user_id = $1",
        )
        .bind(user.to_string())
        .fetch_all(&mut *tx)
        .await?
        .iter()
        .map(|row| row.try_get::<String, _>("client_party"))
        .collect::<Result<_, _>>()?;
        let new: Vec<&NewClientDelegation> = clients
            .iter()
            .filter(|c| !existing.contains(&c.client.to_string()))
            .collect();
        let inserted = insert_rows(&mut tx, user, facilitator, &new, actor).await?;
        let new: Vec<&NewClientDelegation> = new
            .into_iter()
            .filter(|c| inserted.contains(&c.client.to_string()))
            .collect();
        for client in &new {
            let after = serde_json::json!({
                "client": client.client,
                "packages": client.packages,
            });
            record(
                &mut tx,
                actor,
                ("system_user", &user.to_string()),
                "client_added",
                None,
                Some(&after),
            )
            .await?;
        }
        tx.commit().await?;
        Ok(new.len() as u64)
    }

    async fn remove_client(&self, user: Uuid, client: Uuid, actor: &Actor) -> StoreResult<bool> {
        let mut tx = self.begin_write().await?;
        // Marked first, so the history trigger can name who removed it.
        sqlx::query(
            "UPDATE client_delegations SET removed_by = $1 \
             WHERE system_user_id = $2 AND client_party = $3",
        )
        .bind(&actor.name)
        .bind(user.to_string())
        .bind(client.to_string())
        .execute(&mut *tx)
        .await?;
        let removed = sqlx::query(
            "DELETE FROM client_delegations WHERE system_user_id = $1 AND client_party = $2",
        )
        .bind(user.to_string())
        .bind(client.to_string())
        .execute(&mut *tx)
        .await?
        .rows_affected();
        tx.commit().await?;
        Ok(removed > 0)
    }

    async fn delegated_clients(&self, user: Uuid) -> StoreResult<Vec<DelegatedClient>> {
        let rows = sqlx::query(
            "SELECT c.client_party, p.party_id, p.org_number, p.name, c.package_code, c.created_at \
             FROM client_delegations c JOIN parties p ON p.party_uuid = c.client_party \
             WHERE c.system_user_id = $1",
        )
        .bind(user.to_string())
        .fetch_all(self.pool())
        .await?;
        let mut clients: Vec<DelegatedClient> = Vec::new();
        let mut index: HashMap<Uuid, usize> = HashMap::new();
        for row in &rows {
            let client = parse_uuid(&row.try_get::<String, _>("client_party")?)?;
            let package: String = row.try_get("package_code")?;
            if let Some(&at) = index.get(&client) {
                clients[at].packages.push(package);
                continue;
            }
            index.insert(client, clients.len());
            clients.push(DelegatedClient {
                client,
                party_id: row.try_get("party_id")?,
                org_number: row
                    .try_get::<Option<String>, _>("org_number")?
                    .unwrap_or_default(),
                name: row.try_get("name")?,
                packages: vec![package],
                created_at: row.try_get("created_at")?,
            });
        }
        for client in &mut clients {
            client.packages.sort();
        }
        clients.sort_by(|a, b| a.name.cmp(&b.name).then(a.client.cmp(&b.client)));
        Ok(clients)
    }
}
