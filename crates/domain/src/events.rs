//! Events for vendors (docs/rules.md#events): which history entries a vendor hears of, under
//! which CloudEvents type, where a webhook may point, and how long a failing delivery is
//! retried. Pure rules; storage derives the events and the delivery worker sends them.

use std::time::Duration;

/// The CloudEvents `type` prefix of every event the platform sends.
pub const TYPE_PREFIX: &str = "no.systembruker.";

/// The event types a subscription may ask for, in the order the API lists them.
pub const EVENT_TYPES: [&str; 11] = [
    "no.systembruker.request.accepted",
    "no.systembruker.request.rejected",
    "no.systembruker.request.timedout",
    "no.systembruker.request.escalated",
    "no.systembruker.systemuser.created",
    "no.systembruker.systemuser.deleted",
    "no.systembruker.changerequest.accepted",
    "no.systembruker.changerequest.rejected",
    "no.systembruker.client.added",
    "no.systembruker.client.removed",
    "no.systembruker.rights.changed",
];

/// The event a history entry raises for the vendor of the system it concerns, if any.
/// `after` is the entry's after-image (a status change names the new status there).
pub fn event_type(
    entity: &str,
    action: &str,
    after: Option<&serde_json::Value>,
) -> Option<&'static str> {
    let status = after
        .and_then(|a| a.get("status"))
        .and_then(serde_json::Value::as_str);
    let event = match (entity, action, status) {
        ("request", "approve", _) => "request.accepted",
        ("request", "status", Some("Rejected")) => "request.rejected",
        ("request", "status", Some("Timedout")) => "request.timedout",
        ("request", "escalate", _) => "request.escalated",
        ("change_request", "approve", _) => "changerequest.accepted",
        ("change_request", "status", Some("Rejected")) => "changerequest.rejected",
        ("system_user", "create", _) => "systemuser.created",
        ("system_user", "delete", _) => "systemuser.deleted",
        ("system_user", "client_added", _) => "client.added",
        ("system_user", "client_removed", _) => "client.removed",
        ("system_user", "change", _) => "rights.changed",
        _ => return None,
    };
    EVENT_TYPES
        .iter()
        .copied()
        .find(|t| t.strip_prefix(TYPE_PREFIX) == Some(event))
}

/// Why a subscription is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SubscriptionError {
    #[error("the callback URL is not a valid absolute URL")]
    NotAUrl,
    #[error("the callback URL must use https (http only to localhost, in development mode)")]
    NotHttps,
    #[error("the callback URL must not carry credentials")]
    Credentials,
    #[error("name at least one event type")]
    NoEventTypes,
    #[error("unknown event type {0}")]
    UnknownEventType(String),
}

/// A callback URL is https, or http to the local machine in development mode (so a vendor
/// can try its receiver on a laptop). Credentials in the URL are refused: the signature
/// is the authentication.
pub fn check_callback_url(url: &str, dev: bool) -> Result<(), SubscriptionError> {
    let (scheme, rest) = url.split_once("://").ok_or(SubscriptionError::NotAUrl)?;
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if authority.is_empty() || authority.chars().any(char::is_whitespace) {
        return Err(SubscriptionError::NotAUrl);
    }
    if authority.contains('@') {
        return Err(SubscriptionError::Credentials);
    }
    match scheme.to_ascii_lowercase().as_str() {
        "https" => Ok(()),
        "http" if dev && is_local_host(authority) => Ok(()),
        "http" => Err(SubscriptionError::NotHttps),
        _ => Err(SubscriptionError::NotAUrl),
    }
}

fn is_local_host(authority: &str) -> bool {
    let host = if let Some(v6) = authority.strip_prefix('[') {
        v6.split(']').next().unwrap_or_default()
    } else {
        authority.split(':').next().unwrap_or_default()
    };
    matches!(
        host.to_ascii_lowercase().as_str(),
        "localhost" | "127.0.0.1" | "::1"
    )
}

/// The event types are known ones, at least one, each once (in the given order).
pub fn check_event_types(types: &[String]) -> Result<Vec<String>, SubscriptionError> {
    if types.is_empty() {
        return Err(SubscriptionError::NoEventTypes);
    }
    let mut checked: Vec<String> = Vec::new();
    for t in types {
        if !EVENT_TYPES.contains(&t.as_str()) {
            return Err(SubscriptionError::UnknownEventType(t.clone()));
        }
        if !checked.contains(t) {
            checked.push(t.clone());
        }
    }
    Ok(checked)
}

/// The waits between delivery attempts: doubling from `first`, the last one cut so the
/// waits add up to `total` (a day by default). After the last wait the event is given up.
pub fn retry_schedule(first: Duration, total: Duration) -> Vec<Duration> {
    let mut waits = Vec::new();
    let mut sum = Duration::ZERO;
    let mut next = first.max(Duration::from_millis(1));
    while sum < total {
        let wait = next.min(total - sum);
        waits.push(wait);
        sum += wait;
        next = next.saturating_mul(2);
    }
    waits
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_status_change_a_vendor_cares_about_has_a_type() {
        let accepted = event_type("request", "approve", Some(&json!({"status": "Accepted"})));
        assert_eq!(accepted, Some("no.systembruker.request.accepted"));
        let rejected = event_type(
            "change_request",
            "status",
            Some(&json!({"status": "Rejected"})),
        );
        assert_eq!(rejected, Some("no.systembruker.changerequest.rejected"));
        let timed_out = event_type("request", "status", Some(&json!({"status": "Timedout"})));
        assert_eq!(timed_out, Some("no.systembruker.request.timedout"));
        assert_eq!(
            event_type("system_user", "client_removed", None),
            Some("no.systembruker.client.removed")
        );
    }

    #[test]
    fn entries_vendors_do_not_hear_of_raise_no_event() {
        assert_eq!(event_type("request", "create", None), None);
        assert_eq!(event_type("system", "create", None), None);
        assert_eq!(
            event_type("request", "status", Some(&json!({"status": "New"}))),
            None
        );
    }

    #[test]
    fn every_event_type_is_raised_by_some_entry() {
        let raised: Vec<_> = [
            ("request", "approve", None),
            ("request", "status", Some(json!({"status": "Rejected"}))),
            ("request", "status", Some(json!({"status": "Timedout"}))),
            ("request", "escalate", None),
            ("system_user", "create", None),
            ("system_user", "delete", None),
            ("change_request", "approve", None),
            (
                "change_request",
                "status",
                Some(json!({"status": "Rejected"})),
            ),
            ("system_user", "client_added", None),
            ("system_user", "client_removed", None),
            ("system_user", "change", None),
        ]
        .iter()
        .filter_map(|(e, a, after)| event_type(e, a, after.as_ref()))
        .collect();
        assert_eq!(raised, EVENT_TYPES.to_vec());
    }

    #[test]
    fn callbacks_are_https_or_local_http_in_development() {
        assert_eq!(
            check_callback_url("https://vendor.example/hook", false),
            Ok(())
        );
        assert_eq!(
            check_callback_url("http://vendor.example/hook", true),
            Err(SubscriptionError::NotHttps)
        );
        assert_eq!(
            check_callback_url("http://127.0.0.1:9000/hook", false),
            Err(SubscriptionError::NotHttps)
        );
        assert_eq!(
            check_callback_url("http://127.0.0.1:9000/hook", true),
            Ok(())
        );
        assert_eq!(check_callback_url("http://localhost/hook", true), Ok(()));
        assert_eq!(check_callback_url("http://[::1]:80/", true), Ok(()));
        assert_eq!(
            check_callback_url("http://localhost.evil.example/", true),
            Err(SubscriptionError::NotHttps)
        );
        assert_eq!(
            check_callback_url("https://user:pw@vendor.example/", false),
            Err(SubscriptionError::Credentials)
        );
        assert_eq!(
            check_callback_url("ftp://x/", true),
            Err(SubscriptionError::NotAUrl)
        );
        assert_eq!(
            check_callback_url("vendor.example", true),
            Err(SubscriptionError::NotAUrl)
        );
    }

    #[test]
    fn event_types_are_known_and_not_empty() {
        assert_eq!(check_event_types(&[]), Err(SubscriptionError::NoEventTypes));
        let unknown = check_event_types(&["no.systembruker.nope".into()]);
        assert!(matches!(
            unknown,
            Err(SubscriptionError::UnknownEventType(_))
        ));
        let twice = vec![EVENT_TYPES[0].to_string(), EVENT_TYPES[0].to_string()];
        assert_eq!(
            check_event_types(&twice),
            Ok(vec![EVENT_TYPES[0].to_string()])
        );
    }

    #[test]
    fn retries_double_and_last_a_day() {
        let day = Duration::from_secs(24 * 3600);
        let waits = retry_schedule(Duration::from_secs(30), day);
        assert_eq!(waits[0], Duration::from_secs(30));
        assert_eq!(waits[1], Duration::from_secs(60));
        assert_eq!(waits.iter().sum::<Duration>(), day);
        assert!(
            waits
                .windows(2)
                .take(waits.len() - 2)
                .all(|w| w[1] == w[0] * 2)
        );
    }
}
