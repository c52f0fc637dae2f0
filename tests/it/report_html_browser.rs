//! Renders the example report's HTML page in headless Chromium and checks a screenshot comes
//! out. Needs `/usr/bin/chromium` (Debian package `chromium`, which `.ci/run` installs); without
//! it the tests fail, naming the package to install.
//!
//! ```sh
//! cargo test --test it report_html_browser
//! # keep the screenshot:
//! REPORT_SCREENSHOT=docs/img/report-html.png cargo test --test it report_html_browser
//! # the report built from a simulated month (simulators + one sync cycle):
//! REPORT_DEMO_SCREENSHOT=docs/img/report-demo.png cargo test --test it report_html_browser
//! ```

use std::path::Path;
use std::process::Command;
use tthc_sync::report::{render, DocumentSettings, Format, MonthlyReport};

const CHROMIUM: &str = "/usr/bin/chromium";

#[test]
fn html_report_renders_in_headless_chromium() {
    screenshot(&MonthlyReport::example(), "REPORT_SCREENSHOT");
}

/// The report built from the store after one sync cycle against the simulators.
#[test]
fn built_report_of_a_simulated_month_renders_in_headless_chromium() {
    use std::sync::Arc;
    use tthc_sync::calendar::Calendar;
    use tthc_sync::model::YearMonth;
    use tthc_sync::report::agencies;
    use tthc_sync::sim::{Simulators, World, WorldParams};
    use tthc_sync::store::Store;
    use tthc_sync::sync::{self, Clients, Clock};

    let now = chrono::NaiveDate::from_ymd_opt(2026, 11, 20)
        .unwrap()
        .and_hms_opt(15, 30, 0)
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let report = rt.block_on(async {
        let world = World::generate(WorldParams::new(2024, 3000, 0.03, now));
        let sims = Simulators::start(world, 0, 0).await.unwrap();
        let cfg = sims.config(dir.path(), &dir.path().join("t.db")).unwrap();
        let mut store = Store::open(&cfg.service.database).unwrap();
        let clients = Clients::new(&cfg).unwrap();
        let clock: Clock = Arc::new(move || now + chrono::Duration::minutes(5));
        sync::run_cycle(&mut store, &cfg, &clients, &clock)
            .await
            .unwrap();
        store
            .upsert_agencies(&agencies::parse_agencies(agencies::DIEN_BIEN_TOML).unwrap())
            .unwrap();
        tthc_sync::report::build(
            &store,
            YearMonth::of(&now),
            clock(),
            &Calendar::builtin(),
            "Điện Biên",
        )
        .unwrap()
    });
    assert!(report.national_view.counted > 1000);
    screenshot(&report, "REPORT_DEMO_SCREENSHOT");
}

/// Renders `report` as HTML, screenshots it in headless Chromium and checks the picture; keeps
/// it where the environment variable `keep_var` says.
fn screenshot(report: &MonthlyReport, keep_var: &str) {
    if !Path::new(CHROMIUM).exists() {
        eprintln!("{CHROMIUM} not found: skipping");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    // The official document (the IT annex is the second file).
    let (name, html) = render(report, Format::Html, &DocumentSettings::default())
        .unwrap()
        .remove(0);
    let page = dir.path().join(name);
    std::fs::write(&page, html).unwrap();
    let png = dir.path().join("out.png");
    let profile = dir.path().join("profile");

    let output = Command::new(CHROMIUM)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(format!("--screenshot={}", png.display()))
        .arg("--window-size=1200,1800")
        .arg(format!("file://{}", page.display()))
        .output()
        .unwrap_or_else(|e| {
            panic!("{CHROMIUM} does not start ({e}): install Debian's package `chromium`")
        });
    assert!(
        output.status.success(),
        "chromium failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );

    let bytes = std::fs::read(&png).expect("screenshot written");
    assert!(bytes.starts_with(b"\x89PNG\r\n\x1a\n"), "not a PNG");
    // IHDR: width and height, big-endian, at bytes 16..24.
    let width = u32::from_be_bytes(bytes[16..20].try_into().unwrap());
    let height = u32::from_be_bytes(bytes[20..24].try_into().unwrap());
    assert_eq!((width, height), (1200, 1800));
    // A blank page compresses to a few kilobytes; text, tables and a chart do not.
    assert!(
        bytes.len() > 50_000,
        "screenshot suspiciously small: {} bytes",
        bytes.len()
    );

    if let Some(keep) = std::env::var_os(keep_var) {
        let keep = Path::new(env!("CARGO_MANIFEST_DIR")).join(keep);
        std::fs::create_dir_all(keep.parent().unwrap()).unwrap();
        std::fs::copy(&png, &keep).unwrap();
    }
}
