//! The SQLite store: the only module that speaks SQL.
//!
//! WAL mode with a busy timeout, so other processes can read while the service writes.
//! Migrations are append-only (`schema::MIGRATIONS`, tracked in `PRAGMA user_version`).
//! A watermark only moves in the same transaction as the rows it covers.
//!
//! This file holds the connection (pragmas, migrations), the error type and the small row
//! helpers the others share; each concern is its own `impl Store` block: runs, watermarks and
//! housekeeping (`runs.rs`), the provincial ingest (`provincial.rs`), national views, look-up
//! state and listed rows (`national.rs`), look-ups that keep failing (`lookup_state.rs`), the
//! pair streams and the second connection
//! (`pairs.rs`), reconciliation marks and passes (`passes.rs`), discrepancies and their events
//! (`discrepancies.rs`), both views' history (`history.rs`), published scores
//! (`published_scores.rs`), the pull's records and the sweep cursor (`pull.rs`), freshness (`freshness.rs`), what the monthly report reads
//! (`report.rs`); the one-writer lock (`lock.rs`) and the migrations (`schema.rs`).
//!
//! Every SQLite error leaves the store as a [`StoreError`] naming the database file: the
//! methods run their SQL through `Store::read` or `Store::write` (there is deliberately no
//! `From<rusqlite::Error>`, so an error cannot leave without the file's name).

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, Row, Transaction, TransactionBehavior};

use crate::model::{fmt_time, parse_stored_time, LocalTime, Status};

/// A SELECT column list defined once: `$module::SQL` (the columns, comma-separated), for each
/// column a `usize` const holding its position in the list, and `$module::COUNT`. A query
/// built from several lists reads each at a base, the sum of the `COUNT`s before it, so adding
/// or moving a column never shifts the positions another reader uses.
macro_rules! columns {
    ($(#[$doc:meta])* $vis:vis mod $module:ident {
        $first:ident = $first_sql:literal $(, $name:ident = $sql:literal)* $(,)?
    }) => {
        $(#[$doc])*
        $vis mod $module {
            /// The columns, comma-separated, for a SELECT.
            pub const SQL: &str = concat!($first_sql $(, ", ", $sql)*);
            columns!(@at 0usize; $first $(, $name)*);
            /// How many columns the list has.
            pub const COUNT: usize = 1 $(+ columns!(@one $name))*;
        }
    };
    (@at $i:expr; $name:ident $(, $rest:ident)*) => {
        pub const $name: usize = $i;
        columns!(@at $i + 1; $($rest),*);
    };
    (@at $i:expr;) => {};
    (@one $name:ident) => {
        1
    };
}

mod discrepancies;
mod freshness;
mod frozen;
mod history;
mod lock;
mod lookup_state;
mod national;
mod pairs;
mod passes;
mod provincial;
mod published_scores;
mod pull;
mod report;
mod runs;
mod schema;
mod statutory;

pub use discrepancies::{Applied, DiscrepancyFilter, DiscrepancyRow, EventRow, ManualChange, Seen};
pub use frozen::{FrozenFault, FrozenMonthRow};
pub use history::HistoryRow;
pub use lock::{refuse_root_writer, RunLock};
pub use lookup_state::LookupState;
pub use national::{LookupFailure, LookupResult, StoredNational};
pub use passes::{FullPass, Marks, PassRecord};
pub use provincial::PageStats;
pub use published_scores::PublishedScore;
pub use pull::{CursorMove, PullRecord, SweepCursor};
pub(crate) use report::{PublishedScoreRow, ReportDiscrepancy, ReportDossier};
pub use runs::{Outcome, RunCounts, RunRow};
pub use schema::MIGRATIONS;

/// What went wrong in the store. Every message names the database file, and where SQLite is
/// the cause, gives SQLite's own message and what it means. SQLite's error is kept in the
/// variant (`sqlite`) but not offered as a `source`: a printed error chain then says it once.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Another connection held a lock for longer than the busy timeout.
    #[error(
        "database {db}: {sqlite} (another process held a lock on it for longer than the busy \
         timeout of {secs} s — a backup, a long query, another writer?; the interrupted step \
         was rolled back and what was stored before is kept; run again)",
        secs = BUSY_TIMEOUT.as_secs()
    )]
    Busy {
        /// The database file, as it was named when opened.
        db: String,
        /// SQLite's error.
        sqlite: rusqlite::Error,
    },
    /// The disk is full (SQLite could not grow the file, its journal or a temporary file).
    #[error(
        "database {db}: {sqlite} (the disk is full: the interrupted step was rolled back and \
         what was stored before is kept; free space and run again)"
    )]
    DiskFull {
        /// The database file, as it was named when opened.
        db: String,
        /// SQLite's error.
        sqlite: rusqlite::Error,
    },
    /// The file or its directory cannot be written by this process.
    #[error(
        "database {db}: {sqlite} (the database file or its directory is read-only for this \
         process: check permissions, ownership and the mount; nothing was written)"
    )]
    ReadOnly {
        /// The database file, as it was named when opened.
        db: String,
        /// SQLite's error.
        sqlite: rusqlite::Error,
    },
    /// SQLite cannot open the file (or its journal, WAL or shared-memory file).
    #[error(
        "database {db}: {sqlite} (cannot open it: does its directory exist and is it writable \
         by this process?)"
    )]
    CannotOpen {
        /// The database file, as it was named when opened.
        db: String,
        /// SQLite's error.
        sqlite: rusqlite::Error,
    },
    /// The directory the database would be created in does not exist.
    #[error(
        "database {db}: its directory {dir} does not exist (create it, writable by this \
         process, or choose another path)"
    )]
    NoDirectory {
        /// The database file, as it was named when opened.
        db: String,
        /// The missing directory.
        dir: String,
    },
    /// The file is damaged, or not a SQLite database.
    #[error(
        "database {db}: {sqlite} (the file is damaged or is not a SQLite database: check the \
         path; `sqlite3 <file> 'PRAGMA integrity_check'` shows what is wrong)"
    )]
    Corrupt {
        /// The database file, as it was named when opened.
        db: String,
        /// SQLite's error.
        sqlite: rusqlite::Error,
    },
    /// Any other SQLite error.
    #[error("database {db}: {sqlite}")]
    Sql {
        /// The database file, as it was named when opened.
        db: String,
        /// SQLite's error.
        sqlite: rusqlite::Error,
    },
    /// A command that never migrates (a review command) found a database older than this
    /// program: the service or `sync --once` upgrades it.
    #[error(
        "database {db}: schema version {found} is older than this program's ({known}); run \
         the service or `tthc-sync sync --once` to upgrade it (this command never migrates)"
    )]
    TooOld {
        /// The database file, as it was named when opened.
        db: String,
        /// The database's schema version (`PRAGMA user_version`).
        found: i64,
        /// The version this program needs (the number of migrations).
        known: i64,
    },
    /// A writing command run as root on a database another user owns (`store::refuse_root_writer`).
    #[error(
        "database {db} belongs to uid {owner} (the service's user), and this command runs as \
         root: the lock, WAL and SHM files it creates would be root's and the service could \
         not open them; run it as the owner: sudo -u '#{owner}' tthc-sync …"
    )]
    ForeignOwner {
        /// The database file.
        db: String,
        /// The owner's uid.
        owner: u32,
    },
    /// The backup taken before a migration could not be written: nothing was migrated.
    #[error(
        "database {db}: cannot take the backup {backup} before migrating: {sqlite} \
         (nothing was migrated; free space next to the database)"
    )]
    Backup {
        /// The database file, as it was named when opened.
        db: String,
        /// The backup file.
        backup: String,
        /// SQLite's error.
        sqlite: rusqlite::Error,
    },
    /// The database was migrated by a newer tthc-sync: its schema version is past
    /// [`MIGRATIONS`].
    #[error(
        "database {db}: schema version {found} is newer than this program knows ({known}); \
         upgrade tthc-sync"
    )]
    TooNew {
        /// The database file, as it was named when opened.
        db: String,
        /// The database's schema version (`PRAGMA user_version`).
        found: i64,
        /// The last version this program knows (the number of migrations).
        known: i64,
    },
    /// A stored value this program cannot read.
    #[error("database {db}: {what} (was it written by another tool?)")]
    BadValue {
        /// The database file, as it was named when opened.
        db: String,
        /// Which value, where, and what was found.
        what: String,
    },
    /// Another process holds the run lock (`<database>.lock`).
    #[error(
        "another tthc-sync (the service?) is syncing {db}: it holds {lock}; wait for it, or \
         stop the service first"
    )]
    Locked {
        /// The database file, as it was named when opened.
        db: String,
        /// The lock file (`<database>.lock`).
        lock: String,
    },
    /// A file other than the database could not be read, written or locked.
    #[error("{what}: {io}")]
    Io {
        /// What was being done, naming the file.
        what: String,
        /// The I/O error.
        io: std::io::Error,
    },
    /// The row a command names does not exist (e.g. no discrepancy with that id); the message
    /// names it.
    #[error("{0}")]
    NotFound(String),
    /// A manual state change the lifecycle does not allow (docs/discrepancies.md).
    #[error("discrepancy {id} {why}")]
    InvalidTransition {
        /// The discrepancy's id.
        id: i64,
        /// Why the change is refused (e.g. "is already resolved").
        why: String,
    },
    /// An argument the store refuses (e.g. an empty `--by`).
    #[error("{0}")]
    InvalidInput(String),
}

impl StoreError {
    /// A SQLite error on the database `db`, classified by SQLite's error code.
    fn sqlite(db: &str, sqlite: rusqlite::Error) -> StoreError {
        use rusqlite::ErrorCode as C;
        let db = db.to_string();
        match sqlite.sqlite_error_code() {
            Some(C::DatabaseBusy | C::DatabaseLocked) => StoreError::Busy { db, sqlite },
            Some(C::DiskFull) => StoreError::DiskFull { db, sqlite },
            Some(C::ReadOnly) => StoreError::ReadOnly { db, sqlite },
            Some(C::CannotOpen) => StoreError::CannotOpen { db, sqlite },
            Some(C::DatabaseCorrupt | C::NotADatabase) => StoreError::Corrupt { db, sqlite },
            _ => StoreError::Sql { db, sqlite },
        }
    }
}

/// The store's result: every error is a [`StoreError`] naming the database.
pub type Result<T> = std::result::Result<T, StoreError>;

/// How long a statement waits for another connection's lock before failing with "database is
/// locked".
const BUSY_TIMEOUT: Duration = Duration::from_secs(30);

/// Page cache of each connection, in KiB (negative: SQLite's unit for a size).
const CACHE_SIZE: i64 = -65536;

/// What an in-memory database is called in messages.
const IN_MEMORY: &str = ":memory:";

/// The SQLite database of both views, the discrepancies and the runs (docs/schema.md): one
/// connection, opened and migrated by [`Store::open`]. One process writes at a time
/// ([`RunLock`]); others may read (WAL).
pub struct Store {
    conn: Connection,
    /// The database file as it was named when opened (`:memory:` for an in-memory store):
    /// every error names it.
    db: String,
}

impl Store {
    /// Opens (creating if needed) the database and applies pending migrations, after a
    /// backup of a database that had a schema ([`Store::backup_path`]).
    pub fn open(path: &Path) -> Result<Store> {
        let mut store = Store::connect(path)?;
        store.migrate()?;
        Ok(store)
    }

    /// Opens an existing database for a command that must never migrate it (the review
    /// commands): a schema older than this program's is refused ([`StoreError::TooOld`]),
    /// as is a newer one.
    pub fn open_current(path: &Path) -> Result<Store> {
        let store = Store::connect(path)?;
        let version = store.schema_version()?;
        let known = MIGRATIONS.len() as i64;
        let db = store.db.clone();
        match version.cmp(&known) {
            std::cmp::Ordering::Less => Err(StoreError::TooOld {
                db,
                found: version,
                known,
            }),
            std::cmp::Ordering::Greater => Err(StoreError::TooNew {
                db,
                found: version,
                known,
            }),
            std::cmp::Ordering::Equal => Ok(store),
        }
    }

    /// The file a migration from `version` backs the database up to, next to it:
    /// `<database>.v<version>.backup` (`.v<version>.<n>.backup` when that exists).
    pub fn backup_path(db: &Path, version: i64) -> PathBuf {
        let name = db.file_name().unwrap_or_default().to_string_lossy();
        let at = |suffix: String| db.with_file_name(format!("{name}.v{version}{suffix}.backup"));
        (1..)
            .map(|n| {
                if n == 1 {
                    at(String::new())
                } else {
                    at(format!(".{n}"))
                }
            })
            .find(|p| !p.exists())
            .unwrap_or_else(|| at(String::new()))
    }

    /// Opens the database file (creating it) and sets the connection up; no migration.
    fn connect(path: &Path) -> Result<Store> {
        let db = path.display().to_string();
        if let Some(dir) = path.parent() {
            if !dir.as_os_str().is_empty() && !dir.exists() {
                return Err(StoreError::NoDirectory {
                    db,
                    dir: dir.display().to_string(),
                });
            }
        }
        let conn = Connection::open(path).map_err(|e| StoreError::sqlite(&db, e))?;
        let mut store = Store { conn, db };
        store.configure()?;
        Ok(store)
    }

    /// An in-memory store (tests, benchmarks).
    pub fn open_in_memory() -> Result<Store> {
        let conn = Connection::open_in_memory().map_err(|e| StoreError::sqlite(IN_MEMORY, e))?;
        let mut store = Store {
            conn,
            db: IN_MEMORY.to_string(),
        };
        store.configure()?;
        store.migrate()?;
        Ok(store)
    }

    fn configure(&mut self) -> Result<()> {
        let in_memory = self.conn.path().is_none_or(|p| p.is_empty());
        self.read(|c| {
            c.busy_timeout(BUSY_TIMEOUT)?;
            // Every statement of a page store, a look-up batch and the lifecycle stays prepared.
            c.set_prepared_statement_cache_capacity(64);
            // In-memory databases answer "memory"; that is fine.
            c.pragma_update(None, "journal_mode", "WAL").or_else(|e| {
                if in_memory {
                    Ok(())
                } else {
                    Err(e)
                }
            })?;
            c.pragma_update(None, "synchronous", "NORMAL")?;
            c.pragma_update(None, "foreign_keys", "ON")?;
            // 64 MiB of page cache (the default is 2 MiB): a million dossiers' key indexes are
            // written in random order, and with a small cache every insert re-reads index
            // pages.
            c.pragma_update(None, "cache_size", CACHE_SIZE)?;
            c.pragma_update(None, "temp_store", "MEMORY")?;
            // Checkpoint the WAL every 10,000 pages (~40 MB; SQLite's default is 1,000): a sync
            // cycle that changes rows spread over a large table dirties several pages per row,
            // and every checkpoint copies its pages back and syncs the file, so checkpointing
            // ten times less often saves most of those syncs. The file is cut back to 64 MiB
            // after a checkpoint; the housekeeping job truncates it.
            c.pragma_update(None, "wal_autocheckpoint", 10_000)?;
            c.pragma_update(None, "journal_size_limit", 64 * 1024 * 1024)
        })
    }

    fn migrate(&mut self) -> Result<()> {
        let version = self.schema_version()?;
        let known = MIGRATIONS.len() as i64;
        if version > known {
            return Err(StoreError::TooNew {
                db: self.db.clone(),
                found: version,
                known,
            });
        }
        let pending = &MIGRATIONS[version as usize..];
        if version > 0 && !pending.is_empty() && self.db != IN_MEMORY {
            self.backup_before_migrating(version, pending)?;
        }
        // Rows to scrub exist only in a database that had a schema before.
        let scrubs = version > 0
            && pending
                .iter()
                .any(|m| m.trim_start().starts_with(schema::SCRUBS_RAW_ROWS));
        if scrubs {
            // What the scrub frees is zeroed, not merely marked free.
            self.read(|c| c.pragma_update(None, "secure_delete", true))?;
        }
        for (i, sql) in MIGRATIONS.iter().enumerate().skip(version as usize) {
            let derived = self.write(|tx| {
                tx.execute_batch(sql)?;
                let derived = if sql
                    .trim_start()
                    .starts_with(schema::DERIVES_PROVINCIAL_FACTS)
                {
                    Some(history::backfill_facts(tx)?)
                } else {
                    None
                };
                tx.pragma_update(None, "user_version", (i + 1) as i64)?;
                Ok(derived)
            })?;
            tracing::info!(target: "store", version = i + 1, ?derived, "applied migration");
        }
        if scrubs {
            self.rebuild_after_scrub();
        }
        Ok(())
    }

    /// `VACUUM INTO` [`Store::backup_path`]: a consistent copy of the database as it is before
    /// the pending migrations, logged with its path.
    fn backup_before_migrating(&mut self, version: i64, pending: &[&str]) -> Result<()> {
        let backup = Store::backup_path(Path::new(&self.db), version);
        let shown = backup.display().to_string();
        self.conn
            .execute("VACUUM INTO ?1", [&shown])
            .map_err(|sqlite| StoreError::Backup {
                db: self.db.clone(),
                backup: shown.clone(),
                sqlite,
            })?;
        tracing::info!(target: "store", db = %self.db, backup = %shown, from = version,
            to = MIGRATIONS.len(), "database backed up before migrating");
        if pending
            .iter()
            .any(|m| m.trim_start().starts_with(schema::SCRUBS_RAW_ROWS))
        {
            tracing::warn!(target: "store", backup = %shown,
                "the backup holds raw rows of the earlier version, which may hold citizens' \
                 personal data: delete it once the upgrade is checked");
        }
        Ok(())
    }

    /// After a migration that emptied stored raw rows: rebuild the file (pages freed by
    /// earlier versions were never zeroed and may still hold the old text), write it back from
    /// the WAL and truncate the WAL. A failure leaves the data scrubbed and only the free
    /// pages unrebuilt: it is logged with what to run, and the service goes on.
    fn rebuild_after_scrub(&mut self) {
        let t0 = std::time::Instant::now();
        let rebuilt = self.read(|c| {
            c.execute_batch("VACUUM")?;
            c.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
            c.pragma_update(None, "secure_delete", false)
        });
        match rebuilt {
            Ok(()) => tracing::info!(target: "store", db = %self.db,
                ms = t0.elapsed().as_millis() as u64,
                "raw rows of earlier versions emptied; database file rebuilt"),
            Err(e) => tracing::warn!(target: "store", error = %e,
                "raw rows of earlier versions emptied, but the file could not be rebuilt: \
                 freed pages may still hold them; stop the service and run \
                 `sqlite3 <database> VACUUM`"),
        }
    }

    /// The schema version of the database: how many of [`MIGRATIONS`] are applied
    /// (`PRAGMA user_version`).
    pub fn schema_version(&self) -> Result<i64> {
        self.read(|c| c.pragma_query_value(None, "user_version", |r| r.get(0)))
    }

    /// Direct access for read-only queries in reports and tests.
    pub fn conn(&self) -> &Connection {
        &self.conn
    }

    /// Runs `f` on the connection; a SQLite error comes back naming the database.
    fn read<T>(&self, f: impl FnOnce(&Connection) -> rusqlite::Result<T>) -> Result<T> {
        f(&self.conn).map_err(|e| self.error(e))
    }

    /// Runs `f` in one transaction and commits it; on an error nothing of it is kept, and the
    /// error names the database. The transaction takes the write lock as it begins (`BEGIN
    /// IMMEDIATE`), waiting for another writer under the busy timeout: a deferred one that
    /// read first would fail at once when another connection held the lock as it came to
    /// write (SQLite calls no busy handler to upgrade a read transaction).
    fn write<T>(&mut self, f: impl FnOnce(&Transaction<'_>) -> rusqlite::Result<T>) -> Result<T> {
        in_transaction(&mut self.conn, f).map_err(|e| self.error(e))
    }

    /// [`Store::write`] for a method that has the store shared (`&self`): the same
    /// transaction, begun on the shared connection (no other transaction is open on it: every
    /// method of the store ends its own).
    fn write_shared<T>(
        &self,
        f: impl FnOnce(&Transaction<'_>) -> rusqlite::Result<T>,
    ) -> Result<T> {
        let run = || {
            let tx = Transaction::new_unchecked(&self.conn, TransactionBehavior::Immediate)?;
            let value = f(&tx)?;
            tx.commit()?;
            Ok(value)
        };
        run().map_err(|e| self.error(e))
    }

    /// A SQLite error of this database, classified.
    fn error(&self, e: rusqlite::Error) -> StoreError {
        StoreError::sqlite(&self.db, e)
    }
}

fn in_transaction<T>(
    conn: &mut Connection,
    f: impl FnOnce(&Transaction<'_>) -> rusqlite::Result<T>,
) -> rusqlite::Result<T> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let value = f(&tx)?;
    tx.commit()?;
    Ok(value)
}

// ----- small row helpers ------------------------------------------------------------------------

/// A time as stored (`None` stays NULL).
fn t(v: &Option<LocalTime>) -> Option<String> {
    v.as_ref().map(fmt_time)
}

/// The time in the column named `idx` (NULL or unreadable: `None`).
fn rt(row: &Row<'_>, idx: &str) -> rusqlite::Result<Option<LocalTime>> {
    Ok(row
        .get::<_, Option<String>>(idx)?
        .and_then(|s| parse_stored_time(&s)))
}

fn status_of(code: Option<i64>) -> Option<Status> {
    code.and_then(|c| u8::try_from(c).ok())
        .and_then(Status::from_code)
}

/// The highest rowid of `provincial_dossier` (0 when empty).
fn top_pid(conn: &Connection) -> rusqlite::Result<i64> {
    conn.query_row(
        "SELECT coalesce(max(rowid), 0) FROM provincial_dossier",
        [],
        |r| r.get(0),
    )
}

fn text_at<'r>(r: &'r Row<'_>, i: usize) -> rusqlite::Result<Option<&'r str>> {
    r.get_ref(i)?.as_str_or_null().map_err(|e| match e {
        rusqlite::types::FromSqlError::InvalidType => rusqlite::Error::InvalidColumnType(
            i,
            String::new(),
            r.get_ref(i)
                .map(|v| v.data_type())
                .unwrap_or(rusqlite::types::Type::Null),
        ),
        other => rusqlite::Error::FromSqlConversionFailure(
            i,
            rusqlite::types::Type::Text,
            Box::new(other),
        ),
    })
}

/// Overwrites `dst` with the text at `i` (NULL = empty), reusing its buffer.
fn set_text(dst: &mut String, r: &Row<'_>, i: usize) -> rusqlite::Result<()> {
    dst.clear();
    dst.push_str(text_at(r, i)?.unwrap_or(""));
    Ok(())
}

/// Overwrites `dst` with the text at `i`, reusing its buffer.
fn set_opt_text(dst: &mut Option<String>, r: &Row<'_>, i: usize) -> rusqlite::Result<()> {
    match (text_at(r, i)?, dst.as_mut()) {
        (None, _) => *dst = None,
        (Some(v), Some(d)) => {
            d.clear();
            d.push_str(v);
        }
        (Some(v), None) => *dst = Some(v.to_string()),
    }
    Ok(())
}

/// The time at column `i` (NULL or unreadable: `None`).
fn time_at(r: &Row<'_>, i: usize) -> rusqlite::Result<Option<LocalTime>> {
    Ok(text_at(r, i)?.and_then(parse_stored_time))
}

/// Helpers of the store's unit tests.
#[cfg(test)]
mod test_support {
    use std::io::Write;
    use std::sync::{Arc, Mutex};

    use crate::model::LocalTime;

    /// A stored-format time.
    pub fn at(s: &str) -> LocalTime {
        chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S").unwrap()
    }

    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl Write for Captured {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    /// What `f` logs at `info` or above with target `discrepancy` (on this thread).
    pub fn logged(f: impl FnOnce()) -> String {
        let logs = Captured::default();
        let writer = logs.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_env_filter("discrepancy=info")
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .finish();
        tracing::subscriber::with_default(subscriber, f);
        let text = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rusqlite::params;

    #[test]
    fn sqlite_errors_are_classified_and_name_the_database() {
        let failure = |code: i32, msg: &str| {
            StoreError::sqlite(
                "/var/lib/tthc-sync/tthc-sync.db",
                rusqlite::Error::SqliteFailure(rusqlite::ffi::Error::new(code), Some(msg.into())),
            )
        };
        let cases = [
            (
                rusqlite::ffi::SQLITE_FULL,
                "database or disk is full",
                "the disk is full",
            ),
            (
                rusqlite::ffi::SQLITE_READONLY,
                "attempt to write a readonly database",
                "read-only",
            ),
            (
                rusqlite::ffi::SQLITE_BUSY,
                "database is locked",
                "busy timeout",
            ),
            (
                rusqlite::ffi::SQLITE_LOCKED,
                "database table is locked",
                "busy timeout",
            ),
            (
                rusqlite::ffi::SQLITE_CANTOPEN,
                "unable to open database file",
                "cannot open it",
            ),
            (
                rusqlite::ffi::SQLITE_NOTADB,
                "file is not a database",
                "damaged",
            ),
            (
                rusqlite::ffi::SQLITE_CORRUPT,
                "database disk image is malformed",
                "damaged",
            ),
        ];
        for (code, sqlite, meaning) in cases {
            let e = failure(code, sqlite);
            let text = e.to_string();
            assert!(
                text.starts_with("database /var/lib/tthc-sync/tthc-sync.db: ")
                    && text.contains(sqlite)
                    && text.contains(meaning),
                "{text}"
            );
            // SQLite's message is said once, also through a printed chain.
            assert!(std::error::Error::source(&e).is_none(), "{text}");
        }
        assert!(matches!(
            failure(rusqlite::ffi::SQLITE_FULL, "x"),
            StoreError::DiskFull { .. }
        ));
        assert!(matches!(
            failure(rusqlite::ffi::SQLITE_READONLY, "x"),
            StoreError::ReadOnly { .. }
        ));
        assert!(matches!(
            failure(rusqlite::ffi::SQLITE_BUSY, "x"),
            StoreError::Busy { .. }
        ));
        assert!(matches!(
            failure(rusqlite::ffi::SQLITE_CONSTRAINT, "x"),
            StoreError::Sql { .. }
        ));
    }

    #[test]
    fn a_missing_directory_and_a_file_that_is_no_database_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("absent").join("t.db");
        let err = Store::open(&db).err().unwrap();
        assert!(matches!(err, StoreError::NoDirectory { .. }), "{err}");
        assert!(err.to_string().contains(&db.display().to_string()), "{err}");

        let junk = dir.path().join("junk.db");
        std::fs::write(&junk, vec![b'x'; 8192]).unwrap();
        let err = Store::open(&junk).err().unwrap();
        assert!(matches!(err, StoreError::Corrupt { .. }), "{err}");
        assert!(
            err.to_string().contains(&junk.display().to_string()),
            "{err}"
        );
    }

    /// A write transaction that reads first (a page store reads the top rowid, a manual change
    /// the state) while another connection holds the write lock — the housekeeping checkpoint
    /// holds it for up to a second — waits for it under the busy timeout. Begun deferred, it
    /// would fail at once with "database is locked": SQLite does not call the busy handler
    /// for a read transaction upgrading to a write.
    #[test]
    fn a_write_transaction_waits_for_another_writer() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("t.db");
        let mut store = Store::open(&db).unwrap();
        let other = Connection::open(&db).unwrap();
        other.execute_batch("BEGIN IMMEDIATE").unwrap();
        let held = Duration::from_millis(300);
        let release = std::thread::spawn(move || {
            std::thread::sleep(held);
            other.execute_batch("COMMIT").unwrap();
        });
        let t0 = std::time::Instant::now();
        let p = crate::model::ProvincialDossier {
            local_id: "d1".into(),
            key: "K1".into(),
            ..Default::default()
        };
        let stats = store
            .store_provincial_page(
                1,
                "p",
                test_support::at("2026-11-20 10:00:00"),
                &[(p, "{}".into())],
                None,
            )
            .unwrap();
        assert_eq!(stats.new, 1);
        assert!(t0.elapsed() >= held - Duration::from_millis(50));
        release.join().unwrap();
    }

    /// A database of the version before the scrub, whose raw rows hold personal data (large
    /// rows overflowing their pages, rewritten several times so that freed pages hold old
    /// copies), once opened by this version holds none of it: not in a column, not in a freed
    /// page of the file, not in the WAL.
    #[test]
    fn the_upgrade_leaves_no_old_raw_row_in_the_files() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("t.db");
        let scrub = MIGRATIONS
            .iter()
            .position(|m| m.trim_start().starts_with(schema::SCRUBS_RAW_ROWS))
            .unwrap();
        {
            let conn = Connection::open(&db).unwrap();
            conn.pragma_update(None, "journal_mode", "WAL").unwrap();
            for m in &MIGRATIONS[..scrub] {
                conn.execute_batch(m).unwrap();
            }
            conn.pragma_update(None, "user_version", scrub as i64)
                .unwrap();
            for round in 0..3 {
                for i in 0..50 {
                    let raw = format!(
                        "{{\"applicant\":\"PII-OLD-{i}\",\"eForm\":\"{}\"}}",
                        format!("PII-EFORM-{i}-").repeat(200 + round * 50)
                    );
                    conn.execute(
                        "INSERT INTO provincial_dossier (dossier_id, code, local_code, channel,
                            status_raw, has_due_date, updated_at, row_hash, raw_json, source,
                            first_seen, last_seen, last_changed)
                         VALUES (?1, ?1, ?1, 'online', '4', 1, 't', 'h', ?2, 's', 't', 't', 't')
                         ON CONFLICT (dossier_id) DO UPDATE SET raw_json = excluded.raw_json",
                        params![format!("d{i}"), raw],
                    )
                    .unwrap();
                    conn.execute(
                        "INSERT OR REPLACE INTO national_dossier (code, found, raw_json,
                            first_seen, last_lookup_at, last_changed)
                         VALUES (?1, 1, ?2, 't', 't', 't')",
                        params![format!("n{i}"), format!("[{{\"DonViXuLy\":{raw}}}]")],
                    )
                    .unwrap();
                }
            }
        }
        let bytes = |path: &Path| std::fs::read(path).unwrap_or_default();
        let holds = |hay: &[u8]| hay.windows(8).any(|w| w == b"PII-OLD-" || w == b"PII-EFOR");
        assert!(holds(
            &[bytes(&db), bytes(&dir.path().join("t.db-wal"))].concat()
        ));

        let store = Store::open(&db).unwrap();
        assert_eq!(store.schema_version().unwrap(), MIGRATIONS.len() as i64);
        let (empty, null): (i64, i64) = store
            .conn()
            .query_row(
                "SELECT (SELECT count(*) FROM provincial_dossier WHERE raw_json = ''),
                        (SELECT count(*) FROM national_dossier WHERE raw_json IS NULL)",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        assert_eq!((empty, null), (50, 50));
        // While the store is still open: the file and its WAL as they are on disk.
        for name in ["t.db", "t.db-wal", "t.db-shm"] {
            let b = bytes(&dir.path().join(name));
            assert!(!holds(&b), "{name} still holds an old raw row");
        }
        drop(store);
        assert!(!holds(&bytes(&db)), "t.db after close");
    }

    #[test]
    fn a_newer_schema_is_refused_naming_the_database() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("t.db");
        drop(Store::open(&db).unwrap());
        Connection::open(&db)
            .unwrap()
            .pragma_update(None, "user_version", MIGRATIONS.len() as i64 + 1)
            .unwrap();
        let err = Store::open(&db).err().unwrap().to_string();
        assert!(
            err.contains(&db.display().to_string()) && err.contains("upgrade tthc-sync"),
            "{err}"
        );
    }

    /// A database one migration behind: a review command's open refuses it, naming what to
    /// run, and changes nothing; the service's open backs it up next to it (a consistent copy
    /// at the old version, numbered when one exists) and then migrates.
    #[test]
    fn review_commands_never_migrate_and_a_migration_is_backed_up_first() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("t.db");
        let old = MIGRATIONS.len() - 1;
        let version = |path: &Path| -> i64 {
            Connection::open(path)
                .unwrap()
                .pragma_query_value(None, "user_version", |r| r.get(0))
                .unwrap()
        };
        let make_old = || {
            let conn = Connection::open(&db).unwrap();
            conn.pragma_update(None, "journal_mode", "WAL").unwrap();
            for m in &MIGRATIONS[..old] {
                conn.execute_batch(m).unwrap();
            }
            conn.pragma_update(None, "user_version", old as i64)
                .unwrap();
        };
        make_old();
        let err = Store::open_current(&db).err().unwrap().to_string();
        assert!(
            err.contains(&db.display().to_string())
                && err.contains("sync --once")
                && err.contains("never migrates"),
            "{err}"
        );
        assert_eq!(version(&db), old as i64, "the review open changed nothing");

        let store = Store::open(&db).unwrap();
        assert_eq!(store.schema_version().unwrap(), MIGRATIONS.len() as i64);
        drop(store);
        let backup = dir.path().join(format!("t.db.v{old}.backup"));
        assert_eq!(version(&backup), old as i64);
        Store::open_current(&db).unwrap();

        // A second upgrade from the same version keeps the first backup.
        std::fs::remove_file(&db).unwrap();
        make_old();
        drop(Store::open(&db).unwrap());
        assert!(dir.path().join(format!("t.db.v{old}.2.backup")).exists());
        assert_eq!(version(&backup), old as i64);
    }
}
