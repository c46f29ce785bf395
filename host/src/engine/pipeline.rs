//! Working through claimed items at the rate of the peer they go to.
//!
//! One claimer takes due items from the store in bounded batches (each claim committed before
//! any item of it is worked, so several hosts split the work and none does an item twice), and
//! hands them to workers through a bounded queue: the claimer stays at most one batch ahead, and
//! no tick holds every due item in memory. Twice as many workers as calls in flight run at once,
//! so one worker's store writes overlap another's call; [`Pipeline::call`] bounds the calls. With
//! one call in flight, one worker works the items in the order claimed.

use super::EngineError;
use futures_util::{StreamExt, TryStreamExt, stream};
use std::future::Future;
use tokio::sync::{Semaphore, SemaphorePermit, mpsc};

/// The bound on a pipeline's calls to its peer.
pub(super) struct Pipeline {
    in_flight: usize,
    calls: Semaphore,
}

impl Pipeline {
    /// A pipeline with at most `in_flight` calls to its peer at once (at least one).
    pub(super) fn new(in_flight: usize) -> Self {
        let in_flight = in_flight.max(1);
        Pipeline { in_flight, calls: Semaphore::new(in_flight) }
    }

    /// Whether it works more than one item at a time (one at a time keeps the order of events).
    pub(super) fn concurrent(&self) -> bool {
        self.in_flight > 1
    }

    /// How many items are worked at once: twice the calls in flight, or strictly one at a time.
    fn workers(&self) -> usize {
        if self.concurrent() { self.in_flight.saturating_mul(2) } else { 1 }
    }

    /// How many items a claim takes: enough to keep every worker busy, and no more.
    pub(super) fn batch(&self) -> i64 {
        i64::try_from(self.in_flight.saturating_mul(2).clamp(1, MAX_BATCH)).unwrap_or(1)
    }

    /// Waits for a turn to call the peer; the turn ends when the permit is dropped.
    pub(super) async fn call(&self) -> Option<SemaphorePermit<'_>> {
        self.calls.acquire().await.ok()
    }

    /// Claims with `claim` until it gives nothing, and works each item with `work`; gives how
    /// many items were worked. The first error stops the claimer and the workers: items claimed
    /// and not worked stay claimed until their lease ends, then any host takes them again.
    pub(super) async fn run<T, C, CF, W, WF>(&self, mut claim: C, work: W) -> Result<usize, EngineError>
    where
        C: FnMut(i64) -> CF,
        CF: Future<Output = Result<Vec<T>, EngineError>>,
        W: Fn(T) -> WF,
        WF: Future<Output = Result<(), EngineError>>,
    {
        let batch = self.batch();
        let (queue, claimed) = mpsc::channel::<T>(usize::try_from(batch).unwrap_or(1));
        let claimer = async move {
            loop {
                let items = claim(batch).await?;
                if items.is_empty() {
                    return Ok::<(), EngineError>(());
                }
                for item in items {
                    if queue.send(item).await.is_err() {
                        return Ok(());
                    }
                }
            }
        };
        let items =
            stream::unfold(claimed, |mut claimed| async move { claimed.recv().await.map(|item| (item, claimed)) });
        let workers =
            items.map(&work).buffer_unordered(self.workers()).try_fold(0usize, |done, ()| async move { Ok(done + 1) });
        let (claimed, worked) = futures_util::future::join(claimer, workers).await;
        let worked = worked?;
        claimed?;
        Ok(worked)
    }
}

/// The most items one claim takes.
const MAX_BATCH: usize = 500;

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    #[tokio::test]
    async fn every_claimed_item_is_worked_once_with_the_calls_in_flight_bounded() {
        let pipeline = Pipeline::new(4);
        let next = Mutex::new(0..40);
        let (now, most) = (AtomicUsize::new(0), AtomicUsize::new(0));
        let worked = Mutex::new(vec![]);
        let batches = Mutex::new(vec![]);
        let done = pipeline
            .run(
                |limit| {
                    let items: Vec<i32> = next.lock().expect("items").by_ref().take(limit as usize).collect();
                    batches.lock().expect("batches").push(items.len());
                    async move { Ok(items) }
                },
                |item| {
                    let (pipeline, now, most, worked) = (&pipeline, &now, &most, &worked);
                    async move {
                        let _turn = pipeline.call().await;
                        let inside = now.fetch_add(1, Ordering::SeqCst) + 1;
                        most.fetch_max(inside, Ordering::SeqCst);
                        tokio::time::sleep(Duration::from_millis(20)).await;
                        now.fetch_sub(1, Ordering::SeqCst);
                        worked.lock().expect("worked").push(item);
                        Ok(())
                    }
                },
            )
            .await
            .expect("the work");
        assert_eq!(done, 40);
        let mut worked = worked.into_inner().expect("worked");
        worked.sort_unstable();
        assert_eq!(worked, (0..40).collect::<Vec<_>>(), "each item once");
        assert_eq!(most.load(Ordering::SeqCst), 4, "four calls in flight at most, and four reached");
        assert!(batches.into_inner().expect("batches").iter().all(|size| *size <= 8), "bounded batches");
    }

    #[tokio::test]
    async fn an_error_stops_the_work() {
        let pipeline = Pipeline::new(2);
        let result = pipeline
            .run(
                |_| async { Ok(vec![1, 2, 3]) },
                |item| async move { if item == 2 { Err(EngineError::Invalid("broken".into())) } else { Ok(()) } },
            )
            .await;
        assert!(matches!(result, Err(EngineError::Invalid(_))));
    }
}
