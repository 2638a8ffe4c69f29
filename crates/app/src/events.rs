//! Events for vendors: webhook subscriptions per system, their delivery log and manual
//! redelivery, and the pull feed. Every call checks that the caller is the system's
//! vendor (or a register admin): a vendor sees only its own systems' events. Delivery
//! itself runs in the background (`systembruker_http::webhooks`), never on a request.

use base64::Engine;
use serde_json::{Value, json};
use systembruker_domain::events::{SubscriptionError, check_callback_url, check_event_types};
use systembruker_storage::{Delivery, NewSubscription, StoredEvent, StoredSubscription};

use crate::systemregister::vendor_system;
use crate::{App, AppError, AppResult, Caller};

/// How many live subscriptions one system may have.
pub const MAX_SUBSCRIPTIONS_PER_SYSTEM: usize = 10;

/// How many history rows one sealing step takes at most.
pub const SEAL_BATCH: i64 = 500;

impl From<SubscriptionError> for AppError {
    fn from(error: SubscriptionError) -> Self {
        let path = match error {
            SubscriptionError::NoEventTypes | SubscriptionError::UnknownEventType(_) => {
                "eventTypes"
            }
            _ => "callbackUrl",
        };
        AppError::invalid_field(path, error.to_string())
    }
}

/// A new Standard Webhooks secret: `whsec_` and 32 random bytes in base64.
fn new_secret() -> String {
    let bytes: [u8; 32] = rand::random();
    format!(
        "whsec_{}",
        base64::engine::general_purpose::STANDARD.encode(bytes)
    )
}

/// Subscribes the system's vendor to `event_types` at `callback_url`. The answer holds
/// the secret, which is never shown again.
pub async fn subscribe(
    app: &App,
    caller: &Caller,
    system_id: &str,
    callback_url: &str,
    event_types: &[String],
) -> AppResult<StoredSubscription> {
    let system = vendor_system(app, caller, system_id).await?;
    if system.is_deleted {
        return Err(AppError::NotFound(format!("system {system_id} is deleted")));
    }
    check_callback_url(callback_url, app.settings.dev)?;
    let event_types = check_event_types(event_types)?;
    if app.store.subscriptions(system_id).await?.len() >= MAX_SUBSCRIPTIONS_PER_SYSTEM {
        return Err(AppError::Conflict(format!(
            "system {system_id} has {MAX_SUBSCRIPTIONS_PER_SYSTEM} subscriptions already; delete one first"
        )));
    }
    // Seal first, so the new subscription starts after everything already committed.
    app.store.seal_history(SEAL_BATCH).await?;
    let new = NewSubscription {
        system_id: system_id.to_string(),
        callback_url: callback_url.to_string(),
        event_types,
        secret: new_secret(),
        created_by: caller.audit_name(),
    };
    Ok(app
        .store
        .create_subscription(&uuid::Uuid::new_v4().to_string(), &new)
        .await?)
}

/// The system's live subscriptions.
pub async fn subscriptions(
    app: &App,
    caller: &Caller,
    system_id: &str,
) -> AppResult<Vec<StoredSubscription>> {
    vendor_system(app, caller, system_id).await?;
    Ok(app.store.subscriptions(system_id).await?)
}

/// One of the system's live subscriptions, or 404.
async fn own_subscription(
    app: &App,
    caller: &Caller,
    system_id: &str,
    id: &str,
) -> AppResult<StoredSubscription> {
    vendor_system(app, caller, system_id).await?;
    app.store
        .subscription(id)
        .await?
        .filter(|s| s.system_id == system_id)
        .ok_or_else(|| AppError::NotFound(format!("system {system_id} has no subscription {id}")))
}

pub async fn unsubscribe(app: &App, caller: &Caller, system_id: &str, id: &str) -> AppResult<()> {
    own_subscription(app, caller, system_id, id).await?;
    app.store.delete_subscription(id).await?;
    Ok(())
}

/// The subscription's delivery log, newest first.
pub async fn deliveries(
    app: &App,
    caller: &Caller,
    system_id: &str,
    id: &str,
) -> AppResult<Vec<Delivery>> {
    own_subscription(app, caller, system_id, id).await?;
    Ok(app.store.deliveries(id, 200).await?)
}

/// Queues one more delivery of the system's event `event_id` to the subscription.
pub async fn redeliver(
    app: &App,
    caller: &Caller,
    system_id: &str,
    id: &str,
    event_id: &str,
) -> AppResult<StoredEvent> {
    own_subscription(app, caller, system_id, id).await?;
    let event =
        app.store.event(system_id, event_id).await?.ok_or_else(|| {
            AppError::NotFound(format!("system {system_id} has no event {event_id}"))
        })?;
    app.store.request_redelivery(id, event.seq).await?;
    Ok(event)
}

/// The pull feed: the system's events after sequence `after`, oldest first, as
/// CloudEvents.
pub async fn feed(
    app: &App,
    caller: &Caller,
    system_id: &str,
    after: i64,
    limit: i64,
) -> AppResult<Vec<Value>> {
    vendor_system(app, caller, system_id).await?;
    // Sealing is cheap and makes the feed current even when no worker runs.
    app.store.seal_history(SEAL_BATCH).await?;
    let events = app.store.events_after(system_id, after, limit).await?;
    Ok(events
        .iter()
        .map(|e| cloud_event(&app.settings.public_url, e))
        .collect())
}

/// The CloudEvents 1.0 structured JSON form of an event, with the `sequence` extension
/// (the feed's and the order's position).
pub fn cloud_event(public_url: &str, event: &StoredEvent) -> Value {
    let time = chrono::DateTime::from_timestamp_millis(event.time)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
        .unwrap_or_default();
    json!({
        "specversion": "1.0",
        "id": event.id,
        "source": format!(
            "{public_url}/authentication/api/v1/systemregister/vendor/{}",
            event.system_id
        ),
        "type": event.event_type,
        "subject": event.subject,
        "time": time,
        "datacontenttype": "application/json",
        "sequence": event.seq.to_string(),
        "data": event.data,
    })
}
