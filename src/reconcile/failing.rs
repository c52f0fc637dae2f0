//! `lookup_failing`: a dossier whose national look-ups have failed for longer than
//! `national.lookup_failing_after_hours` (docs/discrepancies.md), from plain data.
//!
//! It is about the look-up, not about the data: it costs no points by itself (severity `low`,
//! impact 0, no month), and it never hides the dossier's other discrepancies, which stay as
//! the last successful look-up judged them. The portal's operators are the ones to ask: their
//! gateway cannot answer for this code.

use serde::{Serialize, Serializer};

use super::{Finding, Kind};
use crate::model::{fmt_time, LocalTime};

/// A dossier whose look-ups are failing: its `lookup_state` failure streak and its agency as
/// the province records it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FailingLookup {
    /// The provincial dossier's id.
    pub dossier_id: String,
    /// The national code it is looked up by.
    pub code: String,
    /// The dossier's agency code, as the province records it.
    pub agency_code: Option<String>,
    /// The dossier's agency name, as the province records it.
    pub agency_name: Option<String>,
    /// The first failed look-up of the current streak (`lookup_state.failing_since`).
    #[serde(serialize_with = "stored_time")]
    pub since: LocalTime,
    /// Failed look-ups in a row since then (`lookup_state.consecutive_failures`).
    pub attempts: u32,
    /// Why the last one failed (`http_502`, `timeout`, `bad_body`, `portal_error`, …).
    pub last_error_class: Option<String>,
    /// When the last look-up was tried.
    #[serde(serialize_with = "stored_time")]
    pub last_attempt_at: LocalTime,
}

/// The `lookup_failing` finding of one dossier that has failed long enough.
pub fn lookup_failing(f: &FailingLookup) -> Finding {
    Finding {
        dossier_id: f.dossier_id.clone(),
        dossier_code: f.code.clone(),
        kind: Kind::LookupFailing,
        severity: super::severity::of(Kind::LookupFailing, None),
        score_impact: 0.0,
        period: None,
        impact_known: true,
        timeliness: None,
        agency_code: f.agency_code.clone(),
        agency_name: f.agency_name.clone(),
        provincial: String::new(),
        national: format!(
            "tra cứu lỗi {} lần liên tiếp từ {} ({})",
            f.attempts,
            fmt_time(&f.since),
            f.last_error_class.as_deref().unwrap_or("?")
        ),
    }
}

/// What the look-up state decides about `lookup_failing` ([`check_failing`]).
#[derive(Debug, Default, PartialEq)]
pub struct FailingVerdict {
    /// Active `lookup_failing` discrepancies to resolve (their ids): the dossier's last
    /// look-up succeeded.
    pub resolve: Vec<i64>,
    /// One finding per dossier failing longer than the threshold, to open, reopen or refresh
    /// with [`Evaluated::LOOKUP`](super::Evaluated::LOOKUP).
    pub findings: Vec<Finding>,
}

/// The `lookup_failing` rules, from plain data:
///
/// - `failing`: the dossiers whose look-ups have failed since at least the threshold (the
///   store selects them): each is a finding.
/// - `active` (id, dossier id, still failing): the open or acknowledged `lookup_failing`
///   discrepancies. One whose dossier is no longer failing — its last look-up succeeded — is
///   resolved. One still failing stays as it is even when it is now below the threshold (the
///   threshold was raised): only a successful look-up ends it.
pub fn check_failing(failing: &[FailingLookup], active: &[(i64, String, bool)]) -> FailingVerdict {
    FailingVerdict {
        resolve: active
            .iter()
            .filter(|(_, _, still_failing)| !still_failing)
            .map(|(id, _, _)| *id)
            .collect(),
        findings: failing.iter().map(lookup_failing).collect(),
    }
}

/// A time as the database stores it (`2026-11-20 10:00:00`).
fn stored_time<S: Serializer>(t: &LocalTime, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&fmt_time(t))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reconcile::Severity;

    fn at(h: u32) -> LocalTime {
        chrono::NaiveDate::from_ymd_opt(2026, 11, 20)
            .unwrap()
            .and_hms_opt(h, 0, 0)
            .unwrap()
    }

    fn failing(id: &str, attempts: u32) -> FailingLookup {
        FailingLookup {
            dossier_id: id.into(),
            code: format!("000.00.10.H18-261120-{id}"),
            agency_code: Some("000.00.10.H18".into()),
            agency_name: Some("Sở Tư pháp".into()),
            since: at(8),
            attempts,
            last_error_class: Some("http_502".into()),
            last_attempt_at: at(10),
        }
    }

    #[test]
    fn failing_dossiers_are_findings_and_a_success_resolves() {
        let v = check_failing(
            &[failing("0001", 7), failing("0002", 3)],
            &[
                (11, "0001".into(), true),
                (12, "0003".into(), false),
                (13, "0004".into(), true),
            ],
        );
        assert_eq!(v.resolve, [12], "only the one whose look-up succeeded");
        let ids: Vec<&str> = v.findings.iter().map(|f| f.dossier_id.as_str()).collect();
        assert_eq!(ids, ["0001", "0002"]);
        let f = &v.findings[0];
        assert_eq!(f.kind, Kind::LookupFailing);
        assert_eq!((f.severity, f.score_impact), (Severity::Low, 0.0));
        assert_eq!(f.period, None, "it costs no points in any month");
        assert_eq!(f.dossier_code, "000.00.10.H18-261120-0001");
        assert_eq!(f.agency_name.as_deref(), Some("Sở Tư pháp"));
        assert_eq!(
            f.national,
            "tra cứu lỗi 7 lần liên tiếp từ 2026-11-20 08:00:00 (http_502)"
        );
    }

    #[test]
    fn nothing_failing_nothing_active() {
        assert_eq!(check_failing(&[], &[]), FailingVerdict::default());
    }
}
