//! Opens the example report's DOCX in a real word processor: LibreOffice converts it to PDF,
//! poppler's `pdftoppm` renders the first page to PNG, and the test checks both came out with
//! the pages expected. Needs `soffice` (Debian `libreoffice-writer-nogui`) and `pdftoppm`
//! (`poppler-utils`), which `.ci/run` installs:
//!
//! ```sh
//! cargo test --test it report_docx_office
//! # keep the first page:
//! REPORT_DOCX_SCREENSHOT=docs/img/report-docx.png cargo test --test it report_docx_office
//! ```

use std::path::Path;
use std::process::Command;
use tthc_sync::report::{render, DocumentSettings, Format, MonthlyReport};

#[test]
fn docx_report_opens_in_libreoffice() {
    let dir = tempfile::tempdir().unwrap();
    let (name, bytes) = render(
        &MonthlyReport::example(),
        Format::Docx,
        &DocumentSettings::default(),
    )
    .unwrap()
    .remove(0);
    let docx = dir.path().join(&name);
    std::fs::write(&docx, bytes).unwrap();

    let profile = dir.path().join("lo-profile");
    let out = Command::new("soffice")
        .arg(format!(
            "-env:UserInstallation=file://{}",
            profile.display()
        ))
        .args(["--headless", "--convert-to", "pdf", "--outdir"])
        .arg(dir.path())
        .arg(&docx)
        .output()
        .expect("soffice starts (Debian package libreoffice-writer-nogui)");
    assert!(
        out.status.success(),
        "soffice failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let pdf = docx.with_extension("pdf");
    let pdf_bytes = std::fs::read(&pdf).expect("PDF written");
    assert!(pdf_bytes.starts_with(b"%PDF-"));
    // The letter (portrait) and the appendices (landscape) make several pages.
    let info = Command::new("pdfinfo")
        .arg(&pdf)
        .output()
        .expect("pdfinfo starts (Debian package poppler-utils)");
    let info = String::from_utf8_lossy(&info.stdout).to_string();
    let pages: u32 = info
        .lines()
        .find_map(|l| l.strip_prefix("Pages:"))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or_else(|| panic!("no page count in {info}"));
    assert!(pages >= 4, "{pages} pages");

    let stem = dir.path().join("page");
    let out = Command::new("pdftoppm")
        .args(["-png", "-r", "80", "-f", "1", "-l", "1", "-singlefile"])
        .arg(&pdf)
        .arg(&stem)
        .output()
        .expect("pdftoppm starts (Debian package poppler-utils)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let png = stem.with_extension("png");
    let bytes = std::fs::read(&png).expect("PNG written");
    assert!(bytes.starts_with(b"\x89PNG\r\n\x1a\n"));
    // A4 portrait at 80 dpi: 661 × 935.
    let width = u32::from_be_bytes(bytes[16..20].try_into().unwrap());
    let height = u32::from_be_bytes(bytes[20..24].try_into().unwrap());
    assert!(
        (650..=670).contains(&width) && (925..=945).contains(&height),
        "{width}×{height}"
    );
    assert!(
        bytes.len() > 20_000,
        "page suspiciously small: {} bytes",
        bytes.len()
    );

    if let Some(keep) = std::env::var_os("REPORT_DOCX_SCREENSHOT") {
        let keep = Path::new(env!("CARGO_MANIFEST_DIR")).join(keep);
        std::fs::create_dir_all(keep.parent().unwrap()).unwrap();
        std::fs::copy(&png, &keep).unwrap();
    }
}
