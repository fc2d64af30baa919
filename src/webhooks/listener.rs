//! The webhook listener (axum), at both `/` and `/webhook`:
//!
//! - `GET ?hub.mode=subscribe&hub.verify_token=T&hub.challenge=C` answers `C` (text/plain)
//!   when `T` equals the configured verify token, else 403;
//! - `POST` with a valid `X-Hub-Signature-256` answers 200 and sends the decoded events on the
//!   channel; a missing or bad signature answers 401 and is logged (never an event); a body
//!   over the size cap answers 413.
//!
//! The address defaults to loopback (see [`parse_listen_addr`]).

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::Router;
use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::Response;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use super::decode::decode;
use super::event::Event;
use super::signature::{AppSecret, SIGNATURE_HEADER, VerifyToken, verify};

/// Largest delivery body accepted (Meta's are a few kilobytes).
pub const DEFAULT_BODY_LIMIT: usize = 1 << 20;
/// The port used when `--webhook-listen` names none.
pub const DEFAULT_PORT: u16 = 8766;

/// How to run the listener.
#[derive(Debug, Clone)]
pub struct ListenerConfig {
    pub addr: SocketAddr,
    pub app_secret: AppSecret,
    /// Without one, every handshake is refused (403).
    pub verify_token: Option<VerifyToken>,
    pub body_limit: usize,
}

impl ListenerConfig {
    pub fn new(addr: SocketAddr, app_secret: AppSecret) -> ListenerConfig {
        ListenerConfig {
            addr,
            app_secret,
            verify_token: None,
            body_limit: DEFAULT_BODY_LIMIT,
        }
    }
}

/// Counters the console can show (deliveries accepted, refused, ...).
#[derive(Debug, Default)]
pub struct ListenerStats {
    pub accepted: AtomicU64,
    pub events: AtomicU64,
    pub bad_signature: AtomicU64,
    pub too_large: AtomicU64,
    pub handshakes: AtomicU64,
    pub handshakes_refused: AtomicU64,
}

impl ListenerStats {
    pub fn get(c: &AtomicU64) -> u64 {
        c.load(Ordering::Relaxed)
    }
}

/// Why the listener could not start.
#[derive(Debug, thiserror::Error)]
pub enum ListenError {
    #[error("cannot listen for webhooks on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("webhook listener I/O error: {0}")]
    Io(#[from] std::io::Error),
}

/// Parse `--webhook-listen`: `PORT`, `:PORT` or `HOST:PORT` (`HOST` an IP address; `localhost`
/// is loopback). A bare port binds 127.0.0.1: a non-loopback address must be written out.
pub fn parse_listen_addr(raw: &str) -> Result<SocketAddr, String> {
    let raw = raw.trim();
    let loopback = |port: &str| {
        port.parse::<u16>()
            .map(|p| SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), p))
            .map_err(|_| format!("{port:?} is not a port number"))
    };
    if raw.is_empty() {
        return Ok(SocketAddr::new(
            IpAddr::V4(Ipv4Addr::LOCALHOST),
            DEFAULT_PORT,
        ));
    }
    if raw.bytes().all(|b| b.is_ascii_digit()) {
        return loopback(raw);
    }
    if let Some(port) = raw.strip_prefix(':') {
        return loopback(port);
    }
    if let Some(port) = raw.strip_prefix("localhost:") {
        return loopback(port);
    }
    raw.parse::<SocketAddr>().map_err(|_| {
        format!("{raw:?} is not PORT or IP:PORT (e.g. 127.0.0.1:8766, or 0.0.0.0:8766 to listen on every interface)")
    })
}

struct Shared {
    cfg: ListenerConfig,
    tx: mpsc::UnboundedSender<Event>,
    stats: Arc<ListenerStats>,
}

/// A running listener. Dropping it stops the server.
pub struct Listener {
    addr: SocketAddr,
    stats: Arc<ListenerStats>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl Listener {
    /// Bind and serve on the current tokio runtime; decoded events go to `tx`.
    pub async fn start(
        cfg: ListenerConfig,
        tx: mpsc::UnboundedSender<Event>,
    ) -> Result<Listener, ListenError> {
        let listener = tokio::net::TcpListener::bind(cfg.addr)
            .await
            .map_err(|source| ListenError::Bind {
                addr: cfg.addr,
                source,
            })?;
        let addr = listener.local_addr()?;
        if !addr.ip().is_loopback() {
            tracing::warn!(%addr, "webhook listener bound to a non-loopback address");
        }
        let stats = Arc::new(ListenerStats::default());
        let shared = Arc::new(Shared {
            cfg,
            tx,
            stats: stats.clone(),
        });
        let app = router(shared).into_make_service_with_connect_info::<SocketAddr>();
        let (stop_tx, stop_rx) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let served = axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = stop_rx.await;
                })
                .await;
            if let Err(e) = served {
                tracing::warn!(error = %e, "webhook listener stopped with an error");
            }
        });
        tracing::info!(%addr, "webhook listener started");
        Ok(Listener {
            addr,
            stats,
            stop: Some(stop_tx),
            task: Some(task),
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://ADDR/webhook`.
    pub fn url(&self) -> String {
        format!("http://{}/webhook", self.addr)
    }

    pub fn stats(&self) -> Arc<ListenerStats> {
        self.stats.clone()
    }

    /// Stop accepting and wait (at most two seconds) for in-flight requests.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(mut task) = self.task.take()
            && tokio::time::timeout(std::time::Duration::from_secs(2), &mut task)
                .await
                .is_err()
        {
            task.abort();
        }
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

fn router(shared: Arc<Shared>) -> Router {
    Router::new().fallback(handle).with_state(shared)
}

fn plain(status: StatusCode, text: &str) -> Response {
    let mut r = Response::new(Body::from(text.to_string()));
    *r.status_mut() = status;
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    r
}

async fn handle(State(shared): State<Arc<Shared>>, req: Request) -> Response {
    let path = req.uri().path();
    if path != "/" && path != "/webhook" && path != "/webhook/" {
        return plain(StatusCode::NOT_FOUND, "not found");
    }
    let remote = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.to_string())
        .unwrap_or_default();
    match *req.method() {
        Method::GET => handshake(&shared, req.uri().query().unwrap_or("")),
        Method::POST => delivery(&shared, req, &remote).await,
        _ => plain(StatusCode::METHOD_NOT_ALLOWED, "use GET or POST"),
    }
}

/// The subscription handshake.
fn handshake(shared: &Shared, query: &str) -> Response {
    let mut mode = None;
    let mut token = None;
    let mut challenge = None;
    for (k, v) in url::form_urlencoded::parse(query.as_bytes()) {
        match k.as_ref() {
            "hub.mode" => mode = Some(v.into_owned()),
            "hub.verify_token" => token = Some(v.into_owned()),
            "hub.challenge" => challenge = Some(v.into_owned()),
            _ => {}
        }
    }
    let ok = mode.as_deref() == Some("subscribe")
        && match (&shared.cfg.verify_token, token.as_deref()) {
            (Some(expected), Some(given)) => expected.matches(given),
            _ => false,
        };
    if ok {
        shared.stats.handshakes.fetch_add(1, Ordering::Relaxed);
        tracing::info!("webhook subscription handshake answered");
        plain(StatusCode::OK, challenge.as_deref().unwrap_or(""))
    } else {
        shared
            .stats
            .handshakes_refused
            .fetch_add(1, Ordering::Relaxed);
        tracing::warn!(
            mode = mode.as_deref().unwrap_or(""),
            configured = shared.cfg.verify_token.is_some(),
            "webhook handshake refused: wrong mode or verify token"
        );
        plain(StatusCode::FORBIDDEN, "forbidden")
    }
}

async fn delivery(shared: &Shared, req: Request, remote: &str) -> Response {
    let limit = shared.cfg.body_limit;
    let too_large = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
        .is_some_and(|n| n > limit as u64);
    if too_large {
        return refuse_large(shared, remote);
    }
    let signature = req
        .headers()
        .get(SIGNATURE_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let body = match axum::body::to_bytes(req.into_body(), limit).await {
        Ok(b) => b,
        Err(_) => return refuse_large(shared, remote),
    };
    if let Err(e) = verify(&shared.cfg.app_secret, signature.as_deref(), &body) {
        shared.stats.bad_signature.fetch_add(1, Ordering::Relaxed);
        tracing::warn!(remote, reason = %e, bytes = body.len(), "webhook delivery refused");
        return plain(StatusCode::UNAUTHORIZED, "bad signature");
    }
    let events = decode(&body);
    shared.stats.accepted.fetch_add(1, Ordering::Relaxed);
    shared
        .stats
        .events
        .fetch_add(events.len() as u64, Ordering::Relaxed);
    tracing::debug!(remote, events = events.len(), "webhook delivery accepted");
    for e in events {
        if shared.tx.send(e).is_err() {
            tracing::warn!("webhook event dropped: nobody is receiving");
            break;
        }
    }
    plain(StatusCode::OK, "EVENT_RECEIVED")
}

fn refuse_large(shared: &Shared, remote: &str) -> Response {
    shared.stats.too_large.fetch_add(1, Ordering::Relaxed);
    tracing::warn!(
        remote,
        limit = shared.cfg.body_limit,
        "webhook delivery refused: body too large"
    );
    plain(StatusCode::PAYLOAD_TOO_LARGE, "body too large")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listen_addresses() {
        let lo = |p| SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), p);
        assert_eq!(parse_listen_addr("9000"), Ok(lo(9000)));
        assert_eq!(parse_listen_addr(":9000"), Ok(lo(9000)));
        assert_eq!(parse_listen_addr("localhost:9000"), Ok(lo(9000)));
        assert_eq!(parse_listen_addr(""), Ok(lo(DEFAULT_PORT)));
        assert_eq!(
            parse_listen_addr("0.0.0.0:80").unwrap().to_string(),
            "0.0.0.0:80"
        );
        assert_eq!(
            parse_listen_addr("[::1]:80").unwrap().to_string(),
            "[::1]:80"
        );
        assert!(parse_listen_addr("example.com:80").is_err());
        assert!(parse_listen_addr("99999").is_err());
    }
}
