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
    list::{ListQuery, write_object},
    selector::Filter,
    state::Shared,
    store::{Change, ChangeType},
};

struct Stream {
    queue: VecDeque<Bytes>,
    rx: Option<Receiver<Arc<Change>>>,
    target: Target,
    filter: Filter,
    last_rv: u64,
    bookmarks: bool,
    tick: tokio::time::Interval,
    deadline: Instant,
    epoch: tokio::sync::watch::Receiver<u64>,
}

/// Starts a watch; the returned body streams until timeout, fault, lag or shutdown.
pub fn watch(shared: &Arc<Shared>, t: Target, q: &ListQuery) -> Result<Body, ApiError> {
    let filter = q.filter()?;
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
                    queue.push_back(event(&t, "ADDED", obj));
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
                        if let Some(ev) = translate(&t, &filter, &c) {
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
        target: t,
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
                    if let Some(ev) = translate(&s.target, &s.filter, &c) {
                        return Some((ev, s));
                    }
                }
                // Lagged or closed: end the stream; the client re-watches from its last
                // version, which is still in the history.
                Err(RecvError::Lagged(_) | RecvError::Closed) => return None,
            },
            _ = s.tick.tick() => {
                if s.bookmarks {
                    return Some((bookmark(&s.target, s.last_rv, false), s));
                }
            }
            _ = tokio::time::sleep_until(s.deadline) => return None,
            _ = s.epoch.changed() => return None,
        }
    }
}

/// The event a change makes for this watch, if any: objects entering or leaving the
/// selection are reported as ADDED and DELETED.
fn translate(t: &Target, filter: &Filter, c: &Change) -> Option<Bytes> {
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
    Some(event(t, kind, &c.object))
}

fn event(t: &Target, kind: &str, obj: &Value) -> Bytes {
    let mut out = Vec::with_capacity(1024);
    out.extend_from_slice(b"{\"type\":\"");
    out.extend_from_slice(kind.as_bytes());
    out.extend_from_slice(b"\",\"object\":");
    write_object(&mut out, obj, &t.api_version());
    out.extend_from_slice(b"}\n");
    Bytes::from(out)
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
