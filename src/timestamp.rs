//! A portal's timestamp read as local time (Vietnam, +07:00; docs/domain.md §8): the one place
//! that turns the text of a date field — with a profile's formats, or the national portal's —
//! into a [`LocalTime`]. Pure.
//!
//! A format is a chrono format, or one of three names for numbers that vendors write:
//! `epoch_ms` and `epoch_s` (Unix time, milliseconds or seconds, read in UTC and shown at
//! +07:00) and `dotnet` (`/Date(1723603800000)/`, `/Date(1723603800000+0700)/`: milliseconds
//! since the epoch as ASP.NET's JSON writes them).
//!
//! - A format with an offset (`%z`, `%:z`, `%#z`) is converted to +07:00.
//! - A format with no time of day (`%d/%m/%Y`) reads a date alone, placed by [`DateOnly`]: a
//!   due date written without a time is due by the end of that day; any other date alone is
//!   taken at the start of its day (docs/domain.md §8 says why).

use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, Utc};

use crate::model::{vn_offset, LocalTime};

/// Where a date written without a time of day is placed in its day.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DateOnly {
    /// 00:00:00 (received, finished, returned, last modified).
    StartOfDay,
    /// 23:59:59 (a due date: due by the end of that day).
    EndOfDay,
}

impl DateOnly {
    fn time(self) -> NaiveTime {
        match self {
            DateOnly::StartOfDay => NaiveTime::MIN,
            DateOnly::EndOfDay => NaiveTime::from_hms_opt(23, 59, 59).unwrap_or(NaiveTime::MIN),
        }
    }
}

/// The named number formats a profile may list beside chrono formats.
pub const NUMBER_FORMATS: [&str; 3] = ["epoch_ms", "epoch_s", "dotnet"];

/// Whether a chrono format reads an offset: `%z` (`+0700`), `%:z` (`+07:00`) or `%#z` (any of
/// those, `+07`, or `Z`).
fn has_offset(format: &str) -> bool {
    ["%z", "%:z", "%#z"].iter().any(|z| format.contains(z))
}

/// Whether a chrono format reads a time of day (else it is a date alone).
fn has_time(format: &str) -> bool {
    [
        "%H", "%k", "%I", "%l", "%M", "%S", "%T", "%R", "%X", "%r", "%c", "%s", "%P", "%p",
    ]
    .iter()
    .any(|t| format.contains(t))
}

/// Milliseconds since the Unix epoch as local time; `None` out of range.
fn from_epoch_ms(ms: i64) -> Option<LocalTime> {
    DateTime::<Utc>::from_timestamp_millis(ms).map(|t| t.with_timezone(&vn_offset()).naive_local())
}

/// `/Date(ms)/` or `/Date(ms±hhmm)/` (the offset only says where the writer was: the
/// milliseconds are UTC either way).
fn dotnet(v: &str) -> Option<LocalTime> {
    let inner = v.strip_prefix("/Date(")?.strip_suffix(")/")?;
    let digits_end = inner
        .char_indices()
        .skip(1)
        .find(|(_, c)| *c == '+' || *c == '-')
        .map_or(inner.len(), |(i, _)| i);
    from_epoch_ms(inner[..digits_end].parse().ok()?)
}

/// `v` read with one format (see the module doc); `None` when it does not read it.
pub fn parse_one(v: &str, format: &str, date_only: DateOnly) -> Option<LocalTime> {
    match format {
        "epoch_ms" => from_epoch_ms(v.parse().ok()?),
        "epoch_s" => from_epoch_ms(v.parse::<i64>().ok()?.checked_mul(1000)?),
        "dotnet" => dotnet(v),
        f if has_offset(f) => DateTime::parse_from_str(v, f)
            .ok()
            .map(|t| t.with_timezone(&vn_offset()).naive_local()),
        f if has_time(f) => NaiveDateTime::parse_from_str(v, f).ok(),
        f => NaiveDate::parse_from_str(v, f)
            .ok()
            .map(|d| d.and_time(date_only.time())),
    }
}

/// No format reads the value (the caller names the field and the formats).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Unreadable;

/// `v` (trimmed) read with the first of `formats` that reads it; `Ok(None)` for an empty value
/// (null), [`Unreadable`] when none reads it.
pub fn parse<S: AsRef<str>>(
    v: &str,
    formats: &[S],
    date_only: DateOnly,
) -> Result<Option<LocalTime>, Unreadable> {
    let v = v.trim();
    if v.is_empty() {
        return Ok(None);
    }
    formats
        .iter()
        .find_map(|f| parse_one(v, f.as_ref(), date_only))
        .map(Some)
        .ok_or(Unreadable)
}

/// Whether `format` is one this module can read with: a named number format, or a chrono
/// format whose every specifier chrono knows.
pub fn is_valid_format(format: &str) -> bool {
    use chrono::format::{Item, StrftimeItems};
    NUMBER_FORMATS.contains(&format)
        || !format.trim().is_empty()
            && !StrftimeItems::new(format).any(|i| matches!(i, Item::Error))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> LocalTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S").unwrap()
    }

    #[test]
    fn each_kind_of_format_reads_local_time() {
        let s = DateOnly::StartOfDay;
        for (v, f, want) in [
            (
                "14/08/2024 09:30:00",
                "%d/%m/%Y %H:%M:%S",
                "2024-08-14 09:30:00",
            ),
            (
                "2024-08-14T02:30:00Z",
                "%Y-%m-%dT%H:%M:%S%#z",
                "2024-08-14 09:30:00",
            ),
            (
                "2024-08-14T09:30:00+07:00",
                "%Y-%m-%dT%H:%M:%S%:z",
                "2024-08-14 09:30:00",
            ),
            ("14/08/2024", "%d/%m/%Y", "2024-08-14 00:00:00"),
            ("1723602600000", "epoch_ms", "2024-08-14 09:30:00"),
            ("1723602600", "epoch_s", "2024-08-14 09:30:00"),
            ("/Date(1723602600000)/", "dotnet", "2024-08-14 09:30:00"),
            (
                "/Date(1723602600000+0700)/",
                "dotnet",
                "2024-08-14 09:30:00",
            ),
        ] {
            assert_eq!(parse_one(v, f, s), Some(t(want)), "{v} with {f}");
        }
    }

    #[test]
    fn a_due_date_alone_is_due_by_the_end_of_its_day() {
        assert_eq!(
            parse(
                " 30/08/2024 ",
                &["%d/%m/%Y %H:%M:%S", "%d/%m/%Y"],
                DateOnly::EndOfDay
            ),
            Ok(Some(t("2024-08-30 23:59:59")))
        );
        // A format with a time still reads the time written.
        assert_eq!(
            parse(
                "30/08/2024 17:00:00",
                &["%d/%m/%Y %H:%M:%S", "%d/%m/%Y"],
                DateOnly::EndOfDay
            ),
            Ok(Some(t("2024-08-30 17:00:00")))
        );
    }

    #[test]
    fn empty_is_null_and_unreadable_is_an_error() {
        assert_eq!(parse("  ", &["%d/%m/%Y"], DateOnly::StartOfDay), Ok(None));
        for (v, f) in [
            ("2024/08/14", "%d/%m/%Y"),
            ("14/08/2024 9h30", "%d/%m/%Y %H:%M:%S"),
            ("/Date(abc)/", "dotnet"),
            ("99999999999999999999", "epoch_ms"),
            ("14/08/2024 09:30:00", "%d/%m/%Y"),
        ] {
            assert_eq!(
                parse(v, &[f], DateOnly::StartOfDay),
                Err(Unreadable),
                "{v} with {f}"
            );
        }
    }

    #[test]
    fn formats_are_checked() {
        assert!(is_valid_format("%d/%m/%Y %H:%M:%S"));
        assert!(is_valid_format("epoch_ms"));
        assert!(is_valid_format("%Y-%m-%dT%H:%M:%S%.3f%#z"));
        assert!(!is_valid_format("%Q"));
        assert!(!is_valid_format(""));
    }
}
