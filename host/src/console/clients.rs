//! Clients: a searchable list, and each client's Billing > Settings with their documents,
//! shares and payments.

use super::layout::{csrf, page};
use super::session::{CsrfForm, Staff};
use super::{Answer, Failure, FieldErrors, local_text, money, practice_for, see_other};
use crate::api::AppState;
use crate::api::error::{Body, Path};
use crate::api::page::Page;
use crate::api::records::{ClientPatch, update_client};
use crate::domain::{Client, ClientId, Practice, PracticeId};
use crate::store::PageRequest;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use maud::{Markup, html};
use serde::Deserialize;
use std::collections::HashMap;

/// Rows a list or a client's section shows.
const ROWS: i64 = 50;

/// `?q=` searches names and references; `?after=` pages through all clients.
#[derive(Deserialize)]
pub struct Search {
    q: Option<String>,
    after: Option<i64>,
}

/// `GET …/clients`.
pub async fn list(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<PracticeId>,
    Query(search): Query<Search>,
) -> Answer {
    let practice = practice_for(&state, &staff, id).await?;
    let query = search.q.clone().unwrap_or_default();
    let query = query.trim();
    let (clients, next) = if query.is_empty() {
        let rows = state.store().clients_page(id, PageRequest { after: search.after, limit: ROWS as u32 }).await?;
        let page = Page::of(rows, ROWS as u32, |client| client.id);
        (page.data, page.next)
    } else {
        (state.store().search_clients(id, query, ROWS).await?, None)
    };
    let body = html! {
        form method="get" action={ "/console/practices/" (id) "/clients" } role="search" {
            div.field {
                label for="q" { "Search clients by name or reference" }
                input #q type="search" name="q" value=(query);
                " " button type="submit" { "Search" }
            }
        }
        @if clients.is_empty() {
            p { "No clients match." }
        } @else {
            @if !query.is_empty() && clients.len() == ROWS as usize {
                p.hint { "The first " (ROWS) " matches; type more of the name to narrow them." }
            }
            table {
                caption.hint { "Clients" @if !query.is_empty() { " matching “" (query) "”" } }
                thead { tr { th scope="col" { "Name" } th scope="col" { "Reference" } th scope="col" { "Email" } th scope="col" { "Autopay" } } }
                tbody {
                    @for client in &clients {
                        tr {
                            td { a href={ "/console/practices/" (id) "/clients/" (client.id) } { (client.name) } }
                            td { (client.reference) }
                            td { (client.email.as_deref().unwrap_or("none on file")) }
                            td { (autopay_state(client)) }
                        }
                    }
                }
            }
        }
        @if let Some(next) = &next {
            p { a href={ "/console/practices/" (id) "/clients?after=" (next) } { "More clients" } }
        }
    };
    Ok(page(&staff, Some(&practice), "Clients", body).into_response())
}

fn autopay_state(client: &Client) -> &'static str {
    match (client.autopay, &client.autopay_paused) {
        (false, _) => "off",
        (true, Some(_)) => "paused",
        (true, None) => "on",
    }
}

/// A card reference shown masked: only its last four characters.
fn masked(card: &str) -> String {
    let tail: String = card.chars().rev().take(4).collect::<Vec<_>>().into_iter().rev().collect();
    format!("•••• {tail}")
}

/// The client's switches as posted.
#[derive(Deserialize)]
pub struct ClientForm {
    auto_superbills: Option<String>,
    auto_share: Option<String>,
    autopay: Option<String>,
}

/// `GET …/clients/{client}`.
pub async fn page_of(
    State(state): State<AppState>,
    staff: Staff,
    Path((id, client)): Path<(PracticeId, ClientId)>,
    Query(saved): Query<super::settings::Saved>,
) -> Answer {
    let practice = practice_for(&state, &staff, id).await?;
    let client = state.store().practice_client(id, client).await?;
    let body = client_page(&state, &staff, &practice, &client, &FieldErrors::none(), saved.is_saved()).await?;
    Ok(page(&staff, Some(&practice), &client.name, body).into_response())
}

/// `POST …/clients/{client}`: the switches go through the API's client change.
pub async fn save(
    State(state): State<AppState>,
    Path((id, client)): Path<(PracticeId, ClientId)>,
    form: CsrfForm<ClientForm>,
) -> Answer {
    let CsrfForm { staff, form } = form;
    let patch = ClientPatch {
        auto_superbills: Some(form.auto_superbills.is_some()),
        auto_share: Some(form.auto_share.is_some()),
        autopay: Some(form.autopay.is_some()),
        ..ClientPatch::default()
    };
    change(state, staff, id, client, patch).await
}

/// `POST …/clients/{client}/resume-autopay`: saving the client resumes autopay paused after
/// declines or a dispute (the API's rule).
pub async fn resume_autopay(
    State(state): State<AppState>,
    Path((id, client)): Path<(PracticeId, ClientId)>,
    form: CsrfForm<super::layout::NoFields>,
) -> Answer {
    let patch = ClientPatch { autopay: Some(true), ..ClientPatch::default() };
    change(state, form.staff, id, client, patch).await
}

async fn change(state: AppState, staff: Staff, id: PracticeId, client: ClientId, patch: ClientPatch) -> Answer {
    let practice = practice_for(&state, &staff, id).await?;
    match update_client(State(state.clone()), staff.caller, Path((id, client)), Body(patch)).await {
        Ok(_) => Ok(see_other(&format!("/console/practices/{id}/clients/{client}?saved=1"))),
        Err(error) if error.status == StatusCode::UNPROCESSABLE_ENTITY => {
            let client = state.store().practice_client(id, client).await?;
            let errors = FieldErrors::of(&error.message, &[]);
            let body = client_page(&state, &staff, &practice, &client, &errors, false).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page(&staff, Some(&practice), &client.name, body)).into_response())
        }
        Err(error) => Err(error.into()),
    }
}

async fn client_page(
    state: &AppState,
    staff: &Staff,
    practice: &Practice,
    client: &Client,
    errors: &FieldErrors,
    saved: bool,
) -> Result<Markup, Failure> {
    let id = practice.id;
    let tz = practice.timezone;
    let bills = state.store().client_bills(id, client.id, ROWS).await?;
    let superbills = state.store().client_superbills(id, client.id, ROWS).await?;
    let shares = state.store().client_shares(id, client.id, ROWS).await?;
    let payments = state.store().client_payments(id, client.id, ROWS).await?;
    let names = ClientNames::of(state, id, vec![client.id]).await?;
    let base = format!("/console/practices/{id}");
    Ok(html! {
        @if saved { p.notice role="status" { "Saved." } }
        @for error in &errors.general {
            p.error role="alert" { (error) }
        }
        section.panel aria-labelledby="client-billing" {
            h2 #client-billing { "Billing › Settings" }
            dl {
                dt { "Reference" } dd { (client.reference) }
                dt { "Email on file" } dd { (client.email.as_deref().unwrap_or("none")) }
                dt { "Email allowed by communication preferences" } dd { @if client.email_enabled { "Yes" } @else { "No" } }
                dt { "Card on file" } dd { (client.card.as_deref().map_or("none".to_string(), masked)) }
            }
            @if let Some(reason) = &client.autopay_paused {
                div.warning role="note" {
                    p { strong { "Autopay is paused: " } (reason) }
                    form method="post" action={ (base) "/clients/" (client.id) "/resume-autopay" } {
                        (csrf(staff))
                        button type="submit" { "Resume autopay" }
                    }
                }
            }
            form method="post" action={ (base) "/clients/" (client.id) } {
                (csrf(staff))
                div.choice {
                    input #auto_superbills type="checkbox" name="auto_superbills" value="on" checked[client.auto_superbills];
                    " " label for="auto_superbills" { "Automatically create superbills" }
                }
                div.choice {
                    input #auto_share type="checkbox" name="auto_share" value="on" checked[client.auto_share];
                    " " label for="auto_share" { "Automatically share billing documents" }
                }
                div.choice {
                    input #autopay type="checkbox" name="autopay" value="on" checked[client.autopay];
                    " " label for="autopay" { "Autopay open bills with the card on file" }
                }
                button type="submit" { "Save client settings" }
            }
        }
        h2 { "Bills" }
        (bill_table(practice, &bills, &names))
        h2 { "Superbills" }
        @if superbills.is_empty() { p { "None yet." } } @else {
            table {
                thead { tr { th scope="col" { "Superbill" } th scope="col" { "Created" } th scope="col" class="amount" { "Total" } th scope="col" { "PDF" } } }
                tbody { @for row in &superbills { tr {
                    td { "#" (row.id) } td { (local_text(tz, &row.created_at)) } td.amount { (money(practice, row.total)) }
                    td { a href={ (base) "/superbills/" (row.id) "/pdf" } { "PDF of superbill " (row.id) } }
                } } }
            }
        }
        h2 #client-shares { "Shares" }
        (share_table(practice, &shares))
        h2 { "Payments" }
        @if payments.is_empty() { p { "None yet." } } @else {
            table {
                thead { tr { th scope="col" { "Bill" } th scope="col" { "Taken" } th scope="col" class="amount" { "Amount" } th scope="col" { "Dispute / refund" } } }
                tbody { @for row in &payments { tr {
                    td { a href={ (base) "/bills/" (row.bill_id) } { "Bill " (row.bill_id) } }
                    td { (local_text(tz, &row.created_at)) }
                    td.amount { (money(practice, row.amount)) }
                    td { (super::activity::dispute_text(practice.currency, row)) }
                } } }
            }
        }
    })
}

/// The names of the clients a page shows, read once per client (a page holds at most a few
/// dozen rows).
pub struct ClientNames(HashMap<ClientId, String>);

impl ClientNames {
    /// The names of `ids`' clients.
    pub async fn of(state: &AppState, practice: PracticeId, ids: Vec<ClientId>) -> Result<ClientNames, Failure> {
        let mut names = HashMap::new();
        for id in ids {
            if let std::collections::hash_map::Entry::Vacant(entry) = names.entry(id) {
                entry.insert(state.store().practice_client(practice, id).await?.name);
            }
        }
        Ok(ClientNames(names))
    }

    /// The client's name.
    pub fn name(&self, id: ClientId) -> String {
        self.0.get(&id).cloned().unwrap_or_else(|| format!("Client {id}"))
    }

    /// A link to the client's page, named.
    pub fn link(&self, practice: PracticeId, id: ClientId) -> Markup {
        html! { a href={ "/console/practices/" (practice) "/clients/" (id) } { (self.name(id)) } }
    }
}

/// A table of bills with links to each.
pub fn bill_table(practice: &Practice, bills: &[crate::store::views::BillRow], names: &ClientNames) -> Markup {
    let base = format!("/console/practices/{}", practice.id);
    html! {
        @if bills.is_empty() { p { "None yet." } } @else {
            table {
                thead { tr {
                    th scope="col" { "Bill" } th scope="col" { "Client" } th scope="col" { "Status" } th scope="col" { "Created" }
                    th scope="col" class="amount" { "Total" } th scope="col" class="amount" { "Balance" }
                } }
                tbody { @for bill in bills { tr {
                    td { a href={ (base) "/bills/" (bill.id) } { "Bill " (bill.id) } }
                    td { (names.link(practice.id, bill.client_id)) }
                    td { (bill.status.label()) }
                    td { (local_text(practice.timezone, &bill.created_at)) }
                    td.amount { (money(practice, bill.total)) }
                    td.amount { (money(practice, bill.balance)) }
                } } }
            }
        }
    }
}

/// A table of shares with their status and reason.
pub fn share_table(practice: &Practice, shares: &[crate::store::views::ShareRow]) -> Markup {
    let base = format!("/console/practices/{}", practice.id);
    html! {
        @if shares.is_empty() { p { "None yet." } } @else {
            table {
                thead { tr {
                    th scope="col" { "Document" } th scope="col" { "Status" } th scope="col" { "Due or sent" } th scope="col" { "Reason" }
                } }
                tbody { @for share in shares { tr {
                    td {
                        @match share.document_kind {
                            crate::domain::DocumentKind::Bill => {
                                a href={ (base) "/bills/" (share.document_id) } { "Bill " (share.document_id) }
                            }
                            crate::domain::DocumentKind::Superbill => {
                                a href={ (base) "/superbills/" (share.document_id) "/pdf" } { "Superbill " (share.document_id) }
                            }
                        }
                    }
                    td { (share.status.as_str()) }
                    td { (super::local_optional(practice.timezone, share.sent_at.as_deref().or(share.due_at.as_deref()))) }
                    td { (share.reason.as_deref().unwrap_or("")) }
                } } }
            }
        }
    }
}
