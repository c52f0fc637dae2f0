//! A streaming world for benchmarks: the same dossier model, status flows and sync faults as
//! [`World::generate`], produced one dossier at a time so that a million dossiers never sit in
//! memory at once. Deterministic for its parameters, but a different world from
//! [`World::generate`]'s (which stays as it is): faults are spread by a running quota rather
//! than a shuffle, so a dossier's fate is decided as it is made.

use std::collections::HashMap;

use chrono::{Duration, NaiveDate};

use super::flow::{
    frame, is_weekday, national_row, random_office_time, truncate_seconds, Draft, Rng,
};
use super::records::{
    Fault, GroundTruth, NationalRow, SimDossier, WorldParams, FAULT_MIN_AGE_HOURS,
};
use super::truth::{apply_fault, due_not_set};
use super::world::World;

/// One generated dossier: the province's record, the portal's row (`None`: the portal has
/// none) and the fault injected into it, if any.
#[derive(Clone, Debug)]
pub struct Generated {
    /// The province's record.
    pub dossier: SimDossier,
    /// The portal's row; `None` when the portal has none (a lost push).
    pub national: Option<NationalRow>,
    /// The fault injected into it, with the discrepancy it must produce; `None` when none.
    pub truth: Option<GroundTruth>,
}

/// Yields `params.dossiers` dossiers; `frame()` is the world they belong to (agencies and
/// procedures, no dossiers), for [`super::provincial::render_row`].
pub struct WorldStream {
    frame: World,
    rng: Rng,
    officials: Vec<Vec<String>>,
    days: Vec<NaiveDate>,
    seq_per_day: HashMap<(usize, NaiveDate), u32>,
    /// Agencies of each level, by procedure index.
    candidates: Vec<Vec<usize>>,
    made: usize,
    faults: usize,
    next_fault: usize,
}

impl WorldStream {
    /// A stream of the world `params` describes; nothing is generated until it is iterated.
    pub fn new(params: WorldParams) -> WorldStream {
        let mut rng = Rng::new(params.seed);
        let now = truncate_seconds(params.now);
        let (agencies, procedures, officials) = frame(&mut rng);
        let first_day = now.date() - Duration::days(i64::from(params.days));
        let mut days: Vec<NaiveDate> = first_day
            .iter_days()
            .take_while(|d| *d <= now.date())
            .filter(|d| is_weekday(*d))
            .collect();
        if days.is_empty() {
            days.push(now.date());
        }
        let candidates = procedures
            .iter()
            .map(|p| {
                agencies
                    .iter()
                    .enumerate()
                    .filter(|(_, a)| a.level == p.level)
                    .map(|(i, _)| i)
                    .collect()
            })
            .collect();
        WorldStream {
            frame: World {
                params,
                agencies,
                procedures,
                dossiers: Vec::new(),
                national: HashMap::new(),
                truth: Vec::new(),
            },
            rng,
            officials,
            days,
            seq_per_day: HashMap::new(),
            candidates,
            made: 0,
            faults: 0,
            next_fault: 0,
        }
    }

    /// The world the dossiers belong to: its parameters, agencies and procedures, with no
    /// dossiers, national rows or truth.
    pub fn frame(&self) -> &World {
        &self.frame
    }

    /// Collects the whole stream into a [`World`] (for the simulators).
    pub fn into_world(mut self) -> World {
        let mut dossiers = Vec::with_capacity(self.frame.params.dossiers);
        let mut national = HashMap::new();
        let mut truth = Vec::new();
        for g in self.by_ref() {
            if let Some(r) = g.national {
                national.insert(r.code.clone(), r);
            }
            truth.extend(g.truth);
            dossiers.push(g.dossier);
        }
        truth.sort_by(|a: &GroundTruth, b| a.dossier_id.cmp(&b.dossier_id));
        World {
            dossiers,
            national,
            truth,
            ..self.frame
        }
    }

    fn make(&mut self) -> Option<SimDossier> {
        let now = truncate_seconds(self.frame.params.now);
        let rng = &mut self.rng;
        let n = self.made;
        let proc_idx = rng.below(self.frame.procedures.len() as u64) as usize;
        let agency = *rng.pick(&self.candidates[proc_idx]);
        let day = *rng.pick(&self.days);
        let applied_at = random_office_time(rng, day);
        if applied_at > now {
            return None;
        }
        let seq = self.seq_per_day.entry((agency, day)).or_insert(0);
        *seq += 1;
        let draft = Draft {
            seed: self.frame.params.seed,
            n,
            procedure: proc_idx,
            working_days: self.frame.procedures[proc_idx].working_days,
            agency,
            day,
            applied_at,
            seq: *seq,
            no_due_date: self
                .frame
                .params
                .flows
                .no_due_date_procedures
                .contains(&self.frame.procedures[proc_idx].code),
        };
        let d = draft.realise(
            rng,
            &self.frame.agencies,
            &self.officials,
            now,
            &self.frame.params.flows,
        );
        Some(d)
    }
}

impl Iterator for WorldStream {
    type Item = Generated;

    fn next(&mut self) -> Option<Generated> {
        let params = &self.frame.params;
        if self.made >= params.dossiers {
            return None;
        }
        let now = truncate_seconds(params.now);
        let fault_rate = params.fault_rate;
        let mut d = loop {
            if let Some(d) = self.make() {
                break d;
            }
        };
        self.made += 1;
        let mut national = national_row(&d, &self.frame.agencies, &self.frame.procedures, now);
        // A running quota spreads the faults evenly: fault the next eligible dossier whenever
        // fewer than `made × fault_rate` have been faulted so far.
        let no_due = self
            .frame
            .params
            .flows
            .no_due_date_procedures
            .contains(&self.frame.procedures[d.procedure].code);
        let mut truth = if no_due { due_not_set(&d) } else { None };
        let status = d.status();
        let eligible = !no_due
            && d.updated_at() <= now - Duration::hours(FAULT_MIN_AGE_HOURS)
            && status.is_received();
        if eligible && (self.faults as f64) < self.made as f64 * fault_rate {
            for k in 0..Fault::ALL.len() {
                let fault = Fault::ALL[(self.next_fault + k) % Fault::ALL.len()];
                if let Some(kind) = apply_fault(&mut d, &mut national, fault) {
                    self.next_fault = (self.next_fault + k + 1) % Fault::ALL.len();
                    self.faults += 1;
                    truth = Some(GroundTruth {
                        dossier_id: d.id.clone(),
                        dossier_code: d.national_code.clone(),
                        fault,
                        expected_kind: kind.to_string(),
                    });
                    break;
                }
            }
        }
        Some(Generated {
            dossier: d,
            national,
            truth,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> crate::model::LocalTime {
        NaiveDate::from_ymd_opt(2026, 11, 20)
            .unwrap()
            .and_hms_opt(16, 0, 0)
            .unwrap()
    }

    #[test]
    fn deterministic_and_faults_every_kind() {
        let a: Vec<_> = WorldStream::new(WorldParams::new(3, 4000, 0.02, now()))
            .map(|g| g.dossier)
            .collect();
        let w = WorldStream::new(WorldParams::new(3, 4000, 0.02, now())).into_world();
        assert_eq!(a, w.dossiers);
        assert_eq!(w.truth.len(), 80);
        for f in Fault::ALL {
            assert!(w.truth.iter().any(|t| t.fault == f), "{f:?} never injected");
        }
        let mut codes: Vec<_> = w.dossiers.iter().map(|d| &d.national_code).collect();
        codes.sort();
        codes.dedup();
        assert_eq!(codes.len(), w.dossiers.len(), "national codes are unique");
    }
}
