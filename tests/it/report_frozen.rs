//! Frozen months: a month's report frozen after it closes stays as it was when a sync fault is
//! fixed later, and `report --since-frozen` says what changed. Simulators → one sync cycle →
//! freeze → the portal's views corrected (as a fixed sync would store them) → the frozen
//! report, the report built now, and the CLI.

use std::collections::BTreeSet;
use std::process::Command;
use std::sync::Arc;

use tthc_sync::calendar::Calendar;
use tthc_sync::model::{LocalTime, LookupOutcome, NationalDossier, YearMonth};
use tthc_sync::report::frozen::{self, Freeze};
use tthc_sync::report::{self, agencies};
use tthc_sync::sim::{Simulators, World, WorldParams};
use tthc_sync::store::{LookupResult, Outcome, Store};
use tthc_sync::sync::{self, Clients, Clock};

use crate::support::at;

fn world_now() -> LocalTime {
    at(2026, 11, 20, 15, 30)
}

fn run_now() -> LocalTime {
    world_now() + chrono::Duration::hours(2)
}

fn codes(r: &report::MonthlyReport) -> BTreeSet<String> {
    r.appendix_3
        .iter()
        .map(|x| x.dossier_code.clone())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fix_after_freezing_does_not_change_the_frozen_month() {
    let dir = tempfile::tempdir().unwrap();
    let world = World::generate(WorldParams::new(2024, 800, 0.1, world_now()));
    let sims = Simulators::start(world, 0, 0).await.unwrap();
    let cfg = sims.config(dir.path(), &dir.path().join("t.db")).unwrap();
    let mut store = Store::open(&cfg.service.database).unwrap();
    let clients = Clients::new(&cfg).unwrap();
    let clock: Clock = Arc::new(run_now);
    let run = sync::run_cycle(&mut store, &cfg, &clients, &clock)
        .await
        .unwrap();
    assert_eq!(run.outcome, Outcome::Ok);
    store
        .upsert_agencies(&agencies::parse_agencies(agencies::DIEN_BIEN_TOML).unwrap())
        .unwrap();
    let cal = Calendar::builtin();
    let month = YearMonth::of(&world_now());

    // Not before the month is over.
    let err = frozen::freeze(&mut store, month, run_now(), &cal, "Điện Biên").unwrap_err();
    assert!(err.to_string().contains("not over"), "{err}");

    // The first job after the month's end freezes it (a complete cycle ran in the month); the
    // next finds it frozen. October had no cycle: it is not frozen automatically.
    let closed = at(2026, 12, 1, 6, 0);
    assert_eq!(
        frozen::freeze_closed_month(&mut store, at(2026, 11, 1, 6, 0), &cal, "Điện Biên").unwrap(),
        None
    );
    assert!(store.frozen_months().unwrap().is_empty());
    assert_eq!(
        frozen::freeze_closed_month(&mut store, closed, &cal, "Điện Biên").unwrap(),
        Some(month)
    );
    assert_eq!(
        frozen::freeze_closed_month(&mut store, closed, &cal, "Điện Biên").unwrap(),
        None
    );
    assert_eq!(
        frozen::freeze(&mut store, month, closed, &cal, "Điện Biên").unwrap(),
        Freeze::AlreadyFrozen(closed)
    );
    let before = frozen::read(&store, month).unwrap().expect("frozen");
    assert_eq!(before.frozen_at, Some(closed));
    let faults = codes(&before);
    assert!(!faults.is_empty(), "the world has sync faults in the month");

    // The fix: the portal now shows those dossiers as the province does.
    let later = at(2026, 12, 3, 9, 0);
    let run = store.begin_run("test", later).unwrap();
    let lookups: Vec<LookupResult> = store
        .provincial_dossiers()
        .unwrap()
        .into_iter()
        .filter(|p| faults.contains(&p.key))
        .map(|p| LookupResult {
            dossier_id: p.local_id.clone(),
            code: p.core.code.clone(),
            at: later,
            result: Ok((
                LookupOutcome::Found(NationalDossier {
                    core: p.core.clone(),
                    unit_name: p.agency_name.clone(),
                    ..Default::default()
                }),
                "[]".to_string(),
            )),
        })
        .collect();
    assert!(!lookups.is_empty());
    store.store_lookups(run, &lookups).unwrap();

    // Built from the database now, the month has fewer faults; its frozen report has them all.
    let now = report::build(&store, month, later, &cal, "Điện Biên").unwrap();
    let fixed: BTreeSet<String> = faults.difference(&codes(&now)).cloned().collect();
    assert!(
        !fixed.is_empty(),
        "the fix removed faults from the month built now"
    );
    let read_back = report::month_report(&store, month, later, &cal, "Điện Biên").unwrap();
    assert_eq!(read_back.generated_at, later);
    assert_eq!(read_back.frozen_at, Some(closed));
    assert_eq!(
        serde_json::to_value(&read_back.appendix_3).unwrap(),
        serde_json::to_value(&before.appendix_3).unwrap()
    );
    assert_eq!(read_back.national_view, before.national_view);
    assert_eq!(read_back.gap, before.gap);
    assert!(!read_back.is_provisional());
    let changes = frozen::changes_since(&read_back, &now);
    let fixed_code = fixed.iter().next().unwrap();
    assert!(
        changes.iter().any(
            |c| c.starts_with("Phụ lục III (sync faults): no longer listed now:")
                && c.contains(fixed_code.as_str())
        ),
        "{changes:?}"
    );
    drop(store);

    // The CLI: the frozen month's report, and what changed since.
    let out_dir = dir.path().join("out");
    let out = Command::new(env!("CARGO_BIN_EXE_tthc-sync"))
        .arg("--database")
        .arg(&cfg.service.database)
        .args(["report", "--month", "2026-11", "--since-frozen", "--out"])
        .arg(&out_dir)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("2026-11 frozen at 2026-12-01 06:00:00: changed since:"),
        "{stdout}"
    );
    assert!(stdout.contains(fixed_code.as_str()), "{stdout}");
    let md = std::fs::read_to_string(out_dir.join("bao-cao-tien-do-2026-11.md")).unwrap();
    assert!(
        !md.contains("tạm tính đến ngày"),
        "a frozen month is not provisional"
    );

    // --freeze of a frozen month leaves it as it is.
    let out = Command::new(env!("CARGO_BIN_EXE_tthc-sync"))
        .arg("--database")
        .arg(&cfg.service.database)
        .args(["report", "--freeze", "2026-11"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    assert!(
        stdout.contains("2026-11 was already frozen at 2026-12-01 06:00:00"),
        "{stdout}"
    );

    // --freeze of a month not frozen yet stores it.
    let out = Command::new(env!("CARGO_BIN_EXE_tthc-sync"))
        .arg("--database")
        .arg(&cfg.service.database)
        .args(["report", "--freeze", "2026-10"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(stdout.trim(), "2026-10 frozen");
    let store = Store::open(&cfg.service.database).unwrap();
    assert_eq!(store.frozen_months().unwrap(), ["2026-10", "2026-11"]);
}
