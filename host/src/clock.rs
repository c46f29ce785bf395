//! Where the time comes from. Production uses [`SystemClock`]; `simulate`, the demo and tests
//! inject a [`SimulatedClock`], so every time-dependent rule runs on an injected clock.

use chrono::{DateTime, Utc};
use std::sync::Mutex;

/// Where the time comes from. Production uses [`SystemClock`]; tests inject a [`SimulatedClock`].
pub trait Clock: Send + Sync + 'static {
    /// The current instant.
    fn now(&self) -> DateTime<Utc>;

    /// The clock as a settable one, when it is simulated.
    fn simulated(&self) -> Option<&SimulatedClock> {
        None
    }
}

/// The machine's clock.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A clock that stands still until it is set: for tests and demos only.
#[derive(Debug)]
pub struct SimulatedClock(Mutex<DateTime<Utc>>);

impl SimulatedClock {
    /// A clock showing `at`.
    pub fn new(at: DateTime<Utc>) -> Self {
        SimulatedClock(Mutex::new(at))
    }

    /// Moves the clock to `at`.
    pub fn set(&self, at: DateTime<Utc>) {
        if let Ok(mut now) = self.0.lock() {
            *now = at;
        }
    }
}

impl Clock for SimulatedClock {
    fn now(&self) -> DateTime<Utc> {
        self.0.lock().map(|now| *now).unwrap_or_else(|poisoned| *poisoned.into_inner())
    }

    fn simulated(&self) -> Option<&SimulatedClock> {
        Some(self)
    }
}
