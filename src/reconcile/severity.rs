//! How urgent a finding is. Severity follows cost (docs/discrepancies.md, "Severity"): a
//! finding that changes nothing the portal counts or shows is `low`; each higher level has a
//! reason written per kind there — a wrong status or date shown to citizens, a dossier the
//! portal counts wrongly or not at all, an agency named wrongly in an appendix, points lost —
//! and this module is the one place that applies them.

use serde::{Deserialize, Serialize};

use super::Kind;

/// How urgently a discrepancy needs fixing, ordered low to critical (docs/discrepancies.md).
/// `tthc-sync discrepancies` lists `medium` and above by default and counts the `low` ones.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Changes nothing the portal counts or shows: a known vendor convention
    /// (`collapsed_status`), or a date the province's record lacks where the portal has one.
    Low,
    /// The portal shows citizens a wrong status or date, counts a dossier the province does
    /// not have, or the province's record cannot be compared (an unmapped status, no due date).
    Medium,
    /// The portal does not show or count the dossier at all, cannot be asked about it, judges
    /// it by a wrong due date, or judges it otherwise than the province.
    High,
    /// Points are lost: the portal counts a closed dossier as in process (overdue once past
    /// due), or correcting the portal would gain points (score impact > 0). Fix first.
    Critical,
}

impl Severity {
    /// Every severity, low to critical.
    pub const ALL: [Severity; 4] = [
        Severity::Low,
        Severity::Medium,
        Severity::High,
        Severity::Critical,
    ];

    /// The stored name: `low`, `medium`, `high` or `critical`.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
    /// The severity of a stored name; `None` for any other text.
    pub fn parse(s: &str) -> Option<Severity> {
        Severity::ALL.into_iter().find(|v| v.as_str() == s)
    }
}

impl std::fmt::Display for Severity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a date kind (`finish_date_mismatch`, `due_date_mismatch`, `received_date_mismatch`)
/// found: which side lacks the date, or that both have one and they differ.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DateGap {
    /// The province's record has no date where its vendor fills it; the portal has one. The
    /// portal's date came from the province's own push: nothing it counts or shows would
    /// change by pushing again. The province's record is what is incomplete.
    ProvincialAbsent,
    /// The province has the date, the portal none: the push lost it.
    NationalAbsent,
    /// Both have a date, more than `reconcile.date_tolerance_minutes` apart.
    Differs,
}

/// The severity of a finding of `kind` before its score impact is priced; `gap` is what a date
/// kind found (`None` for the other kinds). docs/discrepancies.md gives each reason.
pub(crate) fn of(kind: Kind, gap: Option<DateGap>) -> Severity {
    use Kind::*;
    match kind {
        // The portal counts a closed dossier as in process, overdue once past its due date:
        // points lost and the agency named in Phụ lục I, unless the closing push is redone.
        ClosedLocallyOpenNationally => Severity::Critical,
        // Not shown or counted on the portal; cannot be asked about; or judged otherwise.
        MissingOnNational | BadDossierCode | TimelinessMismatch => Severity::High,
        // A date the province lacks and the portal has: nothing to push.
        DueDateMismatch | FinishDateMismatch | ReceivedDateMismatch
            if gap == Some(DateGap::ProvincialAbsent) =>
        {
            Severity::Low
        }
        // The due date the portal judges the dossier by, and the one citizens are given.
        DueDateMismatch => Severity::High,
        // A wrong status or date shown; a dossier counted the province does not have; a
        // dossier that cannot be compared or judged.
        StatusMismatch | FinishDateMismatch | ReceivedDateMismatch | UnmappedStatus
        | MissingDueDate | MissingOnProvincial => Severity::Medium,
        // The vendors' known 5/6/8 → 9 convention: critical when it costs points.
        CollapsedStatus => Severity::Low,
        // The portal does not answer for this dossier: nothing is known to be wrong on it, but
        // the view of it is ageing (docs/discrepancies.md).
        LookupFailing => Severity::Low,
        // A rule of ND 118/2025 broken in the province's own handling: the portal does not
        // score it, the province's inspectors do.
        RescheduledMoreThanOnce => Severity::Medium,
    }
}

/// `base`, raised to critical when correcting the portal would gain points (`impact` > 0).
pub(crate) fn with_impact(base: Severity, impact: f64) -> Severity {
    if impact > 0.0 {
        Severity::Critical
    } else {
        base
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn severity_follows_cost() {
        use DateGap::*;
        for kind in [
            Kind::DueDateMismatch,
            Kind::FinishDateMismatch,
            Kind::ReceivedDateMismatch,
        ] {
            assert_eq!(of(kind, Some(ProvincialAbsent)), Severity::Low, "{kind}");
            assert!(of(kind, Some(NationalAbsent)) >= Severity::Medium, "{kind}");
            assert_eq!(of(kind, Some(Differs)), of(kind, Some(NationalAbsent)));
        }
        assert_eq!(of(Kind::DueDateMismatch, Some(Differs)), Severity::High);
        assert_eq!(of(Kind::CollapsedStatus, None), Severity::Low);
        assert_eq!(
            of(Kind::ClosedLocallyOpenNationally, None),
            Severity::Critical
        );
        assert_eq!(with_impact(Severity::Low, 0.2), Severity::Critical);
        assert_eq!(with_impact(Severity::Low, 0.0), Severity::Low);
        assert_eq!(with_impact(Severity::High, -0.2), Severity::High);
        for s in Severity::ALL {
            assert_eq!(Severity::parse(s.as_str()), Some(s));
        }
    }
}
