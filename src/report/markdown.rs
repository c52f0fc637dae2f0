//! Markdown, following the structure and headings of the province's own report.

use super::format::*;
use super::model::*;
use super::text::*;
use std::fmt::Write as _;

/// Escapes text for Markdown prose and table cells: no markup, no table break, one line.
pub(crate) fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '|' | '#' => {
                out.push('\\');
                out.push(c);
            }
            '\r' | '\n' | '\t' => out.push(' '),
            _ => out.push(c),
        }
    }
    out
}

fn para(p: &Para) -> String {
    p.iter()
        .map(|s| match s {
            Span::Text(x) => esc(x),
            Span::Bold(x) => format!("**{}**", esc(x)),
            Span::Link(url) => format!("<{url}>"),
        })
        .collect()
}

fn table<const N: usize>(
    out: &mut String,
    headers: &[&str; N],
    right: &[usize],
    rows: &[Vec<String>],
) {
    let cells: Vec<String> = headers.iter().map(|h| esc(h)).collect();
    let _ = writeln!(out, "| {} |", cells.join(" | "));
    let rule: Vec<&str> = (0..N)
        .map(|i| if right.contains(&i) { "---:" } else { "---" })
        .collect();
    let _ = writeln!(out, "|{}|", rule.join("|"));
    for row in rows {
        let _ = writeln!(out, "| {} |", row.join(" | "));
    }
    out.push('\n');
}

pub(crate) fn render(r: &MonthlyReport) -> String {
    let mut out = String::new();
    let o = &mut out;
    let _ = writeln!(o, "# BÁO CÁO\n");
    let _ = writeln!(o, "## {}\n", esc(&title(r)));
    let _ = writeln!(o, "{}\n", esc(&intro(r)));

    // 1.
    let _ = writeln!(o, "### {}\n", esc(&section_1_heading(r)));
    for p in section_1_bullets(r) {
        let _ = writeln!(o, "- {}\n", para(&p));
    }
    let mut rows: Vec<Vec<String>> = count_rows(r)
        .into_iter()
        .map(|(label, n, p)| vec![esc(label), fmt_int_vi(n), fmt_int_vi(p), count_diff(n, p)])
        .collect();
    rows.push(vec![
        "**Tổng số hồ sơ được tính**".into(),
        format!("**{}**", fmt_int_vi(r.national_view.counted)),
        format!("**{}**", fmt_int_vi(r.provincial_view.counted)),
        format!(
            "**{}**",
            count_diff(r.national_view.counted, r.provincial_view.counted)
        ),
    ]);
    rows.push(vec![
        "**Điểm tiến độ giải quyết**".into(),
        format!("**{}**", fmt_score(r.national_view.score)),
        format!("**{}**", fmt_score(r.provincial_view.score)),
        score_gap(r)
            .map(|g| fmt_signed_vi(g, 2))
            .unwrap_or_else(|| "—".into()),
    ]);
    table(o, &COUNT_HEADERS, &[1, 2, 3], &rows);

    let _ = writeln!(o, "{}\n", para(&gap_intro(r)));
    if !r.gap.is_empty() {
        let mut rows: Vec<Vec<String>> = r
            .gap
            .iter()
            .map(|g| {
                vec![
                    esc(kind_label_vi(&g.kind)),
                    format!("`{}`", g.kind.replace('`', "")),
                    fmt_int_vi(g.dossiers),
                    fmt_signed_vi(g.points, 2),
                ]
            })
            .collect();
        if let Some(rest) = gap_unexplained(r) {
            rows.push(vec![
                "Phần chênh lệch chưa giải thích được".into(),
                "—".into(),
                "—".into(),
                fmt_signed_vi(rest, 2),
            ]);
        }
        let (n, pts) = gap_total(r);
        rows.push(vec![
            "**Cộng**".into(),
            String::new(),
            format!("**{}**", fmt_int_vi(n)),
            format!("**{}**", fmt_signed_vi(pts, 2)),
        ]);
        table(o, &GAP_HEADERS, &[2, 3], &rows);
    }

    // 2.
    let _ = writeln!(o, "### {SECTION_2_HEADING}\n");
    for p in section_2_bullets(r) {
        let _ = writeln!(o, "- {}\n", para(&p));
    }

    // Phụ lục I.
    let _ = writeln!(o, "---\n\n## {}\n", esc(APPENDIX_1_TITLE));
    let groups: Vec<_> = r.appendix_1.iter().filter(|g| !g.rows.is_empty()).collect();
    if groups.is_empty() {
        let _ = writeln!(o, "{NO_DOSSIER}\n");
    }
    for (i, g) in groups.into_iter().enumerate() {
        let _ = writeln!(o, "### {}\n", esc(&agency_heading(i, g)));
        let rows: Vec<Vec<String>> = g
            .rows
            .iter()
            .enumerate()
            .map(|(j, x)| appendix_1_cells(j, x).iter().map(|c| esc(c)).collect())
            .collect();
        table(o, &APPENDIX_1_HEADERS, &[0, 6], &rows);
    }

    // Phụ lục II.
    let _ = writeln!(o, "---\n\n## {}\n", esc(APPENDIX_2_TITLE));
    let groups: Vec<_> = r.appendix_2.iter().filter(|g| !g.rows.is_empty()).collect();
    if groups.is_empty() {
        let _ = writeln!(o, "{NO_DOSSIER}\n");
    } else {
        let rows: Vec<Vec<String>> = groups
            .iter()
            .enumerate()
            .map(|(i, g)| {
                let (n, late, open) = appendix_2_counts(g);
                vec![
                    (i + 1).to_string(),
                    esc(&g.agency_name),
                    fmt_int_vi(n),
                    fmt_int_vi(late),
                    fmt_int_vi(open),
                ]
            })
            .collect();
        table(o, &APPENDIX_2_SUMMARY_HEADERS, &[0, 2, 3, 4], &rows);
    }
    for (i, g) in groups.into_iter().enumerate() {
        let _ = writeln!(o, "### {}\n", esc(&agency_heading(i, g)));
        let rows: Vec<Vec<String>> = g
            .rows
            .iter()
            .enumerate()
            .map(|(j, x)| appendix_2_cells(j, x).iter().map(|c| esc(c)).collect())
            .collect();
        table(o, &APPENDIX_2_HEADERS, &[0, 7], &rows);
    }

    // Phụ lục III.
    let _ = writeln!(o, "---\n\n## {}\n", esc(APPENDIX_3_TITLE));
    if r.appendix_3.is_empty() {
        let _ = writeln!(o, "{NO_DOSSIER}\n");
    } else {
        let mut rows: Vec<Vec<String>> = r
            .appendix_3
            .iter()
            .enumerate()
            .map(|(i, x)| {
                vec![
                    (i + 1).to_string(),
                    esc(&x.dossier_code),
                    esc(&x.agency_name),
                    esc(kind_label_vi(&x.kind)),
                    format!("`{}`", x.kind.replace('`', "")),
                    esc(&x.provincial_value),
                    esc(&x.national_value),
                    fmt_vi(x.points, 2),
                ]
            })
            .collect();
        rows.push(vec![
            String::new(),
            "**Cộng**".into(),
            String::new(),
            String::new(),
            String::new(),
            String::new(),
            String::new(),
            format!("**{}**", fmt_vi(appendix_3_total(r), 2)),
        ]);
        table(o, &APPENDIX_3_HEADERS, &[0, 7], &rows);
    }
    out
}
