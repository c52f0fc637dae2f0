//! The report's tables, each described once: its columns (header, how to read the cell from a
//! row, which formats show it, XLSX width) for Phụ lục I–III, the per-agency summary of Phụ
//! lục II and the score gap; the figures, sources and score lines of the summary. Every
//! renderer (Markdown, HTML, DOCX, XLSX, CSV) iterates these, and formats and aligns a cell by what
//! it is ([`Get`]): a header or a column is never restated by a renderer.
//!
//! The documents (Markdown, HTML) list the appendices' dossiers under a heading per agency;
//! the sheets (XLSX, CSV) are flat, one line per dossier with its agency, numbered over the
//! whole appendix. CSV is for tools: a coded value is two fields, the code then its label.

use super::format::{category_label_vi, kind_label_vi};
use super::model::{
    AgencyGroup, GapLine, MonthPoint, MonthlyReport, NationalOverdueRow, ProvincialLateRow,
    ScoreFigures, SyncFaultRow,
};
use crate::model::LocalTime;

/// A renderer's view of the tables.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Target {
    /// Markdown and HTML.
    Document,
    Xlsx,
    Csv,
}

const ALL: &[Target] = &[Target::Document, Target::Xlsx, Target::Csv];
/// The documents name the agency in each group's heading.
const SHEETS: &[Target] = &[Target::Xlsx, Target::Csv];
/// CSV has it elsewhere: a code beside its label (see [`Get::Coded`]), the summary in long form.
const NOT_CSV: &[Target] = &[Target::Document, Target::Xlsx];
const DOCUMENTS: &[Target] = &[Target::Document];

/// How a cell is read from a row, and so what it is.
pub(crate) enum Get<R> {
    /// The row's number (STT), counted by the renderer.
    Index,
    /// Text from the data (codes, names, values): escaped, and neutralised in CSV.
    Text(fn(&R) -> &str),
    /// A code and its Vietnamese label: the label, and in CSV the code (under `code_header`)
    /// then the label.
    Coded {
        code_header: &'static str,
        get: fn(&R) -> (&str, &str),
    },
    /// A code shown as code (Markdown backticks, HTML `<code>`).
    Code(fn(&R) -> &str),
    /// Names joined with "; "; none is "—" in the documents, an empty cell in the sheets.
    Names(fn(&R) -> &[String]),
    /// A date and time; none is "—" in the documents, an empty cell in the sheets.
    Time(fn(&R) -> Option<LocalTime>),
    /// A count.
    Count(fn(&R) -> u64),
    /// Working days, one decimal; unknown is "—" in the documents, an empty cell in the sheets.
    Days(fn(&R) -> Option<f64>),
    /// Points of the 20-point score.
    Points(fn(&R) -> f64),
    /// Points of the score with their sign ("+0,13") in the documents.
    SignedPoints(fn(&R) -> f64),
}

impl<R> Get<R> {
    /// Right-aligned (a number) in the documents.
    pub(crate) fn is_number(&self) -> bool {
        matches!(
            self,
            Get::Index | Get::Count(_) | Get::Days(_) | Get::Points(_) | Get::SignedPoints(_)
        )
    }
}

/// One column of a table.
pub(crate) struct Column<R> {
    pub header: &'static str,
    /// CSV's header, when shorter than the documents'.
    pub csv_header: Option<&'static str>,
    pub get: Get<R>,
    pub shown_in: &'static [Target],
    /// Width in XLSX, for a table with its own sheet.
    pub width: Option<f64>,
}

/// The columns `target` shows.
pub(crate) fn shown<R>(columns: &[Column<R>], target: Target) -> impl Iterator<Item = &Column<R>> {
    columns.iter().filter(move |c| c.shown_in.contains(&target))
}

/// The rows of a table in the documents (the columns [`Target::Document`] shows), each cell
/// made by `cell` from its column's getter, the row's number (from 1) and the row.
pub(crate) fn document_cells<R, B: std::borrow::Borrow<R>, C>(
    columns: &[Column<R>],
    rows: impl IntoIterator<Item = B>,
    cell: impl Fn(&Get<R>, usize, &R) -> C,
) -> Vec<Vec<C>> {
    rows.into_iter()
        .enumerate()
        .map(|(i, r)| {
            shown(columns, Target::Document)
                .map(|c| cell(&c.get, i + 1, r.borrow()))
                .collect()
        })
        .collect()
}

/// The header line of `target`: in CSV, a coded column has two fields and a column may have a
/// shorter header.
pub(crate) fn column_headers<R>(columns: &[Column<R>], target: Target) -> Vec<&'static str> {
    let mut out = Vec::new();
    for c in shown(columns, target) {
        match (&c.get, target) {
            (Get::Coded { code_header, .. }, Target::Csv) => {
                out.push(*code_header);
                out.push(c.header);
            }
            (_, Target::Csv) => out.push(c.csv_header.unwrap_or(c.header)),
            _ => out.push(c.header),
        }
    }
    out
}

fn column<R>(header: &'static str, get: Get<R>, shown_in: &'static [Target]) -> Column<R> {
    Column {
        header,
        csv_header: None,
        get,
        shown_in,
        width: None,
    }
}

impl<R> Column<R> {
    fn width(mut self, w: f64) -> Column<R> {
        self.width = Some(w);
        self
    }

    fn csv_header(mut self, h: &'static str) -> Column<R> {
        self.csv_header = Some(h);
        self
    }
}

/// A row of an appendix listed by agency, with its agency.
pub(crate) struct Line<'a, T> {
    pub group: &'a AgencyGroup<T>,
    pub row: &'a T,
}

/// The rows of one agency.
pub(crate) fn lines_of<T>(group: &AgencyGroup<T>) -> impl Iterator<Item = Line<'_, T>> {
    group.rows.iter().map(move |row| Line { group, row })
}

/// Every row of an appendix listed by agency, in order.
pub(crate) fn lines<T>(groups: &[AgencyGroup<T>]) -> impl Iterator<Item = Line<'_, T>> {
    groups.iter().flat_map(lines_of)
}

const AGENCY: &str = "Cơ quan, đơn vị";
const AGENCY_CODE: &str = "Mã cơ quan";

fn agency<'a, T>() -> Column<Line<'a, T>> {
    column(
        AGENCY,
        Get::Coded {
            code_header: AGENCY_CODE,
            get: |l: &Line<'a, T>| (&l.group.agency_code, &l.group.agency_name),
        },
        SHEETS,
    )
    .width(34.0)
}

/// Phụ lục I: in process and overdue on the national portal.
pub(crate) fn appendix_1<'a>() -> Vec<Column<Line<'a, NationalOverdueRow>>> {
    let column = column::<Line<'a, NationalOverdueRow>>;
    vec![
        column("STT", Get::Index, ALL).width(6.0),
        agency(),
        column("Mã hồ sơ", Get::Text(|l| &l.row.dossier_code), ALL).width(28.0),
        column("Thủ tục hành chính", Get::Text(|l| &l.row.procedure), ALL).width(50.0),
        column(
            "Ngày tiếp nhận",
            Get::Time(|l| Some(l.row.received_at)),
            ALL,
        )
        .width(17.0),
        column("Hạn trả kết quả", Get::Time(|l| l.row.due_at), ALL).width(17.0),
        column(
            "Trạng thái trên Cổng DVCQG",
            Get::Text(|l| &l.row.national_status),
            ALL,
        )
        .width(24.0),
        column(
            "Số ngày làm việc quá hạn",
            Get::Days(|l| l.row.working_days_overdue),
            ALL,
        )
        .width(12.0),
    ]
}

/// Phụ lục II: handled late, or in process and overdue, on the provincial system.
pub(crate) fn appendix_2<'a>() -> Vec<Column<Line<'a, ProvincialLateRow>>> {
    let column = column::<Line<'a, ProvincialLateRow>>;
    vec![
        column("STT", Get::Index, ALL).width(6.0),
        agency(),
        column("Mã hồ sơ", Get::Text(|l| &l.row.dossier_code), ALL).width(28.0),
        column("Thủ tục hành chính", Get::Text(|l| &l.row.procedure), ALL).width(50.0),
        column(
            "Ngày tiếp nhận",
            Get::Time(|l| Some(l.row.received_at)),
            ALL,
        )
        .width(17.0),
        column("Hạn trả kết quả", Get::Time(|l| l.row.due_at), ALL).width(17.0),
        column("Ngày hoàn thành", Get::Time(|l| l.row.finished_at), ALL).width(17.0),
        column(
            "Phân loại",
            Get::Coded {
                code_header: "Mã phân loại",
                get: |l| (&l.row.category, category_label_vi(&l.row.category)),
            },
            ALL,
        )
        .width(22.0),
        column(
            "Số ngày làm việc quá hạn",
            Get::Days(|l| l.row.working_days_late),
            ALL,
        )
        .width(12.0),
        column(
            "Cán bộ xử lý (lập Phiếu xin lỗi)",
            Get::Names(|l| &l.row.officials),
            ALL,
        )
        .csv_header("Cán bộ xử lý")
        .width(36.0),
    ]
}

/// Phụ lục II as the official document shows it: the officials' names only when
/// `show_officials` (personal data, `report.document.show_officials`).
pub(crate) fn appendix_2_for<'a>(show_officials: bool) -> Vec<Column<Line<'a, ProvincialLateRow>>> {
    let mut columns = appendix_2();
    columns.retain(|c| show_officials || !matches!(c.get, Get::Names(_)));
    columns
}

/// Phụ lục II per agency (documents): dossiers, handled late, in process overdue.
pub(crate) fn appendix_2_summary() -> Vec<Column<AgencyGroup<ProvincialLateRow>>> {
    let column = column::<AgencyGroup<ProvincialLateRow>>;
    vec![
        column("STT", Get::Index, DOCUMENTS),
        column(
            "Cơ quan, đơn vị, địa phương",
            Get::Text(|g| &g.agency_name),
            DOCUMENTS,
        ),
        column("Số hồ sơ", Get::Count(|g| g.rows.len() as u64), DOCUMENTS),
        column(
            "Đã giải quyết quá hạn",
            Get::Count(|g| appendix_2_counts(g).0),
            DOCUMENTS,
        ),
        column(
            "Đang xử lý quá hạn",
            Get::Count(|g| appendix_2_counts(g).1),
            DOCUMENTS,
        ),
    ]
}

/// Phụ lục II of one agency: (handled late, in process overdue).
pub(crate) fn appendix_2_counts(g: &AgencyGroup<ProvincialLateRow>) -> (u64, u64) {
    let late = g.rows.iter().filter(|x| x.category == "late").count() as u64;
    (late, g.rows.len() as u64 - late)
}

/// Phụ lục III: counted overdue nationally although handled on time in the province.
pub(crate) fn appendix_3() -> Vec<Column<SyncFaultRow>> {
    let column = column::<SyncFaultRow>;
    vec![
        column("STT", Get::Index, ALL).width(6.0),
        column("Mã hồ sơ", Get::Text(|x| &x.dossier_code), ALL).width(28.0),
        column(AGENCY, Get::Text(|x| &x.agency_name), ALL).width(34.0),
        column(
            "Loại sai lệch",
            Get::Coded {
                code_header: KIND_CODE,
                get: |x| (&x.kind, kind_label_vi(&x.kind)),
            },
            ALL,
        )
        .width(40.0),
        column(KIND_CODE, Get::Code(|x| &x.kind), NOT_CSV).width(30.0),
        column("Giá trị tại tỉnh", Get::Text(|x| &x.provincial_value), ALL).width(34.0),
        column(
            "Giá trị trên Cổng DVCQG",
            Get::Text(|x| &x.national_value),
            ALL,
        )
        .width(34.0),
        column("Điểm ảnh hưởng", Get::Points(|x| x.points), ALL).width(12.0),
    ]
}

const KIND_CODE: &str = "Mã sai lệch";

/// The total of Phụ lục III's points.
pub(crate) fn appendix_3_total(r: &MonthlyReport) -> f64 {
    r.appendix_3.iter().map(|x| x.points).sum()
}

/// The score gap explained by discrepancy kind (documents and the XLSX summary; CSV writes
/// each figure on its own line).
pub(crate) fn gap() -> Vec<Column<GapLine>> {
    let column = column::<GapLine>;
    vec![
        column(
            "Loại sai lệch",
            Get::Text(|g| kind_label_vi(&g.kind)),
            NOT_CSV,
        ),
        column("Mã", Get::Code(|g| &g.kind), NOT_CSV),
        column("Số hồ sơ", Get::Count(|g| g.dossiers), NOT_CSV),
        column("Điểm", Get::SignedPoints(|g| g.points), NOT_CSV),
    ]
}

/// The line of the gap table for what the kinds do not explain.
pub(crate) const GAP_UNEXPLAINED: &str = "Phần chênh lệch chưa giải thích được";
/// A table's total line.
pub(crate) const TOTAL: &str = "Cộng";

// ---------------------------------------------------------------------------------------------
// The summary: the counts of both views, the scores, 12 months.

/// A count of [`ScoreFigures`]: a row of the counts table, a line of the CSV summary.
pub(crate) struct Figure {
    /// Its name in CSV.
    pub key: &'static str,
    pub label: &'static str,
    pub get: fn(&ScoreFigures) -> u64,
}

/// The categories of the national rule, the rows of the counts table.
pub(crate) const CATEGORIES: [Figure; 5] = [
    Figure {
        key: "early",
        label: "Trước hạn",
        get: |f| f.early,
    },
    Figure {
        key: "on_time",
        label: "Đúng hạn",
        get: |f| f.on_time,
    },
    Figure {
        key: "late",
        label: "Quá hạn",
        get: |f| f.late,
    },
    Figure {
        key: "in_process_in_time",
        label: "Đang xử lý trong hạn",
        get: |f| f.in_process_in_time,
    },
    Figure {
        key: "in_process_overdue",
        label: "Đang xử lý quá hạn",
        get: |f| f.in_process_overdue,
    },
];

/// The dossiers counted: the total line of the counts table.
pub(crate) const COUNTED: Figure = Figure {
    key: "counted",
    label: "Tổng số hồ sơ được tính",
    get: |f| f.counted,
};

/// The score line of the counts table.
pub(crate) const SCORE: &str = "Điểm tiến độ giải quyết";

/// A label for a bare number of points, which carries its scale: "… (/20)".
pub(crate) fn out_of_20(label: &str) -> String {
    format!("{label} (/20)")
}

/// Where a score comes from: a column of the counts table (the two views), a series of the
/// 12-month chart and table.
pub(crate) struct Source {
    pub label: &'static str,
    /// Its name in CSV.
    pub key: &'static str,
    pub month: fn(&MonthPoint) -> Option<f64>,
}

/// Recomputed from the national view.
pub(crate) const NATIONAL: Source = Source {
    label: "Cổng DVCQG (tính lại)",
    key: "cong_dvcqg",
    month: |p| p.national_view,
};

/// The province's own records.
pub(crate) const PROVINCIAL: Source = Source {
    label: "Hệ thống của tỉnh",
    key: "tinh",
    month: |p| p.provincial_view,
};

/// The portal's published figure.
pub(crate) const PUBLISHED: Source = Source {
    label: "Điểm công bố",
    key: "cong_bo",
    month: |p| p.published,
};

/// The series of the 12-month history, in order.
pub(crate) const HISTORY: [Source; 3] = [NATIONAL, PROVINCIAL, PUBLISHED];

/// The counts table: category, both views, their difference.
pub(crate) const COUNT_HEADERS: [&str; 4] =
    ["Phân loại", NATIONAL.label, PROVINCIAL.label, "Chênh lệch"];

/// The 12-month table (XLSX): the month, then each series.
pub(crate) const HISTORY_HEADERS: [&str; 4] = [
    "Tháng",
    HISTORY[0].label,
    HISTORY[1].label,
    HISTORY[2].label,
];

/// A published figure of the month (source: [`PUBLISHED`]).
pub(crate) struct Published {
    /// Its name in CSV.
    pub key: &'static str,
    pub label: &'static str,
    pub get: fn(&MonthlyReport) -> Option<f64>,
}

/// The published figures the summary lists: the province's score and the national average.
pub(crate) const PUBLISHED_FIGURES: [Published; 2] = [
    Published {
        key: "published_score",
        label: "Điểm công bố trên Cổng DVCQG",
        get: |r| r.published_score,
    },
    Published {
        key: "national_average",
        label: "Điểm trung bình cả nước",
        get: |r| r.national_average,
    },
];

#[cfg(test)]
mod tests {
    use super::*;

    /// Every column of an appendix's sheet has its width; a missing one would shift the rest.
    #[test]
    fn every_workbook_column_of_an_appendix_has_a_width() {
        fn widths<R>(columns: &[Column<R>]) -> Vec<Option<f64>> {
            shown(columns, Target::Xlsx).map(|c| c.width).collect()
        }
        for (name, w) in [
            ("I", widths(&appendix_1())),
            ("II", widths(&appendix_2())),
            ("III", widths(&appendix_3())),
        ] {
            assert!(w.iter().all(Option::is_some), "Phụ lục {name}: {w:?}");
        }
    }

    #[test]
    fn csv_splits_a_coded_column_and_uses_the_short_header() {
        let headers = column_headers(&appendix_2(), Target::Csv);
        assert_eq!(headers[1..3], ["Mã cơ quan", "Cơ quan, đơn vị"]);
        assert_eq!(headers[8..10], ["Mã phân loại", "Phân loại"]);
        assert_eq!(headers.last(), Some(&"Cán bộ xử lý"));
        let documents = column_headers(&appendix_2(), Target::Document);
        assert!(
            !documents.contains(&"Cơ quan, đơn vị"),
            "named in the heading"
        );
        assert_eq!(documents.last(), Some(&"Cán bộ xử lý (lập Phiếu xin lỗi)"));
    }
}
