//! Support code shared by the suites: a Stripe double (localstripe, and the test-only proxy that
//! bridges its gaps) and a real SMTP server with a PDF reader. Nothing here is part of autobill's
//! production path. Each suite uses only part of it, so unused items are allowed here.

#[allow(dead_code)]
pub mod db;
#[allow(dead_code)]
pub mod localstripe;
#[allow(dead_code)]
pub mod smtp;
#[allow(dead_code)]
pub mod stripe_proxy;
