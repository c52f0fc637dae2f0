//! One self-contained HTML page: inline CSS, the 12-month chart as inline SVG, no external
//! resource of any kind; printable on A4.

use std::borrow::Borrow;
use std::fmt::Write as _;

use super::columns::*;
use super::format::*;
use super::model::*;
use super::text::*;

/// Escapes text for HTML element content and double- or single-quoted attributes.
pub(crate) fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

fn para(p: &Para) -> String {
    p.iter()
        .map(|s| match s {
            Span::Text(x) => esc(x),
            Span::Bold(x) => format!("<strong>{}</strong>", esc(x)),
            Span::Link(url) => format!("<a href=\"{0}\">{0}</a>", esc(url)),
        })
        .collect()
}

/// A cell: its (already escaped) HTML and its class ("" text, "n" number, "d" date).
struct Cell(String, &'static str);

fn txt(s: &str) -> Cell {
    Cell(esc(s), "")
}

fn num(s: &str) -> Cell {
    Cell(esc(s), "n")
}

fn date(s: &str) -> Cell {
    Cell(esc(s), "d")
}

fn code(s: &str) -> Cell {
    Cell(format!("<code>{}</code>", esc(s)), "")
}

/// The cells of `rows` in `columns` (those the documents show), numbered from 1: numbers
/// right-aligned, dates kept on one line.
fn cells<R, B: Borrow<R>>(
    columns: &[Column<R>],
    rows: impl IntoIterator<Item = B>,
) -> Vec<Vec<Cell>> {
    document_cells(columns, rows, cell)
}

fn cell<R>(get: &Get<R>, index: usize, r: &R) -> Cell {
    match get {
        Get::Index => num(&index.to_string()),
        Get::Text(f) => txt(f(r)),
        Get::Coded { get, .. } => txt(get(r).1),
        Get::Code(f) => code(f(r)),
        Get::Names(f) => match f(r) {
            [] => txt("—"),
            names => txt(&names.join("; ")),
        },
        Get::Time(f) => date(&fmt_opt_time_vi(&f(r))),
        Get::Count(f) => num(&fmt_int_vi(f(r))),
        Get::Days(f) => num(&fmt_days(f(r))),
        Get::Points(f) => num(&fmt_vi(f(r), 2)),
        Get::SignedPoints(f) => num(&fmt_signed_vi(f(r), 2)),
    }
}

fn table(o: &mut String, class: &str, headers: &[&str], rows: &[Vec<Cell>], foot: &[Vec<Cell>]) {
    let _ = writeln!(o, "<table class=\"{class}\">\n<thead><tr>");
    for h in headers {
        let _ = write!(o, "<th>{}</th>", esc(h));
    }
    let _ = writeln!(o, "</tr></thead>\n<tbody>");
    let row = |o: &mut String, cells: &[Cell]| {
        o.push_str("<tr>");
        for Cell(html, class) in cells {
            if class.is_empty() {
                let _ = write!(o, "<td>{html}</td>");
            } else {
                let _ = write!(o, "<td class=\"{class}\">{html}</td>");
            }
        }
        o.push_str("</tr>\n");
    };
    for r in rows {
        row(o, r);
    }
    o.push_str("</tbody>\n");
    if !foot.is_empty() {
        o.push_str("<tfoot>");
        for f in foot {
            row(o, f);
        }
        o.push_str("</tfoot>\n");
    }
    o.push_str("</table>\n");
}

const CSS: &str = r#"
:root { --national: #c0392b; --provincial: #1f618d; --published: #1e8449; --rule: #999; }
* { box-sizing: border-box; }
body { font-family: "Times New Roman", "Liberation Serif", "DejaVu Serif", serif; font-size: 13pt;
  line-height: 1.45; color: #111; background: #fff; max-width: 1100px; margin: 0 auto; padding: 24px 32px; }
header.doc { text-align: center; margin-bottom: 1em; }
header.doc .kind { font-size: 16pt; font-weight: bold; margin: 0; letter-spacing: .05em; }
h1 { font-size: 14pt; margin: .3em 0; }
h2 { font-size: 13.5pt; margin: 1.2em 0 .5em; }
h3 { font-size: 13pt; margin: 1em 0 .4em; }
.meta { color: #444; font-style: italic; margin: 0; }
ul { padding-left: 1.4em; }
li { margin: .35em 0; text-align: justify; }
table { border-collapse: collapse; width: 100%; margin: .6em 0 1em; font-size: 11pt; }
th, td { border: 1px solid var(--rule); padding: 3px 6px; vertical-align: top; }
th { background: #eef2f6; font-weight: bold; text-align: center; }
td.n { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
td.d { white-space: nowrap; font-variant-numeric: tabular-nums; }
tfoot td { font-weight: bold; background: #f7f7f7; }
table.counts { width: auto; min-width: 60%; }
code { font-family: "DejaVu Sans Mono", monospace; font-size: 9.5pt; color: #333; }
figure.chart { margin: 1em 0; }
figure.chart svg { width: 100%; max-width: 760px; height: auto; display: block; }
figcaption { font-size: 11pt; color: #333; font-style: italic; }
.appendix { break-before: page; page-break-before: always; page: wide; }
.empty { font-style: italic; color: #444; }
table.frame, table.frame td { border: none; }
table.frame { margin: 0 0 1em; font-size: 13pt; }
table.frame td { width: 50%; text-align: center; vertical-align: top; padding: 0 4px; }
table.frame p { margin: 0; white-space: pre-wrap; }
table.frame td.authority { width: 42%; }
table.frame p.rule { width: 35%; margin: 2px auto 6px; border-top: 1px solid #111; }
table.frame p.date { margin-top: 4px; }
.basis p, p.closing { text-indent: 1.2cm; text-align: justify; margin: .4em 0; }
table.sign { margin-top: 1.2em; }
table.sign td.recipients { text-align: left; font-size: 11pt; width: 50%; }
table.sign td.recipients ul { list-style: "- "; padding-left: 1em; margin: 0; }
table.sign td.recipients li { margin: 0; }
table.sign p.signature { height: 5em; }
@page { size: A4; margin: 20mm 15mm 20mm 30mm; }
@page wide { size: A4 landscape; margin: 12mm 12mm; }
@media print {
  body { max-width: none; padding: 0; font-size: 12pt; }
  table { font-size: 9.5pt; }
  thead { display: table-header-group; }
  tr, figure { break-inside: avoid; page-break-inside: avoid; }
  h2, h3 { break-after: avoid; page-break-after: avoid; }
}
"#;

fn head(o: &mut String, title: &str) {
    let _ = writeln!(
        o,
        "<!DOCTYPE html>\n<html lang=\"vi\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{}</title>\n<style>{CSS}</style>\n</head>\n<body>",
        esc(title)
    );
}

fn bullets(o: &mut String, paras: &[Para]) {
    o.push_str("<ul>\n");
    for p in paras {
        let _ = writeln!(o, "<li>{}</li>", para(p));
    }
    o.push_str("</ul>\n");
}

/// The official document: the frame (a borderless two-column header block), sections 1–3,
/// the closing, the signature block beside "Nơi nhận", Phụ lục I and II.
pub(crate) fn render(d: &Doc) -> String {
    let r = d.r;
    let mut out = String::new();
    let o = &mut out;
    head(o, &format!("Báo cáo tiến độ giải quyết TTHC {}", r.month));
    let (parent, authority) = d.authority();
    let _ = writeln!(
        o,
        "<table class=\"frame\">\n<tr><td class=\"authority\"><p>{}</p><p><strong>{}</strong></p><p class=\"rule\"></p><p class=\"number\">{}</p></td>\
         <td class=\"motto\"><p><strong>{}</strong></p><p><strong>{}</strong></p><p class=\"rule\"></p><p class=\"date\"><em>{}</em></p></td></tr>\n</table>",
        esc(&parent),
        esc(&authority),
        esc(&d.number()),
        esc(QUOC_HIEU),
        esc(TIEU_NGU),
        esc(&d.date_line()),
    );
    let _ = writeln!(
        o,
        "<header class=\"doc\">\n<p class=\"kind\">{DOC_KIND}</p>\n<h1>{}</h1>\n</header>",
        esc(&title(r)),
    );
    o.push_str("<section class=\"basis\">\n");
    for p in d.legal_basis() {
        let _ = writeln!(o, "<p>{}</p>", esc(&p));
    }
    o.push_str("</section>\n");

    let _ = writeln!(o, "<section>\n<h2>{}</h2>", esc(&section_1_heading(r)));
    bullets(o, &section_1_bullets(r));
    o.push_str("</section>\n");
    let _ = writeln!(o, "<section>\n<h2>{}</h2>", esc(SECTION_2_HEADING));
    bullets(o, &section_2_bullets(r, &d.w));
    o.push_str("</section>\n");
    let _ = writeln!(o, "<section>\n<h2>{}</h2>", esc(SECTION_3_HEADING));
    bullets(o, &d.section_3_bullets());
    o.push_str("</section>\n");
    let _ = writeln!(o, "<p class=\"closing\">{}</p>", esc(&d.closing()));

    // The signature block: "Nơi nhận" bottom left, the signatory bottom right.
    let (title_lines, name) = d.signatory();
    o.push_str("<table class=\"frame sign\">\n<tr><td class=\"recipients\">");
    let _ = write!(
        o,
        "<p><strong><em>{}</em></strong></p><ul>",
        esc(RECIPIENTS_HEADING)
    );
    for x in d.recipients() {
        let _ = write!(o, "<li>{}</li>", esc(&x));
    }
    o.push_str("</ul></td><td class=\"signatory\">");
    for l in &title_lines {
        let _ = write!(o, "<p><strong>{}</strong></p>", esc(l));
    }
    let _ = writeln!(
        o,
        "<p class=\"signature\"></p><p><strong>{}</strong></p></td></tr>\n</table>",
        esc(&name)
    );

    appendix_1_and_2(o, r, d.s.show_officials);
    o.push_str("</body>\n</html>\n");
    out
}

fn appendix_1_and_2(o: &mut String, r: &MonthlyReport, show_officials: bool) {
    // Phụ lục I.
    let _ = writeln!(
        o,
        "<section class=\"appendix\">\n<h2>{}</h2>",
        esc(APPENDIX_1_TITLE)
    );
    let groups: Vec<_> = r.appendix_1.iter().filter(|g| !g.rows.is_empty()).collect();
    if groups.is_empty() {
        let _ = writeln!(o, "<p class=\"empty\">{}</p>", esc(NO_DOSSIER));
    }
    let columns = appendix_1();
    for (i, g) in groups.into_iter().enumerate() {
        let _ = writeln!(o, "<h3>{}</h3>", esc(&agency_heading(i, g)));
        let rows = cells(&columns, lines_of(g));
        table(
            o,
            "rows",
            &column_headers(&columns, Target::Document),
            &rows,
            &[],
        );
    }
    o.push_str("</section>\n");

    // Phụ lục II.
    let _ = writeln!(
        o,
        "<section class=\"appendix\">\n<h2>{}</h2>",
        esc(APPENDIX_2_TITLE)
    );
    let groups: Vec<_> = r.appendix_2.iter().filter(|g| !g.rows.is_empty()).collect();
    if groups.is_empty() {
        let _ = writeln!(o, "<p class=\"empty\">{}</p>", esc(NO_DOSSIER));
    } else {
        let columns = appendix_2_summary();
        let rows = cells(&columns, groups.iter().copied());
        table(
            o,
            "summary",
            &column_headers(&columns, Target::Document),
            &rows,
            &[],
        );
    }
    let columns = appendix_2_for(show_officials);
    for (i, g) in groups.into_iter().enumerate() {
        let _ = writeln!(o, "<h3>{}</h3>", esc(&agency_heading(i, g)));
        let rows = cells(&columns, lines_of(g));
        table(
            o,
            "rows",
            &column_headers(&columns, Target::Document),
            &rows,
            &[],
        );
    }
    o.push_str("</section>\n");
}

/// The IT annex: the three scores side by side with the 12-month chart, the published and
/// recalculated scores, the gap by discrepancy kind, Phụ lục III.
pub(crate) fn render_annex(d: &Doc) -> String {
    let r = d.r;
    let mut out = String::new();
    let o = &mut out;
    let title = annex_title(r, &d.w);
    head(o, &title);
    let _ = writeln!(
        o,
        "<header class=\"doc\">\n<h1>{}</h1>\n<p class=\"meta\">{}</p>\n</header>",
        esc(&title),
        esc(&intro(r))
    );

    let _ = writeln!(o, "<section>\n<h2>{}</h2>", esc(ANNEX_SCORES_HEADING));
    bullets(o, &annex_score_bullets(r));
    let rows: Vec<Vec<Cell>> = count_rows(r)
        .into_iter()
        .map(|(label, n, p)| {
            vec![
                txt(label),
                num(&fmt_int_vi(n)),
                num(&fmt_int_vi(p)),
                num(&count_diff(n, p)),
            ]
        })
        .collect();
    let foot = [
        vec![
            txt(COUNTED.label),
            num(&fmt_int_vi(r.national_view.counted)),
            num(&fmt_int_vi(r.provincial_view.counted)),
            num(&count_diff(
                r.national_view.counted,
                r.provincial_view.counted,
            )),
        ],
        vec![
            txt(SCORE),
            num(&fmt_score(r.national_view.score)),
            num(&fmt_score(r.provincial_view.score)),
            num(&score_gap(r)
                .map(|g| fmt_signed_vi(g, 2))
                .unwrap_or_else(|| "—".into())),
        ],
    ];
    table(o, "counts", &COUNT_HEADERS, &rows, &foot);
    let _ = writeln!(o, "<p>{}</p>", para(&published_vs_recalculated(r)));
    chart(o, r);
    o.push_str("</section>\n");

    let _ = writeln!(o, "<section>\n<h2>{}</h2>", esc(ANNEX_GAP_HEADING));
    let _ = writeln!(o, "<p>{}</p>", para(&gap_intro(r)));
    if !r.gap.is_empty() {
        let columns = gap();
        let mut rows = cells(&columns, &r.gap);
        if let Some(rest) = gap_unexplained(r) {
            rows.push(vec![
                txt(GAP_UNEXPLAINED),
                txt("—"),
                num("—"),
                num(&fmt_signed_vi(rest, 2)),
            ]);
        }
        let (n, pts) = gap_total(r);
        table(
            o,
            "gap",
            &column_headers(&columns, Target::Document),
            &rows,
            &[vec![
                txt(TOTAL),
                txt(""),
                num(&fmt_int_vi(n)),
                num(&fmt_signed_vi(pts, 2)),
            ]],
        );
    }
    o.push_str("</section>\n");

    // Phụ lục III.
    let _ = writeln!(
        o,
        "<section class=\"appendix\">\n<h2>{}</h2>",
        esc(&appendix_3_title(&d.w))
    );
    if r.appendix_3.is_empty() {
        let _ = writeln!(o, "<p class=\"empty\">{}</p>", esc(NO_DOSSIER));
    } else {
        let columns = appendix_3();
        let rows = cells(&columns, &r.appendix_3);
        // The total line: its label beside the numbers, the sum under the points.
        let n = shown(&columns, Target::Document).count();
        let mut foot: Vec<Cell> = (0..n).map(|_| txt("")).collect();
        foot[1] = txt(TOTAL);
        foot[n - 1] = num(&fmt_vi(appendix_3_total(r), 2));
        table(
            o,
            "rows",
            &column_headers(&columns, Target::Document),
            &rows,
            &[foot],
        );
    }
    o.push_str("</section>\n</body>\n</html>\n");
    out
}

// ---------------------------------------------------------------------------------------------
// The 12-month chart.

const W: f64 = 760.0;
const H: f64 = 330.0;
const LEFT: f64 = 56.0;
const RIGHT: f64 = 16.0;
const TOP: f64 = 44.0;
const BOTTOM: f64 = 58.0;

/// How the chart draws each series of [`HISTORY`], in its order.
struct Style {
    color: &'static str,
    dash: Option<&'static str>,
}

const STYLES: [Style; 3] = [
    Style {
        color: "#c0392b",
        dash: None,
    },
    Style {
        color: "#1f618d",
        dash: None,
    },
    Style {
        color: "#1e8449",
        dash: Some("6 4"),
    },
];

/// The chart's series: each source of the 12-month history with its style.
fn series() -> impl Iterator<Item = (&'static Source, &'static Style)> {
    HISTORY.iter().zip(STYLES.iter())
}

fn f1(x: f64) -> String {
    format!("{x:.1}")
}

fn chart(o: &mut String, r: &MonthlyReport) {
    o.push_str("<figure class=\"chart\">\n");
    if r.history.is_empty() {
        let _ = writeln!(
            o,
            "<p class=\"empty\">Chưa có số liệu các tháng trước.</p>\n</figure>"
        );
        return;
    }
    let n = r.history.len();
    let plot_w = W - LEFT - RIGHT;
    let plot_h = H - TOP - BOTTOM;
    let x_at = |i: usize| -> f64 {
        if n == 1 {
            LEFT + plot_w / 2.0
        } else {
            LEFT + plot_w * (i as f64 + 0.5) / n as f64
        }
    };
    let y_at = |v: f64| -> f64 { TOP + plot_h * (1.0 - v.clamp(0.0, 20.0) / 20.0) };
    let first = r
        .history
        .first()
        .map(|p| p.month.to_string())
        .unwrap_or_default();
    let last = r
        .history
        .last()
        .map(|p| p.month.to_string())
        .unwrap_or_default();
    let caption = format!(
        "Điểm tiến độ giải quyết (thang 20) các tháng {first}–{last}: Cổng DVCQG (tính lại), Hệ thống của tỉnh, điểm công bố"
    );
    let _ = writeln!(
        o,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {W} {H}\" width=\"{W}\" height=\"{H}\" role=\"img\" aria-label=\"{}\" font-family=\"DejaVu Sans, Arial, sans-serif\" font-size=\"12\">",
        esc(&caption)
    );
    let _ = writeln!(o, "<title>{}</title>", esc(&caption));
    let _ = writeln!(
        o,
        "<rect x=\"0\" y=\"0\" width=\"{W}\" height=\"{H}\" fill=\"#fff\"/>"
    );

    // Y axis: gridlines and labels 0..20.
    for v in [0.0, 5.0, 10.0, 15.0, 20.0] {
        let y = f1(y_at(v));
        let _ = writeln!(
            o,
            "<line x1=\"{}\" y1=\"{y}\" x2=\"{}\" y2=\"{y}\" stroke=\"{}\" stroke-width=\"1\"/>",
            f1(LEFT),
            f1(W - RIGHT),
            if v == 0.0 { "#333" } else { "#ddd" }
        );
        let _ = writeln!(
            o,
            "<text x=\"{}\" y=\"{}\" text-anchor=\"end\" fill=\"#333\">{}</text>",
            f1(LEFT - 6.0),
            f1(y_at(v) + 4.0),
            v as u32
        );
    }
    let _ = writeln!(
        o,
        "<line x1=\"{l}\" y1=\"{t}\" x2=\"{l}\" y2=\"{b}\" stroke=\"#333\" stroke-width=\"1\"/>",
        l = f1(LEFT),
        t = f1(TOP),
        b = f1(TOP + plot_h)
    );
    let _ = writeln!(
        o,
        "<text transform=\"translate(14 {}) rotate(-90)\" text-anchor=\"middle\" fill=\"#333\">Điểm (/20)</text>",
        f1(TOP + plot_h / 2.0)
    );

    // X axis: month labels; a month with nothing counted is marked.
    for (i, p) in r.history.iter().enumerate() {
        let x = f1(x_at(i));
        let _ = writeln!(
            o,
            "<line x1=\"{x}\" y1=\"{}\" x2=\"{x}\" y2=\"{}\" stroke=\"#333\" stroke-width=\"1\"/>",
            f1(TOP + plot_h),
            f1(TOP + plot_h + 4.0)
        );
        let _ = writeln!(
            o,
            "<text x=\"{x}\" y=\"{}\" text-anchor=\"middle\" fill=\"#333\">{}</text>",
            f1(TOP + plot_h + 18.0),
            esc(&p.month.to_string())
        );
        if HISTORY.iter().all(|s| (s.month)(p).is_none()) {
            // Written upwards inside the month's column, so that neighbouring empty months
            // do not overlap.
            let y = f1(TOP + plot_h - 6.0);
            let _ = writeln!(
                o,
                "<text x=\"{x}\" y=\"{y}\" transform=\"rotate(-90 {x} {y})\" fill=\"#888\" font-size=\"10\">không có số liệu</text>",
            );
        }
    }
    let _ = writeln!(
        o,
        "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" fill=\"#333\">Tháng</text>",
        f1(LEFT + plot_w / 2.0),
        f1(H - 10.0)
    );

    // Series: a line through consecutive known months (a gap breaks it), a dot per month.
    for (s, style) in series() {
        let dash = style
            .dash
            .map(|d| format!(" stroke-dasharray=\"{d}\""))
            .unwrap_or_default();
        let mut run: Vec<String> = Vec::new();
        let mut runs: Vec<Vec<String>> = Vec::new();
        for (i, p) in r.history.iter().enumerate() {
            match (s.month)(p) {
                Some(v) if v.is_finite() => run.push(format!("{},{}", f1(x_at(i)), f1(y_at(v)))),
                _ => runs.push(std::mem::take(&mut run)),
            }
        }
        runs.push(run);
        let _ = writeln!(
            o,
            "<g class=\"series\" fill=\"none\" stroke=\"{}\" stroke-width=\"2\">",
            style.color
        );
        for run in runs.iter().filter(|r| r.len() > 1) {
            let _ = writeln!(o, "<polyline points=\"{}\"{dash}/>", run.join(" "));
        }
        o.push_str("</g>\n");
        let _ = writeln!(o, "<g fill=\"{}\">", style.color);
        for (i, p) in r.history.iter().enumerate() {
            if let Some(v) = (s.month)(p).filter(|v| v.is_finite()) {
                let _ = writeln!(
                    o,
                    "<circle cx=\"{}\" cy=\"{}\" r=\"3\"><title>{} {}: {}</title></circle>",
                    f1(x_at(i)),
                    f1(y_at(v)),
                    esc(s.label),
                    esc(&p.month.to_string()),
                    esc(&fmt_score(Some(v)))
                );
            }
        }
        o.push_str("</g>\n");
    }

    // Legend, above the plot.
    let mut x = LEFT;
    for (s, style) in series() {
        let dash = style
            .dash
            .map(|d| format!(" stroke-dasharray=\"{d}\""))
            .unwrap_or_default();
        let _ = writeln!(
            o,
            "<line x1=\"{}\" y1=\"18\" x2=\"{}\" y2=\"18\" stroke=\"{}\" stroke-width=\"2.5\"{dash}/>",
            f1(x),
            f1(x + 26.0),
            style.color
        );
        let _ = writeln!(
            o,
            "<circle cx=\"{}\" cy=\"18\" r=\"3\" fill=\"{}\"/>",
            f1(x + 13.0),
            style.color
        );
        let _ = writeln!(
            o,
            "<text x=\"{}\" y=\"22\" fill=\"#111\">{}</text>",
            f1(x + 32.0),
            esc(s.label)
        );
        x += 32.0 + 8.0 * s.label.chars().count() as f64 + 28.0;
    }
    o.push_str("</svg>\n");
    let _ = writeln!(o, "<figcaption>{}</figcaption>\n</figure>", esc(&caption));
}
