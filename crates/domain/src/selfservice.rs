//! Rules of Maskinporten self-service: how an API owner names its scopes (a prefix it was
//! given, and a subscope), how many keys a client may have, and which scopes a consumer
//! may put on its clients. The application layer (`app::selfservice`) reads the facts
//! and applies these.

use crate::OrgNumber;

/// A client may have at most this many keys that have not expired.
pub const MAX_ACTIVE_KEYS: usize = 5;
/// A key expires this many days after upload (Maskinporten's one year).
pub const KEY_LIFETIME_DAYS: i64 = 365;
/// Integration types a scope may allow; this platform issues only Maskinporten tokens.
pub const INTEGRATION_TYPES: [&str; 1] = ["maskinporten"];

/// A broken self-service rule: the field it concerns and why, in words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SelfServiceViolation {
    /// The input is not valid (400): field path and message.
    Invalid { path: &'static str, message: String },
    /// The caller's organisation may not do it (403).
    NotYours(String),
}

fn invalid(path: &'static str, message: impl Into<String>) -> SelfServiceViolation {
    SelfServiceViolation::Invalid {
        path,
        message: message.into(),
    }
}

/// A prefix is 1–50 lowercase letters, digits, `-` or `_` (as `skatteetaten`).
pub fn check_prefix(prefix: &str) -> Result<(), SelfServiceViolation> {
    let ok = !prefix.is_empty()
        && prefix.len() <= 50
        && prefix
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(invalid(
            "/prefix",
            format!("prefix {prefix:?} must be 1 to 50 lowercase letters, digits, - or _"),
        ))
    }
}

/// The scope `prefix:subscope`. A subscope is 1–100 letters, digits, `.`, `-`, `_` or
/// `/`, and does not start or end with `/` or `.`.
pub fn scope_name(prefix: &str, subscope: &str) -> Result<String, SelfServiceViolation> {
    check_prefix(prefix)?;
    let ok = !subscope.is_empty()
        && subscope.len() <= 100
        && subscope
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-/".contains(&b))
        && !subscope.starts_with(['/', '.'])
        && !subscope.ends_with(['/', '.']);
    if ok {
        Ok(format!("{prefix}:{subscope}"))
    } else {
        Err(invalid(
            "/subscope",
            format!(
                "subscope {subscope:?} must be 1 to 100 letters, digits, '.', '-', '_' or '/', not starting or ending with '/' or '.'"
            ),
        ))
    }
}

/// A scope under a prefix belongs to the prefix's owner: the caller may create it only
/// under a prefix the operator gave its organisation.
pub fn check_prefix_owner(
    prefix: &str,
    prefix_owner: Option<OrgNumber>,
    caller: OrgNumber,
) -> Result<(), SelfServiceViolation> {
    match prefix_owner {
        Some(owner) if owner == caller => Ok(()),
        Some(_) => Err(SelfServiceViolation::NotYours(format!(
            "the prefix {prefix:?} belongs to another organisation; scopes under it are that organisation's"
        ))),
        None => Err(SelfServiceViolation::NotYours(format!(
            "the prefix {prefix:?} is not given to your organisation; ask the operator for a prefix"
        ))),
    }
}

/// A client keeps at most [`MAX_ACTIVE_KEYS`] keys that have not expired.
pub fn check_key_count(active: usize, adding: usize) -> Result<(), SelfServiceViolation> {
    if adding == 0 {
        return Err(invalid("/keys", "send at least one key"));
    }
    if active + adding > MAX_ACTIVE_KEYS {
        return Err(invalid(
            "/keys",
            format!(
                "a client may have at most {MAX_ACTIVE_KEYS} active keys; it has {active}: remove one before adding another"
            ),
        ));
    }
    Ok(())
}

/// The integration types a scope allows: at least one, each known.
pub fn check_integration_types(types: &[String]) -> Result<(), SelfServiceViolation> {
    if types.is_empty() {
        return Err(invalid(
            "/allowed_integration_types",
            "name at least one integration type (maskinporten)",
        ));
    }
    match types
        .iter()
        .find(|t| !INTEGRATION_TYPES.contains(&t.as_str()))
    {
        Some(unknown) => Err(invalid(
            "/allowed_integration_types",
            format!("integration type {unknown:?} is not known; known: maskinporten"),
        )),
        None => Ok(()),
    }
}

/// What a consumer's relation to a registered scope is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScopeStanding {
    pub owner: OrgNumber,
    pub accessible_for_all: bool,
    /// The consumer is on the scope's access list.
    pub granted: bool,
}

/// A consumer may put a registered scope on its client when it owns the scope, was
/// given access, or the owner opened the scope to all.
pub fn may_use_scope(standing: ScopeStanding, consumer: OrgNumber) -> bool {
    standing.owner == consumer || standing.granted || standing.accessible_for_all
}

#[cfg(test)]
mod tests {
    use super::*;

    fn org(n: &str) -> OrgNumber {
        OrgNumber::parse(n).expect("valid org number")
    }

    #[test]
    fn a_scope_is_prefix_colon_subscope() {
        assert_eq!(
            scope_name("skatteetaten", "kravogbetalinger").as_deref(),
            Ok("skatteetaten:kravogbetalinger")
        );
        assert!(scope_name("skatteetaten", "mva/read.v2").is_ok());
    }

    #[test]
    fn prefix_and_subscope_refuse_odd_characters() {
        assert!(scope_name("Skatte etaten", "x").is_err());
        assert!(scope_name("skatteetaten:x", "y").is_err());
        assert!(scope_name("skatteetaten", "").is_err());
        assert!(scope_name("skatteetaten", "a b").is_err());
        assert!(scope_name("skatteetaten", "a:b").is_err());
        assert!(scope_name("skatteetaten", "/a").is_err());
    }

    #[test]
    fn a_prefix_belongs_to_its_owner() {
        let skatteetaten = org("974761076");
        let smartcloud = org("991825827");
        assert_eq!(
            check_prefix_owner("skatteetaten", Some(skatteetaten), skatteetaten),
            Ok(())
        );
        assert!(matches!(
            check_prefix_owner("skatteetaten", Some(skatteetaten), smartcloud),
            Err(SelfServiceViolation::NotYours(_))
        ));
        assert!(matches!(
            check_prefix_owner("smartcloud", None, smartcloud),
            Err(SelfServiceViolation::NotYours(_))
        ));
    }

    #[test]
    fn a_client_has_at_most_five_active_keys() {
        assert!(check_key_count(0, 5).is_ok());
        assert!(check_key_count(4, 1).is_ok());
        assert!(check_key_count(5, 1).is_err());
        assert!(check_key_count(3, 3).is_err());
        assert!(check_key_count(0, 0).is_err());
    }

    #[test]
    fn integration_types_must_be_known() {
        assert!(check_integration_types(&["maskinporten".into()]).is_ok());
        assert!(check_integration_types(&[]).is_err());
        assert!(check_integration_types(&["idporten".into()]).is_err());
    }

    #[test]
    fn a_scope_is_usable_by_its_owner_grantees_or_all_when_open() {
        let owner = org("974761076");
        let other = org("991825827");
        let closed = ScopeStanding {
            owner,
            accessible_for_all: false,
            granted: false,
        };
        assert!(may_use_scope(closed, owner));
        assert!(!may_use_scope(closed, other));
        assert!(may_use_scope(
            ScopeStanding {
                granted: true,
                ..closed
            },
            other
        ));
        assert!(may_use_scope(
            ScopeStanding {
                accessible_for_all: true,
                ..closed
            },
            other
        ));
    }
}
