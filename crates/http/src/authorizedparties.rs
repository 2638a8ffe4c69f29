//! `GET /accessmanagement/api/v1/enduser/authorizedparties` (and the older
//! `/accessmanagement/api/v1/authorizedparties`): the parties the caller may act for. A
//! person's token lists theirs; a system user's token (from `/maskinporten/token`, with
//! `altinn:accessmanagement/authorizedparties`) lists its owner, or for an agent its
//! clients. The rules are `systembruker_app::authorized_parties`.

use axum::extract::{RawQuery, State};
use serde::{Deserialize, Serialize};
use systembruker_app::authorized_parties::{AuthorizedParty, authorized_parties};
use systembruker_domain::party::PartyKind;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::AppState;
use crate::auth::{Caller, ScopeRule, Scoped};
use crate::problem::{ApiError, ApiResult};

/// The scope of the authorized-parties API.
pub const AUTHORIZED_PARTIES_SCOPE: &str = "altinn:accessmanagement/authorizedparties";

/// A person in the portal, or a token with the authorized-parties scope.
pub struct AuthorizedPartiesScope;
impl ScopeRule for AuthorizedPartiesScope {
    const ANY_OF: &'static [&'static str] = &[AUTHORIZED_PARTIES_SCOPE, "altinn:portal/enduser"];
}

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(enduser_authorized_parties))
        .routes(routes!(authorized_parties_legacy))
}

/// The query parameters the reference defines that are acted on; any other is refused
/// (400), so that a caller never believes a filter was applied when it was not.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AuthorizedPartiesQuery {
    /// Altinn 2 authorizations: there are none here, so this changes nothing.
    include_altinn2: Option<bool>,
    /// `false` leaves every party out (all authorizations here are Altinn 3's).
    include_altinn3: Option<bool>,
    /// `false` leaves the roles out of each party.
    include_roles: Option<bool>,
    /// `false` leaves the access packages out of each party.
    include_access_packages: Option<bool>,
    /// `false` leaves the resources out of each party.
    include_resources: Option<bool>,
}

fn parse_query(raw: Option<&str>) -> ApiResult<AuthorizedPartiesQuery> {
    strict_query(raw)
}

/// Reads a query into `T`, whose unknown fields are refused: 400 as problem JSON.
pub(crate) fn strict_query<T: serde::de::DeserializeOwned>(raw: Option<&str>) -> ApiResult<T> {
    serde_urlencoded::from_str(raw.unwrap_or("")).map_err(|e| {
        ApiError::invalid_field(
            "STD-00010",
            "?",
            format!("the query is not one this endpoint acts on: {e}"),
        )
    })
}

/// A party the caller may act for, in the reference's shape.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AuthorizedPartyDto {
    pub party_uuid: Uuid,
    pub name: String,
    pub organization_number: Option<String>,
    /// Only for the caller's own party: no one else's national id number is shown.
    pub person_id: Option<String>,
    pub party_id: i64,
    /// `Organization` or `Person`.
    #[serde(rename = "type")]
    pub party_type: String,
    pub unit_type: Option<String>,
    pub is_deleted: bool,
    pub only_hierarchy_element_with_no_access: bool,
    pub authorized_access_packages: Vec<String>,
    pub authorized_resources: Vec<String>,
    pub authorized_roles: Vec<String>,
    /// Instance delegations are not kept here: always empty.
    #[schema(value_type = Vec<Object>)]
    pub authorized_instances: Vec<serde_json::Value>,
    /// Sub-units are listed as parties of their own: always empty.
    #[schema(value_type = Vec<Object>)]
    pub subunits: Vec<serde_json::Value>,
}

impl AuthorizedPartyDto {
    fn new(found: AuthorizedParty, caller: &Caller, query: &AuthorizedPartiesQuery) -> Self {
        let party = found.party;
        let (party_type, organization_number, person_id, unit_type) = match &party.kind {
            PartyKind::Organization {
                org_number,
                unit_type,
                ..
            } => (
                "Organization",
                Some(org_number.to_string()),
                None,
                unit_type.clone(),
            ),
            PartyKind::Person { person_number } => {
                let own = caller.pid.as_ref() == Some(person_number);
                ("Person", None, own.then(|| person_number.to_string()), None)
            }
        };
        let keep = |flag: Option<bool>, items: std::collections::BTreeSet<String>| {
            if flag.unwrap_or(true) {
                items.into_iter().collect()
            } else {
                Vec::new()
            }
        };
        Self {
            party_uuid: party.uuid,
            name: party.name,
            organization_number,
            person_id,
            party_id: party.id,
            party_type: party_type.to_string(),
            unit_type,
            is_deleted: false,
            only_hierarchy_element_with_no_access: false,
            authorized_access_packages: keep(query.include_access_packages, found.packages),
            authorized_resources: keep(query.include_resources, found.resources),
            authorized_roles: keep(query.include_roles, found.roles),
            authorized_instances: Vec::new(),
            subunits: Vec::new(),
        }
    }
}

async fn answer(
    state: &AppState,
    caller: &Caller,
    raw: Option<&str>,
) -> ApiResult<axum::Json<Vec<AuthorizedPartyDto>>> {
    let query = parse_query(raw)?;
    let _ = query.include_altinn2;
    if query.include_altinn3 == Some(false) {
        return Ok(axum::Json(Vec::new()));
    }
    let found = authorized_parties(&state.app, caller).await?;
    Ok(axum::Json(
        found
            .into_iter()
            .map(|p| AuthorizedPartyDto::new(p, caller, &query))
            .collect(),
    ))
}

#[utoipa::path(get, path = "/accessmanagement/api/v1/enduser/authorizedparties", tag = "accessmanagement",
    description = "The parties the caller may act for: a person's own party, the organisations they hold a role in or received packages from (and through a key role, what their organisation holds); a system user's owner, or an agent system user's clients.",
    params(AuthorizedPartiesQuery),
    security(("bearer" = ["altinn:accessmanagement/authorizedparties", "altinn:portal/enduser"])),
    responses((status = 200, body = Vec<AuthorizedPartyDto>), (status = 400, body = crate::problem::ProblemBody),
        (status = 401, body = crate::problem::ProblemBody), (status = 403, body = crate::problem::ProblemBody)))]
async fn enduser_authorized_parties(
    State(state): State<AppState>,
    caller: Scoped<AuthorizedPartiesScope>,
    RawQuery(raw): RawQuery,
) -> ApiResult<axum::Json<Vec<AuthorizedPartyDto>>> {
    answer(&state, &caller, raw.as_deref()).await
}

#[utoipa::path(get, path = "/accessmanagement/api/v1/authorizedparties", tag = "accessmanagement",
    description = "The older path of `enduser/authorizedparties`, answering the same.",
    params(AuthorizedPartiesQuery),
    security(("bearer" = ["altinn:accessmanagement/authorizedparties", "altinn:portal/enduser"])),
    responses((status = 200, body = Vec<AuthorizedPartyDto>), (status = 400, body = crate::problem::ProblemBody),
        (status = 401, body = crate::problem::ProblemBody), (status = 403, body = crate::problem::ProblemBody)))]
async fn authorized_parties_legacy(
    State(state): State<AppState>,
    caller: Scoped<AuthorizedPartiesScope>,
    RawQuery(raw): RawQuery,
) -> ApiResult<axum::Json<Vec<AuthorizedPartyDto>>> {
    answer(&state, &caller, raw.as_deref()).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_query_parameter_that_is_not_acted_on_is_refused() {
        assert!(parse_query(None).is_ok());
        let q = parse_query(Some("includeAltinn2=true&includeRoles=false"))
            .unwrap_or_else(|_| unreachable!());
        assert_eq!(q.include_roles, Some(false));
        assert!(parse_query(Some("includeInstances=true")).is_err());
        assert!(parse_query(Some("includeRoles=maybe")).is_err());
    }
}
