//! Reconciliation: the provincial and national views of one dossier → findings.
//!
//! Pure: no clock, no network, no database. Each finding carries a kind from the stable
//! vocabulary of docs/domain.md §7, both sides' values, a severity and the score impact.
//!
//! One fault, one kind: the checks are ordered so that a single sync fault yields a single
//! finding (a status collapsed into 9 is `collapsed_status`, not also a finish-date mismatch;
//! a timeliness difference is only reported when no other finding on the dossier explains it).

use std::collections::{HashMap, HashSet};
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::calendar::{Calendar, CalendarError};
use crate::model::{
    fmt_time, is_well_formed_national_code, LocalTime, NationalDossier, ProvincialDossier, Status,
    YearMonth,
};
use crate::scoring::{self, Tally};
use crate::timeliness::Verdict;

/// The discrepancy vocabulary (docs/domain.md §7). Stored as its `as_str()` form: other tools
/// read it. Severity, causes and what to do: docs/discrepancies.md.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// `missing_on_national`: received in the province, and a successful look-up says the
    /// portal has no such dossier.
    MissingOnNational,
    /// `missing_on_provincial`: the portal lists (`DanhSachHoSo`) a dossier of the province's
    /// units that the province does not have.
    MissingOnProvincial,
    /// `status_mismatch`: the statuses differ, and no more specific status kind applies.
    StatusMismatch,
    /// `collapsed_status`: the province shows 5, 6 or 8, the portal 9.
    CollapsedStatus,
    /// `closed_locally_open_nationally`: terminal in the province, not on the portal (which
    /// will count it overdue).
    ClosedLocallyOpenNationally,
    /// `due_date_mismatch`: the due dates (`NgayHenTra`) differ.
    DueDateMismatch,
    /// `finish_date_mismatch`: same status, the processing-finished times differ or one is
    /// missing.
    FinishDateMismatch,
    /// `received_date_mismatch`: the received times (`NgayTiepNhan`) differ.
    ReceivedDateMismatch,
    /// `timeliness_mismatch`: on time on one side, overdue on the other, and no other finding
    /// explains it.
    TimelinessMismatch,
    /// `unmapped_status`: the provincial status is not in the profile's status table.
    UnmappedStatus,
    /// `bad_dossier_code`: the national code is empty or not of the national shape, so it
    /// cannot be looked up.
    BadDossierCode,
    /// `missing_due_date`: received, no due date on either side, and the source does not say
    /// the procedure has none.
    MissingDueDate,
}

impl Kind {
    /// Every kind, in the order the vocabulary lists them.
    pub const ALL: [Kind; 12] = [
        Kind::MissingOnNational,
        Kind::MissingOnProvincial,
        Kind::StatusMismatch,
        Kind::CollapsedStatus,
        Kind::ClosedLocallyOpenNationally,
        Kind::DueDateMismatch,
        Kind::FinishDateMismatch,
        Kind::ReceivedDateMismatch,
        Kind::TimelinessMismatch,
        Kind::UnmappedStatus,
        Kind::BadDossierCode,
        Kind::MissingDueDate,
    ];

    /// The stable name (`missing_on_national`, …) stored in `discrepancy.kind`.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::MissingOnNational => "missing_on_national",
            Kind::MissingOnProvincial => "missing_on_provincial",
            Kind::StatusMismatch => "status_mismatch",
            Kind::CollapsedStatus => "collapsed_status",
            Kind::ClosedLocallyOpenNationally => "closed_locally_open_nationally",
            Kind::DueDateMismatch => "due_date_mismatch",
            Kind::FinishDateMismatch => "finish_date_mismatch",
            Kind::ReceivedDateMismatch => "received_date_mismatch",
            Kind::TimelinessMismatch => "timeliness_mismatch",
            Kind::UnmappedStatus => "unmapped_status",
            Kind::BadDossierCode => "bad_dossier_code",
            Kind::MissingDueDate => "missing_due_date",
        }
    }

    /// The kind of a stored name; `None` for a name not in the vocabulary.
    pub fn parse(s: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// Vietnamese label for staff-facing output.
    pub fn label_vi(self) -> &'static str {
        match self {
            Kind::MissingOnNational => "Chưa có trên Cổng DVCQG",
            Kind::MissingOnProvincial => "Chỉ có trên Cổng DVCQG",
            Kind::StatusMismatch => "Trạng thái lệch",
            Kind::CollapsedStatus => "Trạng thái 5/6/8 đẩy thành 9",
            Kind::ClosedLocallyOpenNationally => "Đã xong tại tỉnh, còn mở trên Cổng",
            Kind::DueDateMismatch => "Hạn trả lệch",
            Kind::FinishDateMismatch => "Ngày kết thúc xử lý lệch",
            Kind::ReceivedDateMismatch => "Ngày tiếp nhận lệch",
            Kind::TimelinessMismatch => "Đúng hạn/quá hạn lệch",
            Kind::UnmappedStatus => "Trạng thái chưa ánh xạ",
            Kind::BadDossierCode => "Mã hồ sơ không hợp lệ",
            Kind::MissingDueDate => "Thiếu hạn trả",
        }
    }

    /// Kinds decided from the provincial view alone (no look-up needed).
    pub fn is_provincial_only(self) -> bool {
        matches!(
            self,
            Kind::UnmappedStatus | Kind::BadDossierCode | Kind::MissingDueDate
        )
    }

    fn base_severity(self) -> Severity {
        match self {
            Kind::ClosedLocallyOpenNationally => Severity::Critical,
            Kind::MissingOnNational
            | Kind::BadDossierCode
            | Kind::TimelinessMismatch
            | Kind::DueDateMismatch => Severity::High,
            Kind::StatusMismatch
            | Kind::FinishDateMismatch
            | Kind::ReceivedDateMismatch
            | Kind::UnmappedStatus
            | Kind::MissingDueDate
            | Kind::MissingOnProvincial => Severity::Medium,
            Kind::CollapsedStatus => Severity::Low,
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How urgently a discrepancy needs fixing, ordered low to critical. Each kind has a base
/// severity (docs/discrepancies.md); a finding whose correction would gain points is raised
/// to `Critical`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// A known, explainable vendor habit (`collapsed_status`); no urgency without an impact.
    Low,
    /// A data fault to fix (status, finish or received date, unmapped status, missing due
    /// date, `missing_on_provincial`).
    Medium,
    /// Likely to cost points or hides the dossier from the portal (`missing_on_national`,
    /// `bad_dossier_code`, `due_date_mismatch`, `timeliness_mismatch`).
    High,
    /// `closed_locally_open_nationally` (the portal will count it overdue), or any finding
    /// whose correction would gain points: fix first.
    Critical,
}

impl Severity {
    /// The stored name: `low`, `medium`, `high` or `critical`.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
    /// The severity of a stored name; `None` for any other text.
    pub fn parse(s: &str) -> Option<Severity> {
        [
            Severity::Low,
            Severity::Medium,
            Severity::High,
            Severity::Critical,
        ]
        .into_iter()
        .find(|v| v.as_str() == s)
    }
}

/// One discrepancy seen now.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Finding {
    /// The provincial dossier's stable id (the source's local id); `nat:<code>` for
    /// `missing_on_provincial`, which has none.
    pub dossier_id: String,
    /// The dossier code staff know it by (national code, else local code).
    pub dossier_code: String,
    /// What is wrong.
    pub kind: Kind,
    /// How urgent: the kind's base severity, `Critical` when correcting gains points.
    pub severity: Severity,
    /// Points of the 20-point Tiến độ score the province gains if the portal's view of this
    /// dossier were corrected (0 when timeliness does not flip).
    pub score_impact: f64,
    /// The month (YYYY-MM) the impact counts in.
    pub period: Option<String>,
    /// False when timeliness could not be judged: the stored impact and period are kept.
    pub impact_known: bool,
    /// Both sides' verdicts in `period` and the rule they were judged under.
    pub timeliness: Option<Timeliness>,
    /// The dossier's agency code as the province records it (for `missing_on_provincial`:
    /// the portal's handling unit, else the listed unit).
    pub agency_code: Option<String>,
    /// The dossier's agency name, from the same side as `agency_code`.
    pub agency_name: Option<String>,
    /// The province's value that disagrees, as shown to staff: a status with its label, a
    /// time, a code, `(trống)` for none, `không có` when the province has no such dossier.
    pub provincial: String,
    /// The portal's value, shown the same way (`không tìm thấy` when a look-up found no such
    /// dossier); empty for the provincial-only kinds.
    pub national: String,
}

/// A dossier's timeliness on each side, under the national rule (docs/domain.md §2).
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Timeliness {
    /// The verdict on the province's view.
    pub provincial: Verdict,
    /// `None`: the portal does not have the dossier.
    pub national: Option<Verdict>,
    /// `timeliness::RULE_ND61` or `RULE_ND118`, by the date the dossier was received.
    pub rule_version: &'static str,
}

/// What is stored of the national side of one dossier.
#[derive(Clone, Debug, PartialEq)]
pub enum NationalSide<'a> {
    /// Never successfully looked up: pair checks are not possible.
    NotLookedUp,
    /// A successful reply with no rows, at this time.
    NotFound {
        /// When the look-up was made.
        at: LocalTime,
    },
    /// The portal's view, as of this look-up time.
    Found {
        /// The portal's view of the dossier.
        dossier: &'a NationalDossier,
        /// When the look-up was made.
        at: LocalTime,
    },
}

/// Tolerances (config section `[reconcile]` and `national.sync_grace_minutes`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Settings {
    /// A provincial change is only compared against a look-up made at least this long after it.
    pub sync_grace: chrono::Duration,
    /// Dates differing by no more than this are equal.
    pub date_tolerance: chrono::Duration,
}

/// Which kinds a comparison decided (found or cleared) for one dossier.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Evaluated {
    /// Provincial-only kinds were evaluated.
    pub provincial: bool,
    /// Pair kinds were evaluated (a successful look-up made past the grace period).
    pub pair: bool,
    /// Timeliness was judged (`timeliness_mismatch`, score impacts): false when a date fell
    /// in a year with no holiday file. Then the stored impacts are kept, and an open
    /// `timeliness_mismatch` stays open.
    pub timeliness: bool,
}

impl Evaluated {
    /// What a national list decides for a dossier it lists: pair kinds (its
    /// `missing_on_provincial`), nothing else.
    pub const LISTED: Evaluated = Evaluated {
        provincial: false,
        pair: true,
        timeliness: false,
    };

    /// Whether this comparison decided `kind`: only a decided kind may be opened or resolved.
    pub fn covers(self, kind: Kind) -> bool {
        if kind == Kind::TimelinessMismatch {
            self.pair && self.timeliness
        } else if kind.is_provincial_only() {
            self.provincial
        } else {
            self.pair
        }
    }
}

fn show_status(s: Option<Status>, raw: &str) -> String {
    match s {
        Some(s) => s.to_string(),
        None if raw.is_empty() => "(trống)".to_string(),
        None => format!("chưa ánh xạ: {raw}"),
    }
}

fn show_time(t: Option<LocalTime>) -> String {
    t.map(|t| fmt_time(&t)).unwrap_or_else(|| "(trống)".into())
}

fn differs(a: Option<LocalTime>, b: Option<LocalTime>, tol: chrono::Duration) -> bool {
    match (a, b) {
        (None, None) => false,
        (Some(a), Some(b)) => (a - b).abs() > tol,
        _ => true,
    }
}

/// Compares one dossier's two views. Returns the findings and what was evaluated.
pub fn compare(
    p: &ProvincialDossier,
    national: &NationalSide<'_>,
    s: &Settings,
) -> (Vec<Finding>, Evaluated) {
    let mut out = Vec::new();
    let mut push = |kind: Kind, provincial: String, national: String| {
        out.push(Finding {
            dossier_id: p.local_id.clone(),
            dossier_code: p.key.clone(),
            kind,
            severity: kind.base_severity(),
            score_impact: 0.0,
            period: None,
            impact_known: true,
            timeliness: None,
            agency_code: p.core.agency_code.clone(),
            agency_name: p.agency_name.clone(),
            provincial,
            national,
        })
    };
    let pc = &p.core;

    // Provincial-only checks.
    if pc.status.is_none() {
        push(
            Kind::UnmappedStatus,
            show_status(None, &pc.status_raw),
            String::new(),
        );
    }
    let code_ok = is_well_formed_national_code(&pc.code);
    if !code_ok {
        push(
            Kind::BadDossierCode,
            if pc.code.is_empty() {
                format!("(trống); mã tại tỉnh {}", p.local_code)
            } else {
                pc.code.clone()
            },
            String::new(),
        );
    }
    let received = pc.status.is_some_and(Status::is_received) && pc.received_at.is_some();
    let national_due = match national {
        NationalSide::Found { dossier, .. } => dossier.core.due_at,
        _ => None,
    };
    if received && p.has_due_date && pc.due_at.is_none() && national_due.is_none() {
        push(Kind::MissingDueDate, "(trống)".into(), "(trống)".into());
    }

    // Pair checks: only against a successful look-up made past the grace period.
    let (nd, at) = match national {
        NationalSide::NotLookedUp => {
            return (
                out,
                Evaluated {
                    provincial: true,
                    pair: false,
                    timeliness: false,
                },
            )
        }
        NationalSide::NotFound { at } => (None, *at),
        NationalSide::Found { dossier, at } => (Some(*dossier), *at),
    };
    let comparable = code_ok && at - p.updated_at >= s.sync_grace;
    let evaluated = Evaluated {
        provincial: true,
        pair: comparable,
        timeliness: comparable,
    };
    if !comparable {
        return (out, evaluated);
    }
    let Some(nd) = nd else {
        // Submitted-only (1) and rejected (3) dossiers need not be on the portal.
        if received {
            push(
                Kind::MissingOnNational,
                show_status(pc.status, &pc.status_raw),
                "không tìm thấy".into(),
            );
        }
        return (out, evaluated);
    };
    let nc = &nd.core;

    let status_finding = match (pc.status, nc.status) {
        (None, _) => None, // already unmapped_status
        (Some(ps), Some(Status::Resolved)) if ps.is_collapsible() => Some(Kind::CollapsedStatus),
        (Some(ps), ns) if ps.is_terminal() && !ns.is_some_and(Status::is_terminal) => {
            Some(Kind::ClosedLocallyOpenNationally)
        }
        (Some(ps), ns) if Some(ps) != ns => Some(Kind::StatusMismatch),
        _ => None,
    };
    if let Some(kind) = status_finding {
        push(
            kind,
            show_status(pc.status, &pc.status_raw),
            show_status(nc.status, &nc.status_raw),
        );
    } else if pc.status.is_some() && differs(pc.finished_at, nc.finished_at, s.date_tolerance) {
        // Finish times are compared only when both sides agree on the status: otherwise the
        // status finding already explains the difference.
        push(
            Kind::FinishDateMismatch,
            show_time(pc.finished_at),
            show_time(nc.finished_at),
        );
    }
    if differs(pc.due_at, nc.due_at, s.date_tolerance) {
        push(
            Kind::DueDateMismatch,
            show_time(pc.due_at),
            show_time(nc.due_at),
        );
    }
    if differs(pc.received_at, nc.received_at, s.date_tolerance) {
        push(
            Kind::ReceivedDateMismatch,
            show_time(pc.received_at),
            show_time(nc.received_at),
        );
    }
    (out, evaluated)
}

/// Whether both sides count a dossier and disagree on good (early, on time, in process in
/// time) versus bad: what makes [`add_timeliness`] add a `timeliness_mismatch` when no other
/// pair finding explains it.
pub fn timeliness_differs(provincial: Verdict, national: Verdict) -> bool {
    provincial.is_counted() && national.is_counted() && provincial.is_good() != national.is_good()
}

/// Adds the timeliness view to one dossier's findings (docs/domain.md §2–§3): the score impact and
/// its month go on the first pair finding (so a dossier's impact is counted once), which
/// becomes critical when correcting the portal would gain points; and when the verdicts
/// differ with no other finding to explain it, a `timeliness_mismatch` is added.
pub fn add_timeliness(
    findings: &mut Vec<Finding>,
    p: &ProvincialDossier,
    evaluated: Evaluated,
    provincial: Verdict,
    national: Option<Verdict>,
    month: YearMonth,
    impact: f64,
) {
    if !evaluated.pair {
        return;
    }
    if let Some(f) = findings.iter_mut().find(|f| !f.kind.is_provincial_only()) {
        f.score_impact = impact;
        f.period = Some(month.iso());
        if impact > 0.0 {
            f.severity = Severity::Critical;
        }
        return;
    }
    let Some(national) = national else {
        return;
    };
    if timeliness_differs(provincial, national) {
        findings.push(Finding {
            dossier_id: p.local_id.clone(),
            dossier_code: p.key.clone(),
            kind: Kind::TimelinessMismatch,
            severity: if impact > 0.0 {
                Severity::Critical
            } else {
                Kind::TimelinessMismatch.base_severity()
            },
            score_impact: impact,
            period: Some(month.iso()),
            impact_known: true,
            timeliness: None,
            agency_code: p.core.agency_code.clone(),
            agency_name: p.agency_name.clone(),
            provincial: provincial.label_vi().to_string(),
            national: national.label_vi().to_string(),
        });
    }
}

/// What [`assess`] needs besides the dossier: tolerances, the calendar, "now" and the
/// provincial month tallies (the denominators of score impacts).
pub struct Context<'a> {
    /// Grace period and date tolerance.
    pub settings: &'a Settings,
    /// Working days and office hours, for the verdicts.
    pub cal: &'a Calendar,
    /// The time of the comparison (the cycle's clock): the period's end while a month runs.
    pub now: LocalTime,
    /// The provincial month tallies of the last full pass, by month.
    pub tallies: &'a HashMap<YearMonth, Tally>,
}

/// One dossier's full assessment.
#[derive(Debug)]
pub struct Assessment {
    /// The discrepancies seen now, with their impacts.
    pub findings: Vec<Finding>,
    /// Which kinds were decided: an open discrepancy of a decided kind that is not among
    /// `findings` is resolved.
    pub evaluated: Evaluated,
    /// Timeliness could not be judged (a year with no holiday file): impacts left at 0.
    pub calendar_error: Option<CalendarError>,
}

/// The first half of [`assess`], for one dossier: its findings, and — when the pair was
/// compared — both verdicts in the month its impact counts in. Needs no month tallies, so a
/// streaming caller can run it as the rows go by and [`finish`] once the tallies are complete.
#[derive(Debug)]
pub struct Prepared {
    /// The findings of [`compare`], impacts not yet priced.
    pub findings: Vec<Finding>,
    /// Which kinds were decided; `timeliness` is false when a verdict failed.
    pub evaluated: Evaluated,
    /// Provincial and national verdicts in `month` (national `None`: not on the portal).
    pub verdicts: Option<(Verdict, Option<Verdict>)>,
    /// The rule the verdicts were judged under.
    pub rule_version: &'static str,
    /// The month the impact counts in ([`scoring::discrepancy_month`]); the month of `now`
    /// when the pair was not compared.
    pub month: YearMonth,
    /// Why the verdicts could not be judged (a year with no holiday file), if so.
    pub calendar_error: Option<CalendarError>,
}

impl Prepared {
    /// Whether [`finish`] can produce a finding (a discrepancy already stored for the dossier
    /// can also lead to an action: the caller knows that).
    pub fn may_find(&self) -> bool {
        !self.findings.is_empty()
            || matches!(self.verdicts, Some((pv, Some(nv))) if timeliness_differs(pv, nv))
    }
}

/// [`compare`], then the verdicts of both sides for the month the impact counts in
/// ([`scoring::discrepancy_month`]).
pub fn prepare(
    p: &ProvincialDossier,
    national: &NationalSide<'_>,
    settings: &Settings,
    cal: &Calendar,
    now: LocalTime,
) -> Prepared {
    let (findings, mut evaluated) = compare(p, national, settings);
    let mut month = YearMonth::of(&now);
    let mut verdicts = None;
    let mut rule_version = crate::timeliness::rule_version(p.core.received_at.unwrap_or(now));
    let mut calendar_error = None;
    if evaluated.pair {
        let national_core = match national {
            NationalSide::Found { dossier, .. } => Some(&dossier.core),
            _ => None,
        };
        month = scoring::discrepancy_month(p, national_core, now, cal);
        let end = scoring::period_end(month, now);
        let judged = scoring::judge_provincial(p, end, cal).and_then(|pj| {
            rule_version = pj.rule_version;
            let nj = match national_core {
                Some(n) => Some(scoring::judge_national(n, p, end, cal)?.verdict),
                None => None,
            };
            Ok((pj.verdict, nj))
        });
        match judged {
            Ok(v) => verdicts = Some(v),
            Err(e) => {
                evaluated.timeliness = false;
                calendar_error = Some(e);
            }
        }
    }
    Prepared {
        findings,
        evaluated,
        verdicts,
        rule_version,
        month,
        calendar_error,
    }
}

/// The second half of [`assess`]: the score impact (against the month's provincial tally)
/// and `timeliness_mismatch`. When timeliness could not be judged, the findings say so
/// (`impact_known` false) and stored impacts are kept.
pub fn finish(
    pre: Prepared,
    p: &ProvincialDossier,
    tallies: &HashMap<YearMonth, Tally>,
) -> Assessment {
    let mut findings = pre.findings;
    match pre.verdicts {
        Some((pv, nv)) => {
            let tally = tallies.get(&pre.month).copied().unwrap_or_default();
            let impact = scoring::impact(pv, nv, &tally);
            add_timeliness(&mut findings, p, pre.evaluated, pv, nv, pre.month, impact);
            let t = Timeliness {
                provincial: pv,
                national: nv,
                rule_version: pre.rule_version,
            };
            for f in findings.iter_mut().filter(|f| !f.kind.is_provincial_only()) {
                f.timeliness = Some(t);
            }
        }
        None if pre.calendar_error.is_some() => {
            for f in findings.iter_mut() {
                f.impact_known = false;
            }
        }
        None => {}
    }
    Assessment {
        findings,
        evaluated: pre.evaluated,
        calendar_error: pre.calendar_error,
    }
}

/// The whole of reconciliation for one dossier: [`prepare`] then [`finish`].
pub fn assess(p: &ProvincialDossier, national: &NationalSide<'_>, ctx: &Context<'_>) -> Assessment {
    finish(
        prepare(p, national, ctx.settings, ctx.cal, ctx.now),
        p,
        ctx.tallies,
    )
}

/// A dossier the portal lists for one of the province's units that no provincial dossier
/// holds (`missing_on_provincial`). Its key is `nat:<code>`: there is no provincial id.
pub fn missing_on_provincial(n: &NationalDossier, listed_unit: &str) -> Finding {
    let c = &n.core;
    Finding {
        dossier_id: format!("nat:{}", c.code),
        dossier_code: c.code.clone(),
        kind: Kind::MissingOnProvincial,
        severity: Kind::MissingOnProvincial.base_severity(),
        score_impact: 0.0,
        period: c.received_at.map(|r| YearMonth::of(&r).iso()),
        impact_known: true,
        timeliness: None,
        agency_code: c
            .agency_code
            .clone()
            .or_else(|| Some(listed_unit.to_string())),
        agency_name: n.unit_name.clone(),
        provincial: "không có".into(),
        national: show_status(c.status, &c.status_raw),
    }
}

/// What the national lists decide about `missing_on_provincial` ([`check_listed`]).
#[derive(Debug, Default, PartialEq)]
pub struct ListedVerdict {
    /// Active `missing_on_provincial` discrepancies to resolve (their ids): a provincial
    /// dossier now holds their code.
    pub resolve: Vec<i64>,
    /// One finding per listed code no provincial dossier holds ([`missing_on_provincial`]), in
    /// listing order; each is decided against the stored discrepancies of its key with
    /// [`Evaluated::LISTED`].
    pub findings: Vec<Finding>,
}

/// The `missing_on_provincial` rules (docs/discrepancies.md), from plain data:
///
/// - `active` (id, code): the open or acknowledged `missing_on_provincial` discrepancies. One
///   whose code a provincial dossier now holds is resolved, whether or not lists are
///   configured and whatever the lists said.
/// - `listed` (unit, the portal's view): every row of the `DanhSachHoSo` calls that succeeded,
///   in the order of the configured units. A listed code no provincial dossier holds is a
///   finding, unless the dossier was received less than `sync_grace` before `now` or has no
///   received time (the province may not have sent it yet). A code listed by two units is
///   decided once, as the first unit listed it.
/// - `held`: which of those codes (active and listed) some provincial dossier holds, as its
///   national code or its key.
/// - `provincial_complete` false (this cycle's provincial pull was incomplete): nothing is
///   found, since the province may simply not have been read yet; resolving still applies.
pub fn check_listed(
    active: &[(i64, String)],
    listed: &[(&str, &NationalDossier)],
    held: &HashSet<String>,
    provincial_complete: bool,
    sync_grace: chrono::Duration,
    now: LocalTime,
) -> ListedVerdict {
    let resolve = active
        .iter()
        .filter(|(_, code)| held.contains(code))
        .map(|(id, _)| *id)
        .collect();
    let mut findings = Vec::new();
    if provincial_complete {
        let mut decided: HashSet<String> = HashSet::new();
        for (unit, d) in listed {
            let old_enough = d.core.received_at.is_some_and(|r| now - r >= sync_grace);
            if held.contains(&d.core.code) || !old_enough {
                continue;
            }
            let finding = missing_on_provincial(d, unit);
            if decided.insert(finding.dossier_id.clone()) {
                findings.push(finding);
            }
        }
    }
    ListedVerdict { resolve, findings }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(h: u32, m: u32) -> LocalTime {
        chrono::NaiveDate::from_ymd_opt(2026, 11, 20)
            .unwrap()
            .and_hms_opt(h, m, 0)
            .unwrap()
    }

    /// A listed dossier: its code, received at (h, m) on the test day, its own agency code.
    fn listed(code: &str, received: Option<(u32, u32)>, agency: Option<&str>) -> NationalDossier {
        NationalDossier {
            core: crate::model::DossierCore {
                code: code.into(),
                agency_code: agency.map(str::to_string),
                status: Some(Status::Processing),
                status_raw: "4".into(),
                received_at: received.map(|(h, m)| at(h, m)),
                ..Default::default()
            },
            unit_name: Some("Sở X".into()),
            duplicate_rows: false,
        }
    }

    #[test]
    fn check_listed_table() {
        const A: &str = "G01-261120-0001";
        const B: &str = "G01-261120-0002";
        // "now" is 12:00 and the grace 60 minutes: received at 11:00 or before is old enough.
        /// A listed row: the unit, the code, received at (h, m), the dossier's own agency code.
        type Row = (
            &'static str,
            &'static str,
            Option<(u32, u32)>,
            Option<&'static str>,
        );
        struct Case {
            name: &'static str,
            active: Vec<(i64, &'static str)>,
            listed: Vec<Row>,
            held: Vec<&'static str>,
            complete: bool,
            resolve: Vec<i64>,
            /// (key, agency code) of each finding
            found: Vec<(&'static str, &'static str)>,
        }
        let cases = vec![
            Case {
                name: "listed, not held, past the grace: found under its own agency",
                active: vec![],
                listed: vec![("U1", A, Some((9, 0)), Some("AG"))],
                held: vec![],
                complete: true,
                resolve: vec![],
                found: vec![("nat:G01-261120-0001", "AG")],
            },
            Case {
                name: "no agency code on the row: the listing unit",
                active: vec![],
                listed: vec![("U1", A, Some((9, 0)), None)],
                held: vec![],
                complete: true,
                resolve: vec![],
                found: vec![("nat:G01-261120-0001", "U1")],
            },
            Case {
                name: "held by a provincial dossier: nothing",
                active: vec![],
                listed: vec![("U1", A, Some((9, 0)), None)],
                held: vec![A],
                complete: true,
                resolve: vec![],
                found: vec![],
            },
            Case {
                name: "received exactly the grace ago: found",
                active: vec![],
                listed: vec![("U1", A, Some((11, 0)), None)],
                held: vec![],
                complete: true,
                resolve: vec![],
                found: vec![("nat:G01-261120-0001", "U1")],
            },
            Case {
                name: "received within the grace: left for a later cycle",
                active: vec![],
                listed: vec![("U1", A, Some((11, 1)), None)],
                held: vec![],
                complete: true,
                resolve: vec![],
                found: vec![],
            },
            Case {
                name: "no received time: never old enough",
                active: vec![],
                listed: vec![("U1", A, None, None)],
                held: vec![],
                complete: true,
                resolve: vec![],
                found: vec![],
            },
            Case {
                name: "listed by two units: decided once, as the first listed it",
                active: vec![],
                listed: vec![
                    ("U1", A, Some((9, 0)), None),
                    ("U2", B, Some((9, 0)), None),
                    ("U2", A, Some((9, 0)), None),
                ],
                held: vec![],
                complete: true,
                resolve: vec![],
                found: vec![("nat:G01-261120-0001", "U1"), ("nat:G01-261120-0002", "U2")],
            },
            Case {
                name: "provincial pull incomplete: nothing found",
                active: vec![],
                listed: vec![("U1", A, Some((9, 0)), None)],
                held: vec![],
                complete: false,
                resolve: vec![],
                found: vec![],
            },
            Case {
                name: "active and now held: resolved, even with the pull incomplete",
                active: vec![(7, A), (8, B)],
                listed: vec![],
                held: vec![A],
                complete: false,
                resolve: vec![7],
                found: vec![],
            },
            Case {
                name: "active, still listed and not held: found again (the lifecycle refreshes it)",
                active: vec![(7, A)],
                listed: vec![("U1", A, Some((9, 0)), None)],
                held: vec![],
                complete: true,
                resolve: vec![],
                found: vec![("nat:G01-261120-0001", "U1")],
            },
            Case {
                name: "active, no longer listed and not held: stays as it is",
                active: vec![(7, A)],
                listed: vec![],
                held: vec![],
                complete: true,
                resolve: vec![],
                found: vec![],
            },
        ];
        let grace = chrono::Duration::minutes(60);
        for c in cases {
            let rows: Vec<(&str, NationalDossier)> = c
                .listed
                .iter()
                .map(|&(unit, code, received, agency)| (unit, listed(code, received, agency)))
                .collect();
            let listed: Vec<(&str, &NationalDossier)> = rows.iter().map(|(u, d)| (*u, d)).collect();
            let active: Vec<(i64, String)> = c
                .active
                .iter()
                .map(|&(id, code)| (id, code.to_string()))
                .collect();
            let held: HashSet<String> = c.held.iter().map(|s| s.to_string()).collect();
            let got = check_listed(&active, &listed, &held, c.complete, grace, at(12, 0));
            assert_eq!(got.resolve, c.resolve, "{}", c.name);
            let found: Vec<(&str, &str)> = got
                .findings
                .iter()
                .map(|f| {
                    (
                        f.dossier_id.as_str(),
                        f.agency_code.as_deref().unwrap_or(""),
                    )
                })
                .collect();
            assert_eq!(found, c.found, "{}", c.name);
            for f in &got.findings {
                assert_eq!(f.kind, Kind::MissingOnProvincial, "{}", c.name);
                assert_eq!(
                    f.dossier_id,
                    format!("nat:{}", f.dossier_code),
                    "{}",
                    c.name
                );
                assert_eq!(f.period.as_deref(), Some("2026-11"), "{}", c.name);
            }
        }
    }
}
