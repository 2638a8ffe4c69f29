//! The HTTP side of the access checks: the PDP the use cases ask, and the checks under
//! the names the handlers use. The checks themselves are `systembruker_app::access`.

use systembruker_app::access as app_access;
use systembruker_domain::rules::DelegationFailure;
use systembruker_storage::Grants;
use uuid::Uuid;

pub(crate) use systembruker_app::access::{Action, Need, Standing};

use crate::AppState;
use crate::auth::Caller;
use crate::problem::{ApiError, ApiResult};

/// A 500 for stored facts the catalogue does not know.
pub(crate) fn catalogue_mismatch(err: impl std::fmt::Display) -> ApiError {
    app_access::catalogue_mismatch(err).into()
}

pub(crate) async fn end_user(state: &AppState, caller: &Caller) -> ApiResult<Uuid> {
    Ok(app_access::end_user(&state.app, caller).await?)
}

pub(crate) async fn standing(state: &AppState, user: Uuid, party: Uuid) -> ApiResult<Standing> {
    Ok(app_access::standing(&state.app, user, party).await?)
}

pub(crate) async fn require(
    state: &AppState,
    caller: &Caller,
    party: Uuid,
    need: Need,
) -> ApiResult<Standing> {
    Ok(app_access::require(&state.app, caller, party, need).await?)
}

pub(crate) async fn access_manager(
    state: &AppState,
    caller: &Caller,
    party: Uuid,
) -> ApiResult<Standing> {
    Ok(app_access::access_manager(&state.app, caller, party).await?)
}

pub(crate) async fn delegation_check(
    state: &AppState,
    standing: &Standing,
    resources: &[String],
    packages: &[String],
) -> ApiResult<Grants> {
    Ok(app_access::delegation_check(&state.app, standing, resources, packages).await?)
}

pub(crate) async fn delegation_failures(
    state: &AppState,
    standing: &Standing,
    resources: &[String],
    packages: &[String],
) -> ApiResult<(Grants, Vec<DelegationFailure>)> {
    Ok(app_access::delegation_failures(&state.app, standing, resources, packages).await?)
}
