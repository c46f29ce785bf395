//! What Stripe's answers mean for autopay, without I/O: which card reference to send, and how a
//! PaymentIntent or an error becomes a [`ChargeOutcome`], a rate limit to wait out, or a failure
//! whose outcome is unknown. Everything here works on plain strings so it is tested without a
//! network or the client's types.

use crate::payments::ChargeOutcome;

/// A client's card as Stripe knows it, parsed from the reference the store keeps.
///
/// The reference is either a bare PaymentMethod id (`pm_…`) or `cus_…/pm_…`: a card saved for
/// later (off-session) use is attached to a Customer, and Stripe then wants that customer named
/// on the PaymentIntent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CardReference<'a> {
    /// The Customer the payment method is attached to, if any.
    pub customer: Option<&'a str>,
    /// The PaymentMethod to charge.
    pub payment_method: &'a str,
}

impl<'a> CardReference<'a> {
    /// Parses `pm_…` or `cus_…/pm_…`; `None` when the reference is not a Stripe card.
    pub fn parse(reference: &'a str) -> Option<Self> {
        let (customer, payment_method) = match reference.trim().split_once('/') {
            Some((customer, payment_method)) => (Some(customer), payment_method),
            None => (None, reference.trim()),
        };
        let id = |value: &str, prefix: &str| {
            value.len() > prefix.len()
                && value.starts_with(prefix)
                && value.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
        };
        if !id(payment_method, "pm_") || customer.is_some_and(|customer| !id(customer, "cus_")) {
            return None;
        }
        Some(CardReference { customer, payment_method })
    }
}

/// The parts of a Stripe error that decide what it means (see Stripe's error object: `type`,
/// `code`, `decline_code`, `advice_code`), with the HTTP status it came with.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ErrorFacts<'a> {
    /// The HTTP status, e.g. 402 for a declined card, 429 for a rate limit.
    pub status: u16,
    /// The error's `type`: `card_error`, `invalid_request_error`, `api_error`, `idempotency_error`.
    pub kind: &'a str,
    /// The error's `code`, e.g. `card_declined`, `expired_card`, `authentication_required`.
    pub code: Option<&'a str>,
    /// The issuer's reason for a decline, e.g. `insufficient_funds`, `stolen_card`.
    pub decline_code: Option<&'a str>,
    /// Stripe's advice on retrying: `try_again_later`, `do_not_try_again`, `confirm_card_data`.
    pub advice_code: Option<&'a str>,
    /// The human-readable message, for errors that are neither declines nor rate limits.
    pub message: Option<&'a str>,
}

/// What a Stripe error means for the charge.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Classified {
    /// The charge has a final outcome (a decline, or authentication required).
    Outcome(ChargeOutcome),
    /// Stripe asked us to slow down (or the same key is still being processed): send the same
    /// request again after a pause.
    RateLimited,
    /// Not an answer about the card: configuration, an outage, or something unexpected. The
    /// outcome is unknown, so the attempt must stay pending and be sent again with its key.
    Failed(String),
}

/// Declines that trying again cannot fix: the card is lost, stolen, closed, expired or wrong, or
/// the issuer said never to retry. Retrying them only adds declines (and network penalties).
const HARD_DECLINES: &[&str] = &[
    "stolen_card",
    "lost_card",
    "pickup_card",
    "restricted_card",
    "fraudulent",
    "merchant_blacklist",
    "do_not_honor",
    "do_not_try_again",
    "security_violation",
    "expired_card",
    "incorrect_number",
    "invalid_number",
    "incorrect_cvc",
    "invalid_cvc",
    "invalid_expiry_month",
    "invalid_expiry_year",
    "invalid_account",
    "account_closed",
    "card_not_supported",
    "currency_not_supported",
    "transaction_not_allowed",
    "not_permitted",
    "service_not_allowed",
    "revocation_of_all_authorizations",
    "revocation_of_authorization",
    "stop_payment_order",
    "new_account_information_available",
    "no_action_taken",
    "incorrect_pin",
    "invalid_pin",
    "pin_try_exceeded",
    "offline_pin_required",
    "online_or_offline_pin_required",
    "duplicate_transaction",
    "invalid_amount",
    "testmode_decline",
];

/// Declines that may pass another night: no money today, a temporary issuer or network problem,
/// or a decline without a reason.
const SOFT_DECLINES: &[&str] = &[
    "insufficient_funds",
    "generic_decline",
    "card_declined",
    "processing_error",
    "try_again_later",
    "issuer_not_available",
    "reenter_transaction",
    "card_velocity_exceeded",
    "withdrawal_count_limit_exceeded",
    "card_decline_rate_limit_exceeded",
    "approve_with_id",
    "call_issuer",
];

/// Codes that mean the bank wants the cardholder present (3-D Secure); off-session charges
/// cannot pass them.
const AUTHENTICATION: &[&str] = &["authentication_required", "authentication_not_handled"];

/// Errors about the card reference itself (a PaymentMethod or Customer that does not exist or
/// cannot be used): the card cannot be charged until someone fixes it, like a hard decline.
const UNUSABLE_CARD: &[&str] = &[
    "resource_missing",
    "payment_method_unactivated",
    "payment_method_unexpected_state",
    "payment_method_not_available",
    "payment_method_invalid_parameter",
];

/// Whether a declined charge is worth trying again another night. Stripe's `advice_code` wins
/// when present; otherwise the decline code decides, and an unknown code counts as soft (the
/// engine's bounded attempts then pause autopay with a reason).
pub fn decline_is_retryable(code: &str, advice_code: Option<&str>) -> bool {
    match advice_code {
        Some("do_not_try_again" | "confirm_card_data") => return false,
        Some("try_again_later") => return true,
        _ => {}
    }
    // Known soft declines, and codes Stripe adds later that are not known to be hard.
    SOFT_DECLINES.contains(&code) || !HARD_DECLINES.contains(&code)
}

/// What a Stripe error means: a card error becomes a decline (hard or soft) or
/// [`ChargeOutcome::AuthenticationRequired`]; 429 (and a key still in use) is a rate limit;
/// anything else is a failure whose outcome is unknown.
pub fn classify_error(error: &ErrorFacts<'_>) -> Classified {
    let code = error.code.filter(|c| !c.is_empty());
    let decline = error.decline_code.filter(|c| !c.is_empty());
    if error.status == 429 || code == Some("rate_limit") || code == Some("idempotency_key_in_use") {
        return Classified::RateLimited;
    }
    if code.is_some_and(|c| AUTHENTICATION.contains(&c)) || decline.is_some_and(|c| AUTHENTICATION.contains(&c)) {
        return Classified::Outcome(ChargeOutcome::AuthenticationRequired);
    }
    if error.kind == "card_error" || error.status == 402 {
        let code = decline.or(code).unwrap_or("card_declined");
        let retryable = decline_is_retryable(code, error.advice_code);
        return Classified::Outcome(ChargeOutcome::Declined { code: code.to_string(), retryable });
    }
    if matches!(error.status, 400 | 404) && code.is_some_and(|c| UNUSABLE_CARD.contains(&c)) {
        let code = code.unwrap_or("resource_missing");
        return Classified::Outcome(ChargeOutcome::Declined { code: code.to_string(), retryable: false });
    }
    let what = match (error.kind, code) {
        ("", None) => String::from("an error"),
        (kind, None) => kind.to_string(),
        ("", Some(code)) => code.to_string(),
        (kind, Some(code)) => format!("{kind} ({code})"),
    };
    let message = error.message.map(|m| format!(": {m}")).unwrap_or_default();
    Classified::Failed(format!("Stripe answered HTTP {} with {what}{message}", error.status))
}

/// What a PaymentIntent returned by a confirmed, off-session create means. `last_error` is the
/// intent's `last_payment_error`, if any.
///
/// `succeeded` is paid; `requires_action` (and an authentication error) means the bank wants the
/// client on-session; `requires_payment_method` with an error is a decline. Anything else
/// (`processing`, `requires_capture`, `canceled`…) is not a final answer for an automatic card
/// charge and is returned as an error, so the attempt stays pending and nothing is recorded twice.
pub fn classify_intent(id: &str, status: &str, last_error: Option<&ErrorFacts<'_>>) -> Result<ChargeOutcome, String> {
    match status {
        "succeeded" => Ok(ChargeOutcome::Succeeded { reference: id.to_string() }),
        "requires_action" => Ok(ChargeOutcome::AuthenticationRequired),
        "requires_payment_method" => match last_error.map(|e| classify_error(&ErrorFacts { status: 402, ..*e })) {
            Some(Classified::Outcome(outcome)) => Ok(outcome),
            _ => Err(format!("PaymentIntent {id} needs a payment method but Stripe gave no decline reason")),
        },
        other => Err(format!("PaymentIntent {id} is `{other}`, not a final answer for an off-session card charge")),
    }
}

/// Removes every occurrence of `secret` from `text`, so no message that quotes a request or a
/// configuration can carry the key into logs or the store.
pub fn redact(text: &str, secret: &str) -> String {
    if secret.is_empty() { text.to_string() } else { text.replace(secret, "sk_***") }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn card(status: u16, code: &'static str, decline: Option<&'static str>) -> ErrorFacts<'static> {
        ErrorFacts { status, kind: "card_error", code: Some(code), decline_code: decline, ..Default::default() }
    }

    fn declined(code: &str, retryable: bool) -> Classified {
        Classified::Outcome(ChargeOutcome::Declined { code: code.to_string(), retryable })
    }

    #[test]
    fn card_references_are_a_payment_method_optionally_behind_its_customer() {
        assert_eq!(
            CardReference::parse("pm_123abc"),
            Some(CardReference { customer: None, payment_method: "pm_123abc" })
        );
        assert_eq!(
            CardReference::parse("cus_9/pm_1"),
            Some(CardReference { customer: Some("cus_9"), payment_method: "pm_1" })
        );
        for bad in ["", "visa", "pm_", "cus_1", "cus_1/", "/pm_1", "card_1/pm_1", "cus_1/pm_1/x", "pm_1 2", "pm_1&x=y"]
        {
            assert_eq!(CardReference::parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn hard_declines_are_not_retried() {
        for code in [
            "stolen_card",
            "lost_card",
            "do_not_honor",
            "pickup_card",
            "fraudulent",
            "invalid_account",
            "restricted_card",
        ] {
            assert_eq!(classify_error(&card(402, "card_declined", Some(code))), declined(code, false), "{code}");
        }
        for code in ["expired_card", "incorrect_number", "incorrect_cvc"] {
            assert_eq!(classify_error(&card(402, code, None)), declined(code, false), "{code}");
        }
    }

    #[test]
    fn soft_declines_are_retried() {
        for code in
            ["insufficient_funds", "generic_decline", "processing_error", "try_again_later", "card_velocity_exceeded"]
        {
            assert_eq!(classify_error(&card(402, "card_declined", Some(code))), declined(code, true), "{code}");
        }
        assert_eq!(classify_error(&card(402, "processing_error", None)), declined("processing_error", true));
        assert_eq!(
            classify_error(&card(402, "card_declined", None)),
            declined("card_declined", true),
            "a decline without a reason is Stripe's generic decline"
        );
        assert_eq!(classify_error(&card(402, "card_declined", Some("something_new"))), declined("something_new", true));
    }

    #[test]
    fn no_decline_code_is_both_hard_and_soft() {
        for code in SOFT_DECLINES {
            assert!(!HARD_DECLINES.contains(code), "{code}");
            assert!(decline_is_retryable(code, None), "{code}");
        }
    }

    #[test]
    fn stripe_advice_overrides_the_decline_code() {
        let mut error = card(402, "card_declined", Some("generic_decline"));
        error.advice_code = Some("do_not_try_again");
        assert_eq!(classify_error(&error), declined("generic_decline", false));
        let mut error = card(402, "card_declined", Some("do_not_honor"));
        error.advice_code = Some("try_again_later");
        assert_eq!(classify_error(&error), declined("do_not_honor", true));
    }

    #[test]
    fn authentication_required_is_its_own_outcome() {
        let expected = Classified::Outcome(ChargeOutcome::AuthenticationRequired);
        assert_eq!(classify_error(&card(402, "authentication_required", Some("authentication_required"))), expected);
        assert_eq!(classify_error(&card(402, "card_declined", Some("authentication_required"))), expected);
        assert_eq!(classify_intent("pi_1", "requires_action", None), Ok(ChargeOutcome::AuthenticationRequired));
    }

    #[test]
    fn rate_limits_are_waited_out() {
        let error =
            ErrorFacts { status: 429, kind: "invalid_request_error", code: Some("rate_limit"), ..Default::default() };
        assert_eq!(classify_error(&error), Classified::RateLimited);
        let in_use = ErrorFacts {
            status: 409,
            kind: "idempotency_error",
            code: Some("idempotency_key_in_use"),
            ..Default::default()
        };
        assert_eq!(classify_error(&in_use), Classified::RateLimited);
    }

    #[test]
    fn an_unusable_card_reference_fails_like_a_hard_decline() {
        let missing = ErrorFacts {
            status: 400,
            kind: "invalid_request_error",
            code: Some("resource_missing"),
            message: Some("No such PaymentMethod: 'pm_x'"),
            ..Default::default()
        };
        assert_eq!(classify_error(&missing), declined("resource_missing", false));
    }

    #[test]
    fn other_errors_leave_the_outcome_unknown() {
        let auth = ErrorFacts {
            status: 401,
            kind: "invalid_request_error",
            message: Some("Invalid API Key provided: sk_test_****1234"),
            ..Default::default()
        };
        assert_eq!(
            classify_error(&auth),
            Classified::Failed(
                "Stripe answered HTTP 401 with invalid_request_error: Invalid API Key provided: sk_test_****1234"
                    .into()
            )
        );
        let outage = ErrorFacts { status: 500, kind: "api_error", ..Default::default() };
        assert!(matches!(classify_error(&outage), Classified::Failed(_)));
        let replay = ErrorFacts { status: 400, kind: "idempotency_error", ..Default::default() };
        assert!(matches!(classify_error(&replay), Classified::Failed(_)));
    }

    #[test]
    fn payment_intents_map_by_status() {
        assert_eq!(
            classify_intent("pi_1", "succeeded", None),
            Ok(ChargeOutcome::Succeeded { reference: "pi_1".into() })
        );
        let decline =
            ErrorFacts { code: Some("card_declined"), decline_code: Some("insufficient_funds"), ..Default::default() };
        assert_eq!(
            classify_intent("pi_1", "requires_payment_method", Some(&decline)),
            Ok(ChargeOutcome::Declined { code: "insufficient_funds".into(), retryable: true })
        );
        assert!(classify_intent("pi_1", "requires_payment_method", None).is_err());
        for status in ["processing", "requires_capture", "requires_confirmation", "canceled"] {
            assert!(classify_intent("pi_1", status, None).is_err(), "{status}");
        }
    }

    #[test]
    fn the_secret_key_is_redacted() {
        assert_eq!(redact("bad key sk_test_abc in sk_test_abc", "sk_test_abc"), "bad key sk_*** in sk_***");
        assert_eq!(redact("nothing", ""), "nothing");
    }
}
