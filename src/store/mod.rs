//! SQLite persistence: the only module that speaks SQL.
//!
//! One connection lives behind a `parking_lot::Mutex`. Every method takes
//! the lock for one short synchronous statement or transaction and never
//! across an `.await`, which is the discipline that lets the HTTP handlers
//! call the store directly. Statements are prepared once per connection
//! (`prepare_cached`) and reused. The database runs in WAL mode with
//! `synchronous = FULL`, so a write is on disk before the call returns and
//! before any client sees it acknowledged.

mod clock;
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

pub use pipelines::{Page, PipelineQuery};

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
}

/// A handle to the database, cheap to clone.
#[derive(Clone)]
pub struct Store {
    conn: Arc<Mutex<Connection>>,
    /// Counts resets. A write that read the clock before taking the lock
    /// compares it to catch a reset that came in between and moved the
    /// clock back, which would otherwise store a pipeline from the future.
    generation: Arc<AtomicU64>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").finish_non_exhaustive()
    }
}

impl Store {
    /// Opens (creating if needed) the database at `path`, or a private
    /// in-memory one for `:memory:`, then migrates and seeds it.
    pub fn open(path: &str) -> Result<Self, StoreError> {
        let mut conn = Connection::open(path)?;
        configure(&conn)?;
        schema::migrate(&mut conn)?;
        let generation = Arc::new(AtomicU64::new(0));
        Ok(Self {
            conn: Arc::new(Mutex::new(conn)),
            generation,
        })
    }

    /// Empties pipelines, projects, trigger tokens and rules (restarting
    /// their ids at 1), puts the scenarios back to exactly `presets` and
    /// forgets any clock changes, all in one transaction.
    pub fn reset(&self, presets: &[crate::model::Scenario]) -> Result<(), StoreError> {
        let mut conn = self.conn.lock();
        let tx = conn.transaction()?;
        tx.execute_batch(
            "DELETE FROM rules;
             DELETE FROM pipelines;
             DELETE FROM pipeline_iids;
             DELETE FROM trigger_tokens;
             DELETE FROM projects;
             DELETE FROM sqlite_sequence;
             DELETE FROM scenarios;
             DELETE FROM clock;",
        )?;
        schema::seed_defaults(&tx, presets)?;
        tx.commit()?;
        self.generation.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }

    /// The number of resets so far; see [`Store::insert_pipeline`].
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::SeqCst)
    }
}

fn configure(conn: &Connection) -> Result<(), StoreError> {
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
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
