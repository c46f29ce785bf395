//! The one wiring every command uses. `serve`, `tick`, `simulate` and `demo` each read a
//! [`Config`] and start an [`App`] from it: the store, the plugin runtime, the payment gateway
//! (Stripe when `[stripe]` is configured, otherwise the sandbox), the mailer (SMTP when `[smtp]`
//! is configured, otherwise the file outbox), the clock and the engine over them. What runs from
//! cron is what runs in the server.

use crate::clock::Clock;
use crate::config::Config;
use crate::engine::{Engine, EngineError};
use crate::mail::{FileOutbox, MailError, Mailer};
use crate::payments::stripe::StripeConfigError;
use crate::payments::{PaymentGateway, SandboxGateway};
use crate::plugin::{LoadError, PluginRuntime};
use crate::store::{Store, StoreError};
use std::sync::Arc;

/// Why an application could not start.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// The database could not be opened or migrated.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The engine could not be set up.
    #[error(transparent)]
    Engine(#[from] EngineError),
    /// The plugin runtime could not be set up.
    #[error(transparent)]
    Plugin(#[from] LoadError),
    /// The `[stripe]` settings cannot make a gateway.
    #[error(transparent)]
    Stripe(#[from] StripeConfigError),
    /// The `[smtp]` settings cannot make a mailer.
    #[error(transparent)]
    Mail(#[from] MailError),
}

/// A command's application: everything built from its configuration.
pub struct App {
    /// The configuration it was built from.
    pub config: Config,
    /// The database.
    pub store: Store,
    /// The plugin runtime.
    pub runtime: Arc<PluginRuntime>,
    /// The engine, over the store, the runtime, the gateway and the mailer.
    pub engine: Arc<Engine>,
    /// Where "now" comes from.
    pub clock: Arc<dyn Clock>,
    /// Where payments go, for people: `Stripe (…)` or `the sandbox gateway`.
    pub payments: String,
    /// Where emails go, for people: `SMTP host:port` or `the outbox folder …`.
    pub emails: String,
}

impl App {
    /// Opens the database (applying pending migrations), starts the plugin runtime, and builds
    /// the payment gateway, the mailer and the engine the configuration describes.
    pub async fn start(config: Config, clock: Arc<dyn Clock>) -> Result<App, AppError> {
        let runtime = Arc::new(PluginRuntime::new(config.plugin_limits())?);
        App::start_with_runtime(config, clock, runtime).await
    }

    /// Starts as [`App::start`] does, on a plugin runtime that already exists (one process's
    /// runtime keeps every plugin it compiled, so several applications can share it).
    pub async fn start_with_runtime(
        config: Config,
        clock: Arc<dyn Clock>,
        runtime: Arc<PluginRuntime>,
    ) -> Result<App, AppError> {
        let store = Store::connect(&config.database_url).await?;
        let (gateway, payments): (Arc<dyn PaymentGateway>, String) = match &config.stripe {
            Some(stripe) => (
                Arc::new(stripe.gateway()?),
                format!(
                    "Stripe ({}, at most {} requests a second)",
                    stripe.api_base.as_deref().unwrap_or("api.stripe.com"),
                    stripe.max_requests_per_second
                ),
            ),
            None => (Arc::new(SandboxGateway), "the sandbox gateway (no [stripe] configured)".to_string()),
        };
        let (mailer, emails): (Arc<dyn Mailer>, String) = match &config.smtp {
            Some(smtp) => (Arc::new(smtp.mailer()?), format!("SMTP {}:{}", smtp.host, smtp.port)),
            None => (
                Arc::new(FileOutbox::new(&config.outbox_dir)),
                format!("the outbox folder {} (no [smtp] configured)", config.outbox_dir.display()),
            ),
        };
        let sender = config.smtp.as_ref().and_then(|smtp| smtp.from.clone());
        let mut engine =
            Engine::new(store.clone(), runtime.clone(), gateway, mailer, config.scheduler.host_id.clone())?
                .with_sender(sender);
        if let Some(workers) = config.scheduler.run_workers {
            engine.set_run_workers(workers);
        }
        engine.set_charges_in_flight(config.scheduler.charges_in_flight);
        engine.set_sends_in_flight(
            config.smtp.as_ref().map_or(crate::config::DEFAULT_SMTP_CONNECTIONS, |smtp| smtp.connections),
        );
        tracing::info!(payments = %payments, emails = %emails, "application started");
        Ok(App { config, store, runtime, engine: Arc::new(engine), clock, payments, emails })
    }
}

impl App {
    /// Sends charges and emails one at a time, so the same inputs give the same events in the
    /// same order (what `simulate` promises). Only before the engine is shared: `false`, changing
    /// nothing, once it is.
    pub fn one_at_a_time(&mut self) -> bool {
        match Arc::get_mut(&mut self.engine) {
            Some(engine) => {
                engine.set_charges_in_flight(1);
                engine.set_sends_in_flight(1);
                true
            }
            None => false,
        }
    }
}
