//! Posting pipeline events to project hooks, and the log of every attempt.
//!
//! The domain layer decides which events exist and in which order (see
//! `mock::hooks`); this module only carries them. Each hook has a queue,
//! and a task of its own makes each event's first attempt in queue order,
//! so a receiver sees its events in the order they happened and a slow
//! receiver holds up no other hook's. A failed attempt (no answer, or an
//! answer other than 2xx) is tried again by a task of its own after a
//! short pause, so a receiver that is down holds up the first attempts
//! behind it by at most one attempt's timeout each, and holds up no
//! request but the clock changes that wait for first attempts.
//!
//! A hook's task is started by its first event, on the runtime that sends
//! it, and ends when the [`Deliveries`] that feeds it is dropped.

use std::collections::{BTreeSet, HashMap, VecDeque};
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

mod ids;

use ids::{random_uuid, webhook_uuid};

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

/// The queues of events and the log of attempts; one per mock.
pub struct Deliveries {
    /// One queue per hook, each emptied by a task of its own, made when
    /// the hook's first event comes.
    queues: Mutex<HashMap<i64, mpsc::UnboundedSender<Job>>>,
    shared: Arc<Shared>,
    /// The number of the latest job queued.
    queued: AtomicU64,
    /// Changes whenever a first attempt ends.
    attempted: watch::Receiver<()>,
}

impl std::fmt::Debug for Deliveries {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Deliveries")
            .field("queued", &self.queued.load(Ordering::SeqCst))
            .finish_non_exhaustive()
    }
}

/// What the queues' tasks and the retry tasks share with the queues.
struct Shared {
    client: reqwest::Client,
    policy: DeliveryPolicy,
    /// The mock's public base URL, for the payload's links and
    /// `X-Gitlab-Instance`.
    base_url: String,
    log: Mutex<Log>,
    /// Counts resets; an attempt queued before one is dropped.
    generation: AtomicU64,
    /// The jobs still waiting for their first attempt, by hook.
    progress: Mutex<HashMap<i64, Progress>>,
    attempted: watch::Sender<()>,
}

#[derive(Default)]
struct Log {
    records: VecDeque<DeliveryRecord>,
    last_id: u64,
}

/// One hook's jobs waiting for their first attempt, and whether its
/// receiver is down: its latest attempt got no answer at all.
#[derive(Default)]
struct Progress {
    waiting: BTreeSet<u64>,
    down: bool,
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

impl Deliveries {
    /// No queues yet; posts with `policy`, and links in payloads start
    /// with `base_url`.
    pub fn new(policy: DeliveryPolicy, base_url: &str) -> Self {
        let (attempted_tx, attempted) = watch::channel(());
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
            progress: Mutex::new(HashMap::new()),
            attempted: attempted_tx,
        });
        Self {
            queues: Mutex::new(HashMap::new()),
            shared,
            queued: AtomicU64::new(0),
            attempted,
        }
    }

    /// Queues `event` for `hook`, behind the hook's earlier events.
    pub fn push(&self, hook: &Hook, event: &Arc<Event>) {
        let mut queues = self.queues.lock();
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
        let queue = queues
            .entry(hook.id)
            .or_insert_with(|| self.start_queue(hook.id));
        let (number, hook_id) = (job.number, hook.id);
        self.shared
            .progress
            .lock()
            .entry(hook_id)
            .or_default()
            .waiting
            .insert(number);
        if queue.send(job).is_err() {
            // Only a queue whose task could not start is closed.
            self.shared.finished(hook_id, number, true);
        }
    }

    /// Completes when every event queued so far has had its first attempt,
    /// except events to a receiver that is down (its latest attempt got no
    /// answer): those would hold a clock change up by a whole timeout
    /// each, and are sent in the background.
    pub async fn first_attempts(&self) {
        // Read under the queues' lock, which `push` holds from numbering a
        // job until it is counted as waiting.
        let target = {
            let _queues = self.queues.lock();
            self.queued.load(Ordering::SeqCst)
        };
        let mut attempted = self.attempted.clone();
        let shared = &self.shared;
        let _ = attempted
            .wait_for(|()| {
                let progress = shared.progress.lock();
                progress.values().all(|hook| {
                    hook.down || hook.waiting.first().is_none_or(|first| *first > target)
                })
            })
            .await;
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
        // Each hook's task drains what it still holds as moot and ends; a
        // new hook, which may reuse an old hook's id, gets a new queue and
        // never waits behind an old post still in flight.
        self.queues.lock().clear();
        *self.shared.log.lock() = Log::default();
        // Hook ids start again at 1, and a new hook must not inherit an
        // old one's outage.
        self.shared.progress.lock().clear();
        self.shared.attempted.send_replace(());
    }

    /// A hook's queue and the task that empties it, on the current
    /// runtime. The task ends when the queue is dropped with these
    /// deliveries.
    fn start_queue(&self, hook_id: i64) -> mpsc::UnboundedSender<Job> {
        let (queue, mut jobs) = mpsc::unbounded_channel::<Job>();
        let shared = Arc::clone(&self.shared);
        let first_attempts = async move {
            while let Some(job) = jobs.recv().await {
                let number = job.number;
                let was_down = shared.is_down(hook_id);
                let outcome = shared.attempt(&job, 1).await;
                if !shared.is_current(&job) {
                    // Reset while it was posted: its hook id may be a new
                    // hook's now, whose progress is not this job's to touch.
                    continue;
                }
                shared.finished(hook_id, number, outcome.answered);
                // A receiver already known to be down gets one attempt an
                // event until it answers again, or an outage would cost
                // every event a whole round of retries.
                if !outcome.delivered && !was_down && shared.policy.attempts > 1 {
                    tokio::spawn(Arc::clone(&shared).retry(job));
                }
            }
            tracing::debug!(hook = hook_id, "pipeline event queue closed");
        };
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => drop(runtime.spawn(first_attempts)),
            Err(_) => tracing::error!("pipeline events queued outside a runtime are never sent"),
        }
        queue
    }
}

impl Shared {
    /// Whether no reset has come since `job` was queued.
    fn is_current(&self, job: &Job) -> bool {
        job.generation == self.generation.load(Ordering::SeqCst)
    }

    /// Notes that job `number` of a hook has had its first attempt, and
    /// whether its receiver answered.
    fn finished(&self, hook_id: i64, number: u64, answered: bool) {
        self.progress
            .lock()
            .entry(hook_id)
            .or_default()
            .waiting
            .remove(&number);
        self.note_answer(hook_id, answered);
    }

    /// Whether the hook's receiver left its latest attempt unanswered.
    fn is_down(&self, hook_id: i64) -> bool {
        self.progress
            .lock()
            .get(&hook_id)
            .is_some_and(|hook| hook.down)
    }

    /// Notes whether a hook's receiver answered its latest attempt.
    fn note_answer(&self, hook_id: i64, answered: bool) {
        self.progress.lock().entry(hook_id).or_default().down = !answered;
        self.attempted.send_replace(());
    }

    /// The attempts after the first, each after a pause twice the last,
    /// until one is answered with 2xx or the attempts run out.
    async fn retry(self: Arc<Self>, job: Job) {
        let mut pause = self.policy.backoff;
        for attempt in 2..=self.policy.attempts {
            tokio::time::sleep(pause).await;
            pause = pause.saturating_mul(2);
            let outcome = self.attempt(&job, attempt).await;
            if !self.is_current(&job) {
                return;
            }
            self.note_answer(job.hook.id, outcome.answered);
            if outcome.delivered {
                return;
            }
        }
        tracing::debug!(
            hook = job.hook.id,
            url = %job.hook.url,
            pipeline = job.event.observed.pipeline.id,
            "pipeline event given up after {} attempts",
            self.policy.attempts
        );
    }

    /// Posts the event once and logs how it went.
    async fn attempt(&self, job: &Job, attempt: u32) -> Outcome {
        if job.generation != self.generation.load(Ordering::SeqCst) {
            // A reset has made the attempt moot.
            return Outcome {
                delivered: true,
                answered: true,
            };
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
        let outcome = Outcome {
            delivered: error.is_none(),
            answered: response_status.is_some(),
        };
        // At debug level only, as is giving up: a receiver that is down
        // fails every event, and the delivery log shows each attempt.
        match &error {
            None => tracing::debug!(hook = job.hook.id, attempt, "pipeline event delivered"),
            Some(error) => {
                tracing::debug!(hook = job.hook.id, attempt, %error, "pipeline event not delivered")
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
        outcome
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

/// How an attempt went.
struct Outcome {
    /// Answered with 2xx.
    delivered: bool,
    /// Answered at all.
    answered: bool,
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
