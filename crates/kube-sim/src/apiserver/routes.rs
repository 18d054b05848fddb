//! HTTP routing: discovery paths and the resource path grammar
//! `/api/v1[/namespaces/<ns>]/<resource>[/<name>[/<subresource>]]` (and `/apis/<g>/<v>/...`).

use std::sync::Arc;

use axum::{
    Router,
    body::Bytes,
    extract::{DefaultBodyLimit, State},
    http::{HeaderMap, Method, StatusCode, Uri, header},
    response::{IntoResponse, Response},
    routing::get,
};
use serde_json::Value;

use super::{
    core::{Sub, Target},
    discovery,
    error::ApiError,
    handlers::{self, Request},
    openapi,
    state::Shared,
};

/// The router of a server.
pub fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/version", get(version))
        .route("/healthz", get(ok))
        .route("/livez", get(ok))
        .route("/readyz", get(ok))
        .fallback(dispatch)
        .layer(DefaultBodyLimit::max(64 * 1024 * 1024))
        .with_state(shared)
}

async fn version() -> Response {
    json_response(StatusCode::OK, &discovery::version())
}

async fn ok() -> &'static str {
    "ok"
}

/// A JSON response.
pub fn json_response(code: StatusCode, v: &Value) -> Response {
    // Serializing a Value into a Vec cannot fail.
    bytes_response(code, serde_json::to_vec(v).unwrap_or_default())
}

/// A response with a JSON body already serialized.
pub fn bytes_response(code: StatusCode, body: Vec<u8>) -> Response {
    (code, [(header::CONTENT_TYPE, "application/json")], body).into_response()
}

fn not_found_path() -> ApiError {
    ApiError::NotFound {
        message: "the server could not find the requested resource".into(),
        kind: String::new(),
        name: String::new(),
    }
}

async fn dispatch(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let latency = shared.faults.delay();
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    let agent = headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    match shared.faults.on_request(method == Method::GET, agent) {
        Ok(()) => {}
        Err(true) => return unavailable(),
        Err(false) => {
            return ApiError::Internal("injected fault: internal error".into()).into_response();
        }
    }
    match route(&shared, &method, &uri, &headers, body) {
        Ok(resp) => resp,
        Err(e) => e.into_response(),
    }
}

/// The answer of a server in an outage.
fn unavailable() -> Response {
    json_response(
        StatusCode::SERVICE_UNAVAILABLE,
        &serde_json::json!({
            "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": "the server is currently unable to handle the request",
            "reason": "ServiceUnavailable", "code": 503,
        }),
    )
}

fn route(
    shared: &Arc<Shared>,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let segs: Vec<&str> = uri.path().split('/').filter(|s| !s.is_empty()).collect();
    let (group, version, rest) = match segs.as_slice() {
        ["api"] => {
            let host = headers
                .get(header::HOST)
                .and_then(|h| h.to_str().ok())
                .unwrap_or("127.0.0.1");
            return Ok(json_response(
                StatusCode::OK,
                &discovery::core_versions(host),
            ));
        }
        ["apis"] => {
            let core = shared.lock();
            return Ok(json_response(
                StatusCode::OK,
                &discovery::group_list(&core.store.registry),
            ));
        }
        ["apis", g] => {
            let core = shared.lock();
            let doc = discovery::group(&core.store.registry, g).ok_or_else(not_found_path)?;
            return Ok(json_response(StatusCode::OK, &doc));
        }
        ["openapi", "v3", gv @ ..] => {
            let core = shared.lock();
            let reg = &core.store.registry;
            let doc = match gv {
                [] => Some(openapi::root(reg)),
                ["api", v] => openapi::group_version(reg, "", v),
                ["apis", g, v] => openapi::group_version(reg, g, v),
                _ => None,
            };
            return Ok(json_response(
                StatusCode::OK,
                &doc.ok_or_else(not_found_path)?,
            ));
        }
        ["api", v, rest @ ..] => ("", *v, rest),
        ["apis", g, v, rest @ ..] => (*g, *v, rest),
        _ => return Err(not_found_path()),
    };
    if rest.is_empty() {
        let core = shared.lock();
        let doc = discovery::resource_list(&core.store.registry, group, version)
            .ok_or_else(not_found_path)?;
        return Ok(json_response(StatusCode::OK, &doc));
    }
    let (namespace, plural, name, sub) = match rest {
        ["namespaces", ns] => ("", "namespaces", Some(*ns), None),
        ["namespaces", ns, s @ ("status" | "finalize")] => ("", "namespaces", Some(*ns), Some(*s)),
        ["namespaces", ns, plural, tail @ ..] => {
            (*ns, *plural, tail.first().copied(), tail.get(1).copied())
        }
        [plural, tail @ ..] => ("", *plural, tail.first().copied(), tail.get(1).copied()),
        [] => return Err(not_found_path()),
    };
    if rest.len() > 5 {
        return Err(not_found_path());
    }
    let info = shared
        .lock()
        .store
        .registry
        .lookup(group, version, plural)
        .ok_or_else(not_found_path)?;
    if !info.namespaced && !namespace.is_empty() {
        return Err(not_found_path());
    }
    let sub = match sub {
        None => Sub::Main,
        Some("status") if info.status_subresource => Sub::Status,
        Some("finalize") if plural == "namespaces" => Sub::Main,
        Some("binding") if group.is_empty() && plural == "pods" => {
            let target = Target {
                info,
                version: version.to_string(),
                namespace: namespace.to_string(),
                sub: Sub::Main,
            };
            if method != Method::POST {
                return Err(ApiError::MethodNotAllowed(format!(
                    "the server does not allow this method on the requested resource: {method}"
                )));
            }
            return handlers::bind(shared, &target, name.unwrap_or(""), &body);
        }
        Some(_) => return Err(not_found_path()),
    };
    let target = Target {
        info,
        version: version.to_string(),
        namespace: namespace.to_string(),
        sub,
    };
    let req = Request {
        target,
        name: name.map(str::to_string),
        uri: uri.clone(),
        headers: headers.clone(),
        body,
    };
    handlers::handle(shared, method.clone(), req)
}
