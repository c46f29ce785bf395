//! # autobill
//!
//! Billing automation for health and therapy practices. The host owns time, storage, money and
//! mail; billing policies are WebAssembly components that decide, and the host checks every
//! decision before it acts.
//!
//! A tour, from the bottom layer up; each layer uses only the ones above it in this list:
//! - [`domain`]: ids and statuses as types, money in its currency, the settings and how they
//!   change, what a run may bill, documents and events: the rules that need no I/O.
//! - [`schedule`] and [`clock`]: which runs are due, a pure function of time zone, settings and a
//!   window; and where "now" comes from.
//! - [`store`]: every SQL statement, over SQLite or PostgreSQL, behind typed methods.
//! - [`plugin`]: the plugin runtime — loading, sandboxing and bounding policy components,
//!   validating what they decide, and converting between the host's and the contract's types.
//! - [`payments`], [`mail`] and [`pdf`]: the edges money and email leave through (and Stripe's
//!   signed news about payments comes back through), and the documents they carry; none of them
//!   touches the store.
//! - [`registry`]: stored plugins as an operator manages them (above the store and the runtime).
//! - [`engine`]: runs claimed exactly once, in three layers: pure *decide* functions, the store's
//!   *apply* in one transaction, and the *execute* layer that charges and emails; and the payment
//!   provider's events (disputes, refunds, late outcomes), each applied at most once.
//! - [`app`]: the one wiring every command uses: configuration in, an engine with its store,
//!   plugins, payment gateway, mailer and clock out.
//! - [`scenario`] and [`simulate`]: the engine on a simulated clock over a scenario file.
//! - [`conformance`]: the plugin conformance kit behind `autobill plugin test`.
//! - [`scaffold`]: the projects `autobill plugin new` makes, in Rust, JavaScript or Python.
//! - [`serve`], [`api`] and [`config`]: `autobill serve`, the scheduler and the HTTP API.
//! - [`console`]: the browser console `serve` also serves, built on the API's handlers.
//! - [`progress`]: the progress line long runs draw on a terminal.
#![forbid(unsafe_code)]

pub mod api;
pub mod app;
pub mod clock;
pub mod config;
pub mod conformance;
pub mod console;
pub mod domain;
pub mod engine;
pub mod mail;
pub mod payments;
pub mod pdf;
pub mod plugin;
pub mod progress;
pub mod registry;
pub mod scaffold;
pub mod scenario;
pub mod schedule;
pub mod serve;
pub mod simulate;
pub mod store;
