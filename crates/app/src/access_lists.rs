//! Access lists of the resource registry (docs/authorization.md#access-lists): a resource
//! owner's named lists of organisations, connected to its resources with an optional
//! action filter. When a resource's `accessListMode` is `Enabled`, the PDP lets a Permit
//! stand only for an organisation on a connected list (`pdp/access_lists.rs`).
//!
//! Owners manage their own lists only. An owner is named as the reference names it, by
//! its org code (`skd`), or by its organisation number; the caller's organisation must be
//! that owner (for a code: the competent authority of a resource carrying that code).

use systembruker_domain::OrgNumber;
use systembruker_domain::party::Party;
use systembruker_storage::{
    AccessList, AccessListConnection, AccessListMember, ListKey, MemberChange,
};
use uuid::Uuid;

use crate::{App, AppError, AppResult, Caller};

/// At most this many members per add, remove or replace (as the reference).
pub const MAX_MEMBERS_PER_CHANGE: usize = 100;

/// An owner: 2 to 20 of `a-z`, `0-9` (an org code or an organisation number).
fn is_owner_name(owner: &str) -> bool {
    (2..=20).contains(&owner.len())
        && owner
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
}

/// A list identifier: 1 to 100 of `a-z`, `0-9`, `-`, `_`, starting with a letter or digit.
fn is_list_identifier(identifier: &str) -> bool {
    let mut bytes = identifier.bytes();
    identifier.len() <= 100
        && bytes
            .next()
            .is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        && bytes.all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
}

/// A party a members request names, parsed from its URN.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PartyRef {
    Uuid(Uuid),
    Id(i64),
    Organization(OrgNumber),
}

impl PartyRef {
    /// `urn:altinn:party:uuid:…`, `urn:altinn:party:id:…` or
    /// `urn:altinn:organization:identifier-no:…`.
    pub fn parse(urn: &str) -> Result<Self, String> {
        let bad = || {
            format!(
                "{urn:?} is not a party URN (urn:altinn:organization:identifier-no:<orgno>, urn:altinn:party:uuid:<uuid> or urn:altinn:party:id:<id>)"
            )
        };
        if let Some(value) = urn.strip_prefix("urn:altinn:organization:identifier-no:") {
            return OrgNumber::parse(value)
                .map(Self::Organization)
                .map_err(|_| format!("{value:?} is not a valid organisation number"));
        }
        if let Some(value) = urn.strip_prefix("urn:altinn:party:uuid:") {
            return Uuid::parse_str(value).map(Self::Uuid).map_err(|_| bad());
        }
        if let Some(value) = urn.strip_prefix("urn:altinn:party:id:") {
            return value.parse().map(Self::Id).map_err(|_| bad());
        }
        Err(bad())
    }
}

/// A list with the data a request asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListWith<T> {
    pub list: AccessList,
    pub data: T,
}

/// Checks the owner and identifier in a path.
pub fn check_key(key: ListKey<'_>) -> AppResult<()> {
    check_owner_name(key.owner)?;
    if !is_list_identifier(key.identifier) {
        return Err(AppError::invalid_field(
            "/identifier",
            "an access list identifier is 1 to 100 characters of a-z, 0-9, '-' and '_', starting with a letter or digit",
        ));
    }
    Ok(())
}

fn check_owner_name(owner: &str) -> AppResult<()> {
    if is_owner_name(owner) {
        return Ok(());
    }
    Err(AppError::invalid_field(
        "/owner",
        "the owner is an org code (e.g. skd) or an organisation number",
    ))
}

/// The caller must be the owner (or an operator).
async fn check_owner(app: &App, caller: &Caller, owner: &str) -> AppResult<()> {
    check_owner_name(owner)?;
    if caller.is_admin() {
        return Ok(());
    }
    let Some(org) = caller.consumer_org.as_ref() else {
        return Err(AppError::Forbidden(
            "access lists are managed with a Maskinporten token of the owner organisation".into(),
        ));
    };
    if owner == org.as_str() || owns_code(app, org, owner).await? {
        return Ok(());
    }
    Err(AppError::Forbidden(format!(
        "organisation {org} is not the owner {owner:?}: owners manage their own access lists only"
    )))
}

/// Whether `org` is the competent authority of a resource with org code `code`.
async fn owns_code(app: &App, org: &OrgNumber, code: &str) -> AppResult<bool> {
    let resources = app.store.resources().await?;
    Ok(resources.iter().any(|stored| {
        let authority = &stored.resource.has_competent_authority;
        authority.organization == *org
            && authority
                .orgcode
                .as_deref()
                .is_some_and(|c| c.eq_ignore_ascii_case(code))
    }))
}

async fn existing(app: &App, key: ListKey<'_>) -> AppResult<AccessList> {
    app.store.access_list(key).await?.ok_or_else(|| {
        AppError::NotFound(format!(
            "access list {:?} of {:?} does not exist",
            key.identifier, key.owner
        ))
    })
}

/// The owner's lists.
pub async fn lists(app: &App, caller: &Caller, owner: &str) -> AppResult<Vec<AccessList>> {
    check_owner(app, caller, owner).await?;
    Ok(app.store.access_lists(owner).await?)
}

/// One list.
pub async fn get(app: &App, caller: &Caller, key: ListKey<'_>) -> AppResult<AccessList> {
    check_key(key)?;
    check_owner(app, caller, key.owner).await?;
    existing(app, key).await
}

/// Creates the list or changes its name and description; `true` when created.
pub async fn upsert(
    app: &App,
    caller: &Caller,
    key: ListKey<'_>,
    name: &str,
    description: &str,
) -> AppResult<(AccessList, bool)> {
    check_key(key)?;
    if name.trim().is_empty() {
        return Err(AppError::invalid_field("/name", "a name is required"));
    }
    check_owner(app, caller, key.owner).await?;
    Ok(app
        .store
        .upsert_access_list(key, name.trim(), description, &crate::actor(caller))
        .await?)
}

/// Deletes the list; `None` when there was none.
pub async fn delete(app: &App, caller: &Caller, key: ListKey<'_>) -> AppResult<Option<AccessList>> {
    check_key(key)?;
    check_owner(app, caller, key.owner).await?;
    Ok(app
        .store
        .delete_access_list(key, &crate::actor(caller))
        .await?)
}

/// The list's members.
pub async fn members(
    app: &App,
    caller: &Caller,
    key: ListKey<'_>,
) -> AppResult<ListWith<Vec<AccessListMember>>> {
    let list = get(app, caller, key).await?;
    let data = app.store.access_list_members(list.id).await?;
    Ok(ListWith { list, data })
}

/// Adds, removes or replaces members: organisations of the register.
pub async fn change_members(
    app: &App,
    caller: &Caller,
    key: ListKey<'_>,
    change: MemberChange,
    parties: &[PartyRef],
) -> AppResult<ListWith<Vec<AccessListMember>>> {
    check_key(key)?;
    if parties.len() > MAX_MEMBERS_PER_CHANGE {
        return Err(AppError::invalid_field(
            "/data",
            format!("at most {MAX_MEMBERS_PER_CHANGE} members per request"),
        ));
    }
    check_owner(app, caller, key.owner).await?;
    existing(app, key).await?;
    let mut uuids = Vec::with_capacity(parties.len());
    for (index, party) in parties.iter().enumerate() {
        uuids.push(member_party(app, party, index).await?.uuid);
    }
    let list = app
        .store
        .change_access_list_members(key, change, &uuids, &crate::actor(caller))
        .await?;
    let data = app.store.access_list_members(list.id).await?;
    Ok(ListWith { list, data })
}

/// The registered organisation a members request names.
async fn member_party(app: &App, party: &PartyRef, index: usize) -> AppResult<Party> {
    let found = match party {
        PartyRef::Uuid(uuid) => app.store.party_by_uuid(*uuid).await?,
        PartyRef::Id(id) => app.store.party_by_id(*id).await?,
        PartyRef::Organization(org) => app.store.organization(org).await?,
    };
    let path = format!("/data/{index}");
    match found {
        Some(party) if party.org_number().is_some() => Ok(party),
        Some(_) => Err(AppError::invalid_field(
            path,
            "only organisations can be on an access list",
        )),
        None => Err(AppError::invalid_field(
            path,
            "the party is not in the register",
        )),
    }
}

/// The list's resource connections.
pub async fn connections(
    app: &App,
    caller: &Caller,
    key: ListKey<'_>,
) -> AppResult<ListWith<Vec<AccessListConnection>>> {
    let list = get(app, caller, key).await?;
    let data = app.store.access_list_connections(list.id).await?;
    Ok(ListWith { list, data })
}

/// Connects the list to one of the owner's resources, letting `actions` through (empty:
/// every action).
pub async fn connect(
    app: &App,
    caller: &Caller,
    key: ListKey<'_>,
    resource_id: &str,
    actions: &[String],
) -> AppResult<ListWith<AccessListConnection>> {
    check_key(key)?;
    if actions.iter().any(|a| a.trim().is_empty()) {
        return Err(AppError::invalid_field(
            "/actionFilters",
            "an action filter must not be blank",
        ));
    }
    check_owner(app, caller, key.owner).await?;
    existing(app, key).await?;
    // The resource must be the caller's too: no one gates another owner's resource.
    crate::resources::owned(app, caller, resource_id)
        .await
        .map_err(|err| match err {
            AppError::Forbidden(detail) => AppError::Forbidden(format!(
                "an access list may only be connected to its owner's resources: {detail}"
            )),
            other => other,
        })?;
    let mut actions: Vec<String> = actions.iter().map(|a| a.trim().to_string()).collect();
    actions.sort();
    actions.dedup();
    let (list, data) = app
        .store
        .upsert_access_list_connection(key, resource_id, &actions, &crate::actor(caller))
        .await?;
    Ok(ListWith { list, data })
}

/// Removes a connection; `None` when there was none.
pub async fn disconnect(
    app: &App,
    caller: &Caller,
    key: ListKey<'_>,
    resource_id: &str,
) -> AppResult<Option<ListWith<AccessListConnection>>> {
    check_key(key)?;
    check_owner(app, caller, key.owner).await?;
    existing(app, key).await?;
    let removed = app
        .store
        .delete_access_list_connection(key, resource_id, &crate::actor(caller))
        .await?;
    Ok(removed.map(|(list, data)| ListWith { list, data }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_member_is_named_by_org_number_party_uuid_or_party_id() {
        assert_eq!(
            PartyRef::parse("urn:altinn:organization:identifier-no:974761076"),
            Ok(PartyRef::Organization(
                OrgNumber::parse("974761076").unwrap_or_else(|_| unreachable!())
            ))
        );
        assert_eq!(
            PartyRef::parse("urn:altinn:party:id:5"),
            Ok(PartyRef::Id(5))
        );
        assert!(PartyRef::parse("urn:altinn:party:uuid:not-a-uuid").is_err());
        assert!(PartyRef::parse("urn:altinn:organization:identifier-no:974761077").is_err());
        assert!(PartyRef::parse("974761076").is_err());
    }

    #[test]
    fn an_owner_and_an_identifier_are_short_slugs() {
        let key = |owner, identifier| ListKey { owner, identifier };
        assert!(check_key(key("skd", "godkjente-banker")).is_ok());
        assert!(check_key(key("974761076", "a")).is_ok());
        assert!(check_key(key("SKD", "liste")).is_err());
        assert!(check_key(key("skd", "Liste med mellomrom")).is_err());
        assert!(check_key(key("skd", "-start")).is_err());
    }
}
