//! The host's policy types as the guest SDK's, so a bench can call the default policy's code
//! compiled natively on the same input the plugin gets.

use autobill::plugin::policy as host;
use autobill_guest as guest;

pub fn date(date: &host::Date) -> guest::Date {
    guest::Date { year: date.year, month: date.month, day: date.day }
}

pub fn practice(practice: &host::PracticeContext) -> guest::PracticeContext {
    let automation = &practice.automation;
    guest::PracticeContext {
        practice_id: practice.practice_id,
        timezone: practice.timezone.clone(),
        currency: practice.currency.clone(),
        automation: guest::AutomationSettings {
            bill_creation: match automation.bill_creation {
                host::BillCreation::Daily => guest::BillCreation::Daily,
                host::BillCreation::Monthly => guest::BillCreation::Monthly,
                host::BillCreation::Manual => guest::BillCreation::Manual,
            },
            superbill_day: automation.superbill_day,
            share_by_default: automation.share_by_default,
            share_delay_minutes: automation.share_delay_minutes,
            autopay: automation.autopay,
        },
        config: practice.config.clone(),
    }
}

pub fn catalog(catalog: &host::Catalog) -> guest::Catalog {
    guest::Catalog {
        services: catalog
            .services
            .iter()
            .map(|service| guest::Service { code: service.code.clone(), cpt_code: service.cpt_code.clone() })
            .collect(),
        diagnosis_sets: catalog.diagnosis_sets.clone(),
    }
}

pub fn line(line: &host::ServiceLine) -> guest::ServiceLine {
    guest::ServiceLine {
        line_id: line.line_id,
        appointment_id: line.appointment_id,
        client_id: line.client_id,
        date: date(&line.date),
        service: line.service,
        diagnoses: line.diagnoses,
        fee: line.fee,
        paid: line.paid,
    }
}

pub fn client(client: &host::ClientBilling) -> guest::ClientBilling {
    guest::ClientBilling {
        client_id: client.client_id,
        email_on_file: client.email_on_file,
        email_allowed: client.email_allowed,
        auto_superbills: client.auto_superbills,
        auto_share: client.auto_share,
        autopay: client.autopay,
        card_on_file: client.card_on_file,
    }
}

pub fn request(request: &host::ShareRequest) -> guest::ShareRequest {
    let document = &request.document;
    guest::ShareRequest {
        document: guest::Document {
            document_id: document.document_id,
            kind: match document.kind {
                host::DocumentKind::Bill => guest::DocumentKind::Bill,
                host::DocumentKind::Superbill => guest::DocumentKind::Superbill,
            },
            client_id: document.client_id,
            total: document.total,
            paid: document.paid,
            status: match document.status {
                host::DocumentStatus::Pended => guest::DocumentStatus::Pended,
                host::DocumentStatus::Open => guest::DocumentStatus::Open,
                host::DocumentStatus::Paid => guest::DocumentStatus::Paid,
                host::DocumentStatus::Void => guest::DocumentStatus::Void,
                host::DocumentStatus::Issued => guest::DocumentStatus::Issued,
            },
        },
        client: client(&request.client),
    }
}

pub fn autopay_candidate(candidate: &host::AutopayCandidate) -> guest::AutopayCandidate {
    guest::AutopayCandidate {
        bill_id: candidate.bill_id,
        client_id: candidate.client_id,
        balance: candidate.balance,
        age_days: candidate.age_days,
        attempts: candidate.attempts,
        last_decline_code: candidate.last_decline_code.clone(),
        client_disputed: candidate.client_disputed,
    }
}
