//! Tests of the working-day calendar: holiday files, make-up Saturdays, office hours.

use super::*;

fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}
fn t(s: &str) -> LocalTime {
    LocalTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap()
}

#[test]
fn builtin_files_load() {
    let cal = Calendar::builtin();
    assert_eq!(cal.covered_years(), vec![2024, 2025, 2026]);
    assert_eq!(cal.office_hours().day_length(), Duration::hours(8));
}

/// (date, working day?) — holidays, weekends, make-up Saturdays of every shipped year.
const WORKING_DAYS: &[(&str, bool)] = &[
    ("2024-01-01", false),
    ("2024-01-02", true),
    ("2024-02-07", true),
    ("2024-02-08", false),
    ("2024-02-12", false),
    ("2024-02-14", false),
    ("2024-02-15", true),
    ("2024-04-18", false),
    ("2024-04-29", false),
    ("2024-05-01", false),
    ("2024-05-02", true),
    ("2024-05-04", true),  // make-up Saturday
    ("2024-05-11", false), // ordinary Saturday
    ("2024-09-02", false),
    ("2024-09-03", false),
    ("2024-09-04", true),
    ("2025-01-27", false),
    ("2025-01-31", false),
    ("2025-02-03", true),
    ("2025-04-07", false),
    ("2025-04-26", true), // make-up Saturday
    ("2025-05-02", false),
    ("2025-09-01", false),
    ("2026-01-01", false),
    ("2026-01-02", true),
    ("2026-02-13", true),
    ("2026-02-16", false),
    ("2026-02-20", false),
    ("2026-02-23", true),
    ("2026-04-26", false), // Sunday (Giỗ Tổ, given back on 27/4)
    ("2026-04-27", false),
    ("2026-08-22", true), // make-up Saturday
    ("2026-08-31", false),
    ("2026-09-02", false),
    ("2026-09-03", true),
];

#[test]
fn working_days_table() {
    let cal = Calendar::builtin();
    for &(date, expected) in WORKING_DAYS {
        assert_eq!(cal.is_working_day(d(date)).unwrap(), expected, "{date}");
    }
}

#[test]
fn missing_year_is_an_error_not_a_guess() {
    let cal = Calendar::builtin();
    let err = cal.is_working_day(d("2027-01-04")).unwrap_err();
    assert!(matches!(err, CalendarError::YearNotCovered { year: 2027 }));
    assert!(err.to_string().contains("2027.toml"), "{err}");
    assert!(matches!(
        cal.is_working_day(d("2023-12-29")),
        Err(CalendarError::YearNotCovered { year: 2023 })
    ));
    // Running off the end of the calendar.
    assert!(matches!(
        cal.add_working_days(t("2026-12-29 09:00"), 5),
        Err(CalendarError::YearNotCovered { year: 2027 })
    ));
    assert!(matches!(
        cal.working_time_between(t("2026-12-31 09:00"), t("2027-01-04 09:00")),
        Err(CalendarError::YearNotCovered { year: 2027 })
    ));
}

/// (name, start, working days, expected due)
const ADD_DAYS: &[(&str, &str, u32, &str)] = &[
    ("same weekday", "2024-03-04 09:15", 3, "2024-03-07 09:15"),
    ("over a weekend", "2024-03-07 14:00", 2, "2024-03-11 14:00"),
    ("zero days", "2024-03-07 14:00", 0, "2024-03-07 14:00"),
    (
        "lunch break kept",
        "2024-03-07 12:00",
        1,
        "2024-03-08 12:00",
    ),
    ("before opening", "2024-03-07 06:00", 1, "2024-03-08 07:00"),
    ("after closing", "2024-03-07 18:00", 1, "2024-03-11 07:00"),
    (
        "received on Saturday",
        "2024-03-09 10:00",
        1,
        "2024-03-12 07:00",
    ),
    ("Tết 2024", "2024-02-07 10:00", 1, "2024-02-15 10:00"),
    ("Tết 2026", "2026-02-13 16:00", 2, "2026-02-24 16:00"),
    (
        "30/4 2024 with make-up Sat 4/5",
        "2024-04-26 08:00",
        2,
        "2024-05-03 08:00",
    ),
    (
        "onto make-up Sat 4/5 2024",
        "2024-05-03 08:00",
        1,
        "2024-05-04 08:00",
    ),
    (
        "make-up Sat 22/8 2026",
        "2026-08-21 10:00",
        2,
        "2026-08-24 10:00",
    ),
    (
        "2/9 2026 with 31/8 swap",
        "2026-08-28 10:00",
        1,
        "2026-09-03 10:00",
    ),
    ("year boundary", "2024-12-31 10:00", 1, "2025-01-02 10:00"),
    (
        "Giỗ Tổ 2026 given back",
        "2026-04-24 10:00",
        1,
        "2026-04-28 10:00",
    ),
];

#[test]
fn add_working_days_table() {
    let cal = Calendar::builtin();
    for &(name, start, n, due) in ADD_DAYS {
        assert_eq!(cal.add_working_days(t(start), n).unwrap(), t(due), "{name}");
    }
}

/// (name, a, b, working minutes)
const BETWEEN: &[(&str, &str, &str, i64)] = &[
    ("one morning", "2024-03-04 07:00", "2024-03-04 11:30", 270),
    ("across lunch", "2024-03-04 11:00", "2024-03-04 14:00", 60),
    ("full day", "2024-03-04 00:00", "2024-03-05 00:00", 480),
    ("weekend is zero", "2024-03-08 17:00", "2024-03-11 07:00", 0),
    ("Fri to Mon", "2024-03-08 16:00", "2024-03-11 08:00", 120),
    (
        "Tết 2024 week",
        "2024-02-07 00:00",
        "2024-02-16 00:00",
        2 * 480,
    ),
    (
        "make-up Saturday",
        "2024-05-04 00:00",
        "2024-05-05 00:00",
        480,
    ),
    ("holiday", "2025-04-07 00:00", "2025-04-08 00:00", 0),
    ("reversed", "2024-03-04 11:30", "2024-03-04 07:00", -270),
];

#[test]
fn working_time_table() {
    let cal = Calendar::builtin();
    for &(name, a, b, minutes) in BETWEEN {
        let got = cal.working_time_between(t(a), t(b)).unwrap();
        assert_eq!(got, Duration::minutes(minutes), "{name}");
    }
    let days = cal
        .working_days_between(t("2024-03-04 07:00"), t("2024-03-05 11:00"))
        .unwrap();
    assert!((days - 1.5).abs() < 1e-9, "{days}");
}

#[test]
fn add_and_sub_working_time() {
    let cal = Calendar::builtin();
    let h = Duration::hours;
    assert_eq!(
        cal.add_working_hours(t("2024-03-04 10:00"), 4).unwrap(),
        t("2024-03-04 16:00")
    );
    assert_eq!(
        cal.add_working_time(t("2024-03-08 16:00"), h(2)).unwrap(),
        t("2024-03-11 08:00")
    );
    assert_eq!(
        cal.sub_working_time(t("2024-03-11 08:00"), h(2)).unwrap(),
        t("2024-03-08 16:00")
    );
    assert_eq!(
        cal.sub_working_time(t("2024-03-04 20:00"), Duration::minutes(30))
            .unwrap(),
        t("2024-03-04 16:30")
    );
    assert_eq!(
        cal.add_working_time(t("2024-03-04 20:00"), Duration::zero())
            .unwrap(),
        t("2024-03-04 20:00")
    );
}

#[test]
fn custom_office_hours() {
    let hm = |h, m| NaiveTime::from_hms_opt(h, m, 0).unwrap();
    let hours = OfficeHours::new(vec![(hm(7, 30), hm(11, 30)), (hm(13, 0), hm(17, 0))]).unwrap();
    let cal = Calendar::builtin().with_office_hours(hours);
    assert_eq!(cal.office_hours().day_length(), Duration::hours(8));
    assert_eq!(
        cal.add_working_days(t("2024-03-07 07:00"), 1).unwrap(),
        t("2024-03-08 07:30")
    );
    for bad in [
        vec![],
        vec![(hm(11, 0), hm(7, 0))],
        vec![(hm(7, 0), hm(12, 0)), (hm(11, 0), hm(17, 0))],
    ] {
        assert!(matches!(
            OfficeHours::new(bad),
            Err(CalendarError::BadOfficeHours(_))
        ));
    }
}

/// (name, file text, expected error message fragment)
const BAD_FILES: &[(&str, &str, &str)] = &[
    (
        "wrong year",
        "year = 2025\ndays_off = [\"2024-12-31\"]",
        "2024-12-31 is not in year 2025",
    ),
    (
        "make-up not Saturday",
        "year = 2025\ndays_off = []\nmake_up_working_days = [\"2025-04-27\"]",
        "2025-04-27 is a Sun, not a Saturday",
    ),
    (
        "both off and make-up",
        "year = 2025\ndays_off = [\"2025-04-26\"]\nmake_up_working_days = [\"2025-04-26\"]",
        "2025-04-26 is listed both",
    ),
    (
        "bad date",
        "year = 2025\ndays_off = [\"2025-02-30\"]",
        "days_off entry \"2025-02-30\" is not an ISO date",
    ),
    (
        "unknown key",
        "year = 2025\ndays_off = []\nholidays = []",
        "holidays",
    ),
    ("missing year", "days_off = []", "year"),
];

#[test]
fn bad_files_are_rejected_with_the_file_name() {
    for &(name, text, fragment) in BAD_FILES {
        let err = Calendar::from_year_files(&[("x/2025.toml", text)]).unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("x/2025.toml"), "{name}: {msg}");
        assert!(msg.contains(fragment), "{name}: {msg}");
    }
    let a = "year = 2025\ndays_off = []";
    let err = Calendar::from_year_files(&[("a.toml", a), ("b.toml", a)]).unwrap_err();
    assert!(matches!(
        err,
        CalendarError::DuplicateYear { year: 2025, .. }
    ));
}

#[test]
fn load_dir_reads_toml_files() {
    let dir = tempfile::tempdir().unwrap();
    assert!(matches!(
        Calendar::load_dir(dir.path()),
        Err(CalendarError::NoYearFiles { .. })
    ));
    std::fs::write(
        dir.path().join("2025.toml"),
        "year = 2025\ndays_off = [\"2025-01-01\"]",
    )
    .unwrap();
    std::fs::write(dir.path().join("notes.txt"), "ignored").unwrap();
    let cal = Calendar::load_dir(dir.path()).unwrap();
    assert_eq!(cal.covered_years(), vec![2025]);
    assert!(!cal.is_working_day(d("2025-01-01")).unwrap());
    std::fs::write(
        dir.path().join("2026.toml"),
        "year = 2026\ndays_off = [\"2025-01-01\"]",
    )
    .unwrap();
    let msg = Calendar::load_dir(dir.path()).unwrap_err().to_string();
    assert!(msg.contains("2026.toml"), "{msg}");
    assert!(matches!(
        Calendar::load_dir(dir.path().join("nope")),
        Err(CalendarError::Io { .. })
    ));
}

mod props {
    use super::*;
    use proptest::prelude::*;

    /// Instants within the shipped years, minute resolution (2024-01-01 .. 2026-11-15).
    fn instant() -> impl Strategy<Value = LocalTime> {
        (0i64..(1050 * 24 * 60)).prop_map(|m| t("2024-01-01 00:00") + Duration::minutes(m))
    }

    proptest! {
        #[test]
        fn add_working_days_lands_on_a_later_working_day(start in instant(), n in 1u32..20) {
            let cal = Calendar::builtin();
            let due = cal.add_working_days(start, n).unwrap();
            prop_assert!(cal.is_working_day(due.date()).unwrap());
            prop_assert!(due > start);
            // n whole working days of office time from the clock start.
            let begin = cal.clock_start(start).unwrap();
            prop_assert_eq!(
                cal.working_time_between(begin, due).unwrap(),
                cal.office_hours().day_length() * n as i32
            );
        }

        #[test]
        fn working_time_is_nonnegative_and_additive(a in instant(), b in instant(), c in instant()) {
            let cal = Calendar::builtin();
            let mut v = [a, b, c];
            v.sort();
            let [a, m, b] = v;
            let ab = cal.working_time_between(a, b).unwrap();
            prop_assert!(ab >= Duration::zero());
            prop_assert_eq!(
                ab,
                cal.working_time_between(a, m).unwrap() + cal.working_time_between(m, b).unwrap()
            );
            prop_assert_eq!(cal.working_time_between(b, a).unwrap(), -ab);
        }

        #[test]
        fn sub_undoes_add(start in instant(), minutes in 1i64..(20 * 480)) {
            let cal = Calendar::builtin();
            let amount = Duration::minutes(minutes);
            let later = cal.add_working_time(start, amount).unwrap();
            prop_assert_eq!(cal.working_time_between(start, later).unwrap(), amount);
            let back = cal.sub_working_time(later, amount).unwrap();
            prop_assert_eq!(cal.working_time_between(back, later).unwrap(), amount);
        }
    }
}
