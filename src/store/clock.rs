//! SQL for the single-row `clock` table, so a restart finds the clock as
//! it was left: frozen at the same instant, or running with the same offset.

use jiff::SignedDuration;
use rusqlite::{OptionalExtension, params};

use crate::clock::ClockState;

use super::{Store, StoreError, parse_timestamp, timestamp_text};

impl Store {
    /// The saved clock state; `None` if none was ever saved.
    pub fn clock_state(&self) -> Result<Option<ClockState>, StoreError> {
        let conn = self.shared.reader.lock();
        let row = conn
            .query_row(
                "SELECT frozen_at, offset_ms FROM clock WHERE id = 1",
                [],
                |row| Ok((row.get::<_, Option<String>>(0)?, row.get::<_, i64>(1)?)),
            )
            .optional()?;

        let Some((frozen_at, offset_ms)) = row else {
            return Ok(None);
        };
        let state = match frozen_at {
            Some(text) => ClockState::Frozen {
                at: parse_timestamp(&text).map_err(|e| StoreError::Corrupt(e.to_string()))?,
            },
            None => ClockState::Running {
                offset: SignedDuration::from_millis(offset_ms),
            },
        };
        Ok(Some(state))
    }

    /// Saves the clock state, replacing the previous one.
    pub fn save_clock_state(&self, state: ClockState) -> Result<(), StoreError> {
        let (frozen_at, offset_ms) = match state {
            ClockState::Frozen { at } => (Some(timestamp_text(at)), 0),
            ClockState::Running { offset } => (None, offset.as_millis() as i64),
        };
        let conn = self.shared.writer.lock();
        conn.prepare_cached(
            "INSERT INTO clock (id, frozen_at, offset_ms) VALUES (1, ?1, ?2)
             ON CONFLICT(id) DO UPDATE SET frozen_at = ?1, offset_ms = ?2",
        )?
        .execute(params![frozen_at, offset_ms])?;
        Ok(())
    }
}
