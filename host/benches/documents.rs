//! Rendering documents: 1,000 one-page bills on one thread, and the size of one.
//!
//! Run with `cargo bench -p autobill --bench documents`. It renders a month's bill (four sessions,
//! a product, a payment) for 1,000 clients whose names cycle through Latin, Vietnamese, Greek,
//! Cyrillic, Chinese, Arabic and Hebrew, one after another on the calling thread, in this
//! machine's fonts (`Fonts::system`), and reports bills per second of the thread's CPU time (and
//! the time on the clock); then the size of one bill per script and of a superbill. Targets: at least 300 bills/s on one core, a one-page bill under
//! 150 KB.

use autobill::domain::{
    AutomationSettings, BillDocument, BillId, BillLine, BillPayment, BillProduct, BillStatus, Client, ClientId,
    Currency, Document, Practice, PracticeId, Provider, SuperbillDocument, SuperbillId, SuperbillLine,
};
use autobill::pdf::{self, Fonts};
use chrono::NaiveDate;
use std::time::{Duration, Instant};

const BILLS: usize = 1_000;
const RATE_TARGET: f64 = 300.0;
const SIZE_TARGET: usize = 150 * 1024;

const NAMES: [&str; 7] = [
    "Ana Alvarez",
    "Nguyễn Thị Hằng",
    "Αλέξανδρος Παπαδόπουλος",
    "Екатерина Смирнова",
    "王小明",
    "محمد الأحمد",
    "דוד כהן",
];

fn main() -> anyhow::Result<()> {
    println!("fonts: {}", Fonts::system().sources().join(", "));
    let bills: Vec<Document> = (0..BILLS).map(|n| bill(n, NAMES[n % NAMES.len()])).collect();
    // Warm up: the fonts are read on first use.
    pdf::render(&bills[0])?;

    let started = Instant::now();
    let cpu_started = cpu_time();
    let mut bytes = 0;
    for document in &bills {
        bytes += pdf::render(document)?.len();
    }
    let elapsed = started.elapsed();
    // On a machine shared with other work the thread waits for a core: its own CPU time is what
    // one core of its own would take.
    let busy = cpu_time().zip(cpu_started).map(|(end, start)| end.saturating_sub(start)).unwrap_or(elapsed);
    let rate = BILLS as f64 / busy.as_secs_f64();
    let verdict = if rate >= RATE_TARGET { "met" } else { "MISSED" };
    println!(
        "{BILLS} bills in {:.2} s of CPU ({:.2} s on the clock) on one thread: {rate:.0} bills/s \
         (target >= {RATE_TARGET:.0}: {verdict}); {:.1} KB on average",
        busy.as_secs_f64(),
        elapsed.as_secs_f64(),
        bytes as f64 / BILLS as f64 / 1024.0
    );

    for (n, name) in NAMES.iter().enumerate() {
        let size = pdf::render(&bill(n, name))?.len();
        let verdict = if size < SIZE_TARGET { "met" } else { "MISSED" };
        println!("one-page bill for {name}: {:.1} KB (target < 150 KB: {verdict})", size as f64 / 1024.0);
    }
    let size = pdf::render(&superbill())?.len();
    println!("one-page superbill: {:.1} KB", size as f64 / 1024.0);
    Ok(())
}

/// The CPU time this thread has used so far (Linux), if the system tells.
fn cpu_time() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let nanos: u64 = stat.split_whitespace().next()?.parse().ok()?;
    Some(Duration::from_nanos(nanos))
}

fn day(d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 10, d).unwrap_or_default()
}

fn practice() -> Practice {
    Practice {
        id: PracticeId::new(1),
        name: "Bến Thành Counseling".into(),
        timezone: chrono_tz::America::New_York,
        currency: Currency::USD,
        npi: "1234567893".into(),
        tax_id: "12-3456789".into(),
        address: "12 Lake Street, Burlington, VT 05401".into(),
        phone: "+1 802 555 0100".into(),
        email: "billing@benthanh.example".into(),
        provider: Provider { name: "Trần Văn Minh".into(), credentials: "LCSW".into(), npi: "1679576722".into() },
        place_of_service: "11".into(),
        automation: AutomationSettings::default(),
        scheduled_until: chrono::DateTime::UNIX_EPOCH,
    }
}

fn client(n: usize, name: &str) -> Client {
    Client {
        id: ClientId::new(n as i64 + 1),
        reference: format!("client-{n}"),
        name: name.into(),
        email: Some(format!("client-{n}@example.com")),
        email_enabled: true,
        auto_superbills: true,
        auto_share: true,
        autopay: true,
        card: Some("visa".into()),
        diagnosis: vec!["F41.1".into()],
        birth_date: NaiveDate::from_ymd_opt(1990, 4, 12),
        autopay_paused: None,
    }
}

fn bill(n: usize, name: &str) -> Document {
    let lines: Vec<BillLine> = [5, 12, 19, 26]
        .into_iter()
        .map(|d| BillLine {
            date: day(d),
            service: "Psychotherapy, 60 minutes".into(),
            code: "90837".into(),
            fee: 16_000,
        })
        .collect();
    Document::Bill(BillDocument {
        id: BillId::new(n as i64 + 1),
        practice: practice(),
        client: client(n, name),
        status: BillStatus::Paid,
        issued: day(31),
        lines,
        products: vec![BillProduct { name: "Workbook".into(), amount: 2_500 }],
        payments: vec![BillPayment {
            date: day(31),
            method: "Card (autopay)".into(),
            amount: 66_500,
            reference: Some("pi_3QkLmN2eZvKYlo2C1a2b3c4d".into()),
            refunded: 0,
            dispute: None,
        }],
        total: 66_500,
        paid: 66_500,
    })
}

fn superbill() -> Document {
    let lines = [5, 12, 19, 26]
        .into_iter()
        .map(|d| SuperbillLine {
            date: day(d),
            place_of_service: "11".into(),
            cpt: "90837".into(),
            modifiers: vec!["95".into()],
            units: 1,
            diagnoses: vec!["F41.1".into()],
            description: "Psychotherapy, 60 minutes".into(),
            fee: 16_000,
            paid: 16_000,
        })
        .collect();
    Document::Superbill(SuperbillDocument {
        id: SuperbillId::new(1),
        practice: practice(),
        client: client(0, "Nguyễn Thị Hằng"),
        issued: day(31),
        lines,
    })
}
