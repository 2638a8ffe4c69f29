//! The policy information point: every fact the catalogue's rules (`packages_held`,
//! `can_delegate`) and the PDP need about one subject acting for one party, fetched in
//! four indexed queries (no N+1), plus the change counters that tell caches whether
//! those facts are still current.

use std::collections::HashMap;

use sqlx::Row;
use systembruker_domain::catalogue::{
    InMemoryFacts, OrgFacts, PackageDelegation, PartyKey, RoleFact, RoleFacts, own_party_role,
};
use uuid::Uuid;

use crate::delegations::{ResourceRight, resource_right_from_row};
use crate::sql::parse_uuid;
use crate::{AuthzVersions, SqlStore, StoreResult};

/// What is known about `subject` acting for `party`: the subject's roles (anywhere, to
/// find its key roles), the roles and packages `party` and its main unit gave the
/// subject and the organisations it holds roles in, and the resource rights given to it.
/// A person acting for themselves also holds `privatperson` (PRIV) for their own party
/// (`own_party_role`), which no register stores.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SubjectFacts {
    pub subject: Uuid,
    pub party: Uuid,
    /// The party's hovedenhet, when it is a sub-unit.
    pub main_unit: Option<Uuid>,
    /// Roles, organisations and package delegations, as the catalogue rules read them.
    pub facts: InMemoryFacts,
    /// Rights the party (or its main unit) gave the subject directly.
    pub rights: Vec<ResourceRight>,
}

impl SubjectFacts {
    /// The roles the subject holds directly in the party or its main unit.
    pub fn direct_roles(&self) -> impl Iterator<Item = &RoleFact> {
        self.facts.roles().iter().filter(move |fact| {
            fact.to == self.subject
                && (fact.from == self.party || Some(fact.from) == self.main_unit)
        })
    }

    /// Whether a right on `resource_id` × `action` was given to the subject directly.
    pub fn has_right(&self, resource_id: &str, action: &str) -> bool {
        self.rights
            .iter()
            .any(|r| r.resource_id == resource_id && r.action.eq_ignore_ascii_case(action))
    }
}

impl RoleFacts for SubjectFacts {
    fn roles_held_by(&self, holder: PartyKey) -> Vec<RoleFact> {
        self.facts.roles_held_by(holder)
    }

    fn org(&self, key: PartyKey) -> Option<OrgFacts> {
        self.facts.org(key)
    }

    fn delegated_packages(&self, from: PartyKey, to: PartyKey) -> Vec<PackageDelegation> {
        self.facts.delegated_packages(from, to)
    }
}

#[async_trait::async_trait]
pub trait PipStore {
    /// The current change counters: as of a moment after the call began (concurrent
    /// callers may share one read of the database).
    async fn authz_versions(&self) -> StoreResult<AuthzVersions>;
    /// Every fact about `subject` acting for `party` (see [`SubjectFacts`]).
    async fn subject_facts(&self, subject: Uuid, party: Uuid) -> StoreResult<SubjectFacts>;
}

/// The party as the facts need it: its main unit, the forms of both, and its type.
#[derive(Default)]
struct PartyShape {
    main_unit: Option<Uuid>,
    orgs: HashMap<Uuid, OrgFacts>,
    is_person: bool,
}

/// "The subject itself, or an organisation the subject holds any role in" — the
/// receivers whose grants from the party can reach the subject (directly, or through
/// a key role; the rules check which roles are key roles).
const RECEIVERS: &str =
    "(to_party = $1 OR to_party IN (SELECT from_party FROM er_roles WHERE to_party = $1))";

impl SqlStore {
    /// The party and its main unit, with their forms, and whether the party is a person.
    async fn party_and_main_unit(&self, party: Uuid) -> StoreResult<PartyShape> {
        let rows = sqlx::query(
            "SELECT party_uuid, party_type, unit_type, main_unit_uuid FROM parties WHERE party_uuid = $1 \
             OR party_uuid = (SELECT main_unit_uuid FROM parties WHERE party_uuid = $1)",
        )
        .bind(party.to_string())
        .fetch_all(self.pool())
        .await?;
        let mut shape = PartyShape::default();
        for row in rows {
            let key = parse_uuid(&row.try_get::<String, _>("party_uuid")?)?;
            let main = row
                .try_get::<Option<String>, _>("main_unit_uuid")?
                .map(|s| parse_uuid(&s))
                .transpose()?;
            if key == party {
                shape.main_unit = main;
                shape.is_person = row.try_get::<String, _>("party_type")? == "person";
            }
            let unit_type: Option<String> = row.try_get("unit_type")?;
            let facts = OrgFacts {
                unit_type: unit_type.unwrap_or_default(),
                main_unit: main,
            };
            shape.orgs.insert(key, facts);
        }
        Ok(shape)
    }

    /// The subject's own roles anywhere, and the roles the givers gave the
    /// organisations the subject holds roles in.
    async fn roles_for(&self, subject: Uuid, givers: (Uuid, Uuid)) -> StoreResult<Vec<RoleFact>> {
        let rows = sqlx::query(trusted_sql!(
            "SELECT from_party, to_party, role_code FROM er_roles WHERE to_party = $1 \
             OR (from_party IN ($2, $3) AND {RECEIVERS})"
        ))
        .bind(subject.to_string())
        .bind(givers.0.to_string())
        .bind(givers.1.to_string())
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|row| {
                Ok(RoleFact {
                    from: parse_uuid(&row.try_get::<String, _>("from_party")?)?,
                    to: parse_uuid(&row.try_get::<String, _>("to_party")?)?,
                    role: row.try_get("role_code")?,
                })
            })
            .collect()
    }

    /// Packages given to the subject or its organisations, and the packages clients
    /// delegated to it when it is an agent system user (migration 0005).
    async fn delegations_for(
        &self,
        subject: Uuid,
        givers: (Uuid, Uuid),
    ) -> StoreResult<Vec<PackageDelegation>> {
        let rows = sqlx::query(trusted_sql!(
            "SELECT from_party, to_party, package_code, \
             CAST(CASE WHEN can_delegate THEN 1 ELSE 0 END AS BIGINT) AS can_delegate FROM package_delegations \
             WHERE from_party IN ($2, $3) AND {RECEIVERS} \
             UNION ALL \
             SELECT client_party, system_user_id, package_code, CAST(0 AS BIGINT) \
             FROM client_delegations WHERE system_user_id = $1 AND client_party IN ($2, $3)"
        ))
        .bind(subject.to_string())
        .bind(givers.0.to_string())
        .bind(givers.1.to_string())
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|row| {
                Ok(PackageDelegation {
                    from: parse_uuid(&row.try_get::<String, _>("from_party")?)?,
                    to: parse_uuid(&row.try_get::<String, _>("to_party")?)?,
                    package: row.try_get("package_code")?,
                    can_delegate: row.try_get::<i64, _>("can_delegate")? != 0,
                })
            })
            .collect()
    }

    async fn rights_for(
        &self,
        subject: Uuid,
        givers: (Uuid, Uuid),
    ) -> StoreResult<Vec<ResourceRight>> {
        let rows = sqlx::query(
            "SELECT from_party, to_party, resource_id, action, created_at, created_by \
             FROM resource_rights WHERE to_party = $1 AND from_party IN ($2, $3)",
        )
        .bind(subject.to_string())
        .bind(givers.0.to_string())
        .bind(givers.1.to_string())
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(resource_right_from_row).collect()
    }
}

#[async_trait::async_trait]
impl PipStore for SqlStore {
    async fn authz_versions(&self) -> StoreResult<AuthzVersions> {
        Ok(self.counters().await?.authz)
    }

    async fn subject_facts(&self, subject: Uuid, party: Uuid) -> StoreResult<SubjectFacts> {
        let PartyShape {
            main_unit,
            orgs,
            is_person,
        } = self.party_and_main_unit(party).await?;
        // Without a main unit the party is bound twice, which keeps one statement shape.
        let givers = (party, main_unit.unwrap_or(party));
        let mut roles = self.roles_for(subject, givers).await?;
        roles.extend(own_party_role(subject, party, is_person));
        let delegations = self.delegations_for(subject, givers).await?;
        let rights = self.rights_for(subject, givers).await?;
        Ok(SubjectFacts {
            subject,
            party,
            main_unit,
            facts: InMemoryFacts::new(roles, orgs, delegations),
            rights,
        })
    }
}
