//! Rounds: concurrent callers that need the same kind of small statement share one.
//!
//! Under load many tasks read the change counters at the same moment, and many token
//! requests remember a jti at the same moment. Each such caller puts its input in the
//! queue; one task at a time takes *everything* queued and runs one round (one statement)
//! for all of it, then takes what queued up meanwhile, until the queue is empty.
//!
//! A round only ever holds inputs queued *before* it started. A read therefore sees every
//! commit that finished before its caller asked, exactly as a read of its own would: the
//! counters stay as fresh as reading them per decision, at a fraction of the statements.
//! Rounds run in a task of their own, so a caller that gives up (a closed connection
//! drops its handler) cannot cut a round short and leave the others without an answer.

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::oneshot;

/// One round: the queued inputs in, one output per input (same order) out.
pub(crate) type Round<I, O> =
    Box<dyn Fn(Vec<I>) -> Pin<Box<dyn Future<Output = Vec<O>> + Send>> + Send + Sync>;

/// The round was lost before it answered (the task running it panicked).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RoundLost;

pub(crate) struct Batcher<I, O> {
    round: Round<I, O>,
    queue: Mutex<Queue<I, O>>,
}

struct Queue<I, O> {
    /// Whether a task is running rounds (and will take what is queued).
    running: bool,
    waiting: VecDeque<(I, oneshot::Sender<O>)>,
}

impl<I: Send + 'static, O: Send + 'static> Batcher<I, O> {
    pub(crate) fn new(round: Round<I, O>) -> Arc<Self> {
        Arc::new(Self {
            round,
            queue: Mutex::new(Queue {
                running: false,
                waiting: VecDeque::new(),
            }),
        })
    }

    /// Queues `input` and waits for the output of the round that takes it.
    pub(crate) async fn run(self: &Arc<Self>, input: I) -> Result<O, RoundLost> {
        let (reply, answer) = oneshot::channel();
        let start = {
            let mut queue = self.queue();
            queue.waiting.push_back((input, reply));
            !std::mem::replace(&mut queue.running, true)
        };
        if start {
            tokio::spawn(self.clone().rounds());
        }
        answer.await.map_err(|_| RoundLost)
    }

    fn queue(&self) -> MutexGuard<'_, Queue<I, O>> {
        // Only plain data sits behind the lock; a panic elsewhere leaves it usable.
        self.queue.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Runs rounds until the queue is empty.
    async fn rounds(self: Arc<Self>) {
        // If a round panics, the guard hands what is still queued to a new task; the
        // replies of the lost round are dropped, so its callers hear `RoundLost`.
        let _guard = Running(self.clone());
        loop {
            // Tasks that are ready now run first and may still join this round: on a
            // busy runtime that makes rounds larger at the cost of one turn of the queue.
            tokio::task::yield_now().await;
            let batch: Vec<(I, oneshot::Sender<O>)> = {
                let mut queue = self.queue();
                if queue.waiting.is_empty() {
                    queue.running = false;
                    return;
                }
                queue.waiting.drain(..).collect()
            };
            let (inputs, replies): (Vec<I>, Vec<_>) = batch.into_iter().unzip();
            let outputs = (self.round)(inputs).await;
            debug_assert_eq!(outputs.len(), replies.len(), "one output per input");
            for (reply, output) in replies.into_iter().zip(outputs) {
                // A caller that went away no longer needs its answer.
                let _ = reply.send(output);
            }
        }
    }
}

/// Keeps the queue moving when a round panics: callers that queued behind the lost
/// round (some may even have queued while it unwound) get a task of their own.
struct Running<I: Send + 'static, O: Send + 'static>(Arc<Batcher<I, O>>);

impl<I: Send + 'static, O: Send + 'static> Drop for Running<I, O> {
    fn drop(&mut self) {
        // On a normal end `rounds` has cleared `running` itself, under the lock that
        // saw the queue empty; touching it again here could race a newly started task.
        if !std::thread::panicking() {
            return;
        }
        let mut queue = self.0.queue();
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) if !queue.waiting.is_empty() => {
                // `running` stays true: the new task owns the queue from here.
                runtime.spawn(self.0.clone().rounds());
            }
            _ => {
                // Nothing queued, or no runtime to run it on: dropping the replies
                // answers those callers with `RoundLost` instead of leaving them waiting.
                queue.waiting.clear();
                queue.running = false;
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    use super::*;

    /// Answers (round number, round size).
    type Reads = Arc<Batcher<usize, (usize, usize)>>;

    /// A "read" that reports how many rounds had started when it began, and takes a while.
    fn counting_reads() -> (Reads, Arc<AtomicUsize>) {
        let started = Arc::new(AtomicUsize::new(0));
        let counter = started.clone();
        let batcher = Batcher::new(Box::new(move |inputs: Vec<usize>| {
            let round = counter.fetch_add(1, Ordering::SeqCst) + 1;
            let size = inputs.len();
            Box::pin(async move {
                tokio::time::sleep(Duration::from_millis(5)).await;
                inputs.into_iter().map(|_| (round, size)).collect()
            })
        }));
        (batcher, started)
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn every_caller_is_answered_by_a_round_that_started_after_it_asked() {
        let (batcher, started) = counting_reads();
        let mut tasks = Vec::new();
        for i in 0..200 {
            let (batcher, started) = (batcher.clone(), started.clone());
            tasks.push(tokio::spawn(async move {
                if i % 7 == 0 {
                    tokio::time::sleep(Duration::from_millis(3)).await;
                }
                let before = started.load(Ordering::SeqCst);
                let (round, _) = batcher.run(i).await.unwrap();
                assert!(
                    round > before,
                    "answered by round {round}, but {before} rounds had started before it asked"
                );
                round
            }));
        }
        let mut rounds = Vec::new();
        for task in tasks {
            rounds.push(task.await.unwrap());
        }
        let distinct = {
            rounds.sort_unstable();
            rounds.dedup();
            rounds.len()
        };
        assert!(
            distinct < 200,
            "200 concurrent callers should share rounds, got {distinct} rounds"
        );
        assert_eq!(started.load(Ordering::SeqCst), distinct);
    }

    #[tokio::test]
    async fn each_input_gets_its_own_output() {
        let batcher: Arc<Batcher<u32, u32>> = Batcher::new(Box::new(|inputs: Vec<u32>| {
            Box::pin(async move { inputs.into_iter().map(|n| n * 10).collect() })
        }));
        let tasks: Vec<_> = (1..=50)
            .map(|n| {
                let batcher = batcher.clone();
                tokio::spawn(async move { (n, batcher.run(n).await.unwrap()) })
            })
            .collect();
        let mut answers = Vec::new();
        for task in tasks {
            answers.push(task.await.unwrap());
        }
        for (n, answer) in answers {
            assert_eq!(answer, n * 10);
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_caller_that_gives_up_does_not_stall_the_others() {
        let (batcher, _) = counting_reads();
        // Starts the round task, then is dropped while its round runs.
        let impatient = tokio::time::timeout(Duration::from_millis(1), batcher.run(0)).await;
        assert!(impatient.is_err(), "the first round takes 5 ms");
        let later = tokio::time::timeout(Duration::from_secs(5), batcher.run(1)).await;
        assert!(matches!(later, Ok(Ok(_))), "the next caller was answered");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_panicking_round_answers_round_lost_and_the_next_round_runs() {
        let batcher: Arc<Batcher<bool, u8>> = Batcher::new(Box::new(|inputs: Vec<bool>| {
            Box::pin(async move {
                assert!(!inputs.iter().any(|&explode| explode), "boom");
                inputs.iter().map(|_| 1).collect()
            })
        }));
        assert_eq!(batcher.run(true).await, Err(RoundLost));
        assert_eq!(batcher.run(false).await, Ok(1));
    }
}
