//! Readers while the service writes: the `sqlite3` command-line tool in a loop and a thread of
//! long read transactions read the database while the real `tthc-sync sync --once` writes a
//! large world (a first cycle, then an incremental one). The writer never fails with "database
//! is locked"; readers never see an inconsistent state; and the housekeeping checkpoint neither
//! waits long on a reader that holds a snapshot nor blocks the writer behind it.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::support::reliability::*;

/// The `sqlite3` tool, or `None` (with a note) where it is not installed.
fn sqlite3() -> Option<PathBuf> {
    let p = PathBuf::from("/usr/bin/sqlite3");
    if p.exists() {
        return Some(p);
    }
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|d| d.join("sqlite3"))
        .find(|p| p.exists())
}

/// One consistency query for the command-line reader: domain and referential checks that must
/// be 0, and counts that must never go down.
const CLI_QUERY: &str = "SELECT
  (SELECT count(*) FROM discrepancy WHERE state NOT IN ('open','acknowledged','resolved')),
  (SELECT count(*) FROM discrepancy_event e
     WHERE NOT EXISTS (SELECT 1 FROM discrepancy d WHERE d.id = e.discrepancy_id)),
  (SELECT count(*) FROM discrepancy d
     WHERE NOT EXISTS (SELECT 1 FROM discrepancy_event e
                       WHERE e.discrepancy_id = d.id AND e.event = 'opened')),
  (SELECT count(*) FROM provincial_history h
     WHERE NOT EXISTS (SELECT 1 FROM provincial_dossier p WHERE p.dossier_id = h.dossier_id)),
  (SELECT count(*) FROM sync_run WHERE outcome NOT IN ('running','ok','partial','failed')),
  (SELECT count(*) FROM provincial_dossier),
  (SELECT count(*) FROM provincial_history),
  (SELECT count(*) FROM national_dossier),
  (SELECT count(*) FROM national_history),
  (SELECT count(*) FROM discrepancy),
  (SELECT count(*) FROM discrepancy_event),
  (SELECT count(*) FROM sync_run);";

/// The `sqlite3` reader loop; returns how many reads it made.
fn cli_reader(sqlite3: PathBuf, db: PathBuf, stop: Arc<AtomicBool>) -> usize {
    let mut last: Vec<i64> = Vec::new();
    let mut reads = 0;
    while !stop.load(Ordering::Relaxed) {
        let o = std::process::Command::new(&sqlite3)
            .arg("-readonly")
            .args(["-cmd", ".timeout 10000", "-separator", "|"])
            .arg(&db)
            .arg(CLI_QUERY)
            .output()
            .unwrap();
        assert!(o.status.success(), "sqlite3 reader: {}", output_text(&o));
        let text = String::from_utf8_lossy(&o.stdout);
        let v: Vec<i64> = text
            .trim()
            .split('|')
            .map(|x| {
                x.parse()
                    .unwrap_or_else(|_| panic!("sqlite3 said {text:?}"))
            })
            .collect();
        assert_eq!(v.len(), 12, "{text}");
        assert_eq!(&v[..5], &[0, 0, 0, 0, 0], "inconsistent state seen: {text}");
        if !last.is_empty() {
            for (i, (a, b)) in last.iter().zip(&v).enumerate().skip(5) {
                assert!(b >= a, "count {i} went down: {last:?} then {v:?}");
            }
        }
        last = v;
        reads += 1;
    }
    reads
}

/// Invariants that must hold in any one snapshot. Returns a fingerprint of the snapshot.
fn snapshot_checks(tx: &rusqlite::Transaction<'_>, world_size: i64) -> Vec<i64> {
    let one = |sql: &str| -> i64 { tx.query_row(sql, [], |r| r.get(0)).unwrap() };
    // A finished sync run's counters equal the rows it wrote, as of this snapshot.
    let bad_runs = one(
        "SELECT count(*) FROM sync_run r WHERE r.job = 'sync' AND r.outcome IN ('ok','partial')
           AND (r.provincial_changed !=
                  (SELECT count(*) FROM provincial_history h WHERE h.run_id = r.id)
             OR r.opened != (SELECT count(*) FROM discrepancy_event e
                             WHERE e.run_id = r.id AND e.event = 'opened')
             OR r.reopened != (SELECT count(*) FROM discrepancy_event e
                               WHERE e.run_id = r.id AND e.event = 'reopened')
             OR r.resolved != (SELECT count(*) FROM discrepancy_event e
                               WHERE e.run_id = r.id AND e.event = 'auto_resolved'))",
    );
    assert_eq!(
        bad_runs, 0,
        "a finished run's counters disagree with its rows"
    );
    // A completed sweep's mark is only visible together with every row it covers.
    let sweep_marks = one("SELECT count(*) FROM watermark WHERE source LIKE '%:sweep'");
    let rows = one("SELECT count(*) FROM provincial_dossier");
    if sweep_marks > 0 {
        assert_eq!(rows, world_size, "sweep mark visible without its rows");
    }
    // Discrepancies and their events agree.
    assert_eq!(
        one("SELECT count(*) FROM discrepancy"),
        one("SELECT count(*) FROM discrepancy_event WHERE event = 'opened'"),
        "every discrepancy has exactly one 'opened' event"
    );
    vec![
        rows,
        one("SELECT count(*) FROM provincial_history"),
        one("SELECT count(*) FROM national_dossier"),
        one("SELECT count(*) FROM discrepancy_event"),
        one("SELECT count(*) FROM sync_run WHERE outcome != 'running'"),
        sweep_marks,
    ]
}

/// Long read transactions: BEGIN, checks, sleeps, the same checks, COMMIT. Returns
/// (transactions, of which saw the writer move on between their first and last read).
fn long_reader(db: PathBuf, world_size: i64, stop: Arc<AtomicBool>) -> (usize, usize) {
    let mut conn = open_ro(&db);
    let (mut txs, mut moved) = (0, 0);
    while !stop.load(Ordering::Relaxed) {
        let tx = conn.transaction().unwrap();
        let first = snapshot_checks(&tx, world_size);
        for _ in 0..3 {
            std::thread::sleep(Duration::from_millis(250));
            let again = snapshot_checks(&tx, world_size);
            assert_eq!(
                first, again,
                "the snapshot changed inside one read transaction"
            );
        }
        tx.commit().unwrap();
        // Outside the transaction: has the writer moved on meanwhile?
        let tx = conn.transaction().unwrap();
        if snapshot_checks(&tx, world_size) != first {
            moved += 1;
        }
        tx.commit().unwrap();
        txs += 1;
    }
    (txs, moved)
}

fn wait_for_schema(db: &Path, child: &mut std::process::Child) {
    let start = Instant::now();
    while !has_schema(db) {
        assert!(child.try_wait().unwrap().is_none(), "the sync exited early");
        assert!(start.elapsed() < Duration::from_secs(60), "no schema");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn readers_see_consistent_snapshots_and_the_writer_is_never_locked_out() {
    let Some(sqlite3) = sqlite3() else {
        eprintln!("SKIPPED: the sqlite3 command-line tool is not installed");
        return;
    };
    let size = 8000;
    let w = World2::new(8101, size, 0.03);
    let db = w.path("readers.db");
    let config = w.config_for("readers.toml", &db);
    let mut figures = Vec::new();
    for cycle in ["first", "incremental"] {
        let log = w.path(&format!("{cycle}.log"));
        let t0 = Instant::now();
        let mut child = spawn_sync(&config, &log);
        wait_for_schema(&db, &mut child);
        let stop = Arc::new(AtomicBool::new(false));
        let clis: Vec<_> = (0..2)
            .map(|_| {
                let (s, d, st) = (sqlite3.clone(), db.clone(), stop.clone());
                std::thread::spawn(move || cli_reader(s, d, st))
            })
            .collect();
        let long = {
            let (d, st) = (db.clone(), stop.clone());
            std::thread::spawn(move || long_reader(d, size as i64, st))
        };
        let status = child.wait().unwrap();
        let took = t0.elapsed();
        stop.store(true, Ordering::Relaxed);
        let cli_reads: usize = clis.into_iter().map(|h| h.join().unwrap()).sum();
        let (txs, moved) = long.join().unwrap();
        let stderr = std::fs::read_to_string(&log).unwrap();
        assert_eq!(status.code(), Some(0), "{cycle} cycle:\n{stderr}");
        assert!(
            !stderr.to_lowercase().contains("locked") && !stderr.contains("busy"),
            "{cycle} cycle:\n{stderr}"
        );
        assert_eq!(runs(&db).last().unwrap().1, "ok");
        assert!(cli_reads > 0 && txs > 0);
        eprintln!(
            "{cycle} cycle: {took:?}; 2 sqlite3 readers made {cli_reads} reads; \
             {txs} long read transactions (1 s each), {moved} saw the writer move on"
        );
        figures.push((cycle, took, cli_reads, txs, moved));
    }
    assert_eq!(integrity(&db), "ok");
    assert_perfect(&w, &db, "after both cycles");
    // The writer did write while the long readers held their snapshots.
    assert!(figures[0].4 > 0, "{figures:?}");
}

#[test]
fn housekeeping_gives_up_quickly_on_a_long_reader_and_does_not_block_the_writer() {
    let w = World2::new(8201, 3000, 0.03);
    let db = w.path("hk.db");
    let config = w.config_for("hk.toml", &db);
    let (code, stderr, full) = run_sync(&config, &w.path("first.log"));
    assert_eq!(code, 0, "{stderr}");

    // A second cycle writes; a reader takes a snapshot that includes some of its WAL frames
    // and holds it for 12 s.
    let log = w.path("second.log");
    let mut child = spawn_sync(&config, &log);
    let hold = Duration::from_secs(12);
    let reader = {
        let db = db.clone();
        std::thread::spawn(move || {
            let mut conn = open_ro(&db);
            // Wait for this cycle's run row, so that the snapshot has WAL frames.
            let start = Instant::now();
            loop {
                let running: i64 = conn
                    .query_row(
                        "SELECT count(*) FROM sync_run WHERE outcome = 'running'",
                        [],
                        |r| r.get(0),
                    )
                    .unwrap();
                if running > 0 || start.elapsed() > Duration::from_secs(20) {
                    break;
                }
                std::thread::sleep(Duration::from_millis(10));
            }
            let tx = conn.transaction().unwrap();
            let n: i64 = tx
                .query_row("SELECT count(*) FROM sync_run", [], |r| r.get(0))
                .unwrap();
            std::thread::sleep(hold);
            let m: i64 = tx
                .query_row("SELECT count(*) FROM sync_run", [], |r| r.get(0))
                .unwrap();
            assert_eq!(n, m);
            tx.commit().unwrap();
        })
    };
    std::thread::sleep(Duration::from_millis(800));
    // Housekeeping, as the daemon's job runs it, while the reader holds its snapshot and the
    // second cycle writes.
    let store = tthc_sync::store::Store::open(&db).unwrap();
    let t0 = Instant::now();
    let (busy, frames, done) = store.housekeeping().unwrap();
    let hk = t0.elapsed();
    drop(store);
    let status = child.wait().unwrap();
    let stderr = std::fs::read_to_string(&log).unwrap();
    reader.join().unwrap();
    eprintln!(
        "housekeeping under a 12 s reader: {hk:?}, busy {busy}, {done} of {frames} frames \
         checkpointed; the concurrent sync exited {status:?} (a first cycle takes {full:?})"
    );
    assert_eq!(status.code(), Some(0), "{stderr}");
    assert!(!stderr.to_lowercase().contains("locked"), "{stderr}");
    assert!(
        hk < Duration::from_secs(5),
        "housekeeping waited {hk:?} on a reader, holding the write lock all that time"
    );
    // Once the reader is gone, the next housekeeping truncates the WAL.
    let store = tthc_sync::store::Store::open(&db).unwrap();
    let (busy, _, _) = store.housekeeping().unwrap();
    assert_eq!(busy, 0);
    drop(store);
    assert_eq!(integrity(&db), "ok");
}
