//! The national look-ups of a cycle (`TraCuuHoSo`): which dossiers, by the planner under the
//! budget (`crate::plan`), looked up a few at a time, the replies stored in batches; and the
//! dossiers whose look-ups have failed for too long (`lookup_failing`).
//!
//! Whose fault a failed look-up is decides what it does to the dossier:
//! - **the dossier's** (the portal answered 5xx or timed out for this code, the reply could not
//!   be read, the portal's `error_code`): it counts in the dossier's failure streak
//!   (`lookup_state`), which the planner backs off;
//! - **the portal's**: a look-up never sent (the circuit breaker refused it, no session could
//!   be opened) is not stored at all and goes back to the queue; a failure among those that
//!   opened the breaker (no look-up succeeded after it before the breaker opened), or of a run
//!   in which several look-ups failed and none succeeded, is recorded as tried but not
//!   counted: the portal was down, not the record;
//! - **the run's**: a refused login stops the run's look-ups (the account must not be locked);
//!   nothing is stored for the dossiers.
//!
//! When the breaker opens, the look-ups pause until it lets a probe through
//! (`breaker_cooldown_secs`, if that comes within the cycle) and go on one at a time until one
//! succeeds; if the probe fails, the rest wait for the next run.

use std::collections::{HashMap, VecDeque};

use super::short_reason;
use crate::cycle::{Cycle, SyncError};
use crate::plan::{self, Budget};
use crate::reconcile::{self, Evaluated, Kind};
use crate::source::SourceError;
use crate::store::{LookupFailure, LookupResult};

/// Replies stored per transaction.
const BATCH: usize = 200;

/// Whose fault a failed look-up is (see the module documentation).
#[derive(Clone, Debug, PartialEq, Eq)]
enum Fault {
    /// The dossier's request failed: the class to record (`http_502`, `portal_error`, …).
    Dossier(String),
    /// Never sent because the portal's circuit breaker is open.
    BreakerOpen,
    /// Never sent because no session could be opened (the login call failed).
    NoSession,
    /// Never sent, and no look-up can be in this run (a refused login, a setup error).
    StopRun,
}

/// Whose fault the error of a look-up is.
fn fault_of(e: &SourceError) -> Fault {
    match e {
        SourceError::Http(h) if h.is_circuit_open() => Fault::BreakerOpen,
        SourceError::Http(h) => match h.reason() {
            Some(r) => Fault::Dossier(r.to_string()),
            None => Fault::StopRun, // a setup error: no request can be formed
        },
        SourceError::Session { source, .. } if source.is_circuit_open() => Fault::BreakerOpen,
        SourceError::Session { .. } => Fault::NoSession,
        SourceError::Login { .. } => Fault::StopRun,
        SourceError::Portal { .. } => Fault::Dossier("portal_error".into()),
        SourceError::Reply { .. } => Fault::Dossier("bad_reply".into()),
    }
}

/// Why no more look-ups are sent in this run.
enum Stop {
    /// The breaker stayed open (its probe failed, or it would come after the cycle's end).
    Breaker,
    /// The login was refused, or the client cannot form a request: the error.
    Run(String),
    /// Sessions kept failing without the breaker opening (a safety stop).
    Sessions,
}

/// Looks up the planned dossiers, a few at a time, storing results in batches. A failed
/// look-up is stored as such and counted in the run's problems by reason (see the module
/// documentation for whose fault it is).
pub(super) async fn look_up(cx: &mut Cycle<'_>) -> Result<(), SyncError> {
    let (cfg, clients, clock) = (cx.cfg, cx.clients, cx.clock);
    let now = clock();
    let (cands, ids) = cx.store.lookup_candidates()?;
    let budget = Budget {
        per_second: cfg.national.lookups_per_second,
        per_cycle: cfg.national.lookups_per_cycle,
        cycle: cfg.sync_cycle(),
    };
    let settings = cfg.national.plan_settings();
    let chosen = plan::plan(&cands, now, budget, &settings);
    let concurrency = cfg.national.http.max_in_flight_per_host.max(1) as usize;
    // The look-ups must be done before the next cycle is planned: the breaker is waited for
    // only within that time.
    let deadline = tokio::time::Instant::now() + budget.cycle;
    let national = &clients.national;
    let mut queue: VecDeque<(String, String)> =
        interleave_failing(chosen, |i| cands[i].failures > 0)
            .into_iter()
            .map(|i| (ids[i].clone(), cands[i].code.clone()))
            .collect();
    let mut set = tokio::task::JoinSet::new();
    let mut batch: Vec<LookupResult> = Vec::new();
    // Failures since the last successful look-up: the dossiers' own unless the breaker opens
    // before a look-up succeeds again.
    let mut unconfirmed: Vec<LookupResult> = Vec::new();
    // Whether any look-up of this run got an answer from the portal.
    let mut answered = false;
    let mut errors_by_reason: HashMap<String, u64> = HashMap::new();
    let mut session_failures: HashMap<String, u64> = HashMap::new();
    let mut session_streak = 0u32;
    let mut stop: Option<Stop> = None;
    // The breaker is open: nothing is sent until the look-ups in flight are back.
    let mut paused = false;
    // After waiting for the breaker: one look-up at a time until one succeeds.
    let mut probing = false;
    let mut breaker_waits = 0u32;
    loop {
        let limit = if probing { 1 } else { concurrency };
        while stop.is_none() && !paused && set.len() < limit {
            let Some((id, code)) = queue.pop_front() else {
                break;
            };
            let client = national.clone();
            let clock = clock.clone();
            set.spawn(async move {
                let result = client.lookup(&code).await;
                (id, code, clock(), result)
            });
        }
        let Some(joined) = set.join_next().await else {
            // Nothing in flight: go on after the breaker's cool-down, or stop.
            if stop.is_none() && paused && !queue.is_empty() {
                match national.breaker_probe_at() {
                    _ if !national.breaker_open() => paused = false,
                    Some(at) if !probing && at <= deadline => {
                        tracing::info!(target: "sync", waiting_ms = at
                            .saturating_duration_since(tokio::time::Instant::now())
                            .as_millis() as u64,
                            "national portal circuit breaker open; waiting to probe it");
                        tokio::time::sleep_until(at).await;
                        breaker_waits += 1;
                        (paused, probing) = (false, true);
                    }
                    _ => stop = Some(Stop::Breaker),
                }
                if stop.is_none() {
                    continue;
                }
            }
            break;
        };
        let (dossier_id, code, at, result) =
            joined.map_err(|e| SyncError::Setup(format!("look-up task failed: {e}")))?;
        match result {
            Ok(v) => {
                cx.counts.lookups += 1;
                (probing, session_streak) = (false, 0);
                // The portal answered: the failures before this one were the dossiers' own.
                batch.append(&mut unconfirmed);
                answered = true;
                batch.push(LookupResult {
                    dossier_id,
                    code,
                    at,
                    result: Ok(v),
                });
            }
            Err(e) => match fault_of(&e) {
                Fault::Dossier(class) => {
                    cx.counts.lookups += 1;
                    cx.counts.lookup_errors += 1;
                    *errors_by_reason.entry(short_reason(&e)).or_default() += 1;
                    unconfirmed.push(LookupResult {
                        dossier_id,
                        code,
                        at,
                        result: Err(LookupFailure {
                            class,
                            message: e.to_string(),
                            counted: true,
                        }),
                    });
                }
                Fault::BreakerOpen => {
                    queue.push_front((dossier_id, code));
                    paused = true;
                }
                Fault::NoSession => {
                    queue.push_front((dossier_id, code));
                    *session_failures.entry(short_reason(&e)).or_default() += 1;
                    session_streak += 1;
                    // Each login is a request of its own for the breaker, which opens after
                    // `breaker_threshold` of them; this only guards against a loop.
                    if session_streak > 2 * cfg.national.http.breaker_threshold.max(1) {
                        stop.get_or_insert(Stop::Sessions);
                    }
                }
                Fault::StopRun => {
                    queue.push_front((dossier_id, code));
                    if stop.is_none() {
                        cx.counts.lookup_errors += 1;
                        stop = Some(Stop::Run(short_reason(&e)));
                    }
                }
            },
        }
        if national.breaker_open() {
            paused = true;
            // The failures that opened it were the portal's, not the dossiers'.
            for mut r in unconfirmed.drain(..) {
                if let Err(f) = &mut r.result {
                    f.counted = false;
                }
                batch.push(r);
            }
        }
        if batch.len() >= BATCH {
            cx.store.store_lookups(cx.run_id, &batch)?;
            batch.clear();
        }
    }
    // No look-up succeeded after these, and the breaker did not open: the dossiers' own, unless
    // no look-up of the run succeeded and several failed (the portal answered nobody, e.g. an
    // `error_code` for every call, which the HTTP breaker cannot see).
    if !answered && unconfirmed.len() > 1 {
        for r in &mut unconfirmed {
            if let Err(f) = &mut r.result {
                f.counted = false;
            }
        }
    }
    batch.append(&mut unconfirmed);
    cx.store.store_lookups(cx.run_id, &batch)?;
    let mut reasons: Vec<_> = errors_by_reason.into_iter().collect();
    reasons.sort();
    for (reason, n) in reasons {
        cx.problem(format!("{n} national look-ups failed: {reason}"));
    }
    let mut sessions: Vec<_> = session_failures.into_iter().collect();
    sessions.sort();
    for (reason, n) in sessions {
        cx.problem(format!(
            "no national session {n} times (the login call failed: {reason}); those look-ups \
             were not made"
        ));
    }
    let left = queue.len();
    match stop {
        Some(Stop::Run(reason)) => cx.problem(format!(
            "national look-ups failed: {reason}; no more were tried in this run ({left} \
             planned look-ups wait for the next run)"
        )),
        Some(Stop::Breaker) => cx.problem(format!(
            "national portal circuit breaker open{}; {left} planned look-ups wait for the \
             next run",
            if breaker_waits > 0 {
                " and its probe failed"
            } else {
                ""
            }
        )),
        Some(Stop::Sessions) => cx.problem(format!(
            "no national session could be opened; {left} planned look-ups wait for the next \
             run"
        )),
        None if breaker_waits > 0 => cx.problem(format!(
            "national portal circuit breaker opened {breaker_waits} times; look-ups went on \
             after a probe succeeded"
        )),
        None => {}
    }
    Ok(())
}

/// The planned look-ups in the order they are sent: the plan's, with the dossiers whose
/// look-ups keep failing (planned last) spread evenly among the others. Sent one after the
/// other they would fail in a row and open the circuit breaker, which would then take their
/// failures for the portal's; the whole plan is sent within the cycle anyway.
fn interleave_failing(chosen: Vec<usize>, failing: impl Fn(usize) -> bool) -> Vec<usize> {
    let (bad, good): (Vec<usize>, Vec<usize>) = chosen.into_iter().partition(|&i| failing(i));
    if bad.is_empty() || good.is_empty() {
        return good.into_iter().chain(bad).collect();
    }
    let step = good.len() as f64 / (bad.len() + 1) as f64;
    let mut out = Vec::with_capacity(good.len() + bad.len());
    let mut bad = bad.into_iter();
    let mut next_at = step;
    for (k, i) in good.into_iter().enumerate() {
        out.push(i);
        while (k + 1) as f64 >= next_at {
            match bad.next() {
                Some(b) => out.push(b),
                None => break,
            }
            next_at += step;
        }
    }
    out.extend(bad);
    out
}

/// Opens, refreshes and resolves `lookup_failing` (rules: `reconcile::check_failing`) and
/// counts the dossiers whose look-ups have failed for longer than
/// `national.lookup_failing_after_hours` in the run's summary.
pub(super) fn report_failing(cx: &mut Cycle<'_>) -> Result<(), SyncError> {
    let now = cx.now();
    let since = now - cx.cfg.national.lookup_failing_after();
    let failing = cx.store.failing_lookups(since)?;
    let active = cx.store.active_lookup_failing()?;
    cx.counts.lookups_failing = failing.len() as u64;
    if failing.is_empty() && active.is_empty() {
        return Ok(());
    }
    let verdict = reconcile::check_failing(&failing, &active);
    super::apply_verdict(
        cx,
        now,
        Kind::LookupFailing,
        verdict.resolve,
        verdict.findings,
        Evaluated::LOOKUP,
    )?;
    if !failing.is_empty() {
        tracing::warn!(target: "sync", dossiers = failing.len(),
            hours = cx.cfg.national.lookup_failing_after_hours,
            "national look-ups of some dossiers have failed for too long (lookup_failing)");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::HttpError;

    #[test]
    fn failing_look_ups_are_spread_among_the_others() {
        let failing = |i: usize| i >= 100;
        let order = interleave_failing((0..10).chain(100..103).collect(), failing);
        assert_eq!(order, [0, 1, 2, 100, 3, 4, 101, 5, 6, 7, 102, 8, 9]);
        // Nothing readable: as planned.
        assert_eq!(interleave_failing(vec![100, 101], failing), [100, 101]);
        assert_eq!(interleave_failing(vec![1, 2], failing), [1, 2]);
        // More failing than readable: as evenly as they go.
        let order = interleave_failing(vec![0, 1, 100, 101, 102, 103, 104], failing);
        assert_eq!(order, [0, 100, 101, 102, 1, 103, 104]);
    }

    #[test]
    fn whose_fault() {
        let status = |s| HttpError::Status {
            host: "h:1".into(),
            status: s,
            excerpt: String::new(),
        };
        let gave_up = HttpError::GaveUp {
            host: "h:1".into(),
            attempts: 11,
            last: Box::new(status(502)),
        };
        let open = || HttpError::CircuitOpen {
            host: "h:1".into(),
            failures: 5,
        };
        let timeout = HttpError::Transport {
            host: "h:1".into(),
            what: "timed out: x".into(),
        };
        let cases: Vec<(SourceError, Fault)> = vec![
            (gave_up.into(), Fault::Dossier("http_502".into())),
            (timeout.into(), Fault::Dossier("timeout".into())),
            (open().into(), Fault::BreakerOpen),
            (
                SourceError::Session {
                    portal: "national",
                    source: open(),
                },
                Fault::BreakerOpen,
            ),
            (
                SourceError::Session {
                    portal: "national",
                    source: status(503),
                },
                Fault::NoSession,
            ),
            (
                SourceError::Login {
                    portal: "national",
                    problem: crate::source::LoginProblem::Credentials,
                    message: "wrong password".into(),
                },
                Fault::StopRun,
            ),
            (
                HttpError::Setup("invalid URL".into()).into(),
                Fault::StopRun,
            ),
            (
                SourceError::Portal {
                    portal: "national",
                    call: "TraCuuHoSo".into(),
                    code: "99".into(),
                    message: "Lỗi hệ thống".into(),
                },
                Fault::Dossier("portal_error".into()),
            ),
            (
                SourceError::Reply {
                    portal: "national",
                    call: "TraCuuHoSo".into(),
                    message: "`result` is null".into(),
                },
                Fault::Dossier("bad_reply".into()),
            ),
        ];
        for (e, want) in cases {
            assert_eq!(fault_of(&e), want, "{e}");
        }
    }
}
