//! A practice's services, clients and appointments, with their service lines.

use super::{Dialect, PageRequest, Store, StoreError, date_text, flag, parse, parse_date, seconds};
use crate::domain::{
    AppointmentId, AppointmentStatus, Client, ClientChange, ClientId, NewAppointment, NewClient, NewService,
    PracticeId, ServiceId,
};
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

/// The columns [`client`] reads.
macro_rules! select_client {
    () => {
        "SELECT id, reference, name, email, email_enabled, auto_superbills, auto_share, autopay, card, diagnosis, birth_date, autopay_paused FROM clients"
    };
}
pub(super) use select_client;

/// A client read from a row of [`select_client`].
pub(super) fn client(row: &AnyRow) -> Result<Client, StoreError> {
    let diagnosis: String = row.try_get(9)?;
    let birth_date: Option<String> = row.try_get(10)?;
    Ok(Client {
        id: ClientId::new(row.try_get(0)?),
        reference: row.try_get(1)?,
        name: row.try_get(2)?,
        email: row.try_get(3)?,
        email_enabled: row.try_get::<i64, _>(4)? != 0,
        auto_superbills: row.try_get::<i64, _>(5)? != 0,
        auto_share: row.try_get::<i64, _>(6)? != 0,
        autopay: row.try_get::<i64, _>(7)? != 0,
        card: row.try_get(8)?,
        diagnosis: diagnosis.split(',').filter(|code| !code.is_empty()).map(str::to_string).collect(),
        birth_date: birth_date.as_deref().map(parse_date).transpose()?,
        autopay_paused: row.try_get(11)?,
    })
}

/// Writes a client's settings (see [`Store::update_client`]).
async fn save_client(conn: &mut AnyConnection, client: &Client) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE clients SET name = $1, email = $2, email_enabled = $3, auto_superbills = $4, auto_share = $5, autopay = $6, card = $7, diagnosis = $8, birth_date = $9, autopay_paused = NULL,
           autopay_series = autopay_series + CASE WHEN autopay_paused IS NOT NULL OR card IS DISTINCT FROM $7 OR (autopay = 0 AND $6 = 1) THEN 1 ELSE 0 END
         WHERE id = $10",
    )
    .bind(&client.name)
    .bind(client.email.as_deref())
    .bind(flag(client.email_enabled))
    .bind(flag(client.auto_superbills))
    .bind(flag(client.auto_share))
    .bind(flag(client.autopay))
    .bind(client.card.as_deref())
    .bind(client.diagnosis.join(","))
    .bind(client.birth_date.map(date_text))
    .bind(client.id.get())
    .execute(conn)
    .await?;
    Ok(())
}

/// What became of a change to an appointment's status.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StatusChange {
    /// The status changed.
    Changed,
    /// The appointment already had that status (a concurrent request may have just set it).
    Already(AppointmentStatus),
    /// The appointment's lines are already on a document, so its status can no longer change.
    AlreadyOn(String),
}

impl Store {
    /// Creates a service the practice offers (no modifiers, one unit a line).
    pub async fn create_service(
        &self,
        practice: PracticeId,
        code: &str,
        name: &str,
        fee: i64,
        cpt: Option<&str>,
    ) -> Result<ServiceId, StoreError> {
        let service = NewService {
            code: code.to_string(),
            name: name.to_string(),
            fee,
            cpt: cpt.map(str::to_string),
            ..NewService::default()
        };
        self.create_service_with(practice, &service).await
    }

    /// Creates a service with its CPT modifiers and units.
    pub async fn create_service_with(
        &self,
        practice: PracticeId,
        service: &NewService,
    ) -> Result<ServiceId, StoreError> {
        let row = sqlx::query(
            "INSERT INTO services (practice_id, code, name, fee, cpt_code, modifiers, units) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        )
        .bind(practice.get())
        .bind(&service.code)
        .bind(&service.name)
        .bind(service.fee)
        .bind(service.cpt.as_deref())
        .bind(service.modifiers.join(","))
        .bind(i64::from(service.units.max(1)))
        .fetch_one(&self.pool)
        .await?;
        Ok(ServiceId::new(row.try_get(0)?))
    }

    /// A service's id and fee, by its code.
    pub async fn service_by_code(&self, practice: PracticeId, code: &str) -> Result<(ServiceId, i64), StoreError> {
        let row = sqlx::query("SELECT id, fee FROM services WHERE practice_id = $1 AND code = $2")
            .bind(practice.get())
            .bind(code)
            .fetch_optional(&self.reads)
            .await?
            .ok_or_else(|| StoreError::not_found("service", code))?;
        Ok((ServiceId::new(row.try_get(0)?), row.try_get(1)?))
    }

    /// Creates a client. Automatic sharing left unset starts from the practice's setting now;
    /// later changes to the practice setting do not touch the client.
    pub async fn create_client(&self, practice: PracticeId, new: &NewClient) -> Result<ClientId, StoreError> {
        let default_share = self.practice(practice).await?.automation.share;
        let row = sqlx::query(
            "INSERT INTO clients (practice_id, reference, name, email, email_enabled, auto_superbills, auto_share, autopay, card, diagnosis, birth_date)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id",
        )
        .bind(practice.get())
        .bind(&new.reference)
        .bind(&new.name)
        .bind(new.email.as_deref())
        .bind(flag(new.email_enabled))
        .bind(flag(new.auto_superbills))
        .bind(flag(new.auto_share_or(default_share)))
        .bind(flag(new.autopay))
        .bind(new.card.as_deref())
        .bind(new.diagnosis.join(","))
        .bind(new.birth_date.map(date_text))
        .fetch_one(&self.pool)
        .await?;
        Ok(ClientId::new(row.try_get(0)?))
    }

    /// A client by the practice's reference.
    pub async fn client_by_reference(&self, practice: PracticeId, reference: &str) -> Result<Client, StoreError> {
        let row = sqlx::query(concat!(select_client!(), " WHERE practice_id = $1 AND reference = $2"))
            .bind(practice.get())
            .bind(reference)
            .fetch_optional(&self.reads)
            .await?
            .ok_or_else(|| StoreError::not_found("client", reference))?;
        client(&row)
    }

    /// A client by id.
    pub async fn client(&self, id: ClientId) -> Result<Client, StoreError> {
        let row = sqlx::query(concat!(select_client!(), " WHERE id = $1"))
            .bind(id.get())
            .fetch_optional(&self.reads)
            .await?
            .ok_or_else(|| StoreError::not_found("client", id))?;
        client(&row)
    }

    /// A client of a practice; a client of another practice is not found.
    pub async fn practice_client(&self, practice: PracticeId, id: ClientId) -> Result<Client, StoreError> {
        let row = sqlx::query(concat!(select_client!(), " WHERE practice_id = $1 AND id = $2"))
            .bind(practice.get())
            .bind(id.get())
            .fetch_optional(&self.reads)
            .await?
            .ok_or_else(|| StoreError::not_found("client", id))?;
        client(&row)
    }

    /// A practice's clients, by id.
    pub async fn clients(&self, practice: PracticeId) -> Result<Vec<Client>, StoreError> {
        let rows = sqlx::query(concat!(select_client!(), " WHERE practice_id = $1 ORDER BY id"))
            .bind(practice.get())
            .fetch_all(&self.reads)
            .await?;
        rows.iter().map(client).collect()
    }

    /// A page of a practice's clients, by id.
    pub async fn clients_page(&self, practice: PracticeId, page: PageRequest) -> Result<Vec<Client>, StoreError> {
        let rows = sqlx::query(concat!(select_client!(), " WHERE practice_id = $1 AND id > $2 ORDER BY id LIMIT $3"))
            .bind(practice.get())
            .bind(page.above())
            .bind(page.rows())
            .fetch_all(&self.reads)
            .await?;
        rows.iter().map(client).collect()
    }

    /// Saves a client's settings; saving them also resumes autopay paused after declines. A new
    /// card, or autopay resumed or turned on, starts a new series of attempts: the client's open
    /// bills are charged again from the next night, whatever the old card's declines.
    pub async fn update_client(&self, client: &Client) -> Result<(), StoreError> {
        save_client(&mut *self.pool.acquire().await?, client).await
    }

    /// Changes a client's settings, saved as [`Store::update_client`] does, in one transaction
    /// that holds the client's row from its read to its write: of concurrent changes to one
    /// client none is lost to another's stale read. Gives the client as saved.
    pub async fn change_client(
        &self,
        practice: PracticeId,
        id: ClientId,
        change: ClientChange,
    ) -> Result<Client, StoreError> {
        let mut tx = self.begin().await?;
        let read = concat!(select_client!(), " WHERE practice_id = $1 AND id = $2");
        let lock = match self.dialect {
            // `BEGIN IMMEDIATE` already holds every other writer off.
            Dialect::Sqlite => read,
            Dialect::Postgres => concat!(select_client!(), " WHERE practice_id = $1 AND id = $2 FOR UPDATE"),
        };
        let row = sqlx::query(lock)
            .bind(practice.get())
            .bind(id.get())
            .fetch_optional(tx.conn())
            .await?
            .ok_or_else(|| StoreError::not_found("client", id))?;
        save_client(tx.conn(), &change.applied_to(client(&row)?)).await?;
        let saved = sqlx::query(read).bind(practice.get()).bind(id.get()).fetch_one(tx.conn()).await?;
        tx.commit().await?;
        client(&saved)
    }

    /// Books an appointment with its services (one service line each, at the service's fee).
    pub async fn create_appointment(&self, appointment: &NewAppointment<'_>) -> Result<AppointmentId, StoreError> {
        let NewAppointment { practice, client, reference, starts_at, local_date, status, services } = *appointment;
        let mut tx = self.begin().await?;
        let row = sqlx::query(
            "INSERT INTO appointments (practice_id, client_id, reference, starts_at, local_date, status) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        )
        .bind(practice.get())
        .bind(client.get())
        .bind(reference)
        .bind(seconds(starts_at))
        .bind(date_text(local_date))
        .bind(status.as_str())
        .fetch_one(tx.conn())
        .await?;
        let id: i64 = row.try_get(0)?;
        for (service, fee) in services {
            sqlx::query(
                "INSERT INTO service_lines (practice_id, appointment_id, client_id, service_id, local_date, fee) VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(practice.get())
            .bind(id)
            .bind(client.get())
            .bind(service.get())
            .bind(date_text(local_date))
            .bind(fee)
            .execute(tx.conn())
            .await?;
        }
        tx.commit().await?;
        Ok(AppointmentId::new(id))
    }

    /// Changes an appointment's status, by the practice's reference.
    pub async fn set_appointment_status(
        &self,
        practice: PracticeId,
        reference: &str,
        status: AppointmentStatus,
    ) -> Result<(), StoreError> {
        let done = sqlx::query("UPDATE appointments SET status = $1 WHERE practice_id = $2 AND reference = $3")
            .bind(status.as_str())
            .bind(practice.get())
            .bind(reference)
            .execute(&self.pool)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::not_found("appointment", reference));
        }
        Ok(())
    }

    /// Changes an appointment's status by id, in one conditional write: an appointment that
    /// already has the status, or whose lines are on a bill or a superbill, keeps its status, and
    /// the answer says which (so of concurrent requests for one change, one succeeds).
    pub async fn set_appointment_status_by_id(
        &self,
        practice: PracticeId,
        id: AppointmentId,
        status: AppointmentStatus,
    ) -> Result<StatusChange, StoreError> {
        let mut tx = self.begin().await?;
        if self.dialect == Dialect::Postgres {
            // Waits for a bill or superbill run billing the appointment; the update below is a
            // statement of its own, so it then sees the lines that run put on a document.
            sqlx::query("SELECT id FROM appointments WHERE practice_id = $1 AND id = $2 FOR UPDATE")
                .bind(practice.get())
                .bind(id.get())
                .fetch_optional(tx.conn())
                .await?;
        }
        let changed = sqlx::query(
            "UPDATE appointments SET status = $1 WHERE practice_id = $2 AND id = $3 AND status <> $1
               AND NOT EXISTS (SELECT 1 FROM service_lines WHERE appointment_id = $3 AND (bill_id IS NOT NULL OR superbill_id IS NOT NULL))",
        )
        .bind(status.as_str())
        .bind(practice.get())
        .bind(id.get())
        .execute(tx.conn())
        .await?
        .rows_affected()
            == 1;
        if changed {
            tx.commit().await?;
            return Ok(StatusChange::Changed);
        }
        let current = sqlx::query("SELECT status FROM appointments WHERE practice_id = $1 AND id = $2")
            .bind(practice.get())
            .bind(id.get())
            .fetch_optional(tx.conn())
            .await?
            .ok_or_else(|| StoreError::not_found("appointment", id))?;
        let current: AppointmentStatus = parse("appointment status", &current.try_get::<String, _>(0)?)?;
        if current == status {
            return Ok(StatusChange::Already(current));
        }
        let row = sqlx::query(
            "SELECT bill_id, superbill_id FROM service_lines WHERE appointment_id = $1 AND (bill_id IS NOT NULL OR superbill_id IS NOT NULL) LIMIT 1",
        )
        .bind(id.get())
        .fetch_one(tx.conn())
        .await?;
        let (bill, superbill): (Option<i64>, Option<i64>) = (row.try_get(0)?, row.try_get(1)?);
        let on = match (bill, superbill) {
            (Some(bill), _) => format!("bill {bill}"),
            (None, Some(superbill)) => format!("superbill {superbill}"),
            (None, None) => "a document".to_string(),
        };
        Ok(StatusChange::AlreadyOn(format!("appointment {id} is already on {on}; its status can no longer change")))
    }
}
