//! The database schema and its migrations.
//!
//! Migrations are numbered by SQLite's `user_version`: a fresh file runs
//! them all, an older file runs only the ones it lacks, each inside one
//! transaction with the version bump. Migration 1 also seeds the preset
//! scenarios, so presets arrive exactly once: a user who deletes one does
//! not see it come back on the next start.

use rusqlite::{Connection, Transaction, params};

use crate::model::Scenario;
use crate::presets::presets;

use super::StoreError;
use super::scenarios::insert_scenario_row;

/// One step of the schema's history.
type Migration = fn(&Transaction<'_>) -> Result<(), StoreError>;

/// Every migration in order; the position plus one is its version.
const MIGRATIONS: [Migration; 1] = [create_tables_and_seed_presets];

const CREATE_TABLES: &str = "
CREATE TABLE scenarios (
    scenario_id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    terminal_after_seconds INTEGER,
    terminal_status TEXT NOT NULL DEFAULT 'success',
    never_complete INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE pipelines (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    project_id INTEGER NOT NULL,
    ref TEXT NOT NULL,
    sha TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'running',
    variables_json TEXT,
    scenario_id INTEGER,
    terminal_after_seconds INTEGER,
    terminal_status TEXT,
    created_at DATETIME NOT NULL,
    updated_at DATETIME NOT NULL,
    FOREIGN KEY(scenario_id) REFERENCES scenarios(scenario_id) ON DELETE SET NULL
);

CREATE INDEX pipelines_by_project ON pipelines(project_id, id);
CREATE INDEX pipelines_by_scenario ON pipelines(scenario_id);

CREATE TABLE clock (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    frozen_at TEXT,
    offset_ms INTEGER NOT NULL DEFAULT 0
);
";

/// Brings the schema up to date, each step in its own transaction.
pub(super) fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
    let current: i64 = conn.query_row("PRAGMA user_version", [], |row| row.get(0))?;
    let current = usize::try_from(current).unwrap_or(usize::MAX);
    if current > MIGRATIONS.len() {
        return Err(StoreError::TooNew {
            found: current,
            known: MIGRATIONS.len(),
        });
    }

    for (index, migration) in MIGRATIONS.iter().enumerate().skip(current) {
        let version = index + 1;
        let tx = conn.transaction()?;
        migration(&tx)?;
        tx.pragma_update(None, "user_version", version as i64)?;
        tx.commit()?;
        tracing::debug!(version, "applied schema migration");
    }
    Ok(())
}

fn create_tables_and_seed_presets(tx: &Transaction<'_>) -> Result<(), StoreError> {
    tx.execute_batch(CREATE_TABLES)?;
    seed_defaults(tx, &presets())
}

/// Writes the preset scenarios and an untouched clock: the state of a
/// fresh database, used on first start and by reset.
pub(super) fn seed_defaults(conn: &Connection, scenarios: &[Scenario]) -> Result<(), StoreError> {
    for scenario in scenarios {
        insert_scenario_row(conn, scenario)?;
    }
    conn.execute(
        "INSERT OR IGNORE INTO clock (id, frozen_at, offset_ms) VALUES (1, NULL, 0)",
        params![],
    )?;
    Ok(())
}
