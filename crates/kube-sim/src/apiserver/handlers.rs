//! Verb handlers: get, list, watch, create, update, patch, delete, deletecollection and
//! binding, each taking the core lock once for a short synchronous step.

use std::sync::Arc;

use axum::{
    body::{Body, Bytes},
    extract::Query,
    http::{HeaderMap, Method, StatusCode, Uri, header},
    response::{IntoResponse, Response},
};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{
    core::{Target, WriteOpts},
    delete::{DeleteOptions, Deleted},
    error::ApiError,
    list::{self, ListQuery},
    patch::PatchKind,
    routes::{bytes_response, json_response},
    state::Shared,
    table,
    validation::{FieldCheck, FieldValidation, duplicate_fields},
    watch,
    write::Ownership,
};

/// A parsed resource request.
pub struct Request {
    /// Resource, version, namespace, subresource.
    pub target: Target,
    /// Object name, if the path names one.
    pub name: Option<String>,
    /// Request URI (query parameters).
    pub uri: Uri,
    /// Request headers (content type, user agent).
    pub headers: HeaderMap,
    /// Request body.
    pub body: Bytes,
}

/// Query parameters of writes.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct WriteQuery {
    dry_run: Option<String>,
    field_manager: Option<String>,
    force: Option<bool>,
    field_validation: Option<String>,
    grace_period_seconds: Option<i64>,
    propagation_policy: Option<String>,
}

fn query<T: for<'de> Deserialize<'de> + Default>(uri: &Uri) -> Result<T, ApiError> {
    if uri.query().is_none_or(str::is_empty) {
        return Ok(T::default());
    }
    Query::<T>::try_from_uri(uri)
        .map(|q| q.0)
        .map_err(|e| ApiError::BadRequest(format!("invalid query: {e}")))
}

fn write_opts(req: &Request, q: &WriteQuery) -> Result<WriteOpts, ApiError> {
    let dry_run = match q.dry_run.as_deref() {
        None | Some("") => false,
        Some("All") => true,
        Some(other) => {
            return Err(ApiError::BadRequest(format!(
                "dryRun: Unsupported value: \"{other}\": supported values: \"All\""
            )));
        }
    };
    // Without fieldManager, the real server names the manager after the user agent.
    let manager = match &q.field_manager {
        Some(m) => m.clone(),
        None => req
            .headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(|ua| ua.split('/').next().unwrap_or(ua).to_string())
            .unwrap_or_else(|| "unknown".into()),
    };
    let fields = FieldCheck {
        directive: FieldValidation::parse(q.field_validation.as_deref())?,
        duplicates: duplicate_fields(&req.body),
        apply: false,
    };
    Ok(WriteOpts {
        dry_run,
        manager,
        fields,
    })
}

fn wants_table(req: &Request) -> bool {
    req.headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(table::wants_table)
}

fn parse_json(body: &[u8]) -> Result<Value, ApiError> {
    serde_json::from_slice(body)
        .map_err(|e| ApiError::BadRequest(format!("invalid JSON body: {e}")))
}

/// Adds a `Warning: 299 - "..."` header per warning of the write (`fieldValidation=Warn`).
fn warned(mut resp: Response, warnings: &mut Vec<String>) -> Response {
    for w in warnings.drain(..) {
        let text = format!("299 - {}", serde_json::Value::String(w));
        if let Ok(value) = axum::http::HeaderValue::from_str(&text) {
            resp.headers_mut().append("warning", value);
        }
    }
    resp
}

fn object(code: StatusCode, obj: &Value) -> Response {
    json_response(code, obj)
}

/// The answer to a write that stored `obj`: its JSON is the one its watch event sends.
fn stored(core: &super::core::Core, code: StatusCode, obj: &Arc<Value>) -> Response {
    match core.store.encoded(obj) {
        Some(body) => (code, [(header::CONTENT_TYPE, "application/json")], body).into_response(),
        None => json_response(code, obj),
    }
}

/// Handles a request on a resource path.
pub fn handle(shared: &Arc<Shared>, method: Method, req: Request) -> Result<Response, ApiError> {
    let t = &req.target;
    let info = t.info.clone();
    let is_write = !matches!(method, Method::GET | Method::HEAD);
    if is_write && info.namespaced && t.namespace.is_empty() && t.info.plural != "namespaces" {
        return Err(ApiError::NotFound {
            message: "the server could not find the requested resource".into(),
            kind: String::new(),
            name: String::new(),
        });
    }
    if is_write {
        shared
            .faults
            .on_write(&info.plural, &info.group, req.name.as_deref().unwrap_or(""))?;
    }
    let resp = match (&method, &req.name) {
        (&Method::GET, Some(name)) => {
            let core = shared.lock();
            let obj = core
                .store
                .get(&info.key(), &t.namespace, name)
                .cloned()
                .ok_or_else(|| ApiError::not_found(&info.plural, &info.group, name))?;
            let rv = core.store.rv();
            drop(core);
            if wants_table(&req) {
                let page = list::Page {
                    items: vec![obj],
                    rv,
                    next: None,
                };
                return Ok(json_response(
                    StatusCode::OK,
                    &table::table(&info, &t.version, &page),
                ));
            }
            let mut out = Vec::new();
            list::write_object(&mut out, &obj, &t.api_version());
            bytes_response(StatusCode::OK, out)
        }
        (&Method::GET, None) => {
            let q: ListQuery = query(&req.uri)?;
            if q.is_watch() {
                let body: Body = watch::watch(shared, t.clone(), &q, wants_table(&req))?;
                ([(header::CONTENT_TYPE, "application/json")], body).into_response()
            } else {
                let page = list::page(&shared.lock(), t, &q)?;
                if wants_table(&req) {
                    json_response(StatusCode::OK, &table::table(&info, &t.version, &page))
                } else {
                    bytes_response(StatusCode::OK, list::body(t, &page))
                }
            }
        }
        (&Method::POST, None) => {
            let q: WriteQuery = query(&req.uri)?;
            let o = write_opts(&req, &q)?;
            let obj = parse_json(&req.body)?;
            let mut core = shared.lock();
            core.warnings.clear();
            let created = core.create(t, obj, Ownership::Update, &o)?;
            let resp = stored(&core, StatusCode::CREATED, &created);
            warned(resp, &mut core.warnings)
        }
        (&Method::PUT, Some(name)) => {
            let q: WriteQuery = query(&req.uri)?;
            let o = write_opts(&req, &q)?;
            let obj = parse_json(&req.body)?;
            let body_name = super::meta::name(&obj);
            if !body_name.is_empty() && body_name != name {
                return Err(ApiError::BadRequest(format!(
                    "the name of the object ({body_name}) does not match the name on the URL \
                     ({name})"
                )));
            }
            let mut core = shared.lock();
            core.warnings.clear();
            let old = core
                .store
                .get(&info.key(), &t.namespace, name)
                .cloned()
                .ok_or_else(|| ApiError::not_found(&info.plural, &info.group, name))?;
            let updated = core.commit(t, &old, obj, Ownership::Update, &o)?;
            notify_gc(shared, &mut core);
            let resp = stored(&core, StatusCode::OK, &updated);
            warned(resp, &mut core.warnings)
        }
        (&Method::PATCH, Some(name)) => {
            let q: WriteQuery = query(&req.uri)?;
            let o = write_opts(&req, &q)?;
            let ct = req
                .headers
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            let kind =
                PatchKind::from_content_type(ct, q.force.unwrap_or(false)).ok_or_else(|| {
                    ApiError::UnsupportedMediaType(format!(
                        "the body of the request was in an unknown format - accepted media \
                         types include: application/json-patch+json, \
                         application/merge-patch+json, application/apply-patch+yaml, \
                         application/strategic-merge-patch+json (got \"{ct}\")"
                    ))
                })?;
            let mut o = o;
            if matches!(kind, PatchKind::Apply { .. }) && q.field_manager.is_none() {
                o.manager.clear();
            }
            o.fields.apply = matches!(kind, PatchKind::Apply { .. });
            if kind == PatchKind::Json {
                // The body is a list of operations, not an object.
                o.fields.duplicates.clear();
            }
            let mut core = shared.lock();
            core.warnings.clear();
            let (obj, created) = core.patch(t, name, kind, &req.body, &o)?;
            notify_gc(shared, &mut core);
            let code = if created {
                StatusCode::CREATED
            } else {
                StatusCode::OK
            };
            let resp = stored(&core, code, &obj);
            warned(resp, &mut core.warnings)
        }
        (&Method::DELETE, Some(name)) => {
            let (opts, dry_run) = delete_options(&req)?;
            let mut core = shared.lock();
            let result = core.delete(t, name, &opts, dry_run)?;
            notify_gc(shared, &mut core);
            match result {
                Deleted::Pending(obj) => stored(&core, StatusCode::OK, &obj),
                Deleted::Gone(obj) if info.plural == "pods" => stored(&core, StatusCode::OK, &obj),
                Deleted::Gone(obj) => object(StatusCode::OK, &success(t, &obj)),
            }
        }
        (&Method::DELETE, None) => {
            let (opts, dry_run) = delete_options(&req)?;
            let q: ListQuery = query(&req.uri)?;
            let mut core = shared.lock();
            let page = list::page(&core, t, &q)?;
            for obj in &page.items {
                core.delete(t, super::meta::name(obj), &opts, dry_run)?;
            }
            notify_gc(shared, &mut core);
            object(
                StatusCode::OK,
                &json!({ "kind": "Status", "apiVersion": "v1", "metadata": {},
                         "status": "Success" }),
            )
        }
        _ => {
            return Err(ApiError::MethodNotAllowed(format!(
                "the server does not allow this method on the requested resource: {method}"
            )));
        }
    };
    Ok(resp)
}

/// `POST pods/<name>/binding`.
pub fn bind(
    shared: &Arc<Shared>,
    t: &Target,
    name: &str,
    body: &[u8],
) -> Result<Response, ApiError> {
    shared.faults.on_write("pods", "", name)?;
    let status = shared.lock().bind(t, name, body)?;
    Ok(json_response(StatusCode::CREATED, &status))
}

fn notify_gc(shared: &Shared, core: &mut super::core::Core) {
    if !core.deleted.is_empty() {
        shared.gc.notify_one();
    }
}

/// DeleteOptions from the body, overridden by query parameters.
fn delete_options(req: &Request) -> Result<(DeleteOptions, bool), ApiError> {
    let mut opts: DeleteOptions = if req.body.iter().all(u8::is_ascii_whitespace) {
        DeleteOptions::default()
    } else {
        serde_json::from_slice(&req.body)
            .map_err(|e| ApiError::BadRequest(format!("invalid DeleteOptions: {e}")))?
    };
    let q: WriteQuery = query(&req.uri)?;
    if q.grace_period_seconds.is_some() {
        opts.grace_period_seconds = q.grace_period_seconds;
    }
    if q.propagation_policy.is_some() {
        opts.propagation_policy = q.propagation_policy.clone();
    }
    let dry_run = opts.dry_run.iter().any(|d| d == "All") || q.dry_run.as_deref() == Some("All");
    Ok((opts, dry_run))
}

/// The `Status` the real server returns when a delete removed the object at once.
fn success(t: &Target, obj: &Value) -> Value {
    json!({
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Success",
        "details": {
            "name": super::meta::name(obj),
            "group": t.info.group,
            "kind": t.info.plural,
            "uid": super::meta::uid(obj),
        },
    })
}
