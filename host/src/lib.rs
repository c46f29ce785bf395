//! # autobill
//!
//! Billing automation for health and therapy practices. The host owns time, storage, money and
//! mail; billing policies are WebAssembly components that decide, and the host checks every
//! decision before it acts.
//!
//! - [`plugin`]: the plugin runtime — loading, sandboxing and bounding policy components, and
//!   validating what they decide.
#![forbid(unsafe_code)]

pub mod plugin;
