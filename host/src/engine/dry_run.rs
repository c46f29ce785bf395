//! A dry run: what a plugin would decide for a practice's current data, computed by the real
//! plugin calls and the host's checks, and written nowhere.

use super::decide;
use super::{Engine, EngineError};
use crate::domain::{AutopayAnswer, BillId, BillStatus, ClientId, DocumentKind, PracticeId, ShareAnswer, Slot};
use crate::plugin::{ConfiguredPolicy, Plugin};
use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use serde::Serialize;
use std::sync::Arc;
use utoipa::ToSchema;

/// How many recent documents a share-filter dry run asks about.
const SHARE_SAMPLE: i64 = 500;

/// A bill the plugin would create.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct PlannedBill {
    /// The client's id.
    #[schema(value_type = i64)]
    pub client_id: ClientId,
    /// open or pended.
    #[schema(value_type = String)]
    pub status: BillStatus,
    /// Total in minor units.
    pub total: i64,
    /// Its lines, as `APPOINTMENT:SERVICE`.
    pub lines: Vec<String>,
}

/// A superbill the plugin would create.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct PlannedSuperbill {
    /// The client's id.
    #[schema(value_type = i64)]
    pub client_id: ClientId,
    /// Total fees in minor units.
    pub total: i64,
    /// Its lines, as `APPOINTMENT:SERVICE`.
    pub lines: Vec<String>,
}

/// What the plugin would decide about emailing one recent document.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct PlannedShare {
    /// bill or superbill.
    #[schema(value_type = String)]
    pub document_kind: DocumentKind,
    /// The document's id.
    pub document_id: i64,
    /// The client's id.
    #[schema(value_type = i64)]
    pub client_id: ClientId,
    /// send or skip.
    pub decision: String,
    /// Minutes after creation, when sent.
    pub delay_minutes: Option<u32>,
    /// Why not, when skipped.
    pub reason: Option<String>,
}

/// What the plugin would decide about charging one open bill tonight.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct PlannedCharge {
    /// The bill's id.
    #[schema(value_type = i64)]
    pub bill_id: BillId,
    /// The client's id.
    #[schema(value_type = i64)]
    pub client_id: ClientId,
    /// What is left to pay, in minor units.
    pub balance: i64,
    /// charge or skip.
    pub decision: String,
    /// The amount charged, in minor units, when charged.
    pub amount: Option<i64>,
    /// Why not, when skipped.
    pub reason: Option<String>,
}

/// What a plugin would decide for a practice now, in one slot.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct DryRun {
    /// The slot.
    #[schema(value_type = String)]
    pub slot: Slot,
    /// The plugin's name.
    pub plugin: String,
    /// The practice-local date the dry run is for, `YYYY-MM-DD`.
    pub date: String,
    /// bill_cadence: the dates in the next 31 days with a bill run.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bill_run_dates: Option<Vec<String>>,
    /// bill_cadence: the bills a run tomorrow at 12:00 am would create from today's unbilled lines.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bills: Option<Vec<PlannedBill>>,
    /// superbill_inclusion: this month's superbill day.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub superbill_day: Option<u8>,
    /// superbill_inclusion: the superbills a run today would create.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub superbills: Option<Vec<PlannedSuperbill>>,
    /// share_filter: its decisions for the practice's recent documents.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shares: Option<Vec<PlannedShare>>,
    /// autopay_selection: its decisions for the bills an autopay run now would charge.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub charges: Option<Vec<PlannedCharge>>,
}

fn date_text(date: NaiveDate) -> String {
    date.format("%Y-%m-%d").to_string()
}

impl Engine {
    /// What `plugin` with `config` (or the practice's own policy for `slot`, when `None`) would
    /// decide for the practice's current data at `now`. Nothing is written.
    pub async fn dry_run(
        &self,
        practice: PracticeId,
        slot: Slot,
        plugin: Option<(Plugin, String)>,
        now: DateTime<Utc>,
    ) -> Result<DryRun, EngineError> {
        let practice = self.store.practice(practice).await?;
        let mut policies = self.policies(practice.id).await?;
        if let Some((plugin, config)) = plugin {
            policies = policies.with(slot, ConfiguredPolicy::new(Arc::new(plugin), config));
        }
        let policy = policies.slot(slot);
        let today = now.with_timezone(&practice.timezone).date_naive();
        let mut report = DryRun {
            slot,
            plugin: policy.name().into(),
            date: date_text(today),
            bill_run_dates: None,
            bills: None,
            superbill_day: None,
            superbills: None,
            shares: None,
            charges: None,
        };
        match slot {
            Slot::BillCadence => {
                // Candidate lines are read in a transaction that is rolled back: nothing is written.
                let mut tx = self.store.begin().await?;
                let dates = policy.bill_run_dates(now, &practice, today, today + Duration::days(30))?;
                report.bill_run_dates = Some(dates.into_iter().map(date_text).collect());
                let tomorrow = today + Duration::days(1);
                let read = self.store.candidate_lines(&mut tx, practice.id, DocumentKind::Bill, tomorrow).await?;
                let candidates = decide::documents::billable(read);
                let mut bills = vec![];
                if !candidates.lines.is_empty() {
                    let plans = policy.group_lines(now, &practice, tomorrow, &candidates)?;
                    let names: std::collections::HashMap<_, _> =
                        candidates.lines.iter().map(|line| (line.id, candidates.line_name(line))).collect();
                    for (plan, bill) in plans.iter().zip(decide::documents::new_bills(&candidates, &plans)) {
                        bills.push(PlannedBill {
                            client_id: bill.client,
                            status: bill.status,
                            total: bill.total,
                            lines: plan.lines.iter().filter_map(|line| names.get(line).cloned()).collect(),
                        });
                    }
                }
                report.bills = Some(bills);
            }
            Slot::SuperbillInclusion => {
                let mut tx = self.store.begin().await?;
                let month = u8::try_from(today.month()).unwrap_or(1);
                report.superbill_day = Some(policy.superbill_run_day(now, &practice, today.year(), month)?);
                let read = self.store.candidate_lines(&mut tx, practice.id, DocumentKind::Superbill, today).await?;
                let candidates = decide::documents::billable(read);
                let mut superbills = vec![];
                if !candidates.lines.is_empty() {
                    let plans = policy.select_lines(now, &practice, today, &candidates)?;
                    let names: std::collections::HashMap<_, _> =
                        candidates.lines.iter().map(|line| (line.id, candidates.line_name(line))).collect();
                    for (plan, superbill) in plans.iter().zip(decide::documents::new_superbills(&candidates, &plans)) {
                        superbills.push(PlannedSuperbill {
                            client_id: superbill.client,
                            total: superbill.total,
                            lines: plan.lines.iter().filter_map(|line| names.get(line).cloned()).collect(),
                        });
                    }
                }
                report.superbills = Some(superbills);
            }
            Slot::ShareFilter => {
                let documents =
                    self.store.recent_documents(practice.id, now - Duration::days(31), SHARE_SAMPLE).await?;
                let clients: std::collections::HashMap<_, _> =
                    self.store.clients(practice.id).await?.into_iter().map(|client| (client.id, client)).collect();
                let asked: Vec<_> = documents
                    .into_iter()
                    .filter_map(|document| clients.get(&document.client).map(|client| (document, client)))
                    .collect();
                let answers = if asked.is_empty() { vec![] } else { policy.decide_shares(now, &practice, &asked)? };
                report.shares = Some(
                    asked
                        .iter()
                        .zip(answers)
                        .map(|((document, _), answer)| {
                            let (decision, delay_minutes, reason) = match answer {
                                ShareAnswer::Send { delay_minutes } => ("send", Some(delay_minutes), None),
                                ShareAnswer::Skip { reason } => ("skip", None, Some(reason)),
                            };
                            PlannedShare {
                                document_kind: document.id.kind(),
                                document_id: document.id.get(),
                                client_id: document.client,
                                decision: decision.into(),
                                delay_minutes,
                                reason,
                            }
                        })
                        .collect(),
                );
            }
            Slot::AutopaySelection => {
                let candidates = self.store.autopay_candidates(practice.id, now).await?;
                let due = decide::autopay::due(now, &candidates, self.max_autopay_attempts);
                let answers = if due.is_empty() { vec![] } else { policy.select_charges(now, &practice, &due)? };
                report.charges = Some(
                    due.iter()
                        .zip(answers)
                        .map(|((candidate, charge), answer)| {
                            let (decision, amount, reason) = match answer {
                                AutopayAnswer::Charge(amount) => ("charge", Some(amount), None),
                                AutopayAnswer::Skip(reason) => ("skip", None, Some(reason)),
                            };
                            PlannedCharge {
                                bill_id: charge.bill,
                                client_id: candidate.client,
                                balance: charge.amount,
                                decision: decision.into(),
                                amount,
                                reason,
                            }
                        })
                        .collect(),
                );
            }
        }
        Ok(report)
    }
}
