//! Writing new pipelines: a batch of them in as few statements as possible.
//!
//! [`super::commit`] hands over every trigger waiting at one moment. Each
//! `INSERT` statement into `pipelines`, an `AUTOINCREMENT` table, also
//! reads and rewrites its row of `sqlite_sequence` and pays SQLite's cost
//! of starting a statement; one statement of many rows pays both once.
//! So a batch takes its ids itself (the next free id onwards, exactly the
//! ids SQLite would have chosen) and goes in as multi-row statements of
//! [`CHUNKS`] sizes. A chunk that fails, as when a scenario it names was
//! deleted in between, is written again row by row, so that only the row
//! at fault is affected.

use std::collections::HashMap;
use std::sync::OnceLock;

use rusqlite::{CachedStatement, Connection, OptionalExtension, params};

use crate::json::{into_text, push_array_of};
use crate::lifecycle::{Phase, Run, at_creation};
use crate::model::{NewPipeline, Pipeline, Variable};
use crate::status::PipelineStatus;

use super::pipelines::Settled;
use super::{StoreError, is_foreign_key_failure, timestamp_text};

/// A new pipeline's columns, encoded ahead of taking the lock.
pub(super) struct EncodedPipeline {
    new: NewPipeline,
    first_status: PipelineStatus,
    variables: String,
    phases: String,
    created_at: String,
    settled: Settled,
}

impl EncodedPipeline {
    /// Variables are written once, as the typed list; the seed's map of
    /// env variables (`variables_json`) is left `NULL`, as it says nothing
    /// the list does not, and is read only from rows written before the
    /// list existed.
    pub fn new(new: NewPipeline) -> Self {
        let run = Run::new(new.timeline.clone(), new.created_at);
        Self {
            first_status: at_creation(&run).status,
            settled: Settled::of(&run),
            variables: variables_text(&new.variables),
            phases: phases_text(&new.timeline.phases),
            created_at: timestamp_text(new.created_at),
            new,
        }
    }

    /// The pipeline as stored, made of the row's own values (moved, not
    /// copied) and what the database chose.
    pub fn into_pipeline(self, written: Written) -> Pipeline {
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
    pub fn into_new(self) -> NewPipeline {
        self.new
    }

    /// Binds this row's columns as the `row`-th row of a statement made by
    /// [`insert_sql`]; `scenario_id` may differ from the one asked for.
    fn bind(
        &self,
        statement: &mut CachedStatement<'_>,
        row: usize,
        numbers: Written,
    ) -> rusqlite::Result<()> {
        let new = &self.new;
        let first = row * PARAMETERS_PER_ROW;
        let mut at = |offset: usize, value: &dyn rusqlite::ToSql| {
            statement.raw_bind_parameter(first + offset, value)
        };
        at(1, &numbers.id)?;
        at(2, &numbers.iid)?;
        at(3, &new.project_id)?;
        at(4, &new.git_ref)?;
        at(5, &new.sha)?;
        at(6, &new.source.as_str())?;
        at(7, &self.first_status)?;
        at(8, &self.variables)?;
        at(9, &numbers.scenario_id)?;
        at(10, &new.timeline.total_seconds())?;
        at(11, &new.timeline.terminal_status)?;
        at(12, &self.phases)?;
        at(13, &self.created_at)?;
        at(14, &self.settled.at_ms)?;
        at(15, &self.settled.status)
    }
}

/// The typed variables column: what serde_json writes for the list, by the
/// hot path's own writer (see [`crate::json`]).
fn variables_text(variables: &[Variable]) -> String {
    let mut out = Vec::with_capacity(64 * variables.len() + 2);
    push_array_of(&mut out, variables, |object, variable| {
        object.str("key", &variable.key);
        object.str("value", &variable.value);
        object.str("variable_type", variable.variable_type.as_str());
    });
    into_text(out)
}

/// The phases column, as serde_json writes the phases.
fn phases_text(phases: &[Phase]) -> String {
    let mut out = Vec::with_capacity(40 * phases.len() + 2);
    push_array_of(&mut out, phases, |object, phase| {
        object.str("status", phase.status.as_str());
        object.opt_int("seconds", phase.seconds);
    });
    into_text(out)
}

/// What the database holds for a pipeline it stored besides the row's own
/// values.
#[derive(Debug, Clone, Copy)]
pub(super) struct Written {
    id: i64,
    iid: i64,
    scenario_id: Option<i64>,
}

/// The row sizes of the multi-row statements, largest first: a batch is
/// cut greedily into them, so a batch of 28 is one statement of 16 and
/// three of 4. Each size is one prepared statement, kept by the
/// connection's cache.
const CHUNKS: [usize; 4] = [64, 16, 4, 1];

/// The values bound for each row; `updated_at` reuses `created_at`'s.
const PARAMETERS_PER_ROW: usize = 15;

/// Inserts every row inside the caller's transaction and says, row by
/// row, what was stored or why not; `Err` when the batch as a whole
/// failed, which the caller reports for every row.
pub(super) fn write_batch(
    conn: &Connection,
    rows: &[&EncodedPipeline],
    iids: &mut IidCounters,
) -> Result<Vec<Result<Written, StoreError>>, StoreError> {
    let numbers = number_rows(conn, rows, iids)?;

    let mut outcomes = Vec::with_capacity(rows.len());
    let mut start = 0;
    while start < rows.len() {
        let size = chunk_size(rows.len() - start);
        let chunk = start..start + size;
        match write_chunk(conn, &rows[chunk.clone()], &numbers[chunk.clone()]) {
            Ok(()) => outcomes.extend(numbers[chunk].iter().copied().map(Ok)),
            // Some failures (I/O, a full disk) make SQLite roll the whole
            // transaction back; written row by row, the rest would then
            // commit one by one outside it. The batch fails instead.
            Err(error) if conn.is_autocommit() => return Err(error),
            Err(error) => {
                tracing::debug!(%error, size, "a chunk of pipelines is written row by row");
                let pairs = rows[chunk.clone()].iter().zip(&numbers[chunk]);
                outcomes.extend(pairs.map(|(row, numbers)| write_alone(conn, row, *numbers)));
            }
        }
        start += size;
    }
    Ok(outcomes)
}

/// Each row's id and iid. Ids go on from the highest ever handed out, as
/// `AUTOINCREMENT` would (a deleted pipeline's id is never reused), and
/// the statements' own bookkeeping moves `sqlite_sequence` past them.
fn number_rows(
    conn: &Connection,
    rows: &[&EncodedPipeline],
    iids: &mut IidCounters,
) -> Result<Vec<Written>, StoreError> {
    let last_id: i64 = conn
        .prepare_cached(
            "SELECT max(
                 coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'pipelines'), 0),
                 coalesce((SELECT max(id) FROM pipelines), 0))",
        )?
        .query_row([], |row| row.get(0))?;

    let mut numbers = Vec::with_capacity(rows.len());
    for (offset, row) in (1..).zip(rows) {
        numbers.push(Written {
            id: last_id + offset,
            iid: iids.next(conn, row.new.project_id)?,
            scenario_id: row.new.scenario_id,
        });
    }
    Ok(numbers)
}

/// The largest of [`CHUNKS`] that `remaining` rows fill.
fn chunk_size(remaining: usize) -> usize {
    CHUNKS
        .into_iter()
        .find(|size| *size <= remaining)
        .unwrap_or(1)
}

fn write_chunk(
    conn: &Connection,
    rows: &[&EncodedPipeline],
    numbers: &[Written],
) -> Result<(), StoreError> {
    let mut statement = conn.prepare_cached(insert_sql(rows.len()))?;
    for (index, (row, numbers)) in rows.iter().zip(numbers).enumerate() {
        row.bind(&mut statement, index, *numbers)?;
    }
    statement.raw_execute()?;
    Ok(())
}

/// One row in a statement of its own. A scenario deleted since the caller
/// looked it up leaves the pipeline with no `scenario_id`, as if it had
/// been deleted just after.
fn write_alone(
    conn: &Connection,
    row: &EncodedPipeline,
    numbers: Written,
) -> Result<Written, StoreError> {
    match write_chunk(conn, &[row], &[numbers]) {
        Err(StoreError::Sqlite(error)) if is_foreign_key_failure(&error) => {
            let orphan = Written {
                scenario_id: None,
                ..numbers
            };
            write_chunk(conn, &[row], &[orphan]).map(|()| orphan)
        }
        written => written.map(|()| numbers),
    }
}

/// The `INSERT` of `rows` rows, for one of [`CHUNKS`]; built once per size.
fn insert_sql(rows: usize) -> &'static str {
    static TEXTS: OnceLock<Vec<String>> = OnceLock::new();
    let texts = TEXTS.get_or_init(|| CHUNKS.iter().map(|size| build_insert(*size)).collect());
    let index = CHUNKS.iter().position(|size| *size == rows);
    index.map_or_else(|| texts[CHUNKS.len() - 1].as_str(), |index| &texts[index])
}

fn build_insert(rows: usize) -> String {
    let values: Vec<String> = (0..rows)
        .map(|row| {
            let n = |offset: usize| format!("?{}", row * PARAMETERS_PER_ROW + offset);
            let mut columns: Vec<String> = (1..=13).map(n).collect();
            // updated_at starts equal to created_at.
            columns.push(n(13));
            columns.push(n(14));
            columns.push(n(15));
            format!("({})", columns.join(", "))
        })
        .collect();
    format!(
        "INSERT INTO pipelines (id, iid, project_id, ref, sha, source, status,
             variables_typed_json, scenario_id, terminal_after_seconds, terminal_status,
             phases_json, created_at, updated_at, settled_ms, settled_status)
         VALUES {}",
        values.join(", ")
    )
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

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use crate::model::VariableType;

    use super::super::json_text;
    use super::*;

    fn any_variable() -> impl Strategy<Value = Variable> {
        (any::<String>(), any::<String>(), any::<bool>()).prop_map(|(key, value, file)| Variable {
            key,
            value,
            variable_type: match file {
                true => VariableType::File,
                false => VariableType::EnvVar,
            },
        })
    }

    fn any_phase() -> impl Strategy<Value = Phase> {
        let status = prop::sample::select(PipelineStatus::ALL.to_vec());
        (status, any::<Option<i64>>()).prop_map(|(status, seconds)| Phase { status, seconds })
    }

    proptest! {
        #[test]
        fn the_columns_are_written_as_serde_json_writes_them(
            variables in prop::collection::vec(any_variable(), 0..5),
            phases in prop::collection::vec(any_phase(), 0..5),
        ) {
            prop_assert_eq!(variables_text(&variables), json_text(&variables).unwrap());
            prop_assert_eq!(phases_text(&phases), json_text(&phases).unwrap());
        }
    }
}
