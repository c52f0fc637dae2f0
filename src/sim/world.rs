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
pub use super::truth::{Fault, GroundTruth, FAULT_MIN_AGE_HOURS};
use crate::model::{LocalTime, Status};

/// A unit of the simulated province that handles dossiers: a department (sở) or a commune or
/// ward (xã, phường), as after 2025-07-01.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Agency {
    /// Electronic id of the unit (synthetic, in the national shape).
    pub code: String,
    /// Its Vietnamese name, e.g. "Sở Tư pháp" or "Xã Mường Nhé".
    pub name: String,
    /// `so` (department) or `xa` (commune/ward).
    pub level: String,
}

/// An administrative procedure (TTHC) the simulated units handle.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Procedure {
    /// The national procedure code (`MaTTHC`), e.g. `1.001193`.
    pub code: String,
    /// Its Vietnamese name, e.g. "Đăng ký khai sinh".
    pub name: String,
    /// Statutory time in working days.
    pub working_days: u32,
    /// Handled by departments (`so`) or communes (`xa`).
    pub level: String,
}

/// Applicant data: personal data the daemon must never store or log.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Applicant {
    /// The applicant's full name (synthetic).
    pub fullname: String,
    /// A 12-digit citizen identity number (synthetic).
    pub identity_number: String,
    /// A phone number (synthetic).
    pub phone: String,
    /// A postal address (synthetic).
    pub address: String,
    /// An e-mail address (synthetic).
    pub email: String,
}

/// One dossier as the province truly has it.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct SimDossier {
    /// The provincial system's id (iGate ObjectId shape).
    pub id: String,
    /// The provincial system's own code (`HSyy.nnnnnn`).
    pub local_code: String,
    /// The national code the province holds (after a `code_rewritten` fault: the bad one).
    pub national_code: String,
    /// Its procedure: an index into [`World::procedures`].
    pub procedure: usize,
    /// Its handling unit: an index into [`World::agencies`].
    pub agency: usize,
    /// 0 direct, 1 online, 2 postal.
    pub channel: u8,
    /// When the applicant applied (status 1).
    pub applied_at: LocalTime,
    /// When it was received (status 2); `None` while only applied, or when refused.
    pub received_at: Option<LocalTime>,
    /// The due date (`NgayHenTra`), after any rescheduling; `None` before reception.
    pub due_at: Option<LocalTime>,
    /// Set when the due date was rescheduled: the due date before.
    pub original_due_at: Option<LocalTime>,
    /// When the due date was rescheduled.
    pub rescheduled_at: Option<LocalTime>,
    /// When processing finished (status 9); `None` before.
    pub finished_at: Option<LocalTime>,
    /// When the result was handed over (status 10); `None` before.
    pub returned_at: Option<LocalTime>,
    /// Status history, oldest first; the last entry is the current status.
    pub history: Vec<(LocalTime, Status)>,
    /// Due dates the vendor moved to credit a completed supplement pause (`Flows::due_extended`):
    /// `(when, the due date before)`, oldest first. Not a rescheduling (that is
    /// `rescheduled_at`): tthc-sync must not subtract such a pause again.
    #[serde(default)]
    pub due_moves: Vec<(LocalTime, LocalTime)>,
    /// Edits that changed the row's last-modified time without a status change (a note, a
    /// reassignment: `Flows::edit_rate`), oldest first.
    #[serde(default)]
    pub edits: Vec<LocalTime>,
    /// Provincial label override (an `unmapped_label` fault writes a label no table knows).
    pub label_override: Option<String>,
    /// The official handling it (synthetic name): the province's `handler`.
    pub handler: String,
    /// The applicant's data, which the simulators send and tthc-sync must drop.
    pub applicant: Applicant,
}

impl SimDossier {
    /// The current status: the last of `history` (1, submitted, when empty).
    pub fn status(&self) -> Status {
        self.history
            .last()
            .map(|h| h.1)
            .unwrap_or(Status::Submitted)
    }
    /// Last modification: the last status change, rescheduling, due-date move or edit,
    /// whichever is latest.
    pub fn updated_at(&self) -> LocalTime {
        let status_at = self.status_since();
        self.rescheduled_at
            .into_iter()
            .chain(self.due_moves.iter().map(|m| m.0))
            .chain(self.edits.iter().copied())
            .fold(status_at, LocalTime::max)
    }

    /// The due date as it stood at `t` (before a rescheduling or a due-date move after `t`);
    /// `None` before reception.
    pub fn due_as_of(&self, t: LocalTime) -> Option<LocalTime> {
        if self.received_at.is_none_or(|r| r > t) {
            return None;
        }
        let mut due = self.due_at;
        // Undo the changes after `t`, newest first.
        let mut changes: Vec<(LocalTime, Option<LocalTime>)> = self
            .due_moves
            .iter()
            .map(|&(at, before)| (at, Some(before)))
            .collect();
        if let Some(at) = self.rescheduled_at {
            changes.push((at, self.original_due_at));
        }
        changes.sort_by_key(|c| c.0);
        for (at, before) in changes.into_iter().rev() {
            if at > t {
                due = before;
            }
        }
        due
    }

    /// The dossier as the province's system held it at `t`: its history, dates, due-date
    /// changes and edits up to `t`. (A dossier applied after `t` keeps only its application.)
    pub fn as_of(&self, t: LocalTime) -> SimDossier {
        let until = |v: Option<LocalTime>| v.filter(|x| *x <= t);
        let mut d = self.clone();
        d.history.retain(|(at, _)| *at <= t);
        if d.history.is_empty() {
            d.history = self.history.first().copied().into_iter().collect();
        }
        d.due_at = self.due_as_of(t);
        d.received_at = until(self.received_at);
        if self.rescheduled_at.is_some_and(|r| r > t) {
            d.rescheduled_at = None;
            d.original_due_at = None;
        }
        d.due_moves.retain(|m| m.0 <= t);
        d.edits.retain(|e| *e <= t);
        d.finished_at = until(self.finished_at);
        d.returned_at = until(self.returned_at);
        d
    }
    /// When the current status was set (the application time when there is no history).
    pub fn status_since(&self) -> LocalTime {
        self.history.last().map(|h| h.0).unwrap_or(self.applied_at)
    }
}

/// What the national portal holds of one dossier.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct NationalRow {
    /// The national dossier code (`MaHoSo`).
    pub code: String,
    /// The national procedure code (`MaTTHC`).
    pub procedure_code: String,
    /// The status the portal shows (`MaTrangThai`).
    pub status: Status,
    /// When the portal got this status (the push's time). Not in `TraCuuHoSo` replies: the
    /// portal uses it for its own published scores.
    #[serde(default)]
    pub status_at: Option<LocalTime>,
    /// Received at (`NgayTiepNhan`).
    pub received_at: Option<LocalTime>,
    /// Due at (`NgayHenTra`).
    pub due_at: Option<LocalTime>,
    /// Processing finished at (`NgayKetThucXuLy`).
    pub finished_at: Option<LocalTime>,
    /// Result returned at (`NgayTra`).
    pub returned_at: Option<LocalTime>,
    /// The handling unit's code (`MaDonViXuLy`).
    pub unit_code: String,
    /// The handling unit's name (`DonViXuLy`).
    pub unit_name: String,
    /// The pushes the portal got, oldest first: when, the status, and the due date it then
    /// held. The portal's own status history: its published score reads the status times,
    /// pauses and supplement requests from it (`super::scores`). Empty for a row the world
    /// made up without one (then `status_at` is all the portal knows).
    #[serde(default)]
    pub history: Vec<(LocalTime, Status, Option<LocalTime>)>,
}

/// What a world is generated from.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct WorldParams {
    /// The seed: the same parameters give the same world.
    pub seed: u64,
    /// How many provincial dossiers.
    pub dossiers: usize,
    /// Fraction of dossiers that get a sync fault.
    pub fault_rate: f64,
    /// The world's "now": nothing happens after it.
    pub now: LocalTime,
    /// How far back dossiers were received, in days.
    pub days: u32,
    /// Fraction (of `dossiers`) of extra dossiers that exist only on the portal
    /// ([`Fault::OnlyOnNational`]); 0 = none (the default).
    #[serde(default)]
    pub only_on_national_rate: f64,
    /// Vendors write correct data in their own ways (`super::habits`): dates a vendor does not
    /// carry for a status left empty, time-zone and date forms, label-only statuses. None is a
    /// fault; off (the default), rows are written in one canonical form.
    #[serde(default)]
    pub vendor_habits: bool,
    /// The status flows beyond the common ones (completed supplement pauses with and without
    /// a due-date move, second supplement requests, edits that move only the last-modified
    /// time, procedures without due dates): all off by default, so the worlds of existing
    /// seeds do not change; on in the demo ([`Flows::demo`]).
    #[serde(default)]
    pub flows: Flows,
}

/// Rates of the status flows beyond the common ones (docs/simulators.md, "Status flows"). Each
/// rate draws from the world's random numbers only when it is above 0, so a world with every
/// rate 0 is the world its seed made before these flows existed.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct Flows {
    /// Fraction of the dossiers that would otherwise end without a pause that go through a
    /// supplement request instead (added to the common 6 %); as in the common flow, 60 % of
    /// requests are answered and processing resumes (a completed pause).
    #[serde(default)]
    pub supplement_rate: f64,
    /// Fraction of completed supplement pauses for which the vendor moves the due date on by
    /// the pause's length when processing resumes (others leave the due date: the rule then
    /// subtracts the pause).
    #[serde(default)]
    pub due_extended_rate: f64,
    /// Fraction of completed supplement pauses followed by a second supplement request (the
    /// rule: more than one request is overdue).
    #[serde(default)]
    pub second_request_rate: f64,
    /// Fraction of dossiers edited (a note, a reassignment) a day or more after their current
    /// status began: the row's last-modified time moves, the status does not.
    #[serde(default)]
    pub edit_rate: f64,
    /// Procedure codes for which the province's system sets no due date (`NgayHenTra` is never
    /// served, on either side): their verdicts come from the statutory time
    /// (`config/statutory-times.toml`), and every received dossier of them is a
    /// `missing_due_date` finding in the ground truth.
    #[serde(default)]
    pub no_due_date_procedures: Vec<String>,
}

impl Flows {
    /// The rates of the demo world (`tthc-sync demo`): every flow visible among a few thousand
    /// dossiers.
    pub fn demo() -> Flows {
        Flows {
            supplement_rate: 0.06,
            due_extended_rate: 0.4,
            second_request_rate: 0.25,
            edit_rate: 0.1,
            no_due_date_procedures: vec!["1.004227".into()],
        }
    }
}

impl WorldParams {
    /// Parameters with dossiers received over the last 60 days and none only on the portal.
    pub fn new(seed: u64, dossiers: usize, fault_rate: f64, now: LocalTime) -> WorldParams {
        WorldParams {
            seed,
            dossiers,
            fault_rate,
            now,
            days: 60,
            only_on_national_rate: 0.0,
            vendor_habits: false,
            flows: Flows::default(),
        }
    }
}

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
