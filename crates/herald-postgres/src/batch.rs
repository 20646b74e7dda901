//! Group commit for the store's one-row statements: requests that arrive while a batch is
//! running go together in the next one, so many claims (or completes) cost one statement,
//! one round trip and one commit. There is no timer: a request to an idle store runs at
//! once, alone.

use std::future::Future;
use std::sync::Arc;

use herald_core::StoreError;
use tokio::sync::{Semaphore, mpsc, oneshot};

type Reply<O> = oneshot::Sender<Result<O, StoreError>>;

/// A queue of requests `I` answered with `O` by a task that runs one batch at a time.
pub(crate) struct Batcher<I, O> {
    queue: mpsc::UnboundedSender<(I, Reply<O>)>,
}

impl<I: Send + 'static, O: Send + 'static> Batcher<I, O> {
    /// Starts the task (on the current tokio runtime): it runs `run` over at most `max`
    /// queued requests at a time, with up to `parallel` batches running at once; `run`
    /// answers each of its requests, in their order. The task ends when the last `Batcher`
    /// handle is dropped and the queue is empty.
    pub(crate) fn spawn<F, Fut>(max: usize, parallel: usize, run: F) -> Self
    where
        F: Fn(Vec<I>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Vec<Result<O, StoreError>>> + Send + 'static,
    {
        let (queue, mut requests) = mpsc::unbounded_channel::<(I, Reply<O>)>();
        let (max, run) = (max.max(1), Arc::new(run));
        let slots = Arc::new(Semaphore::new(parallel.max(1)));
        tokio::spawn(async move {
            loop {
                // Requests queue up while every slot is busy: the next batch takes them all.
                let Ok(slot) = slots.clone().acquire_owned().await else {
                    return;
                };
                let mut batch = Vec::with_capacity(max);
                if requests.recv_many(&mut batch, max).await == 0 {
                    return;
                }
                let run = run.clone();
                tokio::spawn(async move {
                    let (items, replies): (Vec<I>, Vec<Reply<O>>) = batch.into_iter().unzip();
                    let answers = run(items).await;
                    drop(slot);
                    debug_assert_eq!(answers.len(), replies.len(), "one answer per request");
                    for (reply, answer) in replies.into_iter().zip(answers) {
                        // The caller may have stopped waiting; its request ran all the same.
                        let _ = reply.send(answer);
                    }
                });
            }
        });
        Batcher { queue }
    }

    /// Queues `item` and waits for its answer.
    pub(crate) async fn call(&self, item: I) -> Result<O, StoreError> {
        let (reply, answer) = oneshot::channel();
        self.queue.send((item, reply)).map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }
}

fn stopped() -> StoreError {
    StoreError::Backend("the store's batching task stopped (its tokio runtime shut down)".into())
}
