//! The synthetic world both simulators render: Điện Biên's agencies, procedures, and dossiers
//! received over working days with due dates and realistic status flows (`flow`); then a
//! known set of sync faults applied to the national view, recorded as ground truth (`truth`).
//!
//! Deterministic for a seed and a "now". All names, codes and people are synthetic.

use std::collections::HashMap;

use chrono::{Duration, NaiveDate};
use serde::{Deserialize, Serialize};

pub use super::flow::PUSH_LAG_MINUTES;
use super::flow::{
    frame, is_weekday, national_row, random_office_time, truncate_seconds, Draft, Rng,
};
pub use super::records::{
    Agency, Applicant, Fault, Flows, GroundTruth, NationalRow, Procedure, SimDossier, WorldParams,
    FAULT_MIN_AGE_HOURS,
};
use crate::model::LocalTime;

/// A synthetic province with both portals' views of its dossiers, and the faults injected
/// between them.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct World {
    /// What it was generated from.
    pub params: WorldParams,
    /// The units (the same for every world).
    pub agencies: Vec<Agency>,
    /// The procedures (the same for every world).
    pub procedures: Vec<Procedure>,
    /// The province's dossiers, as the provincial simulator serves them.
    pub dossiers: Vec<SimDossier>,
    /// The national view, by national code (a lost push has no row).
    pub national: HashMap<String, NationalRow>,
    /// Every injected fault with the discrepancy it must produce.
    pub truth: Vec<GroundTruth>,
}

impl World {
    /// Generates the world for `params`.
    pub fn generate(params: WorldParams) -> World {
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
        let mut seq_per_day: HashMap<(usize, NaiveDate), u32> = HashMap::new();
        let mut dossiers = Vec::with_capacity(params.dossiers);
        while dossiers.len() < params.dossiers {
            let n = dossiers.len();
            let proc_idx = rng.below(procedures.len() as u64) as usize;
            let proc = &procedures[proc_idx];
            let candidates: Vec<usize> = agencies
                .iter()
                .enumerate()
                .filter(|(_, a)| a.level == proc.level)
                .map(|(i, _)| i)
                .collect();
            let agency = *rng.pick(&candidates);
            let day = *rng.pick(&days);
            let applied_at = random_office_time(&mut rng, day);
            if applied_at > now {
                continue;
            }
            let seq = seq_per_day.entry((agency, day)).or_insert(0);
            *seq += 1;
            let draft = Draft {
                seed: params.seed,
                n,
                procedure: proc_idx,
                working_days: proc.working_days,
                agency,
                day,
                applied_at,
                seq: *seq,
                no_due_date: params.flows.no_due_date_procedures.contains(&proc.code),
            };
            dossiers.push(draft.realise(&mut rng, &agencies, &officials, now, &params.flows));
        }

        if params.vendor_habits {
            super::habits::close_times(&mut dossiers);
        }
        let national = dossiers
            .iter()
            .filter_map(|d| national_row(d, &agencies, &procedures, now))
            .map(|r| (r.code.clone(), r))
            .collect();
        let mut world = World {
            params,
            agencies,
            procedures,
            dossiers,
            national,
            truth: Vec::new(),
        };
        world.inject_faults(&mut rng, now);
        if world.params.only_on_national_rate > 0.0 {
            world.inject_only_on_national(&mut rng, now);
        }
        world.add_due_not_set();
        world
    }

    /// The world as both portals held it at `t` (its history up to `t`; `params.now` = `t`):
    /// each dossier [`SimDossier::as_of`] (one applied after `t` is kept at its index but not
    /// served: [`SimControl::order`](super::SimControl::order) leaves it out), the national view
    /// the correct pushes had made by then, and the ground truth of that moment. Served by
    /// [`Simulators::advance_to`](super::Simulators::advance_to), so a test can run sync cycles
    /// while the world's clock moves.
    ///
    /// Only a world without sync faults can be rewound (its national view is the correct
    /// pushes); an error says so, as it does for a `t` after the world's now.
    pub fn as_of(&self, t: LocalTime) -> Result<World, String> {
        if let Some(f) = self.truth.iter().find(|g| g.fault != Fault::DueNotSet) {
            return Err(format!(
                "a world with sync faults cannot be rewound ({:?} on {}): generate it with \
                 fault_rate 0 and only_on_national_rate 0",
                f.fault, f.dossier_code
            ));
        }
        let now = truncate_seconds(self.params.now);
        let t = truncate_seconds(t);
        if t > now {
            return Err(format!("{t} is after the world's now ({now})"));
        }
        let national = self
            .dossiers
            .iter()
            .filter_map(|d| national_row(d, &self.agencies, &self.procedures, t))
            .map(|r| (r.code.clone(), r))
            .collect();
        let mut world = World {
            params: WorldParams {
                now: t,
                ..self.params.clone()
            },
            agencies: self.agencies.clone(),
            procedures: self.procedures.clone(),
            dossiers: self.dossiers.iter().map(|d| d.as_of(t)).collect(),
            national,
            truth: Vec::new(),
        };
        world.dossiers.iter_mut().for_each(|d| {
            if d.applied_at > t {
                d.history.clear();
            }
        });
        world.add_due_not_set();
        Ok(world)
    }

    /// Whether dossier `d` exists at the world's now (it was applied by then).
    pub fn exists(&self, d: &SimDossier) -> bool {
        d.applied_at <= self.params.now
    }

    /// The unit handling `d`.
    pub fn agency(&self, d: &SimDossier) -> &Agency {
        &self.agencies[d.agency]
    }
    /// The procedure of `d`.
    pub fn procedure(&self, d: &SimDossier) -> &Procedure {
        &self.procedures[d.procedure]
    }

    /// Looks up the national row of a code as the portal would.
    pub fn national_lookup(&self, code: &str) -> Option<&NationalRow> {
        self.national.get(code)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Status;

    fn now() -> LocalTime {
        NaiveDate::from_ymd_opt(2026, 11, 20)
            .unwrap()
            .and_hms_opt(16, 0, 0)
            .unwrap()
    }

    #[test]
    fn deterministic_for_a_seed() {
        let a = World::generate(WorldParams::new(7, 500, 0.05, now()));
        let b = World::generate(WorldParams::new(7, 500, 0.05, now()));
        assert_eq!(a.dossiers, b.dossiers);
        assert_eq!(a.truth, b.truth);
        let c = World::generate(WorldParams::new(8, 500, 0.05, now()));
        assert_ne!(a.dossiers, c.dossiers);
    }

    fn with_flows(seed: u64, n: usize, faults: f64) -> World {
        World::generate(WorldParams {
            flows: Flows {
                supplement_rate: 0.3,
                due_extended_rate: 0.5,
                second_request_rate: 0.5,
                edit_rate: 0.3,
                no_due_date_procedures: vec!["1.004227".into()],
            },
            ..WorldParams::new(seed, n, faults, now())
        })
    }

    #[test]
    fn flows_are_in_the_world_and_consistent() {
        let w = with_flows(5, 2000, 0.0);
        let mut moved = 0;
        let mut second = 0;
        for d in &w.dossiers {
            // History ordered; the last modification is the latest of everything.
            assert!(d.history.windows(2).all(|h| h[0].0 <= h[1].0), "{d:?}");
            assert!(d.updated_at() >= d.status_since());
            for &(at, before) in &d.due_moves {
                moved += 1;
                let after = d.due_as_of(at).unwrap();
                assert!(after > before, "{d:?}");
                assert_eq!(d.due_as_of(at - Duration::minutes(1)), Some(before));
                // Moved as processing resumed after a supplement request.
                assert!(d
                    .history
                    .iter()
                    .any(|h| h.0 == at && h.1 == Status::Processing));
            }
            for &e in &d.edits {
                assert!(e >= d.status_since() + Duration::hours(24), "{d:?}");
                assert_eq!(d.history.iter().filter(|h| h.0 == e).count(), 0);
            }
            let requests = d
                .history
                .iter()
                .filter(|h| h.1 == Status::SupplementRequested)
                .count();
            second += usize::from(requests > 1);
            if w.no_due_date(d) {
                assert_eq!(d.due_at, None);
                assert!(w
                    .national_lookup(&d.national_code)
                    .is_none_or(|r| r.due_at.is_none()));
            }
        }
        assert!(
            moved >= 10 && second >= 10,
            "moved {moved}, second {second}"
        );
        assert!(w.dossiers.iter().filter(|d| !d.edits.is_empty()).count() >= 100);
        assert!(w.truth.iter().all(|t| t.fault == Fault::DueNotSet));
        assert!(w.truth.len() >= 50);
    }

    #[test]
    fn a_world_rewound_is_its_past() {
        let w = with_flows(6, 800, 0.0);
        // At its own now, the world is itself.
        let same = w.as_of(w.params.now).unwrap();
        assert_eq!(same.dossiers, w.dossiers);
        assert_eq!(same.national, w.national);
        assert_eq!(same.truth, w.truth);
        // Ten days earlier: every dossier's past, the pushes made by then.
        let t = w.params.now - Duration::days(10);
        let past = w.as_of(t).unwrap();
        assert_eq!(past.params.now, t);
        for (d, p) in w.dossiers.iter().zip(&past.dossiers) {
            if !past.exists(p) {
                assert!(d.applied_at > t);
                continue;
            }
            assert!(p.history.len() <= d.history.len());
            assert_eq!(p.history[..], d.history[..p.history.len()]);
            assert!(p.updated_at() <= t);
            assert_eq!(p.due_at, d.due_as_of(t));
            match past.national_lookup(&p.national_code) {
                Some(r) => {
                    assert!(r.history.iter().all(|h| h.0 <= t));
                    // The last push shows the current status (a due-date change may
                    // follow the status's own push).
                    assert_eq!(r.history.last().map(|h| h.1), Some(r.status));
                    assert!(r
                        .history
                        .iter()
                        .any(|h| Some(h.0) == r.status_at && h.1 == r.status));
                }
                None => assert!(
                    p.status() == Status::Submitted
                        || p.status_since() > t - Duration::minutes(PUSH_LAG_MINUTES)
                ),
            }
        }
        assert!(past.exists(&past.dossiers[0]) || w.dossiers.iter().any(|d| d.applied_at > t));
        // A world with sync faults cannot be rewound; nor can one go past its now.
        let faulty = World::generate(WorldParams::new(6, 300, 0.05, now()));
        assert!(faulty.as_of(now()).unwrap_err().contains("fault_rate 0"));
        assert!(w.as_of(now() + Duration::hours(1)).is_err());
    }

    #[test]
    fn faults_spread_over_every_kind() {
        let w = World::generate(WorldParams::new(1, 3000, 0.05, now()));
        assert_eq!(w.truth.len(), 150);
        for f in Fault::ALL {
            assert!(w.truth.iter().any(|t| t.fault == f), "{f:?} never injected");
        }
        let mut codes: Vec<_> = w.dossiers.iter().map(|d| &d.national_code).collect();
        codes.sort();
        codes.dedup();
        assert_eq!(codes.len(), w.dossiers.len(), "national codes are unique");
    }
}
