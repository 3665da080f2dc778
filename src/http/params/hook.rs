//! Reading a project hook's fields (`POST` and `PUT /projects/:id/hooks`)
//! as GitLab's parameter validation reads them.

use serde_json::Value;

use crate::http::error::ApiError;
use crate::model::{HOOK_EVENTS, HookChanges};

use super::{BOOLEANS, Fields, required_text};

/// How a hook's branch filter is read, as GitLab allows them.
const BRANCH_FILTER_STRATEGIES: [&str; 3] = ["wildcard", "regex", "all_branches"];

/// Reads `POST` (`creating`) or `PUT /projects/:id/hooks`: `url`, required
/// only when creating, GitLab's event switches and the hook's other
/// fields. Every problem is reported in one 400, as for the trigger.
pub fn read_hook(fields: &Fields, creating: bool) -> Result<HookChanges, ApiError> {
    let mut problems = Vec::new();
    let url = match creating || fields.contains_key("url") {
        true => required_text(fields, "url", false, &mut problems),
        false => None,
    };
    let mut text = |name: &str| optional_text(fields, name, &mut problems);
    let mut changes = HookChanges {
        url,
        name: text("name"),
        description: text("description"),
        token: text("token"),
        push_events_branch_filter: text("push_events_branch_filter"),
        branch_filter_strategy: text("branch_filter_strategy"),
        ..HookChanges::default()
    };
    if changes
        .branch_filter_strategy
        .as_deref()
        .is_some_and(|strategy| !BRANCH_FILTER_STRATEGIES.contains(&strategy))
    {
        problems.push("branch_filter_strategy does not have a valid value".into());
    }
    for name in HOOK_EVENTS {
        if let Some(on) = optional_flag(fields, name, &mut problems) {
            changes.events.insert(name.into(), on);
        }
    }
    changes.enable_ssl_verification =
        optional_flag(fields, "enable_ssl_verification", &mut problems);

    match problems.is_empty() {
        true => Ok(changes),
        false => Err(ApiError::BadRequest(problems.join(", "))),
    }
}

/// An optional string; numbers are coerced as Grape coerces them.
fn optional_text(fields: &Fields, name: &str, problems: &mut Vec<String>) -> Option<String> {
    match fields.get(name) {
        None | Some(Value::Null) => None,
        Some(_) => required_text(fields, name, false, problems),
    }
}

/// An optional boolean: JSON's, `0` or `1`, or one of [`BOOLEANS`].
fn optional_flag(fields: &Fields, name: &str, problems: &mut Vec<String>) -> Option<bool> {
    let spelled = |text: &str| {
        BOOLEANS
            .iter()
            .find(|(spelling, _)| spelling.eq_ignore_ascii_case(text))
            .map(|(_, value)| *value)
    };
    let flag = match fields.get(name)? {
        Value::Null => return None,
        Value::Bool(flag) => Some(*flag),
        Value::Number(number) => spelled(&number.to_string()),
        Value::String(text) => spelled(text),
        _ => None,
    };
    if flag.is_none() {
        problems.push(format!("{name} is invalid"));
    }
    flag
}
