//! The files `tthc-sync probe --out DIR` writes, as text: a redacted sample (key paths, types
//! and shapes, never a value; safe to send to the vendor or keep with the profile) and a
//! suggested profile (the profile in use with what the sample showed added as commented lines,
//! for the engineer to review), rendered by pure functions and written by [`write_files`].

use std::path::{Path, PathBuf};

use serde_json::json;

use super::analysis::{chrono_format, FieldCoverage};
use super::driver::{ProbeError, ProbeReport};

/// The redacted sample as pretty JSON: the profile, the coverage of its fields, every leaf
/// path of the sampled rows with its shapes, the national replies' shapes, the scores check.
/// No value of any row, not even a status label.
pub fn redacted_sample(r: &ProbeReport) -> String {
    let sample = r.sample.as_ref();
    let coverage: Vec<_> = sample
        .map(|s| s.coverage.iter().map(coverage_json).collect())
        .unwrap_or_default();
    let v = json!({
        "written_by": "tthc-sync probe",
        "profile": r.profile,
        "profile_source": r.profile_source,
        "rows": sample.map(|s| s.rows).unwrap_or(0),
        "pages": r.pages,
        "fields": coverage,
        "paths": r.shapes,
        "statuses": sample.map(|s| json!({
            "distinct": s.statuses.len(),
            "unmapped": s.statuses.iter().filter(|x| x.maps_to.is_none()).count(),
        })),
        "unparsed_dates": sample.map(|s| &s.unparsed_dates),
        "unlisted_paths": sample.map(|s| &s.unlisted),
        "personal_data_keys_seen": sample.map(|s| &s.personal_seen),
        "without_national_code": sample.map(|s| s.without_national_code),
        "malformed_national_codes": sample.map(|s| &s.malformed_national_codes),
        "national": r.lookups,
        "scores": r.scores.as_ref().map(|s| json!({
            "api": s.api, "month": s.month, "rows": s.rows,
            "province_found": s.province_found, "unreachable": s.unreachable,
        })),
    });
    serde_json::to_string_pretty(&v).unwrap_or_default() + "\n"
}

fn coverage_json(c: &FieldCoverage) -> serde_json::Value {
    json!({"field": c.field, "path": c.path, "present": c.present, "filled": c.filled,
        "shape": c.shape})
}

/// The profile in use with the sample's findings as commented lines: a suggested
/// `[statuses]` entry per unmapped label (right after the table's header), then the date
/// formats to add, the fields found in no row, and the keys neither mapped nor kept.
pub fn suggested_profile(r: &ProbeReport) -> String {
    let Some(s) = &r.sample else {
        return format!(
            "# tthc-sync probe read no provincial row: nothing to suggest.\n{}",
            r.profile_text
        );
    };
    let statuses: Vec<String> = s
        .statuses
        .iter()
        .filter(|x| x.maps_to.is_none())
        .map(|x| match x.suggested {
            Some(code) => format!(
                "# \"{}\" = {code}  # probe: {} rows; code guessed from the label, confirm",
                x.label, x.rows
            ),
            None => format!(
                "# \"{}\" = ?  # probe: {} rows; set its national code (1..10)",
                x.label, x.rows
            ),
        })
        .collect();
    let mut text = String::from(
        "# Suggested by `tthc-sync probe`: the profile in use, with what the sample showed\n\
         # added as commented lines marked `probe:`. Review each, uncomment what is right, save\n\
         # as the province's profile (provincial.profile_file) and probe again.\n",
    );
    let mut inserted = false;
    for line in r.profile_text.lines() {
        text.push_str(line);
        text.push('\n');
        if line.trim() == "[statuses]" && !statuses.is_empty() {
            text.push_str("# probe: labels seen that this table does not map:\n");
            for s in &statuses {
                text.push_str(s);
                text.push('\n');
            }
            inserted = true;
        }
    }
    let mut tail: Vec<String> = Vec::new();
    if !inserted && !statuses.is_empty() {
        tail.push(
            "# probe: [statuses] entries for labels seen that the profile does not map:".into(),
        );
        tail.extend(statuses);
    }
    for d in &s.unparsed_dates {
        let pattern = d.shape.strip_prefix("date ").unwrap_or(&d.shape);
        match chrono_format(pattern) {
            Some(f) => tail.push(format!(
                "# probe: fields.{} holds dates shaped `{pattern}` ({} rows): add \"{f}\" to \
                 date_formats",
                d.field, d.rows
            )),
            None => tail.push(format!(
                "# probe: fields.{} holds values shaped `{pattern}` ({} rows) that no \
                 date_formats entry reads",
                d.field, d.rows
            )),
        }
    }
    let rows = s.rows - s.not_objects;
    for c in s.coverage.iter().filter(|c| c.present == 0 && rows > 0) {
        tail.push(format!(
            "# probe: fields.{} = \"{}\" was found in none of {rows} rows: set the path the \
             rows use (see the redacted sample's `paths`)",
            c.field, c.path
        ));
    }
    if !s.unlisted.is_empty() {
        tail.push(
            "# probe: keys neither mapped nor kept — may hold personal data: confirm each, then \
             list it in `keep` if impersonal or its key in personal_data if not:"
                .into(),
        );
        for (path, rows) in &s.unlisted {
            tail.push(format!("#   \"{path}\",  # {rows} rows"));
        }
    }
    if !tail.is_empty() {
        text.push('\n');
        for l in tail {
            text.push_str(&l);
            text.push('\n');
        }
    }
    text
}

/// Writes the redacted sample and the suggested profile under `dir` (created if needed);
/// returns their paths.
pub fn write_files(report: &ProbeReport, dir: &Path) -> Result<Vec<PathBuf>, ProbeError> {
    let err = |path: &Path, e: std::io::Error| ProbeError::Write {
        path: path.display().to_string(),
        message: e.to_string(),
    };
    std::fs::create_dir_all(dir).map_err(|e| err(dir, e))?;
    let sample = dir.join("redacted-sample.json");
    std::fs::write(&sample, redacted_sample(report)).map_err(|e| err(&sample, e))?;
    let suggested = dir.join("suggested-profile.toml");
    std::fs::write(&suggested, suggested_profile(report)).map_err(|e| err(&suggested, e))?;
    Ok(vec![sample, suggested])
}
