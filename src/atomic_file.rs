//! Writing a file so that readers see the old version or the new one, never half, and never
//! through a symbolic link planted at its name: the monthly report's files and the web page's
//! accounts file.

use std::path::{Path, PathBuf};

/// Writes `bytes` to `path` through `tmp` without following a symbolic link: `tmp` is
/// created anew (`O_CREAT | O_EXCL`, and `O_NOFOLLOW`), so a link planted at its name is
/// removed (never written through) and a link at `path` is replaced by the rename, not
/// followed. The data is fsynced before the rename. `mode` (e.g. `0o600`) is the new file's
/// permission bits, less the umask; `None` = the usual `0o666` less the umask.
pub(crate) fn write_via(
    tmp: &Path,
    path: &Path,
    bytes: &[u8],
    mode: Option<u32>,
) -> std::io::Result<()> {
    use std::io::Write;
    let open = || {
        let mut o = std::fs::OpenOptions::new();
        o.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            o.custom_flags(libc::O_NOFOLLOW);
            if let Some(mode) = mode {
                o.mode(mode);
            }
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

/// [`write_via`] with the temporary name `.<name>.tmp` next to `path`, then syncs the
/// directory (best effort) so the rename reaches the disk too.
pub(crate) fn write(path: &Path, bytes: &[u8], mode: Option<u32>) -> std::io::Result<()> {
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    let dir: PathBuf = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    write_via(&dir.join(format!(".{name}.tmp")), path, bytes, mode)?;
    if let Ok(d) = std::fs::File::open(&dir) {
        let _ = d.sync_all();
    }
    Ok(())
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

        write_via(&tmp, &path, b"report", None).unwrap();
        assert_eq!(std::fs::read_to_string(&victim_tmp).unwrap(), "root:x:0:0");
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "root:!:1");
        assert!(std::fs::symlink_metadata(&path)
            .unwrap()
            .file_type()
            .is_file());
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "report");
        assert!(!tmp.exists());
        // Written again over its own earlier version.
        write_via(&tmp, &path, b"report 2", None).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "report 2");
    }
}
