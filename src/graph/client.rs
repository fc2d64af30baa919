//! The Graph API HTTP client: auth, timeouts, error classification, retries, paging, usage.
//!
//! - URL = `{base_url}/{api_version}/{path}`; the token goes only in `Authorization: Bearer`,
//!   never in a URL, a log line or an error message.
//! - GETs are retried on transient failures (and throttling with a short wait) with jittered
//!   exponential backoff; POST/DELETE are never retried, and are refused before anything is
//!   sent in read-only mode.
//! - A POST/DELETE whose answer is lost (timeout, reset, unreadable body) fails with
//!   `ErrorKind::OutcomeUnknown`: the caller must re-read, not re-send.

use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use backon::{ExponentialBuilder, Retryable};
use reqwest::header::{ACCEPT, AUTHORIZATION, ETAG, HeaderMap, HeaderValue, IF_NONE_MATCH};
use serde::de::DeserializeOwned;
use serde_json::Value;
use url::Url;

use super::error::{ErrorKind, GraphError};
use super::paging::{self, Fingerprint, PageIndex, PageMemo, Pager, RowAt, Step, Walk};
use super::secret::Token;

/// The Graph API version pinned by default (design.md).
pub const DEFAULT_API_VERSION: &str = "v25.0";

/// The User-Agent we send.
pub const USER_AGENT: &str = concat!("partnerdeck/", env!("CARGO_PKG_VERSION"));

/// First retry delay for GETs (doubled-and-a-half each time, plus up to 100% jitter).
const RETRY_MIN_DELAY: Duration = Duration::from_millis(200);
const RETRY_MAX_DELAY: Duration = Duration::from_secs(8);
const RETRY_FACTOR: f32 = 2.5;

/// How to reach Meta.
#[derive(Clone, Debug)]
pub struct ClientConfig {
    /// e.g. `https://graph.facebook.com` or `http://127.0.0.1:PORT`.
    pub base_url: String,
    /// e.g. `v25.0`.
    pub api_version: String,
    pub token: Token,
    pub read_only: bool,
    /// Default 5 s.
    pub connect_timeout: Duration,
    /// Over the whole request including reading the body. Default 20 s.
    pub request_timeout: Duration,
    /// Default 3.
    pub max_get_retries: usize,
    /// The largest answer read, in bytes; a larger one is a transport error naming the
    /// limit, and reading stops there. Default [`DEFAULT_MAX_ANSWER_BYTES`] (32 MB).
    pub max_answer_bytes: u64,
}

/// The default cap on one answer's size: 32 MB.
pub const DEFAULT_MAX_ANSWER_BYTES: u64 = 32 * 1024 * 1024;

/// Names the setting in the sentence of an answer over the size cap (and marks it as one).
const TOO_LARGE_MARK: &str = "(max_answer_bytes)";

/// What replaces a secret wherever Meta echoes it.
pub const REDACTED: &str = "<redacted>";

impl ClientConfig {
    /// A config with the default version (v25.0), timeouts and retries, not read-only.
    pub fn new(base_url: impl Into<String>, token: Token) -> ClientConfig {
        ClientConfig {
            base_url: base_url.into(),
            api_version: DEFAULT_API_VERSION.to_string(),
            token,
            read_only: false,
            connect_timeout: Duration::from_secs(5),
            request_timeout: Duration::from_secs(20),
            max_get_retries: 3,
            max_answer_bytes: DEFAULT_MAX_ANSWER_BYTES,
        }
    }
}

/// Most operations Meta takes in one batch request (reference §1.7).
pub const MAX_BATCH: usize = 50;

/// One GET inside a batch request: a Graph path (`{id}` or `{id}/{edge}`) and its query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchGet {
    pub path: String,
    pub query: Vec<(String, String)>,
}

impl BatchGet {
    pub fn new(path: impl Into<String>, query: &[(&str, &str)]) -> BatchGet {
        BatchGet {
            path: path.into(),
            query: query
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        }
    }

    /// `{path}?{query}`, relative to the version the batch is sent to.
    fn relative_url(&self) -> String {
        let path = self.path.trim_start_matches('/');
        if self.query.is_empty() {
            return path.to_string();
        }
        let mut q = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in &self.query {
            q.append_pair(k, v);
        }
        format!("{path}?{}", q.finish())
    }
}

/// The answer to a POST or DELETE.
#[derive(Debug, Clone)]
pub struct MutationResponse {
    pub http_status: u16,
    pub body: Value,
    pub fbtrace_id: Option<String>,
}

/// The latest rate-limit usage Meta reported (reference §1.5), for the status bar.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Usage {
    /// `X-App-Usage` `call_count`, percent of the app's limit.
    pub app_call_pct: Option<u32>,
    /// `X-App-Usage` `total_cputime`.
    pub app_cpu_pct: Option<u32>,
    /// `X-App-Usage` `total_time`.
    pub app_time_pct: Option<u32>,
    /// The highest percentage in `X-Business-Use-Case-Usage`, over all objects and types.
    pub buc_max_pct: Option<u32>,
    /// The highest `estimated_time_to_regain_access` (minutes) in `X-Business-Use-Case-Usage`.
    pub regain_minutes: Option<u32>,
}

/// `X-App-Usage` (its three percentages) and `X-Business-Use-Case-Usage` (the highest
/// percentage and regain minutes) as parsed.
type ParsedUsage = (
    Option<(Option<u32>, Option<u32>, Option<u32>)>,
    (Option<u32>, Option<u32>),
);

/// Usage headers as last seen, and what they said.
struct UsageSeen {
    app: Option<Box<str>>,
    buc: Option<Box<str>>,
    parsed: ParsedUsage,
}

/// A Graph API client. Cheap to clone (an `Arc` inside); `Debug` never shows the token.
#[derive(Clone)]
pub struct GraphClient {
    inner: Arc<Inner>,
    /// Counts the HTTP requests this handle sends, when set (see [`counting`](Self::counting)).
    tally: Option<Arc<AtomicU64>>,
}

struct Inner {
    http: reqwest::Client,
    base: Url,
    /// `{base_url}/{api_version}` without a trailing slash.
    prefix: String,
    cfg: ClientConfig,
    auth: HeaderValue,
    usage: Mutex<Usage>,
    /// The last usage headers seen, with what they say.
    usage_seen: Mutex<Option<UsageSeen>>,
    /// Set by an answer saying the token is expired or revoked; cleared by any success.
    auth_failed: AtomicBool,
}

impl fmt::Debug for GraphClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GraphClient")
            .field("base_url", &self.inner.cfg.base_url)
            .field("api_version", &self.inner.cfg.api_version)
            .field("read_only", &self.inner.cfg.read_only)
            .finish_non_exhaustive()
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Method {
    Get,
    Post,
    Delete,
}

impl Method {
    fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Delete => "DELETE",
        }
    }
}

/// A successful exchange.
struct Answer {
    status: u16,
    /// `Null` when a page was asked for ([`AnswerAs::Page`]).
    body: Value,
    /// The body as text with its index, when a page was asked for.
    page: Option<(String, Result<PageIndex, GraphError>)>,
    fbtrace: Option<String>,
    /// The answer's `ETag`, when a page was asked for and Meta sent one.
    etag: Option<String>,
}

/// How a successful answer's body is handed back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum AnswerAs<'a> {
    /// Decoded, every string scrubbed of the secrets.
    Json,
    /// A page of a list as text (scrubbed of the secrets as sent) with where its rows are
    /// ([`paging::index_page`]), its rows not decoded: for a caller that decodes only some.
    /// An error envelope is still recognised. With a tag, asked for with `If-None-Match`;
    /// a `304 Not Modified` is then an answer without a page.
    Page { if_none_match: Option<&'a str> },
}

/// A page of a list as [`GraphClient::get_url_page`] hands it back.
enum PageAnswer {
    /// The text, where its rows are, and its `ETag`.
    Text(String, PageIndex, Option<String>),
    /// `304 Not Modified`: the page the tag names.
    NotModified,
}

impl GraphClient {
    pub fn new(cfg: ClientConfig) -> Result<GraphClient, GraphError> {
        let base_str = cfg.base_url.trim().trim_end_matches('/').to_string();
        let base = Url::parse(&base_str)
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some())
            .ok_or_else(|| {
                GraphError::new(
                    ErrorKind::InvalidRequest,
                    format!(
                        "The Graph URL {:?} is not an http(s) URL",
                        cfg.base_url.replace(cfg.token.expose(), "<redacted>")
                    ),
                )
            })?;
        let version = cfg.api_version.trim().trim_matches('/');
        if version.is_empty() || version.contains(['/', '?', '#']) {
            return Err(GraphError::new(
                ErrorKind::InvalidRequest,
                format!("The API version {version:?} is not of the form vNN.0"),
            ));
        }
        let mut auth =
            HeaderValue::from_str(&format!("Bearer {}", cfg.token.expose())).map_err(|_| {
                GraphError::new(
                    ErrorKind::InvalidRequest,
                    "The access token contains characters that cannot be sent in a header",
                )
            })?;
        auth.set_sensitive(true);
        let mut headers = HeaderMap::new();
        headers.insert(ACCEPT, HeaderValue::from_static("application/json"));
        let http = reqwest::Client::builder()
            .connect_timeout(cfg.connect_timeout)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(USER_AGENT)
            .default_headers(headers)
            .build()
            .map_err(|e| {
                GraphError::new(
                    ErrorKind::Transport,
                    format!("Could not set up the HTTP client: {}", root_cause(&e)),
                )
            })?;
        let prefix = format!("{base_str}/{version}");
        Ok(GraphClient {
            inner: Arc::new(Inner {
                http,
                base,
                prefix,
                cfg,
                auth,
                usage: Mutex::new(Usage::default()),
                usage_seen: Mutex::new(None),
                auth_failed: AtomicBool::new(false),
            }),
            tally: None,
        })
    }

    pub fn read_only(&self) -> bool {
        self.inner.cfg.read_only
    }

    /// The same client (connections, usage, token state shared) that also counts every HTTP
    /// request it sends, retries included, in `tally`: what a round of reads cost.
    pub fn counting(&self, tally: Arc<AtomicU64>) -> GraphClient {
        GraphClient {
            inner: self.inner.clone(),
            tally: Some(tally),
        }
    }

    /// A reader of a paged list that hands out one page at a time (see [`ListReader`]), so a
    /// caller can turn rows into typed values page by page instead of holding the whole list
    /// as JSON.
    pub fn list_reader(
        &self,
        path: &str,
        query: &[(&str, &str)],
    ) -> Result<ListReader, GraphError> {
        let url = self.url_for(path)?;
        Ok(ListReader {
            client: self.clone(),
            what: redact_path(path),
            next: Some((
                url,
                query
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
            )),
            walk: Walk::new(),
            budget: AtomicU32::new(0),
            memos: vec![],
            position: 0,
            tags: None,
        })
    }

    pub fn api_version(&self) -> &str {
        &self.inner.cfg.api_version
    }

    pub fn base_url(&self) -> &str {
        &self.inner.cfg.base_url
    }

    /// The call as shown to a user and written to the audit log, e.g.
    /// `POST /v25.0/123/accept`. Never contains the token.
    pub fn describe_call(&self, method: &str, path: &str) -> String {
        format!(
            "{method} /{}/{}",
            self.inner.cfg.api_version.trim_matches('/'),
            path.trim_start_matches('/')
        )
    }

    /// The latest usage Meta reported in `X-App-Usage` / `X-Business-Use-Case-Usage`.
    pub fn usage(&self) -> Usage {
        self.inner
            .usage
            .lock()
            .map(|u| u.clone())
            .unwrap_or_default()
    }

    /// Whether Meta's last word on the token was that it is expired or revoked (code 190 and
    /// friends): set by such an answer, cleared by the next successful call. Pollers stop
    /// their timers while it is set, so a dead token never causes a retry storm.
    pub fn auth_failed(&self) -> bool {
        self.inner.auth_failed.load(Ordering::Relaxed)
    }

    /// GET `{base}/{version}/{path}` with `query`; returns the JSON body (an object or array).
    /// Transient failures, transport failures and throttling with a short wait are retried
    /// up to `max_get_retries` times with jittered exponential backoff.
    pub async fn get(&self, path: &str, query: &[(&str, &str)]) -> Result<Value, GraphError> {
        let url = self.url_for(path)?;
        self.get_url(url, query, &AtomicU32::new(0)).await
    }

    /// The first page of a list and every further page, sharing one throttle-retry budget:
    /// a throttled list is retried once at most, however many pages it has.
    async fn list_items(
        &self,
        path: &str,
        query: &[(&str, &str)],
    ) -> Result<Vec<Value>, GraphError> {
        let budget = AtomicU32::new(0);
        let url = self.url_for(path)?;
        let first = self.get_url(url, query, &budget).await?;
        self.rest_of_list(first, path, &budget).await
    }

    /// GET every page of a list (following `paging.next`), de-duplicated by `id`, each item
    /// deserialized as `T`. A bare object instead of a list is one item.
    pub async fn get_all<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, &str)],
    ) -> Result<Vec<T>, GraphError> {
        let items = self.list_items(path, query).await?;
        items
            .into_iter()
            .enumerate()
            .map(|(i, item)| {
                serde_json::from_value::<T>(item).map_err(|e| {
                    self.scrub(GraphError::new(
                        ErrorKind::Transport,
                        format!(
                            "Meta's answer did not have the expected shape: item {} of {}: {e}",
                            i + 1,
                            redact_path(path)
                        ),
                    ))
                })
            })
            .collect()
    }

    /// GET every page of a list like [`get_all`](Self::get_all), decoding it row by row:
    /// a row that does not read as `T`, or whose id is not a plain Graph id, is kept with a
    /// [`Malformed`](super::model::Malformed) mark; the other rows stand.
    pub async fn get_rows<T: super::model::Row>(
        &self,
        path: &str,
        query: &[(&str, &str)],
    ) -> Result<Vec<T>, GraphError> {
        // Page by page: a list of 66,000 allocations is never held as JSON all at once.
        let mut reader = self.list_reader(path, query)?;
        let mut rows = vec![];
        while let Some(page) = reader.next_page().await? {
            rows.extend(super::model::decode_rows::<T>(&page));
        }
        rows.shrink_to_fit();
        Ok(rows)
    }

    /// [`get_rows`](Self::get_rows), with the tag of every page when Meta tagged each one:
    /// what [`list_unchanged`](Self::list_unchanged) asks with on the next read. Each row is
    /// decoded from its text (and scrubbed), so no page is held as JSON.
    pub async fn get_rows_tagged<T: super::model::Row>(
        &self,
        path: &str,
        query: &[(&str, &str)],
    ) -> Result<(Vec<T>, Option<Vec<PageTag>>), GraphError> {
        let mut reader = self.list_reader(path, query)?;
        reader.tags = Some(vec![]);
        let mut rows = vec![];
        while let Some(page) = reader.next_list_page().await? {
            // Never remembering pages, the reader only hands out text.
            let ListPage::Text { text, rows: at, .. } = page else {
                continue;
            };
            for row in &at {
                rows.push(self.decode_row_text::<T>(row.text(&text))?);
            }
        }
        rows.shrink_to_fit();
        Ok((rows, reader.tags))
    }

    /// A row of a page read as text, decoded like the rows of [`get_rows`](Self::get_rows)
    /// after the secrets are scrubbed from its strings.
    fn decode_row_text<T: super::model::Row>(&self, text: &str) -> Result<T, GraphError> {
        Ok(super::model::decode_row::<T>(&self.row_value(text)?))
    }

    /// A row of a page read as text ([`ListPage::Text`]) as JSON, the secrets scrubbed from
    /// its strings.
    pub fn row_value(&self, text: &str) -> Result<Value, GraphError> {
        // The page was indexed as JSON, so each row is.
        let mut item: Value = serde_json::from_str(text).map_err(|e| {
            GraphError::new(
                ErrorKind::Transport,
                format!("Meta's answer did not have the expected shape: {e}"),
            )
        })?;
        self.scrub_json(&mut item);
        Ok(item)
    }

    /// Whether every page of a list read before is still as it was: each is asked for again,
    /// in order, with its tag (`If-None-Match`), and the answer is `304 Not Modified`. At the
    /// first page Meta sends again (it changed) the rest is not asked for.
    pub async fn list_unchanged(&self, tags: &[PageTag]) -> Result<bool, GraphError> {
        let budget = AtomicU32::new(0);
        for tag in tags {
            let query: Vec<(&str, &str)> =
                tag.query.iter().map(|(k, v)| (&k[..], &v[..])).collect();
            let answer = self
                .get_url_page(tag.url.clone(), &query, &budget, Some(&tag.etag))
                .await?;
            if !matches!(answer, PageAnswer::NotModified) {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// The items of a list whose first page is already in hand (e.g. an edge expanded inside
    /// another call, `phone_numbers{...}`), reading the further pages its `paging.next` names
    /// with the same rules as [`get_all`](Self::get_all). `what` names the list in logs.
    pub async fn follow_pages(&self, first: Value, what: &str) -> Result<Vec<Value>, GraphError> {
        self.rest_of_list(first, what, &AtomicU32::new(0)).await
    }

    async fn rest_of_list(
        &self,
        first: Value,
        path: &str,
        throttle_budget: &AtomicU32,
    ) -> Result<Vec<Value>, GraphError> {
        let mut pager = Pager::new();
        let mut step = pager.push(paging::parse_page(first)?)?;
        loop {
            match step {
                Step::Done => break,
                Step::Stalled => {
                    tracing::warn!(
                        path = %redact_path(path),
                        pages = pager.pages(),
                        "paging cursor did not advance; stopping with the items read so far"
                    );
                    break;
                }
                Step::Next(next) => {
                    let url = paging::check_next_url(&self.inner.base, &next)
                        .map_err(|e| self.scrub(e))?;
                    let body = self.get_url(url, &[], throttle_budget).await?;
                    step = pager.push(paging::parse_page(body)?)?;
                }
            }
        }
        Ok(pager.into_items())
    }

    /// Several GETs in Graph batch requests (reference §1.7): `POST /` with at most
    /// [`MAX_BATCH`] operations each, the chunks one after another. Only reads can be put in,
    /// so a batch is not a mutation: it is sent in read-only mode too, and retried like a GET.
    /// The outer error is the batch's own failure; each inner result is one operation's answer,
    /// in request order.
    pub async fn batch_get(
        &self,
        requests: &[BatchGet],
    ) -> Result<Vec<Result<Value, GraphError>>, GraphError> {
        // Checked like any path, so an operation cannot leave the Graph API either; an
        // operation whose path is not plain fails alone, without being sent.
        let mut slots: Vec<Option<Result<Value, GraphError>>> = Vec::with_capacity(requests.len());
        let mut sendable: Vec<&BatchGet> = Vec::with_capacity(requests.len());
        for r in requests {
            match self.url_for(&r.path) {
                Ok(_) => {
                    slots.push(None);
                    sendable.push(r);
                }
                Err(e) => slots.push(Some(Err(e))),
            }
        }
        let mut answered: Vec<Result<Value, GraphError>> = Vec::with_capacity(sendable.len());
        for chunk in sendable.chunks(MAX_BATCH) {
            let mut ops = Vec::with_capacity(chunk.len());
            for r in chunk {
                ops.push(serde_json::json!({ "method": "GET", "relative_url": r.relative_url() }));
            }
            let body = serde_json::json!({
                "batch": Value::Array(ops).to_string(),
                "include_headers": false,
            });
            let url = self.url_for("")?;
            let answer = self
                .retrying(&url, &AtomicU32::new(0), || async {
                    let a = self
                        .exec(Method::Post, url.clone(), &[], Some(&body), false, None)
                        .await?;
                    match a.body {
                        Value::Array(items) if items.len() == chunk.len() => Ok(items),
                        other => Err(self.scrub(
                            GraphError::new(
                                ErrorKind::Transport,
                                format!(
                                    "Meta's answer to a batch request did not have the expected shape: {} instead of a list of {} answers",
                                    paging::json_type(&other),
                                    chunk.len()
                                ),
                            )
                            .with_status(a.status)
                            .with_fbtrace(a.fbtrace),
                        )),
                    }
                })
                .await?;
            answered.extend(answer.into_iter().map(|item| self.batch_item(item)));
        }
        let mut answered = answered.into_iter();
        Ok(slots
            .into_iter()
            .map(|slot| {
                slot.or_else(|| answered.next()).unwrap_or_else(|| {
                    Err(GraphError::new(
                        ErrorKind::Transport,
                        "Meta's answer to one request of a batch is missing",
                    ))
                })
            })
            .collect())
    }

    /// One operation's answer inside a batch: `{code, headers?, body: "<json>"}`, or `null`
    /// when Meta did not get to it.
    fn batch_item(&self, item: Value) -> Result<Value, GraphError> {
        let shape = |what: &str| {
            GraphError::new(
                ErrorKind::Transport,
                format!("Meta's answer to one request of a batch {what}"),
            )
        };
        if item.is_null() {
            return Err(shape("is missing: it was not completed in time"));
        }
        let status = item
            .get("code")
            .and_then(Value::as_u64)
            .and_then(|c| u16::try_from(c).ok())
            .ok_or_else(|| shape("has no status code"))?;
        let mut body: Value = match item.get("body") {
            Some(Value::String(s)) => {
                serde_json::from_str(s).map_err(|_| shape("is not valid JSON"))?
            }
            Some(v @ (Value::Object(_) | Value::Array(_))) => v.clone(),
            _ => return Err(shape("has no body").with_status(status)),
        };
        // The inner body was a JSON string: what it decodes to is scrubbed again.
        scrub_value(&mut body, &self.secrets(None));
        if let Some(e) = GraphError::from_envelope(&body, Some(status), None) {
            return Err(self.scrub(e));
        }
        if !(200..300).contains(&status) {
            return Err(GraphError::from_status(status));
        }
        match body {
            Value::Object(_) | Value::Array(_) => Ok(body),
            other => Err(shape(&format!(
                "is {} instead of an object",
                paging::json_type(&other)
            ))),
        }
    }

    /// POST once (never retried). In read-only mode, refused with `ErrorKind::ReadOnly`
    /// before anything is sent.
    pub async fn post(
        &self,
        path: &str,
        query: &[(&str, &str)],
        json_body: Option<Value>,
    ) -> Result<MutationResponse, GraphError> {
        self.mutate(Method::Post, path, query, json_body, None)
            .await
    }

    /// Like [`post`](Self::post), for a body that carries a secret besides the token (the
    /// two-step verification PIN of `register`): should Meta echo it, it is scrubbed from
    /// the answer and the error exactly like the token.
    pub async fn post_with_secret(
        &self,
        path: &str,
        query: &[(&str, &str)],
        json_body: Option<Value>,
        secret: &str,
    ) -> Result<MutationResponse, GraphError> {
        self.mutate(Method::Post, path, query, json_body, Some(secret))
            .await
    }

    /// DELETE once (never retried). In read-only mode, refused with `ErrorKind::ReadOnly`
    /// before anything is sent.
    pub async fn delete(
        &self,
        path: &str,
        query: &[(&str, &str)],
    ) -> Result<MutationResponse, GraphError> {
        self.mutate(Method::Delete, path, query, None, None).await
    }

    async fn mutate(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, &str)],
        body: Option<Value>,
        secret: Option<&str>,
    ) -> Result<MutationResponse, GraphError> {
        if self.read_only() {
            tracing::info!(method = method.as_str(), path = %redact_path(path), "refused: read-only mode");
            return Err(GraphError::read_only());
        }
        let url = self.url_for(path)?;
        let a = self
            .exec(method, url, query, body.as_ref(), true, secret)
            .await?;
        Ok(MutationResponse {
            http_status: a.status,
            body: a.body,
            fbtrace_id: a.fbtrace,
        })
    }

    async fn get_url(
        &self,
        url: Url,
        query: &[(&str, &str)],
        throttle_budget: &AtomicU32,
    ) -> Result<Value, GraphError> {
        let attempt = || async {
            let a = self
                .exec(Method::Get, url.clone(), query, None, false, None)
                .await?;
            match a.body {
                Value::Object(_) | Value::Array(_) => Ok(a.body),
                other => Err(self.scrub(
                    GraphError::new(
                        ErrorKind::Transport,
                        format!(
                            "Meta's answer did not have the expected shape: it is {} instead of an object",
                            paging::json_type(&other)
                        ),
                    )
                    .with_status(a.status)
                    .with_fbtrace(a.fbtrace),
                )),
            }
        };
        self.retrying(&url, throttle_budget, attempt).await
    }

    /// A GET of a list page handed back as text with its index (see [`AnswerAs::Page`]),
    /// retried like [`get_url`](Self::get_url).
    async fn get_url_page(
        &self,
        url: Url,
        query: &[(&str, &str)],
        throttle_budget: &AtomicU32,
        if_none_match: Option<&str>,
    ) -> Result<PageAnswer, GraphError> {
        let attempt = || async {
            let a = self
                .exec_as(
                    Method::Get,
                    url.clone(),
                    query,
                    None,
                    false,
                    None,
                    AnswerAs::Page { if_none_match },
                )
                .await?;
            Ok((a.status, a.page, a.etag))
        };
        // A page of the wrong shape is not asked for again (as with `get_url`).
        let (status, page, etag) = self.retrying(&url, throttle_budget, attempt).await?;
        if status == 304 {
            return Ok(PageAnswer::NotModified);
        }
        let (text, index) = page.unwrap_or_else(|| (String::new(), Ok(PageIndex::default())));
        Ok(PageAnswer::Text(
            text,
            index.map_err(|e| self.scrub(e))?,
            etag,
        ))
    }

    /// Scrub the secrets from every string of a value decoded from an answer read as text.
    pub fn scrub_json(&self, v: &mut Value) {
        scrub_value(v, &self.secrets(None));
    }

    /// Run a read, retrying transient failures (and short throttles) with jittered
    /// exponential backoff, at most `max_get_retries` times.
    async fn retrying<T, F, Fut>(
        &self,
        url: &Url,
        throttle_retries: &AtomicU32,
        attempt: F,
    ) -> Result<T, GraphError>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<T, GraphError>>,
    {
        // A throttle is retried at most once per read (per list, for the pages of one list:
        // `throttle_retries` is shared), and only when it may be (see
        // `GraphError::is_retryable`): calls made while throttled extend the block.
        let backoff = ExponentialBuilder::default()
            .with_min_delay(RETRY_MIN_DELAY)
            .with_max_delay(RETRY_MAX_DELAY)
            .with_factor(RETRY_FACTOR)
            .with_max_times(self.inner.cfg.max_get_retries)
            .with_jitter();
        attempt
            .retry(backoff)
            .when(|e: &GraphError| {
                // An answer over the size cap would be as large again: not retried.
                e.is_retryable()
                    && !(e.kind == ErrorKind::Transport && e.message.contains(TOO_LARGE_MARK))
                    && (e.kind != ErrorKind::Throttled
                        || throttle_retries.fetch_add(1, Ordering::Relaxed) == 0)
            })
            .adjust(
                |e: &GraphError, d: Option<Duration>| match (e.retry_after, d) {
                    (Some(wait), Some(d)) => Some(d.max(wait)),
                    (_, d) => d,
                },
            )
            .notify(|e: &GraphError, d: Duration| {
                tracing::warn!(
                    path = %url.path(),
                    kind = ?e.kind,
                    code = ?e.code,
                    http_status = ?e.http_status,
                    retry_in_ms = d.as_millis() as u64,
                    "read failed; retrying"
                );
            })
            .await
    }

    /// Resolve a relative Graph path against `{base}/{version}`. Refuses anything that is not
    /// a plain path (query, fragment, `..`, whitespace), so a path can never change the host.
    fn url_for(&self, path: &str) -> Result<Url, GraphError> {
        let path = path.trim_start_matches('/');
        let plain = !path.contains(['?', '#', '\\'])
            && !path.chars().any(|c| c.is_whitespace() || c.is_control())
            && !path.split('/').any(|seg| seg == ".." || seg == ".");
        let bad = || {
            self.scrub(GraphError::new(
                ErrorKind::InvalidRequest,
                format!(
                    "Not sent: {:?} is not a plain Graph path",
                    redact_path(path)
                ),
            ))
        };
        if !plain {
            return Err(bad());
        }
        let url = Url::parse(&format!("{}/{path}", self.inner.prefix)).map_err(|_| bad())?;
        if paging::origin_of(&url) != paging::origin_of(&self.inner.base) {
            return Err(bad());
        }
        Ok(url)
    }

    fn scrub(&self, e: GraphError) -> GraphError {
        e.scrub(self.inner.cfg.token.expose())
    }

    /// The secrets no answer may carry past the client: the token, and `extra` (a PIN).
    fn secrets<'a>(&'a self, extra: Option<&'a str>) -> Vec<&'a str> {
        let mut v = vec![self.inner.cfg.token.expose()];
        v.extend(extra);
        v.retain(|s| !s.is_empty());
        v
    }

    /// One HTTP exchange: send, read the whole body within `request_timeout`, record usage,
    /// turn any failure into a classified, scrubbed `GraphError`. `mutation`: whether the call
    /// changes something, so a lost answer leaves the outcome unknown (a batch of reads is a
    /// POST that does not).
    async fn exec(
        &self,
        method: Method,
        url: Url,
        query: &[(&str, &str)],
        body: Option<&Value>,
        mutation: bool,
        secret: Option<&str>,
    ) -> Result<Answer, GraphError> {
        self.exec_as(method, url, query, body, mutation, secret, AnswerAs::Json)
            .await
    }

    /// [`exec`](Self::exec), the body handed back as `answer_as` says.
    #[allow(clippy::too_many_arguments)]
    async fn exec_as(
        &self,
        method: Method,
        url: Url,
        query: &[(&str, &str)],
        body: Option<&Value>,
        mutation: bool,
        secret: Option<&str>,
        answer_as: AnswerAs<'_>,
    ) -> Result<Answer, GraphError> {
        let inner = &self.inner;
        if let Some(t) = &self.tally {
            t.fetch_add(1, Ordering::Relaxed);
        }
        let secrets = self.secrets(secret);
        let scrub = |e: GraphError| e.scrub_all(&secrets);
        let log_path = url.path().to_string();
        let mut req = match method {
            Method::Get => inner.http.get(url),
            Method::Post => inner.http.post(url),
            Method::Delete => inner.http.delete(url),
        }
        .header(AUTHORIZATION, inner.auth.clone());
        if !query.is_empty() {
            req = req.query(query);
        }
        if let Some(b) = body {
            req = req.json(b);
        }
        if let AnswerAs::Page {
            if_none_match: Some(tag),
        } = answer_as
            && let Ok(tag) = HeaderValue::from_str(tag)
        {
            req = req.header(IF_NONE_MATCH, tag);
        }
        let started = Instant::now();
        let timeout = inner.cfg.request_timeout;
        let cap = inner.cfg.max_answer_bytes;
        let exchange = async {
            let mut resp = req.send().await?;
            let status = resp.status().as_u16();
            // Taken, not copied: the body's length comes from the body, not these.
            let headers = std::mem::take(resp.headers_mut());
            let body = read_capped(resp, cap).await;
            Ok::<_, reqwest::Error>((status, headers, body))
        };
        let result = tokio::time::timeout(timeout, exchange).await;
        let ms = started.elapsed().as_millis() as u64;

        let (status, headers, body) = match result {
            Err(_) => {
                tracing::warn!(method = method.as_str(), path = %log_path, ms, "request timed out");
                let e = GraphError::new(
                    ErrorKind::Transport,
                    format!("The request timed out after {}", fmt_secs(timeout)),
                );
                return Err(scrub(lost_answer(e, mutation)));
            }
            Ok(Err(e)) => {
                tracing::warn!(method = method.as_str(), path = %log_path, ms, error = %scrub_text(&root_cause(&e), &secrets), "request failed");
                return Err(scrub(self.transport_error(&e, mutation)));
            }
            Ok(Ok(parts)) => parts,
        };
        // A trace id is shown, logged and written to the audit log: only a plain one that
        // carries no secret is kept.
        let fbtrace = headers
            .get("x-fb-trace-id")
            .and_then(|v| v.to_str().ok())
            .and_then(super::error::trace_id)
            .filter(|t| !secrets.iter().any(|s| t.contains(s)));
        let (app, buc) = (
            headers.get("x-app-usage").and_then(|v| v.to_str().ok()),
            headers
                .get("x-business-use-case-usage")
                .and_then(|v| v.to_str().ok()),
        );
        let (app, (buc_pct, regain)) = self.parse_usage(app, buc);
        self.record_usage(app, buc.map(|_| (buc_pct, regain)));
        let usage_pct = app
            .into_iter()
            .flat_map(|(a, b, c)| [a, b, c])
            .chain([buc_pct])
            .flatten()
            .max();

        let bytes = match body {
            Body::Read(b) => b,
            Body::TooLarge => {
                tracing::warn!(method = method.as_str(), path = %log_path, status, ms, limit = cap, "answer larger than the limit; not read");
                let e = GraphError::new(
                    ErrorKind::Transport,
                    format!(
                        "Meta's answer was larger than the limit of {} {TOO_LARGE_MARK}, so it was not read",
                        fmt_bytes(cap)
                    ),
                )
                .with_status(status)
                .with_fbtrace(fbtrace);
                return Err(scrub(lost_answer(e, mutation)));
            }
            Body::Failed(e) => {
                tracing::warn!(method = method.as_str(), path = %log_path, status, ms, "reading the body failed");
                let err = self
                    .transport_error(&e, mutation)
                    .with_status(status)
                    .with_fbtrace(fbtrace);
                return Err(scrub(err));
            }
        };
        tracing::debug!(
            method = method.as_str(),
            path = %log_path,
            status,
            ms,
            fbtrace_id = fbtrace.as_deref().unwrap_or(""),
            bytes = bytes.len(),
            "graph call"
        );

        // Should Meta (or a proxy) ever echo a secret, it goes no further than here: out of
        // the raw bytes, then out of every decoded string (a \u-escaped echo decodes to it).
        let mut bytes = bytes;
        for secret in &secrets {
            let scrubbed = match scrub_bytes(&bytes, secret.as_bytes()) {
                std::borrow::Cow::Owned(b) => Some(b),
                std::borrow::Cow::Borrowed(_) => None,
            };
            if let Some(b) = scrubbed {
                bytes = b;
            }
        }
        let as_page = matches!(answer_as, AnswerAs::Page { .. });
        // A tag is handed back as sent (a short, visible-ASCII one: it goes back in a header).
        let etag = as_page
            .then(|| headers.get(ETAG).and_then(|v| v.to_str().ok()))
            .flatten()
            .filter(|t| !t.is_empty() && t.len() <= 256)
            .map(str::to_string);
        if as_page && status == 304 {
            // Not modified: the page the caller remembers (the caller knows whether it
            // asked with a tag). No body to read.
            inner.auth_failed.store(false, Ordering::Relaxed);
            return Ok(Answer {
                status,
                body: Value::Null,
                page: None,
                fbtrace,
                etag,
            });
        }
        let success = (200..300).contains(&status);
        // A page asked for: indexed in one pass, not decoded, unless it may be an error
        // envelope (an answer with an "error" anywhere in it).
        let as_page = as_page && success;
        let mut index = None;
        let decoded = if as_page && memchr::memmem::find(&bytes, b"\"error\"").is_none() {
            std::str::from_utf8(&bytes)
                .ok()
                .and_then(|t| paging::index_page(t).ok())
                .map(|i| index = Some(i))
                .map(|()| Value::Null)
                .ok_or(())
        } else {
            serde_json::from_slice(&bytes).map_err(|_| ())
        };
        let mut json: Value = match decoded {
            Ok(v) => v,
            Err(()) => {
                let content_type = headers
                    .get(reqwest::header::CONTENT_TYPE)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("");
                let e =
                    GraphError::new(ErrorKind::Transport, not_json(status, content_type, &bytes))
                        .with_status(status)
                        .with_fbtrace(fbtrace);
                return Err(scrub(lost_answer(e, mutation)));
            }
        };
        scrub_value(&mut json, &secrets);

        let throttle_wait = || {
            regain
                .filter(|m| *m > 0)
                .map(|m| Duration::from_secs(u64::from(m).saturating_mul(60)))
                .or_else(|| {
                    headers
                        .get(reqwest::header::RETRY_AFTER)
                        .and_then(|v| v.to_str().ok())
                        .and_then(|s| s.trim().parse::<u64>().ok())
                        .map(Duration::from_secs)
                })
        };
        let err = match GraphError::from_envelope(&json, Some(status), fbtrace.as_deref()) {
            Some(e) => Some(e),
            None if !success => Some(GraphError::from_status(status).with_fbtrace(fbtrace.clone())),
            None => None,
        };
        if let Some(mut e) = err {
            e.usage_pct = usage_pct;
            if e.kind == ErrorKind::Throttled {
                e.retry_after = throttle_wait().map(|d| d.min(super::error::MAX_WAIT));
            }
            if e.kind == ErrorKind::AuthExpired {
                inner.auth_failed.store(true, Ordering::Relaxed);
            }
            let e = scrub(e);
            tracing::warn!(
                method = method.as_str(),
                path = %log_path,
                status,
                code = ?e.code,
                subcode = ?e.subcode,
                kind = ?e.kind,
                fbtrace_id = e.fbtrace_id.as_deref().unwrap_or(""),
                "graph error"
            );
            return Err(e);
        }
        inner.auth_failed.store(false, Ordering::Relaxed);
        if mutation {
            tracing::info!(method = method.as_str(), path = %log_path, status, ms, fbtrace_id = fbtrace.as_deref().unwrap_or(""), "mutation answered");
        }
        let page = if as_page {
            // Read as JSON above, so it is text and indexes.
            let text = String::from_utf8(bytes).unwrap_or_default();
            let index = match index {
                Some(i) => i,
                None => paging::index_page(&text).unwrap_or_else(|_| Ok(PageIndex::default())),
            };
            json = Value::Null;
            Some((text, index))
        } else {
            None
        };
        Ok(Answer {
            status,
            body: json,
            page,
            fbtrace,
            etag,
        })
    }

    /// The usage headers read: the same text as the last answer's is not parsed again
    /// (a round of a thousand pages mostly sees the same two headers).
    fn parse_usage(&self, app: Option<&str>, buc: Option<&str>) -> ParsedUsage {
        let same = |seen: &UsageSeen| seen.app.as_deref() == app && seen.buc.as_deref() == buc;
        if let Ok(seen) = self.inner.usage_seen.lock()
            && let Some(seen) = seen.as_ref().filter(|s| same(s))
        {
            return seen.parsed;
        }
        let parsed = (
            app.and_then(parse_app_usage),
            buc.map(parse_buc_usage).unwrap_or((None, None)),
        );
        if let Ok(mut seen) = self.inner.usage_seen.lock() {
            *seen = Some(UsageSeen {
                app: app.map(Into::into),
                buc: buc.map(Into::into),
                parsed,
            });
        }
        parsed
    }

    fn record_usage(
        &self,
        app: Option<(Option<u32>, Option<u32>, Option<u32>)>,
        buc: Option<(Option<u32>, Option<u32>)>,
    ) {
        if app.is_none() && buc.is_none() {
            return;
        }
        if let Ok(mut u) = self.inner.usage.lock() {
            if let Some((call, cpu, time)) = app {
                u.app_call_pct = call;
                u.app_cpu_pct = cpu;
                u.app_time_pct = time;
            }
            if let Some((pct, regain)) = buc {
                u.buc_max_pct = pct;
                u.regain_minutes = regain;
            }
        }
    }

    fn transport_error(&self, e: &reqwest::Error, mutation: bool) -> GraphError {
        let host = self
            .inner
            .base
            .host_str()
            .unwrap_or("the Graph API")
            .to_string();
        let host = match self.inner.base.port() {
            Some(p) => format!("{host}:{p}"),
            None => host,
        };
        let cause = root_cause(e);
        if e.is_connect() {
            // Nothing reached the server, so even a mutation was not sent.
            let what = if mutation { " (nothing was sent)" } else { "" };
            let msg = if e.is_timeout() {
                format!(
                    "Could not connect to {host} within {}{what}",
                    fmt_secs(self.inner.cfg.connect_timeout)
                )
            } else {
                format!("Could not connect to {host}: {cause}{what}")
            };
            return GraphError::new(ErrorKind::Transport, msg);
        }
        let msg = if e.is_timeout() {
            format!(
                "The request timed out after {}",
                fmt_secs(self.inner.cfg.request_timeout)
            )
        } else {
            format!("The connection to {host} failed: {cause}")
        };
        lost_answer(GraphError::new(ErrorKind::Transport, msg), mutation)
    }
}

/// A paged list read one page at a time, with the rules of [`GraphClient::get_all`]: rows
/// de-duplicated by id, `paging.next` followed only on the Graph origin, a stalled cursor
/// ends the list, one throttle retry for the whole list.
pub struct ListReader {
    client: GraphClient,
    /// The list's path, for logs.
    what: String,
    next: Option<(Url, Vec<(String, String)>)>,
    walk: Walk,
    budget: AtomicU32,
    /// Pages remembered from an earlier read, by position ([`ListReader::remembering`]).
    memos: Vec<Option<PageMemo>>,
    /// The position of the next page.
    position: usize,
    /// Each page read so far as it can be asked for again with its tag, when asked to keep
    /// them ([`GraphClient::get_rows_tagged`]); `None` once a page came without one.
    tags: Option<Vec<PageTag>>,
}

/// A page of a list as it was read: its request and Meta's `ETag` for it, so that it can be
/// asked for again with `If-None-Match` ([`GraphClient::list_unchanged`]).
#[derive(Debug, Clone, PartialEq)]
pub struct PageTag {
    url: Url,
    query: Vec<(String, String)>,
    etag: Box<str>,
}

/// A page as [`ListReader::next_list_page`] hands it on.
#[derive(Debug)]
pub enum ListPage {
    /// Read: the page's text and its rows not seen before (in the text).
    Text {
        text: String,
        rows: Vec<RowAt>,
        /// Every row of the page is among `rows` (none was seen before).
        whole: bool,
        /// What a [`PageMemo`] of this page needs: the request's fingerprint, the tag,
        /// the cursors.
        request: Fingerprint,
        etag: Option<String>,
        next: Option<String>,
        after: Option<String>,
    },
    /// `304 Not Modified`: the remembered page, and which of its rows were not seen before.
    Same { memo: PageMemo, fresh: Vec<bool> },
}

/// The fingerprint of a request: its URL and query.
fn request_print(url: &Url, query: &[(&str, &str)]) -> Fingerprint {
    let mut text = String::from(url.as_str());
    for (k, v) in query {
        text.push('\n');
        text.push_str(k);
        text.push('=');
        text.push_str(v);
    }
    paging::fingerprint(&text)
}

impl ListReader {
    /// The next page's rows not seen before; `None` once the list is complete.
    pub async fn next_page(&mut self) -> Result<Option<Vec<Value>>, GraphError> {
        let Some((url, query)) = self.next.take() else {
            return Ok(None);
        };
        let query: Vec<(&str, &str)> = query.iter().map(|(k, v)| (&k[..], &v[..])).collect();
        let body = self.client.get_url(url, &query, &self.budget).await?;
        let (fresh, step) = self.walk.take(paging::parse_page(body)?);
        self.follow(step?)?;
        Ok(Some(fresh))
    }

    /// Pages remembered from an earlier read of this list, by position: each is asked for
    /// with its tag when the request is the same, and a `304 Not Modified` hands it back
    /// ([`ListPage::Same`]).
    pub fn remembering(mut self, memos: Vec<Option<PageMemo>>) -> ListReader {
        self.memos = memos;
        self
    }

    /// Room for about `rows` rows (as many as the list had last time).
    pub fn expecting(mut self, rows: usize) -> ListReader {
        self.walk.reserve(rows);
        self
    }

    /// The next page like [`next_page`](Self::next_page), its rows left as the text Meta sent,
    /// each with its id: nothing is decoded; or the remembered page, when Meta says it was not
    /// modified. Strings inside the rows are not scrubbed of a `\u`-escaped secret: a caller
    /// that decodes a row passes it through [`GraphClient::scrub_json`].
    pub async fn next_list_page(&mut self) -> Result<Option<ListPage>, GraphError> {
        let Some((url, query)) = self.next.take() else {
            return Ok(None);
        };
        let position = self.position;
        self.position += 1;
        let query: Vec<(&str, &str)> = query.iter().map(|(k, v)| (&k[..], &v[..])).collect();
        let request = request_print(&url, &query);
        let memo = self
            .memos
            .get_mut(position)
            .and_then(Option::take)
            .filter(|m| m.request == request);
        let tag = memo.as_ref().map(|m| &*m.etag);
        let mut answer = self
            .client
            .get_url_page(url.clone(), &query, &self.budget, tag)
            .await?;
        if matches!(answer, PageAnswer::NotModified) && memo.is_none() {
            // A 304 for a page we do not remember (a cache on the way confused it with
            // another): asked for again without a tag.
            tracing::warn!(path = %self.what, position, "304 for a page not remembered; asked again");
            answer = self
                .client
                .get_url_page(url.clone(), &query, &self.budget, None)
                .await?;
        }
        let etag = match (&answer, &memo) {
            (PageAnswer::NotModified, Some(memo)) => Some(&*memo.etag),
            (PageAnswer::Text(_, _, etag), _) => etag.as_deref(),
            (PageAnswer::NotModified, None) => None,
        };
        self.tags = match (self.tags.take(), etag) {
            (Some(mut tags), Some(etag)) => {
                tags.push(PageTag {
                    url,
                    query: query
                        .iter()
                        .map(|(k, v)| (k.to_string(), v.to_string()))
                        .collect(),
                    etag: etag.into(),
                });
                Some(tags)
            }
            _ => None,
        };
        match (answer, memo) {
            (PageAnswer::NotModified, Some(memo)) => {
                let (fresh, step) = self.walk.take_remembered(&memo);
                self.follow(step?)?;
                Ok(Some(ListPage::Same { memo, fresh }))
            }
            (PageAnswer::NotModified, None) => Err(GraphError::new(
                ErrorKind::Transport,
                "Meta answered 304 Not Modified to a page asked for without a tag, so the rest of the list was not read",
            )),
            (PageAnswer::Text(text, index, etag), _) => {
                let total = index.rows.len();
                let (next, after) = (index.next.clone(), index.after.clone());
                let (fresh, step) = self
                    .walk
                    .take_raw(index.rows(&text), index.next, index.after);
                let whole = fresh.len() == total;
                let rows: Vec<RowAt> = fresh.into_iter().map(|r| RowAt::of(&text, r)).collect();
                self.follow(step?)?;
                Ok(Some(ListPage::Text {
                    text,
                    rows,
                    whole,
                    request,
                    etag,
                    next,
                    after,
                }))
            }
        }
    }

    fn follow(&mut self, step: Step) -> Result<(), GraphError> {
        match step {
            Step::Done => {}
            Step::Stalled => tracing::warn!(
                path = %self.what,
                pages = self.walk.pages(),
                "paging cursor did not advance; stopping with the items read so far"
            ),
            Step::Next(next) => {
                let url = paging::check_next_url(&self.client.inner.base, &next)
                    .map_err(|e| self.client.scrub(e))?;
                self.next = Some((url, vec![]));
            }
        }
        Ok(())
    }

    /// Pages read so far.
    pub fn pages(&self) -> usize {
        self.walk.pages()
    }
}

/// For a mutation, a transport failure after the request may have been sent means the
/// outcome is unknown.
fn lost_answer(mut e: GraphError, mutation: bool) -> GraphError {
    if mutation && e.kind == ErrorKind::Transport {
        e.kind = ErrorKind::OutcomeUnknown;
        e.message = format!(
            "{}, so the outcome is unknown: re-read before sending it again",
            e.message.trim_end_matches('.')
        );
    }
    e
}

/// How reading an answer's body ended.
enum Body {
    Read(Vec<u8>),
    /// Larger than the cap: reading stopped there.
    TooLarge,
    Failed(reqwest::Error),
}

/// Read a body chunk by chunk, stopping as soon as it is larger than `cap` bytes (a
/// `Content-Length` above the cap stops it before the first byte).
async fn read_capped(mut resp: reqwest::Response, cap: u64) -> Body {
    if resp.content_length().is_some_and(|n| n > cap) {
        return Body::TooLarge;
    }
    // Room for the whole body when its length is known: a list page is read without copies.
    let mut buf: Vec<u8> = Vec::with_capacity(resp.content_length().unwrap_or(0) as usize);
    loop {
        match resp.chunk().await {
            Ok(Some(chunk)) => {
                if (buf.len() as u64).saturating_add(chunk.len() as u64) > cap {
                    return Body::TooLarge;
                }
                buf.extend_from_slice(&chunk);
            }
            Ok(None) => return Body::Read(buf),
            Err(e) => return Body::Failed(e),
        }
    }
}

/// `32 MB`, `512 KB`, `100 bytes`.
fn fmt_bytes(n: u64) -> String {
    const MB: u64 = 1024 * 1024;
    if n >= MB && n.is_multiple_of(MB) {
        format!("{} MB", n / MB)
    } else if n >= 1024 && n.is_multiple_of(1024) {
        format!("{} KB", n / 1024)
    } else {
        format!("{n} bytes")
    }
}

/// Replace every occurrence of each secret in `s` with [`REDACTED`].
fn scrub_text(s: &str, secrets: &[&str]) -> String {
    let mut out = s.to_string();
    for secret in secrets.iter().filter(|x| !x.is_empty()) {
        if out.contains(secret) {
            out = out.replace(secret, REDACTED);
        }
    }
    out
}

/// Scrub every string of a JSON value, object keys included, of each secret.
fn scrub_value(v: &mut Value, secrets: &[&str]) {
    if secrets.is_empty() {
        return;
    }
    let dirty = |s: &str| secrets.iter().any(|x| s.contains(x));
    match v {
        Value::String(s) if dirty(s) => *s = scrub_text(s, secrets),
        Value::Array(items) => items.iter_mut().for_each(|x| scrub_value(x, secrets)),
        Value::Object(map) => {
            if map.keys().any(|k| dirty(k)) {
                let old = std::mem::take(map);
                for (k, mut val) in old {
                    scrub_value(&mut val, secrets);
                    map.insert(scrub_text(&k, secrets), val);
                }
            } else {
                map.values_mut().for_each(|x| scrub_value(x, secrets));
            }
        }
        _ => {}
    }
}

/// Replace every occurrence of `secret` in `body` with `<redacted>`.
fn scrub_bytes<'a>(body: &'a [u8], secret: &[u8]) -> std::borrow::Cow<'a, [u8]> {
    if secret.is_empty() || body.len() < secret.len() {
        return body.into();
    }
    // Every answer is searched: a vectorised search, not a window at a time.
    let Some(first) = memchr::memmem::find(body, secret) else {
        return body.into();
    };
    let mut out = Vec::with_capacity(body.len());
    out.extend_from_slice(&body[..first]);
    let mut rest = &body[first..];
    while !rest.is_empty() {
        if rest.starts_with(secret) {
            out.extend_from_slice(REDACTED.as_bytes());
            rest = &rest[secret.len()..];
        } else {
            out.push(rest[0]);
            rest = &rest[1..];
        }
    }
    out.into()
}

/// Describe a body that is not JSON.
fn not_json(status: u16, content_type: &str, body: &[u8]) -> String {
    let head = String::from_utf8_lossy(&body[..body.len().min(512)]).to_ascii_lowercase();
    let head = head.trim_start();
    if body.iter().all(u8::is_ascii_whitespace) {
        format!("Meta answered HTTP {status} with an empty body instead of JSON")
    } else if content_type.contains("html") || head.starts_with('<') {
        format!(
            "Meta answered with an HTML page instead of JSON (HTTP {status}): the API or a proxy in between is failing"
        )
    } else if head.starts_with('{') || head.starts_with('[') {
        format!("Meta's answer was cut off or is not valid JSON (HTTP {status})")
    } else {
        format!("Meta answered with something other than JSON (HTTP {status})")
    }
}

/// The innermost cause of an error, sanitized (hyper/io errors say the useful part there).
fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut cur: &(dyn std::error::Error + 'static) = e;
    while let Some(next) = cur.source() {
        cur = next;
    }
    super::error::sanitize(&cur.to_string())
}

/// `20 s`, `0.3 s`.
fn fmt_secs(d: Duration) -> String {
    if d.subsec_millis() == 0 {
        format!("{} s", d.as_secs())
    } else {
        format!("{:.1} s", d.as_secs_f64())
    }
}

/// A path for logs: the path itself (ids and edge names), never a query.
fn redact_path(path: &str) -> String {
    let p = path.split(['?', '#']).next().unwrap_or_default();
    super::error::sanitize(p)
}

fn pct(v: &Value) -> Option<u32> {
    v.as_f64()
        .or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))
        .filter(|f| f.is_finite() && *f >= 0.0)
        .map(|f| f.round().min(f64::from(u32::MAX)) as u32)
}

/// Parse `X-App-Usage`: `{"call_count":N,"total_cputime":N,"total_time":N}` → the three
/// percentages. `None` if the header is not a JSON object.
pub fn parse_app_usage(s: &str) -> Option<(Option<u32>, Option<u32>, Option<u32>)> {
    let v: Value = serde_json::from_str(s).ok()?;
    let o = v.as_object()?;
    Some((
        o.get("call_count").and_then(pct),
        o.get("total_cputime").and_then(pct),
        o.get("total_time").and_then(pct),
    ))
}

/// Parse `X-Business-Use-Case-Usage`: `{"<id>":[{"type":..,"call_count":N,"total_cputime":N,
/// "total_time":N,"estimated_time_to_regain_access":MIN}]}` → (highest percentage, highest
/// regain minutes). A single object instead of an array is tolerated.
pub fn parse_buc_usage(s: &str) -> (Option<u32>, Option<u32>) {
    let Ok(Value::Object(map)) = serde_json::from_str::<Value>(s) else {
        return (None, None);
    };
    let mut max_pct: Option<u32> = None;
    let mut regain: Option<u32> = None;
    let entries = map.values().flat_map(|v| match v {
        Value::Array(a) => a.iter().collect::<Vec<_>>(),
        Value::Object(_) => vec![v],
        _ => vec![],
    });
    for e in entries {
        for k in ["call_count", "total_cputime", "total_time"] {
            if let Some(p) = e.get(k).and_then(pct) {
                max_pct = Some(max_pct.map_or(p, |m| m.max(p)));
            }
        }
        if let Some(m) = e.get("estimated_time_to_regain_access").and_then(pct) {
            regain = Some(regain.map_or(m, |r| r.max(m)));
        }
    }
    (max_pct, regain)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn app_usage() {
        assert_eq!(
            parse_app_usage(r#"{"call_count":28,"total_cputime":4,"total_time":9}"#),
            Some((Some(28), Some(4), Some(9)))
        );
        assert_eq!(
            parse_app_usage(r#"{"call_count":"7"}"#),
            Some((Some(7), None, None))
        );
        assert_eq!(parse_app_usage("garbage"), None);
    }

    #[test]
    fn buc_usage() {
        let h = r#"{"1":[{"type":"whatsapp_business_management","call_count":12,"total_cputime":3,"total_time":4,"estimated_time_to_regain_access":0}],
                   "2":[{"type":"x","call_count":5,"total_cputime":97,"total_time":4,"estimated_time_to_regain_access":7}]}"#;
        assert_eq!(parse_buc_usage(h), (Some(97), Some(7)));
        assert_eq!(
            parse_buc_usage(r#"{"1":{"call_count":3}}"#),
            (Some(3), None)
        );
        assert_eq!(parse_buc_usage("[]"), (None, None));
    }

    #[test]
    fn not_json_descriptions() {
        assert!(not_json(502, "text/html", b"<html>bad gateway</html>").contains("HTML page"));
        assert!(not_json(200, "", b"  <!DOCTYPE html>").contains("HTML page"));
        assert!(not_json(200, "application/json", br#"{"data":[{"id""#).contains("cut off"));
        assert!(not_json(503, "", b"").contains("empty body"));
        assert!(not_json(200, "text/plain", b"hello").contains("other than JSON"));
    }

    #[test]
    fn scrubs_bytes() {
        let b = scrub_bytes(b"a SECRET b SECRETSECRET", b"SECRET");
        assert_eq!(&b[..], b"a <redacted> b <redacted><redacted>");
        let b = scrub_bytes(b"nothing", b"SECRET");
        assert_eq!(&b[..], b"nothing");
    }

    #[test]
    fn secs() {
        assert_eq!(fmt_secs(Duration::from_secs(20)), "20 s");
        assert_eq!(fmt_secs(Duration::from_millis(300)), "0.3 s");
    }

    #[test]
    fn urls_and_debug() {
        let c = GraphClient::new(ClientConfig::new(
            "http://127.0.0.1:9/",
            Token::new("EAAsecret"),
        ))
        .unwrap();
        assert_eq!(
            c.url_for("/123/whatsapp_business_solutions")
                .unwrap()
                .as_str(),
            "http://127.0.0.1:9/v25.0/123/whatsapp_business_solutions"
        );
        for bad in [
            "1?access_token=x",
            "../x",
            "1/../../x",
            "a b",
            "1#f",
            "x\\y",
        ] {
            assert_eq!(
                c.url_for(bad).unwrap_err().kind,
                ErrorKind::InvalidRequest,
                "{bad}"
            );
        }
        assert!(!format!("{c:?}").contains("EAAsecret"));
        assert_eq!(
            c.describe_call("POST", "123/accept"),
            "POST /v25.0/123/accept"
        );
        assert!(GraphClient::new(ClientConfig::new("not a url", Token::new("x"))).is_err());
        assert!(GraphClient::new(ClientConfig::new("http://h", Token::new("bad\ntoken"))).is_err());
    }
}
