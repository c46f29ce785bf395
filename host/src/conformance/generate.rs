//! Generated inputs: a small seeded random number generator and generators of practices,
//! catalogs, lines, clients and share requests. Everything here is a pure function of the seed,
//! so a printed seed reproduces every input.

use super::json::{
    Automation, BillCreation, Candidate, Catalog, Client, Day, Document, DocumentKind, DocumentStatus, Line, Practice,
    Request, Service,
};
use chrono::{Days, NaiveDate};

/// SplitMix64: tiny, fast, and good enough to vary test inputs. Not for cryptography.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    /// A generator started from `seed`.
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    /// A generator for one named use of `seed`, so each property draws its own stream and adding
    /// a property does not change the inputs of the others.
    pub fn for_label(seed: u64, label: &str) -> Self {
        // FNV-1a over the label, mixed into the seed.
        let hash = label
            .bytes()
            .fold(0xcbf2_9ce4_8422_2325_u64, |hash, byte| (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3));
        Rng(seed ^ hash.rotate_left(17))
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `0..bound` (0 when `bound` is 0).
    pub fn below(&mut self, bound: u64) -> u64 {
        if bound == 0 { 0 } else { self.next_u64() % bound }
    }

    /// A number in `low..=high`.
    pub fn between(&mut self, low: u64, high: u64) -> u64 {
        low + self.below(high.saturating_sub(low).saturating_add(1))
    }

    /// True with probability `numerator / denominator`.
    pub fn chance(&mut self, numerator: u64, denominator: u64) -> bool {
        self.below(denominator) < numerator
    }

    /// One of `items` (which must not be empty).
    pub fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len() as u64) as usize]
    }

    /// Shuffles `items` in place.
    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for index in (1..items.len()).rev() {
            let other = self.below(index as u64 + 1) as usize;
            items.swap(index, other);
        }
    }
}

/// How large the `case`-th of `cases` generated inputs is, up to `max`: inputs grow with the
/// case number, so the first failing case tends to be a small one.
pub fn size(case: u32, cases: u32, max: u64) -> u64 {
    let cases = u64::from(cases.max(1));
    1 + (u64::from(case) * max) / cases
}

const TIMEZONES: [&str; 5] = ["America/New_York", "America/Los_Angeles", "Europe/London", "Australia/Sydney", "UTC"];

/// A date between 2020-01-01 and 2035-12-31.
pub fn date(rng: &mut Rng) -> NaiveDate {
    let start = NaiveDate::from_ymd_opt(2020, 1, 1).unwrap_or(NaiveDate::MIN);
    start + Days::new(rng.below(16 * 365))
}

/// A practice with random settings and the given plugin configuration.
pub fn practice(rng: &mut Rng, config: &str) -> Practice {
    Practice {
        practice_id: rng.between(1, 1 << 40),
        timezone: rng.pick(&TIMEZONES).to_string(),
        currency: rng.pick(&["USD", "EUR", "AUD", "GBP"]).to_string(),
        automation: Automation {
            bill_creation: rng.pick(&[BillCreation::Daily, BillCreation::Monthly, BillCreation::Manual]),
            superbill_day: rng.between(1, 31) as u8,
            share_by_default: rng.chance(1, 2),
            share_delay_minutes: if rng.chance(1, 3) { 0 } else { rng.between(0, 10_080) as u32 },
            autopay: rng.chance(1, 2),
        },
        config: config.to_string(),
    }
}

/// Three to eight services, most with a CPT code, some with none or a blank one; one to four
/// diagnosis sets.
pub fn catalog(rng: &mut Rng) -> Catalog {
    const CPT: [&str; 6] = ["90837", "90834", "90791", "96127", "90847", "90832"];
    let services = (0..rng.between(3, 8))
        .map(|index| Service {
            code: format!("S{index}"),
            cpt_code: match rng.below(8) {
                0 => None,
                1 => Some(" ".into()),
                _ => Some(rng.pick(&CPT).to_string()),
            },
        })
        .collect();
    let diagnosis_sets = (0..rng.between(1, 4))
        .map(|_| (0..rng.below(3)).map(|index| format!("F4{index}.{}", rng.below(10))).collect())
        .collect();
    Catalog { services, diagnosis_sets }
}

/// `count` distinct ids, at random gaps from a random start, in a random order.
pub fn ids(rng: &mut Rng, count: usize) -> Vec<u64> {
    let mut next = rng.between(1, 1 << 40);
    let mut ids: Vec<u64> = (0..count)
        .map(|_| {
            next += rng.between(1, 1_000);
            next
        })
        .collect();
    rng.shuffle(&mut ids);
    ids
}

/// `count` lines of `clients`, on appointments of one to three lines, dated in the 120 days
/// before `before`, referring to `catalog`, in a random order.
pub fn lines(rng: &mut Rng, count: usize, clients: &[u64], catalog: &Catalog, before: NaiveDate) -> Vec<Line> {
    let line_ids = ids(rng, count);
    let mut appointment_id = rng.between(1, 1 << 40);
    let mut lines = Vec::with_capacity(count);
    while lines.len() < count && !clients.is_empty() {
        appointment_id += rng.between(1, 50);
        let client_id = rng.pick(clients);
        let date = before - Days::new(rng.between(1, 120));
        for _ in 0..rng.between(1, 3) {
            let Some(&line_id) = line_ids.get(lines.len()) else { break };
            let fee = rng.between(1, 40_000) as i64;
            lines.push(Line {
                line_id,
                appointment_id: Some(appointment_id),
                client_id,
                date: Day(date),
                service: rng.below(catalog.services.len() as u64) as u32,
                diagnoses: rng.below(catalog.diagnosis_sets.len() as u64) as u32,
                fee,
                paid: match rng.below(4) {
                    0 => fee,
                    1 => rng.below(fee as u64) as i64,
                    _ => 0,
                },
            });
        }
    }
    rng.shuffle(&mut lines);
    lines
}

/// A client with random switches.
pub fn client(rng: &mut Rng, client_id: u64) -> Client {
    Client {
        client_id,
        email_on_file: rng.chance(4, 5),
        email_allowed: rng.chance(4, 5),
        auto_superbills: rng.chance(2, 3),
        auto_share: rng.chance(3, 4),
        autopay: rng.chance(1, 2),
        card_on_file: rng.chance(1, 2),
    }
}

/// `count` share requests for `clients`: bills in every status, issued and void superbills.
pub fn requests(rng: &mut Rng, count: usize, clients: &[Client]) -> Vec<Request> {
    let document_ids = ids(rng, count);
    document_ids
        .into_iter()
        .filter_map(|document_id| {
            let client = clients.get(rng.below(clients.len() as u64) as usize)?.clone();
            let (kind, status) = if rng.chance(1, 3) {
                (DocumentKind::Superbill, if rng.chance(1, 6) { DocumentStatus::Void } else { DocumentStatus::Issued })
            } else {
                let status = rng.pick(&[
                    DocumentStatus::Open,
                    DocumentStatus::Open,
                    DocumentStatus::Paid,
                    DocumentStatus::Void,
                    DocumentStatus::Pended,
                ]);
                (DocumentKind::Bill, status)
            };
            let total = rng.between(1, 100_000) as i64;
            let paid = if status == DocumentStatus::Paid { total } else { rng.below(total as u64) as i64 };
            Some(Request {
                document: Document { document_id, kind, client_id: Some(client.client_id), total, paid, status },
                client,
            })
        })
        .collect()
}

/// `count` open bills of `clients` that tonight's autopay may charge: balances from 1 to 100,000
/// minor units, some bills new and some weeks old, some with earlier declines, some clients with
/// a disputed payment.
pub fn candidates(rng: &mut Rng, count: usize, clients: &[u64]) -> Vec<Candidate> {
    let bill_ids = ids(rng, count);
    let disputed: Vec<u64> = clients.iter().copied().filter(|_| rng.chance(1, 8)).collect();
    bill_ids
        .into_iter()
        .filter_map(|bill_id| {
            let client_id = *clients.get(rng.below(clients.len() as u64) as usize)?;
            let attempts = if rng.chance(1, 4) { rng.between(1, 3) as u32 } else { 0 };
            let last_decline_code = (attempts > 0 && rng.chance(1, 2))
                .then(|| rng.pick(&["insufficient_funds", "card_declined", "expired_card"]).to_string());
            Some(Candidate {
                bill_id,
                client_id,
                balance: rng.between(1, 100_000) as i64,
                age_days: rng.below(60) as u32,
                attempts,
                last_decline_code,
                client_disputed: disputed.contains(&client_id),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn the_same_seed_gives_the_same_inputs() {
        let make = |seed| {
            let mut rng = Rng::for_label(seed, "bills");
            let catalog = catalog(&mut rng);
            let before = date(&mut rng);
            let clients = ids(&mut rng, 5);
            lines(&mut rng, 50, &clients, &catalog, before)
        };
        assert_eq!(make(7), make(7));
        assert_ne!(make(7), make(8));
        assert_ne!(Rng::for_label(7, "a").next_u64(), Rng::for_label(7, "b").next_u64());
    }

    #[test]
    fn generated_lines_are_distinct_dated_before_the_run_and_refer_to_the_catalog() {
        let mut rng = Rng::new(42);
        let catalog = catalog(&mut rng);
        let before = NaiveDate::from_ymd_opt(2026, 3, 1).unwrap();
        let clients = ids(&mut rng, 4);
        let lines = lines(&mut rng, 500, &clients, &catalog, before);
        assert_eq!(lines.len(), 500);
        assert_eq!(lines.iter().map(|line| line.line_id).collect::<HashSet<_>>().len(), 500);
        assert!(lines.iter().all(|line| line.date.0 < before && clients.contains(&line.client_id)));
        assert!(lines.iter().all(|line| (line.service as usize) < catalog.services.len()));
        assert!(lines.iter().all(|line| (0..=line.fee).contains(&line.paid)));
    }

    #[test]
    fn sizes_grow_with_the_case_number() {
        assert_eq!(size(0, 64, 200), 1);
        assert!(size(63, 64, 200) > 190);
        assert_eq!(size(5, 0, 10), 51);
    }
}
