//! Reconciliation, rule by rule: a table of named cases (both views of one dossier → the kinds
//! found), and properties: a view reconciled against itself finds nothing, and the result does
//! not depend on the order of the rows.

use std::collections::HashMap;

use chrono::{Duration, NaiveDate};
use proptest::prelude::*;

use tthc_sync::calendar::Calendar;
use tthc_sync::model::{
    DossierCore, LocalTime, NationalDossier, ProvincialDossier, Status, YearMonth,
};
use tthc_sync::reconcile::{assess, Context, Kind, NationalSide, Settings};
use tthc_sync::scoring::{month_tallies, Tally};

pub(crate) fn t(y: i32, m: u32, d: u32, h: u32, min: u32) -> LocalTime {
    NaiveDate::from_ymd_opt(y, m, d)
        .unwrap()
        .and_hms_opt(h, min, 0)
        .unwrap()
}

pub(crate) const CODE: &str = "000.01.31.H18-241014-0001";

/// A dossier received Monday 14/10/2024 09:00, due Thursday 17/10 09:00, finished on time.
pub(crate) fn base() -> ProvincialDossier {
    ProvincialDossier {
        key: CODE.into(),
        core: DossierCore {
            code: CODE.into(),
            procedure_code: Some("1.001193".into()),
            agency_code: Some("000.01.31.H18".into()),
            status: Some(Status::Resolved),
            status_raw: "Có kết quả".into(),
            received_at: Some(t(2024, 10, 14, 9, 0)),
            due_at: Some(t(2024, 10, 17, 9, 0)),
            finished_at: Some(t(2024, 10, 16, 15, 0)),
            returned_at: None,
        },
        local_id: "id-1".into(),
        local_code: "HS24.000001".into(),
        has_due_date: true,
        updated_at: t(2024, 10, 16, 15, 0),
        row_hash: "h".into(),
        ..Default::default()
    }
}

pub(crate) fn mirror(p: &ProvincialDossier) -> NationalDossier {
    let mut core = p.core.clone();
    core.status_raw = core
        .status
        .map(|s| s.code().to_string())
        .unwrap_or_default();
    NationalDossier {
        core,
        unit_name: None,
        duplicate_rows: false,
    }
}

pub(crate) const NOW: fn() -> LocalTime = || t(2024, 10, 31, 17, 0);

/// The tolerances of the example config, and what iGate carries (a finish time only for 9 and
/// 10, a due date only for procedures with a time limit).
pub(crate) fn settings() -> Settings {
    Settings {
        sync_grace: Duration::minutes(60),
        date_tolerance: Duration::minutes(5),
        carries: tthc_sync::profile::Profile::builtin("igate")
            .unwrap()
            .carries,
    }
}

enum Side {
    Same,
    Found(Box<dyn Fn(&mut DossierCore)>),
    NotFound,
    NotLookedUp,
    /// Looked up too soon after the provincial change (inside the grace period).
    FoundTooSoon,
}

struct Case {
    name: &'static str,
    provincial: Box<dyn Fn(&mut ProvincialDossier)>,
    national: Side,
    want: &'static [Kind],
    /// The impact must be positive (the province gains points when the portal is fixed).
    gains: bool,
}

fn run(c: &Case) -> (Vec<Kind>, f64) {
    let mut p = base();
    (c.provincial)(&mut p);
    let mut n = mirror(&p);
    let cal = Calendar::builtin();
    // A month of 100 dossiers, 90 of them good: the denominator of impacts.
    let tallies: HashMap<YearMonth, Tally> = (1..=12)
        .map(|m| {
            let t = Tally {
                counted: 100,
                on_time: 90,
                late: 10,
                ..Default::default()
            };
            (YearMonth::new(2024, m).unwrap(), t)
        })
        .collect();
    let ctx = Context {
        settings: &settings(),
        cal: &cal,
        now: NOW(),
        tallies: &tallies,
    };
    let at = NOW();
    let side = match &c.national {
        Side::Same => NationalSide::Found { dossier: &n, at },
        Side::Found(f) => {
            f(&mut n.core);
            NationalSide::Found { dossier: &n, at }
        }
        Side::NotFound => NationalSide::NotFound { at },
        Side::NotLookedUp => NationalSide::NotLookedUp,
        Side::FoundTooSoon => NationalSide::Found {
            dossier: &n,
            at: p.updated_at + Duration::minutes(10),
        },
    };
    let a = assess(&p, &side, &ctx);
    assert!(
        a.calendar_error.is_none(),
        "{}: {:?}",
        c.name,
        a.calendar_error
    );
    let impact = a.findings.iter().map(|f| f.score_impact).sum();
    (a.findings.into_iter().map(|f| f.kind).collect(), impact)
}

fn no_change(_: &mut ProvincialDossier) {}

#[test]
fn table_of_rules() {
    use Kind::*;
    let cases: Vec<Case> = vec![
        Case {
            name: "identical views",
            provincial: Box::new(no_change),
            national: Side::Same,
            want: &[],
            gains: false,
        },
        Case {
            name: "end exactly at due on both sides",
            provincial: Box::new(|p| p.core.finished_at = p.core.due_at),
            national: Side::Same,
            want: &[],
            gains: false,
        },
        Case {
            name: "portal ends one minute after due (within date tolerance): timeliness flips",
            provincial: Box::new(|p| p.core.finished_at = p.core.due_at),
            national: Side::Found(Box::new(|n| {
                n.finished_at = n.due_at.map(|d| d + Duration::minutes(1))
            })),
            want: &[TimelinessMismatch],
            gains: true,
        },
        Case {
            name: "finish time differs beyond the tolerance",
            provincial: Box::new(no_change),
            national: Side::Found(Box::new(|n| {
                n.finished_at = n.finished_at.map(|d| d - Duration::hours(3))
            })),
            want: &[FinishDateMismatch],
            gains: false,
        },
        Case {
            // The portal then ends it at the time it got the status, which is the same time here:
            // flagged, but the verdict (and so the score) does not change.
            name: "finish time not pushed",
            provincial: Box::new(no_change),
            national: Side::Found(Box::new(|n| n.finished_at = None)),
            want: &[FinishDateMismatch],
            gains: false,
        },
        Case {
            name: "two supplement requests: late on both sides, nothing to fix",
            provincial: Box::new(|p| p.supplement_requests = Some(2)),
            national: Side::Same,
            want: &[],
            gains: false,
        },
        Case {
            name: "supplement requested, applicant not back, same on both sides",
            provincial: Box::new(|p| {
                p.core.status = Some(Status::SupplementRequested);
                p.core.finished_at = None;
                p.paused_since = Some(t(2024, 10, 15, 10, 0));
                p.updated_at = t(2024, 10, 15, 10, 0);
            }),
            national: Side::Same,
            want: &[],
            gains: false,
        },
        Case {
            name: "5 shown as 9 on the portal",
            provincial: Box::new(|p| {
                p.core.status = Some(Status::SupplementRequested);
                p.core.finished_at = None;
                p.paused_since = Some(t(2024, 10, 15, 10, 0));
                p.updated_at = t(2024, 10, 15, 10, 0);
            }),
            national: Side::Found(Box::new(|n| {
                n.status = Some(Status::Resolved);
                n.finished_at = Some(t(2024, 10, 15, 10, 0));
            })),
            want: &[CollapsedStatus],
            gains: false,
        },
        Case {
            name: "8 shown as 9 on the portal",
            provincial: Box::new(|p| {
                p.core.status = Some(Status::Stopped);
                p.core.finished_at = None;
            }),
            national: Side::Found(Box::new(|n| n.status = Some(Status::Resolved))),
            want: &[CollapsedStatus],
            gains: false,
        },
        Case {
            name: "closed in the province, still processing on the portal past due",
            provincial: Box::new(no_change),
            national: Side::Found(Box::new(|n| {
                n.status = Some(Status::Processing);
                n.finished_at = None;
            })),
            want: &[ClosedLocallyOpenNationally],
            gains: true,
        },
        Case {
            name: "status differs, neither terminal",
            provincial: Box::new(|p| {
                p.core.status = Some(Status::Processing);
                p.core.finished_at = None;
                p.core.due_at = Some(t(2024, 11, 29, 9, 0));
            }),
            national: Side::Found(Box::new(|n| n.status = Some(Status::Received))),
            want: &[StatusMismatch],
            gains: false,
        },
        Case {
            name: "rescheduled due date never pushed: late on the portal",
            provincial: Box::new(|p| {
                p.core.due_at = Some(t(2024, 10, 22, 9, 0));
                p.core.finished_at = Some(t(2024, 10, 21, 10, 0));
                p.updated_at = t(2024, 10, 21, 10, 0);
            }),
            national: Side::Found(Box::new(|n| n.due_at = Some(t(2024, 10, 17, 9, 0)))),
            want: &[DueDateMismatch],
            gains: true,
        },
        Case {
            name: "due date pushed as UTC (+0000 read as local): seven hours early",
            provincial: Box::new(no_change),
            national: Side::Found(Box::new(|n| {
                n.due_at = n.due_at.map(|d| d - Duration::hours(7))
            })),
            want: &[DueDateMismatch],
            gains: false,
        },
        Case {
            name: "received date differs",
            provincial: Box::new(no_change),
            national: Side::Found(Box::new(|n| {
                n.received_at = n.received_at.map(|d| d + Duration::days(1))
            })),
            want: &[ReceivedDateMismatch],
            gains: false,
        },
        Case {
            name: "unmapped provincial status: reported, never guessed",
            provincial: Box::new(|p| {
                p.core.status = None;
                p.core.status_raw = "Chờ phê duyệt".into();
            }),
            national: Side::Same,
            want: &[UnmappedStatus],
            gains: false,
        },
        Case {
            name: "not on the portal",
            provincial: Box::new(no_change),
            national: Side::NotFound,
            want: &[MissingOnNational],
            gains: true,
        },
        Case {
            name: "rejected at reception and not on the portal: fine",
            provincial: Box::new(|p| {
                p.core.status = Some(Status::Rejected);
                p.core.finished_at = None;
            }),
            national: Side::NotFound,
            want: &[],
            gains: false,
        },
        Case {
            name: "never looked up: no pair kind",
            provincial: Box::new(no_change),
            national: Side::NotLookedUp,
            want: &[],
            gains: false,
        },
        Case {
            name: "looked up inside the grace period: the push may be on its way",
            provincial: Box::new(no_change),
            national: Side::FoundTooSoon,
            want: &[],
            gains: false,
        },
        Case {
            name: "malformed national code: bad code, no look-up comparison",
            provincial: Box::new(|p| p.core.code = "HS24.000001-3".into()),
            national: Side::NotFound,
            want: &[BadDossierCode],
            gains: false,
        },
        Case {
            name: "received with no due date on either side",
            provincial: Box::new(|p| p.core.due_at = None),
            national: Side::Same,
            want: &[MissingDueDate],
            gains: false,
        },
        Case {
            name: "a holiday inside the processing time (Tết 2024), same on both sides",
            provincial: Box::new(|p| {
                p.core.received_at = Some(t(2024, 2, 7, 9, 0));
                p.core.due_at = Some(t(2024, 2, 16, 9, 0));
                p.core.finished_at = Some(t(2024, 2, 15, 16, 0));
                p.updated_at = t(2024, 2, 15, 16, 0);
            }),
            national: Side::Same,
            want: &[],
            gains: false,
        },
        Case {
            name: "a dossier spanning a month boundary, in process on both sides",
            provincial: Box::new(|p| {
                p.core.status = Some(Status::Processing);
                p.core.finished_at = None;
                p.core.received_at = Some(t(2024, 9, 30, 9, 0));
                p.core.due_at = Some(t(2024, 11, 8, 9, 0));
                p.updated_at = t(2024, 9, 30, 9, 0);
            }),
            national: Side::Same,
            want: &[],
            gains: false,
        },
    ];
    for c in &cases {
        let (kinds, impact) = run(c);
        assert_eq!(kinds, c.want, "{}", c.name);
        if c.gains {
            assert!(impact > 0.0, "{}: impact {impact} should be > 0", c.name);
        } else {
            assert!(impact <= 0.0, "{}: impact {impact} should be ≤ 0", c.name);
        }
    }
}

fn arb_dossier() -> impl Strategy<Value = ProvincialDossier> {
    (
        1u8..=10,
        0i64..60,
        1i64..15,
        proptest::option::of(0i64..20),
        proptest::bool::ANY,
        0u32..3,
    )
        .prop_map(|(status, start_day, due_days, finish_day, has_due, supp)| {
            let received = t(2024, 9, 2, 9, 0) + Duration::days(start_day);
            let status = Status::from_code(status).unwrap();
            let finished = if matches!(status, Status::Resolved | Status::Returned) {
                finish_day.map(|d| received + Duration::days(d))
            } else {
                None
            };
            let mut p = base();
            p.local_id = format!("id-{start_day}-{status:?}");
            p.core.status = Some(status);
            p.core.received_at = Some(received);
            p.core.due_at = has_due.then(|| received + Duration::days(due_days));
            p.core.finished_at = finished;
            p.supplement_requests = Some(supp);
            p.updated_at = finished.unwrap_or(received);
            p
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn a_view_reconciled_against_itself_finds_nothing(dossiers in prop::collection::vec(arb_dossier(), 1..30)) {
        let cal = Calendar::builtin();
        let tallies = month_tallies(dossiers.iter(), NOW(), &cal);
        let s = settings();
        let ctx = Context { settings: &s, cal: &cal, now: NOW(), tallies: &tallies };
        for p in &dossiers {
            let n = mirror(p);
            let a = assess(p, &NationalSide::Found { dossier: &n, at: NOW() }, &ctx);
            let pair: Vec<Kind> = a.findings.iter().map(|f| f.kind).filter(|k| !k.is_provincial_only()).collect();
            prop_assert!(pair.is_empty(), "{:?} for {:?}", pair, p.core);
        }
    }

    #[test]
    fn the_result_does_not_depend_on_row_order(
        dossiers in prop::collection::vec(arb_dossier(), 2..30),
        shift in 0usize..30,
        shifts in prop::collection::vec((0i64..6, proptest::bool::ANY), 30),
    ) {
        let cal = Calendar::builtin();
        let s = settings();
        // The portal's view differs from the province's for some dossiers.
        let nationals: Vec<NationalDossier> = dossiers.iter().zip(&shifts).map(|(p, (h, st))| {
            let mut n = mirror(p);
            n.core.due_at = n.core.due_at.map(|d| d + Duration::hours(*h));
            if *st { n.core.status = Some(Status::Processing); n.core.finished_at = None; }
            n
        }).collect();
        let run = |order: &[usize]| {
            let rows: Vec<&ProvincialDossier> = order.iter().map(|&i| &dossiers[i]).collect();
            let tallies = month_tallies(rows.iter().copied(), NOW(), &cal);
            let ctx = Context { settings: &s, cal: &cal, now: NOW(), tallies: &tallies };
            let mut out: Vec<(String, Kind, String)> = order.iter().flat_map(|&i| {
                let a = assess(&dossiers[i], &NationalSide::Found { dossier: &nationals[i], at: NOW() }, &ctx);
                a.findings.into_iter().map(move |f| (format!("{i}"), f.kind, format!("{:.9}", f.score_impact)))
            }).collect();
            out.sort();
            out
        };
        let forward: Vec<usize> = (0..dossiers.len()).collect();
        let mut rotated = forward.clone();
        rotated.rotate_left(shift % dossiers.len());
        rotated.reverse();
        prop_assert_eq!(run(&forward), run(&rotated));
    }
}

/// A year with no holiday file (2027 is not announced yet): timeliness cannot be judged, and
/// that must neither resolve an open `timeliness_mismatch` nor wipe stored score impacts.
#[test]
fn a_year_without_a_holiday_file_decides_nothing_about_timeliness() {
    use tthc_sync::lifecycle::{decide, Action, Existing, State};
    let mut p = base();
    p.core.received_at = Some(t(2027, 1, 4, 9, 0));
    p.core.due_at = Some(t(2027, 1, 7, 9, 0));
    p.core.finished_at = Some(t(2027, 1, 6, 9, 0));
    p.updated_at = t(2027, 1, 6, 9, 0);
    let mut n = mirror(&p);
    n.core.due_at = Some(t(2027, 1, 5, 9, 0)); // a due_date_mismatch
    let cal = Calendar::builtin();
    let tallies = HashMap::new();
    let now = t(2027, 1, 20, 9, 0);
    let s = settings();
    let ctx = Context {
        settings: &s,
        cal: &cal,
        now,
        tallies: &tallies,
    };
    let a = assess(
        &p,
        &NationalSide::Found {
            dossier: &n,
            at: now,
        },
        &ctx,
    );
    let err = a
        .calendar_error
        .expect("2027 has no holiday file")
        .to_string();
    assert!(err.contains("2027"), "{err}");
    assert!(!a.evaluated.timeliness);
    let kinds: Vec<Kind> = a.findings.iter().map(|f| f.kind).collect();
    assert_eq!(kinds, [Kind::DueDateMismatch]);
    assert!(a.findings.iter().all(|f| !f.impact_known));
    let existing = [
        Existing {
            id: 1,
            kind: Kind::TimelinessMismatch,
            state: State::Open,
        },
        Existing {
            id: 2,
            kind: Kind::DueDateMismatch,
            state: State::Open,
        },
    ];
    let actions = decide(&existing, a.findings, a.evaluated);
    assert!(
        matches!(actions.as_slice(), [Action::Refresh { id: 2, finding }] if !finding.impact_known),
        "{actions:?}"
    );
}
