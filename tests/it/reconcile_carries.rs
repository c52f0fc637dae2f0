//! The date kinds compare only what both sides carry: a table of the province's date
//! carried / unknown / absent × the dossier's status → the kinds found and their severities,
//! under the carries of a real profile (iGate: a finish time only for 9 and 10, a due date only
//! with a time limit; td: a finish time for every closing status).

use std::collections::HashMap;

use chrono::Duration;

use tthc_sync::calendar::Calendar;
use tthc_sync::carries::Carries;
use tthc_sync::model::{DossierCore, ProvincialDossier, Status, YearMonth};
use tthc_sync::profile::Profile;
use tthc_sync::reconcile::{assess, Context, Kind, NationalSide, Settings, Severity};
use tthc_sync::scoring::Tally;

use crate::reconcile_cases::{base, mirror, settings, t, NOW};

fn carries(profile: &str) -> Carries {
    Profile::builtin(profile).unwrap().carries
}

struct Case {
    name: &'static str,
    profile: &'static str,
    provincial: fn(&mut ProvincialDossier),
    national: fn(&mut DossierCore),
    /// The kinds found with their severities, in finding order.
    want: &'static [(Kind, Severity)],
}

/// (kind, severity, impact) of every finding.
fn run(c: &Case) -> Vec<(Kind, Severity, f64)> {
    let mut p = base();
    (c.provincial)(&mut p);
    let mut n = mirror(&p);
    (c.national)(&mut n.core);
    let cal = Calendar::builtin();
    let tallies: HashMap<YearMonth, Tally> = (9..=11)
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
    let settings = Settings {
        carries: carries(c.profile),
        ..settings()
    };
    let ctx = Context {
        settings: &settings,
        cal: &cal,
        now: NOW(),
        tallies: &tallies,
    };
    let a = assess(
        &p,
        &NationalSide::Found {
            dossier: &n,
            at: NOW(),
        },
        &ctx,
    );
    assert!(a.calendar_error.is_none(), "{}", c.name);
    assert!(a.evaluated.pair && a.evaluated.timeliness, "{}", c.name);
    a.findings
        .into_iter()
        .map(|f| (f.kind, f.severity, f.score_impact))
        .collect()
}

/// The province's status and its status time (the row's last change), without a finish time.
fn closed_without_finish(status: Status) -> impl Fn(&mut ProvincialDossier) {
    move |p| {
        p.core.status = Some(status);
        p.core.finished_at = None;
        p.core.returned_at = None;
    }
}

/// The portal holds the closing time the province pushed: Wed 16/10 15:00, before the due date.
fn portal_finished(n: &mut DossierCore) {
    n.finished_at = Some(t(2024, 10, 16, 15, 0));
}

#[test]
fn dates_are_compared_only_where_both_sides_carry_them() {
    use Kind::*;
    use Severity::*;
    // The base dossier: received Mon 14/10/2024 09:00, due Thu 17/10 09:00, status 9 finished
    // Wed 16/10 15:00 (its last change); the portal's view mirrors it unless a case changes it.
    let cases = [
        // Withdrawn (7) and stopped (8): iGate writes no finish time, the portal has the
        // closing time the province pushed. Unknown, not different: nothing.
        Case {
            name: "iGate, withdrawn, no finish time; the portal has one",
            profile: "igate",
            provincial: |p| closed_without_finish(Status::Withdrawn)(p),
            national: portal_finished,
            want: &[],
        },
        Case {
            name: "iGate, stopped, no finish time; the portal has one",
            profile: "igate",
            provincial: |p| closed_without_finish(Status::Stopped)(p),
            national: portal_finished,
            want: &[],
        },
        // The rule still runs with what is known: the province's status time against the
        // portal's finish time. Only a different verdict opens a discrepancy.
        Case {
            name: "iGate, withdrawn, the portal's finish time is past due: timeliness differs",
            profile: "igate",
            provincial: |p| closed_without_finish(Status::Withdrawn)(p),
            national: |n| n.finished_at = Some(t(2024, 10, 18, 10, 0)),
            want: &[(TimelinessMismatch, Critical)],
        },
        Case {
            name: "iGate, withdrawn, the province's status time is past due, the portal's not",
            profile: "igate",
            provincial: |p| {
                closed_without_finish(Status::Withdrawn)(p);
                p.updated_at = t(2024, 10, 18, 10, 0);
            },
            national: |n| n.finished_at = Some(t(2024, 10, 16, 15, 0)),
            want: &[(TimelinessMismatch, High)],
        },
        // What the vendor carries is compared as ever.
        Case {
            name: "td, withdrawn, no finish time where td fills one: absent, costs nothing",
            profile: "td",
            provincial: |p| closed_without_finish(Status::Withdrawn)(p),
            national: portal_finished,
            want: &[(FinishDateMismatch, Low)],
        },
        Case {
            name: "td, withdrawn, finish time not pushed",
            profile: "td",
            provincial: |p| p.core.status = Some(Status::Withdrawn),
            national: |n| n.finished_at = None,
            want: &[(FinishDateMismatch, Medium)],
        },
        Case {
            name:
                "iGate, withdrawn, a finish time it does not usually write: data beats the profile",
            profile: "igate",
            provincial: |p| p.core.status = Some(Status::Withdrawn),
            national: |n| n.finished_at = n.finished_at.map(|f| f - Duration::hours(3)),
            want: &[(FinishDateMismatch, Medium)],
        },
        Case {
            name: "iGate, resolved, no finish time where iGate fills one; the portal has one",
            profile: "igate",
            provincial: |p| p.core.finished_at = None,
            national: portal_finished,
            want: &[(FinishDateMismatch, Low)],
        },
        Case {
            // The province's end is then its returned time, past due: the province judges it
            // late, the portal on time; correcting the portal would lose points. Still low.
            name: "iGate, returned after due, no finish time in the province",
            profile: "igate",
            provincial: |p| {
                p.core.status = Some(Status::Returned);
                p.core.finished_at = None;
                p.core.returned_at = Some(t(2024, 10, 18, 10, 0));
                p.updated_at = t(2024, 10, 18, 10, 0);
            },
            national: |n| n.finished_at = Some(t(2024, 10, 16, 15, 0)),
            want: &[(FinishDateMismatch, Low)],
        },
        Case {
            name: "iGate, resolved, finish time not pushed",
            profile: "igate",
            provincial: |_| {},
            national: |n| n.finished_at = None,
            want: &[(FinishDateMismatch, Medium)],
        },
        // Statuses the score never counts open no date kind, whatever the dates.
        Case {
            name: "refused at reception (3): dates differ, nothing opened",
            profile: "td",
            provincial: |p| {
                p.core.status = Some(Status::Rejected);
                p.core.received_at = None;
                p.core.due_at = None;
            },
            national: |n| {
                n.received_at = Some(t(2024, 10, 14, 9, 0));
                n.due_at = Some(t(2024, 10, 17, 9, 0));
                n.finished_at = Some(t(2024, 10, 15, 9, 0));
            },
            want: &[],
        },
        Case {
            name: "applied, not yet received (1): dates differ, nothing opened",
            profile: "igate",
            provincial: |p| {
                closed_without_finish(Status::Submitted)(p);
                p.core.received_at = None;
                p.core.due_at = None;
            },
            national: |n| n.received_at = Some(t(2024, 10, 14, 9, 0)),
            want: &[],
        },
        Case {
            name: "an unmapped status says nothing of what its row carries",
            profile: "td",
            provincial: |p| {
                p.core.status = None;
                p.core.status_raw = "Chờ phê duyệt".into();
                p.core.finished_at = None;
            },
            national: |n| n.due_at = Some(t(2024, 10, 18, 9, 0)),
            want: &[(UnmappedStatus, Medium)],
        },
        // Due dates.
        Case {
            // iGate says the procedure has no due date: its due date is unknown, not
            // different. The procedure's statutory time (1 working day for 1.001193,
            // config/statutory-times.toml) judges it overdue in the province too, as the
            // portal does by its due date: the verdicts agree.
            name: "iGate, no due date in the province, judged by the statutory time",
            profile: "igate",
            provincial: |p| {
                closed_without_finish(Status::Processing)(p);
                p.core.due_at = None;
                p.has_due_date = false;
            },
            national: |n| n.due_at = Some(t(2024, 10, 17, 9, 0)),
            want: &[],
        },
        Case {
            // No due date and a procedure the statutory-times file does not list: the
            // province's verdict is unknown (never on time by default), so no verdicts can
            // differ; nothing is opened.
            name: "iGate, no due date and no statutory time: unknown, nothing opened",
            profile: "igate",
            provincial: |p| {
                closed_without_finish(Status::Processing)(p);
                p.core.procedure_code = Some("9.999999".into());
                p.core.due_at = None;
                p.has_due_date = false;
            },
            national: |n| n.due_at = Some(t(2024, 10, 17, 9, 0)),
            want: &[],
        },
        Case {
            name: "due date differs, the dossier closed early on both sides",
            profile: "igate",
            provincial: |_| {},
            national: |n| n.due_at = n.due_at.map(|d| d - Duration::hours(7)),
            want: &[(DueDateMismatch, High)],
        },
        Case {
            // Low by itself; the score impact then says what it is worth: with no due date the
            // province judges it by the procedure's statutory time (1 working day for
            // 1.001193): overdue too, as on the portal, so correcting the portal gains
            // nothing and it stays low.
            name: "due date absent in the province where carried, overdue on the portal",
            profile: "igate",
            provincial: |p| {
                closed_without_finish(Status::Processing)(p);
                p.core.due_at = None;
            },
            national: same_due_17,
            want: &[(DueDateMismatch, Low)],
        },
        Case {
            // The same with a procedure of 20 working days (1.010733): in time in the
            // province on 31/10, overdue on the portal by its due date: correcting the portal
            // gains points, critical.
            name: "due date absent in the province, in time by the statutory time, overdue on the portal",
            profile: "igate",
            provincial: |p| {
                closed_without_finish(Status::Processing)(p);
                p.core.procedure_code = Some("1.010733".into());
                p.core.due_at = None;
            },
            national: same_due_17,
            want: &[(DueDateMismatch, Critical)],
        },
        Case {
            name: "due date absent in the province, the dossier closed early on the portal",
            profile: "igate",
            provincial: |p| p.core.due_at = None,
            national: same_due_17,
            want: &[(DueDateMismatch, Low)],
        },
        // Received dates: every profile fills one for a received dossier.
        Case {
            name: "received date absent in the province, present on the portal",
            profile: "opencps",
            provincial: |p| p.core.received_at = None,
            national: |n| n.received_at = Some(t(2024, 10, 14, 9, 0)),
            want: &[(ReceivedDateMismatch, Low)],
        },
        Case {
            name: "received date differs",
            profile: "opencps",
            provincial: |_| {},
            national: |n| n.received_at = n.received_at.map(|r| r + Duration::days(1)),
            want: &[(ReceivedDateMismatch, Medium)],
        },
        // A status finding still excludes the finish date.
        Case {
            name: "9 in the province, 10 on the portal with another finish time",
            profile: "td",
            provincial: |_| {},
            national: |n| {
                n.status = Some(Status::Returned);
                n.finished_at = n.finished_at.map(|f| f + Duration::hours(2));
            },
            want: &[(StatusMismatch, Medium)],
        },
    ];
    for c in &cases {
        let got = run(c);
        let kinds: Vec<(Kind, Severity)> = got.iter().map(|(k, s, _)| (*k, *s)).collect();
        assert_eq!(kinds, c.want, "{}: {got:?}", c.name);
        for (kind, severity, impact) in got {
            // Critical exactly when correcting the portal gains points, or a closed dossier
            // is open on the portal.
            assert_eq!(
                severity == Critical,
                impact > 0.0 || kind == ClosedLocallyOpenNationally,
                "{}: {kind} {severity:?} impact {impact}",
                c.name
            );
        }
    }
}

fn same_due_17(n: &mut DossierCore) {
    n.due_at = Some(t(2024, 10, 17, 9, 0));
}

/// A profile corrected after rows were stored applies at once: the same stored dossier is
/// judged by the profile in use.
#[test]
fn the_carries_in_use_decide_not_the_ones_rows_were_stored_with() {
    let mut p = base();
    closed_without_finish(Status::Stopped)(&mut p);
    let n = mirror(&base());
    let cal = Calendar::builtin();
    let tallies = HashMap::new();
    let kinds = |profile: &str| {
        let settings = Settings {
            carries: carries(profile),
            ..settings()
        };
        let ctx = Context {
            settings: &settings,
            cal: &cal,
            now: NOW(),
            tallies: &tallies,
        };
        let mut n = n.clone();
        n.core.status = Some(Status::Stopped);
        assess(
            &p,
            &NationalSide::Found {
                dossier: &n,
                at: NOW(),
            },
            &ctx,
        )
        .findings
        .into_iter()
        .map(|f| f.kind)
        .collect::<Vec<_>>()
    };
    assert_eq!(kinds("td"), [Kind::FinishDateMismatch]);
    assert_eq!(kinds("igate"), []);
    assert_eq!(kinds("opencps"), []);
    let always = Settings {
        carries: Carries::default(),
        ..settings()
    };
    assert_ne!(
        tthc_sync::sync::pass_basis(&always, &cal),
        tthc_sync::sync::pass_basis(&settings(), &cal),
        "a change of [carries] makes the next pass a full one"
    );
}
