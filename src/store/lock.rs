//! One writer of sync runs at a time: `tthc-sync run` (for its whole life) and `sync --once`
//! take an exclusive lock on `<database>.lock`, so a manual cycle never runs beside the
//! service's, and a run left `running` can only be one whose process died.
//!
//! The lock is an advisory `flock(2)`: the kernel releases it when the process ends, however
//! it ends (a SIGKILL too), so a stale lock file never blocks anything.

use std::fs::File;
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};

use super::StoreError;

/// The one-writer lock on `<database>.lock`: held while this value lives, released when it
/// is dropped or the process ends.
#[derive(Debug)]
pub struct RunLock {
    _file: File,
}

impl RunLock {
    /// Takes the lock of the database at `db`, or says who to ask.
    pub fn acquire(db: &Path) -> Result<RunLock, StoreError> {
        let path = PathBuf::from(format!("{}.lock", db.display()));
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|io| StoreError::Io {
                what: format!(
                    "database {}: cannot create its lock file {}",
                    db.display(),
                    path.display()
                ),
                io,
            })?;
        // SAFETY: flock on a file descriptor we own; no memory is shared.
        let rc = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
        if rc != 0 {
            let io = std::io::Error::last_os_error();
            return Err(if io.raw_os_error() == Some(libc::EWOULDBLOCK) {
                StoreError::Locked {
                    db: db.display().to_string(),
                    lock: path.display().to_string(),
                }
            } else {
                StoreError::Io {
                    what: format!("cannot lock {}", path.display()),
                    io,
                }
            });
        }
        Ok(RunLock { _file: file })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_writer_is_refused_until_the_first_is_gone() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("t.db");
        let first = RunLock::acquire(&db).unwrap();
        let err = RunLock::acquire(&db).unwrap_err();
        assert!(matches!(err, StoreError::Locked { .. }), "{err}");
        let err = err.to_string();
        assert!(
            err.contains("another tthc-sync") && err.contains("t.db"),
            "{err}"
        );
        drop(first);
        RunLock::acquire(&db).unwrap();
    }
}
