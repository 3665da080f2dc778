//! Project hooks, and which pipeline events they are sent when.
//!
//! A pipeline changes status at instants fixed by its run (see
//! [`crate::lifecycle::transitions`]), so its events need no bookkeeping
//! per pipeline: the hub keeps one *cursor*, the instant up to which every
//! change of every pipeline in a project with pipeline hooks has been
//! queued, and queues the changes between the cursor and a later instant
//! whenever the clock gets there:
//!
//! - a clock change (freeze, advance, resume) queues up to the new instant
//!   before it answers, and waits for their first attempts;
//! - with the clock running, [`Mock::spawn_hook_scheduler`]'s task sleeps
//!   until the next change of a pipeline with hooks and queues up to then;
//! - a new pipeline queues its changes up to the cursor itself (with a
//!   frozen clock, its first status and any zero-length phases), and so do
//!   cancel (`canceling`, `canceled`) and retry (the new run's start).
//!
//! Queued changes are sorted by instant, then pipeline id. Moving the cursor
//! and changing a run must not interleave, or a change would be queued
//! twice or not at all; the hub's gate orders them. Triggers in projects
//! with pipeline hooks hold it shared, from their clock reading until their
//! events are queued, so they do not wait for each other; everything that
//! moves the cursor or rewrites a run holds it alone. A trigger in a
//! project without pipeline hooks never touches it.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use parking_lot::Mutex;
use tokio::sync::{RwLock, RwLockReadGuard, RwLockWriteGuard, watch};

use crate::clock::{Clock, ClockError, ClockState, VirtualClock};
use crate::lifecycle::{Observation, next_transition, transitions};
use crate::model::{Hook, HookChanges, Pipeline, Project};
use crate::status::PipelineStatus;
use crate::store::Store;
use crate::webhook::{Deliveries, DeliveryRecord, Event};

use super::{ClockReading, Missing, Mock, MockError, MockOptions, ObservedPipeline, ProjectRef};

/// GitLab's default limit of hooks per project; it also bounds the work
/// one pipeline event can make.
pub const MAX_HOOKS_PER_PROJECT: usize = 100;

/// The state pipeline events are made from, shared by every clone of a
/// [`Mock`].
#[derive(Debug)]
pub(super) struct HookHub {
    store: Store,
    clock: Arc<VirtualClock>,
    /// Orders cursor moves and run changes; see the module's doc.
    gate: RwLock<()>,
    /// Every change at or before this instant has been queued.
    cursor: Mutex<Timestamp>,
    deliveries: Deliveries,
    /// Wakes the scheduler; its task ends when this is dropped.
    wake: watch::Sender<()>,
}

/// How a run was changed by a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum RunChange {
    Cancel,
    Retry,
}

impl HookHub {
    pub fn new(store: Store, clock: Arc<VirtualClock>, options: &MockOptions) -> Self {
        let cursor = clock.now();
        Self {
            store,
            clock,
            gate: RwLock::new(()),
            cursor: Mutex::new(cursor),
            deliveries: Deliveries::new(options.hook_delivery, &options.public_url),
            wake: watch::Sender::new(()),
        }
    }

    fn wake(&self) {
        self.wake.send_replace(());
    }

    /// Queues every change after the cursor and up to `until`, in order,
    /// moves the cursor there, and answers the next change after it.
    /// The caller holds the gate alone.
    ///
    /// The moving pipelines are read without their variables, which can be
    /// large; only those with a change to send are read whole, with their
    /// project, by id.
    fn catch_up(&self, until: Timestamp) -> Option<Timestamp> {
        let mut cursor = self.cursor.lock();
        let from = (*cursor).min(until);
        let projects = self.store.pipeline_hook_projects();
        let moving = match self
            .store
            .moving_pipelines(&projects, from.as_millisecond())
        {
            Ok(moving) => moving,
            Err(error) => {
                // The cursor stays, so the next catch-up queues them.
                tracing::error!(%error, "cannot read the pipelines for pipeline events");
                return None;
            }
        };

        let mut changes: Vec<(Observation, i64)> = moving
            .iter()
            .flat_map(|pipeline| {
                let listed = transitions(&pipeline.run, Some(from), until);
                listed.into_iter().map(|seen| (seen, pipeline.id))
            })
            .collect();
        // Stable, so one pipeline's changes at one instant keep their order.
        changes.sort_by_key(|(seen, id)| (seen.updated_at, *id));
        let mut whole: HashMap<i64, Option<(Pipeline, Project)>> = HashMap::new();
        for (seen, id) in changes {
            let read = whole.entry(id).or_insert_with(|| self.read_whole(id));
            if let Some((pipeline, project)) = read {
                self.queue(pipeline, project.clone(), seen);
            }
        }

        *cursor = (*cursor).max(until);
        let after = *cursor;
        moving
            .iter()
            .filter_map(|pipeline| next_transition(&pipeline.run, after))
            .min()
    }

    /// A pipeline with its variables and project; `None`, logged, when it
    /// is gone or cannot be read.
    fn read_whole(&self, id: i64) -> Option<(Pipeline, Project)> {
        match self.store.pipeline_with_project(id) {
            Ok(found) => found,
            Err(error) => {
                tracing::error!(%error, pipeline = id, "cannot read a pipeline for its event");
                None
            }
        }
    }

    /// Queues one change for every hook of the project that wants it.
    fn queue(&self, pipeline: &Pipeline, project: Project, observation: Observation) {
        let hooks: Vec<Hook> = self
            .store
            .hooks(project.id)
            .iter()
            .filter(|hook| hook.pipeline_events())
            .cloned()
            .collect();
        if hooks.is_empty() {
            return;
        }
        let event = Event::new(ObservedPipeline {
            pipeline: pipeline.clone(),
            project,
            observation,
        });
        for hook in &hooks {
            self.deliveries.push(hook, &event);
        }
    }

    /// Queues the changes of a run just made or rewritten that are already
    /// due, for the cursor will not pass them again.
    fn queue_run(&self, pipeline: &Pipeline, project: &Project, made_by: Option<RunChange>) {
        let cursor = self.cursor.lock();
        let due = transitions(&pipeline.run, None, *cursor);
        let ending = |seen: &Observation| {
            matches!(
                seen.status,
                PipelineStatus::Canceling | PipelineStatus::Canceled
            )
        };
        for seen in due {
            if made_by == Some(RunChange::Cancel) && !ending(&seen) {
                continue;
            }
            self.queue(pipeline, project.clone(), seen);
        }
        drop(cursor);
        self.wake();
    }

    /// One round of the running clock's scheduler: queues what is due and
    /// says how long to sleep until the next change, or `None` to sleep
    /// until woken.
    async fn tick(&self) -> Option<Duration> {
        let _alone = self.gate.write().await;
        if self.clock.state().is_frozen() {
            return None;
        }
        let now = self.clock.now();
        let next = self.catch_up(now)?;
        let wait = next.duration_since(now).max(SignedDuration::from_millis(1));
        Some(Duration::try_from(wait).unwrap_or(Duration::from_secs(1)))
    }
}

impl Mock {
    /// Adds a hook to the project, up to [`MAX_HOOKS_PER_PROJECT`].
    pub fn create_hook(
        &self,
        reference: &ProjectRef,
        changes: HookChanges,
    ) -> Result<Hook, MockError> {
        let project = self.project(reference)?;
        check_url(changes.url.as_deref().unwrap_or_default())?;
        let hook = changes.new_hook(project.id, self.parts.clock.now());
        let Some(hook) = self.parts.store.insert_hook(&hook, MAX_HOOKS_PER_PROJECT)? else {
            return Err(MockError::Invalid(format!(
                "Maximum number of project hooks ({MAX_HOOKS_PER_PROJECT}) exceeded"
            )));
        };
        self.parts.hooks.wake();
        Ok(hook)
    }

    /// The project's hooks, oldest first.
    pub fn hooks(&self, reference: &ProjectRef) -> Result<Arc<[Hook]>, MockError> {
        let project = self.project(reference)?;
        Ok(self.parts.store.hooks(project.id))
    }

    /// One of the project's hooks.
    pub fn hook(&self, reference: &ProjectRef, id: i64) -> Result<Hook, MockError> {
        let hooks = self.hooks(reference)?;
        let found = hooks.iter().find(|hook| hook.id == id);
        found.cloned().ok_or(MockError::NotFound(Missing::Hook))
    }

    /// Changes the given fields of one of the project's hooks.
    pub fn update_hook(
        &self,
        reference: &ProjectRef,
        id: i64,
        changes: HookChanges,
    ) -> Result<Hook, MockError> {
        let project = self.project(reference)?;
        if let Some(url) = &changes.url {
            check_url(url)?;
        }
        let hook = self.parts.store.update_hook(project.id, id, changes)?;
        self.parts.hooks.wake();
        hook.ok_or(MockError::NotFound(Missing::Hook))
    }

    /// Removes one of the project's hooks. Events already queued for it
    /// are still sent.
    pub fn delete_hook(&self, reference: &ProjectRef, id: i64) -> Result<(), MockError> {
        let project = self.project(reference)?;
        match self.parts.store.delete_hook(project.id, id)? {
            true => Ok(()),
            false => Err(MockError::NotFound(Missing::Hook)),
        }
    }

    /// The log of delivery attempts, oldest first.
    pub fn hook_deliveries(
        &self,
        hook_id: Option<i64>,
        pipeline_id: Option<i64>,
    ) -> Vec<DeliveryRecord> {
        self.parts.hooks.deliveries.log(hook_id, pipeline_id)
    }

    /// Moves the clock to the next instant at which any pipeline changes
    /// status and queues the events up to there, like an advance; `None`,
    /// and the clock untouched, when no pipeline will change again.
    ///
    /// The instant is found under the gate that reset and every clock move
    /// hold alone: found before it, a reset could come in between and the
    /// clock would be moved, from the reset's system time, by the distance
    /// to an instant of pipelines that are gone.
    pub async fn advance_to_next_transition(&self) -> Result<Option<ClockReading>, MockError> {
        let alone = self.parts.hooks.gate.write().await;
        let now = self.parts.clock.now();
        let moving = self
            .parts
            .store
            .all_moving_pipelines(now.as_millisecond())?;
        let next = moving
            .iter()
            .filter_map(|pipeline| next_transition(&pipeline.run, now))
            .min();
        let Some(next) = next else {
            drop(alone);
            self.parts.hooks.deliveries.first_attempts().await;
            return Ok(None);
        };

        let to_next = |state: ClockState, source_now| {
            let step = next.duration_since(state.now(source_now));
            state.advance(step.max(SignedDuration::ZERO), source_now)
        };
        let reading = self.move_clock_alone(alone, to_next).await?;
        Ok(Some(reading))
    }

    /// Starts the task that sends pipeline events at their instants while
    /// the clock runs: it sleeps until the next change of a pipeline with
    /// hooks, and is woken early when pipelines, hooks or the clock
    /// change. It holds the mock weakly and ends once every other clone of
    /// it is gone. With the clock frozen it only waits: clock changes queue
    /// their own events. Call it once, from within a runtime.
    pub fn spawn_hook_scheduler(&self) -> tokio::task::JoinHandle<()> {
        let hub = Arc::downgrade(&self.parts.hooks);
        let mut woken = self.parts.hooks.wake.subscribe();
        tokio::spawn(async move {
            loop {
                let Some(strong) = hub.upgrade() else { break };
                let pause = strong.tick().await;
                drop(strong);
                let awake = match pause {
                    Some(pause) => tokio::select! {
                        changed = woken.changed() => changed.is_ok(),
                        () = tokio::time::sleep(pause) => true,
                    },
                    None => woken.changed().await.is_ok(),
                };
                if !awake {
                    break;
                }
            }
            tracing::debug!("hook scheduler stopped");
        })
    }

    /// Held by a trigger from before its clock reading until its events are
    /// queued, when its project has pipeline hooks. The project is asked
    /// once, before the trigger reads the clock: a trigger already on its
    /// way when its project's first hook is added may have its first
    /// events missed.
    pub(super) async fn hook_gate(&self, project_id: i64) -> Option<RwLockReadGuard<'_, ()>> {
        match self.parts.store.has_pipeline_hooks(project_id) {
            true => Some(self.parts.hooks.gate.read().await),
            false => None,
        }
    }

    /// Held by a cancel or retry, which rewrites a run, when its project
    /// has pipeline hooks.
    pub(super) async fn hook_gate_alone(
        &self,
        project_id: i64,
    ) -> Option<RwLockWriteGuard<'_, ()>> {
        match self.parts.store.has_pipeline_hooks(project_id) {
            true => Some(self.parts.hooks.gate.write().await),
            false => None,
        }
    }

    /// Queues the events of a pipeline just made.
    pub(super) fn pipeline_created(&self, pipeline: &Pipeline, project: &Project) {
        if self.parts.store.has_pipeline_hooks(project.id) {
            self.parts.hooks.queue_run(pipeline, project, None);
        }
    }

    /// Before a run is rewritten at `now`: queues what happened up to then.
    pub(super) fn before_run_change(&self, project_id: i64, now: Timestamp) {
        if self.parts.store.has_pipeline_hooks(project_id) {
            self.parts.hooks.catch_up(now);
        }
    }

    /// After a run was rewritten: queues what the new run did at once.
    pub(super) fn after_run_change(
        &self,
        pipeline: &Pipeline,
        project: &Project,
        made_by: RunChange,
    ) {
        if self.parts.store.has_pipeline_hooks(project.id) {
            self.parts.hooks.queue_run(pipeline, project, Some(made_by));
        }
    }

    /// Moves the clock, queues the events it crosses, and waits for the
    /// first attempt of every event queued so far.
    pub(super) async fn move_clock(
        &self,
        transition: impl FnOnce(ClockState, Timestamp) -> Result<ClockState, ClockError>,
    ) -> Result<ClockReading, MockError> {
        let alone = self.parts.hooks.gate.write().await;
        self.move_clock_alone(alone, transition).await
    }

    /// [`Mock::move_clock`] for a caller that took the gate itself, to
    /// decide the move under it.
    async fn move_clock_alone(
        &self,
        alone: RwLockWriteGuard<'_, ()>,
        transition: impl FnOnce(ClockState, Timestamp) -> Result<ClockState, ClockError>,
    ) -> Result<ClockReading, MockError> {
        let reading = self.change_clock(transition)?;
        self.parts.hooks.catch_up(reading.now);
        drop(alone);
        self.parts.hooks.wake();
        self.parts.hooks.deliveries.first_attempts().await;
        Ok(reading)
    }

    /// After a reset: no hooks, an empty log, and the cursor at the
    /// clock's new instant, which may be earlier than before.
    pub(super) fn hooks_reset(&self) {
        *self.parts.hooks.cursor.lock() = self.parts.clock.now();
        self.parts.hooks.deliveries.clear();
        self.parts.hooks.wake();
    }

    /// Drops every pipeline event not yet sent, for a namespace being
    /// deleted: its receivers must not go on getting its events, least of
    /// all after a new namespace of the same name has begun.
    pub fn stop_hook_deliveries(&self) {
        self.parts.hooks.deliveries.clear();
    }

    /// Held alone by reset.
    pub(super) async fn hook_gate_for_reset(&self) -> RwLockWriteGuard<'_, ()> {
        self.parts.hooks.gate.write().await
    }
}

/// GitLab refuses a hook whose URL is not an http or https URL with a host.
fn check_url(url: &str) -> Result<(), MockError> {
    let valid = reqwest::Url::parse(url).is_ok_and(|parsed| {
        matches!(parsed.scheme(), "http" | "https") && parsed.host_str().is_some()
    });
    match valid {
        true => Ok(()),
        false => Err(MockError::InvalidHookUrl),
    }
}
