//! SQL for the `trigger_tokens` table.

use rusqlite::{OptionalExtension, Row, params};

use crate::model::TriggerToken;

use super::{Store, StoreError, timestamp_column, timestamp_text};

/// A trigger token as seen from one project.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TriggerAccess {
    /// The project the token belongs to, if it is anyone's.
    pub token_project: Option<i64>,
    /// Whether the project asked about has any trigger token.
    pub project_has_tokens: bool,
}

const COLUMNS: &str = "id, project_id, token, description, created_at";

impl Store {
    /// Stores a new trigger token; `None` if the token string is taken.
    pub fn insert_trigger_token(
        &self,
        project_id: i64,
        token: &str,
        description: &str,
        created_at: jiff::Timestamp,
    ) -> Result<Option<TriggerToken>, StoreError> {
        let conn = self.shared.writer.lock();
        let mut statement = conn.prepare_cached(
            "INSERT OR IGNORE INTO trigger_tokens (project_id, token, description, created_at)
             VALUES (?1, ?2, ?3, ?4)",
        )?;
        if statement.execute(params![
            project_id,
            token,
            description,
            timestamp_text(created_at)
        ])? == 0
        {
            return Ok(None);
        }
        self.shared
            .directory
            .add_token(token.to_owned(), project_id);
        Ok(Some(TriggerToken {
            id: conn.last_insert_rowid(),
            project_id,
            token: token.to_owned(),
            description: description.to_owned(),
            created_at,
        }))
    }

    /// A project's trigger tokens, oldest first.
    pub fn trigger_tokens(&self, project_id: i64) -> Result<Vec<TriggerToken>, StoreError> {
        let conn = self.shared.reader.lock();
        let mut statement = conn.prepare_cached(&format!(
            "SELECT {COLUMNS} FROM trigger_tokens WHERE project_id = ?1 ORDER BY id"
        ))?;
        let rows = statement.query_map(params![project_id], read_token)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// What a trigger's `token` says about access to `project_id`: which
    /// project the token belongs to, if any, and whether the project has
    /// any token at all. Every trigger asks, so it is answered from memory
    /// (see [`super::directory`]).
    pub fn trigger_access(&self, project_id: i64, token: &str) -> TriggerAccess {
        self.shared.directory.access(project_id, token)
    }

    /// Removes a project's trigger token; `false` when it has none by that id.
    pub fn delete_trigger_token(&self, project_id: i64, id: i64) -> Result<bool, StoreError> {
        let conn = self.shared.writer.lock();
        // Read first, then deleted by `execute`, which reports a failed
        // commit; the token string is what the directory forgets.
        let token: Option<String> = conn
            .prepare_cached("SELECT token FROM trigger_tokens WHERE project_id = ?1 AND id = ?2")?
            .query_row(params![project_id, id], |row| row.get(0))
            .optional()?;
        let Some(token) = token else {
            return Ok(false);
        };
        conn.prepare_cached("DELETE FROM trigger_tokens WHERE id = ?1")?
            .execute(params![id])?;
        self.shared.directory.remove_token(&token);
        Ok(true)
    }
}

fn read_token(row: &Row<'_>) -> rusqlite::Result<TriggerToken> {
    Ok(TriggerToken {
        id: row.get(0)?,
        project_id: row.get(1)?,
        token: row.get(2)?,
        description: row.get(3)?,
        created_at: timestamp_column(row, 4)?.unwrap_or_default(),
    })
}
