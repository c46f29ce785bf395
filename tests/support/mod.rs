//! Support code shared by the suites: a Stripe double (localstripe, and the test-only proxy that
//! bridges its gaps), Stripe's webhook deliveries, signed, and a real SMTP server with a PDF
//! reader. Nothing here is part of autobill's production path. Each suite uses only part of it,
//! so unused items are allowed here.

/// Runs each named `async fn NAME(backend: &str)` as two tests, `sqlite::NAME` and `postgres::NAME`.
#[allow(unused_macros)]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $( #[tokio::test(flavor = "multi_thread", worker_threads = 2)] async fn $name() { super::$name("sqlite").await } )*
        }
        mod postgres {
            $( #[tokio::test(flavor = "multi_thread", worker_threads = 2)] async fn $name() { super::$name("postgres").await } )*
        }
    };
}

#[allow(dead_code)]
pub mod db;
#[allow(dead_code)]
pub mod localstripe;
#[allow(dead_code)]
pub mod smtp;
#[allow(dead_code)]
pub mod stripe_events;
#[allow(dead_code)]
pub mod stripe_proxy;
