//! # autobill
//!
//! Billing automation for health and therapy practices. The host owns time, storage, money and
//! mail; billing policies are WebAssembly components that decide, and the host checks every
//! decision before it acts.
//!
//! A tour, from the inside out:
//! - [`domain`]: settings, statuses and money, with the rules that need no I/O.
//! - [`schedule`]: which runs are due, a pure function of time zone, settings and a window.
//! - [`plugin`]: the plugin runtime — loading, sandboxing and bounding policy components, and
//!   validating what they decide.
//! - [`store`]: SQLite or PostgreSQL, one set of SQL.
//! - [`engine`]: claims due runs exactly once and applies the policies' checked decisions.
//! - [`payments`] and [`mail`]: the edges money and email leave through.
//! - [`pdf`]: bills and superbills as PDF documents, attached to the emails that share them.
//! - [`scenario`] and [`simulate`]: the engine on a simulated clock over a scenario file.
//! - [`conformance`]: the plugin conformance kit behind `autobill plugin test`.
//! - [`progress`]: the progress line long runs draw on a terminal.
//! - [`serve`], [`api`] and [`config`]: `autobill serve`, the scheduler and the HTTP API.
#![forbid(unsafe_code)]

pub mod api;
pub mod config;
pub mod conformance;
pub mod domain;
pub mod engine;
pub mod mail;
pub mod payments;
pub mod pdf;
pub mod plugin;
pub mod progress;
pub mod scenario;
pub mod schedule;
pub mod serve;
pub mod simulate;
pub mod store;
