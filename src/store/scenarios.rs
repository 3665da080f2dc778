//! SQL for the `scenarios` table.

use rusqlite::types::FromSqlError;
use rusqlite::{Connection, OptionalExtension, Row, params};

use crate::lifecycle::Phase;
use crate::model::{Rejection, Scenario};

use super::{Store, StoreError, conversion, json_text};

const COLUMNS: &str = "scenario_id, name, terminal_after_seconds, terminal_status, \
                       never_complete, phases_json, reject";

impl Store {
    /// Every scenario, ordered by id.
    pub fn scenarios(&self) -> Result<Vec<Scenario>, StoreError> {
        let conn = self.shared.reader.lock();
        let mut statement = conn.prepare_cached(&format!(
            "SELECT {COLUMNS} FROM scenarios ORDER BY scenario_id"
        ))?;
        let rows = statement.query_map([], read_scenario)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// One scenario by id.
    pub fn scenario(&self, scenario_id: i64) -> Result<Option<Scenario>, StoreError> {
        let conn = self.shared.reader.lock();
        find_scenario(&conn, scenario_id)
    }

    /// Stores a new scenario; `false` when the id is already taken.
    pub fn insert_scenario(&self, scenario: &Scenario) -> Result<bool, StoreError> {
        let conn = self.shared.writer.lock();
        insert_scenario_row(&conn, scenario)
    }

    /// Rewrites a scenario through `change` under one lock, so two
    /// concurrent updates cannot interleave. `Ok(None)` when it does not
    /// exist; an error from `change` leaves the row untouched.
    pub fn update_scenario<E: From<StoreError>>(
        &self,
        scenario_id: i64,
        change: impl FnOnce(Scenario) -> Result<Scenario, E>,
    ) -> Result<Option<Scenario>, E> {
        let conn = self.shared.writer.lock();
        let Some(current) = find_scenario(&conn, scenario_id)? else {
            return Ok(None);
        };

        let updated = change(current)?;
        rewrite_scenario(&conn, &updated).map_err(E::from)?;
        Ok(Some(updated))
    }

    /// Removes a scenario; pipelines that used it keep their timeline.
    pub fn delete_scenario(&self, scenario_id: i64) -> Result<bool, StoreError> {
        let conn = self.shared.writer.lock();
        let mut statement = conn.prepare_cached("DELETE FROM scenarios WHERE scenario_id = ?1")?;
        let deleted = statement.execute(params![scenario_id])? > 0;
        // The foreign keys clear `scenario_id` on the pipelines that used it
        // and delete the rules that named it.
        self.shared.cache.invalidate();
        self.shared.rules_stored.recount(&conn)?;
        Ok(deleted)
    }
}

fn find_scenario(conn: &Connection, scenario_id: i64) -> Result<Option<Scenario>, StoreError> {
    let mut statement = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM scenarios WHERE scenario_id = ?1"
    ))?;
    Ok(statement
        .query_row(params![scenario_id], read_scenario)
        .optional()?)
}

/// Inserts unless the id exists; `true` when a row was written.
pub(super) fn insert_scenario_row(
    conn: &Connection,
    scenario: &Scenario,
) -> Result<bool, StoreError> {
    let sql =
        format!("INSERT OR IGNORE INTO scenarios ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
    write_scenario(conn, scenario, &sql)
}

/// Updates in place; a delete and insert would cascade to rules and
/// detach pipelines.
fn rewrite_scenario(conn: &Connection, scenario: &Scenario) -> Result<bool, StoreError> {
    let sql = "UPDATE scenarios SET name = ?2, terminal_after_seconds = ?3, terminal_status = ?4,
               never_complete = ?5, phases_json = ?6, reject = ?7 WHERE scenario_id = ?1";
    write_scenario(conn, scenario, sql)
}

fn write_scenario(conn: &Connection, scenario: &Scenario, sql: &str) -> Result<bool, StoreError> {
    let phases = scenario.phases.as_ref().map(json_text).transpose()?;
    let mut statement = conn.prepare_cached(sql)?;
    let written = statement.execute(params![
        scenario.scenario_id,
        scenario.name,
        scenario.terminal_after_seconds,
        scenario.terminal_status,
        scenario.never_complete,
        phases,
        scenario.reject.map(Rejection::as_str),
    ])?;
    Ok(written > 0)
}

fn read_scenario(row: &Row<'_>) -> rusqlite::Result<Scenario> {
    let phases: Option<String> = row.get(5)?;
    let reject: Option<String> = row.get(6)?;
    Ok(Scenario {
        scenario_id: row.get(0)?,
        name: row.get(1)?,
        terminal_after_seconds: row.get(2)?,
        terminal_status: row.get(3)?,
        never_complete: row.get(4)?,
        phases: phases
            .map(|text| serde_json::from_str::<Vec<Phase>>(&text))
            .transpose()
            .map_err(|error| conversion(5, FromSqlError::Other(Box::new(error))))?,
        reject: reject
            .map(|text| Rejection::parse(&text).ok_or(FromSqlError::InvalidType))
            .transpose()
            .map_err(|error| conversion(6, error))?,
    })
}
