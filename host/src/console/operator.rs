//! The operator's pages: practices (list, create, a token shown once) and plugins (upload, the
//! library with contract version, slots and size, and a practice's slots: dry run, then assign).

use super::clients::ClientNames;
use super::layout::{csrf, field_errors, page};
use super::session::{CsrfForm, Staff, same_secret};
use super::{Answer, Failure, FieldErrors, money, practice_for, see_other};
use crate::api::AppState;
use crate::api::error::{ApiError, Body, OptionalBody, Path, RawBody};
use crate::api::plugins::{self, AssignInput, DryRunInput};
use crate::api::practices::{self, PracticeInput};
use crate::api::tokens::{self, TokenInput};
use crate::domain::{Practice, PracticeId, Slot};
use crate::engine::dry_run::DryRun;
use crate::registry;
use crate::store::PageRequest;
use axum::extract::{Multipart, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::IntoResponse;
use maud::{Markup, html};
use serde::Deserialize;

/// Practices a page lists.
const PRACTICE_ROWS: u32 = 200;

/// The new-practice form.
#[derive(Clone, Default, Deserialize)]
pub struct PracticeForm {
    name: Option<String>,
    timezone: Option<String>,
    currency: Option<String>,
}

/// `GET /console/practices`: the operator's list; a practice's staff go to their practice.
pub async fn practices(State(state): State<AppState>, staff: Staff) -> Answer {
    if staff.caller.operator().is_err() {
        return Ok(see_other(&staff.home()));
    }
    practices_page(&state, &staff, &PracticeForm::default(), &FieldErrors::none(), StatusCode::OK).await
}

async fn practices_page(
    state: &AppState,
    staff: &Staff,
    form: &PracticeForm,
    errors: &FieldErrors,
    status: StatusCode,
) -> Answer {
    let list = state.store().practices_page(PageRequest { after: None, limit: PRACTICE_ROWS }).await?;
    let name_errors = errors.on("name");
    let zone_errors = errors.on("timezone");
    let currency_errors = errors.on("currency");
    let body = html! {
        table {
            thead { tr { th scope="col" { "Practice" } th scope="col" { "Time zone" } th scope="col" { "Currency" } th scope="col" { "Bills" } } }
            tbody { @for practice in list.iter().take(PRACTICE_ROWS as usize) { tr {
                td { a href={ "/console/practices/" (practice.id) "/billing-settings" } { (practice.name) } }
                td { (practice.timezone.name()) }
                td { (practice.currency.code()) }
                td { (practice.automation.bills.as_str()) }
            } } }
        }
        section.panel aria-labelledby="new-practice" {
            h2 #new-practice { "Create a practice" }
            @for error in &errors.general { p.error role="alert" { (error) } }
            form method="post" action="/console/practices" novalidate {
                (csrf(staff))
                (text_field("practice-name", "name", "Name", form.name.as_deref().unwrap_or_default(), &name_errors, None))
                (text_field("practice-timezone", "timezone", "Time zone (IANA name)", form.timezone.as_deref().unwrap_or_default(), &zone_errors, Some("e.g. America/New_York")))
                (text_field("practice-currency", "currency", "Currency (ISO 4217)", form.currency.as_deref().unwrap_or("USD"), &currency_errors, Some("e.g. USD")))
                button type="submit" { "Create practice" }
            }
        }
    };
    Ok((status, page(staff, None, "Practices", body)).into_response())
}

fn text_field(id: &str, name: &str, label: &str, value: &str, errors: &[&str], hint: Option<&str>) -> Markup {
    let mut described = vec![];
    if hint.is_some() {
        described.push(format!("{id}-hint"));
    }
    if !errors.is_empty() {
        described.push(format!("{id}-error"));
    }
    html! {
        div.field {
            label for=(id) { (label) }
            input id=(id) type="text" name=(name) value=(value)
                aria-invalid=[(!errors.is_empty()).then_some("true")]
                aria-describedby=[(!described.is_empty()).then(|| described.join(" "))];
            @if let Some(hint) = hint { p.hint id={ (id) "-hint" } { (hint) } }
            (field_errors(id, errors))
        }
    }
}

/// `POST /console/practices`: through the API's practice creation.
pub async fn create_practice(State(state): State<AppState>, form: CsrfForm<PracticeForm>) -> Answer {
    let CsrfForm { staff, form } = form;
    staff.caller.operator()?;
    let input = PracticeInput {
        name: form.name.clone().unwrap_or_default(),
        timezone: form.timezone.clone().unwrap_or_default(),
        currency: form.currency.clone().filter(|code| !code.trim().is_empty()),
        npi: None,
        tax_id: None,
        address: None,
        phone: None,
        email: None,
        provider: None,
        place_of_service: None,
        automation: None,
    };
    match practices::create(State(state.clone()), staff.caller, Body(input)).await {
        Ok((_, created)) => Ok(see_other(&format!("/console/practices/{}/billing-settings", created.0.id))),
        Err(error) if error.status == StatusCode::UNPROCESSABLE_ENTITY => {
            let errors = FieldErrors::of(&error.message, &["timezone", "currency", "name"]);
            practices_page(&state, &staff, &form, &errors, StatusCode::UNPROCESSABLE_ENTITY).await
        }
        Err(error) => Err(error.into()),
    }
}

/// The token form.
#[derive(Deserialize)]
pub struct TokenForm {
    name: Option<String>,
}

/// `POST …/tokens`: a new practice token, shown once in this answer (never in a URL).
pub async fn make_token(
    State(state): State<AppState>,
    Path(id): Path<PracticeId>,
    form: CsrfForm<TokenForm>,
) -> Answer {
    let CsrfForm { staff, form } = form;
    let practice = practice_for(&state, &staff, id).await?;
    let input = TokenInput { name: form.name.unwrap_or_default(), expires_in_days: None };
    let (_, made) = tokens::create(State(state.clone()), staff.caller, Path(id), OptionalBody(Some(input))).await?;
    let body = html! {
        section.panel aria-labelledby="token-title" {
            h2 #token-title { "Token for " (practice.name) }
            p { "Copy it now: it is shown only once and stored only as a hash. Staff sign in with it." }
            code.secret #new-token { (made.0.token) }
            p { "Its prefix, as lists show it: " (made.0.prefix) }
            p { a href={ "/console/practices/" (id) "/plugins" } { "Back to the practice" } }
        }
    };
    Ok((StatusCode::CREATED, page(&staff, Some(&practice), "New practice token", body)).into_response())
}

/// `GET /console/plugins`: the plugin library and the upload form.
pub async fn plugins(State(state): State<AppState>, staff: Staff) -> Answer {
    staff.caller.operator()?;
    library_page(&state, &staff, &FieldErrors::none(), StatusCode::OK).await
}

async fn library_page(state: &AppState, staff: &Staff, errors: &FieldErrors, status: StatusCode) -> Answer {
    let listed = registry::list(state.store(), state.runtime()).await.map_err(ApiError::from)?;
    let file_errors = errors.on("file");
    let body = html! {
        @if listed.is_empty() { p { "No plugins uploaded yet; every practice uses the built-in policies." } } @else {
            table {
                thead { tr { th scope="col" { "Name" } th scope="col" { "Contract" } th scope="col" { "Slots" } th scope="col" class="amount" { "Size" } th scope="col" { "Id" } } }
                tbody { @for plugin in &listed { tr {
                    td { (plugin.summary.name) }
                    td { (plugin.summary.contract_version.as_deref().unwrap_or("—")) }
                    td {
                        (plugin.summary.slots.iter().map(|slot| slot.as_str()).collect::<Vec<_>>().join(", "))
                        @if let Some(problem) = &plugin.problem { br; span.error { (problem) } }
                    }
                    td.amount { (format!("{:.1} KB", plugin.summary.size as f64 / 1024.0)) }
                    td { code { (plugin.summary.id.chars().take(12).collect::<String>()) } }
                } } }
            }
        }
        section.panel aria-labelledby="upload-title" {
            h2 #upload-title { "Upload a plugin" }
            @for error in &errors.general { p.error role="alert" { (error) } }
            form method="post" action="/console/plugins" enctype="multipart/form-data" {
                (csrf(staff))
                div.field {
                    label for="plugin-name" { "Name" }
                    input #plugin-name type="text" name="name";
                }
                div.field {
                    label for="plugin-file" { "Component (.wasm)" }
                    input #plugin-file type="file" name="file" accept=".wasm,application/wasm"
                        aria-invalid=[(!file_errors.is_empty()).then_some("true")]
                        aria-describedby=[(!file_errors.is_empty()).then_some("plugin-file-error")];
                    (field_errors("plugin-file", &file_errors))
                }
                button type="submit" { "Upload" }
            }
        }
    };
    Ok((status, page(staff, None, "Plugin library", body)).into_response())
}

/// `POST /console/plugins`: a multipart upload (CSRF token, name, file), checked by the API's
/// upload handler and the real runtime.
pub async fn upload(State(state): State<AppState>, staff: Staff, mut multipart: Multipart) -> Answer {
    staff.caller.operator()?;
    let (mut sent_csrf, mut name, mut bytes) = (None, None, None);
    loop {
        let field = match multipart.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => break,
            Err(error) => return Err(Failure(ApiError::invalid(format!("the upload could not be read: {error}")))),
        };
        let field_name = field.name().unwrap_or_default().to_string();
        let data = field
            .bytes()
            .await
            .map_err(|error| Failure(ApiError::invalid(format!("the upload could not be read: {error}"))))?;
        match field_name.as_str() {
            "csrf" => sent_csrf = Some(String::from_utf8_lossy(&data).into_owned()),
            "name" => name = Some(String::from_utf8_lossy(&data).trim().to_string()),
            "file" => bytes = Some(data),
            _ => {}
        }
    }
    if !sent_csrf.is_some_and(|sent| same_secret(&sent, &staff.csrf)) {
        return Ok(super::session::csrf_refused());
    }
    let bytes = bytes.unwrap_or_default();
    if bytes.is_empty() {
        let errors = FieldErrors::of("file: choose a .wasm component to upload", &["file"]);
        return library_page(&state, &staff, &errors, StatusCode::UNPROCESSABLE_ENTITY).await;
    }
    let mut headers = HeaderMap::new();
    let name = name.filter(|name| !name.is_empty()).unwrap_or_else(|| "plugin".to_string());
    match HeaderValue::from_str(&name) {
        Ok(value) => headers.insert("x-plugin-name", value),
        Err(_) => return Err(Failure(ApiError::invalid("the name must be 1 to 100 visible characters"))),
    };
    match plugins::upload(State(state.clone()), staff.caller, headers, RawBody(bytes)).await {
        Ok(_) => Ok(see_other("/console/plugins")),
        Err(error) if error.status == StatusCode::UNPROCESSABLE_ENTITY => {
            let errors =
                FieldErrors { general: vec![], ..FieldErrors::of(&format!("file: {}", error.message), &["file"]) };
            library_page(&state, &staff, &errors, StatusCode::UNPROCESSABLE_ENTITY).await
        }
        Err(error) => Err(error.into()),
    }
}

/// The slot form: which plugin, with which configuration; `action` is `dry-run` or `assign`.
#[derive(Clone, Default, Deserialize)]
pub struct SlotForm {
    slot: Option<String>,
    plugin_id: Option<String>,
    config: Option<String>,
    action: Option<String>,
}

/// `GET …/plugins`: what fills each of the practice's slots, and the form to try and assign one.
pub async fn assignments(State(state): State<AppState>, staff: Staff, Path(id): Path<PracticeId>) -> Answer {
    staff.caller.operator()?;
    let practice = practice_for(&state, &staff, id).await?;
    slots_page(&state, &staff, &practice, &SlotForm::default(), None, &FieldErrors::none(), StatusCode::OK).await
}

/// `POST …/plugins`: a dry run (shown as a table, nothing written) or an assignment, both
/// through the API's handlers and the plugin's own `check-config`.
pub async fn assign_or_dry_run(
    State(state): State<AppState>,
    Path(id): Path<PracticeId>,
    form: CsrfForm<SlotForm>,
) -> Answer {
    let CsrfForm { staff, form } = form;
    staff.caller.operator()?;
    let practice = practice_for(&state, &staff, id).await?;
    let slot = form.slot.clone().unwrap_or_default();
    let plugin_id = form.plugin_id.clone().unwrap_or_default();
    let config = form.config.clone().unwrap_or_default();
    let result = if form.action.as_deref() == Some("assign") {
        let input = AssignInput { plugin_id, config: Some(config) };
        match plugins::assign(State(state.clone()), staff.caller, Path((id, slot)), Body(input)).await {
            Ok(_) => return Ok(see_other(&format!("/console/practices/{id}/plugins"))),
            Err(error) => Err(error),
        }
    } else {
        let input = DryRunInput { plugin_id: Some(plugin_id), config: Some(config) };
        plugins::dry_run(State(state.clone()), staff.caller, Path((id, slot)), Body(input)).await.map(|answer| answer.0)
    };
    match result {
        Ok(dry_run) => {
            slots_page(&state, &staff, &practice, &form, Some(&dry_run), &FieldErrors::none(), StatusCode::OK).await
        }
        Err(error) if error.status.is_client_error() => {
            let errors = FieldErrors::of(&error.message, &["config", "slot", "plugin"]);
            slots_page(&state, &staff, &practice, &form, None, &errors, StatusCode::UNPROCESSABLE_ENTITY).await
        }
        Err(error) => Err(error.into()),
    }
}

async fn slots_page(
    state: &AppState,
    staff: &Staff,
    practice: &Practice,
    form: &SlotForm,
    dry_run: Option<&DryRun>,
    errors: &FieldErrors,
    status: StatusCode,
) -> Answer {
    let id = practice.id;
    let assigned = plugins::assignments(State(state.clone()), staff.caller, Path(id)).await?.0;
    let listed = registry::list(state.store(), state.runtime()).await.map_err(ApiError::from)?;
    let config_errors = errors.on("config");
    let chosen_slot = form.slot.clone().unwrap_or_default();
    let chosen_plugin = form.plugin_id.clone().unwrap_or_default();
    let names = match dry_run {
        None => None,
        Some(dry_run) => {
            let ids = dry_run.bills.iter().flatten().map(|bill| bill.client_id);
            let ids = ids.chain(dry_run.superbills.iter().flatten().map(|superbill| superbill.client_id));
            let ids = ids.chain(dry_run.shares.iter().flatten().map(|share| share.client_id));
            let ids = ids.chain(dry_run.charges.iter().flatten().map(|charge| charge.client_id)).collect();
            Some(ClientNames::of(state, id, ids).await?)
        }
    };
    let body = html! {
        table {
            caption.hint { "What fills each slot" }
            thead { tr { th scope="col" { "Slot" } th scope="col" { "Plugin" } th scope="col" { "Configuration" } } }
            tbody { @for row in &assigned { tr {
                td { (row.slot) }
                td { @if row.plugin_id == "default" { "built-in" } @else { code { (row.plugin_id.chars().take(12).collect::<String>()) } } }
                td { code { (row.config) } }
            } } }
        }
        section.panel aria-labelledby="slot-title" {
            h2 #slot-title { "Try and assign a plugin" }
            @for error in &errors.general { p.error role="alert" { (error) } }
            form method="post" action={ "/console/practices/" (id) "/plugins" } {
                (csrf(staff))
                div.field {
                    label for="slot" { "Slot" }
                    select #slot name="slot" {
                        @for slot in Slot::ALL {
                            option value=(slot.as_str()) selected[chosen_slot == slot.as_str()] { (slot.as_str()) }
                        }
                    }
                    (field_errors("slot", &errors.on("slot")))
                }
                div.field {
                    label for="plugin_id" { "Plugin" }
                    select #plugin_id name="plugin_id" {
                        @for plugin in &listed {
                            option value=(plugin.summary.id) selected[chosen_plugin == plugin.summary.id] {
                                (plugin.summary.name) " (" (plugin.summary.slots.iter().map(|slot| slot.as_str()).collect::<Vec<_>>().join(", ")) ")"
                            }
                        }
                    }
                    (field_errors("plugin_id", &errors.on("plugin")))
                }
                div.field {
                    label for="config" { "Configuration (JSON)" }
                    textarea #config name="config"
                        aria-invalid=[(!config_errors.is_empty()).then_some("true")]
                        aria-describedby=[(!config_errors.is_empty()).then_some("config-error")] {
                        (form.config.clone().unwrap_or_default())
                    }
                    (field_errors("config", &config_errors))
                }
                div.actions {
                    button.secondary type="submit" name="action" value="dry-run" { "Dry run" }
                    button type="submit" name="action" value="assign" { "Assign" }
                }
            }
        }
        @if let Some((dry_run, names)) = dry_run.zip(names.as_ref()) {
            (dry_run_table(practice, dry_run, names))
        }
        section.panel aria-labelledby="token-form" {
            h2 #token-form { "Make a practice token" }
            form method="post" action={ "/console/practices/" (id) "/tokens" } {
                (csrf(staff))
                div.field {
                    label for="token-name" { "Name" }
                    input #token-name type="text" name="name" placeholder="front desk";
                }
                button type="submit" { "Make token" }
            }
        }
    };
    Ok((status, page(staff, Some(practice), "Plugins", body)).into_response())
}

fn dry_run_table(practice: &Practice, dry_run: &DryRun, names: &ClientNames) -> Markup {
    html! {
        section.card aria-labelledby="dry-run-title" {
            h2 #dry-run-title { "Dry run of " (dry_run.plugin) " for " (dry_run.date) }
            p.hint { "What it would decide for the practice's current data; nothing was written." }
            @if let Some(dates) = &dry_run.bill_run_dates {
                p { strong { "Bill runs in the next 31 days: " } @if dates.is_empty() { "none" } @else { (dates.join(", ")) } }
            }
            @if let Some(bills) = &dry_run.bills {
                table #dry-run {
                    caption.hint { "Bills a run tomorrow at 12 am would create" }
                    thead { tr { th scope="col" { "Client" } th scope="col" { "Status" } th scope="col" class="amount" { "Total" } th scope="col" { "Lines" } } }
                    tbody {
                        @for bill in bills { tr {
                            td { (names.name(bill.client_id)) } td { (bill.status.label()) } td.amount { (money(practice, bill.total)) } td { (bill.lines.join(", ")) }
                        } }
                        @if bills.is_empty() { tr { td colspan="4" { "No bills." } } }
                    }
                }
            }
            @if let Some(day) = dry_run.superbill_day { p { strong { "This month's superbill day: " } (day) } }
            @if let Some(superbills) = &dry_run.superbills {
                table #dry-run {
                    caption.hint { "Superbills a run today would create" }
                    thead { tr { th scope="col" { "Client" } th scope="col" class="amount" { "Total" } th scope="col" { "Lines" } } }
                    tbody {
                        @for superbill in superbills { tr {
                            td { (names.name(superbill.client_id)) } td.amount { (money(practice, superbill.total)) } td { (superbill.lines.join(", ")) }
                        } }
                        @if superbills.is_empty() { tr { td colspan="3" { "No superbills." } } }
                    }
                }
            }
            @if let Some(shares) = &dry_run.shares {
                table #dry-run {
                    caption.hint { "Decisions on recent documents" }
                    thead { tr { th scope="col" { "Document" } th scope="col" { "Client" } th scope="col" { "Decision" } th scope="col" { "Delay or reason" } } }
                    tbody {
                        @for share in shares { tr {
                            td { (share.document_kind.as_str()) " " (share.document_id) }
                            td { (names.name(share.client_id)) }
                            td { (share.decision) }
                            td { @if let Some(delay) = share.delay_minutes { (delay) " minutes" } (share.reason.as_deref().unwrap_or("")) }
                        } }
                        @if shares.is_empty() { tr { td colspan="4" { "No recent documents." } } }
                    }
                }
            }
            @if let Some(charges) = &dry_run.charges {
                table #dry-run {
                    caption.hint { "Tonight's autopay decisions on open bills" }
                    thead { tr { th scope="col" { "Bill" } th scope="col" { "Client" } th scope="col" class="amount" { "Balance" } th scope="col" { "Decision" } th scope="col" { "Amount or reason" } } }
                    tbody {
                        @for charge in charges { tr {
                            td { "bill " (charge.bill_id) }
                            td { (names.name(charge.client_id)) }
                            td.amount { (money(practice, charge.balance)) }
                            td { (charge.decision) }
                            td { @if let Some(amount) = charge.amount { (money(practice, amount)) } (charge.reason.as_deref().unwrap_or("")) }
                        } }
                        @if charges.is_empty() { tr { td colspan="5" { "No open bills to charge tonight." } } }
                    }
                }
            }
        }
    }
}
