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

/// Refuses a writing command run as root (`euid` 0) on a database that belongs to another
/// user (the service's): the lock file, WAL and SHM it would create would be root's, and the
/// service, which runs as its own user, could not open them afterwards. Where the database
/// does not exist yet, its directory's owner counts.
pub fn refuse_root_writer(db: &Path, euid: u32) -> Result<(), StoreError> {
    use std::os::unix::fs::MetadataExt;
    if euid != 0 {
        return Ok(());
    }
    let owner = std::fs::metadata(db)
        .or_else(|_| std::fs::metadata(db.parent().unwrap_or(Path::new("."))))
        .map(|m| m.uid())
        .unwrap_or(0);
    if owner == 0 {
        return Ok(());
    }
    Err(StoreError::ForeignOwner {
        db: db.display().to_string(),
        owner,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Root on the service's database is refused with the command to use; root on its own
    /// database, and any other user, are not.
    #[test]
    fn root_does_not_write_a_database_it_does_not_own() {
        use std::os::unix::fs::MetadataExt;
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("t.db");
        std::fs::write(&db, b"").unwrap();
        let mut owner = std::fs::metadata(&db).unwrap().uid();
        if owner == 0 {
            // Tests run as root here: give the file to `nobody`, as the service's would be.
            std::os::unix::fs::chown(&db, Some(65534), None).unwrap();
            owner = 65534;
        }
        let err = refuse_root_writer(&db, 0).unwrap_err().to_string();
        assert!(
            err.contains("t.db") && err.contains(&format!("sudo -u '#{owner}'")),
            "{err}"
        );
        refuse_root_writer(&db, owner).unwrap();
        refuse_root_writer(&db, 1234).unwrap();
        // Not there yet: the directory's owner counts (root's temporary directory: allowed
        // when tests run as root).
        let fresh = dir.path().join("new.db");
        let dir_owner = std::fs::metadata(dir.path()).unwrap().uid();
        assert_eq!(refuse_root_writer(&fresh, 0).is_ok(), dir_owner == 0);
    }

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
