//! Typed attribute values and their data types.

use crate::temporal::{self, DayTimeDuration, XsDate, XsDateTime, XsTime, YearMonthDuration};
use base64::Engine as _;
use std::fmt;

const XS: &str = "http://www.w3.org/2001/XMLSchema#";

/// The XACML data types this engine understands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DataType {
    String,
    Boolean,
    Integer,
    Double,
    Date,
    Time,
    DateTime,
    DayTimeDuration,
    YearMonthDuration,
    AnyUri,
    HexBinary,
    Base64Binary,
    Rfc822Name,
    X500Name,
    IpAddress,
    DnsName,
    XPathExpression,
}

impl DataType {
    pub const ALL: [DataType; 17] = [
        DataType::String,
        DataType::Boolean,
        DataType::Integer,
        DataType::Double,
        DataType::Date,
        DataType::Time,
        DataType::DateTime,
        DataType::DayTimeDuration,
        DataType::YearMonthDuration,
        DataType::AnyUri,
        DataType::HexBinary,
        DataType::Base64Binary,
        DataType::Rfc822Name,
        DataType::X500Name,
        DataType::IpAddress,
        DataType::DnsName,
        DataType::XPathExpression,
    ];

    /// The short name used in function ids (`string`, `anyURI`, `dayTimeDuration`...).
    pub fn short_name(self) -> &'static str {
        match self {
            DataType::String => "string",
            DataType::Boolean => "boolean",
            DataType::Integer => "integer",
            DataType::Double => "double",
            DataType::Date => "date",
            DataType::Time => "time",
            DataType::DateTime => "dateTime",
            DataType::DayTimeDuration => "dayTimeDuration",
            DataType::YearMonthDuration => "yearMonthDuration",
            DataType::AnyUri => "anyURI",
            DataType::HexBinary => "hexBinary",
            DataType::Base64Binary => "base64Binary",
            DataType::Rfc822Name => "rfc822Name",
            DataType::X500Name => "x500Name",
            DataType::IpAddress => "ipAddress",
            DataType::DnsName => "dnsName",
            DataType::XPathExpression => "xpathExpression",
        }
    }

    /// The full data type URI.
    pub fn uri(self) -> &'static str {
        match self {
            DataType::String => "http://www.w3.org/2001/XMLSchema#string",
            DataType::Boolean => "http://www.w3.org/2001/XMLSchema#boolean",
            DataType::Integer => "http://www.w3.org/2001/XMLSchema#integer",
            DataType::Double => "http://www.w3.org/2001/XMLSchema#double",
            DataType::Date => "http://www.w3.org/2001/XMLSchema#date",
            DataType::Time => "http://www.w3.org/2001/XMLSchema#time",
            DataType::DateTime => "http://www.w3.org/2001/XMLSchema#dateTime",
            DataType::DayTimeDuration => "http://www.w3.org/2001/XMLSchema#dayTimeDuration",
            DataType::YearMonthDuration => "http://www.w3.org/2001/XMLSchema#yearMonthDuration",
            DataType::AnyUri => "http://www.w3.org/2001/XMLSchema#anyURI",
            DataType::HexBinary => "http://www.w3.org/2001/XMLSchema#hexBinary",
            DataType::Base64Binary => "http://www.w3.org/2001/XMLSchema#base64Binary",
            DataType::Rfc822Name => "urn:oasis:names:tc:xacml:1.0:data-type:rfc822Name",
            DataType::X500Name => "urn:oasis:names:tc:xacml:1.0:data-type:x500Name",
            DataType::IpAddress => "urn:oasis:names:tc:xacml:2.0:data-type:ipAddress",
            DataType::DnsName => "urn:oasis:names:tc:xacml:2.0:data-type:dnsName",
            DataType::XPathExpression => "urn:oasis:names:tc:xacml:3.0:data-type:xpathExpression",
        }
    }

    /// Resolve a data type URI, a legacy (xquery-operators) URI, or a JSON
    /// profile shorthand (`string`, `integer`...).
    pub fn from_uri(uri: &str) -> Option<DataType> {
        let uri = uri.trim();
        let short = uri
            .strip_prefix(XS)
            .or_else(|| uri.rsplit_once('#').map(|(_, s)| s))
            .or_else(|| uri.rsplit_once(':').map(|(_, s)| s))
            .unwrap_or(uri);
        Self::ALL
            .into_iter()
            .find(|t| t.short_name() == short && (uri == short || Self::known_prefix(*t, uri)))
    }

    fn known_prefix(t: DataType, uri: &str) -> bool {
        uri == t.uri()
            || uri.starts_with("http://www.w3.org/TR/2002/WD-xquery-operators-20020816#")
            || uri.starts_with("urn:oasis:names:tc:xacml:")
    }
}

impl fmt::Display for DataType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.uri())
    }
}

/// A typed attribute value.
#[derive(Debug, Clone)]
pub enum AttributeValue {
    String(String),
    Boolean(bool),
    Integer(i64),
    Double(f64),
    Date(XsDate),
    Time(XsTime),
    DateTime(XsDateTime),
    DayTimeDuration(DayTimeDuration),
    YearMonthDuration(YearMonthDuration),
    AnyUri(String),
    HexBinary(Vec<u8>),
    Base64Binary(Vec<u8>),
    Rfc822Name(String),
    X500Name(String),
    IpAddress(String),
    DnsName(String),
    /// An XPath expression with the category it is evaluated against and the
    /// namespace prefixes in scope where it was written (`""`: default namespace).
    XPathExpression {
        category: String,
        path: String,
        namespaces: Vec<(String, String)>,
    },
}

/// Why a lexical value could not be read as the given type.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{value}` is not a valid {data_type} value")]
pub struct ValueError {
    pub value: String,
    pub data_type: &'static str,
}

impl AttributeValue {
    /// Convenience constructor for the most common type.
    pub fn string(s: impl Into<String>) -> Self {
        AttributeValue::String(s.into())
    }

    pub fn data_type(&self) -> DataType {
        match self {
            AttributeValue::String(_) => DataType::String,
            AttributeValue::Boolean(_) => DataType::Boolean,
            AttributeValue::Integer(_) => DataType::Integer,
            AttributeValue::Double(_) => DataType::Double,
            AttributeValue::Date(_) => DataType::Date,
            AttributeValue::Time(_) => DataType::Time,
            AttributeValue::DateTime(_) => DataType::DateTime,
            AttributeValue::DayTimeDuration(_) => DataType::DayTimeDuration,
            AttributeValue::YearMonthDuration(_) => DataType::YearMonthDuration,
            AttributeValue::AnyUri(_) => DataType::AnyUri,
            AttributeValue::HexBinary(_) => DataType::HexBinary,
            AttributeValue::Base64Binary(_) => DataType::Base64Binary,
            AttributeValue::Rfc822Name(_) => DataType::Rfc822Name,
            AttributeValue::X500Name(_) => DataType::X500Name,
            AttributeValue::IpAddress(_) => DataType::IpAddress,
            AttributeValue::DnsName(_) => DataType::DnsName,
            AttributeValue::XPathExpression { .. } => DataType::XPathExpression,
        }
    }

    /// Parse the lexical form `text` as `data_type`.
    pub fn parse(data_type: DataType, text: &str) -> Result<Self, ValueError> {
        let err = || ValueError {
            value: text.chars().take(80).collect(),
            data_type: data_type.short_name(),
        };
        // Only strings keep their whitespace; everything else is a token.
        let t = text.trim();
        let value = match data_type {
            DataType::String => AttributeValue::String(text.to_string()),
            DataType::Boolean => AttributeValue::Boolean(parse_bool(t).ok_or_else(err)?),
            DataType::Integer => AttributeValue::Integer(parse_integer(t).ok_or_else(err)?),
            DataType::Double => AttributeValue::Double(parse_double(t).ok_or_else(err)?),
            DataType::Date => AttributeValue::Date(temporal::parse_date(t).ok_or_else(err)?),
            DataType::Time => AttributeValue::Time(temporal::parse_time(t).ok_or_else(err)?),
            DataType::DateTime => {
                AttributeValue::DateTime(temporal::parse_date_time(t).ok_or_else(err)?)
            }
            DataType::DayTimeDuration => AttributeValue::DayTimeDuration(
                temporal::parse_day_time_duration(t).ok_or_else(err)?,
            ),
            DataType::YearMonthDuration => AttributeValue::YearMonthDuration(
                temporal::parse_year_month_duration(t).ok_or_else(err)?,
            ),
            DataType::AnyUri => AttributeValue::AnyUri(t.to_string()),
            DataType::HexBinary => AttributeValue::HexBinary(parse_hex(t).ok_or_else(err)?),
            DataType::Base64Binary => {
                AttributeValue::Base64Binary(parse_base64(t).ok_or_else(err)?)
            }
            DataType::Rfc822Name => {
                AttributeValue::Rfc822Name(normalize_rfc822(t).ok_or_else(err)?)
            }
            DataType::X500Name => AttributeValue::X500Name(t.to_string()),
            DataType::IpAddress => AttributeValue::IpAddress(t.to_string()),
            DataType::DnsName => AttributeValue::DnsName(t.to_string()),
            DataType::XPathExpression => AttributeValue::XPathExpression {
                category: String::new(),
                path: t.to_string(),
                namespaces: Vec::new(),
            },
        };
        Ok(value)
    }

    /// The string content for string-like types (used by string functions).
    pub fn as_str(&self) -> Option<&str> {
        match self {
            AttributeValue::String(s)
            | AttributeValue::AnyUri(s)
            | AttributeValue::Rfc822Name(s)
            | AttributeValue::X500Name(s)
            | AttributeValue::IpAddress(s)
            | AttributeValue::DnsName(s) => Some(s),
            _ => None,
        }
    }

    /// Equality as defined by the type's `-equal` function; `None` if the
    /// types differ.
    pub fn typed_eq(&self, other: &Self) -> Option<bool> {
        use AttributeValue as V;
        let eq = match (self, other) {
            (V::String(a), V::String(b))
            | (V::AnyUri(a), V::AnyUri(b))
            | (V::DnsName(a), V::DnsName(b)) => a == b,
            (V::IpAddress(a), V::IpAddress(b)) => normalize_ip(a) == normalize_ip(b),
            (V::Rfc822Name(a), V::Rfc822Name(b)) => a == b,
            (V::X500Name(a), V::X500Name(b)) => x500_rdns(a) == x500_rdns(b),
            (V::Boolean(a), V::Boolean(b)) => a == b,
            (V::Integer(a), V::Integer(b)) => a == b,
            // The conformance suite (IIC350) treats NaN as equal to itself.
            (V::Double(a), V::Double(b)) => a == b || (a.is_nan() && b.is_nan()),
            (V::Date(a), V::Date(b)) => a == b,
            (V::Time(a), V::Time(b)) => a == b,
            (V::DateTime(a), V::DateTime(b)) => a == b,
            (V::DayTimeDuration(a), V::DayTimeDuration(b)) => a == b,
            (V::YearMonthDuration(a), V::YearMonthDuration(b)) => a == b,
            (V::HexBinary(a), V::HexBinary(b)) | (V::Base64Binary(a), V::Base64Binary(b)) => a == b,
            (
                V::XPathExpression {
                    category: c1,
                    path: p1,
                    ..
                },
                V::XPathExpression {
                    category: c2,
                    path: p2,
                    ..
                },
            ) => c1 == c2 && p1 == p2,
            _ => return None,
        };
        Some(eq)
    }

    /// Equality of two values of any types: false when the types differ.
    pub fn same_value(&self, other: &Self) -> bool {
        self.typed_eq(other).unwrap_or(false)
    }
}

/// Value equality by data type (NaN equals NaN, so results compare sanely).
impl PartialEq for AttributeValue {
    fn eq(&self, other: &Self) -> bool {
        self.same_value(other)
    }
}

impl fmt::Display for AttributeValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AttributeValue::Boolean(b) => write!(f, "{b}"),
            AttributeValue::Integer(i) => write!(f, "{i}"),
            AttributeValue::Double(d) => f.write_str(&format_double(*d)),
            AttributeValue::Date(d) => write!(f, "{d}"),
            AttributeValue::Time(t) => write!(f, "{t}"),
            AttributeValue::DateTime(dt) => write!(f, "{dt}"),
            AttributeValue::DayTimeDuration(d) => write!(f, "{d}"),
            AttributeValue::YearMonthDuration(d) => write!(f, "{d}"),
            AttributeValue::HexBinary(bytes) => bytes.iter().try_for_each(|b| write!(f, "{b:02X}")),
            AttributeValue::Base64Binary(bytes) => {
                f.write_str(&base64::engine::general_purpose::STANDARD.encode(bytes))
            }
            AttributeValue::XPathExpression { path, .. } => f.write_str(path),
            other => f.write_str(other.as_str().unwrap_or_default()),
        }
    }
}

pub(crate) fn format_double(d: f64) -> String {
    if d.is_nan() {
        "NaN".into()
    } else if d.is_infinite() {
        if d > 0.0 { "INF".into() } else { "-INF".into() }
    } else {
        format!("{d}")
    }
}

fn parse_bool(t: &str) -> Option<bool> {
    match t {
        "true" | "1" => Some(true),
        "false" | "0" => Some(false),
        _ => None,
    }
}

fn parse_integer(t: &str) -> Option<i64> {
    let digits = t.strip_prefix(['+', '-']).unwrap_or(t);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    t.parse().ok()
}

pub(crate) fn parse_double(t: &str) -> Option<f64> {
    match t {
        "INF" | "+INF" => return Some(f64::INFINITY),
        "-INF" => return Some(f64::NEG_INFINITY),
        "NaN" => return Some(f64::NAN),
        _ => {}
    }
    // Rust accepts "inf"/"nan"/"infinity"; XML Schema does not.
    let allowed = |b: u8| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'+' | b'-');
    if t.is_empty() || !t.bytes().all(allowed) {
        return None;
    }
    t.parse().ok()
}

fn parse_hex(t: &str) -> Option<Vec<u8>> {
    if !t.len().is_multiple_of(2) {
        return None;
    }
    (0..t.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(t.get(i..i + 2)?, 16).ok())
        .collect()
}

fn parse_base64(t: &str) -> Option<Vec<u8>> {
    let compact: String = t.chars().filter(|c| !c.is_whitespace()).collect();
    base64::engine::general_purpose::STANDARD
        .decode(compact)
        .ok()
}

/// rfc822Name: the domain part is case-insensitive, the local part is not,
/// so store the domain lower-cased and compare the whole string.
fn normalize_rfc822(t: &str) -> Option<String> {
    let (local, domain) = t.split_once('@')?;
    if local.is_empty() || domain.is_empty() || domain.contains('@') {
        return None;
    }
    Some(format!("{local}@{}", domain.to_ascii_lowercase()))
}

/// ipAddress `addr[/mask][:port]`: a single port `p` is the range `p-p`.
fn normalize_ip(s: &str) -> String {
    // The port follows the last ':' after an IPv6 address' closing bracket.
    let tail_start = s.rfind(']').map_or(0, |i| i + 1);
    let Some(offset) = s[tail_start..].rfind(':') else {
        return s.to_string();
    };
    let i = tail_start + offset;
    let port = &s[i + 1..];
    if port.is_empty() || port.contains('-') {
        return s.to_string();
    }
    format!("{}:{port}-{port}", &s[..i])
}

/// Normalised RDN list of an X.500 name: attribute types upper-cased,
/// whitespace around separators removed.
pub(crate) fn x500_rdns(name: &str) -> Vec<String> {
    name.split(',')
        .map(|rdn| match rdn.split_once('=') {
            Some((k, v)) => format!("{}={}", k.trim().to_ascii_uppercase(), v.trim()),
            None => rdn.trim().to_string(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_data_type_uris() {
        assert_eq!(
            DataType::from_uri("http://www.w3.org/2001/XMLSchema#string"),
            Some(DataType::String)
        );
        assert_eq!(DataType::from_uri("integer"), Some(DataType::Integer));
        assert_eq!(
            DataType::from_uri("urn:oasis:names:tc:xacml:1.0:data-type:x500Name"),
            Some(DataType::X500Name)
        );
        assert_eq!(DataType::from_uri("urn:nope"), None);
    }

    #[test]
    fn parses_values() {
        let d = AttributeValue::parse(DataType::Double, "27.50").expect("double");
        assert_eq!(d.to_string(), "27.5");
        assert!(AttributeValue::parse(DataType::Double, "inf").is_err());
        let a = AttributeValue::parse(DataType::Rfc822Name, "j_hibbert@MEDICO.COM").expect("r");
        let b = AttributeValue::parse(DataType::Rfc822Name, "j_hibbert@medico.com").expect("r");
        assert_eq!(a.typed_eq(&b), Some(true));
        let h = AttributeValue::parse(DataType::HexBinary, "0bf7a9876cde").expect("hex");
        assert_eq!(h.to_string(), "0BF7A9876CDE");
    }
}
