//! The audit trail of manual changes, through the real binary: `discrepancy ack` and `resolve`
//! need a note, record the operating-system user beside `--by` and what the discrepancy showed,
//! log the actor (not the note); the event log refuses UPDATE and DELETE from any client.

use std::path::Path;
use std::process::{Command, Output};

fn bin(db: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tthc-sync"));
    cmd.arg("--database")
        .arg(db)
        .env("TTHC_SYNC_LOG", "info")
        .env("NO_COLOR", "1")
        .env_remove("SUDO_USER");
    cmd
}

fn show(db: &Path, id: &str) -> serde_json::Value {
    let out = bin(db)
        .args(["discrepancy", "show", id, "--format", "json"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    serde_json::from_slice(&out.stdout).unwrap()
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// The name of this process's real uid, as `id -un` says.
fn uid_name() -> String {
    let out = Command::new("id").arg("-un").output().unwrap();
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

#[test]
fn ack_and_resolve_keep_who_why_and_what_was_seen_in_an_append_only_log() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_tthc-sync"))
        .args(["demo", "--dossiers", "200", "--seed", "11", "--dir"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    let db = dir.path().join("tthc-sync.db");
    let out = bin(&db)
        .args(["discrepancies", "--all", "--format", "json"])
        .output()
        .unwrap();
    let rows: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    let row = rows
        .iter()
        .find(|r| r["state"] == "open")
        .expect("an open discrepancy");
    let id = row["id"].as_i64().unwrap().to_string();
    let events_before = show(&db, &id)["events"].as_array().unwrap().len();

    // No note, a blank note: refused, nothing recorded.
    let out = bin(&db)
        .args(["discrepancy", "ack", &id, "--by", "Lò Văn IT"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(text(&out).contains("--note"), "{}", text(&out));
    let out = bin(&db)
        .args([
            "discrepancy",
            "ack",
            &id,
            "--by",
            "Lò Văn IT",
            "--note",
            " ",
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(text(&out).contains("--note must say why"), "{}", text(&out));
    assert_eq!(
        show(&db, &id)["events"].as_array().unwrap().len(),
        events_before
    );

    // Through sudo: SUDO_USER is the person.
    let note = "đã báo nhà cung cấp, phiếu 4471";
    let out = bin(&db)
        .env("SUDO_USER", "lvit")
        .args([
            "discrepancy",
            "ack",
            &id,
            "--by",
            "Lò Văn IT",
            "--note",
            note,
        ])
        .output()
        .unwrap();
    let all = text(&out);
    assert!(out.status.success(), "{all}");
    assert!(
        all.contains("acknowledged by Lò Văn IT (operating-system user lvit)"),
        "{all}"
    );
    // Logged: who (both names); not the note.
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(
        log.contains("discrepancy changed by hand") && log.contains("lvit"),
        "{log}"
    );
    assert!(log.contains("Lò Văn IT"), "{log}");
    assert!(!log.contains("phiếu 4471"), "{log}");

    // Without sudo: the name of the uid.
    let out = bin(&db)
        .args([
            "discrepancy",
            "resolve",
            &id,
            "--by",
            "Trần Thị B",
            "--note",
            "đã sửa trên Cổng",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));

    // What the person saw is kept with the event, even after the discrepancy changes.
    let conn = rusqlite::Connection::open(&db).unwrap();
    conn.execute(
        "UPDATE discrepancy SET provincial_value = 'later', severity = 'low' WHERE id = ?1",
        [&id],
    )
    .unwrap();
    let shown = show(&db, &id);
    let events = shown["events"].as_array().unwrap();
    let ack = &events[events.len() - 2];
    assert_eq!(ack["event"], "acknowledged");
    assert_eq!(ack["actor"], "Lò Văn IT");
    assert_eq!(ack["os_user"], "lvit");
    assert_eq!(ack["note"], note);
    assert_eq!(ack["seen"]["state"], "open");
    assert_eq!(ack["seen"]["provincial"], row["provincial"]);
    assert_eq!(ack["seen"]["national"], row["national"]);
    assert_eq!(ack["seen"]["severity"], row["severity"]);
    assert_eq!(ack["seen"]["score_impact"], row["score_impact"]);
    let resolve = &events[events.len() - 1];
    assert_eq!(resolve["event"], "resolved");
    assert_eq!(resolve["os_user"].as_str(), Some(uid_name().as_str()));
    assert_eq!(resolve["seen"]["state"], "acknowledged");
    assert_eq!(resolve["seen"]["provincial"], row["provincial"]);
    assert_eq!(shown["discrepancy"]["provincial"], "later");

    // Any client of the database: events cannot be changed or deleted.
    let count = |conn: &rusqlite::Connection| -> i64 {
        conn.query_row("SELECT count(*) FROM discrepancy_event", [], |r| r.get(0))
            .unwrap()
    };
    let total = count(&conn);
    for sql in [
        "UPDATE discrepancy_event SET actor = 'nobody'",
        "UPDATE discrepancy_event SET note = NULL WHERE event = 'acknowledged'",
        "DELETE FROM discrepancy_event WHERE event = 'resolved'",
        "DELETE FROM discrepancy_event",
    ] {
        let err = conn.execute(sql, []).unwrap_err().to_string();
        assert!(
            err.contains("discrepancy_event is append-only"),
            "{sql}: {err}"
        );
    }
    assert_eq!(count(&conn), total);
    let shown_again = show(&db, &id);
    assert_eq!(shown_again["events"], shown["events"]);

    // The table view shows who and what was seen.
    let out = bin(&db)
        .args(["discrepancy", "show", &id])
        .output()
        .unwrap();
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(table.contains("Lò Văn IT [lvit]"), "{table}");
    assert!(table.contains("đã thấy (seen): open"), "{table}");
}
