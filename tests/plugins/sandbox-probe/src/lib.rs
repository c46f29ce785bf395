//! Test fixture for the host's sandbox tests: a share-filter plugin that looks at the world it
//! runs in and reports what it saw as the skip reason of every decision, e.g.
//!
//! ```text
//! env=0 args=0 read_dir=false open=false now=1772323200 tcp=false random=1234567890
//! ```
//!
//! - `env`, `args`: how many environment variables and command-line arguments it was given;
//! - `read_dir`, `open`: whether `read_dir("/")` and `File::open("/etc/hostname")` succeeded;
//! - `now`: the wall clock, in whole seconds since 1970 (`-1` if it reads before 1970);
//! - `tcp`: whether a TCP connection to 127.0.0.1:9 succeeded;
//! - `random`: a hash keyed by `RandomState`, which draws on the sandbox's randomness.

use autobill_guest::{PracticeContext, ShareDecision, ShareFilter, ShareRequest};
use std::hash::BuildHasher;
use std::time::{SystemTime, UNIX_EPOCH};

/// The fixture policy.
pub struct SandboxProbe;

/// What the probe sees, as one line of `key=value` pairs.
pub fn report() -> String {
    let env = std::env::vars_os().count();
    let args = std::env::args_os().count();
    let read_dir = std::fs::read_dir("/").is_ok();
    let open = std::fs::File::open("/etc/hostname").is_ok();
    let now = SystemTime::now().duration_since(UNIX_EPOCH).map_or(-1, |since| since.as_secs() as i64);
    let tcp = std::net::TcpStream::connect("127.0.0.1:9").is_ok();
    let random = std::collections::hash_map::RandomState::new().hash_one(42u64);
    format!("env={env} args={args} read_dir={read_dir} open={open} now={now} tcp={tcp} random={random}")
}

impl ShareFilter for SandboxProbe {
    fn decide_shares(_: &PracticeContext, requests: &[ShareRequest]) -> Result<Vec<ShareDecision>, String> {
        let seen = report();
        Ok(requests.iter().map(|_| ShareDecision::Skip(seen.clone())).collect())
    }
}

#[cfg(target_arch = "wasm32")]
autobill_guest::export_policy!(SandboxProbe: share_filter);
