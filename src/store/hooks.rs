//! SQL for the `hooks` table, and the copy of it kept in memory.
//!
//! Every trigger asks whether its project has a hook that wants pipeline
//! events, and triggers come in floods, so the answer must cost no SQL
//! read: the store keeps every hook in memory, loaded at start and
//! replaced under the writer's lock by each write, after its commit.
//! Hooks are few (a handful per project at most), so the copy is small.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use parking_lot::RwLock;
use rusqlite::types::Value;
use rusqlite::{Connection, Row, params, params_from_iter};

use crate::model::{Hook, HookChanges};

use super::{Store, StoreError, json_column, json_text, timestamp_column, timestamp_text};

const COLUMNS: &str = "id, project_id, url, name, description, token, events_json, \
                       push_events_branch_filter, branch_filter_strategy, \
                       enable_ssl_verification, created_at";

/// Every hook by project, oldest first.
#[derive(Default)]
pub(super) struct HookIndex {
    by_project: RwLock<HashMap<i64, Arc<[Hook]>>>,
}

impl HookIndex {
    /// Reads every stored hook.
    pub fn load(conn: &Connection) -> Result<Self, StoreError> {
        let mut statement = conn.prepare(&format!("SELECT {COLUMNS} FROM hooks ORDER BY id"))?;
        let hooks = statement
            .query_map([], read_hook)?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        let mut by_project: HashMap<i64, Vec<Hook>> = HashMap::new();
        for hook in hooks {
            by_project.entry(hook.project_id).or_default().push(hook);
        }
        let by_project = by_project
            .into_iter()
            .map(|(project, hooks)| (project, Arc::from(hooks)))
            .collect();
        Ok(Self {
            by_project: RwLock::new(by_project),
        })
    }

    pub fn clear(&self) {
        self.by_project.write().clear();
    }

    fn of(&self, project_id: i64) -> Arc<[Hook]> {
        self.by_project
            .read()
            .get(&project_id)
            .cloned()
            .unwrap_or_else(|| Arc::from(Vec::new()))
    }

    /// Replaces the project's hooks with what the table now holds.
    fn refresh(&self, conn: &Connection, project_id: i64) -> Result<(), StoreError> {
        let hooks = project_hooks(conn, project_id)?;
        let mut by_project = self.by_project.write();
        match hooks.is_empty() {
            true => by_project.remove(&project_id),
            false => by_project.insert(project_id, Arc::from(hooks)),
        };
        Ok(())
    }
}

impl Store {
    /// Stores a new hook and returns it with its id; `None`, storing
    /// nothing, when the project already has `limit` hooks.
    pub fn insert_hook(&self, hook: &Hook, limit: usize) -> Result<Option<Hook>, StoreError> {
        let conn = self.shared.writer.lock();
        // Counted under the writer's lock, so two creates at once cannot
        // both take the last place.
        if self.shared.hooks.of(hook.project_id).len() >= limit {
            return Ok(None);
        }
        let mut statement = conn.prepare_cached(&format!(
            "INSERT INTO hooks ({COLUMNS}) VALUES (NULL, ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"
        ))?;
        statement.execute(params_from_iter(values(hook)?))?;
        let stored = Hook {
            id: conn.last_insert_rowid(),
            ..hook.clone()
        };
        self.shared.hooks.refresh(&conn, hook.project_id)?;
        Ok(Some(stored))
    }

    /// Writes `changes` over one of the project's hooks; `None` when it has
    /// no hook by that id.
    pub fn update_hook(
        &self,
        project_id: i64,
        id: i64,
        changes: HookChanges,
    ) -> Result<Option<Hook>, StoreError> {
        let conn = self.shared.writer.lock();
        let Some(mut hook) = project_hooks(&conn, project_id)?
            .into_iter()
            .find(|hook| hook.id == id)
        else {
            return Ok(None);
        };
        changes.apply(&mut hook);

        let mut statement = conn.prepare_cached(
            "UPDATE hooks SET url = ?2, name = ?3, description = ?4, token = ?5,
                 events_json = ?6, push_events_branch_filter = ?7,
                 branch_filter_strategy = ?8, enable_ssl_verification = ?9, created_at = ?10
             WHERE project_id = ?1 AND id = ?11",
        )?;
        let mut values = values(&hook)?;
        values.push(Value::Integer(id));
        statement.execute(params_from_iter(values))?;
        self.shared.hooks.refresh(&conn, project_id)?;
        Ok(Some(hook))
    }

    /// Removes one of the project's hooks; `false` when it has none by
    /// that id.
    pub fn delete_hook(&self, project_id: i64, id: i64) -> Result<bool, StoreError> {
        let conn = self.shared.writer.lock();
        let mut statement =
            conn.prepare_cached("DELETE FROM hooks WHERE project_id = ?1 AND id = ?2")?;
        let deleted = statement.execute(params![project_id, id])? > 0;
        self.shared.hooks.refresh(&conn, project_id)?;
        Ok(deleted)
    }

    /// The project's hooks, oldest first, from memory.
    pub fn hooks(&self, project_id: i64) -> Arc<[Hook]> {
        self.shared.hooks.of(project_id)
    }

    /// Whether the project has a hook that wants pipeline events; from
    /// memory, for the trigger's sake.
    pub fn has_pipeline_hooks(&self, project_id: i64) -> bool {
        let by_project = self.shared.hooks.by_project.read();
        by_project
            .get(&project_id)
            .is_some_and(|hooks| hooks.iter().any(Hook::pipeline_events))
    }

    /// Every project with a hook that wants pipeline events, in id order.
    pub fn pipeline_hook_projects(&self) -> Vec<i64> {
        let by_project = self.shared.hooks.by_project.read();
        let mut projects: Vec<i64> = by_project
            .iter()
            .filter(|(_, hooks)| hooks.iter().any(Hook::pipeline_events))
            .map(|(project, _)| *project)
            .collect();
        projects.sort_unstable();
        projects
    }
}

/// The hook's columns after `id`, in [`COLUMNS`]' order.
fn values(hook: &Hook) -> Result<Vec<Value>, StoreError> {
    let text = |value: &Option<String>| value.clone().map_or(Value::Null, Value::Text);
    Ok(vec![
        Value::Integer(hook.project_id),
        Value::Text(hook.url.clone()),
        Value::Text(hook.name.clone()),
        Value::Text(hook.description.clone()),
        text(&hook.token),
        Value::Text(json_text(&hook.events)?),
        text(&hook.push_events_branch_filter),
        Value::Text(hook.branch_filter_strategy.clone()),
        Value::Integer(i64::from(hook.enable_ssl_verification)),
        Value::Text(timestamp_text(hook.created_at)),
    ])
}

fn project_hooks(conn: &Connection, project_id: i64) -> Result<Vec<Hook>, StoreError> {
    let mut statement = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM hooks WHERE project_id = ?1 ORDER BY id"
    ))?;
    let rows = statement.query_map(params![project_id], read_hook)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

fn read_hook(row: &Row<'_>) -> rusqlite::Result<Hook> {
    let events: BTreeMap<String, bool> = json_column(row, 6)?.unwrap_or_default();
    Ok(Hook {
        id: row.get(0)?,
        project_id: row.get(1)?,
        url: row.get(2)?,
        name: row.get(3)?,
        description: row.get(4)?,
        token: row.get(5)?,
        events,
        push_events_branch_filter: row.get(7)?,
        branch_filter_strategy: row.get(8)?,
        enable_ssl_verification: row.get(9)?,
        created_at: timestamp_column(row, 10)?.unwrap_or_default(),
    })
}
