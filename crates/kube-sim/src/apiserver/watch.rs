//! Watch: a stream of JSON events (`ADDED`, `MODIFIED`, `DELETED`, `BOOKMARK`, `ERROR`)
//! from a resourceVersion, filtered like a list.
//!
//! The history and the broadcast subscription are taken under one lock, so no change falls
//! between them. A version older than the kept history gets an `ERROR` event with a 410
//! `Expired` status (as the real server's watch cache does), which makes clients relist.
//! A client too slow to keep up with the broadcast has its stream closed; it re-watches from
//! its last version.

use std::{collections::VecDeque, sync::Arc, time::Duration};

use axum::body::{Body, Bytes};
use futures::StreamExt;
use serde_json::{Value, json};
use tokio::{
    sync::broadcast::{Receiver, error::RecvError},
    time::Instant,
};

use super::{
    core::Target,
    error::ApiError,
    list::{ListQuery, Page, write_object},
    selector::Filter,
    state::Shared,
    store::{Change, ChangeType},
    table,
};

/// Serializes events for one watch: objects, or Table rows for kubectl.
struct Encoder {
    target: Target,
    table: bool,
    columns_sent: bool,
}

struct Stream {
    queue: VecDeque<Bytes>,
    rx: Option<Receiver<Arc<Change>>>,
    enc: Encoder,
    filter: Filter,
    last_rv: u64,
    bookmarks: bool,
    tick: tokio::time::Interval,
    deadline: Instant,
    epoch: tokio::sync::watch::Receiver<u64>,
}

/// Starts a watch; the returned body streams until timeout, fault, lag or shutdown.
/// `table`: send each object as a one-row `Table` (kubectl `get --watch`).
pub fn watch(
    shared: &Arc<Shared>,
    t: Target,
    q: &ListQuery,
    table: bool,
) -> Result<Body, ApiError> {
    let filter = q.filter(&t.info.plural)?;
    let mut enc = Encoder {
        target: t.clone(),
        table,
        columns_sent: false,
    };
    let bookmarks = q.allow_watch_bookmarks.unwrap_or(false);
    let mut queue = VecDeque::new();
    let (rx, last_rv) = {
        let core = shared.lock();
        let store = &core.store;
        let from = q
            .resource_version
            .as_deref()
            .filter(|v| !v.is_empty() && *v != "0");
        let forced = shared.faults.take_force_gone();
        let initial_list = q.send_initial_events.unwrap_or(false) || from.is_none();
        if initial_list && !forced {
            let ns = (!t.namespace.is_empty()).then_some(t.namespace.as_str());
            for (_, obj) in store.iter(&t.info.key(), ns) {
                if filter.matches(obj) {
                    queue.push_back(enc.event("ADDED", obj, store.rv()));
                }
            }
            if q.send_initial_events == Some(true) {
                queue.push_back(bookmark(&t, store.rv(), true));
            }
        } else {
            let from_rv = from.and_then(|v| v.parse::<u64>().ok()).ok_or_else(|| {
                ApiError::BadRequest(format!(
                    "invalid resource version: {}",
                    from.unwrap_or_default()
                ))
            })?;
            match store.since(from_rv).filter(|_| !forced) {
                Some(changes) => {
                    for c in changes {
                        if let Some(ev) = enc.translate(&filter, &c) {
                            queue.push_back(ev);
                        }
                    }
                }
                None => {
                    let status = ApiError::Gone(format!(
                        "too old resource version: {from_rv} ({})",
                        store.floor() + 1
                    ))
                    .status();
                    queue.push_back(line(&json!({ "type": "ERROR", "object": status })));
                    let done =
                        futures::stream::iter(queue.into_iter().map(Ok::<_, std::io::Error>));
                    return Ok(Body::from_stream(done));
                }
            }
        }
        (store.subscribe(), store.rv())
    };
    let timeout = q
        .timeout_seconds
        .map(Duration::from_secs)
        .unwrap_or(shared.config.watch_timeout);
    let limit = match shared.faults.watch_close_after() {
        Some(close) => timeout.min(close),
        None => timeout,
    };
    let interval = shared
        .config
        .bookmark_interval
        .max(Duration::from_millis(10));
    let state = Stream {
        queue,
        rx: Some(rx),
        enc,
        filter,
        last_rv,
        bookmarks,
        tick: tokio::time::interval_at(Instant::now() + interval, interval),
        deadline: Instant::now() + limit,
        epoch: shared.faults.epoch(),
    };
    let stream = futures::stream::unfold(state, next).map(Ok::<_, std::io::Error>);
    Ok(Body::from_stream(stream))
}

async fn next(mut s: Stream) -> Option<(Bytes, Stream)> {
    loop {
        if let Some(b) = s.queue.pop_front() {
            return Some((b, s));
        }
        let rx = s.rx.as_mut()?;
        tokio::select! {
            change = rx.recv() => match change {
                Ok(c) => {
                    s.last_rv = c.rv;
                    if let Some(ev) = s.enc.translate(&s.filter, &c) {
                        return Some((ev, s));
                    }
                }
                // Lagged or closed: end the stream; the client re-watches from its last
                // version, which is still in the history.
                Err(RecvError::Lagged(_) | RecvError::Closed) => return None,
            },
            _ = s.tick.tick() => {
                if s.bookmarks {
                    return Some((bookmark(&s.enc.target, s.last_rv, false), s));
                }
            }
            _ = tokio::time::sleep_until(s.deadline) => return None,
            _ = s.epoch.changed() => return None,
        }
    }
}

impl Encoder {
    /// The event a change makes for this watch, if any: objects entering or leaving the
    /// selection are reported as ADDED and DELETED.
    fn translate(&mut self, filter: &Filter, c: &Change) -> Option<Bytes> {
        let t = &self.target;
        if c.res != t.info.key() {
            return None;
        }
        if !t.namespace.is_empty() && super::meta::namespace(&c.object) != t.namespace {
            return None;
        }
        let now = filter.matches(&c.object);
        let kind = match c.kind {
            ChangeType::Added if now => "ADDED",
            ChangeType::Deleted if now => "DELETED",
            ChangeType::Modified => {
                let before = c.old.as_deref().is_some_and(|o| filter.matches(o));
                match (before, now) {
                    (true, true) => "MODIFIED",
                    (false, true) => "ADDED",
                    (true, false) => "DELETED",
                    (false, false) => return None,
                }
            }
            _ => return None,
        };
        let api_version = t.api_version();
        if self.table || c.object.get("apiVersion").and_then(Value::as_str) != Some(&api_version) {
            return Some(self.event(kind, &c.object, c.rv));
        }
        // The object as stored: its serialization is shared with the other watches.
        let object = c.encoded();
        let mut out = Vec::with_capacity(object.len() + 32);
        out.extend_from_slice(b"{\"type\":\"");
        out.extend_from_slice(kind.as_bytes());
        out.extend_from_slice(b"\",\"object\":");
        out.extend_from_slice(object);
        out.extend_from_slice(b"}\n");
        Some(Bytes::from(out))
    }

    fn event(&mut self, kind: &str, obj: &Arc<Value>, rv: u64) -> Bytes {
        let mut out = Vec::with_capacity(1024);
        out.extend_from_slice(b"{\"type\":\"");
        out.extend_from_slice(kind.as_bytes());
        out.extend_from_slice(b"\",\"object\":");
        if self.table {
            let page = Page {
                items: vec![obj.clone()],
                rv,
                next: None,
            };
            let mut t = table::table(&self.target.info, &self.target.version, &page);
            // Like the real server, only the first event carries the column definitions.
            if self.columns_sent {
                t["columnDefinitions"] = Value::Array(Vec::new());
            }
            self.columns_sent = true;
            let _ = serde_json::to_writer(&mut out, &t);
        } else {
            write_object(&mut out, obj, &self.target.api_version());
        }
        out.extend_from_slice(b"}\n");
        Bytes::from(out)
    }
}

fn bookmark(t: &Target, rv: u64, initial_end: bool) -> Bytes {
    let mut meta = json!({ "resourceVersion": rv.to_string() });
    if initial_end {
        meta["annotations"] = json!({ "k8s.io/initial-events-end": "true" });
    }
    line(&json!({
        "type": "BOOKMARK",
        "object": { "kind": t.info.kind, "apiVersion": t.api_version(), "metadata": meta },
    }))
}

fn line(v: &Value) -> Bytes {
    let mut s = v.to_string();
    s.push('\n');
    Bytes::from(s)
}
