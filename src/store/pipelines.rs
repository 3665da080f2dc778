//! SQL for the `pipelines` table.

use std::collections::BTreeMap;

use rusqlite::{Connection, OptionalExtension, Row, params};

use crate::lifecycle::{InitialStatus, Run, Timeline, settlement};
use crate::model::{NewPipeline, Pipeline, Project, Source, Variable, VariableType};

use crate::status::PipelineStatus;

use super::inserts::EncodedPipeline;
use super::{Store, StoreError, json_column};
use super::{timestamp_column, timestamp_text};

pub(super) const COLUMNS: &str = "id, iid, project_id, ref, sha, source, \
                       variables_json, variables_typed_json, \
                       scenario_id, terminal_after_seconds, terminal_status, phases_json, \
                       created_at, run_anchor, canceled_at, earlier_started_at";

/// The same columns without the variables, for listings that do not show
/// them: variables can be large, and a listing reads many rows.
pub(super) const SUMMARY_COLUMNS: &str = "id, iid, project_id, ref, sha, source, NULL, NULL, \
                               scenario_id, terminal_after_seconds, terminal_status, phases_json, \
                               created_at, run_anchor, canceled_at, earlier_started_at";

impl Store {
    /// Stores a new pipeline and returns it with its id and iid. The write
    /// is committed, and on disk, when this returns; it shares its
    /// transaction and fsync with every other insert waiting at that moment
    /// (see [`super::commit`]). The JSON columns are encoded by the caller's
    /// task, not by the thread that writes.
    ///
    /// `generation` is [`Store::generation`] as read before the caller read
    /// the clock; if a reset has happened since, nothing is written and
    /// `None` comes back, so the caller can read the clock again. A
    /// scenario deleted since the caller looked it up leaves the pipeline
    /// with no `scenario_id`, as if it had been deleted just after.
    pub async fn insert_pipeline(
        &self,
        new: NewPipeline,
        generation: u64,
    ) -> Result<Option<Pipeline>, StoreError> {
        Ok(self.try_insert_pipeline(new, generation).await?.ok())
    }

    /// [`Store::insert_pipeline`], handing the new pipeline back instead
    /// of `None` when a reset came in between, so that the caller can
    /// write it again without having kept a copy.
    pub async fn try_insert_pipeline(
        &self,
        new: NewPipeline,
        generation: u64,
    ) -> Result<Result<Pipeline, NewPipeline>, StoreError> {
        let row = EncodedPipeline::new(new);
        self.shared.committer.submit(row, generation).await
    }

    /// A pipeline with its project, the registered one or else the one its
    /// id stands for: all a poll by project id reads. Served from memory
    /// when it was read lately (see [`super::cache`]), else in one
    /// statement.
    pub fn pipeline_with_project(
        &self,
        id: i64,
    ) -> Result<Option<(Pipeline, Project)>, StoreError> {
        let epoch = match self.shared.cache.get(id) {
            Ok(entry) => return Ok(Some(entry)),
            Err(epoch) => epoch,
        };
        let found = {
            let conn = self.shared.reader.lock();
            read_with_project(&conn, id)?
        };
        if let Some(entry) = &found {
            self.shared.cache.keep(epoch, id, entry);
        }
        Ok(found)
    }

    /// The newest pipeline of a project for `git_ref`.
    pub fn latest_pipeline(
        &self,
        project_id: i64,
        git_ref: &str,
    ) -> Result<Option<Pipeline>, StoreError> {
        let conn = self.shared.reader.lock();
        let mut statement = conn.prepare_cached(&format!(
            "SELECT {COLUMNS} FROM pipelines WHERE project_id = ?1 AND ref = ?2
             ORDER BY id DESC LIMIT 1"
        ))?;
        Ok(statement
            .query_row(params![project_id, git_ref], read_pipeline)
            .optional()?)
    }

    /// Rewrites a pipeline's run through `change` under one lock: cancel and
    /// retry. `change` returns `None` to leave the pipeline as it is.
    /// `Ok(None)` when there is no such pipeline.
    pub fn update_run(
        &self,
        id: i64,
        change: impl FnOnce(&Pipeline) -> Option<Run>,
    ) -> Result<Option<Pipeline>, StoreError> {
        let conn = self.shared.writer.lock();
        let Some(mut pipeline) = find_pipeline(&conn, id)? else {
            return Ok(None);
        };
        let Some(run) = change(&pipeline) else {
            return Ok(Some(pipeline));
        };

        let settled = Settled::of(&run);
        let mut statement = conn.prepare_cached(
            "UPDATE pipelines SET run_anchor = ?2, canceled_at = ?3, earlier_started_at = ?4,
                 settled_ms = ?5, settled_status = ?6
             WHERE id = ?1",
        )?;
        statement.execute(params![
            id,
            timestamp_text(run.anchor),
            run.canceled_at.map(timestamp_text),
            run.earlier_started_at.map(timestamp_text),
            settled.at_ms,
            settled.status,
        ])?;
        self.shared.cache.invalidate();
        pipeline.run = run;
        Ok(Some(pipeline))
    }

    /// Removes a pipeline; `false` when there was none.
    pub fn delete_pipeline(&self, id: i64) -> Result<bool, StoreError> {
        let conn = self.shared.writer.lock();
        let mut statement = conn.prepare_cached("DELETE FROM pipelines WHERE id = ?1")?;
        let deleted = statement.execute(params![id])? > 0;
        self.shared.cache.invalidate();
        Ok(deleted)
    }
}

/// The columns that say where a run comes to rest.
pub(super) struct Settled {
    /// The settling instant in milliseconds since the epoch, which SQLite
    /// compares and sorts as a number.
    pub at_ms: i64,
    pub status: PipelineStatus,
}

impl Settled {
    pub fn of(run: &Run) -> Self {
        let settled = settlement(run);
        Self {
            at_ms: settled.updated_at.as_millisecond(),
            status: settled.status,
        }
    }
}

fn read_with_project(
    conn: &Connection,
    id: i64,
) -> Result<Option<(Pipeline, Project)>, StoreError> {
    let mut statement = conn.prepare_cached(&format!(
        "SELECT {COLUMNS},
             (SELECT path FROM projects WHERE projects.id = pipelines.project_id),
             (SELECT default_branch FROM projects WHERE projects.id = pipelines.project_id)
         FROM pipelines WHERE id = ?1"
    ))?;
    let found = statement.query_row(params![id], |row| {
        let pipeline = read_pipeline(row)?;
        let project = match row.get::<_, Option<String>>(16)? {
            Some(path) => Project {
                id: pipeline.project_id,
                path,
                default_branch: row.get(17)?,
            },
            None => Project::implicit(pipeline.project_id),
        };
        Ok((pipeline, project))
    });
    Ok(found.optional()?)
}

/// Fills the settlement columns of every stored pipeline: the migration
/// that adds them, on a database written before they existed.
pub(super) fn backfill_settlement(conn: &Connection) -> Result<(), StoreError> {
    let mut select = conn.prepare(&format!("SELECT {SUMMARY_COLUMNS} FROM pipelines"))?;
    let pipelines = select
        .query_map([], read_pipeline)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let mut update =
        conn.prepare("UPDATE pipelines SET settled_ms = ?2, settled_status = ?3 WHERE id = ?1")?;
    for pipeline in pipelines {
        let settled = Settled::of(&pipeline.run);
        update.execute(params![pipeline.id, settled.at_ms, settled.status])?;
    }
    Ok(())
}

fn find_pipeline(conn: &Connection, id: i64) -> Result<Option<Pipeline>, StoreError> {
    let mut statement =
        conn.prepare_cached(&format!("SELECT {COLUMNS} FROM pipelines WHERE id = ?1"))?;
    Ok(statement.query_row(params![id], read_pipeline).optional()?)
}

pub(super) fn read_pipeline(row: &Row<'_>) -> rusqlite::Result<Pipeline> {
    let source: String = row.get(5)?;
    let created_at = timestamp_column(row, 12)?
        .ok_or_else(|| super::conversion(12, rusqlite::types::FromSqlError::InvalidType))?;
    let run = Run {
        timeline: read_timeline(row)?,
        created_at,
        anchor: timestamp_column(row, 13)?.unwrap_or(created_at),
        canceled_at: timestamp_column(row, 14)?,
        earlier_started_at: timestamp_column(row, 15)?,
    };

    Ok(Pipeline {
        id: row.get(0)?,
        iid: row.get(1)?,
        project_id: row.get(2)?,
        git_ref: row.get(3)?,
        sha: row.get(4)?,
        source: Source::parse(&source).unwrap_or(Source::Trigger),
        variables: read_variables(row)?,
        scenario_id: row.get(8)?,
        run,
    })
}

/// Rows written before phases existed hold the seed's shape.
fn read_timeline(row: &Row<'_>) -> rusqlite::Result<Timeline> {
    let terminal_status = row.get(10)?;
    match json_column(row, 11)? {
        Some(phases) => Ok(Timeline {
            phases,
            terminal_status,
        }),
        None => Ok(Timeline::seed(
            row.get(9)?,
            terminal_status,
            InitialStatus::Running,
        )),
    }
}

/// Rows written before typed variables existed hold only the seed's map.
fn read_variables(row: &Row<'_>) -> rusqlite::Result<Vec<Variable>> {
    if let Some(typed) = json_column::<Vec<Variable>>(row, 7)? {
        return Ok(typed);
    }
    let map: BTreeMap<String, String> = json_column(row, 6)?.unwrap_or_default();
    Ok(map
        .into_iter()
        .map(|(key, value)| Variable {
            key,
            value,
            variable_type: VariableType::EnvVar,
        })
        .collect())
}
