//! The national look-ups of a cycle (`TraCuuHoSo`): which dossiers, by the planner under the
//! budget (`crate::plan`), looked up a few at a time, the replies stored in batches.

use std::collections::HashMap;

use super::short_reason;
use crate::cycle::{Cycle, SyncError};
use crate::plan::{self, Budget, PlanSettings};
use crate::source::SourceError;
use crate::store::LookupResult;

/// Replies stored per transaction.
const BATCH: usize = 200;

/// Looks up the planned dossiers, a few at a time, storing results in batches. A failed
/// look-up is stored as such and counted in the run's problems by reason; once the portal's
/// circuit breaker opens, the remaining look-ups wait for the next run.
pub(super) async fn look_up(cx: &mut Cycle<'_>) -> Result<(), SyncError> {
    let (cfg, clients, clock) = (cx.cfg, cx.clients, cx.clock);
    let now = clock();
    let (cands, ids) = cx.store.lookup_candidates()?;
    let budget = Budget {
        per_second: cfg.national.lookups_per_second,
        per_cycle: cfg.national.lookups_per_cycle,
        cycle: cfg.sync_cycle(),
    };
    let settings = PlanSettings {
        sync_grace: cfg.national.sync_grace(),
        due_soon: cfg.national.due_soon(),
        recheck: cfg.national.recheck(),
    };
    let chosen = plan::plan(&cands, now, budget, &settings);
    let concurrency = cfg.national.http.max_in_flight_per_host.max(1) as usize;
    let mut queue = chosen
        .into_iter()
        .map(|i| (ids[i].clone(), cands[i].code.clone()));
    let mut set = tokio::task::JoinSet::new();
    let mut batch: Vec<LookupResult> = Vec::new();
    let mut errors_by_reason: HashMap<String, u64> = HashMap::new();
    let mut breaker_open = false;
    loop {
        while !breaker_open && set.len() < concurrency {
            let Some((id, code)) = queue.next() else {
                break;
            };
            let client = clients.national.clone();
            let clock = clock.clone();
            set.spawn(async move {
                let result = client.lookup(&code).await;
                (id, code, clock(), result)
            });
        }
        let Some(joined) = set.join_next().await else {
            break;
        };
        let (dossier_id, code, at, result) =
            joined.map_err(|e| SyncError::Setup(format!("look-up task failed: {e}")))?;
        cx.counts.lookups += 1;
        let result = match result {
            Ok(v) => Ok(v),
            Err(e) => {
                cx.counts.lookup_errors += 1;
                if matches!(&e, SourceError::Http(h) if h.is_circuit_open()) {
                    breaker_open = true;
                }
                let reason = short_reason(&e);
                *errors_by_reason.entry(reason.clone()).or_default() += 1;
                Err(e.to_string())
            }
        };
        batch.push(LookupResult {
            dossier_id,
            code,
            at,
            result,
        });
        if batch.len() >= BATCH {
            cx.store.store_lookups(cx.run_id, &batch)?;
            batch.clear();
        }
    }
    cx.store.store_lookups(cx.run_id, &batch)?;
    let mut reasons: Vec<_> = errors_by_reason.into_iter().collect();
    reasons.sort();
    for (reason, n) in reasons {
        cx.problem(format!("{n} national look-ups failed: {reason}"));
    }
    if breaker_open {
        cx.problem(
            "national portal circuit breaker opened; remaining look-ups wait for the next run",
        );
    }
    Ok(())
}
