//! CSV, one file per section, with the crate's CSV writer ([`crate::csv`]): UTF-8 with a
//! byte-order mark (so Excel opens Vietnamese text right), RFC 4180. Numbers use '.' as the
//! decimal point and dates are `dd/mm/yyyy hh:mm`, so the files stay machine-readable; text
//! that Excel would take for a formula is prefixed with `'`. A coded value is two fields, the
//! code then its label.

use std::borrow::Borrow;
use std::iter;

use super::columns::*;
use super::format::*;
use super::model::*;
use crate::csv::{text, Csv};
use crate::model::LocalTime;

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

/// `(suffix, bytes)` for `tong-hop`, `phu-luc-1`, `phu-luc-2`, `phu-luc-3`.
pub(crate) fn render(r: &MonthlyReport) -> Vec<(&'static str, Vec<u8>)> {
    vec![
        ("tong-hop", summary(r)),
        ("phu-luc-1", sheet(&appendix_1(), lines(&r.appendix_1))),
        ("phu-luc-2", sheet(&appendix_2(), lines(&r.appendix_2))),
        ("phu-luc-3", sheet(&appendix_3(), &r.appendix_3)),
    ]
}

/// One table: the header line, then a line per row, numbered from 1.
fn sheet<R, B: Borrow<R>>(columns: &[Column<R>], rows: impl IntoIterator<Item = B>) -> Vec<u8> {
    let mut csv = Csv::with_bom(column_headers(columns, Target::Csv));
    for (i, r) in rows.into_iter().enumerate() {
        let mut line = Vec::new();
        for c in shown(columns, Target::Csv) {
            cells(&mut line, &c.get, i + 1, r.borrow());
        }
        csv.row(line);
    }
    csv.finish().into_bytes()
}

/// The fields of one cell: two for a coded value.
fn cells<R>(out: &mut Vec<String>, get: &Get<R>, index: usize, r: &R) {
    match get {
        Get::Index => out.push(index.to_string()),
        Get::Text(f) | Get::Code(f) => out.push(text(f(r)).into_owned()),
        Get::Coded { get, .. } => {
            let (code, label) = get(r);
            out.push(text(code).into_owned());
            out.push(text(label).into_owned());
        }
        Get::Names(f) => out.push(text(&f(r).join("; ")).into_owned()),
        Get::Time(f) => out.push(opt_time(&f(r))),
        Get::Count(f) => out.push(f(r).to_string()),
        Get::Days(f) => out.push(opt_number(f(r))),
        Get::Points(f) | Get::SignedPoints(f) => out.push(number(f(r))),
    }
}

/// The summary in long form: one value per line (section, code, label, source, value).
fn summary(r: &MonthlyReport) -> Vec<u8> {
    let mut csv = Csv::with_bom(["Mục", "Mã", "Chỉ tiêu", "Nguồn", "Giá trị"]);
    let mut put = |sec: &str, code: &str, label: &str, source: &str, value: String| {
        csv.row([
            sec.to_string(),
            text(code).into_owned(),
            text(label).into_owned(),
            source.to_string(),
            value,
        ]);
    };
    let ym = r.month.iso();
    put(
        "thong_tin",
        "province",
        "Tỉnh",
        "",
        text(&r.province).into_owned(),
    );
    put("thong_tin", "month", "Tháng báo cáo", "", ym.clone());
    put(
        "thong_tin",
        "generated_at",
        "Thời điểm lập",
        "",
        fmt_time_vi(&r.generated_at),
    );
    for (source, f) in [
        (&NATIONAL, &r.national_view),
        (&PROVINCIAL, &r.provincial_view),
    ] {
        for figure in iter::once(&COUNTED).chain(&CATEGORIES) {
            let v = (figure.get)(f);
            put(
                "tong_hop",
                figure.key,
                figure.label,
                source.key,
                v.to_string(),
            );
        }
        put(
            "tong_hop",
            "score",
            &out_of_20(SCORE),
            source.key,
            opt_number(f.score),
        );
    }
    for figure in &PUBLISHED_FIGURES {
        put(
            "tong_hop",
            figure.key,
            &out_of_20(figure.label),
            PUBLISHED.key,
            opt_number((figure.get)(r)),
        );
    }
    if let Some(p) = &r.previous_month {
        let label = out_of_20(&format!("Điểm tháng {}", r.month.previous()));
        put(
            "thang_truoc",
            "score",
            &label,
            NATIONAL.key,
            opt_number(p.score),
        );
        put(
            "thang_truoc",
            COUNTED.key,
            COUNTED.label,
            NATIONAL.key,
            p.counted.to_string(),
        );
    }
    for g in &r.gap {
        let label = kind_label_vi(&g.kind);
        put(
            "chenh_lech",
            &g.kind,
            label,
            "so_ho_so",
            g.dossiers.to_string(),
        );
        put("chenh_lech", &g.kind, label, "diem", number(g.points));
    }
    if let Some(rest) = super::text::gap_unexplained(r) {
        put(
            "chenh_lech",
            "unexplained",
            GAP_UNEXPLAINED,
            "diem",
            number(rest),
        );
    }
    if !r.gap.is_empty() {
        let (dossiers, points) = super::text::gap_total(r);
        put(
            "chenh_lech",
            "total",
            TOTAL,
            "so_ho_so",
            dossiers.to_string(),
        );
        put("chenh_lech", "total", TOTAL, "diem", number(points));
    }
    for p in &r.history {
        let code = p.month.iso();
        let label = format!("Điểm tháng {}", p.month);
        for source in &HISTORY {
            put(
                "lich_su",
                &code,
                &label,
                source.key,
                opt_number((source.month)(p)),
            );
        }
    }
    csv.finish().into_bytes()
}
