//! The journal: every request the mock answered, oldest first, so a test
//! can assert how the system under test behaved (how often it polled, and
//! that it stopped once the pipeline finished) instead of only what it
//! ended up with.
//!
//! Entries live in memory, in a ring of [`JOURNAL_LIMIT`] entries by
//! default: the oldest falls out when a new one comes in. A restart or a
//! reset empties it. Writing each request to SQLite would put a write on
//! every poll, the one request that must stay cheap.

use std::borrow::Cow;
use std::collections::VecDeque;

use jiff::Timestamp;
use parking_lot::Mutex;

use crate::status::PipelineStatus;

/// How many entries the journal keeps unless told otherwise: a suite that
/// polls a few pipelines for a while stays well inside it, and a runaway
/// poller costs at most a few megabytes.
pub const JOURNAL_LIMIT: usize = 10_000;

/// The longest path or query an entry keeps, in bytes; the rest is cut
/// off, so ten thousand requests with 60 KiB URLs cannot hold 600 MB.
pub const MAX_KEPT_TEXT: usize = 2048;

/// The longest method name kept. HTTP's own are at most seven letters, but
/// hyper accepts any token, and ten thousand entries of a 60 KB made-up
/// method would hold 600 MB.
pub const MAX_KEPT_METHOD: usize = 32;

/// What a handler learned about the request that only it knows: which
/// project and pipeline the request was about, and the status the caller
/// saw. Travels from the handler to the journal as a response extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Sighting {
    pub project_id: Option<i64>,
    pub pipeline_id: Option<i64>,
    pub pipeline_status: Option<PipelineStatus>,
}

/// One answered request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JournalEntry {
    /// Counts from 1 in each namespace and is never reused, even after
    /// old entries fall out.
    pub id: u64,
    /// The mock's clock when the request arrived.
    pub at: Timestamp,
    /// The system's clock when the request arrived.
    pub real_at: Timestamp,
    /// Borrowed for the methods HTTP defines, so the common case copies
    /// nothing; any other is cut to [`MAX_KEPT_METHOD`] bytes.
    pub method: Cow<'static, str>,
    /// The path inside the namespace, as sent (still percent-encoded), cut
    /// to [`MAX_KEPT_TEXT`] bytes.
    pub path: String,
    /// The query string, cut like the path.
    pub query: Option<String>,
    pub status_code: u16,
    pub sighting: Sighting,
    /// The fault that answered instead of the route, if one did.
    pub fault_id: Option<u64>,
}

/// Which entries a reader wants; every field left `None` matches all.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JournalFilter {
    pub pipeline_id: Option<i64>,
    pub project_id: Option<i64>,
    /// Compared without regard to case.
    pub method: Option<String>,
    /// Entries whose `at` is this instant or later.
    pub since: Option<Timestamp>,
}

impl JournalFilter {
    fn matches(&self, entry: &JournalEntry) -> bool {
        let sighting = entry.sighting;
        self.pipeline_id
            .is_none_or(|id| sighting.pipeline_id == Some(id))
            && self
                .project_id
                .is_none_or(|id| sighting.project_id == Some(id))
            && (self.method.as_ref())
                .is_none_or(|method| method.eq_ignore_ascii_case(&entry.method))
            && self.since.is_none_or(|since| entry.at >= since)
    }
}

/// The bounded, shared list of entries.
#[derive(Debug)]
pub struct Journal {
    state: Mutex<Entries>,
}

#[derive(Debug)]
struct Entries {
    next_id: u64,
    limit: usize,
    kept: VecDeque<JournalEntry>,
}

impl Journal {
    /// An empty journal keeping at most `limit` entries (at least one).
    pub fn new(limit: usize) -> Self {
        let limit = limit.max(1);
        Self {
            state: Mutex::new(Entries {
                next_id: 1,
                limit,
                kept: VecDeque::with_capacity(limit.min(1024)),
            }),
        }
    }

    /// Adds an entry, numbering it; the oldest entry goes if the journal
    /// is full.
    pub fn record(&self, mut entry: JournalEntry) {
        cut(&mut entry.path, MAX_KEPT_TEXT);
        if let Some(query) = &mut entry.query {
            cut(query, MAX_KEPT_TEXT);
        }
        if let Cow::Owned(method) = &mut entry.method {
            cut(method, MAX_KEPT_METHOD);
        }

        let mut state = self.state.lock();
        entry.id = state.next_id;
        state.next_id += 1;
        if state.kept.len() == state.limit {
            state.kept.pop_front();
        }
        state.kept.push_back(entry);
    }

    /// The entries `filter` matches, oldest first.
    pub fn entries(&self, filter: &JournalFilter) -> Vec<JournalEntry> {
        let state = self.state.lock();
        state
            .kept
            .iter()
            .filter(|entry| filter.matches(entry))
            .cloned()
            .collect()
    }

    /// Forgets every entry; numbering goes on where it was, so an id seen
    /// before a reset never names a different request after it.
    pub fn clear(&self) {
        self.state.lock().kept.clear();
    }
}

/// Shortens `text` to at most `limit` bytes, on a character
/// boundary (a raw path is ASCII, but a query may hold anything).
fn cut(text: &mut String, limit: usize) {
    if text.len() <= limit {
        return;
    }
    let mut end = limit;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text.truncate(end);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(method: Cow<'static, str>, path: String) -> JournalEntry {
        JournalEntry {
            id: 0,
            at: Timestamp::UNIX_EPOCH,
            real_at: Timestamp::UNIX_EPOCH,
            method,
            path,
            query: None,
            status_code: 404,
            sighting: Sighting::default(),
            fault_id: None,
        }
    }

    #[test]
    fn long_made_up_methods_and_paths_are_cut_and_http_methods_kept() {
        let journal = Journal::new(10);
        journal.record(entry(Cow::Owned("M".repeat(60_000)), "/".repeat(5_000)));
        journal.record(entry(Cow::Borrowed("DELETE"), "/x".into()));

        let kept = journal.entries(&JournalFilter::default());

        assert_eq!(kept[0].method, "M".repeat(MAX_KEPT_METHOD));
        assert_eq!(kept[0].path.len(), MAX_KEPT_TEXT);
        assert_eq!(kept[1].method, "DELETE");
    }
}
