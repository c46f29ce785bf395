//! Autopay as the host keeps it: the bills a night may charge, the attempts made on them, and how
//! a payment spreads over a bill's lines.

use super::{AttemptId, AttemptStatus, BillId, ClientId, LineId};
use chrono::{DateTime, Utc};

/// An attempt already made on a bill.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PastAttempt {
    /// The attempt.
    pub id: AttemptId,
    /// 1, 2, 3… for the bill.
    pub number: i64,
    /// The idempotency key it was sent with.
    pub key: String,
    /// The amount asked for, in minor units.
    pub amount: i64,
    /// Where it stands.
    pub status: AttemptStatus,
    /// Whether a failure may be retried another night.
    pub retryable: bool,
    /// The card it was sent to (empty for attempts written before cards were recorded).
    pub card: String,
    /// The night it belongs to.
    pub created_at: DateTime<Utc>,
    /// The client's series of attempts it belongs to (see [`AutopayCandidate::series`]).
    pub series: i64,
    /// The provider's decline code, when it was declined (none for attempts recorded before
    /// codes were kept).
    pub decline_code: Option<String>,
}

/// An open bill with a balance, of a client whose autopay is on with a card on file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AutopayCandidate {
    /// The bill.
    pub bill: BillId,
    /// Its client.
    pub client: ClientId,
    /// The client's reference, for events.
    pub client_reference: String,
    /// What is left to pay, in minor units.
    pub balance: i64,
    /// The client's default card.
    pub card: String,
    /// The attempts made on the bill so far, by number.
    pub attempts: Vec<PastAttempt>,
    /// The client's current series of attempts: it moves on each time staff save a new card or
    /// resume autopay, and attempts of earlier series neither count nor block.
    pub series: i64,
    /// When the bill was made.
    pub made_at: DateTime<Utc>,
    /// Whether the client has disputed a payment with their bank (open or closed).
    pub client_disputed: bool,
}

/// A charge to send to the payment provider, written (with its key) before it is sent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Charge {
    /// The attempt; `None` until it is written.
    pub attempt: Option<AttemptId>,
    /// The bill charged.
    pub bill: BillId,
    /// Its client.
    pub client: ClientId,
    /// The client's reference, for events.
    pub client_reference: String,
    /// 1, 2, 3… for the bill.
    pub number: i64,
    /// The idempotency key: the same key always means the same charge.
    pub key: String,
    /// The amount, in minor units.
    pub amount: i64,
    /// The card charged.
    pub card: String,
    /// The night it belongs to.
    pub night: DateTime<Utc>,
    /// The client's series of attempts it belongs to.
    pub series: i64,
    /// 1, 2, 3… within its series: the last one allowed pauses autopay when declined.
    pub in_series: i64,
}

/// What a charge's outcome changes: the attempt's status, a payment when the money was taken, and
/// a pause of the client's autopay after the last soft decline.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Settlement {
    /// The attempt's new status.
    pub status: AttemptStatus,
    /// Why it failed, if it did.
    pub reason: Option<String>,
    /// Whether a failure may be retried another night.
    pub retryable: bool,
    /// The amount taken, when the charge succeeded.
    pub paid: Option<i64>,
    /// The provider's reference for the payment (`pi_…`), when the charge succeeded.
    pub reference: Option<String>,
    /// The reason the client's autopay pauses, when it does.
    pub pause: Option<String>,
    /// The provider's decline code, when the card was declined.
    pub decline_code: Option<String>,
}

/// What the practice's autopay policy answered for one bill due a charge tonight.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AutopayAnswer {
    /// Charge this amount, in minor units (checked: more than 0, at most the balance).
    Charge(i64),
    /// Leave the bill uncharged tonight, for this reason.
    Skip(String),
}

/// How a payment spreads over a bill's lines: in order, each line up to what is owed on it, so
/// superbills show what was paid against each service. `lines` are `(line, owed)`; gives
/// `(line, paid now)` for the lines that get something.
pub fn spread_payment(lines: &[(LineId, i64)], amount: i64) -> Vec<(LineId, i64)> {
    let mut left = amount;
    let mut spread = vec![];
    for (line, owed) in lines {
        if left <= 0 {
            break;
        }
        let share = (*owed).min(left);
        if share > 0 {
            spread.push((*line, share));
            left -= share;
        }
    }
    spread
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_payment_pays_lines_in_order_up_to_what_each_owes() {
        let lines = [(LineId::new(1), 15_000), (LineId::new(2), 5_000), (LineId::new(3), 5_000)];
        assert_eq!(spread_payment(&lines, 17_000), [(LineId::new(1), 15_000), (LineId::new(2), 2_000)]);
        assert_eq!(spread_payment(&lines, 0), []);
        assert_eq!(spread_payment(&lines, 99_000).iter().map(|(_, paid)| paid).sum::<i64>(), 25_000);
    }
}
