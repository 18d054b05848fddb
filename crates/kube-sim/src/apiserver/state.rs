//! State shared by every request of one server, and its configuration.

use std::{
    sync::{Mutex, MutexGuard},
    time::Duration,
};

use tokio::sync::Notify;

use super::{core::Core, faults::Faults};

/// Configuration of a simulated API server.
#[derive(Clone, Debug)]
pub struct Config {
    /// Port on 127.0.0.1; 0 picks a free one.
    pub port: u16,
    /// Seed of uids, generated names and fault draws.
    pub seed: u64,
    /// Number of changes kept for watches; a watch from an older version gets 410 Gone.
    pub history: usize,
    /// Interval of BOOKMARK events on watches that allow them.
    pub bookmark_interval: Duration,
    /// Longest a watch stays open when the client sets no `timeoutSeconds`.
    pub watch_timeout: Duration,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            port: 0,
            seed: 0,
            history: 10_000,
            bookmark_interval: Duration::from_secs(5),
            watch_timeout: Duration::from_secs(1800),
        }
    }
}

/// Everything a request handler needs.
pub struct Shared {
    core: Mutex<Core>,
    /// Fault switches.
    pub faults: Faults,
    /// Configuration.
    pub config: Config,
    /// Wakes the garbage collector after deletions.
    pub gc: Notify,
}

impl Shared {
    /// State for `config`.
    pub fn new(config: Config) -> Self {
        Shared {
            core: Mutex::new(Core::new(config.history, config.seed)),
            faults: Faults::new(config.seed.wrapping_add(1)),
            config,
            gc: Notify::new(),
        }
    }

    /// Locks the core. Operations under the lock are synchronous and short.
    pub fn lock(&self) -> MutexGuard<'_, Core> {
        // A poisoned lock means a handler panicked mid-write; the store is still consistent
        // enough for a test simulator to go on.
        self.core.lock().unwrap_or_else(|e| e.into_inner())
    }
}
