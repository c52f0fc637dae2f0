//! `tthc-sync run` as a process: the real binary against the portal simulators (served by this
//! test process), driven with signals, observed through its database, its stderr, the systemd
//! notify protocol and its health endpoint. Every wait is a bounded poll, never a fixed sleep.

use std::os::unix::net::UnixDatagram;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tthc_sync::sim::{Simulators, World, WorldParams};

use crate::support::config::TestConfig;

/// Long enough for a slow CI machine; the loops end as soon as the condition holds.
pub(crate) const PATIENCE: Duration = Duration::from_secs(90);

pub(crate) struct Fixture {
    dir: tempfile::TempDir,
    /// Held: the simulators serve while the fixture lives.
    _sims: Simulators,
    /// The simulators' config (`TestConfig::sims`), its passwords under `dir`.
    config: TestConfig,
}

impl Fixture {
    pub(crate) async fn new(seed: u64) -> Fixture {
        let world = World::generate(WorldParams::new(
            seed,
            300,
            0.03,
            tthc_sync::sync::local_now(),
        ));
        let sims = Simulators::start(world, 0, 0).await.unwrap();
        let dir = tempfile::tempdir().unwrap();
        let config = TestConfig::sims(&sims, dir.path(), &dir.path().join("tthc-sync.db"))
            .set("national.lookups_per_second", 1000.0);
        Fixture {
            dir,
            _sims: sims,
            config,
        }
    }

    pub(crate) fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub(crate) fn db(&self) -> PathBuf {
        self.path("tthc-sync.db")
    }

    fn config_path(&self) -> PathBuf {
        self.path("tthc-sync.toml")
    }

    /// The config: the simulators, no rate limits, `lookups_per_cycle`, and fast schedules
    /// (sync every 2 s, housekeeping every 3 s, the first sync at once).
    pub(crate) fn config(&self, lookups_per_cycle: i64) -> TestConfig {
        self.config
            .clone()
            .set("national.lookups_per_cycle", lookups_per_cycle)
            .set("daemon.sync_schedule", "*/2 * * * * *")
            .set("daemon.housekeeping_schedule", "*/3 * * * * *")
            .set("daemon.run_missed_at_startup", true)
    }

    /// Writes the config file the service reads (whole, then renamed, as an editor would: the
    /// service never sees half a file).
    pub(crate) fn write(&self, config: TestConfig) {
        config.write(&self.config_path());
    }

    /// Starts `tthc-sync run` with stderr in `stderr.log`, outside systemd unless `env` says.
    pub(crate) fn start(&self, env: &[(&str, String)]) -> Service {
        let stderr = std::fs::File::create(self.path("stderr.log")).unwrap();
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_tthc-sync"));
        cmd.arg("--config")
            .arg(self.config_path())
            .arg("run")
            .env("TTHC_SYNC_LOG", "info")
            .env("NO_COLOR", "1")
            .env_remove("NOTIFY_SOCKET")
            .env_remove("WATCHDOG_USEC")
            .env_remove("WATCHDOG_PID")
            .env_remove("JOURNAL_STREAM")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(stderr);
        for (k, v) in env {
            cmd.env(k, v);
        }
        Service {
            child: cmd.spawn().expect("start tthc-sync run"),
            log: self.path("stderr.log"),
        }
    }

    fn try_query_i64(&self, sql: &str) -> rusqlite::Result<i64> {
        let conn = rusqlite::Connection::open_with_flags(
            self.db(),
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
        )?;
        conn.busy_timeout(Duration::from_secs(10))?;
        conn.query_row(sql, [], |r| r.get(0))
    }

    fn query_i64(&self, sql: &str) -> i64 {
        self.try_query_i64(sql).unwrap()
    }

    /// For polls: 0 until the service has created the database and its tables.
    fn poll_i64(&self, sql: &str) -> i64 {
        if !self.db().exists() {
            return 0;
        }
        self.try_query_i64(sql).unwrap_or(0)
    }

    /// Finished sync runs (ok or partial).
    pub(crate) fn sync_runs(&self) -> i64 {
        self.poll_i64(
            "SELECT count(*) FROM sync_run WHERE job = 'sync' AND outcome IN ('ok', 'partial')",
        )
    }
}

pub(crate) struct Service {
    child: Child,
    log: PathBuf,
}

impl Service {
    pub(crate) fn signal(&self, name: &str) {
        let status = Command::new("kill")
            .arg(format!("-{name}"))
            .arg(self.child.id().to_string())
            .status()
            .unwrap();
        assert!(status.success(), "kill -{name}");
    }

    /// The service's process id.
    pub(crate) fn pid(&self) -> u32 {
        self.child.id()
    }

    pub(crate) fn stderr(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Waits for exit; panics (after killing it) if it takes longer than `limit`.
    pub(crate) async fn wait_exit(&mut self, limit: Duration) -> ExitStatus {
        let start = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            if start.elapsed() > limit {
                let _ = self.child.kill();
                panic!(
                    "tthc-sync run did not exit within {limit:?}; stderr:\n{}",
                    self.stderr()
                );
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Polls `cond` every 100 ms until it holds; panics with `what` and the service's stderr after
/// [`PATIENCE`] or if the service exits.
pub(crate) async fn wait_for(svc: &mut Service, what: &str, mut cond: impl FnMut() -> bool) {
    let start = Instant::now();
    loop {
        if cond() {
            return;
        }
        if let Some(status) = svc.child.try_wait().unwrap() {
            panic!(
                "service exited ({status}) while waiting for {what}; stderr:\n{}",
                svc.stderr()
            );
        }
        assert!(
            start.elapsed() < PATIENCE,
            "timed out waiting for {what}; stderr:\n{}",
            svc.stderr()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

pub(crate) fn integrity_ok(db: &Path) {
    let conn = rusqlite::Connection::open(db).unwrap();
    let ok: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(ok, "ok");
    let running: i64 = conn
        .query_row(
            "SELECT count(*) FROM sync_run WHERE outcome = 'running'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(running, 0, "a run was left `running`");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runs_on_schedule_reloads_on_sighup_and_stops_cleanly_on_sigterm() {
    let fx = Fixture::new(4242).await;
    fx.write(fx.config(5));
    let mut svc = fx.start(&[]);

    // Runs on schedule: the first at once (never succeeded: catch-up), then every 2 s.
    wait_for(&mut svc, "2 sync runs", || fx.sync_runs() >= 2).await;
    wait_for(&mut svc, "a housekeeping run", || {
        fx.poll_i64("SELECT count(*) FROM sync_run WHERE job = 'housekeeping' AND outcome = 'ok'")
            >= 1
    })
    .await;
    let max_lookups = fx
        .query_i64("SELECT max(lookups) FROM sync_run WHERE job = 'sync' AND outcome != 'running'");
    assert!(
        (1..=5).contains(&max_lookups),
        "lookups_per_cycle = 5, got {max_lookups}"
    );
    let log = svc.stderr();
    assert!(log.contains("job started"), "{log}");
    assert!(log.contains("job finished"), "{log}");

    // SIGHUP with a valid change: later runs use the new budget.
    fx.write(fx.config(40));
    svc.signal("HUP");
    wait_for(&mut svc, "a sync run with more than 5 look-ups", || {
        fx.poll_i64("SELECT count(*) FROM sync_run WHERE job = 'sync' AND lookups > 5") >= 1
    })
    .await;
    let log = svc.stderr();
    assert!(log.contains("configuration reloaded"), "{log}");
    assert!(log.contains("changed=national"), "{log}");

    // SIGHUP with a broken file: the error names the key, the old config keeps running.
    fx.write(
        fx.config(40)
            .set("daemon.sync_schedule", "every now and then"),
    );
    svc.signal("HUP");
    let log_path = svc.log.clone();
    wait_for(&mut svc, "the reload error", || {
        std::fs::read_to_string(&log_path)
            .unwrap_or_default()
            .contains("reload failed")
    })
    .await;
    let log = svc.stderr();
    let line = log
        .lines()
        .find(|l| l.contains("reload failed"))
        .unwrap()
        .to_owned();
    assert!(line.contains("ERROR"), "{line}");
    assert!(line.contains("daemon.sync_schedule"), "{line}");
    assert!(line.contains("every now and then"), "{line}");
    let before = fx.sync_runs();
    wait_for(&mut svc, "2 more sync runs on the old config", || {
        fx.sync_runs() >= before + 2
    })
    .await;

    // SIGTERM: clean exit 0 well within systemd's TimeoutStopSec=30.
    let t0 = Instant::now();
    svc.signal("TERM");
    let status = svc.wait_exit(Duration::from_secs(30)).await;
    assert!(status.success(), "{status}; stderr:\n{}", svc.stderr());
    assert!(t0.elapsed() < Duration::from_secs(30));
    assert!(svc.stderr().contains("stopped"), "{}", svc.stderr());
    integrity_ok(&fx.db());
}

/// Collects the datagrams sent to a notify socket.
struct NotifyListener {
    messages: Arc<Mutex<Vec<String>>>,
}

impl NotifyListener {
    fn bind(path: &Path) -> NotifyListener {
        let sock = UnixDatagram::bind(path).unwrap();
        sock.set_read_timeout(Some(Duration::from_millis(200)))
            .unwrap();
        let messages = Arc::new(Mutex::new(Vec::new()));
        let sink = messages.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            loop {
                match sock.recv(&mut buf) {
                    Ok(n) => sink
                        .lock()
                        .unwrap()
                        .push(String::from_utf8_lossy(&buf[..n]).into_owned()),
                    Err(e)
                        if matches!(
                            e.kind(),
                            std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                        ) =>
                    {
                        // the test is over when nobody holds the list any more
                        if Arc::strong_count(&sink) == 1 {
                            return;
                        }
                    }
                    Err(_) => return,
                }
            }
        });
        NotifyListener { messages }
    }

    fn all(&self) -> Vec<String> {
        self.messages.lock().unwrap().clone()
    }

    fn count(&self, prefix: &str) -> usize {
        self.all().iter().filter(|m| m.starts_with(prefix)).count()
    }

    fn position(&self, prefix: &str) -> Option<usize> {
        self.all().iter().position(|m| m.starts_with(prefix))
    }
}

pub(crate) fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn speaks_the_notify_protocol_and_serves_health() {
    let fx = Fixture::new(77).await;
    let port = free_port();
    fx.write(
        fx.config(20)
            .set("daemon.http_listen", format!("127.0.0.1:{port}"))
            .set("daemon.sync_max_age_minutes", 90),
    );
    let notify = NotifyListener::bind(&fx.path("notify.sock"));
    let mut svc = fx.start(&[
        (
            "NOTIFY_SOCKET",
            fx.path("notify.sock").display().to_string(),
        ),
        ("WATCHDOG_USEC", "2000000".into()),
    ]);

    wait_for(&mut svc, "READY=1", || notify.count("READY=1") >= 1).await;
    wait_for(&mut svc, "a STATUS= after a sync run", || {
        notify
            .all()
            .iter()
            .any(|m| m.starts_with("STATUS=sync ok") || m.starts_with("STATUS=sync partial"))
    })
    .await;
    // WATCHDOG_USEC = 2 s: pings every second from the loop.
    wait_for(&mut svc, "several WATCHDOG=1", || {
        notify.count("WATCHDOG=1") >= 3
    })
    .await;
    assert!(notify.position("READY=1") < notify.position("WATCHDOG=1"));
    let status = notify
        .all()
        .into_iter()
        .find(|m| m.starts_with("STATUS=sync"))
        .unwrap();
    assert!(status.contains("look-ups"), "{status}");
    assert!(status.contains("next sync"), "{status}");

    // Health and metrics on the configured loopback port.
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    let healthz = client.get(format!("{base}/healthz")).send().await.unwrap();
    assert_eq!(healthz.status(), 200);
    let body = healthz.text().await.unwrap();
    assert!(body.starts_with("ok\n"), "{body}");
    assert!(body.contains("job sync: last success"), "{body}");
    assert!(body.contains("job housekeeping:"), "{body}");
    let metrics = client
        .get(format!("{base}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let ok_runs = metrics
        .lines()
        .find(|l| l.starts_with("tthc_sync_job_runs_total{job=\"sync\",outcome=\"ok\"}"))
        .unwrap_or_else(|| panic!("{metrics}"));
    assert_ne!(ok_runs.rsplit(' ').next(), Some("0"), "{metrics}");
    let lookups = metrics
        .lines()
        .find(|l| l.starts_with("tthc_sync_national_lookups_total "))
        .unwrap_or_else(|| panic!("{metrics}"));
    assert_ne!(lookups.rsplit(' ').next(), Some("0"), "{metrics}");
    assert!(
        metrics.contains("tthc_sync_open_discrepancies{kind="),
        "{metrics}"
    );
    assert!(
        metrics.contains("# TYPE tthc_sync_http_errors_total counter"),
        "{metrics}"
    );
    // The provincial pull: it read pages and rows and reached the end.
    for (gauge, not) in [
        ("tthc_sync_provincial_pull_pages{", " 0"),
        ("tthc_sync_provincial_pull_rows{", " 0"),
        ("tthc_sync_provincial_pull_reached_end{", " 0"),
    ] {
        assert!(
            metrics
                .lines()
                .any(|l| l.starts_with(gauge) && !l.ends_with(not)),
            "{gauge}: {metrics}"
        );
    }
    assert!(
        metrics.contains("tthc_sync_provincial_pulls_total{mode=\"sweep\",reached_end=\"yes\"}"),
        "{metrics}"
    );
    // The last sync's freshness of the national view, as it stored it on its run.
    let p95 = metrics
        .lines()
        .find(|l| l.starts_with("tthc_sync_national_view_freshness_p95_seconds "))
        .unwrap_or_else(|| panic!("no freshness gauge: {metrics}"));
    let stored = fx.query_i64(
        "SELECT freshness_p95_s FROM sync_run WHERE job = 'sync' AND freshness_p95_s IS NOT NULL
         ORDER BY id DESC LIMIT 1",
    );
    assert_eq!(
        p95.rsplit(' ').next(),
        Some(stored.to_string().as_str()),
        "{metrics}"
    );

    // SIGHUP: RELOADING=1, then READY=1 again.
    svc.signal("HUP");
    wait_for(&mut svc, "RELOADING=1 then READY=1", || {
        notify.count("RELOADING=1") == 1 && notify.count("READY=1") == 2
    })
    .await;
    assert!(notify
        .all()
        .iter()
        .any(|m| m.starts_with("RELOADING=1\nMONOTONIC_USEC=")));

    // SIGTERM: STOPPING=1 and a clean exit.
    svc.signal("TERM");
    let status = svc.wait_exit(Duration::from_secs(30)).await;
    assert!(status.success(), "{status}; stderr:\n{}", svc.stderr());
    wait_for_messages(&notify, "STOPPING=1").await;
    integrity_ok(&fx.db());
}

/// The service has exited; its last datagrams may still be on their way to the listener.
async fn wait_for_messages(notify: &NotifyListener, prefix: &str) {
    let start = Instant::now();
    while notify.count(prefix) == 0 {
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "no {prefix}: {:?}",
            notify.all()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_still_running_after_the_grace_period_is_cancelled_and_recorded() {
    let fx = Fixture::new(5).await;
    // The provincial "system" accepts connections and never answers: the sync hangs.
    let black_hole = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let hole = format!("http://{}", black_hole.local_addr().unwrap());
    fx.write(
        fx.config(5)
            .set("daemon.stop_grace_seconds", 1)
            .set("provincial.api_url", hole.as_str())
            .set("provincial.sso_url", hole.as_str()),
    );
    let mut svc = fx.start(&[]);
    wait_for(&mut svc, "a sync run in progress", || {
        fx.poll_i64("SELECT count(*) FROM sync_run WHERE job = 'sync' AND outcome = 'running'") == 1
    })
    .await;
    let t0 = Instant::now();
    svc.signal("TERM");
    let status = svc.wait_exit(Duration::from_secs(30)).await;
    assert!(status.success(), "{status}; stderr:\n{}", svc.stderr());
    // 1 s of grace, not the 3 × 5 s the hanging requests would take
    assert!(t0.elapsed() < Duration::from_secs(10), "{:?}", t0.elapsed());
    let log = svc.stderr();
    assert!(log.contains("cancelling the running job"), "{log}");
    integrity_ok(&fx.db());
    let interrupted = fx.query_i64(
        "SELECT count(*) FROM sync_run WHERE job = 'sync' AND outcome = 'failed'
         AND error LIKE 'interrupted%'",
    );
    assert_eq!(interrupted, 1, "{log}");
    drop(black_hole);
}
