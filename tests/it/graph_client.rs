//! The Graph client against small in-test stub servers on 127.0.0.1:0 (no internet).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::Response;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use partnerdeck::config::Token;
use partnerdeck::domain::solution::{Solution, SolutionState};
use partnerdeck::graph::model::{Role, SolutionAction, SolutionNode};
use partnerdeck::graph::solutions::{self, DETAIL_FIELDS, LIST_FIELDS};
use partnerdeck::graph::{ClientConfig, ErrorKind, GraphClient, Usage};

const TOKEN: &str = "EAAtestTOKEN0123456789secret";

/// What the stub saw of one request.
#[derive(Debug, Clone)]
struct Seen {
    method: String,
    /// Path and query, as sent.
    uri: String,
    path: String,
    query: Vec<(String, String)>,
    headers: HeaderMap,
    /// `http://host:port` of the stub, from the Host header.
    origin: String,
    /// 1-based number of this request to the stub.
    n: usize,
}

impl Seen {
    fn q(&self, k: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(kk, _)| kk == k)
            .map(|(_, v)| v.as_str())
    }
}

/// A stub reply.
struct Reply {
    status: u16,
    headers: Vec<(&'static str, String)>,
    body: String,
    delay: Option<Duration>,
}

impl Reply {
    fn json(status: u16, v: Value) -> Reply {
        Reply {
            status,
            headers: vec![("content-type", "application/json".into())],
            body: v.to_string(),
            delay: None,
        }
    }
    fn raw(status: u16, content_type: &str, body: &str) -> Reply {
        Reply {
            status,
            headers: vec![("content-type", content_type.to_string())],
            body: body.to_string(),
            delay: None,
        }
    }
    fn header(mut self, k: &'static str, v: &str) -> Reply {
        self.headers.push((k, v.to_string()));
        self
    }
    fn delayed(mut self, d: Duration) -> Reply {
        self.delay = Some(d);
        self
    }
}

struct Stub {
    base: String,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl Stub {
    fn count(&self) -> usize {
        self.seen.lock().unwrap().len()
    }
    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

/// Start a stub that answers every request with `f(&seen)`.
async fn stub<F>(f: F) -> Stub
where
    F: Fn(&Seen) -> Reply + Send + Sync + 'static,
{
    let seen: Arc<Mutex<Vec<Seen>>> = Arc::default();
    let counter = Arc::new(AtomicUsize::new(0));
    let f = Arc::new(f);
    let log = seen.clone();
    let app = Router::new().fallback(move |req: Request| {
        let f = f.clone();
        let log = log.clone();
        let counter = counter.clone();
        async move {
            let uri = req.uri().clone();
            let query = uri
                .query()
                .map(|q| {
                    url::form_urlencoded::parse(q.as_bytes())
                        .map(|(k, v)| (k.into_owned(), v.into_owned()))
                        .collect()
                })
                .unwrap_or_default();
            let host = req
                .headers()
                .get("host")
                .and_then(|h| h.to_str().ok())
                .unwrap_or("")
                .to_string();
            let s = Seen {
                method: req.method().to_string(),
                uri: uri.to_string(),
                path: uri.path().to_string(),
                query,
                headers: req.headers().clone(),
                origin: format!("http://{host}"),
                n: counter.fetch_add(1, Ordering::SeqCst) + 1,
            };
            log.lock().unwrap().push(s.clone());
            let r = f(&s);
            if let Some(d) = r.delay {
                tokio::time::sleep(d).await;
            }
            let mut resp = Response::new(Body::from(r.body));
            *resp.status_mut() = StatusCode::from_u16(r.status).unwrap();
            for (k, v) in r.headers {
                resp.headers_mut().insert(
                    HeaderName::from_static(k),
                    HeaderValue::from_str(&v).unwrap(),
                );
            }
            resp
        }
    });
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    Stub {
        base: format!("http://{addr}"),
        seen,
    }
}

fn cfg(base: &str) -> ClientConfig {
    ClientConfig {
        request_timeout: Duration::from_secs(5),
        max_get_retries: 0,
        ..ClientConfig::new(base, Token::new(TOKEN))
    }
}

fn client(base: &str) -> GraphClient {
    GraphClient::new(cfg(base)).unwrap()
}

fn ids<T>(v: &[T], id: impl Fn(&T) -> &str) -> Vec<String> {
    v.iter().map(|x| id(x).to_string()).collect()
}

fn assert_no_token(s: &Stub) {
    for r in s.seen() {
        assert!(!r.uri.contains(TOKEN), "token in URL {}", r.uri);
        assert!(
            !r.uri.contains("access_token"),
            "access_token in URL {}",
            r.uri
        );
        assert_eq!(
            r.headers.get("authorization").unwrap().to_str().unwrap(),
            format!("Bearer {TOKEN}")
        );
    }
}

// ---------------------------------------------------------------- paging

#[tokio::test]
async fn paging_follows_next_and_dedupes() {
    let s = stub(|r| {
        let next = |after: &str| format!("{}/v25.0/42/things?limit=2&after={after}", r.origin);
        match r.q("after") {
            None => Reply::json(
                200,
                json!({"data":[{"id":"1","v":"first"},{"id":"2"}],
                       "paging":{"cursors":{"before":"b0","after":"c1"},"next":next("c1")}}),
            ),
            Some("c1") => Reply::json(
                200,
                json!({"data":[{"id":"2"},{"id":"3"},{"id":"1","v":"dup"}],
                       "paging":{"cursors":{"before":"b1","after":"c2"},"next":next("c2")}}),
            ),
            // The last page still carries an `after` cursor, but no `next`.
            Some("c2") => Reply::json(
                200,
                json!({"data":[{"id":"4"}],"paging":{"cursors":{"before":"b2","after":"c3"}}}),
            ),
            Some(other) => panic!("unexpected cursor {other}"),
        }
    })
    .await;
    let c = client(&s.base);
    let items: Vec<Value> = c.get_all("42/things", &[("limit", "2")]).await.unwrap();
    assert_eq!(
        ids(&items, |v| v["id"].as_str().unwrap()),
        ["1", "2", "3", "4"]
    );
    assert_eq!(items[0]["v"], "first");
    assert_eq!(s.count(), 3);
    assert_no_token(&s);
    let seen = s.seen();
    assert_eq!(seen[0].path, "/v25.0/42/things");
    assert_eq!(seen[0].q("limit"), Some("2"));
    assert_eq!(seen[2].q("after"), Some("c2"));
}

#[tokio::test]
async fn paging_stops_on_a_cursor_that_does_not_advance() {
    // Meta keeps answering with the same `after` cursor.
    let s = stub(|r| {
        Reply::json(
            200,
            json!({"data":[{"id": format!("{}", r.n)}],
                   "paging":{"cursors":{"after":"same"},
                             "next": format!("{}/v25.0/42/things?after=same&n={}", r.origin, r.n)}}),
        )
    })
    .await;
    let items: Vec<Value> = client(&s.base).get_all("42/things", &[]).await.unwrap();
    assert_eq!(s.count(), 2);
    assert_eq!(items.len(), 2);

    // The same `next` URL twice (no cursors at all).
    let s = stub(|r| {
        Reply::json(
            200,
            json!({"data":[{"id": format!("{}", r.n)}],
                   "paging":{"next": format!("{}/v25.0/42/things?after=loop", r.origin)}}),
        )
    })
    .await;
    let items: Vec<Value> = client(&s.base).get_all("42/things", &[]).await.unwrap();
    assert_eq!(s.count(), 2);
    assert_eq!(items.len(), 2);
}

#[tokio::test]
async fn paging_refuses_next_on_another_origin() {
    let elsewhere = stub(|_| Reply::json(200, json!({"data":[]}))).await;
    let target = elsewhere.base.clone();
    let s = stub(move |_| {
        Reply::json(
            200,
            json!({"data":[{"id":"1"}],
                   "paging":{"cursors":{"after":"c1"},"next": format!("{target}/v25.0/42/things?after=c1")}}),
        )
    })
    .await;
    let e = client(&s.base)
        .get_all::<Value>("42/things", &[])
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::Transport);
    assert!(
        e.sentence().contains("Refused to follow paging.next"),
        "{e}"
    );
    assert_eq!(
        elsewhere.count(),
        0,
        "the token must not be sent to another origin"
    );
    assert_eq!(s.count(), 1);
}

#[tokio::test]
async fn paging_tolerates_bare_objects_and_missing_paging() {
    let s = stub(|r| match r.path.as_str() {
        "/v25.0/bare" => Reply::json(200, json!({"id":"9","receiving_business":{"id":"3"}})),
        "/v25.0/empty" => Reply::json(200, json!({"data":[],"paging":{"cursors":{}}})),
        _ => Reply::json(200, json!({"data":[{"id":"1"}]})),
    })
    .await;
    let c = client(&s.base);
    let bare: Vec<Value> = c.get_all("bare", &[]).await.unwrap();
    assert_eq!(bare.len(), 1);
    assert!(c.get_all::<Value>("empty", &[]).await.unwrap().is_empty());
    assert_eq!(c.get_all::<Value>("plain", &[]).await.unwrap().len(), 1);
    // A 2xx list whose items do not fit the type is a Transport error, not a panic.
    let e = c.get_all::<SolutionNode>("bare", &[]).await;
    assert!(e.is_ok(), "{e:?}");
    let e = c.get_all::<u32>("plain", &[]).await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::Transport);
}

// ---------------------------------------------------------------- errors

#[tokio::test]
async fn error_envelopes_are_typed() {
    // path /v25.0/e/{code}/{subcode}/{status}
    let s = stub(|r| {
        let parts: Vec<&str> = r.path.split('/').collect();
        let code: i64 = parts[3].parse().unwrap();
        let sub: i64 = parts[4].parse().unwrap();
        let status: u16 = parts[5].parse().unwrap();
        let mut err = json!({"message":"Something (#x) happened.","type":"OAuthException","code":code,
                             "fbtrace_id":format!("trace{code}")});
        if sub != 0 {
            err["error_subcode"] = json!(sub);
        }
        Reply::json(status, json!({ "error": err }))
    })
    .await;
    let c = client(&s.base);
    use ErrorKind as K;
    let table = [
        (190, 463, 401, K::AuthExpired),
        (102, 0, 401, K::AuthExpired),
        (0, 0, 401, K::AuthExpired),
        (4, 0, 400, K::Throttled),
        (4, 0, 429, K::Throttled),
        (80007, 0, 400, K::Throttled),
        (130429, 0, 400, K::Throttled),
        (10, 0, 403, K::Permission),
        (200, 0, 403, K::Permission),
        (3, 0, 500, K::Permission),
        (1, 0, 500, K::Transient),
        (2, 0, 503, K::Transient),
        (803, 0, 404, K::NotFound),
        (100, 33, 400, K::NotFound),
        (100, 0, 400, K::InvalidRequest),
        (368, 0, 403, K::Permission),
    ];
    for (code, sub, status, kind) in table {
        let e = c
            .get(&format!("e/{code}/{sub}/{status}"), &[])
            .await
            .unwrap_err();
        assert_eq!(e.kind, kind, "code {code}");
        assert_eq!(e.code, Some(code));
        assert_eq!(e.subcode, (sub != 0).then_some(sub));
        assert_eq!(e.http_status, Some(status));
        assert_eq!(
            e.fbtrace_id.as_deref(),
            Some(format!("trace{code}").as_str())
        );
        assert!(e.sentence().contains(&format!("code {code}")), "{e}");
    }
}

#[tokio::test]
async fn expired_token_is_not_retried() {
    let s = stub(|_| {
        Reply::json(
            401,
            json!({"error":{"message":"Error validating access token: Session has expired.","type":"OAuthException",
                            "code":190,"error_subcode":463,"fbtrace_id":"AzZ"}}),
        )
    })
    .await;
    let c = GraphClient::new(ClientConfig {
        max_get_retries: 3,
        ..cfg(&s.base)
    })
    .unwrap();
    let e = c.get("me", &[]).await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::AuthExpired);
    assert_eq!(
        e.sentence(),
        "The access token has expired or was revoked (code 190, subcode 463): renew it and restart."
    );
    assert_eq!(s.count(), 1);
}

#[tokio::test]
async fn html_pages_are_transport_errors() {
    let page = "<!DOCTYPE html><html><body><h1>502 Bad Gateway</h1></body></html>";
    let s = stub(move |r| {
        let status = if r.path.ends_with("/ok") { 200 } else { 502 };
        Reply::raw(status, "text/html; charset=utf-8", page)
    })
    .await;
    let c = client(&s.base);
    for (path, status) in [("x/ok", 200), ("x/bad", 502)] {
        let e = c.get(path, &[]).await.unwrap_err();
        assert_eq!(e.kind, ErrorKind::Transport, "{path}");
        assert_eq!(e.http_status, Some(status));
        assert_eq!(
            e.sentence(),
            format!(
                "Meta answered with an HTML page instead of JSON (HTTP {status}): the API or a proxy in between is failing."
            )
        );
    }
}

#[tokio::test]
async fn truncated_and_odd_json_is_transport() {
    let s = stub(|r| match r.path.as_str() {
        "/v25.0/cut" => Reply::raw(200, "application/json", r#"{"data":[{"id":"1","name":"Ac"#),
        "/v25.0/scalar" => Reply::json(200, json!("ok")),
        "/v25.0/json500" => Reply::json(500, json!({"oops":true})),
        _ => Reply::raw(503, "text/plain", ""),
    })
    .await;
    let c = client(&s.base);
    let e = c.get("cut", &[]).await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::Transport);
    assert!(e.sentence().contains("cut off"), "{e}");
    let e = c.get("scalar", &[]).await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::Transport);
    // JSON without an envelope on a 5xx is Meta failing: transient.
    let e = c.get("json500", &[]).await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::Transient);
    let e = c.get("empty", &[]).await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::Transport);
    assert!(e.sentence().contains("empty body"), "{e}");
}

#[tokio::test]
async fn the_token_never_leaks_into_errors() {
    let s = stub(|_| {
        Reply::json(
            400,
            json!({"error":{"message":format!("Invalid OAuth access token - Cannot parse access token {TOKEN}"),
                            "code":190,"error_user_msg":TOKEN,"fbtrace_id":"F"}}),
        )
    })
    .await;
    let e = client(&s.base).get("me", &[]).await.unwrap_err();
    for text in [e.sentence(), format!("{e:?}"), e.message.clone()] {
        assert!(!text.contains(TOKEN), "{text}");
    }
}

// ---------------------------------------------------------------- retries

#[tokio::test]
async fn get_is_retried_on_transient_errors_then_succeeds() {
    let s = stub(|r| {
        if r.n == 1 {
            Reply::json(
                500,
                json!({"error":{"message":"Service temporarily unavailable","code":2,"is_transient":true}}),
            )
        } else {
            Reply::json(200, json!({"id":"1"}))
        }
    })
    .await;
    let c = GraphClient::new(ClientConfig {
        max_get_retries: 3,
        ..cfg(&s.base)
    })
    .unwrap();
    assert_eq!(c.get("1", &[]).await.unwrap(), json!({"id":"1"}));
    assert_eq!(s.count(), 2);
}

#[tokio::test]
async fn get_retries_are_bounded() {
    let s = stub(|_| Reply::json(500, json!({"error":{"message":"Unknown","code":1}}))).await;
    let c = GraphClient::new(ClientConfig {
        max_get_retries: 1,
        ..cfg(&s.base)
    })
    .unwrap();
    let e = c.get("1", &[]).await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::Transient);
    assert_eq!(s.count(), 2);
}

#[tokio::test]
async fn long_throttle_is_not_retried_and_says_when() {
    let s = stub(|_| {
        Reply::json(
            400,
            json!({"error":{"message":"(#80007) Rate limit hit","code":80007,"fbtrace_id":"T"}}),
        )
        .header(
            "x-business-use-case-usage",
            r#"{"102290129340398":[{"type":"whatsapp_business_management","call_count":100,"total_cputime":3,"total_time":4,"estimated_time_to_regain_access":12}]}"#,
        )
    })
    .await;
    let c = GraphClient::new(ClientConfig {
        max_get_retries: 3,
        ..cfg(&s.base)
    })
    .unwrap();
    let e = c.get("1", &[]).await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::Throttled);
    assert_eq!(e.retry_after, Some(Duration::from_secs(12 * 60)));
    assert!(!e.is_retryable());
    assert_eq!(
        e.sentence(),
        "Meta is throttling this app (code 80007): calls resume in about 12 min."
    );
    assert_eq!(s.count(), 1);
    assert_eq!(c.usage().regain_minutes, Some(12));
    assert_eq!(c.usage().buc_max_pct, Some(100));
}

#[tokio::test]
async fn a_throttle_below_the_limit_is_retried_once_at_most() {
    // Usage known and below 100 %, no regain time: one retry, not max_get_retries.
    let s = stub(|_| {
        Reply::json(
            400,
            json!({"error":{"message":"(#613) Calls to this api have exceeded the rate limit.","code":613}}),
        )
        .header(
            "x-app-usage",
            r#"{"call_count":60,"total_cputime":10,"total_time":10}"#,
        )
    })
    .await;
    let c = GraphClient::new(ClientConfig {
        max_get_retries: 3,
        ..cfg(&s.base)
    })
    .unwrap();
    let e = c.get("1", &[]).await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::Throttled);
    assert_eq!(e.usage_pct, Some(60));
    assert_eq!(s.count(), 2);
    // Usage unknown: not retried at all.
    let s = stub(|_| Reply::json(400, json!({"error":{"message":"(#17) limit","code":17}}))).await;
    let c = GraphClient::new(ClientConfig {
        max_get_retries: 3,
        ..cfg(&s.base)
    })
    .unwrap();
    assert_eq!(
        c.get("1", &[]).await.unwrap_err().kind,
        ErrorKind::Throttled
    );
    assert_eq!(s.count(), 1);
}

#[tokio::test]
async fn a_throttled_list_is_retried_once_over_all_its_pages() {
    let s = stub(|r| {
        let throttle = || {
            Reply::json(400, json!({"error":{"message":"(#4) limit","code":4}})).header(
                "x-app-usage",
                r#"{"call_count":50,"total_cputime":1,"total_time":1}"#,
            )
        };
        let page = |ids: &[&str], after: &str| {
            Reply::json(
                200,
                json!({"data": ids.iter().map(|i| json!({"id": i})).collect::<Vec<_>>(),
                       "paging": {"cursors": {"after": after},
                                  "next": format!("{}/v25.0/42/things?after={after}", r.origin)}}),
            )
        };
        match r.n {
            1 => page(&["1"], "a"),
            2 | 4 | 5 => throttle(),
            3 => page(&["2"], "b"),
            _ => Reply::json(200, json!({"data":[{"id":"3"}]})),
        }
    })
    .await;
    let c = GraphClient::new(ClientConfig {
        max_get_retries: 3,
        ..cfg(&s.base)
    })
    .unwrap();
    let e = c.get_all::<Value>("42/things", &[]).await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::Throttled);
    // Page 2 was retried once; the throttle on page 3 is not retried again.
    assert_eq!(s.count(), 4);
}

#[tokio::test]
async fn post_is_never_retried() {
    let s = stub(|_| Reply::json(500, json!({"error":{"message":"Unknown","code":1}}))).await;
    let c = GraphClient::new(ClientConfig {
        max_get_retries: 3,
        ..cfg(&s.base)
    })
    .unwrap();
    let e = c.post("1/accept", &[], None).await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::Transient);
    assert_eq!(s.count(), 1);
    let e = c.delete("1", &[]).await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::Transient);
    assert_eq!(s.count(), 2);
}

#[tokio::test]
async fn read_only_refuses_mutations_before_sending() {
    let s = stub(|_| Reply::json(200, json!({"success":true}))).await;
    let c = GraphClient::new(ClientConfig {
        read_only: true,
        ..cfg(&s.base)
    })
    .unwrap();
    assert!(c.read_only());
    let e = c.post("1/accept", &[], Some(json!({}))).await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::ReadOnly);
    assert_eq!(e.sentence(), "Not sent: partnerdeck is in read-only mode.");
    let e = c.delete("1", &[]).await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::ReadOnly);
    let e = solutions::perform(&c, "1", SolutionAction::Accept)
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::ReadOnly);
    assert_eq!(s.count(), 0);
    // Reads still work.
    c.get("1", &[]).await.unwrap();
    assert_eq!(s.count(), 1);
}

// ---------------------------------------------------------------- auth & headers

#[tokio::test]
async fn token_is_sent_as_bearer_and_never_in_the_url() {
    let s = stub(|r| {
        Reply::json(200, json!({"success":true})).header("x-fb-trace-id", &format!("hdr{}", r.n))
    })
    .await;
    let c = client(&s.base);
    c.get("123", &[("fields", "id,name")]).await.unwrap();
    let m = c
        .post("123/accept", &[("x", "1")], Some(json!({"a":1})))
        .await
        .unwrap();
    assert_eq!(m.http_status, 200);
    assert_eq!(m.fbtrace_id.as_deref(), Some("hdr2"));
    c.delete("123", &[]).await.unwrap();
    assert_no_token(&s);
    let seen = s.seen();
    assert_eq!(ids(&seen, |r| r.method.as_str()), ["GET", "POST", "DELETE"]);
    assert_eq!(seen[0].uri, "/v25.0/123?fields=id%2Cname");
    assert_eq!(seen[1].uri, "/v25.0/123/accept?x=1");
    for r in &seen {
        assert_eq!(r.headers.get("accept").unwrap(), "application/json");
        assert!(
            r.headers
                .get("user-agent")
                .unwrap()
                .to_str()
                .unwrap()
                .starts_with("partnerdeck/")
        );
    }
}

#[tokio::test]
async fn debug_output_never_shows_the_token() {
    let config = cfg("http://127.0.0.1:9");
    let c = GraphClient::new(config.clone()).unwrap();
    for text in [
        format!("{config:?}"),
        format!("{c:?}"),
        format!("{:?}", Token::new(TOKEN)),
    ] {
        assert!(!text.contains(TOKEN), "{text}");
    }
    assert_eq!(format!("{:?}", Token::new(TOKEN)), "Token(<redacted>)");
}

#[tokio::test]
async fn redirects_are_not_followed() {
    let elsewhere = stub(|_| Reply::json(200, json!({"id":"x"}))).await;
    let target = elsewhere.base.clone();
    let s = stub(move |_| {
        Reply::raw(302, "text/html", "<a>moved</a>")
            .header("location", &format!("{target}/v25.0/1"))
    })
    .await;
    let e = client(&s.base).get("1", &[]).await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::Transport);
    assert_eq!(elsewhere.count(), 0);
}

// ---------------------------------------------------------------- timeouts & broken connections

#[tokio::test]
async fn stalled_server_times_out() {
    let s =
        stub(|_| Reply::json(200, json!({"success":true})).delayed(Duration::from_secs(10))).await;
    let c = GraphClient::new(ClientConfig {
        request_timeout: Duration::from_millis(300),
        ..cfg(&s.base)
    })
    .unwrap();
    let t = Instant::now();
    let e = c.get("1", &[]).await.unwrap_err();
    assert!(t.elapsed() < Duration::from_secs(2), "{:?}", t.elapsed());
    assert_eq!(e.kind, ErrorKind::Transport);
    assert_eq!(e.sentence(), "The request timed out after 0.3 s.");

    let t = Instant::now();
    let e = c.post("1/accept", &[], None).await.unwrap_err();
    assert!(t.elapsed() < Duration::from_secs(2), "{:?}", t.elapsed());
    assert_eq!(e.kind, ErrorKind::OutcomeUnknown);
    assert!(
        e.sentence()
            .starts_with("The request timed out after 0.3 s, so the outcome is unknown"),
        "{e}"
    );
    assert_eq!(s.count(), 2);
}

/// A raw TCP server that reads one request, then runs `act` on the socket.
async fn raw_server<F, Fut>(act: F) -> String
where
    F: Fn(tokio::net::TcpStream) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let (mut sock, _) = listener.accept().await.unwrap();
            let mut buf = vec![0u8; 8192];
            let mut got = Vec::new();
            while !got.windows(4).any(|w| w == b"\r\n\r\n") {
                match sock.read(&mut buf).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => got.extend_from_slice(&buf[..n]),
                }
            }
            act(sock).await;
        }
    });
    format!("http://{addr}")
}

#[tokio::test]
async fn body_stalling_after_headers_times_out() {
    let base = raw_server(|mut sock| async move {
        let _ = sock
            .write_all(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{\"data\":[")
            .await;
        tokio::time::sleep(Duration::from_secs(10)).await;
    })
    .await;
    let c = GraphClient::new(ClientConfig {
        request_timeout: Duration::from_millis(300),
        ..cfg(&base)
    })
    .unwrap();
    let t = Instant::now();
    let e = c.get("1", &[]).await.unwrap_err();
    assert!(t.elapsed() < Duration::from_secs(2));
    assert_eq!(e.kind, ErrorKind::Transport);
}

#[tokio::test]
async fn connection_cut_mid_body() {
    let base = raw_server(|mut sock| async move {
        let _ = sock
            .write_all(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{\"succ")
            .await;
        let _ = sock.shutdown().await;
    })
    .await;
    let c = client(&base);
    let e = c.get("1", &[]).await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::Transport, "{e}");
    let e = c.post("1/accept", &[], None).await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::OutcomeUnknown, "{e}");
    assert!(e.sentence().contains("re-read"), "{e}");
}

#[tokio::test]
async fn connection_closed_without_answer_is_outcome_unknown_for_post() {
    let base = raw_server(|sock| async move { drop(sock) }).await;
    let e = client(&base).post("1/accept", &[], None).await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::OutcomeUnknown, "{e}");
}

#[tokio::test]
async fn refused_connection_means_nothing_was_sent() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let c = client(&format!("http://{addr}"));
    let e = c.post("1/accept", &[], None).await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::Transport, "{e}");
    assert!(e.sentence().contains("nothing was sent"), "{e}");
    let e = c.get("1", &[]).await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::Transport, "{e}");
    assert!(
        e.sentence().starts_with("Could not connect to 127.0.0.1:"),
        "{e}"
    );
}

// ---------------------------------------------------------------- usage

#[tokio::test]
async fn usage_headers_are_parsed() {
    let s = stub(|r| {
        let reply = Reply::json(200, json!({"id":"1"}));
        match r.n {
            1 => reply
                .header("x-app-usage", r#"{"call_count":28,"total_cputime":4,"total_time":9}"#)
                .header(
                    "x-business-use-case-usage",
                    r#"{"1":[{"type":"whatsapp_business_management","call_count":12,"total_cputime":61,"total_time":4,"estimated_time_to_regain_access":0}]}"#,
                ),
            // No usage headers: the previous values stay.
            _ => reply,
        }
    })
    .await;
    let c = client(&s.base);
    assert_eq!(c.usage(), Usage::default());
    c.get("1", &[]).await.unwrap();
    let want = Usage {
        app_call_pct: Some(28),
        app_cpu_pct: Some(4),
        app_time_pct: Some(9),
        buc_max_pct: Some(61),
        regain_minutes: Some(0),
    };
    assert_eq!(c.usage(), want);
    c.get("1", &[]).await.unwrap();
    assert_eq!(c.clone().usage(), want);
}

// ---------------------------------------------------------------- solutions

#[tokio::test]
async fn list_solutions_merges_roles() {
    let s = stub(|r| {
        assert_eq!(r.path, "/v25.0/777/whatsapp_business_solutions");
        assert_eq!(r.q("fields"), Some(LIST_FIELDS));
        assert_eq!(r.q("limit"), Some("100"));
        let page2 = r.q("after") == Some("p1");
        match (r.q("role"), page2) {
            (Some("OWNER"), _) => Reply::json(
                200,
                json!({"data":[{"id":"10","name":"Ours","status":"ACTIVE","status_for_pending_request":"NONE"},
                               {"id":"11","name":"Both","status":"DRAFT","status_for_pending_request":"NONE"}],
                       "paging":{"cursors":{"after":"o1"}}}),
            ),
            (Some("PARTNER"), false) => Reply::json(
                200,
                json!({"data":[{"id":"20","name":"Theirs","status":"INITIATED","status_for_pending_request":"PENDING_ACTIVATION"},
                               {"id":"11","name":"Both","status":"DRAFT","status_for_pending_request":"NONE"}],
                       "paging":{"cursors":{"after":"p1"},
                                 "next":format!("{}/v25.0/777/whatsapp_business_solutions?role=PARTNER&fields={}&limit=100&after=p1", r.origin, LIST_FIELDS)}}),
            ),
            (Some("PARTNER"), true) => Reply::json(
                200,
                json!({"data":[{"id":"21","name":"Odd","status":"SUSPENDED"}],"paging":{"cursors":{"after":"p2"}}}),
            ),
            other => panic!("unexpected {other:?}"),
        }
    })
    .await;
    let list = solutions::list_solutions(&client(&s.base), "777")
        .await
        .unwrap();
    let got: Vec<_> = list
        .iter()
        .map(|s| {
            let s = Solution::from(s.clone());
            (s.id().to_string(), s.role, s.state)
        })
        .collect();
    assert_eq!(
        got,
        vec![
            ("10".into(), Role::Owner, SolutionState::Active),
            ("11".into(), Role::Owner, SolutionState::Draft),
            ("20".into(), Role::Partner, SolutionState::Pending),
            ("21".into(), Role::Partner, SolutionState::Unknown),
        ]
    );
    assert_eq!(list[3].node.status, "SUSPENDED");
    assert_eq!(s.count(), 3);
}

#[tokio::test]
async fn list_solutions_fails_when_a_role_fails() {
    let s = stub(|r| match r.q("role") {
        Some("OWNER") => Reply::json(200, json!({"data":[]})),
        _ => Reply::json(
            403,
            json!({"error":{"message":"(#200) Requires whatsapp_business_management","code":200}}),
        ),
    })
    .await;
    let e = solutions::list_solutions(&client(&s.base), "777")
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::Permission);
}

#[tokio::test]
async fn solution_detail_reads_the_expansion() {
    let s = stub(|r| {
        assert_eq!(r.path, "/v25.0/555");
        assert_eq!(r.q("fields"), Some(DETAIL_FIELDS));
        // No `id` in the answer: the client fills it in.
        Reply::json(
            200,
            json!({"name":"Acme","status":"ACTIVE","status_for_pending_request":"PENDING_DEACTIVATION",
                   "owner_app":{"id":"1","name":"Owner app"},"owner_permissions":["MANAGE"],
                   "partners":{"data":[{"id":"p1","partner_app":{"id":"2","name":"Us"},"partner_permissions":["MESSAGING"],"status":"ACCEPTED"}],
                               "paging":{"cursors":{}}}}),
        )
    })
    .await;
    let sol = solutions::solution_detail(&client(&s.base), "555")
        .await
        .map(|node| Solution::new(node, Role::Partner))
        .unwrap();
    assert_eq!(sol.id(), "555");
    assert_eq!(sol.state, SolutionState::PendingDeactivation);
    assert_eq!(sol.role, Role::Partner);
    assert_eq!(
        sol.node.partners.as_ref().unwrap()[0].partner_permissions,
        ["MESSAGING"]
    );
    assert_eq!(
        sol.counterpart_app("2").unwrap().name.as_deref(),
        Some("Owner app")
    );
}

#[tokio::test]
async fn perform_posts_once_and_checks_success() {
    let s = stub(|r| match r.path.as_str() {
        "/v25.0/1/accept" => Reply::json(200, json!({"success":true})),
        "/v25.0/2/reject" => Reply::json(200, json!({"success":false})),
        "/v25.0/3/send_deactivation_request" => Reply::json(200, json!({"ok":1})),
        "/v25.0/4/accept_deactivation_request" => {
            Reply::json(200, json!({"id":"4","status":"DEACTIVATED"}))
        }
        _ => Reply::json(
            400,
            json!({"error":{"message":"(#100) Invalid parameter","code":100,"fbtrace_id":"Q"}}),
        ),
    })
    .await;
    let c = client(&s.base);
    let m = solutions::perform(&c, "1", SolutionAction::Accept)
        .await
        .unwrap();
    assert_eq!(m.body, json!({"success":true}));
    let e = solutions::perform(&c, "2", SolutionAction::Reject)
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::InvalidRequest);
    let e = solutions::perform(&c, "3", SolutionAction::SendDeactivation)
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::OutcomeUnknown);
    solutions::perform(&c, "4", SolutionAction::AcceptDeactivation)
        .await
        .unwrap();
    let e = solutions::perform(&c, "5", SolutionAction::RejectDeactivation)
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::InvalidRequest);
    assert_eq!(e.fbtrace_id.as_deref(), Some("Q"));
    let seen = s.seen();
    assert_eq!(seen.len(), 5);
    assert!(
        seen.iter()
            .all(|r| r.method == "POST" && r.query.is_empty())
    );
    assert_eq!(seen[4].path, "/v25.0/5/reject_deactivation_request");
    assert_eq!(
        c.describe_call("POST", "5/reject_deactivation_request"),
        "POST /v25.0/5/reject_deactivation_request"
    );
    // A malformed id is refused locally.
    let e = solutions::perform(&c, "5/../../x", SolutionAction::Accept)
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::InvalidRequest);
    assert_eq!(s.count(), 5);
}
