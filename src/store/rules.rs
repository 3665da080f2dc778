//! SQL for the `rules` table.

use rusqlite::{Row, params};

use crate::model::{Rule, RuleMatch, Variable};

use super::{Store, StoreError, is_foreign_key_failure, json_column, json_text};

const COLUMNS: &str = "id, project_id, ref, token, variables_json, scenario_id, times, used";

impl Store {
    /// Stores a new rule and returns it with its id; `None` when the
    /// scenario does not exist (or was just deleted).
    pub fn insert_rule(
        &self,
        matching: RuleMatch,
        scenario_id: i64,
        times: Option<i64>,
    ) -> Result<Option<Rule>, StoreError> {
        let conn = self.shared.writer.lock();
        let mut statement = conn.prepare_cached(
            "INSERT INTO rules (project_id, ref, token, variables_json, scenario_id, times)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )?;
        let written = statement.execute(params![
            matching.project_id,
            matching.git_ref,
            matching.token,
            json_text(&matching.variables)?,
            scenario_id,
            times,
        ]);
        match written {
            Err(error) if is_foreign_key_failure(&error) => Ok(None),
            Err(error) => Err(error.into()),
            Ok(_) => {
                let id = conn.last_insert_rowid();
                Ok(Some(Rule {
                    id,
                    matching,
                    scenario_id,
                    times,
                    used: 0,
                }))
            }
        }
    }

    /// Every rule, in the order they are tried.
    pub fn rules(&self) -> Result<Vec<Rule>, StoreError> {
        let conn = self.shared.reader.lock();
        let mut statement =
            conn.prepare_cached(&format!("SELECT {COLUMNS} FROM rules ORDER BY id"))?;
        let rows = statement.query_map([], read_rule)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Removes a rule; `false` when there was none.
    pub fn delete_rule(&self, id: i64) -> Result<bool, StoreError> {
        let conn = self.shared.writer.lock();
        Ok(conn
            .prepare_cached("DELETE FROM rules WHERE id = ?1")?
            .execute(params![id])?
            > 0)
    }

    /// Takes one use of the first rule, in id order, that still has uses
    /// and matches the trigger; the check and the count happen under one
    /// lock so a `times: 1` rule serves exactly one trigger.
    pub fn claim_rule(
        &self,
        project_id: i64,
        git_ref: &str,
        token: &str,
        variables: &[Variable],
    ) -> Result<Option<Rule>, StoreError> {
        let conn = self.shared.writer.lock();
        let mut select = conn.prepare_cached(&format!(
            "SELECT {COLUMNS} FROM rules WHERE times IS NULL OR used < times ORDER BY id"
        ))?;
        let rules = select
            .query_map([], read_rule)?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        let Some(mut rule) = rules
            .into_iter()
            .find(|rule| rule.matching.matches(project_id, git_ref, token, variables))
        else {
            return Ok(None);
        };

        conn.prepare_cached("UPDATE rules SET used = used + 1 WHERE id = ?1")?
            .execute(params![rule.id])?;
        rule.used += 1;
        Ok(Some(rule))
    }
}

fn read_rule(row: &Row<'_>) -> rusqlite::Result<Rule> {
    Ok(Rule {
        id: row.get(0)?,
        matching: RuleMatch {
            project_id: row.get(1)?,
            git_ref: row.get(2)?,
            token: row.get(3)?,
            variables: json_column(row, 4)?.unwrap_or_default(),
        },
        scenario_id: row.get(5)?,
        times: row.get(6)?,
        used: row.get(7)?,
    })
}
