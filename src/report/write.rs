//! Writing a month's report to files (the CLI's `report` command and the service's schedule).

use std::path::{Path, PathBuf};

use super::{build, render, DocumentSettings, Format, MonthlyReport, ReportError};
use crate::config::Config;
use crate::model::{LocalTime, YearMonth};
use crate::store::Store;

/// Why a report could not be written.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// The report could not be built from the database.
    #[error(transparent)]
    Build(#[from] super::BuildError),
    /// A frozen month's snapshot could not be read.
    #[error(transparent)]
    Frozen(#[from] super::frozen::FrozenError),
    /// A format could not be rendered.
    #[error(transparent)]
    Render(#[from] ReportError),
    /// The config's calendar could not be built (`calendar.holidays_dir` does not load).
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    /// A file or the output directory could not be written.
    #[error("cannot write {path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
}

/// The directory the service writes reports to: `[report] out_dir`, else `reports/` next to
/// the database.
pub fn default_out_dir(cfg: &Config) -> PathBuf {
    cfg.report.out_dir.clone().unwrap_or_else(|| {
        cfg.service
            .database
            .parent()
            .unwrap_or(Path::new("."))
            .join("reports")
    })
}

/// Renders `report` in each format with the Office's `settings` into `dir` (created if
/// needed); returns the files written.
/// Each file is written to a temporary name first (never through a symbolic link planted at
/// either name), synced to disk and renamed, so readers never see half and a crash leaves the
/// old file or the new one.
pub fn write_report(
    report: &MonthlyReport,
    formats: &[Format],
    dir: &Path,
    settings: &DocumentSettings,
) -> Result<Vec<PathBuf>, WriteError> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| WriteError::Io { path, source }
    };
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    let mut out = Vec::new();
    for &format in formats {
        for (name, bytes) in render(report, format, settings)? {
            let path = dir.join(&name);
            let tmp = dir.join(format!(".{name}.tmp"));
            crate::atomic_file::write_via(&tmp, &path, &bytes, None).map_err(io(&path))?;
            out.push(path);
        }
    }
    if let Ok(d) = std::fs::File::open(dir) {
        // The renames themselves reach the disk (best effort: not every system allows it).
        let _ = d.sync_all();
    }
    Ok(out)
}

/// Writes `month`'s report in `formats` to [`default_out_dir`], dated `now`: the frozen
/// snapshot when the month is frozen, else built from the database as seen at `now`. For the
/// service's schedule.
pub fn write_month(
    store: &Store,
    cfg: &Config,
    month: YearMonth,
    formats: &[Format],
    now: LocalTime,
) -> Result<Vec<PathBuf>, WriteError> {
    let report = month_report(
        store,
        month,
        now,
        &cfg.calendar.build()?,
        &cfg.service.province_name,
    )?;
    write_report(
        &report,
        formats,
        &default_out_dir(cfg),
        &cfg.report.document,
    )
}

/// `month`'s report dated `now`: its frozen snapshot when the month is frozen (the figures
/// as they stood then), else built from the database as seen at `now`.
pub fn month_report(
    store: &Store,
    month: YearMonth,
    now: LocalTime,
    cal: &crate::calendar::Calendar,
    province: &str,
) -> Result<MonthlyReport, WriteError> {
    Ok(match super::frozen::read(store, month)? {
        Some(mut frozen) => {
            frozen.generated_at = now;
            frozen
        }
        None => build(store, month, now, cal, province)?,
    })
}
