//! A policy with the practice's configuration for its slot, asked in the host's types: it
//! converts the question to the contract's types, calls the policy code (which checks its
//! answer) and converts the answer back.

use super::{PolicyCode, PolicyError, convert};
use crate::domain::{
    AutopayAnswer, AutopayCandidate, Candidates, Charge, Client, DocumentToShare, PlannedBill, PlannedSuperbill,
    Practice, ShareAnswer,
};
use chrono::{DateTime, NaiveDate, Utc};
use std::sync::Arc;

/// A policy for one slot of a practice, with the practice's configuration for it.
#[derive(Clone)]
pub struct ConfiguredPolicy {
    code: Arc<dyn PolicyCode>,
    config: String,
}

impl ConfiguredPolicy {
    /// `code` with `config`.
    pub fn new(code: Arc<dyn PolicyCode>, config: impl Into<String>) -> Self {
        ConfiguredPolicy { code, config: config.into() }
    }

    /// The policy's name, as errors and dry runs show it.
    pub fn name(&self) -> &str {
        self.code.name()
    }

    /// The dates from `first` to `last` at whose 12:00 am a bill run is due.
    pub fn bill_run_dates(
        &self,
        at: DateTime<Utc>,
        practice: &Practice,
        first: NaiveDate,
        last: NaiveDate,
    ) -> Result<Vec<NaiveDate>, PolicyError> {
        self.code.bill_run_dates(at, &convert::practice_context(practice, &self.config), first, last)
    }

    /// The bills to make of `candidates`' lines on `run_date`.
    pub fn group_lines(
        &self,
        at: DateTime<Utc>,
        practice: &Practice,
        run_date: NaiveDate,
        candidates: &Candidates,
    ) -> Result<Vec<PlannedBill>, PolicyError> {
        let (catalog, lines) = convert::lines(candidates);
        let ctx = convert::practice_context(practice, &self.config);
        let plans = self.code.group_lines(at, &ctx, run_date, &catalog, &lines)?;
        convert::planned_bills(plans, |reason| self.invalid("bill-cadence.group-lines", reason))
    }

    /// The day of `month` superbills are made.
    pub fn superbill_run_day(
        &self,
        at: DateTime<Utc>,
        practice: &Practice,
        year: i32,
        month: u8,
    ) -> Result<u8, PolicyError> {
        self.code.superbill_run_day(at, &convert::practice_context(practice, &self.config), year, month)
    }

    /// The superbills to make of `candidates`' lines on `run_date`.
    pub fn select_lines(
        &self,
        at: DateTime<Utc>,
        practice: &Practice,
        run_date: NaiveDate,
        candidates: &Candidates,
    ) -> Result<Vec<PlannedSuperbill>, PolicyError> {
        let (catalog, lines) = convert::lines(candidates);
        let clients = convert::clients(candidates);
        let ctx = convert::practice_context(practice, &self.config);
        let plans = self.code.select_lines(at, &ctx, run_date, &clients, &catalog, &lines)?;
        convert::planned_superbills(plans, |reason| self.invalid("superbill-inclusion.select-lines", reason))
    }

    /// Whether and when each document is emailed, in the order given.
    pub fn decide_shares(
        &self,
        at: DateTime<Utc>,
        practice: &Practice,
        documents: &[(DocumentToShare, &Client)],
    ) -> Result<Vec<ShareAnswer>, PolicyError> {
        let requests: Vec<_> =
            documents.iter().map(|(document, client)| convert::share_request(document, client)).collect();
        let ctx = convert::practice_context(practice, &self.config);
        let decisions = self.code.decide_shares(at, &ctx, &requests)?;
        Ok(decisions.into_iter().map(convert::share_answer).collect())
    }

    /// How much of each bill due a charge tonight (`due`: each charge the host would make, the
    /// balance, beside its candidate) to charge, in the order given.
    pub fn select_charges(
        &self,
        at: DateTime<Utc>,
        practice: &Practice,
        due: &[(&AutopayCandidate, Charge)],
    ) -> Result<Vec<AutopayAnswer>, PolicyError> {
        let asked: Vec<_> =
            due.iter().map(|(candidate, charge)| convert::autopay_candidate(practice, at, candidate, charge)).collect();
        let ctx = convert::practice_context(practice, &self.config);
        let decisions = self.code.select_charges(at, &ctx, &asked)?;
        Ok(decisions.into_iter().map(convert::autopay_answer).collect())
    }

    fn invalid(&self, policy: &'static str, reason: String) -> PolicyError {
        PolicyError {
            plugin: self.code.name().to_string(),
            policy,
            problem: super::PolicyProblem::InvalidDecision(reason),
        }
    }
}
