//! Look-ups that keep failing (`lookup_state.consecutive_failures`, migration 8): the dossiers
//! failing longer than a threshold (`lookup_failing`, `tthc-sync lookups --failing`,
//! `/metrics`), and one dossier's look-up state (`tthc-sync dossier CODE`). Written by
//! `store_lookups` (national.rs), in the batch's transaction.

use rusqlite::{params, OptionalExtension};
use serde::Serialize;

use super::{rt, Result, Store};
use crate::model::{fmt_time, LocalTime};
use crate::reconcile::FailingLookup;

/// One dossier's national look-up state: a row of `lookup_state` (docs/schema.md), times as
/// stored text.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LookupState {
    /// The national code last looked up.
    pub code: String,
    /// When a look-up was last tried (succeeded or not).
    pub last_attempt_at: String,
    /// `found`, `not_found` or `error`.
    pub last_outcome: String,
    /// The last successful look-up (or listing); `None` when there was none.
    pub last_success_at: Option<String>,
    /// Look-ups that failed in a row since the last success (0: not failing).
    pub consecutive_failures: u32,
    /// The first failed look-up of the current streak; `None` when not failing.
    pub failing_since: Option<String>,
    /// Why the last failed look-up failed (`http_502`, `timeout`, `bad_body`,
    /// `portal_error`, …); `None` after a success.
    pub last_error_class: Option<String>,
    /// The last failed look-up's error message; `None` after a success.
    pub last_error: Option<String>,
}

/// The failing look-ups' columns, with the dossier's agency (`l` is `lookup_state`, `p`
/// `provincial_dossier`).
const FAILING_SQL: &str = "SELECT l.dossier_id, l.code, p.agency_code, p.agency_name,
        l.failing_since, l.consecutive_failures, l.last_error_class, l.last_attempt_at
     FROM lookup_state l JOIN provincial_dossier p ON p.dossier_id = l.dossier_id
     WHERE l.consecutive_failures > 0 AND l.failing_since <= ?1";

impl Store {
    /// The dossiers whose look-ups have failed in a row since `since_at_most` or earlier,
    /// longest failing first (then by code). Reads the partial index of failing rows only.
    pub fn failing_lookups(&self, since_at_most: LocalTime) -> Result<Vec<FailingLookup>> {
        self.read(|c| {
            let mut stmt =
                c.prepare_cached(&format!("{FAILING_SQL} ORDER BY l.failing_since, l.code"))?;
            let rows = stmt.query_map(params![fmt_time(&since_at_most)], |r| {
                Ok(FailingLookup {
                    dossier_id: r.get(0)?,
                    code: r.get(1)?,
                    agency_code: r.get(2)?,
                    agency_name: r.get(3)?,
                    since: rt(r, "failing_since")?.unwrap_or_default(),
                    attempts: r.get::<_, i64>(5)? as u32,
                    last_error_class: r.get(6)?,
                    last_attempt_at: rt(r, "last_attempt_at")?.unwrap_or_default(),
                })
            })?;
            rows.collect()
        })
    }

    /// How many dossiers' look-ups have failed in a row since `since_at_most` or earlier (the
    /// `/metrics` gauge and the run's summary).
    pub fn failing_lookup_count(&self, since_at_most: LocalTime) -> Result<u64> {
        self.read(|c| {
            c.query_row(
                "SELECT count(*) FROM lookup_state
                 WHERE consecutive_failures > 0 AND failing_since <= ?1",
                params![fmt_time(&since_at_most)],
                |r| r.get::<_, i64>(0),
            )
            .map(|n| n as u64)
        })
    }

    /// The open and acknowledged `lookup_failing` discrepancies: (id, dossier id, whether the
    /// dossier's look-ups are still failing).
    pub fn active_lookup_failing(&self) -> Result<Vec<(i64, String, bool)>> {
        self.read(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT d.id, d.dossier_id, coalesce(l.consecutive_failures, 0) > 0
                 FROM discrepancy d LEFT JOIN lookup_state l ON l.dossier_id = d.dossier_id
                 WHERE d.kind = 'lookup_failing' AND d.state IN ('open', 'acknowledged')
                 ORDER BY d.id",
            )?;
            let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
            rows.collect()
        })
    }

    /// One dossier's look-up state; `None` when it was never looked up.
    pub fn lookup_state(&self, dossier_id: &str) -> Result<Option<LookupState>> {
        self.read(|c| {
            c.query_row(
                "SELECT code, last_attempt_at, last_outcome, last_success_at,
                        consecutive_failures, failing_since, last_error_class, last_error
                 FROM lookup_state WHERE dossier_id = ?1",
                params![dossier_id],
                |r| {
                    Ok(LookupState {
                        code: r.get(0)?,
                        last_attempt_at: r.get(1)?,
                        last_outcome: r.get(2)?,
                        last_success_at: r.get(3)?,
                        consecutive_failures: r.get::<_, i64>(4)? as u32,
                        failing_since: r.get(5)?,
                        last_error_class: r.get(6)?,
                        last_error: r.get(7)?,
                    })
                },
            )
            .optional()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{LookupOutcome, NationalDossier, ProvincialDossier};
    use crate::store::test_support::at;
    use crate::store::{LookupFailure, LookupResult};

    fn dossier(id: &str) -> ProvincialDossier {
        let mut p = ProvincialDossier {
            local_id: id.into(),
            key: format!("000.00.10.H18-261102-{id}"),
            row_hash: "h1".into(),
            agency_name: Some("Sở Tư pháp".into()),
            ..Default::default()
        };
        p.core.code = p.key.clone();
        p.core.agency_code = Some("000.00.10.H18".into());
        p
    }

    fn failed(p: &ProvincialDossier, at_: &str, counted: bool) -> LookupResult {
        LookupResult {
            dossier_id: p.local_id.clone(),
            code: p.key.clone(),
            at: at(at_),
            result: Err(LookupFailure {
                class: "http_502".into(),
                message: "national: HTTP 502".into(),
                counted,
            }),
        }
    }

    fn found(p: &ProvincialDossier, at_: &str) -> LookupResult {
        LookupResult {
            dossier_id: p.local_id.clone(),
            code: p.key.clone(),
            at: at(at_),
            result: Ok((
                LookupOutcome::Found(NationalDossier {
                    core: p.core.clone(),
                    ..Default::default()
                }),
                "[]".into(),
            )),
        }
    }

    #[test]
    fn a_failure_streak_is_counted_backs_off_and_a_success_ends_it() {
        let mut store = Store::open_in_memory().unwrap();
        let (a, b) = (dossier("0001"), dossier("0002"));
        let t0 = at("2026-11-20 08:00:00");
        store
            .store_provincial_page(
                1,
                "p",
                t0,
                &[(a.clone(), "{}".into()), (b.clone(), "{}".into())],
                None,
            )
            .unwrap();
        let cand = |store: &Store, id: &str| {
            let (cands, ids) = store.lookup_candidates().unwrap();
            let i = ids.iter().position(|x| x == id).unwrap();
            (cands[i].failures, cands[i].last_failure_at)
        };
        // b fails once but the portal was down then: the try is recorded, not counted.
        store
            .store_lookups(1, &[failed(&a, "2026-11-20 08:00:00", true)])
            .unwrap();
        store
            .store_lookups(1, &[failed(&b, "2026-11-20 08:00:00", false)])
            .unwrap();
        store
            .store_lookups(2, &[failed(&a, "2026-11-20 09:00:00", true)])
            .unwrap();
        assert_eq!(cand(&store, "0001"), (2, Some(at("2026-11-20 09:00:00"))));
        assert_eq!(cand(&store, "0002"), (0, None));
        let s = store.lookup_state("0002").unwrap().unwrap();
        assert_eq!(
            (
                s.last_outcome.as_str(),
                s.consecutive_failures,
                s.failing_since
            ),
            ("error", 0, None)
        );

        // Failing since 08:00: past a threshold at 08:00, not at 07:59.
        let failing = store.failing_lookups(at("2026-11-20 08:00:00")).unwrap();
        assert_eq!(failing.len(), 1);
        let f = &failing[0];
        assert_eq!((f.dossier_id.as_str(), f.attempts), ("0001", 2));
        assert_eq!(f.since, at("2026-11-20 08:00:00"));
        assert_eq!(f.last_attempt_at, at("2026-11-20 09:00:00"));
        assert_eq!(f.last_error_class.as_deref(), Some("http_502"));
        assert_eq!(f.agency_name.as_deref(), Some("Sở Tư pháp"));
        assert!(store
            .failing_lookups(at("2026-11-20 07:59:59"))
            .unwrap()
            .is_empty());
        assert_eq!(
            store
                .failing_lookup_count(at("2026-11-20 08:00:00"))
                .unwrap(),
            1
        );
        let s = store.lookup_state("0001").unwrap().unwrap();
        assert_eq!(s.failing_since.as_deref(), Some("2026-11-20 08:00:00"));
        assert_eq!(s.last_error.as_deref(), Some("national: HTTP 502"));

        // A failure the portal caused does not lengthen the streak, and keeps its start.
        store
            .store_lookups(3, &[failed(&a, "2026-11-20 10:00:00", false)])
            .unwrap();
        assert_eq!(cand(&store, "0001"), (2, Some(at("2026-11-20 10:00:00"))));
        assert_eq!(
            store.failing_lookups(at("2026-11-20 12:00:00")).unwrap()[0].since,
            at("2026-11-20 08:00:00")
        );

        // A success ends it; the next failure starts a new streak.
        store
            .store_lookups(4, &[found(&a, "2026-11-20 11:00:00")])
            .unwrap();
        assert_eq!(cand(&store, "0001"), (0, None));
        let s = store.lookup_state("0001").unwrap().unwrap();
        assert_eq!(
            (s.consecutive_failures, s.failing_since, s.last_error_class),
            (0, None, None)
        );
        store
            .store_lookups(5, &[failed(&a, "2026-11-20 12:00:00", true)])
            .unwrap();
        let s = store.lookup_state("0001").unwrap().unwrap();
        assert_eq!(
            (s.consecutive_failures, s.failing_since.as_deref()),
            (1, Some("2026-11-20 12:00:00"))
        );
        assert_eq!(store.lookup_state("nope").unwrap(), None);
    }
}
