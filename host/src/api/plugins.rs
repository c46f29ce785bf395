//! Policy plugins: upload (checked by the real runtime), list, assign to a practice's slot with
//! its configuration (checked by the plugin itself), and dry runs.

use super::error::{ApiError, Body, ErrorBody, Path, RawBody};
use super::page::{Page, PageQuery, Paging};
use super::{AppState, Caller};
use crate::domain::{PracticeId, Slot};
use crate::engine::dry_run::DryRun;
use crate::registry::{self, PluginSummary, RegistryError};
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A plugin the runtime accepted.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct PluginView {
    /// The SHA-256 of its bytes, hex: its id.
    pub id: String,
    /// The name it was uploaded under.
    pub name: String,
    /// Its size in bytes.
    pub size: usize,
    /// The contract version it was built for.
    pub contract_version: Option<String>,
    /// The slots it fills.
    pub slots: Vec<String>,
}

/// A stored plugin.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct PluginRow {
    /// The SHA-256 of its bytes, hex.
    pub id: String,
    /// The name it was uploaded under.
    pub name: String,
    /// Its size in bytes.
    pub size: i64,
    /// When it was uploaded, RFC 3339.
    pub created_at: String,
}

/// A plugin for a slot, with the practice's configuration for it.
#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssignInput {
    /// The plugin's id (from the upload).
    pub plugin_id: String,
    /// The configuration the plugin reads (JSON text, at most 10 KB; empty for its defaults).
    pub config: Option<String>,
}

/// The plugin to dry-run; both left out means the practice's own policy for the slot.
#[derive(Clone, Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DryRunInput {
    /// A stored plugin's id.
    pub plugin_id: Option<String>,
    /// The configuration to try it with.
    pub config: Option<String>,
}

/// What fills a slot of a practice.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct AssignmentView {
    /// bill_cadence, superbill_inclusion, share_filter or autopay_selection.
    pub slot: String,
    /// The plugin's id, or `default` for the built-in policy.
    pub plugin_id: String,
    /// The configuration.
    pub config: String,
}

fn slot(name: &str) -> Result<Slot, ApiError> {
    Slot::parse(name).map_err(|error| ApiError::not_found(error.to_string()))
}

impl From<RegistryError> for ApiError {
    fn from(error: RegistryError) -> Self {
        match error {
            RegistryError::BadName | RegistryError::Empty | RegistryError::WrongSlot { .. } => {
                ApiError::invalid(error.to_string())
            }
            RegistryError::Invalid(_) => {
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_plugin", error.to_string())
            }
            RegistryError::FailedKit(_) => {
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "failed_conformance", error.to_string())
            }
            RegistryError::Config(_) => {
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_config", error.to_string())
            }
            RegistryError::UnknownPlugin(_) => ApiError::not_found(error.to_string()),
            RegistryError::Store(store) => store.into(),
        }
    }
}

impl From<PluginSummary> for PluginView {
    fn from(summary: PluginSummary) -> Self {
        PluginView {
            id: summary.id,
            name: summary.name,
            size: summary.size,
            contract_version: summary.contract_version,
            slots: summary.slots.into_iter().map(|slot| slot.as_str().to_string()).collect(),
        }
    }
}

/// Uploads a plugin component (`Content-Type: application/wasm`; name in `X-Plugin-Name`).
/// It is checked by the runtime (a component, a served contract version, within the size limit)
/// and by the conformance kit's contract and invariants suites before it is stored; a plugin that
/// fails them is refused with 422 `failed_conformance`, the message naming each failed check and
/// why. Operator only. Uploading the same bytes again answers the same plugin.
#[utoipa::path(post, path = "/v1/plugins",
    params(("x-plugin-name" = Option<String>, Header, description = "a name for people (default `plugin`)")),
    request_body(content = Vec<u8>, content_type = "application/wasm"),
    responses((status = 201, body = PluginView), (status = "4XX", body = ErrorBody)), security(("bearer" = [])))]
pub(crate) async fn upload(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    RawBody(bytes): RawBody,
) -> Result<(StatusCode, Json<PluginView>), ApiError> {
    caller.operator()?;
    let name = match headers.get("x-plugin-name") {
        None => "plugin",
        Some(value) => {
            value.to_str().map_err(|_| ApiError::invalid("X-Plugin-Name must be 1 to 100 visible ASCII characters"))?
        }
    };
    let summary = registry::add(state.store(), &state.inner.runtime, name, &bytes, state.inner.clock.now()).await?;
    tracing::info!(plugin = %summary.id, size = summary.size, "plugin uploaded");
    Ok((StatusCode::CREATED, Json(summary.into())))
}

/// Lists stored plugins by id. Operator only.
#[utoipa::path(get, path = "/v1/plugins", params(PageQuery),
    responses((status = 200, body = Page<PluginRow>), (status = "4XX", body = ErrorBody)), security(("bearer" = [])))]
pub(crate) async fn list(
    State(state): State<AppState>,
    caller: Caller,
    paging: Paging,
) -> Result<Json<Page<PluginRow>>, ApiError> {
    caller.operator()?;
    let rows = state.store().plugins_page(paging.after.as_deref(), paging.limit).await?;
    let rows = rows
        .into_iter()
        .map(|row| PluginRow { id: row.id, name: row.name, size: row.size, created_at: row.created_at.to_rfc3339() })
        .collect();
    Ok(Json(Page::of(rows, paging.limit, |row: &PluginRow| row.id.clone())))
}

/// Lists what fills each of the practice's slots.
#[utoipa::path(get, path = "/v1/practices/{practice}/plugins", params(("practice" = i64, Path, description = "practice id")),
    responses((status = 200, body = Vec<AssignmentView>), (status = "4XX", body = ErrorBody)), security(("bearer" = [])))]
pub(crate) async fn assignments(
    State(state): State<AppState>,
    caller: Caller,
    Path(practice): Path<PracticeId>,
) -> Result<Json<Vec<AssignmentView>>, ApiError> {
    caller.practice(practice)?;
    state.store().practice(practice).await?;
    let assigned = state.store().assignments(practice).await?;
    Ok(Json(
        Slot::ALL
            .into_iter()
            .map(|slot| {
                let found = assigned.iter().find(|assignment| assignment.slot == slot);
                AssignmentView {
                    slot: slot.as_str().into(),
                    plugin_id: found.map_or_else(|| "default".into(), |assignment| assignment.plugin.clone()),
                    config: found.map(|assignment| assignment.config.clone()).unwrap_or_default(),
                }
            })
            .collect(),
    ))
}

/// Assigns a stored plugin to one of the practice's slots with its configuration, after the
/// plugin accepts the configuration.
#[utoipa::path(put, path = "/v1/practices/{practice}/plugins/{slot}",
    params(("practice" = i64, Path, description = "practice id"), ("slot" = String, Path, description = "bill_cadence, superbill_inclusion, share_filter or autopay_selection")),
    request_body = AssignInput,
    responses((status = 200, body = AssignmentView), (status = "4XX", body = ErrorBody)), security(("bearer" = [])))]
pub(crate) async fn assign(
    State(state): State<AppState>,
    caller: Caller,
    Path((practice, slot_name)): Path<(PracticeId, String)>,
    Body(input): Body<AssignInput>,
) -> Result<Json<AssignmentView>, ApiError> {
    caller.practice(practice)?;
    let slot = slot(&slot_name)?;
    let config = input.config.unwrap_or_default();
    registry::assign(state.store(), &state.inner.runtime, practice, slot, &input.plugin_id, &config).await?;
    tracing::info!(practice = practice.get(), slot = slot.as_str(), plugin = %input.plugin_id, "plugin assigned");
    Ok(Json(AssignmentView { slot: slot.as_str().into(), plugin_id: input.plugin_id, config }))
}

/// Shows what a plugin (or the practice's own policy) would decide for the practice's current
/// data, without applying anything.
#[utoipa::path(post, path = "/v1/practices/{practice}/plugins/{slot}/dry-run",
    params(("practice" = i64, Path, description = "practice id"), ("slot" = String, Path, description = "bill_cadence, superbill_inclusion, share_filter or autopay_selection")),
    request_body = DryRunInput,
    responses((status = 200, body = DryRun), (status = "4XX", body = ErrorBody)), security(("bearer" = [])))]
pub(crate) async fn dry_run(
    State(state): State<AppState>,
    caller: Caller,
    Path((practice, slot_name)): Path<(PracticeId, String)>,
    Body(input): Body<DryRunInput>,
) -> Result<Json<DryRun>, ApiError> {
    caller.practice(practice)?;
    state.store().practice(practice).await?;
    let slot = slot(&slot_name)?;
    let chosen = match &input.plugin_id {
        Some(id) => {
            let config = input.config.clone().unwrap_or_default();
            Some((registry::checked(state.store(), &state.inner.runtime, id, slot, &config).await?, config))
        }
        None if input.config.is_some() => {
            return Err(ApiError::invalid("config needs a plugin_id: name the plugin to try it with"));
        }
        None => None,
    };
    Ok(Json(state.inner.engine.dry_run(practice, slot, chosen, state.inner.clock.now()).await?))
}
