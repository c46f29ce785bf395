//! A dry run: what a plugin would decide for a practice's current data, computed by the real
//! plugin calls and the host's checks, and written nowhere.

use super::documents::{self, candidate_lines, client_billing};
use super::{Engine, EngineError, Policy};
use crate::plugin::policy::{self, ShareDecision};
use crate::plugin::{Plugin, Slot};
use crate::store;
use chrono::{DateTime, Datelike, Duration, Utc};
use serde::Serialize;
use sqlx::Row;
use std::sync::Arc;
use utoipa::ToSchema;

/// How many recent documents a share-filter dry run asks about.
const SHARE_SAMPLE: i64 = 500;

/// A bill the plugin would create.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct PlannedBill {
    /// The client's id.
    pub client_id: i64,
    /// open or pended.
    pub status: String,
    /// Total in minor units.
    pub total: i64,
    /// Its lines, as `APPOINTMENT:SERVICE`.
    pub lines: Vec<String>,
}

/// A superbill the plugin would create.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct PlannedSuperbill {
    /// The client's id.
    pub client_id: i64,
    /// Total fees in minor units.
    pub total: i64,
    /// Its lines, as `APPOINTMENT:SERVICE`.
    pub lines: Vec<String>,
}

/// What the plugin would decide about emailing one recent document.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct PlannedShare {
    /// bill or superbill.
    pub document_kind: String,
    /// The document's id.
    pub document_id: i64,
    /// The client's id.
    pub client_id: i64,
    /// send or skip.
    pub decision: String,
    /// Minutes after creation, when sent.
    pub delay_minutes: Option<u32>,
    /// Why not, when skipped.
    pub reason: Option<String>,
}

/// What a plugin would decide for a practice now, in one slot.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct DryRun {
    /// The slot.
    pub slot: String,
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
}

fn id(value: u64) -> i64 {
    i64::try_from(value).unwrap_or_default()
}

impl Engine {
    /// What `plugin` with `config` (or the practice's own policy for `slot`, when `None`) would
    /// decide for the practice's current data at `now`. Nothing is written.
    pub async fn dry_run(
        &self,
        practice_id: i64,
        slot: Slot,
        plugin: Option<(Plugin, String)>,
        now: DateTime<Utc>,
    ) -> Result<DryRun, EngineError> {
        let practice = self.store.practice(practice_id).await?;
        let mut policies = self.policies(practice_id).await?;
        if let Some((plugin, config)) = plugin {
            let chosen: (Arc<dyn Policy>, String) = (Arc::new(plugin), config);
            match slot {
                Slot::BillCadence => policies.cadence = chosen,
                Slot::SuperbillInclusion => policies.superbill = chosen,
                Slot::ShareFilter => policies.share = chosen,
            }
        }
        let plugin = match slot {
            Slot::BillCadence => &policies.cadence.0,
            Slot::SuperbillInclusion => &policies.superbill.0,
            Slot::ShareFilter => &policies.share.0,
        };
        let today = now.with_timezone(&practice.timezone).date_naive();
        let ctx = policies.context(&practice, slot);
        let mut connection = self.store.pool().acquire().await?;
        let mut report = DryRun {
            slot: slot.as_str().into(),
            plugin: plugin.name().into(),
            date: store::date_text(today),
            bill_run_dates: None,
            bills: None,
            superbill_day: None,
            superbills: None,
            shares: None,
        };
        match slot {
            Slot::BillCadence => {
                let dates = plugin.bill_run_dates(now, &ctx, today, today + Duration::days(30))?;
                report.bill_run_dates = Some(dates.into_iter().map(store::date_text).collect());
                let tomorrow = today + Duration::days(1);
                let candidates = candidate_lines(&mut connection, practice.id, "bill_id", tomorrow).await?;
                let mut bills = vec![];
                if !candidates.lines.is_empty() {
                    let plans = plugin.group_lines(now, &ctx, tomorrow, &candidates.catalog, &candidates.lines)?;
                    for plan in plans {
                        let fee =
                            |line: &u64| candidates.lines.iter().find(|l| l.line_id == *line).map_or(0, |l| l.fee);
                        bills.push(PlannedBill {
                            client_id: id(plan.client_id),
                            status: if plan.status == policy::BillStatus::Open { "open" } else { "pended" }.into(),
                            total: plan.lines.iter().map(fee).sum(),
                            lines: plan.lines.iter().filter_map(|line| candidates.names.get(line).cloned()).collect(),
                        });
                    }
                }
                report.bills = Some(bills);
            }
            Slot::SuperbillInclusion => {
                let month = u8::try_from(today.month()).unwrap_or(1);
                report.superbill_day = Some(plugin.superbill_run_day(now, &ctx, today.year(), month)?);
                let candidates = candidate_lines(&mut connection, practice.id, "superbill_id", today).await?;
                let mut superbills = vec![];
                if !candidates.lines.is_empty() {
                    let mut billing: Vec<_> = candidates.clients.values().map(client_billing).collect();
                    billing.sort_by_key(|client| client.client_id);
                    let plans =
                        plugin.select_lines(now, &ctx, today, &billing, &candidates.catalog, &candidates.lines)?;
                    for plan in plans {
                        let lines: Vec<_> =
                            candidates.lines.iter().filter(|line| plan.lines.contains(&line.line_id)).collect();
                        superbills.push(PlannedSuperbill {
                            client_id: id(plan.client_id),
                            total: lines.iter().map(|line| line.fee).sum(),
                            lines: lines
                                .iter()
                                .filter_map(|line| candidates.names.get(&line.line_id).cloned())
                                .collect(),
                        });
                    }
                }
                report.superbills = Some(superbills);
            }
            Slot::ShareFilter => {
                let rows = sqlx::query(
                    "SELECT 'bill', id, client_id, total, paid, status FROM bills WHERE practice_id = $1 AND created_at >= $2
                     UNION ALL SELECT 'superbill', id, client_id, total, paid, 'issued' FROM superbills WHERE practice_id = $1 AND created_at >= $2
                     ORDER BY 2 DESC LIMIT $3",
                )
                .bind(practice.id)
                .bind(store::seconds(now - Duration::days(31)))
                .bind(SHARE_SAMPLE)
                .fetch_all(&mut *connection)
                .await?;
                let clients = documents::clients(&mut connection, practice.id).await?;
                let mut requests = vec![];
                let mut documents = vec![];
                for row in &rows {
                    let (kind, document, client, total, paid, status): (String, i64, i64, i64, i64, String) = (
                        row.try_get(0)?,
                        row.try_get(1)?,
                        row.try_get(2)?,
                        row.try_get(3)?,
                        row.try_get(4)?,
                        row.try_get(5)?,
                    );
                    let Some(owner) = clients.get(&client) else { continue };
                    requests.push(policy::ShareRequest {
                        document: policy::Document {
                            document_id: u64::try_from(document).unwrap_or_default(),
                            kind: if kind == "bill" {
                                policy::DocumentKind::Bill
                            } else {
                                policy::DocumentKind::Superbill
                            },
                            client_id: u64::try_from(client).unwrap_or_default(),
                            total,
                            paid,
                            status: match status.as_str() {
                                "pended" => policy::DocumentStatus::Pended,
                                "paid" => policy::DocumentStatus::Paid,
                                "void" => policy::DocumentStatus::Void,
                                "issued" => policy::DocumentStatus::Issued,
                                _ => policy::DocumentStatus::Open,
                            },
                        },
                        client: client_billing(owner),
                    });
                    documents.push((kind, document, client));
                }
                let decisions =
                    if requests.is_empty() { vec![] } else { plugin.decide_shares(now, &ctx, &requests)? };
                report.shares = Some(
                    documents
                        .into_iter()
                        .zip(decisions)
                        .map(|((kind, document, client), decision)| {
                            let (decision, delay_minutes, reason) = match decision {
                                ShareDecision::Send(delay) => ("send", u32::try_from(delay).ok(), None),
                                ShareDecision::Skip(reason) => ("skip", None, Some(reason)),
                            };
                            PlannedShare {
                                document_kind: kind,
                                document_id: document,
                                client_id: client,
                                decision: decision.into(),
                                delay_minutes,
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
