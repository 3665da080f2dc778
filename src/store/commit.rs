//! Group commit for new pipelines.
//!
//! A trigger is acknowledged only once its pipeline is on disk, and with
//! `synchronous = FULL` every commit costs an fsync: a few milliseconds that
//! would cap triggers at a few hundred a second if each paid its own. So new
//! pipelines are handed to one thread that owns the writing: it takes every
//! insert waiting in its queue, writes them in a single transaction, commits
//! once, and only then answers each caller. Under load a batch holds as many
//! triggers as arrived during the previous fsync, and those the runtime
//! finishes while the thread steps aside for it (see [`gather`]); alone, a
//! trigger is a batch of one and waits for nothing.
//!
//! The callers await their answer on a oneshot channel, so no runtime
//! thread is blocked while the disk works.

use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::sync::mpsc;

use parking_lot::Mutex;
use rusqlite::Connection;
use tokio::sync::oneshot;

use crate::model::{NewPipeline, Pipeline};

use super::StoreError;
use super::inserts::{EncodedPipeline, IidCounters, Written, write_batch};

/// The most inserts one transaction takes; the rest wait for the next, so
/// the writer lock is never held for long.
const MAX_BATCH: usize = 512;

/// How many times the thread steps aside for the triggers still being
/// parsed before it writes what it holds (see [`gather`]).
const GATHER_ROUNDS: usize = 8;

/// What a caller gets back: the stored pipeline, or its new pipeline back
/// when a reset came between the caller's clock reading and the write.
pub(super) type Answer = Result<Result<Pipeline, NewPipeline>, StoreError>;

/// What the batch did with one job: written, or left out as stale (`None`).
type Outcome = Result<Option<Written>, StoreError>;

/// One insert waiting for its batch.
pub(super) struct Job {
    pub row: EncodedPipeline,
    /// [`super::Store::generation`] as the caller read it.
    pub generation: u64,
    pub reply: oneshot::Sender<Answer>,
}

/// The sending side of the queue; the thread stops when every clone of the
/// store (and so of this) is gone.
#[derive(Clone)]
pub(super) struct Committer {
    queue: mpsc::Sender<Job>,
}

impl Committer {
    /// Starts the thread that writes through `writer`.
    pub fn start(writer: Arc<Mutex<Connection>>, generation: Arc<AtomicU64>) -> Self {
        let (queue, jobs) = mpsc::channel();
        std::thread::Builder::new()
            .name("gitlab-mock-commit".into())
            .spawn(move || run(&writer, &generation, &jobs))
            .expect("the operating system refused to start the commit thread");
        Self { queue }
    }

    /// Queues `job` and waits for its batch to be committed.
    pub async fn submit(&self, row: EncodedPipeline, generation: u64) -> Answer {
        let (reply, answer) = oneshot::channel();
        let job = Job {
            row,
            generation,
            reply,
        };
        self.queue
            .send(job)
            .map_err(|_| StoreError::CommitterGone)?;
        answer.await.map_err(|_| StoreError::CommitterGone)?
    }
}

/// Takes batches until the queue closes.
fn run(writer: &Mutex<Connection>, generation: &AtomicU64, jobs: &mpsc::Receiver<Job>) {
    while let Ok(first) = jobs.recv() {
        let batch = gather(first, jobs);

        let outcomes = commit_batch(&mut writer.lock(), generation, &batch);
        tracing::trace!(size = batch.len(), "committed a batch of pipelines");
        for (job, outcome) in batch.into_iter().zip(outcomes) {
            let answer = match outcome {
                Ok(Some(written)) => Ok(Ok(job.row.into_pipeline(written))),
                Ok(None) => Ok(Err(job.row.into_new())),
                Err(error) => Err(error),
            };
            // A caller that went away (its client hung up) needs no answer;
            // its pipeline stays stored, as GitLab would keep it.
            let _ = job.reply.send(answer);
        }
    }
}

/// The batch that starts with `first`: everything queued behind it, and
/// what arrives while the thread yields its core, as long as each yield
/// brings more.
///
/// The first trigger of a burst wakes this thread at once, and where it
/// shares a core with the runtime (a container given one CPU, or the
/// benchmark's `taskset`) it would otherwise commit that trigger alone
/// while the runtime still holds the rest of the burst, parsed or not:
/// every fsync, and every page rewritten to the WAL, would then be paid
/// for a handful of rows. Yielding lets the runtime finish what it has
/// ready first. Where the thread has a core of its own, a yield finds
/// nothing else to run and returns at once, so a lone trigger waits for
/// one system call, not for a timer.
fn gather<T>(first: T, jobs: &mpsc::Receiver<T>) -> Vec<T> {
    let mut batch = vec![first];
    batch.extend(jobs.try_iter().take(MAX_BATCH - 1));
    for _ in 0..GATHER_ROUNDS {
        if batch.len() >= MAX_BATCH {
            break;
        }
        std::thread::yield_now();

        let before = batch.len();
        batch.extend(jobs.try_iter().take(MAX_BATCH - before));
        if batch.len() == before {
            break;
        }
    }
    batch
}

/// Writes every job of the batch in one transaction. A job whose own
/// statement fails gets its error without taking the others down; a
/// failed commit fails them all, since none of them is on disk.
fn commit_batch(conn: &mut Connection, generation: &AtomicU64, batch: &[Job]) -> Vec<Outcome> {
    let tx = match conn.transaction() {
        Ok(tx) => tx,
        Err(error) => return failed_all(batch.len(), &error.into()),
    };

    let current = generation.load(std::sync::atomic::Ordering::SeqCst);
    let fresh: Vec<&EncodedPipeline> = batch
        .iter()
        .filter(|job| job.generation == current)
        .map(|job| &job.row)
        .collect();
    let mut iids = IidCounters::default();
    let mut written = match write_batch(&tx, &fresh, &mut iids) {
        Ok(written) => written.into_iter(),
        Err(error) => return failed_all(batch.len(), &error),
    };
    let outcomes: Vec<Outcome> = batch
        .iter()
        .map(|job| match job.generation == current {
            // One answer for each fresh row, in their order; were one
            // missing, the caller would write its pipeline again.
            true => written.next().map_or(Ok(None), |one| one.map(Some)),
            false => Ok(None),
        })
        .collect();
    if let Err(error) = iids.save(&tx) {
        return failed_all(batch.len(), &error);
    }

    match tx.commit() {
        Ok(()) => outcomes,
        Err(error) => {
            tracing::error!(%error, size = batch.len(), "a batch of pipelines failed to commit");
            failed_all(batch.len(), &error.into())
        }
    }
}

fn failed_all(size: usize, error: &StoreError) -> Vec<Outcome> {
    (0..size)
        .map(|_| Err(StoreError::CommitFailed(error.to_string())))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn queue_of(count: usize) -> mpsc::Receiver<usize> {
        let (sender, receiver) = mpsc::channel();
        for job in 1..=count {
            sender.send(job).unwrap();
        }
        receiver
    }

    #[test]
    fn a_batch_takes_everything_queued_in_order() {
        let queue = queue_of(40);

        let batch = gather(0, &queue);

        assert_eq!(batch, (0..=40).collect::<Vec<_>>());
    }

    #[test]
    fn a_batch_stops_at_its_limit_and_the_rest_waits_for_the_next() {
        let queue = queue_of(MAX_BATCH + 99);

        let first = gather(0, &queue);
        let second = gather(usize::MAX, &queue);

        assert_eq!(first.len(), MAX_BATCH);
        assert_eq!(first.last(), Some(&(MAX_BATCH - 1)));
        assert_eq!(second.len(), 101);
        assert_eq!(second[1], MAX_BATCH);
        assert!(queue.try_recv().is_err());
    }
}
