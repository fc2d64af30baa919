//! Typed Graph API errors: Meta's error envelope (reference §1.3), classified by code first and
//! HTTP status second (§1.4, §8 row 9), plus our own transport failures.
//!
//! Every error renders as one plain sentence for a person on call (`sentence()` / `Display`),
//! naming Meta's code and subcode when there is one. Messages are sanitized (no control
//! characters or terminal escapes, bounded length) and never contain the access token.

use std::fmt;
use std::time::Duration;

use serde_json::Value;

/// What kind of failure this is, which decides what the caller should do next.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// Meta is rate limiting us (codes 4, 17, 32, 341, 613, 80000–80014, 130429, 131056, 133016).
    Throttled,
    /// The token is expired, revoked or invalid (190, 102, 2500, 0 with HTTP 401): renew it.
    AuthExpired,
    /// The token lacks a permission (10, 200–299, 3) or the account is blocked (368, 131031).
    Permission,
    /// Meta had a temporary problem (1, 2, 131000, 133004, `is_transient`, HTTP 5xx JSON).
    Transient,
    /// Meta refused the request as invalid (100 and other client errors).
    InvalidRequest,
    /// The object does not exist or is not visible to us (803; 100 with subcode 33).
    NotFound,
    /// The exchange itself failed: connect, timeout, reset, a non-JSON body (HTML page),
    /// truncated JSON, or a 2xx JSON without the expected shape.
    Transport,
    /// Refused locally: partnerdeck is in read-only mode; nothing was sent.
    ReadOnly,
    /// A POST/DELETE was (or may have been) sent but its answer was lost or unreadable:
    /// re-read to learn what happened, do not re-send blindly.
    OutcomeUnknown,
}

/// A failed Graph API call.
#[derive(Debug, Clone)]
pub struct GraphError {
    pub kind: ErrorKind,
    pub http_status: Option<u16>,
    pub code: Option<i64>,
    pub subcode: Option<i64>,
    pub fbtrace_id: Option<String>,
    /// Meta's developer message, or our own transport description; sanitized, never the token.
    pub message: String,
    pub user_title: Option<String>,
    pub user_msg: Option<String>,
    pub is_transient: bool,
    /// When throttled: how long Meta says until access is regained
    /// (`X-Business-Use-Case-Usage` `estimated_time_to_regain_access`, or `Retry-After`).
    pub retry_after: Option<Duration>,
    /// The highest usage percentage Meta reported with this answer (`X-App-Usage`,
    /// `X-Business-Use-Case-Usage`), if it reported any. Decides whether a throttle may be
    /// retried at all.
    pub usage_pct: Option<u32>,
}

/// Longest Meta-provided text we keep, in characters.
pub const MAX_MESSAGE_CHARS: usize = 200;

/// The longest wait partnerdeck takes from Meta (`Retry-After`, regain time): 24 hours.
/// A longer announced time is taken as 24 hours; the next round asks again.
pub const MAX_WAIT: Duration = Duration::from_secs(24 * 60 * 60);

/// A wait said in words for a person: `45 s`, `12 min`, `3 h 20 min`, `24 h` (at most
/// [`MAX_WAIT`]).
pub fn wait_words(d: Duration) -> String {
    let secs = d.min(MAX_WAIT).as_secs();
    if secs < 60 {
        format!("{} s", secs.max(1))
    } else if secs < 3600 {
        format!("{} min", secs.div_ceil(60))
    } else {
        let mins = secs.div_ceil(60);
        let (h, m) = (mins / 60, mins % 60);
        if m == 0 {
            format!("{h} h")
        } else {
            format!("{h} h {m} min")
        }
    }
}

/// Longest `fbtrace_id` kept; a longer one (or one with other characters than
/// `[A-Za-z0-9_-]`) is not a trace id and is dropped.
pub const MAX_TRACE_ID_CHARS: usize = 64;

/// A usage percentage at or above this means the limit is reached: a throttle is then not
/// retried (calls made while throttled extend the block).
pub const USAGE_LIMIT_PCT: u32 = 100;

/// `s` if it looks like one of Meta's trace ids (`[A-Za-z0-9_-]`, 1 to
/// [`MAX_TRACE_ID_CHARS`] characters), else `None`. Anything else Meta (or a proxy) puts
/// there is not shown or logged.
pub fn trace_id(s: &str) -> Option<String> {
    let s = s.trim();
    let ok = !s.is_empty()
        && s.len() <= MAX_TRACE_ID_CHARS
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    ok.then(|| s.to_string())
}

impl GraphError {
    /// A bare error of `kind` with a message (sanitized here).
    pub fn new(kind: ErrorKind, message: impl AsRef<str>) -> GraphError {
        GraphError {
            is_transient: kind == ErrorKind::Transient,
            kind,
            http_status: None,
            code: None,
            subcode: None,
            fbtrace_id: None,
            message: sanitize(message.as_ref()),
            user_title: None,
            user_msg: None,
            retry_after: None,
            usage_pct: None,
        }
    }

    /// Refused locally because the client is read-only.
    pub fn read_only() -> GraphError {
        GraphError::new(
            ErrorKind::ReadOnly,
            "Not sent: partnerdeck is in read-only mode.",
        )
    }

    pub fn with_status(mut self, status: u16) -> GraphError {
        self.http_status = Some(status);
        self
    }

    pub fn with_fbtrace(mut self, id: Option<String>) -> GraphError {
        if self.fbtrace_id.is_none() {
            self.fbtrace_id = id.as_deref().and_then(trace_id);
        }
        self
    }

    /// Build from Meta's error envelope `{"error":{...}}` (or the inner object). `None` when
    /// the value is not an envelope.
    pub fn from_envelope(
        body: &Value,
        http_status: Option<u16>,
        header_fbtrace: Option<&str>,
    ) -> Option<GraphError> {
        let err = match body.get("error") {
            Some(e) if e.is_object() => e,
            _ => return None,
        };
        let code = err.get("code").and_then(as_i64);
        let subcode = err.get("error_subcode").and_then(as_i64);
        let is_transient = err
            .get("is_transient")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        let text = |k: &str| {
            err.get(k)
                .and_then(Value::as_str)
                .map(sanitize)
                .filter(|s| !s.is_empty())
        };
        let mut message = text("message").unwrap_or_default();
        // WhatsApp endpoints put the useful part in error_data.details.
        if let Some(details) = err
            .get("error_data")
            .and_then(|d| d.get("details"))
            .and_then(Value::as_str)
            .map(sanitize)
            .filter(|d| !d.is_empty() && !message.contains(d.as_str()))
        {
            message = if message.is_empty() {
                details
            } else {
                sanitize(&format!("{}: {details}", message.trim_end_matches('.')))
            };
        }
        let kind = classify(code, subcode, is_transient, http_status);
        Some(GraphError {
            is_transient: is_transient || kind == ErrorKind::Transient,
            kind,
            http_status,
            code,
            subcode,
            fbtrace_id: err
                .get("fbtrace_id")
                .and_then(Value::as_str)
                .and_then(trace_id)
                .or_else(|| header_fbtrace.and_then(trace_id)),
            message,
            user_title: text("error_user_title"),
            user_msg: text("error_user_msg"),
            retry_after: None,
            usage_pct: None,
        })
    }

    /// An error HTTP status whose body is JSON but not Meta's envelope.
    pub fn from_status(status: u16) -> GraphError {
        let kind = classify(None, None, false, Some(status));
        GraphError::new(
            kind,
            format!("Meta answered HTTP {status} without an error envelope"),
        )
        .with_status(status)
    }

    /// Whether a GET that failed like this is worth retrying automatically: transient and
    /// transport failures; a throttle only when Meta gave no time to regain access and the
    /// usage it reported is known to be below the limit (calls made while throttled extend
    /// the block). The client retries a throttle at most once per read.
    pub fn is_retryable(&self) -> bool {
        match self.kind {
            ErrorKind::Transient | ErrorKind::Transport => true,
            ErrorKind::Throttled => {
                self.retry_after.is_none_or(|d| d.is_zero())
                    && self.usage_pct.is_some_and(|p| p < USAGE_LIMIT_PCT)
            }
            _ => false,
        }
    }

    /// Remove every occurrence of `secret` from the texts of this error.
    pub fn scrub(self, secret: &str) -> GraphError {
        self.scrub_all(&[secret])
    }

    /// Remove every occurrence of each of `secrets` from the texts of this error; a trace id
    /// that contains one is dropped.
    pub fn scrub_all(mut self, secrets: &[&str]) -> GraphError {
        for secret in secrets.iter().filter(|s| !s.is_empty()) {
            let clean = |s: &mut String| {
                if s.contains(secret) {
                    *s = s.replace(secret, "<redacted>");
                }
            };
            clean(&mut self.message);
            for s in [&mut self.user_title, &mut self.user_msg]
                .into_iter()
                .flatten()
            {
                clean(s);
            }
            if self
                .fbtrace_id
                .as_deref()
                .is_some_and(|t| t.contains(secret))
            {
                self.fbtrace_id = None;
            }
        }
        self
    }

    /// `(code 190, subcode 463)`, `(code 4)`, or `(HTTP 503)`; empty when there is neither.
    fn code_label(&self) -> String {
        match (self.code, self.subcode, self.http_status) {
            (Some(c), Some(s), _) => format!(" (code {c}, subcode {s})"),
            (Some(c), None, _) => format!(" (code {c})"),
            (None, _, Some(h)) => format!(" (HTTP {h})"),
            _ => String::new(),
        }
    }

    /// Meta's text for the user, without a trailing full stop.
    fn meta_text(&self) -> Option<&str> {
        [Some(&self.message), self.user_msg.as_ref()]
            .into_iter()
            .flatten()
            .map(|s| s.trim().trim_end_matches('.'))
            .find(|s| !s.is_empty())
    }

    fn trace_suffix(&self) -> String {
        match &self.fbtrace_id {
            Some(t) => format!(" (fbtrace_id {t})"),
            None => String::new(),
        }
    }

    /// One plain English sentence for a user on call.
    pub fn sentence(&self) -> String {
        let code = self.code_label();
        let detail = |lead: &str, tail: &str| match self.meta_text() {
            Some(m) => format!("{lead}{code}: {m}{}{tail}.", self.trace_suffix()),
            None => format!("{lead}{code}{}{tail}.", self.trace_suffix()),
        };
        // Refused locally (no code, no HTTP status): our own message is the sentence.
        let local = self.code.is_none() && self.http_status.is_none();
        match self.kind {
            ErrorKind::Permission
            | ErrorKind::Transient
            | ErrorKind::InvalidRequest
            | ErrorKind::NotFound
                if local =>
            {
                own_sentence(&self.message, &code)
            }
            ErrorKind::Throttled => match self.retry_after {
                Some(d) if !d.is_zero() => format!(
                    "Meta is throttling this app{code}: calls resume in about {}.",
                    wait_words(d)
                ),
                _ => format!("Meta is throttling this app{code}: slow down and try again shortly."),
            },
            ErrorKind::AuthExpired => {
                format!("The access token has expired or was revoked{code}: renew it and restart.")
            }
            ErrorKind::Permission => detail("Permission denied by Meta", ""),
            ErrorKind::Transient => detail("Meta had a temporary problem", "; try again shortly"),
            ErrorKind::InvalidRequest => detail("Meta refused the request", ""),
            ErrorKind::NotFound => detail("Meta does not know this object", ""),
            ErrorKind::Transport | ErrorKind::ReadOnly | ErrorKind::OutcomeUnknown => {
                own_sentence(&self.message, &code)
            }
        }
    }
}

/// Our own descriptions are already whole sentences; make sure they end with a full stop.
fn own_sentence(message: &str, code: &str) -> String {
    let m = message.trim();
    if m.is_empty() {
        format!("The call to Meta failed{code}.")
    } else if m.ends_with(['.', '…']) {
        m.to_string()
    } else {
        format!("{m}.")
    }
}

impl fmt::Display for GraphError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.sentence())
    }
}

impl std::error::Error for GraphError {}

fn as_i64(v: &Value) -> Option<i64> {
    v.as_i64()
        .or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))
}

/// Classify by Meta's code first, then `is_transient`, then the HTTP status.
pub fn classify(
    code: Option<i64>,
    subcode: Option<i64>,
    is_transient: bool,
    http_status: Option<u16>,
) -> ErrorKind {
    use ErrorKind as K;
    if let Some(c) = code {
        match c {
            190 | 102 | 2500 => return K::AuthExpired,
            0 if http_status == Some(401) => return K::AuthExpired,
            4 | 17 | 32 | 341 | 613 | 80000..=80014 | 130429 | 131056 | 133016 => {
                return K::Throttled;
            }
            3 | 10 | 200..=299 | 368 | 131031 => return K::Permission,
            1 | 2 | 131000 | 133004 => return K::Transient,
            803 => return K::NotFound,
            100 if subcode == Some(33) => return K::NotFound,
            100 => return K::InvalidRequest,
            _ => {}
        }
    }
    if is_transient {
        return K::Transient;
    }
    match http_status {
        Some(401) => K::AuthExpired,
        Some(403) => K::Permission,
        Some(404) => K::NotFound,
        Some(429) => K::Throttled,
        Some(s) if s >= 500 => K::Transient,
        _ => K::InvalidRequest,
    }
}

/// Make text safe to show and log: drop ANSI/terminal escape sequences and control
/// characters, collapse whitespace, cap the length at [`MAX_MESSAGE_CHARS`].
pub fn sanitize(s: &str) -> String {
    let mut out = String::with_capacity(s.len().min(MAX_MESSAGE_CHARS * 4));
    let mut chars = s.chars().peekable();
    let mut count = 0usize;
    let mut last_space = false;
    while let Some(c) = chars.next() {
        if c == '\u{1b}' || c == '\u{9b}' {
            // CSI: ESC [ params final(0x40..=0x7e); OSC: ESC ] ... BEL or ESC \ ; else one char.
            let csi = c == '\u{9b}' || chars.peek() == Some(&'[');
            let osc = chars.peek() == Some(&']');
            if c == '\u{1b}' {
                chars.next();
            }
            if csi {
                for n in chars.by_ref() {
                    if ('\u{40}'..='\u{7e}').contains(&n) {
                        break;
                    }
                }
            } else if osc {
                while let Some(n) = chars.next() {
                    if n == '\u{7}' {
                        break;
                    }
                    if n == '\u{1b}' {
                        chars.next();
                        break;
                    }
                }
            }
            continue;
        }
        let c = if c.is_whitespace() { ' ' } else { c };
        if c.is_control() || is_bidi_control(c) {
            continue;
        }
        if c == ' ' {
            if last_space || out.is_empty() {
                continue;
            }
            last_space = true;
        } else {
            last_space = false;
        }
        if count == MAX_MESSAGE_CHARS {
            while out.ends_with(' ') {
                out.pop();
            }
            out.push('…');
            return out;
        }
        out.push(c);
        count += 1;
    }
    while out.ends_with(' ') {
        out.pop();
    }
    out
}

/// Unicode bidirectional overrides and isolates, which can reorder text on screen.
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{200e}' | '\u{200f}')
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn env(code: i64, sub: Option<i64>, status: u16) -> GraphError {
        let mut e =
            json!({"error":{"message":"m","type":"OAuthException","code":code,"fbtrace_id":"T"}});
        if let Some(s) = sub {
            e["error"]["error_subcode"] = json!(s);
        }
        GraphError::from_envelope(&e, Some(status), None).unwrap()
    }

    #[test]
    fn classification_table() {
        use ErrorKind as K;
        let table: &[(i64, Option<i64>, u16, K)] = &[
            (190, Some(463), 401, K::AuthExpired),
            (190, None, 400, K::AuthExpired),
            (102, None, 401, K::AuthExpired),
            (2500, None, 400, K::AuthExpired),
            (0, None, 401, K::AuthExpired),
            (0, None, 400, K::InvalidRequest),
            (4, None, 400, K::Throttled),
            (4, None, 429, K::Throttled),
            (17, None, 400, K::Throttled),
            (32, None, 400, K::Throttled),
            (341, None, 400, K::Throttled),
            (613, None, 400, K::Throttled),
            (80000, None, 400, K::Throttled),
            (80007, None, 400, K::Throttled),
            (80014, None, 400, K::Throttled),
            (130429, None, 400, K::Throttled),
            (131056, None, 400, K::Throttled),
            (133016, None, 400, K::Throttled),
            (10, None, 403, K::Permission),
            (200, None, 403, K::Permission),
            (299, None, 403, K::Permission),
            (3, None, 500, K::Permission),
            (1, None, 500, K::Transient),
            (2, None, 503, K::Transient),
            (131000, None, 500, K::Transient),
            (133004, None, 503, K::Transient),
            (803, None, 404, K::NotFound),
            (100, Some(33), 400, K::NotFound),
            (100, None, 400, K::InvalidRequest),
            (100, Some(2018001), 400, K::InvalidRequest),
            (999999, None, 400, K::InvalidRequest),
            (999999, None, 502, K::Transient),
            (80015, None, 400, K::InvalidRequest),
        ];
        for (code, sub, status, want) in table {
            assert_eq!(
                &env(*code, *sub, *status).kind,
                want,
                "code {code} sub {sub:?} HTTP {status}"
            );
        }
    }

    #[test]
    fn is_transient_flag_wins_over_status_but_not_code() {
        let e = json!({"error":{"message":"x","code":12345,"is_transient":true}});
        let g = GraphError::from_envelope(&e, Some(400), None).unwrap();
        assert_eq!(g.kind, ErrorKind::Transient);
        assert!(g.is_retryable());
        let e = json!({"error":{"message":"x","code":190,"is_transient":true}});
        assert_eq!(
            GraphError::from_envelope(&e, Some(400), None).unwrap().kind,
            ErrorKind::AuthExpired
        );
    }

    #[test]
    fn envelope_fields_are_kept() {
        let e = json!({"error":{"message":"Error validating access token: Session has expired.","type":"OAuthException",
            "code":190,"error_subcode":463,"error_user_title":"Expired","error_user_msg":"Log in again","fbtrace_id":"AbC123"}});
        let g = GraphError::from_envelope(&e, Some(401), Some("HDR")).unwrap();
        assert_eq!(g.code, Some(190));
        assert_eq!(g.subcode, Some(463));
        assert_eq!(g.fbtrace_id.as_deref(), Some("AbC123"));
        assert_eq!(g.user_title.as_deref(), Some("Expired"));
        assert_eq!(g.http_status, Some(401));
        assert_eq!(
            g.sentence(),
            "The access token has expired or was revoked (code 190, subcode 463): renew it and restart."
        );
        // The header trace id is used when the envelope has none.
        let e = json!({"error":{"message":"x","code":100}});
        let g = GraphError::from_envelope(&e, Some(400), Some("HDR")).unwrap();
        assert_eq!(g.fbtrace_id.as_deref(), Some("HDR"));
    }

    #[test]
    fn string_codes_are_tolerated() {
        let e = json!({"error":{"message":"x","code":"4"}});
        assert_eq!(
            GraphError::from_envelope(&e, Some(400), None).unwrap().kind,
            ErrorKind::Throttled
        );
    }

    #[test]
    fn not_an_envelope() {
        assert!(GraphError::from_envelope(&json!({"data":[]}), Some(200), None).is_none());
        assert!(GraphError::from_envelope(&json!({"error":"nope"}), Some(400), None).is_none());
        assert!(GraphError::from_envelope(&json!([1]), Some(400), None).is_none());
    }

    #[test]
    fn sentences() {
        let mut t = env(4, None, 400);
        t.retry_after = Some(Duration::from_secs(12 * 60));
        assert_eq!(
            t.sentence(),
            "Meta is throttling this app (code 4): calls resume in about 12 min."
        );
        let p = GraphError::from_envelope(
            &json!({"error":{"message":"(#200) Requires business_management permission.","code":200,"fbtrace_id":"X1"}}),
            Some(403),
            None,
        )
        .unwrap();
        assert_eq!(
            p.sentence(),
            "Permission denied by Meta (code 200): (#200) Requires business_management permission (fbtrace_id X1)."
        );
        assert_eq!(
            GraphError::read_only().sentence(),
            "Not sent: partnerdeck is in read-only mode."
        );
        assert_eq!(
            GraphError::read_only().to_string(),
            GraphError::read_only().sentence()
        );
        let s = GraphError::from_status(503).sentence();
        assert!(s.contains("HTTP 503"), "{s}");
    }

    #[test]
    fn sanitize_strips_escapes_and_caps() {
        assert_eq!(sanitize("a\u{1b}[31mred\u{1b}[0m b\r\nc\u{7}"), "ared b c");
        assert_eq!(sanitize("x\u{1b}]0;title\u{7}y"), "xy");
        assert_eq!(sanitize("  lots   of\t\tspace  "), "lots of space");
        assert_eq!(sanitize("a\u{202e}b"), "ab");
        let long = "é".repeat(500);
        let s = sanitize(&long);
        assert_eq!(s.chars().count(), MAX_MESSAGE_CHARS + 1);
        assert!(s.ends_with('…'));
    }

    #[test]
    fn trace_ids_are_plain_or_dropped() {
        assert_eq!(trace_id(" AbC-12_x ").as_deref(), Some("AbC-12_x"));
        for bad in ["", "a b", "x\u{1b}[2J", &"A".repeat(65), "a/b", "é"] {
            assert_eq!(trace_id(bad), None, "{bad:?}");
        }
        let e = json!({"error":{"message":"m","code":100,"fbtrace_id":"\u{1b}]0;x\u{7}"}});
        let g = GraphError::from_envelope(&e, Some(400), Some("HDR-1")).unwrap();
        assert_eq!(g.fbtrace_id.as_deref(), Some("HDR-1"));
        let g = GraphError::new(ErrorKind::Transport, "x").with_fbtrace(Some("a b".into()));
        assert_eq!(g.fbtrace_id, None);
        // A trace id that is a secret is dropped by the scrub.
        let g = GraphError::new(ErrorKind::Transport, "x")
            .with_fbtrace(Some("EAAsecret".into()))
            .scrub("EAAsecret");
        assert_eq!(g.fbtrace_id, None);
    }

    #[test]
    fn scrub_removes_the_secret() {
        let e = json!({"error":{"message":"bad token EAAsecret123 here","code":190,"error_user_msg":"EAAsecret123"}});
        let g = GraphError::from_envelope(&e, Some(401), None)
            .unwrap()
            .scrub("EAAsecret123");
        assert!(!g.message.contains("EAAsecret123"));
        assert!(!format!("{g:?}").contains("EAAsecret123"));
        assert!(!g.sentence().contains("EAAsecret123"));
    }

    #[test]
    fn retryable() {
        assert!(env(2, None, 500).is_retryable());
        // A throttle: only when the usage is known to be below the limit and Meta gave no
        // time to regain access.
        let mut t = env(4, None, 400);
        assert!(!t.is_retryable(), "usage unknown");
        t.usage_pct = Some(100);
        assert!(!t.is_retryable(), "at the limit");
        t.usage_pct = Some(60);
        assert!(t.is_retryable());
        t.retry_after = Some(Duration::from_secs(2));
        assert!(!t.is_retryable(), "Meta gave a time");
        let mut t = env(80007, None, 400);
        t.retry_after = Some(Duration::from_secs(60));
        assert!(!t.is_retryable());
        assert!(!env(190, None, 401).is_retryable());
        assert!(!env(200, None, 403).is_retryable());
        assert!(!env(100, None, 400).is_retryable());
        assert!(!env(803, None, 404).is_retryable());
        assert!(!GraphError::read_only().is_retryable());
        assert!(!GraphError::new(ErrorKind::OutcomeUnknown, "x").is_retryable());
    }
}
