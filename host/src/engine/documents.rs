//! Bill runs, superbill runs, and sharing the documents they make.

use super::events::{self, EventKind};
use super::sharing;
use super::{ClaimedRun, Engine, EngineError, Policies};
use crate::domain::DocumentKind;
use crate::mail::{self, Message};
use crate::pdf;
use crate::plugin::policy::{self, Catalog, ClientBilling, Service, ServiceLine, ShareDecision};
use crate::plugin::{Slot, to_policy_date};
use crate::store::{self, Client, Practice, StoreError};
use chrono::{DateTime, Duration, Utc};
use sqlx::{AnyConnection, Row};
use std::collections::HashMap;

/// Candidate lines with the codes they refer to, their `APPOINTMENT:SERVICE` names, and the
/// practice's clients (read only when there are lines).
pub(super) struct Candidates {
    pub(super) catalog: Catalog,
    pub(super) lines: Vec<ServiceLine>,
    pub(super) names: HashMap<u64, String>,
    pub(super) clients: HashMap<i64, Client>,
}

/// Gives each distinct value the index of its first appearance in `list`.
fn index_of<T>(indices: &mut HashMap<String, u32>, list: &mut Vec<T>, key: &str, value: impl FnOnce() -> T) -> u32 {
    if let Some(index) = indices.get(key) {
        return *index;
    }
    let index = u32::try_from(list.len()).unwrap_or(u32::MAX);
    list.push(value());
    indices.insert(key.to_string(), index);
    index
}

/// The unbilled (or un-superbilled) lines of a practice's completed appointments before `before`,
/// ordered by date and line.
///
/// A practice's month end reads a thousand lines or more, and every row costs a hand-over from
/// the database, so the lines come one row per appointment and date: the appointment's reference
/// and client once, its lines' numbers (`id service fee paid`, space-separated) packed into one
/// text. Service codes and diagnoses come from the practice's services and clients, read once
/// each. The join names the practice too: PostgreSQL then reads only the practice's appointments
/// rather than scanning the whole table once per practice.
pub(super) async fn candidate_lines(
    tx: &mut AnyConnection,
    practice: i64,
    column: &str,
    before: chrono::NaiveDate,
) -> Result<Candidates, EngineError> {
    let sql = format!(
        "SELECT a.id, a.reference, l.client_id, l.local_date,
                string_agg(l.id || ' ' || l.service_id || ' ' || l.fee || ' ' || l.paid, ' ')
         FROM service_lines l
         JOIN appointments a ON a.id = l.appointment_id AND a.practice_id = l.practice_id
         WHERE l.practice_id = $1 AND l.{column} IS NULL AND a.status = 'completed' AND l.fee > 0 AND l.local_date < $2
         GROUP BY a.id, a.reference, l.client_id, l.local_date"
    );
    let rows = sqlx::query(&sql).bind(practice).bind(store::date_text(before)).fetch_all(&mut *tx).await?;
    let mut candidates = Candidates {
        catalog: Catalog { services: vec![], diagnosis_sets: vec![] },
        lines: Vec::with_capacity(rows.len()),
        names: HashMap::with_capacity(rows.len()),
        clients: HashMap::new(),
    };
    if rows.is_empty() {
        return Ok(candidates);
    }
    let codes: HashMap<i64, (String, Option<String>)> = sqlx::query_as::<_, (i64, String, Option<String>)>(
        "SELECT id, code, cpt_code FROM services WHERE practice_id = $1",
    )
    .bind(practice)
    .fetch_all(&mut *tx)
    .await?
    .into_iter()
    .map(|(id, code, cpt_code)| (id, (code, cpt_code)))
    .collect();
    candidates.clients = clients(&mut *tx, practice).await?;
    let (mut services, mut diagnoses, mut diagnoses_of_client) = (HashMap::new(), HashMap::new(), HashMap::new());
    for row in &rows {
        let appointment_id = u64::try_from(row.try_get::<i64, _>(0)?).unwrap_or_default();
        let appointment: String = row.try_get(1)?;
        let client: i64 = row.try_get(2)?;
        let date = to_policy_date(store::parse_date(&row.try_get::<String, _>(3)?)?);
        let packed: String = row.try_get(4)?;
        let diagnosis = candidates.clients.get(&client).map_or(&[][..], |client| client.diagnosis.as_slice());
        let catalog = &mut candidates.catalog;
        let diagnoses = match diagnoses_of_client.get(&client) {
            Some(index) => *index,
            None => {
                let index =
                    index_of(&mut diagnoses, &mut catalog.diagnosis_sets, &diagnosis.join(","), || diagnosis.to_vec());
                diagnoses_of_client.insert(client, index);
                index
            }
        };
        for [id, service_id, fee, paid] in packed_lines(&packed)? {
            let (code, cpt_code) =
                codes.get(&service_id).ok_or(StoreError::NotFound { what: "service", id: service_id.to_string() })?;
            let service = index_of(&mut services, &mut catalog.services, code, || Service {
                code: code.clone(),
                cpt_code: cpt_code.clone(),
            });
            let line_id = u64::try_from(id).unwrap_or_default();
            candidates.names.insert(line_id, format!("{appointment}:{code}"));
            candidates.lines.push(ServiceLine {
                line_id,
                appointment_id,
                client_id: u64::try_from(client).unwrap_or_default(),
                date,
                service,
                diagnoses,
                fee,
                paid,
            });
        }
    }
    candidates.lines.sort_unstable_by_key(|line| ((line.date.year, line.date.month, line.date.day), line.line_id));
    Ok(candidates)
}

/// Reads an appointment's packed lines: whole numbers, four a line (`id service fee paid`).
fn packed_lines(packed: &str) -> Result<Vec<[i64; 4]>, StoreError> {
    let corrupt = || StoreError::Corrupt(format!("packed service lines `{packed}`"));
    let numbers = packed.split(' ').map(|n| n.parse::<i64>().map_err(|_| corrupt())).collect::<Result<Vec<_>, _>>()?;
    let lines: Vec<[i64; 4]> =
        numbers.chunks(4).map(|chunk| <[i64; 4]>::try_from(chunk).map_err(|_| corrupt())).collect::<Result<_, _>>()?;
    Ok(lines)
}

/// Points lines at their new documents, `(line, document)` pairs, refusing any line that is
/// already on one.
async fn attach_lines(tx: &mut AnyConnection, column: &str, pairs: &[(u64, i64)]) -> Result<(), EngineError> {
    for chunk in pairs.chunks(store::ROWS_PER_STATEMENT) {
        let values: Vec<String> = chunk.iter().map(|(line, document)| format!("({line}, {document})")).collect();
        // `column1` and `column2` are the names SQLite and PostgreSQL both give a VALUES list's columns.
        let sql = format!(
            "UPDATE service_lines SET {column} = v.column2 FROM (VALUES {}) AS v
             WHERE service_lines.id = v.column1 AND service_lines.{column} IS NULL",
            values.join(", ")
        );
        if sqlx::query(&sql).persistent(false).execute(&mut *tx).await?.rows_affected() != chunk.len() as u64 {
            return Err(EngineError::Invalid(format!(
                "a line was already on another document while attaching lines to new {column}s"
            )));
        }
    }
    Ok(())
}

/// Inserts rows, each a `VALUES` row of literals, with `INSERT … VALUES … RETURNING id` a chunk at
/// a time, and gives their ids in the order of `rows`.
async fn insert_returning_ids(tx: &mut AnyConnection, head: &str, rows: &[String]) -> Result<Vec<i64>, EngineError> {
    let mut ids = Vec::with_capacity(rows.len());
    for chunk in rows.chunks(store::ROWS_PER_STATEMENT) {
        let sql = format!("{head} VALUES {} RETURNING id", chunk.join(", "));
        let mut chunk_ids = sqlx::query(&sql)
            .persistent(false)
            .fetch_all(&mut *tx)
            .await?
            .iter()
            .map(|row| row.try_get::<i64, _>(0))
            .collect::<Result<Vec<_>, _>>()?;
        // Both databases number one statement's rows in the order of its VALUES list, but neither
        // promises RETURNING in that order: sorting the new ids restores it.
        chunk_ids.sort_unstable();
        if chunk_ids.len() != chunk.len() {
            return Err(EngineError::Invalid(format!(
                "{head}: expected {} new rows, got {}",
                chunk.len(),
                chunk_ids.len()
            )));
        }
        ids.extend(chunk_ids);
    }
    Ok(ids)
}

pub(super) fn client_billing(client: &Client) -> ClientBilling {
    ClientBilling {
        client_id: u64::try_from(client.id).unwrap_or_default(),
        email_on_file: client.email.as_deref().is_some_and(|email| !email.trim().is_empty()),
        email_allowed: client.email_enabled,
        auto_superbills: client.auto_superbills,
        auto_share: client.auto_share,
        autopay: client.autopay,
        card_on_file: client.card.is_some(),
    }
}

pub(super) async fn clients(tx: &mut AnyConnection, practice: i64) -> Result<HashMap<i64, Client>, EngineError> {
    let rows = sqlx::query(&format!("{} WHERE practice_id = $1", store::CLIENT_COLUMNS))
        .bind(practice)
        .fetch_all(&mut *tx)
        .await?;
    let mut clients = HashMap::with_capacity(rows.len());
    for row in &rows {
        let client = store::client_from_row(row)?;
        clients.insert(client.id, client);
    }
    Ok(clients)
}

impl Engine {
    /// Bills the unbilled lines of completed appointments dated before the run's date, as the
    /// cadence policy groups them.
    pub(super) async fn bill_run(
        &self,
        run: &ClaimedRun,
        practice: &Practice,
        policies: &Policies,
    ) -> Result<(), EngineError> {
        let mut tx = self.store.begin().await?;
        let candidates = candidate_lines(&mut tx, practice.id, "bill_id", run.local_date).await?;
        if !candidates.lines.is_empty() {
            let ctx = policies.context(practice, Slot::BillCadence);
            let plans =
                policies.cadence.0.group_lines(run.at, &ctx, run.local_date, &candidates.catalog, &candidates.lines)?;
            let fees: HashMap<u64, i64> = candidates.lines.iter().map(|line| (line.line_id, line.fee)).collect();
            let clients = &candidates.clients;
            let bills: Vec<(i64, &str, i64)> = plans
                .iter()
                .map(|plan| {
                    let total: i64 = plan.lines.iter().map(|line| fees.get(line).copied().unwrap_or_default()).sum();
                    let status = if plan.status == policy::BillStatus::Open { "open" } else { "pended" };
                    (i64::try_from(plan.client_id).unwrap_or_default(), status, total)
                })
                .collect();
            let at = store::seconds(run.at);
            let rows: Vec<String> = bills
                .iter()
                .map(|(client, status, total)| {
                    let opened_at = store::literal((*status == "open").then_some(at));
                    format!("({}, {client}, '{status}', {total}, {at}, {opened_at})", practice.id)
                })
                .collect();
            let ids = insert_returning_ids(
                &mut tx,
                "INSERT INTO bills (practice_id, client_id, status, total, created_at, opened_at)",
                &rows,
            )
            .await?;
            let pairs: Vec<(u64, i64)> =
                plans.iter().zip(&ids).flat_map(|(plan, bill)| plan.lines.iter().map(|line| (*line, *bill))).collect();
            attach_lines(&mut tx, "bill_id", &pairs).await?;
            let mut created = Vec::with_capacity(plans.len());
            let mut opened = vec![];
            for ((plan, (client, status, total)), bill) in plans.iter().zip(&bills).zip(&ids) {
                let lines =
                    plan.lines.iter().map(|line| candidates.names.get(line).cloned().unwrap_or_default()).collect();
                let reference = clients.get(client).map(|c| c.reference.clone()).unwrap_or_default();
                created.push(EventKind::BillCreated {
                    bill: *bill,
                    client: reference,
                    status: (*status).into(),
                    total: *total,
                    lines,
                });
                if *status == "open" {
                    let status = policy::DocumentStatus::Open;
                    opened.push(NewDocument { id: *bill, client: *client, total: *total, paid: 0, status });
                }
            }
            events::record_all(&mut tx, practice.id, run.at, created).await?;
            share_new_documents(&mut tx, practice, policies, DocumentKind::Bill, &opened, clients, run.at).await?;
        }
        self.finish_run(&mut tx, run).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Makes superbills from lines on no superbill yet, as the inclusion policy picks them.
    pub(super) async fn superbill_run(
        &self,
        run: &ClaimedRun,
        practice: &Practice,
        policies: &Policies,
    ) -> Result<(), EngineError> {
        let mut tx = self.store.begin().await?;
        let candidates = candidate_lines(&mut tx, practice.id, "superbill_id", run.local_date).await?;
        if !candidates.lines.is_empty() {
            let clients = &candidates.clients;
            let mut billing: Vec<ClientBilling> = clients.values().map(client_billing).collect();
            billing.sort_by_key(|client| client.client_id);
            let ctx = policies.context(practice, Slot::SuperbillInclusion);
            let plans = policies.superbill.0.select_lines(
                run.at,
                &ctx,
                run.local_date,
                &billing,
                &candidates.catalog,
                &candidates.lines,
            )?;
            let by_id: HashMap<u64, &ServiceLine> = candidates.lines.iter().map(|line| (line.line_id, line)).collect();
            let superbills: Vec<(i64, i64, i64)> = plans
                .iter()
                .map(|plan| {
                    let lines = plan.lines.iter().filter_map(|id| by_id.get(id));
                    let (total, paid) = lines.fold((0, 0), |(total, paid), line| (total + line.fee, paid + line.paid));
                    (i64::try_from(plan.client_id).unwrap_or_default(), total, paid)
                })
                .collect();
            let at = store::seconds(run.at);
            let rows: Vec<String> = superbills
                .iter()
                .map(|(client, total, paid)| format!("({}, {client}, {total}, {paid}, {at})", practice.id))
                .collect();
            let ids = insert_returning_ids(
                &mut tx,
                "INSERT INTO superbills (practice_id, client_id, total, paid, created_at)",
                &rows,
            )
            .await?;
            let pairs: Vec<(u64, i64)> = plans
                .iter()
                .zip(&ids)
                .flat_map(|(plan, superbill)| plan.lines.iter().map(|line| (*line, *superbill)))
                .collect();
            attach_lines(&mut tx, "superbill_id", &pairs).await?;
            let mut events = Vec::with_capacity(plans.len());
            let mut created = Vec::with_capacity(plans.len());
            for ((plan, (client, total, paid)), superbill) in plans.iter().zip(&superbills).zip(&ids) {
                let names =
                    plan.lines.iter().map(|line| candidates.names.get(line).cloned().unwrap_or_default()).collect();
                let reference = clients.get(client).map(|c| c.reference.clone()).unwrap_or_default();
                events.push(EventKind::SuperbillCreated {
                    superbill: *superbill,
                    client: reference,
                    total: *total,
                    paid: *paid,
                    lines: names,
                });
                let status = policy::DocumentStatus::Issued;
                created.push(NewDocument { id: *superbill, client: *client, total: *total, paid: *paid, status });
            }
            events::record_all(&mut tx, practice.id, run.at, events).await?;
            let kind = DocumentKind::Superbill;
            share_new_documents(&mut tx, practice, policies, kind, &created, clients, run.at).await?;
        }
        self.finish_run(&mut tx, run).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Emails every share whose delay has passed, checking again that the client still allows it.
    /// Sends a stopped host left unfinished are settled first, and not sent again (see `sharing`).
    pub(super) async fn dispatch_shares(&self, now: DateTime<Utc>) -> Result<usize, EngineError> {
        self.settle_interrupted_sends(now).await?;
        let due = sqlx::query("SELECT id FROM shares WHERE status = 'pending' AND due_at <= $1 ORDER BY due_at, id")
            .bind(store::seconds(now))
            .fetch_all(self.store.pool())
            .await?;
        let mut handled = 0;
        for row in due {
            let id: i64 = row.try_get(0)?;
            // The claim is committed before the mail server is called: a row left `sending`
            // tells the next host that this send was interrupted.
            let claimed = sqlx::query(
                "UPDATE shares SET status = 'sending', claimed_at = $1, attempts = attempts + 1 WHERE id = $2 AND status = 'pending'",
            )
            .bind(store::seconds(now))
            .bind(id)
            .execute(self.store.pool())
            .await?;
            if claimed.rows_affected() == 1 {
                self.send_share(id, now).await?;
                handled += 1;
            }
        }
        Ok(handled)
    }

    /// Sends one claimed share: checks again that it may go, emails the document with its PDF and
    /// records it `sent`. A failure before the message is handed over, or the mail server's
    /// refusal, puts it back to `pending` with a backoff.
    async fn send_share(&self, id: i64, now: DateTime<Utc>) -> Result<(), EngineError> {
        let share = match self.prepare_share(id).await {
            Ok(share) => share,
            Err(error) => return self.retry_share(id, now, &format!("the email could not be prepared: {error}")).await,
        };
        let kind = share.kind.as_str().to_string();
        let message = match share.message {
            Ok(message) => message,
            Err(reason) => {
                let mut tx = self.store.begin().await?;
                sqlx::query("UPDATE shares SET status = 'skipped', reason = $1 WHERE id = $2 AND status = 'sending'")
                    .bind(reason)
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                let event = EventKind::ShareSkipped {
                    document: share.document,
                    kind,
                    client: share.client,
                    reason: reason.into(),
                };
                events::record(&mut tx, share.practice, now, event).await?;
                tx.commit().await?;
                return Ok(());
            }
        };
        if let Err(error) = self.mailer.send(&message).await {
            return self.retry_share(id, now, &error.to_string()).await;
        }
        // Handed over. Should the host stop before this commits, the row stays `sending` and
        // becomes `unknown` later: never sent twice.
        let mut tx = self.store.begin().await?;
        sqlx::query(
            "UPDATE shares SET status = 'sent', recipient = $1, sent_at = $2, reason = NULL WHERE id = $3 AND status = 'sending'",
        )
        .bind(&message.to)
        .bind(store::seconds(now))
        .bind(id)
        .execute(&mut *tx)
        .await?;
        let event = EventKind::DocumentShared { document: share.document, kind, client: share.client, to: message.to };
        events::record(&mut tx, share.practice, now, event).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Loads a claimed share and decides it again: the email to send, or why none goes.
    async fn prepare_share(&self, id: i64) -> Result<PreparedShare, EngineError> {
        let row = sqlx::query("SELECT practice_id, document_kind, document_id, client_id FROM shares WHERE id = $1")
            .bind(id)
            .fetch_one(self.store.pool())
            .await?;
        let (practice, kind, document, client_id): (i64, String, i64, i64) =
            (row.try_get(0)?, row.try_get(1)?, row.try_get(2)?, row.try_get(3)?);
        let kind = DocumentKind::parse(&kind).ok_or_else(|| StoreError::Corrupt(format!("document kind `{kind}`")))?;
        let client = self.store.client(client_id).await?;
        let loaded = pdf::load_document(&self.store, kind, document).await.map_err(|error| match error {
            pdf::PdfError::Store(error) => EngineError::Store(error),
        })?;
        let to = client.email.as_deref().map(str::trim).unwrap_or_default().to_string();
        let skip = if loaded.is_void() {
            Some("the document is void")
        } else if !client.auto_share {
            Some("automatic sharing is off for this client")
        } else if to.is_empty() {
            Some("no email address on file")
        } else if !client.email_enabled {
            Some("email is turned off in the client's communication preferences")
        } else if mail::parse_mailbox("recipient", &to).is_err() {
            Some("the email address on file is not a valid address")
        } else {
            None
        };
        let message = match skip {
            Some(reason) => Err(reason),
            None => Ok(sharing::compose(&loaded, &client, &to, self.sender.as_deref())
                .map_err(|error| EngineError::Invalid(error.to_string()))?),
        };
        Ok(PreparedShare { practice, kind, document, client: client.reference, message })
    }
}

/// A claimed share, decided again at send time.
struct PreparedShare {
    practice: i64,
    kind: DocumentKind,
    document: i64,
    /// The client's reference.
    client: String,
    /// The email to send, or why nothing is sent.
    message: Result<Message, &'static str>,
}

/// A new document, as the share policy is asked about it.
pub(super) struct NewDocument {
    id: i64,
    client: i64,
    total: i64,
    paid: i64,
    status: policy::DocumentStatus,
}

/// Asks the share policy about documents given by id, and records its decisions as share rows.
pub(super) async fn decide_shares(
    tx: &mut AnyConnection,
    practice: &Practice,
    policies: &Policies,
    kind: DocumentKind,
    documents: &[i64],
    at: DateTime<Utc>,
) -> Result<(), EngineError> {
    if documents.is_empty() {
        return Ok(());
    }
    let table = match kind {
        DocumentKind::Bill => "SELECT id, client_id, total, paid, status FROM bills",
        DocumentKind::Superbill => "SELECT id, client_id, total, paid, 'issued' FROM superbills",
    };
    let mut found = HashMap::with_capacity(documents.len());
    for chunk in documents.chunks(store::ROWS_PER_STATEMENT) {
        let list = (1..=chunk.len()).map(|n| format!("${n}")).collect::<Vec<_>>().join(", ");
        let sql = format!("{table} WHERE id IN ({list})");
        let mut query = sqlx::query_as::<_, (i64, i64, i64, i64, String)>(&sql);
        for id in chunk {
            query = query.bind(*id);
        }
        for (id, client, total, paid, status) in query.fetch_all(&mut *tx).await? {
            let status = match status.as_str() {
                "pended" => policy::DocumentStatus::Pended,
                "paid" => policy::DocumentStatus::Paid,
                "void" => policy::DocumentStatus::Void,
                "issued" => policy::DocumentStatus::Issued,
                _ => policy::DocumentStatus::Open,
            };
            found.insert(id, NewDocument { id, client, total, paid, status });
        }
    }
    let documents = documents
        .iter()
        .map(|id| found.remove(id).ok_or(StoreError::NotFound { what: kind.as_str(), id: id.to_string() }))
        .collect::<Result<Vec<_>, _>>()?;
    let clients = clients(tx, practice.id).await?;
    share_new_documents(tx, practice, policies, kind, &documents, &clients, at).await
}

/// Asks the share policy about documents a run just made, and records its decisions as share
/// rows (and skips as events).
pub(super) async fn share_new_documents(
    tx: &mut AnyConnection,
    practice: &Practice,
    policies: &Policies,
    kind: DocumentKind,
    documents: &[NewDocument],
    clients: &HashMap<i64, Client>,
    at: DateTime<Utc>,
) -> Result<(), EngineError> {
    if documents.is_empty() {
        return Ok(());
    }
    let mut requests = Vec::with_capacity(documents.len());
    let mut owners = Vec::with_capacity(documents.len());
    for document in documents {
        let client = clients
            .get(&document.client)
            .ok_or(StoreError::NotFound { what: "client", id: document.client.to_string() })?;
        requests.push(policy::ShareRequest {
            document: policy::Document {
                document_id: u64::try_from(document.id).unwrap_or_default(),
                kind: match kind {
                    DocumentKind::Bill => policy::DocumentKind::Bill,
                    DocumentKind::Superbill => policy::DocumentKind::Superbill,
                },
                client_id: u64::try_from(client.id).unwrap_or_default(),
                total: document.total,
                paid: document.paid,
                status: document.status,
            },
            client: client_billing(client),
        });
        owners.push(client);
    }
    let ctx = policies.context(practice, Slot::ShareFilter);
    let decisions = policies.share.0.decide_shares(at, &ctx, &requests)?;
    let mut rows = Vec::with_capacity(documents.len());
    let mut skipped = vec![];
    for ((document, client), decision) in documents.iter().zip(&owners).zip(decisions) {
        let id = &document.id;
        match decision {
            ShareDecision::Send(delay) => {
                let due_at = store::seconds(at + Duration::minutes(i64::from(delay)));
                rows.push((*id, client.id, "pending", Some(due_at), None));
            }
            ShareDecision::Skip(reason) => {
                rows.push((*id, client.id, "skipped", None, Some(reason.clone())));
                skipped.push(EventKind::ShareSkipped {
                    document: *id,
                    kind: kind.as_str().into(),
                    client: client.reference.clone(),
                    reason,
                });
            }
        }
    }
    let kind_name = kind.as_str();
    for chunk in rows.chunks(store::ROWS_PER_STATEMENT) {
        // Only a policy's skip reason is text from outside; it is bound.
        let mut reasons = vec![];
        let values: Vec<String> = chunk
            .iter()
            .map(|(id, client, status, due_at, reason)| {
                let reason = match reason {
                    Some(reason) => {
                        reasons.push(reason.as_str());
                        format!("${}", reasons.len())
                    }
                    None => "NULL".into(),
                };
                let due_at = store::literal(*due_at);
                format!("({}, '{kind_name}', {id}, {client}, '{status}', {due_at}, {reason})", practice.id)
            })
            .collect();
        let sql = format!(
            "INSERT INTO shares (practice_id, document_kind, document_id, client_id, status, due_at, reason) VALUES {}
             ON CONFLICT (document_kind, document_id) DO NOTHING",
            values.join(", ")
        );
        let mut query = sqlx::query(&sql).persistent(false);
        for reason in reasons {
            query = query.bind(reason);
        }
        query.execute(&mut *tx).await?;
    }
    events::record_all(tx, practice.id, at, skipped).await?;
    Ok(())
}
