//! Counts the API writes of one client: a tower layer on the kube client that tallies every
//! request other than GET by verb and resource (`POST pods`, `PATCH extendeddaemonsets/status`).

use std::{
    collections::BTreeMap,
    sync::{Arc, Mutex},
};

use kube::client::{Body, ClientBuilder};
use tower::util::MapRequestLayer;

/// Writes by `VERB resource[/subresource]`; cheap to clone.
#[derive(Clone, Default)]
pub struct Writes(Arc<Mutex<BTreeMap<String, u64>>>);

impl Writes {
    /// A client for `config` whose writes are counted here.
    pub fn client(&self, config: kube::Config) -> Result<kube::Client, kube::Error> {
        let writes = self.clone();
        let layer = MapRequestLayer::new(move |req: http::Request<Body>| {
            writes.count(req.method(), req.uri().path());
            req
        });
        Ok(ClientBuilder::try_from(config)?.with_layer(&layer).build())
    }

    fn count(&self, method: &http::Method, path: &str) {
        if method == http::Method::GET {
            return;
        }
        let key = format!("{method} {}", resource_of(path));
        *self
            .0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(key)
            .or_default() += 1;
    }

    /// The counts so far, and starts afresh.
    pub fn take(&self) -> BTreeMap<String, u64> {
        std::mem::take(&mut *self.0.lock().unwrap_or_else(|e| e.into_inner()))
    }
}

/// `pods` for `/api/v1/namespaces/default/pods/foo`, `extendeddaemonsets/status` for
/// `/apis/datadoghq.com/v1alpha1/namespaces/default/extendeddaemonsets/foo/status`.
fn resource_of(path: &str) -> String {
    let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
    let rest = match parts.iter().position(|p| *p == "namespaces") {
        Some(i) if parts.len() > i + 2 => &parts[i + 2..],
        _ => {
            &parts[parts
                .len()
                .min(if parts.first() == Some(&"api") { 2 } else { 3 })..]
        }
    };
    match rest {
        [resource, _, sub, ..] => format!("{resource}/{sub}"),
        [resource, ..] => (*resource).to_string(),
        [] => path.to_string(),
    }
}

/// One line: the total and each kind of write.
pub fn summary(counts: &BTreeMap<String, u64>) -> String {
    let total: u64 = counts.values().sum();
    let each: Vec<String> = counts.iter().map(|(k, n)| format!("{k} {n}")).collect();
    format!("{total} ({})", each.join(", "))
}
