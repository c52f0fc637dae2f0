//! `missing_on_provincial`: what the portal's lists of the province's units decide
//! (`DanhSachHoSo`), from plain data.

use std::collections::HashSet;

use super::{show_status, Finding, Kind};
use crate::model::{LocalTime, NationalDossier, YearMonth};

/// A dossier the portal lists for one of the province's units that no provincial dossier
/// holds (`missing_on_provincial`). Its key is `nat:<code>`: there is no provincial id.
pub fn missing_on_provincial(n: &NationalDossier, listed_unit: &str) -> Finding {
    let c = &n.core;
    Finding {
        dossier_id: format!("nat:{}", c.code),
        dossier_code: c.code.clone(),
        kind: Kind::MissingOnProvincial,
        severity: super::severity::of(Kind::MissingOnProvincial, None),
        score_impact: 0.0,
        period: c.received_at.map(|r| YearMonth::of(&r).iso()),
        impact_known: true,
        timeliness: None,
        agency_code: c
            .agency_code
            .clone()
            .or_else(|| Some(listed_unit.to_string())),
        agency_name: n.unit_name.clone(),
        provincial: "không có".into(),
        national: show_status(c.status, &c.status_raw),
    }
}

/// What the national lists decide about `missing_on_provincial` ([`check_listed`]).
#[derive(Debug, Default, PartialEq)]
pub struct ListedVerdict {
    /// Active `missing_on_provincial` discrepancies to resolve (their ids): a provincial
    /// dossier now holds their code.
    pub resolve: Vec<i64>,
    /// One finding per listed code no provincial dossier holds ([`missing_on_provincial`]), in
    /// listing order; each is decided against the stored discrepancies of its key with
    /// [`Evaluated::LISTED`](super::Evaluated::LISTED).
    pub findings: Vec<Finding>,
}

/// The `missing_on_provincial` rules (docs/discrepancies.md), from plain data:
///
/// - `active` (id, code): the open or acknowledged `missing_on_provincial` discrepancies. One
///   whose code a provincial dossier now holds is resolved, whether or not lists are
///   configured and whatever the lists said.
/// - `listed` (unit, the portal's view): every row of the `DanhSachHoSo` calls that succeeded,
///   in the order of the configured units. A listed code no provincial dossier holds is a
///   finding, unless the dossier was received less than `sync_grace` before `now` or has no
///   received time (the province may not have sent it yet). A code listed by two units is
///   decided once, as the first unit listed it.
/// - `held`: which of those codes (active and listed) some provincial dossier holds, as its
///   national code or its key.
/// - `provincial_complete` false (this cycle's provincial pull was incomplete): nothing is
///   found, since the province may simply not have been read yet; resolving still applies.
pub fn check_listed(
    active: &[(i64, String)],
    listed: &[(&str, &NationalDossier)],
    held: &HashSet<String>,
    provincial_complete: bool,
    sync_grace: chrono::Duration,
    now: LocalTime,
) -> ListedVerdict {
    let resolve = active
        .iter()
        .filter(|(_, code)| held.contains(code))
        .map(|(id, _)| *id)
        .collect();
    let mut findings = Vec::new();
    if provincial_complete {
        let mut decided: HashSet<String> = HashSet::new();
        for (unit, d) in listed {
            let old_enough = d.core.received_at.is_some_and(|r| now - r >= sync_grace);
            if held.contains(&d.core.code) || !old_enough {
                continue;
            }
            let finding = missing_on_provincial(d, unit);
            if decided.insert(finding.dossier_id.clone()) {
                findings.push(finding);
            }
        }
    }
    ListedVerdict { resolve, findings }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Status;

    fn at(h: u32, m: u32) -> LocalTime {
        chrono::NaiveDate::from_ymd_opt(2026, 11, 20)
            .unwrap()
            .and_hms_opt(h, m, 0)
            .unwrap()
    }

    /// A listed dossier: its code, received at (h, m) on the test day, its own agency code.
    fn listed(code: &str, received: Option<(u32, u32)>, agency: Option<&str>) -> NationalDossier {
        NationalDossier {
            core: crate::model::DossierCore {
                code: code.into(),
                agency_code: agency.map(str::to_string),
                status: Some(Status::Processing),
                status_raw: "4".into(),
                received_at: received.map(|(h, m)| at(h, m)),
                ..Default::default()
            },
            unit_name: Some("Sở X".into()),
            duplicate_rows: false,
        }
    }

    #[test]
    fn check_listed_table() {
        const A: &str = "G01-261120-0001";
        const B: &str = "G01-261120-0002";
        // "now" is 12:00 and the grace 60 minutes: received at 11:00 or before is old enough.
        /// A listed row: the unit, the code, received at (h, m), the dossier's own agency code.
        type Row = (
            &'static str,
            &'static str,
            Option<(u32, u32)>,
            Option<&'static str>,
        );
        struct Case {
            name: &'static str,
            active: Vec<(i64, &'static str)>,
            listed: Vec<Row>,
            held: Vec<&'static str>,
            complete: bool,
            resolve: Vec<i64>,
            /// (key, agency code) of each finding
            found: Vec<(&'static str, &'static str)>,
        }
        let cases = vec![
            Case {
                name: "listed, not held, past the grace: found under its own agency",
                active: vec![],
                listed: vec![("U1", A, Some((9, 0)), Some("AG"))],
                held: vec![],
                complete: true,
                resolve: vec![],
                found: vec![("nat:G01-261120-0001", "AG")],
            },
            Case {
                name: "no agency code on the row: the listing unit",
                active: vec![],
                listed: vec![("U1", A, Some((9, 0)), None)],
                held: vec![],
                complete: true,
                resolve: vec![],
                found: vec![("nat:G01-261120-0001", "U1")],
            },
            Case {
                name: "held by a provincial dossier: nothing",
                active: vec![],
                listed: vec![("U1", A, Some((9, 0)), None)],
                held: vec![A],
                complete: true,
                resolve: vec![],
                found: vec![],
            },
            Case {
                name: "received exactly the grace ago: found",
                active: vec![],
                listed: vec![("U1", A, Some((11, 0)), None)],
                held: vec![],
                complete: true,
                resolve: vec![],
                found: vec![("nat:G01-261120-0001", "U1")],
            },
            Case {
                name: "received within the grace: left for a later cycle",
                active: vec![],
                listed: vec![("U1", A, Some((11, 1)), None)],
                held: vec![],
                complete: true,
                resolve: vec![],
                found: vec![],
            },
            Case {
                name: "no received time: never old enough",
                active: vec![],
                listed: vec![("U1", A, None, None)],
                held: vec![],
                complete: true,
                resolve: vec![],
                found: vec![],
            },
            Case {
                name: "listed by two units: decided once, as the first listed it",
                active: vec![],
                listed: vec![
                    ("U1", A, Some((9, 0)), None),
                    ("U2", B, Some((9, 0)), None),
                    ("U2", A, Some((9, 0)), None),
                ],
                held: vec![],
                complete: true,
                resolve: vec![],
                found: vec![("nat:G01-261120-0001", "U1"), ("nat:G01-261120-0002", "U2")],
            },
            Case {
                name: "provincial pull incomplete: nothing found",
                active: vec![],
                listed: vec![("U1", A, Some((9, 0)), None)],
                held: vec![],
                complete: false,
                resolve: vec![],
                found: vec![],
            },
            Case {
                name: "active and now held: resolved, even with the pull incomplete",
                active: vec![(7, A), (8, B)],
                listed: vec![],
                held: vec![A],
                complete: false,
                resolve: vec![7],
                found: vec![],
            },
            Case {
                name: "active, still listed and not held: found again (the lifecycle refreshes it)",
                active: vec![(7, A)],
                listed: vec![("U1", A, Some((9, 0)), None)],
                held: vec![],
                complete: true,
                resolve: vec![],
                found: vec![("nat:G01-261120-0001", "U1")],
            },
            Case {
                name: "active, no longer listed and not held: stays as it is",
                active: vec![(7, A)],
                listed: vec![],
                held: vec![],
                complete: true,
                resolve: vec![],
                found: vec![],
            },
        ];
        let grace = chrono::Duration::minutes(60);
        for c in cases {
            let rows: Vec<(&str, NationalDossier)> = c
                .listed
                .iter()
                .map(|&(unit, code, received, agency)| (unit, listed(code, received, agency)))
                .collect();
            let listed: Vec<(&str, &NationalDossier)> = rows.iter().map(|(u, d)| (*u, d)).collect();
            let active: Vec<(i64, String)> = c
                .active
                .iter()
                .map(|&(id, code)| (id, code.to_string()))
                .collect();
            let held: HashSet<String> = c.held.iter().map(|s| s.to_string()).collect();
            let got = check_listed(&active, &listed, &held, c.complete, grace, at(12, 0));
            assert_eq!(got.resolve, c.resolve, "{}", c.name);
            let found: Vec<(&str, &str)> = got
                .findings
                .iter()
                .map(|f| {
                    (
                        f.dossier_id.as_str(),
                        f.agency_code.as_deref().unwrap_or(""),
                    )
                })
                .collect();
            assert_eq!(found, c.found, "{}", c.name);
            for f in &got.findings {
                assert_eq!(f.kind, Kind::MissingOnProvincial, "{}", c.name);
                assert_eq!(
                    f.dossier_id,
                    format!("nat:{}", f.dossier_code),
                    "{}",
                    c.name
                );
                assert_eq!(f.period.as_deref(), Some("2026-11"), "{}", c.name);
            }
        }
    }
}
