//! Citizens' personal data by allowlist, not circular: the provincial
//! simulator hides each applicant's name, ID number, phone, e-mail and address under keys no
//! profile lists — an e-form block, deep nesting, an array of people, a renamed applicant
//! block, and inside a field whose text is itself JSON (`sim::provincial::hidden_personal_data`)
//! — and a real sync runs, for each profile: in-process with every log event captured at
//! `trace`, then the binary (`sync --once`, `TTHC_SYNC_LOG=trace`). No hidden value may appear
//! in the raw bytes of the database file, its `-wal` and `-shm` (read while the store is open,
//! before a checkpoint folds the WAL away), or the logs. The official handling each dossier
//! stays in the database, and never reaches the logs.

use std::path::Path;
use std::process::Command;
use std::sync::Arc;

use tthc_sync::sim::provincial::hidden_values;
use tthc_sync::sim::{SimProfile, Simulators, World, WorldParams};
use tthc_sync::store::{Outcome, Store};
use tthc_sync::sync::{self, Clients, Clock};

use crate::support::logs::Capture;

/// The first hidden value of `values` found in `hay`, if any.
fn find<'a>(hay: &[u8], values: &'a [(String, String)]) -> Option<&'a (String, String)> {
    values
        .iter()
        .find(|(_, v)| hay.windows(v.len()).any(|w| w == v.as_bytes()))
}

/// `text` without its terminal colour sequences (`ESC [ … m`), so fields read as `key=value`.
fn without_colours(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            chars.by_ref().find(|&c| c == 'm');
        } else {
            out.push(c);
        }
    }
    out
}

fn file(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_default()
}

#[test]
fn hidden_personal_data_reaches_no_file_and_no_log() {
    let logs = Capture::new("trace");
    let mut checked = 0usize;
    for profile in SimProfile::ALL {
        let runtime = tokio::runtime::Builder::new_multi_thread();
        checked += logs.block_on(runtime, one_profile(profile, &logs));
    }
    eprintln!("personal data: {checked} hidden values looked for, 3 profiles");
}

async fn one_profile(profile: SimProfile, logs: &Capture) -> usize {
    let world = World::generate(WorldParams::new(
        16,
        120,
        0.05,
        tthc_sync::sync::local_now(),
    ));
    let sims = Simulators::start_with(world, profile, 0, 0).await.unwrap();
    sims.control.knobs().provincial_hidden_personal_data = true;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("tthc-sync.db");
    let cfg = sims.config(dir.path(), &db).unwrap();
    let hidden: Vec<(String, String)> = sims
        .world
        .dossiers
        .iter()
        .flat_map(|d| {
            let [name, id, phone, email, address] = hidden_values(d);
            [
                ("name", name),
                ("ID number", id),
                ("phone", phone),
                ("e-mail", email),
                ("address", address),
            ]
            .map(|(what, v)| (format!("{what} of dossier {}", d.id), v))
        })
        .collect();
    let officials: Vec<(String, String)> = sims
        .world
        .dossiers
        .iter()
        .map(|d| (format!("official of dossier {}", d.id), d.handler.clone()))
        .collect();

    // Not vacuous: the rows the client reads do carry every hidden value.
    let clients = Clients::new(&cfg).unwrap();
    let page = clients.provincial.page(0).await.unwrap();
    let served = serde_json::to_string(&page.rows).unwrap();
    let d0 = &hidden_values(&sims.world.dossiers[0]);
    assert!(
        page.rows.len() > 10 && served.contains("eForm") && served.contains("thongTinBoSung"),
        "{profile:?}: the simulator hides nothing"
    );
    assert!(
        hidden
            .iter()
            .filter(|(_, v)| served.contains(v.as_str()))
            .count()
            >= 5 * 10
            && d0.iter().all(|v| !v.is_empty()),
        "{profile:?}: hidden values are not served"
    );

    // A real cycle, in-process, every event captured.
    logs.take();
    let mut store = Store::open(&db).unwrap();
    let clock: Clock = Arc::new(sync::local_now);
    let report = sync::run_cycle(&mut store, &cfg, &clients, &clock)
        .await
        .unwrap();
    assert_eq!(
        report.outcome,
        Outcome::Ok,
        "{profile:?}: {:?}",
        report.counts.problems
    );
    assert_eq!(report.counts.provincial_rows, 120);
    let wal = dir.path().join("tthc-sync.db-wal");
    assert!(
        file(&wal).len() > 100_000,
        "{profile:?}: the rows are in the WAL, not yet checkpointed"
    );
    for name in ["tthc-sync.db", "tthc-sync.db-wal", "tthc-sync.db-shm"] {
        if let Some((what, v)) = find(&file(&dir.path().join(name)), &hidden) {
            panic!("{profile:?}: {what} ({v}) is in {name}");
        }
    }
    let text = logs.take();
    assert!(
        text.contains("TraCuuHoSo") && text.contains("provincial pull reached the end"),
        "trace logging is on"
    );
    for (what, v) in hidden.iter().chain(&officials) {
        assert!(
            !text.contains(v.as_str()),
            "{profile:?}: {what} ({v}) logged"
        );
    }
    // Officials' names stay in the database (the report's Phụ lục II needs them).
    if profile != SimProfile::Opencps {
        let handlers: i64 = store
            .conn()
            .query_row(
                "SELECT count(*) FROM provincial_dossier WHERE handler IS NOT NULL",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(handlers, 120, "{profile:?}: every handler stored");
    }
    drop(store);

    // The binary, a second cycle (a sweep: every row read again), logs at trace.
    let config = dir.path().join("tthc-sync.toml");
    tthc_sync::demo::write_config(&cfg, &config).unwrap();
    let bin = env!("CARGO_BIN_EXE_tthc-sync");
    let store = Store::open(&db).unwrap();
    store
        .conn()
        .execute("DELETE FROM watermark WHERE source LIKE '%:sweep'", [])
        .unwrap();
    drop(store);
    let out = tokio::task::spawn_blocking(move || {
        Command::new(bin)
            .arg("--config")
            .arg(&config)
            .args(["sync", "--once"])
            .env("TTHC_SYNC_LOG", "trace")
            .env_remove("JOURNAL_STREAM")
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let text = without_colours(&format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    ));
    assert_eq!(out.status.code(), Some(0), "{profile:?}: {text}");
    assert!(
        text.contains("mode=Sweep"),
        "{profile:?}: a sweep ran: {text}"
    );
    for (what, v) in hidden.iter().chain(&officials) {
        assert!(
            !text.contains(v.as_str()),
            "{profile:?}: {what} ({v}) logged by the binary"
        );
    }
    for name in ["tthc-sync.db", "tthc-sync.db-wal", "tthc-sync.db-shm"] {
        if let Some((what, v)) = find(&file(&dir.path().join(name)), &hidden) {
            panic!("{profile:?}: {what} ({v}) is in {name} after the binary's sync");
        }
    }
    hidden.len()
}
