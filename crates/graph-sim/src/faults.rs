//! Fault injection: make the simulator misbehave the way Meta's API and the network do.
//!
//! A [`Fault`] says which requests it applies to (method, path pattern, query substring), when
//! (every matching call while it is on, the Nth, after the first N, at most N times, at a seeded
//! random rate) and what happens (`do`, a [`FaultAction`]). Faults are set at start
//! (`partnerdeck sim --faults FILE`, JSON or TOML), at run time through the loopback-only
//! control endpoint `/__sim/faults`, or from Rust with [`SimHandle::set_faults`].
//!
//! For each Graph request every matching fault counts the call; the first one (in list order)
//! whose `when` fires is applied. At most one fault applies to a request.
//!
//! ```json
//! {"faults": [
//!   {"method": "GET", "path": "*/whatsapp_business_solutions", "after": 2,
//!    "do": {"kind": "throttle", "code": 80007, "regain_minutes": 12}},
//!   {"method": "POST", "path": "*/accept", "times": 1, "do": {"kind": "commit_then_drop"}}
//! ]}
//! ```
//!
//! Control endpoint (no token; refused unless the peer is loopback):
//! `GET /__sim/faults` lists the faults with their counters; `POST /__sim/faults` adds one
//! fault, a list, or `{"faults":[...]}`; `PUT /__sim/faults` replaces them all;
//! `DELETE /__sim/faults` clears them; `DELETE /__sim/faults/{id}` removes one.
//!
//! Every Graph answer (faulted or not) carries `X-App-Usage` and `X-Business-Use-Case-Usage`
//! headers computed from the calls of the last hour against a budget of
//! [`CALLS_PER_HOUR`] (reference §1.5); the `usage` and `throttle` faults override them.
//!
//! [`SimHandle::set_faults`]: super::SimHandle::set_faults

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::os::fd::{AsFd, OwnedFd};
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::extract::Request;
use axum::extract::connect_info::Connected;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::Response;
use axum::serve::{IncomingStream, Listener};
use futures::StreamExt as _;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::SimError;
use super::errors::{METHOD, OAUTH};

/// The call budget the usage headers are computed against (calls per rolling hour; Meta's
/// WhatsApp Business Management limit once a WABA has a registered number).
pub const CALLS_PER_HOUR: usize = 5000;

/// How long `stall_body` holds the rest of the body by default: effectively for ever.
const STALL_FOREVER_MS: u64 = 3_600_000;

/// One fault: which requests, when, and what happens.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fault {
    /// `GET`, `POST`, `DELETE`; absent or `*` for any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    /// Glob over the path without the version, e.g. `*/whatsapp_business_solutions` or
    /// `1970225308678201/accept`; `*` matches any run of characters, `/` included.
    #[serde(default = "any_path")]
    pub path: String,
    /// A substring the raw query must contain, e.g. `role=OWNER` or `after=`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query: Option<String>,
    /// Only the Nth matching call (1-based).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nth: Option<u64>,
    /// Skip the first N matching calls.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub after: u64,
    /// Fire at most this many times.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub times: Option<u64>,
    /// Fire on this share of the matching calls (0.0–1.0), drawn from a generator seeded
    /// with `seed`, so a run is repeatable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate: Option<f64>,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub seed: u64,
    /// What happens.
    #[serde(rename = "do")]
    pub action: FaultAction,
}

fn any_path() -> String {
    "*".into()
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// What a fault does to a request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum FaultAction {
    /// Slow headers: wait `ms` before handling the request at all.
    Delay { ms: u64 },
    /// Send the headers and half the body, then stall for `ms` (default: an hour) and cut
    /// the connection.
    StallBody {
        #[serde(default = "stall_forever")]
        ms: u64,
    },
    /// A transient Graph error: HTTP 500 or 503 (default) with code 1 or 2 (default),
    /// `is_transient: true`.
    Transient {
        #[serde(default = "http_503")]
        status: u16,
        #[serde(default = "code_2")]
        code: i64,
    },
    /// Meta throttling us: code 4, 17, 32, 613, 80007, 80008… (default 4) with HTTP `status`
    /// (default 400; Meta also sends 403 and 429), `X-App-Usage` at 100 % and, when
    /// `regain_minutes` is given, `X-Business-Use-Case-Usage` with
    /// `estimated_time_to_regain_access`; `Retry-After` when `retry_after_secs` is given.
    Throttle {
        #[serde(default = "code_4")]
        code: i64,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        status: Option<u16>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        regain_minutes: Option<u32>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        retry_after_secs: Option<u64>,
    },
    /// A normal answer whose usage headers report `pct` percent, counting up by `step` each
    /// time the fault fires (capped at 100).
    Usage {
        pct: u32,
        #[serde(default)]
        step: u32,
    },
    /// An HTML error page instead of JSON, with HTTP `status` (default 502; 200 happens too).
    Html {
        #[serde(default = "http_502")]
        status: u16,
    },
    /// The real answer cut in half: a complete HTTP response whose JSON is truncated.
    Truncated,
    /// Close the connection without any answer; nothing is done.
    Reset,
    /// Carry out the request (a POST changes the world) and then close the connection
    /// without the answer.
    CommitThenDrop,
    /// The token expired mid-session: code 190 with `subcode` 463 (expired, default) or 460
    /// (password changed), HTTP 401.
    TokenExpired {
        #[serde(default = "subcode_463")]
        subcode: i64,
    },
    /// A permission was lost: code 10 or 200 (default), HTTP 403.
    Permission {
        #[serde(default = "code_200")]
        code: i64,
    },
    /// Any Graph error envelope. `{token}` in `message` is replaced by the request's token,
    /// the way Meta echoes a malformed token.
    Error {
        status: u16,
        code: i64,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        subcode: Option<i64>,
        #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
        error_type: Option<String>,
        message: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        is_transient: Option<bool>,
    },
    /// Paging: a page asked for with `after=C` answers with `after` C again and a `next` to
    /// itself, so the cursor never advances.
    RepeatCursor,
    /// Paging: the page's `data` is empty but `paging` (and `next`) are kept.
    EmptyPage,
    /// Paging: each page repeats the last two items of the previous page of the same list,
    /// and its own first item at its end.
    DuplicateIds,
    /// Every `name` in the answer becomes a hostile string: ANSI and OSC escapes, C1
    /// controls, bidi overrides, zero-width joiners, emoji, Devanagari, 500 characters.
    HostileNames,
    /// Meta (or a proxy) echoes the request's access token `into` some part of the answer;
    /// with `escaped`, every character of the token inside the JSON body is written as a
    /// `\uXXXX` escape (the raw bytes never hold it, the decoded strings do).
    EchoToken {
        into: EchoInto,
        #[serde(default)]
        escaped: bool,
        /// For `message`: this many characters before the token, so a message cut at 200
        /// characters cuts the token.
        #[serde(default)]
        pad: usize,
    },
    /// A body larger than any sane answer: `{"data":[],"pad":"xxxx…"}` of `bytes` bytes
    /// (absent: endless), streamed in chunks without a `Content-Length` unless
    /// `announce` is set.
    Oversize {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        bytes: Option<u64>,
        #[serde(default)]
        announce: bool,
    },
    /// One row of a successful answer is spoiled: row `index` of `data` (or the node itself
    /// when there is no `data`) gets the fields of `row` when it is an object, or is
    /// replaced by `row` when it is anything else (a number, a string).
    PatchRow {
        #[serde(default)]
        index: usize,
        row: Value,
    },
    /// `304 Not Modified` with no body, whatever the request's `If-None-Match` (a confused
    /// cache on the way); nothing is done.
    NotModified,
}

/// Where [`FaultAction::EchoToken`] puts the token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EchoInto {
    /// Every `name` of a successful answer becomes `Leak <token>`.
    Name,
    /// An error (HTTP 400, code 100) whose message holds the token after `pad` characters.
    Message,
    /// An error (HTTP 400, code 100) whose `fbtrace_id` is the token.
    FbtraceId,
    /// A normal answer whose `x-fb-trace-id` header is the token.
    Header,
    /// A normal list answer whose `paging.next` carries `access_token=<token>`.
    Next,
    /// An error (HTTP 400, code 100) whose message echoes the request body (a PIN, say).
    Body,
}

fn stall_forever() -> u64 {
    STALL_FOREVER_MS
}
fn http_503() -> u16 {
    503
}
fn http_502() -> u16 {
    502
}
fn code_2() -> i64 {
    2
}
fn code_4() -> i64 {
    4
}
fn code_200() -> i64 {
    200
}
fn subcode_463() -> i64 {
    463
}

impl Fault {
    /// A fault on every request, while it is on.
    pub fn new(action: FaultAction) -> Fault {
        Fault {
            method: None,
            path: any_path(),
            query: None,
            nth: None,
            after: 0,
            times: None,
            rate: None,
            seed: 0,
            action,
        }
    }

    /// Only GET requests whose path matches `pattern`.
    pub fn get(self, pattern: &str) -> Fault {
        self.method("GET").path(pattern)
    }

    /// Only POST requests whose path matches `pattern`.
    pub fn post(self, pattern: &str) -> Fault {
        self.method("POST").path(pattern)
    }

    pub fn method(mut self, method: &str) -> Fault {
        self.method = Some(method.to_string());
        self
    }

    pub fn path(mut self, pattern: &str) -> Fault {
        self.path = pattern.to_string();
        self
    }

    pub fn query(mut self, needle: &str) -> Fault {
        self.query = Some(needle.to_string());
        self
    }

    pub fn nth(mut self, n: u64) -> Fault {
        self.nth = Some(n);
        self
    }

    pub fn after(mut self, n: u64) -> Fault {
        self.after = n;
        self
    }

    pub fn times(mut self, n: u64) -> Fault {
        self.times = Some(n);
        self
    }

    pub fn rate(mut self, rate: f64, seed: u64) -> Fault {
        self.rate = Some(rate);
        self.seed = seed;
        self
    }

    fn matches(&self, method: &str, path: &str, query: &str) -> bool {
        let method_ok = match self.method.as_deref().map(str::trim) {
            None | Some("*") | Some("") => true,
            Some(m) => m.eq_ignore_ascii_case(method),
        };
        method_ok
            && glob(self.path.trim().trim_start_matches('/'), &graph_path(path))
            && self.query.as_deref().is_none_or(|q| query.contains(q))
    }

    fn check(&self) -> Result<(), String> {
        if let Some(r) = self.rate
            && !(0.0..=1.0).contains(&r)
        {
            return Err(format!("rate {r} is not between 0 and 1"));
        }
        if self.nth == Some(0) {
            return Err("nth counts from 1".into());
        }
        Ok(())
    }
}

/// Parse faults from JSON text (one fault, a list, or `{"faults":[...]}`).
pub fn parse_json(text: &str) -> Result<Vec<Fault>, String> {
    // Parse strictly first so a typo is reported against the shape the author meant.
    let v: Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
    let faults = match &v {
        Value::Object(o) if o.contains_key("faults") => {
            serde_json::from_value::<Vec<Fault>>(v["faults"].clone()).map_err(|e| e.to_string())?
        }
        Value::Array(_) => serde_json::from_value::<Vec<Fault>>(v).map_err(|e| e.to_string())?,
        _ => vec![serde_json::from_value::<Fault>(v).map_err(|e| e.to_string())?],
    };
    checked(faults)
}

/// Parse faults from TOML text: `[[faults]]` tables, each with a `do` table.
pub fn parse_toml(text: &str) -> Result<Vec<Fault>, String> {
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct File {
        #[serde(default)]
        faults: Vec<Fault>,
    }
    let f: File = toml::from_str(text).map_err(|e| e.to_string())?;
    checked(f.faults)
}

pub(crate) fn checked(faults: Vec<Fault>) -> Result<Vec<Fault>, String> {
    for (i, f) in faults.iter().enumerate() {
        f.check().map_err(|e| format!("fault {}: {e}", i + 1))?;
    }
    Ok(faults)
}

/// Load a fault file: TOML when the name ends in `.toml`, JSON otherwise.
pub fn load(path: &Path) -> Result<Vec<Fault>, SimError> {
    let text = std::fs::read_to_string(path).map_err(|source| SimError::ReadWorld {
        path: path.to_path_buf(),
        source,
    })?;
    let toml = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("toml"));
    let parsed = if toml {
        parse_toml(&text)
    } else {
        parse_json(&text)
    };
    parsed.map_err(|reason| SimError::InvalidFaults {
        path: path.display().to_string(),
        reason,
    })
}

/// `v25.0/123/accept` or `/123/accept` → `123/accept`.
fn graph_path(path: &str) -> String {
    let p = path.trim_start_matches('/');
    match p.split_once('/') {
        Some((first, rest)) if super::routes::is_version(first) => rest.to_string(),
        None if super::routes::is_version(p) => String::new(),
        _ => p.to_string(),
    }
}

/// Glob match where `*` matches any run of characters (`/` included).
fn glob(pattern: &str, text: &str) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = (pattern.chars().collect(), text.chars().collect());
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ti));
            pi += 1;
        } else if pi < p.len() && p[pi] == t[ti] {
            pi += 1;
            ti += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

/// A fault and its counters, as `GET /__sim/faults` shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FaultStatus {
    pub id: u64,
    /// Matching calls so far.
    pub seen: u64,
    /// Times it was applied.
    pub fired: u64,
    #[serde(flatten)]
    pub fault: Fault,
}

struct Active {
    id: u64,
    fault: Fault,
    seen: u64,
    fired: u64,
    rng: StdRng,
}

/// The simulator's fault set, usage meter and paging memory.
pub(crate) struct Faults {
    state: Mutex<State>,
}

struct State {
    active: Vec<Active>,
    next_id: u64,
    /// Graph calls of the last hour, for the usage headers.
    calls: VecDeque<Instant>,
    /// Last items of the previous page per list, for `duplicate_ids`.
    last_items: HashMap<String, Vec<Value>>,
}

/// The fault chosen for one request.
#[derive(Debug, Clone)]
pub(crate) struct Fired {
    pub id: u64,
    pub action: FaultAction,
    /// How many times this fault has fired, this one included.
    pub count: u64,
}

impl Faults {
    pub fn new(faults: Vec<Fault>) -> Faults {
        let f = Faults {
            state: Mutex::new(State {
                active: vec![],
                next_id: 1,
                calls: VecDeque::new(),
                last_items: HashMap::new(),
            }),
        };
        f.add(faults);
        f
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Add faults after the existing ones; returns their ids.
    pub fn add(&self, faults: Vec<Fault>) -> Vec<u64> {
        let mut st = self.state();
        faults
            .into_iter()
            .map(|fault| {
                let id = st.next_id;
                st.next_id += 1;
                let rng = StdRng::seed_from_u64(fault.seed);
                st.active.push(Active {
                    id,
                    fault,
                    seen: 0,
                    fired: 0,
                    rng,
                });
                id
            })
            .collect()
    }

    pub fn replace(&self, faults: Vec<Fault>) -> Vec<u64> {
        self.clear();
        self.add(faults)
    }

    pub fn clear(&self) {
        let mut st = self.state();
        st.active.clear();
        st.last_items.clear();
    }

    pub fn remove(&self, id: u64) -> bool {
        let mut st = self.state();
        let before = st.active.len();
        st.active.retain(|a| a.id != id);
        st.active.len() != before
    }

    pub fn list(&self) -> Vec<FaultStatus> {
        self.state()
            .active
            .iter()
            .map(|a| FaultStatus {
                id: a.id,
                seen: a.seen,
                fired: a.fired,
                fault: a.fault.clone(),
            })
            .collect()
    }

    /// Count a Graph call (for the usage headers) and choose the fault to apply, if any.
    pub fn pick(&self, method: &str, path: &str, query: &str) -> Option<Fired> {
        let mut st = self.state();
        let now = Instant::now();
        st.calls.push_back(now);
        while st
            .calls
            .front()
            .is_some_and(|t| now.duration_since(*t) > Duration::from_secs(3600))
        {
            st.calls.pop_front();
        }
        let mut chosen = None;
        for a in st.active.iter_mut() {
            if !a.fault.matches(method, path, query) {
                continue;
            }
            a.seen += 1;
            let f = &a.fault;
            // Draw for every matching call so the sequence depends only on the seed.
            let lucky = f.rate.is_none_or(|r| a.rng.random::<f64>() < r);
            let fires = lucky
                && f.nth.is_none_or(|n| a.seen == n)
                && a.seen > f.after
                && f.times.is_none_or(|t| a.fired < t);
            if fires && chosen.is_none() {
                a.fired += 1;
                chosen = Some(Fired {
                    id: a.id,
                    action: f.action.clone(),
                    count: a.fired,
                });
            }
        }
        chosen
    }

    /// `(call_count %, total_cputime %, total_time %)` from the calls of the last hour.
    fn organic_usage(&self) -> (u32, u32, u32) {
        let n = self.state().calls.len();
        let pct = (n * 100).div_ceil(CALLS_PER_HOUR).min(100) as u32;
        (pct, pct / 3, pct / 2)
    }

    /// Remember the last items of a page and return those of the previous page of the same
    /// list (for `duplicate_ids`).
    fn swap_last_items(&self, list_key: &str, items: Vec<Value>) -> Vec<Value> {
        self.state()
            .last_items
            .insert(list_key.to_string(), items)
            .unwrap_or_default()
    }
}

/// What the fault layer needs to know about the request beyond its path.
pub(crate) struct RequestCtx<'a> {
    pub token: Option<&'a str>,
    /// The request's raw body (for `echo_token` into `body`).
    pub body: &'a str,
    /// The `after` cursor of the request, if any.
    pub after: Option<&'a str>,
    /// This request's URL with `after=` its own cursor (for `repeat_cursor`).
    pub same_page_url: Option<String>,
    /// Path and query without cursors and token: which list a page belongs to.
    pub list_key: String,
}

impl Fired {
    /// Wait before handling the request (`delay`).
    pub async fn delay(&self) {
        if let FaultAction::Delay { ms } = self.action {
            tokio::time::sleep(Duration::from_millis(ms)).await;
        }
    }

    /// The error answer that replaces handling the request, if this fault is one. The world
    /// is not touched. `reset` answers status 0: there will be no answer.
    pub fn refusal(&self, ctx: &RequestCtx<'_>) -> Option<(u16, Value)> {
        use FaultAction as A;
        let env =
            |status: u16, ty: &str, code: i64, sub: Option<i64>, msg: String, tr: Option<bool>| {
                let mut e = json!({"message": msg, "type": ty, "code": code});
                if let Some(s) = sub {
                    e["error_subcode"] = json!(s);
                }
                if let Some(t) = tr {
                    e["is_transient"] = json!(t);
                }
                (status, json!({ "error": e }))
            };
        Some(match &self.action {
            A::Reset => (0, Value::Null),
            A::NotModified => (304, Value::Null),
            A::Transient { status, code } => env(
                *status,
                OAUTH,
                *code,
                None,
                match code {
                    1 => "An unknown error has occurred.".into(),
                    _ => "An unexpected error has occurred. Please retry your request later."
                        .into(),
                },
                Some(true),
            ),
            A::Throttle { code, status, .. } => env(
                status.unwrap_or(400),
                OAUTH,
                *code,
                None,
                throttle_message(*code),
                Some(true),
            ),
            A::TokenExpired { subcode } => env(
                401,
                OAUTH,
                190,
                Some(*subcode),
                match subcode {
                    463 => "Error validating access token: Session has expired on Tuesday, 14-Jan-25 10:00:00 PST. The current time is Tuesday, 14-Jan-25 11:02:13 PST.".into(),
                    460 => "Error validating access token: The session has been invalidated because the user changed their password or Facebook has changed the session for security reasons.".into(),
                    _ => "Error validating access token: The session is invalid.".into(),
                },
                None,
            ),
            A::Permission { code } => env(
                403,
                OAUTH,
                *code,
                None,
                match code {
                    10 => "(#10) Application does not have permission for this action".into(),
                    200 => "(#200) Requires whatsapp_business_management permission to manage the object".into(),
                    c => format!("(#{c}) Permission denied"),
                },
                None,
            ),
            A::Error {
                status,
                code,
                subcode,
                error_type,
                message,
                is_transient,
            } => env(
                *status,
                error_type.as_deref().unwrap_or(METHOD),
                *code,
                *subcode,
                message
                    .replace("{token}", ctx.token.unwrap_or(""))
                    .replace("{body}", ctx.body),
                *is_transient,
            ),
            A::EchoToken { into, pad, .. } => {
                let token = ctx.token.unwrap_or("");
                let (message, trace) = match into {
                    EchoInto::Message => (
                        format!("(#100) {}{token} is not valid", "x".repeat(*pad)),
                        None,
                    ),
                    EchoInto::FbtraceId => ("(#100) Invalid parameter".to_string(), Some(token)),
                    EchoInto::Body => (
                        format!("(#100) Invalid parameter in request body {}", ctx.body),
                        None,
                    ),
                    EchoInto::Name | EchoInto::Header | EchoInto::Next => return None,
                };
                let (status, mut body) = env(400, METHOD, 100, None, message, None);
                if let Some(t) = trace {
                    body["error"]["fbtrace_id"] = json!(t);
                }
                (status, body)
            }
            _ => return None,
        })
    }

    /// Rewrite a successful list or node answer (paging faults, hostile names).
    pub fn transform(
        &self,
        faults: &Faults,
        status: u16,
        mut body: Value,
        ctx: &RequestCtx<'_>,
    ) -> Value {
        if status != 200 {
            return body;
        }
        match &self.action {
            FaultAction::HostileNames => hostile_names(&mut body, &mut 0),
            FaultAction::EchoToken {
                into: EchoInto::Name,
                ..
            } => {
                let leak = format!("Leak {}", ctx.token.unwrap_or(""));
                set_names(&mut body, &leak);
            }
            FaultAction::EchoToken {
                into: EchoInto::Next,
                ..
            } => {
                if let Some(Value::String(next)) = body.pointer_mut("/paging/next") {
                    let sep = if next.contains('?') { '&' } else { '?' };
                    next.push_str(&format!("{sep}access_token={}", ctx.token.unwrap_or("")));
                }
            }
            FaultAction::PatchRow { index, row } => {
                let target = match body.get_mut("data") {
                    Some(Value::Array(items)) => items.get_mut(*index),
                    Some(_) => None,
                    None => Some(&mut body),
                };
                if let Some(target) = target {
                    match (row, target.as_object_mut()) {
                        (Value::Object(fields), Some(obj)) => {
                            for (k, v) in fields {
                                obj.insert(k.clone(), v.clone());
                            }
                        }
                        (other, _) => *target = other.clone(),
                    }
                }
            }
            FaultAction::EmptyPage => {
                if let Some(d) = body.get_mut("data") {
                    *d = json!([]);
                }
            }
            FaultAction::RepeatCursor => {
                if let (Some(after), Some(url), Some(obj)) =
                    (ctx.after, &ctx.same_page_url, body.as_object_mut())
                {
                    obj.insert(
                        "paging".into(),
                        json!({"cursors": {"before": after, "after": after}, "next": url}),
                    );
                }
            }
            FaultAction::DuplicateIds => {
                if let Some(Value::Array(items)) = body.get_mut("data") {
                    let tail: Vec<Value> = items.iter().rev().take(2).rev().cloned().collect();
                    let mut prev = faults.swap_last_items(&ctx.list_key, tail);
                    if let Some(first) = items.first().cloned() {
                        items.push(first);
                    }
                    prev.append(items);
                    *items = prev;
                }
            }
            _ => {}
        }
        body
    }

    /// Usage headers this fault reports instead of the organic ones.
    fn usage_override(&self) -> Option<(u32, Option<u32>)> {
        match &self.action {
            FaultAction::Usage { pct, step } => {
                let p =
                    pct.saturating_add(step.saturating_mul(self.count.saturating_sub(1) as u32));
                Some((p.min(100), None))
            }
            FaultAction::Throttle { regain_minutes, .. } => Some((100, *regain_minutes)),
            _ => None,
        }
    }

    /// Deliver the response the way this fault says: as is, as HTML, truncated, stalled
    /// half-way, not at all (the connection is cut), endless, or with the request's token
    /// echoed where `echo_token` says.
    pub async fn deliver(
        &self,
        resp: Response,
        conn: Option<&Conn>,
        token: Option<&str>,
    ) -> Response {
        use FaultAction as A;
        match &self.action {
            A::EchoToken { into, escaped, .. } => {
                let token = token.unwrap_or("");
                let (mut parts, body) = resp.into_parts();
                if *into == EchoInto::Header
                    && let Ok(v) = HeaderValue::from_str(token)
                {
                    parts.headers.insert("x-fb-trace-id", v);
                }
                if !*escaped || token.is_empty() {
                    return Response::from_parts(parts, body);
                }
                let bytes = axum::body::to_bytes(body, usize::MAX)
                    .await
                    .unwrap_or_default();
                let text = String::from_utf8_lossy(&bytes);
                let escaped: String = token
                    .chars()
                    .map(|c| format!("\\u{:04x}", c as u32))
                    .collect();
                let out = text.replace(token, &escaped);
                parts.headers.remove(header::CONTENT_LENGTH);
                Response::from_parts(parts, Body::from(out))
            }
            A::Oversize { bytes, announce } => {
                let (mut parts, _) = resp.into_parts();
                const HEAD: &[u8] = b"{\"data\":[],\"pad\":\"";
                const TAIL: &[u8] = b"\"}";
                const CHUNK: usize = 64 * 1024;
                let total = bytes.map(|b| b.max((HEAD.len() + TAIL.len()) as u64));
                parts.headers.remove(header::CONTENT_LENGTH);
                if let (true, Some(t)) = (*announce, total) {
                    parts
                        .headers
                        .insert(header::CONTENT_LENGTH, HeaderValue::from(t));
                }
                let mut pad_left = total.map(|t| t - (HEAD.len() + TAIL.len()) as u64);
                let mut state = 0u8; // 0 head, 1 pad, 2 tail, 3 done
                let stream = futures::stream::poll_fn(move |_| {
                    let chunk: Option<Bytes> = match state {
                        0 => {
                            state = 1;
                            Some(Bytes::from_static(HEAD))
                        }
                        1 => match pad_left {
                            Some(0) => {
                                state = 3;
                                Some(Bytes::from_static(TAIL))
                            }
                            Some(n) => {
                                let k = n.min(CHUNK as u64);
                                pad_left = Some(n - k);
                                Some(Bytes::from(vec![b'x'; k as usize]))
                            }
                            None => Some(Bytes::from(vec![b'x'; CHUNK])),
                        },
                        _ => None,
                    };
                    std::task::Poll::Ready(chunk.map(Ok::<Bytes, std::io::Error>))
                });
                Response::from_parts(parts, Body::from_stream(stream))
            }
            A::Reset | A::CommitThenDrop => {
                if let Some(c) = conn {
                    c.cut();
                }
                // The connection is gone; hyper fails to write this.
                resp
            }
            A::Html { status } => {
                let (mut parts, _) = resp.into_parts();
                parts.status = StatusCode::from_u16(*status).unwrap_or(StatusCode::BAD_GATEWAY);
                parts.headers.insert(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("text/html; charset=utf-8"),
                );
                parts.headers.remove(header::CONTENT_LENGTH);
                Response::from_parts(parts, Body::from(HTML_ERROR_PAGE))
            }
            A::Truncated => {
                let (mut parts, body) = resp.into_parts();
                let bytes = axum::body::to_bytes(body, usize::MAX)
                    .await
                    .unwrap_or_default();
                let cut = bytes.slice(..bytes.len() / 2);
                parts.headers.remove(header::CONTENT_LENGTH);
                Response::from_parts(parts, Body::from(cut))
            }
            A::StallBody { ms } => {
                let (mut parts, body) = resp.into_parts();
                let bytes = axum::body::to_bytes(body, usize::MAX)
                    .await
                    .unwrap_or_default();
                let total = bytes.len();
                let head = bytes.slice(..total / 2);
                let wait = Duration::from_millis(*ms);
                let stream = futures::stream::iter([Ok::<Bytes, std::io::Error>(head)]).chain(
                    futures::stream::once(async move {
                        tokio::time::sleep(wait).await;
                        Err(std::io::Error::other("the simulator stalled this body"))
                    }),
                );
                parts
                    .headers
                    .insert(header::CONTENT_LENGTH, HeaderValue::from(total));
                Response::from_parts(parts, Body::from_stream(stream))
            }
            _ => resp,
        }
    }
}

/// Add `X-App-Usage` and `X-Business-Use-Case-Usage` to a Graph answer.
pub(crate) fn add_usage_headers(
    faults: &Faults,
    resp: &mut Response,
    fired: Option<&Fired>,
    business_id: &str,
) {
    let (organic, _, _) = faults.organic_usage();
    let (pct, regain) = match fired.and_then(Fired::usage_override) {
        Some((p, r)) => (p.max(organic), r),
        None => (organic, None),
    };
    let (cpu, time) = (pct / 3, pct / 2);
    let app = json!({"call_count": pct, "total_cputime": cpu, "total_time": time});
    let h = resp.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&app.to_string()) {
        h.insert("x-app-usage", v);
    }
    let buc = json!({ business_id: [{
        "type": "whatsapp_business_management",
        "call_count": pct,
        "total_cputime": cpu,
        "total_time": time,
        "estimated_time_to_regain_access": regain.unwrap_or(0),
    }]});
    if let Ok(v) = HeaderValue::from_str(&buc.to_string()) {
        h.insert("x-business-use-case-usage", v);
    }
    if let Some(Fired {
        action:
            FaultAction::Throttle {
                retry_after_secs: Some(s),
                ..
            },
        ..
    }) = fired
    {
        h.insert(header::RETRY_AFTER, HeaderValue::from(*s));
    }
}

fn throttle_message(code: i64) -> String {
    match code {
        4 => "(#4) Application request limit reached".into(),
        17 => "(#17) User request limit reached".into(),
        32 => "(#32) Page request limit reached".into(),
        613 => "(#613) Calls to this api have exceeded the rate limit.".into(),
        80007 => "(#80007) There have been too many calls to this WhatsApp Business account. Wait a bit and try again.".into(),
        80008 => "(#80008) There have been too many calls for this business use case. Wait a bit and try again.".into(),
        c => format!("(#{c}) Rate limit hit"),
    }
}

const HTML_ERROR_PAGE: &str = "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
<title>Error</title></head><body><h1>Sorry, something went wrong.</h1>\
<p>We're working on it and we'll get it fixed as soon as we can.</p></body></html>\n";

/// The hostile names `hostile_names` cycles through.
pub const HOSTILE_NAMES: &[&str] = &[
    "Evil\u{1b}[2J\u{1b}[31mRed\u{1b}[0m Corp",
    "\u{202E}gnp.exe Bidi Override\u{202C}",
    "Title\u{1b}]0;pwned\u{7} OSC",
    "C1\u{9b}31m Control",
    "Family 👨\u{200D}👩\u{200D}👧\u{200D}👦 ZWJ Ltd",
    "Zero\u{200B}Width\u{200D}Joiner\u{2060}Co",
    "Rocket 🚀🔥✅ Emoji",
    "हिन्दी सेवा प्राइवेट लिमिटेड",
];

/// A name of exactly 500 characters.
pub fn long_name() -> String {
    let mut s = String::from("Long ");
    while s.chars().count() < 499 {
        s.push(if s.len() % 10 == 0 { ' ' } else { 'o' });
    }
    s.push('!');
    s
}

fn set_names(v: &mut Value, to: &str) {
    match v {
        Value::Object(map) => {
            for (k, val) in map.iter_mut() {
                if k == "name" && val.is_string() {
                    *val = Value::String(to.to_string());
                } else {
                    set_names(val, to);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|x| set_names(x, to)),
        _ => {}
    }
}

fn hostile_names(v: &mut Value, i: &mut usize) {
    match v {
        Value::Object(map) => {
            for (k, val) in map.iter_mut() {
                if k == "name" && val.is_string() {
                    let n = HOSTILE_NAMES.len() + 1;
                    *val = Value::String(match *i % n {
                        j if j < HOSTILE_NAMES.len() => HOSTILE_NAMES[j].to_string(),
                        _ => long_name(),
                    });
                    *i += 1;
                } else {
                    hostile_names(val, i);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|x| hostile_names(x, i)),
        _ => {}
    }
}

// ---------------------------------------------------------------- connections

/// The simulator's listener: a TCP listener whose connections can be cut by a fault.
pub(crate) struct SimListener(pub tokio::net::TcpListener);

/// One accepted connection: the peer, and a duplicate of the socket to cut it with.
#[derive(Clone, Debug)]
pub(crate) struct Conn {
    pub peer: SocketAddr,
    socket: Option<Arc<OwnedFd>>,
}

impl Conn {
    /// Shut the connection down in both directions: the client sees it closed without an
    /// answer (or mid-answer).
    pub fn cut(&self) {
        let Some(fd) = &self.socket else { return };
        if let Ok(dup) = fd.try_clone() {
            let s = std::net::TcpStream::from(dup);
            let _ = s.shutdown(std::net::Shutdown::Both);
        }
    }
}

impl Listener for SimListener {
    type Io = tokio::net::TcpStream;
    type Addr = Conn;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            match self.0.accept().await {
                Ok((stream, peer)) => {
                    let socket = stream.as_fd().try_clone_to_owned().ok().map(Arc::new);
                    return (stream, Conn { peer, socket });
                }
                Err(e) => {
                    tracing::debug!(error = %e, "simulator accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
        }
    }

    fn local_addr(&self) -> std::io::Result<Conn> {
        Ok(Conn {
            peer: self.0.local_addr()?,
            socket: None,
        })
    }
}

impl Connected<IncomingStream<'_, SimListener>> for Conn {
    fn connect_info(stream: IncomingStream<'_, SimListener>) -> Self {
        stream.remote_addr().clone()
    }
}

// ---------------------------------------------------------------- control endpoint

/// `/__sim/faults`: list, add, replace, clear, remove. Loopback peers only.
pub(crate) async fn control(faults: &Faults, conn: Option<&Conn>, req: Request) -> Response {
    let reply = |status: u16, v: Value| {
        let mut r = Response::new(Body::from(v.to_string()));
        *r.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST);
        r.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        r
    };
    let refuse = |status: u16, msg: String| reply(status, json!({"error": {"message": msg}}));
    if conn.is_some_and(|c| !c.peer.ip().is_loopback()) {
        return refuse(
            403,
            "the fault control endpoint answers loopback peers only".into(),
        );
    }
    let method = req.method().clone();
    let path = req.uri().path().trim_end_matches('/').to_string();
    let list = |faults: &Faults| json!({ "faults": faults.list() });
    let body = axum::body::to_bytes(req.into_body(), 1 << 20)
        .await
        .unwrap_or_default();
    let text = String::from_utf8_lossy(&body);
    match (method, path.as_str()) {
        (Method::GET, "/__sim/faults") => reply(200, list(faults)),
        (m @ (Method::POST | Method::PUT), "/__sim/faults") => match parse_json(&text) {
            Ok(new) => {
                if m == Method::PUT {
                    faults.replace(new);
                } else {
                    faults.add(new);
                }
                reply(200, list(faults))
            }
            Err(e) => refuse(400, format!("not a fault list: {e}")),
        },
        (Method::DELETE, "/__sim/faults") => {
            faults.clear();
            reply(200, list(faults))
        }
        (Method::DELETE, p) => match p
            .strip_prefix("/__sim/faults/")
            .and_then(|id| id.parse::<u64>().ok())
        {
            Some(id) if faults.remove(id) => reply(200, list(faults)),
            _ => refuse(404, format!("no fault {p}")),
        },
        (m, p) => refuse(405, format!("{m} {p} is not supported")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        assert!(glob("*", "123/accept"));
        assert!(glob("*/accept", "123/accept"));
        assert!(!glob("*/accept", "123/reject"));
        assert!(glob(
            "*/whatsapp_business_solutions",
            "1287/whatsapp_business_solutions"
        ));
        assert!(glob("12*3", "12/x/3"));
        assert!(glob("", ""));
        assert!(!glob("", "a"));
        assert!(glob("a*b*c", "aXbYbc"));
    }

    #[test]
    fn paths_lose_their_version() {
        assert_eq!(graph_path("/v25.0/123/accept"), "123/accept");
        assert_eq!(graph_path("/123"), "123");
        assert_eq!(graph_path("/v25.0"), "");
    }

    #[test]
    fn matching_counts_and_when() {
        let f = Faults::new(vec![
            Fault::new(FaultAction::Truncated)
                .get("*/edge")
                .after(1)
                .times(2),
        ]);
        let fires: Vec<bool> = (0..5)
            .map(|_| f.pick("GET", "/v25.0/1/edge", "").is_some())
            .collect();
        assert_eq!(fires, [false, true, true, false, false]);
        assert!(f.pick("POST", "/v25.0/1/edge", "").is_none());
        let s = &f.list()[0];
        assert_eq!((s.seen, s.fired), (5, 2));

        let f = Faults::new(vec![Fault::new(FaultAction::Reset).nth(3)]);
        let fires: Vec<bool> = (0..5).map(|_| f.pick("GET", "/x", "").is_some()).collect();
        assert_eq!(fires, [false, false, true, false, false]);
    }

    #[test]
    fn first_firing_fault_wins_and_others_still_count() {
        let f = Faults::new(vec![
            Fault::new(FaultAction::Reset).times(1),
            Fault::new(FaultAction::Truncated).after(1),
        ]);
        assert!(matches!(
            f.pick("GET", "/a", "").unwrap().action,
            FaultAction::Reset
        ));
        assert!(matches!(
            f.pick("GET", "/a", "").unwrap().action,
            FaultAction::Truncated
        ));
        assert_eq!(f.list()[1].seen, 2);
    }

    #[test]
    fn seeded_rate_is_repeatable() {
        let run = || {
            let f = Faults::new(vec![Fault::new(FaultAction::Reset).rate(0.3, 42)]);
            (0..200)
                .map(|_| f.pick("GET", "/a", "").is_some())
                .collect::<Vec<_>>()
        };
        let a = run();
        assert_eq!(a, run());
        let n = a.iter().filter(|x| **x).count();
        assert!((30..90).contains(&n), "{n}");
    }

    #[test]
    fn query_filter() {
        let f = Faults::new(vec![Fault::new(FaultAction::EmptyPage).query("after=")]);
        assert!(f.pick("GET", "/1/e", "limit=2").is_none());
        assert!(f.pick("GET", "/1/e", "limit=2&after=QQ").is_some());
    }

    #[test]
    fn parse_json_shapes_and_typos() {
        let one = r#"{"path":"*/accept","method":"POST","do":{"kind":"commit_then_drop"}}"#;
        assert_eq!(parse_json(one).unwrap().len(), 1);
        let list = format!("[{one},{one}]");
        assert_eq!(parse_json(&list).unwrap().len(), 2);
        let wrapped = format!(r#"{{"faults":[{one}]}}"#);
        assert_eq!(
            parse_json(&wrapped).unwrap()[0].action,
            FaultAction::CommitThenDrop
        );
        let f = &parse_json(r#"{"do":{"kind":"throttle","code":80007,"regain_minutes":12}}"#)
            .unwrap()[0];
        assert_eq!(
            f.action,
            FaultAction::Throttle {
                code: 80007,
                status: None,
                regain_minutes: Some(12),
                retry_after_secs: None
            }
        );
        assert_eq!(f.path, "*");
        assert!(parse_json(r#"{"pth":"x","do":{"kind":"reset"}}"#).is_err());
        assert!(parse_json(r#"{"do":{"kind":"nope"}}"#).is_err());
        assert!(parse_json(r#"{"rate":2,"do":{"kind":"reset"}}"#).is_err());
    }

    #[test]
    fn parse_toml_file() {
        let t = r#"
            [[faults]]
            method = "GET"
            path = "*/whatsapp_business_solutions"
            after = 2
            do = { kind = "throttle", code = 4, status = 429 }

            [[faults]]
            path = "*/accept"
            [faults.do]
            kind = "commit_then_drop"
        "#;
        let f = parse_toml(t).unwrap();
        assert_eq!(f.len(), 2);
        assert_eq!(f[0].after, 2);
        assert_eq!(f[1].action, FaultAction::CommitThenDrop);
    }

    #[test]
    fn issue_9_faults_parse() {
        let f = parse_json(
            r#"[{"do":{"kind":"echo_token","into":"message","escaped":true,"pad":180}},
                {"do":{"kind":"oversize"}},
                {"do":{"kind":"oversize","bytes":1048576,"announce":true}},
                {"do":{"kind":"patch_row","index":2,"row":{"name":42}}}]"#,
        )
        .unwrap();
        assert_eq!(
            f[0].action,
            FaultAction::EchoToken {
                into: EchoInto::Message,
                escaped: true,
                pad: 180
            }
        );
        assert_eq!(
            f[1].action,
            FaultAction::Oversize {
                bytes: None,
                announce: false
            }
        );
        assert!(matches!(
            f[3].action,
            FaultAction::PatchRow { index: 2, .. }
        ));
        assert!(parse_json(r#"{"do":{"kind":"echo_token","into":"nowhere"}}"#).is_err());
    }

    #[test]
    fn hostile_names_replace_every_name() {
        let mut v =
            json!({"data":[{"id":"1","name":"a"},{"id":"2","name":"b","owner_app":{"name":"c"}}]});
        hostile_names(&mut v, &mut 0);
        assert_eq!(v["data"][0]["name"], HOSTILE_NAMES[0]);
        assert_eq!(v["data"][1]["name"], HOSTILE_NAMES[1]);
        assert_eq!(v["data"][1]["owner_app"]["name"], HOSTILE_NAMES[2]);
        assert_eq!(v["data"][1]["id"], "2");
        assert_eq!(long_name().chars().count(), 500);
    }
}
