//! The pipelines still moving after an instant: those whose run comes to
//! rest later (`settled_ms`, see [`crate::lifecycle::settlement`]). Only
//! they can change status from then on, so the hook scheduler and
//! `to_next_transition` read these and never the settled rest, through the
//! index on `(project_id, settled_ms)`.

use rusqlite::types::Value;
use rusqlite::{Connection, params_from_iter};

use crate::model::Pipeline;

use super::pipelines::{SUMMARY_COLUMNS, read_pipeline};
use super::{Store, StoreError};

impl Store {
    /// The pipelines of `projects` still moving after `after_ms`, without
    /// their variables, in id order: where pipeline events come from.
    pub fn moving_pipelines(
        &self,
        projects: &[i64],
        after_ms: i64,
    ) -> Result<Vec<Pipeline>, StoreError> {
        if projects.is_empty() {
            return Ok(Vec::new());
        }
        let marks = vec!["?"; projects.len()].join(", ");
        let sql = format!(
            "SELECT {SUMMARY_COLUMNS} FROM pipelines
             WHERE project_id IN ({marks}) AND settled_ms > ? ORDER BY id"
        );
        let values = projects
            .iter()
            .map(|project| Value::Integer(*project))
            .chain([Value::Integer(after_ms)]);
        let conn = self.shared.reader.lock();
        select(&conn, &sql, values)
    }

    /// Every project's pipelines still moving after `after_ms`, without
    /// their variables. Projects are taken from the pipeline counters, one
    /// row per project that ever had a pipeline, so each is one range of
    /// the index.
    pub fn all_moving_pipelines(&self, after_ms: i64) -> Result<Vec<Pipeline>, StoreError> {
        let sql = format!(
            "SELECT {SUMMARY_COLUMNS} FROM pipelines
             WHERE project_id IN (SELECT project_id FROM pipeline_iids) AND settled_ms > ?"
        );
        let conn = self.shared.reader.lock();
        select(&conn, &sql, [Value::Integer(after_ms)])
    }
}

fn select(
    conn: &Connection,
    sql: &str,
    values: impl IntoIterator<Item = Value>,
) -> Result<Vec<Pipeline>, StoreError> {
    let mut statement = conn.prepare_cached(sql)?;
    let rows = statement.query_map(params_from_iter(values), read_pipeline)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}
