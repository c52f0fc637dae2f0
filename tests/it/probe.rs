//! `tthc-sync probe` against the simulators: the demo world probes clean, and each profile or
//! config mismatch, injected one at a time, is reported by name with its exit code — while no
//! value of any row (ids, codes, names, officials, applicants, injected markers) appears in
//! the report or in the files written.

use std::process::Command;

use serde_json::{json, Value};
use tthc_sync::config::Config;
use tthc_sync::probe::{self, ProbeOptions, ProbeReport, Reach};
use tthc_sync::sim::{Simulators, World, WorldParams};
use tthc_sync::source::LoginProblem;

use crate::support::config::TestConfig;

async fn sims() -> Simulators {
    let world = World::generate(WorldParams::new(
        11,
        300,
        0.03,
        tthc_sync::sync::local_now(),
    ));
    Simulators::start(world, 0, 0).await.unwrap()
}

fn options() -> ProbeOptions {
    ProbeOptions {
        rows: 250,
        lookups: 20,
        scores_month: None,
    }
}

/// Every value of every simulated row that the output must never show.
fn row_values(sims: &Simulators) -> Vec<String> {
    let w = &sims.world;
    let mut out = Vec::new();
    for d in &w.dossiers {
        out.extend([
            d.id.clone(),
            d.local_code.clone(),
            d.national_code.clone(),
            d.handler.clone(),
            d.applicant.fullname.clone(),
            d.applicant.identity_number.clone(),
            d.applicant.phone.clone(),
            d.applicant.address.clone(),
            d.applicant.email.clone(),
            w.procedure(d).code.clone(),
            w.agency(d).code.clone(),
        ]);
    }
    out.retain(|v| v.len() >= 4);
    out.sort();
    out.dedup();
    out
}

fn assert_no_value(sims: &Simulators, what: &str, text: &str) {
    assert!(
        !text.contains("MARKER"),
        "{what} holds an injected value:\n{text}"
    );
    for v in row_values(sims) {
        assert!(
            !text.contains(&v),
            "{what} holds the row value `{v}`:\n{text}"
        );
    }
}

async fn run(sims: &Simulators, cfg: &Config) -> (ProbeReport, String) {
    let report = probe::probe(cfg, &options()).await.unwrap();
    let text = probe::text::render(&report);
    let dir = tempfile::tempdir().unwrap();
    let mut all = text.clone();
    for path in probe::write_files(&report, dir.path()).unwrap() {
        all.push_str(&std::fs::read_to_string(path).unwrap());
    }
    assert_no_value(sims, "the report or the files", &all);
    (report, text)
}

fn config(sims: &Simulators, dir: &std::path::Path, edit: fn(TestConfig) -> TestConfig) -> Config {
    edit(TestConfig::sims(sims, dir, &dir.join("never.db"))).config()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_world_probes_clean() {
    let sims = sims().await;
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(&sims, dir.path(), |c| c);
    let (report, text) = run(&sims, &cfg).await;
    assert_eq!(report.exit_code(), 0, "{text}");
    assert_eq!(report.provincial, Reach::Ok);
    assert_eq!(report.national, Reach::Ok);
    let s = report.sample.as_ref().unwrap();
    assert_eq!(s.rows, 250, "{text}");
    assert!(report.pages >= 2, "{text}");
    let n = report.lookups.as_ref().unwrap();
    assert_eq!(n.asked, 20, "{text}");
    assert!(n.found > 0 && n.rows_in.len() == 2, "{text}");
    let scores = report.scores.as_ref().unwrap();
    assert!(scores.province_found && scores.rows.unwrap() > 1, "{text}");
    assert!(
        text.contains("The profile covers everything seen."),
        "{text}"
    );
    assert!(
        !dir.path().join("never.db").exists(),
        "the probe never creates the database"
    );
}

/// A vendor whose rows differ from the profile, one difference at a time.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_row_mismatch_is_named_with_exit_3() {
    type Edit = fn(usize, &mut Value);
    let cases: [(&str, Edit, &str); 4] = [
        (
            "an unknown status label",
            |i, r| {
                if i % 5 == 0 {
                    r["dossierStatus"]["name"] = json!("Chờ phê duyệt");
                }
            },
            "status \"Chờ phê duyệt\"",
        ),
        (
            "a renamed field",
            |_, r| {
                let o = r.as_object_mut().unwrap();
                let v = o.remove("appointmentDate").unwrap();
                o.insert("dueDate".into(), v);
            },
            "fields.due_at = \"appointmentDate\": found in none of 250 rows",
        ),
        (
            "a new date format",
            |_, r| {
                if let Some(s) = r["acceptedDate"].as_str().map(str::to_string) {
                    // 2024-08-14T09:30:00.000+0700 → 14/08/2024 09:30
                    r["acceptedDate"] =
                        json!(format!("{}/{}/{} {}", &s[8..10], &s[5..7], &s[0..4], &s[11..16]));
                }
            },
            "fields.received_at: ",
        ),
        (
            "an extra key holding personal data",
            |i, r| {
                r["nguoiNopHoSo"] =
                    json!({"hoTen": format!("MARKER-NAME-{i}"), "soDinhDanh": format!("MARKER-ID-{i}")});
            },
            "key `nguoiNopHoSo.hoTen` (250 rows) is neither mapped nor kept: may hold personal data",
        ),
    ];
    for (name, edit, want) in cases {
        let sims = sims().await;
        sims.control.knobs().provincial_row_edit = Some(edit);
        let dir = tempfile::tempdir().unwrap();
        let cfg = config(&sims, dir.path(), |c| c);
        let (report, text) = run(&sims, &cfg).await;
        assert_eq!(report.exit_code(), 3, "{name}:\n{text}");
        assert!(
            report.to_adapt().iter().any(|l| l.starts_with(want)),
            "{name}: want `{want}` in:\n{text}"
        );
        assert!(text.contains(want), "{name}:\n{text}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_new_date_format_is_shown_as_a_pattern_and_suggested() {
    let sims = sims().await;
    sims.control.knobs().provincial_row_edit = Some(|_, r| {
        if let Some(s) = r["acceptedDate"].as_str().map(str::to_string) {
            r["acceptedDate"] = json!(format!(
                "{}/{}/{} {}",
                &s[8..10],
                &s[5..7],
                &s[0..4],
                &s[11..16]
            ));
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(&sims, dir.path(), |c| c);
    let report = probe::probe(&cfg, &options()).await.unwrap();
    let text = probe::text::render(&report);
    assert!(text.contains("shaped `date dd/MM/yyyy HH:mm`"), "{text}");
    let suggested = probe::files::suggested_profile(&report);
    assert!(
        suggested.contains("add \"%d/%m/%Y %H:%M\" to date_formats"),
        "{suggested}"
    );
}

/// Settings the portals refuse: each named, exit 1 (a side cannot be reached), or exit 3 for
/// a scores unit the published API does not know.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_refused_setting_is_named() {
    type Edit = fn(TestConfig) -> TestConfig;
    /// What is refused, the side and problem it must be named as, the exit code, the key the
    /// report must name.
    type Case = (
        &'static str,
        Edit,
        &'static str,
        Option<LoginProblem>,
        u8,
        &'static str,
    );
    let cases: [Case; 6] = [
        (
            "a wrong realm",
            |c| c.set("provincial.realm", "dien-bien"),
            "provincial",
            Some(LoginProblem::Realm),
            1,
            "provincial.realm",
        ),
        (
            "a wrong client",
            |c| c.set("provincial.client_id", "web-motcua"),
            "provincial",
            Some(LoginProblem::Client),
            1,
            "provincial.client_id",
        ),
        (
            "a wrong provincial user",
            |c| c.set("provincial.username", "someone"),
            "provincial",
            Some(LoginProblem::Credentials),
            1,
            "provincial.username",
        ),
        (
            "a wrong dstcode",
            |c| c.set("national.dstcode", "DBN"),
            "national",
            Some(LoginProblem::Dstcode),
            1,
            "national.dstcode",
        ),
        (
            "a wrong madonvi",
            |c| c.set("national.madonvi", "000.00.00.H99"),
            "national",
            Some(LoginProblem::Madonvi),
            1,
            "national.madonvi",
        ),
        (
            "a scores province that is not found",
            |c| {
                c.set(
                    "scores.root_department_id",
                    "00000000-0000-0000-0000-000000000000",
                )
            },
            "scores",
            None,
            3,
            "check scores.root_department_id",
        ),
    ];
    for (name, edit, side, problem, code, want) in cases {
        let sims = sims().await;
        let dir = tempfile::tempdir().unwrap();
        let cfg = config(&sims, dir.path(), edit);
        let (report, text) = run(&sims, &cfg).await;
        assert_eq!(report.exit_code(), code, "{name}:\n{text}");
        let reach = match side {
            "provincial" => &report.provincial,
            "national" => &report.national,
            _ => &Reach::Ok,
        };
        match (problem, reach) {
            (Some(want), Reach::Failed { problem, .. }) => {
                assert_eq!(*problem, want, "{name}:\n{text}")
            }
            (None, Reach::Ok) => {}
            (p, r) => panic!("{name}: want {p:?}, got {r:?}\n{text}"),
        }
        assert!(text.contains(want), "{name}: want `{want}` in:\n{text}");
    }
}

/// The real binary: exit 3 with the extra key named, the files written under `--out`, no
/// value anywhere, no database created; exit 1 when the provincial host does not answer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_binary_reports_writes_files_and_exits() {
    let sims = sims().await;
    sims.control.knobs().provincial_row_edit = Some(|i, r| {
        r["hoSoDinhKem"] = json!([{"tenNguoiKy": format!("MARKER-SIGNER-{i}")}]);
    });
    let dir = tempfile::tempdir().unwrap();
    let cfg_path = TestConfig::sims(&sims, dir.path(), &dir.path().join("never.db"))
        .write(&dir.path().join("tthc-sync.toml"));
    let out_dir = dir.path().join("probe-out");
    let bin = env!("CARGO_BIN_EXE_tthc-sync");
    let cfg_arg = cfg_path.clone();
    let out_arg = out_dir.clone();
    let out = tokio::task::spawn_blocking(move || {
        Command::new(bin)
            .arg("--config")
            .arg(&cfg_arg)
            .args(["probe", "--rows", "120", "--lookups", "5", "--out"])
            .arg(&out_arg)
            .env("TTHC_SYNC_LOG", "debug")
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert_eq!(out.status.code(), Some(3), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("key `hoSoDinhKem[0].tenNguoiKy` (120 rows) is neither mapped nor kept"),
        "{stdout}"
    );
    let sample = std::fs::read_to_string(out_dir.join("redacted-sample.json")).unwrap();
    let suggested = std::fs::read_to_string(out_dir.join("suggested-profile.toml")).unwrap();
    assert!(sample.contains("\"hoSoDinhKem[].tenNguoiKy\""), "{sample}");
    assert!(
        suggested.contains("\"hoSoDinhKem[0].tenNguoiKy\""),
        "{suggested}"
    );
    assert!(
        suggested.contains("[statuses]"),
        "the built-in profile is the base"
    );
    assert_no_value(
        &sims,
        "stdout, stderr and files",
        &format!("{stdout}{stderr}{sample}{suggested}"),
    );
    assert!(!dir.path().join("never.db").exists());

    // The provincial side down: exit 1, the side named.
    sims.control.knobs().provincial_down = true;
    let out = tokio::task::spawn_blocking(move || {
        Command::new(bin)
            .arg("--config")
            .arg(&cfg_path)
            .args(["probe", "--lookups", "1"])
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("provincial: FAILED"), "{stdout}");
}
