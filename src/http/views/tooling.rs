//! The test-facing records: journal entries, faults and namespaces.

use serde::Serialize;

use crate::clock::rfc3339_millis;
use crate::mock::{Fault, JournalEntry};
use crate::status::PipelineStatus;

/// One answered request.
#[derive(Debug, Serialize)]
pub struct JournalEntryView<'a> {
    pub id: u64,
    pub at: String,
    pub real_at: String,
    pub method: &'a str,
    pub path: &'a str,
    pub query: Option<&'a str>,
    pub status_code: u16,
    pub project_id: Option<i64>,
    pub pipeline_id: Option<i64>,
    pub pipeline_status: Option<PipelineStatus>,
    pub fault_id: Option<u64>,
}

impl<'a> From<&'a JournalEntry> for JournalEntryView<'a> {
    fn from(entry: &'a JournalEntry) -> Self {
        Self {
            id: entry.id,
            at: rfc3339_millis(entry.at),
            real_at: rfc3339_millis(entry.real_at),
            method: &entry.method,
            path: &entry.path,
            query: entry.query.as_deref(),
            status_code: entry.status_code,
            project_id: entry.sighting.project_id,
            pipeline_id: entry.sighting.pipeline_id,
            pipeline_status: entry.sighting.pipeline_status,
            fault_id: entry.fault_id,
        }
    }
}

/// An armed fault; `times` is how many more times it fires.
#[derive(Debug, Serialize)]
pub struct FaultView<'a> {
    pub id: u64,
    pub method: Option<&'a str>,
    pub path: &'a str,
    pub status: Option<u16>,
    pub body: Option<&'a serde_json::Value>,
    pub retry_after: Option<u64>,
    pub delay_ms: Option<u64>,
    pub times: u32,
}

impl<'a> From<&'a Fault> for FaultView<'a> {
    fn from(fault: &'a Fault) -> Self {
        let spec = &fault.spec;
        Self {
            id: fault.id,
            method: spec.method.as_deref(),
            path: &spec.path,
            status: spec.status,
            body: spec.body.as_ref(),
            retry_after: spec.retry_after,
            delay_ms: spec.delay_ms,
            times: fault.remaining,
        }
    }
}

/// A named namespace and the base path that reaches it.
#[derive(Debug, Serialize)]
pub struct NamespaceView {
    pub name: String,
    pub base_path: String,
}

impl NamespaceView {
    pub fn new(name: String) -> Self {
        let base_path = format!("{}{name}", crate::namespaces::PREFIX);
        Self { name, base_path }
    }
}
