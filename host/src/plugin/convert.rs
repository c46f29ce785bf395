//! The host's types as the contract's, and the contract's answers as the host's. Answers are
//! converted only after [`validate`](super::validate) has checked them, so every line and client
//! they name is one the policy was given.

use super::policy as contract;
use super::{PolicyError, to_policy_date};
use crate::domain::{
    AttemptStatus, AutomationSettings, AutopayAnswer, AutopayCandidate, BillCreation, BillStatus, Candidates, Charge,
    Client, ClientId, DocumentId, DocumentToShare, LineId, PlannedBill, PlannedSuperbill, Practice, ShareAnswer,
};
use chrono::{DateTime, Utc};
use std::collections::HashMap;

/// The practice as a policy sees it, with the practice's configuration for the policy's slot.
pub fn practice_context(practice: &Practice, config: &str) -> contract::PracticeContext {
    contract::PracticeContext {
        practice_id: practice.id.to_contract(),
        timezone: practice.timezone.name().to_string(),
        currency: practice.currency.code().to_string(),
        automation: automation(&practice.automation),
        config: config.to_string(),
    }
}

fn automation(settings: &AutomationSettings) -> contract::AutomationSettings {
    contract::AutomationSettings {
        bill_creation: match settings.bills {
            BillCreation::Daily => contract::BillCreation::Daily,
            BillCreation::Monthly => contract::BillCreation::Monthly,
            BillCreation::Manual => contract::BillCreation::Manual,
        },
        superbill_day: settings.superbill_day,
        share_by_default: settings.share,
        share_delay_minutes: settings.share_delay_minutes,
        autopay: settings.autopay,
    }
}

/// A client's billing settings as a policy sees them.
pub fn client_billing(client: &Client) -> contract::ClientBilling {
    contract::ClientBilling {
        client_id: client.id.to_contract(),
        email_on_file: client.has_email(),
        email_allowed: client.email_enabled,
        auto_superbills: client.auto_superbills,
        auto_share: client.auto_share,
        autopay: client.autopay,
        card_on_file: client.card.is_some(),
    }
}

/// The practice's clients as a policy sees them, by id.
pub fn clients(candidates: &Candidates) -> Vec<contract::ClientBilling> {
    let mut clients: Vec<_> = candidates.clients.values().map(client_billing).collect();
    clients.sort_by_key(|client| client.client_id);
    clients
}

/// The candidate lines as a policy sees them: each line's service and diagnoses are indices into
/// a per-call catalog, so a month of lines carries each code once.
pub fn lines(candidates: &Candidates) -> (contract::Catalog, Vec<contract::ServiceLine>) {
    let mut catalog = contract::Catalog { services: vec![], diagnosis_sets: vec![] };
    let mut services = HashMap::new();
    let mut diagnosis_sets: HashMap<&[String], u32> = HashMap::new();
    let mut diagnoses_of_client: HashMap<ClientId, u32> = HashMap::new();
    let mut lines = Vec::with_capacity(candidates.lines.len());
    for line in &candidates.lines {
        let service = *services.entry(line.service).or_insert_with(|| {
            let codes = candidates.services.get(&line.service);
            catalog.services.push(contract::Service {
                code: codes.map(|codes| codes.code.clone()).unwrap_or_default(),
                cpt_code: codes.and_then(|codes| codes.cpt.clone()),
            });
            index(catalog.services.len())
        });
        let diagnoses = *diagnoses_of_client.entry(line.client).or_insert_with(|| {
            let set = candidates.clients.get(&line.client).map_or(&[][..], |client| client.diagnosis.as_slice());
            *diagnosis_sets.entry(set).or_insert_with(|| {
                catalog.diagnosis_sets.push(set.to_vec());
                index(catalog.diagnosis_sets.len())
            })
        });
        lines.push(contract::ServiceLine {
            line_id: line.id.to_contract(),
            appointment_id: line.appointment.to_contract(),
            client_id: line.client.to_contract(),
            date: to_policy_date(line.date),
            service,
            diagnoses,
            fee: line.fee,
            paid: line.paid,
        });
    }
    (catalog, lines)
}

/// The index of the last of `len` entries.
fn index(len: usize) -> u32 {
    u32::try_from(len.saturating_sub(1)).unwrap_or(u32::MAX)
}

/// A document's status as the contract names it: a bill's own status, `issued` for a superbill.
pub fn document_status(status: Option<BillStatus>) -> contract::DocumentStatus {
    match status {
        None => contract::DocumentStatus::Issued,
        Some(BillStatus::Pended) => contract::DocumentStatus::Pended,
        Some(BillStatus::Open) => contract::DocumentStatus::Open,
        Some(BillStatus::Paid) => contract::DocumentStatus::Paid,
        Some(BillStatus::Void) => contract::DocumentStatus::Void,
        // The contract (0.1) has no refunded status; such a bill has a balance, as an open one.
        Some(BillStatus::Refunded) => contract::DocumentStatus::Open,
    }
}

/// A document and its client as the share policy is asked about them.
pub fn share_request(document: &DocumentToShare, client: &Client) -> contract::ShareRequest {
    contract::ShareRequest {
        document: contract::Document {
            document_id: u64::try_from(document.id.get()).unwrap_or_default(),
            kind: match document.id {
                DocumentId::Bill(_) => contract::DocumentKind::Bill,
                DocumentId::Superbill(_) => contract::DocumentKind::Superbill,
            },
            client_id: document.client.to_contract(),
            total: document.total,
            paid: document.paid,
            status: document_status(document.status),
        },
        client: client_billing(client),
    }
}

/// A checked answer's id in the host's type; an id that cannot be one is an invalid decision.
fn id<T>(
    value: u64,
    convert: impl Fn(u64) -> Option<T>,
    invalid: &impl Fn(String) -> PolicyError,
) -> Result<T, PolicyError> {
    convert(value).ok_or_else(|| invalid(format!("{value} is not an id it was given")))
}

/// A checked answer's ids in the host's type.
fn ids<T>(
    values: &[u64],
    convert: impl Fn(u64) -> Option<T> + Copy,
    invalid: &impl Fn(String) -> PolicyError,
) -> Result<Vec<T>, PolicyError> {
    values.iter().map(|value| id(*value, convert, invalid)).collect()
}

/// Checked bill plans in the host's types.
pub fn planned_bills(
    plans: Vec<contract::BillPlan>,
    invalid: impl Fn(String) -> PolicyError,
) -> Result<Vec<PlannedBill>, PolicyError> {
    plans
        .into_iter()
        .map(|plan| {
            Ok(PlannedBill {
                client: id(plan.client_id, ClientId::from_contract, &invalid)?,
                status: match plan.status {
                    contract::BillStatus::Open => BillStatus::Open,
                    contract::BillStatus::Pended => BillStatus::Pended,
                },
                lines: ids(&plan.lines, LineId::from_contract, &invalid)?,
            })
        })
        .collect()
}

/// Checked superbill plans in the host's types.
pub fn planned_superbills(
    plans: Vec<contract::SuperbillPlan>,
    invalid: impl Fn(String) -> PolicyError,
) -> Result<Vec<PlannedSuperbill>, PolicyError> {
    plans
        .into_iter()
        .map(|plan| {
            Ok(PlannedSuperbill {
                client: id(plan.client_id, ClientId::from_contract, &invalid)?,
                lines: ids(&plan.lines, LineId::from_contract, &invalid)?,
            })
        })
        .collect()
}

/// A checked share decision in the host's types.
pub fn share_answer(decision: contract::ShareDecision) -> ShareAnswer {
    match decision {
        contract::ShareDecision::Send(delay) => ShareAnswer::Send { delay_minutes: delay },
        contract::ShareDecision::Skip(reason) => ShareAnswer::Skip { reason },
    }
}

/// A bill due a charge tonight as an autopay policy sees it: `due` is the charge the host would
/// make (its amount the balance), `candidate` what the host knows of the bill.
pub fn autopay_candidate(
    practice: &Practice,
    night: DateTime<Utc>,
    candidate: &AutopayCandidate,
    due: &Charge,
) -> contract::AutopayCandidate {
    let local = |at: DateTime<Utc>| at.with_timezone(&practice.timezone).date_naive();
    let age = (local(night) - local(candidate.made_at)).num_days().max(0);
    let last_decline_code = candidate
        .attempts
        .iter()
        .rev()
        .find(|attempt| attempt.status == AttemptStatus::Failed)
        .and_then(|attempt| attempt.decline_code.clone());
    contract::AutopayCandidate {
        bill_id: due.bill.to_contract(),
        client_id: due.client.to_contract(),
        balance: due.amount,
        age_days: u32::try_from(age).unwrap_or(u32::MAX),
        attempts: u32::try_from(candidate.attempts.len()).unwrap_or(u32::MAX),
        last_decline_code,
        client_disputed: candidate.client_disputed,
    }
}

/// A checked autopay decision in the host's types.
pub fn autopay_answer(decision: contract::AutopayDecision) -> AutopayAnswer {
    match decision {
        contract::AutopayDecision::Charge(amount) => AutopayAnswer::Charge(amount),
        contract::AutopayDecision::Skip(reason) => AutopayAnswer::Skip(reason),
    }
}
