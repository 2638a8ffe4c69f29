//! Norwegian identifiers as newtypes that can only hold valid values.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Why a string is not a valid identifier.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    #[error("an organisation number has exactly 9 digits; got {0:?}")]
    OrgNumberFormat(String),
    #[error("{0:?} fails the mod-11 check of organisation numbers; check for a typing error")]
    OrgNumberChecksum(String),
    #[error("a national identity number has exactly 11 digits; got {0:?}")]
    PersonNumberFormat(String),
    #[error("{0:?} fails the mod-11 check of national identity numbers; check for a typing error")]
    PersonNumberChecksum(String),
}

fn digits<const N: usize>(s: &str) -> Option<[u32; N]> {
    if s.len() != N {
        return None;
    }
    let mut out = [0u32; N];
    for (slot, ch) in out.iter_mut().zip(s.chars()) {
        *slot = ch.to_digit(10)?;
    }
    Some(out)
}

fn weighted_sum(digits: &[u32], weights: &[u32]) -> u32 {
    digits.iter().zip(weights).map(|(d, w)| d * w).sum()
}

/// A Norwegian organisation number (9 digits, mod-11 control digit).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct OrgNumber([u8; 9]);

impl OrgNumber {
    const WEIGHTS: [u32; 8] = [3, 2, 7, 6, 5, 4, 3, 2];

    pub fn parse(input: &str) -> Result<Self, IdError> {
        let s = input.trim();
        let d = digits::<9>(s).ok_or_else(|| IdError::OrgNumberFormat(input.to_string()))?;
        let control = (11 - weighted_sum(&d[..8], &Self::WEIGHTS) % 11) % 11;
        if control == 10 || control != d[8] {
            return Err(IdError::OrgNumberChecksum(s.to_string()));
        }
        let mut bytes = [0u8; 9];
        for (b, ch) in bytes.iter_mut().zip(s.bytes()) {
            *b = ch;
        }
        Ok(Self(bytes))
    }

    /// Parses `0192:<orgno>` (ISO 6523 actor id with the Norwegian prefix) or a bare number.
    pub fn parse_iso6523(input: &str) -> Result<Self, IdError> {
        Self::parse(input.strip_prefix("0192:").unwrap_or(input))
    }

    pub fn as_str(&self) -> &str {
        // The bytes were copied from ASCII digits in `parse`.
        std::str::from_utf8(&self.0).unwrap_or_default()
    }

    /// The ISO 6523 form used in Maskinporten claims: `0192:<orgno>`.
    pub fn iso6523(&self) -> String {
        format!("0192:{}", self.as_str())
    }
}

/// A Norwegian national identity number (fødselsnummer or D-number, 11 digits, two
/// mod-11 control digits). The date part is not checked, so synthetic test numbers
/// (month + 80, as Tenor issues them) are accepted, as in the reference.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PersonNumber([u8; 11]);

impl PersonNumber {
    const K1_WEIGHTS: [u32; 9] = [3, 7, 6, 1, 8, 9, 4, 5, 2];
    const K2_WEIGHTS: [u32; 10] = [5, 4, 3, 2, 7, 6, 5, 4, 3, 2];

    pub fn parse(input: &str) -> Result<Self, IdError> {
        let s = input.trim();
        let d = digits::<11>(s).ok_or_else(|| IdError::PersonNumberFormat(input.to_string()))?;
        // Since 2032-rule numbers, k1 may be any of four values; old numbers use the first.
        let r1 = weighted_sum(&d[..9], &Self::K1_WEIGHTS) % 11;
        let k1_ok = (11..=14).any(|base: u32| (base - r1) % 11 == d[9]);
        let k2 = (11 - weighted_sum(&d[..10], &Self::K2_WEIGHTS) % 11) % 11;
        if !k1_ok || k2 == 10 || k2 != d[10] {
            return Err(IdError::PersonNumberChecksum(s.to_string()));
        }
        let mut bytes = [0u8; 11];
        for (b, ch) in bytes.iter_mut().zip(s.bytes()) {
            *b = ch;
        }
        Ok(Self(bytes))
    }

    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).unwrap_or_default()
    }
}

macro_rules! string_newtype_impls {
    ($ty:ty) => {
        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
        impl FromStr for $ty {
            type Err = IdError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::parse(s)
            }
        }
        impl Serialize for $ty {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }
        impl<'de> Deserialize<'de> for $ty {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let s = String::deserialize(deserializer)?;
                Self::parse(&s).map_err(serde::de::Error::custom)
            }
        }
        #[cfg(feature = "openapi")]
        impl utoipa::PartialSchema for $ty {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                String::schema()
            }
        }
        #[cfg(feature = "openapi")]
        impl utoipa::ToSchema for $ty {}
    };
}
string_newtype_impls!(OrgNumber);
string_newtype_impls!(PersonNumber);

/// Either kind of party identifier, as accepted where both are allowed
/// (for example the `to` side of an ER role).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PartyIdentifier {
    Org(OrgNumber),
    Person(PersonNumber),
}

impl PartyIdentifier {
    /// 9 digits is an organisation, 11 a person; anything else is an error naming both forms.
    pub fn parse(input: &str) -> Result<Self, IdError> {
        match input.trim().len() {
            11 => PersonNumber::parse(input).map(Self::Person),
            _ => OrgNumber::parse(input).map(Self::Org),
        }
    }

    pub fn as_str(&self) -> &str {
        match self {
            Self::Org(o) => o.as_str(),
            Self::Person(p) => p.as_str(),
        }
    }
}

impl fmt::Display for PartyIdentifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_org_numbers_are_valid() {
        for n in [
            "974761076",
            "991825827",
            "315000009",
            "315100003",
            "315200008",
        ] {
            assert_eq!(OrgNumber::parse(n).unwrap().as_str(), n);
        }
    }

    #[test]
    fn org_number_rejects_bad_checksum_and_format() {
        assert!(matches!(
            OrgNumber::parse("974761077"),
            Err(IdError::OrgNumberChecksum(_))
        ));
        assert!(matches!(
            OrgNumber::parse("97476107"),
            Err(IdError::OrgNumberFormat(_))
        ));
        assert!(matches!(
            OrgNumber::parse("97476107a"),
            Err(IdError::OrgNumberFormat(_))
        ));
        // Control digit 10 is never valid.
        let ten = (0..=99_999_999u32)
            .step_by(7919)
            .map(|n| format!("{n:08}"))
            .find(|p| {
                let d: Vec<u32> = p.chars().filter_map(|c| c.to_digit(10)).collect();
                (11 - weighted_sum(&d, &OrgNumber::WEIGHTS) % 11) % 11 == 10
            })
            .unwrap();
        for last in 0..=9 {
            assert!(OrgNumber::parse(&format!("{ten}{last}")).is_err());
        }
    }

    #[test]
    fn iso6523_prefix_is_accepted_and_produced() {
        let org = OrgNumber::parse_iso6523("0192:991825827").unwrap();
        assert_eq!(org.iso6523(), "0192:991825827");
        assert!(OrgNumber::parse_iso6523("0193:991825827").is_err());
    }

    #[test]
    fn demo_person_numbers_are_valid() {
        for n in ["14857510098", "02889010080", "21906810074", "05828210051"] {
            assert_eq!(PersonNumber::parse(n).unwrap().as_str(), n);
        }
    }

    #[test]
    fn person_number_rejects_bad_checksum() {
        assert!(matches!(
            PersonNumber::parse("14857510099"),
            Err(IdError::PersonNumberChecksum(_))
        ));
        assert!(matches!(
            PersonNumber::parse("1485751009"),
            Err(IdError::PersonNumberFormat(_))
        ));
    }

    #[test]
    fn serde_round_trip_rejects_invalid() {
        let org: OrgNumber = serde_json::from_str("\"315000009\"").unwrap();
        assert_eq!(serde_json::to_string(&org).unwrap(), "\"315000009\"");
        assert!(serde_json::from_str::<OrgNumber>("\"315000008\"").is_err());
    }

    #[test]
    fn party_identifier_picks_kind_by_length() {
        assert!(matches!(
            PartyIdentifier::parse("315100003"),
            Ok(PartyIdentifier::Org(_))
        ));
        assert!(matches!(
            PartyIdentifier::parse("21906810074"),
            Ok(PartyIdentifier::Person(_))
        ));
    }
}
