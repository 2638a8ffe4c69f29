//! The one place where the use cases of `app::{requests, approval, systemusers}` reach
//! the access checks of `access.rs`. When those move into `app::access`, this adapter
//! goes away and the use cases call them directly.

use std::sync::Arc;

use async_trait::async_trait;
use systembruker_app::gate::{Gate, Need, Relation};
use systembruker_app::{AppError, AppResult, Caller};
use systembruker_storage::Grants;
use uuid::Uuid;

use super::access::{self, Standing};
use crate::AppState;
use crate::problem::ApiError;

/// The access checks of the HTTP crate, for the use cases.
pub(crate) struct AccessGate<'a>(pub &'a AppState);

/// An error of the access checks (their refusals included), passed through to be
/// answered as before.
fn passed(error: ApiError) -> AppError {
    AppError::Passed(Arc::new(error))
}

#[async_trait]
impl Gate for AccessGate<'_> {
    type Standing = Standing;

    async fn end_user(&self, caller: &Caller) -> AppResult<Uuid> {
        access::end_user(self.0, caller).await.map_err(passed)
    }

    async fn relation(&self, user: Uuid, party: Uuid) -> AppResult<Relation> {
        let standing = access::standing(self.0, user, party)
            .await
            .map_err(passed)?;
        Ok(Relation {
            access_manager: standing.access_manager,
            related: standing.related,
        })
    }

    async fn require(&self, caller: &Caller, party: Uuid, need: Need) -> AppResult<Standing> {
        let need = match need {
            Need::ManageAccess => access::Need::ManageAccess,
            Need::ReadAccess => access::Need::ReadAccess,
            Need::ReadOverview => access::Need::ReadOverview,
        };
        access::require(self.0, caller, party, need)
            .await
            .map_err(passed)
    }

    async fn delegation_check(
        &self,
        standing: &Standing,
        resources: &[String],
        packages: &[String],
    ) -> AppResult<Grants> {
        access::delegation_check(self.0, standing, resources, packages)
            .await
            .map_err(passed)
    }
}
