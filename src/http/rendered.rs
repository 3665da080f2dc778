//! Pipeline entities already written, kept for the next read that would
//! write the same bytes.
//!
//! A client waiting for a pipeline asks for it again and again, and until
//! its status moves every answer is the same: writing the entity was about
//! a third of a poll's own work. The entity is a pure function of the
//! observed pipeline (the pipeline, its project and what the clock shows of
//! its run), the base URL and the entity's shape, so an answer kept with
//! exactly those inputs is handed out again only when all of them are equal.
//! Nothing has to be told when a pipeline changes: a changed pipeline, a
//! moved clock or another `Host` compares unequal and is written afresh.
//!
//! A pipeline is kept from its second read on. Keeping one costs a copy of
//! the body's handle, a map insert and, later, freeing it all; a client
//! reading each of a million stored pipelines once would pay that on every
//! read for nothing. A first read only notes the id.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use bytes::Bytes;
use parking_lot::Mutex;

use crate::mock::ObservedPipeline;
use crate::model::MAX_CACHED_VARIABLE_BYTES;

use super::handlers::BODY_CAPACITY;
use super::views::{Entity, write_pipeline};

/// How many pipelines are kept, and how many ids read once are noted. A
/// suite polls a handful at a time; past this many the memo starts over
/// rather than tracking which went cold. With [`MAX_CACHED_VARIABLE_BYTES`]
/// that bounds it to about 7 MiB.
const CAPACITY: usize = 1024;

/// The memo of one namespace's routes, keyed by pipeline id.
#[derive(Debug, Default)]
pub struct RenderedPipelines {
    memo: Mutex<Memo>,
}

#[derive(Debug, Default)]
struct Memo {
    kept: HashMap<i64, Rendered>,
    read_once: HashSet<i64>,
}

#[derive(Debug)]
struct Rendered {
    observed: ObservedPipeline,
    base_url: Arc<str>,
    entity: Entity,
    body: Bytes,
}

impl Rendered {
    fn answers(&self, observed: &ObservedPipeline, base_url: &str, entity: Entity) -> bool {
        self.entity == entity && *self.base_url == *base_url && self.observed == *observed
    }
}

impl RenderedPipelines {
    /// The entity's JSON: the kept bytes when the inputs are the same as
    /// last time, else freshly written, and kept if the pipeline was read
    /// before.
    pub fn entity(&self, observed: ObservedPipeline, base_url: &Arc<str>, entity: Entity) -> Bytes {
        let worth_keeping = {
            let mut memo = self.memo.lock();
            if let Some(kept) = memo.kept.get(&observed.pipeline.id)
                && kept.answers(&observed, base_url, entity)
            {
                return kept.body.clone();
            }
            memo.read_again(&observed)
        };

        let mut body = Vec::with_capacity(BODY_CAPACITY);
        write_pipeline(&mut body, &observed, base_url, entity);
        let body = Bytes::from(body);
        if worth_keeping {
            self.memo.lock().keep(Rendered {
                observed,
                base_url: Arc::clone(base_url),
                entity,
                body: body.clone(),
            });
        }
        body
    }
}

impl Memo {
    /// Whether a read that found nothing to reuse should keep what it
    /// writes: yes when the pipeline was read before and is small enough;
    /// a first read is noted instead.
    fn read_again(&mut self, observed: &ObservedPipeline) -> bool {
        let id = observed.pipeline.id;
        if observed.pipeline.variable_bytes() > MAX_CACHED_VARIABLE_BYTES {
            return false;
        }
        if self.kept.contains_key(&id) || self.read_once.remove(&id) {
            return true;
        }
        if self.read_once.len() >= CAPACITY {
            self.read_once.clear();
        }
        self.read_once.insert(id);
        false
    }

    fn keep(&mut self, rendered: Rendered) {
        let id = rendered.observed.pipeline.id;
        if self.kept.len() >= CAPACITY && !self.kept.contains_key(&id) {
            self.kept.clear();
        }
        self.kept.insert(id, rendered);
    }
}

#[cfg(test)]
mod tests {
    use jiff::{SignedDuration, Timestamp};
    use proptest::prelude::*;

    use crate::lifecycle::{InitialStatus, Run, Timeline, observe};
    use crate::model::{Pipeline, Project, Source, Variable, VariableType};
    use crate::status::PipelineStatus;

    use super::*;

    /// Pipeline `id` on ref `git_ref`, read `seconds` after it was created;
    /// it runs for 60 seconds, so later reads show another status.
    fn observed(id: i64, git_ref: &str, seconds: i64) -> ObservedPipeline {
        let created_at = Timestamp::from_second(1_800_000_000).unwrap();
        let timeline = Timeline::seed(Some(60), PipelineStatus::Success, InitialStatus::Running);
        let run = Run::new(timeline, created_at);
        let now = created_at
            .saturating_add(SignedDuration::from_secs(seconds))
            .unwrap();
        let pipeline = Pipeline {
            id,
            iid: id,
            project_id: 7,
            git_ref: git_ref.to_owned(),
            sha: "0".repeat(40),
            source: Source::Trigger,
            variables: Vec::new(),
            scenario_id: None,
            run,
        };
        let project = Project {
            id: 7,
            path: "group/app".into(),
            default_branch: "main".into(),
        };
        let observation = observe(&pipeline.run, now);
        ObservedPipeline {
            pipeline,
            project,
            observation,
        }
    }

    fn fresh(observed: &ObservedPipeline, base_url: &str, entity: Entity) -> Vec<u8> {
        let mut out = Vec::new();
        write_pipeline(&mut out, observed, base_url, entity);
        out
    }

    #[test]
    fn the_same_read_is_answered_with_the_bytes_kept() {
        let memo = RenderedPipelines::default();
        let base: Arc<str> = Arc::from("http://127.0.0.1:8000");
        let read = || memo.entity(observed(1, "main", 5), &base, Entity::WithMetadata);

        let (first, second, third) = (read(), read(), read());

        assert_ne!(first.as_ptr(), second.as_ptr(), "a first read kept");
        assert_eq!(second.as_ptr(), third.as_ptr(), "written a third time");
        let expected = fresh(&observed(1, "main", 5), &base, Entity::WithMetadata);
        assert_eq!(third, expected);
    }

    #[test]
    fn a_read_that_differs_in_anything_is_written_afresh() {
        let memo = RenderedPipelines::default();
        let base: Arc<str> = Arc::from("http://127.0.0.1:8000");
        let other_base: Arc<str> = Arc::from("http://localhost:9000/ns/a");
        for _ in 0..2 {
            memo.entity(observed(1, "main", 5), &base, Entity::WithMetadata);
        }
        assert_eq!(memo.memo.lock().kept.len(), 1);

        let finished = observed(1, "main", 90);
        assert_eq!(finished.observation.status, PipelineStatus::Success);
        let cases = [
            (finished, &base, Entity::WithMetadata),
            (observed(1, "release", 5), &base, Entity::WithMetadata),
            (observed(1, "main", 5), &other_base, Entity::WithMetadata),
            (observed(1, "main", 5), &base, Entity::Full),
        ];
        for (read, base_url, entity) in cases {
            let expected = fresh(&read, base_url, entity);
            assert_eq!(memo.entity(read, base_url, entity), expected);
        }
    }

    #[test]
    fn a_pipeline_with_large_variables_is_written_but_not_kept() {
        let memo = RenderedPipelines::default();
        let base: Arc<str> = Arc::from("http://h");
        let mut large = observed(1, "main", 5);
        large.pipeline.variables.push(Variable {
            key: "BIG".into(),
            value: "x".repeat(MAX_CACHED_VARIABLE_BYTES),
            variable_type: VariableType::EnvVar,
        });
        let expected = fresh(&large, &base, Entity::WithMetadata);

        for _ in 0..3 {
            let answer = memo.entity(large.clone(), &base, Entity::WithMetadata);
            assert_eq!(answer, expected);
        }
        assert!(memo.memo.lock().kept.is_empty());
    }

    #[test]
    fn past_its_capacity_the_memo_starts_over() {
        let memo = RenderedPipelines::default();
        let base: Arc<str> = Arc::from("http://h");
        let read_twice = |id| {
            for _ in 0..2 {
                memo.entity(observed(id, "main", 5), &base, Entity::WithMetadata);
            }
        };
        for id in 0..CAPACITY as i64 {
            read_twice(id);
        }
        assert_eq!(memo.memo.lock().kept.len(), CAPACITY);

        read_twice(-1);

        assert_eq!(memo.memo.lock().kept.len(), 1);
    }

    #[test]
    fn pipelines_read_once_are_only_noted_and_the_notes_are_bounded() {
        let memo = RenderedPipelines::default();
        let base: Arc<str> = Arc::from("http://h");

        for id in 0..=CAPACITY as i64 {
            memo.entity(observed(id, "main", 5), &base, Entity::WithMetadata);
        }

        let memo = memo.memo.lock();
        assert!(memo.kept.is_empty());
        assert_eq!(memo.read_once.len(), 1);
    }

    proptest! {
        /// Whatever order reads come in, each answer is what writing the
        /// entity afresh gives.
        #[test]
        fn every_answer_is_the_entity_written_afresh(
            reads in prop::collection::vec(
                (0..3_i64, prop::sample::select(vec!["main", "dev"]), 0..120_i64, any::<bool>()),
                1..40,
            ),
        ) {
            let memo = RenderedPipelines::default();
            let bases: [Arc<str>; 2] = [Arc::from("http://a"), Arc::from("http://b:1/ns/x")];
            for (id, git_ref, seconds, other_base) in reads {
                let base = &bases[usize::from(other_base)];
                let read = observed(id, git_ref, seconds);
                let expected = fresh(&read, base, Entity::WithMetadata);
                prop_assert_eq!(memo.entity(read, base, Entity::WithMetadata), expected);
            }
        }
    }
}
