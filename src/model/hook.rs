//! Project hooks: where pipeline events go, and the changes a client may
//! make to one.

use std::collections::BTreeMap;

use jiff::Timestamp;

/// The events a project hook can subscribe to, as GitLab names its
/// switches. The mock sends only pipeline events; the others are kept and
/// shown so a client that sets them reads back what it wrote.
pub const HOOK_EVENTS: [&str; 18] = [
    "push_events",
    "tag_push_events",
    "issues_events",
    "confidential_issues_events",
    "merge_requests_events",
    "note_events",
    "confidential_note_events",
    "job_events",
    "pipeline_events",
    "wiki_page_events",
    "deployment_events",
    "feature_flag_events",
    "releases_events",
    "milestone_events",
    "emoji_events",
    "resource_access_token_events",
    "vulnerability_events",
    "repository_update_events",
];

/// A project hook: where GitLab posts the project's events.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hook {
    pub id: i64,
    pub project_id: i64,
    pub url: String,
    pub name: String,
    pub description: String,
    /// Sent as `X-Gitlab-Token`; never shown by the API.
    pub token: Option<String>,
    /// Each of [`HOOK_EVENTS`] and whether it is on.
    pub events: BTreeMap<String, bool>,
    pub push_events_branch_filter: Option<String>,
    pub branch_filter_strategy: String,
    pub enable_ssl_verification: bool,
    pub created_at: Timestamp,
}

impl Hook {
    /// Whether the hook wants pipeline events.
    pub fn pipeline_events(&self) -> bool {
        self.events.get("pipeline_events").copied().unwrap_or(false)
    }
}

/// The fields of a hook a request sets; `None` leaves a field as it is
/// (or at GitLab's default, for a new hook).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HookChanges {
    pub url: Option<String>,
    pub name: Option<String>,
    pub description: Option<String>,
    /// `Some("")` removes the token.
    pub token: Option<String>,
    pub events: BTreeMap<String, bool>,
    pub push_events_branch_filter: Option<String>,
    pub branch_filter_strategy: Option<String>,
    pub enable_ssl_verification: Option<bool>,
}

impl HookChanges {
    /// A new hook of `project_id` with these fields over GitLab's defaults:
    /// push events on, every other event off, TLS verified.
    pub fn new_hook(self, project_id: i64, created_at: Timestamp) -> Hook {
        let events = HOOK_EVENTS
            .iter()
            .map(|name| (name.to_string(), *name == "push_events"))
            .collect();
        let mut hook = Hook {
            id: 0,
            project_id,
            url: String::new(),
            name: String::new(),
            description: String::new(),
            token: None,
            events,
            push_events_branch_filter: None,
            branch_filter_strategy: "wildcard".into(),
            enable_ssl_verification: true,
            created_at,
        };
        self.apply(&mut hook);
        hook
    }

    /// Writes the given fields over `hook`.
    pub fn apply(self, hook: &mut Hook) {
        if let Some(url) = self.url {
            hook.url = url;
        }
        if let Some(name) = self.name {
            hook.name = name;
        }
        if let Some(description) = self.description {
            hook.description = description;
        }
        if let Some(token) = self.token {
            hook.token = (!token.is_empty()).then_some(token);
        }
        hook.events.extend(self.events);
        if let Some(filter) = self.push_events_branch_filter {
            hook.push_events_branch_filter = (!filter.is_empty()).then_some(filter);
        }
        if let Some(strategy) = self.branch_filter_strategy {
            hook.branch_filter_strategy = strategy;
        }
        if let Some(verify) = self.enable_ssl_verification {
            hook.enable_ssl_verification = verify;
        }
    }
}
