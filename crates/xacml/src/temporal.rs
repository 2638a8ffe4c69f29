//! XML Schema date, time, dateTime and duration values.
//!
//! chrono has no notion of an *optional* timezone, which XML Schema values
//! have, so each value keeps its local wall-clock part plus an optional offset.
//! Values without an offset are compared as if they were UTC (XACML leaves the
//! implicit timezone to the implementation).

use chrono::{Datelike, Duration, Months, NaiveDate, NaiveDateTime, NaiveTime, Timelike};
use std::cmp::Ordering;
use std::fmt;

const NANOS_PER_SEC: i128 = 1_000_000_000;
const SECS_PER_DAY: i128 = 86_400;

/// `xs:dateTime`.
#[derive(Debug, Clone, Copy)]
pub struct XsDateTime {
    pub(crate) local: NaiveDateTime,
    /// Offset east of UTC in seconds, when the lexical form had one.
    pub(crate) offset: Option<i32>,
}

/// `xs:date`.
#[derive(Debug, Clone, Copy)]
pub struct XsDate {
    pub(crate) date: NaiveDate,
    pub(crate) offset: Option<i32>,
}

/// `xs:time`.
#[derive(Debug, Clone, Copy)]
pub struct XsTime {
    pub(crate) time: NaiveTime,
    pub(crate) offset: Option<i32>,
}

/// `xs:dayTimeDuration`, as signed nanoseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct DayTimeDuration(pub(crate) i128);

/// `xs:yearMonthDuration`, as signed months.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct YearMonthDuration(pub(crate) i64);

fn epoch_nanos(dt: &NaiveDateTime, offset: Option<i32>) -> i128 {
    let secs = i128::from(dt.and_utc().timestamp()) - i128::from(offset.unwrap_or(0));
    secs * NANOS_PER_SEC + i128::from(dt.nanosecond())
}

impl XsDateTime {
    fn instant(&self) -> i128 {
        epoch_nanos(&self.local, self.offset)
    }

    pub(crate) fn add_day_time(&self, d: DayTimeDuration, negate: bool) -> Option<Self> {
        let nanos = if negate { d.0.checked_neg()? } else { d.0 };
        let nanos = i64::try_from(nanos).ok()?;
        let local = self
            .local
            .checked_add_signed(Duration::nanoseconds(nanos))?;
        Some(Self { local, ..*self })
    }

    pub(crate) fn add_year_month(&self, d: YearMonthDuration, negate: bool) -> Option<Self> {
        let date = add_months(self.local.date(), d, negate)?;
        Some(Self {
            local: date.and_time(self.local.time()),
            ..*self
        })
    }
}

fn add_months(date: NaiveDate, d: YearMonthDuration, negate: bool) -> Option<NaiveDate> {
    let months = if negate { d.0.checked_neg()? } else { d.0 };
    let magnitude = Months::new(u32::try_from(months.unsigned_abs()).ok()?);
    if months >= 0 {
        date.checked_add_months(magnitude)
    } else {
        date.checked_sub_months(magnitude)
    }
}

impl XsDate {
    fn instant(&self) -> i128 {
        epoch_nanos(&self.date.and_time(NaiveTime::MIN), self.offset)
    }

    pub(crate) fn add_year_month(&self, d: YearMonthDuration, negate: bool) -> Option<Self> {
        Some(Self {
            date: add_months(self.date, d, negate)?,
            ..*self
        })
    }
}

impl XsTime {
    fn instant(&self) -> i128 {
        let secs = i128::from(self.time.num_seconds_from_midnight())
            - i128::from(self.offset.unwrap_or(0));
        secs * NANOS_PER_SEC + i128::from(self.time.nanosecond())
    }

    /// Seconds-of-day normalised into [0, 1 day), used by time-in-range.
    pub(crate) fn day_nanos(&self) -> i128 {
        self.instant().rem_euclid(SECS_PER_DAY * NANOS_PER_SEC)
    }
}

macro_rules! instant_ordering {
    ($t:ty) => {
        impl PartialEq for $t {
            fn eq(&self, other: &Self) -> bool {
                self.instant() == other.instant()
            }
        }
        impl Eq for $t {}
        impl PartialOrd for $t {
            fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
                Some(self.cmp(other))
            }
        }
        impl Ord for $t {
            fn cmp(&self, other: &Self) -> Ordering {
                self.instant().cmp(&other.instant())
            }
        }
    };
}
instant_ordering!(XsDateTime);
instant_ordering!(XsDate);
instant_ordering!(XsTime);

// ---------- parsing ----------

/// Small cursor over ASCII input.
struct Cursor<'a> {
    s: &'a [u8],
    i: usize,
}

impl<'a> Cursor<'a> {
    fn new(s: &'a str) -> Self {
        Self {
            s: s.as_bytes(),
            i: 0,
        }
    }
    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }
    fn eat(&mut self, c: u8) -> bool {
        if self.peek() == Some(c) {
            self.i += 1;
            true
        } else {
            false
        }
    }
    fn expect(&mut self, c: u8) -> Option<()> {
        self.eat(c).then_some(())
    }
    fn digits(&mut self, min: usize, max: usize) -> Option<(u64, usize)> {
        let start = self.i;
        let mut value: u64 = 0;
        while let Some(c) = self.peek().filter(u8::is_ascii_digit) {
            if self.i - start >= max {
                return None;
            }
            value = value.checked_mul(10)?.checked_add(u64::from(c - b'0'))?;
            self.i += 1;
        }
        let n = self.i - start;
        (n >= min).then_some((value, n))
    }
    fn fixed(&mut self, n: usize) -> Option<u32> {
        let (v, _) = self.digits(n, n)?;
        u32::try_from(v).ok()
    }
    fn done(&self) -> bool {
        self.i == self.s.len()
    }
}

fn parse_date_part(c: &mut Cursor<'_>) -> Option<NaiveDate> {
    let negative = c.eat(b'-');
    let (year, _) = c.digits(4, 9)?;
    let year = i32::try_from(year).ok()?;
    let year = if negative { -year } else { year };
    c.expect(b'-')?;
    let month = c.fixed(2)?;
    c.expect(b'-')?;
    let day = c.fixed(2)?;
    NaiveDate::from_ymd_opt(year, month, day)
}

/// Returns the time and whether it was the special `24:00:00` (end of day).
fn parse_time_part(c: &mut Cursor<'_>) -> Option<(NaiveTime, bool)> {
    let hour = c.fixed(2)?;
    c.expect(b':')?;
    let minute = c.fixed(2)?;
    c.expect(b':')?;
    let second = c.fixed(2)?;
    let mut nanos = 0u32;
    if c.eat(b'.') {
        let start = c.i;
        let (_, n) = c.digits(1, 64)?;
        let frac = std::str::from_utf8(&c.s[start..start + n.min(9)]).ok()?;
        nanos = frac.parse::<u32>().ok()? * 10u32.pow(u32::try_from(9 - n.min(9)).ok()?);
    }
    if hour == 24 {
        return (minute == 0 && second == 0 && nanos == 0).then_some((NaiveTime::MIN, true));
    }
    Some((
        NaiveTime::from_hms_nano_opt(hour, minute, second, nanos)?,
        false,
    ))
}

fn parse_offset(c: &mut Cursor<'_>) -> Option<Option<i32>> {
    if c.done() {
        return Some(None);
    }
    if c.eat(b'Z') {
        return c.done().then_some(Some(0));
    }
    let sign = if c.eat(b'+') {
        1
    } else if c.eat(b'-') {
        -1
    } else {
        return None;
    };
    let hours = c.fixed(2)?;
    c.expect(b':')?;
    let minutes = c.fixed(2)?;
    // XML Schema caps offsets at 14:00; we accept up to 24:59 because the
    // OASIS suite (IIA023) uses `-24:53`.
    if hours > 24 || minutes > 59 || !c.done() {
        return None;
    }
    let secs = i32::try_from(hours * 3600 + minutes * 60).ok()?;
    Some(Some(sign * secs))
}

pub(crate) fn parse_date_time(s: &str) -> Option<XsDateTime> {
    let mut c = Cursor::new(s);
    let date = parse_date_part(&mut c)?;
    c.expect(b'T')?;
    let (time, end_of_day) = parse_time_part(&mut c)?;
    let offset = parse_offset(&mut c)?;
    let mut local = date.and_time(time);
    if end_of_day {
        local = local.checked_add_signed(Duration::days(1))?;
    }
    Some(XsDateTime { local, offset })
}

pub(crate) fn parse_date(s: &str) -> Option<XsDate> {
    let mut c = Cursor::new(s);
    let date = parse_date_part(&mut c)?;
    let offset = parse_offset(&mut c)?;
    Some(XsDate { date, offset })
}

pub(crate) fn parse_time(s: &str) -> Option<XsTime> {
    let mut c = Cursor::new(s);
    let (time, _) = parse_time_part(&mut c)?;
    let offset = parse_offset(&mut c)?;
    Some(XsTime { time, offset })
}

/// Parse `[-]PnDTnHnMn.nS` (no years or months allowed).
pub(crate) fn parse_day_time_duration(s: &str) -> Option<DayTimeDuration> {
    let (negative, rest) = split_sign(s)?;
    let (date_part, time_part) = match rest.split_once('T') {
        Some((d, t)) => (d, Some(t)),
        None => (rest, None),
    };
    let mut total: i128 = 0;
    let mut any = false;
    if !date_part.is_empty() {
        let days = date_part.strip_suffix('D')?;
        total = parse_uint(days)?.checked_mul(SECS_PER_DAY * NANOS_PER_SEC)?;
        any = true;
    }
    if let Some(t) = time_part {
        let (nanos, had) = parse_time_components(t)?;
        if !had {
            return None;
        }
        total = total.checked_add(nanos)?;
        any = true;
    }
    any.then_some(DayTimeDuration(if negative { -total } else { total }))
}

fn split_sign(s: &str) -> Option<(bool, &str)> {
    let (negative, rest) = match s.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, s),
    };
    Some((negative, rest.strip_prefix('P')?))
}

fn parse_uint(s: &str) -> Option<i128> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) || s.len() > 20 {
        return None;
    }
    s.parse().ok()
}

/// `nHnMn.nS` in any subset and order H, M, S. Returns nanoseconds.
fn parse_time_components(mut t: &str) -> Option<(i128, bool)> {
    let mut total: i128 = 0;
    let mut had = false;
    for (unit, scale) in [('H', 3600i128), ('M', 60)] {
        if let Some(pos) = t.find(unit) {
            let part = parse_uint(&t[..pos])?.checked_mul(scale * NANOS_PER_SEC)?;
            total = total.checked_add(part)?;
            t = &t[pos + 1..];
            had = true;
        }
    }
    if let Some(secs) = t.strip_suffix('S') {
        let (whole, frac) = match secs.split_once('.') {
            Some((w, f)) => (w, f),
            None => (secs, ""),
        };
        total = total.checked_add(parse_uint(whole)?.checked_mul(NANOS_PER_SEC)?)?;
        if !frac.is_empty() {
            let digits: String = frac.chars().take(9).collect();
            let scale = 10i128.pow(u32::try_from(9 - digits.len()).ok()?);
            total += parse_uint(&digits)? * scale;
        } else if secs.ends_with('.') {
            return None;
        }
        had = true;
    } else if !t.is_empty() {
        return None;
    }
    Some((total, had))
}

/// Parse `[-]PnYnM`.
pub(crate) fn parse_year_month_duration(s: &str) -> Option<YearMonthDuration> {
    let (negative, mut rest) = split_sign(s)?;
    let mut months: i128 = 0;
    let mut any = false;
    if let Some(pos) = rest.find('Y') {
        months += parse_uint(&rest[..pos])? * 12;
        rest = &rest[pos + 1..];
        any = true;
    }
    if let Some(m) = rest.strip_suffix('M') {
        months += parse_uint(m)?;
        rest = "";
        any = true;
    }
    if !rest.is_empty() || !any {
        return None;
    }
    let months = i64::try_from(months).ok()?;
    Some(YearMonthDuration(if negative { -months } else { months }))
}

// ---------- formatting ----------

fn write_offset(f: &mut fmt::Formatter<'_>, offset: Option<i32>) -> fmt::Result {
    match offset {
        None => Ok(()),
        Some(0) => f.write_str("Z"),
        Some(o) => {
            let sign = if o < 0 { '-' } else { '+' };
            let o = o.unsigned_abs();
            write!(f, "{sign}{:02}:{:02}", o / 3600, (o % 3600) / 60)
        }
    }
}

fn write_date(f: &mut fmt::Formatter<'_>, d: NaiveDate) -> fmt::Result {
    let y = d.year();
    if y < 0 {
        write!(f, "-{:04}", -y)?;
    } else {
        write!(f, "{y:04}")?;
    }
    write!(f, "-{:02}-{:02}", d.month(), d.day())
}

fn write_time(f: &mut fmt::Formatter<'_>, t: NaiveTime) -> fmt::Result {
    write!(f, "{:02}:{:02}:{:02}", t.hour(), t.minute(), t.second())?;
    let nanos = t.nanosecond();
    if nanos > 0 {
        let frac = format!("{nanos:09}");
        write!(f, ".{}", frac.trim_end_matches('0'))?;
    }
    Ok(())
}

impl fmt::Display for XsDateTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_date(f, self.local.date())?;
        f.write_str("T")?;
        write_time(f, self.local.time())?;
        write_offset(f, self.offset)
    }
}

impl fmt::Display for XsDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_date(f, self.date)?;
        write_offset(f, self.offset)
    }
}

impl fmt::Display for XsTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_time(f, self.time)?;
        write_offset(f, self.offset)
    }
}

impl fmt::Display for DayTimeDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut n = self.0;
        if n < 0 {
            f.write_str("-")?;
            n = -n;
        }
        let total_secs = n / NANOS_PER_SEC;
        let nanos = n % NANOS_PER_SEC;
        let days = total_secs / SECS_PER_DAY;
        let hours = (total_secs % SECS_PER_DAY) / 3600;
        let minutes = (total_secs % 3600) / 60;
        let secs = total_secs % 60;
        write!(f, "P")?;
        if days > 0 {
            write!(f, "{days}D")?;
        }
        if hours > 0 || minutes > 0 || secs > 0 || nanos > 0 || days == 0 {
            write!(f, "T")?;
            if hours > 0 {
                write!(f, "{hours}H")?;
            }
            if minutes > 0 {
                write!(f, "{minutes}M")?;
            }
            if secs > 0 || nanos > 0 || (days == 0 && hours == 0 && minutes == 0) {
                write!(f, "{secs}")?;
                if nanos > 0 {
                    let frac = format!("{nanos:09}");
                    write!(f, ".{}", frac.trim_end_matches('0'))?;
                }
                write!(f, "S")?;
            }
        }
        Ok(())
    }
}

impl fmt::Display for YearMonthDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let m = self.0.unsigned_abs();
        match (m / 12, m % 12) {
            (0, months) => write!(f, "{sign}P{months}M"),
            (years, 0) => write!(f, "{sign}P{years}Y"),
            (years, months) => write!(f, "{sign}P{years}Y{months}M"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_formats_temporal_values() {
        let dt = parse_date_time("2002-03-22T08:23:47-05:00").expect("dateTime");
        assert_eq!(dt.to_string(), "2002-03-22T08:23:47-05:00");
        let same = parse_date_time("2002-03-22T13:23:47Z").expect("dateTime");
        assert_eq!(dt, same);
        assert_eq!(
            parse_day_time_duration("P50DT5H4M3S")
                .expect("dtd")
                .to_string(),
            "P50DT5H4M3S"
        );
        assert_eq!(
            parse_year_month_duration("-P5Y3M")
                .expect("ymd")
                .to_string(),
            "-P5Y3M"
        );
        assert!(parse_day_time_duration("P1Y").is_none());
        assert!(parse_time("08:23:47-05:00").is_some());
        assert!(parse_date("2002-02-30").is_none());
    }
}
