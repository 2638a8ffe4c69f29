//! An organisation's own Maskinporten clients and their keys. A consumer sees and
//! changes only its own clients: another organisation's client is "not found", so its
//! existence is not revealed.

use systembruker_domain::selfservice::{
    KEY_LIFETIME_DAYS, MAX_ACTIVE_KEYS, ScopeStanding, check_key_count, may_use_scope,
};
use systembruker_storage::now_millis;
use systembruker_token::jwk::RsaJwk;
use systembruker_token::ports::{Client, ClientKey};
use systembruker_token::scopes::{check_scope_name, is_platform_only, platform_scope};
use systembruker_token::{DEFAULT_ACCESS_TOKEN_LIFETIME, MAX_ACCESS_TOKEN_LIFETIME};
use uuid::Uuid;

use super::Developer;
use crate::{App, AppError, AppResult};

/// What a developer sends to create or change a client.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientInput {
    pub name: String,
    pub description: Option<String>,
    pub scopes: Vec<String>,
    /// Seconds; the platform's default (120) when not given.
    pub access_token_lifetime: Option<u32>,
}

/// A client with its keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnClient {
    pub client: Client,
    pub keys: Vec<ClientKey>,
}

/// The organisation's clients, oldest first.
pub async fn list(app: &App, developer: &Developer) -> AppResult<Vec<OwnClient>> {
    let mut out = Vec::new();
    for client in app.store.consumer_clients(&developer.org).await? {
        let keys = app.store.client_keys(client.client_id).await?;
        out.push(OwnClient { client, keys });
    }
    Ok(out)
}

/// One of the organisation's clients; another organisation's is "not found".
pub async fn get(app: &App, developer: &Developer, id: Uuid) -> AppResult<OwnClient> {
    let client = own_client(app, developer, id).await?;
    let keys = app.store.client_keys(id).await?;
    Ok(OwnClient { client, keys })
}

async fn own_client(app: &App, developer: &Developer, id: Uuid) -> AppResult<Client> {
    match app.store.client(id).await? {
        Some(client) if client.consumer_org == developer.org => Ok(client),
        _ => Err(AppError::NotFound(format!(
            "your organisation has no client {id}"
        ))),
    }
}

/// Creates a client for the developer's organisation, with its first keys.
pub async fn create(
    app: &App,
    developer: &Developer,
    input: &ClientInput,
    keys: Vec<RsaJwk>,
) -> AppResult<OwnClient> {
    let now = now_millis();
    let client = checked_client(app, developer, Uuid::new_v4(), input, now).await?;
    if !keys.is_empty() {
        check_key_count(0, keys.len())?;
    }
    let keys = new_keys(client.client_id, keys, now);
    app.store
        .create_client_recorded(&client, &keys, &developer.actor)
        .await?;
    Ok(OwnClient { client, keys })
}

/// Changes name, description, scopes and token lifetime of an own client.
pub async fn update(
    app: &App,
    developer: &Developer,
    id: Uuid,
    input: &ClientInput,
) -> AppResult<OwnClient> {
    let existing = own_client(app, developer, id).await?;
    let client = checked_client(app, developer, id, input, existing.created_at).await?;
    app.store
        .update_client_recorded(&client, &developer.actor)
        .await?;
    let keys = app.store.client_keys(id).await?;
    Ok(OwnClient { client, keys })
}

/// Deletes an own client and its keys: its tokens stop at the next request.
pub async fn delete(app: &App, developer: &Developer, id: Uuid) -> AppResult<()> {
    own_client(app, developer, id).await?;
    if app
        .store
        .delete_client_recorded(id, &developer.actor)
        .await?
    {
        Ok(())
    } else {
        Err(AppError::NotFound(format!(
            "your organisation has no client {id}"
        )))
    }
}

/// Adds public keys to an own client (at most [`MAX_ACTIVE_KEYS`] active at a time);
/// each expires after [`KEY_LIFETIME_DAYS`] days.
pub async fn add_keys(
    app: &App,
    developer: &Developer,
    id: Uuid,
    keys: Vec<RsaJwk>,
) -> AppResult<Vec<ClientKey>> {
    own_client(app, developer, id).await?;
    check_key_count(0, keys.len())?;
    let keys = new_keys(id, keys, now_millis());
    match app
        .store
        .add_client_keys_recorded(id, &keys, MAX_ACTIVE_KEYS, &developer.actor)
        .await?
    {
        Ok(()) => Ok(keys),
        Err(active) => {
            check_key_count(active, keys.len())?;
            Err(AppError::Conflict("too many active keys".into()))
        }
    }
}

/// Removes a key of an own client: tokens signed with it are refused from now on.
pub async fn remove_key(app: &App, developer: &Developer, id: Uuid, kid: &str) -> AppResult<()> {
    own_client(app, developer, id).await?;
    if app
        .store
        .remove_client_key_recorded(id, kid, &developer.actor)
        .await?
    {
        Ok(())
    } else {
        Err(AppError::NotFound(format!(
            "client {id} has no key {kid:?}"
        )))
    }
}

fn new_keys(client_id: Uuid, keys: Vec<RsaJwk>, now: i64) -> Vec<ClientKey> {
    keys.into_iter()
        .map(|jwk| ClientKey {
            kid: jwk.kid.clone(),
            client_id,
            jwk,
            created_at: now,
            expires_at: now + KEY_LIFETIME_DAYS * 24 * 3600 * 1000,
        })
        .collect()
}

/// Reads keys sent as a JWK set's `keys` (public RSA keys only).
pub fn keys_from_jwks(values: &[serde_json::Value]) -> AppResult<Vec<RsaJwk>> {
    values
        .iter()
        .enumerate()
        .map(|(i, value)| {
            RsaJwk::from_json(value)
                .map_err(|e| AppError::invalid_field(format!("/keys/{i}"), e.to_string()))
        })
        .collect()
}

/// Reads one public key as pasted in the portal: a JWK (JSON) or a PEM public key.
/// `kid` names a PEM key (its thumbprint without one); a JWK carries its own.
pub fn read_public_key(text: &str, kid: Option<&str>) -> AppResult<RsaJwk> {
    let text = text.trim();
    let parsed = if text.starts_with('{') {
        let value: serde_json::Value = serde_json::from_str(text)
            .map_err(|e| AppError::invalid_field("/key", format!("not valid JSON: {e}")))?;
        RsaJwk::from_json(&value)
    } else {
        RsaJwk::from_public_pem(text, kid)
    };
    parsed.map_err(|e| AppError::invalid_field("/key", e.to_string()))
}

/// Scopes the organisation may put on its clients: the open platform scopes and every
/// registered scope it owns, was given access to, or that is open to all.
pub async fn usable_scopes(app: &App, developer: &Developer) -> AppResult<Vec<String>> {
    let mut scopes: Vec<String> = systembruker_token::scopes::PLATFORM_SCOPES
        .iter()
        .filter(|s| s.open)
        .map(|s| s.name.to_string())
        .collect();
    for scope in app.store.scopes_usable_by(&developer.org).await? {
        scopes.push(scope.name);
    }
    Ok(scopes)
}

/// A scope the organisation may put on a client: well formed, not the platform's own,
/// and usable by it (open platform scope, or a registered one it owns, was given or
/// that is open to all; a restricted platform scope only when granted).
async fn check_client_scope(app: &App, developer: &Developer, scope: &str) -> AppResult<()> {
    let refuse = |message: String| AppError::InvalidField {
        code: "MP-200",
        path: "/scopes".into(),
        message,
    };
    check_scope_name(scope).map_err(refuse)?;
    if is_platform_only(scope) {
        return Err(refuse(format!(
            "{scope} is only in tokens the platform issues itself; a client cannot have it"
        )));
    }
    let granted = || async {
        AppResult::Ok(
            app.store
                .scope_access_list(scope)
                .await?
                .contains(&developer.org),
        )
    };
    let usable = match platform_scope(scope) {
        Some(platform) => platform.open || granted().await?,
        None => match app.store.scope_details(scope).await? {
            Some(details) => may_use_scope(
                ScopeStanding {
                    owner: details.owner_org,
                    accessible_for_all: details.accessible_for_all,
                    granted: granted().await?,
                },
                developer.org,
            ),
            None => {
                return Err(refuse(format!("scope {scope} does not exist")));
            }
        },
    };
    if usable {
        Ok(())
    } else {
        Err(AppError::InvalidField {
            code: "MP-250",
            path: "/scopes".into(),
            message: format!(
                "your organisation has not been given access to the scope {scope}; ask its owner"
            ),
        })
    }
}

async fn checked_client(
    app: &App,
    developer: &Developer,
    client_id: Uuid,
    input: &ClientInput,
    created_at: i64,
) -> AppResult<Client> {
    let name = input.name.trim();
    if name.is_empty() || name.chars().count() > 200 {
        return Err(AppError::invalid_field(
            "/client_name",
            "client_name must be 1 to 200 characters",
        ));
    }
    for scope in &input.scopes {
        check_client_scope(app, developer, scope).await?;
    }
    let lifetime = input
        .access_token_lifetime
        .unwrap_or(DEFAULT_ACCESS_TOKEN_LIFETIME);
    if !(1..=MAX_ACCESS_TOKEN_LIFETIME).contains(&lifetime) {
        return Err(AppError::invalid_field(
            "/access_token_lifetime",
            format!("access_token_lifetime must be 1 to {MAX_ACCESS_TOKEN_LIFETIME} seconds"),
        ));
    }
    let mut scopes = input.scopes.clone();
    scopes.sort();
    scopes.dedup();
    Ok(Client {
        client_id,
        client_name: name.to_string(),
        description: input
            .description
            .as_deref()
            .map(str::trim)
            .filter(|d| !d.is_empty())
            .map(str::to_string),
        consumer_org: developer.org,
        scopes,
        access_token_lifetime: lifetime,
        created_at,
        updated_at: now_millis(),
    })
}
