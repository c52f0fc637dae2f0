//! The synthetic world both simulators render: Điện Biên's agencies, procedures, and dossiers
//! received over working days with due dates and realistic status flows; then a known set of
//! sync faults applied to the national view, recorded as ground truth.
//!
//! Deterministic for a seed and a "now". All names, codes and people are synthetic.

use std::collections::HashMap;

use chrono::{Datelike, Duration, NaiveDate, NaiveTime, Timelike, Weekday};
use serde::{Deserialize, Serialize};

use crate::model::{LocalTime, Status};

/// A small, stable PRNG (SplitMix64): the world must not change when a crate updates.
#[derive(Clone, Debug)]
pub(super) struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed ^ 0x9E37_79B9_7F4A_7C15)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in [0, 1).
    pub fn f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
    /// Uniform in [0, n).
    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            0
        } else {
            self.next_u64() % n
        }
    }
    pub fn chance(&mut self, p: f64) -> bool {
        self.f64() < p
    }
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

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
    /// Last modification: the last status change or the rescheduling, whichever is later.
    pub fn updated_at(&self) -> LocalTime {
        let status_at = self.status_since();
        self.rescheduled_at.map_or(status_at, |r| r.max(status_at))
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

/// A push younger than this has not reached the portal yet (realistic lag, not a fault).
pub const PUSH_LAG_MINUTES: i64 = 20;
/// Faults are only injected on dossiers unchanged for at least this long, so that any
/// reasonable sync grace period has passed.
pub const FAULT_MIN_AGE_HOURS: i64 = 6;

const DEPARTMENTS: &[&str] = &[
    "Sở Tư pháp",
    "Sở Tài chính",
    "Sở Xây dựng",
    "Sở Nông nghiệp và Môi trường",
    "Sở Nội vụ",
    "Sở Y tế",
    "Sở Giáo dục và Đào tạo",
    "Sở Công Thương",
    "Sở Văn hóa, Thể thao và Du lịch",
    "Sở Khoa học và Công nghệ",
    "Ban Quản lý các khu kinh tế",
    "Công an tỉnh",
];

const COMMUNES: &[(&str, &str)] = &[
    ("03127", "Phường Điện Biên Phủ"),
    ("03151", "Phường Mường Lay"),
    ("03334", "Phường Mường Thanh"),
    ("03160", "Xã Mường Nhé"),
    ("03172", "Xã Nậm Kè"),
    ("03184", "Xã Mường Chà"),
    ("03202", "Xã Na Sang"),
    ("03217", "Xã Tủa Chùa"),
    ("03235", "Xã Sín Chải"),
    ("03253", "Xã Tuần Giáo"),
    ("03268", "Xã Quài Tở"),
    ("03295", "Xã Mường Ảng"),
    ("03316", "Xã Búng Lao"),
    ("03349", "Xã Thanh Nưa"),
    ("03367", "Xã Thanh An"),
    ("03385", "Xã Sam Mứn"),
    ("03403", "Xã Núa Ngam"),
    ("03421", "Xã Điện Biên Đông"),
    ("03439", "Xã Na Son"),
    ("03457", "Xã Nậm Pồ"),
];

const PROCEDURES: &[(&str, &str, u32, &str)] = &[
    ("1.001193", "Đăng ký khai sinh", 1, "xa"),
    ("1.000894", "Đăng ký kết hôn", 3, "xa"),
    ("1.004873", "Chứng thực bản sao từ bản chính", 1, "xa"),
    ("2.000908", "Cấp bản sao trích lục hộ tịch", 1, "xa"),
    ("1.003005", "Đăng ký thường trú", 7, "xa"),
    (
        "1.010733",
        "Cấp giấy chứng nhận quyền sử dụng đất lần đầu",
        20,
        "xa",
    ),
    ("1.004227", "Cấp phiếu lý lịch tư pháp", 10, "so"),
    ("1.009994", "Cấp giấy phép xây dựng", 15, "so"),
    ("2.001251", "Đăng ký thành lập doanh nghiệp", 3, "so"),
    ("1.001612", "Cấp giấy phép lái xe (đổi)", 5, "so"),
    ("1.002425", "Cấp chứng chỉ hành nghề dược", 20, "so"),
    ("1.008904", "Cấp giấy phép kinh doanh rượu", 10, "so"),
    ("1.005415", "Thẩm định thiết kế xây dựng", 20, "so"),
    ("1.000105", "Cấp giấy phép môi trường", 30, "so"),
];

const FAMILY: &[&str] = &[
    "Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Lò", "Quàng", "Lường", "Cà", "Vì", "Giàng", "Sùng",
];
const MIDDLE: &[&str] = &["Văn", "Thị", "Đức", "Minh", "Thu", "Hồng", "A", "Ngọc"];
pub(super) const GIVEN: &[&str] = &[
    "An", "Bình", "Chi", "Dũng", "Hà", "Hải", "Hoa", "Hùng", "Lan", "Long", "Mai", "Nam", "Phong",
    "Quân", "Sơn", "Thảo", "Tú", "Việt", "Xuân", "Yến",
];

pub(super) fn person(rng: &mut Rng) -> String {
    format!(
        "{} {} {}",
        rng.pick(FAMILY),
        rng.pick(MIDDLE),
        rng.pick(GIVEN)
    )
}

pub(super) fn is_weekday(d: NaiveDate) -> bool {
    !matches!(d.weekday(), Weekday::Sat | Weekday::Sun)
}

/// The sim's working days: Monday to Friday. (The product's calendar knows the holidays; the
/// world gives every dossier an explicit due date, so the difference never reaches a verdict.)
fn add_working_days(start: LocalTime, days: u32) -> LocalTime {
    let mut d = start.date();
    let mut left = days.max(1);
    while left > 0 {
        d = d.succ_opt().expect("date in range");
        if is_weekday(d) {
            left -= 1;
        }
    }
    d.and_time(start.time())
}

pub(super) fn random_office_time(rng: &mut Rng, day: NaiveDate) -> LocalTime {
    // 07:30–11:15 or 13:45–16:45
    let minutes = if rng.chance(0.55) {
        7 * 60 + 30 + rng.below(225)
    } else {
        13 * 60 + 45 + rng.below(180)
    };
    day.and_time(
        NaiveTime::from_hms_opt(
            (minutes / 60) as u32,
            (minutes % 60) as u32,
            rng.below(60) as u32,
        )
        .expect("valid time"),
    )
}

/// Moves `t` to the next moment the office is open (07:30–11:30, 13:30–17:00 on weekdays):
/// officials act in office hours. Monotonic, so a status history stays ordered.
fn office(t: LocalTime) -> LocalTime {
    let hm = |h, m| NaiveTime::from_hms_opt(h, m, 0).expect("valid time");
    let (open_am, close_am, open_pm, close_pm) = (hm(7, 30), hm(11, 30), hm(13, 30), hm(17, 0));
    let mut day = t.date();
    let time = t.time();
    if is_weekday(day) {
        if time < open_am {
            return day.and_time(open_am);
        }
        if time < close_am || (time >= open_pm && time < close_pm) {
            return t;
        }
        if time < open_pm {
            return day.and_time(open_pm);
        }
    }
    loop {
        day = day.succ_opt().expect("date in range");
        if is_weekday(day) {
            return day.and_time(open_am);
        }
    }
}

pub(super) fn truncate_seconds(t: LocalTime) -> LocalTime {
    t.with_nanosecond(0).expect("valid")
}

/// Agencies, procedures and officials: the same for every world (drawn first from the rng).
pub(super) fn frame(rng: &mut Rng) -> (Vec<Agency>, Vec<Procedure>, Vec<Vec<String>>) {
    let mut agencies: Vec<Agency> = DEPARTMENTS
        .iter()
        .enumerate()
        .map(|(i, name)| Agency {
            code: format!("000.{:02}.31.H18", i + 1),
            name: (*name).to_string(),
            level: "so".into(),
        })
        .collect();
    agencies.extend(COMMUNES.iter().map(|(code, name)| Agency {
        code: format!("{code}.H18"),
        name: (*name).to_string(),
        level: "xa".into(),
    }));
    let procedures: Vec<Procedure> = PROCEDURES
        .iter()
        .map(|(code, name, days, level)| Procedure {
            code: (*code).into(),
            name: (*name).into(),
            working_days: *days,
            level: (*level).into(),
        })
        .collect();
    let officials: Vec<Vec<String>> = agencies
        .iter()
        .map(|_| (0..3).map(|_| person(rng)).collect())
        .collect();
    (agencies, procedures, officials)
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
            };
            dossiers.push(draft.realise(&mut rng, &agencies, &officials, now));
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
        world
    }

    /// Adds national rows no provincial dossier has, each received at least
    /// [`FAULT_MIN_AGE_HOURS`] before `now` and within the last 25 days.
    fn inject_only_on_national(&mut self, rng: &mut Rng, now: LocalTime) {
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

    fn inject_faults(&mut self, rng: &mut Rng, now: LocalTime) {
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
        let mut taken = 0usize;
        for &i in &order {
            if taken == wanted {
                break;
            }
            let d = &self.dossiers[i];
            let status = d.status();
            if d.updated_at() > old_enough || !status.is_received() || status == Status::Submitted {
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

    /// Applies `fault` to dossier `i` if it fits; returns the discrepancy kind it must cause.
    fn try_fault(&mut self, i: usize, fault: Fault) -> Option<&'static str> {
        let code = self.dossiers[i].national_code.clone();
        let mut row = self.national.remove(&code);
        let kind = apply_fault(&mut self.dossiers[i], &mut row, fault);
        if let Some(r) = row {
            self.national.insert(code, r);
        }
        kind
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
            Some("collapsed_status")
        }
        Fault::DueNotPushed => {
            let original = d.original_due_at?;
            let row = national.as_mut()?;
            row.due_at = Some(original);
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
        // Injected separately (`WorldParams::only_on_national_rate`), never by this.
        Fault::OnlyOnNational => None,
    }
}

/// What the generators (`World::generate`, `WorldStream`) have drawn of a new dossier before
/// it exists: [`Draft::realise`] draws the rest and moves it along its status flow.
pub(super) struct Draft {
    pub seed: u64,
    /// Dossiers made before this one (its local code's number).
    pub n: usize,
    pub procedure: usize,
    pub working_days: u32,
    pub agency: usize,
    pub day: NaiveDate,
    pub applied_at: LocalTime,
    /// Its number among the unit's dossiers of `day` (the national code's sequence).
    pub seq: u32,
}

impl Draft {
    /// The dossier, evolved up to `now`. Draws from `rng` in a fixed order: the worlds of
    /// existing seeds depend on it.
    pub fn realise(
        self,
        rng: &mut Rng,
        agencies: &[Agency],
        officials: &[Vec<String>],
        now: LocalTime,
    ) -> SimDossier {
        let agency = self.agency;
        let national_code = format!(
            "{}-{}-{:04}",
            agencies[agency].code,
            self.day.format("%y%m%d"),
            self.seq
        );
        let channel = match rng.below(10) {
            0..=5 => 1,
            6..=8 => 0,
            _ => 2,
        };
        let mut d = SimDossier {
            id: format!("{:08x}{:016x}", self.seed as u32, rng.next_u64()),
            local_code: format!("HS{}.{:06}", self.day.format("%y"), self.n + 1),
            national_code,
            procedure: self.procedure,
            agency,
            channel,
            applied_at: self.applied_at,
            received_at: None,
            due_at: None,
            original_due_at: None,
            rescheduled_at: None,
            finished_at: None,
            returned_at: None,
            history: vec![(self.applied_at, Status::Submitted)],
            label_override: None,
            handler: rng.pick(&officials[agency]).clone(),
            applicant: Applicant {
                fullname: person(rng),
                identity_number: format!("0111{:08}", rng.below(100_000_000)),
                phone: format!("09{:08}", rng.below(100_000_000)),
                address: format!("Bản {}, {}", rng.pick(GIVEN), agencies[agency].name),
                email: format!("cd{}@example.vn", rng.below(1_000_000)),
            },
        };
        evolve(&mut d, self.working_days, now, rng);
        d
    }
}

/// Moves a dossier along a realistic status flow up to `now`.
pub(super) fn evolve(d: &mut SimDossier, working_days: u32, now: LocalTime, rng: &mut Rng) {
    let at = |base: LocalTime, minutes: i64| office(base + Duration::minutes(minutes));
    let mut t = d.applied_at;
    // Online dossiers wait for reception; direct ones are received at once.
    if d.channel == 1 {
        t = at(t, 30 + rng.below(600) as i64);
    }
    if t > now {
        return; // still "submitted"
    }
    if rng.chance(0.03) {
        d.history.push((t, Status::Rejected));
        return;
    }
    d.received_at = Some(t);
    d.history.push((t, Status::Received));
    let due = add_working_days(t, working_days);
    d.due_at = Some(due);
    let allowed = (due - t).num_minutes().max(60);
    // Some dossiers are rescheduled once (ND 118/2025: at most once), before the due date.
    if rng.chance(0.06) {
        let new_due = add_working_days(due, 1 + rng.below(5) as u32);
        let when = at(t, allowed / 2);
        if when <= now {
            d.original_due_at = Some(due);
            d.rescheduled_at = Some(when);
            d.due_at = Some(new_due);
        }
    }
    let due = d.due_at.expect("set");
    let allowed = (due - t).num_minutes().max(60);
    let start = at(t, 5 + rng.below(120) as i64);
    if start > now {
        return;
    }
    d.history.push((start, Status::Processing));
    let roll = rng.f64();
    let late = rng.chance(0.12);
    let frac = if late {
        1.0 + rng.f64() * 0.6
    } else {
        0.15 + rng.f64() * 0.8
    };
    let finish = at(start, (allowed as f64 * frac) as i64);
    // Pauses and other endings.
    if roll < 0.06 {
        let req = at(start, (allowed as f64 * 0.3) as i64);
        if req <= now {
            d.history.push((req, Status::SupplementRequested));
            let back = at(req, 60 * (24 + rng.below(24 * 6) as i64));
            if back <= now && rng.chance(0.6) {
                d.history.push((back, Status::Processing));
                let paused = back - req;
                let finish = office(finish + paused);
                if finish <= now {
                    close(d, finish, now, rng);
                }
            }
        }
        return;
    }
    if roll < 0.09 {
        let req = at(start, (allowed as f64 * 0.6) as i64);
        if req <= now {
            d.history.push((req, Status::AwaitingPayment));
        }
        return;
    }
    if roll < 0.11 {
        let stop = at(start, (allowed as f64 * 0.4) as i64);
        if stop <= now {
            d.history.push((stop, Status::Stopped));
        }
        return;
    }
    if roll < 0.13 {
        let wd = at(start, (allowed as f64 * 0.2) as i64);
        if wd <= now {
            d.history.push((wd, Status::Withdrawn));
        }
        return;
    }
    if finish <= now {
        close(d, finish, now, rng);
    }
}

fn close(d: &mut SimDossier, finish: LocalTime, now: LocalTime, rng: &mut Rng) {
    d.finished_at = Some(finish);
    d.history.push((finish, Status::Resolved));
    let ret = office(finish + Duration::minutes(30 + rng.below(60 * 48) as i64));
    if ret <= now && rng.chance(0.8) {
        d.returned_at = Some(ret);
        d.history.push((ret, Status::Returned));
    }
}

/// The national row a correct push would have produced by `now`: pushes lag a little, so a
/// change younger than [`PUSH_LAG_MINUTES`] shows the state before it.
pub(super) fn national_row(
    d: &SimDossier,
    agencies: &[Agency],
    procedures: &[Procedure],
    now: LocalTime,
) -> Option<NationalRow> {
    let lag = now - Duration::minutes(PUSH_LAG_MINUTES);
    let (status_at, status) = *d.history.iter().rev().find(|(t, _)| *t <= lag)?;
    if status == Status::Submitted && d.channel != 1 {
        return None;
    }
    let seen = |v: Option<LocalTime>| v.filter(|t| *t <= lag);
    let agency = &agencies[d.agency];
    Some(NationalRow {
        code: d.national_code.clone(),
        procedure_code: procedures[d.procedure].code.clone(),
        status,
        status_at: Some(status_at),
        received_at: seen(d.received_at),
        due_at: if d.received_at.is_none_or(|r| r > lag) {
            None
        } else if d.rescheduled_at.is_some_and(|r| r > lag) {
            d.original_due_at
        } else {
            d.due_at
        },
        finished_at: seen(d.finished_at),
        returned_at: seen(d.returned_at),
        unit_code: agency.code.clone(),
        unit_name: agency.name.clone(),
    })
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
