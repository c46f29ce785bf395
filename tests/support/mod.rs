//! Support code for the suites that talk to a Stripe double: localstripe, and the test-only
//! proxy that bridges its gaps. Nothing here is part of autobill's production path.

pub mod localstripe;
pub mod stripe_proxy;
