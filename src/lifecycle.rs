//! The discrepancy lifecycle: open → acknowledged → resolved, decided from what a comparison
//! saw. Pure; `store` carries out the actions and records each as an event.
//!
//! - A finding with no discrepancy yet: **open** it.
//! - A finding whose discrepancy was resolved: **reopen** it.
//! - A finding whose discrepancy is open or acknowledged: **refresh** it (last seen, values,
//!   impact), keeping its state.
//! - An open or acknowledged discrepancy whose kind the comparison evaluated and did not find:
//!   **resolve** it automatically. Kinds the comparison could not evaluate (no successful
//!   look-up past the grace period) are left as they are: a failed fetch resolves nothing and
//!   opens nothing.

use serde::{Deserialize, Serialize};

use crate::reconcile::{Evaluated, Finding, Kind};

/// Where a discrepancy is in its lifecycle (`discrepancy.state`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    /// Seen and not yet taken up by anyone.
    Open,
    /// Someone is on it (`discrepancy ack`); still compared, and resolved when it goes away.
    Acknowledged,
    /// No longer seen by a comparison, or resolved by hand; reopened if it comes back.
    Resolved,
}

impl State {
    /// The stored name: `open`, `acknowledged` or `resolved`.
    pub fn as_str(self) -> &'static str {
        match self {
            State::Open => "open",
            State::Acknowledged => "acknowledged",
            State::Resolved => "resolved",
        }
    }
    /// The state of a stored name; `None` for any other text.
    pub fn parse(s: &str) -> Option<State> {
        [State::Open, State::Acknowledged, State::Resolved]
            .into_iter()
            .find(|v| v.as_str() == s)
    }
    /// Open or acknowledged: a comparison that no longer sees it resolves it.
    pub fn is_active(self) -> bool {
        self != State::Resolved
    }
}

/// A discrepancy already in the store, for one dossier.
#[derive(Clone, Debug, PartialEq)]
pub struct Existing {
    /// Its id (`discrepancy.id`).
    pub id: i64,
    /// What it is about: with the dossier, its key.
    pub kind: Kind,
    /// Its current state.
    pub state: State,
}

/// What the store is to do with one discrepancy of the dossier; each is recorded as an event.
#[derive(Clone, Debug, PartialEq)]
pub enum Action {
    /// A new discrepancy, from a finding of a kind the dossier never had.
    Open(Finding),
    /// A resolved discrepancy seen again: back to open, with the finding's values.
    Reopen {
        /// The discrepancy's id.
        id: i64,
        /// What the comparison saw now.
        finding: Finding,
    },
    /// An open or acknowledged discrepancy seen again: its last-seen time, values and impact
    /// are updated, its state kept.
    Refresh {
        /// The discrepancy's id.
        id: i64,
        /// What the comparison saw now.
        finding: Finding,
    },
    /// An active discrepancy of a kind the comparison decided and did not find: resolved.
    AutoResolve {
        /// The discrepancy's id.
        id: i64,
        /// Its kind, for the event and the log.
        kind: Kind,
    },
}

/// Decides the actions for one dossier.
pub fn decide(existing: &[Existing], findings: Vec<Finding>, evaluated: Evaluated) -> Vec<Action> {
    let mut actions = Vec::with_capacity(findings.len());
    for e in existing {
        if e.state.is_active()
            && evaluated.covers(e.kind)
            && !findings.iter().any(|f| f.kind == e.kind)
        {
            actions.push(Action::AutoResolve {
                id: e.id,
                kind: e.kind,
            });
        }
    }
    for f in findings {
        match existing.iter().find(|e| e.kind == f.kind) {
            None => actions.push(Action::Open(f)),
            Some(e) if e.state == State::Resolved => actions.push(Action::Reopen {
                id: e.id,
                finding: f,
            }),
            Some(e) => actions.push(Action::Refresh {
                id: e.id,
                finding: f,
            }),
        }
    }
    actions
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reconcile::Severity;

    fn finding(kind: Kind) -> Finding {
        Finding {
            dossier_id: "d1".into(),
            dossier_code: "X-240101-0001".into(),
            kind,
            severity: Severity::High,
            score_impact: 0.0,
            period: None,
            impact_known: true,
            timeliness: None,
            agency_code: None,
            agency_name: None,
            provincial: "a".into(),
            national: "b".into(),
        }
    }

    const ALL: Evaluated = Evaluated {
        provincial: true,
        pair: true,
        timeliness: true,
        lookup: false,
    };
    const PROV_ONLY: Evaluated = Evaluated {
        provincial: true,
        pair: false,
        timeliness: false,
        lookup: false,
    };

    #[test]
    fn table() {
        use Kind::*;
        let ex = |id, kind, state| Existing { id, kind, state };
        struct Case {
            name: &'static str,
            existing: Vec<Existing>,
            found: Vec<Kind>,
            evaluated: Evaluated,
            want: Vec<&'static str>,
        }
        let cases = vec![
            Case {
                name: "new finding opens",
                existing: vec![],
                found: vec![StatusMismatch],
                evaluated: ALL,
                want: vec!["open status_mismatch"],
            },
            Case {
                name: "seen again refreshes, keeps acknowledged",
                existing: vec![ex(1, StatusMismatch, State::Acknowledged)],
                found: vec![StatusMismatch],
                evaluated: ALL,
                want: vec!["refresh 1"],
            },
            Case {
                name: "gone resolves",
                existing: vec![ex(1, StatusMismatch, State::Open)],
                found: vec![],
                evaluated: ALL,
                want: vec!["resolve 1"],
            },
            Case {
                name: "back after resolve reopens",
                existing: vec![ex(1, StatusMismatch, State::Resolved)],
                found: vec![StatusMismatch],
                evaluated: ALL,
                want: vec!["reopen 1"],
            },
            Case {
                name: "no look-up: pair kinds untouched",
                existing: vec![ex(1, MissingOnNational, State::Open)],
                found: vec![],
                evaluated: PROV_ONLY,
                want: vec![],
            },
            Case {
                name: "no look-up: provincial kinds still resolve",
                existing: vec![
                    ex(1, UnmappedStatus, State::Open),
                    ex(2, DueDateMismatch, State::Open),
                ],
                found: vec![],
                evaluated: PROV_ONLY,
                want: vec!["resolve 1"],
            },
            Case {
                name: "a comparison never decides lookup_failing, the look-up state does",
                existing: vec![
                    ex(1, LookupFailing, State::Open),
                    ex(2, StatusMismatch, State::Open),
                ],
                found: vec![],
                evaluated: ALL,
                want: vec!["resolve 2"],
            },
            Case {
                name: "the look-up state decides lookup_failing only",
                existing: vec![
                    ex(1, LookupFailing, State::Open),
                    ex(2, StatusMismatch, State::Open),
                ],
                found: vec![],
                evaluated: Evaluated::LOOKUP,
                want: vec!["resolve 1"],
            },
            Case {
                name: "still failing: refreshed, the other kinds untouched",
                existing: vec![
                    ex(1, LookupFailing, State::Acknowledged),
                    ex(2, ClosedLocallyOpenNationally, State::Open),
                ],
                found: vec![LookupFailing],
                evaluated: Evaluated::LOOKUP,
                want: vec!["refresh 1"],
            },
            Case {
                name: "resolved stays resolved when not seen",
                existing: vec![ex(1, StatusMismatch, State::Resolved)],
                found: vec![],
                evaluated: ALL,
                want: vec![],
            },
        ];
        for c in cases {
            let got: Vec<String> = decide(
                &c.existing,
                c.found.into_iter().map(finding).collect(),
                c.evaluated,
            )
            .into_iter()
            .map(|a| match a {
                Action::Open(f) => format!("open {}", f.kind),
                Action::Reopen { id, .. } => format!("reopen {id}"),
                Action::Refresh { id, .. } => format!("refresh {id}"),
                Action::AutoResolve { id, .. } => format!("resolve {id}"),
            })
            .collect();
            assert_eq!(got, c.want, "{}", c.name);
        }
    }
}
