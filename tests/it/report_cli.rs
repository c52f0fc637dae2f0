//! `tthc-sync report` and the demo's report, as a user runs them.

use std::path::PathBuf;
use std::process::Command;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_tthc-sync"))
}

#[test]
fn demo_writes_the_months_report_and_report_writes_any_format() {
    let dir = tempfile::tempdir().unwrap();
    let out = bin()
        .args(["demo", "--dossiers", "400", "--seed", "9", "--dir"])
        .arg(dir.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    let written: Vec<PathBuf> = stdout
        .lines()
        .filter_map(|l| l.strip_prefix("report:"))
        .map(|p| PathBuf::from(p.trim()))
        .collect();
    // The official document and the IT annex, in Markdown and HTML.
    assert_eq!(written.len(), 4, "{stdout}");
    for p in &written {
        assert_eq!(p.parent().unwrap(), dir.path());
        assert!(p.exists(), "{}", p.display());
    }
    let md = std::fs::read_to_string(&written[0]).unwrap();
    assert!(md.contains("\n# BÁO CÁO\n"), "{md}");
    assert!(md.starts_with("| UBND TỈNH ĐIỆN BIÊN | CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM |"));
    // The month of the demo's report, from its file name.
    let name = written[0]
        .file_name()
        .unwrap()
        .to_string_lossy()
        .to_string();
    let month = name
        .trim_start_matches("bao-cao-tien-do-")
        .trim_end_matches(".md")
        .to_string();

    let out_dir = dir.path().join("out");
    let agencies = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("config/agencies/dien-bien.toml");
    let out = bin()
        .arg("--database")
        .arg(dir.path().join("tthc-sync.db"))
        .args(["report", "--month", &month, "--format", "xlsx,csv", "--out"])
        .arg(&out_dir)
        .arg("--agencies")
        .arg(&agencies)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let files: Vec<&str> = stdout
        .lines()
        .filter(|l| l.starts_with(out_dir.to_str().unwrap()))
        .collect();
    assert_eq!(files.len(), 5, "one XLSX and four CSV: {stdout}");
    assert!(files.iter().all(|f| std::path::Path::new(f).exists()));

    let out = bin()
        .arg("--database")
        .arg(dir.path().join("tthc-sync.db"))
        .args(["report", "--month", "2026-13"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("YYYY-MM"));
}
