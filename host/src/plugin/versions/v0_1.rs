//! `autobill:policy@0.1.x`: served unchanged to the plugins built for it. Calls take the newest
//! types and convert them to 0.1's; answers come back converted to the newest's. 0.1 has no
//! autopay selection, and its share delay is signed (`send(s32)`).

#[allow(missing_docs)]
mod bindings {
    wasmtime::component::bindgen!({
        path: "../wit/since_v0.1.0",
        world: "all-policies",
    });
}

use super::{CallResult, UnconvertibleAnswer};
use crate::domain::Slot;
use crate::plugin::policy as newest;
use crate::plugin::sandbox::Sandbox;
use bindings::autobill::policy::types as old;
use bindings::exports::autobill::policy::{bill_cadence, share_filter, superbill_inclusion};
use wasmtime::Store;
use wasmtime::component::{Instance, InstancePre};

/// A 0.1 component's policy exports.
pub struct Exports {
    cadence: Option<bill_cadence::GuestIndices>,
    superbill: Option<superbill_inclusion::GuestIndices>,
    share: Option<share_filter::GuestIndices>,
}

impl Exports {
    pub(super) fn new(pre: &InstancePre<Sandbox>) -> Self {
        Exports {
            cadence: bill_cadence::GuestIndices::new(pre).ok(),
            superbill: superbill_inclusion::GuestIndices::new(pre).ok(),
            share: share_filter::GuestIndices::new(pre).ok(),
        }
    }

    pub(super) fn fills(&self, slot: Slot) -> bool {
        match slot {
            Slot::BillCadence => self.cadence.is_some(),
            Slot::SuperbillInclusion => self.superbill.is_some(),
            Slot::ShareFilter => self.share.is_some(),
            Slot::AutopaySelection => false,
        }
    }

    pub(super) fn check_config(
        &self,
        store: &mut Store<Sandbox>,
        instance: &Instance,
        slot: Slot,
        config: &str,
    ) -> CallResult<()> {
        match slot {
            Slot::BillCadence => {
                export(&self.cadence, slot)?.load(&mut *store, instance)?.call_check_config(store, config)
            }
            Slot::SuperbillInclusion => {
                export(&self.superbill, slot)?.load(&mut *store, instance)?.call_check_config(store, config)
            }
            Slot::ShareFilter => {
                export(&self.share, slot)?.load(&mut *store, instance)?.call_check_config(store, config)
            }
            Slot::AutopaySelection => Err(super::missing(slot)),
        }
    }

    pub(super) fn bill_run_dates(
        &self,
        store: &mut Store<Sandbox>,
        instance: &Instance,
        practice: &newest::PracticeContext,
        first: newest::Date,
        last: newest::Date,
    ) -> CallResult<Vec<newest::Date>> {
        let answer = export(&self.cadence, Slot::BillCadence)?.load(&mut *store, instance)?.call_bill_run_dates(
            store,
            &practice_context(practice),
            date(first),
            date(last),
        )?;
        Ok(answer.map(|dates| dates.into_iter().map(newest_date).collect()))
    }

    pub(super) fn group_lines(
        &self,
        store: &mut Store<Sandbox>,
        instance: &Instance,
        practice: &newest::PracticeContext,
        run_date: newest::Date,
        catalog: &newest::Catalog,
        lines: &[newest::ServiceLine],
    ) -> CallResult<Vec<newest::BillPlan>> {
        let lines: Vec<_> = lines.iter().map(service_line).collect();
        let answer = export(&self.cadence, Slot::BillCadence)?.load(&mut *store, instance)?.call_group_lines(
            store,
            &practice_context(practice),
            date(run_date),
            &self::catalog(catalog),
            &lines,
        )?;
        Ok(answer.map(|plans| plans.into_iter().map(bill_plan).collect()))
    }

    pub(super) fn superbill_run_day(
        &self,
        store: &mut Store<Sandbox>,
        instance: &Instance,
        practice: &newest::PracticeContext,
        year: i32,
        month: u8,
    ) -> CallResult<u8> {
        export(&self.superbill, Slot::SuperbillInclusion)?.load(&mut *store, instance)?.call_superbill_run_day(
            store,
            &practice_context(practice),
            year,
            month,
        )
    }

    #[allow(clippy::too_many_arguments)]
    pub(super) fn select_lines(
        &self,
        store: &mut Store<Sandbox>,
        instance: &Instance,
        practice: &newest::PracticeContext,
        run_date: newest::Date,
        clients: &[newest::ClientBilling],
        catalog: &newest::Catalog,
        lines: &[newest::ServiceLine],
    ) -> CallResult<Vec<newest::SuperbillPlan>> {
        let clients: Vec<_> = clients.iter().map(client_billing).collect();
        let lines: Vec<_> = lines.iter().map(service_line).collect();
        let answer =
            export(&self.superbill, Slot::SuperbillInclusion)?.load(&mut *store, instance)?.call_select_lines(
                store,
                &practice_context(practice),
                date(run_date),
                &clients,
                &self::catalog(catalog),
                &lines,
            )?;
        Ok(answer.map(|plans| {
            plans
                .into_iter()
                .map(|plan| newest::SuperbillPlan { client_id: plan.client_id, lines: plan.lines })
                .collect()
        }))
    }

    pub(super) fn decide_shares(
        &self,
        store: &mut Store<Sandbox>,
        instance: &Instance,
        practice: &newest::PracticeContext,
        requests: &[newest::ShareRequest],
    ) -> CallResult<Vec<newest::ShareDecision>> {
        let requests: Vec<_> = requests.iter().map(share_request).collect();
        let answer = export(&self.share, Slot::ShareFilter)?.load(&mut *store, instance)?.call_decide_shares(
            store,
            &practice_context(practice),
            &requests,
        )?;
        match answer {
            Ok(decisions) => Ok(Ok(decisions.into_iter().map(share_decision).collect::<Result<_, _>>()?)),
            Err(reason) => Ok(Err(reason)),
        }
    }
}

fn export<T>(indices: &Option<T>, slot: Slot) -> wasmtime::Result<&T> {
    indices.as_ref().ok_or_else(|| super::missing(slot))
}

fn date(date: newest::Date) -> old::Date {
    old::Date { year: date.year, month: date.month, day: date.day }
}

fn newest_date(date: old::Date) -> newest::Date {
    newest::Date { year: date.year, month: date.month, day: date.day }
}

fn practice_context(practice: &newest::PracticeContext) -> old::PracticeContext {
    let automation = &practice.automation;
    old::PracticeContext {
        practice_id: practice.practice_id,
        timezone: practice.timezone.clone(),
        currency: practice.currency.clone(),
        automation: old::AutomationSettings {
            bill_creation: match automation.bill_creation {
                newest::BillCreation::Daily => old::BillCreation::Daily,
                newest::BillCreation::Monthly => old::BillCreation::Monthly,
                newest::BillCreation::Manual => old::BillCreation::Manual,
            },
            superbill_day: automation.superbill_day,
            share_by_default: automation.share_by_default,
            share_delay_minutes: automation.share_delay_minutes,
            autopay: automation.autopay,
        },
        config: practice.config.clone(),
    }
}

fn catalog(catalog: &newest::Catalog) -> old::Catalog {
    old::Catalog {
        services: catalog
            .services
            .iter()
            .map(|service| old::Service { code: service.code.clone(), cpt_code: service.cpt_code.clone() })
            .collect(),
        diagnosis_sets: catalog.diagnosis_sets.clone(),
    }
}

fn service_line(line: &newest::ServiceLine) -> old::ServiceLine {
    old::ServiceLine {
        line_id: line.line_id,
        appointment_id: line.appointment_id,
        client_id: line.client_id,
        date: date(line.date),
        service: line.service,
        diagnoses: line.diagnoses,
        fee: line.fee,
        paid: line.paid,
    }
}

fn client_billing(client: &newest::ClientBilling) -> old::ClientBilling {
    old::ClientBilling {
        client_id: client.client_id,
        email_on_file: client.email_on_file,
        email_allowed: client.email_allowed,
        auto_superbills: client.auto_superbills,
        auto_share: client.auto_share,
        autopay: client.autopay,
        card_on_file: client.card_on_file,
    }
}

fn share_request(request: &newest::ShareRequest) -> old::ShareRequest {
    let document = &request.document;
    old::ShareRequest {
        document: old::Document {
            document_id: document.document_id,
            kind: match document.kind {
                newest::DocumentKind::Bill => old::DocumentKind::Bill,
                newest::DocumentKind::Superbill => old::DocumentKind::Superbill,
            },
            client_id: document.client_id,
            total: document.total,
            paid: document.paid,
            status: match document.status {
                newest::DocumentStatus::Pended => old::DocumentStatus::Pended,
                newest::DocumentStatus::Open => old::DocumentStatus::Open,
                newest::DocumentStatus::Paid => old::DocumentStatus::Paid,
                newest::DocumentStatus::Void => old::DocumentStatus::Void,
                newest::DocumentStatus::Issued => old::DocumentStatus::Issued,
            },
        },
        client: client_billing(&request.client),
    }
}

fn bill_plan(plan: old::BillPlan) -> newest::BillPlan {
    newest::BillPlan {
        client_id: plan.client_id,
        lines: plan.lines,
        status: match plan.status {
            old::BillStatus::Pended => newest::BillStatus::Pended,
            old::BillStatus::Open => newest::BillStatus::Open,
        },
    }
}

/// 0.1's signed delay as 0.2's unsigned one; a delay below zero was never valid.
fn share_decision(decision: old::ShareDecision) -> Result<newest::ShareDecision, UnconvertibleAnswer> {
    match decision {
        old::ShareDecision::Send(minutes) => u32::try_from(minutes).map(newest::ShareDecision::Send).map_err(|_| {
            UnconvertibleAnswer(format!(
                "a share delay of {minutes} minutes; a delay is 0 to {} minutes",
                crate::plugin::validate::MAX_SHARE_DELAY_MINUTES
            ))
        }),
        old::ShareDecision::Skip(reason) => Ok(newest::ShareDecision::Skip(reason)),
    }
}
