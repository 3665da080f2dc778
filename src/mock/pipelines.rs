//! Reading and changing pipelines: get, list, latest, cancel, retry,
//! delete.

use crate::clock::Clock;
use std::collections::HashSet;

use jiff::Timestamp;

use crate::lifecycle::{Run, observe};
use crate::status::PipelineStatus;
use crate::store::{Page, PipelineQuery};

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
        let project = self.project(reference)?;
        let pipeline = self
            .store
            .pipeline(id)?
            .filter(|pipeline| pipeline.project_id == project.id)
            .ok_or(MockError::NotFound(Missing::Pipeline))?;
        Ok(self.observed(pipeline, project, self.clock.now()))
    }

    /// The project's pipelines that pass `filter`, sorted and paged, each
    /// as it is now.
    ///
    /// Statuses and `updated_at` depend on the clock, so the filtering is
    /// done here over the project's pipelines rather than in SQL: the work
    /// grows with the number of pipelines in the project.
    pub fn list_pipelines(
        &self,
        reference: &ProjectRef,
        filter: &ListFilter,
    ) -> Result<Page<ObservedPipeline>, MockError> {
        let project = self.project(reference)?;
        let now = self.clock.now();
        let all = self.store.project_pipelines(project.id)?;

        let mut seen_refs = HashSet::new();
        let mut matching: Vec<ObservedPipeline> = all
            .into_iter()
            .map(|pipeline| self.observed(pipeline, project.clone(), now))
            // `branches` keeps each ref's newest pipeline before any other
            // filter looks at it, as GitLab's finder does.
            .filter(|observed| {
                filter.scope != Some(Scope::Branches)
                    || seen_refs.insert(observed.pipeline.git_ref.clone())
            })
            .filter(|observed| filter.passes(observed))
            .collect();
        filter.sort(&mut matching);

        let total = matching.len() as u64;
        let skip =
            (filter.page.saturating_sub(1) as usize).saturating_mul(filter.per_page as usize);
        let items = matching
            .into_iter()
            .skip(skip)
            .take(filter.per_page as usize)
            .collect();
        Ok(Page { items, total })
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
            .store
            .latest_pipeline(project.id, git_ref)?
            .ok_or(MockError::NoLatest)?;
        Ok(self.observed(pipeline, project, self.clock.now()))
    }

    /// Cancels a pipeline that can be canceled; any other comes back
    /// unchanged, as GitLab does.
    pub fn cancel_pipeline(
        &self,
        reference: &ProjectRef,
        id: i64,
    ) -> Result<ObservedPipeline, MockError> {
        self.change_run(reference, id, |run, now| {
            let status = observe(run, now).status;
            status.is_cancelable().then(|| Run {
                canceled_at: Some(now),
                ..run.clone()
            })
        })
    }

    /// Runs a failed or canceled pipeline's timeline again from now; any
    /// other comes back unchanged. `started_at` keeps its first value.
    pub fn retry_pipeline(
        &self,
        reference: &ProjectRef,
        id: i64,
    ) -> Result<ObservedPipeline, MockError> {
        self.change_run(reference, id, |run, now| {
            let seen = observe(run, now);
            seen.status.is_retryable().then(|| Run {
                anchor: now,
                canceled_at: None,
                earlier_started_at: seen.started_at,
                ..run.clone()
            })
        })
    }

    fn change_run(
        &self,
        reference: &ProjectRef,
        id: i64,
        change: impl FnOnce(&Run, Timestamp) -> Option<Run>,
    ) -> Result<ObservedPipeline, MockError> {
        let project = self.project(reference)?;
        let now = self.clock.now();
        let pipeline = self
            .store
            .update_run(id, |pipeline| match pipeline.project_id == project.id {
                true => change(&pipeline.run, now),
                false => None,
            })?
            .filter(|pipeline| pipeline.project_id == project.id)
            .ok_or(MockError::NotFound(Missing::Pipeline))?;
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
        let page = self.store.pipelines(query)?;
        let now = self.clock.now();
        let mut items = Vec::with_capacity(page.items.len());
        for pipeline in page.items {
            let project = self.store.project_by_id(pipeline.project_id)?;
            items.push(self.observed(pipeline, project, now));
        }
        Ok(Page {
            items,
            total: page.total,
        })
    }

    /// Deletes a pipeline of any project.
    pub fn delete_pipeline(&self, id: i64) -> Result<(), MockError> {
        match self.store.delete_pipeline(id)? {
            true => Ok(()),
            false => Err(MockError::NotFound(Missing::Pipeline)),
        }
    }
}

impl ListFilter {
    fn passes(&self, observed: &ObservedPipeline) -> bool {
        let (pipeline, seen) = (&observed.pipeline, &observed.observation);
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
