//! Frozen months: when a month closes (the first sync or report job after its end, or
//! `tthc-sync report --freeze YYYY-MM`), its report as it stands is stored (`frozen_month`,
//! `frozen_month_fault`, docs/schema.md). The report of a frozen month is read from the
//! snapshot, so a fault fixed later does not vanish from the month it cost points in;
//! [`changes_since`] says what the database says differently now.

use super::build::{build, BuildError};
use super::format::{fmt_int_vi, fmt_score};
use super::model::{MonthlyReport, YearMonth};
use crate::calendar::Calendar;
use crate::model::{fmt_time, parse_stored_time, LocalTime};
use crate::store::{FrozenFault, FrozenMonthRow, Store, StoreError};

/// Why a month could not be frozen or read back.
#[derive(Debug, thiserror::Error)]
pub enum FrozenError {
    /// The report could not be built.
    #[error(transparent)]
    Build(#[from] BuildError),
    /// The database could not be read or written.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A month is frozen once it is over, not before.
    #[error("month {0} is not over yet: a month is frozen after its last day")]
    NotOver(String),
    /// The stored snapshot does not read back.
    #[error("the frozen report of {month} in frozen_month cannot be read: {message}")]
    Corrupt {
        /// The month, `YYYY-MM`.
        month: String,
        /// What is wrong.
        message: String,
    },
}

/// What [`freeze`] did.
#[derive(Clone, Debug, PartialEq)]
pub enum Freeze {
    /// The month is now frozen with this report.
    Frozen(Box<MonthlyReport>),
    /// It was already frozen, at this time; nothing changed.
    AlreadyFrozen(LocalTime),
}

/// Freezes `month` as the database shows it at `now` (a month not over is refused; a frozen
/// month is left as it is).
pub fn freeze(
    store: &mut Store,
    month: YearMonth,
    now: LocalTime,
    cal: &Calendar,
    province: &str,
) -> Result<Freeze, FrozenError> {
    if now <= month.end() {
        return Err(FrozenError::NotOver(month.iso()));
    }
    if let Some(r) = read(store, month)? {
        return Ok(Freeze::AlreadyFrozen(r.frozen_at.unwrap_or(now)));
    }
    let mut report = build(store, month, now, cal, province)?;
    report.frozen_at = Some(now);
    let row = row_of(&report)?;
    if store.freeze_month(&row)? {
        Ok(Freeze::Frozen(Box::new(report)))
    } else {
        // Frozen meanwhile by another process: that snapshot stands.
        let at = read(store, month)?.and_then(|r| r.frozen_at).unwrap_or(now);
        Ok(Freeze::AlreadyFrozen(at))
    }
}

/// Freezes the month before `now`'s if it is not frozen yet: what the sync and report jobs do
/// first. Only a month the database watched is frozen this way: one with a complete sync cycle
/// finished by its end (a service first started after a month ended does not freeze that
/// month with what its first cycle pulled; `report --freeze` can). Returns the month when it
/// froze it now.
pub fn freeze_closed_month(
    store: &mut Store,
    now: LocalTime,
    cal: &Calendar,
    province: &str,
) -> Result<Option<YearMonth>, FrozenError> {
    let month = YearMonth::of(&now).previous();
    if store.is_frozen(month)? || !store.synced_by(month.end())? {
        return Ok(None);
    }
    match freeze(store, month, now, cal, province)? {
        Freeze::Frozen(_) => Ok(Some(month)),
        Freeze::AlreadyFrozen(_) => Ok(None),
    }
}

/// The frozen report of `month`, `None` when the month is not frozen. Its `generated_at` is
/// the time it was frozen; the caller sets it to the time of the document it writes.
pub fn read(store: &Store, month: YearMonth) -> Result<Option<MonthlyReport>, FrozenError> {
    let Some((at, json)) = store.frozen_month(month)? else {
        return Ok(None);
    };
    let corrupt = |message: String| FrozenError::Corrupt {
        month: month.iso(),
        message,
    };
    let mut report: MonthlyReport =
        serde_json::from_str(&json).map_err(|e| corrupt(e.to_string()))?;
    let at = parse_stored_time(&at).ok_or_else(|| corrupt(format!("frozen_at {at:?}")))?;
    report.frozen_at = Some(at);
    Ok(Some(report))
}

fn row_of(r: &MonthlyReport) -> Result<FrozenMonthRow, FrozenError> {
    let report_json = serde_json::to_string(r).map_err(|e| FrozenError::Corrupt {
        month: r.month.iso(),
        message: e.to_string(),
    })?;
    Ok(FrozenMonthRow {
        month: r.month,
        frozen_at: fmt_time(&r.frozen_at.unwrap_or(r.generated_at)),
        published_score: r.published_score,
        national_view_score: r.national_view.score,
        provincial_view_score: r.provincial_view.score,
        national_average: r.national_average,
        counted_national: r.national_view.counted,
        counted_provincial: r.provincial_view.counted,
        report_json,
        faults: r
            .appendix_3
            .iter()
            .map(|f| FrozenFault {
                dossier_code: f.dossier_code.clone(),
                agency_code: f.agency_code.clone(),
                agency_name: f.agency_name.clone(),
                kind: f.kind.clone(),
                provincial_value: f.provincial_value.clone(),
                national_value: f.national_value.clone(),
                points: f.points,
            })
            .collect(),
    })
}

/// What `now` (the report built from the database today) says differently from `frozen`: the
/// scores, the counts, and the dossiers that joined or left each appendix. Empty when nothing
/// changed. Pure.
pub fn changes_since(frozen: &MonthlyReport, now: &MonthlyReport) -> Vec<String> {
    let mut out = Vec::new();
    let mut score = |label: &str, a: Option<f64>, b: Option<f64>| {
        if fmt_score(a) != fmt_score(b) {
            out.push(format!(
                "{label}: {} when frozen, {} now",
                fmt_score(a),
                fmt_score(b)
            ));
        }
    };
    score(
        "published score",
        frozen.published_score,
        now.published_score,
    );
    score(
        "national average",
        frozen.national_average,
        now.national_average,
    );
    score(
        "score recalculated from the national portal",
        frozen.national_view.score,
        now.national_view.score,
    );
    score(
        "score from the provincial system",
        frozen.provincial_view.score,
        now.provincial_view.score,
    );
    for (label, a, b) in [
        (
            "dossiers counted nationally",
            frozen.national_view.counted,
            now.national_view.counted,
        ),
        (
            "dossiers counted in the province",
            frozen.provincial_view.counted,
            now.provincial_view.counted,
        ),
    ] {
        if a != b {
            out.push(format!(
                "{label}: {} when frozen, {} now",
                fmt_int_vi(a),
                fmt_int_vi(b)
            ));
        }
    }
    let codes = |rows: Vec<&str>| -> std::collections::BTreeSet<String> {
        rows.into_iter().map(str::to_string).collect()
    };
    let lists = [
        (
            "Phụ lục I (overdue on the national portal)",
            codes(rows_1(frozen)),
            codes(rows_1(now)),
        ),
        (
            "Phụ lục II (late in the province)",
            codes(rows_2(frozen)),
            codes(rows_2(now)),
        ),
        (
            "Phụ lục III (sync faults)",
            codes(
                frozen
                    .appendix_3
                    .iter()
                    .map(|x| x.dossier_code.as_str())
                    .collect(),
            ),
            codes(
                now.appendix_3
                    .iter()
                    .map(|x| x.dossier_code.as_str())
                    .collect(),
            ),
        ),
    ];
    for (label, was, is) in lists {
        let gone: Vec<&String> = was.difference(&is).collect();
        let new: Vec<&String> = is.difference(&was).collect();
        if !gone.is_empty() {
            out.push(format!("{label}: no longer listed now: {}", join(&gone)));
        }
        if !new.is_empty() {
            out.push(format!(
                "{label}: listed now, not when frozen: {}",
                join(&new)
            ));
        }
    }
    out
}

fn rows_1(r: &MonthlyReport) -> Vec<&str> {
    r.appendix_1
        .iter()
        .flat_map(|g| g.rows.iter().map(|x| x.dossier_code.as_str()))
        .collect()
}

fn rows_2(r: &MonthlyReport) -> Vec<&str> {
    r.appendix_2
        .iter()
        .flat_map(|g| g.rows.iter().map(|x| x.dossier_code.as_str()))
        .collect()
}

fn join(codes: &[&String]) -> String {
    codes
        .iter()
        .map(|s| s.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_name_the_scores_and_the_dossiers() {
        let frozen = MonthlyReport::example();
        assert!(changes_since(&frozen, &frozen).is_empty());
        let mut now = frozen.clone();
        let fixed = now.appendix_3.remove(0);
        now.national_view = super::super::model::ScoreFigures::from_counts(1186, 779, 18, 12, 5);
        let lines = changes_since(&frozen, &now);
        assert_eq!(
            lines,
            [
                "score recalculated from the national portal: 19,76/20 when frozen, 19,77/20 now"
                    .to_string(),
                format!(
                    "Phụ lục III (sync faults): no longer listed now: {}",
                    fixed.dossier_code
                ),
            ]
        );
    }
}
