//! The national list of a cycle (`DanhSachHoSo`, only when `national.list_units` is set): the
//! I/O around `reconcile::check_listed`, which holds the `missing_on_provincial` rules.

use std::collections::{BTreeSet, HashSet};

use super::pass::sync_grace;
use super::short_reason;
use crate::cycle::{Cycle, SyncError};
use crate::model::NationalDossier;
use crate::reconcile::{self, Evaluated, Kind};

/// Lists the configured units' dossiers and stores every listed row as a successful view;
/// opens `missing_on_provincial` (key `nat:<code>`) for listed codes no provincial dossier
/// holds, and resolves those whose code a provincial dossier now holds (every cycle,
/// configured or not). The rules are `reconcile::check_listed`'s.
///
/// A failed list call changes nothing for its unit (a problem on the run); when this cycle's
/// provincial pull was incomplete (`provincial_complete` false) nothing is opened, since the
/// province may simply not have been read yet; and a dossier received less than
/// `national.sync_grace_minutes` ago is left for the next cycle.
pub async fn list_national(cx: &mut Cycle<'_>, provincial_complete: bool) -> Result<(), SyncError> {
    let now = cx.now();
    let active: Vec<(i64, String)> = cx
        .store
        .active_missing_on_provincial()?
        .into_iter()
        .map(|(id, _, code)| (id, code))
        .collect();
    let n = &cx.cfg.national;
    // Every row of the calls that succeeded, with the unit that listed it; only kept when
    // they can open something.
    let mut listed: Vec<(&str, NationalDossier)> = Vec::new();
    if !n.list_units.is_empty() {
        let to = now.date();
        let from = to - chrono::Duration::days(i64::from(n.list_days.max(1)) - 1);
        for unit in &n.list_units {
            let reply = match cx.clients.national.list(unit, from, to).await {
                Ok(l) => l,
                Err(e) => {
                    cx.problem(format!(
                        "DanhSachHoSo for unit {unit} failed: {}; nothing was concluded from it",
                        short_reason(&e)
                    ));
                    continue;
                }
            };
            if let Some(first) = reply.bad.first() {
                cx.problem(format!(
                    "{} DanhSachHoSo rows of unit {unit} could not be read and were skipped \
                     (first: {first})",
                    reply.bad.len()
                ));
            }
            let at = cx.now();
            cx.store.store_listed(cx.run_id, at, &reply.rows)?;
            cx.counts.listed += reply.rows.len() as u64;
            if provincial_complete {
                listed.extend(reply.rows.into_iter().map(|(d, _)| (unit.as_str(), d)));
            }
        }
        if !provincial_complete {
            cx.problem(
                "missing_on_provincial not evaluated: this cycle's provincial pull was incomplete",
            );
        }
    }
    // Which of the codes, active and listed, a provincial dossier holds.
    let codes: BTreeSet<&String> = active
        .iter()
        .map(|(_, code)| code)
        .chain(listed.iter().map(|(_, d)| &d.core.code))
        .collect();
    let held: HashSet<String> = if codes.is_empty() {
        HashSet::new()
    } else {
        cx.store
            .provincial_codes_among(&codes.into_iter().cloned().collect::<Vec<_>>())?
    };
    let listed: Vec<(&str, &NationalDossier)> = listed.iter().map(|(u, d)| (*u, d)).collect();
    let verdict = reconcile::check_listed(
        &active,
        &listed,
        &held,
        provincial_complete,
        sync_grace(cx.cfg),
        now,
    );
    super::apply_verdict(
        cx,
        now,
        Kind::MissingOnProvincial,
        verdict.resolve,
        verdict.findings,
        Evaluated::LISTED,
    )?;
    Ok(())
}
