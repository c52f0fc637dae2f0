//! Markdown, following the structure and headings of the province's own report.

use std::borrow::Borrow;
use std::fmt::Write as _;

use super::columns::*;
use super::format::*;
use super::model::*;
use super::text::*;

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

fn table(out: &mut String, headers: &[&str], right: &[usize], rows: &[Vec<String>]) {
    let cells: Vec<String> = headers.iter().map(|h| esc(h)).collect();
    let _ = writeln!(out, "| {} |", cells.join(" | "));
    let rule: Vec<&str> = (0..headers.len())
        .map(|i| if right.contains(&i) { "---:" } else { "---" })
        .collect();
    let _ = writeln!(out, "|{}|", rule.join("|"));
    for row in rows {
        let _ = writeln!(out, "| {} |", row.join(" | "));
    }
    out.push('\n');
}

/// A table of `columns` (those the documents show): numbers right-aligned.
fn columns_table<R>(out: &mut String, columns: &[Column<R>], rows: &[Vec<String>]) {
    let right: Vec<usize> = shown(columns, Target::Document)
        .enumerate()
        .filter(|(_, c)| c.get.is_number())
        .map(|(i, _)| i)
        .collect();
    table(
        out,
        &column_headers(columns, Target::Document),
        &right,
        rows,
    );
}

/// The cells of `rows`, numbered from 1.
fn cells<R, B: Borrow<R>>(
    columns: &[Column<R>],
    rows: impl IntoIterator<Item = B>,
) -> Vec<Vec<String>> {
    document_cells(columns, rows, cell)
}

fn cell<R>(get: &Get<R>, index: usize, r: &R) -> String {
    match get {
        Get::Index => index.to_string(),
        Get::Text(f) => esc(f(r)),
        Get::Coded { get, .. } => esc(get(r).1),
        Get::Code(f) => format!("`{}`", f(r).replace('`', "")),
        Get::Names(f) => match f(r) {
            [] => "—".to_string(),
            names => esc(&names.join("; ")),
        },
        Get::Time(f) => fmt_opt_time_vi(&f(r)),
        Get::Count(f) => fmt_int_vi(f(r)),
        Get::Days(f) => fmt_days(f(r)),
        Get::Points(f) => fmt_vi(f(r), 2),
        Get::SignedPoints(f) => fmt_signed_vi(f(r), 2),
    }
}

/// The official document: the frame, sections 1–3, the closing, the signature block, Phụ lục
/// I and II; Vietnamese labels only.
pub(crate) fn render(d: &Doc) -> String {
    let r = d.r;
    let mut out = String::new();
    let o = &mut out;

    // The header block: authority and number | Quốc hiệu, Tiêu ngữ, place and date.
    let (parent, authority) = d.authority();
    let _ = writeln!(o, "| {} | {} |", esc(&parent), esc(QUOC_HIEU));
    let _ = writeln!(o, "|:---:|:---:|");
    let _ = writeln!(o, "| **{}** | **{}** |", esc(&authority), esc(TIEU_NGU));
    let _ = writeln!(o, "| {} | *{}* |\n", esc(&d.number()), esc(&d.date_line()));

    let _ = writeln!(o, "# {DOC_KIND}\n");
    let _ = writeln!(o, "## {}\n", esc(&title(r)));
    for p in d.legal_basis() {
        let _ = writeln!(o, "{}\n", esc(&p));
    }

    // 1.
    let _ = writeln!(o, "### {}\n", esc(&section_1_heading(r)));
    for p in section_1_bullets(r) {
        let _ = writeln!(o, "- {}\n", para(&p));
    }
    // 2.
    let _ = writeln!(o, "### {SECTION_2_HEADING}\n");
    for p in section_2_bullets(r, &d.w) {
        let _ = writeln!(o, "- {}\n", para(&p));
    }
    // 3.
    let _ = writeln!(o, "### {SECTION_3_HEADING}\n");
    for p in d.section_3_bullets() {
        let _ = writeln!(o, "- {}\n", para(&p));
    }
    let _ = writeln!(o, "{}\n", esc(&d.closing()));

    // The signature block: the signatory, then "Nơi nhận".
    let (title_lines, name) = d.signatory();
    for l in &title_lines {
        let _ = writeln!(o, "**{}**\n", esc(l));
    }
    if !name.is_empty() {
        let _ = writeln!(o, "**{}**\n", esc(&name));
    }
    let _ = writeln!(o, "***{RECIPIENTS_HEADING}***\n");
    for x in d.recipients() {
        let _ = writeln!(o, "- {}", esc(&x));
    }
    o.push('\n');

    appendix_1_and_2(o, r, d.s.show_officials);
    out
}

fn appendix_1_and_2(o: &mut String, r: &MonthlyReport, show_officials: bool) {
    // Phụ lục I.
    let _ = writeln!(o, "---\n\n## {}\n", esc(APPENDIX_1_TITLE));
    let groups: Vec<_> = r.appendix_1.iter().filter(|g| !g.rows.is_empty()).collect();
    if groups.is_empty() {
        let _ = writeln!(o, "{NO_DOSSIER}\n");
    }
    let columns = appendix_1();
    for (i, g) in groups.into_iter().enumerate() {
        let _ = writeln!(o, "### {}\n", esc(&agency_heading(i, g)));
        let rows = cells(&columns, lines_of(g));
        columns_table(o, &columns, &rows);
    }

    // Phụ lục II.
    let _ = writeln!(o, "---\n\n## {}\n", esc(APPENDIX_2_TITLE));
    let groups: Vec<_> = r.appendix_2.iter().filter(|g| !g.rows.is_empty()).collect();
    if groups.is_empty() {
        let _ = writeln!(o, "{NO_DOSSIER}\n");
    } else {
        let columns = appendix_2_summary();
        columns_table(o, &columns, &cells(&columns, groups.iter().copied()));
    }
    let columns = appendix_2_for(show_officials);
    for (i, g) in groups.into_iter().enumerate() {
        let _ = writeln!(o, "### {}\n", esc(&agency_heading(i, g)));
        let rows = cells(&columns, lines_of(g));
        columns_table(o, &columns, &rows);
    }
}

/// The IT annex: the three scores side by side, the gap by discrepancy kind, the published
/// and recalculated scores, Phụ lục III.
pub(crate) fn render_annex(d: &Doc) -> String {
    let r = d.r;
    let mut out = String::new();
    let o = &mut out;
    let _ = writeln!(o, "# {}\n", esc(&annex_title(r, &d.w)));
    let _ = writeln!(o, "{}\n", esc(&intro(r)));

    let _ = writeln!(o, "## {}\n", esc(ANNEX_SCORES_HEADING));
    for p in annex_score_bullets(r) {
        let _ = writeln!(o, "- {}\n", para(&p));
    }
    let mut rows: Vec<Vec<String>> = count_rows(r)
        .into_iter()
        .map(|(label, n, p)| vec![esc(label), fmt_int_vi(n), fmt_int_vi(p), count_diff(n, p)])
        .collect();
    rows.push(vec![
        format!("**{}**", COUNTED.label),
        format!("**{}**", fmt_int_vi(r.national_view.counted)),
        format!("**{}**", fmt_int_vi(r.provincial_view.counted)),
        format!(
            "**{}**",
            count_diff(r.national_view.counted, r.provincial_view.counted)
        ),
    ]);
    rows.push(vec![
        format!("**{SCORE}**"),
        format!("**{}**", fmt_score(r.national_view.score)),
        format!("**{}**", fmt_score(r.provincial_view.score)),
        score_gap(r)
            .map(|g| fmt_signed_vi(g, 2))
            .unwrap_or_else(|| "—".into()),
    ]);
    table(o, &COUNT_HEADERS, &[1, 2, 3], &rows);
    let _ = writeln!(o, "{}\n", para(&published_vs_recalculated(r)));

    let _ = writeln!(o, "## {}\n", esc(ANNEX_GAP_HEADING));
    let _ = writeln!(o, "{}\n", para(&gap_intro(r)));
    if !r.gap.is_empty() {
        let columns = gap();
        let mut rows = cells(&columns, &r.gap);
        if let Some(rest) = gap_unexplained(r) {
            rows.push(vec![
                GAP_UNEXPLAINED.into(),
                "—".into(),
                "—".into(),
                fmt_signed_vi(rest, 2),
            ]);
        }
        let (n, pts) = gap_total(r);
        rows.push(vec![
            format!("**{TOTAL}**"),
            String::new(),
            format!("**{}**", fmt_int_vi(n)),
            format!("**{}**", fmt_signed_vi(pts, 2)),
        ]);
        columns_table(o, &columns, &rows);
    }

    // Phụ lục III.
    let _ = writeln!(o, "---\n\n## {}\n", esc(&appendix_3_title(&d.w)));
    if r.appendix_3.is_empty() {
        let _ = writeln!(o, "{NO_DOSSIER}\n");
    } else {
        let columns = appendix_3();
        let mut rows = cells(&columns, &r.appendix_3);
        // The total line: its label beside the numbers, the sum under the points.
        let mut total = vec![String::new(); shown(&columns, Target::Document).count()];
        total[1] = format!("**{TOTAL}**");
        if let Some(last) = total.last_mut() {
            *last = format!("**{}**", fmt_vi(appendix_3_total(r), 2));
        }
        rows.push(total);
        columns_table(o, &columns, &rows);
    }
    out
}

/// One pack per agency with overdue dossiers (in Phụ lục I or II): `(agency code, Markdown)`.
/// What the agency needs to write its explanation report: its late dossiers in the province
/// with the officials who handled them (for the apology letters), its dossiers overdue on the
/// portal, and those of them that are sync faults (no explanation needed: the sync agency
/// corrects them).
pub(crate) fn render_packs(d: &Doc) -> Vec<(String, String)> {
    let r = d.r;
    let mut agencies: Vec<(&str, &str)> = Vec::new();
    for (code, name) in r
        .appendix_2
        .iter()
        .filter(|g| !g.rows.is_empty())
        .map(|g| (g.agency_code.as_str(), g.agency_name.as_str()))
        .chain(
            r.appendix_1
                .iter()
                .filter(|g| !g.rows.is_empty())
                .map(|g| (g.agency_code.as_str(), g.agency_name.as_str())),
        )
    {
        if !agencies.iter().any(|(c, _)| *c == code) {
            agencies.push((code, name));
        }
    }
    agencies.sort();
    let faults: Vec<&str> = r
        .appendix_3
        .iter()
        .map(|x| x.dossier_code.as_str())
        .collect();
    agencies
        .into_iter()
        .map(|(code, name)| {
            let mut out = String::new();
            let o = &mut out;
            let _ = writeln!(o, "# {}\n", esc(&pack_title(r, name, code)));
            let _ = writeln!(o, "{}\n", esc(&pack_intro(r, &d.w)));

            let _ = writeln!(o, "## {}\n", esc(PACK_PROVINCIAL));
            match r
                .appendix_2
                .iter()
                .find(|g| g.agency_code == code && !g.rows.is_empty())
            {
                None => {
                    let _ = writeln!(o, "{NO_DOSSIER}\n");
                }
                Some(g) => {
                    // The officials are named here: the agency writes the apology letters.
                    let columns = appendix_2_for(true);
                    columns_table(o, &columns, &cells(&columns, lines_of(g)));
                }
            }

            let _ = writeln!(o, "## {}\n", esc(PACK_NATIONAL));
            match r
                .appendix_1
                .iter()
                .find(|g| g.agency_code == code && !g.rows.is_empty())
            {
                None => {
                    let _ = writeln!(o, "{NO_DOSSIER}\n");
                }
                Some(g) => {
                    let columns = appendix_1();
                    let mut rows = cells(&columns, lines_of(g));
                    for (row, x) in rows.iter_mut().zip(&g.rows) {
                        row.push(
                            if faults.contains(&x.dossier_code.as_str()) {
                                PACK_SYNC_FAULT
                            } else {
                                ""
                            }
                            .to_string(),
                        );
                    }
                    let mut headers = column_headers(&columns, Target::Document);
                    headers.push(PACK_NOTE);
                    let right: Vec<usize> = shown(&columns, Target::Document)
                        .enumerate()
                        .filter(|(_, c)| c.get.is_number())
                        .map(|(i, _)| i)
                        .collect();
                    table(o, &headers, &right, &rows);
                }
            }

            let _ = writeln!(o, "## {}\n", esc(PACK_FAULTS));
            let own: Vec<&SyncFaultRow> = r
                .appendix_3
                .iter()
                .filter(|x| x.agency_code == code)
                .collect();
            if own.is_empty() {
                let _ = writeln!(o, "{NO_DOSSIER}\n");
            } else {
                let mut columns = appendix_3();
                // Vietnamese labels only: the kind's code is for the IT annex.
                columns.retain(|c| !matches!(c.get, Get::Code(_)));
                columns_table(o, &columns, &cells(&columns, own.iter().copied()));
            }
            (code.to_string(), out)
        })
        .collect()
}
