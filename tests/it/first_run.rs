//! The first-run walk's commands run by hand, outside the service (docs/first-run.md): with
//! `$CREDENTIALS_DIRECTORY` unset, `check-config` (and `probe`, `sync --once`, which read the
//! passwords the same way) find the credentials in the sources the installed unit's
//! `LoadCredential=` lines name — here the repository's unit with its sources moved to a temp
//! dir, named by `TTHC_SYNC_UNIT` — and say exactly what to do when they cannot.

use std::path::Path;
use std::process::{Command, Output};

use crate::support::config::TestConfig;

const UNIT: &str = include_str!("../../systemd/tthc-sync.service");

fn check_config(config: &Path, unit: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tthc-sync"))
        .arg("--config")
        .arg(config)
        .arg("check-config")
        .env_remove("CREDENTIALS_DIRECTORY")
        .env("TTHC_SYNC_UNIT", unit)
        .output()
        .unwrap()
}

#[test]
fn check_config_by_hand_reads_the_units_credential_sources() {
    let dir = tempfile::tempdir().unwrap();
    let creds = dir.path().join("credentials");
    std::fs::create_dir(&creds).unwrap();
    let unit = dir.path().join("tthc-sync.service");
    std::fs::write(
        &unit,
        UNIT.replace("/etc/tthc-sync/credentials", &creds.display().to_string()),
    )
    .unwrap();
    // The example config as installed: passwords are systemd credentials.
    let config = TestConfig::example()
        .set(
            "service.database",
            dir.path().join("db").display().to_string(),
        )
        .write(&dir.path().join("tthc-sync.toml"));

    // The sources are missing: the error names the credential, the file, and what to do.
    let out = check_config(&config, &unit);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains("provincial.password_*")
            && stderr.contains("provincial-password")
            && stderr.contains("run with sudo"),
        "{stderr}"
    );

    for name in ["provincial-password", "national-password"] {
        std::fs::write(creds.join(name), "a-secret\n").unwrap();
    }
    let out = check_config(&config, &unit);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains(": ok"), "{stdout}");
    assert!(!stdout.contains("a-secret") && !stderr.contains("a-secret"));

    // A unit without the LoadCredential= line: the error says where it looked.
    let bare = dir.path().join("bare.service");
    std::fs::write(&bare, "[Service]\nExecStart=/usr/bin/tthc-sync run\n").unwrap();
    let out = check_config(&config, &bare);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains("LoadCredential=provincial-password:<file>")
            && stderr.contains("bare.service"),
        "{stderr}"
    );
}
