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
            write_file(&tmp, &path, &bytes).map_err(io(&path))?;
            out.push(path);
        }
    }
    if let Ok(d) = std::fs::File::open(dir) {
        // The renames themselves reach the disk (best effort: not every system allows it).
        let _ = d.sync_all();
    }
    Ok(out)
}

/// Writes `bytes` to `path` through `tmp` without following a symbolic link: `tmp` is
/// created anew (`O_CREAT | O_EXCL`, and `O_NOFOLLOW`), so a link planted at its name is
/// removed (never written through) and a link at `path` is replaced by the rename, not
/// followed. The data is fsynced before the rename.
fn write_file(tmp: &Path, path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let open = || {
        let mut o = std::fs::OpenOptions::new();
        o.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            o.custom_flags(libc::O_NOFOLLOW);
        }
        o.open(tmp)
    };
    let mut file = match open() {
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            // A leftover of an interrupted write, or something planted: removing a link
            // removes the link, not its target.
            std::fs::remove_file(tmp)?;
            open()?
        }
        other => other?,
    };
    file.write_all(bytes)?;
    file.sync_all()?;
    drop(file);
    std::fs::rename(tmp, path)
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Links planted at the temporary name and at the report's name are not written
    /// through: the files they point to are unchanged, and the report is a regular file.
    #[cfg(unix)]
    #[test]
    fn a_report_file_never_follows_a_symbolic_link() {
        let dir = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        let victim_tmp = outside.path().join("passwd");
        let victim = outside.path().join("shadow");
        std::fs::write(&victim_tmp, "root:x:0:0").unwrap();
        std::fs::write(&victim, "root:!:1").unwrap();
        let path = dir.path().join("bao-cao.csv");
        let tmp = dir.path().join(".bao-cao.csv.tmp");
        std::os::unix::fs::symlink(&victim_tmp, &tmp).unwrap();
        std::os::unix::fs::symlink(&victim, &path).unwrap();

        write_file(&tmp, &path, b"report").unwrap();
        assert_eq!(std::fs::read_to_string(&victim_tmp).unwrap(), "root:x:0:0");
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "root:!:1");
        assert!(std::fs::symlink_metadata(&path)
            .unwrap()
            .file_type()
            .is_file());
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "report");
        assert!(!tmp.exists());
        // Written again over its own earlier version.
        write_file(&tmp, &path, b"report 2").unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "report 2");
    }
}
