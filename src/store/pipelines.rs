//! SQL for the `pipelines` table.

use std::collections::BTreeMap;

use rusqlite::types::FromSqlError;
use rusqlite::{OptionalExtension, Row, params};

use crate::lifecycle::{Behaviour, observe};
use crate::model::{NewPipeline, Pipeline};

use super::{Store, StoreError, parse_timestamp, timestamp_text};

const COLUMNS: &str = "id, project_id, ref, sha, variables_json, scenario_id, \
                       terminal_after_seconds, terminal_status, created_at";

/// Which pipelines a listing wants, one page at a time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PipelineQuery {
    pub project_id: Option<i64>,
    /// 1-based page number.
    pub page: u32,
    pub per_page: u32,
}

/// One page of a listing and the size of the whole.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub total: u64,
}

impl Store {
    /// Stores a new pipeline and returns it with its id. The transaction is
    /// committed (and, with `synchronous = FULL`, on disk) when this returns.
    pub fn insert_pipeline(&self, new: NewPipeline) -> Result<Pipeline, StoreError> {
        let variables = serde_json::to_string(&new.variables)
            .map_err(|error| StoreError::Corrupt(error.to_string()))?;
        let created_at = timestamp_text(new.created_at);
        let initial = observe(&new.behaviour, new.created_at, new.created_at);

        let conn = self.conn.lock();
        let mut statement = conn.prepare_cached(
            "INSERT INTO pipelines (project_id, ref, sha, status, variables_json, scenario_id,
                 terminal_after_seconds, terminal_status, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9)",
        )?;
        statement.execute(params![
            new.project_id,
            new.git_ref,
            new.sha,
            initial.status,
            variables,
            new.scenario_id,
            new.behaviour.terminal_after_seconds,
            new.behaviour.terminal_status,
            created_at,
        ])?;
        let id = conn.last_insert_rowid();

        Ok(Pipeline {
            id,
            project_id: new.project_id,
            git_ref: new.git_ref,
            sha: new.sha,
            variables: new.variables,
            scenario_id: new.scenario_id,
            behaviour: new.behaviour,
            created_at: new.created_at,
        })
    }

    /// One pipeline by id, whatever its project.
    pub fn pipeline(&self, id: i64) -> Result<Option<Pipeline>, StoreError> {
        let conn = self.conn.lock();
        let mut statement =
            conn.prepare_cached(&format!("SELECT {COLUMNS} FROM pipelines WHERE id = ?1"))?;
        Ok(statement.query_row(params![id], read_pipeline).optional()?)
    }

    /// A page of pipelines, newest first, with the count of all that match.
    pub fn pipelines(&self, query: &PipelineQuery) -> Result<Page<Pipeline>, StoreError> {
        let offset = i64::from(query.page.saturating_sub(1)) * i64::from(query.per_page);
        let conn = self.conn.lock();

        let mut count = conn
            .prepare_cached("SELECT COUNT(*) FROM pipelines WHERE ?1 IS NULL OR project_id = ?1")?;
        let total: i64 = count.query_row(params![query.project_id], |row| row.get(0))?;

        let mut select = conn.prepare_cached(&format!(
            "SELECT {COLUMNS} FROM pipelines WHERE ?1 IS NULL OR project_id = ?1
             ORDER BY id DESC LIMIT ?2 OFFSET ?3"
        ))?;
        let rows = select.query_map(
            params![query.project_id, query.per_page, offset],
            read_pipeline,
        )?;
        let items = rows.collect::<rusqlite::Result<_>>()?;
        Ok(Page {
            items,
            total: total.unsigned_abs(),
        })
    }

    /// Removes a pipeline; `false` when there was none.
    pub fn delete_pipeline(&self, id: i64) -> Result<bool, StoreError> {
        let conn = self.conn.lock();
        let mut statement = conn.prepare_cached("DELETE FROM pipelines WHERE id = ?1")?;
        Ok(statement.execute(params![id])? > 0)
    }
}

fn read_pipeline(row: &Row<'_>) -> rusqlite::Result<Pipeline> {
    let variables: Option<String> = row.get(4)?;
    let created_at: String = row.get(8)?;
    Ok(Pipeline {
        id: row.get(0)?,
        project_id: row.get(1)?,
        git_ref: row.get(2)?,
        sha: row.get(3)?,
        variables: parse_variables(variables.as_deref(), 4)?,
        scenario_id: row.get(5)?,
        behaviour: Behaviour {
            terminal_after_seconds: row.get(6)?,
            terminal_status: row.get(7)?,
        },
        created_at: parse_timestamp(&created_at).map_err(|error| conversion(8, error))?,
    })
}

fn parse_variables(
    text: Option<&str>,
    column: usize,
) -> rusqlite::Result<BTreeMap<String, String>> {
    let Some(text) = text else {
        return Ok(BTreeMap::new());
    };
    serde_json::from_str(text)
        .map_err(|error| conversion(column, FromSqlError::Other(Box::new(error))))
}

fn conversion(column: usize, error: FromSqlError) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(column, rusqlite::types::Type::Text, Box::new(error))
}
