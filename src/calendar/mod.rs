//! The working-day calendar of state offices (docs/domain.md §4): pure, no clock, no I/O except the
//! explicit [`Calendar::load_dir`].
//!
//! - A day is a working day unless it is a Saturday or Sunday (and not a make-up Saturday,
//!   *làm bù*) or a day off listed in that year's holiday file.
//! - Holidays live in one TOML file per year (`config/holidays/<year>.toml`, format in the
//!   README there), never in code. A date in a year with no file is an error
//!   ([`CalendarError::YearNotCovered`]); the calendar never guesses.
//! - Working time is office-hours time ([`OfficeHours`], default 07:00–11:30 and 13:30–17:00,
//!   i.e. an 8-hour working day) on working days.
//!
//! All times are [`LocalTime`] (wall clock in +07:00).

use crate::model::LocalTime;
use chrono::{Datelike, Duration, NaiveDate, NaiveTime, Weekday};
use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Why a calendar could not be built or could not answer. Every message names what to fix.
#[derive(Debug, thiserror::Error)]
pub enum CalendarError {
    /// A date falls in a year with no holiday file: the dossier cannot be judged until the
    /// year's file is added.
    #[error(
        "no holiday calendar for year {year}: add a holiday file for {year} \
         (config/holidays/{year}.toml) with the days off announced for that year; \
         a missing year is never assumed"
    )]
    YearNotCovered {
        /// The year with no file.
        year: i32,
    },
    /// A holiday file or `calendar.holidays_dir` could not be read.
    #[error("cannot read holiday file {}: {source}", path.display())]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// `calendar.holidays_dir` holds no `*.toml` file.
    #[error("no holiday files (*.toml) in directory {}", dir.display())]
    NoYearFiles {
        /// The directory.
        dir: PathBuf,
    },
    /// A holiday file is not valid TOML or not of the expected shape.
    #[error("holiday file {file}: {message}")]
    Parse {
        /// The file's name.
        file: String,
        /// The TOML parser's message.
        message: String,
    },
    /// A date in a holiday file is not `YYYY-MM-DD`.
    #[error("holiday file {file}: {field} entry {value:?} is not an ISO date (YYYY-MM-DD)")]
    BadDate {
        /// The file's name.
        file: String,
        /// `days_off` or `make_up_working_days`.
        field: &'static str,
        /// The text that is not a date.
        value: String,
    },
    /// A date in a holiday file is not in the year the file declares.
    #[error("holiday file {file}: {field} date {date} is not in year {year} declared by the file")]
    WrongYear {
        /// The file's name.
        file: String,
        /// `days_off` or `make_up_working_days`.
        field: &'static str,
        /// The date out of the year.
        date: NaiveDate,
        /// The year the file declares (`year = …`).
        year: i32,
    },
    /// A make-up working day (làm bù) is not a Saturday.
    #[error("holiday file {file}: make-up working day {date} is a {weekday}, not a Saturday")]
    MakeUpNotSaturday {
        /// The file's name.
        file: String,
        /// The make-up day.
        date: NaiveDate,
        /// The day of the week it falls on.
        weekday: Weekday,
    },
    /// A date is both a day off and a make-up working day.
    #[error("holiday file {file}: {date} is listed both in days_off and in make_up_working_days")]
    OffAndMakeUp {
        /// The file's name.
        file: String,
        /// The date listed twice.
        date: NaiveDate,
    },
    /// Two holiday files declare the same year.
    #[error("holiday year {year} is defined twice: in {first} and in {second}")]
    DuplicateYear {
        /// The year.
        year: i32,
        /// The first file that declares it.
        first: String,
        /// The second file that declares it.
        second: String,
    },
    /// `calendar.office_hours` is empty, or an interval ends before it starts or overlaps
    /// the previous one.
    #[error("office hours: {0}")]
    BadOfficeHours(String),
    /// Date arithmetic left chrono's range (a date near year ±262,000).
    #[error("date arithmetic out of range near {0}")]
    OutOfRange(NaiveDate),
}

/// The on-disk shape of one year's holiday file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct YearFile {
    year: i32,
    /// Where the days were announced (documentation only).
    #[allow(dead_code)]
    #[serde(default)]
    source: Option<String>,
    days_off: Vec<String>,
    #[serde(default)]
    make_up_working_days: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct YearDays {
    file: String,
    days_off: BTreeSet<NaiveDate>,
    make_up: BTreeSet<NaiveDate>,
}

/// Office hours of a working day: sorted, non-overlapping `[start, end)` intervals.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OfficeHours {
    intervals: Vec<(NaiveTime, NaiveTime)>,
}

impl Default for OfficeHours {
    /// 07:00–11:30 and 13:30–17:00.
    fn default() -> Self {
        let t = |h, m| NaiveTime::from_hms_opt(h, m, 0).expect("valid time");
        OfficeHours {
            intervals: vec![(t(7, 0), t(11, 30)), (t(13, 30), t(17, 0))],
        }
    }
}

impl OfficeHours {
    /// Builds office hours from intervals given in order; each must have start < end and begin
    /// at or after the previous one's end.
    pub fn new(intervals: Vec<(NaiveTime, NaiveTime)>) -> Result<Self, CalendarError> {
        if intervals.is_empty() {
            return Err(CalendarError::BadOfficeHours(
                "at least one (start, end) interval is needed".into(),
            ));
        }
        for (i, &(s, e)) in intervals.iter().enumerate() {
            if s >= e {
                return Err(CalendarError::BadOfficeHours(format!(
                    "interval {s}–{e} ends before it starts"
                )));
            }
            if let Some(&(_, prev_end)) = i.checked_sub(1).and_then(|j| intervals.get(j)) {
                if s < prev_end {
                    return Err(CalendarError::BadOfficeHours(format!(
                        "interval {s}–{e} overlaps or precedes the previous one ending at {prev_end}"
                    )));
                }
            }
        }
        Ok(OfficeHours { intervals })
    }

    fn intervals(&self) -> &[(NaiveTime, NaiveTime)] {
        &self.intervals
    }

    /// Start of the first interval.
    pub fn opening(&self) -> NaiveTime {
        self.intervals[0].0
    }

    /// End of the last interval.
    pub fn closing(&self) -> NaiveTime {
        self.intervals[self.intervals.len() - 1].1
    }

    /// Office time in one working day (8 h by default).
    pub fn day_length(&self) -> Duration {
        self.intervals
            .iter()
            .fold(Duration::zero(), |acc, &(s, e)| acc + (e - s))
    }
}

/// Working days, office hours and the procedures' statutory times: what working time is
/// counted with. Cheap to clone; build once and share.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Calendar {
    years: BTreeMap<i32, YearDays>,
    hours: OfficeHours,
    statutory: std::sync::Arc<StatutoryTimes>,
    /// Times inferred from the province's dossiers, for procedures the file does not list.
    inferred: std::sync::Arc<BTreeMap<String, StatutoryTime>>,
    inference: InferenceSettings,
    cut_offs: CutOffs,
}

/// Intake cut-off hours by procedure group (`calendar.cut_off_hours`, docs/domain.md §4): an
/// application received after its group's hour is handled as if received the next working
/// day.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CutOffs {
    by_group: BTreeMap<String, NaiveTime>,
    default: NaiveTime,
}

impl CutOffs {
    /// Cut-offs by group, and the hour of every other group (and of procedures with none).
    pub fn new(by_group: BTreeMap<String, NaiveTime>, default: NaiveTime) -> CutOffs {
        CutOffs { by_group, default }
    }

    /// The cut-off hour of `group` (`None`: the default).
    pub fn of(&self, group: Option<&str>) -> NaiveTime {
        group
            .and_then(|g| self.by_group.get(g))
            .copied()
            .unwrap_or(self.default)
    }
}

impl Default for CutOffs {
    /// 15:00 for civil status (`civil_status`) and certification (`certification`), 17:00
    /// elsewhere.
    fn default() -> CutOffs {
        let h = |h| NaiveTime::from_hms_opt(h, 0, 0).expect("valid hour");
        CutOffs {
            by_group: [
                ("civil_status".to_string(), h(15)),
                ("certification".to_string(), h(15)),
            ]
            .into_iter()
            .collect(),
            default: h(17),
        }
    }
}

const BUILTIN_FILES: [(&str, &str); 3] = [
    (
        "config/holidays/2024.toml",
        include_str!("../../config/holidays/2024.toml"),
    ),
    (
        "config/holidays/2025.toml",
        include_str!("../../config/holidays/2025.toml"),
    ),
    (
        "config/holidays/2026.toml",
        include_str!("../../config/holidays/2026.toml"),
    ),
];

fn parse_dates(
    file: &str,
    field: &'static str,
    year: i32,
    values: &[String],
) -> Result<BTreeSet<NaiveDate>, CalendarError> {
    values
        .iter()
        .map(|v| {
            let date = NaiveDate::parse_from_str(v.trim(), "%Y-%m-%d").map_err(|_| {
                CalendarError::BadDate {
                    file: file.to_string(),
                    field,
                    value: v.clone(),
                }
            })?;
            if date.year() != year {
                return Err(CalendarError::WrongYear {
                    file: file.to_string(),
                    field,
                    date,
                    year,
                });
            }
            Ok(date)
        })
        .collect()
}

fn parse_year_file(file: &str, text: &str) -> Result<(i32, YearDays), CalendarError> {
    let raw: YearFile = toml::from_str(text).map_err(|e| CalendarError::Parse {
        file: file.to_string(),
        message: e.to_string(),
    })?;
    let days_off = parse_dates(file, "days_off", raw.year, &raw.days_off)?;
    let make_up = parse_dates(
        file,
        "make_up_working_days",
        raw.year,
        &raw.make_up_working_days,
    )?;
    for &date in &make_up {
        if date.weekday() != Weekday::Sat {
            return Err(CalendarError::MakeUpNotSaturday {
                file: file.to_string(),
                date,
                weekday: date.weekday(),
            });
        }
        if days_off.contains(&date) {
            return Err(CalendarError::OffAndMakeUp {
                file: file.to_string(),
                date,
            });
        }
    }
    Ok((
        raw.year,
        YearDays {
            file: file.to_string(),
            days_off,
            make_up,
        },
    ))
}

fn next_day(d: NaiveDate) -> Result<NaiveDate, CalendarError> {
    d.succ_opt().ok_or(CalendarError::OutOfRange(d))
}

fn prev_day(d: NaiveDate) -> Result<NaiveDate, CalendarError> {
    d.pred_opt().ok_or(CalendarError::OutOfRange(d))
}

impl Calendar {
    /// Builds a calendar from `(file name, TOML text)` pairs, one per year. The file name is
    /// only used in error messages. Default office hours.
    pub fn from_year_files(files: &[(&str, &str)]) -> Result<Calendar, CalendarError> {
        let mut years: BTreeMap<i32, YearDays> = BTreeMap::new();
        for &(file, text) in files {
            let (year, days) = parse_year_file(file, text)?;
            if let Some(first) = years.get(&year) {
                return Err(CalendarError::DuplicateYear {
                    year,
                    first: first.file.clone(),
                    second: file.to_string(),
                });
            }
            years.insert(year, days);
        }
        Ok(Calendar {
            years,
            hours: OfficeHours::default(),
            statutory: std::sync::Arc::new(StatutoryTimes::builtin()),
            inferred: std::sync::Arc::default(),
            inference: InferenceSettings::default(),
            cut_offs: CutOffs::default(),
        })
    }

    /// Reads every `*.toml` file of `dir` (in name order) as one year's holiday file.
    pub fn load_dir(dir: impl AsRef<Path>) -> Result<Calendar, CalendarError> {
        let dir = dir.as_ref();
        let io_err = |path: &Path| {
            let path = path.to_path_buf();
            move |source| CalendarError::Io { path, source }
        };
        let mut paths = Vec::new();
        for entry in std::fs::read_dir(dir).map_err(io_err(dir))? {
            let path = entry.map_err(io_err(dir))?.path();
            if path.extension().is_some_and(|e| e == "toml") && path.is_file() {
                paths.push(path);
            }
        }
        if paths.is_empty() {
            return Err(CalendarError::NoYearFiles {
                dir: dir.to_path_buf(),
            });
        }
        paths.sort();
        let mut texts = Vec::with_capacity(paths.len());
        for path in &paths {
            let text = std::fs::read_to_string(path).map_err(io_err(path))?;
            texts.push((path.display().to_string(), text));
        }
        let files: Vec<(&str, &str)> = texts
            .iter()
            .map(|(n, t)| (n.as_str(), t.as_str()))
            .collect();
        Calendar::from_year_files(&files)
    }

    /// The calendar shipped with the binary (2024–2026), default office hours.
    pub fn builtin() -> Calendar {
        Calendar::from_year_files(&BUILTIN_FILES)
            .expect("the shipped holiday files are valid (checked by tests)")
    }

    /// Same calendar with other statutory times (`calendar.statutory_times_file`).
    pub fn with_statutory_times(mut self, times: StatutoryTimes) -> Calendar {
        self.statutory = std::sync::Arc::new(times);
        self
    }

    /// Same calendar with other cut-off hours (`calendar.cut_off_hours`).
    pub fn with_cut_offs(mut self, cut_offs: CutOffs) -> Calendar {
        self.cut_offs = cut_offs;
        self
    }

    /// The statutory time of the procedure `code` for a dossier received by `agency`, with its
    /// group's cut-off hour (docs/domain.md §2): the file's entry (plus its remote-commune
    /// extension when `agency` is a remote one), else the time inferred from the province's
    /// dossiers ([`Calendar::with_inferred`], the default cut-off), else `None`.
    pub fn statutory_time(&self, code: &str, agency: Option<&str>) -> Option<StatutoryTime> {
        if let Some((t, group)) = self.statutory.get_for(code, agency) {
            return Some(StatutoryTime {
                cut_off: Some(self.cut_offs.of(group)),
                ..t
            });
        }
        self.inferred.get(code.trim()).map(|t| StatutoryTime {
            cut_off: Some(self.cut_offs.of(None)),
            ..*t
        })
    }

    /// The statutory times of the file (without the inferred ones).
    pub fn statutory_times(&self) -> &StatutoryTimes {
        &self.statutory
    }

    /// Same calendar with when to infer statutory times (`calendar.infer_statutory_*`).
    pub fn with_inference(mut self, settings: InferenceSettings) -> Calendar {
        self.inference = settings;
        self
    }

    /// When statutory times are inferred.
    pub fn inference(&self) -> &InferenceSettings {
        &self.inference
    }

    /// Same calendar with these inferred statutory times (by procedure code; a code the file
    /// lists is ignored: the file wins).
    pub fn with_inferred(mut self, inferred: BTreeMap<String, StatutoryTime>) -> Calendar {
        let inferred = inferred
            .into_iter()
            .filter(|(code, _)| !self.statutory.contains(code))
            .collect();
        self.inferred = std::sync::Arc::new(inferred);
        self
    }

    /// [`Calendar::with_inferred`] with the times of the outcomes that inferred one.
    pub fn with_inferences(self, outcomes: &[(String, Inference)]) -> Calendar {
        let times = outcomes
            .iter()
            .filter_map(|(code, o)| match o {
                Inference::Inferred(t) => Some((code.clone(), *t)),
                _ => None,
            })
            .collect();
        self.with_inferred(times)
    }

    /// Infers a statutory time ([`infer`], with [`Calendar::inference`]'s settings) from the
    /// received and due times of a procedure's dossiers, measured from the default cut-off
    /// (a procedure the file does not list has no group). A pair that touches a year with no
    /// holiday file is left out.
    pub fn infer_statutory_time(&self, pairs: &[(LocalTime, LocalTime)]) -> Inference {
        let cut_off = self.cut_offs.of(None);
        let durations: Vec<Duration> = pairs
            .iter()
            .filter_map(|&(r, d)| working_time_to_due(r, d, cut_off, self).ok())
            .collect();
        infer(&durations, self.hours.day_length(), &self.inference)
    }

    /// The inferred statutory times, by procedure code.
    pub fn inferred(&self) -> &BTreeMap<String, StatutoryTime> {
        &self.inferred
    }

    /// What verdicts judged with this calendar depend on, as text: everything but the counts
    /// behind the inferred times (they change with every new dossier; the times do not).
    pub fn judging_basis(&self) -> String {
        let times: Vec<(&String, u32, TimeUnit)> = self
            .inferred
            .iter()
            .map(|(c, t)| (c, t.limit, t.unit))
            .collect();
        let without = Calendar {
            inferred: std::sync::Arc::default(),
            ..self.clone()
        };
        format!("{without:?}|inferred {times:?}")
    }

    /// Same calendar with other office hours.
    pub fn with_office_hours(mut self, hours: OfficeHours) -> Calendar {
        self.hours = hours;
        self
    }

    /// The office hours working time is measured in.
    pub fn office_hours(&self) -> &OfficeHours {
        &self.hours
    }

    /// The years this calendar has a holiday file for, ascending.
    pub fn covered_years(&self) -> Vec<i32> {
        self.years.keys().copied().collect()
    }

    /// Saturdays and Sundays are off unless a make-up working day; listed days off are off.
    pub fn is_working_day(&self, date: NaiveDate) -> Result<bool, CalendarError> {
        let year = date.year();
        let days = self
            .years
            .get(&year)
            .ok_or(CalendarError::YearNotCovered { year })?;
        if days.make_up.contains(&date) {
            return Ok(true);
        }
        if matches!(date.weekday(), Weekday::Sat | Weekday::Sun) {
            return Ok(false);
        }
        Ok(!days.days_off.contains(&date))
    }

    /// The first working day strictly after `date`.
    pub fn next_working_day(&self, date: NaiveDate) -> Result<NaiveDate, CalendarError> {
        let mut d = next_day(date)?;
        while !self.is_working_day(d)? {
            d = next_day(d)?;
        }
        Ok(d)
    }

    /// Where the clock of a dossier received at `t` starts: `t` itself on a working day
    /// between opening and closing (lunch break included); the same day's opening if before
    /// opening; the next working day's opening if after closing or on a day off.
    pub fn clock_start(&self, t: LocalTime) -> Result<LocalTime, CalendarError> {
        let (date, time) = (t.date(), t.time());
        if self.is_working_day(date)? {
            if time < self.hours.opening() {
                return Ok(date.and_time(self.hours.opening()));
            }
            if time <= self.hours.closing() {
                return Ok(t);
            }
        }
        Ok(self.next_working_day(date)?.and_time(self.hours.opening()))
    }

    /// Due time for a statutory time of `days` whole working days: the clock starts at
    /// [`Calendar::clock_start`] (working day D, time T) and the result is time T on the
    /// `days`-th working day after D. `days == 0` gives the clock start.
    pub fn add_working_days(
        &self,
        start: LocalTime,
        days: u32,
    ) -> Result<LocalTime, CalendarError> {
        let begin = self.clock_start(start)?;
        let mut d = begin.date();
        for _ in 0..days {
            d = self.next_working_day(d)?;
        }
        Ok(d.and_time(begin.time()))
    }

    /// `start` moved forward by `hours` of office time (for procedures counted in hours or
    /// half days: 4 h = half a working day).
    pub fn add_working_hours(
        &self,
        start: LocalTime,
        hours: u32,
    ) -> Result<LocalTime, CalendarError> {
        self.add_working_time(start, Duration::hours(i64::from(hours)))
    }

    /// `start` moved forward by `amount` of office time (backward if negative). The result
    /// lies in office hours (an interval's end counts), unless `amount` is zero.
    pub fn add_working_time(
        &self,
        start: LocalTime,
        amount: Duration,
    ) -> Result<LocalTime, CalendarError> {
        if amount < Duration::zero() {
            return self.sub_working_time(start, -amount);
        }
        if amount.is_zero() {
            return Ok(start);
        }
        let mut remaining = amount;
        let mut day = start.date();
        let mut floor = Some(start);
        loop {
            if self.is_working_day(day)? {
                for &(s, e) in self.hours.intervals() {
                    let mut s = day.and_time(s);
                    if let Some(f) = floor {
                        s = s.max(f);
                    }
                    let e = day.and_time(e);
                    if e <= s {
                        continue;
                    }
                    let avail = e - s;
                    if remaining <= avail {
                        return Ok(s + remaining);
                    }
                    remaining -= avail;
                }
            }
            day = next_day(day)?;
            floor = None;
        }
    }

    /// `end` moved backward by `amount` of office time (forward if negative).
    pub fn sub_working_time(
        &self,
        end: LocalTime,
        amount: Duration,
    ) -> Result<LocalTime, CalendarError> {
        if amount < Duration::zero() {
            return self.add_working_time(end, -amount);
        }
        if amount.is_zero() {
            return Ok(end);
        }
        let mut remaining = amount;
        let mut day = end.date();
        let mut ceiling = Some(end);
        loop {
            if self.is_working_day(day)? {
                for &(s, e) in self.hours.intervals().iter().rev() {
                    let s = day.and_time(s);
                    let mut e = day.and_time(e);
                    if let Some(c) = ceiling {
                        e = e.min(c);
                    }
                    if e <= s {
                        continue;
                    }
                    let avail = e - s;
                    if remaining <= avail {
                        return Ok(e - remaining);
                    }
                    remaining -= avail;
                }
            }
            day = prev_day(day)?;
            ceiling = None;
        }
    }

    /// Office-hours time between two instants. Antisymmetric: negative when `b < a`.
    /// Errors if any day in between lies in a year with no holiday file.
    pub fn working_time_between(
        &self,
        a: LocalTime,
        b: LocalTime,
    ) -> Result<Duration, CalendarError> {
        if b < a {
            return Ok(-self.working_time_between(b, a)?);
        }
        let mut total = Duration::zero();
        if a == b {
            return Ok(total);
        }
        let mut day = a.date();
        while day <= b.date() {
            if self.is_working_day(day)? {
                for &(s, e) in self.hours.intervals() {
                    let s = day.and_time(s).max(a);
                    let e = day.and_time(e).min(b);
                    if e > s {
                        total += e - s;
                    }
                }
            }
            day = next_day(day)?;
        }
        Ok(total)
    }

    /// [`Calendar::working_time_between`] in working days (divided by the office-day length).
    pub fn working_days_between(&self, a: LocalTime, b: LocalTime) -> Result<f64, CalendarError> {
        let t = self.working_time_between(a, b)?;
        Ok(t.num_seconds() as f64 / self.hours.day_length().num_seconds() as f64)
    }
}

#[cfg(test)]
mod tests;

mod infer;
mod statutory;
pub use infer::{infer, working_time_to_due, Inference, InferenceSettings};
pub use statutory::{StatutorySource, StatutoryTime, StatutoryTimes, TimeUnit};
