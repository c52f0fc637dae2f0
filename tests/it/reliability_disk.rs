//! The disk fills, or the database is read-only: the real `tthc-sync sync --once` fails with a
//! clear error naming the database, exits non-zero, leaves the database intact with nothing
//! already stored lost, and the next run, once space or permission is back, completes and
//! converges to an uninterrupted run.
//!
//! Both use a private mount namespace (`unshare -m`, kept alive by a `sleep`; commands enter it
//! with `nsenter`): a read-only bind mount, since root (the tests run as root) ignores file
//! permissions and `chmod` would prove nothing; and a small tmpfs, a real `ENOSPC` rather than
//! SQLite's `max_page_count`, so no test hook is needed in the service. Where the machine does
//! not allow mount namespaces (not root, no CAP_SYS_ADMIN) the tests say so and skip.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::support::reliability::*;

fn namespace() -> Option<MountNs> {
    let ns = MountNs::new();
    if ns.is_none() {
        eprintln!("SKIPPED: no private mount namespace here (needs root and util-linux)");
    }
    ns
}

/// `sync --once` inside the namespace; returns (exit code, stderr).
fn sync_in(ns: &MountNs, config: &Path, log: &Path) -> (i32, String) {
    let status = ns
        .command(BIN)
        .arg("--config")
        .arg(config)
        .args(["sync", "--once"])
        .env("TTHC_SYNC_LOG", "info")
        .env("NO_COLOR", "1")
        .env_remove("JOURNAL_STREAM")
        .stdout(std::process::Stdio::null())
        .stderr(std::fs::File::create(log).unwrap())
        .status()
        .unwrap();
    (
        status.code().unwrap_or(-1),
        std::fs::read_to_string(log).unwrap_or_default(),
    )
}

/// dossier id → row hash of the provincial view; code → status of the national view.
fn stored(db: &Path) -> (BTreeMap<String, String>, BTreeMap<String, Option<i64>>) {
    let c = open_ro(db);
    let p = c
        .prepare("SELECT dossier_id, row_hash FROM provincial_dossier")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let n = c
        .prepare("SELECT code, status_code FROM national_dossier")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    (p, n)
}

/// The last line of stderr that says "error".
fn error_line(stderr: &str) -> String {
    stderr
        .lines()
        .rev()
        .find(|l| l.contains("error"))
        .unwrap_or_default()
        .to_string()
}

#[test]
fn a_read_only_database_fails_clearly_and_the_next_run_completes() {
    let Some(ns) = namespace() else { return };
    let w = World2::new(9101, 1500, 0.03);
    let dir = w.path("data");
    std::fs::create_dir(&dir).unwrap();
    let db = dir.join("tthc-sync.db");
    let config = w.config_for("ro.toml", &db);
    let (code, stderr, _) = run_sync(&config, &w.path("first.log"));
    assert_eq!(code, 0, "{stderr}");
    let reference = discrepancy_set(&db);
    let before = stored(&db);
    let runs_before = runs(&db);

    let mut figures = Vec::new();
    // The database file alone, then its whole directory, read-only (inside the namespace).
    for (what, target) in [("database file", db.clone()), ("directory", dir.clone())] {
        let t = target.display().to_string();
        ns.run("mount", &["--bind", &t, &t]);
        ns.run("mount", &["-o", "remount,bind,ro", &t]);
        let (code, stderr) = sync_in(&ns, &config, &w.path("ro.log"));
        ns.run("umount", &[&t]);
        let line = error_line(&stderr);
        eprintln!("read-only {what}: exit {code}; {line}");
        assert_ne!(code, 0, "read-only {what}: the run must fail:\n{stderr}");
        assert!(
            line.contains(&db.display().to_string()),
            "read-only {what}: the error names the database:\n{stderr}"
        );
        let lower = line.to_lowercase();
        assert!(
            lower.contains("readonly")
                || lower.contains("read-only")
                || lower.contains("read only"),
            "read-only {what}: the error says why:\n{stderr}"
        );
        // Intact, and nothing changed.
        assert_eq!(integrity(&db), "ok");
        assert_eq!(stored(&db), before);
        assert_eq!(runs(&db), runs_before);
        figures.push((what, code));
    }

    // Permission back: the next run completes and agrees.
    let (code, stderr, _) = run_sync(&config, &w.path("after.log"));
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(integrity(&db), "ok");
    assert_eq!(discrepancy_set(&db), reference);
    assert_perfect(&w, &db, "after the read-only runs");
}

/// Free bytes of the file system holding `path`.
fn free_bytes(path: &Path) -> u64 {
    let c = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).unwrap();
    // SAFETY: a valid NUL-terminated path and a zeroed out-struct.
    unsafe {
        let mut s: libc::statvfs = std::mem::zeroed();
        assert_eq!(libc::statvfs(c.as_ptr(), &mut s), 0);
        s.f_bavail as u64 * s.f_frsize as u64
    }
}

#[test]
fn a_full_disk_fails_the_run_clearly_loses_nothing_and_recovers() {
    let Some(ns) = namespace() else { return };
    let w = World2::new(9201, 2000, 0.03);

    // The reference: an uninterrupted run on a fresh database on the ordinary disk.
    let ref_db = w.path("reference.db");
    let ref_cfg = w.config_for("reference.toml", &ref_db);
    let (code, stderr, _) = run_sync(&ref_cfg, &w.path("reference.log"));
    assert_eq!(code, 0, "{stderr}");
    let reference = discrepancy_set(&ref_db);

    // A 64 MiB tmpfs for the database, visible only inside the namespace.
    let dir = w.path("disk");
    std::fs::create_dir(&dir).unwrap();
    let d = dir.display().to_string();
    ns.run("mount", &["-t", "tmpfs", "-o", "size=64m", "tmpfs", &d]);
    let db = dir.join("tthc-sync.db");
    let copy = w.path("copy.db");
    let db_out = || -> PathBuf { ns.copy_db_out(&db, &copy) };
    let config = w.config_for("disk.toml", &db);

    // Run 1: the portal is down, so only the provincial side is stored (partial).
    w.sims.control.knobs().national_down = true;
    let (code, stderr) = sync_in(&ns, &config, &w.path("run1.log"));
    assert_eq!(code, 2, "{stderr}");
    w.sims.control.knobs().national_down = false;
    let before = stored(&db_out());
    assert_eq!(before.0.len(), 2000);

    // The disk fills: a file takes all but 1 MiB.
    let filler = ns.outside(&dir.join("filler"));
    let margin = 1024 * 1024;
    let fill = free_bytes(&ns.outside(&dir)) - margin;
    std::fs::write(&filler, vec![0u8; fill as usize]).unwrap();

    // Run 2 hits the full disk while storing look-ups.
    let (code, stderr) = sync_in(&ns, &config, &w.path("run2.log"));
    let line = error_line(&stderr);
    eprintln!("disk full (1 MiB left): exit {code}; {line}");
    assert_ne!(code, 0, "{stderr}");
    assert!(
        line.contains(&db.display().to_string()) && line.contains("full"),
        "the error names the database and says it is full:\n{stderr}"
    );
    assert_eq!(integrity(&db_out()), "ok");
    let during = stored(&db_out());
    assert_eq!(during.0, before.0, "provincial rows lost or changed");
    let national_during = during.1.len();

    // Space returns: the next run completes and converges.
    std::fs::remove_file(&filler).unwrap();
    let (code, stderr) = sync_in(&ns, &config, &w.path("run3.log"));
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(integrity(&db_out()), "ok");
    let all = runs(&db_out());
    assert_eq!(all.len(), 3, "{all:?}");
    assert_eq!(
        all[1].1, "failed",
        "the run that hit the full disk: {all:?}"
    );
    // Its own error when recording the end still fit, else closed as interrupted by run 3.
    let why = all[1].2.clone().unwrap_or_default();
    assert!(why.contains("full") || why.contains("interrupted"), "{why}");
    assert_eq!(all[2].1, "ok");
    let after = stored(&db_out());
    assert!(after.1.len() >= national_during);
    assert_eq!(discrepancy_set(&db_out()), reference);
    assert_perfect(&w, &db_out(), "after the disk-full run");
    eprintln!(
        "disk full: {} national views were stored before the disk filled; {} after recovery; \
         runs {:?}",
        national_during,
        after.1.len(),
        all.iter().map(|r| (&r.1, &r.2)).collect::<Vec<_>>()
    );
}
