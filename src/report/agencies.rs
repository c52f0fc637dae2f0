//! Agencies over time (docs/domain.md §5): the data file format (`config/agencies/*.toml`) and the
//! pure resolution of a dossier's agency to the unit in force in a report's month.
//!
//! A dossier keeps the agency it was handled by. A report for month M groups it under that
//! agency when the agency was in force in M (valid on at least one day of M), else under its
//! successor (followed until a unit in force in M is found). With no agency data at all, or
//! an agency code the data does not know, the dossier's own code and name are used.

use std::collections::HashMap;
use std::path::Path;

use chrono::NaiveDate;
use serde::Deserialize;

pub use crate::model::AgencyRecord;
use crate::model::YearMonth;

/// The built-in data file for Điện Biên (the simulator's agencies plus the units abolished on
/// 2025-03-01 and 2025-07-01).
pub const DIEN_BIEN_TOML: &str = include_str!("../../config/agencies/dien-bien.toml");

/// An agency data file that cannot be read or is wrong; the message names the file (when
/// read from one) and the agency and key to fix.
#[derive(Debug, thiserror::Error)]
#[error("agency file: {0}")]
pub struct AgencyFileError(pub String);

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileRow {
    code: String,
    name: String,
    #[serde(default)]
    level: Option<String>,
    valid_from: String,
    #[serde(default)]
    valid_to: Option<String>,
    #[serde(default)]
    successor: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    agency: Vec<FileRow>,
}

/// Reads and parses an agency data file (`--agencies`); errors name the file.
pub fn load_agencies_file(path: &Path) -> Result<Vec<AgencyRecord>, AgencyFileError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| AgencyFileError(format!("cannot read {}: {e}", path.display())))?;
    parse_agencies(&text).map_err(|e| AgencyFileError(format!("{}: {}", path.display(), e.0)))
}

/// Parses an agency data file (`[[agency]]` tables; see `config/agencies/dien-bien.toml`).
pub fn parse_agencies(text: &str) -> Result<Vec<AgencyRecord>, AgencyFileError> {
    let file: File = toml::from_str(text).map_err(|e| AgencyFileError(e.to_string()))?;
    let date = |code: &str, key: &str, s: &str| {
        NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").map_err(|_| {
            AgencyFileError(format!(
                "agency {code}: `{key}` must be a date YYYY-MM-DD, not {s:?}"
            ))
        })
    };
    let mut out = Vec::with_capacity(file.agency.len());
    for r in file.agency {
        let valid_from = date(&r.code, "valid_from", &r.valid_from)?;
        let valid_to = match &r.valid_to {
            Some(s) => Some(date(&r.code, "valid_to", s)?),
            None => None,
        };
        if valid_to.is_some_and(|to| to < valid_from) {
            return Err(AgencyFileError(format!(
                "agency {}: valid_to is before valid_from",
                r.code
            )));
        }
        if r.code.trim().is_empty() || r.name.trim().is_empty() {
            return Err(AgencyFileError(
                "an agency has an empty code or name".into(),
            ));
        }
        out.push(AgencyRecord {
            code: r.code,
            name: r.name,
            level: r.level,
            valid_from,
            valid_to,
            successor_code: r.successor.filter(|s| !s.trim().is_empty()),
        });
    }
    Ok(out)
}

/// The agencies by code, for resolving dossiers to the units in force in one month.
#[derive(Clone, Debug, Default)]
pub struct AgencyIndex {
    by_code: HashMap<String, Vec<AgencyRecord>>,
}

impl AgencyIndex {
    /// Indexes `records` (e.g. [`crate::store::Store`]'s `agency` table), each code's periods
    /// in order of `valid_from`.
    pub fn new(records: Vec<AgencyRecord>) -> AgencyIndex {
        let mut by_code: HashMap<String, Vec<AgencyRecord>> = HashMap::new();
        for r in records {
            by_code.entry(r.code.clone()).or_default().push(r);
        }
        for v in by_code.values_mut() {
            v.sort_by_key(|r| r.valid_from);
        }
        AgencyIndex { by_code }
    }

    /// Whether there is no agency data: every dossier then stays under its own agency.
    pub fn is_empty(&self) -> bool {
        self.by_code.is_empty()
    }

    /// The unit (code, name) a dossier handled by `code`/`name` is grouped under in `m`.
    pub fn resolve(
        &self,
        code: Option<&str>,
        name: Option<&str>,
        m: YearMonth,
    ) -> (String, String) {
        let own = || {
            (
                code.unwrap_or_default().to_string(),
                name.or(code).unwrap_or("(không rõ cơ quan)").to_string(),
            )
        };
        let Some(start) = code.filter(|c| !c.is_empty()) else {
            return own();
        };
        let mut current = start;
        // Follow successors; a chain longer than the number of codes is a cycle.
        for _ in 0..=self.by_code.len() {
            let Some(rows) = self.by_code.get(current) else {
                break;
            };
            if let Some(r) = rows.iter().find(|r| r.in_force_in(m)) {
                return (r.code.clone(), r.name.clone());
            }
            // Not in force in m: abolished before it (follow the successor) or not yet created.
            let last = rows.last().expect("non-empty");
            let abolished_before = last
                .valid_to
                .is_some_and(|to| m.first_day().is_some_and(|first| to < first));
            match (&last.successor_code, abolished_before) {
                (Some(next), true) => current = next,
                _ => break,
            }
        }
        // Unknown code, a broken chain or a unit not yet in force: the data cannot place it;
        // the name the data knows for the dossier's own code, else the dossier's own name.
        match self.by_code.get(start).and_then(|rows| rows.last()) {
            Some(r) => (r.code.clone(), r.name.clone()),
            None => own(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ym(y: i32, m: u32) -> YearMonth {
        YearMonth::new(y, m).unwrap()
    }

    #[test]
    fn builtin_file_parses_and_every_successor_is_known() {
        let rows = parse_agencies(DIEN_BIEN_TOML).unwrap();
        assert!(rows.len() > 40);
        let index = AgencyIndex::new(rows.clone());
        for r in &rows {
            if let Some(s) = &r.successor_code {
                assert!(index.by_code.contains_key(s), "{} → {s}", r.code);
            }
        }
    }

    #[test]
    fn abolished_units_resolve_to_successors_after_their_end() {
        let index = AgencyIndex::new(parse_agencies(DIEN_BIEN_TOML).unwrap());
        let district = Some("000.48.31.H18");
        assert_eq!(
            index.resolve(district, None, ym(2025, 6)),
            ("000.48.31.H18".into(), "UBND huyện Mường Ảng".into())
        );
        assert_eq!(
            index.resolve(district, None, ym(2025, 7)),
            ("03295.H18".into(), "Xã Mường Ảng".into())
        );
        // Two steps are not needed here, but a department merged in March resolves too.
        assert_eq!(
            index.resolve(Some("000.21.31.H18"), None, ym(2025, 8)).1,
            "Sở Nông nghiệp và Môi trường"
        );
        // Unknown code: the dossier's own.
        assert_eq!(
            index.resolve(Some("X.H18"), Some("Đơn vị X"), ym(2025, 8)),
            ("X.H18".into(), "Đơn vị X".into())
        );
        assert_eq!(
            AgencyIndex::default().resolve(district, Some("UBND huyện Mường Ảng"), ym(2026, 1)),
            ("000.48.31.H18".into(), "UBND huyện Mường Ảng".into())
        );
    }

    #[test]
    fn bad_files_are_refused_with_the_agency_named() {
        let e =
            parse_agencies("[[agency]]\ncode = \"A\"\nname = \"B\"\nvalid_from = \"1/7/2025\"\n")
                .unwrap_err();
        assert!(e.to_string().contains("agency A"), "{e}");
    }
}
