//! Practice API tokens: how one is made from random bytes, how any token is recognised (by its
//! SHA-256 only), and when one may no longer be used.

use super::{PracticeId, TokenId};
use chrono::{DateTime, Duration, Utc};
use sha2::{Digest, Sha256};

/// How practice tokens start, so a leaked one is recognisable in logs and by secret scanners.
pub const TOKEN_PREFIX: &str = "abt_";

/// How many characters of a token are kept in the clear to tell tokens apart in a list.
pub const SHOWN_PREFIX_CHARS: usize = 12;

/// The longest life a token may be given, in days (ten years).
pub const MAX_EXPIRES_IN_DAYS: u32 = 3650;

/// The longest token name, in characters.
pub const MAX_TOKEN_NAME_CHARS: usize = 100;

/// How stale a token's "last used" time may get before a request records it again: recording
/// every request would make each read a write.
pub const LAST_USED_GRANULARITY: Duration = Duration::minutes(1);

/// A practice token just made: the secret, shown once, and what is stored of it.
#[derive(Clone, Debug)]
pub struct NewToken {
    /// The whole token, `abt_` and 64 hex digits; never stored.
    pub secret: String,
    /// Its SHA-256, hex: what the store keeps and looks it up by.
    pub hash: String,
    /// Its first characters, e.g. `abt_1f2e3d4c`, shown in lists.
    pub prefix: String,
}

impl NewToken {
    /// The token made of 32 random bytes.
    pub fn from_random(bytes: [u8; 32]) -> NewToken {
        let secret = format!("{TOKEN_PREFIX}{}", hex(&bytes));
        NewToken { hash: token_hash(&secret), prefix: secret[..SHOWN_PREFIX_CHARS].to_string(), secret }
    }
}

/// The SHA-256 (hex) a token is stored and recognised by.
pub fn token_hash(token: &str) -> String {
    hex(&Sha256::digest(token.as_bytes()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// When a token made at `now` to live `days` days expires (`None`: it does not), or why `days`
/// is not a life a token may have.
pub fn expiry(now: DateTime<Utc>, days: Option<u32>) -> Result<Option<DateTime<Utc>>, String> {
    match days {
        None => Ok(None),
        Some(days) if (1..=MAX_EXPIRES_IN_DAYS).contains(&days) => Ok(Some(now + Duration::days(i64::from(days)))),
        Some(days) => Err(format!("expires_in_days is {days}; give 1 to {MAX_EXPIRES_IN_DAYS}, or leave it out")),
    }
}

/// A stored practice token, as recognised from a request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredToken {
    /// Its id.
    pub id: TokenId,
    /// The practice it speaks for.
    pub practice: PracticeId,
    /// When it expires, if it does.
    pub expires_at: Option<DateTime<Utc>>,
    /// When it was revoked, if it was.
    pub revoked_at: Option<DateTime<Utc>>,
    /// When a request last used it, to [`LAST_USED_GRANULARITY`].
    pub last_used_at: Option<DateTime<Utc>>,
}

impl StoredToken {
    /// Whether the token may be used at `now`, or why not (said to the caller holding it).
    pub fn usable(&self, now: DateTime<Utc>) -> Result<(), String> {
        if let Some(revoked) = self.revoked_at {
            return Err(format!(
                "this token was revoked at {}; ask the operator or the practice for a new one",
                revoked.to_rfc3339()
            ));
        }
        match self.expires_at {
            Some(expired) if expired <= now => Err(format!(
                "this token expired at {}; ask the operator or the practice for a new one",
                expired.to_rfc3339()
            )),
            _ => Ok(()),
        }
    }

    /// Whether a use at `now` should be recorded as the token's last use.
    pub fn use_worth_recording(&self, now: DateTime<Utc>) -> bool {
        self.last_used_at.is_none_or(|last| now - last >= LAST_USED_GRANULARITY)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 1, 12, 0, 0).unwrap()
    }

    fn stored() -> StoredToken {
        StoredToken {
            id: TokenId::new(1),
            practice: PracticeId::new(2),
            expires_at: None,
            revoked_at: None,
            last_used_at: None,
        }
    }

    #[test]
    fn a_token_is_stored_by_its_hash_and_listed_by_its_prefix() {
        let token = NewToken::from_random([0xab; 32]);
        assert_eq!(token.secret.len(), 4 + 64);
        assert!(token.secret.starts_with("abt_abab"));
        assert_eq!(token.prefix, "abt_abababab");
        assert_eq!(token.hash, token_hash(&token.secret));
        assert_ne!(token.hash, token.secret);
    }

    #[test]
    fn a_token_lives_one_day_to_ten_years_or_for_ever() {
        assert_eq!(expiry(now(), None), Ok(None));
        assert_eq!(expiry(now(), Some(30)), Ok(Some(now() + Duration::days(30))));
        assert!(expiry(now(), Some(0)).unwrap_err().contains("1 to 3650"));
        assert!(expiry(now(), Some(3651)).is_err());
    }

    #[test]
    fn an_expired_or_revoked_token_is_refused_with_when() {
        assert_eq!(stored().usable(now()), Ok(()));
        let expiring = StoredToken { expires_at: Some(now()), ..stored() };
        assert!(expiring.usable(now() - Duration::seconds(1)).is_ok(), "usable until its expiry");
        assert!(expiring.usable(now()).unwrap_err().contains("expired at 2026-12-01T12:00:00+00:00"));
        let revoked = StoredToken { revoked_at: Some(now()), ..stored() };
        assert!(revoked.usable(now()).unwrap_err().contains("revoked"));
    }

    #[test]
    fn last_use_is_recorded_at_most_once_a_minute() {
        assert!(stored().use_worth_recording(now()));
        let used = StoredToken { last_used_at: Some(now()), ..stored() };
        assert!(!used.use_worth_recording(now() + Duration::seconds(59)));
        assert!(used.use_worth_recording(now() + Duration::seconds(60)));
    }
}
