//! The practice's "Billing automation" panel: how bills and superbills are made, sharing and
//! autopay, with the API's warnings where they apply and the next runs in the practice's zone.

use super::layout::{csrf, field_errors, page};
use super::session::{CsrfForm, Staff};
use super::{Answer, FieldErrors, local_time, practice_for, see_other};
use crate::api::AppState;
use crate::api::error::{Body, Path};
use crate::api::practices::{AutomationInput, update_automation};
use crate::domain::{BillCreation, Practice, PracticeId};
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use maud::{Markup, html};
use serde::Deserialize;

/// The panel's fields as posted (checkboxes are absent when off).
#[derive(Clone, Debug, Default, Deserialize)]
pub struct SettingsForm {
    bills: Option<String>,
    superbill_day: Option<String>,
    share: Option<String>,
    share_delay_minutes: Option<String>,
    autopay: Option<String>,
}

/// `?saved=1` after a change.
#[derive(Deserialize)]
pub struct Saved {
    saved: Option<u8>,
}

impl Saved {
    /// Whether the page follows a saved change.
    pub fn is_saved(&self) -> bool {
        self.saved.is_some()
    }
}

const FIELDS: [&str; 5] = ["bills", "superbill_day", "share_delay_minutes", "share", "autopay"];

/// What the form shows: the settings in force, or what was posted.
struct Values {
    bills: String,
    superbill_day: String,
    share: bool,
    share_delay_minutes: String,
    autopay: bool,
}

impl Values {
    fn of(practice: &Practice) -> Self {
        let a = &practice.automation;
        Values {
            bills: a.bills.as_str().to_string(),
            superbill_day: a.superbill_day.to_string(),
            share: a.share,
            share_delay_minutes: a.share_delay_minutes.to_string(),
            autopay: a.autopay,
        }
    }

    fn posted(form: &SettingsForm) -> Self {
        Values {
            bills: form.bills.clone().unwrap_or_default(),
            superbill_day: form.superbill_day.clone().unwrap_or_default(),
            share: form.share.is_some(),
            share_delay_minutes: form.share_delay_minutes.clone().unwrap_or_default(),
            autopay: form.autopay.is_some(),
        }
    }
}

/// `GET …/billing-settings`.
pub async fn show(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<PracticeId>,
    Query(saved): Query<Saved>,
) -> Answer {
    let practice = practice_for(&state, &staff, id).await?;
    let warnings = practice.automation.warnings();
    let values = Values::of(&practice);
    let body =
        panel(&state, &staff, &practice, &values, &FieldErrors::none(), &warnings, saved.saved.is_some()).await?;
    Ok(page(&staff, Some(&practice), "Billing settings", body).into_response())
}

fn number(problems: &mut Vec<String>, name: &str, text: &str, hint: &str) -> Option<i64> {
    match text.trim().parse::<i64>() {
        Ok(value) => Some(value),
        Err(_) => {
            problems.push(format!("{name} `{}` is not a whole number; {hint}", text.trim()));
            None
        }
    }
}

/// `POST …/billing-settings`: the change goes through the API's handler, with its checks,
/// messages and warnings.
pub async fn save(State(state): State<AppState>, Path(id): Path<PracticeId>, form: CsrfForm<SettingsForm>) -> Answer {
    let CsrfForm { staff, form } = form;
    let practice = practice_for(&state, &staff, id).await?;
    let mut problems = vec![];
    let superbill_day = number(
        &mut problems,
        "superbill_day",
        form.superbill_day.as_deref().unwrap_or_default(),
        "choose a day from 1 to 31",
    );
    let share_delay_minutes = number(
        &mut problems,
        "share_delay_minutes",
        form.share_delay_minutes.as_deref().unwrap_or_default(),
        "give minutes from 0 to 10080",
    );
    let message = if problems.is_empty() {
        let input = AutomationInput {
            bills: form.bills.clone(),
            superbill_day,
            share: Some(form.share.is_some()),
            share_delay_minutes,
            autopay: Some(form.autopay.is_some()),
        };
        match update_automation(State(state.clone()), staff.caller, Path(id), Body(input)).await {
            Ok(_) => return Ok(see_other(&format!("/console/practices/{id}/billing-settings?saved=1"))),
            Err(error) if error.status.is_client_error() && error.status != StatusCode::NOT_FOUND => error.message,
            Err(error) => return Err(error.into()),
        }
    } else {
        problems.join("; ")
    };
    let errors = FieldErrors::of(&message, &FIELDS);
    let body =
        panel(&state, &staff, &practice, &Values::posted(&form), &errors, &practice.automation.warnings(), false)
            .await?;
    Ok((StatusCode::UNPROCESSABLE_ENTITY, page(&staff, Some(&practice), "Billing settings", body)).into_response())
}

fn described(id: &str, errors: &[&str], hint: bool) -> String {
    let mut ids = vec![];
    if hint {
        ids.push(format!("{id}-hint"));
    }
    if !errors.is_empty() {
        ids.push(format!("{id}-error"));
    }
    ids.join(" ")
}

async fn panel(
    state: &AppState,
    staff: &Staff,
    practice: &Practice,
    values: &Values,
    errors: &FieldErrors,
    warnings: &[String],
    saved: bool,
) -> Result<Markup, super::Failure> {
    let next = state.engine().next_runs(practice.id, state.now()).await?;
    let tz = practice.timezone;
    let when = |at: Option<chrono::DateTime<chrono::Utc>>, none: &'static str| {
        at.map_or(none.to_string(), |at| local_time(tz, at))
    };
    let bill_choices = [
        (BillCreation::Daily, "Daily", "At 12 am every day, one bill per client and date of service."),
        (BillCreation::Monthly, "Monthly", "At 12 am on the 1st, one bill per client for the month before."),
        (BillCreation::Manual, "Manually", "Each completed appointment's bill is pended until a person opens it."),
    ];
    let day_errors = errors.on("superbill_day");
    let delay_errors = errors.on("share_delay_minutes");
    let bills_errors = errors.on("bills");
    Ok(html! {
        @if saved {
            p.notice role="status" { "Saved. Existing clients keep their own switches." }
        }
        @for error in &errors.general {
            p.error role="alert" { (error) }
        }
        section.panel aria-labelledby="automation-title" {
            h2 #automation-title { "Billing automation" }
            p.next-runs #next-runs {
                strong { "Next runs" } " (" (tz.name()) "): "
                "bills " (when(next.bill, "none scheduled")) "; "
                "superbills " (when(next.superbill, "none scheduled")) "; "
                "autopay " (when(next.autopay, "off"))
            }
            form method="post" action={ "/console/practices/" (practice.id) "/billing-settings" } novalidate {
                (csrf(staff))
                fieldset {
                    legend { "Automatically create bills" }
                    @for (choice, label, hint) in bill_choices {
                        div.choice {
                            @let id = format!("bills-{}", choice.as_str());
                            input type="radio" id=(id) name="bills" value=(choice.as_str())
                                checked[values.bills == choice.as_str()] aria-describedby={ (id) "-hint" };
                            " " label for=(id) { (label) }
                            p.hint id={ (id) "-hint" } { (hint) }
                        }
                    }
                    (field_errors("bills", &bills_errors))
                }
                fieldset {
                    legend { "Automatically create superbills" }
                    div.field {
                        label for="superbill_day" { "Day of the month" }
                        input #superbill_day type="number" name="superbill_day" min="1" max="31" value=(values.superbill_day)
                            aria-invalid=[(!day_errors.is_empty()).then_some("true")]
                            aria-describedby=(described("superbill_day", &day_errors, true));
                        p.hint #superbill_day-hint {
                            "1 to 31. Days 29–31 run on the last day of shorter months. Only clients opted in to "
                            "“Automatically create superbills” get one."
                        }
                        (field_errors("superbill_day", &day_errors))
                    }
                }
                fieldset {
                    legend { "Automatically share billing documents" }
                    div.choice {
                        input #share type="checkbox" name="share" value="on" checked[values.share] aria-describedby="share-hint";
                        " " label for="share" { "Share bills and superbills by email" }
                        p.hint #share-hint { "The default for " strong { "new" } " clients only; each client has their own switch." }
                    }
                    div.field {
                        label for="share_delay_minutes" { "Delay in minutes" }
                        input #share_delay_minutes type="number" name="share_delay_minutes" min="0" max="10080"
                            value=(values.share_delay_minutes)
                            aria-invalid=[(!delay_errors.is_empty()).then_some("true")]
                            aria-describedby=(described("share_delay_minutes", &delay_errors, true));
                        p.hint #share_delay_minutes-hint { "0 to 10,080 (one week): time to edit a document before it is emailed." }
                        (field_errors("share_delay_minutes", &delay_errors))
                        @for warning in warnings {
                            p.warning role="note" { strong { "Warning: " } (warning) }
                        }
                    }
                }
                fieldset {
                    legend { "Autopay" }
                    div.choice {
                        input #autopay type="checkbox" name="autopay" value="on" checked[values.autopay] aria-describedby="autopay-hint";
                        " " label for="autopay" { "Charge open bills to clients' default cards" }
                        p.hint #autopay-hint { "Stripe only; runs at 12:30 am." }
                    }
                }
                button type="submit" { "Save billing automation" }
            }
        }
    })
}
