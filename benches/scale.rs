//! Scale benchmark (how the service holds up at a province's size, docs/performance.md):
//! ingest, reconciliation, an incremental cycle and the monthly report on a database of N
//! dossiers (default 1,000,000), each against a plain-SQLite baseline measured in the same run.
//! Prints one table.
//!
//! `cargo bench --bench scale`; environment:
//! - `TTHC_BENCH_N` dossiers (default 1,000,000);
//! - `TTHC_BENCH_RUNS` runs per stage, the median is reported (default 3, at least 1);
//! - `TTHC_BENCH_LOOPBACK_N` dossiers served by the simulator over loopback (default N/5);
//! - `TTHC_BENCH_CHANGED` dossiers changed in the incremental cycle (default N/100);
//! - `TTHC_BENCH_DIR` where the databases go (default a temporary directory);
//! - `TTHC_BENCH_REUSE` a database an earlier run left in `TTHC_BENCH_DIR` (`bench.db`, same
//!   N): it is copied to `bench.db` and the stages before the plain join (generation, ingest,
//!   raw inserts, national views) are skipped — for iterating on the later stages.
//!
//! Peak memory is the process's VmHWM, reset (`/proc/self/clear_refs` ← 5) before each stage.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tthc_sync::calendar::Calendar;
use tthc_sync::config::Config;
use tthc_sync::demo::score_against_truth;
use tthc_sync::model::{
    fmt_time, is_well_formed_national_code, DossierCore, LocalTime, LookupOutcome, NationalDossier,
    ProvincialDossier, Status, YearMonth,
};
use tthc_sync::profile::Profile;
use tthc_sync::report;
use tthc_sync::sim::provincial::render_row;
use tthc_sync::sim::world::{NationalRow, SimDossier};
use tthc_sync::sim::{Simulators, World, WorldParams, WorldStream};
use tthc_sync::source::provincial::take_page;
use tthc_sync::store::{LookupResult, RunCounts, Store};
use tthc_sync::sync::{self, Clients};

const PAGE: usize = 200;
/// Pages rendered ahead of a timed stretch (rendering is not timed).
const CHUNK_PAGES: usize = 100;
const SOURCE: &str = "provincial:igate";
const SEED: u64 = 2026;
const FAULT_RATE: f64 = 0.02;

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.replace('_', "").parse().ok())
        .unwrap_or(default)
}

fn now() -> LocalTime {
    chrono::NaiveDate::from_ymd_opt(2026, 11, 20)
        .unwrap()
        .and_hms_opt(15, 30, 0)
        .unwrap()
}

/// When the sync runs: shortly after the world's "now".
fn sync_time() -> LocalTime {
    now() + chrono::Duration::minutes(5)
}

fn params(n: usize) -> WorldParams {
    WorldParams::new(SEED, n, FAULT_RATE, now())
}

// ----- memory ---------------------------------------------------------------------------------

fn status_kb(field: &str) -> f64 {
    status_kb_at("/proc/self/status", field)
}

/// A `/proc/<pid>/status` field of another process, in KiB.
fn status_kb_of(pid: u32, field: &str) -> f64 {
    status_kb_at(&format!("/proc/{pid}/status"), field)
}

fn status_kb_at(path: &str, field: &str) -> f64 {
    std::fs::read_to_string(path)
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse::<f64>().ok())
        })
        .unwrap_or(f64::NAN)
}

extern "C" {
    /// glibc: returns the heap's free memory to the system.
    fn malloc_trim(pad: usize) -> i32;
}

/// Starts a stage's peak-memory measurement: memory earlier stages freed is handed back first
/// (else the allocator keeps it and it counts in every later stage's peak), then the
/// high-water mark is reset to the current resident size.
fn reset_peak() {
    // SAFETY: malloc_trim only releases free heap memory; it has no preconditions.
    unsafe {
        malloc_trim(0);
    }
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

fn peak_mb() -> f64 {
    status_kb("VmHWM:") / 1024.0
}

// ----- results --------------------------------------------------------------------------------

struct Line {
    stage: String,
    n: usize,
    runs: Vec<f64>,
    /// Rows (or dossiers) per second at the median.
    rate: bool,
    peak_mb: f64,
    vs: String,
}

impl Line {
    fn median(&self) -> f64 {
        let mut v = self.runs.clone();
        v.sort_by(|a, b| a.total_cmp(b));
        if v.is_empty() {
            f64::NAN
        } else {
            v[v.len() / 2]
        }
    }
}

struct Table {
    lines: Vec<Line>,
    notes: Vec<String>,
}

impl Table {
    fn add(&mut self, stage: &str, n: usize, runs: Vec<f64>, rate: bool, peak_mb: f64) -> f64 {
        let l = Line {
            stage: stage.to_string(),
            n,
            runs,
            rate,
            peak_mb,
            vs: String::new(),
        };
        let m = l.median();
        eprintln!(
            "  {stage}: median {m:.3} s of {:?} (peak {peak_mb:.0} MB)",
            l.runs
        );
        self.lines.push(l);
        m
    }
    fn vs(&mut self, stage: &str, text: String) {
        if let Some(l) = self.lines.iter_mut().find(|l| l.stage == stage) {
            l.vs = text;
        }
    }
    fn print(&self) {
        println!();
        println!(
            "| stage | N | median s | runs (s) | rate /s | peak RSS MB | vs baseline / target |"
        );
        println!("|---|---:|---:|---|---:|---:|---|");
        for l in &self.lines {
            let m = l.median();
            let runs: Vec<String> = l.runs.iter().map(|r| format!("{r:.2}")).collect();
            let rate = if l.rate && m > 0.0 {
                format!("{:.0}", l.n as f64 / m)
            } else {
                "".into()
            };
            println!(
                "| {} | {} | {:.3} | {} | {} | {:.0} | {} |",
                l.stage,
                l.n,
                m,
                runs.join(" / "),
                rate,
                l.peak_mb,
                l.vs
            );
        }
        println!();
        for n in &self.notes {
            println!("- {n}");
        }
    }
}

fn secs(d: Duration) -> f64 {
    d.as_secs_f64()
}

// ----- rows -----------------------------------------------------------------------------------

/// Renders rows as the iGate page bodies of a list of `dossiers`, `PAGE` rows a page.
fn render_pages(frame: &World, dossiers: &[tthc_sync::sim::world::SimDossier]) -> Vec<String> {
    let total = dossiers.len();
    dossiers
        .chunks(PAGE)
        .enumerate()
        .map(|(i, c)| {
            let rows: Vec<Value> = c.iter().map(|d| render_row(frame, d)).collect();
            let n = rows.len();
            serde_json::to_string(&json!({"content": rows, "last": i * PAGE + n >= total,
                "size": PAGE, "numberOfElements": n, "totalElements": total}))
            .expect("serializable")
        })
        .collect()
}

/// The timed part of ingest: JSON text → Value → map_row → store, one transaction per page.
fn ingest_pages(store: &mut Store, profile: &Profile, run_id: i64, pages: &[String]) -> (u64, u64) {
    let (mut rows, mut changed) = (0, 0);
    for (n, body) in pages.iter().enumerate() {
        let v: Value = serde_json::from_str(body).expect("page JSON");
        let mut v = v;
        let page = take_page(profile, &mut v, n as u32, PAGE as u32).expect("page");
        let mapped: Vec<(ProvincialDossier, String)> = page
            .rows
            .into_iter()
            .map(|r| profile.map_row(r).expect("row maps"))
            .collect();
        let s = store
            .store_provincial_page(run_id, SOURCE, sync_time(), &mapped, None)
            .expect("store page");
        rows += s.rows;
        changed += s.new + s.changed;
    }
    (rows, changed)
}

/// Streams a world of `n` dossiers through `f`, `CHUNK_PAGES × PAGE` dossiers at a time.
fn for_chunks(n: usize, mut f: impl FnMut(&World, &[tthc_sync::sim::Generated])) {
    let mut stream = WorldStream::new(params(n));
    let frame = stream.frame().clone();
    loop {
        let chunk: Vec<_> = stream.by_ref().take(CHUNK_PAGES * PAGE).collect();
        if chunk.is_empty() {
            break;
        }
        f(&frame, &chunk);
    }
}

/// Stage 1: ingest from pre-rendered in-memory pages into a fresh file database.
/// How many status changes back the ingest shows each dossier (when its flow has them): the
/// history pulls then store each dossier one change later, the last one as it stands now. So
/// the stored history has several observations per dossier (completed pauses where the flows
/// have them), as a province's pulled every few minutes does, and the final state is the
/// world's.
const HISTORY_PULLS: usize = 2;

/// `d` as it stood `back` status changes ago (itself when its flow is shorter): the later
/// statuses, the times they set and a later rescheduling undone.
fn as_of(d: &SimDossier, back: usize) -> SimDossier {
    let keep = d.history.len().saturating_sub(back).max(1);
    if back == 0 || keep >= d.history.len() {
        return d.clone();
    }
    let mut e = d.clone();
    e.history.truncate(keep);
    let t = e.status_since();
    e.finished_at = e.finished_at.filter(|&f| f <= t);
    e.returned_at = e.returned_at.filter(|&r| r <= t);
    if e.rescheduled_at.is_some_and(|r| r > t) {
        e.due_at = e.original_due_at.take().or(e.due_at);
        e.rescheduled_at = None;
    }
    e
}

fn ingest_run(n: usize, db: &Path, profile: &Profile) -> (f64, u64) {
    let _ = std::fs::remove_file(db);
    let mut store = Store::open(db).expect("open");
    let run_id = store.begin_run("bench", sync_time()).expect("run");
    let mut timed = Duration::ZERO;
    let mut rows = 0;
    for_chunks(n, |frame, chunk| {
        let ds: Vec<_> = chunk
            .iter()
            .map(|g| as_of(&g.dossier, HISTORY_PULLS))
            .collect();
        let pages = render_pages(frame, &ds);
        let t = Instant::now();
        rows += ingest_pages(&mut store, profile, run_id, &pages).0;
        timed += t.elapsed();
    });
    (secs(timed), rows)
}

const RAW_INSERT: &str = "INSERT INTO provincial_dossier (dossier_id, code, national_code,
    local_code, procedure_code, procedure_name, agency_code, agency_name, channel, status_code,
    status_raw, status_label, received_at, due_at, finished_at, returned_at, has_due_date,
    paused_since, supplement_requests, handler, updated_at, row_hash, raw_json, source,
    first_seen, last_seen, last_changed)
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18,
    ?19, ?20, ?21, ?22, ?23, ?24, ?25, ?25, ?21)";

/// Stage 2 (baseline): the same rows, already mapped, inserted with one prepared plain INSERT,
/// one transaction per page.
fn raw_insert_run(n: usize, db: &Path, profile: &Profile) -> f64 {
    let _ = std::fs::remove_file(db);
    let store = Store::open(db).expect("open");
    let conn = store.conn();
    let now_s = fmt_time(&sync_time());
    let t_ = |v: &Option<LocalTime>| v.as_ref().map(fmt_time);
    let mut timed = Duration::ZERO;
    for_chunks(n, |frame, chunk| {
        let ds: Vec<_> = chunk
            .iter()
            .map(|g| as_of(&g.dossier, HISTORY_PULLS))
            .collect();
        let mapped: Vec<(ProvincialDossier, String)> = ds
            .iter()
            .map(|d| profile.map_row(render_row(frame, d)).expect("maps"))
            .collect();
        let t = Instant::now();
        for page in mapped.chunks(PAGE) {
            conn.execute_batch("BEGIN").unwrap();
            let mut stmt = conn.prepare_cached(RAW_INSERT).unwrap();
            for (d, raw) in page {
                let c = &d.core;
                stmt.execute(rusqlite::params![
                    d.local_id,
                    d.key,
                    (!c.code.is_empty()).then_some(&c.code),
                    d.local_code,
                    c.procedure_code,
                    d.procedure_name,
                    c.agency_code,
                    d.agency_name,
                    d.channel.as_str(),
                    c.status.map(|s| s.code()),
                    c.status_raw,
                    d.status_label,
                    t_(&c.received_at),
                    t_(&c.due_at),
                    t_(&c.finished_at),
                    t_(&c.returned_at),
                    d.has_due_date,
                    t_(&d.paused_since),
                    d.supplement_requests,
                    d.handler,
                    fmt_time(&d.updated_at),
                    d.row_hash,
                    raw,
                    SOURCE,
                    now_s,
                ])
                .unwrap();
            }
            drop(stmt);
            conn.execute_batch("COMMIT").unwrap();
        }
        timed += t.elapsed();
    });
    secs(timed)
}

fn national_dossier(r: &NationalRow) -> NationalDossier {
    NationalDossier {
        core: DossierCore {
            code: r.code.clone(),
            procedure_code: Some(r.procedure_code.clone()),
            agency_code: Some(r.unit_code.clone()),
            status: Some(r.status),
            status_raw: r.status.code().to_string(),
            received_at: r.received_at,
            due_at: r.due_at,
            finished_at: r.finished_at,
            returned_at: r.returned_at,
        },
        unit_name: Some(r.unit_name.clone()),
        duplicate_rows: false,
    }
}

/// Stores a successful look-up of every well-formed code (as the sync would after a full
/// plan), in batches of 1,000. Returns the seconds it took and the ground truth.
fn store_national(store: &mut Store, n: usize) -> (f64, Vec<tthc_sync::sim::GroundTruth>) {
    let run_id = store.begin_run("bench", sync_time()).expect("run");
    let mut truth = Vec::new();
    let mut timed = Duration::ZERO;
    for_chunks(n, |_, chunk| {
        let batch: Vec<LookupResult> = chunk
            .iter()
            .filter(|g| is_well_formed_national_code(&g.dossier.national_code))
            .map(|g| LookupResult {
                dossier_id: g.dossier.id.clone(),
                code: g.dossier.national_code.clone(),
                at: sync_time(),
                result: Ok(match &g.national {
                    Some(r) => (
                        LookupOutcome::Found(national_dossier(r)),
                        tthc_sync::sim::national::render_row(r).to_string(),
                    ),
                    None => (LookupOutcome::NotFound, "[]".to_string()),
                }),
            })
            .collect();
        truth.extend(chunk.iter().filter_map(|g| g.truth.clone()));
        let t = Instant::now();
        for b in batch.chunks(1000) {
            store.store_lookups(run_id, b).expect("lookups");
        }
        timed += t.elapsed();
    });
    (secs(timed), truth)
}

const JOIN_BASELINE: &str = "SELECT count(*) FROM provincial_dossier p
    JOIN national_dossier n ON n.code = p.national_code
    WHERE n.found = 1 AND (p.status_code IS NOT n.status_code
        OR p.received_at IS NOT n.received_at OR p.due_at IS NOT n.due_at
        OR p.finished_at IS NOT n.finished_at OR p.returned_at IS NOT n.returned_at)";

fn file_mb(db: &Path) -> f64 {
    let size = |p: PathBuf| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0);
    let mut wal = db.as_os_str().to_owned();
    wal.push("-wal");
    (size(db.to_path_buf()) + size(PathBuf::from(wal))) as f64 / 1e6
}

/// The dossiers changed in incremental run `r`: every `stride`-th, offset by `r`; a new
/// handler and a status touched 90 minutes before "now" (so they are past the sync grace).
fn changed_dossiers(
    n: usize,
    stride: usize,
    r: usize,
) -> (World, Vec<tthc_sync::sim::world::SimDossier>) {
    let mut stream = WorldStream::new(params(n));
    let frame = stream.frame().clone();
    let at = now() - chrono::Duration::minutes(90);
    let changed = stream
        .by_ref()
        .enumerate()
        .filter(|(i, _)| i % stride == r % stride)
        .map(|(_, g)| {
            let mut d = g.dossier;
            // The process id too: a reused database already holds an earlier run's changes.
            d.handler = format!("Cán bộ trực {r} ({})", std::process::id());
            let s = d.status();
            if !matches!(s, Status::Withdrawn | Status::Stopped | Status::Returned) {
                d.history.push((at.max(d.status_since()), s));
            }
            d
        })
        .collect();
    (frame, changed)
}

/// Stages 0–2 and the national views: generates the world, ingests it (against the raw-insert
/// baseline) into `db` and stores every dossier's national view. Returns the store and the
/// ground truth of the injected faults.
fn build_database(
    n: usize,
    runs: usize,
    dir: &Path,
    db: &Path,
    profile: &Profile,
    table: &mut Table,
) -> (Store, Vec<tthc_sync::sim::GroundTruth>) {
    // 0. Generating the world.
    reset_peak();
    let mut gen = Vec::new();
    for _ in 0..runs {
        let t = Instant::now();
        let c = WorldStream::new(params(n)).count();
        gen.push(secs(t.elapsed()));
        assert_eq!(c, n);
    }
    table.add("generate (streaming WorldStream)", n, gen, true, peak_mb());
    let n_full = env_usize("TTHC_BENCH_FULL_WORLD_N", n.min(200_000));
    if n_full > 0 {
        reset_peak();
        let t = Instant::now();
        let w = World::generate(params(n_full));
        let s = secs(t.elapsed());
        drop(w);
        table.add(
            "generate (World::generate)",
            n_full,
            vec![s],
            true,
            peak_mb(),
        );
    }

    // 1. + 2. Ingest and the raw-insert baseline, interleaved so noise hits both alike.
    let raw_db = dir.join("raw.db");
    let (mut ingest, mut raw, mut ingest_peak, mut raw_peak) = (vec![], vec![], 0f64, 0f64);
    for r in 0..runs {
        reset_peak();
        let (s, rows) = ingest_run(n, db, profile);
        ingest_peak = ingest_peak.max(peak_mb());
        assert_eq!(rows as usize, n);
        ingest.push(s);
        reset_peak();
        raw.push(raw_insert_run(n, &raw_db, profile));
        raw_peak = raw_peak.max(peak_mb());
        eprintln!(
            "  run {r}: ingest {:.2} s, raw insert {:.2} s",
            ingest[r], raw[r]
        );
    }
    let _ = std::fs::remove_file(&raw_db);
    let mi = table.add(
        "ingest: in-memory pages → parse → map_row → store_provincial_page",
        n,
        ingest,
        true,
        ingest_peak,
    );
    let mr = table.add(
        "baseline: plain prepared INSERT, one tx per page",
        n,
        raw,
        true,
        raw_peak,
    );
    table.vs(
        "ingest: in-memory pages → parse → map_row → store_provincial_page",
        format!(
            "{:.0}% of the baseline rate (target ≥ 50%)",
            100.0 * mr / mi
        ),
    );

    // The history pulls: each dossier one status change later, until it stands as now.
    let mut store = Store::open(db).expect("open");
    let (mut pulled, mut pull_secs, mut pull_peak) = (0u64, Vec::new(), 0f64);
    for back in (0..HISTORY_PULLS).rev() {
        reset_peak();
        let (s, rows) = history_pull(&mut store, n, profile, back);
        pull_peak = pull_peak.max(peak_mb());
        pull_secs.push(s);
        pulled += rows;
    }
    let history_rows: i64 = store
        .conn()
        .query_row("SELECT count(*) FROM provincial_history", [], |r| r.get(0))
        .expect("history rows");
    table.add(
        "history pulls: changed rows stored (each pull)",
        (pulled as usize) / HISTORY_PULLS,
        pull_secs,
        true,
        pull_peak,
    );
    table.notes.push(format!(
        "history: {HISTORY_PULLS} pulls after the ingest stored {pulled} changed rows; {history_rows} history rows for {n} dossiers ({:.2} per dossier)",
        history_rows as f64 / n as f64
    ));

    // The national side of every dossier, and the database size.
    reset_peak();
    let (s, truth) = store_national(&mut store, n);
    table.add(
        "national views: store_lookups (1,000 per tx)",
        n,
        vec![s],
        true,
        peak_mb(),
    );
    store
        .conn()
        .execute_batch("PRAGMA wal_checkpoint(TRUNCATE)")
        .unwrap();
    let mb = file_mb(db);
    table.notes.push(format!(
        "database after ingest + national views: {mb:.0} MB for {n} dossiers = {:.0} MB per million",
        mb * 1e6 / n as f64
    ));
    (store, truth)
}

/// One history pull: the dossiers whose state `back` status changes ago differs from the one
/// before (what the ingest or the previous pull stored), as they stood then, stored in one run
/// (rendering is not timed). Returns the seconds and the rows stored.
fn history_pull(store: &mut Store, n: usize, profile: &Profile, back: usize) -> (f64, u64) {
    let run_id = store.begin_run("bench", sync_time()).expect("run");
    let mut timed = Duration::ZERO;
    let mut rows = 0;
    for_chunks(n, |frame, chunk| {
        let ds: Vec<_> = chunk
            .iter()
            .filter(|g| g.dossier.history.len().saturating_sub(back) > 1)
            .map(|g| as_of(&g.dossier, back))
            .collect();
        let pages = render_pages(frame, &ds);
        let t = Instant::now();
        let (read, changed) = ingest_pages(store, profile, run_id, &pages);
        timed += t.elapsed();
        assert_eq!(read, changed, "every row of a history pull changed");
        rows += changed;
    });
    (secs(timed), rows)
}

/// The ground truth of the world of `n` dossiers, without storing anything.
fn world_truth(n: usize) -> Vec<tthc_sync::sim::GroundTruth> {
    let mut truth = Vec::new();
    for_chunks(n, |_, chunk| {
        truth.extend(chunk.iter().filter_map(|g| g.truth.clone()))
    });
    truth
}

/// The child process of the loopback stage: serves a world of `TTHC_BENCH_LOOPBACK_N` dossiers
/// from both simulators, writes their addresses to `addr_file`, and runs until stdin closes.
fn serve_simulators(addr_file: &Path) {
    let n = env_usize("TTHC_BENCH_LOOPBACK_N", PAGE).max(PAGE);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let world = WorldStream::new(params(n)).into_world();
        let sims = Simulators::start(world, 0, 0).await.expect("sims");
        let tmp = addr_file.with_extension("tmp");
        std::fs::write(
            &tmp,
            format!("{} {}\n", sims.provincial_addr, sims.national_addr),
        )
        .expect("write addresses");
        std::fs::rename(&tmp, addr_file).expect("publish addresses");
        tokio::task::spawn_blocking(|| {
            let _ = std::io::Read::read_to_end(&mut std::io::stdin(), &mut Vec::new());
        })
        .await
        .expect("stdin");
    });
}

fn main() {
    if let Some(addr_file) = std::env::var_os("TTHC_BENCH_SERVE") {
        return serve_simulators(Path::new(&addr_file));
    }
    let n = env_usize("TTHC_BENCH_N", 1_000_000).max(1000);
    let runs = env_usize("TTHC_BENCH_RUNS", 3).max(1);
    let loop_n = env_usize("TTHC_BENCH_LOOPBACK_N", n / 5).max(PAGE);
    let n_changed = env_usize("TTHC_BENCH_CHANGED", n / 100).clamp(1, n);
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = std::env::var_os("TTHC_BENCH_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| tmp.path().to_path_buf());
    std::fs::create_dir_all(&dir).expect("bench dir");
    let profile = Profile::builtin("igate").expect("profile");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let mut table = Table {
        lines: Vec::new(),
        notes: Vec::new(),
    };
    eprintln!("scale bench: N = {n}, runs = {runs}, loopback N = {loop_n}, changed = {n_changed}, dir = {}", dir.display());

    let reuse = std::env::var_os("TTHC_BENCH_REUSE").map(PathBuf::from);
    let db = dir.join("bench.db");
    let (mut store, truth) = match &reuse {
        Some(base) => {
            std::fs::copy(base, &db).expect("copy the reused database");
            eprintln!(
                "  reusing {} (stages before the plain join skipped)",
                base.display()
            );
            (Store::open(&db).expect("open"), world_truth(n))
        }
        None => build_database(n, runs, &dir, &db, &profile, &mut table),
    };

    // Configuration (of simulators serving a tiny world: only its settings are used).
    let cfg: Config = rt.block_on(async {
        let sims = Simulators::start(World::generate(params(10)), 0, 0)
            .await
            .expect("sims");
        sims.config(&dir, &db).expect("config")
    });

    // 7. The plain-join baseline.
    reset_peak();
    let mut join = Vec::new();
    let mut differing = 0i64;
    for _ in 0..runs {
        let t = Instant::now();
        differing = store
            .conn()
            .query_row(JOIN_BASELINE, [], |r| r.get(0))
            .expect("join");
        join.push(secs(t.elapsed()));
    }
    let mj = table.add(
        "baseline: one SQL join counting differing pairs",
        n,
        join,
        true,
        peak_mb(),
    );
    table.notes.push(format!(
        "plain join: {differing} pairs differ in status or a date"
    ));

    // 3. Full reconciliation, from no discrepancies (every one opened), then steady state.
    let mut full = Vec::new();
    let mut full_peak = 0f64;
    let mut opened = 0;
    for _ in 0..runs {
        // The bench's own reset: the append-only guard of the events (migration 9) is lifted
        // on its database, so each run starts from no discrepancy.
        store
            .conn()
            .execute_batch(
                "DROP TRIGGER IF EXISTS discrepancy_event_no_delete;
                 DELETE FROM discrepancy_event; DELETE FROM discrepancy;",
            )
            .unwrap();
        let run_id = store.begin_run("bench", sync_time()).unwrap();
        let mut counts = RunCounts::default();
        reset_peak();
        let t = Instant::now();
        sync::reconcile_all(&mut store, &cfg, sync_time(), run_id, &mut counts).expect("reconcile");
        full.push(secs(t.elapsed()));
        full_peak = full_peak.max(peak_mb());
        opened = counts.opened;
        assert!(counts.problems.is_empty(), "{:?}", counts.problems);
    }
    let mf = table.add(
        "reconcile_all: full, first run (opens every discrepancy)",
        n,
        full,
        true,
        full_peak,
    );
    table.vs(
        "reconcile_all: full, first run (opens every discrepancy)",
        format!("{:.2}× the join (target ≤ 2×)", mf / mj),
    );
    let world_truth = World {
        truth,
        ..WorldStream::new(params(1)).frame().clone()
    };
    let score = score_against_truth(&store, &world_truth).expect("score");
    table.notes.push(format!(
        "full reconciliation: {opened} discrepancies opened; against ground truth ({} injected faults): precision {:.4}, recall {:.4}",
        score.injected,
        score.precision(),
        score.recall()
    ));
    let mut steady = Vec::new();
    let mut steady_peak = 0f64;
    for _ in 0..runs {
        let run_id = store.begin_run("bench", sync_time()).unwrap();
        let mut counts = RunCounts::default();
        reset_peak();
        let t = Instant::now();
        sync::reconcile_all(&mut store, &cfg, sync_time(), run_id, &mut counts).expect("reconcile");
        steady.push(secs(t.elapsed()));
        steady_peak = steady_peak.max(peak_mb());
        assert_eq!((counts.opened, counts.reopened, counts.resolved), (0, 0, 0));
    }
    let ms = table.add(
        "reconcile_all: full, nothing changed",
        n,
        steady,
        true,
        steady_peak,
    );
    table.vs(
        "reconcile_all: full, nothing changed",
        format!("{:.2}× the join (target ≤ 2×)", ms / mj),
    );

    // 4. Incremental cycle: n_changed changed dossiers stored, then reconciliation.
    let stride = (n / n_changed).max(1);
    let (mut inc, mut inc_store, mut inc_peak) = (vec![], vec![], 0f64);
    for r in 0..runs {
        let (frame, changed) = changed_dossiers(n, stride, r + 1);
        let pages = render_pages(&frame, &changed);
        let run_id = store.begin_run("bench", sync_time()).unwrap();
        reset_peak();
        let t = Instant::now();
        let (rows, ch) = ingest_pages(&mut store, &profile, run_id, &pages);
        let stored = t.elapsed();
        let mut counts = RunCounts::default();
        // What a sync cycle runs: the changed dossiers only, as the last full pass is recent.
        let pass =
            sync::reconcile(&mut store, &cfg, sync_time(), run_id, &mut counts).expect("reconcile");
        inc.push(secs(t.elapsed()));
        assert_eq!(pass, sync::Pass::Changed, "an incremental pass");
        inc_store.push(secs(stored));
        inc_peak = inc_peak.max(peak_mb());
        assert_eq!(rows, ch, "every row changed");
    }
    // The changed-dossier passes must have done what a full pass would: a full pass now
    // opens, reopens and resolves nothing.
    {
        let run_id = store.begin_run("bench", sync_time()).unwrap();
        let mut counts = RunCounts::default();
        sync::reconcile_all(&mut store, &cfg, sync_time(), run_id, &mut counts).expect("reconcile");
        table.notes.push(format!(
            "full pass after the incremental cycles: opened {}, reopened {}, resolved {} \
             (0/0/0: the changed-dossier passes missed nothing)",
            counts.opened, counts.reopened, counts.resolved
        ));
        assert_eq!(
            (counts.opened, counts.reopened, counts.resolved),
            (0, 0, 0),
            "a full pass after the incremental cycles changes nothing"
        );
    }
    let changed_n = n.div_ceil(stride);
    table.add(
        "incremental: store changed pages",
        changed_n,
        inc_store,
        true,
        inc_peak,
    );
    let mi = table.add(
        "incremental cycle: store changed pages + reconcile (changed dossiers)",
        changed_n,
        inc,
        false,
        inc_peak,
    );
    table.vs(
        "incremental cycle: store changed pages + reconcile (changed dossiers)",
        format!("target < 1 s: {}", if mi < 1.0 { "met" } else { "missed" }),
    );

    // 5. The monthly report of the month of "now", on the full database.
    let month = YearMonth::of(&now());
    let cal = Calendar::builtin();
    let mut rep = Vec::new();
    let mut rep_peak = 0f64;
    let mut report_rows = (0, 0, 0);
    for _ in 0..runs {
        reset_peak();
        let t = Instant::now();
        let r = report::build(&store, month, now(), &cal, "Điện Biên").expect("report");
        rep.push(secs(t.elapsed()));
        rep_peak = rep_peak.max(peak_mb());
        report_rows = (
            r.appendix_1.iter().map(|g| g.rows.len()).sum::<usize>(),
            r.appendix_2.iter().map(|g| g.rows.len()).sum::<usize>(),
            r.appendix_3.len(),
        );
    }
    let mr = table.add(
        "monthly report: report::build (month of now, full database)",
        n,
        rep,
        true,
        rep_peak,
    );
    table.vs(
        "monthly report: report::build (month of now, full database)",
        format!(
            "target < 2 s and < 300 MB: {}",
            if mr < 2.0 && rep_peak < 300.0 {
                "met"
            } else {
                "missed"
            }
        ),
    );
    table.notes.push(format!(
        "monthly report {}: appendix I {} rows, appendix II {} rows, appendix III {} rows",
        month.iso(),
        report_rows.0,
        report_rows.1,
        report_rows.2
    ));

    // 1b. Ingest from the simulator over loopback. The simulator runs in a child process (this
    // binary again, see `serve_simulators`), so the peak measured here is tthc-sync's own.
    drop(store);
    let lb_db = dir.join("loopback.db");
    let addr_file = dir.join("simulators.addr");
    let _ = std::fs::remove_file(&addr_file);
    let mut child = std::process::Command::new(std::env::current_exe().expect("bench binary"))
        .env("TTHC_BENCH_SERVE", &addr_file)
        .env("TTHC_BENCH_LOOPBACK_N", loop_n.to_string())
        .stdin(std::process::Stdio::piped())
        .spawn()
        .expect("simulator process");
    let addrs = loop {
        match std::fs::read_to_string(&addr_file) {
            Ok(a) if a.ends_with('\n') => break a,
            _ => std::thread::sleep(Duration::from_millis(100)),
        }
    };
    let mut addrs = addrs.split_whitespace();
    let (prov_addr, nat_addr) = (addrs.next().unwrap(), addrs.next().unwrap());
    let mut lb = Vec::new();
    reset_peak();
    rt.block_on(async {
        for _ in 0..runs {
            let _ = std::fs::remove_file(&lb_db);
            let mut cfg = cfg.clone();
            cfg.service.database = lb_db.clone();
            cfg.provincial.api_url = format!("http://{prov_addr}");
            cfg.provincial.sso_url = Some(format!("http://{prov_addr}"));
            cfg.national.adapter_url = format!("http://{nat_addr}");
            let clients = Clients::new(&cfg).expect("clients");
            let mut store = Store::open(&lb_db).expect("open");
            let run_id = store.begin_run("bench", sync_time()).unwrap();
            let t = Instant::now();
            let mut rows = 0;
            for p in 0.. {
                let page = clients.provincial.page(p).await.expect("page");
                let mapped: Vec<_> = page
                    .rows
                    .into_iter()
                    .map(|r| profile.map_row(r).expect("maps"))
                    .collect();
                rows += store
                    .store_provincial_page(run_id, SOURCE, sync_time(), &mapped, None)
                    .expect("store")
                    .rows;
                if page.last {
                    break;
                }
            }
            lb.push(secs(t.elapsed()));
            assert_eq!(rows as usize, loop_n);
        }
    });
    let lb_peak = peak_mb();
    let sim_peak = status_kb_of(child.id(), "VmHWM") / 1024.0;
    drop(child.stdin.take()); // the simulator process ends when its stdin closes
    child.wait().expect("simulator process");
    let _ = std::fs::remove_file(&lb_db);
    table.add(
        "ingest: simulator over loopback (ProvincialClient::page)",
        loop_n,
        lb,
        true,
        lb_peak,
    );
    table.notes.push(format!(
        "loopback: the simulator runs in a child process on the same 2 cores (its peak, holding its whole world of {loop_n} dossiers and rendering every page: {sim_peak:.0} MB, not in the table)"
    ));
    table.print();
}
