//! Shared by the `reliability_*` tests: portal simulators served by the test process (on a
//! runtime of their own, so the test thread may block on child processes), a config written for
//! them, the real `tthc-sync` binary as a child process, and the checks made on its database.

use std::collections::{BTreeSet, HashSet};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use rusqlite::{Connection, OpenFlags};
use tthc_sync::sim::{Simulators, World, WorldParams};

use super::config::TestConfig;

pub const BIN: &str = env!("CARGO_BIN_EXE_tthc-sync");

/// A simulated world served on loopback, and a directory holding a config that points at it.
pub struct World2 {
    pub sims: Simulators,
    pub dir: tempfile::TempDir,
    /// The simulators' config (`TestConfig::sims`), its passwords under `dir`.
    config: TestConfig,
    // Declared last: dropped after the simulators' tasks are aborted. Held, never read.
    _rt: tokio::runtime::Runtime,
}

impl World2 {
    /// `dossiers` dossiers, `faults` of them with an injected sync fault; "now" is the wall
    /// clock, as the binary's clock is.
    pub fn new(seed: u64, dossiers: usize, faults: f64) -> World2 {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let world = World::generate(WorldParams::new(
            seed,
            dossiers,
            faults,
            tthc_sync::sync::local_now(),
        ));
        let sims = rt.block_on(Simulators::start(world, 0, 0)).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let config = TestConfig::sims(&sims, dir.path(), &dir.path().join("tthc-sync.db"));
        World2 {
            sims,
            dir,
            config,
            _rt: rt,
        }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Writes a config for the simulators with the database at `db`; returns its path. Loopback
    /// needs no rate limits; the look-up budget covers the whole world.
    pub fn config_for(&self, name: &str, db: &Path) -> PathBuf {
        self.config
            .clone()
            .set("service.database", db.display().to_string())
            .write(&self.path(name))
    }

    /// Every world dossier id whose last modification (as served now) is at or before `mark`.
    pub fn ids_up_to(&self, mark: &str) -> Vec<String> {
        let world = &self.sims.world;
        world
            .dossiers
            .iter()
            .filter(|d| {
                tthc_sync::model::fmt_time(&self.sims.control.updated_at(d)).as_str() <= mark
            })
            .map(|d| d.id.clone())
            .collect()
    }
}

/// `tthc-sync --config CONFIG sync --once`, stdout and stderr to files next to the config.
pub fn sync_command(config: &Path, log: &Path) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.arg("--config")
        .arg(config)
        .arg("sync")
        .arg("--once")
        .env("TTHC_SYNC_LOG", "info")
        .env("NO_COLOR", "1")
        .env_remove("JOURNAL_STREAM")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(log).unwrap());
    cmd
}

pub fn spawn_sync(config: &Path, log: &Path) -> Child {
    sync_command(config, log).spawn().expect("start tthc-sync")
}

/// Runs `sync --once` to completion; returns (exit code, stderr).
pub fn run_sync(config: &Path, log: &Path) -> (i32, String, Duration) {
    let t0 = Instant::now();
    let status = sync_command(config, log).status().expect("run tthc-sync");
    let took = t0.elapsed();
    (
        status.code().unwrap_or(-1),
        std::fs::read_to_string(log).unwrap_or_default(),
        took,
    )
}

/// Opens the database read-only with a busy timeout.
pub fn open_ro(db: &Path) -> Connection {
    let c = Connection::open_with_flags(db, OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap();
    c.busy_timeout(Duration::from_secs(10)).unwrap();
    c
}

/// After a kill: a read-write connection, which (like the next run) rolls back a hot journal
/// left by a process killed mid-transaction before WAL mode was on. A read-only connection
/// cannot, and fails with "attempt to write a readonly database".
pub fn open_after_kill(db: &Path) -> Connection {
    let c = Connection::open(db).unwrap();
    c.busy_timeout(Duration::from_secs(10)).unwrap();
    c
}

pub fn integrity(db: &Path) -> String {
    let c = open_after_kill(db);
    let mut stmt = c.prepare("PRAGMA integrity_check").unwrap();
    let rows: Vec<String> = stmt
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    rows.join("\n")
}

/// True when the database has its tables (a kill may come before they exist).
pub fn has_schema(db: &Path) -> bool {
    if !db.exists() {
        return false;
    }
    let c = open_after_kill(db);
    c.query_row("PRAGMA user_version", [], |r| r.get::<_, i64>(0))
        .unwrap()
        >= tthc_sync::store::MIGRATIONS.len() as i64
}

pub type DiscSet = BTreeSet<(String, String, String)>;

/// (dossier id, kind, state) of every discrepancy.
pub fn discrepancy_set(db: &Path) -> DiscSet {
    let c = open_ro(db);
    let mut stmt = c
        .prepare("SELECT dossier_id, kind, state FROM discrepancy")
        .unwrap();
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

/// Checks that no provincial mark is ahead of the rows it covers: every world dossier modified
/// at or before a mark's value is stored. Returns the marks checked.
pub fn check_marks(w: &World2, db: &Path, context: &str) -> Vec<(String, String)> {
    let c = open_ro(db);
    let marks: Vec<(String, String)> = c
        .prepare("SELECT source, value FROM watermark WHERE source LIKE 'provincial:%'")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let stored: HashSet<String> = c
        .prepare("SELECT dossier_id FROM provincial_dossier")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    for (source, value) in &marks {
        let covered = w.ids_up_to(value);
        let missing: Vec<&String> = covered.iter().filter(|id| !stored.contains(*id)).collect();
        assert!(
            missing.is_empty(),
            "{context}: mark {source} = {value} is ahead of the rows: {} of {} covered dossiers \
             are not stored (first: {:?})",
            missing.len(),
            covered.len(),
            missing.first()
        );
    }
    marks
}

/// (id, outcome, error) of every run.
pub fn runs(db: &Path) -> Vec<(i64, String, Option<String>)> {
    let c = open_ro(db);
    let mut stmt = c
        .prepare("SELECT id, outcome, error FROM sync_run ORDER BY id")
        .unwrap();
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

/// The score of the stored discrepancies against the world's ground truth.
pub fn score(w: &World2, db: &Path) -> tthc_sync::demo::Score {
    let store = tthc_sync::store::Store::open(db).unwrap();
    tthc_sync::demo::score_against_truth(&store, &w.sims.world).unwrap()
}

pub fn assert_perfect(w: &World2, db: &Path, context: &str) {
    let s = score(w, db);
    assert!(
        s.false_positives.is_empty() && s.missed.is_empty() && s.injected > 0,
        "{context}: injected {}, false positives {:?}, missed {:?}",
        s.injected,
        s.false_positives,
        s.missed
    );
}

/// SIGKILL, then reap.
pub fn kill9(child: &mut Child) {
    // SAFETY: sending a signal to our own child, whose pid is not yet reaped.
    unsafe {
        libc::kill(child.id() as libc::pid_t, libc::SIGKILL);
    }
    let _ = child.wait();
}

pub fn output_text(o: &Output) -> String {
    format!(
        "status {:?}\nstdout:\n{}\nstderr:\n{}",
        o.status,
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// A private mount namespace kept alive by a `sleep` in it (`unshare -m`): the test mounts a
/// tmpfs or a read-only bind there with `nsenter`, runs the binary inside it, and reads its
/// files through `/proc/<pid>/root`. `None` when this machine does not allow it (not root, no
/// CAP_SYS_ADMIN, no util-linux).
pub struct MountNs {
    holder: Child,
}

impl MountNs {
    pub fn new() -> Option<MountNs> {
        let holder = Command::new("unshare")
            .args(["-m", "--propagation", "private", "sleep", "3600"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .ok()?;
        let ns = MountNs { holder };
        // Wait until the holder is in its own namespace (its exec of sleep).
        let mine = std::fs::read_link("/proc/self/ns/mnt").ok()?;
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(5) {
            let theirs = std::fs::read_link(format!("/proc/{}/ns/mnt", ns.pid())).ok();
            let comm = std::fs::read_to_string(format!("/proc/{}/comm", ns.pid())).ok();
            if theirs.is_some_and(|t| t != mine) && comm.is_some_and(|c| c.trim() == "sleep") {
                return Some(ns);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }

    pub fn pid(&self) -> u32 {
        self.holder.id()
    }

    /// A command run inside the namespace.
    pub fn command(&self, program: &str) -> Command {
        let mut c = Command::new("nsenter");
        c.arg("-t")
            .arg(self.pid().to_string())
            .arg("-m")
            .arg("--")
            .arg(program);
        c
    }

    /// Runs a command inside the namespace, panicking when it fails.
    pub fn run(&self, program: &str, args: &[&str]) {
        let o = self.command(program).args(args).output().unwrap();
        assert!(
            o.status.success(),
            "{program} {args:?} in the namespace: {}",
            output_text(&o)
        );
    }

    /// `path` as the namespace sees it, reachable from outside for plain file access. (SQLite
    /// cannot open a database through it: it resolves the `/proc/<pid>/root` link to `/`, our
    /// own root; see [`MountNs::copy_db_out`].)
    pub fn outside(&self, path: &Path) -> PathBuf {
        let rel = path.strip_prefix("/").unwrap();
        PathBuf::from(format!("/proc/{}/root", self.pid())).join(rel)
    }

    /// Copies the database at `db` inside the namespace (with its `-wal` and `-shm`, byte for
    /// byte, while no process has it open) to `to` outside; returns `to`.
    pub fn copy_db_out(&self, db: &Path, to: &Path) -> PathBuf {
        for suffix in ["", "-wal", "-shm"] {
            let dst = PathBuf::from(format!("{}{suffix}", to.display()));
            let _ = std::fs::remove_file(&dst);
            let src = self.outside(&PathBuf::from(format!("{}{suffix}", db.display())));
            if src.exists() {
                std::fs::copy(&src, &dst).unwrap();
            }
        }
        to.to_path_buf()
    }
}

impl Drop for MountNs {
    fn drop(&mut self) {
        let _ = self.holder.kill();
        let _ = self.holder.wait();
    }
}
