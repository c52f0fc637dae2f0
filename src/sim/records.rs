//! What the synthetic world is made of, apart from how it is generated: its parameters
//! (`WorldParams`, `Flows`), its units and procedures, a dossier as the province holds it
//! (`SimDossier`), the row the portal holds (`NationalRow`), the faults injected and the
//! ground truth they leave (`Fault`, `GroundTruth`), and the vendors' wire formats
//! (`SimProfile`). Generation (`world`, `flow`), fault injection (`truth`), vendors' habits
//! (`habits`) and the simulators all read these; none of them is read back here.

use serde::{Deserialize, Serialize};

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
    /// Its procedure: an index into [`World::procedures`](super::world::World::procedures).
    pub procedure: usize,
    /// Its handling unit: an index into [`World::agencies`](super::world::World::agencies).
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

/// A sync fault the world injected.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Fault {
    /// The push never reached the portal.
    PushLost,
    /// The portal shows an earlier status.
    StatusStale,
    /// Province 5/6/8, pushed as 9.
    Collapsed,
    /// A rescheduled due date was never pushed.
    DueNotPushed,
    /// The processing-finished time was never pushed.
    FinishNotPushed,
    /// The province holds a code the portal cannot match.
    CodeRewritten,
    /// The provincial status label is one no status table knows.
    UnmappedLabel,
    /// The portal holds a dossier of the province's units that the province does not have.
    /// Injected only when `WorldParams::only_on_national_rate` is set; not in [`Fault::ALL`].
    OnlyOnNational,
    /// The province's system set no due date for a received dossier of a procedure that has a
    /// statutory time (`Flows::no_due_date_procedures`): no due date on either side. Not in
    /// [`Fault::ALL`]; such dossiers get no other fault.
    DueNotSet,
}

impl Fault {
    /// The faults injected at `WorldParams::fault_rate`, drawn in this order.
    pub const ALL: [Fault; 7] = [
        Fault::PushLost,
        Fault::StatusStale,
        Fault::Collapsed,
        Fault::DueNotPushed,
        Fault::FinishNotPushed,
        Fault::CodeRewritten,
        Fault::UnmappedLabel,
    ];
}

/// One line of the ground truth: the fault and the discrepancy kind it must produce.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct GroundTruth {
    /// The dossier's key as tthc-sync stores it: the provincial id, or `nat:<code>` for
    /// [`Fault::OnlyOnNational`].
    pub dossier_id: String,
    /// The dossier's national code.
    pub dossier_code: String,
    /// The fault injected.
    pub fault: Fault,
    /// The discrepancy kind the fault must produce (docs/domain.md §7).
    pub expected_kind: String,
}

/// Faults are only injected on dossiers unchanged for at least this long, so that any
/// reasonable sync grace period has passed.
pub const FAULT_MIN_AGE_HOURS: i64 = 6;

/// Which vendor's wire format the simulator speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SimProfile {
    /// VNPT iGate (`igate`).
    Igate,
    /// OpenCPS (`opencps`).
    Opencps,
    /// td one-stop systems (`td`).
    Td,
}

impl SimProfile {
    /// Every wire format the simulator speaks.
    pub const ALL: [SimProfile; 3] = [SimProfile::Igate, SimProfile::Opencps, SimProfile::Td];

    /// The built-in profile name the client must use.
    pub fn name(self) -> &'static str {
        match self {
            SimProfile::Igate => "igate",
            SimProfile::Opencps => "opencps",
            SimProfile::Td => "td",
        }
    }

    /// The wire format of a built-in profile name (`igate`, `opencps`, `td`).
    pub fn parse(name: &str) -> Option<SimProfile> {
        SimProfile::ALL.into_iter().find(|p| p.name() == name)
    }
}
