//! Reading and changing pipelines: get, list, latest, cancel, retry,
//! delete.

use crate::clock::Clock;

use jiff::Timestamp;

use crate::lifecycle::{Observation, Run, observe};
use crate::status::PipelineStatus;
use crate::store::{COUNT_LIMIT, Page, PipelineQuery, ProjectListing, SettledFilter, SortKey};

use crate::model::Pipeline;

use super::hooks::RunChange;
use super::{Missing, Mock, MockError, ObservedPipeline, ProjectRef};

/// The user every pipeline is attributed to; `username` filters match it.
pub const MOCK_USERNAME: &str = "mock-user";

/// GitLab's `scope` filter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    Running,
    Pending,
    Finished,
    Branches,
    Tags,
}

/// GitLab's `order_by`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OrderBy {
    #[default]
    Id,
    Status,
    Ref,
    UpdatedAt,
    UserId,
}

/// The filters, order and page of `GET /projects/:id/pipelines`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListFilter {
    pub scope: Option<Scope>,
    pub status: Option<PipelineStatus>,
    pub git_ref: Option<String>,
    pub sha: Option<String>,
    pub source: Option<String>,
    pub username: Option<String>,
    pub name: Option<String>,
    pub yaml_errors: Option<bool>,
    pub updated_before: Option<Timestamp>,
    pub updated_after: Option<Timestamp>,
    pub created_before: Option<Timestamp>,
    pub created_after: Option<Timestamp>,
    pub order_by: OrderBy,
    pub ascending: bool,
    pub page: u32,
    pub per_page: u32,
}

impl Default for ListFilter {
    fn default() -> Self {
        Self {
            scope: None,
            status: None,
            git_ref: None,
            sha: None,
            source: None,
            username: None,
            name: None,
            yaml_errors: None,
            updated_before: None,
            updated_after: None,
            created_before: None,
            created_after: None,
            order_by: OrderBy::Id,
            ascending: false,
            page: 1,
            per_page: 20,
        }
    }
}

impl Mock {
    /// A pipeline of the project as it is now.
    pub fn pipeline(&self, reference: &ProjectRef, id: i64) -> Result<ObservedPipeline, MockError> {
        // A numeric id needs no lookup of its own: the poll's one read (or
        // cache hit) brings the project with the pipeline.
        let project_id = match reference {
            ProjectRef::Id(project_id) => *project_id,
            ProjectRef::Path(_) => self.project(reference)?.id,
        };
        let (pipeline, project) = self
            .parts
            .store
            .pipeline_with_project(id)?
            .filter(|(pipeline, _)| pipeline.project_id == project_id)
            .ok_or(MockError::NotFound(Missing::Pipeline))?;
        Ok(self.observed(pipeline, project, self.parts.clock.now()))
    }

    /// The project's pipelines that pass `filter`, sorted and paged, each
    /// as it is now.
    ///
    /// The store filters and sorts by index whatever it can (see
    /// [`crate::store::ProjectListing`]). When the filter or the order
    /// depends on the clock, the pipelines that have settled come from the
    /// index too, and only those still moving at this instant are observed
    /// here and merged in: the work grows with the page's depth and with
    /// the number of the project's pipelines still changing status, not
    /// with how many are stored.
    pub fn list_pipelines(
        &self,
        reference: &ProjectRef,
        filter: &ListFilter,
    ) -> Result<Page<ObservedPipeline>, MockError> {
        let project = self.project(reference)?;
        let now = self.parts.clock.now();
        let Some(plan) = filter.plan(project.id, now) else {
            return Ok(Page::empty());
        };
        let per_page = u64::from(filter.per_page);
        let offset = u64::from(filter.page.saturating_sub(1)) * per_page;
        let observed = |pipeline| self.observed(pipeline, project.clone(), now);

        let Some(settled) = &plan.settled else {
            let found = self
                .parts
                .store
                .project_pipelines(&plan.listing, offset, per_page + 1)?;
            let more = found.pipelines.len() as u64 > per_page;
            let items = found.pipelines.into_iter().take(per_page as usize);
            return Ok(Page {
                items: items.map(observed).collect(),
                total: (found.count <= COUNT_LIMIT).then_some(found.count),
                more,
            });
        };

        // One snapshot for both parts, so a pipeline that settles between
        // two reads is neither lost nor listed twice (see the store).
        let keep = |pipeline: &Pipeline| filter.passes(pipeline, &observe(&pipeline.run, now));
        let parts =
            self.parts
                .store
                .project_listing(&plan.listing, settled, offset, per_page, keep)?;
        let count = parts.settled.count + parts.moving.len() as u64;
        let mut merged: Vec<ObservedPipeline> = parts.moving.into_iter().map(observed).collect();
        merged.extend(parts.settled.pipelines.into_iter().map(observed));
        filter.sort(&mut merged);

        let start = (offset - parts.skip) as usize;
        let more = merged.len() > start + per_page as usize;
        let items = merged.into_iter().skip(start).take(per_page as usize);
        Ok(Page {
            items: items.collect(),
            total: (count <= COUNT_LIMIT).then_some(count),
            more,
        })
    }

    /// The newest pipeline of the project for `git_ref`, or its default
    /// branch.
    pub fn latest_pipeline(
        &self,
        reference: &ProjectRef,
        git_ref: Option<&str>,
    ) -> Result<ObservedPipeline, MockError> {
        let project = self.project(reference)?;
        let git_ref = git_ref.unwrap_or(&project.default_branch);
        let pipeline = self
            .parts
            .store
            .latest_pipeline(project.id, git_ref)?
            .ok_or(MockError::NoLatest)?;
        Ok(self.observed(pipeline, project, self.parts.clock.now()))
    }

    /// Cancels a pipeline that can be canceled; any other comes back
    /// unchanged, as GitLab does.
    pub async fn cancel_pipeline(
        &self,
        reference: &ProjectRef,
        id: i64,
    ) -> Result<ObservedPipeline, MockError> {
        self.change_run(reference, id, RunChange::Cancel, |run, now| {
            let status = observe(run, now).status;
            status.is_cancelable().then(|| Run {
                canceled_at: Some(now),
                ..run.clone()
            })
        })
        .await
    }

    /// Runs a failed or canceled pipeline's timeline again from now; any
    /// other comes back unchanged. `started_at` keeps its first value.
    pub async fn retry_pipeline(
        &self,
        reference: &ProjectRef,
        id: i64,
    ) -> Result<ObservedPipeline, MockError> {
        self.change_run(reference, id, RunChange::Retry, |run, now| {
            let seen = observe(run, now);
            seen.status.is_retryable().then(|| Run {
                anchor: now,
                canceled_at: None,
                earlier_started_at: seen.started_at,
                ..run.clone()
            })
        })
        .await
    }

    async fn change_run(
        &self,
        reference: &ProjectRef,
        id: i64,
        kind: RunChange,
        change: impl FnOnce(&Run, Timestamp) -> Option<Run>,
    ) -> Result<ObservedPipeline, MockError> {
        let project = self.project(reference)?;
        let _alone = self.hook_gate_alone(project.id).await;
        let mut rewritten = false;
        // The instant is read and the change written under the clock's
        // lock, the order every clock change takes it in: no advance can
        // come between, so a pipeline a poll has seen finished is never
        // canceled or rerun as of an earlier instant. Clock reads wait for
        // the write; cancel and retry are rare.
        let mut changed = None;
        self.parts.clock.update(|state, source_now| {
            let now = state.now(source_now);
            self.before_run_change(project.id, now);
            let pipeline = self.parts.store.update_run(id, |pipeline| {
                match pipeline.project_id == project.id {
                    true => change(&pipeline.run, now).inspect(|_| rewritten = true),
                    false => None,
                }
            })?;
            changed = Some((pipeline, now));
            Ok::<_, MockError>(state)
        })?;
        let (pipeline, now) = changed.expect("the update ran");
        let pipeline = pipeline
            .filter(|pipeline| pipeline.project_id == project.id)
            .ok_or(MockError::NotFound(Missing::Pipeline))?;
        if rewritten {
            self.after_run_change(&pipeline, &project, kind);
        }
        Ok(self.observed(pipeline, project, now))
    }

    /// Deletes a pipeline of the project.
    pub fn delete_project_pipeline(
        &self,
        reference: &ProjectRef,
        id: i64,
    ) -> Result<(), MockError> {
        self.pipeline(reference, id)?;
        self.delete_pipeline(id)
    }

    /// A page of all pipelines, or one project's, newest first; for the
    /// control routes.
    pub fn pipelines(&self, query: &PipelineQuery) -> Result<Page<ObservedPipeline>, MockError> {
        let page = self.parts.store.pipelines(query)?;
        let now = self.parts.clock.now();
        let mut items = Vec::with_capacity(page.items.len());
        for pipeline in page.items {
            let project = self.parts.store.project_by_id(pipeline.project_id)?;
            items.push(self.observed(pipeline, project, now));
        }
        Ok(Page {
            items,
            total: page.total,
            more: page.more,
        })
    }

    /// Deletes a pipeline of any project.
    pub fn delete_pipeline(&self, id: i64) -> Result<(), MockError> {
        match self.parts.store.delete_pipeline(id)? {
            true => Ok(()),
            false => Err(MockError::NotFound(Missing::Pipeline)),
        }
    }
}

/// How the store is asked for a listing.
struct Plan {
    listing: ProjectListing,
    /// Present when the filter or the order depends on the clock: then the
    /// store serves the settled pipelines and the moving ones separately.
    settled: Option<SettledFilter>,
}

impl ListFilter {
    /// The store's part of the filter; `None` when nothing can match.
    fn plan(&self, project_id: i64, now: Timestamp) -> Option<Plan> {
        let matches_nothing = self.scope == Some(Scope::Tags)
            || self.name.is_some()
            || self.yaml_errors == Some(true)
            || self
                .username
                .as_deref()
                .is_some_and(|name| name != MOCK_USERNAME);
        if matches_nothing {
            return None;
        }

        let statuses = self.statuses();
        let by_clock = matches!(self.order_by, OrderBy::Status | OrderBy::UpdatedAt);
        let settled = (statuses.is_some()
            || by_clock
            || self.updated_before.is_some()
            || self.updated_after.is_some())
        .then(|| SettledFilter {
            now,
            statuses,
            updated_before: self.updated_before.map(ceil_millisecond),
            updated_after: self.updated_after,
        });
        let listing = ProjectListing {
            project_id,
            git_ref: self.git_ref.clone(),
            sha: self.sha.clone(),
            source: self.source.clone(),
            created_before: self.created_before.map(ceil_millisecond),
            created_after: self.created_after,
            newest_per_ref: self.scope == Some(Scope::Branches),
            order: match self.order_by {
                OrderBy::Id | OrderBy::UserId => SortKey::Id,
                OrderBy::Ref => SortKey::Ref,
                OrderBy::Status => SortKey::Status,
                OrderBy::UpdatedAt => SortKey::UpdatedAt,
            },
            ascending: self.ascending,
        };
        Some(Plan { listing, settled })
    }

    /// The statuses `scope` and `status` together allow; `None` for any.
    fn statuses(&self) -> Option<Vec<PipelineStatus>> {
        let scoped: Option<Vec<PipelineStatus>> = match self.scope {
            Some(Scope::Running) => Some(vec![PipelineStatus::Running]),
            Some(Scope::Pending) => Some(vec![PipelineStatus::Pending]),
            Some(Scope::Finished) => Some(
                PipelineStatus::ALL
                    .into_iter()
                    .filter(|status| status.stamps_finish())
                    .collect(),
            ),
            None | Some(Scope::Branches) | Some(Scope::Tags) => None,
        };
        match (scoped, self.status) {
            (None, status) => status.map(|status| vec![status]),
            (Some(scoped), None) => Some(scoped),
            (Some(scoped), Some(status)) => {
                Some(scoped.into_iter().filter(|s| *s == status).collect())
            }
        }
    }

    fn passes(&self, pipeline: &Pipeline, seen: &Observation) -> bool {
        let created_at = pipeline.created_at();
        let scope_ok = match self.scope {
            None | Some(Scope::Branches) => true,
            Some(Scope::Running) => seen.status == PipelineStatus::Running,
            Some(Scope::Pending) => seen.status == PipelineStatus::Pending,
            Some(Scope::Finished) => seen.status.stamps_finish(),
            Some(Scope::Tags) => false,
        };
        scope_ok
            && self.status.is_none_or(|status| status == seen.status)
            && self
                .git_ref
                .as_deref()
                .is_none_or(|wanted| wanted == pipeline.git_ref)
            && self
                .sha
                .as_deref()
                .is_none_or(|wanted| wanted == pipeline.sha)
            && self
                .source
                .as_deref()
                .is_none_or(|wanted| wanted == pipeline.source.as_str())
            && self
                .username
                .as_deref()
                .is_none_or(|wanted| wanted == MOCK_USERNAME)
            && self.name.is_none()
            && self.yaml_errors != Some(true)
            && self
                .updated_before
                .is_none_or(|limit| seen.updated_at < limit)
            && self
                .updated_after
                .is_none_or(|limit| seen.updated_at > limit)
            && self.created_before.is_none_or(|limit| created_at < limit)
            && self.created_after.is_none_or(|limit| created_at > limit)
    }

    fn sort(&self, pipelines: &mut [ObservedPipeline]) {
        pipelines.sort_by(|a, b| {
            let order = match self.order_by {
                OrderBy::Id | OrderBy::UserId => a.pipeline.id.cmp(&b.pipeline.id),
                OrderBy::Status => a
                    .observation
                    .status
                    .as_str()
                    .cmp(b.observation.status.as_str()),
                OrderBy::Ref => a.pipeline.git_ref.cmp(&b.pipeline.git_ref),
                OrderBy::UpdatedAt => a.observation.updated_at.cmp(&b.observation.updated_at),
            };
            let order = order.then(a.pipeline.id.cmp(&b.pipeline.id));
            if self.ascending {
                order
            } else {
                order.reverse()
            }
        });
    }
}

/// The instant rounded up to a whole millisecond. Stored instants are whole
/// milliseconds, so for them `t < limit` is `t < ceil(limit)`, which the
/// store's millisecond comparison can answer exactly.
fn ceil_millisecond(instant: Timestamp) -> Timestamp {
    let floor = Timestamp::from_millisecond(instant.as_millisecond()).unwrap_or(instant);
    match floor == instant {
        true => instant,
        false => floor
            .checked_add(jiff::SignedDuration::from_millis(1))
            .unwrap_or(instant),
    }
}
