//! Rate limits on the endpoints a caller could hammer: token requests (per client and
//! per source address), failed bearer-token attempts, test logins and portal logins.
//!
//! Each limit is a keyed GCRA limiter from `governor`. Keys that have not been seen for
//! a while are dropped every [`PRUNE_EVERY`] checks, so memory stays bounded by the keys
//! active within one refill period.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;
use std::str::FromStr;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use axum::extract::ConnectInfo;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;

use crate::metrics::LimitLabels;
use crate::problem::ApiError;

/// How often (in checks of one limiter) keys at rest are dropped.
const PRUNE_EVERY: u64 = 4096;

/// Addresses kept as refused for failed bearer tokens; past this the oldest expiries go
/// first, and an address that cannot be kept is still limited as its failures come.
const MAX_BLOCKED: usize = 65_536;

/// A rate: `count` requests per `period`, in bursts of up to `count`; `off` when zero.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    pub count: u32,
    pub period: Period,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Period {
    Second,
    Minute,
    Hour,
}

impl Rate {
    pub const OFF: Rate = Rate {
        count: 0,
        period: Period::Second,
    };

    pub const fn per_second(count: u32) -> Self {
        Self {
            count,
            period: Period::Second,
        }
    }

    pub const fn per_minute(count: u32) -> Self {
        Self {
            count,
            period: Period::Minute,
        }
    }

    fn quota(self) -> Option<Quota> {
        let count = NonZeroU32::new(self.count)?;
        Some(match self.period {
            Period::Second => Quota::per_second(count),
            Period::Minute => Quota::per_minute(count),
            Period::Hour => Quota::per_hour(count),
        })
    }
}

/// A rate that cannot be read from a flag.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a rate: write COUNT/s, COUNT/min or COUNT/h (e.g. 100/s), or off")]
pub struct BadRate(String);

impl FromStr for Rate {
    type Err = BadRate;

    fn from_str(text: &str) -> Result<Self, BadRate> {
        let bad = || BadRate(text.to_string());
        let trimmed = text.trim();
        if trimmed.eq_ignore_ascii_case("off") {
            return Ok(Rate::OFF);
        }
        let (count, unit) = trimmed.split_once('/').ok_or_else(bad)?;
        let count = count.trim().parse::<u32>().map_err(|_| bad())?;
        let period = match unit.trim() {
            "s" | "sec" | "second" => Period::Second,
            "m" | "min" | "minute" => Period::Minute,
            "h" | "hour" => Period::Hour,
            _ => return Err(bad()),
        };
        Ok(Rate { count, period })
    }
}

impl std::fmt::Display for Rate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.count == 0 {
            return f.write_str("off");
        }
        let unit = match self.period {
            Period::Second => "s",
            Period::Minute => "min",
            Period::Hour => "h",
        };
        write!(f, "{}/{unit}", self.count)
    }
}

/// The configured limits (flags `--rate-limit-*` of `serve`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RateLimits {
    /// Tokens issued to one Maskinporten client (counted once its assertion is verified,
    /// so nobody can use up another client's allowance by naming it).
    pub token_per_client: Rate,
    /// Token requests from one source address, before any signature is checked.
    pub token_per_address: Rate,
    /// Refused bearer tokens (a wrong operator token, an expired or foreign JWT) from one
    /// source address; past it, the address gets 429 before its tokens are looked at.
    pub failed_auth_per_address: Rate,
    /// Dev-mode test logins and test tokens (`/testtools/api/*`, `POST /login/test`).
    pub test_login_per_address: Rate,
    /// Portal logins through the OpenID provider (`/login` and its callback).
    pub portal_login_per_address: Rate,
    /// Take the source address from the last `X-Forwarded-For` entry (set by a trusted
    /// proxy in front); otherwise every client behind a proxy shares the proxy's limit.
    pub trust_forwarded_for: bool,
}

impl Default for RateLimits {
    /// Far above what a vendor needs: a client caches its token for its lifetime, so
    /// even one serving thousands of system users asks for a few per second.
    fn default() -> Self {
        Self {
            token_per_client: Rate::per_second(1000),
            token_per_address: Rate::per_second(2000),
            failed_auth_per_address: Rate::per_minute(60),
            test_login_per_address: Rate::per_minute(600),
            portal_login_per_address: Rate::per_minute(120),
            trust_forwarded_for: false,
        }
    }
}

/// A request refused by a limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Refused {
    pub limit: &'static str,
    pub retry_after: Duration,
}

impl Refused {
    /// Whole seconds to wait, at least one (HTTP's `Retry-After` has no fractions).
    pub fn retry_after_seconds(&self) -> u64 {
        let ms = u64::try_from(self.retry_after.as_millis()).unwrap_or(u64::MAX);
        ms.div_ceil(1000).max(1)
    }

    /// The API's answer: problem JSON with `STD-00429`.
    pub fn problem(&self) -> ApiError {
        let mut error = ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "STD-00429",
            "Too many requests",
        )
        .detail(format!(
            "the limit {} was reached; try again in {} s",
            self.limit,
            self.retry_after_seconds()
        ));
        error.retry_after = Some(self.retry_after_seconds());
        error
    }

    /// The token endpoint's answer: OAuth2 error JSON (RFC 6749 §5.2).
    pub fn oauth(&self) -> Response {
        let body = serde_json::json!({
            "error": "slow_down",
            "error_description": format!(
                "too many token requests (limit {}); try again in {} s",
                self.limit,
                self.retry_after_seconds()
            ),
        });
        let mut response = (StatusCode::TOO_MANY_REQUESTS, axum::Json(body)).into_response();
        self.add_retry_after(response.headers_mut());
        response
    }

    pub fn add_retry_after(&self, headers: &mut HeaderMap) {
        headers.insert(
            header::RETRY_AFTER,
            HeaderValue::from(self.retry_after_seconds()),
        );
    }
}

/// The part of an address a limit counts: the whole IPv4 address, and the /64 network
/// of an IPv6 one (one host holds a whole /64, so single IPv6 addresses cost nothing).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AddressKey(u128);

impl From<IpAddr> for AddressKey {
    fn from(ip: IpAddr) -> Self {
        match ip.to_canonical() {
            IpAddr::V4(v4) => AddressKey(u128::from(u32::from(v4))),
            IpAddr::V6(v6) => AddressKey((u128::from(v6) >> 64) << 64 | 1),
        }
    }
}

/// One keyed limit; `None` inside when switched off.
struct KeyedLimit<K: std::hash::Hash + Eq + Clone> {
    name: &'static str,
    limiter: Option<DefaultKeyedRateLimiter<K>>,
    checks: AtomicU64,
}

impl<K: std::hash::Hash + Eq + Clone> KeyedLimit<K> {
    fn new(name: &'static str, rate: Rate) -> Self {
        Self {
            name,
            limiter: rate.quota().map(DefaultKeyedRateLimiter::keyed),
            checks: AtomicU64::new(0),
        }
    }

    fn check(&self, key: &K) -> Result<(), Refused> {
        let Some(limiter) = &self.limiter else {
            return Ok(());
        };
        if self.checks.fetch_add(1, Ordering::Relaxed) % PRUNE_EVERY == PRUNE_EVERY - 1 {
            limiter.retain_recent();
            limiter.shrink_to_fit();
        }
        limiter.check_key(key).map_err(|not_until| Refused {
            limit: self.name,
            retry_after: not_until.wait_time_from(DefaultClock::default().now()),
        })
    }
}

/// The limiters of one server.
pub struct Limiters {
    token_client: KeyedLimit<String>,
    token_address: KeyedLimit<AddressKey>,
    failed_auth: KeyedLimit<AddressKey>,
    /// Addresses past the failed-token limit, until when: their next token is refused
    /// before it is checked, so a guess cannot be confirmed while refused.
    blocked: Mutex<HashMap<AddressKey, Instant>>,
    test_login: KeyedLimit<AddressKey>,
    portal_login: KeyedLimit<AddressKey>,
    trust_forwarded_for: bool,
    refusals: Family<LimitLabels, Counter>,
}

impl Limiters {
    pub fn new(limits: &RateLimits, refusals: Family<LimitLabels, Counter>) -> Self {
        Self {
            token_client: KeyedLimit::new("token_per_client", limits.token_per_client),
            token_address: KeyedLimit::new("token_per_address", limits.token_per_address),
            failed_auth: KeyedLimit::new("failed_auth_per_address", limits.failed_auth_per_address),
            blocked: Mutex::new(HashMap::new()),
            test_login: KeyedLimit::new("test_login_per_address", limits.test_login_per_address),
            portal_login: KeyedLimit::new(
                "portal_login_per_address",
                limits.portal_login_per_address,
            ),
            trust_forwarded_for: limits.trust_forwarded_for,
            refusals,
        }
    }

    fn counted(&self, result: Result<(), Refused>) -> Result<(), Refused> {
        if let Err(refused) = &result {
            self.refusals
                .get_or_create(&LimitLabels {
                    limit: refused.limit.to_string(),
                })
                .inc();
        }
        result
    }

    /// The source address of a request: the peer, or the last `X-Forwarded-For` entry
    /// when the proxy is trusted. `None` when neither is known (a router called directly).
    pub fn address(&self, parts: &Parts) -> Option<AddressKey> {
        if self.trust_forwarded_for
            && let Some(ip) = forwarded_for(&parts.headers)
        {
            return Some(ip.into());
        }
        parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|info| info.0.ip().into())
    }

    pub fn token_address(&self, address: Option<AddressKey>) -> Result<(), Refused> {
        self.per_address(&self.token_address, address)
    }

    /// `limit` for the source address; a request without one (no peer known) is not limited.
    fn per_address(
        &self,
        limit: &KeyedLimit<AddressKey>,
        address: Option<AddressKey>,
    ) -> Result<(), Refused> {
        match address {
            Some(key) => self.counted(limit.check(&key)),
            None => Ok(()),
        }
    }

    pub fn token_client(&self, client_id: &str) -> Result<(), Refused> {
        self.counted(self.token_client.check(&client_id.to_string()))
    }

    pub fn test_login(&self, address: Option<AddressKey>) -> Result<(), Refused> {
        self.per_address(&self.test_login, address)
    }

    pub fn portal_login(&self, address: Option<AddressKey>) -> Result<(), Refused> {
        self.per_address(&self.portal_login, address)
    }

    fn blocked(&self) -> std::sync::MutexGuard<'_, HashMap<AddressKey, Instant>> {
        // The map holds expiry times only; a panic elsewhere leaves it consistent.
        self.blocked.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Refuses an address that is past the failed-token limit, before its token is read.
    pub fn auth_allowed(&self, address: Option<AddressKey>) -> Result<(), Refused> {
        let Some(key) = address else {
            return Ok(());
        };
        let now = Instant::now();
        let until = self.blocked().get(&key).copied();
        match until {
            Some(until) if until > now => self.counted(Err(Refused {
                limit: self.failed_auth.name,
                retry_after: until - now,
            })),
            _ => Ok(()),
        }
    }

    /// Notes a refused token; past the limit the address is refused for a while.
    pub fn auth_failed(&self, address: Option<AddressKey>) -> Result<(), Refused> {
        let Some(key) = address else {
            return Ok(());
        };
        let result = self.failed_auth.check(&key);
        if let Err(refused) = &result {
            self.block(key, Instant::now() + refused.retry_after);
        }
        self.counted(result)
    }

    fn block(&self, key: AddressKey, until: Instant) {
        let mut blocked = self.blocked();
        if blocked.len() >= MAX_BLOCKED {
            let now = Instant::now();
            blocked.retain(|_, until| *until > now);
        }
        if blocked.len() < MAX_BLOCKED {
            blocked.insert(key, until);
        }
    }
}

/// The source address rate limits count by (see [`Limiters::address`]).
pub struct SourceAddress(pub Option<AddressKey>);

impl<S> axum::extract::FromRequestParts<S> for SourceAddress
where
    S: Send + Sync,
    crate::AppState: axum::extract::FromRef<S>,
{
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let state = <crate::AppState as axum::extract::FromRef<S>>::from_ref(state);
        Ok(SourceAddress(state.limits.address(parts)))
    }
}

/// Limits the dev-mode test tools (`/testtools/api/*`, which hand out tokens to anyone)
/// per source address, answering problem JSON past it.
pub async fn limit_test_tools(
    axum::extract::State(state): axum::extract::State<crate::AppState>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    if request.uri().path().starts_with("/testtools/") {
        let (parts, body) = request.into_parts();
        if let Err(refused) = state.limits.test_login(state.limits.address(&parts)) {
            return refused.problem().into_response();
        }
        return next
            .run(axum::extract::Request::from_parts(parts, body))
            .await;
    }
    next.run(request).await
}

/// The last address in `X-Forwarded-For`: the one the trusted proxy itself saw.
fn forwarded_for(headers: &HeaderMap) -> Option<IpAddr> {
    let last = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .rfind(|v| !v.is_empty())?;
    last.parse::<IpAddr>()
        .ok()
        .or_else(|| last.parse::<SocketAddr>().ok().map(|s| s.ip()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_read_from_flags() {
        assert_eq!("100/s".parse::<Rate>(), Ok(Rate::per_second(100)));
        assert_eq!("20/min".parse::<Rate>(), Ok(Rate::per_minute(20)));
        assert_eq!(
            "5/h".parse::<Rate>(),
            Ok(Rate {
                count: 5,
                period: Period::Hour
            })
        );
        assert_eq!("off".parse::<Rate>(), Ok(Rate::OFF));
        assert_eq!("0/s".parse::<Rate>().map(|r| r.quota().is_none()), Ok(true));
        assert!("100".parse::<Rate>().is_err());
        assert!("x/s".parse::<Rate>().is_err());
        assert!("10/day".parse::<Rate>().is_err());
        assert_eq!(Rate::per_minute(60).to_string(), "60/min");
        assert_eq!(Rate::OFF.to_string(), "off");
    }

    #[test]
    fn ipv6_addresses_of_one_network_share_a_key() {
        let a: IpAddr = "2001:db8:1:2::1".parse().unwrap_or(IpAddr::from([0; 4]));
        let b: IpAddr = "2001:db8:1:2:ffff::9"
            .parse()
            .unwrap_or(IpAddr::from([0; 4]));
        let c: IpAddr = "2001:db8:1:3::1".parse().unwrap_or(IpAddr::from([0; 4]));
        assert_eq!(AddressKey::from(a), AddressKey::from(b));
        assert_ne!(AddressKey::from(a), AddressKey::from(c));
        let mapped: IpAddr = "::ffff:10.0.0.1".parse().unwrap_or(IpAddr::from([0; 4]));
        assert_eq!(
            AddressKey::from(mapped),
            AddressKey::from(IpAddr::from([10, 0, 0, 1]))
        );
    }

    #[test]
    fn the_proxy_entry_of_forwarded_for_counts() {
        let mut headers = HeaderMap::new();
        headers.insert(
            "x-forwarded-for",
            HeaderValue::from_static("203.0.113.9, 198.51.100.7"),
        );
        assert_eq!(
            forwarded_for(&headers),
            Some(IpAddr::from([198, 51, 100, 7]))
        );
    }

    #[test]
    fn a_limit_refuses_past_its_burst_and_keys_are_separate() {
        let limit = KeyedLimit::new("t", Rate::per_minute(2));
        assert_eq!(limit.check(&1), Ok(()));
        assert_eq!(limit.check(&1), Ok(()));
        let refused = limit.check(&1).err();
        assert!(refused.is_some_and(|r| r.limit == "t" && r.retry_after_seconds() >= 1));
        assert_eq!(limit.check(&2), Ok(()));
        let off = KeyedLimit::new("off", Rate::OFF);
        assert!((0..10_000).all(|_| off.check(&1).is_ok()));
    }
}
