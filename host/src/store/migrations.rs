//! The schema, as ordered migrations. One text serves SQLite and PostgreSQL: `{pk}` and `{blob}`
//! are the only words that differ, and every statement is plain enough for both.

/// Migrations in order; each runs once, inside a transaction, and is recorded by number.
pub const MIGRATIONS: &[(&str, &str)] = &[
    ("0001_initial", INITIAL),
    ("0002_documents", DOCUMENTS),
    ("0003_api_tokens", API_TOKENS),
    ("0004_line_indexes", LINE_INDEXES),
    ("0005_provider_reference", PROVIDER_REFERENCE),
    ("0006_token_lifecycle", TOKEN_LIFECYCLE),
    ("0007_stripe_events", STRIPE_EVENTS),
    ("0008_night", NIGHT),
    ("0009_api_lookups", API_LOOKUPS),
    ("0010_decline_codes", DECLINE_CODES),
];

const INITIAL: &str = r#"
CREATE TABLE practices (
    id {pk},
    name TEXT NOT NULL,
    timezone TEXT NOT NULL,
    currency TEXT NOT NULL,
    npi TEXT NOT NULL DEFAULT '',
    tax_id TEXT NOT NULL DEFAULT '',
    address TEXT NOT NULL DEFAULT '',
    phone TEXT NOT NULL DEFAULT '',
    bills TEXT NOT NULL,
    superbill_day BIGINT NOT NULL,
    share_default BIGINT NOT NULL,
    share_delay_minutes BIGINT NOT NULL,
    autopay BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    scheduled_until BIGINT NOT NULL
);

CREATE TABLE plugins (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    bytes {blob} NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE plugin_assignments (
    practice_id BIGINT NOT NULL REFERENCES practices(id),
    slot TEXT NOT NULL,
    plugin_id TEXT NOT NULL REFERENCES plugins(id),
    config TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (practice_id, slot)
);

CREATE TABLE services (
    id {pk},
    practice_id BIGINT NOT NULL REFERENCES practices(id),
    code TEXT NOT NULL,
    name TEXT NOT NULL,
    fee BIGINT NOT NULL,
    cpt_code TEXT,
    UNIQUE (practice_id, code)
);

CREATE TABLE clients (
    id {pk},
    practice_id BIGINT NOT NULL REFERENCES practices(id),
    reference TEXT NOT NULL,
    name TEXT NOT NULL,
    email TEXT,
    email_enabled BIGINT NOT NULL,
    auto_superbills BIGINT NOT NULL,
    auto_share BIGINT NOT NULL,
    autopay BIGINT NOT NULL,
    card TEXT,
    autopay_paused TEXT,
    diagnosis TEXT NOT NULL DEFAULT '',
    UNIQUE (practice_id, reference)
);

CREATE TABLE appointments (
    id {pk},
    practice_id BIGINT NOT NULL REFERENCES practices(id),
    client_id BIGINT NOT NULL REFERENCES clients(id),
    reference TEXT NOT NULL,
    starts_at BIGINT NOT NULL,
    local_date TEXT NOT NULL,
    status TEXT NOT NULL,
    UNIQUE (practice_id, reference)
);

CREATE TABLE bills (
    id {pk},
    practice_id BIGINT NOT NULL REFERENCES practices(id),
    client_id BIGINT NOT NULL REFERENCES clients(id),
    status TEXT NOT NULL,
    total BIGINT NOT NULL,
    paid BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    opened_at BIGINT,
    paid_at BIGINT,
    voided_at BIGINT
);

CREATE TABLE superbills (
    id {pk},
    practice_id BIGINT NOT NULL REFERENCES practices(id),
    client_id BIGINT NOT NULL REFERENCES clients(id),
    total BIGINT NOT NULL,
    paid BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE service_lines (
    id {pk},
    practice_id BIGINT NOT NULL REFERENCES practices(id),
    appointment_id BIGINT NOT NULL REFERENCES appointments(id),
    client_id BIGINT NOT NULL REFERENCES clients(id),
    service_id BIGINT NOT NULL REFERENCES services(id),
    local_date TEXT NOT NULL,
    fee BIGINT NOT NULL,
    paid BIGINT NOT NULL DEFAULT 0,
    bill_id BIGINT REFERENCES bills(id),
    superbill_id BIGINT REFERENCES superbills(id)
);
CREATE INDEX service_lines_unbilled ON service_lines (practice_id, bill_id);
CREATE INDEX service_lines_unsuperbilled ON service_lines (practice_id, superbill_id);

CREATE TABLE bill_products (
    id {pk},
    bill_id BIGINT NOT NULL REFERENCES bills(id),
    name TEXT NOT NULL,
    amount BIGINT NOT NULL,
    added_at BIGINT NOT NULL
);

CREATE TABLE runs (
    id {pk},
    practice_id BIGINT NOT NULL REFERENCES practices(id),
    kind TEXT NOT NULL,
    local_date TEXT NOT NULL,
    due_at BIGINT NOT NULL,
    status TEXT NOT NULL,
    claimed_by TEXT,
    lease_until BIGINT,
    attempts BIGINT NOT NULL DEFAULT 0,
    error TEXT,
    finished_at BIGINT,
    UNIQUE (practice_id, kind, local_date)
);
CREATE INDEX runs_pending ON runs (status, due_at);

CREATE TABLE shares (
    id {pk},
    practice_id BIGINT NOT NULL REFERENCES practices(id),
    document_kind TEXT NOT NULL,
    document_id BIGINT NOT NULL,
    client_id BIGINT NOT NULL REFERENCES clients(id),
    status TEXT NOT NULL,
    due_at BIGINT,
    reason TEXT,
    recipient TEXT,
    sent_at BIGINT,
    UNIQUE (document_kind, document_id)
);
CREATE INDEX shares_due ON shares (status, due_at);

CREATE TABLE payment_attempts (
    id {pk},
    practice_id BIGINT NOT NULL REFERENCES practices(id),
    bill_id BIGINT NOT NULL REFERENCES bills(id),
    client_id BIGINT NOT NULL REFERENCES clients(id),
    attempt BIGINT NOT NULL,
    idempotency_key TEXT NOT NULL UNIQUE,
    amount BIGINT NOT NULL,
    status TEXT NOT NULL,
    reason TEXT,
    retryable BIGINT NOT NULL DEFAULT 0,
    card TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL,
    UNIQUE (bill_id, attempt)
);

CREATE TABLE payments (
    id {pk},
    practice_id BIGINT NOT NULL REFERENCES practices(id),
    bill_id BIGINT NOT NULL REFERENCES bills(id),
    attempt_id BIGINT NOT NULL UNIQUE REFERENCES payment_attempts(id),
    amount BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE events (
    id {pk},
    practice_id BIGINT NOT NULL REFERENCES practices(id),
    at BIGINT NOT NULL,
    kind TEXT NOT NULL,
    payload TEXT NOT NULL
);
CREATE INDEX events_by_time ON events (practice_id, at, id);
"#;

/// What bills, superbills and their emails need beyond the first schema: the practice's sender
/// address, rendering provider and default place of service; the client's date of birth; a
/// service's CPT modifiers and units; and a share's claim time and attempt count, for crash
/// handling and retry backoff. Only `ADD COLUMN`s with constant defaults, which SQLite and
/// PostgreSQL both take.
const DOCUMENTS: &str = r#"
ALTER TABLE practices ADD COLUMN email TEXT NOT NULL DEFAULT '';
ALTER TABLE practices ADD COLUMN provider_name TEXT NOT NULL DEFAULT '';
ALTER TABLE practices ADD COLUMN provider_credentials TEXT NOT NULL DEFAULT '';
ALTER TABLE practices ADD COLUMN provider_npi TEXT NOT NULL DEFAULT '';
ALTER TABLE practices ADD COLUMN place_of_service TEXT NOT NULL DEFAULT '11';
ALTER TABLE clients ADD COLUMN birth_date TEXT;
ALTER TABLE services ADD COLUMN modifiers TEXT NOT NULL DEFAULT '';
ALTER TABLE services ADD COLUMN units BIGINT NOT NULL DEFAULT 1;
ALTER TABLE shares ADD COLUMN claimed_at BIGINT;
ALTER TABLE shares ADD COLUMN attempts BIGINT NOT NULL DEFAULT 0;
"#;

/// Per-practice API tokens, stored as SHA-256 hex only (the token itself is shown once).
const API_TOKENS: &str = r#"
CREATE TABLE api_tokens (
    token_hash TEXT PRIMARY KEY,
    practice_id BIGINT NOT NULL REFERENCES practices(id),
    created_at BIGINT NOT NULL
)
"#;

/// Service lines indexed the way they are read: a run finds a practice's lines on no bill (or no
/// superbill) yet, and autopay and documents find the lines of one bill or superbill. The partial
/// indexes hold only the lines still waiting, so a billed line leaves the first index instead of
/// adding to it, and charging a bill no longer scans every line.
/// The payment provider's reference for each attempt that reached an outcome and each payment
/// (`pi_…` on Stripe, `sandbox_…` in the sandbox), so a payment can be matched with the provider's
/// records. Rows from before have none.
const PROVIDER_REFERENCE: &str = r#"
ALTER TABLE payment_attempts ADD COLUMN provider_reference TEXT;
ALTER TABLE payments ADD COLUMN provider_reference TEXT;
"#;

/// Practice tokens get an id, a name, the first characters in the clear, an expiry, the time of
/// their last use and of their revocation. The table is made anew (SQLite cannot add a primary
/// key to a table), keeping every token.
const TOKEN_LIFECYCLE: &str = r#"
CREATE TABLE api_tokens_new (
    id {pk},
    token_hash TEXT NOT NULL UNIQUE,
    practice_id BIGINT NOT NULL REFERENCES practices(id),
    name TEXT NOT NULL DEFAULT '',
    prefix TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL,
    expires_at BIGINT,
    last_used_at BIGINT,
    revoked_at BIGINT
);
INSERT INTO api_tokens_new (token_hash, practice_id, created_at)
    SELECT token_hash, practice_id, created_at FROM api_tokens ORDER BY created_at;
DROP TABLE api_tokens;
ALTER TABLE api_tokens_new RENAME TO api_tokens;
CREATE INDEX api_tokens_by_practice ON api_tokens (practice_id)
"#;

const LINE_INDEXES: &str = r#"
DROP INDEX service_lines_unbilled;
DROP INDEX service_lines_unsuperbilled;
CREATE INDEX service_lines_unbilled ON service_lines (practice_id) WHERE bill_id IS NULL;
CREATE INDEX service_lines_unsuperbilled ON service_lines (practice_id) WHERE superbill_id IS NULL;
CREATE INDEX service_lines_by_bill ON service_lines (bill_id) WHERE bill_id IS NOT NULL;
CREATE INDEX service_lines_by_superbill ON service_lines (superbill_id) WHERE superbill_id IS NOT NULL
"#;

/// What the payment provider tells afterwards: a payment's dispute (Stripe's status and the
/// amount disputed) and the amount refunded of it; payments and attempts found by the provider's
/// reference; and each provider event's id, recorded once so a retried delivery changes nothing.
const STRIPE_EVENTS: &str = r#"
ALTER TABLE payments ADD COLUMN dispute_status TEXT;
ALTER TABLE payments ADD COLUMN disputed_amount BIGINT NOT NULL DEFAULT 0;
ALTER TABLE payments ADD COLUMN refunded BIGINT NOT NULL DEFAULT 0;
CREATE INDEX payments_by_provider_reference ON payments (provider_reference);
CREATE INDEX payment_attempts_by_provider_reference ON payment_attempts (provider_reference);
CREATE TABLE provider_events (
    id {pk},
    event_id TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    received_at BIGINT NOT NULL
)
"#;

/// The night at the providers' rate. An attempt is sent by whichever host claims it (`claimed_by`
/// until `claimed_until`), when due (`next_try_at`, later after the provider could not be
/// reached, `tries` so far), in its practice's `turn`, so practices interleave. A client's
/// `autopay_series` moves on when staff save a new card or resume autopay, and each attempt keeps
/// the series it was made in. A share of a bill tonight's autopay will charge waits for the
/// charge's outcome (`awaiting_autopay`) until `hold_until`, and keeps the host that sent it.
const NIGHT: &str = r#"
ALTER TABLE payment_attempts ADD COLUMN next_try_at BIGINT;
ALTER TABLE payment_attempts ADD COLUMN tries BIGINT NOT NULL DEFAULT 0;
ALTER TABLE payment_attempts ADD COLUMN claimed_by TEXT;
ALTER TABLE payment_attempts ADD COLUMN claimed_until BIGINT;
ALTER TABLE payment_attempts ADD COLUMN turn BIGINT NOT NULL DEFAULT 0;
ALTER TABLE payment_attempts ADD COLUMN series BIGINT NOT NULL DEFAULT 0;
UPDATE payment_attempts SET next_try_at = created_at WHERE status = 'pending';
CREATE INDEX payment_attempts_due ON payment_attempts (status, next_try_at);
ALTER TABLE clients ADD COLUMN autopay_series BIGINT NOT NULL DEFAULT 0;
ALTER TABLE shares ADD COLUMN awaiting_autopay BIGINT NOT NULL DEFAULT 0;
ALTER TABLE shares ADD COLUMN hold_until BIGINT;
ALTER TABLE shares ADD COLUMN claimed_by TEXT
"#;

/// What the API reads one row or one page at a time: an appointment's lines (without this index
/// reading one appointment scanned every line), and a practice's appointments and bills in id
/// order, without walking other practices' rows.
const API_LOOKUPS: &str = r#"
CREATE INDEX service_lines_by_appointment ON service_lines (appointment_id);
CREATE INDEX appointments_by_practice ON appointments (practice_id, id);
CREATE INDEX bills_by_practice ON bills (practice_id, id)
"#;

/// The provider's decline code of a declined attempt, which autopay policies are told (older
/// attempts have none).
const DECLINE_CODES: &str = r#"
ALTER TABLE payment_attempts ADD COLUMN decline_code TEXT
"#;
