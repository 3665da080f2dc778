//! The vocabulary of GitLab pipeline statuses.
//!
//! GitLab reports a pipeline's state as one of a closed set of lower-case
//! strings. Keeping them in one enum means a typo in a scenario is refused at
//! the door instead of reaching a client that decodes statuses strictly.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A pipeline status exactly as GitLab API v4 spells it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PipelineStatus {
    Created,
    WaitingForResource,
    Preparing,
    WaitingForCallback,
    Pending,
    Running,
    Success,
    Failed,
    Canceling,
    Canceled,
    Skipped,
    Manual,
    Scheduled,
}

impl PipelineStatus {
    /// Every status, in GitLab's lifecycle order.
    pub const ALL: [PipelineStatus; 13] = [
        Self::Created,
        Self::WaitingForResource,
        Self::Preparing,
        Self::WaitingForCallback,
        Self::Pending,
        Self::Running,
        Self::Success,
        Self::Failed,
        Self::Canceling,
        Self::Canceled,
        Self::Skipped,
        Self::Manual,
        Self::Scheduled,
    ];

    /// The wire spelling, e.g. `waiting_for_resource`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Created => "created",
            Self::WaitingForResource => "waiting_for_resource",
            Self::Preparing => "preparing",
            Self::WaitingForCallback => "waiting_for_callback",
            Self::Pending => "pending",
            Self::Running => "running",
            Self::Success => "success",
            Self::Failed => "failed",
            Self::Canceling => "canceling",
            Self::Canceled => "canceled",
            Self::Skipped => "skipped",
            Self::Manual => "manual",
            Self::Scheduled => "scheduled",
        }
    }

    /// GitLab's "completed" statuses: the pipeline is done and will not
    /// change again unless retried.
    pub fn is_completed(self) -> bool {
        matches!(
            self,
            Self::Success | Self::Failed | Self::Canceled | Self::Skipped
        )
    }

    /// Statuses that stamp `finished_at` and `duration` when entered.
    pub fn stamps_finish(self) -> bool {
        matches!(self, Self::Success | Self::Failed | Self::Canceled)
    }

    /// Statuses a cancel request moves to `canceled`; GitLab leaves the
    /// others as they are.
    pub fn is_cancelable(self) -> bool {
        matches!(
            self,
            Self::Created
                | Self::WaitingForResource
                | Self::Preparing
                | Self::WaitingForCallback
                | Self::Pending
                | Self::Running
                | Self::Scheduled
        )
    }

    /// Statuses a retry restarts.
    pub fn is_retryable(self) -> bool {
        matches!(self, Self::Failed | Self::Canceled)
    }

    /// All spellings joined for error messages.
    pub fn spellings() -> String {
        let names: Vec<&str> = Self::ALL.iter().map(|status| status.as_str()).collect();
        names.join(", ")
    }
}

impl fmt::Display for PipelineStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The error for a string that is not a GitLab status.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown pipeline status {0:?}")]
pub struct UnknownStatus(pub String);

impl FromStr for PipelineStatus {
    type Err = UnknownStatus;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|status| status.as_str() == text)
            .ok_or_else(|| UnknownStatus(text.to_owned()))
    }
}
