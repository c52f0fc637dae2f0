//! Renders the example report's HTML page in headless Chromium and checks a screenshot comes
//! out. Needs `/usr/bin/chromium` (Debian package `chromium`), so it is ignored by default:
//!
//! ```sh
//! cargo test --test report_html_browser -- --ignored
//! # keep the screenshot:
//! REPORT_SCREENSHOT=docs/img/report-html.png cargo test --test report_html_browser -- --ignored
//! ```

use std::path::Path;
use std::process::Command;
use tthc_sync::report::{render, Format, MonthlyReport};

const CHROMIUM: &str = "/usr/bin/chromium";

#[test]
#[ignore = "needs /usr/bin/chromium"]
fn html_report_renders_in_headless_chromium() {
    if !Path::new(CHROMIUM).exists() {
        eprintln!("{CHROMIUM} not found: skipping");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (name, html) = render(&MonthlyReport::example(), Format::Html)
        .unwrap()
        .pop()
        .unwrap();
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
        .expect("chromium starts");
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

    if let Some(keep) = std::env::var_os("REPORT_SCREENSHOT") {
        let keep = Path::new(env!("CARGO_MANIFEST_DIR")).join(keep);
        std::fs::create_dir_all(keep.parent().unwrap()).unwrap();
        std::fs::copy(&png, &keep).unwrap();
    }
}
