//! A procedure's statutory time inferred from the province's own dossiers of it, where the
//! statutory-times file has no entry (docs/domain.md §2): the most common due − received in
//! working time, when enough dossiers agree. Pure: [`infer`] reads durations, [`Calendar`]
//! measures them ([`working_time_to_due`]).

use chrono::{Duration, NaiveTime};

use super::{Calendar, CalendarError, StatutorySource, StatutoryTime, TimeUnit};
use crate::model::LocalTime;

/// When a time is inferred (`calendar.infer_statutory_*`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InferenceSettings {
    /// Fewest dossiers (with a received and a due time) a procedure needs for an inference;
    /// 0 turns inference off (`calendar.infer_statutory_min_dossiers`).
    pub min_dossiers: u32,
    /// Share of them, in percent, that must give the same time (above 50, so the agreed time
    /// is one; `calendar.infer_statutory_min_percent`).
    pub min_percent: u32,
    /// How many of a procedure's dossiers are read: the latest received
    /// (`calendar.infer_statutory_sample`).
    pub sample: u32,
}

impl Default for InferenceSettings {
    /// 20 dossiers, 60 % agreeing, the latest 200.
    fn default() -> InferenceSettings {
        InferenceSettings {
            min_dossiers: 20,
            min_percent: 60,
            sample: 200,
        }
    }
}

impl InferenceSettings {
    /// Whether inference is on (`min_dossiers` above 0).
    pub fn enabled(&self) -> bool {
        self.min_dossiers > 0
    }
}

/// What [`infer`] concluded for one procedure.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Inference {
    /// Enough dossiers agree: the time (source [`StatutorySource::Inferred`], no cut-off set).
    Inferred(StatutoryTime),
    /// Fewer dossiers than `min_dossiers`.
    TooFew {
        /// The dossiers read.
        dossiers: u32,
    },
    /// Enough dossiers, but the most common time is given by too small a share of them (or is
    /// not a positive time).
    Disagree {
        /// The dossiers read.
        dossiers: u32,
        /// How many give the most common time.
        agreeing: u32,
        /// The most common time.
        limit: i64,
        /// Its unit.
        unit: TimeUnit,
    },
}

/// The working time from a dossier's received time to its due time, as a statutory time
/// counts it: received on a working day after `cut_off` → from the next working day's opening
/// (as [`StatutoryTime::due_from`] starts the clock); office hours only. Negative when the due
/// time is before the start.
pub fn working_time_to_due(
    received: LocalTime,
    due: LocalTime,
    cut_off: NaiveTime,
    cal: &Calendar,
) -> Result<Duration, CalendarError> {
    let start = if received.time() > cut_off && cal.is_working_day(received.date())? {
        cal.next_working_day(received.date())?
            .and_time(cal.office_hours().opening())
    } else {
        received
    };
    cal.working_time_between(start, due)
}

/// How many whole `unit`s `d` is, a due time up to 1/16 of a unit short of a whole number
/// counting as that number (30 minutes of an 8-hour day: seconds and rounding in vendors' due
/// times), a due time later in the last unit (the end of the day) not counting as one more.
fn whole_units(d: Duration, unit: Duration) -> i64 {
    let (d, u) = (d.num_seconds(), unit.num_seconds().max(1));
    (d + u / 16).div_euclid(u)
}

/// The most common value and how many give it (ties: the smaller value).
fn mode(values: impl Iterator<Item = i64>) -> Option<(i64, u32)> {
    let mut counts = std::collections::BTreeMap::<i64, u32>::new();
    for v in values {
        *counts.entry(v).or_default() += 1;
    }
    counts.into_iter().fold(None, |best, (v, n)| match best {
        Some((_, m)) if m >= n => best,
        _ => Some((v, n)),
    })
}

/// Infers a statutory time from the working times from received to due of a procedure's
/// dossiers ([`working_time_to_due`]), a working day being `day` of office time:
/// - fewer than `min_dossiers` → [`Inference::TooFew`];
/// - each duration counted in whole working days (a due up to 1/16 day short of a whole
///   number counts as it; a due later the same day does not add one); the most common count,
///   if at least 1, is the time in `working_days` when at least `min_percent` % give it;
/// - if the most common count is 0 (sub-day times), the same in whole working hours (`working_hours`);
/// - otherwise [`Inference::Disagree`]. Calendar days are never inferred.
pub fn infer(durations: &[Duration], day: Duration, settings: &InferenceSettings) -> Inference {
    let dossiers = u32::try_from(durations.len()).unwrap_or(u32::MAX);
    if !settings.enabled() || dossiers < settings.min_dossiers || dossiers == 0 {
        return Inference::TooFew { dossiers };
    }
    let decide = |unit: TimeUnit, len: Duration| {
        let (limit, agreeing) = mode(durations.iter().map(|&d| whole_units(d, len)))?;
        Some((limit, agreeing, unit))
    };
    let Some((mut limit, mut agreeing, mut unit)) = decide(TimeUnit::WorkingDays, day) else {
        return Inference::TooFew { dossiers };
    };
    if limit == 0 {
        if let Some(hours) = decide(TimeUnit::WorkingHours, Duration::hours(1)) {
            (limit, agreeing, unit) = hours;
        }
    }
    let enough = u64::from(agreeing) * 100 >= u64::from(settings.min_percent) * u64::from(dossiers);
    match u32::try_from(limit) {
        Ok(l) if l > 0 && enough => Inference::Inferred(StatutoryTime {
            limit: l,
            unit,
            cut_off: None,
            source: StatutorySource::Inferred { dossiers, agreeing },
        }),
        _ => Inference::Disagree {
            dossiers,
            agreeing,
            limit,
            unit,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> LocalTime {
        LocalTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap()
    }

    const S: InferenceSettings = InferenceSettings {
        min_dossiers: 5,
        min_percent: 60,
        sample: 200,
    };

    fn h(hours: f64) -> Duration {
        Duration::seconds((hours * 3600.0) as i64)
    }

    fn inferred(limit: u32, unit: TimeUnit, dossiers: u32, agreeing: u32) -> Inference {
        Inference::Inferred(StatutoryTime {
            limit,
            unit,
            cut_off: None,
            source: StatutorySource::Inferred { dossiers, agreeing },
        })
    }

    /// Each case: the durations in working hours (8 h = one working day) and the outcome.
    #[test]
    fn table() {
        let day = Duration::hours(8);
        #[rustfmt::skip]
        let cases: &[(&str, &[f64], Inference)] = &[
            ("all exactly 5 days", &[40.0; 6], inferred(5, TimeUnit::WorkingDays, 6, 6)),
            ("too few dossiers", &[40.0; 4], Inference::TooFew { dossiers: 4 }),
            ("none", &[], Inference::TooFew { dossiers: 0 }),
            ("due at the day's end counts as the day, not one more",
                &[40.0, 44.0, 47.0, 40.0, 41.0], inferred(5, TimeUnit::WorkingDays, 5, 5)),
            ("a due up to half an hour short counts as the whole day",
                &[39.6, 39.5, 40.0, 40.0, 40.0], inferred(5, TimeUnit::WorkingDays, 5, 5)),
            ("more than half an hour short is the day before",
                &[39.0, 39.0, 39.0, 40.0, 40.0], inferred(4, TimeUnit::WorkingDays, 5, 3)),
            ("exactly 60 % agree", &[80.0, 80.0, 80.0, 40.0, 24.0], inferred(10, TimeUnit::WorkingDays, 5, 3)),
            ("below 60 %: disagree", &[80.0, 80.0, 40.0, 40.0, 24.0, 16.0],
                Inference::Disagree { dossiers: 6, agreeing: 2, limit: 5, unit: TimeUnit::WorkingDays }),
            ("sub-day: working hours", &[4.0, 4.0, 4.0, 4.0, 4.2, 6.0], inferred(4, TimeUnit::WorkingHours, 6, 5)),
            ("sub-day, disagreeing", &[1.0, 2.0, 3.0, 4.0, 5.0],
                Inference::Disagree { dossiers: 5, agreeing: 1, limit: 1, unit: TimeUnit::WorkingHours }),
            ("due at the received time: no time", &[0.0; 5],
                Inference::Disagree { dossiers: 5, agreeing: 5, limit: 0, unit: TimeUnit::WorkingHours }),
            ("due before received: no time", &[-16.0; 5],
                Inference::Disagree { dossiers: 5, agreeing: 5, limit: -2, unit: TimeUnit::WorkingDays }),
            ("rescheduled and credited dossiers are outliers", &[24.0, 24.0, 24.0, 24.0, 64.0, 30.0, 24.0],
                inferred(3, TimeUnit::WorkingDays, 7, 6)),
        ];
        let mut failures = Vec::new();
        for (name, hours, expected) in cases {
            let d: Vec<Duration> = hours.iter().map(|&x| h(x)).collect();
            let got = infer(&d, day, &S);
            if got != *expected {
                failures.push(format!("{name}: expected {expected:?}, got {got:?}"));
            }
        }
        assert!(failures.is_empty(), "\n{}", failures.join("\n"));
    }

    #[test]
    fn min_dossiers_zero_turns_it_off() {
        let off = InferenceSettings {
            min_dossiers: 0,
            ..S
        };
        assert_eq!(
            infer(&[h(40.0); 30], Duration::hours(8), &off),
            Inference::TooFew { dossiers: 30 }
        );
    }

    /// The working time to due starts the clock as a due time from a statutory time does:
    /// after the cut-off, at the next working day's opening; and the inferred time gives the
    /// vendor's due time back.
    #[test]
    fn working_time_to_due_round_trips_with_due_from() {
        let cal = Calendar::builtin();
        let cut = NaiveTime::from_hms_opt(17, 0, 0).unwrap();
        let civil = NaiveTime::from_hms_opt(15, 0, 0).unwrap();
        // Friday 10:00 → Thursday 10:00: 4 working days.
        let d = working_time_to_due(t("2024-03-08 10:00"), t("2024-03-14 10:00"), cut, &cal);
        assert_eq!(d.unwrap(), Duration::hours(32));
        // Friday 15:30 after a 15:00 cut-off: from Monday 07:00 to Tuesday 07:00, one day.
        let d = working_time_to_due(t("2024-03-08 15:30"), t("2024-03-12 07:00"), civil, &cal);
        assert_eq!(d.unwrap(), Duration::hours(8));
        let time = StatutoryTime {
            limit: 4,
            unit: TimeUnit::WorkingDays,
            cut_off: Some(cut),
            source: StatutorySource::Inferred {
                dossiers: 20,
                agreeing: 20,
            },
        };
        assert_eq!(
            time.due_from(t("2024-03-08 10:00"), &cal).unwrap(),
            t("2024-03-14 10:00")
        );
        // Over Giỗ Tổ 2024 (18/4): Wednesday 17/4 09:00 → Monday 22/4 09:00 is 2 working days.
        let d = working_time_to_due(t("2024-04-17 09:00"), t("2024-04-22 09:00"), cut, &cal);
        assert_eq!(d.unwrap(), Duration::hours(16));
    }
}
