//! Making pipelines: the trigger and create endpoints, who may trigger, and
//! which timeline a new pipeline follows.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use crate::clock::Clock;
use crate::json::{into_text, push_map};
use crate::lifecycle::{Timeline, at_creation};
use crate::model::{NewPipeline, Rejection, Scenario, Source, Variable, VariableType};
use crate::model::{Project, check_terminal_after};
use crate::status::PipelineStatus;

use super::{Mock, MockError, ObservedPipeline, ProjectRef};

/// The mock-only fields a trigger may carry to choose its behaviour.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Controls {
    pub scenario_id: Option<i64>,
    pub terminal_after_seconds: Option<i64>,
    pub terminal_status: Option<PipelineStatus>,
}

impl Controls {
    fn is_empty(&self) -> bool {
        self.scenario_id.is_none()
            && self.terminal_after_seconds.is_none()
            && self.terminal_status.is_none()
    }
}

/// A trigger, decoded from whichever encoding the client used.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TriggerRequest {
    pub token: String,
    pub git_ref: String,
    pub variables: BTreeMap<String, String>,
    /// Every parameter the request carried except the token (a webhook's
    /// whole body included), which GitLab keeps as `TRIGGER_PAYLOAD`.
    pub parameters: Map<String, Value>,
    pub controls: Controls,
}

/// `POST /projects/:id/pipeline`: a pipeline made with a user's token.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CreateRequest {
    pub git_ref: String,
    pub variables: Vec<Variable>,
    pub controls: Controls,
}

/// What a new pipeline will do, or why GitLab refuses it.
struct Plan {
    scenario_id: Option<i64>,
    timeline: Result<Timeline, Rejection>,
}

impl Mock {
    /// Triggers a pipeline as `POST /projects/:id/trigger/pipeline` does.
    /// `authenticated` says whether the request carried the mock's own token
    /// in a header, which only matters for projects without trigger tokens.
    ///
    /// A reset that comes after the project is looked up leaves the lookup,
    /// the token's rights and the plan stale (a path may now name another
    /// id, a rule may be gone), so the store refuses the write and the
    /// trigger is made again against the reset state.
    pub async fn trigger(
        &self,
        reference: &ProjectRef,
        mut request: TriggerRequest,
        authenticated: bool,
    ) -> Result<ObservedPipeline, MockError> {
        let mut variables = env_variables(std::mem::take(&mut request.variables));
        variables.push(trigger_payload(reference, &mut request.parameters));
        let mut git_ref = request.git_ref;
        loop {
            let generation = self.parts.store.generation();
            let project = self.project(reference)?;
            self.authorize_trigger(&project, &request.token, authenticated)?;
            let plan = self.plan(
                &project,
                &git_ref,
                &request.token,
                &variables,
                &request.controls,
            )?;

            let made = self.make(
                project,
                git_ref,
                Source::Trigger,
                variables,
                plan,
                generation,
            );
            match made.await? {
                Made::Stored(observed) => return Ok(observed),
                Made::Reset(returned) => {
                    (git_ref, variables) = (returned.git_ref, returned.variables)
                }
            }
        }
    }

    /// Creates a pipeline as `POST /projects/:id/pipeline` does; the caller
    /// has already been authenticated. Made again after a reset, as a
    /// trigger is.
    pub async fn create_pipeline(
        &self,
        reference: &ProjectRef,
        request: CreateRequest,
    ) -> Result<ObservedPipeline, MockError> {
        let (mut git_ref, mut variables) = (request.git_ref, request.variables);
        loop {
            let generation = self.parts.store.generation();
            let project = self.project(reference)?;
            let plan = self.plan(&project, &git_ref, "", &variables, &request.controls)?;

            let made = self.make(project, git_ref, Source::Api, variables, plan, generation);
            match made.await? {
                Made::Stored(observed) => return Ok(observed),
                Made::Reset(returned) => {
                    (git_ref, variables) = (returned.git_ref, returned.variables)
                }
            }
        }
    }

    /// GitLab's rule: a project with trigger tokens accepts only its own
    /// (or a token valid everywhere), whatever else the request carries, and
    /// answers any other with a 404. A project without any keeps the seed's
    /// rule: the mock's token in a header.
    fn authorize_trigger(
        &self,
        project: &Project,
        token: &str,
        authenticated: bool,
    ) -> Result<(), MockError> {
        if self
            .parts
            .options
            .global_trigger_tokens
            .iter()
            .any(|global| global == token)
        {
            return Ok(());
        }
        let access = self.parts.store.trigger_access(project.id, token);
        if let Some(owner) = access.token_project {
            return match owner == project.id {
                true => Ok(()),
                false => Err(MockError::TriggerDenied),
            };
        }
        if access.project_has_tokens {
            return Err(MockError::TriggerDenied);
        }
        match authenticated {
            true => Ok(()),
            false => Err(MockError::Unauthorized),
        }
    }

    /// Chooses the behaviour: the given scenario, else the inline fields,
    /// else the first matching rule, else the default.
    fn plan(
        &self,
        project: &Project,
        git_ref: &str,
        token: &str,
        variables: &[Variable],
        controls: &Controls,
    ) -> Result<Plan, MockError> {
        if let Some(seconds) = controls.terminal_after_seconds {
            check_terminal_after(seconds).map_err(MockError::Invalid)?;
        }
        if let Some(scenario_id) = controls.scenario_id {
            let scenario = self.parts.store.scenario(scenario_id)?.ok_or_else(|| {
                MockError::Invalid(format!("scenario_id {scenario_id} does not exist"))
            })?;
            return Ok(self.follow(&scenario));
        }
        if !controls.is_empty() {
            let seconds = controls.terminal_after_seconds.or(Some(DEFAULT_SECONDS));
            let status = controls.terminal_status.unwrap_or(PipelineStatus::Success);
            let timeline = Timeline::seed(seconds, status, self.parts.options.initial_status);
            return Ok(Plan {
                scenario_id: None,
                timeline: Ok(timeline),
            });
        }
        if let Some(rule) = self
            .parts
            .store
            .claim_rule(project.id, git_ref, token, variables)?
        {
            tracing::debug!(rule = rule.id, scenario = rule.scenario_id, "rule matched");
            if let Some(scenario) = self.parts.store.scenario(rule.scenario_id)? {
                return Ok(self.follow(&scenario));
            }
        }
        let timeline = Timeline::seed(
            Some(DEFAULT_SECONDS),
            PipelineStatus::Success,
            self.parts.options.initial_status,
        );
        Ok(Plan {
            scenario_id: None,
            timeline: Ok(timeline),
        })
    }

    fn follow(&self, scenario: &Scenario) -> Plan {
        let timeline = match scenario.reject {
            Some(rejection) => Err(rejection),
            None => Ok(scenario.timeline(self.parts.options.initial_status)),
        };
        Plan {
            scenario_id: Some(scenario.scenario_id),
            timeline,
        }
    }

    /// Writes the pipeline, unless a reset came after `generation` was read
    /// (before the caller's lookups): then its values come back untouched.
    async fn make(
        &self,
        project: Project,
        git_ref: String,
        source: Source,
        variables: Vec<Variable>,
        plan: Plan,
        generation: u64,
    ) -> Result<Made, MockError> {
        let _hooks = self.hook_gate(project.id).await;
        let new = NewPipeline {
            project_id: project.id,
            sha: commit_sha(project.id, &git_ref),
            git_ref,
            source,
            variables,
            scenario_id: plan.scenario_id,
            timeline: plan.timeline.map_err(MockError::Refused)?,
            // Read after `generation`, so that a reset, which moves the
            // clock back, cannot come between them unnoticed and leave a
            // pipeline stored from the future.
            created_at: self.parts.clock.now(),
        };
        let pipeline = match self
            .parts
            .store
            .try_insert_pipeline(new, generation)
            .await?
        {
            Ok(pipeline) => pipeline,
            Err(returned) => return Ok(Made::Reset(returned)),
        };
        tracing::debug!(id = pipeline.id, project = project.id, "pipeline created");
        self.pipeline_created(&pipeline, &project);

        let observation = at_creation(&pipeline.run);
        Ok(Made::Stored(ObservedPipeline {
            pipeline,
            project,
            observation,
        }))
    }
}

/// What [`Mock::make`] did: stored the pipeline, or handed its values back
/// because a reset made the caller's lookups stale. Returned once and
/// matched at once, so the size gap between the two costs a move, where a
/// box would cost every trigger an allocation.
#[allow(clippy::large_enum_variant)]
enum Made {
    Stored(ObservedPipeline),
    Reset(NewPipeline),
}

/// The default behaviour's duration: five minutes.
const DEFAULT_SECONDS: i64 = 300;

fn env_variables(variables: BTreeMap<String, String>) -> Vec<Variable> {
    variables
        .into_iter()
        .map(|(key, value)| Variable {
            key,
            value,
            variable_type: VariableType::EnvVar,
        })
        .collect()
}

/// GitLab stores the trigger's parameters, all but the token, as the file
/// variable `TRIGGER_PAYLOAD`; they are taken from the request, which needs
/// them for nothing else.
fn trigger_payload(reference: &ProjectRef, parameters: &mut Map<String, Value>) -> Variable {
    let mut payload = std::mem::take(parameters);
    payload.insert("id".into(), Value::from(reference.as_text()));
    // Written by the hot path's writer (see `crate::json`): `Value`'s
    // `Display` goes through a formatter, and serde_json's own writer
    // spends most of its time on each string's escaping.
    let mut value = Vec::with_capacity(128);
    push_map(&mut value, &payload);
    Variable {
        key: "TRIGGER_PAYLOAD".into(),
        value: into_text(value),
        variable_type: VariableType::File,
    }
}

/// A stand-in commit sha: 40 hex digits that depend only on the project and
/// the ref, as a real ref's head commit would, so snapshots stay stable and
/// two triggers of one ref report one commit.
pub fn commit_sha(project_id: i64, git_ref: &str) -> String {
    let mut state = fnv1a(project_id.to_le_bytes().iter().chain(git_ref.as_bytes()));
    let mut sha = String::with_capacity(48);
    for _ in 0..3 {
        push_hex(&mut sha, splitmix64(&mut state));
    }
    sha.truncate(40);
    sha
}

/// `value` as 16 lower-case hex digits, as `{:016x}` prints it without
/// going through the formatter (a trigger makes one sha).
fn push_hex(text: &mut String, value: u64) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    for shift in (0..16).rev() {
        let nibble = (value >> (shift * 4)) & 0xf;
        text.push(char::from(DIGITS[nibble as usize]));
    }
}

fn fnv1a<'a>(bytes: impl Iterator<Item = &'a u8>) -> u64 {
    bytes.fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(*byte)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        #[test]
        fn hex_digits_are_those_the_formatter_prints(value in any::<u64>()) {
            let mut text = String::new();
            push_hex(&mut text, value);

            prop_assert_eq!(text, format!("{value:016x}"));
        }
    }

    #[test]
    fn a_sha_is_forty_hex_digits_fixed_by_project_and_ref() {
        let sha = commit_sha(123, "main");

        assert_eq!(sha.len(), 40);
        assert!(sha.bytes().all(|byte| byte.is_ascii_hexdigit()));
        assert_eq!(sha, commit_sha(123, "main"));
        assert_ne!(sha, commit_sha(124, "main"));
    }
}
