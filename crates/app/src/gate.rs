//! The end user's standing in a party and the delegation check, as the use cases of
//! requests, approval and system users need them. Both still live in the HTTP crate
//! (`authentication/access.rs`, on its way to this crate's `access` module); until they
//! arrive, the use cases reach them only through [`Gate`], which the HTTP crate
//! implements in one place.

use async_trait::async_trait;
use systembruker_storage::Grants;
use uuid::Uuid;

use crate::{AppResult, Caller};

/// What a use case needs the party's policy to permit the logged-in user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// Change the party's system access: approve, reject, create, delete.
    ManageAccess,
    /// List the party's system users and requests.
    ReadAccess,
    /// See one system user in detail, or list the agent system users.
    ReadOverview,
}

/// How a user stands towards a party, for the request page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Relation {
    /// May approve and reject.
    pub access_manager: bool,
    /// Has some role, package or right in the party: may at least escalate.
    pub related: bool,
}

/// The access checks the use cases call.
#[async_trait]
pub trait Gate: Send + Sync {
    /// What the check found about the user in the party; the delegation check reads it.
    type Standing: Send + Sync;

    /// The logged-in person's party uuid (refused without one).
    async fn end_user(&self, caller: &Caller) -> AppResult<Uuid>;

    /// How `user` stands towards `party`.
    async fn relation(&self, user: Uuid, party: Uuid) -> AppResult<Relation>;

    /// The logged-in user's standing in `party`, if it meets `need` (AUTH-00066 otherwise).
    async fn require(&self, caller: &Caller, party: Uuid, need: Need) -> AppResult<Self::Standing>;

    /// The grants to give for `resources` and `packages` (catalogue codes) when the user
    /// may delegate every one of them, else every failure.
    async fn delegation_check(
        &self,
        standing: &Self::Standing,
        resources: &[String],
        packages: &[String],
    ) -> AppResult<Grants>;
}
