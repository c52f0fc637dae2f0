//! Statutory times of procedures (thời hạn giải quyết, docs/domain.md §2): procedure code →
//! time limit and unit, from a data file (`config/statutory-times.toml`, built in;
//! `calendar.statutory_times_file` replaces it). Pure except [`StatutoryTimes::load_file`].

use std::collections::BTreeMap;
use std::path::Path;

use chrono::{Duration, NaiveTime};
use serde::Deserialize;

use super::{Calendar, CalendarError};
use crate::model::LocalTime;

/// The unit a statutory time is counted in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TimeUnit {
    /// Whole working days ([`Calendar::add_working_days`]: the clock starts at the next
    /// office time, the due time is the same time of day on the n-th working day after).
    WorkingDays,
    /// Office hours ([`Calendar::add_working_hours`]).
    WorkingHours,
    /// Calendar days, weekends and holidays included.
    CalendarDays,
}

/// A procedure's statutory time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StatutoryTime {
    /// The time limit.
    pub limit: u32,
    /// What `limit` counts.
    pub unit: TimeUnit,
    /// The intake cut-off hour of the procedure's group (`calendar.cut_off_hours`): a dossier
    /// received after it is taken as received at the next working day's opening. `None`: no
    /// cut-off (only the office hours' closing, [`Calendar::clock_start`]).
    pub cut_off: Option<NaiveTime>,
}

impl StatutoryTime {
    /// The due time of a dossier received at `received` under this statutory time: after the
    /// cut-off hour on a working day, counted from the next working day's opening.
    pub fn due_from(
        &self,
        received: LocalTime,
        cal: &Calendar,
    ) -> Result<LocalTime, CalendarError> {
        let received = match self.cut_off {
            Some(cut) if received.time() > cut && cal.is_working_day(received.date())? => cal
                .next_working_day(received.date())?
                .and_time(cal.office_hours().opening()),
            _ => received,
        };
        match self.unit {
            TimeUnit::WorkingDays => cal.add_working_days(received, self.limit),
            TimeUnit::WorkingHours => cal.add_working_hours(received, self.limit),
            TimeUnit::CalendarDays => Ok(received + Duration::days(i64::from(self.limit))),
        }
    }
}

/// The statutory times of the procedures a file lists, by national procedure code, with
/// each procedure's group (for its cut-off hour).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StatutoryTimes {
    by_code: BTreeMap<String, (StatutoryTime, Option<String>)>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileShape {
    #[serde(default)]
    procedure: Vec<EntryShape>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EntryShape {
    code: String,
    #[allow(dead_code)]
    #[serde(default)]
    name: Option<String>,
    limit: u32,
    unit: TimeUnit,
    #[serde(default)]
    group: Option<String>,
}

/// The file shipped with the binary.
const BUILTIN: (&str, &str) = (
    "config/statutory-times.toml",
    include_str!("../../config/statutory-times.toml"),
);

impl StatutoryTimes {
    /// Parses a statutory-times file (`file` names it in errors): every code once, not
    /// empty, a limit above 0.
    pub fn parse(file: &str, text: &str) -> Result<StatutoryTimes, CalendarError> {
        let bad = |message: String| CalendarError::Parse {
            file: file.to_string(),
            message,
        };
        let shape: FileShape = toml::from_str(text).map_err(|e| bad(e.to_string()))?;
        let mut by_code = BTreeMap::new();
        for e in shape.procedure {
            let code = e.code.trim().to_string();
            if code.is_empty() {
                return Err(bad("a [[procedure]] has an empty code".into()));
            }
            if e.limit == 0 {
                return Err(bad(format!("procedure {code}: limit must be above 0")));
            }
            let time = StatutoryTime {
                limit: e.limit,
                unit: e.unit,
                cut_off: None,
            };
            let group = e
                .group
                .map(|g| g.trim().to_string())
                .filter(|g| !g.is_empty());
            if by_code.insert(code.clone(), (time, group)).is_some() {
                return Err(bad(format!("procedure {code} is listed twice")));
            }
        }
        Ok(StatutoryTimes { by_code })
    }

    /// The file shipped with the binary (the demo world's procedures).
    pub fn builtin() -> StatutoryTimes {
        StatutoryTimes::parse(BUILTIN.0, BUILTIN.1)
            .expect("the shipped statutory-times file is valid (checked by tests)")
    }

    /// Reads and parses a statutory-times file.
    pub fn load_file(path: &Path) -> Result<StatutoryTimes, CalendarError> {
        let text = std::fs::read_to_string(path).map_err(|source| CalendarError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        StatutoryTimes::parse(&path.display().to_string(), &text)
    }

    /// The statutory time of the procedure `code` (no cut-off set), and its group, if the file
    /// lists it.
    pub fn get(&self, code: &str) -> Option<(StatutoryTime, Option<&str>)> {
        self.by_code
            .get(code.trim())
            .map(|(t, g)| (*t, g.as_deref()))
    }

    /// How many procedures the file lists.
    pub fn len(&self) -> usize {
        self.by_code.len()
    }

    /// Whether the file lists no procedure.
    pub fn is_empty(&self) -> bool {
        self.by_code.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> LocalTime {
        LocalTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap()
    }

    #[test]
    fn the_shipped_file_lists_the_demo_procedures() {
        let s = StatutoryTimes::builtin();
        assert_eq!(s.len(), 14);
        assert_eq!(
            s.get("1.001193"),
            Some((
                StatutoryTime {
                    limit: 1,
                    unit: TimeUnit::WorkingDays,
                    cut_off: None,
                },
                Some("civil_status")
            ))
        );
        assert_eq!(s.get("9.999999"), None);
    }

    #[test]
    fn units() {
        let cal = Calendar::builtin();
        let r = t("2024-03-08 10:00"); // a Friday
        let due = |limit, unit| {
            StatutoryTime {
                limit,
                unit,
                cut_off: None,
            }
            .due_from(r, &cal)
            .unwrap()
        };
        assert_eq!(due(1, TimeUnit::WorkingDays), t("2024-03-11 10:00"));
        assert_eq!(due(8, TimeUnit::WorkingHours), t("2024-03-11 10:00"));
        assert_eq!(due(3, TimeUnit::CalendarDays), t("2024-03-11 10:00"));
    }

    /// Received after the group's cut-off: counted from the next working day's opening.
    #[test]
    fn cut_off_hour() {
        let cal = Calendar::builtin();
        let one_day = |cut: &str| StatutoryTime {
            limit: 1,
            unit: TimeUnit::WorkingDays,
            cut_off: NaiveTime::parse_from_str(cut, "%H:%M").ok(),
        };
        // Friday 15:30: after the 15:00 cut-off → from Monday 07:00 → due Tuesday 07:00.
        let r = t("2024-03-08 15:30");
        assert_eq!(
            one_day("15:00").due_from(r, &cal).unwrap(),
            t("2024-03-12 07:00")
        );
        // Before the 17:00 cut-off: the received time stands.
        assert_eq!(
            one_day("17:00").due_from(r, &cal).unwrap(),
            t("2024-03-11 15:30")
        );
        // Exactly at the cut-off is not after it.
        let r = t("2024-03-08 15:00");
        assert_eq!(
            one_day("15:00").due_from(r, &cal).unwrap(),
            t("2024-03-11 15:00")
        );
    }

    #[test]
    fn bad_files_name_the_problem() {
        let err = |text: &str| {
            StatutoryTimes::parse("f.toml", text)
                .unwrap_err()
                .to_string()
        };
        let one = "[[procedure]]\ncode = \"1.1\"\nlimit = 2\nunit = \"working_days\"\n";
        assert!(err(&format!("{one}{one}")).contains("1.1 is listed twice"));
        assert!(
            err("[[procedure]]\ncode = \"1.1\"\nlimit = 0\nunit = \"working_days\"\n")
                .contains("limit must be above 0")
        );
        assert!(
            err("[[procedure]]\ncode = \"1.1\"\nlimit = 2\nunit = \"weeks\"\n").contains("f.toml")
        );
    }
}
