//! A procedure the statutory-times file does not list gets its time inferred from the
//! province's stored dossiers of it (docs/domain.md §2), and every place that shows a verdict
//! judged with it says so: the reconciliation pass's log and its `timeliness_mismatch`,
//! `tthc-sync dossier`'s view, the report's notes. Too few dossiers: unknown. The file wins.

use tthc_sync::calendar::{Calendar, Inference, StatutorySource, StatutoryTimes, TimeUnit};
use tthc_sync::dossier_view::{DossierView, SideVerdict};
use tthc_sync::model::{
    LocalTime, LookupOutcome, NationalDossier, ProvincialDossier, Status, YearMonth,
};
use tthc_sync::store::{LookupResult, RunCounts, Store};
use tthc_sync::timeliness::Verdict;

use crate::support::config::TestConfig;
use crate::support::logs::Capture;

fn t(s: &str) -> LocalTime {
    LocalTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap()
}

fn now() -> LocalTime {
    t("2026-11-20 15:30")
}

/// A dossier the province returned, received at `received`, of `procedure`.
fn dossier(
    i: usize,
    procedure: &str,
    received: LocalTime,
    due: Option<LocalTime>,
    finished: LocalTime,
) -> ProvincialDossier {
    let code = format!("000.00.10.H18-261102-{i:04}");
    ProvincialDossier {
        local_id: format!("p{i:03}"),
        local_code: format!("HS-{i:03}"),
        key: code.clone(),
        core: tthc_sync::model::DossierCore {
            code,
            procedure_code: Some(procedure.into()),
            agency_code: Some("000.00.10.H18".into()),
            status: Some(Status::Resolved),
            status_raw: "9".into(),
            received_at: Some(received),
            due_at: due,
            finished_at: Some(finished),
            ..Default::default()
        },
        has_due_date: due.is_some(),
        updated_at: finished,
        row_hash: format!("h{i}"),
        ..Default::default()
    }
}

/// 30 dossiers of 9.000001 with a due date, 24 of them 3 working days after received and 6
/// of them 5; one without a due date (`X`, finished 2 working days after received); three of
/// 9.000002 with a due date and one without (`Y`).
fn seed(store: &mut Store) -> (ProvincialDossier, ProvincialDossier) {
    let cal = Calendar::builtin();
    let mut rows = Vec::new();
    let mut received = t("2026-10-01 09:00");
    for i in 0..30 {
        let days = if i % 5 == 4 { 5 } else { 3 };
        let due = cal.add_working_days(received, days).unwrap();
        let finished = cal.add_working_days(received, 2).unwrap();
        rows.push(dossier(i, "9.000001", received, Some(due), finished));
        received = cal.add_working_days(received, 1).unwrap();
    }
    for i in 30..33 {
        let due = cal.add_working_days(received, 2).unwrap();
        rows.push(dossier(i, "9.000002", received, Some(due), due));
    }
    // Monday 9/11/2026 09:00 → Wednesday 11/11 10:00: early against 3 working days (due
    // Thursday 12/11 09:00), late against 1.
    let x = dossier(
        40,
        "9.000001",
        t("2026-11-09 09:00"),
        None,
        t("2026-11-11 10:00"),
    );
    let y = dossier(
        41,
        "9.000002",
        t("2026-11-09 09:00"),
        None,
        t("2026-11-11 10:00"),
    );
    rows.push(x.clone());
    rows.push(y.clone());
    let rows: Vec<(ProvincialDossier, String)> =
        rows.into_iter().map(|p| (p, "{}".to_string())).collect();
    let run = store.begin_run("test", now()).unwrap();
    store
        .store_provincial_page(run, "provincial:igate", now(), &rows, None)
        .unwrap();
    // The portal has X under a procedure the file lists at 1 working day: late there.
    let national = NationalDossier {
        core: tthc_sync::model::DossierCore {
            procedure_code: Some("1.001193".into()),
            ..x.core.clone()
        },
        ..Default::default()
    };
    store
        .store_lookups(
            run,
            &[LookupResult {
                dossier_id: x.local_id.clone(),
                code: x.core.code.clone(),
                at: now() - chrono::Duration::minutes(1),
                result: Ok((LookupOutcome::Found(national), "[]".to_string())),
            }],
        )
        .unwrap();
    (x, y)
}

#[test]
fn a_statutory_time_inferred_from_the_stored_dossiers_is_used_and_said() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("t.db")).unwrap();
    let (x, y) = seed(&mut store);
    let cfg = TestConfig::example().config();
    let cal = cfg.calendar.build().unwrap();

    // The inference: only procedures with a dossier lacking a due date; 24 of 30 agree.
    let outcomes = store.infer_statutory_times(&cal, None).unwrap();
    assert_eq!(outcomes.len(), 2, "{outcomes:?}");
    let (code, Inference::Inferred(time)) = &outcomes[0] else {
        panic!("9.000001 is inferred: {outcomes:?}");
    };
    assert_eq!(code, "9.000001");
    assert_eq!((time.limit, time.unit), (3, TimeUnit::WorkingDays));
    assert_eq!(
        time.source,
        StatutorySource::Inferred {
            dossiers: 30,
            agreeing: 24
        }
    );
    assert_eq!(
        outcomes[1],
        ("9.000002".to_string(), Inference::TooFew { dossiers: 3 })
    );
    // One procedure alone reads the same.
    let only = store.infer_statutory_times(&cal, Some("9.000001")).unwrap();
    assert_eq!(only, outcomes[..1]);

    // The pass: the log names the procedure once; X's timeliness_mismatch says the
    // province's side was judged with an inferred time.
    let logs = Capture::new("reconcile=info");
    logs.block_on(tokio::runtime::Builder::new_current_thread(), async {
        let mut counts = RunCounts::default();
        let run = store.begin_run("test", now()).unwrap();
        tthc_sync::sync::reconcile_all(&mut store, &cfg, now(), run, &mut counts).unwrap();
    });
    let text = logs.take();
    assert_eq!(
        text.matches(
            "procedure 9.000001: statutory time inferred as 3 working days from 24 of 30 dossiers"
        )
        .count(),
        1,
        "{text}"
    );
    assert!(!text.contains("procedure 9.000002"), "too few: debug only");
    let (provincial, national): (String, String) = store
        .conn()
        .query_row(
            "SELECT provincial_value, national_value FROM discrepancy
             WHERE dossier_id = ?1 AND kind = 'timeliness_mismatch'",
            [&x.local_id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!(
        provincial,
        "Giải quyết trước hạn (hạn suy ra từ hồ sơ của tỉnh: 3 ngày làm việc)"
    );
    assert_eq!(national, "Giải quyết quá hạn");

    // `tthc-sync dossier`: the verdict and the time it was judged with, with its source.
    let view = DossierView::load(&store, &x.local_id, now(), &cal)
        .unwrap()
        .unwrap();
    let SideVerdict::Judged {
        verdict, statutory, ..
    } = &view.timeliness.provincial
    else {
        panic!("judged: {:?}", view.timeliness.provincial);
    };
    assert_eq!(*verdict, Verdict::Early);
    assert_eq!(
        statutory.map(|s| s.describe_vi()).as_deref(),
        Some("3 ngày làm việc (suy ra từ 24/30 hồ sơ của tỉnh)")
    );
    let json = serde_json::to_value(&view.timeliness.provincial).unwrap();
    assert_eq!(json["statutory"]["source"]["from"], "inferred");
    let view = DossierView::load(&store, &y.local_id, now(), &cal)
        .unwrap()
        .unwrap();
    assert!(matches!(
        view.timeliness.provincial,
        SideVerdict::Judged {
            verdict: Verdict::Unknown,
            statutory: None,
            ..
        }
    ));

    // The report: X counted with an inferred time, Y unknown.
    let (_, notes) = tthc_sync::report::build_with_notes(
        &store,
        YearMonth::of(&now()),
        now(),
        &cal,
        "Điện Biên",
    )
    .unwrap();
    assert_eq!((notes.inferred, notes.unknown), (1, 1));
    assert_eq!(
        notes.inferred_procedures,
        vec![(
            "9.000001".to_string(),
            "3 ngày làm việc (suy ra từ 24/30 hồ sơ của tỉnh)".to_string()
        )]
    );

    // A file entry wins: nothing is inferred for a procedure it lists.
    let file = StatutoryTimes::parse(
        "f.toml",
        "[[procedure]]\ncode = \"9.000001\"\nlimit = 10\nunit = \"working_days\"\n",
    )
    .unwrap();
    let listed = cal.clone().with_statutory_times(file);
    let outcomes = store.infer_statutory_times(&listed, None).unwrap();
    assert!(
        outcomes.iter().all(|(c, _)| c != "9.000001"),
        "{outcomes:?}"
    );
}
