//! How a simulated dossier comes to be: the world's frame (agencies, procedures, officials),
//! the draws of a new dossier, its status flow up to "now" in office hours, and the national
//! row a correct push would have produced. Shared by `World::generate` and `WorldStream`.

use chrono::{Datelike, Duration, NaiveDate, NaiveTime, Timelike, Weekday};

use super::records::{Agency, Applicant, Flows, NationalRow, Procedure, SimDossier};
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

/// A push younger than this has not reached the portal yet (realistic lag, not a fault).
pub const PUSH_LAG_MINUTES: i64 = 20;

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
pub(super) fn add_working_days(start: LocalTime, days: u32) -> LocalTime {
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
    /// Its procedure is one the province's system sets no due date for
    /// (`Flows::no_due_date_procedures`).
    pub no_due_date: bool,
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
        flows: &Flows,
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
            due_moves: Vec::new(),
            edits: Vec::new(),
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
        evolve(&mut d, self.working_days, now, rng, flows);
        if self.no_due_date {
            // The flow ran against the statutory time; the system records no due date.
            d.due_at = None;
            d.original_due_at = None;
            d.rescheduled_at = None;
            d.due_moves.clear();
        }
        d
    }
}

/// Moves a dossier along a realistic status flow up to `now`, then (`Flows::edit_rate`) edits
/// it a day or more after its current status began.
pub(super) fn evolve(
    d: &mut SimDossier,
    working_days: u32,
    now: LocalTime,
    rng: &mut Rng,
    flows: &Flows,
) {
    evolve_status(d, working_days, now, rng, flows);
    if flows.edit_rate > 0.0 && rng.chance(flows.edit_rate) {
        let since = d.status_since();
        let edit = office(since + Duration::minutes(60 * (24 + rng.below(24 * 5) as i64)));
        if edit <= now {
            d.edits.push(edit);
        }
    }
}

/// The status flow of [`evolve`]: reception (or refusal), an optional rescheduling, processing,
/// and one ending — a supplement request (answered or not; with `flows`, a due date moved for
/// the pause and a second request), awaiting payment, stopped, withdrawn, or a result.
fn evolve_status(
    d: &mut SimDossier,
    working_days: u32,
    now: LocalTime,
    rng: &mut Rng,
    flows: &Flows,
) {
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
    // Pauses and other endings. (A draw for the extra supplement flow only when it is on:
    // the worlds of existing seeds stay as they were.)
    let supplement = roll < 0.06
        || (roll >= 0.13 && flows.supplement_rate > 0.0 && rng.chance(flows.supplement_rate));
    if supplement {
        let req = at(start, (allowed as f64 * 0.3) as i64);
        if req <= now {
            d.history.push((req, Status::SupplementRequested));
            let back = at(req, 60 * (24 + rng.below(24 * 6) as i64));
            if back <= now && rng.chance(0.6) {
                d.history.push((back, Status::Processing));
                let paused = back - req;
                // Work resumes where it stopped: a finish the draw put before the request
                // moves after it (else the history would run backwards).
                let mut finish = office(finish.max(req) + paused);
                // The vendor credits the pause by moving the due date on (not when the dossier
                // was rescheduled: one due-date story at a time).
                if flows.due_extended_rate > 0.0
                    && rng.chance(flows.due_extended_rate)
                    && d.rescheduled_at.is_none()
                {
                    let before = d.due_at.expect("set at reception");
                    let days = (paused.num_hours() / 24).max(1) as u32;
                    d.due_moves.push((back, before));
                    d.due_at = Some(add_working_days(before, days));
                }
                if flows.second_request_rate > 0.0 && rng.chance(flows.second_request_rate) {
                    // The official reviews the supplement and asks again, a working day or
                    // more later: a status that leaves and comes back between two pulls
                    // cannot be seen (it looks like an edit), and real second requests are
                    // not that quick.
                    let gap = ((finish - back).num_minutes() / 3).max(24 * 60);
                    let req2 = at(back, gap);
                    if req2 > now {
                        return;
                    }
                    d.history.push((req2, Status::SupplementRequested));
                    let back2 = at(req2, 60 * (24 + rng.below(24 * 4) as i64));
                    if back2 > now || !rng.chance(0.6) {
                        return;
                    }
                    d.history.push((back2, Status::Processing));
                    finish = office(finish.max(req2) + (back2 - req2));
                }
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
/// change younger than [`PUSH_LAG_MINUTES`] shows the state before it. Its `history` is every
/// push the portal got: each status change and each due-date change, with the status and due
/// date then.
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
    let mut times: Vec<LocalTime> = d
        .history
        .iter()
        .map(|h| h.0)
        .chain(d.rescheduled_at)
        .chain(d.due_moves.iter().map(|m| m.0))
        .filter(|t| *t <= lag)
        .collect();
    times.sort();
    times.dedup();
    let history = times
        .into_iter()
        .filter_map(|t| {
            let (_, s) = *d.history.iter().rev().find(|(at, _)| *at <= t)?;
            Some((t, s, d.due_as_of(t)))
        })
        .collect();
    Some(NationalRow {
        code: d.national_code.clone(),
        procedure_code: procedures[d.procedure].code.clone(),
        status,
        status_at: Some(status_at),
        received_at: seen(d.received_at),
        due_at: d.due_as_of(lag),
        finished_at: seen(d.finished_at),
        returned_at: seen(d.returned_at),
        unit_code: agency.code.clone(),
        unit_name: agency.name.clone(),
        history,
    })
}
