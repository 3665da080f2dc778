//! Faults: scripted misbehaviour for the next matching requests, so a test
//! can show that the system under test survives a 429 with `Retry-After`,
//! a 502 it should retry, or an answer that takes seconds.
//!
//! A fault matches by method and path prefix and fires a given number of
//! times, then clears itself. It answers in place of the route (`status`,
//! `body`, `Retry-After`), delays the answer (`delay_ms`), or both. Faults
//! never apply to `/_mock` routes, so a test can always list and delete
//! them. They live in memory: a scripted failure belongs to the test that
//! is running, not to the next run after a restart.

use std::sync::atomic::{AtomicUsize, Ordering};

use parking_lot::Mutex;
use serde_json::Value;

use super::MockError;

/// The longest delay a fault may ask for: long enough to trip any client
/// timeout worth testing, short enough that a typo cannot hang a suite.
pub const MAX_DELAY_MS: u64 = 60_000;

/// The most times one fault may fire.
pub const MAX_TIMES: u32 = 1_000_000;

/// The longest `Retry-After` a fault may send, in seconds: one day.
pub const MAX_RETRY_AFTER: u64 = 86_400;

/// What a test asks for.
#[derive(Debug, Clone, PartialEq)]
pub struct FaultSpec {
    /// Upper-case; `None` matches every method.
    pub method: Option<String>,
    /// Matches paths that start with it, e.g. `/api/v4/projects/1/pipelines`.
    pub path: String,
    /// The status answered instead of the route's; `None` lets the route
    /// answer after the delay.
    pub status: Option<u16>,
    /// The JSON answered with `status`; GitLab's `{"message": …}` if none.
    pub body: Option<Value>,
    pub retry_after: Option<u64>,
    pub delay_ms: Option<u64>,
    pub times: u32,
}

/// A fault as stored, with how many more times it fires.
#[derive(Debug, Clone, PartialEq)]
pub struct Fault {
    pub id: u64,
    pub spec: FaultSpec,
    pub remaining: u32,
}

impl Fault {
    fn matches(&self, method: &str, path: &str) -> bool {
        let method_matches = (self.spec.method.as_deref()).is_none_or(|wanted| wanted == method);
        method_matches && path.starts_with(&self.spec.path)
    }
}

/// Whether a path belongs to the control routes, which faults never touch.
pub fn is_control_path(path: &str) -> bool {
    path == "/_mock" || path.starts_with("/_mock/")
}

/// The faults of one namespace.
#[derive(Debug, Default)]
pub struct Faults {
    state: Mutex<Armed>,
    /// How many faults are armed, read without the lock: a request with no
    /// fault armed, nearly every one, pays one atomic load.
    armed: AtomicUsize,
}

#[derive(Debug, Default)]
struct Armed {
    next_id: u64,
    faults: Vec<Fault>,
}

impl Faults {
    /// Arms a fault after checking it makes sense.
    pub fn add(&self, spec: FaultSpec) -> Result<Fault, MockError> {
        validate(&spec)?;

        let mut state = self.state.lock();
        state.next_id += 1;
        let fault = Fault {
            id: state.next_id,
            remaining: spec.times,
            spec,
        };
        state.faults.push(fault.clone());
        self.armed.store(state.faults.len(), Ordering::Release);
        tracing::info!(id = fault.id, path = %fault.spec.path, "fault armed");
        Ok(fault)
    }

    /// The oldest fault matching the request, counted as fired; it is
    /// removed when that was its last time.
    pub fn fire(&self, method: &str, path: &str) -> Option<Fault> {
        if self.armed.load(Ordering::Acquire) == 0 || is_control_path(path) {
            return None;
        }

        let mut state = self.state.lock();
        let index = state.faults.iter().position(|f| f.matches(method, path))?;
        let fault = &mut state.faults[index];
        fault.remaining -= 1;
        let fired = fault.clone();
        if fired.remaining == 0 {
            state.faults.remove(index);
        }
        self.armed.store(state.faults.len(), Ordering::Release);
        Some(fired)
    }

    /// Every armed fault, oldest first.
    pub fn list(&self) -> Vec<Fault> {
        self.state.lock().faults.clone()
    }

    /// Disarms one fault; false if there was none with that id.
    pub fn remove(&self, id: u64) -> bool {
        let mut state = self.state.lock();
        let before = state.faults.len();
        state.faults.retain(|fault| fault.id != id);
        self.armed.store(state.faults.len(), Ordering::Release);
        state.faults.len() < before
    }

    /// Disarms every fault; ids go on counting.
    pub fn clear(&self) {
        let mut state = self.state.lock();
        state.faults.clear();
        self.armed.store(0, Ordering::Release);
    }
}

fn validate(spec: &FaultSpec) -> Result<(), MockError> {
    let invalid = |text: &str| Err(MockError::Invalid(text.to_owned()));
    if !spec.path.starts_with('/') {
        return invalid("path must start with /");
    }
    if spec.path.contains('?') {
        return invalid("path is matched without the query string, so it cannot hold one");
    }
    if is_control_path(&spec.path) {
        return invalid("faults cannot match /_mock routes");
    }
    if spec.status.is_none() && spec.delay_ms.is_none() {
        return invalid("a fault needs a status, a delay_ms, or both");
    }
    if spec
        .status
        .is_some_and(|status| !(200..=599).contains(&status))
    {
        return invalid("status must be between 200 and 599");
    }
    if spec.body.is_some() && spec.status.is_none() {
        return invalid("body needs a status to go with it");
    }
    if spec.retry_after.is_some() && spec.status.is_none() {
        return invalid("retry_after needs a status to go with it");
    }
    if spec
        .retry_after
        .is_some_and(|seconds| seconds > MAX_RETRY_AFTER)
    {
        return invalid("retry_after must be at most 86400 seconds");
    }
    if spec.delay_ms.is_some_and(|delay| delay > MAX_DELAY_MS) {
        return invalid("delay_ms must be at most 60000");
    }
    if !(1..=MAX_TIMES).contains(&spec.times) {
        return invalid("times must be between 1 and 1000000");
    }
    Ok(())
}
