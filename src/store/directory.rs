//! The registered projects and who owns each trigger token, mirrored in
//! memory so that a trigger runs no SQL before its insert.
//!
//! Every trigger asks which project its `:id` names and what its token
//! opens. Asked of SQLite, that was two read transactions per trigger, and
//! each one after a commit found the read connection's pages stale and its
//! memory map to be redone; together they were a tenth of a trigger's work
//! in the profile. Both tables change only through this process (one
//! process per file, see `lock`) and only by a few rare writes, so the
//! store keeps a full copy: loaded when the store opens, changed by each of
//! those writes under the writer lock right after its statement succeeds,
//! emptied by reset. The copy is whole, so a path or token missing from it
//! is missing from the file too.
//!
//! It holds what the trigger path reads about a project, and is the place
//! for anything else a trigger must know of one (such as whether it has
//! hooks). The tables are as large as what clients registered; an entry is
//! a few dozen bytes.

use std::collections::HashMap;

use parking_lot::RwLock;
use rusqlite::Connection;

use crate::model::Project;

use super::{StoreError, TriggerAccess};

#[derive(Default)]
pub(super) struct Directory {
    inner: RwLock<Entries>,
}

#[derive(Default)]
struct Entries {
    projects: HashMap<i64, Project>,
    ids_by_path: HashMap<String, i64>,
    token_owners: HashMap<String, i64>,
    /// How many trigger tokens each project has; absent means none.
    tokens_per_project: HashMap<i64, usize>,
}

impl Directory {
    /// Reads both tables; run once, when the store opens.
    pub fn load(conn: &Connection) -> Result<Self, StoreError> {
        let mut entries = Entries::default();
        let mut projects = conn.prepare("SELECT id, path, default_branch FROM projects")?;
        let rows = projects.query_map([], super::projects::read_project)?;
        for project in rows {
            entries.put_project(project?);
        }
        let mut tokens = conn.prepare("SELECT token, project_id FROM trigger_tokens")?;
        let rows = tokens.query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?;
        for token in rows {
            let (token, project_id) = token?;
            entries.add_token(token, project_id);
        }
        Ok(Self {
            inner: RwLock::new(entries),
        })
    }

    /// The registered project with this id.
    pub fn project(&self, id: i64) -> Option<Project> {
        self.inner.read().projects.get(&id).cloned()
    }

    /// The registered project at this path.
    pub fn project_at(&self, path: &str) -> Option<Project> {
        let inner = self.inner.read();
        let id = inner.ids_by_path.get(path)?;
        inner.projects.get(id).cloned()
    }

    /// What `token` says about access to `project_id`.
    pub fn access(&self, project_id: i64, token: &str) -> TriggerAccess {
        let inner = self.inner.read();
        TriggerAccess {
            token_project: inner.token_owners.get(token).copied(),
            project_has_tokens: inner.tokens_per_project.contains_key(&project_id),
        }
    }

    /// Records a project written over whatever its id or path stood for.
    pub fn put_project(&self, project: Project) {
        self.inner.write().put_project(project);
    }

    pub fn add_token(&self, token: String, project_id: i64) {
        self.inner.write().add_token(token, project_id);
    }

    pub fn remove_token(&self, token: &str) {
        self.inner.write().remove_token(token);
    }

    /// Forgets everything, as reset empties both tables.
    pub fn clear(&self) {
        *self.inner.write() = Entries::default();
    }
}

impl Entries {
    fn put_project(&mut self, project: Project) {
        if let Some(old) = self.projects.remove(&project.id) {
            self.ids_by_path.remove(&old.path);
        }
        if let Some(old_id) = self.ids_by_path.remove(&project.path) {
            self.projects.remove(&old_id);
        }
        self.ids_by_path.insert(project.path.clone(), project.id);
        self.projects.insert(project.id, project);
    }

    fn add_token(&mut self, token: String, project_id: i64) {
        self.token_owners.insert(token, project_id);
        *self.tokens_per_project.entry(project_id).or_default() += 1;
    }

    fn remove_token(&mut self, token: &str) {
        let Some(project_id) = self.token_owners.remove(token) else {
            return;
        };
        if let Some(count) = self.tokens_per_project.get_mut(&project_id) {
            *count -= 1;
            if *count == 0 {
                self.tokens_per_project.remove(&project_id);
            }
        }
    }
}
