//! SQL for the `rules` table, and the flag that lets a trigger skip it.
//!
//! Most suites define no rules, yet every trigger without mock controls
//! asks for one, under the writer's lock, which a group commit holds
//! through its fsync. [`RulesStored`] says without SQL whether the table
//! may hold any rule, so those triggers neither read it nor wait.

use std::sync::atomic::{AtomicBool, Ordering};

use rusqlite::{Connection, Row, params};

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
                self.shared.rules_stored.set(true);
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
        let deleted = conn
            .prepare_cached("DELETE FROM rules WHERE id = ?1")?
            .execute(params![id])?
            > 0;
        self.shared.rules_stored.recount(&conn)?;
        Ok(deleted)
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
        if !self.shared.rules_stored.get() {
            return Ok(None);
        }
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

/// Whether the `rules` table may hold a rule. It is set under the writer's
/// lock by every write that adds rules and recounted by every write that
/// removes them (a rule or scenario deleted, a reset), so it is never false
/// while a rule exists; a trigger that reads it false just before a rule is
/// stored is one that came before the rule.
#[derive(Debug, Default)]
pub(super) struct RulesStored(AtomicBool);

impl RulesStored {
    /// The flag for the rules `conn` holds.
    pub fn load(conn: &Connection) -> Result<Self, StoreError> {
        let stored = Self::default();
        stored.recount(conn)?;
        Ok(stored)
    }

    pub fn get(&self) -> bool {
        self.0.load(Ordering::Acquire)
    }

    fn set(&self, stored: bool) {
        self.0.store(stored, Ordering::Release);
    }

    /// Reads again whether any rule is left; the caller holds the writer.
    pub fn recount(&self, conn: &Connection) -> Result<(), StoreError> {
        let any: bool = conn
            .prepare_cached("SELECT EXISTS (SELECT 1 FROM rules)")?
            .query_row([], |row| row.get(0))?;
        self.set(any);
        Ok(())
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
