//! Bill and superbill runs: which lines a run may use, the documents its policy's plans make,
//! and the events that tell about them.

use crate::domain::{
    BillId, BillStatus, Candidates, DocumentId, DocumentToShare, EventKind, LineId, NewBill, NewSuperbill, PlannedBill,
    PlannedSuperbill, SuperbillId, is_billable,
};
use std::collections::HashMap;

/// The candidates a run may use: only lines that are billable (a completed appointment's service
/// with a fee). The store reads only such lines; this is the rule itself.
pub fn billable(mut candidates: Candidates) -> Candidates {
    candidates.lines.retain(|line| is_billable(line.status, line.fee));
    candidates
}

/// The bills a cadence policy's checked plans make: each with its lines' total.
pub fn new_bills(candidates: &Candidates, plans: &[PlannedBill]) -> Vec<NewBill> {
    let fees: HashMap<LineId, i64> = candidates.lines.iter().map(|line| (line.id, line.fee)).collect();
    plans
        .iter()
        .map(|plan| NewBill {
            client: plan.client,
            status: plan.status,
            total: plan.lines.iter().filter_map(|line| fees.get(line)).sum(),
            lines: plan.lines.clone(),
        })
        .collect()
}

/// The `bill_created` events of bills just made, with their new ids.
pub fn bill_events(candidates: &Candidates, bills: &[NewBill], ids: &[BillId]) -> Vec<EventKind> {
    let names = line_names(candidates);
    bills
        .iter()
        .zip(ids)
        .map(|(bill, id)| EventKind::BillCreated {
            bill: *id,
            client: candidates.client_reference(bill.client),
            status: bill.status,
            total: bill.total,
            lines: bill.lines.iter().map(|line| names.get(line).cloned().unwrap_or_default()).collect(),
        })
        .collect()
}

/// The bills just made that are shared now: open ones (a pended bill is shared once a person
/// opens it).
pub fn bills_to_share(bills: &[NewBill], ids: &[BillId]) -> Vec<DocumentToShare> {
    bills
        .iter()
        .zip(ids)
        .filter(|(bill, _)| bill.status == BillStatus::Open)
        .map(|(bill, id)| DocumentToShare {
            id: DocumentId::Bill(*id),
            client: bill.client,
            total: bill.total,
            paid: 0,
            status: Some(BillStatus::Open),
        })
        .collect()
}

/// The superbills an inclusion policy's checked plans make: each with its lines' fees and what
/// was paid against them.
pub fn new_superbills(candidates: &Candidates, plans: &[PlannedSuperbill]) -> Vec<NewSuperbill> {
    let amounts: HashMap<LineId, (i64, i64)> =
        candidates.lines.iter().map(|line| (line.id, (line.fee, line.paid))).collect();
    plans
        .iter()
        .map(|plan| {
            let (total, paid) = plan
                .lines
                .iter()
                .filter_map(|line| amounts.get(line))
                .fold((0, 0), |(total, paid), (fee, line_paid)| (total + fee, paid + line_paid));
            NewSuperbill { client: plan.client, total, paid, lines: plan.lines.clone() }
        })
        .collect()
}

/// The `superbill_created` events of superbills just made, with their new ids.
pub fn superbill_events(candidates: &Candidates, superbills: &[NewSuperbill], ids: &[SuperbillId]) -> Vec<EventKind> {
    let names = line_names(candidates);
    superbills
        .iter()
        .zip(ids)
        .map(|(superbill, id)| EventKind::SuperbillCreated {
            superbill: *id,
            client: candidates.client_reference(superbill.client),
            total: superbill.total,
            paid: superbill.paid,
            lines: superbill.lines.iter().map(|line| names.get(line).cloned().unwrap_or_default()).collect(),
        })
        .collect()
}

/// Superbills just made, as the share policy is asked about them.
pub fn superbills_to_share(superbills: &[NewSuperbill], ids: &[SuperbillId]) -> Vec<DocumentToShare> {
    superbills
        .iter()
        .zip(ids)
        .map(|(superbill, id)| DocumentToShare {
            id: DocumentId::Superbill(*id),
            client: superbill.client,
            total: superbill.total,
            paid: superbill.paid,
            status: None,
        })
        .collect()
}

fn line_names(candidates: &Candidates) -> HashMap<LineId, String> {
    candidates.lines.iter().map(|line| (line.id, candidates.line_name(line))).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{AppointmentId, AppointmentStatus, CandidateLine, Client, ClientId, ServiceCodes, ServiceId};
    use chrono::NaiveDate;

    fn client(id: i64, reference: &str) -> Client {
        Client {
            id: ClientId::new(id),
            reference: reference.into(),
            name: reference.into(),
            email: Some(format!("{reference}@example.com")),
            email_enabled: true,
            auto_superbills: true,
            auto_share: true,
            autopay: false,
            card: None,
            diagnosis: vec![],
            birth_date: None,
            autopay_paused: None,
        }
    }

    /// Lines `(id, appointment, client, status, fee, paid)`, of service 90837, on 2026-01-05.
    fn candidates(lines: &[(i64, i64, i64, AppointmentStatus, i64, i64)]) -> Candidates {
        let mut candidates = Candidates::default();
        candidates.services.insert(ServiceId::new(1), ServiceCodes { code: "90837".into(), cpt: Some("90837".into()) });
        for &(id, appointment, client_id, status, fee, paid) in lines {
            candidates.lines.push(CandidateLine {
                id: LineId::new(id),
                appointment: AppointmentId::new(appointment),
                status,
                client: ClientId::new(client_id),
                date: NaiveDate::from_ymd_opt(2026, 1, 5).unwrap_or_default(),
                service: ServiceId::new(1),
                fee,
                paid,
            });
            candidates.appointments.insert(AppointmentId::new(appointment), format!("appt-{appointment}"));
            candidates.clients.insert(ClientId::new(client_id), client(client_id, &format!("client-{client_id}")));
        }
        candidates
    }

    #[test]
    fn a_service_with_fee_zero_and_unheld_appointments_are_never_billed() {
        use AppointmentStatus::*;
        let all = candidates(&[
            (1, 1, 7, Completed, 15_000, 0),
            (2, 1, 7, Completed, 0, 0),
            (3, 2, 7, Scheduled, 15_000, 0),
            (4, 3, 7, NoShow, 15_000, 0),
            (5, 4, 7, Cancelled, 15_000, 0),
        ]);
        let lines: Vec<i64> = billable(all).lines.iter().map(|line| line.id.get()).collect();
        assert_eq!(lines, [1]);
    }

    #[test]
    fn bills_total_their_lines_and_events_name_lines_and_client() {
        use AppointmentStatus::Completed;
        let candidates = candidates(&[(1, 1, 7, Completed, 15_000, 0), (2, 2, 7, Completed, 5_000, 0)]);
        let plans = [PlannedBill {
            client: ClientId::new(7),
            status: BillStatus::Open,
            lines: vec![LineId::new(1), LineId::new(2)],
        }];
        let bills = new_bills(&candidates, &plans);
        assert_eq!(bills[0].total, 20_000);
        let events = bill_events(&candidates, &bills, &[BillId::new(40)]);
        assert_eq!(
            events,
            [EventKind::BillCreated {
                bill: BillId::new(40),
                client: "client-7".into(),
                status: BillStatus::Open,
                total: 20_000,
                lines: vec!["appt-1:90837".into(), "appt-2:90837".into()],
            }]
        );
    }

    #[test]
    fn only_open_bills_are_shared_when_made() {
        use AppointmentStatus::Completed;
        let candidates = candidates(&[(1, 1, 7, Completed, 15_000, 0), (2, 2, 8, Completed, 15_000, 0)]);
        let plans = [
            PlannedBill { client: ClientId::new(7), status: BillStatus::Pended, lines: vec![LineId::new(1)] },
            PlannedBill { client: ClientId::new(8), status: BillStatus::Open, lines: vec![LineId::new(2)] },
        ];
        let bills = new_bills(&candidates, &plans);
        let shared = bills_to_share(&bills, &[BillId::new(1), BillId::new(2)]);
        assert_eq!(shared.len(), 1);
        assert_eq!(shared[0].id, DocumentId::Bill(BillId::new(2)));
    }

    /// The built-in default policy's bills for `candidates` under `bills`, as a run decides them.
    fn default_policy_bills(candidates: &Candidates, bills: crate::domain::BillCreation) -> Vec<NewBill> {
        use crate::domain::{AutomationSettings, Currency, Practice, PracticeId, Provider};
        use crate::plugin::{ConfiguredPolicy, PluginLimits, PluginRuntime};
        let runtime = PluginRuntime::new(PluginLimits::default()).expect("a runtime");
        let policy = ConfiguredPolicy::new(std::sync::Arc::new(runtime.load_default().expect("the default")), "");
        let practice = Practice {
            id: PracticeId::new(1),
            name: "P".into(),
            timezone: chrono_tz::America::New_York,
            currency: Currency::USD,
            npi: String::new(),
            tax_id: String::new(),
            address: String::new(),
            phone: String::new(),
            email: String::new(),
            provider: Provider::default(),
            place_of_service: "11".into(),
            automation: AutomationSettings { bills, ..AutomationSettings::default() },
            scheduled_until: chrono::DateTime::UNIX_EPOCH,
        };
        let run_date = NaiveDate::from_ymd_opt(2026, 2, 1).unwrap_or_default();
        let plans = policy.group_lines(chrono::DateTime::UNIX_EPOCH, &practice, run_date, candidates).expect("plans");
        let mut bills = new_bills(candidates, &plans);
        bills.sort_by_key(|bill| bill.lines.clone());
        bills
    }

    #[test]
    fn daily_bills_group_by_date_monthly_by_client_and_manual_by_appointment_pended() {
        use crate::domain::BillCreation;
        use AppointmentStatus::Completed;
        let mut candidates = candidates(&[
            (1, 1, 7, Completed, 15_000, 0),
            (2, 1, 7, Completed, 5_000, 0),
            (3, 2, 7, Completed, 15_000, 0),
            (4, 3, 7, Completed, 15_000, 0),
        ]);
        candidates.lines[3].date = NaiveDate::from_ymd_opt(2026, 1, 6).unwrap_or_default();
        let lines = |bills: &[NewBill]| -> Vec<Vec<i64>> {
            bills.iter().map(|bill| bill.lines.iter().map(|line| line.get()).collect()).collect()
        };
        let daily = default_policy_bills(&candidates, BillCreation::Daily);
        assert_eq!(lines(&daily), [vec![1, 2, 3], vec![4]], "one bill per client and date of service");
        assert!(daily.iter().all(|bill| bill.status == BillStatus::Open));
        let monthly = default_policy_bills(&candidates, BillCreation::Monthly);
        assert_eq!(lines(&monthly), [vec![1, 2, 3, 4]], "one bill per client");
        assert_eq!(monthly[0].total, 50_000);
        let manual = default_policy_bills(&candidates, BillCreation::Manual);
        assert_eq!(lines(&manual), [vec![1, 2], vec![3], vec![4]], "one bill per appointment");
        assert!(manual.iter().all(|bill| bill.status == BillStatus::Pended), "pended until a person opens them");
    }

    #[test]
    fn superbills_show_what_was_paid_against_their_lines() {
        use AppointmentStatus::Completed;
        let candidates = candidates(&[(1, 1, 7, Completed, 15_000, 15_000), (2, 2, 7, Completed, 15_000, 4_000)]);
        let plans = [PlannedSuperbill { client: ClientId::new(7), lines: vec![LineId::new(1), LineId::new(2)] }];
        let superbills = new_superbills(&candidates, &plans);
        assert_eq!((superbills[0].total, superbills[0].paid), (30_000, 19_000));
        let shared = superbills_to_share(&superbills, &[SuperbillId::new(3)]);
        assert_eq!(shared[0].status, None, "a superbill is issued, not open");
    }
}
