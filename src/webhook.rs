//! Posting pipeline events to project hooks, and the log of every attempt.
//!
//! The domain layer decides which events exist and in which order (see
//! `mock::hooks`); this module only carries them. Events wait in one queue
//! and a single task makes each one's first attempt in queue order, so a
//! receiver sees its events in the order they happened. A failed attempt
//! (no answer, or an answer other than 2xx) is tried again by a task of its
//! own after a short pause, so a receiver that is down holds up the first
//! attempts behind it by at most one attempt's timeout each, and holds up
//! no request but the clock changes that wait for first attempts.
//!
//! The task is started by the first event, on the runtime that sends it,
//! and ends when the [`Deliveries`] that feeds it is dropped.

use std::collections::VecDeque;
use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use bytes::Bytes;
use jiff::Timestamp;
use parking_lot::Mutex;
use tokio::sync::{mpsc, watch};

use crate::clock::truncate_to_millis;
use crate::http::views::pipeline_event_payload;
use crate::mock::ObservedPipeline;
use crate::model::Hook;
use crate::status::PipelineStatus;

/// The GitLab release the mock's `User-Agent` claims to be.
pub const GITLAB_VERSION: &str = "18.6.0";

/// The name GitLab gives pipeline events, in `X-Gitlab-Event` and the log.
pub const PIPELINE_HOOK: &str = "Pipeline Hook";

/// How many attempts the log keeps; older ones are dropped first.
pub const LOG_LIMIT: usize = 10_000;

/// How hard the mock tries to deliver an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeliveryPolicy {
    /// Attempts in all, the first included.
    pub attempts: u32,
    /// The pause before the second attempt; each later pause doubles.
    pub backoff: Duration,
    /// How long one attempt may take, connecting included.
    pub timeout: Duration,
}

impl Default for DeliveryPolicy {
    fn default() -> Self {
        Self {
            attempts: 3,
            backoff: Duration::from_millis(500),
            timeout: Duration::from_secs(5),
        }
    }
}

/// One status change of one pipeline, to be sent to each hook that wants
/// it. `observed` is the pipeline as a read right after the change shows
/// it.
pub struct Event {
    pub observed: ObservedPipeline,
    /// GitLab's `X-Gitlab-Event-UUID`: one per event, whatever the hook.
    uuid: String,
    body: OnceLock<Bytes>,
}

impl Event {
    pub fn new(observed: ObservedPipeline) -> Arc<Self> {
        Arc::new(Self {
            observed,
            uuid: random_uuid(),
            body: OnceLock::new(),
        })
    }

    /// The instant of the change.
    pub fn at(&self) -> Timestamp {
        self.observed.observation.updated_at
    }

    /// The JSON body, rendered once for every hook that gets it.
    fn body(&self, base_url: &str) -> Bytes {
        self.body
            .get_or_init(|| {
                let payload = pipeline_event_payload(&self.observed, base_url);
                Bytes::from(payload.to_string())
            })
            .clone()
    }
}

/// One attempt as the log keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryRecord {
    pub id: u64,
    /// The virtual instant of the transition the event reports.
    pub at: Timestamp,
    /// The system time of the attempt.
    pub real_at: Timestamp,
    pub hook_id: i64,
    pub project_id: i64,
    pub pipeline_id: i64,
    pub event: &'static str,
    pub pipeline_status: PipelineStatus,
    pub attempt: u32,
    /// The receiver's status code; `None` when it did not answer.
    pub response_status: Option<u16>,
    pub error: Option<String>,
}

/// The queue of events and the log of attempts; one per mock.
pub struct Deliveries {
    queue: mpsc::UnboundedSender<Job>,
    /// The task that makes first attempts, until the first event starts it.
    waiting: Mutex<Option<Worker>>,
    shared: Arc<Shared>,
    /// The number of the latest job queued.
    queued: AtomicU64,
    /// The number of the latest job whose first attempt is over.
    attempted: watch::Receiver<u64>,
}

impl std::fmt::Debug for Deliveries {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Deliveries")
            .field("queued", &self.queued.load(Ordering::SeqCst))
            .finish_non_exhaustive()
    }
}

/// What the queue's task and the retry tasks share with the queue.
struct Shared {
    client: reqwest::Client,
    policy: DeliveryPolicy,
    /// The mock's public base URL, for the payload's links and
    /// `X-Gitlab-Instance`.
    base_url: String,
    log: Mutex<Log>,
    /// Counts resets; an attempt queued before one is dropped.
    generation: AtomicU64,
}

#[derive(Default)]
struct Log {
    records: VecDeque<DeliveryRecord>,
    last_id: u64,
}

struct Job {
    number: u64,
    generation: u64,
    hook: Hook,
    event: Arc<Event>,
    /// GitLab's `Idempotency-Key`: the same on every attempt of one event
    /// to one hook.
    idempotency_key: String,
}

struct Worker {
    jobs: mpsc::UnboundedReceiver<Job>,
    attempted: watch::Sender<u64>,
    shared: Arc<Shared>,
}

impl Deliveries {
    /// An empty queue that posts with `policy`; links in payloads start
    /// with `base_url`.
    pub fn new(policy: DeliveryPolicy, base_url: &str) -> Self {
        let (queue, jobs) = mpsc::unbounded_channel();
        let (attempted_tx, attempted) = watch::channel(0);
        let client = reqwest::Client::builder()
            .no_proxy()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(policy.timeout)
            .build()
            .expect("an HTTP client without TLS or proxies always builds");
        let shared = Arc::new(Shared {
            client,
            policy,
            base_url: base_url.to_owned(),
            log: Mutex::new(Log::default()),
            generation: AtomicU64::new(0),
        });
        let worker = Worker {
            jobs,
            attempted: attempted_tx,
            shared: Arc::clone(&shared),
        };
        Self {
            queue,
            waiting: Mutex::new(Some(worker)),
            shared,
            queued: AtomicU64::new(0),
            attempted,
        }
    }

    /// Queues `event` for `hook`.
    pub fn push(&self, hook: &Hook, event: &Arc<Event>) {
        self.start();
        let job = Job {
            number: self.queued.fetch_add(1, Ordering::SeqCst) + 1,
            generation: self.shared.generation.load(Ordering::SeqCst),
            hook: hook.clone(),
            event: Arc::clone(event),
            idempotency_key: random_uuid(),
        };
        tracing::debug!(
            hook = hook.id,
            pipeline = job.event.observed.pipeline.id,
            status = %job.event.observed.observation.status,
            "pipeline event queued"
        );
        // The task ends only once this queue is dropped.
        let _ = self.queue.send(job);
    }

    /// Completes when every event queued so far has had its first attempt.
    pub async fn first_attempts(&self) {
        let target = self.queued.load(Ordering::SeqCst);
        let mut attempted = self.attempted.clone();
        let _ = attempted.wait_for(|done| *done >= target).await;
    }

    /// The log, oldest first, of the given hook and pipeline when asked.
    pub fn log(&self, hook_id: Option<i64>, pipeline_id: Option<i64>) -> Vec<DeliveryRecord> {
        let log = self.shared.log.lock();
        log.records
            .iter()
            .filter(|record| hook_id.is_none_or(|id| id == record.hook_id))
            .filter(|record| pipeline_id.is_none_or(|id| id == record.pipeline_id))
            .cloned()
            .collect()
    }

    /// Forgets the log and drops every attempt not yet made: what reset
    /// does.
    pub fn clear(&self) {
        self.shared.generation.fetch_add(1, Ordering::SeqCst);
        *self.shared.log.lock() = Log::default();
    }

    /// Starts the task on the current runtime, the first time only.
    fn start(&self) {
        let Some(worker) = self.waiting.lock().take() else {
            return;
        };
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => {
                runtime.spawn(worker.run());
            }
            Err(_) => {
                tracing::error!("pipeline events queued outside a runtime are never sent");
            }
        }
    }
}

impl Worker {
    async fn run(mut self) {
        while let Some(job) = self.jobs.recv().await {
            let number = job.number;
            let delivered = self.shared.attempt(&job, 1).await;
            if !delivered && self.shared.policy.attempts > 1 {
                tokio::spawn(Arc::clone(&self.shared).retry(job));
            }
            self.attempted.send_replace(number);
        }
        tracing::debug!("pipeline event queue closed");
    }
}

impl Shared {
    /// The attempts after the first, each after a pause twice the last,
    /// until one is answered with 2xx or the attempts run out.
    async fn retry(self: Arc<Self>, job: Job) {
        let mut pause = self.policy.backoff;
        for attempt in 2..=self.policy.attempts {
            tokio::time::sleep(pause).await;
            pause = pause.saturating_mul(2);
            if self.attempt(&job, attempt).await {
                return;
            }
        }
        tracing::warn!(
            hook = job.hook.id,
            url = %job.hook.url,
            pipeline = job.event.observed.pipeline.id,
            "pipeline event given up after {} attempts",
            self.policy.attempts
        );
    }

    /// Posts the event once and logs how it went; `true` when the receiver
    /// answered 2xx, or when a reset has made the attempt moot.
    async fn attempt(&self, job: &Job, attempt: u32) -> bool {
        if job.generation != self.generation.load(Ordering::SeqCst) {
            return true;
        }
        let real_at = truncate_to_millis(Timestamp::now());
        let (response_status, error) = match self.post(job).await {
            Ok(status) if (200..300).contains(&status) => (Some(status), None),
            Ok(status) => (
                Some(status),
                Some(format!("the receiver answered {status}")),
            ),
            Err(error) => (None, Some(error)),
        };
        let delivered = error.is_none();
        match &error {
            None => tracing::debug!(hook = job.hook.id, attempt, "pipeline event delivered"),
            Some(error) => {
                tracing::warn!(hook = job.hook.id, attempt, %error, "pipeline event not delivered")
            }
        }

        let observed = &job.event.observed;
        let record = |id| DeliveryRecord {
            id,
            at: job.event.at(),
            real_at,
            hook_id: job.hook.id,
            project_id: observed.pipeline.project_id,
            pipeline_id: observed.pipeline.id,
            event: PIPELINE_HOOK,
            pipeline_status: observed.observation.status,
            attempt,
            response_status,
            error,
        };
        let mut log = self.log.lock();
        if job.generation == self.generation.load(Ordering::SeqCst) {
            log.last_id += 1;
            let id = log.last_id;
            if log.records.len() >= LOG_LIMIT {
                log.records.pop_front();
            }
            log.records.push_back(record(id));
        }
        delivered
    }

    /// One POST with GitLab's headers; the status code, or why there was
    /// none.
    async fn post(&self, job: &Job) -> Result<u16, String> {
        if job.hook.url.starts_with("https:") {
            return Err("https receivers are not supported: the mock posts plain http".into());
        }
        let mut request = self
            .client
            .post(&job.hook.url)
            .timeout(self.policy.timeout)
            .header("content-type", "application/json")
            .header("user-agent", format!("GitLab/{GITLAB_VERSION}"))
            .header("x-gitlab-event", PIPELINE_HOOK)
            .header("x-gitlab-event-uuid", &job.event.uuid)
            .header("x-gitlab-webhook-uuid", webhook_uuid(&job.hook))
            .header("x-gitlab-instance", &self.base_url)
            .header("idempotency-key", &job.idempotency_key)
            .body(job.event.body(&self.base_url));
        if let Some(token) = &job.hook.token {
            request = request.header("x-gitlab-token", token);
        }
        match request.send().await {
            Ok(response) => Ok(response.status().as_u16()),
            Err(error) if error.is_timeout() => Err(format!(
                "no answer within {} ms",
                self.policy.timeout.as_millis()
            )),
            Err(error) => Err(describe(&error)),
        }
    }
}

/// An error with the causes reqwest wraps it around, which say what
/// actually failed (`Connection refused`).
fn describe(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(inner) = cause {
        text.push_str(": ");
        text.push_str(&inner.to_string());
        cause = inner.source();
    }
    text
}

/// A version 4 UUID. Each `RandomState` is seeded afresh, so two in a row
/// give unrelated halves.
fn random_uuid() -> String {
    let half = || RandomState::new().build_hasher().finish();
    uuid_text(half(), half())
}

/// GitLab's `X-Gitlab-Webhook-UUID`: the same for every event of one hook,
/// derived from its id and creation so it survives a restart.
fn webhook_uuid(hook: &Hook) -> String {
    let seeded = |salt: u64| {
        let mut hasher = std::hash::DefaultHasher::new();
        hasher.write_u64(salt);
        hasher.write_i64(hook.id);
        hasher.write_i64(hook.created_at.as_millisecond());
        hasher.finish()
    };
    uuid_text(seeded(1), seeded(2))
}

fn uuid_text(high: u64, low: u64) -> String {
    let high = (high & !0xf000) | 0x4000;
    let low = (low & !(0b11 << 62)) | (0b10 << 62);
    let hex = format!("{high:016x}{low:016x}");
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}
