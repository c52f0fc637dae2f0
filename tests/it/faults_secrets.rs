//! Secrets and personal data: a full cycle of the real binary, for each provincial profile,
//! with everything logged (`TTHC_SYNC_LOG=trace`, text and JSON) and a few faults on the way
//! (errors are where secrets leak), with a known password for both portals. No log line may
//! hold the password, a citizen's name, ID number, phone, address or e-mail, or an official's
//! name; no column of the database may hold the password or a citizen's personal data.

use std::process::Command;

use tthc_sync::demo::write_config;
use tthc_sync::sim::{
    NationalFault, NationalFaultPlan, PageFault, PageFaultPlan, SimProfile, Simulators, World,
    WorldParams,
};
use tthc_sync::store::Store;

use crate::support::config::TestConfig;

const PASSWORD: &str = "S3cret-Passw0rd!";

/// Every TEXT value of every table.
fn all_text(store: &Store) -> Vec<(String, String, String)> {
    let conn = store.conn();
    let tables: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table'")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let mut out = Vec::new();
    for t in tables {
        let mut stmt = conn.prepare(&format!("SELECT * FROM \"{t}\"")).unwrap();
        let names: Vec<String> = stmt.column_names().iter().map(|s| s.to_string()).collect();
        let mut rows = stmt.query([]).unwrap();
        while let Some(row) = rows.next().unwrap() {
            for (i, name) in names.iter().enumerate() {
                if let rusqlite::types::ValueRef::Text(b) = row.get_ref(i).unwrap() {
                    out.push((t.clone(), name.clone(), String::from_utf8_lossy(b).into()));
                }
            }
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_or_personal_data_in_logs_or_database() {
    let mut lines_checked = 0usize;
    let mut values_checked = 0usize;
    for profile in SimProfile::ALL {
        for format in ["text", "json"] {
            let world = World::generate(WorldParams::new(
                17,
                150,
                0.05,
                tthc_sync::sync::local_now(),
            ));
            let sims = Simulators::start_with(world, profile, 0, 0).await.unwrap();
            {
                let mut k = sims.control.knobs();
                k.national_password = Some(PASSWORD.into());
                k.provincial_password = Some(PASSWORD.into());
                // Error paths too: a failed page, a refused session, bad replies, 500s.
                k.provincial_page_faults = vec![PageFaultPlan {
                    fault: PageFault::Status(500),
                    page: None,
                    times: Some(1),
                }];
                k.national_session_floor = 1;
                k.national_faults = vec![NationalFaultPlan {
                    fault: NationalFault::InvalidJson,
                    service: Some("TraCuuHoSo"),
                    times: Some(2),
                }];
                for d in sims.world.dossiers.iter().step_by(15) {
                    k.national_failing_codes.insert(d.national_code.clone());
                }
            }
            let dir = tempfile::tempdir().unwrap();
            let db = dir.path().join("tthc-sync.db");
            let cfg = sims.config(dir.path(), &db).unwrap();
            let path = dir.path().join("tthc-sync.toml");
            write_config(&cfg, &path).unwrap();
            let units: Vec<String> = sims.world.agencies.iter().map(|a| a.code.clone()).collect();
            let config = TestConfig::load(&path)
                .set("national.list_units", units)
                .set("national.lookups_per_second", 1000.0)
                .set("national.http.rate_per_second", 0.0)
                .set("national.http.max_in_flight_per_host", 4)
                .set("national.http.backoff_initial_ms", 5)
                .set("national.http.backoff_max_ms", 20)
                .set("provincial.http.rate_per_second", 0.0)
                .set("provincial.http.backoff_initial_ms", 5)
                .set("provincial.http.backoff_max_ms", 20);
            assert!(
                !config.text().contains(PASSWORD),
                "the config holds no password"
            );
            config.write(&path);

            let bin = env!("CARGO_BIN_EXE_tthc-sync");
            let out = tokio::task::spawn_blocking(move || {
                Command::new(bin)
                    .arg("--config")
                    .arg(&path)
                    .args(["--log-format", format, "sync", "--once"])
                    .env("TTHC_SYNC_LOG", "trace")
                    .env_remove("JOURNAL_STREAM")
                    .output()
                    .unwrap()
            })
            .await
            .unwrap();
            let logs = format!(
                "{}{}",
                String::from_utf8_lossy(&out.stderr),
                String::from_utf8_lossy(&out.stdout)
            );
            let code = out.status.code();
            assert!(
                matches!(code, Some(0) | Some(2)),
                "{profile:?} {format}: exit {code:?}\n{logs}"
            );
            assert!(logs.contains("sync run finished"), "{logs}");
            assert!(logs.contains("TraCuuHoSo"), "trace logging is on");
            assert!(sims.control.hits("login") >= 2, "re-login happened");

            let mut forbidden: Vec<(&str, String)> = vec![("password", PASSWORD.to_string())];
            for d in &sims.world.dossiers {
                let a = &d.applicant;
                forbidden.push(("citizen name", a.fullname.clone()));
                forbidden.push(("ID number", a.identity_number.clone()));
                forbidden.push(("phone", a.phone.clone()));
                forbidden.push(("address", a.address.clone()));
                forbidden.push(("e-mail", a.email.clone()));
                forbidden.push(("official's name", d.handler.clone()));
            }
            for line in logs.lines() {
                lines_checked += 1;
                for (what, value) in &forbidden {
                    assert!(
                        !line.contains(value.as_str()),
                        "{profile:?} {format}: {what} {value:?} logged: {line}"
                    );
                }
            }

            // The database: officials' names are allowed; a citizen's name only where it is
            // also an official's (the simulated names share one pool).
            let store = Store::open(&db).unwrap();
            let handlers: std::collections::HashSet<&str> = sims
                .world
                .dossiers
                .iter()
                .map(|d| d.handler.as_str())
                .collect();
            let values = all_text(&store);
            assert!(values.iter().any(|(t, _, _)| t == "provincial_history"));
            for (table, column, value) in &values {
                values_checked += 1;
                for (what, pii) in &forbidden {
                    if *what == "official's name"
                        || (*what == "citizen name" && handlers.contains(pii.as_str()))
                    {
                        continue;
                    }
                    assert!(
                        !value.contains(pii.as_str()),
                        "{profile:?}: {what} {pii:?} stored in {table}.{column}: {value}"
                    );
                }
            }
        }
    }
    eprintln!(
        "secrets: {lines_checked} log lines and {values_checked} database values checked, \
         6 runs"
    );
}
