//! Fault injection, switchable at run time through [`Faults`]: write and read errors (500 or
//! 429 with `Retry-After`), injected conflicts, added latency, hung requests (a fraction held
//! past a client's timeout before being answered), watch streams closed after a while, a forced `410 Gone` on the next watch, and an outage (every request answered `503`,
//! every watch closed, the state kept for when it ends). Random draws come from a seeded ChaCha RNG, so a
//! run with the same seed and the same request order fails the same requests.

use std::{
    collections::BTreeMap,
    sync::{Arc, Mutex, MutexGuard},
    time::Duration,
};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use tokio::sync::watch;

use super::error::ApiError;

/// Which error injected write failures return.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WriteError {
    /// 500 InternalError.
    Internal,
    /// 429 TooManyRequests with `Retry-After: <seconds>`.
    TooManyRequests {
        /// Seconds in `Retry-After`.
        retry_after: u32,
    },
}

#[derive(Debug)]
struct State {
    rng: ChaCha8Rng,
    write_error_rate: f64,
    write_error: WriteError,
    conflict_rate: f64,
    latency: Duration,
    /// Fraction of requests held for `hang` before being handled.
    hang_rate: f64,
    hang: Duration,
    /// Requests held so far.
    hung: u64,
    watch_close_after: Option<Duration>,
    force_gone: bool,
    read_error_rate: f64,
    outage: bool,
    /// Errors injected so far (errors and conflicts), for reports.
    injected: u64,
    /// Requests refused during outages, by `User-Agent`.
    refused: BTreeMap<String, u64>,
}

/// Handle to the fault switches of a running server; cheap to clone.
#[derive(Clone, Debug)]
pub struct Faults {
    state: Arc<Mutex<State>>,
    /// Bumped to close every open watch stream at once.
    epoch: Arc<watch::Sender<u64>>,
}

impl Faults {
    /// No faults; random draws seeded with `seed`.
    pub fn new(seed: u64) -> Self {
        Faults {
            state: Arc::new(Mutex::new(State {
                rng: ChaCha8Rng::seed_from_u64(seed),
                write_error_rate: 0.0,
                write_error: WriteError::Internal,
                conflict_rate: 0.0,
                latency: Duration::ZERO,
                hang_rate: 0.0,
                hang: Duration::ZERO,
                hung: 0,
                watch_close_after: None,
                force_gone: false,
                read_error_rate: 0.0,
                outage: false,
                injected: 0,
                refused: BTreeMap::new(),
            })),
            epoch: Arc::new(watch::channel(0).0),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A poisoned lock only means a panic elsewhere; the switches stay usable.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Fails a fraction `rate` (0.0-1.0) of writes with `error`.
    pub fn set_write_errors(&self, rate: f64, error: WriteError) {
        let mut s = self.lock();
        s.write_error_rate = rate.clamp(0.0, 1.0);
        s.write_error = error;
    }

    /// Fails a fraction `rate` (0.0-1.0) of reads (get, list, watch) with a 500.
    pub fn set_read_errors(&self, rate: f64) {
        self.lock().read_error_rate = rate.clamp(0.0, 1.0);
    }

    /// Starts (`true`) or ends an outage: while it lasts every request gets `503
    /// ServiceUnavailable`, as from a load balancer in front of a dead API server. Starting one
    /// closes every open watch; the stored objects are kept.
    pub fn set_outage(&self, down: bool) {
        self.lock().outage = down;
        if down {
            self.close_watches();
        }
    }

    /// Requests refused by outages so far, by `User-Agent` (empty when the client sends
    /// none): each client's request rate while the server is down.
    pub fn refused(&self) -> BTreeMap<String, u64> {
        self.lock().refused.clone()
    }

    /// Fails a fraction `rate` (0.0-1.0) of writes with a 409 Conflict.
    pub fn set_conflict_rate(&self, rate: f64) {
        self.lock().conflict_rate = rate.clamp(0.0, 1.0);
    }

    /// Delays every request by `latency`.
    pub fn set_latency(&self, latency: Duration) {
        self.lock().latency = latency;
    }

    /// Holds a fraction `rate` (0.0-1.0) of requests for `hang` before handling them, as an
    /// API server (or a proxy in front of it) that stops answering for a while: a client with
    /// a shorter timeout gives up first, and the request may still be carried out after.
    pub fn set_hangs(&self, rate: f64, hang: Duration) {
        let mut s = self.lock();
        s.hang_rate = rate.clamp(0.0, 1.0);
        s.hang = hang;
    }

    /// How many requests were held by [`Faults::set_hangs`] so far.
    pub fn hung(&self) -> u64 {
        self.lock().hung
    }

    /// Closes every watch stream `after` it started (`None`: never).
    pub fn set_watch_close_after(&self, after: Option<Duration>) {
        self.lock().watch_close_after = after;
    }

    /// The next watch request gets `410 Gone` (an ERROR event) instead of events.
    pub fn force_gone_on_next_watch(&self) {
        self.lock().force_gone = true;
    }

    /// Closes every open watch stream now.
    pub fn close_watches(&self) {
        self.epoch.send_modify(|e| *e += 1);
    }

    /// Turns every fault off.
    pub fn clear(&self) {
        let mut s = self.lock();
        s.write_error_rate = 0.0;
        s.conflict_rate = 0.0;
        s.latency = Duration::ZERO;
        s.hang_rate = 0.0;
        s.watch_close_after = None;
        s.force_gone = false;
        s.read_error_rate = 0.0;
        s.outage = false;
    }

    /// How many write errors and conflicts were injected since the server started.
    pub fn injected(&self) -> u64 {
        self.lock().injected
    }

    /// Delay of this request: the added latency, plus a hang if one is drawn.
    pub(crate) fn delay(&self) -> Duration {
        let mut s = self.lock();
        let rate = s.hang_rate;
        if rate > 0.0 && s.rng.random_bool(rate) {
            s.hung += 1;
            return s.latency + s.hang;
        }
        s.latency
    }

    /// Draws whether this write fails, and with what.
    pub(crate) fn on_write(&self, plural: &str, group: &str, name: &str) -> Result<(), ApiError> {
        let mut s = self.lock();
        let error_rate = s.write_error_rate;
        if error_rate > 0.0 && s.rng.random_bool(error_rate) {
            s.injected += 1;
            return Err(match s.write_error {
                WriteError::Internal => ApiError::Internal("injected fault: internal error".into()),
                WriteError::TooManyRequests { retry_after } => ApiError::TooManyRequests {
                    message: "injected fault: too many requests, please try again later".into(),
                    retry_after,
                },
            });
        }
        let conflict_rate = s.conflict_rate;
        if conflict_rate > 0.0 && s.rng.random_bool(conflict_rate) {
            s.injected += 1;
            return Err(ApiError::stale(plural, group, name));
        }
        Ok(())
    }

    /// Whether this request is refused: `Err(true)` during an outage (503), `Err(false)` for
    /// an injected read error (500).
    pub(crate) fn on_request(&self, read: bool, agent: &str) -> Result<(), bool> {
        let mut s = self.lock();
        if s.outage {
            *s.refused.entry(agent.to_string()).or_default() += 1;
            return Err(true);
        }
        let rate = s.read_error_rate;
        if read && rate > 0.0 && s.rng.random_bool(rate) {
            s.injected += 1;
            return Err(false);
        }
        Ok(())
    }

    /// Takes the forced-410 switch.
    pub(crate) fn take_force_gone(&self) -> bool {
        std::mem::take(&mut self.lock().force_gone)
    }

    /// How long a new watch stream may stay open.
    pub(crate) fn watch_close_after(&self) -> Option<Duration> {
        self.lock().watch_close_after
    }

    /// A receiver that changes when every watch must close.
    pub(crate) fn epoch(&self) -> watch::Receiver<u64> {
        self.epoch.subscribe()
    }
}
