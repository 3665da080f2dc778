//! SQL for the `pipelines` table.

use std::collections::{BTreeMap, HashMap};

use rusqlite::{Connection, OptionalExtension, Row, params};

use crate::lifecycle::{InitialStatus, Run, Timeline, at_creation, settlement};
use crate::model::{NewPipeline, Pipeline, Project, Source, Variable, VariableType};

use crate::status::PipelineStatus;

use super::{Store, StoreError, is_foreign_key_failure, json_column, json_text};
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
        let row = EncodedPipeline::new(new)?;
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

/// A new pipeline's columns, encoded ahead of taking the lock.
pub(super) struct EncodedPipeline {
    new: NewPipeline,
    first_status: PipelineStatus,
    variables: String,
    phases: String,
    created_at: String,
    settled: Settled,
}

/// The columns that say where a run comes to rest.
struct Settled {
    /// The settling instant in milliseconds since the epoch, which SQLite
    /// compares and sorts as a number.
    at_ms: i64,
    status: PipelineStatus,
}

impl Settled {
    fn of(run: &Run) -> Self {
        let settled = settlement(run);
        Self {
            at_ms: settled.updated_at.as_millisecond(),
            status: settled.status,
        }
    }
}

impl EncodedPipeline {
    /// Variables are written once, as the typed list; the seed's map of
    /// env variables (`variables_json`) is left `NULL`, as it says nothing
    /// the list does not, and is read only from rows written before the
    /// list existed.
    fn new(new: NewPipeline) -> Result<Self, StoreError> {
        let run = Run::new(new.timeline.clone(), new.created_at);
        Ok(Self {
            first_status: at_creation(&run).status,
            settled: Settled::of(&run),
            variables: json_text(&new.variables)?,
            phases: json_text(&new.timeline.phases)?,
            created_at: timestamp_text(new.created_at),
            new,
        })
    }

    fn write(
        &self,
        conn: &Connection,
        iid: i64,
        scenario_id: Option<i64>,
    ) -> Result<(), StoreError> {
        let new = &self.new;
        let mut statement = conn.prepare_cached(
            "INSERT INTO pipelines (iid, project_id, ref, sha, source, status,
                 variables_typed_json, scenario_id, terminal_after_seconds, terminal_status,
                 phases_json, created_at, updated_at, settled_ms, settled_status)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?12, ?13, ?14)",
        )?;
        statement.execute(params![
            iid,
            new.project_id,
            new.git_ref,
            new.sha,
            new.source.as_str(),
            self.first_status,
            self.variables,
            scenario_id,
            new.timeline.total_seconds(),
            new.timeline.terminal_status,
            self.phases,
            self.created_at,
            self.settled.at_ms,
            self.settled.status,
        ])?;
        Ok(())
    }
}

/// What the database chose for a pipeline it stored.
pub(super) struct Written {
    id: i64,
    iid: i64,
    scenario_id: Option<i64>,
}

/// Inserts one new pipeline inside the caller's transaction.
pub(super) fn write_pipeline(
    conn: &Connection,
    row: &EncodedPipeline,
    iids: &mut IidCounters,
) -> Result<Written, StoreError> {
    let new = &row.new;
    let iid = iids.next(conn, new.project_id)?;
    let scenario_id = match row.write(conn, iid, new.scenario_id) {
        Err(StoreError::Sqlite(error)) if is_foreign_key_failure(&error) => {
            row.write(conn, iid, None)?;
            None
        }
        written => written.map(|()| new.scenario_id)?,
    };
    Ok(Written {
        id: conn.last_insert_rowid(),
        iid,
        scenario_id,
    })
}

impl EncodedPipeline {
    /// The pipeline as stored, made of the row's own values (moved, not
    /// copied) and what the database chose.
    pub(super) fn into_pipeline(self, written: Written) -> Pipeline {
        let new = self.new;
        Pipeline {
            id: written.id,
            iid: written.iid,
            project_id: new.project_id,
            git_ref: new.git_ref,
            sha: new.sha,
            source: new.source,
            variables: new.variables,
            scenario_id: written.scenario_id,
            run: Run::new(new.timeline, new.created_at),
        }
    }

    /// The new pipeline this row was encoded from.
    pub(super) fn into_new(self) -> NewPipeline {
        self.new
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

/// The projects' pipeline numbers, counted in memory across one
/// transaction and written back once at its end, instead of one counter
/// update per pipeline. Numbers come from the `pipeline_iids` counters, not
/// from the pipelines present, so a deleted pipeline's number is never
/// reused, as in GitLab.
#[derive(Default)]
pub(super) struct IidCounters {
    last: HashMap<i64, i64>,
}

impl IidCounters {
    /// The project's next pipeline number.
    fn next(&mut self, conn: &Connection, project_id: i64) -> Result<i64, StoreError> {
        let last = match self.last.get_mut(&project_id) {
            Some(last) => last,
            None => {
                let stored = conn
                    .prepare_cached("SELECT last_iid FROM pipeline_iids WHERE project_id = ?1")?
                    .query_row(params![project_id], |row| row.get(0))
                    .optional()?
                    .unwrap_or(0);
                self.last.entry(project_id).or_insert(stored)
            }
        };
        *last += 1;
        Ok(*last)
    }

    /// Writes the counters back; part of the same transaction.
    pub fn save(&self, conn: &Connection) -> Result<(), StoreError> {
        let mut statement = conn.prepare_cached(
            "INSERT INTO pipeline_iids (project_id, last_iid) VALUES (?1, ?2)
             ON CONFLICT(project_id) DO UPDATE SET last_iid = ?2",
        )?;
        for (project_id, last) in &self.last {
            statement.execute(params![project_id, last])?;
        }
        Ok(())
    }
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
