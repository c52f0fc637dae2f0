//! The probe's report as text for the terminal: logins, the coverage table, statuses, dates,
//! keys, national reply shapes, the scores check, then what to adapt or what cannot be
//! reached. Key names, counts and shapes only (and the vendor's status labels).

use std::fmt::Write as _;

use super::driver::ProbeReport;

/// Columns padded to their widest cell.
fn table(headers: &[&str], rows: &[Vec<String>]) -> String {
    let mut w: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for r in rows {
        for (i, c) in r.iter().enumerate() {
            w[i] = w[i].max(c.chars().count());
        }
    }
    let line = |cells: Vec<&str>| {
        let mut l = String::from(" ");
        for (i, c) in cells.iter().enumerate() {
            l.push(' ');
            l.push_str(c);
            l.push_str(&" ".repeat(w[i] - c.chars().count()));
            l.push(' ');
        }
        l.trim_end().to_string() + "\n"
    };
    let mut out = line(headers.to_vec());
    for r in rows {
        out.push_str(&line(r.iter().map(String::as_str).collect()));
    }
    out
}

fn reach_line(side: &str, r: &crate::probe::Reach) -> String {
    use crate::probe::Reach;
    match r {
        Reach::Ok => format!("{side}: logged in, ok"),
        Reach::Skipped(why) => format!("{side}: {why}"),
        Reach::Failed { problem, message } => {
            format!("{side}: FAILED — {}\n    {message}", problem.advice(side))
        }
    }
}

fn counts(m: &std::collections::BTreeMap<String, usize>) -> String {
    m.iter()
        .map(|(k, n)| format!("{k} ×{n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The probe's report: logins, the coverage table, statuses, dates, keys, national reply
/// shapes, the scores check, then what to adapt. Key names, counts and shapes only (and the
/// vendor's status labels): never a value of a row.
pub fn render(r: &ProbeReport) -> String {
    let mut o = String::new();
    let _ = writeln!(o, "profile: {} ({})", r.profile, r.profile_source);
    let _ = writeln!(o, "{}", reach_line("provincial", &r.provincial));
    if let Some(s) = &r.sample {
        let _ = writeln!(
            o,
            "\nProvincial sample: {} rows from {} pages, newest first",
            s.rows, r.pages
        );
        let rows: Vec<Vec<String>> = s
            .coverage
            .iter()
            .map(|c| {
                vec![
                    c.field.to_string(),
                    c.path.clone(),
                    format!("{}/{}", c.present, s.rows),
                    c.filled.to_string(),
                    c.shape.clone().unwrap_or_else(|| "-".into()),
                ]
            })
            .collect();
        o.push_str(&table(
            &["field", "path", "found", "filled", "typical shape"],
            &rows,
        ));
        let _ = writeln!(o, "\nStatuses seen:");
        for st in &s.statuses {
            let maps = match (st.maps_to, st.suggested) {
                (Some(c), _) => format!("→ {c}"),
                (None, Some(c)) => format!("NOT MAPPED (suggested: \"{}\" = {c})", st.label),
                (None, None) => format!("NOT MAPPED (add \"{}\" = <1..10>)", st.label),
            };
            let _ = writeln!(o, "  \"{}\" ×{} {maps}", st.label, st.rows);
        }
        for d in &s.unparsed_dates {
            let _ = writeln!(
                o,
                "Unread date: fields.{} shaped `{}` ×{}",
                d.field, d.shape, d.rows
            );
        }
        if !s.personal_seen.is_empty() {
            let keys: Vec<&str> = s.personal_seen.iter().map(|(k, _)| k.as_str()).collect();
            let _ = writeln!(
                o,
                "Personal-data keys dropped before reading: {}",
                keys.join(", ")
            );
        }
        if !s.unlisted.is_empty() {
            let _ = writeln!(
                o,
                "Keys neither mapped nor kept (may hold personal data: confirm and add to the \
                 profile):"
            );
            for (path, n) in &s.unlisted {
                let _ = writeln!(o, "  {path} ×{n}");
            }
        }
        for line in s.code_notes() {
            let _ = writeln!(o, "National codes: {line}");
        }
    }
    let _ = writeln!(o, "\n{}", reach_line("national", &r.national));
    if let Some(n) = &r.lookups {
        let _ = writeln!(
            o,
            "National look-ups: {} asked, {} found, {} not found, {} for another code, {} with \
             duplicate rows",
            n.asked, n.found, n.not_found, n.other_code, n.duplicate_rows
        );
        let _ = writeln!(o, "  rows in: {}", counts(&n.rows_in));
        let _ = writeln!(o, "  error_code forms: {}", counts(&n.error_codes));
        let _ = writeln!(o, "  status given as: {}", counts(&n.status_forms));
        let _ = writeln!(o, "  dates: {}", counts(&n.date_shapes));
        if !n.failures.is_empty() {
            let _ = writeln!(o, "  failed look-ups: {}", counts(&n.failures));
        }
    }
    if let Some(s) = &r.scores {
        let _ = match (&s.error, s.rows) {
            (Some(e), _) => writeln!(o, "\nPublished scores ({}, {}): {e}", s.api, s.month),
            (None, rows) => writeln!(
                o,
                "\nPublished scores ({}, {}): {} rows, the province's row {}",
                s.api,
                s.month,
                rows.unwrap_or(0),
                if s.province_found {
                    "found"
                } else {
                    "NOT found"
                }
            ),
        };
    }
    let unreachable = r.unreachable();
    let adapt = r.to_adapt();
    if !unreachable.is_empty() {
        let _ = writeln!(o, "\nCannot reach:");
        for l in &unreachable {
            let _ = writeln!(o, "  - {l}");
        }
    }
    if !adapt.is_empty() {
        let _ = writeln!(o, "\nThe profile or config needs adapting:");
        for l in &adapt {
            let _ = writeln!(o, "  - {l}");
        }
    }
    if unreachable.is_empty() && adapt.is_empty() {
        let _ = writeln!(o, "\nThe profile covers everything seen.");
    }
    o
}
