//! The webhook delivery worker: seals the history (which derives the events), then for each
//! subscription with something to send takes a lease and sends its events in sequence
//! order, signed as Standard Webhooks do (`webhook-id`, `webhook-timestamp`,
//! `webhook-signature: v1,<base64 HMAC-SHA256>`). At least once: the cursor moves only
//! after the receiver answered 2xx, so a process killed in between sends the event again
//! after its restart, under the same id. A failed attempt is retried on the schedule
//! (doubling, for a day by default); after the last one the event is logged as abandoned
//! and the subscription goes on with the next. Each subscription is served by its own task
//! with a timeout per request, so a slow receiver holds up nobody else; the lease (a
//! compare-and-set in the database) makes one process deliver each event when several run.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_lc_rs::hmac;
use base64::Engine;
use systembruker_app::App;
use systembruker_app::events::{SEAL_BATCH, cloud_event};
use systembruker_storage::{Attempt, Outcome, StoredEvent, StoredSubscription, now_millis};

/// How the worker runs.
#[derive(Debug, Clone)]
pub struct WebhookSettings {
    /// How often it looks for work.
    pub poll: Duration,
    /// How long one delivery may take before it counts as failed.
    pub timeout: Duration,
    /// The waits between attempts at one event (see `domain::events::retry_schedule`).
    pub retry_schedule: Vec<Duration>,
}

impl Default for WebhookSettings {
    fn default() -> Self {
        Self {
            poll: Duration::from_millis(500),
            timeout: Duration::from_secs(10),
            retry_schedule: systembruker_domain::events::retry_schedule(
                Duration::from_secs(30),
                Duration::from_secs(24 * 3600),
            ),
        }
    }
}

/// The Standard Webhooks signature of `body` for the message `id` sent at `timestamp`
/// (seconds), with the secret `whsec_<base64 key>`: `v1,<base64>`.
pub fn sign(secret: &str, id: &str, timestamp: i64, body: &str) -> Option<String> {
    let key = base64::engine::general_purpose::STANDARD
        .decode(secret.strip_prefix("whsec_")?)
        .ok()?;
    let key = hmac::Key::new(hmac::HMAC_SHA256, &key);
    let tag = hmac::sign(&key, format!("{id}.{timestamp}.{body}").as_bytes());
    Some(format!(
        "v1,{}",
        base64::engine::general_purpose::STANDARD.encode(tag.as_ref())
    ))
}

/// Starts the worker; it runs until the task is aborted.
pub fn spawn(app: App, settings: WebhookSettings) -> tokio::task::JoinHandle<()> {
    let worker = Worker {
        app,
        settings: Arc::new(settings),
        owner: format!("worker-{}", uuid::Uuid::new_v4()),
        client: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap_or_default(),
        busy: Arc::new(Mutex::new(HashSet::new())),
    };
    tokio::spawn(async move { worker.run().await })
}

#[derive(Clone)]
struct Worker {
    app: App,
    settings: Arc<WebhookSettings>,
    /// This process's name on the leases it holds.
    owner: String,
    client: reqwest::Client,
    /// Subscriptions this process is delivering for now.
    busy: Arc<Mutex<HashSet<String>>>,
}

impl Worker {
    async fn run(self) {
        loop {
            if let Err(error) = self.round().await {
                tracing::warn!(%error, "webhook worker round failed");
            }
            tokio::time::sleep(self.settings.poll).await;
        }
    }

    async fn round(&self) -> anyhow::Result<()> {
        while self.app.store.seal_history(SEAL_BATCH).await? == usize::try_from(SEAL_BATCH)? {}
        let now = now_millis();
        for subscription in self.app.store.due_subscriptions(now, 100).await? {
            let Ok(mut busy) = self.busy.lock() else {
                continue;
            };
            if !busy.insert(subscription.id.clone()) {
                continue;
            }
            drop(busy);
            let worker = self.clone();
            tokio::spawn(async move {
                let id = subscription.id.clone();
                if let Err(error) = worker.serve(subscription).await {
                    tracing::warn!(%error, subscription = %id, "webhook delivery failed");
                }
                let _ = worker
                    .app
                    .store
                    .release_subscription(&id, &worker.owner)
                    .await;
                if let Ok(mut busy) = worker.busy.lock() {
                    busy.remove(&id);
                }
            });
        }
        Ok(())
    }

    /// The lease covers one attempt, with room to spare.
    fn lease_until(&self) -> i64 {
        let millis = i64::try_from(self.settings.timeout.as_millis()).unwrap_or(i64::MAX / 4);
        now_millis() + millis * 2 + 5_000
    }

    async fn claim(&self, id: &str) -> anyhow::Result<bool> {
        Ok(self
            .app
            .store
            .claim_subscription(id, &self.owner, now_millis(), self.lease_until())
            .await?)
    }

    /// Delivers the subscription's redeliveries, then its events in order, until it is
    /// caught up, an attempt fails, or the lease is lost.
    async fn serve(&self, subscription: StoredSubscription) -> anyhow::Result<()> {
        let id = subscription.id.as_str();
        if !self.claim(id).await? {
            return Ok(());
        }
        for redelivery in self.app.store.pending_redeliveries(id).await? {
            if let Some(event) = self.app.store.event_at(redelivery.event_seq).await? {
                self.claim(id).await?;
                let answer = self.send(&subscription, &event).await;
                self.log(id, &event, 1, answer, true, Outcome::Failed)
                    .await?;
            }
            self.app.store.redelivery_done(redelivery.id).await?;
        }
        let Some(current) = self.app.store.subscription(id).await? else {
            return Ok(());
        };
        if current.next_attempt_at > now_millis() {
            return Ok(());
        }
        let (mut cursor, mut attempts) = (current.cursor, current.attempts);
        loop {
            let events = self
                .app
                .store
                .events_after(&subscription.system_id, cursor, 100)
                .await?;
            let Some(last) = events.last().map(|e| e.seq) else {
                return Ok(());
            };
            for event in &events {
                if !subscription.event_types.contains(&event.event_type) {
                    continue;
                }
                if !self.claim(id).await? {
                    return Ok(());
                }
                let answer = self.send(&subscription, event).await;
                let attempt = attempts + 1;
                if answer.is_ok() {
                    self.log(id, event, attempt, answer, false, Outcome::Delivered)
                        .await?;
                    if !self
                        .app
                        .store
                        .advance_subscription(id, &self.owner, event.seq)
                        .await?
                    {
                        return Ok(());
                    }
                    attempts = 0;
                    continue;
                }
                let wait = usize::try_from(attempts)
                    .ok()
                    .and_then(|i| self.settings.retry_schedule.get(i));
                let Some(wait) = wait else {
                    self.log(id, event, attempt, answer, false, Outcome::Abandoned)
                        .await?;
                    self.app
                        .store
                        .advance_subscription(id, &self.owner, event.seq)
                        .await?;
                    return Ok(());
                };
                self.log(id, event, attempt, answer, false, Outcome::Failed)
                    .await?;
                let next = now_millis() + i64::try_from(wait.as_millis()).unwrap_or(i64::MAX / 4);
                self.app
                    .store
                    .postpone_subscription(id, &self.owner, attempt, next)
                    .await?;
                return Ok(());
            }
            // Nothing it subscribed to up to `last`: skip past it.
            if last > cursor
                && !self
                    .app
                    .store
                    .advance_subscription(id, &self.owner, last)
                    .await?
            {
                let moved = self.app.store.subscription(id).await?;
                if moved.is_none_or(|s| s.cursor < last) {
                    return Ok(());
                }
            }
            cursor = last;
        }
    }

    /// One POST of the event to the subscription's URL: the status, or why it failed.
    async fn send(
        &self,
        subscription: &StoredSubscription,
        event: &StoredEvent,
    ) -> Result<u16, (Option<u16>, String)> {
        let body = cloud_event(&self.app.settings.public_url, event).to_string();
        let timestamp = chrono::Utc::now().timestamp();
        let signature = sign(&subscription.secret, &event.id, timestamp, &body)
            .ok_or((None, "the subscription's secret is not valid".to_string()))?;
        let response = self
            .client
            .post(&subscription.callback_url)
            .timeout(self.settings.timeout)
            .header("content-type", "application/cloudevents+json")
            .header("webhook-id", &event.id)
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", signature)
            .body(body)
            .send()
            .await
            .map_err(|e| (None, e.to_string()))?;
        let status = response.status();
        if status.is_success() {
            Ok(status.as_u16())
        } else {
            Err((
                Some(status.as_u16()),
                format!("the receiver answered {status}"),
            ))
        }
    }

    async fn log(
        &self,
        subscription_id: &str,
        event: &StoredEvent,
        attempt: i64,
        answer: Result<u16, (Option<u16>, String)>,
        manual: bool,
        failure: Outcome,
    ) -> anyhow::Result<()> {
        let (outcome, status_code, error) = match answer {
            Ok(status) => (Outcome::Delivered, Some(status), None),
            Err((status, error)) => (failure, status, Some(error)),
        };
        let attempt = Attempt {
            event,
            attempt,
            outcome,
            status_code,
            error,
            manual,
        };
        self.app
            .store
            .log_delivery(subscription_id, &attempt)
            .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example of the Standard Webhooks specification's reference libraries.
    #[test]
    fn signatures_follow_the_standard_webhooks_example() {
        let signature = sign(
            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1_614_265_330,
            r#"{"test": 2432232314}"#,
        );
        assert_eq!(
            signature.as_deref(),
            Some("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")
        );
    }
}
