//! Statutory times of procedures (thời hạn giải quyết, docs/domain.md §2): procedure code →
//! time limit and unit, from a data file (`config/statutory-times.toml`, built in;
//! `calendar.statutory_times_file` replaces it), with the remote-commune extensions the file
//! gives; where the file has no entry, a time inferred from the province's own dossiers
//! ([`super::infer`]). Pure except [`StatutoryTimes::load_file`].

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use chrono::{Duration, NaiveTime};
use serde::{Deserialize, Serialize};

use super::{Calendar, CalendarError};
use crate::model::LocalTime;

/// The unit a statutory time is counted in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize, Serialize)]
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

impl TimeUnit {
    /// The unit as Vietnamese text says it (`ngày làm việc`, `giờ làm việc`, `ngày`).
    pub fn label_vi(self) -> &'static str {
        match self {
            TimeUnit::WorkingDays => "ngày làm việc",
            TimeUnit::WorkingHours => "giờ làm việc",
            TimeUnit::CalendarDays => "ngày",
        }
    }

    /// The unit's name in the file and in logs (`working_days`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            TimeUnit::WorkingDays => "working_days",
            TimeUnit::WorkingHours => "working_hours",
            TimeUnit::CalendarDays => "calendar_days",
        }
    }
}

/// Where a statutory time comes from (docs/domain.md §2: a due date, else the file, else
/// inferred, else unknown).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "from")]
pub enum StatutorySource {
    /// The statutory-times file.
    File,
    /// The file, with the procedure's remote-commune extension added (`remote_extra`, in the
    /// limit's unit): the dossier was received by one of the file's `remote_agencies`.
    FileRemote {
        /// The extension added to the file's limit.
        extra: u32,
    },
    /// Inferred from the province's own dossiers of the procedure ([`super::infer`]): the most
    /// common due − received, agreed on by `agreeing` of the `dossiers` read.
    Inferred {
        /// The procedure's dossiers (with received and due times) the inference read.
        dossiers: u32,
        /// How many of them gave the inferred time.
        agreeing: u32,
    },
}

/// A procedure's statutory time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct StatutoryTime {
    /// The time limit.
    pub limit: u32,
    /// What `limit` counts.
    pub unit: TimeUnit,
    /// The intake cut-off hour of the procedure's group (`calendar.cut_off_hours`): a dossier
    /// received after it is taken as received at the next working day's opening. `None`: no
    /// cut-off (only the office hours' closing, [`Calendar::clock_start`]).
    pub cut_off: Option<NaiveTime>,
    /// Where it comes from.
    pub source: StatutorySource,
}

impl StatutoryTime {
    /// Whether it was inferred from the province's dossiers rather than read from the file.
    pub fn is_inferred(&self) -> bool {
        matches!(self.source, StatutorySource::Inferred { .. })
    }

    /// The time and its source as staff read it, e.g. `5 ngày làm việc (suy ra từ 18/20 hồ sơ
    /// của tỉnh)` or `15 ngày làm việc (theo tệp thời hạn, cộng 5 cho xã vùng sâu, vùng xa)`.
    pub fn describe_vi(&self) -> String {
        let time = format!("{} {}", self.limit, self.unit.label_vi());
        match self.source {
            StatutorySource::File => format!("{time} (theo tệp thời hạn)"),
            StatutorySource::FileRemote { extra } => {
                format!("{time} (theo tệp thời hạn, cộng {extra} cho xã vùng sâu, vùng xa)")
            }
            StatutorySource::Inferred { dossiers, agreeing } => {
                format!("{time} (suy ra từ {agreeing}/{dossiers} hồ sơ của tỉnh)")
            }
        }
    }

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
    by_code: BTreeMap<String, Entry>,
    remote_agencies: BTreeSet<String>,
}

/// One procedure of the file.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Entry {
    time: StatutoryTime,
    group: Option<String>,
    remote_extra: Option<u32>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileShape {
    #[serde(default)]
    remote_agencies: Vec<String>,
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
    #[serde(default)]
    remote_extra: Option<u32>,
}

/// The file shipped with the binary.
const BUILTIN: (&str, &str) = (
    "config/statutory-times.toml",
    include_str!("../../config/statutory-times.toml"),
);

impl StatutoryTimes {
    /// Parses a statutory-times file (`file` names it in errors): every code once, not
    /// empty, a limit above 0, a `remote_extra` above 0; every remote agency code once, not
    /// empty.
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
            if e.remote_extra == Some(0) {
                return Err(bad(format!(
                    "procedure {code}: remote_extra must be above 0 (leave it out for none)"
                )));
            }
            let time = StatutoryTime {
                limit: e.limit,
                unit: e.unit,
                cut_off: None,
                source: StatutorySource::File,
            };
            let group = e
                .group
                .map(|g| g.trim().to_string())
                .filter(|g| !g.is_empty());
            let entry = Entry {
                time,
                group,
                remote_extra: e.remote_extra,
            };
            if by_code.insert(code.clone(), entry).is_some() {
                return Err(bad(format!("procedure {code} is listed twice")));
            }
        }
        let mut remote_agencies = BTreeSet::new();
        for a in shape.remote_agencies {
            let a = a.trim().to_string();
            if a.is_empty() {
                return Err(bad("remote_agencies has an empty agency code".into()));
            }
            if !remote_agencies.insert(a.clone()) {
                return Err(bad(format!("remote_agencies lists {a} twice")));
            }
        }
        Ok(StatutoryTimes {
            by_code,
            remote_agencies,
        })
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
            .map(|e| (e.time, e.group.as_deref()))
    }

    /// [`StatutoryTimes::get`] for a dossier received by `agency`: when the agency is one of
    /// the file's `remote_agencies` and the procedure has a `remote_extra`, the extension is
    /// added to the limit ([`StatutorySource::FileRemote`]).
    pub fn get_for(
        &self,
        code: &str,
        agency: Option<&str>,
    ) -> Option<(StatutoryTime, Option<&str>)> {
        let e = self.by_code.get(code.trim())?;
        let remote = agency.is_some_and(|a| self.remote_agencies.contains(a.trim()));
        let time = match e.remote_extra {
            Some(extra) if remote => StatutoryTime {
                limit: e.time.limit.saturating_add(extra),
                source: StatutorySource::FileRemote { extra },
                ..e.time
            },
            _ => e.time,
        };
        Some((time, e.group.as_deref()))
    }

    /// Whether the file lists the procedure `code`.
    pub fn contains(&self, code: &str) -> bool {
        self.by_code.contains_key(code.trim())
    }

    /// The agency codes of remote communes' receiving units (`remote_agencies`).
    pub fn remote_agencies(&self) -> &BTreeSet<String> {
        &self.remote_agencies
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
                    source: StatutorySource::File,
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
                source: StatutorySource::File,
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
            source: StatutorySource::File,
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

    const REMOTE_FILE: &str = "remote_agencies = [\"X.REMOTE\"]\n\
        [[procedure]]\ncode = \"1.1\"\nlimit = 10\nunit = \"working_days\"\nremote_extra = 5\n\
        [[procedure]]\ncode = \"1.2\"\nlimit = 3\nunit = \"working_days\"\n";

    /// A remote unit's dossier of a procedure with an extension gets it; another unit's, or a
    /// procedure without one, does not.
    #[test]
    fn remote_commune_extension() {
        let s = StatutoryTimes::parse("f.toml", REMOTE_FILE).unwrap();
        let limit = |code, agency| s.get_for(code, agency).map(|(t, _)| (t.limit, t.source));
        assert_eq!(
            limit("1.1", Some("X.REMOTE")),
            Some((15, StatutorySource::FileRemote { extra: 5 }))
        );
        assert_eq!(limit("1.1", Some(" X.REMOTE ")).unwrap().0, 15);
        assert_eq!(
            limit("1.1", Some("X.TOWN")),
            Some((10, StatutorySource::File))
        );
        assert_eq!(limit("1.1", None), Some((10, StatutorySource::File)));
        assert_eq!(
            limit("1.2", Some("X.REMOTE")),
            Some((3, StatutorySource::File))
        );
        // The due time moves by the extension.
        let cal = Calendar::builtin().with_statutory_times(s);
        let r = t("2024-03-08 10:00");
        let due = |agency| {
            cal.statutory_time("1.1", agency)
                .unwrap()
                .due_from(r, &cal)
                .unwrap()
        };
        assert_eq!(due(Some("X.TOWN")), t("2024-03-22 10:00"));
        assert_eq!(due(Some("X.REMOTE")), t("2024-03-29 10:00"));
        assert!(StatutoryTimes::builtin().remote_agencies().is_empty());
    }

    #[test]
    fn bad_remote_entries_name_the_problem() {
        let err = |text: &str| {
            StatutoryTimes::parse("f.toml", text)
                .unwrap_err()
                .to_string()
        };
        assert!(err("remote_agencies = [\"A\", \"A\"]").contains("lists A twice"));
        assert!(err("remote_agencies = [\" \"]").contains("empty agency code"));
        assert!(err(
            "[[procedure]]\ncode = \"1.1\"\nlimit = 2\nunit = \"working_days\"\nremote_extra = 0\n"
        )
        .contains("remote_extra must be above 0"));
    }

    /// The file wins over an inferred time; an inferred time fills in for a procedure it does
    /// not list, with the default cut-off; the counts behind it are not in the judging basis.
    #[test]
    fn file_then_inferred_then_none() {
        let inferred = |limit, dossiers, agreeing| StatutoryTime {
            limit,
            unit: TimeUnit::WorkingDays,
            cut_off: None,
            source: StatutorySource::Inferred { dossiers, agreeing },
        };
        let base = Calendar::builtin();
        let times = |a, b| {
            [
                ("1.001193".to_string(), inferred(9, a, b)),
                ("9.000001".to_string(), inferred(4, a, b)),
            ]
            .into_iter()
            .collect()
        };
        let cal = base.clone().with_inferred(times(20, 18));
        let file = cal.statutory_time("1.001193", None).unwrap();
        assert_eq!((file.limit, file.source), (1, StatutorySource::File));
        let got = cal.statutory_time("9.000001", None).unwrap();
        assert_eq!(got.limit, 4);
        assert!(got.is_inferred());
        assert_eq!(got.cut_off, NaiveTime::from_hms_opt(17, 0, 0));
        assert_eq!(
            got.describe_vi(),
            "4 ngày làm việc (suy ra từ 18/20 hồ sơ của tỉnh)"
        );
        assert_eq!(cal.statutory_time("9.000002", None), None);
        assert_eq!(cal.inferred().len(), 1, "the file's procedure is not kept");
        // Other counts, same times: same basis; another time: another basis.
        let more = base.clone().with_inferred(times(25, 23));
        assert_eq!(cal.judging_basis(), more.judging_basis());
        let other = base.clone().with_inferred(
            [("9.000001".to_string(), inferred(5, 20, 18))]
                .into_iter()
                .collect(),
        );
        assert_ne!(cal.judging_basis(), other.judging_basis());
        assert_ne!(cal.judging_basis(), base.judging_basis());
    }
}
