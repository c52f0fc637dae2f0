//! CSV, one file per section: UTF-8 with a byte-order mark (so Excel opens Vietnamese text
//! right), RFC 4180 (comma, CRLF, fields quoted when they hold a comma, quote or line break).
//! Numbers use '.' as the decimal point and dates are `dd/mm/yyyy hh:mm`, so the files stay
//! machine-readable; text that Excel would take for a formula is prefixed with `'`. The writer
//! is the crate's one CSV writer, [`crate::csv`].

use super::format::*;
use super::model::*;
use crate::model::LocalTime;

use crate::csv::Csv;

/// A text field from outside (names, codes, values): see [`crate::csv::text`].
fn text(s: &str) -> String {
    crate::csv::text(s).into_owned()
}

fn number(x: f64) -> String {
    if x.is_finite() {
        let s = format!("{x:.4}");
        let s = s.trim_end_matches('0').trim_end_matches('.');
        if s == "-0" {
            "0".to_string()
        } else {
            s.to_string()
        }
    } else {
        String::new()
    }
}

fn opt_number(x: Option<f64>) -> String {
    x.map(number).unwrap_or_default()
}

fn opt_time(t: &Option<LocalTime>) -> String {
    t.as_ref().map(fmt_time_vi).unwrap_or_default()
}

/// One file: the byte-order mark, the header line, then the rows.
struct Sheet(Csv);

impl Sheet {
    fn new(headers: &[&str]) -> Sheet {
        Sheet(Csv::with_bom(headers))
    }

    fn row(&mut self, cells: impl IntoIterator<Item = String>) {
        self.0.row(cells);
    }

    fn bytes(self) -> Vec<u8> {
        self.0.finish().into_bytes()
    }
}

/// `(suffix, bytes)` for `tong-hop`, `phu-luc-1`, `phu-luc-2`, `phu-luc-3`.
pub(crate) fn render(r: &MonthlyReport) -> Vec<(&'static str, Vec<u8>)> {
    vec![
        ("tong-hop", summary(r)),
        ("phu-luc-1", appendix_1(r)),
        ("phu-luc-2", appendix_2(r)),
        ("phu-luc-3", appendix_3(r)),
    ]
}

/// The summary in long form: one value per line (section, code, label, source, value).
fn summary(r: &MonthlyReport) -> Vec<u8> {
    let mut s = Sheet::new(&["Mục", "Mã", "Chỉ tiêu", "Nguồn", "Giá trị"]);
    let mut put = |sec: &str, code: &str, label: &str, source: &str, value: String| {
        s.row([
            sec.to_string(),
            text(code),
            text(label),
            source.to_string(),
            value,
        ]);
    };
    let ym = r.month.iso();
    put("thong_tin", "province", "Tỉnh", "", text(&r.province));
    put("thong_tin", "month", "Tháng báo cáo", "", ym.clone());
    put(
        "thong_tin",
        "generated_at",
        "Thời điểm lập",
        "",
        fmt_time_vi(&r.generated_at),
    );
    for (source, f) in [
        ("cong_dvcqg", &r.national_view),
        ("tinh", &r.provincial_view),
    ] {
        for (code, label, v) in [
            ("counted", "Tổng số hồ sơ được tính", f.counted),
            ("early", "Trước hạn", f.early),
            ("on_time", "Đúng hạn", f.on_time),
            ("late", "Quá hạn", f.late),
            (
                "in_process_in_time",
                "Đang xử lý trong hạn",
                f.in_process_in_time,
            ),
            (
                "in_process_overdue",
                "Đang xử lý quá hạn",
                f.in_process_overdue,
            ),
        ] {
            put("tong_hop", code, label, source, v.to_string());
        }
        put(
            "tong_hop",
            "score",
            "Điểm tiến độ giải quyết (/20)",
            source,
            opt_number(f.score),
        );
    }
    put(
        "tong_hop",
        "published_score",
        "Điểm công bố trên Cổng DVCQG (/20)",
        "cong_bo",
        opt_number(r.published_score),
    );
    put(
        "tong_hop",
        "national_average",
        "Điểm trung bình cả nước (/20)",
        "cong_bo",
        opt_number(r.national_average),
    );
    if let Some(p) = &r.previous_month {
        let label = format!("Điểm tháng {} (/20)", r.month.previous());
        put(
            "thang_truoc",
            "score",
            &label,
            "cong_dvcqg",
            opt_number(p.score),
        );
        put(
            "thang_truoc",
            "counted",
            "Tổng số hồ sơ được tính",
            "cong_dvcqg",
            p.counted.to_string(),
        );
    }
    for g in &r.gap {
        put(
            "chenh_lech",
            &g.kind,
            kind_label_vi(&g.kind),
            "so_ho_so",
            g.dossiers.to_string(),
        );
        put(
            "chenh_lech",
            &g.kind,
            kind_label_vi(&g.kind),
            "diem",
            number(g.points),
        );
    }
    for p in &r.history {
        let code = p.month.iso();
        let label = format!("Điểm tháng {}", p.month);
        put(
            "lich_su",
            &code,
            &label,
            "cong_dvcqg",
            opt_number(p.national_view),
        );
        put(
            "lich_su",
            &code,
            &label,
            "tinh",
            opt_number(p.provincial_view),
        );
        put("lich_su", &code, &label, "cong_bo", opt_number(p.published));
    }
    s.bytes()
}

fn appendix_1(r: &MonthlyReport) -> Vec<u8> {
    let mut s = Sheet::new(&[
        "STT",
        "Mã cơ quan",
        "Cơ quan, đơn vị",
        "Mã hồ sơ",
        "Thủ tục hành chính",
        "Ngày tiếp nhận",
        "Hạn trả kết quả",
        "Trạng thái trên Cổng DVCQG",
        "Số ngày làm việc quá hạn",
    ]);
    let rows = r
        .appendix_1
        .iter()
        .flat_map(|g| g.rows.iter().map(move |x| (g, x)));
    for (i, (g, x)) in rows.enumerate() {
        s.row([
            (i + 1).to_string(),
            text(&g.agency_code),
            text(&g.agency_name),
            text(&x.dossier_code),
            text(&x.procedure),
            fmt_time_vi(&x.received_at),
            opt_time(&x.due_at),
            text(&x.national_status),
            opt_number(x.working_days_overdue),
        ]);
    }
    s.bytes()
}

fn appendix_2(r: &MonthlyReport) -> Vec<u8> {
    let mut s = Sheet::new(&[
        "STT",
        "Mã cơ quan",
        "Cơ quan, đơn vị",
        "Mã hồ sơ",
        "Thủ tục hành chính",
        "Ngày tiếp nhận",
        "Hạn trả kết quả",
        "Ngày hoàn thành",
        "Mã phân loại",
        "Phân loại",
        "Số ngày làm việc quá hạn",
        "Cán bộ xử lý",
    ]);
    let rows = r
        .appendix_2
        .iter()
        .flat_map(|g| g.rows.iter().map(move |x| (g, x)));
    for (i, (g, x)) in rows.enumerate() {
        s.row([
            (i + 1).to_string(),
            text(&g.agency_code),
            text(&g.agency_name),
            text(&x.dossier_code),
            text(&x.procedure),
            fmt_time_vi(&x.received_at),
            opt_time(&x.due_at),
            opt_time(&x.finished_at),
            text(&x.category),
            category_label_vi(&x.category).to_string(),
            opt_number(x.working_days_late),
            text(&x.officials.join("; ")),
        ]);
    }
    s.bytes()
}

fn appendix_3(r: &MonthlyReport) -> Vec<u8> {
    let mut s = Sheet::new(&[
        "STT",
        "Mã hồ sơ",
        "Cơ quan, đơn vị",
        "Mã sai lệch",
        "Loại sai lệch",
        "Giá trị tại tỉnh",
        "Giá trị trên Cổng DVCQG",
        "Điểm ảnh hưởng",
    ]);
    for (i, x) in r.appendix_3.iter().enumerate() {
        s.row([
            (i + 1).to_string(),
            text(&x.dossier_code),
            text(&x.agency_name),
            text(&x.kind),
            kind_label_vi(&x.kind).to_string(),
            text(&x.provincial_value),
            text(&x.national_value),
            number(x.points),
        ]);
    }
    s.bytes()
}
