//! The pipeline entities defined field by field as serde writes them.
//! Answers are written by [`write_pipeline`]; the property test below
//! holds it to these byte for byte, so this is the definition a reader
//! can check against GitLab's entities.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

use crate::http::views::{UserView, instant};
use crate::mock::ObservedPipeline;
use crate::status::PipelineStatus;

use super::{
    BLANK_SHA, BasicPipeline, Entity, FAVICONS, pipeline_page, presentation, root_path,
    write_pipeline,
};

/// One item of `GET /projects/:id/pipelines` (PipelineBasicWithMetadata).
///
/// This and [`PipelineView`] define the entities field by field as serde
/// writes them; answers are written by [`write_pipeline`], which the tests
/// hold to these byte for byte.
#[derive(Debug, Serialize)]
pub struct ListedPipeline<'a> {
    #[serde(flatten)]
    pub basic: BasicPipeline<'a>,
    pub name: Option<String>,
}

impl<'a> ListedPipeline<'a> {
    pub fn new(observed: &'a ObservedPipeline, base_url: &str) -> Self {
        Self {
            basic: BasicPipeline::new(observed, base_url),
            name: None,
        }
    }
}

/// GitLab's full Pipeline entity, plus the mock's own fields saying what
/// the pipeline was told to do.
#[derive(Debug, Serialize)]
pub struct PipelineView<'a> {
    #[serde(flatten)]
    pub basic: BasicPipeline<'a>,
    pub before_sha: &'static str,
    pub tag: bool,
    pub yaml_errors: Option<String>,
    pub user: UserView,
    pub started_at: Option<String>,
    pub finished_at: Option<String>,
    pub committed_at: Option<String>,
    pub duration: Option<i64>,
    pub queued_duration: Option<i64>,
    pub coverage: Option<String>,
    pub detailed_status: DetailedStatus,
    /// Only on the single GET and `latest` (PipelineWithMetadata).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<Option<String>>,
    pub variables: BTreeMap<&'a str, &'a str>,
    pub scenario_id: Option<i64>,
    pub terminal_after_seconds: Option<i64>,
    pub terminal_status: PipelineStatus,
}

impl<'a> PipelineView<'a> {
    /// The entity the trigger, create, cancel and retry answer with.
    pub fn new(observed: &'a ObservedPipeline, base_url: &str) -> Self {
        let (pipeline, seen) = (&observed.pipeline, &observed.observation);
        let page = pipeline_page(observed);
        Self {
            basic: BasicPipeline::at_page(observed, base_url, &page),
            before_sha: BLANK_SHA,
            tag: false,
            yaml_errors: None,
            user: UserView::mock(base_url),
            started_at: instant(seen.started_at),
            finished_at: instant(seen.finished_at),
            committed_at: None,
            duration: seen.duration(),
            queued_duration: seen.queued_duration(pipeline.created_at()),
            coverage: None,
            detailed_status: DetailedStatus::new(seen.status, root_path(base_url), &page),
            name: None,
            variables: pipeline.variable_map(),
            scenario_id: pipeline.scenario_id,
            terminal_after_seconds: pipeline.run.timeline.total_seconds(),
            terminal_status: pipeline.run.timeline.terminal_status,
        }
    }

    /// The entity of the single GET and `latest`, which adds `name`.
    pub fn with_metadata(observed: &'a ObservedPipeline, base_url: &str) -> Self {
        Self {
            name: Some(None),
            ..Self::new(observed, base_url)
        }
    }
}

/// GitLab's `detailed_status` object.
#[derive(Debug, Serialize)]
pub struct DetailedStatus {
    pub icon: &'static str,
    pub text: &'static str,
    pub label: &'static str,
    pub group: &'static str,
    pub tooltip: &'static str,
    pub has_details: bool,
    pub details_path: String,
    pub illustration: Option<Value>,
    pub favicon: String,
}

impl DetailedStatus {
    /// `status` on the pipeline at `page` (see [`pipeline_page`]), with
    /// paths under `root` (see [`root_path`]).
    pub fn new(status: PipelineStatus, root: &str, page: &str) -> Self {
        let (text, label, icon, group, favicon) = presentation(status);
        Self {
            icon,
            text,
            label,
            group,
            tooltip: label,
            has_details: true,
            details_path: [root, page].concat(),
            illustration: None,
            favicon: [root, FAVICONS, favicon, ".png"].concat(),
        }
    }
}

#[cfg(test)]
mod tests {
    use jiff::{SignedDuration, Timestamp};
    use proptest::prelude::*;

    use crate::lifecycle::{InitialStatus, Run, Timeline, observe};
    use crate::model::{Pipeline, Project, Source, Variable, VariableType};

    use super::*;

    prop_compose! {
        fn variables()(items in prop::collection::vec(
            (any::<String>(), any::<String>(), any::<bool>()), 0..4,
        )) -> Vec<Variable> {
            items
                .into_iter()
                .map(|(key, value, file)| Variable {
                    key,
                    value,
                    variable_type: match file {
                        true => VariableType::File,
                        false => VariableType::EnvVar,
                    },
                })
                .collect()
        }
    }

    prop_compose! {
        /// Any pipeline, read at any instant of its run, with any strings
        /// where the API prints text, and instants across jiff's range
        /// (years below zero take the timestamp printer's other branch).
        fn observed()(
            (id, iid, project_id) in (any::<i64>(), any::<i64>(), any::<i64>()),
            (git_ref, sha, path) in (any::<String>(), any::<String>(), any::<String>()),
            api in any::<bool>(),
            variables in variables(),
            scenario_id in any::<Option<i64>>(),
            seconds in prop::option::of(0..400_i64),
            terminal in prop::sample::select(PipelineStatus::ALL.to_vec()),
            created in any::<bool>(),
            created_ms in -300_000_000_000_000_i64..250_000_000_000_000,
            later_ms in 0..500_000_i64,
        ) -> ObservedPipeline {
            let initial = match created {
                true => InitialStatus::Created,
                false => InitialStatus::Running,
            };
            let created_at = Timestamp::from_millisecond(created_ms).unwrap();
            let run = Run::new(Timeline::seed(seconds, terminal, initial), created_at);
            let now = created_at.saturating_add(SignedDuration::from_millis(later_ms)).unwrap();
            let observation = observe(&run, now);
            let source = match api {
                true => Source::Api,
                false => Source::Trigger,
            };
            let pipeline = Pipeline {
                id, iid, project_id, git_ref, sha, source, variables, scenario_id, run,
            };
            let project = Project { id: project_id, path, default_branch: "main".into() };
            ObservedPipeline { pipeline, project, observation }
        }
    }

    fn base_url() -> impl Strategy<Value = String> {
        prop_oneof![
            Just("http://127.0.0.1:8000".to_owned()),
            Just("http://localhost/ns/team-a".to_owned()),
            "[a-z0-9.:-]{1,20}".prop_map(|host| format!("http://{host}")),
        ]
    }

    fn written(observed: &ObservedPipeline, base_url: &str, entity: Entity) -> Vec<u8> {
        let mut out = Vec::new();
        write_pipeline(&mut out, observed, base_url, entity);
        out
    }

    proptest! {
        #[test]
        fn the_written_entities_are_the_serde_views_byte_for_byte(
            observed in observed(),
            base_url in base_url(),
        ) {
            let listed = serde_json::to_vec(&ListedPipeline::new(&observed, &base_url)).unwrap();
            let full = serde_json::to_vec(&PipelineView::new(&observed, &base_url)).unwrap();
            let with_metadata =
                serde_json::to_vec(&PipelineView::with_metadata(&observed, &base_url)).unwrap();

            prop_assert_eq!(written(&observed, &base_url, Entity::Listed), listed);
            prop_assert_eq!(written(&observed, &base_url, Entity::Full), full);
            prop_assert_eq!(written(&observed, &base_url, Entity::WithMetadata), with_metadata);
        }
    }
}
