//! List: filtered by label and field selectors, paginated with `limit`/`continue` (every page
//! of one list shows the same resourceVersion), and serialized once into the response body
//! after the store lock is released.

use std::{collections::BTreeMap, sync::Arc};

use serde::Deserialize;
use serde_json::Value;

use super::{
    core::{Core, Target},
    error::ApiError,
    meta,
    resources::ResKey,
    selector::{self, Filter},
    store::ObjKey,
};

/// Query parameters of list and watch requests.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListQuery {
    /// Label selector.
    pub label_selector: Option<String>,
    /// Field selector.
    pub field_selector: Option<String>,
    /// Page size.
    pub limit: Option<usize>,
    /// Continue token of the previous page.
    #[serde(rename = "continue")]
    pub continue_token: Option<String>,
    /// `true` (or `1`) for a watch.
    pub watch: Option<String>,
    /// Version to watch from.
    pub resource_version: Option<String>,
    /// Whether the client accepts BOOKMARK events.
    pub allow_watch_bookmarks: Option<bool>,
    /// Seconds after which the watch ends.
    pub timeout_seconds: Option<u64>,
    /// Streaming list: send every object first, then a bookmark marking the end.
    pub send_initial_events: Option<bool>,
}

impl ListQuery {
    /// Whether the request is a watch.
    pub fn is_watch(&self) -> bool {
        matches!(self.watch.as_deref(), Some("true" | "1"))
    }

    /// The label and field filter for resource `plural`.
    pub fn filter(&self, plural: &str) -> Result<Filter, ApiError> {
        Ok(Filter {
            labels: match &self.label_selector {
                Some(s) => selector::parse_labels(s)?,
                None => Default::default(),
            },
            fields: match &self.field_selector {
                Some(s) => selector::parse_fields(s, plural)?,
                None => Vec::new(),
            },
        })
    }
}

/// One page of a list, holding shared objects.
pub struct Page {
    /// Matching objects.
    pub items: Vec<Arc<Value>>,
    /// resourceVersion of the list.
    pub rv: u64,
    /// Token of the next page, if any.
    pub next: Option<String>,
}

/// Collects a page under the store lock (cheap: only `Arc` clones).
///
/// The pages of one list are one consistent snapshot, as the real API server's: the continue
/// token carries the resourceVersion of the first page, and objects changed since are served
/// as they were then, rebuilt from the change history. A token older than the history gets
/// 410 `Expired`, and the client lists again.
pub fn page(core: &Core, t: &Target, q: &ListQuery) -> Result<Page, ApiError> {
    let filter = q.filter(&t.info.plural)?;
    let token =
        match &q.continue_token {
            Some(tok) if !tok.is_empty() => Some(decode(tok).ok_or_else(|| {
                ApiError::BadRequest(format!("invalid continue token: \"{tok}\""))
            })?),
            _ => None,
        };
    let list_rv = token.as_ref().map_or(core.store.rv(), |(rv, _)| *rv);
    let start = token.map(|(_, key)| key);
    let ns = (!t.namespace.is_empty()).then_some(t.namespace.as_str());
    let res = t.info.key();
    let then = as_of(core, &res, ns, list_rv)?;
    let limit = q.limit.filter(|l| *l > 0).unwrap_or(usize::MAX);
    let mut items = Vec::new();
    let mut last: Option<ObjKey> = None;
    let mut next = None;
    for (key, obj) in merged(core.store.iter(&res, ns), &then) {
        if start.as_ref().is_some_and(|s| key <= s) || !filter.matches(obj) {
            continue;
        }
        if items.len() == limit {
            next = last.as_ref().map(|k| encode(list_rv, k));
            break;
        }
        items.push(obj.clone());
        last = Some(key.clone());
    }
    Ok(Page {
        items,
        rv: list_rv,
        next,
    })
}

/// The objects of `res` changed after `rv`, as they were at `rv` (`None`: created since).
fn as_of(
    core: &Core,
    res: &ResKey,
    ns: Option<&str>,
    rv: u64,
) -> Result<BTreeMap<ObjKey, Option<Arc<Value>>>, ApiError> {
    let mut then = BTreeMap::new();
    if rv >= core.store.rv() {
        return Ok(then);
    }
    let changes = core.store.since(rv).ok_or_else(|| {
        ApiError::Gone(format!(
            "the continue token of resourceVersion {rv} is older than the kept history; list again without it"
        ))
    })?;
    for change in changes.iter().filter(|c| c.res == *res) {
        let namespace = meta::namespace(&change.object);
        if ns.is_some_and(|ns| ns != namespace) {
            continue;
        }
        // The first change after `rv` holds the state before it.
        then.entry(ObjKey::new(namespace, meta::name(&change.object)))
            .or_insert_with(|| change.old.clone());
    }
    Ok(then)
}

/// The current objects, with those in `then` replaced by their earlier state (or left out),
/// in key order.
fn merged<'a>(
    current: impl Iterator<Item = (&'a ObjKey, &'a Arc<Value>)>,
    then: &'a BTreeMap<ObjKey, Option<Arc<Value>>>,
) -> impl Iterator<Item = (&'a ObjKey, &'a Arc<Value>)> {
    let mut current = current.peekable();
    let mut earlier = then.iter().peekable();
    std::iter::from_fn(move || {
        loop {
            let take_current = match (current.peek(), earlier.peek()) {
                (None, None) => return None,
                (Some(_), None) => true,
                (None, Some(_)) => false,
                (Some((c, _)), Some((e, _))) => c < e,
            };
            if take_current {
                return current.next();
            }
            let (key, obj) = earlier.next()?;
            if current.peek().is_some_and(|(c, _)| *c == key) {
                current.next();
            }
            if let Some(obj) = obj {
                return Some((key, obj));
            }
        }
    })
}

/// Serializes a page as `<Kind>List`, rewriting `apiVersion` when served at another version.
pub fn body(t: &Target, page: &Page) -> Vec<u8> {
    let api_version = t.api_version();
    let mut out = Vec::with_capacity(256 + page.items.len() * 1024);
    let mut meta = serde_json::json!({ "resourceVersion": page.rv.to_string() });
    if let Some(next) = &page.next {
        meta["continue"] = Value::String(next.clone());
    }
    let head = serde_json::json!({
        "kind": format!("{}List", t.info.kind),
        "apiVersion": api_version,
        "metadata": meta,
    })
    .to_string();
    out.extend_from_slice(&head.as_bytes()[..head.len() - 1]);
    out.extend_from_slice(b",\"items\":[");
    for (i, item) in page.items.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write_object(&mut out, item, &api_version);
    }
    out.extend_from_slice(b"]}");
    out
}

/// Writes `obj` as JSON, with `apiVersion` set to `api_version`.
pub fn write_object(out: &mut Vec<u8>, obj: &Value, api_version: &str) {
    if obj.get("apiVersion").and_then(Value::as_str) == Some(api_version) {
        // Serializing a Value into a Vec cannot fail.
        let _ = serde_json::to_writer(&mut *out, obj);
    } else {
        let mut copy = obj.clone();
        copy["apiVersion"] = Value::String(api_version.to_string());
        let _ = serde_json::to_writer(&mut *out, &copy);
    }
}

/// A continue token: the list's resourceVersion and the last key served, hex-encoded.
fn encode(rv: u64, key: &ObjKey) -> String {
    let raw = format!("{rv}\u{0}{}\u{0}{}", key.namespace, key.name);
    raw.bytes().map(|b| format!("{b:02x}")).collect()
}

fn decode(tok: &str) -> Option<(u64, ObjKey)> {
    if !tok.len().is_multiple_of(2) {
        return None;
    }
    let bytes: Option<Vec<u8>> = (0..tok.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(tok.get(i..i + 2)?, 16).ok())
        .collect();
    let raw = String::from_utf8(bytes?).ok()?;
    let mut parts = raw.splitn(3, '\u{0}');
    let rv = parts.next()?.parse().ok()?;
    let (ns, name) = (parts.next()?, parts.next()?);
    Some((rv, ObjKey::new(ns, name)))
}
