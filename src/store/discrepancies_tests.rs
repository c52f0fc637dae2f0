//! Tests of `store::discrepancies`.

use super::*;
use crate::reconcile::Severity;
use crate::store::test_support::{at, logged};

fn finding(dossier: &str) -> Finding {
    Finding {
        dossier_id: dossier.into(),
        dossier_code: format!("000.00.10.H18-261102-{dossier}"),
        kind: Kind::MissingOnNational,
        severity: Severity::High,
        score_impact: 0.0,
        period: None,
        impact_known: true,
        timeliness: None,
        agency_code: None,
        agency_name: None,
        provincial: "x".into(),
        national: "y".into(),
    }
}

#[test]
fn a_rolled_back_reconciliation_logs_nothing() {
    let mut store = Store::open_in_memory().unwrap();
    let now = at("2026-11-20 10:00:00");
    // The second action names no stored discrepancy: its event breaks the foreign key, so
    // the transaction (with the first action's insert) is rolled back.
    let actions = [
        Action::Open(finding("0001")),
        Action::AutoResolve {
            id: 4242,
            kind: Kind::MissingOnNational,
        },
    ];
    let text = logged(|| {
        let err = store.apply_actions(1, now, &actions).unwrap_err();
        assert!(matches!(err, StoreError::Sql { .. }), "{err}");
    });
    assert!(text.is_empty(), "{text}");
    assert!(store
        .discrepancies(&DiscrepancyFilter::default())
        .unwrap()
        .is_empty());

    // Committed: logged.
    let text = logged(|| {
        let applied = store.apply_actions(1, now, &actions[..1]).unwrap();
        assert_eq!(applied.opened, 1);
    });
    assert!(
        text.contains("discrepancy opened") && text.contains("H18-261102-0001"),
        "{text}"
    );
}

#[test]
fn manual_changes_follow_the_lifecycle_and_are_logged_once_committed() {
    let mut store = Store::open_in_memory().unwrap();
    let now = at("2026-11-20 10:00:00");
    store
        .apply_actions(1, now, &[Action::Open(finding("0001"))])
        .unwrap();
    let id = store.discrepancies(&DiscrepancyFilter::default()).unwrap()[0].id;

    let err = store
        .set_discrepancy_state(
            id,
            State::Acknowledged,
            ManualChange {
                by: " ",
                os_user: "it",
                note: "n",
            },
            now,
        )
        .unwrap_err();
    assert!(matches!(err, StoreError::InvalidInput(_)), "{err}");
    let err = store
        .set_discrepancy_state(
            id + 1,
            State::Resolved,
            ManualChange {
                by: "Lò Văn IT",
                os_user: "it",
                note: "n",
            },
            now,
        )
        .unwrap_err();
    assert!(matches!(err, StoreError::NotFound(_)), "{err}");

    let text = logged(|| {
        store
            .set_discrepancy_state(
                id,
                State::Resolved,
                ManualChange {
                    by: "Lò Văn IT",
                    os_user: "it",
                    note: "fixed",
                },
                now,
            )
            .unwrap();
    });
    assert!(text.contains("discrepancy changed by hand"), "{text}");

    let text = logged(|| {
        let again = store
            .set_discrepancy_state(
                id,
                State::Resolved,
                ManualChange {
                    by: "Lò Văn IT",
                    os_user: "it",
                    note: "n",
                },
                now,
            )
            .unwrap_err();
        assert!(
            matches!(again, StoreError::InvalidTransition { .. }),
            "{again}"
        );
        assert_eq!(
            again.to_string(),
            format!("discrepancy {id} is already resolved")
        );
        let ack = store
            .set_discrepancy_state(
                id,
                State::Acknowledged,
                ManualChange {
                    by: "Lò Văn IT",
                    os_user: "it",
                    note: "n",
                },
                now,
            )
            .unwrap_err();
        assert!(ack.to_string().contains("reopens by itself"), "{ack}");
    });
    assert!(text.is_empty(), "a refused change logs nothing: {text}");
    let events: Vec<String> = store
        .discrepancy_events(id)
        .unwrap()
        .into_iter()
        .map(|e| e.event)
        .collect();
    assert_eq!(events, ["opened", "resolved"]);
}

#[test]
fn a_dossiers_discrepancies_in_every_state_and_no_others() {
    let store = Store::open_in_memory().unwrap();
    // (dossier, kind, state, severity, impact, first seen)
    let rows = [
        (
            "d1",
            "status_mismatch",
            "open",
            "medium",
            0.0,
            "2026-11-02 10:00:00",
        ),
        (
            "d1",
            "due_date_mismatch",
            "resolved",
            "high",
            0.0,
            "2026-11-01 10:00:00",
        ),
        (
            "d1",
            "closed_locally_open_nationally",
            "acknowledged",
            "critical",
            0.25,
            "2026-11-03 10:00:00",
        ),
        (
            "d2",
            "missing_on_national",
            "open",
            "high",
            0.5,
            "2026-11-01 09:00:00",
        ),
    ];
    for (dossier, kind, state, severity, impact, seen) in rows {
        store
            .conn()
            .execute(
                "INSERT INTO discrepancy (dossier_id, dossier_code, kind, state, severity,
                    score_impact, provincial_value, national_value, first_seen, last_seen,
                    state_changed_at)
                 VALUES (?1, ?1, ?2, ?3, ?4, ?5, 'p', 'n', ?6, ?6, ?6)",
                params![dossier, kind, state, severity, impact, seen],
            )
            .unwrap();
    }
    let d1 = store.discrepancies_of_dossier("d1").unwrap();
    let kinds: Vec<&str> = d1.iter().map(|d| d.kind.as_str()).collect();
    assert_eq!(
        kinds,
        [
            "closed_locally_open_nationally",
            "due_date_mismatch",
            "status_mismatch"
        ]
    );
    // The same rows, in the same order, as the filtered list of every discrepancy.
    let all: Vec<DiscrepancyRow> = store
        .discrepancies(&DiscrepancyFilter::default())
        .unwrap()
        .into_iter()
        .filter(|d| d.dossier_id == "d1")
        .collect();
    assert_eq!(d1, all);
    assert!(store.discrepancies_of_dossier("d3").unwrap().is_empty());
}

fn change<'a>(by: &'a str, os_user: &'a str, note: &'a str) -> ManualChange<'a> {
    ManualChange { by, os_user, note }
}

#[test]
fn a_manual_change_needs_a_note_and_keeps_who_and_what_was_seen() {
    let mut store = Store::open_in_memory().unwrap();
    let now = at("2026-11-20 10:00:00");
    let mut f = finding("0001");
    f.score_impact = 0.125;
    store.apply_actions(1, now, &[Action::Open(f)]).unwrap();
    let id = store.discrepancies(&DiscrepancyFilter::default()).unwrap()[0].id;

    for note in ["", "  \n"] {
        let err = store
            .set_discrepancy_state(
                id,
                State::Acknowledged,
                change("Lò Văn IT", "lvit", note),
                now,
            )
            .unwrap_err();
        assert!(err.to_string().contains("--note"), "{err}");
    }
    assert_eq!(
        store.discrepancy_events(id).unwrap().len(),
        1,
        "refused: nothing written"
    );

    let text = logged(|| {
        let seen = store
            .set_discrepancy_state(
                id,
                State::Acknowledged,
                change("Lò Văn IT", "lvit", "đã báo nhà cung cấp"),
                now,
            )
            .unwrap();
        assert_eq!(seen.state, "open");
    });
    // The actor is logged (both names); the note is not.
    assert!(
        text.contains("Lò Văn IT") && text.contains("lvit"),
        "{text}"
    );
    assert!(!text.contains("đã báo"), "{text}");

    // The discrepancy's values change at the next comparison; the event keeps what was seen.
    let mut later = finding("0001");
    later.provincial = "changed".into();
    later.severity = Severity::Critical;
    store
        .apply_actions(
            2,
            at("2026-11-20 11:00:00"),
            &[Action::Refresh { id, finding: later }],
        )
        .unwrap();
    assert_eq!(
        store.discrepancy(id).unwrap().unwrap().provincial,
        "changed"
    );
    let events = store.discrepancy_events(id).unwrap();
    let ack = events.last().unwrap();
    assert_eq!(ack.event, "acknowledged");
    assert_eq!(ack.actor, "Lò Văn IT");
    assert_eq!(ack.os_user.as_deref(), Some("lvit"));
    assert_eq!(ack.note.as_deref(), Some("đã báo nhà cung cấp"));
    assert_eq!(
        ack.seen,
        Some(Seen {
            state: "open".into(),
            severity: "high".into(),
            score_impact: 0.125,
            provincial: "x".into(),
            national: "y".into(),
        })
    );
    // The sync's own events record neither.
    assert_eq!((&events[0].os_user, &events[0].seen), (&None, &None));
}

#[test]
fn the_event_log_is_append_only_and_housekeeping_keeps_it() {
    let mut store = Store::open_in_memory().unwrap();
    let now = at("2026-11-20 10:00:00");
    store
        .apply_actions(1, now, &[Action::Open(finding("0001"))])
        .unwrap();
    let id = store.discrepancies(&DiscrepancyFilter::default()).unwrap()[0].id;
    store
        .set_discrepancy_state(
            id,
            State::Resolved,
            change("Lò Văn IT", "lvit", "sửa tay"),
            now,
        )
        .unwrap();
    let before = store.discrepancy_events(id).unwrap();
    assert_eq!(before.len(), 2);
    for (sql, word) in [
        ("UPDATE discrepancy_event SET note = 'rewritten'", "changed"),
        (
            "UPDATE discrepancy_event SET actor = 'someone else' WHERE event = 'resolved'",
            "changed",
        ),
        ("DELETE FROM discrepancy_event", "deleted"),
        (
            "DELETE FROM discrepancy_event WHERE event = 'resolved'",
            "deleted",
        ),
    ] {
        let err = store.write(|tx| tx.execute(sql, [])).unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains(&format!(
                "discrepancy_event is append-only: an event is never {word}"
            )),
            "{sql}: {text}"
        );
    }
    store.housekeeping().unwrap();
    assert_eq!(store.discrepancy_events(id).unwrap(), before);
}

/// A page of the list is the same slice of the same order as the whole list, and the count
/// is the filter's; the month filter selects by `period`.
#[test]
fn a_page_is_a_slice_of_the_list_and_counts_the_filter() {
    let mut store = Store::open_in_memory().unwrap();
    let now = at("2026-11-20 10:00:00");
    let actions: Vec<Action> = (0..23)
        .map(|i| {
            let mut f = finding(&format!("{i:04}"));
            f.score_impact = f64::from(i % 7) * 0.01;
            f.severity = if i % 3 == 0 {
                Severity::Low
            } else {
                Severity::High
            };
            f.period = Some(if i % 2 == 0 { "2026-10" } else { "2026-11" }.into());
            Action::Open(f)
        })
        .collect();
    store.apply_actions(1, now, &actions).unwrap();
    let filter = DiscrepancyFilter {
        states: vec![State::Open],
        least_severity: Some(Severity::Medium),
        ..Default::default()
    };
    let all = store.discrepancies(&filter).unwrap();
    assert_eq!(all.len(), 15);
    let mut paged = Vec::new();
    for page in 0..4 {
        let (total, rows) = store.discrepancies_page(&filter, page * 4, 4).unwrap();
        assert_eq!(total, 15);
        paged.extend(rows);
    }
    assert_eq!(paged, all);
    let october = DiscrepancyFilter {
        month: Some("2026-10".into()),
        ..filter
    };
    let (total, rows) = store.discrepancies_page(&october, 0, 100).unwrap();
    assert_eq!(total as usize, rows.len());
    assert!(rows.iter().all(|d| d.period.as_deref() == Some("2026-10")));
    assert_eq!(total, 8);
}
