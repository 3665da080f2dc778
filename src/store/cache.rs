//! The pipelines polls asked for lately, kept in memory so that a poll of a
//! pipeline that was read before runs no SQL.
//!
//! Polling clients ask for the same few pipelines over and over, and a
//! read through SQLite (a read transaction, with its shared-memory locks,
//! then decoding the row's JSON) was the largest part of a poll's own work
//! in the profile. A stored pipeline changes only through this process
//! (one process per file, see `lock`), so the store can keep copies and
//! drop them whenever it changes anything they show.
//!
//! Coherence: every write that can change a cached pipeline or its project
//! calls [`PipelineCache::invalidate`] after its commit, which empties the
//! cache and moves its epoch on. A reader that missed notes the epoch
//! before its SQL read and keeps what it read only if the epoch has not
//! moved since, so a row read just before a write commits is never kept.
//!
//! Two maps of [`GENERATION`] entries each bound the memory: when the newer
//! one fills, it becomes the older and the older one is dropped; a hit in
//! the older one moves the entry back to the newer. Recently polled
//! pipelines stay, whatever the store holds.

use std::collections::HashMap;

use parking_lot::Mutex;

use crate::model::{MAX_CACHED_VARIABLE_BYTES, Pipeline, Project};

/// Entries per generation; two generations at most, some 40 MiB, since no
/// entry holds more than [`MAX_CACHED_VARIABLE_BYTES`] of variables.
const GENERATION: usize = 4096;

/// A pipeline with its project, as a poll shows them.
pub(super) type Entry = (Pipeline, Project);

#[derive(Default)]
pub(super) struct PipelineCache {
    inner: Mutex<Generations>,
}

#[derive(Default)]
struct Generations {
    /// Moves on at every invalidation.
    epoch: u64,
    newer: HashMap<i64, Entry>,
    older: HashMap<i64, Entry>,
}

/// The cache's state when a lookup missed, to hand back to
/// [`PipelineCache::keep`].
pub(super) type Epoch = u64;

impl PipelineCache {
    /// The entry for `id`, or on a miss the epoch the reader must keep
    /// what it reads under.
    pub fn get(&self, id: i64) -> Result<Entry, Epoch> {
        let mut inner = self.inner.lock();
        if let Some(entry) = inner.newer.get(&id) {
            return Ok(entry.clone());
        }
        let entry = inner.older.remove(&id).ok_or(inner.epoch)?;
        inner.insert(id, entry.clone());
        Ok(entry)
    }

    /// Keeps what a reader read after missing at `epoch`, unless the store
    /// changed since.
    pub fn keep(&self, epoch: Epoch, id: i64, entry: &Entry) {
        if entry.0.variable_bytes() > MAX_CACHED_VARIABLE_BYTES {
            return;
        }
        let mut inner = self.inner.lock();
        if inner.epoch == epoch {
            inner.insert(id, entry.clone());
        }
    }

    /// Forgets everything; called after every write that can change what a
    /// cached entry shows.
    pub fn invalidate(&self) {
        let mut inner = self.inner.lock();
        inner.epoch += 1;
        inner.newer.clear();
        inner.older.clear();
    }
}

impl Generations {
    fn insert(&mut self, id: i64, entry: Entry) {
        if self.newer.len() >= GENERATION {
            self.older = std::mem::take(&mut self.newer);
        }
        self.newer.insert(id, entry);
    }
}

#[cfg(test)]
mod tests {
    use jiff::Timestamp;

    use crate::lifecycle::{InitialStatus, Run, Timeline};
    use crate::model::{Source, Variable, VariableType};
    use crate::status::PipelineStatus;

    use super::*;

    fn entry(id: i64, variable_bytes: usize) -> Entry {
        let timeline = Timeline::seed(Some(60), PipelineStatus::Success, InitialStatus::Running);
        let pipeline = Pipeline {
            id,
            iid: id,
            project_id: 1,
            git_ref: "main".into(),
            sha: "0".repeat(40),
            source: Source::Trigger,
            variables: vec![Variable {
                key: "K".into(),
                value: "v".repeat(variable_bytes - 1),
                variable_type: VariableType::EnvVar,
            }],
            scenario_id: None,
            run: Run::new(timeline, Timestamp::UNIX_EPOCH),
        };
        (pipeline, Project::implicit(1))
    }

    #[test]
    fn a_pipeline_read_is_kept_until_the_store_changes() {
        let cache = PipelineCache::default();
        let epoch = cache.get(1).unwrap_err();
        cache.keep(epoch, 1, &entry(1, 10));
        assert_eq!(cache.get(1).unwrap(), entry(1, 10));

        cache.invalidate();

        assert!(cache.get(1).is_err());
    }

    #[test]
    fn a_pipeline_with_more_variable_bytes_than_the_bound_is_not_kept() {
        let cache = PipelineCache::default();
        let epoch = cache.get(1).unwrap_err();
        cache.keep(epoch, 1, &entry(1, MAX_CACHED_VARIABLE_BYTES));
        cache.keep(epoch, 2, &entry(2, MAX_CACHED_VARIABLE_BYTES + 1));

        assert!(cache.get(1).is_ok());
        assert!(cache.get(2).is_err());
    }
}
