//! The sync faults a world injects between the province's records and the portal's view, and
//! the ground truth they leave: each fault with the discrepancy kind it must produce.

use chrono::{Duration, NaiveDate};

use super::flow::{add_working_days, is_weekday, random_office_time, Rng};
use super::records::{Fault, GroundTruth, NationalRow, Procedure, SimDossier, FAULT_MIN_AGE_HOURS};
use super::world::World;
use crate::model::{LocalTime, Status};

impl World {
    /// Adds national rows no provincial dossier has, each received at least
    /// [`FAULT_MIN_AGE_HOURS`] before `now` and within the last 25 days.
    pub(super) fn inject_only_on_national(&mut self, rng: &mut Rng, now: LocalTime) {
        let wanted =
            (self.dossiers.len() as f64 * self.params.only_on_national_rate).round() as usize;
        let latest = now - Duration::hours(FAULT_MIN_AGE_HOURS);
        let days: Vec<NaiveDate> = (latest.date() - Duration::days(25))
            .iter_days()
            .take_while(|d| *d <= latest.date())
            .filter(|d| is_weekday(*d))
            .collect();
        if days.is_empty() {
            return;
        }
        for i in 0..wanted {
            let agency_idx = rng.below(self.agencies.len() as u64) as usize;
            let agency = &self.agencies[agency_idx];
            let procs: Vec<&Procedure> = self
                .procedures
                .iter()
                .filter(|p| p.level == agency.level)
                .collect();
            let proc = *rng.pick(&procs);
            let day = *rng.pick(&days);
            let received = random_office_time(rng, day).min(latest);
            let due = add_working_days(received, proc.working_days);
            let finished = received + Duration::minutes(60 + rng.below(600) as i64);
            let closed = finished <= latest && rng.chance(0.5);
            // Sequence numbers from 9000 never meet the generated ones (a few per unit a day).
            let code = format!("{}-{}-{:04}", agency.code, day.format("%y%m%d"), 9000 + i);
            self.national.insert(
                code.clone(),
                NationalRow {
                    code: code.clone(),
                    procedure_code: proc.code.clone(),
                    status: if closed {
                        Status::Resolved
                    } else {
                        Status::Processing
                    },
                    status_at: Some(if closed { finished } else { received }),
                    received_at: Some(received),
                    due_at: Some(due),
                    finished_at: closed.then_some(finished),
                    returned_at: None,
                    unit_code: agency.code.clone(),
                    unit_name: agency.name.clone(),
                    history: Vec::new(),
                },
            );
            self.truth.push(GroundTruth {
                dossier_id: format!("nat:{code}"),
                dossier_code: code,
                fault: Fault::OnlyOnNational,
                expected_kind: "missing_on_provincial".into(),
            });
        }
        self.truth.sort_by(|a, b| a.dossier_id.cmp(&b.dossier_id));
    }

    pub(super) fn inject_faults(&mut self, rng: &mut Rng, now: LocalTime) {
        let wanted = (self.dossiers.len() as f64 * self.params.fault_rate).round() as usize;
        if wanted == 0 {
            return;
        }
        let mut order: Vec<usize> = (0..self.dossiers.len()).collect();
        for i in (1..order.len()).rev() {
            let j = rng.below(i as u64 + 1) as usize;
            order.swap(i, j);
        }
        let old_enough = now - Duration::hours(FAULT_MIN_AGE_HOURS);
        let mut next_fault = 0usize;
        let no_due: Vec<bool> = self.dossiers.iter().map(|d| self.no_due_date(d)).collect();
        let mut taken = 0usize;
        for &i in &order {
            if taken == wanted {
                break;
            }
            let d = &self.dossiers[i];
            let status = d.status();
            if no_due[i]
                || d.updated_at() > old_enough
                || !status.is_received()
                || status == Status::Submitted
            {
                continue;
            }
            // Try the faults in turn, starting where the last one left off, so kinds spread.
            let mut applied = None;
            for k in 0..Fault::ALL.len() {
                let fault = Fault::ALL[(next_fault + k) % Fault::ALL.len()];
                if let Some(kind) = self.try_fault(i, fault) {
                    applied = Some((fault, kind));
                    next_fault = (next_fault + k + 1) % Fault::ALL.len();
                    break;
                }
            }
            if let Some((fault, kind)) = applied {
                let d = &self.dossiers[i];
                self.truth.push(GroundTruth {
                    dossier_id: d.id.clone(),
                    dossier_code: d.national_code.clone(),
                    fault,
                    expected_kind: kind.to_string(),
                });
                taken += 1;
            }
        }
        self.truth.sort_by(|a, b| a.dossier_id.cmp(&b.dossier_id));
    }

    /// Whether `d`'s procedure is one the province sets no due date for
    /// (`Flows::no_due_date_procedures`).
    pub(super) fn no_due_date(&self, d: &SimDossier) -> bool {
        self.params
            .flows
            .no_due_date_procedures
            .contains(&self.procedures[d.procedure].code)
    }

    /// Adds a [`Fault::DueNotSet`] line for every received dossier without a due date of a
    /// procedure in `Flows::no_due_date_procedures`.
    pub(super) fn add_due_not_set(&mut self) {
        let lines: Vec<GroundTruth> = self
            .dossiers
            .iter()
            .filter(|d| self.no_due_date(d))
            .filter_map(due_not_set)
            .collect();
        if !lines.is_empty() {
            self.truth.extend(lines);
            self.truth.sort_by(|a, b| a.dossier_id.cmp(&b.dossier_id));
        }
    }

    /// Applies `fault` to dossier `i` if it fits; returns the discrepancy kind it must cause.
    fn try_fault(&mut self, i: usize, fault: Fault) -> Option<&'static str> {
        // A finish time the vendor does not write cannot be found missing on the portal.
        if fault == Fault::FinishNotPushed
            && self.params.vendor_habits
            && super::habits::finish_left_empty(i, &self.dossiers[i])
        {
            return None;
        }
        let code = self.dossiers[i].national_code.clone();
        let mut row = self.national.remove(&code);
        let kind = apply_fault(&mut self.dossiers[i], &mut row, fault);
        if let Some(r) = row {
            self.national.insert(code, r);
        }
        kind
    }
}

/// The ground truth of a dossier of a procedure the province sets no due date for: a
/// `missing_due_date` finding once it is received (status 2, 4–10, a received time, no due
/// date).
pub(super) fn due_not_set(d: &SimDossier) -> Option<GroundTruth> {
    (d.status().is_received()
        && d.received_at.is_some()
        && d.due_at.is_none()
        && d.label_override.is_none())
    .then(|| GroundTruth {
        dossier_id: d.id.clone(),
        dossier_code: d.national_code.clone(),
        fault: Fault::DueNotSet,
        expected_kind: "missing_due_date".into(),
    })
}

/// Applies `fault` to one dossier and its national row (`None` = the portal has none) if it
/// fits; returns the discrepancy kind it must cause. Changes nothing when it does not fit.
pub(super) fn apply_fault(
    d: &mut SimDossier,
    national: &mut Option<NationalRow>,
    fault: Fault,
) -> Option<&'static str> {
    let status = d.status();
    match fault {
        Fault::PushLost => {
            national.take()?;
            Some("missing_on_national")
        }
        Fault::StatusStale => {
            // An earlier received status with different dates semantics.
            let (earlier_at, earlier) = d
                .history
                .iter()
                .rev()
                .skip(1)
                .copied()
                .find(|(_, s)| s.is_received() && *s != status && !s.is_terminal())?;
            let row = national.as_mut()?;
            row.status = earlier;
            row.status_at = Some(earlier_at);
            // The later pushes never arrived.
            row.history.retain(|h| h.0 <= earlier_at);
            row.finished_at = None;
            row.returned_at = None;
            Some(if status.is_terminal() {
                "closed_locally_open_nationally"
            } else {
                "status_mismatch"
            })
        }
        Fault::Collapsed => {
            if !status.is_collapsible() {
                return None;
            }
            let since = d.status_since();
            let row = national.as_mut()?;
            row.status = Status::Resolved;
            row.finished_at = Some(since);
            // The push of the 5, 6 or 8 arrived as a 9.
            if let Some(last) = row.history.last_mut().filter(|h| h.0 == since) {
                last.1 = Status::Resolved;
            }
            Some("collapsed_status")
        }
        Fault::DueNotPushed => {
            let original = d.original_due_at?;
            let row = national.as_mut()?;
            row.due_at = Some(original);
            for h in &mut row.history {
                h.2 = h.2.map(|_| original);
            }
            Some("due_date_mismatch")
        }
        Fault::FinishNotPushed => {
            if !matches!(status, Status::Resolved | Status::Returned) {
                return None;
            }
            let row = national.as_mut()?;
            row.finished_at.take()?;
            Some("finish_date_mismatch")
        }
        Fault::CodeRewritten => {
            // The vendor rewrote the code into its local shape; the portal cannot match it.
            d.national_code = format!("{}-{}", d.local_code, d.agency);
            Some("bad_dossier_code")
        }
        Fault::UnmappedLabel => {
            if status.is_terminal() {
                return None;
            }
            d.label_override = Some("Chờ phê duyệt lãnh đạo".into());
            Some("unmapped_status")
        }
        // Injected separately (`WorldParams::only_on_national_rate`, `Flows`), never by this.
        Fault::OnlyOnNational | Fault::DueNotSet => None,
    }
}
