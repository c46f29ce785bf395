//! Runs: which are due (recorded once per practice, kind and local date), claiming them so each
//! runs exactly once, and executing each: read, decide, apply in one transaction, and for
//! autopay, execute the charges.

use super::decide;
use super::{Engine, EngineError, Policies, TickReport};
use crate::domain::{Client, ClientId, DocumentKind, DocumentToShare, EventKind, Practice, PracticeId, RunKind};
use crate::plugin::PolicyError;
use crate::schedule::{self, DueRun};
use crate::store::Tx;
use crate::store::runs::ClaimedRun;
use chrono::{DateTime, Duration, Utc};
use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};

impl Engine {
    /// Does everything due by `now`: records due runs and executes them in order, sends the
    /// charges they wrote (and those due again), then sends the shares whose delay has passed,
    /// a bill autopay charges tonight only once its charge has an outcome.
    pub async fn tick(&self, now: DateTime<Utc>) -> Result<TickReport, EngineError> {
        self.schedule(&self.store.practices().await?, now).await?;
        let (runs_done, runs_failed) = self.work_runs(now).await?;
        self.decide_held_shares(now).await?;
        let ((charges_settled, charges_deferred), shares_handled) = self.charge_and_dispatch(now).await?;
        Ok(TickReport { runs_done, runs_failed, shares_handled, charges_settled, charges_deferred })
    }

    /// Sends the due charges and the due shares. With concurrent pipelines both go at once, the
    /// emails of bills waiting for autopay leaving as their charges settle; one at a time (as
    /// `simulate` runs), the charges first, then the emails, so events keep their order.
    async fn charge_and_dispatch(&self, now: DateTime<Utc>) -> Result<((usize, usize), usize), EngineError> {
        if !self.charges.concurrent() {
            let charged = self.charge_due(now).await?;
            return Ok((charged, self.dispatch_shares(now, None).await?));
        }
        let charging = AtomicBool::new(true);
        let charges = async {
            let charged = self.charge_due(now).await;
            charging.store(false, Ordering::Release);
            charged
        };
        let (charged, handled) = futures_util::future::join(charges, self.dispatch_shares(now, Some(&charging))).await;
        Ok((charged?, handled?))
    }

    /// The next instant after `after` at which a run or a share is due, looking at most two
    /// days ahead; `None` when nothing is.
    pub async fn next_due(&self, after: DateTime<Utc>) -> Result<Option<DateTime<Utc>>, EngineError> {
        let horizon = after + Duration::days(2);
        let mut next = self.store.next_share_due(after).await?;
        if let Some(charge) = self.store.next_charge_due(after).await? {
            next = Some(next.map_or(charge, |n| n.min(charge)));
        }
        for practice in self.store.practices().await? {
            let policies = self.policies(practice.id).await?;
            if let Some(run) = due_runs(&practice, &policies, after, horizon).0.first() {
                next = Some(next.map_or(run.at, |n| n.min(run.at)));
            }
        }
        Ok(next)
    }

    /// The practice's next bill run, superbill run and autopay run after `now`, each the first
    /// due within the next 62 days (`None` when none is, e.g. autopay off), as its policies and
    /// settings schedule them; a policy that cannot say gives `None` for its kind.
    pub async fn next_runs(&self, practice: PracticeId, now: DateTime<Utc>) -> Result<NextRuns, EngineError> {
        let practice = self.store.practice(practice).await?;
        let policies = self.policies(practice.id).await?;
        let (runs, _) = due_runs(&practice, &policies, now, now + Duration::days(62));
        let first = |kind: RunKind| runs.iter().find(|run| run.kind == kind).map(|run| run.at);
        Ok(NextRuns {
            bill: first(RunKind::Bill),
            superbill: first(RunKind::Superbill),
            autopay: first(RunKind::Autopay),
        })
    }

    /// Records each practice's runs due in `(scheduled_until, now]` and moves its mark to `now`,
    /// all in one transaction.
    async fn schedule(&self, practices: &[Practice], now: DateTime<Utc>) -> Result<(), EngineError> {
        let mut due = vec![];
        for practice in practices.iter().filter(|practice| now > practice.scheduled_until) {
            let policies = self.policies(practice.id).await?;
            let (runs, failures) = due_runs(practice, &policies, practice.scheduled_until, now);
            due.push((practice.id, runs, failures));
        }
        if due.is_empty() {
            return Ok(());
        }
        let mut tx = self.store.begin().await?;
        for (practice, runs, failures) in due {
            self.store.record_due_runs(&mut tx, practice, &runs).await?;
            let failures: Vec<EventKind> = failures
                .into_iter()
                .map(|failure| EventKind::RunFailed { run: "schedule".into(), reason: failure.to_string() })
                .collect();
            self.store.record_events(&mut tx, practice, now, &failures).await?;
            self.store.mark_scheduled(&mut tx, practice, now).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Executes due runs with the engine's run workers until none is left to claim; gives how
    /// many were done and how many failed.
    async fn work_runs(&self, now: DateTime<Utc>) -> Result<(usize, usize), EngineError> {
        let workers = (0..self.run_workers).map(|_| self.work_runs_in_turn(now));
        let (mut done, mut failed) = (0, 0);
        for result in futures_util::future::join_all(workers).await {
            let (worker_done, worker_failed) = result?;
            done += worker_done;
            failed += worker_failed;
        }
        Ok((done, failed))
    }

    /// One run worker: claims and executes due runs one after another until none is left.
    async fn work_runs_in_turn(&self, now: DateTime<Utc>) -> Result<(usize, usize), EngineError> {
        let (mut done, mut failed) = (0, 0);
        while let Some(run) = self.store.claim_next_run(&self.host_id, now, now + self.lease).await? {
            match self.execute(&run).await {
                Ok(()) => done += 1,
                Err(error) => {
                    self.fail_run(&run, &error.to_string(), now).await?;
                    failed += 1;
                }
            }
        }
        Ok((done, failed))
    }

    async fn execute(&self, run: &ClaimedRun) -> Result<(), EngineError> {
        let practice = self.store.practice(run.practice).await?;
        let policies = self.policies(practice.id).await?;
        match run.kind {
            RunKind::Bill => self.bill_run(run, &practice, &policies).await,
            RunKind::Superbill => self.superbill_run(run, &practice, &policies).await,
            RunKind::Autopay => self.autopay_run(run, &practice, &policies).await,
        }
    }

    /// Marks a run done inside its transaction; fails if the claim was lost meanwhile.
    async fn finish_run(&self, tx: &mut Tx, run: &ClaimedRun) -> Result<(), EngineError> {
        if !self.store.finish_run(tx, run, &self.host_id).await? {
            return Err(EngineError::Conflict(format!("run {} was taken over by another host", run.id)));
        }
        Ok(())
    }

    async fn fail_run(&self, run: &ClaimedRun, reason: &str, now: DateTime<Utc>) -> Result<(), EngineError> {
        tracing::warn!(
            run = run.id.get(),
            practice = run.practice.get(),
            kind = run.kind.as_str(),
            "run failed: {reason}"
        );
        let mut tx = self.store.begin().await?;
        self.store.fail_run(&mut tx, run.id, reason, now).await?;
        let event = EventKind::RunFailed { run: run.name(), reason: reason.to_string() };
        self.store.record_event(&mut tx, run.practice, run.at, event).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Bills the billable lines dated before the run's date that are on no bill yet, as the
    /// cadence policy groups them, and decides the open bills' shares.
    async fn bill_run(&self, run: &ClaimedRun, practice: &Practice, policies: &Policies) -> Result<(), EngineError> {
        let mut tx = self.store.begin().await?;
        let read = self.store.candidate_lines(&mut tx, practice.id, DocumentKind::Bill, run.local_date).await?;
        let candidates = decide::documents::billable(read);
        if !candidates.lines.is_empty() {
            let plans = policies.cadence.group_lines(run.at, practice, run.local_date, &candidates)?;
            let bills = decide::documents::new_bills(&candidates, &plans);
            let ids = self.store.insert_bills(&mut tx, practice.id, &bills, run.at).await?;
            let events = decide::documents::bill_events(&candidates, &bills, &ids);
            self.store.record_events(&mut tx, practice.id, run.at, &events).await?;
            let shared = decide::documents::bills_to_share(&bills, &ids);
            let bound = decide::shares::autopay_bound(practice, run.local_date);
            self.share_documents(&mut tx, practice, policies, &shared, &candidates.clients, run.at, Some(bound))
                .await?;
        }
        self.finish_run(&mut tx, run).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Makes superbills of the lines on no superbill yet, as the inclusion policy picks them, and
    /// decides their shares.
    async fn superbill_run(
        &self,
        run: &ClaimedRun,
        practice: &Practice,
        policies: &Policies,
    ) -> Result<(), EngineError> {
        let mut tx = self.store.begin().await?;
        let read = self.store.candidate_lines(&mut tx, practice.id, DocumentKind::Superbill, run.local_date).await?;
        let candidates = decide::documents::billable(read);
        if !candidates.lines.is_empty() {
            let plans = policies.superbill.select_lines(run.at, practice, run.local_date, &candidates)?;
            let superbills = decide::documents::new_superbills(&candidates, &plans);
            let ids = self.store.insert_superbills(&mut tx, practice.id, &superbills, run.at).await?;
            let events = decide::documents::superbill_events(&candidates, &superbills, &ids);
            self.store.record_events(&mut tx, practice.id, run.at, &events).await?;
            let shared = decide::documents::superbills_to_share(&superbills, &ids);
            self.share_documents(&mut tx, practice, policies, &shared, &candidates.clients, run.at, None).await?;
        }
        self.finish_run(&mut tx, run).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Asks the share policy about `documents` and records its decisions inside `tx`. When the
    /// policy fails, the documents are made all the same and their shares are held, to be decided
    /// again on a later tick: a broken share filter never stops billing. With `autopay_bound` (a
    /// night's bill run), the bills tonight's autopay will charge wait for the charge's outcome,
    /// until that bound at the latest.
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn share_documents(
        &self,
        tx: &mut Tx,
        practice: &Practice,
        policies: &Policies,
        documents: &[DocumentToShare],
        clients: &HashMap<ClientId, Client>,
        at: DateTime<Utc>,
        autopay_bound: Option<DateTime<Utc>>,
    ) -> Result<(), EngineError> {
        if documents.is_empty() {
            return Ok(());
        }
        let mut asked = Vec::with_capacity(documents.len());
        for document in documents {
            let client = clients.get(&document.client).ok_or_else(|| crate::store::StoreError::NotFound {
                what: "client",
                id: document.client.to_string(),
            })?;
            asked.push((document.clone(), client));
        }
        let (shares, events) = match policies.share.decide_shares(at, practice, &asked) {
            Ok(answers) => {
                let (mut shares, events) = decide::shares::decided(at, &asked, answers);
                if let Some(bound) = autopay_bound {
                    decide::shares::await_autopay(&mut shares, &asked, practice, bound);
                }
                (shares, events)
            }
            Err(failure) => {
                tracing::warn!(practice = practice.id.get(), "share filter failed; shares held: {failure}");
                let (shares, warning) = decide::shares::held(&asked, &failure.to_string());
                (shares, vec![warning])
            }
        };
        self.store.insert_shares(tx, practice.id, &shares).await?;
        self.store.record_events(tx, practice.id, at, &events).await?;
        Ok(())
    }

    /// Writes tonight's charges of the open bills of clients with autopay on and a card on file,
    /// once a night each, as the practice's autopay policy selects them: the attempts (with their
    /// idempotency keys) are committed with the run, before any is sent; the tick then sends them
    /// with every other due charge. Bills the policy skips get an event with its reason; the
    /// bills' shares that wait for autopay and got no charge stop waiting, with the reason.
    async fn autopay_run(&self, run: &ClaimedRun, practice: &Practice, policies: &Policies) -> Result<(), EngineError> {
        let candidates = self.store.autopay_candidates(practice.id, run.at).await?;
        let due = decide::autopay::due(run.at, &candidates, self.max_autopay_attempts);
        let (charges, skipped) = if due.is_empty() {
            (vec![], vec![])
        } else {
            let answers = policies.autopay.select_charges(run.at, practice, &due)?;
            decide::autopay::selected(due.into_iter().map(|(_, charge)| charge).collect(), answers)
        };
        let mut tx = self.store.begin().await?;
        if !charges.is_empty() {
            self.store.insert_attempts(&mut tx, practice.id, &charges).await?;
        }
        self.store.record_events(&mut tx, practice.id, run.at, &skipped).await?;
        self.store.release_uncharged_shares(&mut tx, practice.id, decide::shares::AUTOPAY_NOT_CHARGED).await?;
        self.finish_run(&mut tx, run).await?;
        tx.commit().await?;
        Ok(())
    }
}

impl Engine {
    /// Asks each practice's share policy again about the shares it failed to decide, a bounded
    /// batch a tick; what it decides now is recorded as if decided at `now`. Shares it still
    /// cannot decide stay held.
    async fn decide_held_shares(&self, now: DateTime<Utc>) -> Result<(), EngineError> {
        for practice in self.store.practices_with_held_shares().await? {
            let held = self.store.held_shares(practice, HELD_SHARES_PER_TICK).await?;
            let practice = self.store.practice(practice).await?;
            let policies = self.policies(practice.id).await?;
            let clients: HashMap<ClientId, Client> =
                self.store.clients(practice.id).await?.into_iter().map(|client| (client.id, client)).collect();
            let known: Vec<_> = held
                .iter()
                .filter_map(|share| clients.get(&share.document.client).map(|client| (share, client)))
                .collect();
            let asked: Vec<(DocumentToShare, &Client)> =
                known.iter().map(|(share, client)| (share.document.clone(), *client)).collect();
            let Ok(answers) = policies.share.decide_shares(now, &practice, &asked) else { continue };
            let (decided, skipped) = decide::shares::decided(now, &asked, answers);
            let mut tx = self.store.begin().await?;
            for ((share, _), decision) in known.iter().zip(&decided) {
                self.store.decide_held_share(&mut tx, share.id, decision).await?;
            }
            self.store.record_events(&mut tx, practice.id, now, &skipped).await?;
            tx.commit().await?;
        }
        Ok(())
    }
}

/// How many held shares of a practice are decided again a tick.
const HELD_SHARES_PER_TICK: i64 = 500;

/// When a practice's runs of each kind are next due.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NextRuns {
    /// The next bill run.
    pub bill: Option<DateTime<Utc>>,
    /// The next superbill run.
    pub superbill: Option<DateTime<Utc>>,
    /// The next autopay run.
    pub autopay: Option<DateTime<Utc>>,
}

/// The runs due for a practice in `(after, until]`, and the policy failures met on the way.
fn due_runs(
    practice: &Practice,
    policies: &Policies,
    after: DateTime<Utc>,
    until: DateTime<Utc>,
) -> (Vec<DueRun>, Vec<PolicyError>) {
    let failures = RefCell::new(vec![]);
    let runs = schedule::due_runs(
        practice.timezone,
        after,
        until,
        |first, last| {
            policies.cadence.bill_run_dates(until, practice, first, last).unwrap_or_else(|error| {
                failures.borrow_mut().push(error);
                vec![]
            })
        },
        |year, month| {
            let month = u8::try_from(month).unwrap_or_default();
            policies.superbill.superbill_run_day(until, practice, year, month).map(u32::from).unwrap_or_else(|error| {
                failures.borrow_mut().push(error);
                0
            })
        },
        practice.automation.autopay,
    );
    (runs, failures.into_inner())
}
