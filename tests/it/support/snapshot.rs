//! Snapshot checks (insta) of the files the report writes, under `tests/it/snapshots/`, named by
//! the file name (`NAME.snap`). Shared by the integration tests and the report's unit tests
//! (`src/report/mod.rs` includes this file).
//!
//! A mismatch fails the test and, outside CI, leaves `NAME.snap.new` beside the snapshot;
//! `INSTA_UPDATE=always cargo test` rewrites the snapshots after an intended change (then review
//! the diff). CI runs with `INSTA_UPDATE=no`: nothing is written there, a missing snapshot fails.
//!
//! insta compares text with CRLF read as LF and the trailing whitespace trimmed; the bytes it
//! does not see are checked here, per kind of file: its line breaks and its exact ending.

use std::path::Path;

/// Checks `bytes`, a text file the report writes (or a text dump of a binary one), against the
/// snapshot `name`.
pub fn check(name: &str, bytes: &[u8]) {
    let text = std::str::from_utf8(bytes)
        .unwrap_or_else(|e| panic!("{name}: a text snapshot must be UTF-8: {e}"));
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/it/snapshots"));
    settings.set_prepend_module_to_snapshot(false);
    settings.bind(|| insta::assert_snapshot!(name, text));

    let (line_break, ending) = form(name);
    let crlf = text.matches("\r\n").count();
    let breaks_ok = match line_break {
        "\r\n" => crlf == text.matches('\n').count(),
        _ => crlf == 0,
    };
    assert!(breaks_ok, "{name}: every line break must be {line_break:?}");
    assert_eq!(
        &text[text.trim_end().len()..],
        ending,
        "{name}: how the file ends"
    );
}

/// The line break and the exact ending of each kind of file: CSV for spreadsheets (CRLF), the
/// Markdown report (its last block followed by an empty line), the rest one LF at the end.
fn form(name: &str) -> (&'static str, &'static str) {
    match Path::new(name).extension().and_then(|e| e.to_str()) {
        Some("csv") => ("\r\n", "\r\n"),
        Some("md") => ("\n", "\n\n"),
        _ => ("\n", "\n"),
    }
}
