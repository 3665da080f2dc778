//! SQL for the `projects` table: the projects known by path.

use rusqlite::{Row, params};

use crate::model::{MAX_PROJECT_ID, Project};

use super::{Store, StoreError};

impl Store {
    /// The project with this id: the registered one, else the implicit one
    /// every positive id stands for. Read from memory (see
    /// [`super::directory`]).
    pub fn project_by_id(&self, id: i64) -> Result<Project, StoreError> {
        let found = self.shared.directory.project(id);
        Ok(found.unwrap_or_else(|| Project::implicit(id)))
    }

    /// The project at this full path, registered the first time it is asked
    /// for with an id no pipeline, trigger token or rule has used yet;
    /// `None` when that id would pass [`MAX_PROJECT_ID`].
    pub fn project_by_path(&self, path: &str) -> Result<Option<Project>, StoreError> {
        if let Some(project) = self.shared.directory.project_at(path) {
            return Ok(Some(project));
        }
        if let Some(project) = implicit_path(path) {
            return Ok(Some(project));
        }

        // Looked up again under the writer, which every registration
        // holds: another request may have registered the path since.
        let conn = self.shared.writer.lock();
        if let Some(project) = self.shared.directory.project_at(path) {
            return Ok(Some(project));
        }
        let mut next = conn.prepare_cached(
            "SELECT MAX(COALESCE((SELECT MAX(id) FROM projects), 0),
                        COALESCE((SELECT MAX(project_id) FROM pipelines), 0),
                        COALESCE((SELECT MAX(project_id) FROM trigger_tokens), 0),
                        COALESCE((SELECT MAX(project_id) FROM rules), 0))",
        )?;
        let highest: i64 = next.query_row([], |row| row.get(0))?;
        if highest >= MAX_PROJECT_ID {
            return Ok(None);
        }
        let project = Project {
            id: highest + 1,
            path: path.to_owned(),
            default_branch: "main".into(),
        };
        write_project(&conn, &project)?;
        self.shared.directory.put_project(project.clone());
        Ok(Some(project))
    }

    /// Registers a project with a chosen id, replacing what that id or path
    /// stood for before.
    pub fn put_project(&self, project: &Project) -> Result<(), StoreError> {
        let conn = self.shared.writer.lock();
        let tx = conn.unchecked_transaction()?;
        tx.prepare_cached("DELETE FROM projects WHERE id = ?1 OR path = ?2")?
            .execute(params![project.id, project.path])?;
        write_project(&tx, project)?;
        tx.commit()?;
        self.shared.directory.put_project(project.clone());
        // Cached polls show the project each pipeline belongs to.
        self.shared.cache.invalidate();
        Ok(())
    }

    /// Every registered project, by id.
    pub fn projects(&self) -> Result<Vec<Project>, StoreError> {
        let conn = self.shared.reader.lock();
        let mut statement =
            conn.prepare_cached("SELECT id, path, default_branch FROM projects ORDER BY id")?;
        let rows = statement.query_map([], read_project)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}

/// The numbered project an unregistered `mock/project-<id>` path names, so
/// the path the mock prints for a numbered project leads back to it.
fn implicit_path(path: &str) -> Option<Project> {
    let id: i64 = path
        .strip_prefix("mock/project-")?
        .parse()
        .ok()
        .filter(|id| *id > 0)?;
    let project = Project::implicit(id);
    (project.path == path).then_some(project)
}

fn write_project(conn: &rusqlite::Connection, project: &Project) -> Result<(), StoreError> {
    conn.prepare_cached("INSERT INTO projects (id, path, default_branch) VALUES (?1, ?2, ?3)")?
        .execute(params![project.id, project.path, project.default_branch])?;
    Ok(())
}

pub(super) fn read_project(row: &Row<'_>) -> rusqlite::Result<Project> {
    Ok(Project {
        id: row.get(0)?,
        path: row.get(1)?,
        default_branch: row.get(2)?,
    })
}
