//! The world a plugin runs in: an empty, deterministic WASI (no files, network, environment,
//! arguments or stdin; a clock that reads the run's time; seeded randomness), a memory cap, a
//! deadline no wait outlasts, and stderr captured so a guest's panic message reaches the error
//! report.

use chrono::{DateTime, Utc};
use std::time::{Duration, Instant};
use wasmtime::component::{Linker, Resource, ResourceTable};
use wasmtime::{ResourceLimiter, StoreContextMut};
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::p2::{DynPollable, Pollable};
use wasmtime_wasi::{HostMonotonicClock, HostWallClock, WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};

/// How much of a guest's stderr is kept for error reports.
const STDERR_CAPACITY: usize = 8 * 1024;

/// The largest table a guest may grow.
const MAX_TABLE_ELEMENTS: usize = 100_000;

/// The per-call state of one plugin instance.
pub(super) struct Sandbox {
    wasi: WasiCtx,
    table: ResourceTable,
    stderr: MemoryOutputPipe,
    memory_limit: usize,
    memory_exceeded: bool,
    deadline: Instant,
}

/// A clock stopped at the run's time, so the same run always sees the same "now".
struct RunClock(Duration);

impl HostWallClock for RunClock {
    fn resolution(&self) -> Duration {
        Duration::from_secs(1)
    }
    fn now(&self) -> Duration {
        self.0
    }
}

impl HostMonotonicClock for RunClock {
    fn resolution(&self) -> u64 {
        1_000_000_000
    }
    fn now(&self) -> u64 {
        0
    }
}

/// The WASI interface whose waits the sandbox bounds, as `wasmtime-wasi` names it.
const MONOTONIC_CLOCK: &str = "wasi:clocks/monotonic-clock@0.2.12";

/// Replaces WASI's `subscribe-duration` and `subscribe-instant` in `linker` with waits that end
/// at the call's deadline at the latest.
///
/// Epoch interruption stops guest code, but not a host call: WASI's own subscriptions would keep
/// a thread blocked in `wasi:io/poll` for as long as the guest asked (forever, for a far enough
/// instant). With these, a guest that sleeps past its deadline wakes at the deadline, and the
/// epoch check that follows (or the elapsed time, if it returns first) fails the call.
pub(super) fn bound_waits(linker: &mut Linker<Sandbox>) -> wasmtime::Result<()> {
    linker.allow_shadowing(true);
    let mut clock = linker.instance(MONOTONIC_CLOCK)?;
    // The sandbox's monotonic clock always reads 0, so an instant is as far off as its value.
    for name in ["subscribe-duration", "subscribe-instant"] {
        clock.func_wrap(name, |mut store: StoreContextMut<'_, Sandbox>, (nanos,): (u64,)| -> WaitResult {
            let sandbox = store.data_mut();
            let wait = Wait(sandbox.wait_until(Duration::from_nanos(nanos)));
            let wait = sandbox.table.push(wait)?;
            Ok((wasmtime_wasi::p2::subscribe(&mut sandbox.table, wait)?,))
        })?;
    }
    linker.allow_shadowing(false);
    Ok(())
}

type WaitResult = wasmtime::Result<(Resource<DynPollable>,)>;

/// A guest's wait: ready at its instant, which is never past the call's deadline.
struct Wait(Instant);

#[wasmtime_wasi::async_trait]
impl Pollable for Wait {
    async fn ready(&mut self) {
        tokio::time::sleep_until(tokio::time::Instant::from_std(self.0)).await;
    }
}

impl Sandbox {
    pub(super) fn new(at: DateTime<Utc>, memory_limit: usize, deadline: Instant) -> Self {
        let since_epoch = Duration::from_secs(u64::try_from(at.timestamp()).unwrap_or(0));
        let stderr = MemoryOutputPipe::new(STDERR_CAPACITY);
        let wasi = WasiCtxBuilder::new()
            .stderr(stderr.clone())
            .wall_clock(RunClock(since_epoch))
            .monotonic_clock(RunClock(since_epoch))
            .secure_random(wasmtime_wasi::Deterministic::new(vec![0x5a, 0x17, 0xc3, 0x88]))
            .insecure_random(wasmtime_wasi::Deterministic::new(vec![0x3c, 0x91, 0x0e, 0x6d]))
            .insecure_random_seed(0x6175_746f_6269_6c6c)
            .allow_tcp(false)
            .allow_udp(false)
            .allow_ip_name_lookup(false)
            .build();
        Sandbox { wasi, table: ResourceTable::new(), stderr, memory_limit, memory_exceeded: false, deadline }
    }

    /// When a wait of `length` that starts now ends: at the call's deadline at the latest.
    fn wait_until(&self, length: Duration) -> Instant {
        Instant::now().checked_add(length).map_or(self.deadline, |end| end.min(self.deadline))
    }

    /// Whether the guest tried to grow its memory past the cap.
    pub(super) fn memory_exceeded(&self) -> bool {
        self.memory_exceeded
    }

    /// The last line the guest wrote to stderr (a panic message, usually), if any. Rust's hint
    /// after a first panic ("note: run with `RUST_BACKTRACE=1` …") is passed over, as it follows
    /// the panic message and says nothing about the failure.
    pub(super) fn last_stderr_line(&self) -> Option<String> {
        let contents = self.stderr.contents();
        let text = String::from_utf8_lossy(&contents);
        text.lines()
            .rev()
            .map(str::trim)
            .find(|line| !line.is_empty() && !line.starts_with("note: run with `RUST_BACKTRACE=1`"))
            .map(str::to_string)
    }
}

impl WasiView for Sandbox {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView { ctx: &mut self.wasi, table: &mut self.table }
    }
}

impl ResourceLimiter for Sandbox {
    fn memory_growing(&mut self, _current: usize, desired: usize, _maximum: Option<usize>) -> wasmtime::Result<bool> {
        if desired > self.memory_limit {
            self.memory_exceeded = true;
            return Ok(false);
        }
        Ok(true)
    }

    fn table_growing(&mut self, _current: usize, desired: usize, _maximum: Option<usize>) -> wasmtime::Result<bool> {
        Ok(desired <= MAX_TABLE_ELEMENTS)
    }
}
