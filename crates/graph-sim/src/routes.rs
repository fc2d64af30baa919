//! The HTTP side: one fallback handler that parses Graph paths itself
//! (`/{version}/{node}[/{edge}]`, version optional), authenticates, dispatches to the node's
//! handler and renders either the JSON result or Meta's error envelope.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::Response;
use serde_json::{Value, json};

use super::RecordedRequest;
use super::bsp;
use super::credit;
use super::errors::{self, GraphError};
use super::faults::{self, Conn, Faults, RequestCtx};
use super::fields::{self, FieldSel, Links, Schema};
use super::paging::{self, PageParams};
use super::wabas::{self, Waba};
use super::world::{self, Action, Solution, Token, World};

/// Most operations Meta takes in one batch request (reference §1.7).
pub const MAX_BATCH: usize = 50;

/// The version Meta serves unversioned calls with (reported in `facebook-api-version`).
const DEFAULT_VERSION: &str = "v25.0";
const BODY_LIMIT: usize = 1 << 20;
/// The request log keeps at most this many entries (the oldest tenth is dropped when full),
/// so a long `--demo` session cannot grow it without bound.
pub(crate) const MAX_RECORDED: usize = 100_000;

/// Server-side state shared by all requests.
pub(crate) struct Shared {
    pub world: Mutex<World>,
    pub log: Mutex<Vec<RecordedRequest>>,
    pub latency: Duration,
    pub addr: SocketAddr,
    pub faults: Faults,
    /// Where webhook deliveries go, when configured.
    pub webhooks: Mutex<Option<super::webhooks::Pusher>>,
    /// Whether successful GETs carry an `ETag` (and honour `If-None-Match`).
    pub etags: std::sync::atomic::AtomicBool,
}

impl Shared {
    pub fn world(&self) -> MutexGuard<'_, World> {
        self.world.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn log(&self) -> MutexGuard<'_, Vec<RecordedRequest>> {
        self.log.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn webhooks(&self) -> MutexGuard<'_, Option<super::webhooks::Pusher>> {
        self.webhooks.lock().unwrap_or_else(|p| p.into_inner())
    }
}

pub(crate) fn router(shared: Arc<Shared>) -> Router {
    Router::new().fallback(handle).with_state(shared)
}

/// One parsed Graph call.
pub(super) struct Call {
    pub(super) method: Method,
    /// `v23.0`, when the path has one.
    version: Option<String>,
    /// Path segments after the version, percent-decoded.
    segments: Vec<String>,
    /// Query parameters only (used to build paging links).
    query: Vec<(String, String)>,
    /// Query parameters followed by body parameters.
    params: Vec<(String, String)>,
    token: Option<String>,
    /// `http://host:port` as the client addressed us.
    origin: String,
}

impl Call {
    pub(super) fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// `http://host:port[/vNN.0]`.
    fn node_base(&self) -> String {
        match &self.version {
            Some(v) => format!("{}/{v}", self.origin),
            None => self.origin.clone(),
        }
    }

    fn links(&self) -> Links {
        Links {
            node_base: self.node_base(),
        }
    }

    /// This call's URL with the same query minus the token and cursors, plus `key=cursor`.
    fn page_url(&self, key: &str, cursor: &str) -> String {
        let mut q = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in &self.query {
            if k != "access_token" && k != "after" && k != "before" {
                q.append_pair(k, v);
            }
        }
        q.append_pair(key, cursor);
        format!(
            "{}/{}?{}",
            self.node_base(),
            self.segments.join("/"),
            q.finish()
        )
    }

    fn selection(&self) -> Result<Option<Vec<FieldSel>>, GraphError> {
        match self.param("fields") {
            None => Ok(None),
            Some(raw) => fields::parse_fields(raw)
                .map(Some)
                .map_err(|e| GraphError::invalid_param(e.to_string())),
        }
    }

    pub(super) fn project(
        &self,
        value: &Value,
        schema: &'static Schema,
    ) -> Result<Value, GraphError> {
        let sel = self.selection()?;
        fields::project(value, schema, sel.as_deref(), &self.links())
            .map_err(|e| GraphError::invalid_param(e.to_string()))
    }
}

async fn handle(State(shared): State<Arc<Shared>>, req: Request) -> Response {
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let raw_query = req.uri().query().unwrap_or("").to_string();
    let conn = req
        .extensions()
        .get::<axum::extract::ConnectInfo<Conn>>()
        .map(|c| c.0.clone());
    if path == "/__sim/faults" || path.starts_with("/__sim/faults/") {
        return faults::control(&shared.faults, conn.as_ref(), req).await;
    }
    if path == "/__sim/onboard_waba" || path == "/__sim/restrict_waba" {
        return super::webhooks::control(&shared, &method, &path, &raw_query);
    }
    if path == "/__sim" || path.starts_with("/__sim/") {
        return control(&shared, &method, &path);
    }
    let fired = shared.faults.pick(method.as_str(), &path, &raw_query);
    if !shared.latency.is_zero() {
        tokio::time::sleep(shared.latency).await;
    }
    if let Some(f) = &fired {
        f.delay().await;
    }
    let headers = req.headers().clone();
    let body = axum::body::to_bytes(req.into_body(), BODY_LIMIT)
        .await
        .unwrap_or_default();
    let call = parse_call(method, &path, &raw_query, &headers, &body, shared.addr);
    let is_bsp = bsp::is_bsp_path(&path);
    let raw_body = String::from_utf8_lossy(&body).into_owned();
    let version = call
        .version
        .clone()
        .unwrap_or_else(|| DEFAULT_VERSION.into());
    let trace = errors::new_trace_id();
    let ctx = fault_ctx(&call, &raw_body);
    let (status, body) = match fired.as_ref().and_then(|f| f.refusal(&ctx)) {
        // A refusal by a fault: the world is not touched.
        Some((status, mut body)) => {
            if let Some(e) = body.get_mut("error").and_then(Value::as_object_mut) {
                // A fault may set its own (hostile) trace id.
                e.entry("fbtrace_id").or_insert_with(|| json!(trace));
            }
            (status, body)
        }
        // Plivo's and Telnyx's registration APIs, same port (see `bsp`).
        None if is_bsp => {
            let mut world = shared.world();
            bsp::handle(&mut world, &call.method, &path, &headers, &body)
        }
        None => {
            let result = {
                let mut world = shared.world();
                let r = dispatch(&mut world, &call);
                super::webhooks::flush(&shared, &mut world);
                r
            };
            match result {
                Ok(v) => (200, v),
                Err(e) => (e.status, e.envelope(&trace)),
            }
        }
    };
    let body = match &fired {
        Some(f) => f.transform(&shared.faults, status, body, &ctx),
        None => body,
    };
    let cut = matches!(
        fired.as_ref().map(|f| &f.action),
        Some(faults::FaultAction::Reset | faults::FaultAction::CommitThenDrop)
    );
    let text = body.to_string();
    // A successful GET carries an `ETag` (a hash of its body), and one asked for again with
    // that tag in `If-None-Match` is answered `304 Not Modified` without a body. (Graph's
    // answers carry ETags; that it honours them on list edges is inferred, not documented.)
    let etag = (fired.is_none()
        && status == 200
        && call.method == Method::GET
        && !is_bsp
        && shared.etags.load(std::sync::atomic::Ordering::Relaxed))
    .then(|| etag_of(&text));
    let not_modified = status == 304
        || etag
            .as_deref()
            .is_some_and(|tag| if_none_match(&headers, tag));
    tracing::debug!(
        method = %call.method,
        path = %path,
        status,
        fbtrace_id = %trace,
        "graph simulator request"
    );
    {
        let mut log = shared.log();
        if log.len() >= MAX_RECORDED {
            log.drain(..MAX_RECORDED / 10);
        }
        log.push(RecordedRequest {
            method: call.method.to_string(),
            // A Plivo path holds the Auth ID: recorded redacted, like an access_token.
            path: if is_bsp {
                bsp::redact_path(&path)
            } else {
                path
            },
            query: redact_query(&raw_query),
            // 0: no answer reached the client.
            status: if cut {
                0
            } else if not_modified {
                304
            } else {
                status
            },
            fault: fired.as_ref().map(|f| f.id),
        });
    }
    let version = (!is_bsp).then_some(version);
    let mut resp = if not_modified {
        empty_response(StatusCode::NOT_MODIFIED, &trace, version.as_deref())
    } else {
        json_response(status.max(200), text, &trace, version.as_deref())
    };
    if let Some(Ok(v)) = etag.as_deref().map(HeaderValue::from_str) {
        resp.headers_mut().insert(header::ETAG, v);
    }
    let business = shared.world().our_business_id().to_string();
    faults::add_usage_headers(&shared.faults, &mut resp, fired.as_ref(), &business);
    if status == 401 && !is_bsp {
        // Meta names the OAuth failure in this header too.
        let msg = body["error"]["message"].as_str().unwrap_or("invalid_token");
        if let Ok(v) = HeaderValue::from_str(&format!(
            "OAuth \"Facebook Platform\" \"invalid_token\" \"{msg}\""
        )) {
            resp.headers_mut().insert(header::WWW_AUTHENTICATE, v);
        }
    }
    match &fired {
        Some(f) => f.deliver(resp, conn.as_ref(), call.token.as_deref()).await,
        None => resp,
    }
}

/// What the fault layer needs to know about a call.
fn fault_ctx<'a>(call: &'a Call, raw_body: &'a str) -> RequestCtx<'a> {
    let after = call
        .query
        .iter()
        .find(|(k, v)| k == "after" && !v.is_empty())
        .map(|(_, v)| v.as_str());
    let mut key = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in &call.query {
        if !matches!(k.as_str(), "access_token" | "after" | "before") {
            key.append_pair(k, v);
        }
    }
    RequestCtx {
        token: call.token.as_deref(),
        body: raw_body,
        after,
        same_page_url: after.map(|a| call.page_url("after", a)),
        list_key: format!("{}?{}", call.segments.join("/"), key.finish()),
    }
}

/// A strong entity tag of an answer's text: 128 bits of XXH3 of it.
fn etag_of(text: &str) -> String {
    format!("\"{:032x}\"", xxhash_rust::xxh3::xxh3_128(text.as_bytes()))
}

/// Whether the request's `If-None-Match` names `etag` (or is `*`).
fn if_none_match(headers: &HeaderMap, etag: &str) -> bool {
    headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|t| t.trim().trim_start_matches("W/"))
        .any(|t| t == etag || t == "*")
}

/// An answer without a body (`304 Not Modified`), with the usual headers.
fn empty_response(status: StatusCode, trace: &str, version: Option<&str>) -> Response {
    let mut resp = Response::new(Body::empty());
    *resp.status_mut() = status;
    let h = resp.headers_mut();
    if let Ok(v) = HeaderValue::from_str(trace) {
        h.insert("x-fb-trace-id", v);
    }
    if let Some(Ok(v)) = version.map(HeaderValue::from_str) {
        h.insert("facebook-api-version", v);
    }
    resp
}

fn json_response(status: u16, text: String, trace: &str, version: Option<&str>) -> Response {
    let mut resp = Response::new(Body::from(text));
    *resp.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=UTF-8"),
    );
    if let Ok(v) = HeaderValue::from_str(trace) {
        h.insert("x-fb-trace-id", v);
    }
    if let Some(Ok(v)) = version.map(HeaderValue::from_str) {
        h.insert("facebook-api-version", v);
    }
    resp
}

/// `/__sim/...` introspection endpoints (loopback only, like the whole server; no token,
/// no latency, not recorded).
fn control(shared: &Shared, method: &Method, path: &str) -> Response {
    let trace = errors::new_trace_id();
    match (method, path) {
        (&Method::GET, "/__sim/requests") => {
            let log = shared.log().clone();
            json_response(200, json!(log).to_string(), &trace, None)
        }
        _ => {
            let e = GraphError::new(
                404,
                errors::METHOD,
                100,
                format!("Unknown simulator control endpoint {method} {path}"),
            );
            json_response(404, e.envelope(&trace).to_string(), &trace, None)
        }
    }
}

/// Replace the value of any `access_token` query parameter so recordings never hold it.
fn redact_query(raw: &str) -> String {
    let pairs: Vec<(String, String)> = url::form_urlencoded::parse(raw.as_bytes())
        .into_owned()
        .collect();
    if !pairs.iter().any(|(k, _)| k == "access_token") {
        return raw.to_string();
    }
    let mut q = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in &pairs {
        q.append_pair(k, if k == "access_token" { "[redacted]" } else { v });
    }
    q.finish()
}

pub(crate) fn is_version(seg: &str) -> bool {
    let Some(rest) = seg.strip_prefix('v') else {
        return false;
    };
    let mut parts = rest.split('.');
    let ok =
        |p: Option<&str>| p.is_some_and(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
    ok(parts.next()) && ok(parts.next()) && parts.next().is_none()
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2]))
        {
            out.push(h * 16 + l);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

fn parse_call(
    method: Method,
    path: &str,
    raw_query: &str,
    headers: &HeaderMap,
    body: &[u8],
    addr: SocketAddr,
) -> Call {
    let mut segments: Vec<String> = path
        .split('/')
        .filter(|s| !s.is_empty())
        .map(percent_decode)
        .collect();
    let version = match segments.first() {
        Some(first) if is_version(first) => Some(segments.remove(0)),
        _ => None,
    };
    let query: Vec<(String, String)> = url::form_urlencoded::parse(raw_query.as_bytes())
        .into_owned()
        .collect();
    let mut params = query.clone();
    params.extend(body_params(headers, body));

    let header_token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            let (scheme, rest) = v.trim().split_once(' ')?;
            (scheme.eq_ignore_ascii_case("bearer") || scheme.eq_ignore_ascii_case("oauth"))
                .then(|| rest.trim().to_string())
        })
        .filter(|t| !t.is_empty());
    let token = header_token.or_else(|| {
        params
            .iter()
            .find(|(k, v)| k == "access_token" && !v.is_empty())
            .map(|(_, v)| v.clone())
    });
    let origin = match headers.get(header::HOST).and_then(|h| h.to_str().ok()) {
        Some(host) if !host.is_empty() => format!("http://{host}"),
        _ => format!("http://{addr}"),
    };
    Call {
        method,
        version,
        segments,
        query,
        params,
        token,
        origin,
    }
}

/// Parameters from a form or JSON body. Anything else (or a malformed body) is ignored.
fn body_params(headers: &HeaderMap, body: &[u8]) -> Vec<(String, String)> {
    if body.is_empty() {
        return Vec::new();
    }
    let ctype = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    let looks_json = ctype.contains("json") || body.first() == Some(&b'{');
    if looks_json {
        if let Ok(Value::Object(map)) = serde_json::from_slice::<Value>(body) {
            return map
                .into_iter()
                .map(|(k, v)| {
                    let v = match v {
                        Value::String(s) => s,
                        other => other.to_string(),
                    };
                    (k, v)
                })
                .collect();
        }
        return Vec::new();
    }
    url::form_urlencoded::parse(body).into_owned().collect()
}

/// A node the path named.
enum Node {
    Solution(String),
    Partner { solution: String, partner: String },
    App(String),
    Business(String),
    Waba(String),
    Phone(String),
    CreditLine(String),
    Allocation(String),
    User(Value),
}

fn resolve(world: &World, id: &str, actor: &Token) -> Option<Node> {
    if id == "me" {
        return Some(Node::User(user_json(actor)));
    }
    if world.solution(id).is_some() {
        return Some(Node::Solution(id.into()));
    }
    if let Some((s, _)) = world.partner_record(id) {
        return Some(Node::Partner {
            solution: s.id.clone(),
            partner: id.into(),
        });
    }
    if world.app(id).is_some() {
        return Some(Node::App(id.into()));
    }
    if world.business(id).is_some() {
        return Some(Node::Business(id.into()));
    }
    if world.waba(id).is_some() {
        return Some(Node::Waba(id.into()));
    }
    if wabas::find_phone(world, id).is_some() {
        return Some(Node::Phone(id.into()));
    }
    if world.credit_line(id).is_some() {
        return Some(Node::CreditLine(id.into()));
    }
    if world.allocation(id).is_some() {
        return Some(Node::Allocation(id.into()));
    }
    world
        .tokens
        .iter()
        .find(|t| !t.user_id.is_empty() && t.user_id == id)
        .map(|t| Node::User(user_json(t)))
}

fn user_json(t: &Token) -> Value {
    json!({ "id": t.user_id, "name": t.user_name })
}

fn dispatch(world: &mut World, call: &Call) -> Result<Value, GraphError> {
    let token = call
        .token
        .as_deref()
        .ok_or_else(GraphError::missing_token)?;
    let actor = world
        .tokens
        .iter()
        .find(|t| t.token == token)
        .cloned()
        .ok_or_else(GraphError::invalid_token)?;
    let method = call.method.as_str();
    let (id, edge) = match call.segments.as_slice() {
        [] if call.method == Method::POST && call.param("batch").is_some() => {
            return batch(world, call);
        }
        [] => return Err(GraphError::unsupported_method_on_edge(method)),
        [id] => (id.as_str(), None),
        [id, edge] => (id.as_str(), Some(edge.as_str())),
        [id, rest @ ..] => {
            return Err(match resolve(world, id, &actor) {
                Some(_) => GraphError::unknown_path(&rest.join("/")),
                None => GraphError::unsupported_request(method, id),
            });
        }
    };
    let action = edge.and_then(Action::from_edge);
    let Some(node) = resolve(world, id, &actor) else {
        if call.method == Method::POST && action.is_some() {
            return Err(GraphError::solution_not_found());
        }
        return Err(GraphError::unsupported_request(method, id));
    };
    let is_get = call.method == Method::GET;
    match node {
        Node::Solution(sid) => match (edge, action) {
            (None, _) if is_get => {
                let s = member_solution(world, &sid, &actor)?;
                call.project(&world.solution_json(s), &fields::SOLUTION)
            }
            (Some(_), Some(action)) if call.method == Method::POST => {
                world::apply(world, &sid, &actor.app_id, action)?;
                super::webhooks::solution_changed(world, &sid);
                Ok(json!({ "success": true }))
            }
            (Some(_), Some(_)) => Err(GraphError::unsupported_method_on_edge(method)),
            (Some("partners"), _) if is_get => {
                let s = member_solution(world, &sid, &actor)?;
                let items: Vec<Value> = s.partners.iter().map(|p| world.partner_json(p)).collect();
                list(call, &items, &fields::SOLUTION_PARTNER)
            }
            (Some("partners"), _) => Err(GraphError::unsupported_method_on_edge(method)),
            (Some(other), _) => Err(GraphError::unknown_path(other)),
            (None, _) => Err(GraphError::unsupported_request(method, id)),
        },
        Node::Partner { solution, partner } => match edge {
            None if is_get => {
                member_solution(world, &solution, &actor)?;
                let (_, p) = world
                    .partner_record(&partner)
                    .expect("resolved partner exists");
                call.project(&world.partner_json(p), &fields::SOLUTION_PARTNER)
            }
            None => Err(GraphError::unsupported_request(method, id)),
            Some(other) => Err(GraphError::unknown_path(other)),
        },
        Node::App(app_id) => match edge {
            None if is_get => call.project(&world.app_json(&app_id), &fields::APPLICATION),
            Some("whatsapp_business_solutions") if is_get => {
                list_solutions(world, call, &actor, &app_id)
            }
            Some("whatsapp_business_solutions") => {
                Err(GraphError::unsupported_method_on_edge(method))
            }
            None => Err(GraphError::unsupported_request(method, id)),
            Some(other) => Err(GraphError::unknown_path(other)),
        },
        Node::Business(bid) => match edge {
            None if is_get => call.project(&world.business_json(&bid), &fields::BUSINESS),
            Some("client_whatsapp_business_accounts") if is_get => {
                list_client_wabas(world, call, &actor, &bid)
            }
            Some("extendedcredits") if is_get => {
                credit::list_credit_lines(world, call, &actor, &bid)
            }
            Some("client_whatsapp_business_accounts" | "extendedcredits") => {
                Err(GraphError::unsupported_method_on_edge(method))
            }
            None => Err(GraphError::unsupported_request(method, id)),
            Some(other) => Err(GraphError::unknown_path(other)),
        },
        Node::Waba(wid) => waba_call(world, call, &actor, &wid, edge),
        Node::Phone(pid) => phone_call(world, call, &actor, &pid, edge),
        Node::CreditLine(cid) => credit::credit_line_call(world, call, &actor, &cid, edge),
        Node::Allocation(aid) => credit::allocation_call(world, call, &actor, &aid, edge),
        Node::User(v) => match edge {
            None if is_get => call.project(&v, &fields::USER),
            None => Err(GraphError::unsupported_request(method, id)),
            Some(other) => Err(GraphError::unknown_path(other)),
        },
    }
}

/// The solution, if the actor's app may read it (else 403 / 200 / 1349174).
fn member_solution<'w>(
    world: &'w World,
    id: &str,
    actor: &Token,
) -> Result<&'w Solution, GraphError> {
    let s = world
        .solution(id)
        .ok_or_else(|| GraphError::unsupported_request("get", id))?;
    s.side_of(&actor.app_id)
        .map(|_| s)
        .ok_or_else(|| GraphError::not_authorized_solution(""))
}

/// `GET /{app-id}/whatsapp_business_solutions?role=OWNER|PARTNER`.
fn list_solutions(
    world: &World,
    call: &Call,
    actor: &Token,
    app_id: &str,
) -> Result<Value, GraphError> {
    if app_id != actor.app_id {
        return Err(GraphError::permission(format!(
            "(#200) The access token does not have permission to list the Multi-Partner Solutions of application {app_id}"
        )));
    }
    let role = match call.param("role").filter(|r| !r.is_empty()) {
        None => None,
        Some("OWNER") => Some(world::Side::Owner),
        Some("PARTNER") => Some(world::Side::Partner),
        Some(other) => {
            return Err(GraphError::invalid_param(format!(
                "(#100) Param role must be one of {{OWNER, PARTNER}} - got \"{other}\""
            )));
        }
    };
    let items: Vec<Value> = world
        .solutions
        .iter()
        .filter(|s| match (s.side_of(app_id), role) {
            (None, _) => false,
            (Some(_), None) => true,
            (Some(side), Some(want)) => side == want,
        })
        .map(|s| world.solution_json(s))
        .collect();
    list(call, &items, &fields::SOLUTION)
}

/// The WABA, if the actor's business may see it (else 400 / 100 / 33, as for a missing node).
fn visible_waba<'w>(
    world: &'w World,
    id: &str,
    actor: &Token,
    method: &str,
) -> Result<&'w Waba, GraphError> {
    world
        .waba(id)
        .filter(|w| w.is_visible_to(world.business_of_app(&actor.app_id)))
        .ok_or_else(|| GraphError::unsupported_request(method, id))
}

/// `/{waba-id}` and its edges: the node, `phone_numbers`, `subscribed_apps` (GET, POST) and
/// `solutions`.
fn waba_call(
    world: &mut World,
    call: &Call,
    actor: &Token,
    wid: &str,
    edge: Option<&str>,
) -> Result<Value, GraphError> {
    let method = call.method.as_str();
    let is_get = call.method == Method::GET;
    let w = visible_waba(world, wid, actor, method)?;
    match edge {
        None if is_get => call.project(&w.to_json(world, &actor.app_id), &fields::WABA),
        Some("phone_numbers") if is_get => {
            let items: Vec<Value> = w.phone_numbers.iter().map(wabas::Phone::to_json).collect();
            list(call, &items, &fields::PHONE_NUMBER)
        }
        Some("subscribed_apps") if is_get => {
            // Meta answers this edge in one piece, without paging.
            let sel = call.selection()?;
            let data = w
                .subscribed_app_ids
                .iter()
                .map(|app| {
                    let v = json!({ "whatsapp_business_api_data": world.app_json(app) });
                    fields::project(&v, &fields::SUBSCRIBED_APP, sel.as_deref(), &call.links())
                })
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| GraphError::invalid_param(e.to_string()))?;
            Ok(json!({ "data": data }))
        }
        Some("subscribed_apps") if call.method == Method::POST => {
            let app = actor.app_id.clone();
            if let Some(w) = world.waba_mut(wid) {
                wabas::subscribe_app(w, &app);
            }
            Ok(json!({ "success": true }))
        }
        Some("solutions") if is_get => {
            let items: Vec<Value> = w
                .solution_ids
                .iter()
                .filter_map(|s| world.solution(s))
                .map(|s| world.solution_json(s))
                .collect();
            list(call, &items, &fields::SOLUTION)
        }
        Some("phone_numbers" | "subscribed_apps" | "solutions") => {
            Err(GraphError::unsupported_method_on_edge(method))
        }
        None => Err(GraphError::unsupported_request(method, wid)),
        Some(other) => Err(GraphError::unknown_path(other)),
    }
}

/// `/{phone-number-id}` and `POST /{phone-number-id}/register`.
fn phone_call(
    world: &mut World,
    call: &Call,
    actor: &Token,
    pid: &str,
    edge: Option<&str>,
) -> Result<Value, GraphError> {
    let method = call.method.as_str();
    let (wi, pi) = wabas::find_phone(world, pid)
        .ok_or_else(|| GraphError::unsupported_request(method, pid))?;
    let wid = world.wabas[wi].id.clone();
    visible_waba(world, &wid, actor, method)
        .map_err(|_| GraphError::unsupported_request(method, pid))?;
    match edge {
        None if call.method == Method::GET => call.project(
            &world.wabas[wi].phone_numbers[pi].to_json(),
            &fields::PHONE_NUMBER,
        ),
        Some("register") if call.method == Method::POST => {
            wabas::register(
                world,
                pid,
                call.param("messaging_product"),
                call.param("pin"),
            )?;
            Ok(json!({ "success": true }))
        }
        Some("register") => Err(GraphError::unsupported_method_on_edge(method)),
        None => Err(GraphError::unsupported_request(method, pid)),
        Some(other) => Err(GraphError::unknown_path(other)),
    }
}

/// `GET /{business-id}/client_whatsapp_business_accounts`: the WABAs shared with the business,
/// optionally narrowed by `filtering=[{"field":"partners","operator":"ALL"|"ANY","value":[ids]}]`.
fn list_client_wabas(
    world: &World,
    call: &Call,
    actor: &Token,
    business_id: &str,
) -> Result<Value, GraphError> {
    if world.business_of_app(&actor.app_id) != Some(business_id) {
        return Err(GraphError::permission(format!(
            "(#200) The access token does not have permission to list the client WhatsApp Business Accounts of business {business_id}"
        )));
    }
    let partners = match call.param("filtering") {
        None => None,
        Some(raw) => Some(parse_partner_filter(raw)?),
    };
    // The list is the WABAs shared with the business, narrowed by the filter. With `ALL`
    // every match is on each named partner's list too, so the shortest of those lists is
    // walked; only the page's WABAs are rendered.
    let mut candidates = world.wabas_shared_with(business_id);
    if let Some((true, ids)) = &partners {
        for partner in ids {
            let theirs = world.wabas_shared_with(partner);
            if theirs.len() < candidates.len() {
                candidates = theirs;
            }
        }
    }
    let matches = |i: usize| {
        let w = &world.wabas[i];
        w.shared_with.iter().any(|b| b == business_id)
            && match &partners {
                None => true,
                Some((all, ids)) => {
                    let has = |id: &String| w.shared_with.contains(id);
                    if *all {
                        ids.iter().all(has)
                    } else {
                        ids.iter().any(has)
                    }
                }
            }
    };
    list_positions(
        call,
        &candidates,
        matches,
        |i| &world.wabas[i].id,
        |id| world.waba_position(id),
        |i| world.wabas[i].to_json(world, &actor.app_id),
        &fields::WABA,
    )
}

/// Parse the `filtering` parameter: `(operator is ALL, partner ids)`. Only the `partners`
/// field is supported, with `ALL` or `ANY`.
fn parse_partner_filter(raw: &str) -> Result<(bool, Vec<String>), GraphError> {
    let bad = |why: &str| GraphError::invalid_param(format!("(#100) param filtering {why}"));
    let Ok(Value::Array(rules)) = serde_json::from_str::<Value>(raw) else {
        return Err(bad(
            "must be a JSON array of {field, operator, value} objects",
        ));
    };
    let mut all = true;
    let mut ids = vec![];
    for rule in &rules {
        if rule.get("field").and_then(Value::as_str) != Some("partners") {
            return Err(bad("[field] must be one of {partners}"));
        }
        all = match rule.get("operator").and_then(Value::as_str) {
            Some("ALL") => true,
            Some("ANY") => false,
            _ => return Err(bad("[operator] must be one of {ALL, ANY}")),
        };
        let Some(values) = rule.get("value").and_then(Value::as_array) else {
            return Err(bad("[value] must be an array of business ids"));
        };
        for v in values {
            match v {
                Value::String(s) => ids.push(s.clone()),
                Value::Number(n) => ids.push(n.to_string()),
                _ => return Err(bad("[value] must be an array of business ids")),
            }
        }
    }
    Ok((all, ids))
}

/// `POST /` with `batch=[{method, relative_url, body?, name?}, ...]` (reference §1.7): each
/// operation is dispatched as its own call with the batch's token; the answer is an array of
/// `{code, headers, body}` in request order, `body` being the JSON answer as a string.
fn batch(world: &mut World, call: &Call) -> Result<Value, GraphError> {
    let raw = call.param("batch").unwrap_or_default();
    let Ok(Value::Array(ops)) = serde_json::from_str::<Value>(raw) else {
        return Err(GraphError::invalid_param(
            "(#100) The parameter batch must be a JSON array of operations",
        ));
    };
    if ops.is_empty() {
        return Err(GraphError::invalid_param(
            "(#100) The parameter batch must not be empty",
        ));
    }
    if ops.len() > MAX_BATCH {
        return Err(GraphError::batch_too_large(MAX_BATCH));
    }
    let headers = call.param("include_headers") != Some("false");
    let trace = errors::new_trace_id();
    let mut out = Vec::with_capacity(ops.len());
    for op in &ops {
        let result = batch_op(op, call).and_then(|sub| {
            if sub.param("batch").is_some() {
                return Err(GraphError::invalid_param(
                    "(#100) A batch operation cannot itself be a batch",
                ));
            }
            dispatch(world, &sub)
        });
        let (code, body) = match result {
            Ok(v) => (200, v),
            Err(e) => (e.status, e.envelope(&trace)),
        };
        let mut item = json!({ "code": code, "body": body.to_string() });
        if headers {
            item["headers"] = json!([
                {"name": "Content-Type", "value": "application/json; charset=UTF-8"},
                {"name": "x-fb-trace-id", "value": trace},
            ]);
        }
        out.push(item);
    }
    Ok(Value::Array(out))
}

/// One batch operation as a call of its own.
fn batch_op(op: &Value, outer: &Call) -> Result<Call, GraphError> {
    let bad = |why: &str| GraphError::invalid_param(format!("(#100) batch operation {why}"));
    let method = match op
        .get("method")
        .and_then(Value::as_str)
        .map(str::to_ascii_uppercase)
    {
        Some(m) if m == "GET" => Method::GET,
        Some(m) if m == "POST" => Method::POST,
        Some(m) if m == "DELETE" => Method::DELETE,
        _ => return Err(bad("method must be GET, POST or DELETE")),
    };
    let Some(relative) = op.get("relative_url").and_then(Value::as_str) else {
        return Err(bad("needs a relative_url"));
    };
    let (path, query) = relative.split_once('?').unwrap_or((relative, ""));
    let mut segments: Vec<String> = path
        .split('/')
        .filter(|s| !s.is_empty())
        .map(percent_decode)
        .collect();
    let version = match segments.first() {
        Some(first) if is_version(first) => Some(segments.remove(0)),
        _ => outer.version.clone(),
    };
    let query: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect();
    let mut params = query.clone();
    if let Some(body) = op.get("body").and_then(Value::as_str) {
        params.extend(url::form_urlencoded::parse(body.as_bytes()).into_owned());
    }
    Ok(Call {
        method,
        version,
        segments,
        query,
        params,
        token: outer.token.clone(),
        origin: outer.origin.clone(),
    })
}

/// A paged edge over full node values: validate fields and paging, project the page.
pub(super) fn list(
    call: &Call,
    items: &[Value],
    schema: &'static Schema,
) -> Result<Value, GraphError> {
    let sel = call.selection()?;
    let links = call.links();
    // Validate the selection even when the page is empty.
    if items.is_empty() {
        fields::project(&json!({}), schema, sel.as_deref(), &links)
            .map_err(|e| GraphError::invalid_param(e.to_string()))?;
    }
    let pp = PageParams::from_params(&call.params)?;
    let ids: Vec<&str> = items
        .iter()
        .map(|v| v.get("id").and_then(Value::as_str).unwrap_or(""))
        .collect();
    let page = paging::select(&ids, &pp)?;
    let data = items[page.start..page.end]
        .iter()
        .map(|v| fields::project(v, schema, sel.as_deref(), &links))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| GraphError::invalid_param(e.to_string()))?;
    let first = ids[page.start..page.end].first().copied();
    let last = ids[page.start..page.end].last().copied();
    Ok(paging::envelope(data, first, last, page, |k, c| {
        call.page_url(k, c)
    }))
}

/// A paged edge over a big list, rendering only the page: the list is those of `candidates`
/// (ascending positions, see [`paging::walk`]) that `matches` accepts; `id_of` and
/// `position_of` map positions to ids and back, `json_of` renders one item in full. Answers
/// as [`list`] does over the same items, errors included.
#[allow(clippy::too_many_arguments)]
pub(super) fn list_positions<'w>(
    call: &Call,
    candidates: &[usize],
    matches: impl Fn(usize) -> bool,
    id_of: impl Fn(usize) -> &'w str,
    position_of: impl Fn(&str) -> Option<usize>,
    json_of: impl Fn(usize) -> Value,
    schema: &'static Schema,
) -> Result<Value, GraphError> {
    let sel = call.selection()?;
    let links = call.links();
    // Validate the selection even when the list is empty.
    if !candidates.iter().any(|&i| matches(i)) {
        fields::project(&json!({}), schema, sel.as_deref(), &links)
            .map_err(|e| GraphError::invalid_param(e.to_string()))?;
    }
    let pp = PageParams::from_params(&call.params)?;
    let walked = paging::walk(candidates, &matches, position_of, &pp)?;
    let data = walked
        .rows
        .iter()
        .map(|&i| fields::project(&json_of(i), schema, sel.as_deref(), &links))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| GraphError::invalid_param(e.to_string()))?;
    let page = paging::Page {
        start: 0,
        end: walked.rows.len(),
        has_previous: walked.has_previous,
        has_next: walked.has_next,
    };
    let first = walked.rows.first().map(|&i| id_of(i));
    let last = walked.rows.last().map(|&i| id_of(i));
    Ok(paging::envelope(data, first, last, page, |k, c| {
        call.page_url(k, c)
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions() {
        for ok in ["v23.0", "v1.0", "v25.10"] {
            assert!(is_version(ok), "{ok}");
        }
        for bad in ["v23", "23.0", "v23.", "v.0", "vx.0", "v23.0.1", "me"] {
            assert!(!is_version(bad), "{bad}");
        }
    }

    #[test]
    fn redacts_token_in_query() {
        assert_eq!(redact_query("fields=id"), "fields=id");
        let r = redact_query("access_token=EAAsecret&limit=2");
        assert!(!r.contains("EAAsecret"));
        assert!(r.contains("access_token=%5Bredacted%5D"));
        assert!(r.contains("limit=2"));
    }

    #[test]
    fn percent_decoding() {
        assert_eq!(percent_decode("a%20b"), "a b");
        assert_eq!(percent_decode("%E3%81%95"), "さ");
        assert_eq!(percent_decode("100%"), "100%");
        assert_eq!(percent_decode("%zz"), "%zz");
    }

    use crate::{DEMO_BUSINESS_ID, DEMO_PARTNER_BUSINESS_ID, DEMO_TOKEN};

    /// One call as the client would make it, with our token.
    fn call(method: Method, path_and_query: &str) -> Call {
        let (path, query) = path_and_query
            .split_once('?')
            .unwrap_or((path_and_query, ""));
        let mut headers = HeaderMap::new();
        let bearer = format!("Bearer {DEMO_TOKEN}");
        headers.insert(header::AUTHORIZATION, bearer.parse().unwrap());
        parse_call(
            method,
            path,
            query,
            &headers,
            &[],
            ([127, 0, 0, 1], 1).into(),
        )
    }

    fn get(world: &mut World, path_and_query: &str) -> Result<Value, GraphError> {
        dispatch(world, &call(Method::GET, path_and_query))
    }

    fn client_wabas(query: &str) -> String {
        format!("/v25.0/{DEMO_BUSINESS_ID}/client_whatsapp_business_accounts?{query}")
    }

    fn ids(page: &Value) -> Vec<String> {
        page["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|w| w["id"].as_str().unwrap().to_string())
            .collect()
    }

    fn cursor(page: &Value, which: &str) -> Option<String> {
        page["paging"]["cursors"][which]
            .as_str()
            .map(str::to_string)
    }

    fn shared_with_us(world: &World) -> Vec<String> {
        world
            .wabas
            .iter()
            .filter(|w| w.shared_with.iter().any(|b| b == DEMO_BUSINESS_ID))
            .map(|w| w.id.clone())
            .collect()
    }

    #[test]
    fn a_page_of_a_100k_world_holds_exactly_its_rows() {
        let mut world = World::demo_with_generated_wabas(100_000);
        let all = shared_with_us(&world);
        assert!(all.len() > 100_000);
        let at = 50_000;
        let after = paging::encode_cursor(&all[at]);
        let page = get(
            &mut world,
            &client_wabas(&format!(
                "fields=id,name,phone_numbers{{id}}&limit=100&after={after}"
            )),
        )
        .unwrap();
        assert_eq!(ids(&page), all[at + 1..at + 101]);
        for row in page["data"].as_array().unwrap() {
            let waba = world.waba(row["id"].as_str().unwrap()).unwrap();
            let phones: Vec<&str> = row["phone_numbers"]["data"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| p["id"].as_str().unwrap())
                .collect();
            let want: Vec<&str> = waba
                .phone_numbers
                .iter()
                .take(25)
                .map(|p| p.id.as_str())
                .collect();
            assert_eq!(phones, want, "{}", waba.id);
            assert_eq!(row["name"], waba.name.as_str());
        }
        assert!(page["paging"]["next"].is_string());
        assert!(page["paging"]["previous"].is_string());
        // The last page, reached backwards from nothing but the last id.
        let last = paging::encode_cursor(all.last().unwrap());
        let page = get(
            &mut world,
            &client_wabas(&format!("fields=id&limit=100&before={last}")),
        )
        .unwrap();
        assert_eq!(ids(&page), all[all.len() - 101..all.len() - 1]);
    }

    /// Every WABA once, in order, following `after` cursors, and again following `before`.
    fn walk_both_ways(world: &mut World, query: &str, want: &[String]) {
        let mut seen = vec![];
        let mut next = None::<String>;
        loop {
            let q = match &next {
                None => format!("{query}&limit=100"),
                Some(c) => format!("{query}&limit=100&after={c}"),
            };
            let page = get(world, &client_wabas(&q)).unwrap();
            seen.extend(ids(&page));
            if page["paging"]["next"].is_null() {
                break;
            }
            next = cursor(&page, "after");
        }
        assert_eq!(seen, want, "forwards, {query}");
        let mut back: Vec<Vec<String>> = vec![];
        let mut before = want.last().map(|id| paging::encode_cursor(id));
        while let Some(c) = before {
            let q = format!("{query}&limit=100&before={c}");
            let page = get(world, &client_wabas(&q)).unwrap();
            back.push(ids(&page));
            before = page["paging"]["previous"]
                .is_string()
                .then(|| cursor(&page, "before").unwrap());
        }
        let mut seen: Vec<String> = back.into_iter().rev().flatten().collect();
        seen.extend(want.last().cloned());
        assert_eq!(seen, want, "backwards, {query}");
    }

    #[test]
    fn following_every_cursor_visits_each_waba_once() {
        let mut world = World::demo_with_generated_wabas(2_345);
        let all = shared_with_us(&world);
        walk_both_ways(&mut world, "fields=id", &all);
        let with_kestrel: Vec<String> = world
            .wabas
            .iter()
            .filter(|w| w.shared_with.iter().any(|b| b == DEMO_PARTNER_BUSINESS_ID))
            .map(|w| w.id.clone())
            .collect();
        assert!(with_kestrel.len() > 500 && with_kestrel.len() < all.len());
        for op in ["ANY", "ALL"] {
            let filter = format!(
                r#"[{{"field":"partners","operator":"{op}","value":["{DEMO_PARTNER_BUSINESS_ID}"]}}]"#
            );
            let query = format!(
                "fields=id&filtering={}",
                url::form_urlencoded::byte_serialize(filter.as_bytes()).collect::<String>()
            );
            walk_both_ways(&mut world, &query, &with_kestrel);
        }
    }

    /// The page answers built from the page alone equal the answers built, as before, from
    /// every WABA of the list rendered in full, for every kind of request.
    #[test]
    fn pages_answer_as_the_whole_list_would() {
        let mut world = World::demo_with_generated_wabas(420);
        let all = shared_with_us(&world);
        let filter = |op: &str, ids: &str| {
            let f = format!(r#"[{{"field":"partners","operator":"{op}","value":[{ids}]}}]"#);
            url::form_urlencoded::byte_serialize(f.as_bytes()).collect::<String>()
        };
        let kestrel = format!("\"{DEMO_PARTNER_BUSINESS_ID}\"");
        let c = |i: usize| paging::encode_cursor(&all[i]);
        let queries = [
            String::new(),
            "limit=7".into(),
            format!("limit=7&after={}", c(0)),
            format!("limit=50&after={}", c(400)),
            format!("after={}", c(all.len() - 1)),
            format!("limit=3&before={}", c(2)),
            format!("before={}", c(0)),
            format!("limit=30&before={}", c(200)),
            format!("limit=9&filtering={}", filter("ANY", &kestrel)),
            format!(
                "limit=9&filtering={}&after={}",
                filter("ALL", &kestrel),
                c(10)
            ),
            format!("filtering={}", filter("ALL", "\"1\"")),
            format!("filtering={}", filter("ANY", "")),
            format!("filtering={}", filter("ALL", "")),
            "after=bm90IGFuIGlk".into(),
            "after=%%%".into(),
            "limit=0".into(),
            "fields=id,colour".into(),
            format!("fields=id,colour&after={}", c(all.len() - 1)),
            "fields=id,phone_numbers.limit(2){id,status}&limit=100".into(),
            "fields=name{x}".into(),
        ];
        let business = DEMO_BUSINESS_ID.to_string();
        let actor = world
            .tokens
            .iter()
            .find(|t| t.token == DEMO_TOKEN)
            .unwrap()
            .clone();
        for q in &queries {
            let path = client_wabas(q);
            let got = get(&mut world, &path);
            // As the simulator answered before: every WABA of the list in full, then paged.
            let c = call(Method::GET, &path);
            let partners = c.param("filtering").map(parse_partner_filter);
            let want = match partners.transpose() {
                Err(e) => Err(e),
                Ok(partners) => {
                    let items: Vec<Value> = world
                        .wabas
                        .iter()
                        .filter(|w| w.shared_with.contains(&business))
                        .filter(|w| match &partners {
                            None => true,
                            Some((true, ids)) => ids.iter().all(|id| w.shared_with.contains(id)),
                            Some((false, ids)) => ids.iter().any(|id| w.shared_with.contains(id)),
                        })
                        .map(|w| w.to_json(&world, &actor.app_id))
                        .collect();
                    list(&c, &items, &fields::WABA)
                }
            };
            match (got, want) {
                (Ok(g), Ok(w)) => assert_eq!(g, w, "{q}"),
                (Err(g), Err(w)) => assert_eq!(g.message, w.message, "{q}"),
                (g, w) => panic!("{q}: {g:?} against {w:?}"),
            }
        }
    }

    #[test]
    fn lookups_find_what_changed_after_start() {
        let mut world = World::demo();
        assert!(world.index_is_fresh());
        let added = crate::webhooks::onboard_waba(&mut world, None, None, None, None).unwrap();
        let id = added["waba_id"].as_str().unwrap().to_string();
        assert!(world.index_is_fresh(), "onboarding keeps the index");
        let waba = world.waba(&id).expect("the new WABA is found").clone();
        let phone = &waba.phone_numbers[0].id;
        assert_eq!(
            wabas::find_phone(&world, phone),
            Some((world.wabas.len() - 1, 0))
        );
        assert!(world.business(&waba.owner_business_id).is_some());
        assert_eq!(
            get(&mut world, &format!("/{id}?fields=id")).unwrap()["id"],
            id.as_str()
        );
        assert_eq!(
            get(&mut world, &format!("/{phone}?fields=id")).unwrap()["id"],
            phone.as_str()
        );
        let last = paging::encode_cursor(&world.wabas[world.wabas.len() - 2].id);
        let page = get(
            &mut world,
            &client_wabas(&format!("fields=id&after={last}")),
        )
        .unwrap();
        assert_eq!(ids(&page), [id.as_str()]);
        // A credit share creates an allocation the next call finds.
        let line = crate::DEMO_CREDIT_LINE_ID;
        let shared = dispatch(
            &mut world,
            &call(
                Method::POST,
                &format!(
                    "/{line}/whatsapp_credit_sharing_and_attach?waba_id={id}&waba_currency=USD"
                ),
            ),
        )
        .unwrap();
        let allocation = shared["allocation_config_id"].as_str().unwrap();
        assert!(world.index_is_fresh());
        let node = get(
            &mut world,
            &format!("/{allocation}?fields=id,request_status"),
        )
        .unwrap();
        assert_eq!(node["request_status"], "ACTIVE");
        assert_eq!(
            world.waba(&id).unwrap().primary_funding_id,
            world
                .allocation(allocation)
                .unwrap()
                .receiving_credential_id
        );
        let configs = get(
            &mut world,
            &format!(
                "/{line}/owning_credit_allocation_configs?limit=100&receiving_business_id={}",
                waba.owner_business_id
            ),
        )
        .unwrap();
        assert_eq!(ids(&configs), [allocation]);
    }

    #[test]
    fn a_world_edited_by_hand_is_still_answered() {
        let mut world = World::demo();
        let mut copy = world.wabas[0].clone();
        copy.id = "4242424242".into();
        copy.phone_numbers.clear();
        world.wabas.push(copy);
        assert!(!world.index_is_fresh());
        assert!(world.waba("4242424242").is_some(), "found by scanning");
        let page = get(
            &mut world,
            &client_wabas("fields=id&limit=100&after=NDI0MjQyNDI0Mg"),
        )
        .unwrap();
        assert!(ids(&page).is_empty());
        world.reindex();
        assert!(world.index_is_fresh());
        assert!(world.waba("4242424242").is_some());
    }
}
