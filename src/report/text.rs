//! The text of the report, shared by Markdown and HTML so both say exactly the same thing:
//! title, headings, the bullets of sections 1 and 2, the appendices' titles and headings. The
//! tables' columns are in `columns`.

use super::columns::{appendix_2_counts, CATEGORIES};
use super::format::*;
use super::model::*;
use crate::config::document::{DocumentSettings, Wording};

/// A run of text, plain or bold.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Span {
    Text(String),
    Bold(String),
    /// A web address, shown as itself.
    Link(&'static str),
}

pub(crate) type Para = Vec<Span>;

fn t(s: impl Into<String>) -> Span {
    Span::Text(s.into())
}

fn b(s: impl Into<String>) -> Span {
    Span::Bold(s.into())
}

pub(crate) const NATIONAL_PORTAL_URL: &str = "https://dichvucong.gov.vn";
pub(crate) const PROVINCIAL_SYSTEM_NAME: &str = "Hệ thống thông tin giải quyết TTHC của tỉnh";

/// The abstract (trích yếu); a month not over when the report was produced is marked
/// provisional: "(số liệu tạm tính đến ngày 20/08/2024)".
pub(crate) fn title(r: &MonthlyReport) -> String {
    let provisional = if r.is_provisional() {
        format!(
            " (số liệu tạm tính đến ngày {})",
            r.generated_at.format("%d/%m/%Y")
        )
    } else {
        String::new()
    };
    format!(
        "Tiến độ giải quyết TTHC trên Cổng dịch vụ công quốc gia và danh sách các cơ quan, đơn vị, \
         địa phương giải quyết hồ sơ TTHC quá hạn trong Tháng {}/{}{provisional}",
        r.month.month, r.month.year
    )
}

/// "Tháng 8 năm 2024".
pub(crate) fn month_long(m: YearMonth) -> String {
    format!("Tháng {} năm {}", m.month, m.year)
}

pub(crate) fn intro(r: &MonthlyReport) -> String {
    format!(
        "Tỉnh {} — số liệu {}, lập lúc {}.",
        r.province,
        month_long(r.month),
        fmt_time_vi(&r.generated_at)
    )
}

pub(crate) fn section_1_heading(r: &MonthlyReport) -> String {
    format!(
        "1. Tiến độ, kết quả giải quyết TTHC {}",
        month_long(r.month)
    )
}

pub(crate) const SECTION_2_HEADING: &str = "2. Đánh giá chung";

/// The IT annex's first part: the three scores side by side.
pub(crate) const ANNEX_SCORES_HEADING: &str =
    "1. Điểm tiến độ giải quyết theo ba nguồn: điểm công bố, tính lại trên Cổng DVCQG, Hệ thống của tỉnh";
/// The IT annex's second part: the gap by discrepancy kind.
pub(crate) const ANNEX_GAP_HEADING: &str = "2. Chênh lệch điểm theo loại sai lệch đồng bộ";

fn score_spans(score: Option<f64>) -> Vec<Span> {
    match score {
        Some(_) => vec![
            b(fmt_score(score)),
            t(" điểm - đạt "),
            b(fmt_percent_of_score(score)),
        ],
        None => vec![t("chưa có điểm (không có hồ sơ nào được tính)")],
    }
}

/// The IT annex: the score three ways (published, recomputed from the national view,
/// provincial).
pub(crate) fn annex_score_bullets(r: &MonthlyReport) -> Vec<Para> {
    let m = month_long(r.month);
    let mut out = Vec::new();

    let mut p = vec![t(format!(
        "Trên Cổng Dịch vụ công quốc gia: {m}, tiến độ giải quyết thủ tục hành chính của tỉnh {} ",
        r.province
    ))];
    match r.published_score {
        Some(_) => {
            p.push(t("(điểm công bố) là "));
            p.extend(score_spans(r.published_score));
        }
        None => p.push(t("chưa công bố")),
    }
    p.push(t(";"));
    out.push(p);

    let mut p = vec![t(
        "Tính lại theo dữ liệu hồ sơ trên Cổng Dịch vụ công quốc gia: ",
    )];
    p.extend(score_spans(r.national_view.score));
    p.push(t(format!(
        " ({} hồ sơ được tính);",
        fmt_int_vi(r.national_view.counted)
    )));
    out.push(p);

    let mut p = vec![t(format!("Theo {PROVINCIAL_SYSTEM_NAME}: "))];
    p.extend(score_spans(r.provincial_view.score));
    p.push(t(format!(
        " ({} hồ sơ được tính).",
        fmt_int_vi(r.provincial_view.counted)
    )));
    out.push(p);
    out
}

/// The official document, section 1: the portal's figure (published, else "chưa công bố" and
/// the recalculated one as "tạm tính") with the national average, then the provincial system.
pub(crate) fn section_1_bullets(r: &MonthlyReport) -> Vec<Para> {
    let m = month_long(r.month);
    let mut out = Vec::new();
    let mut p = vec![t(format!(
        "Trên Cổng Dịch vụ công quốc gia: {m}, tiến độ giải quyết thủ tục hành chính của tỉnh {} ",
        r.province
    ))];
    match r.published_score {
        Some(_) => {
            p.push(t("là "));
            p.extend(score_spans(r.published_score));
        }
        None => {
            p.push(t("chưa công bố"));
            if r.national_view.score.is_some() {
                p.push(t("; theo dữ liệu hồ sơ trên Cổng, điểm tạm tính là "));
                p.extend(score_spans(r.national_view.score));
            }
        }
    }
    match r.national_average {
        Some(avg) => {
            p.push(t(format!(
                " (điểm trung bình cả nước Tháng {} là ",
                r.month.month
            )));
            p.push(b(fmt_score(Some(avg))));
            p.push(t(" - đạt "));
            p.push(b(fmt_percent_of_score(Some(avg))));
            if let Some(rank) = r.national_rank {
                p.push(t(format!(
                    "; tỉnh xếp thứ {}/{} cả nước",
                    rank.position, rank.of
                )));
            }
            p.push(t(")"));
        }
        None => p.push(t(" (điểm trung bình cả nước chưa công bố)")),
    }
    p.push(t(
        ". Văn phòng UBND tỉnh đã thống kê hồ sơ đang xử lý quá hạn trên Cổng Dịch vụ công quốc gia tại địa chỉ ",
    ));
    p.push(Span::Link(NATIONAL_PORTAL_URL));
    p.push(t(" (chi tiết tại Phụ lục I kèm theo);"));
    out.push(p);
    out.push(vec![t(format!(
        "Trên {PROVINCIAL_SYSTEM_NAME}: thông qua việc trích xuất số liệu trên {PROVINCIAL_SYSTEM_NAME}, Văn phòng UBND tỉnh thống kê các cơ quan, đơn vị, địa phương giải quyết hồ sơ thủ tục hành chính quá hạn trong {m} (chi tiết tại Phụ lục II kèm theo)."
    ))]);
    out
}

/// Rows of the counts table (`columns::COUNT_HEADERS`): label, national view, provincial view.
pub(crate) fn count_rows(r: &MonthlyReport) -> Vec<(&'static str, u64, u64)> {
    CATEGORIES
        .iter()
        .map(|c| {
            (
                c.label,
                (c.get)(&r.national_view),
                (c.get)(&r.provincial_view),
            )
        })
        .collect()
}

/// `provincial − national`, formatted with a sign.
pub(crate) fn count_diff(national: u64, provincial: u64) -> String {
    let d = provincial as i128 - national as i128;
    if d > 0 {
        format!("+{}", fmt_int_vi(d as u64))
    } else if d < 0 {
        format!("-{}", fmt_int_vi(d.unsigned_abs() as u64))
    } else {
        "0".to_string()
    }
}

/// Provincial minus national score, when both exist.
pub(crate) fn score_gap(r: &MonthlyReport) -> Option<f64> {
    Some(r.provincial_view.score? - r.national_view.score?)
}

pub(crate) fn gap_intro(r: &MonthlyReport) -> Para {
    match score_gap(r) {
        Some(g) => vec![
            t("Chênh lệch giữa điểm theo Hệ thống của tỉnh và điểm tính lại trên Cổng DVCQG: "),
            b(format!("{} điểm", fmt_signed_vi(g, 2))),
            t(if r.gap.is_empty() {
                ". Không ghi nhận sai lệch đồng bộ nào."
            } else {
                ", giải thích theo loại sai lệch đồng bộ:"
            }),
        ],
        None => vec![t(
            "Chưa so sánh được điểm giữa hai hệ thống (một bên không có hồ sơ được tính).",
        )],
    }
}

/// Points of the gap not explained by the listed kinds (shown only when it matters).
pub(crate) fn gap_unexplained(r: &MonthlyReport) -> Option<f64> {
    let total: f64 = r.gap.iter().map(|g| g.points).sum();
    let rest = score_gap(r)? - total;
    (rest.abs() >= 0.005).then_some(rest)
}

/// The gap table's total: the dossiers of the listed kinds, and the points of the listed kinds
/// plus the unexplained remainder, so that the column adds up to the score difference.
pub(crate) fn gap_total(r: &MonthlyReport) -> (u64, f64) {
    let listed: f64 = r.gap.iter().map(|g| g.points).sum();
    (
        r.gap.iter().map(|g| g.dossiers).sum(),
        listed + gap_unexplained(r).unwrap_or(0.0),
    )
}

/// "tăng 4,5% so với tỉ lệ Tháng 7 đạt 93%".
fn change_phrase(current: f64, previous: f64, prev_month: YearMonth, same_year: bool) -> String {
    let (cur, prev) = (current * 5.0, previous * 5.0);
    let d = cur - prev;
    let month = if same_year {
        format!("Tháng {}", prev_month.month)
    } else {
        format!("Tháng {}/{}", prev_month.month, prev_month.year)
    };
    let rounded = (d * 100.0).round() / 100.0;
    let verb = if rounded > 0.0 {
        format!("tăng {}%", fmt_vi(d, 2))
    } else if rounded < 0.0 {
        format!("giảm {}%", fmt_vi(-d, 2))
    } else {
        "không thay đổi".to_string()
    };
    format!("{verb} so với tỉ lệ {month} đạt {}%", fmt_vi(prev, 2))
}

pub(crate) fn section_2_bullets(r: &MonthlyReport, w: &Wording) -> Vec<Para> {
    let m = month_long(r.month);
    let mut out = Vec::new();

    let mut p = vec![t(format!(
        "Điểm đánh giá tiến độ giải quyết thủ tục hành chính của tỉnh trên Cổng Dịch vụ công quốc gia {m} "
    ))];
    match r.headline_score() {
        Some(cur) => {
            if r.published_score.is_none() {
                p.push(t("(tạm tính) "));
            }
            p.push(t("đạt "));
            p.push(b(fmt_percent_of_score(Some(cur))));
            match r.previous_headline_score() {
                Some(prev) => {
                    let pm = r.month.previous();
                    p.push(t(format!(
                        " {}.",
                        change_phrase(cur, prev, pm, pm.year == r.month.year)
                    )));
                }
                None => p.push(t(" (chưa có số liệu tháng trước để so sánh).")),
            }
        }
        None => p.push(t("chưa có (không có hồ sơ nào được tính).")),
    }
    out.push(p);

    let agencies = r.appendix_2.iter().filter(|g| !g.rows.is_empty()).count();
    let rows = r.appendix_2.iter().flat_map(|g| g.rows.iter());
    let late = rows.clone().filter(|x| x.category == "late").count() as u64;
    let open = rows.filter(|x| x.category != "late").count() as u64;
    if agencies == 0 {
        out.push(vec![t(format!(
            "Trên {PROVINCIAL_SYSTEM_NAME} {m} không có cơ quan, đơn vị nào có hồ sơ xử lý quá hạn."
        ))]);
    } else {
        out.push(vec![
            t(format!("Số lượng cơ quan, đơn vị có hồ sơ xử lý quá hạn trên {PROVINCIAL_SYSTEM_NAME} {m}: ")),
            b(format!("{} cơ quan, đơn vị", fmt_int_vi(agencies as u64))),
            t(format!(
                "; số hồ sơ đã giải quyết nhưng quá hạn của các cơ quan, đơn vị, địa phương trên toàn tỉnh trong Tháng {} có "
                , r.month.month
            )),
            b(format!("{} hồ sơ", fmt_int_vi(late))),
            t("; số hồ sơ đang xử lý quá hạn: "),
            b(format!("{} hồ sơ", fmt_int_vi(open))),
            t(" (Phụ lục II)."),
        ]);
    }

    let n1: usize = r.appendix_1.iter().map(|g| g.rows.len()).sum();
    let a1 = r.appendix_1.iter().filter(|g| !g.rows.is_empty()).count();
    if n1 == 0 {
        out.push(vec![t(
            "Trên Cổng Dịch vụ công quốc gia không có hồ sơ đang xử lý quá hạn.",
        )]);
    } else {
        out.push(vec![
            t("Trên Cổng Dịch vụ công quốc gia có "),
            b(format!("{} hồ sơ", fmt_int_vi(n1 as u64))),
            t(format!(
                " đang xử lý quá hạn của {} cơ quan, đơn vị (Phụ lục I).",
                fmt_int_vi(a1 as u64)
            )),
        ]);
    }

    let n3 = r.appendix_3.len() as u64;
    if n3 == 0 {
        out.push(vec![t(
            "Không có hồ sơ đúng hạn tại tỉnh nhưng bị tính quá hạn trên Cổng Dịch vụ công quốc gia.",
        )]);
    } else {
        let pts: f64 = r.appendix_3.iter().map(|x| x.points).sum();
        out.push(vec![
            b(format!("{} hồ sơ", fmt_int_vi(n3))),
            t(" đúng hạn tại tỉnh nhưng bị tính quá hạn trên Cổng Dịch vụ công quốc gia do lỗi đồng bộ, làm tỉnh mất khoảng "),
            b(format!("{} điểm", fmt_vi(pts, 2))),
            t(format!(
                " (danh sách chi tiết gửi {} kèm theo).",
                w.get("sync_agency")
            )),
        ]);
    }
    out
}

pub(crate) const APPENDIX_1_TITLE: &str =
    "Phụ lục I. Danh sách hồ sơ đang xử lý quá hạn trên Cổng Dịch vụ công quốc gia";
pub(crate) const APPENDIX_2_TITLE: &str =
    "Phụ lục II. Danh sách cơ quan, đơn vị, địa phương giải quyết hồ sơ TTHC quá hạn trên Hệ thống thông tin giải quyết TTHC của tỉnh";
/// "Phụ lục III. … — đề nghị Sở KH&CN kiểm tra đồng bộ", naming the agency in charge of the
/// sync on the report's date.
pub(crate) fn appendix_3_title(w: &Wording) -> String {
    format!(
        "Phụ lục III. Hồ sơ đúng hạn tại tỉnh nhưng quá hạn trên Cổng DVCQG — đề nghị {} kiểm tra đồng bộ",
        w.get("sync_agency_short")
    )
}

pub(crate) const NO_DOSSIER: &str = "Không có hồ sơ.";

// ---------------------------------------------------------------------------------------------
// The official document's frame (Nghị định 30/2020/NĐ-CP), filled from `[report.document]`.

/// Quốc hiệu.
pub(crate) const QUOC_HIEU: &str = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM";
/// Tiêu ngữ.
pub(crate) const TIEU_NGU: &str = "Độc lập - Tự do - Hạnh phúc";
/// Tên loại văn bản.
pub(crate) const DOC_KIND: &str = "BÁO CÁO";
/// Section 3's heading.
pub(crate) const SECTION_3_HEADING: &str = "3. Đề xuất, kiến nghị";
/// The heading of the recipients' list.
pub(crate) const RECIPIENTS_HEADING: &str = "Nơi nhận:";

/// The official document: the report, the Office's settings and the wording in force on the
/// report's date.
pub(crate) struct Doc<'a> {
    pub r: &'a MonthlyReport,
    pub s: &'a DocumentSettings,
    pub w: Wording,
}

impl<'a> Doc<'a> {
    pub(crate) fn new(r: &'a MonthlyReport, s: &'a DocumentSettings) -> Doc<'a> {
        Doc {
            r,
            s,
            w: s.wording(&r.province, r.month, r.generated_at.date()),
        }
    }

    /// The authority block: the governing body, then the issuing body (bold).
    pub(crate) fn authority(&self) -> (String, String) {
        (
            self.w.fill(&self.s.parent_authority),
            self.w.fill(&self.s.authority),
        )
    }

    /// "Số:       /BC-VPUB".
    pub(crate) fn number(&self) -> String {
        self.w.number_line(&self.s.number_pattern)
    }

    /// "Điện Biên, ngày      tháng 9 năm 2024".
    pub(crate) fn date_line(&self) -> String {
        self.w.date_line(&self.s.place, self.s.blank_day)
    }

    /// The legal-basis paragraphs.
    pub(crate) fn legal_basis(&self) -> Vec<String> {
        self.s.legal_basis.iter().map(|x| self.w.fill(x)).collect()
    }

    /// Section 3: the standing recommendations, then what the month's data calls for.
    pub(crate) fn section_3_bullets(&self) -> Vec<Para> {
        let mut out: Vec<Para> = self
            .s
            .recommendations
            .iter()
            .map(|x| vec![t(self.w.fill(x))])
            .collect();
        let r = self.r;
        let m = month_long(r.month);
        let late: Vec<String> = r
            .appendix_2
            .iter()
            .filter(|g| !g.rows.is_empty())
            .map(|g| {
                let (late, open) = appendix_2_counts(g);
                let mut parts = Vec::new();
                if late > 0 {
                    parts.push(format!("{} hồ sơ giải quyết quá hạn", fmt_int_vi(late)));
                }
                if open > 0 {
                    parts.push(format!("{} hồ sơ đang xử lý quá hạn", fmt_int_vi(open)));
                }
                format!("{} ({})", g.agency_name, parts.join(", "))
            })
            .collect();
        if !late.is_empty() {
            out.push(vec![
                t(format!(
                    "Đề nghị các cơ quan, đơn vị, địa phương có hồ sơ quá hạn trong {m} (chi tiết tại Phụ lục II): "
                )),
                t(late.join("; ")),
                t(" thực hiện xin lỗi tổ chức, cá nhân, giải quyết dứt điểm hồ sơ đang xử lý quá hạn và gửi báo cáo giải trình nguyên nhân quá hạn về Văn phòng UBND tỉnh."),
            ]);
        }
        if !r.appendix_3.is_empty() {
            let mut by_agency: Vec<(&str, u64)> = Vec::new();
            for f in &r.appendix_3 {
                match by_agency.iter_mut().find(|(a, _)| *a == f.agency_name) {
                    Some(x) => x.1 += 1,
                    None => by_agency.push((&f.agency_name, 1)),
                }
            }
            by_agency.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
            let list: Vec<String> = by_agency
                .iter()
                .map(|(a, n)| format!("{a} ({} hồ sơ)", fmt_int_vi(*n)))
                .collect();
            let pts: f64 = r.appendix_3.iter().map(|x| x.points).sum();
            out.push(vec![
                t(format!("Đề nghị {} kiểm tra, khắc phục lỗi đồng bộ trạng thái của ", self.w.get("sync_agency"))),
                b(format!("{} hồ sơ", fmt_int_vi(r.appendix_3.len() as u64))),
                t(format!(
                    " đã giải quyết đúng hạn tại tỉnh nhưng bị tính quá hạn trên Cổng Dịch vụ công quốc gia trong {m} (làm tỉnh mất khoảng {} điểm) của: {}; danh sách chi tiết gửi kèm theo.",
                    fmt_vi(pts, 2),
                    list.join("; ")
                )),
            ]);
        }
        out
    }

    /// The closing sentence.
    pub(crate) fn closing(&self) -> String {
        self.w.fill(&self.s.closing)
    }

    /// "Nơi nhận", one recipient a line.
    pub(crate) fn recipients(&self) -> Vec<String> {
        self.s.recipients.iter().map(|x| self.w.fill(x)).collect()
    }

    /// The signatory's title lines and name (empty when not set).
    pub(crate) fn signatory(&self) -> (Vec<String>, String) {
        (
            self.w
                .fill(&self.s.signatory_title)
                .lines()
                .map(str::to_string)
                .collect(),
            self.w.fill(&self.s.signatory_name),
        )
    }
}

/// An agency's pack: "Hồ sơ quá hạn Tháng 8/2024 — Sở Tài nguyên và Môi trường (000.21.31.H18)".
pub(crate) fn pack_title(r: &MonthlyReport, name: &str, code: &str) -> String {
    let code = if code.is_empty() {
        String::new()
    } else {
        format!(" ({code})")
    };
    format!(
        "Hồ sơ quá hạn Tháng {}/{} — {name}{code}",
        r.month.month, r.month.year
    )
}

/// What an agency's pack is for.
pub(crate) fn pack_intro(r: &MonthlyReport, w: &Wording) -> String {
    format!(
        "Kèm theo Báo cáo tiến độ giải quyết TTHC {} của Văn phòng UBND tỉnh {}: danh sách để cơ quan, đơn vị thực hiện xin lỗi tổ chức, cá nhân và lập báo cáo giải trình nguyên nhân quá hạn. Hồ sơ quá hạn do lỗi đồng bộ (mục 3) không phải giải trình: {} kiểm tra, khắc phục.",
        month_long(r.month),
        r.province,
        w.get("sync_agency")
    )
}

/// The pack's first part.
pub(crate) const PACK_PROVINCIAL: &str =
    "1. Hồ sơ giải quyết quá hạn, đang xử lý quá hạn trên Hệ thống thông tin giải quyết TTHC của tỉnh";
/// The pack's second part.
pub(crate) const PACK_NATIONAL: &str =
    "2. Hồ sơ đang xử lý quá hạn trên Cổng Dịch vụ công quốc gia";
/// The pack's third part.
pub(crate) const PACK_FAULTS: &str =
    "3. Hồ sơ đúng hạn tại tỉnh nhưng bị tính quá hạn trên Cổng do lỗi đồng bộ (không phải giải trình)";
/// The note column of the pack's second part.
pub(crate) const PACK_NOTE: &str = "Ghi chú";
/// The note on a dossier of the pack's second part that is a sync fault.
pub(crate) const PACK_SYNC_FAULT: &str = "Lỗi đồng bộ (mục 3)";

/// The IT annex's title (a separate file for the agency in charge of the sync).
pub(crate) fn annex_title(r: &MonthlyReport, w: &Wording) -> String {
    format!(
        "PHỤ LỤC KỸ THUẬT — Đối chiếu số liệu giữa {PROVINCIAL_SYSTEM_NAME} và Cổng Dịch vụ công quốc gia Tháng {}/{} (gửi {})",
        r.month.month,
        r.month.year,
        w.get("sync_agency")
    )
}

/// The IT annex: why the published and recalculated scores may differ.
pub(crate) fn published_vs_recalculated(r: &MonthlyReport) -> Para {
    let mut p = vec![t(
        "Điểm công bố do Cổng Dịch vụ công quốc gia tính và công bố; điểm tính lại được tính theo cùng quy tắc từ trạng thái từng hồ sơ trên Cổng mà hệ thống tra cứu được, tại thời điểm lập báo cáo. ",
    )];
    match (r.published_score, r.national_view.score) {
        (Some(pubd), Some(re)) => {
            p.push(t("Chênh lệch giữa điểm tính lại và điểm công bố: "));
            p.push(b(format!("{} điểm", fmt_signed_vi(re - pubd, 2))));
            p.push(t(
                " (do hồ sơ chưa tra cứu được trên Cổng, thời điểm chốt số liệu khác nhau, hoặc hồ sơ được Cổng cập nhật sau ngày công bố).",
            ));
        }
        (None, Some(_)) => p.push(t(
            "Cổng chưa công bố điểm của tháng: điểm tính lại chỉ là số liệu tạm tính.",
        )),
        _ => p.push(t("Chưa đủ số liệu để so sánh.")),
    }
    p
}

/// "Sở Tài nguyên và Môi trường (000.00.12.H18): 2 hồ sơ".
pub(crate) fn agency_heading<T>(index: usize, g: &AgencyGroup<T>) -> String {
    let code = if g.agency_code.is_empty() {
        String::new()
    } else {
        format!(" ({})", g.agency_code)
    };
    format!(
        "{}. {}{}: {} hồ sơ",
        index + 1,
        g.agency_name,
        code,
        fmt_int_vi(g.rows.len() as u64)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn change_phrases() {
        let m = YearMonth {
            year: 2024,
            month: 7,
        };
        assert_eq!(
            change_phrase(19.5, 18.6, m, true),
            "tăng 4,5% so với tỉ lệ Tháng 7 đạt 93%"
        );
        assert_eq!(
            change_phrase(18.0, 18.6, m, true),
            "giảm 3% so với tỉ lệ Tháng 7 đạt 93%"
        );
        assert_eq!(
            change_phrase(18.6, 18.6, m, false),
            "không thay đổi so với tỉ lệ Tháng 7/2024 đạt 93%"
        );
    }
}
