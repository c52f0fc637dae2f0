//! Cron expressions as configured (`daemon.*_schedule`): parsing them, with crontab's
//! weekday numbering. Pure: no clock, no I/O. The config validates with it; the service's
//! scheduler (`daemon::schedule`) runs jobs by what it returns.

use std::collections::BTreeSet;
use std::str::FromStr;

use cron::Schedule;

/// Parses a schedule.
///
/// - 5 fields: classic crontab, `minute hour day-of-month month day-of-week`; seconds are 0.
///   Day-of-week numbers are crontab's (`0` or `7` = Sunday, `1` = Monday); names
///   (`MON-FRI`) work too. Restricting both day-of-month and day-of-week is rejected, because
///   crontab means "either" and the underlying `cron` crate means "both".
/// - 6 or 7 fields: `cron` crate syntax, `second minute hour day-of-month month day-of-week
///   [year]`. Careful: there, day-of-week numbers run `1` = Sunday to `7` = Saturday; prefer
///   names.
/// - `@hourly`, `@daily`, `@weekly`, `@monthly`, `@yearly`.
///
/// The error message quotes the expression and says what is wrong with it.
pub fn parse_schedule(expr: &str) -> Result<Schedule, String> {
    let trimmed = expr.trim();
    let fields: Vec<&str> = trimmed.split_whitespace().collect();
    let normalized = if trimmed.starts_with('@') {
        trimmed.to_owned()
    } else {
        match fields.len() {
            5 => crontab_to_cron(&fields).map_err(|why| format!("schedule {expr:?}: {why}"))?,
            6 | 7 => fields.join(" "),
            n => {
                return Err(format!(
                    "schedule {expr:?} has {n} fields; expected 5 (crontab: minute hour \
                     day-of-month month day-of-week) or 6-7 (with seconds first, optional year)"
                ))
            }
        }
    };
    Schedule::from_str(&normalized).map_err(|e| format!("schedule {expr:?} is invalid: {e}"))
}

const WEEKDAY_NAMES: [&str; 7] = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

fn is_unrestricted(field: &str) -> bool {
    field == "*" || field == "?"
}

/// `m h dom mon dow` → `0 m h dom mon dow'` with the day-of-week rewritten as names.
fn crontab_to_cron(fields: &[&str]) -> Result<String, String> {
    let (dom, dow) = (fields[2], fields[4]);
    if !is_unrestricted(dom) && !is_unrestricted(dow) {
        return Err(format!(
            "both day-of-month ({dom}) and day-of-week ({dow}) are restricted; crontab would run \
             on either, this service would require both. Restrict only one (use * for the other)"
        ));
    }
    let dow = if is_unrestricted(dow) {
        dow.to_owned()
    } else {
        crontab_weekdays(dow)?
            .iter()
            .map(|&d| WEEKDAY_NAMES[usize::from(d)])
            .collect::<Vec<_>>()
            .join(",")
    };
    Ok(format!(
        "0 {} {} {} {} {dow}",
        fields[0], fields[1], fields[2], fields[3]
    ))
}

/// Expands a crontab day-of-week field into weekdays, 0 = Sunday .. 6 = Saturday.
fn crontab_weekdays(field: &str) -> Result<BTreeSet<u8>, String> {
    let mut days = BTreeSet::new();
    for item in field.split(',') {
        let (base, step) = match item.split_once('/') {
            Some((b, s)) => {
                let step: u8 = s.parse().ok().filter(|&s| s > 0).ok_or_else(|| {
                    format!("day-of-week step {s:?} in {item:?} is not a positive number")
                })?;
                (b, step)
            }
            None => (item, 1),
        };
        let (lo, hi) = if base == "*" {
            (0, 6)
        } else if let Some((a, b)) = base.split_once('-') {
            (crontab_weekday(a)?, crontab_weekday(b)?)
        } else {
            let d = crontab_weekday(base)?;
            // `MON/2` means "from Monday, every 2nd day" as in most crons.
            (d, if item.contains('/') { 6.max(d) } else { d })
        };
        if lo > hi {
            return Err(format!("day-of-week range {base:?} runs backwards"));
        }
        for d in (lo..=hi).step_by(usize::from(step)) {
            days.insert(d % 7);
        }
    }
    Ok(days)
}

/// One crontab weekday: `0`-`7` (0 and 7 are Sunday) or a name.
fn crontab_weekday(s: &str) -> Result<u8, String> {
    if let Ok(n) = s.parse::<u8>() {
        return if n <= 7 {
            Ok(n)
        } else {
            Err(format!("day-of-week {n} is out of range 0-7"))
        };
    }
    match s.to_ascii_lowercase().as_str() {
        "sun" | "sunday" => Ok(0),
        "mon" | "monday" => Ok(1),
        "tue" | "tues" | "tuesday" => Ok(2),
        "wed" | "wednesday" => Ok(3),
        "thu" | "thurs" | "thursday" => Ok(4),
        "fri" | "friday" => Ok(5),
        "sat" | "saturday" => Ok(6),
        _ => Err(format!("{s:?} is not a day of the week")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{DateTime, FixedOffset};

    /// A +07:00 instant from "YYYY-MM-DD HH:MM:SS".
    fn vn(s: &str) -> DateTime<FixedOffset> {
        DateTime::parse_from_str(&format!("{s} +07:00"), "%Y-%m-%d %H:%M:%S %z").unwrap()
    }

    fn next_n(expr: &str, from: &str, n: usize) -> Vec<String> {
        let s = parse_schedule(expr).unwrap_or_else(|e| panic!("{e}"));
        s.after(&vn(from))
            .take(n)
            .map(|t| t.format("%Y-%m-%d %H:%M:%S %a").to_string())
            .collect()
    }

    #[test]
    fn parse_schedule_firings() {
        // 2026-11-27 is a Friday.
        let from = "2026-11-27 10:30:00";
        let cases: &[(&str, &[&str])] = &[
            // 5-field crontab: seconds are 0
            (
                "0 2 * * *",
                &["2026-11-28 02:00:00 Sat", "2026-11-29 02:00:00 Sun"],
            ),
            (
                "*/15 * * * *",
                &["2026-11-27 10:45:00 Fri", "2026-11-27 11:00:00 Fri"],
            ),
            // crontab weekday numbers: 1 = Monday, 0 and 7 = Sunday
            (
                "0 8 * * 1",
                &["2026-11-30 08:00:00 Mon", "2026-12-07 08:00:00 Mon"],
            ),
            (
                "0 8 * * 0",
                &["2026-11-29 08:00:00 Sun", "2026-12-06 08:00:00 Sun"],
            ),
            (
                "0 8 * * 7",
                &["2026-11-29 08:00:00 Sun", "2026-12-06 08:00:00 Sun"],
            ),
            (
                "0 8 * * 1-5",
                &[
                    "2026-11-30 08:00:00 Mon",
                    "2026-12-01 08:00:00 Tue",
                    "2026-12-02 08:00:00 Wed",
                    "2026-12-03 08:00:00 Thu",
                    "2026-12-04 08:00:00 Fri",
                    "2026-12-07 08:00:00 Mon",
                ],
            ),
            (
                "0 8 * * 5-7",
                &[
                    "2026-11-28 08:00:00 Sat",
                    "2026-11-29 08:00:00 Sun",
                    "2026-12-04 08:00:00 Fri",
                ],
            ),
            (
                "0 8 * * mon-fri",
                &["2026-11-30 08:00:00 Mon", "2026-12-01 08:00:00 Tue"],
            ),
            (
                "0 8 * * SAT,sunday",
                &["2026-11-28 08:00:00 Sat", "2026-11-29 08:00:00 Sun"],
            ),
            (
                "0 8 * * */2",
                &[
                    "2026-11-28 08:00:00 Sat",
                    "2026-11-29 08:00:00 Sun",
                    "2026-12-01 08:00:00 Tue",
                    "2026-12-03 08:00:00 Thu",
                ],
            ),
            (
                "30 6 1 * *",
                &["2026-12-01 06:30:00 Tue", "2027-01-01 06:30:00 Fri"],
            ),
            // 6-field: seconds first
            (
                "30 0 2 * * *",
                &["2026-11-28 02:00:30 Sat", "2026-11-29 02:00:30 Sun"],
            ),
            // 6-field with weekday names
            (
                "0 0 8 * * Mon",
                &["2026-11-30 08:00:00 Mon", "2026-12-07 08:00:00 Mon"],
            ),
            // 7-field: with year
            ("0 0 0 1 1 * 2027", &["2027-01-01 00:00:00 Fri"]),
            ("@daily", &["2026-11-28 00:00:00 Sat"]),
            ("  0 2 * * *  ", &["2026-11-28 02:00:00 Sat"]),
        ];
        for (expr, want) in cases {
            assert_eq!(next_n(expr, from, want.len()), *want, "expr {expr:?}");
        }
    }

    #[test]
    fn parse_schedule_errors_name_the_expression() {
        // (expression, fragment the error must contain)
        let cases: &[(&str, &str)] = &[
            ("", "0 fields"),
            ("0 2 * *", "4 fields"),
            ("0 0 2 * * * 2027 x", "8 fields"),
            ("61 2 * * *", "invalid"),
            ("0 2 * * 8", "out of range 0-7"),
            ("0 2 * * funday", "not a day of the week"),
            ("0 2 * * 5-1", "runs backwards"),
            ("0 2 * * */0", "not a positive number"),
            ("0 2 1 * 1", "both day-of-month"),
            ("x y z a b c", "invalid"),
        ];
        for (expr, fragment) in cases {
            let err = parse_schedule(expr).expect_err(expr);
            assert!(
                err.contains(&format!("{expr:?}")),
                "error for {expr:?} does not quote it: {err}"
            );
            assert!(
                err.contains(fragment),
                "error for {expr:?} lacks {fragment:?}: {err}"
            );
        }
    }
}
