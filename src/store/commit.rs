//! Group commit for new pipelines.
//!
//! A trigger is acknowledged only once its pipeline is on disk, and with
//! `synchronous = FULL` every commit costs an fsync: a few milliseconds that
//! would cap triggers at a few hundred a second if each paid its own. So new
//! pipelines are handed to one thread that owns the writing: it takes every
//! insert waiting in its queue, writes them in a single transaction, commits
//! once, and only then answers each caller. Under load a batch holds as many
//! triggers as arrived during the previous fsync, and those the runtime
//! finishes while the thread steps aside for it (see [`take_batch`]);
//! alone, a trigger is a batch of one and waits for nothing.
//!
//! The callers await their answer on a oneshot channel, so no runtime
//! thread is blocked while the disk works.

use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use rusqlite::Connection;
use tokio::sync::oneshot;

use crate::model::{NewPipeline, Pipeline};

use super::StoreError;
use super::inserts::{EncodedPipeline, IidCounters, Written, write_batch};

/// The most inserts one transaction takes; the rest wait for the next, so
/// the writer lock is never held for long.
const MAX_BATCH: usize = 512;

/// At most how many times the thread steps aside for the triggers still
/// being parsed before it writes what it holds (see [`take_batch`]).
const GATHER_ROUNDS: usize = 8;

/// How long a batch may go on stepping aside. A yield on a core whose
/// runtime is busy (polls, say) can hand over a whole scheduler slice, and
/// eight of them would hold a trigger for several milliseconds; parsing a
/// burst of 64 triggers on one core takes about 1.5 ms.
const GATHER_PATIENCE: Duration = Duration::from_millis(2);

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
    let mut last_size = 0;
    while let Ok(first) = jobs.recv() {
        let batch = match last_size > 1 {
            true => take_batch(first, jobs),
            false => take_batch_stepping(first, jobs, || false),
        };
        last_size = batch.len();

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
/// brings more (at most [`GATHER_ROUNDS`] yields, none started after
/// [`GATHER_PATIENCE`]). Only a batch after one of several triggers steps
/// aside: a trigger that comes alone gains nothing from a yield, and on a
/// core the runtime keeps busy with other requests one yield can cost it
/// a scheduler slice (0.6 ms at the median with polls flooding one core).
///
/// The first trigger of a burst wakes this thread at once, and where it
/// shares a core with the runtime (a server pinned to one CPU, as the
/// benchmark's `taskset` pins it) it would otherwise commit that trigger
/// and the few behind it while the runtime still holds the rest of the
/// burst: every fsync, and every page rewritten to the WAL, would then be
/// paid for a handful of rows. Yielding lets the runtime finish what it
/// has ready first. When nothing else is ready to run on the thread's
/// core, a yield returns at once.
fn take_batch<T>(first: T, jobs: &mpsc::Receiver<T>) -> Vec<T> {
    let started = Instant::now();
    take_batch_stepping(first, jobs, || {
        std::thread::yield_now();
        started.elapsed() < GATHER_PATIENCE
    })
}

/// [`take_batch`] with its step given: `step` lets others run and says
/// whether there is time for another.
fn take_batch_stepping<T>(
    first: T,
    jobs: &mpsc::Receiver<T>,
    mut step: impl FnMut() -> bool,
) -> Vec<T> {
    let mut batch = vec![first];
    batch.extend(jobs.try_iter().take(MAX_BATCH - 1));
    for _ in 0..GATHER_ROUNDS {
        if batch.len() >= MAX_BATCH {
            break;
        }
        let time_left = step();

        let before = batch.len();
        batch.extend(jobs.try_iter().take(MAX_BATCH - before));
        if batch.len() == before || !time_left {
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

    fn queue_of(count: usize) -> (mpsc::Sender<usize>, mpsc::Receiver<usize>) {
        let (sender, receiver) = mpsc::channel();
        for job in 1..=count {
            sender.send(job).unwrap();
        }
        (sender, receiver)
    }

    /// A step that stands for the runtime parsing `per_step` more triggers
    /// while the thread is aside, and reports `time_left`.
    fn arrivals(
        sender: &mpsc::Sender<usize>,
        per_step: usize,
        time_left: bool,
    ) -> impl FnMut() -> bool + '_ {
        let mut next = 1000;
        move || {
            for _ in 0..per_step {
                sender.send(next).unwrap();
                next += 1;
            }
            time_left
        }
    }

    #[test]
    fn a_batch_takes_everything_queued_in_order() {
        let (_sender, queue) = queue_of(40);

        let batch = take_batch(0, &queue);

        assert_eq!(batch, (0..=40).collect::<Vec<_>>());
    }

    #[test]
    fn a_batch_takes_what_each_step_brings_until_one_brings_nothing() {
        let (sender, queue) = queue_of(2);
        let mut steps = 0;

        let batch = take_batch_stepping(0, &queue, || {
            steps += 1;
            if steps <= 3 {
                sender.send(100 + steps).unwrap();
            }
            true
        });

        assert_eq!(batch, vec![0, 1, 2, 101, 102, 103]);
        assert_eq!(steps, 4);
    }

    #[test]
    fn a_batch_steps_aside_a_bounded_number_of_times() {
        let (sender, queue) = queue_of(0);

        let batch = take_batch_stepping(0, &queue, arrivals(&sender, 3, true));

        assert_eq!(batch.len(), 1 + 3 * GATHER_ROUNDS);
    }

    #[test]
    fn a_batch_stops_stepping_aside_when_time_is_up() {
        let (sender, queue) = queue_of(0);

        let batch = take_batch_stepping(0, &queue, arrivals(&sender, 3, false));

        assert_eq!(batch, vec![0, 1000, 1001, 1002]);
        assert_eq!(queue.try_iter().count(), 0);
    }

    #[test]
    fn a_batch_stops_at_its_limit_and_the_rest_waits_for_the_next() {
        let (sender, queue) = queue_of(MAX_BATCH - 50);

        let first = take_batch_stepping(0, &queue, arrivals(&sender, 100, true));
        let second = take_batch_stepping(usize::MAX, &queue, || false);

        assert_eq!(first.len(), MAX_BATCH);
        assert_eq!(first.last(), Some(&1048));
        assert_eq!(second.len(), 1 + 51);
        assert_eq!(second[1], 1049);
        assert!(queue.try_recv().is_err());
    }
}
