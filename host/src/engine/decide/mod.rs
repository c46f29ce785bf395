//! The engine's decisions as pure functions: no `async`, no database, no clock. Each takes what a
//! run read and the policies' checked answers, and returns what to write; the engine reads,
//! calls these, and hands their plans to the store to commit in one transaction. They are tested
//! here by the dozen without a database.

pub mod autopay;
pub mod documents;
pub mod provider_events;
pub mod shares;
