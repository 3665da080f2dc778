//! SQLite persistence: the only module that speaks SQL.
//!
//! Two connections share the database file. Every write takes the writer,
//! every read the reader, each behind a `parking_lot::Mutex` held for one
//! short synchronous statement or transaction and never across an
//! `.await`. In WAL mode a reader never waits for a writer, so a poll does
//! not queue behind another request's fsync. New pipelines, the one write
//! that comes in floods, go through [`commit`]'s group commit instead: one
//! transaction and one fsync for every trigger waiting at that moment.
//! Statements are prepared once per connection (`prepare_cached`) and
//! reused. `synchronous = FULL` puts each commit on disk before the call
//! returns, so nothing is acknowledged that a crash could lose; the
//! writer's WAL writes go through [`gather`], which sends a commit's
//! frames to the file in one write at that sync.
//!
//! An in-memory database (`:memory:`) lives inside one connection, so there
//! the reader and the writer are the same connection.

mod cache;
mod clock;
mod commit;
mod directory;
mod gather;
mod hooks;
mod inserts;
mod listing;
mod lock;
mod moving;
mod pipelines;
mod projects;
mod rules;
mod scenarios;
mod schema;
mod triggers;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use jiff::Timestamp;
use parking_lot::Mutex;
use rusqlite::types::{FromSql, FromSqlError, FromSqlResult, ToSqlOutput, ValueRef};
use rusqlite::{Connection, ToSql};
use serde::Serialize;

use crate::status::PipelineStatus;

pub use listing::{
    COUNT_LIMIT, Counted, ListingParts, Page, PipelineQuery, ProjectListing, SettledFilter, SortKey,
};
pub use triggers::TriggerAccess;

/// A failure of the storage layer. Any of these is the mock's fault, never
/// the client's, and becomes a 500.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("sqlite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("stored value cannot be read: {0}")]
    Corrupt(String),
    #[error("database schema version {found} is newer than this build knows ({known})")]
    TooNew { found: usize, known: usize },
    #[error(transparent)]
    Locked(#[from] lock::LockError),
    /// The group commit's thread is gone; only a panic inside it does that.
    #[error("the store's commit thread has stopped")]
    CommitterGone,
    /// The batch this write was part of could not be committed.
    #[error("commit failed: {0}")]
    CommitFailed(String),
}

/// A handle to the database, cheap to clone: one reference count, since a
/// clone is taken for every request.
#[derive(Clone)]
pub struct Store {
    shared: Arc<Shared>,
}

/// What every clone of a [`Store`] shares.
struct Shared {
    writer: Arc<Mutex<Connection>>,
    reader: Arc<Mutex<Connection>>,
    committer: commit::Committer,
    /// Counts resets. A write that read the clock before taking the lock
    /// compares it to catch a reset that came in between and moved the
    /// clock back, which would otherwise store a pipeline from the future.
    generation: Arc<AtomicU64>,
    /// Held for as long as any clone lives, so a second process cannot
    /// open the same file; `None` for `:memory:`.
    _lock: Option<lock::DatabaseLock>,
    /// What polls read lately; emptied by every write it could contradict.
    cache: cache::PipelineCache,
    /// The projects and trigger tokens tables, in memory.
    directory: directory::Directory,
    /// Every project hook, kept in memory so a trigger can tell without SQL
    /// whether its project has any.
    hooks: hooks::HookIndex,
    /// Whether any rule is stored, so a trigger can skip asking for one.
    rules_stored: rules::RulesStored,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").finish_non_exhaustive()
    }
}

impl Store {
    /// Opens (creating if needed) the database at `path`, or a private
    /// in-memory one for `:memory:`, then migrates and seeds it.
    ///
    /// A file is refused while another process has it open through
    /// gitlab-mock: two mocks writing one file would hand out the same ids.
    pub fn open(path: &str) -> Result<Self, StoreError> {
        let in_memory = path == MEMORY || path.is_empty();
        let lock = match in_memory {
            true => None,
            false => Some(lock::DatabaseLock::acquire(path)?),
        };

        let mut conn = open_writer(path, in_memory)?;
        configure(&conn)?;
        schema::migrate(&mut conn)?;
        let directory = directory::Directory::load(&conn)?;
        let writer = Arc::new(Mutex::new(conn));
        let reader = match in_memory {
            true => Arc::clone(&writer),
            false => Arc::new(Mutex::new(open_reader(path)?)),
        };

        let hooks = hooks::HookIndex::load(&writer.lock())?;
        let rules_stored = rules::RulesStored::load(&writer.lock())?;
        let generation = Arc::new(AtomicU64::new(0));
        let committer = commit::Committer::start(Arc::clone(&writer), Arc::clone(&generation));
        let shared = Shared {
            writer,
            reader,
            committer,
            generation,
            _lock: lock,
            cache: cache::PipelineCache::default(),
            directory,
            hooks,
            rules_stored,
        };
        Ok(Self {
            shared: Arc::new(shared),
        })
    }

    /// Empties pipelines, projects, trigger tokens, rules and hooks (restarting
    /// their ids at 1), puts the scenarios back to exactly `presets` and
    /// forgets any clock changes, all in one transaction.
    pub fn reset(&self, presets: &[crate::model::Scenario]) -> Result<(), StoreError> {
        let mut conn = self.shared.writer.lock();
        let tx = conn.transaction()?;
        tx.execute_batch(
            "DELETE FROM rules;
             DELETE FROM pipelines;
             DELETE FROM pipeline_iids;
             DELETE FROM trigger_tokens;
             DELETE FROM projects;
             DELETE FROM sqlite_sequence;
             DELETE FROM scenarios;
             DELETE FROM clock;
             DELETE FROM hooks;",
        )?;
        schema::seed_defaults(&tx, presets)?;
        tx.commit()?;
        self.shared.rules_stored.recount(&conn)?;
        self.shared.directory.clear();
        self.shared.cache.invalidate();
        self.shared.hooks.clear();
        self.shared.generation.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }

    /// The number of resets so far; see [`Store::insert_pipeline`].
    pub fn generation(&self) -> u64 {
        self.shared.generation.load(Ordering::SeqCst)
    }
}

/// The name SQLite gives a private in-memory database; an empty path, a
/// private temporary file, is private to one connection in the same way.
const MEMORY: &str = ":memory:";

/// The connection every write goes through. A file is opened through
/// [`gather`], so that each commit reaches the WAL in one write.
fn open_writer(path: &str, in_memory: bool) -> Result<Connection, StoreError> {
    if in_memory || !gather::register() {
        return Ok(Connection::open(path)?);
    }
    let flags = rusqlite::OpenFlags::default();
    Ok(Connection::open_with_flags_and_vfs(
        path,
        flags,
        gather::NAME,
    )?)
}

/// A second connection to the file, for reads only.
fn open_reader(path: &str) -> Result<Connection, StoreError> {
    let conn = Connection::open(path)?;
    configure(&conn)?;
    conn.pragma_update(None, "query_only", true)?;
    // Reads through a memory map rather than a `pread` per page: a poll of
    // a pipeline the cache does not hold walks three or four B-tree pages,
    // and in a large store those are seldom the same twice.
    conn.pragma_update(None, "mmap_size", 1i64 << 30)?;
    Ok(conn)
}

fn configure(conn: &Connection) -> Result<(), StoreError> {
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    // Every commit syncs the WAL before it is acknowledged, and before
    // readers see it, which is also what lets `gather` hold writes back.
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    // 16 MiB of pages per connection instead of SQLite's 2 MiB: the indexes
    // every insert touches, and the pages polls read, stay in memory.
    conn.pragma_update(None, "cache_size", -16 * 1024)?;
    // A multi-row insert inside the batch's transaction keeps a statement
    // journal, by default a new temporary file per statement: an
    // `O_TMPFILE` create and release on the disk every batch, about a fifth
    // of a trigger's system time. It only ever undoes a failed statement
    // inside its transaction, so memory serves as well.
    conn.pragma_update(None, "temp_store", "MEMORY")?;
    conn.set_prepared_statement_cache_capacity(64);
    Ok(())
}

/// Timestamps are stored as RFC 3339 text with milliseconds, the same
/// spelling the API prints, so the file reads well in `sqlite3`.
pub(crate) fn timestamp_text(instant: Timestamp) -> String {
    crate::clock::rfc3339_millis(instant)
}

pub(crate) fn parse_timestamp(text: &str) -> FromSqlResult<Timestamp> {
    text.parse()
        .map_err(|error| FromSqlError::Other(Box::new(error)))
}

/// Reads an optional timestamp column.
fn timestamp_column(row: &rusqlite::Row<'_>, index: usize) -> rusqlite::Result<Option<Timestamp>> {
    let text: Option<String> = row.get(index)?;
    text.map(|text| parse_timestamp(&text).map_err(|error| conversion(index, error)))
        .transpose()
}

/// Reads a JSON column into `T`.
fn json_column<T: serde::de::DeserializeOwned>(
    row: &rusqlite::Row<'_>,
    index: usize,
) -> rusqlite::Result<Option<T>> {
    let text: Option<String> = row.get(index)?;
    text.map(|text| {
        serde_json::from_str(&text)
            .map_err(|error| conversion(index, FromSqlError::Other(Box::new(error))))
    })
    .transpose()
}

/// `value` as JSON text for a column.
fn json_text(value: &impl Serialize) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(|error| StoreError::Corrupt(error.to_string()))
}

/// Whether an error is a foreign key that no longer holds, as when a
/// scenario is deleted while a write that names it is on its way.
fn is_foreign_key_failure(error: &rusqlite::Error) -> bool {
    matches!(
        error,
        rusqlite::Error::SqliteFailure(failure, _)
            if failure.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_FOREIGNKEY
    )
}

fn conversion(column: usize, error: FromSqlError) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(column, rusqlite::types::Type::Text, Box::new(error))
}

impl ToSql for PipelineStatus {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::from(self.as_str()))
    }
}

impl FromSql for PipelineStatus {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
        value
            .as_str()?
            .parse()
            .map_err(|error| FromSqlError::Other(Box::new(error)))
    }
}
