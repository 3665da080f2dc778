//! JSON bodies accepted by the `/_mock` control routes.
//!
//! Unlike GitLab's own routes, these refuse unknown fields: a misspelt
//! `terminal_after_second` should fail loudly, not be ignored.

use jiff::{SignedDuration, Timestamp};
use serde::Deserialize;
use serde::de::{DeserializeOwned, Deserializer};

use std::collections::BTreeMap;

use crate::clock::ClockError;
use crate::lifecycle::Phase;
use crate::mock::{FaultSpec, MockError, ScenarioPatch};
use crate::model::{Project, Rejection, RuleMatch, Scenario};
use crate::status::PipelineStatus;

use super::error::ApiError;

/// Reads a JSON body; an empty body counts as `{}`. Broken JSON is a 400,
/// JSON of the wrong shape or type a 422. The syntax is checked first, so a
/// truncated body is never reported as a wrong field.
pub fn parse<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    let body: &[u8] = if body.iter().all(u8::is_ascii_whitespace) {
        b"{}"
    } else {
        body
    };
    let value: serde_json::Value = serde_json::from_slice(body).map_err(|error| {
        ApiError::BadRequest(format!("request body is not valid JSON: {error}"))
    })?;
    if !value.is_object() {
        return Err(ApiError::Unprocessable(
            "request body must be a JSON object".into(),
        ));
    }
    T::deserialize(value).map_err(|error| ApiError::Unprocessable(error.to_string()))
}

/// The body of a route that takes no fields: nothing, or `{}`. Anything
/// else is refused, so `{"keep_scenarios": true}` cannot be mistaken for an
/// option.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Empty {}

/// `POST /_mock/scenarios`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewScenario {
    scenario_id: i64,
    name: String,
    #[serde(default)]
    terminal_after_seconds: Option<i64>,
    #[serde(default = "success")]
    terminal_status: PipelineStatus,
    #[serde(default)]
    never_complete: Option<bool>,
    #[serde(default)]
    phases: Option<Vec<Phase>>,
    #[serde(default)]
    reject: Option<Rejection>,
}

fn success() -> PipelineStatus {
    PipelineStatus::Success
}

impl NewScenario {
    /// The scenario to store; `phases` replace the seed's duration fields,
    /// so sending both is refused.
    pub fn into_scenario(self) -> Result<Scenario, ApiError> {
        let seed_fields = self.terminal_after_seconds.is_some() || self.never_complete.is_some();
        let mut scenario = Scenario {
            scenario_id: self.scenario_id,
            name: self.name,
            terminal_after_seconds: self.terminal_after_seconds,
            terminal_status: self.terminal_status,
            never_complete: self.never_complete.unwrap_or(false),
            phases: None,
            reject: self.reject,
        };
        if let Some(phases) = self.phases {
            if seed_fields {
                return Err(ApiError::Unprocessable(
                    "give either phases or terminal_after_seconds/never_complete, not both".into(),
                ));
            }
            scenario.set_phases(phases);
        }
        Ok(scenario)
    }
}

/// `PUT /_mock/scenarios/:id`: any subset of the fields.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScenarioChanges {
    #[serde(default, deserialize_with = "not_null")]
    name: Option<String>,
    #[serde(default, deserialize_with = "present")]
    terminal_after_seconds: Option<Option<i64>>,
    #[serde(default, deserialize_with = "not_null")]
    terminal_status: Option<PipelineStatus>,
    #[serde(default, deserialize_with = "not_null")]
    never_complete: Option<bool>,
    #[serde(default, deserialize_with = "not_null")]
    phases: Option<Vec<Phase>>,
    #[serde(default, deserialize_with = "present")]
    reject: Option<Option<Rejection>>,
}

/// A field that may be left out but, when sent, must hold a value: `null`
/// is refused rather than silently read as "unchanged".
fn not_null<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    T::deserialize(deserializer).map(Some)
}

/// Tells a field sent as `null` (`Some(None)`) from one not sent (`None`).
fn present<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}

impl From<ScenarioChanges> for ScenarioPatch {
    fn from(body: ScenarioChanges) -> Self {
        ScenarioPatch {
            name: body.name,
            terminal_after_seconds: body.terminal_after_seconds,
            terminal_status: body.terminal_status,
            never_complete: body.never_complete,
            phases: body.phases,
            reject: body.reject,
        }
    }
}

/// `POST /_mock/rules`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewRule {
    #[serde(default)]
    pub project_id: Option<i64>,
    #[serde(default, rename = "ref")]
    pub git_ref: Option<String>,
    #[serde(default)]
    pub token: Option<String>,
    #[serde(default)]
    pub variables: BTreeMap<String, String>,
    pub scenario_id: i64,
    #[serde(default)]
    pub times: Option<i64>,
}

impl NewRule {
    /// What the rule matches.
    pub fn matching(&self) -> RuleMatch {
        RuleMatch {
            project_id: self.project_id,
            git_ref: self.git_ref.clone(),
            token: self.token.clone(),
            variables: self.variables.clone(),
        }
    }
}

/// `POST /_mock/projects`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewProject {
    id: i64,
    path: String,
    #[serde(default = "main_branch")]
    default_branch: String,
}

fn main_branch() -> String {
    "main".into()
}

impl From<NewProject> for Project {
    fn from(body: NewProject) -> Self {
        Project {
            id: body.id,
            path: body.path,
            default_branch: body.default_branch,
        }
    }
}

/// `POST /_mock/clock/freeze`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Freeze {
    #[serde(default)]
    pub at: Option<Timestamp>,
}

/// `POST /_mock/clock/advance`: a step, or to the next transition.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Advance {
    #[serde(default)]
    seconds: Option<f64>,
    #[serde(default)]
    to_next_transition: Option<bool>,
}

/// How far an advance goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AdvanceBy {
    Step(SignedDuration),
    /// To the next instant at which any pipeline changes status.
    NextTransition,
}

impl Advance {
    /// Exactly one of `seconds` and `to_next_transition: true`;
    /// `to_next_transition: false` counts as not sent.
    pub fn by(&self) -> Result<AdvanceBy, ApiError> {
        match (self.seconds, self.to_next_transition == Some(true)) {
            (Some(_), true) => Err(ApiError::Unprocessable(
                "give either seconds or to_next_transition, not both".into(),
            )),
            (None, true) => Ok(AdvanceBy::NextTransition),
            (Some(seconds), false) => step(seconds).map(AdvanceBy::Step),
            (None, false) => Err(ApiError::Unprocessable(
                "give seconds, or to_next_transition: true".into(),
            )),
        }
    }
}

/// `POST /_mock/faults`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewFault {
    #[serde(default)]
    method: Option<String>,
    path: String,
    #[serde(default)]
    status: Option<u16>,
    #[serde(default)]
    body: Option<serde_json::Value>,
    #[serde(default)]
    retry_after: Option<u64>,
    #[serde(default)]
    delay_ms: Option<u64>,
    #[serde(default = "once")]
    times: u32,
}

fn once() -> u32 {
    1
}

impl NewFault {
    /// The fault to arm, with its method in upper case; whether its values
    /// make sense together is the domain's to check.
    pub fn into_spec(self) -> Result<FaultSpec, ApiError> {
        let method = match self.method.as_deref() {
            None | Some("*") => None,
            Some(method) if is_method_token(method) => Some(method.to_ascii_uppercase()),
            Some(_) => {
                return Err(ApiError::Unprocessable(
                    "method is not an HTTP method".into(),
                ));
            }
        };
        Ok(FaultSpec {
            method,
            path: self.path,
            status: self.status,
            body: self.body,
            retry_after: self.retry_after,
            delay_ms: self.delay_ms,
            times: self.times,
        })
    }
}

/// Whether `method` could be an HTTP method: letters only, a sane length.
fn is_method_token(method: &str) -> bool {
    (1..=16).contains(&method.len()) && method.bytes().all(|byte| byte.is_ascii_alphabetic())
}

/// The step in whole milliseconds, refusing negative and absurdly large
/// values.
fn step(seconds: f64) -> Result<SignedDuration, ApiError> {
    if seconds < 0.0 {
        return Err(ApiError::Unprocessable(
            "seconds must be zero or more".into(),
        ));
    }
    let too_far = || ApiError::from(MockError::Clock(ClockError::OutOfRange));
    let step = SignedDuration::try_from_secs_f64(seconds).map_err(|_| too_far())?;
    let millis = i64::try_from(step.as_millis()).map_err(|_| too_far())?;
    Ok(SignedDuration::from_millis(millis))
}
