//! The canonical dossier: one vocabulary for both sides (provincial and national).
//!
//! Pure data, no I/O. Every timestamp is wall-clock time in Asia/Ho_Chi_Minh (UTC+07:00, no DST
//! since 1975), held as a `NaiveDateTime`; parsers convert offsets to +07:00 before building one.

use chrono::{Datelike, FixedOffset, NaiveDate, NaiveDateTime};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

pub mod facts;

/// Wall-clock time in Asia/Ho_Chi_Minh (+07:00).
pub type LocalTime = NaiveDateTime;

/// The fixed +07:00 offset of Asia/Ho_Chi_Minh.
pub fn vn_offset() -> FixedOffset {
    FixedOffset::east_opt(7 * 3600).expect("+07:00 is a valid offset")
}

/// A Vietnamese label without its diacritics (`đ` as `d`), lower case, whitespace collapsed:
/// how a label is compared when an adapter lost its accents on the way.
pub(crate) fn fold_label(s: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    s.nfd()
        .filter(|c| !unicode_normalization::char::is_combining_mark(*c))
        .map(|c| match c {
            'đ' | 'Đ' => 'd',
            c => c,
        })
        .collect::<String>()
        .to_lowercase()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// Storage / display format of a [`LocalTime`] (sortable as text).
pub const TIME_FORMAT: &str = "%Y-%m-%d %H:%M:%S";

/// Formats a time as [`TIME_FORMAT`] (`2024-08-14 09:30:00`): how the database stores it.
pub fn fmt_time(t: &LocalTime) -> String {
    t.format(TIME_FORMAT).to_string()
}

/// Reads a time written by [`fmt_time`] back; `None` if `s` is not of that shape or not a real
/// date and time.
pub fn parse_stored_time(s: &str) -> Option<LocalTime> {
    // Fast path for the exact stored shape `YYYY-MM-DD HH:MM:SS` (reconciliation reads
    // millions of these); anything else goes through chrono's general parser.
    let b = s.as_bytes();
    let num = |r: std::ops::Range<usize>| -> Option<u32> {
        b[r].iter().try_fold(0u32, |acc, &c| {
            c.is_ascii_digit().then(|| acc * 10 + u32::from(c - b'0'))
        })
    };
    if b.len() == 19
        && b[4] == b'-'
        && b[7] == b'-'
        && b[10] == b' '
        && b[13] == b':'
        && b[16] == b':'
    {
        if let (Some(y), Some(mo), Some(d), Some(h), Some(mi), Some(sec)) = (
            num(0..4),
            num(5..7),
            num(8..10),
            num(11..13),
            num(14..16),
            num(17..19),
        ) {
            return NaiveDate::from_ymd_opt(y as i32, mo, d)?.and_hms_opt(h, mi, sec);
        }
    }
    NaiveDateTime::parse_from_str(s, TIME_FORMAT).ok()
}

/// The national dossier status codes (docs/domain.md §1): the canonical vocabulary. The
/// discriminant is the portal's code (1–10), which is also what the database stores.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(into = "u8", try_from = "u8")]
pub enum Status {
    /// 1, Mới đăng ký: applied for, not yet received; does not count in the score.
    Submitted = 1,
    /// 2, Được tiếp nhận: formally received; the processing clock runs from here.
    Received = 2,
    /// 3, Không được tiếp nhận: refused at reception; terminal, does not count.
    Rejected = 3,
    /// 4, Đang xử lý: being processed.
    Processing = 4,
    /// 5, Yêu cầu bổ sung giấy tờ: papers requested from the applicant; the clock is paused.
    SupplementRequested = 5,
    /// 6, Yêu cầu thực hiện nghĩa vụ tài chính: fees or taxes to pay; the clock is paused.
    AwaitingPayment = 6,
    /// 7, Công dân yêu cầu rút hồ sơ: withdrawn at the applicant's request; terminal.
    Withdrawn = 7,
    /// 8, Dừng xử lý: processing stopped; terminal.
    Stopped = 8,
    /// 9, Đã xử lý xong: the result is ready; terminal for timeliness.
    Resolved = 9,
    /// 10, Đã trả kết quả: the result was handed to the applicant; terminal.
    Returned = 10,
}

impl Status {
    /// Every status, in code order (`ALL[i]` has code `i + 1`).
    pub const ALL: [Status; 10] = [
        Status::Submitted,
        Status::Received,
        Status::Rejected,
        Status::Processing,
        Status::SupplementRequested,
        Status::AwaitingPayment,
        Status::Withdrawn,
        Status::Stopped,
        Status::Resolved,
        Status::Returned,
    ];

    /// The national status code, 1–10 (`MaTrangThai`).
    pub fn code(self) -> u8 {
        self as u8
    }

    /// The status of a national code; `None` outside 1–10.
    pub fn from_code(code: u8) -> Option<Status> {
        Status::ALL.get(usize::from(code).checked_sub(1)?).copied()
    }

    /// The national label (Vietnamese), as the portal writes it.
    pub fn label_vi(self) -> &'static str {
        match self {
            Status::Submitted => "Mới đăng ký",
            Status::Received => "Được tiếp nhận",
            Status::Rejected => "Không được tiếp nhận",
            Status::Processing => "Đang xử lý",
            Status::SupplementRequested => "Yêu cầu bổ sung giấy tờ",
            Status::AwaitingPayment => "Yêu cầu thực hiện nghĩa vụ tài chính",
            Status::Withdrawn => "Công dân yêu cầu rút hồ sơ",
            Status::Stopped => "Dừng xử lý",
            Status::Resolved => "Đã xử lý xong",
            Status::Returned => "Đã trả kết quả",
        }
    }

    /// Map a national label back to its code: trimmed, case-insensitive, NFC; failing that,
    /// with the diacritics folded away and whitespace collapsed ("DANG XU LY", "Đang  xử lý"):
    /// the ten labels stay distinct folded, so this never picks between two.
    pub fn from_label_vi(label: &str) -> Option<Status> {
        use unicode_normalization::UnicodeNormalization;
        let norm = |s: &str| s.trim().nfc().collect::<String>().to_lowercase();
        let wanted = norm(label);
        Status::ALL
            .into_iter()
            .find(|s| norm(s.label_vi()) == wanted)
            .or_else(|| {
                let wanted = fold_label(label);
                Status::ALL
                    .into_iter()
                    .find(|s| fold_label(s.label_vi()) == wanted)
            })
    }

    /// Terminal for timeliness: the dossier's clock has stopped (3, 7, 8, 9, 10).
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            Status::Rejected
                | Status::Withdrawn
                | Status::Stopped
                | Status::Resolved
                | Status::Returned
        )
    }

    /// Formally received: counts in the 766 score (status 2 or later, not 1, not 3).
    pub fn is_received(self) -> bool {
        !matches!(self, Status::Submitted | Status::Rejected)
    }

    /// Statuses a vendor may collapse into 9 when pushing (docs/domain.md §7
    /// `collapsed_status`).
    pub fn is_collapsible(self) -> bool {
        matches!(
            self,
            Status::SupplementRequested | Status::AwaitingPayment | Status::Stopped
        )
    }
}

impl From<Status> for u8 {
    fn from(s: Status) -> u8 {
        s.code()
    }
}

impl TryFrom<u8> for Status {
    type Error = String;
    fn try_from(code: u8) -> Result<Self, String> {
        Status::from_code(code).ok_or_else(|| format!("status code {code} is not 1..10"))
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.code(), self.label_vi())
    }
}

/// How the applicant submitted the dossier, as the provincial profile maps it (`[channels]`,
/// and its postal flag); stored as the text of [`Channel::as_str`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    /// At the one-stop desk (trực tiếp).
    Direct,
    /// Online, through a public-service portal (trực tuyến).
    Online,
    /// By post (bưu chính công ích).
    Postal,
    /// The source does not say, or says something the profile does not map.
    #[default]
    Unknown,
}

impl Channel {
    /// The stored and displayed name: `direct`, `online`, `postal` or `unknown`.
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Direct => "direct",
            Channel::Online => "online",
            Channel::Postal => "postal",
            Channel::Unknown => "unknown",
        }
    }
    /// Reads a name written by [`Channel::as_str`] back; anything else is `Unknown`.
    pub fn parse(s: &str) -> Channel {
        match s {
            "direct" => Channel::Direct,
            "online" => Channel::Online,
            "postal" => Channel::Postal,
            _ => Channel::Unknown,
        }
    }
}

/// A period during which the processing clock was paused (supplement requested / awaiting
/// payment). `end == None`: still paused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pause {
    /// When the clock stopped: the supplement or payment request.
    pub start: LocalTime,
    /// When it started again (the applicant supplemented or paid); `None` while still paused.
    pub end: Option<LocalTime>,
}

/// The fields that both sides know of a dossier, and that reconciliation and timeliness read.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct DossierCore {
    /// The national dossier code (`MaHoSo`) as this side knows it: the join key.
    pub code: String,
    /// The national procedure code (`MaTTHC`); `None` when the source has none.
    pub procedure_code: Option<String>,
    /// The handling agency's code (national: `MaDonViXuLy`; provincial: the profile's
    /// `fields.agency_code`); `None` when the source has none.
    pub agency_code: Option<String>,
    /// The mapped national status; `None` when absent or unmapped (see `status_raw`).
    pub status: Option<Status>,
    /// The status exactly as the source wrote it (code, label or local word).
    pub status_raw: String,
    /// Formally received (`NgayTiepNhan`): the start of the on-time rule; `None` when the
    /// source has no received time (the dossier is then not counted).
    pub received_at: Option<LocalTime>,
    /// The due date (`NgayHenTra`) this side reports; `None` when it has none.
    pub due_at: Option<LocalTime>,
    /// Processing finished (`NgayKetThucXuLy`): the end used by the 766 on-time rule.
    pub finished_at: Option<LocalTime>,
    /// Result returned to the applicant (`NgayTra`).
    pub returned_at: Option<LocalTime>,
}

/// What one side of a dossier says of a field. The canonical record holds an `Option`: `None`
/// is only "the row has no value"; whether that means the source says *none* or says
/// *nothing* is decided by what the source carries (a profile's `[carries]`,
/// `carries::Carries::reported`), and only there.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reported<T> {
    /// The source's value.
    Value(T),
    /// No value, where the source fills the field for such a dossier: the source says "none".
    Absent,
    /// No value, and the source does not fill the field for such a dossier (e.g. a vendor that
    /// writes a finish time only for results): nothing is known, nothing can differ.
    Unknown,
}

impl<T> Reported<T> {
    /// The value, if any.
    pub fn value(self) -> Option<T> {
        match self {
            Reported::Value(v) => Some(v),
            Reported::Absent | Reported::Unknown => None,
        }
    }
}

/// A source that fills the field for every dossier (the national portal's look-up): `None` is
/// absent, never unknown.
impl<T> From<Option<T>> for Reported<T> {
    fn from(v: Option<T>) -> Reported<T> {
        v.map_or(Reported::Absent, Reported::Value)
    }
}

/// A dossier as the provincial one-stop system reports it, mapped through a vendor profile
/// (docs/domain.md §8, docs/profiles.md), with personal data already dropped.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct ProvincialDossier {
    /// National code if the source has one, else the local code. Unique per dossier.
    pub key: String,
    /// The fields both sides share, as the province has them.
    pub core: DossierCore,
    /// The row's id in the provincial system (the profile's `fields.id`).
    pub local_id: String,
    /// The provincial system's own dossier code; the local id when it has none.
    pub local_code: String,
    /// The procedure's name as the province writes it.
    pub procedure_name: Option<String>,
    /// The handling agency's name as the province writes it.
    pub agency_name: Option<String>,
    /// How the applicant submitted the dossier.
    pub channel: Channel,
    /// False when the source says the procedure has no due date (statutory time applies).
    pub has_due_date: bool,
    /// The provincial status's label, when the source gives one beside the raw status.
    pub status_label: Option<String>,
    /// When the clock was paused (supplement/payment), if paused now.
    pub paused_since: Option<LocalTime>,
    /// Supplement requests made so far, when the source tells (td: `NgayYeuCauBoSung`).
    pub supplement_requests: Option<u32>,
    /// The official now handling the dossier (personal data of an official: report only).
    pub handler: Option<String>,
    /// The row's last-modified time in the provincial system: the pull's watermark, and the
    /// stand-in for the status time (docs/domain.md §2).
    pub updated_at: LocalTime,
    /// Hash of the raw row (after personal data was dropped): detects real changes.
    pub row_hash: String,
    /// What the dossier's stored status history says (status times, completed pauses,
    /// supplement requests: [`facts::DossierFacts`], derived by [`crate::facts`]), when the
    /// reader attached it; not part of the row.
    #[serde(skip)]
    pub observed: Option<std::sync::Arc<facts::DossierFacts>>,
}

/// What one `TraCuuHoSo` look-up said of a dossier.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum LookupOutcome {
    /// The portal has the dossier.
    Found(NationalDossier),
    /// A *successful* reply with no rows: the portal does not have this dossier.
    NotFound,
}

/// A dossier as the national portal shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct NationalDossier {
    /// The fields both sides share, as the portal has them.
    pub core: DossierCore,
    /// The handling unit's name (`DonViXuLy`).
    pub unit_name: Option<String>,
    /// More than one row came back for this code.
    pub duplicate_rows: bool,
}

/// Checks a national dossier code's shape: `<unit code>-<yyMMdd>-<seq ≥ 4 digits>`, where the
/// unit code is letters, digits, dots and underscores. Anything else (empty, a local code, stray
/// spaces or lower case) is a code the portal cannot match: `bad_dossier_code`.
pub fn is_well_formed_national_code(code: &str) -> bool {
    let mut parts = code.rsplitn(3, '-');
    let (Some(seq), Some(date), Some(unit)) = (parts.next(), parts.next(), parts.next()) else {
        return false;
    };
    !unit.is_empty()
        && unit
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'.' || b == b'_')
        && date.len() == 6
        && date.bytes().all(|b| b.is_ascii_digit())
        && seq.len() >= 4
        && seq.bytes().all(|b| b.is_ascii_digit())
}

/// A calendar month. Displays as `08/2024`; parses from `2024-08`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct YearMonth {
    /// The year, e.g. 2024.
    pub year: i32,
    /// The month, 1–12 (use [`YearMonth::new`] to check it).
    pub month: u32,
}

impl YearMonth {
    /// The first instant of the month.
    pub fn start(self) -> LocalTime {
        self.first_day()
            .expect("valid month")
            .and_hms_opt(0, 0, 0)
            .expect("valid time")
    }

    /// The last second of the month: the "period's end" of the on-time rule.
    pub fn end(self) -> LocalTime {
        self.next().start() - chrono::Duration::seconds(1)
    }

    /// The month after this one.
    pub fn next(self) -> YearMonth {
        if self.month >= 12 {
            YearMonth {
                year: self.year + 1,
                month: 1,
            }
        } else {
            YearMonth {
                year: self.year,
                month: self.month + 1,
            }
        }
    }

    /// `None` unless `month` is 1..=12.
    pub fn new(year: i32, month: u32) -> Option<YearMonth> {
        (1..=12)
            .contains(&month)
            .then_some(YearMonth { year, month })
    }

    /// The month before this one.
    pub fn previous(self) -> YearMonth {
        if self.month <= 1 {
            YearMonth {
                year: self.year - 1,
                month: 12,
            }
        } else {
            YearMonth {
                year: self.year,
                month: self.month - 1,
            }
        }
    }

    /// `2024-08`: the form used in file names and machine-readable output.
    pub fn iso(self) -> String {
        format!("{:04}-{:02}", self.year, self.month)
    }

    /// `08/24`: short label for chart axes.
    pub fn short(self) -> String {
        format!("{:02}/{:02}", self.month, self.year.rem_euclid(100))
    }

    /// The month containing `t`.
    pub fn of(t: &LocalTime) -> YearMonth {
        YearMonth {
            year: t.year(),
            month: t.month(),
        }
    }

    /// First day of the month, when the month is valid.
    pub fn first_day(self) -> Option<NaiveDate> {
        NaiveDate::from_ymd_opt(self.year, self.month, 1)
    }
}

impl fmt::Display for YearMonth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02}/{:04}", self.month, self.year)
    }
}

/// Why a `YYYY-MM` string is not a month.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("không phải tháng hợp lệ (cần dạng YYYY-MM, ví dụ 2024-08): {0:?}")]
pub struct YearMonthParseError(pub String);

impl FromStr for YearMonth {
    type Err = YearMonthParseError;
    fn from_str(s: &str) -> Result<YearMonth, YearMonthParseError> {
        let err = || YearMonthParseError(s.to_string());
        let (y, m) = s.trim().split_once('-').ok_or_else(err)?;
        if y.len() != 4 || !(1..=2).contains(&m.len()) {
            return Err(err());
        }
        if !y.bytes().chain(m.bytes()).all(|b| b.is_ascii_digit()) {
            return Err(err());
        }
        let year: i32 = y.parse().map_err(|_| err())?;
        let month: u32 = m.parse().map_err(|_| err())?;
        YearMonth::new(year, month).ok_or_else(err)
    }
}

/// One unit of the province's administration over time: a row of the `agency` table, read
/// from an agency data file by `report::agencies` (docs/domain.md §5).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AgencyRecord {
    /// The unit's code, as dossiers' agency codes carry it.
    pub code: String,
    /// The unit's name.
    pub name: String,
    /// `so` (department), `huyen` (district) or `xa` (commune, ward), when the file says.
    pub level: Option<String>,
    /// First day in force.
    pub valid_from: NaiveDate,
    /// Last day in force; `None` = still in force.
    pub valid_to: Option<NaiveDate>,
    /// The unit that took over its dossiers when it was abolished or merged.
    pub successor_code: Option<String>,
}

impl AgencyRecord {
    /// In force on at least one day of `m`.
    pub fn in_force_in(&self, m: YearMonth) -> bool {
        let (Some(first), Some(next)) = (m.first_day(), m.next().first_day()) else {
            return false;
        };
        self.valid_from < next && self.valid_to.is_none_or(|to| to >= first)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_codes_round_trip() {
        for s in Status::ALL {
            assert_eq!(Status::from_code(s.code()), Some(s));
            assert_eq!(Status::from_label_vi(s.label_vi()), Some(s));
        }
        assert_eq!(Status::from_code(0), None);
        assert_eq!(Status::from_code(11), None);
        assert_eq!(
            Status::from_label_vi("  đang xử lý "),
            Some(Status::Processing)
        );
        // Diacritics lost on the way, or upper case, or doubled spaces: still the same label.
        for (label, want) in [
            ("DANG XU LY", Status::Processing),
            ("Da tra ket qua", Status::Returned),
            ("Đã  trả\tkết quả", Status::Returned),
            ("dung xu ly", Status::Stopped),
        ] {
            assert_eq!(Status::from_label_vi(label), Some(want), "{label}");
        }
        assert_eq!(Status::from_label_vi("Chờ phê duyệt"), None);
        // Folded, the ten labels stay distinct: folding never has to choose.
        let folded: std::collections::BTreeSet<String> = Status::ALL
            .iter()
            .map(|s| fold_label(s.label_vi()))
            .collect();
        assert_eq!(folded.len(), Status::ALL.len());
        for s in Status::ALL {
            let f = fold_label(s.label_vi());
            assert!(f.is_ascii(), "{f}");
            assert_eq!(Status::from_label_vi(&f.to_uppercase()), Some(s), "{f}");
        }
    }

    #[test]
    fn national_code_shapes() {
        for ok in ["000.00.11.H18-240814-0001", "H18.22-260125-12345"] {
            assert!(is_well_formed_national_code(ok), "{ok}");
        }
        for bad in [
            "",
            "HS-000123",
            " 000.00.11.H18-240814-0001",
            "000.00.11.h18-240814-0001",
            "000.00.11.H18-24081-0001",
            "000.00.11.H18-240814-001",
            "-240814-0001",
        ] {
            assert!(!is_well_formed_national_code(bad), "{bad:?}");
        }
    }
}
