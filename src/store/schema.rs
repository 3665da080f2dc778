//! The database schema and its migrations.
//!
//! Migrations are numbered by SQLite's `user_version`: a fresh file runs
//! them all, an older file runs only the ones it lacks, all inside one
//! transaction with the version bump. Presets arrive with the migration
//! that introduced them, so each is seeded exactly once: a user who deletes
//! one does not see it come back on the next start.

use rusqlite::{Connection, Transaction, params};

use crate::model::Scenario;
use crate::presets::{lifelike_presets, seed_presets};

use super::StoreError;
use super::pipelines::backfill_settlement;
use super::scenarios::insert_scenario_row;

/// One step of the schema's history.
type Migration = fn(&Transaction<'_>) -> Result<(), StoreError>;

/// Every migration in order; the position plus one is its version.
const MIGRATIONS: [Migration; 5] = [
    create_seed_tables,
    add_gitlab_likeness,
    add_settlement,
    index_named_scenarios_only,
    add_hooks,
];

const SEED_TABLES: &str = "
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

/// Phases, rejections, GitLab's pipeline fields, projects, trigger tokens
/// and rules.
const GITLAB_LIKENESS: &str = "
ALTER TABLE scenarios ADD COLUMN phases_json TEXT;
ALTER TABLE scenarios ADD COLUMN reject TEXT;

ALTER TABLE pipelines ADD COLUMN iid INTEGER NOT NULL DEFAULT 0;
ALTER TABLE pipelines ADD COLUMN source TEXT NOT NULL DEFAULT 'trigger';
ALTER TABLE pipelines ADD COLUMN phases_json TEXT;
ALTER TABLE pipelines ADD COLUMN run_anchor TEXT;
ALTER TABLE pipelines ADD COLUMN canceled_at TEXT;
ALTER TABLE pipelines ADD COLUMN earlier_started_at TEXT;
ALTER TABLE pipelines ADD COLUMN variables_typed_json TEXT;

UPDATE pipelines SET iid = (
    SELECT COUNT(*) FROM pipelines AS earlier
    WHERE earlier.project_id = pipelines.project_id AND earlier.id <= pipelines.id
);
CREATE INDEX pipelines_by_project_iid ON pipelines(project_id, iid);

CREATE TABLE pipeline_iids (
    project_id INTEGER PRIMARY KEY,
    last_iid INTEGER NOT NULL
);
INSERT INTO pipeline_iids (project_id, last_iid)
    SELECT project_id, MAX(iid) FROM pipelines GROUP BY project_id;
CREATE INDEX pipelines_by_project_ref ON pipelines(project_id, ref, id);

CREATE TABLE projects (
    id INTEGER PRIMARY KEY,
    path TEXT NOT NULL UNIQUE,
    default_branch TEXT NOT NULL DEFAULT 'main'
);

CREATE TABLE trigger_tokens (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    project_id INTEGER NOT NULL,
    token TEXT NOT NULL UNIQUE,
    description TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL
);
CREATE INDEX trigger_tokens_by_project ON trigger_tokens(project_id);

CREATE TABLE rules (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    project_id INTEGER,
    ref TEXT,
    token TEXT,
    variables_json TEXT NOT NULL DEFAULT '{}',
    scenario_id INTEGER NOT NULL REFERENCES scenarios(scenario_id) ON DELETE CASCADE,
    times INTEGER,
    used INTEGER NOT NULL DEFAULT 0
);
";

/// Where each pipeline comes to rest (see [`crate::lifecycle::settlement`]),
/// so listings can filter and sort settled pipelines by index. The index on
/// `iid` goes: nothing looks pipelines up by it, and every insert paid for
/// it.
const SETTLEMENT: &str = "
ALTER TABLE pipelines ADD COLUMN settled_ms INTEGER NOT NULL DEFAULT 0;
ALTER TABLE pipelines ADD COLUMN settled_status TEXT NOT NULL DEFAULT 'running';
CREATE INDEX pipelines_by_settling ON pipelines(project_id, settled_ms);
CREATE INDEX pipelines_by_settled_status ON pipelines(project_id, settled_status, id);
CREATE INDEX pipelines_by_status_settling ON pipelines(project_id, settled_status, settled_ms);
DROP INDEX pipelines_by_project_iid;
";

/// The index behind `ON DELETE SET NULL` for scenarios holds only the
/// pipelines that name one. Most pipelines name none (inline fields and the
/// default behaviour), and every insert paid for an entry under `NULL`
/// that no lookup reads: deleting a scenario asks for `scenario_id = ?`,
/// which implies `IS NOT NULL`, so SQLite uses the partial index for it.
const PARTIAL_SCENARIO_INDEX: &str = "
DROP INDEX pipelines_by_scenario;
CREATE INDEX pipelines_by_scenario ON pipelines(scenario_id) WHERE scenario_id IS NOT NULL;
";

/// Project hooks: where pipeline events are posted. The events each hook
/// wants are one JSON object, since the mock only acts on one of them.
const HOOKS: &str = "
CREATE TABLE hooks (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    project_id INTEGER NOT NULL,
    url TEXT NOT NULL,
    name TEXT NOT NULL DEFAULT '',
    description TEXT NOT NULL DEFAULT '',
    token TEXT,
    events_json TEXT NOT NULL,
    push_events_branch_filter TEXT,
    branch_filter_strategy TEXT NOT NULL DEFAULT 'wildcard',
    enable_ssl_verification INTEGER NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL
);
CREATE INDEX hooks_by_project ON hooks(project_id, id);
";

/// Brings the schema up to date.
pub(super) fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
    let current: i64 = conn.query_row("PRAGMA user_version", [], |row| row.get(0))?;
    let current = usize::try_from(current).unwrap_or(usize::MAX);
    if current > MIGRATIONS.len() {
        return Err(StoreError::TooNew {
            found: current,
            known: MIGRATIONS.len(),
        });
    }

    if current == MIGRATIONS.len() {
        return Ok(());
    }
    // One transaction for every missing step: a fresh file pays for one
    // commit (one fsync) instead of one per migration, which is most of
    // the start-up time, and a crash leaves the file at its old version.
    let tx = conn.transaction()?;
    for migration in &MIGRATIONS[current..] {
        migration(&tx)?;
    }
    tx.pragma_update(None, "user_version", MIGRATIONS.len() as i64)?;
    tx.commit()?;
    tracing::debug!(from = current, to = MIGRATIONS.len(), "migrated the schema");
    Ok(())
}

/// Version 1: the seed's tables, its presets and an untouched clock.
fn create_seed_tables(tx: &Transaction<'_>) -> Result<(), StoreError> {
    tx.execute_batch(SEED_TABLES)?;
    let mut insert = tx.prepare(
        "INSERT INTO scenarios
         (scenario_id, name, terminal_after_seconds, terminal_status, never_complete)
         VALUES (?1, ?2, ?3, 'success', ?4)",
    )?;
    for scenario in seed_presets() {
        insert.execute(params![
            scenario.scenario_id,
            scenario.name,
            scenario.terminal_after_seconds,
            scenario.never_complete,
        ])?;
    }
    tx.execute(
        "INSERT INTO clock (id, frozen_at, offset_ms) VALUES (1, NULL, 0)",
        [],
    )?;
    Ok(())
}

/// Version 2: GitLab's likeness and the presets from 1000 up.
fn add_gitlab_likeness(tx: &Transaction<'_>) -> Result<(), StoreError> {
    tx.execute_batch(GITLAB_LIKENESS)?;
    for scenario in lifelike_presets() {
        insert_scenario_row(tx, &scenario)?;
    }
    Ok(())
}

/// Version 3: the settling instant and status of every pipeline, computed
/// from the rows already there.
fn add_settlement(tx: &Transaction<'_>) -> Result<(), StoreError> {
    tx.execute_batch(SETTLEMENT)?;
    backfill_settlement(tx)
}

/// Version 4: see [`PARTIAL_SCENARIO_INDEX`].
fn index_named_scenarios_only(tx: &Transaction<'_>) -> Result<(), StoreError> {
    Ok(tx.execute_batch(PARTIAL_SCENARIO_INDEX)?)
}

/// Version 5: project hooks.
fn add_hooks(tx: &Transaction<'_>) -> Result<(), StoreError> {
    Ok(tx.execute_batch(HOOKS)?)
}

/// Writes the given presets and an untouched clock: the state of a fresh
/// database, as reset makes it.
pub(super) fn seed_defaults(conn: &Connection, scenarios: &[Scenario]) -> Result<(), StoreError> {
    for scenario in scenarios {
        insert_scenario_row(conn, scenario)?;
    }
    conn.execute(
        "INSERT OR IGNORE INTO clock (id, frozen_at, offset_ms) VALUES (1, NULL, 0)",
        [],
    )?;
    Ok(())
}
