//! The real binary, as a user runs it.

use std::process::Command;

use crate::support::config::TestConfig;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_tthc-sync"))
}

#[test]
fn demo_runs_and_its_database_can_be_reviewed() {
    let dir = tempfile::tempdir().unwrap();
    let out = bin()
        .args(["demo", "--dossiers", "600", "--seed", "5", "--dir"])
        .arg(dir.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("precision 100.0%, recall 100.0%"),
        "{stdout}"
    );
    assert!(
        stdout.contains("Hồ sơ tại tỉnh (provincial dossiers):      600"),
        "{stdout}"
    );
    let db = dir.path().join("tthc-sync.db");

    let out = bin()
        .arg("--database")
        .arg(&db)
        .args(["discrepancies", "--format", "json"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let rows: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert!(!rows.is_empty());
    for key in [
        "id",
        "dossier_code",
        "kind",
        "state",
        "agency_code",
        "provincial",
        "national",
        "first_seen",
        "last_seen",
    ] {
        assert!(rows[0].get(key).is_some(), "missing {key} in {}", rows[0]);
    }
    // The default lists medium and above, and counts the low ones in one line.
    for r in &rows {
        assert_ne!(r["severity"], "low", "{r}");
    }
    let out = bin()
        .arg("--database")
        .arg(&db)
        .args(["discrepancies", "--all", "--format", "json"])
        .output()
        .unwrap();
    let all: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    let low = all.iter().filter(|r| r["severity"] == "low").count();
    assert!(low > 0, "the demo world has collapsed statuses (low)");
    assert_eq!(all.len(), rows.len() + low);
    let out = bin()
        .arg("--database")
        .arg(&db)
        .arg("discrepancies")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains(&format!(
            "{low} more of severity low not listed: --severity low or --all lists them"
        )),
        "{text}"
    );
    let impacts: Vec<f64> = rows
        .iter()
        .map(|r| r["score_impact"].as_f64().unwrap())
        .collect();
    assert!(
        impacts.windows(2).all(|w| w[0] >= w[1]),
        "sorted by impact: {impacts:?}"
    );

    let out = bin()
        .arg("--database")
        .arg(&db)
        .args([
            "discrepancies",
            "--format",
            "csv",
            "--kind",
            "missing_on_national",
        ])
        .output()
        .unwrap();
    let csv = String::from_utf8(out.stdout).unwrap();
    assert!(csv.starts_with("id,dossier_code,kind,state"));
    assert!(csv
        .lines()
        .skip(1)
        .all(|l| l.contains(",missing_on_national,")));

    let id = rows[0]["id"].as_i64().unwrap().to_string();
    let out = bin()
        .arg("--database")
        .arg(&db)
        .args([
            "discrepancy",
            "ack",
            &id,
            "--by",
            "Lò Văn IT",
            "--note",
            "đã báo nhà cung cấp",
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    let out = bin()
        .arg("--database")
        .arg(&db)
        .args(["discrepancy", "show", &id])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("acknowledged") && text.contains("Lò Văn IT"),
        "{text}"
    );

    let code = rows[0]["dossier_code"].as_str().unwrap();
    let out = bin()
        .arg("--database")
        .arg(&db)
        .args(["dossier", code])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && text.contains("Trên Cổng DVCQG"),
        "{text}"
    );
}

#[test]
fn a_broken_config_is_refused_with_the_key_to_fix() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        (
            TestConfig::example().set("provincial.page_size", 0).text(),
            "provincial.page_size",
        ),
        (TestConfig::example().set("national.foo", 1).text(), "foo"),
        // Not TOML at all: the error names the file.
        ("[service\n".to_string(), "tthc-sync.toml"),
    ];
    for (text, key) in cases {
        let path = dir.path().join("tthc-sync.toml");
        std::fs::write(&path, text).unwrap();
        let out = bin()
            .arg("--config")
            .arg(&path)
            .arg("check-config")
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success());
        assert!(err.contains(key), "{err} should name {key}");
    }
    let out = bin()
        .args(["--config", "/nonexistent/tthc-sync.toml", "check-config"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/tthc-sync.toml"));
}

#[test]
fn every_table_and_column_is_documented_for_other_tools() {
    let store = tthc_sync::store::Store::open_in_memory().unwrap();
    let doc = include_str!("../../docs/schema.md");
    let mut stmt = store
        .conn()
        .prepare("SELECT name FROM sqlite_master WHERE type IN ('table', 'view') ORDER BY name")
        .unwrap();
    let names: Vec<String> = stmt
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    for name in names {
        assert!(
            doc.contains(&format!("`{name}`")),
            "docs/schema.md lacks `{name}`"
        );
        let cols: Vec<String> = store
            .conn()
            .prepare(&format!("SELECT name FROM pragma_table_info('{name}')"))
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        for c in cols {
            assert!(doc.contains(&c), "docs/schema.md lacks column {name}.{c}");
        }
    }
}
