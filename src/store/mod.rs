//! The SQLite store: the only module that speaks SQL.
//!
//! WAL mode with a busy timeout, so other processes can read while the service writes.
//! Migrations are append-only (`schema::MIGRATIONS`, tracked in `PRAGMA user_version`).
//! A watermark only moves in the same transaction as the rows it covers.
//!
//! This file holds the connection (pragmas, migrations), the error type and the small row
//! helpers the others share; each concern is its own `impl Store` block: runs, watermarks and
//! housekeeping (`runs.rs`), the provincial ingest (`provincial.rs`), national views, look-up
//! state and listed rows (`national.rs`), the pair streams and the second connection
//! (`pairs.rs`), reconciliation marks and passes (`passes.rs`), discrepancies and their events
//! (`discrepancies.rs`), both views' history (`history.rs`), published scores
//! (`published_scores.rs`), the pull's records and the sweep cursor (`pull.rs`), freshness (`freshness.rs`), what the monthly report reads
//! (`report.rs`); the one-writer lock (`lock.rs`) and the migrations (`schema.rs`).
//!
//! Every SQLite error leaves the store as a [`StoreError`] naming the database file: the
//! methods run their SQL through `Store::read` or `Store::write` (there is deliberately no
//! `From<rusqlite::Error>`, so an error cannot leave without the file's name).

use std::path::Path;
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
mod history;
mod lock;
mod national;
mod pairs;
mod passes;
mod provincial;
mod published_scores;
mod pull;
mod report;
mod runs;
mod schema;

pub use discrepancies::{Applied, DiscrepancyFilter, DiscrepancyRow, EventRow};
pub use history::HistoryRow;
pub use lock::RunLock;
pub use national::{LookupResult, StoredNational};
pub use passes::{FullPass, Marks, PassRecord};
pub use provincial::PageStats;
pub use published_scores::PublishedScore;
pub use pull::{CursorMove, PullRecord, SweepCursor};
pub(crate) use report::{PublishedScoreRow, ReportDiscrepancy, ReportDossier};
pub use runs::{Outcome, RunCounts};
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
    /// Opens (creating if needed) the database and applies pending migrations.
    pub fn open(path: &Path) -> Result<Store> {
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
        store.migrate()?;
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
        for (i, sql) in MIGRATIONS.iter().enumerate().skip(version as usize) {
            self.write(|tx| {
                tx.execute_batch(sql)?;
                tx.pragma_update(None, "user_version", (i + 1) as i64)
            })?;
            tracing::info!(target: "store", version = i + 1, "applied migration");
        }
        Ok(())
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
}
