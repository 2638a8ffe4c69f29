//! Vendor requests, system users and change requests (docs/rules.md#system-users,
//! #requests, #change-requests).
//!
//! What a system user may do lives in the delegation tables of migration 0003: rows from
//! the owner organisation to the system user's id, written in the same transaction as
//! the approval (so the PDP sees them at once) and removed with the system user.
//! Approval is atomic: a conditional status update decides which of two concurrent
//! approvals wins, and a partial unique index allows one live system user per
//! (system, owner, external ref). Every answer to a request or change request goes
//! through [`lifecycle::apply`].

mod changes;
mod grants;
pub(crate) mod lifecycle;
mod requests;
mod users;

use sqlx::Row;
use sqlx::any::AnyRow;
use systembruker_domain::lifecycle::Transition;
use systembruker_domain::systemuser::{RequestStatus, SystemUserType};
use uuid::Uuid;

pub use changes::StoredChangeRequest;
pub use grants::{GrantChanges, Grants, ResourceGrant};
pub use requests::{RequestCreation, StoredRequest};
pub use users::{Approval, NewSystemUser, StoredSystemUser, SystemUserKey};

use crate::history::Actor;
use crate::{SqlStore, StoreError, StoreResult};
use lifecycle::Record;

#[async_trait::async_trait]
pub trait SystemUserStore {
    /// Stores a request (status `New`), or returns the live one of the same type and key.
    async fn create_request(
        &self,
        request: &StoredRequest,
        actor: &Actor,
    ) -> StoreResult<RequestCreation>;
    /// A request by id, deleted ones included.
    async fn request(&self, id: Uuid) -> StoreResult<Option<StoredRequest>>;
    /// The live request of `user_type` for `key`.
    async fn request_by_key(
        &self,
        key: &SystemUserKey,
        user_type: SystemUserType,
    ) -> StoreResult<Option<StoredRequest>>;
    /// Live requests of a system, ordered by id, after `after` (keyset paging).
    async fn requests_by_system(
        &self,
        system_id: &str,
        user_type: SystemUserType,
        after: Option<Uuid>,
        limit: i64,
    ) -> StoreResult<Vec<StoredRequest>>;
    /// Live, `New`, escalated requests for `party_org` (the access managers' pending list).
    async fn pending_requests(
        &self,
        party_org: &str,
        user_type: SystemUserType,
    ) -> StoreResult<Vec<StoredRequest>>;
    /// Soft-deletes a live request; `Ok(false)` when there was none.
    async fn delete_request(&self, id: Uuid, actor: &Actor) -> StoreResult<bool>;
    /// Marks a live `New` request escalated; `Ok(false)` when it is not live and `New`.
    async fn escalate_request(&self, id: Uuid, actor: &Actor) -> StoreResult<bool>;
    /// Moves a live `New` request to `status` (Rejected, Timedout); `Ok(false)` when it
    /// was not `New` any more.
    async fn close_request(
        &self,
        id: Uuid,
        status: RequestStatus,
        actor: &Actor,
    ) -> StoreResult<bool>;
    /// Marks every live `New` request created before `cutoff` `Timedout`; returns how many.
    async fn expire_requests(&self, cutoff: i64, actor: &Actor) -> StoreResult<u64>;
    /// Accepts a `New` request created at or after `cutoff` and creates its system user
    /// (id = request id) with `grants` from the owner, all in one transaction.
    async fn approve_request(
        &self,
        request_id: Uuid,
        user: &NewSystemUser,
        grants: &Grants,
        cutoff: i64,
        actor: &Actor,
    ) -> StoreResult<Approval>;
    /// Creates a system user without a request (end-user-driven), with `grants`.
    /// `Approval::KeyTaken` when a live user holds the key.
    async fn create_system_user(
        &self,
        user: &NewSystemUser,
        grants: &Grants,
        actor: &Actor,
    ) -> StoreResult<Approval>;
    /// A system user by id, deleted ones included.
    async fn system_user(&self, id: Uuid) -> StoreResult<Option<StoredSystemUser>>;
    /// Live system users owned by `owner_org` of `user_type`.
    async fn system_users_of(
        &self,
        owner_org: &str,
        user_type: SystemUserType,
    ) -> StoreResult<Vec<StoredSystemUser>>;
    /// Live system users of a system, ordered by id, after `after`.
    async fn system_users_by_system(
        &self,
        system_id: &str,
        after: Option<Uuid>,
        limit: i64,
    ) -> StoreResult<Vec<StoredSystemUser>>;
    async fn system_user_by_key(
        &self,
        key: &SystemUserKey,
    ) -> StoreResult<Option<StoredSystemUser>>;
    /// The Maskinporten lookup (docs/rules.md#maskinporten-lookup): a live user of a live
    /// system that lists `client_id` and belongs to `vendor_org`, owned by `key.org` with
    /// `key.external_ref`.
    async fn system_user_for_client(
        &self,
        client_id: &str,
        vendor_org: &str,
        owner_org: &str,
        external_ref: &str,
    ) -> StoreResult<Option<StoredSystemUser>>;
    /// Soft-deletes a live system user, revokes everything it holds and releases its
    /// request, so the key can be requested again. `Ok(false)` when there was none.
    async fn delete_system_user(&self, id: Uuid, actor: &Actor) -> StoreResult<bool>;
    /// What the system user holds from its owner now.
    async fn system_user_grants(&self, id: Uuid) -> StoreResult<Grants>;
    /// Stores a change request; `Conflict` when the id is taken.
    async fn create_change_request(
        &self,
        request: &StoredChangeRequest,
        actor: &Actor,
    ) -> StoreResult<()>;
    async fn change_request(&self, id: Uuid) -> StoreResult<Option<StoredChangeRequest>>;
    /// The newest live change request for `key`.
    async fn change_request_by_key(
        &self,
        key: &SystemUserKey,
    ) -> StoreResult<Option<StoredChangeRequest>>;
    async fn change_requests_by_system(
        &self,
        system_id: &str,
        after: Option<Uuid>,
        limit: i64,
    ) -> StoreResult<Vec<StoredChangeRequest>>;
    async fn delete_change_request(&self, id: Uuid, actor: &Actor) -> StoreResult<bool>;
    /// Moves a live `New` change request to `status` without changing grants.
    async fn close_change_request(
        &self,
        id: Uuid,
        status: RequestStatus,
        actor: &Actor,
    ) -> StoreResult<bool>;
    /// Accepts a live `New` change request and applies `changes` to its system user in
    /// one transaction; `Ok(false)` when it was not `New` any more.
    async fn approve_change_request(
        &self,
        id: Uuid,
        changes: &GrantChanges,
        actor: &Actor,
    ) -> StoreResult<bool>;
}

// ----- rows -----

fn json_text<T: serde::Serialize>(value: &T) -> StoreResult<String> {
    Ok(serde_json::to_string(value)?)
}

fn status_of(row: &AnyRow) -> StoreResult<RequestStatus> {
    let text: String = row.try_get("status")?;
    RequestStatus::parse(&text)
        .ok_or_else(|| StoreError::Corrupt(format!("request status {text:?}")))
}

fn user_type_of(row: &AnyRow) -> StoreResult<SystemUserType> {
    let text: String = row.try_get("user_type")?;
    SystemUserType::parse(&text)
        .ok_or_else(|| StoreError::Corrupt(format!("system user type {text:?}")))
}

fn json_of<T: serde::de::DeserializeOwned>(row: &AnyRow, column: &str) -> StoreResult<T> {
    Ok(serde_json::from_str(&row.try_get::<String, _>(column)?)?)
}

fn after_bind(after: Option<Uuid>) -> String {
    // Uuids as text sort the same way as the ids themselves; "" sorts before all of them.
    after.map(|id| id.to_string()).unwrap_or_default()
}

#[async_trait::async_trait]
impl SystemUserStore for SqlStore {
    async fn create_request(
        &self,
        request: &StoredRequest,
        actor: &Actor,
    ) -> StoreResult<RequestCreation> {
        requests::create(self, request, actor).await
    }

    async fn request(&self, id: Uuid) -> StoreResult<Option<StoredRequest>> {
        requests::by_id(self, id).await
    }

    async fn request_by_key(
        &self,
        key: &SystemUserKey,
        user_type: SystemUserType,
    ) -> StoreResult<Option<StoredRequest>> {
        requests::by_key(self, key, user_type).await
    }

    async fn requests_by_system(
        &self,
        system_id: &str,
        user_type: SystemUserType,
        after: Option<Uuid>,
        limit: i64,
    ) -> StoreResult<Vec<StoredRequest>> {
        requests::of_system(self, system_id, user_type, after, limit).await
    }

    async fn pending_requests(
        &self,
        party_org: &str,
        user_type: SystemUserType,
    ) -> StoreResult<Vec<StoredRequest>> {
        requests::pending(self, party_org, user_type).await
    }

    async fn delete_request(&self, id: Uuid, actor: &Actor) -> StoreResult<bool> {
        self.transition_one(Record::Request, Transition::Delete, id, actor)
            .await
    }

    async fn escalate_request(&self, id: Uuid, actor: &Actor) -> StoreResult<bool> {
        self.transition_one(Record::Request, Transition::Escalate, id, actor)
            .await
    }

    async fn close_request(
        &self,
        id: Uuid,
        status: RequestStatus,
        actor: &Actor,
    ) -> StoreResult<bool> {
        self.close_one(Record::Request, id, status, actor).await
    }

    async fn expire_requests(&self, cutoff: i64, actor: &Actor) -> StoreResult<u64> {
        requests::expire(self, cutoff, actor).await
    }

    async fn approve_request(
        &self,
        request_id: Uuid,
        user: &NewSystemUser,
        grants: &Grants,
        cutoff: i64,
        actor: &Actor,
    ) -> StoreResult<Approval> {
        requests::approve(self, request_id, (user, grants), cutoff, actor).await
    }

    async fn create_system_user(
        &self,
        user: &NewSystemUser,
        grants: &Grants,
        actor: &Actor,
    ) -> StoreResult<Approval> {
        users::create(self, user, grants, actor).await
    }

    async fn system_user(&self, id: Uuid) -> StoreResult<Option<StoredSystemUser>> {
        users::by_id(self, id).await
    }

    async fn system_users_of(
        &self,
        owner_org: &str,
        user_type: SystemUserType,
    ) -> StoreResult<Vec<StoredSystemUser>> {
        users::of_owner(self, owner_org, user_type).await
    }

    async fn system_users_by_system(
        &self,
        system_id: &str,
        after: Option<Uuid>,
        limit: i64,
    ) -> StoreResult<Vec<StoredSystemUser>> {
        users::of_system(self, system_id, after, limit).await
    }

    async fn system_user_by_key(
        &self,
        key: &SystemUserKey,
    ) -> StoreResult<Option<StoredSystemUser>> {
        users::by_key(self, key).await
    }

    async fn system_user_for_client(
        &self,
        client_id: &str,
        vendor_org: &str,
        owner_org: &str,
        external_ref: &str,
    ) -> StoreResult<Option<StoredSystemUser>> {
        users::for_client(self, client_id, vendor_org, owner_org, external_ref).await
    }

    async fn delete_system_user(&self, id: Uuid, actor: &Actor) -> StoreResult<bool> {
        users::delete(self, id, actor).await
    }

    async fn system_user_grants(&self, id: Uuid) -> StoreResult<Grants> {
        grants::held(self, id).await
    }

    async fn create_change_request(
        &self,
        request: &StoredChangeRequest,
        actor: &Actor,
    ) -> StoreResult<()> {
        changes::create(self, request, actor).await
    }

    async fn change_request(&self, id: Uuid) -> StoreResult<Option<StoredChangeRequest>> {
        changes::by_id(self, id).await
    }

    async fn change_request_by_key(
        &self,
        key: &SystemUserKey,
    ) -> StoreResult<Option<StoredChangeRequest>> {
        changes::by_key(self, key).await
    }

    async fn change_requests_by_system(
        &self,
        system_id: &str,
        after: Option<Uuid>,
        limit: i64,
    ) -> StoreResult<Vec<StoredChangeRequest>> {
        changes::of_system(self, system_id, after, limit).await
    }

    async fn delete_change_request(&self, id: Uuid, actor: &Actor) -> StoreResult<bool> {
        self.transition_one(Record::ChangeRequest, Transition::Delete, id, actor)
            .await
    }

    async fn close_change_request(
        &self,
        id: Uuid,
        status: RequestStatus,
        actor: &Actor,
    ) -> StoreResult<bool> {
        self.close_one(Record::ChangeRequest, id, status, actor)
            .await
    }

    async fn approve_change_request(
        &self,
        id: Uuid,
        changes: &GrantChanges,
        actor: &Actor,
    ) -> StoreResult<bool> {
        changes::approve(self, id, changes, actor).await
    }
}
