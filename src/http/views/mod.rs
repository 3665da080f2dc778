//! The JSON shapes the API answers with.
//!
//! Views borrow from the domain values and add what only the HTTP side
//! knows, such as the base URL the client used. The GitLab-shaped ones
//! follow GitLab's entities field for field, with GitLab's JSON types:
//! integers for ids and pipeline durations, strings or `null` for
//! timestamps, an object for `user` and `detailed_status`.

mod hook;
mod job;
mod people;
mod pipeline;
mod records;
mod tooling;

pub use hook::{DeliveryView, HookView, pipeline_event_payload};
pub use job::{JobView, VariableView};
pub use people::{ProjectView, PublicUserView, UserView};
pub use pipeline::{Entity, write_pipeline};
pub use records::{
    ClockView, NextTransitionView, ProjectRecordView, RuleView, ScenarioView, TriggerTokenView,
};
pub use tooling::{FaultView, JournalEntryView, NamespaceView};

use jiff::Timestamp;

use crate::clock::rfc3339_millis;

/// An optional instant in GitLab's spelling.
fn instant(value: Option<Timestamp>) -> Option<String> {
    value.map(rfc3339_millis)
}
