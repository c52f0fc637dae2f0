//! Printing for the CLI: terminal tables with Vietnamese labels, JSON and CSV for tools (the
//! crate's one CSV writer, [`tthc_sync::csv`]). Only formatting: what is printed is built by the
//! library.

use std::fmt::Write as _;

use clap::ValueEnum;
use serde::Serialize;

use tthc_sync::csv::{self, Csv};
#[cfg(feature = "sim")]
use tthc_sync::demo::DemoSummary;
use tthc_sync::dossier_view::{DossierView, SideVerdict};
use tthc_sync::model::{fmt_time, LocalTime, Status};
use tthc_sync::reconcile::{Kind, Severity};
use tthc_sync::scores::ScoresReport;
use tthc_sync::store::{DiscrepancyRow, EventRow, HistoryRow};
use tthc_sync::sync::CycleReport;
use tthc_sync::timeliness::Verdict;

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum Format {
    Table,
    Json,
    Csv,
}

fn width(s: &str) -> usize {
    s.chars().count()
}

/// A plain text table, columns padded to their widest cell.
pub fn table(headers: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = headers.iter().map(|h| width(h)).collect();
    for r in rows {
        for (i, c) in r.iter().enumerate() {
            widths[i] = widths[i].max(width(c));
        }
    }
    let mut out = String::new();
    let line = |out: &mut String, cells: &[String]| {
        let mut l = String::new();
        for (i, c) in cells.iter().enumerate() {
            let pad = widths[i] - width(c);
            if i + 1 == cells.len() {
                l.push_str(c);
            } else {
                let _ = write!(l, "{c}{}  ", " ".repeat(pad));
            }
        }
        out.push_str(l.trim_end());
        out.push('\n');
    };
    line(
        &mut out,
        &headers.iter().map(|h| h.to_string()).collect::<Vec<_>>(),
    );
    line(
        &mut out,
        &widths.iter().map(|w| "-".repeat(*w)).collect::<Vec<_>>(),
    );
    for r in rows {
        line(&mut out, r);
    }
    out
}

fn json<T: Serialize>(v: &T) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(v)?);
    Ok(())
}

fn kind_vi(kind: &str) -> String {
    Kind::label_vi_of(kind).to_string()
}

fn state_vi(state: &str) -> &str {
    match state {
        "open" => "Mở",
        "acknowledged" => "Đã ghi nhận",
        "resolved" => "Đã xử lý",
        other => other,
    }
}

pub fn print_run(r: &CycleReport) {
    let c = &r.counts;
    println!(
        "run {}: {} — provincial rows {} ({} new/changed), look-ups {} ({} failed), \
         discrepancies opened {}, reopened {}, resolved {}",
        r.run_id,
        r.outcome.as_str(),
        c.provincial_rows,
        c.provincial_changed,
        c.lookups,
        c.lookup_errors,
        c.opened,
        c.reopened,
        c.resolved
    );
    if c.lookups_failing > 0 {
        println!(
            "  {} dossiers' national look-ups have failed for too long: \
             tthc-sync lookups --failing",
            c.lookups_failing
        );
    }
    for p in &c.pulls {
        println!("  pull: {}", tthc_sync::pull::describe(p));
    }
    for p in &c.problems {
        println!("  partial: {p}");
    }
}

/// `scores --month`: what was stored and the province's "Tiến độ giải quyết"; JSON with
/// `--format json`.
pub fn print_scores(r: &ScoresReport, format: Format) -> anyhow::Result<()> {
    if format == Format::Json {
        return json(r);
    }
    println!(
        "{} rows of published scores for {} stored (api {}{})",
        r.rows,
        r.month,
        r.api,
        if r.skipped > 0 {
            format!(", {} rows without a unit skipped", r.skipped)
        } else {
            String::new()
        }
    );
    match r.province.as_ref() {
        Some(p) => println!(
            "Tiến độ giải quyết (TDGQ) of {}: {} / {}",
            p.unit_name.as_deref().unwrap_or(&p.unit_key),
            p.tdgq_score
                .map(|s| format!("{s:.2}"))
                .unwrap_or_else(|| "not published".into()),
            p.max_score.unwrap_or(20.0)
        ),
        None => println!("the portal published no row for the province itself"),
    }
    Ok(())
}

#[cfg(feature = "sim")]
pub fn print_demo(s: &DemoSummary) {
    println!("tthc-sync demo — Điện Biên, simulated portals on loopback\n");
    print_run(&s.run);
    println!();
    println!(
        "Hồ sơ tại tỉnh (provincial dossiers):      {}",
        s.provincial_dossiers
    );
    println!(
        "Hồ sơ trên Cổng DVCQG (national, found):    {}  (not found: {})",
        s.national_found, s.national_not_found
    );
    println!();
    println!("Sai lệch đang mở theo loại (open discrepancies by kind):");
    let rows: Vec<Vec<String>> = s
        .by_kind
        .iter()
        .map(|(k, n)| vec![k.clone(), kind_vi(k), n.to_string()])
        .collect();
    print!("{}", table(&["kind", "loại", "count"], &rows));
    println!();
    println!("Năm cơ quan nhiều sai lệch nhất (top five agencies):");
    let rows: Vec<Vec<String>> = s
        .top_agencies
        .iter()
        .map(|(a, n)| vec![a.clone(), n.to_string()])
        .collect();
    print!("{}", table(&["agency", "open"], &rows));
    println!();
    let sc = &s.score;
    println!(
        "Against the simulator's ground truth (vendors' habits on, none a fault): {} findings \
         expected (injected faults, dossiers without a due date), {} discrepancies open \
         (medium and above), precision {:.1}%, recall {:.1}%; {} low ones not listed by default",
        sc.injected,
        sc.found,
        sc.precision() * 100.0,
        sc.recall() * 100.0,
        sc.low
    );
    println!();
    println!("database:     {}", s.database.display());
    println!("config:       {}", s.config.display());
    println!("ground truth: {}", s.truth.display());
    for r in &s.report {
        println!("report:       {}", r.display());
    }
    println!(
        "next: tthc-sync --database {} discrepancies",
        s.database.display()
    );
}

/// The agency's name, else its code.
fn agency(d: &DiscrepancyRow) -> String {
    tthc_sync::discrepancy_export::agency(d)
}

fn discrepancy_cells(d: &DiscrepancyRow) -> Vec<String> {
    vec![
        d.id.to_string(),
        d.dossier_code.clone(),
        d.kind.clone(),
        state_vi(&d.state).to_string(),
        d.severity.clone(),
        format!("{:.4}", d.score_impact),
        agency(d),
        d.provincial.clone(),
        d.national.clone(),
        d.first_seen.clone(),
    ]
}

const DISCREPANCY_HEADERS: &[&str] = &[
    "id",
    "dossier_code",
    "kind",
    "trạng thái",
    "severity",
    "impact",
    "cơ quan",
    "tại tỉnh",
    "trên Cổng",
    "first_seen",
];

/// `tthc-sync lookups --failing`: the dossiers whose national look-ups keep failing.
pub fn print_failing_lookups(
    rows: &[tthc_sync::reconcile::FailingLookup],
    format: Format,
) -> anyhow::Result<()> {
    let agency = |f: &tthc_sync::reconcile::FailingLookup| {
        f.agency_name
            .clone()
            .or_else(|| f.agency_code.clone())
            .unwrap_or_default()
    };
    match format {
        Format::Json => json(&rows),
        Format::Csv => {
            let mut out = Csv::new([
                "code",
                "agency_code",
                "agency",
                "since",
                "attempts",
                "last_error_class",
                "last_attempt_at",
            ]);
            for f in rows {
                out.row([
                    csv::text(&f.code).into_owned(),
                    csv::text(f.agency_code.as_deref().unwrap_or("")).into_owned(),
                    csv::text(&agency(f)).into_owned(),
                    fmt_time(&f.since),
                    f.attempts.to_string(),
                    f.last_error_class.clone().unwrap_or_default(),
                    fmt_time(&f.last_attempt_at),
                ]);
            }
            print!("{}", out.finish());
            Ok(())
        }
        Format::Table => {
            let cells: Vec<Vec<String>> = rows
                .iter()
                .map(|f| {
                    vec![
                        f.code.clone(),
                        agency(f),
                        fmt_time(&f.since),
                        f.attempts.to_string(),
                        f.last_error_class.clone().unwrap_or_default(),
                        fmt_time(&f.last_attempt_at),
                    ]
                })
                .collect();
            print!(
                "{}",
                table(
                    &[
                        "code",
                        "agency",
                        "since",
                        "attempts",
                        "last error",
                        "last attempt"
                    ],
                    &cells
                )
            );
            println!(
                "{} dossiers whose national look-ups keep failing",
                rows.len()
            );
            Ok(())
        }
    }
}

/// The discrepancies of severity `least` and above, then (table: on stdout; JSON and CSV: on
/// stderr, so that the data stays clean) a line counting the `below` ones not listed.
pub fn print_discrepancies(
    rows: &[DiscrepancyRow],
    below: usize,
    least: Severity,
    format: Format,
) -> anyhow::Result<()> {
    let below_line = (below > 0).then(|| {
        let lower: Vec<&str> = Severity::ALL
            .into_iter()
            .filter(|s| *s < least)
            .map(Severity::as_str)
            .collect();
        format!(
            "{below} more of severity {} not listed: --severity {} or --all lists them",
            lower.join("/"),
            lower[0]
        )
    });
    if format != Format::Table {
        if let Some(line) = &below_line {
            eprintln!("{line}");
        }
    }
    match format {
        Format::Json => json(&rows),
        Format::Csv => {
            print!("{}", tthc_sync::discrepancy_export::to_csv(rows, false));
            Ok(())
        }
        Format::Table => {
            let cells: Vec<Vec<String>> = rows.iter().map(discrepancy_cells).collect();
            print!("{}", table(DISCREPANCY_HEADERS, &cells));
            println!("{} discrepancies", rows.len());
            if let Some(line) = below_line {
                println!("{line}");
            }
            Ok(())
        }
    }
}

pub fn print_discrepancy(
    d: &DiscrepancyRow,
    events: &[EventRow],
    format: Format,
) -> anyhow::Result<()> {
    if format != Format::Table {
        return json(&serde_json::json!({"discrepancy": d, "events": events}));
    }
    println!("Sai lệch #{} — {} ({})", d.id, kind_vi(&d.kind), d.kind);
    println!("  hồ sơ:        {}", d.dossier_code);
    println!("  cơ quan:      {}", agency(d));
    println!("  trạng thái:   {} ({})", state_vi(&d.state), d.state);
    println!("  mức độ:       {}", d.severity);
    println!(
        "  ảnh hưởng:    {:+.4} điểm ({})",
        d.score_impact,
        d.period.clone().unwrap_or_default()
    );
    println!("  tại tỉnh:     {}", d.provincial);
    println!("  trên Cổng:    {}", d.national);
    if let Some(pv) = &d.provincial_verdict {
        let label = |v: &str| {
            Verdict::parse(v)
                .map(|v| v.label_vi().to_string())
                .unwrap_or_else(|| "không có trên Cổng".into())
        };
        println!(
            "  tiến độ:      tại tỉnh {} / trên Cổng {} (quy tắc {})",
            label(pv),
            d.national_verdict.as_deref().map(label).unwrap_or_default(),
            d.rule_version.as_deref().unwrap_or("")
        );
    }
    println!("  first/last:   {} / {}", d.first_seen, d.last_seen);
    println!("  lịch sử (events):");
    for e in events {
        println!(
            "    {}  {:<13} {}{}{}",
            e.at,
            e.event,
            e.actor,
            e.os_user
                .as_deref()
                .map(|u| format!(" [{u}]"))
                .unwrap_or_default(),
            e.note
                .as_deref()
                .filter(|n| !n.is_empty())
                .map(|n| format!(" — {n}"))
                .unwrap_or_default()
        );
        if let Some(seen) = &e.seen {
            println!(
                "        đã thấy (seen): {}, {}, {:+.4} điểm; tại tỉnh: {}; trên Cổng: {}",
                seen.state, seen.severity, seen.score_impact, seen.provincial, seen.national
            );
        }
    }
    Ok(())
}

fn opt_time(t: Option<LocalTime>) -> String {
    t.map(|t| fmt_time(&t)).unwrap_or_default()
}

fn opt_status(s: Option<Status>, raw: &str) -> String {
    match s {
        Some(s) => s.to_string(),
        None => format!("? {raw}"),
    }
}

fn verdict_text(v: &SideVerdict) -> String {
    match v {
        SideVerdict::Judged {
            verdict,
            working_days_late,
            statutory,
            ..
        } => {
            let text = match working_days_late {
                Some(d) if *d > 0.0 => format!("{} ({d:.1} ngày làm việc)", verdict.label_vi()),
                _ => verdict.label_vi().to_string(),
            };
            match statutory {
                Some(t) => format!("{text}; không có hạn trả, thời hạn {}", t.describe_vi()),
                None => text,
            }
        }
        SideVerdict::Unjudged { error } => format!("không tính được: {error}"),
    }
}

fn history_cells(rows: &[HistoryRow]) -> Vec<Vec<String>> {
    rows.iter()
        .map(|h| {
            vec![
                h.observed_at.clone(),
                h.status_code
                    .and_then(|c| u8::try_from(c).ok())
                    .and_then(Status::from_code)
                    .map(|s| s.to_string())
                    .unwrap_or_else(|| h.status_raw.clone().unwrap_or_default()),
                h.due_at.clone().unwrap_or_default(),
                h.finished_at.clone().unwrap_or_default(),
                h.returned_at.clone().unwrap_or_default(),
            ]
        })
        .collect()
}

/// `dossier CODE`: both views side by side, both histories, the dossier's discrepancies; JSON
/// (keys sorted) for any other format.
pub fn print_dossier(v: &DossierView, format: Format) -> anyhow::Result<()> {
    if format != Format::Table {
        // Through a JSON value, whose keys are sorted: the shape tools have read so far.
        return json(&serde_json::to_value(v)?);
    }
    let p = &v.provincial;
    println!(
        "Hồ sơ {} (mã tại tỉnh {}, id {})",
        p.key, p.local_code, p.local_id
    );
    println!(
        "  {} — {}",
        p.procedure_name.clone().unwrap_or_default(),
        p.agency_name.clone().unwrap_or_default()
    );
    let n = v.national_found().map(|n| &n.core);
    let rows = vec![
        vec![
            "Trạng thái".into(),
            opt_status(p.core.status, &p.core.status_raw),
            n.map(|c| opt_status(c.status, &c.status_raw))
                .unwrap_or_default(),
        ],
        vec![
            "Ngày tiếp nhận".into(),
            opt_time(p.core.received_at),
            n.map(|c| opt_time(c.received_at)).unwrap_or_default(),
        ],
        vec![
            "Hạn trả".into(),
            opt_time(p.core.due_at),
            n.map(|c| opt_time(c.due_at)).unwrap_or_default(),
        ],
        vec![
            "Kết thúc xử lý".into(),
            opt_time(p.core.finished_at),
            n.map(|c| opt_time(c.finished_at)).unwrap_or_default(),
        ],
        vec![
            "Trả kết quả".into(),
            opt_time(p.core.returned_at),
            n.map(|c| opt_time(c.returned_at)).unwrap_or_default(),
        ],
        vec![
            "Cập nhật".into(),
            fmt_time(&p.updated_at),
            v.national
                .as_ref()
                .map(|n| format!("tra cứu {}", fmt_time(&n.looked_up_at)))
                .unwrap_or_else(|| "chưa tra cứu".into()),
        ],
        vec![
            format!("Tiến độ ({})", v.timeliness.period),
            verdict_text(&v.timeliness.provincial),
            v.timeliness
                .national
                .as_ref()
                .map(verdict_text)
                .unwrap_or_default(),
        ],
    ];
    print!("{}", table(&["", "Tại tỉnh", "Trên Cổng DVCQG"], &rows));
    let headers = [
        "thời điểm",
        "trạng thái",
        "hạn trả",
        "kết thúc",
        "trả kết quả",
    ];
    println!("Lịch sử tại tỉnh (provincial history):");
    print!("{}", table(&headers, &history_cells(&v.provincial_history)));
    if !v.national_history.is_empty() {
        println!("Lịch sử trên Cổng DVCQG (national history):");
        print!("{}", table(&headers, &history_cells(&v.national_history)));
    }
    if v.national.as_ref().is_some_and(|n| !n.found) {
        println!("  Cổng DVCQG: không tìm thấy hồ sơ (tra cứu thành công, không có dòng nào)");
    }
    if let Some(l) = v.lookup.as_ref().filter(|l| l.consecutive_failures > 0) {
        println!(
            "  Tra cứu Cổng DVCQG lỗi {} lần liên tiếp từ {} (lỗi gần nhất {}: {}, lần thử cuối \
             {}); sai lệch bên dưới theo lần tra cứu thành công cuối",
            l.consecutive_failures,
            l.failing_since.as_deref().unwrap_or("?"),
            l.last_error_class.as_deref().unwrap_or("?"),
            l.last_error.as_deref().unwrap_or(""),
            l.last_attempt_at
        );
    }
    if v.discrepancies.is_empty() {
        println!("Không có sai lệch đang mở.");
    } else {
        println!("Sai lệch:");
        let cells: Vec<Vec<String>> = v.discrepancies.iter().map(discrepancy_cells).collect();
        print!("{}", table(DISCREPANCY_HEADERS, &cells));
    }
    Ok(())
}

/// The probe's report, as the library renders it (never a value of a row).
pub fn print_probe(r: &tthc_sync::probe::ProbeReport) {
    print!("{}", tthc_sync::probe::text::render(r));
}
