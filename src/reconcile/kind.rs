//! The discrepancy vocabulary ([`Kind`]).

use std::fmt;

use serde::{Deserialize, Serialize};

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
    /// `lookup_failing`: the portal has failed to answer for this dossier's code for longer
    /// than `national.lookup_failing_after_hours` (a question for the portal's operators; it
    /// is about the look-up, not the data, and costs no points by itself).
    LookupFailing,
    /// `rescheduled_more_than_once`: a dossier received from 2025-07-01 (ND 118/2025, which
    /// allows one rescheduling) whose due date the province moved more than once outside a
    /// supplement or payment pause (seen in the status history).
    RescheduledMoreThanOnce,
}

impl Kind {
    /// Every kind, in the order the vocabulary lists them.
    pub const ALL: [Kind; 14] = [
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
        Kind::LookupFailing,
        Kind::RescheduledMoreThanOnce,
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
            Kind::LookupFailing => "lookup_failing",
            Kind::RescheduledMoreThanOnce => "rescheduled_more_than_once",
        }
    }

    /// The kind of a stored name; `None` for a name not in the vocabulary.
    pub fn parse(s: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// The Vietnamese label of the kind, the one wording every output uses (the CLI's tables,
    /// the monthly report and its annex): staff read these, never the code.
    pub fn label_vi(self) -> &'static str {
        match self {
            Kind::MissingOnNational => "Chưa có trên Cổng DVCQG",
            Kind::MissingOnProvincial => "Có trên Cổng DVCQG nhưng không có tại tỉnh",
            Kind::StatusMismatch => "Trạng thái không khớp",
            Kind::CollapsedStatus => "Trạng thái bị gộp thành \"Đã xử lý xong\" trên Cổng DVCQG",
            Kind::ClosedLocallyOpenNationally => {
                "Đã kết thúc tại tỉnh, chưa kết thúc trên Cổng DVCQG"
            }
            Kind::DueDateMismatch => "Hạn trả kết quả không khớp",
            Kind::FinishDateMismatch => "Ngày hoàn thành không khớp",
            Kind::ReceivedDateMismatch => "Ngày tiếp nhận không khớp",
            Kind::TimelinessMismatch => {
                "Đúng hạn tại tỉnh, quá hạn trên Cổng DVCQG (hoặc ngược lại)"
            }
            Kind::UnmappedStatus => "Trạng thái chưa có trong bảng ánh xạ",
            Kind::BadDossierCode => "Mã hồ sơ trống hoặc Cổng DVCQG không nhận ra",
            Kind::MissingDueDate => "Thiếu hạn trả kết quả ở cả hai hệ thống",
            Kind::LookupFailing => "Cổng DVCQG không trả lời tra cứu hồ sơ trong thời gian dài",
            Kind::RescheduledMoreThanOnce => "Gia hạn giải quyết quá một lần (NĐ 118/2025)",
        }
    }

    /// The Vietnamese label of a stored kind name ([`Kind::label_vi`]); a name outside the
    /// vocabulary (a newer version's kind read by an older one) is shown as itself.
    pub fn label_vi_of(name: &str) -> &str {
        Kind::parse(name).map(Kind::label_vi).unwrap_or(name)
    }

    /// Kinds decided from the provincial view alone (no look-up needed).
    pub fn is_provincial_only(self) -> bool {
        matches!(
            self,
            Kind::UnmappedStatus
                | Kind::BadDossierCode
                | Kind::MissingDueDate
                | Kind::RescheduledMoreThanOnce
        )
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One label per kind, none of them the code, and the report's lookup by name gives the
    /// same wording (docs/domain.md §7).
    #[test]
    fn every_kind_has_its_own_label() {
        let mut labels: Vec<&str> = Kind::ALL.iter().map(|k| k.label_vi()).collect();
        for k in Kind::ALL {
            assert_ne!(k.label_vi(), k.as_str());
            assert_eq!(Kind::label_vi_of(k.as_str()), k.label_vi());
            assert_eq!(crate::report::kind_label_vi(k.as_str()), k.label_vi());
        }
        labels.sort();
        labels.dedup();
        assert_eq!(labels.len(), Kind::ALL.len());
        assert_eq!(Kind::label_vi_of("something_new"), "something_new");
    }
}
