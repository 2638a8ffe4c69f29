//! What system users hold: rows in the delegation tables of migration 0003, from the
//! owner organisation to the system user's id, each addition and removal logged.

use sqlx::{Any, Row, Transaction};
use uuid::Uuid;

use crate::history::Actor;
use crate::{SqlStore, StoreResult, now_millis};

/// A right on one resource and action, as granted to a system user.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ResourceGrant {
    pub resource_id: String,
    pub action: String,
}

/// What a system user holds from its owner: package codes and resource rights.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Grants {
    pub packages: Vec<String>,
    pub rights: Vec<ResourceGrant>,
}

/// Changes to a system user's grants: packages and rights to add; packages and whole
/// resources (every action) to remove.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GrantChanges {
    pub add: Grants,
    pub remove_packages: Vec<String>,
    pub remove_resources: Vec<String>,
}

/// Appends to the delegation tables' own history (`delegation_changes`).
async fn delegation_change(
    tx: &mut Transaction<'_, Any>,
    (kind, from, to): (&str, Uuid, Uuid),
    subject: &str,
    change: &str,
    actor: &Actor,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO delegation_changes (kind, from_party, to_party, subject, change, changed_at, \
         changed_by) VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(kind)
    .bind(from.to_string())
    .bind(to.to_string())
    .bind(subject)
    .bind(change)
    .bind(now_millis())
    .bind(&actor.name)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Grants `grants` from `owner` to `user`; what exists already is left as it is.
pub(super) async fn add_grants(
    tx: &mut Transaction<'_, Any>,
    owner: Uuid,
    user: Uuid,
    grants: &Grants,
    actor: &Actor,
) -> StoreResult<()> {
    let now = now_millis();
    for package in &grants.packages {
        let added = sqlx::query(
            "INSERT INTO package_delegations (from_party, to_party, package_code, can_delegate, \
             created_at, created_by) VALUES ($1, $2, $3, FALSE, $4, $5) ON CONFLICT DO NOTHING",
        )
        .bind(owner.to_string())
        .bind(user.to_string())
        .bind(package)
        .bind(now)
        .bind(&actor.name)
        .execute(&mut **tx)
        .await?
        .rows_affected();
        if added == 1 {
            delegation_change(tx, ("package", owner, user), package, "added", actor).await?;
        }
    }
    for right in &grants.rights {
        let added = sqlx::query(
            "INSERT INTO resource_rights (from_party, to_party, resource_id, action, created_at, \
             created_by) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
        )
        .bind(owner.to_string())
        .bind(user.to_string())
        .bind(&right.resource_id)
        .bind(&right.action)
        .bind(now)
        .bind(&actor.name)
        .execute(&mut **tx)
        .await?
        .rows_affected();
        if added == 1 {
            let subject = format!("{}:{}", right.resource_id, right.action);
            delegation_change(tx, ("right", owner, user), &subject, "added", actor).await?;
        }
    }
    Ok(())
}

pub(super) async fn grants_in(conn: &mut sqlx::AnyConnection, user: Uuid) -> StoreResult<Grants> {
    let packages: Vec<String> = sqlx::query_scalar(
        "SELECT d.package_code FROM package_delegations d JOIN system_users u \
         ON u.id = d.to_party AND u.owner_party_uuid = d.from_party WHERE d.to_party = $1 \
         ORDER BY d.package_code",
    )
    .bind(user.to_string())
    .fetch_all(&mut *conn)
    .await?;
    let rows = sqlx::query(
        "SELECT r.resource_id, r.action FROM resource_rights r JOIN system_users u \
         ON u.id = r.to_party AND u.owner_party_uuid = r.from_party WHERE r.to_party = $1 \
         ORDER BY r.resource_id, r.action",
    )
    .bind(user.to_string())
    .fetch_all(&mut *conn)
    .await?;
    let rights = rows
        .iter()
        .map(|row| {
            Ok(ResourceGrant {
                resource_id: row.try_get("resource_id")?,
                action: row.try_get("action")?,
            })
        })
        .collect::<StoreResult<Vec<_>>>()?;
    Ok(Grants { packages, rights })
}

/// Removes packages and whole resources from `user`, recording each removal.
pub(super) async fn remove_grants(
    tx: &mut Transaction<'_, Any>,
    owner: Uuid,
    user: Uuid,
    packages: &[String],
    resources: &[String],
    actor: &Actor,
) -> StoreResult<()> {
    for package in packages {
        let removed = sqlx::query(
            "DELETE FROM package_delegations WHERE from_party = $1 AND to_party = $2 AND package_code = $3",
        )
        .bind(owner.to_string())
        .bind(user.to_string())
        .bind(package)
        .execute(&mut **tx)
        .await?
        .rows_affected();
        if removed > 0 {
            delegation_change(tx, ("package", owner, user), package, "removed", actor).await?;
        }
    }
    for resource in resources {
        let actions: Vec<String> = sqlx::query_scalar(
            "DELETE FROM resource_rights WHERE from_party = $1 AND to_party = $2 AND resource_id = $3 \
             RETURNING action",
        )
        .bind(owner.to_string())
        .bind(user.to_string())
        .bind(resource)
        .fetch_all(&mut **tx)
        .await?;
        for action in actions {
            let subject = format!("{resource}:{action}");
            delegation_change(tx, ("right", owner, user), &subject, "removed", actor).await?;
        }
    }
    Ok(())
}

/// What the system user holds from its owner now.
pub(super) async fn held(store: &SqlStore, id: Uuid) -> StoreResult<Grants> {
    let mut conn = store.pool().acquire().await?;
    grants_in(&mut conn, id).await
}
