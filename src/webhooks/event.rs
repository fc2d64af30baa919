//! The one event model: a webhook change from Meta, or something the console observed, did or
//! wants to tell. Every event has a stable id (so Meta's retried deliveries are stored once), a
//! time, a kind, the object it concerns, the refresh scopes it touches, a one-line summary in
//! plain words and the raw payload as JSON text.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Where an event came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    /// A webhook delivery from Meta (listener or followed file).
    Webhook,
    /// A change the console noticed between two reads.
    Observed,
    /// A mutation the console sent (and its outcome).
    Action,
    /// Something the console wants the operator to know.
    Notice,
}

impl EventKind {
    pub const ALL: [EventKind; 4] = [
        EventKind::Webhook,
        EventKind::Observed,
        EventKind::Action,
        EventKind::Notice,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Webhook => "webhook",
            EventKind::Observed => "observed",
            EventKind::Action => "action",
            EventKind::Notice => "notice",
        }
    }
}

impl fmt::Display for EventKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for EventKind {
    type Err = String;
    fn from_str(s: &str) -> Result<EventKind, String> {
        let s = s.trim().to_ascii_lowercase();
        EventKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| format!("expected webhook, observed, action or notice, got {s:?}"))
    }
}

/// Which part of the console's data an event concerns: a refresh of that scope brings the
/// console up to date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    Solutions,
    Wabas,
    CreditLines,
}

impl Scope {
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Solutions => "solutions",
            Scope::Wabas => "wabas",
            Scope::CreditLines => "credit_lines",
        }
    }

    pub fn parse(s: &str) -> Option<Scope> {
        match s.trim() {
            "solutions" => Some(Scope::Solutions),
            "wabas" => Some(Scope::Wabas),
            "credit_lines" => Some(Scope::CreditLines),
            _ => None,
        }
    }
}

/// One event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    /// Stable id: for a webhook, a hash of the entry id, entry time, field and value, so a
    /// redelivery of the same change has the same id.
    pub id: String,
    /// When it happened (a webhook's `entry[].time`; else when it was made).
    pub time: DateTime<Utc>,
    /// When partnerdeck received or made it.
    pub received_at: DateTime<Utc>,
    pub kind: EventKind,
    /// The webhook field (`account_update`, `partner_solutions`, ...), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// `value.event` of a webhook (`PARTNER_ADDED`, `SOLUTION_UPDATED`, ...), or the action
    /// name of a console event.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event: Option<String>,
    /// The object it concerns: WABA id, solution id, phone number, business id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub object_id: Option<String>,
    /// What to refresh because of it (may be empty).
    #[serde(default)]
    pub scopes: Vec<Scope>,
    /// One line, plain words, no control characters.
    pub summary: String,
    /// The raw payload as JSON text (for a webhook: a one-change envelope in Meta's shape).
    pub raw: String,
}

impl Event {
    /// A console event (`observed`, `action` or `notice`; `webhook` works too) stamped now.
    /// Its id hashes the kind, time, object, summary and payload.
    pub fn local(
        kind: EventKind,
        object_id: Option<&str>,
        scopes: Vec<Scope>,
        summary: &str,
        raw: &serde_json::Value,
    ) -> Event {
        let now = Utc::now();
        let raw = raw.to_string();
        let summary = one_line(summary, MAX_SUMMARY);
        let id = stable_id(&[
            kind.as_str(),
            &now.timestamp_nanos_opt().unwrap_or_default().to_string(),
            object_id.unwrap_or(""),
            &summary,
            &raw,
        ]);
        Event {
            id,
            time: now,
            received_at: now,
            kind,
            field: None,
            event: None,
            object_id: object_id.map(str::to_string),
            scopes,
            summary,
            raw,
        }
    }

    /// `time  kind  summary`, for `partnerdeck events` and logs.
    pub fn to_line(&self) -> String {
        format!(
            "{}  {:<8}  {}",
            self.time
                .with_timezone(&chrono::Local)
                .format("%Y-%m-%d %H:%M:%S"),
            self.kind.as_str(),
            self.summary
        )
    }

    /// One JSON object (one line).
    pub fn to_json_line(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// Longest summary kept, in characters.
pub const MAX_SUMMARY: usize = 300;

/// A 32-hex-digit id from the SHA-256 of the parts (each length-prefixed, so the parts cannot
/// run into each other).
pub fn stable_id(parts: &[&str]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update((p.len() as u64).to_be_bytes());
        h.update(p.as_bytes());
    }
    hex::encode(&h.finalize()[..16])
}

/// Text from outside made safe for one terminal line: control characters (escape sequences,
/// newlines, tabs) become spaces, runs of spaces collapse, at most `max` characters.
pub fn one_line(s: &str, max: usize) -> String {
    let mut out = String::with_capacity(s.len().min(max + 3));
    let mut space = false;
    let mut n = 0;
    for c in s.chars() {
        let c = if c.is_control() { ' ' } else { c };
        if c == ' ' {
            if space || out.is_empty() {
                continue;
            }
            space = true;
        } else {
            space = false;
        }
        if n == max {
            out.push('…');
            return out;
        }
        out.push(c);
        n += 1;
    }
    while out.ends_with(' ') {
        out.pop();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_round_trip() {
        for k in EventKind::ALL {
            assert_eq!(k.as_str().parse::<EventKind>().unwrap(), k);
            assert_eq!(serde_json::to_value(k).unwrap(), k.as_str());
        }
        assert!("web".parse::<EventKind>().is_err());
        assert_eq!("WEBHOOK".parse::<EventKind>().unwrap(), EventKind::Webhook);
    }

    #[test]
    fn one_line_strips_controls_and_caps() {
        assert_eq!(one_line("a\n\x1b[31mb\t c  ", 50), "a [31mb c");
        assert_eq!(one_line("abcdef", 3), "abc…");
        assert_eq!(one_line("", 3), "");
    }

    #[test]
    fn ids_do_not_run_together() {
        assert_ne!(stable_id(&["ab", "c"]), stable_id(&["a", "bc"]));
        assert_eq!(stable_id(&["x"]).len(), 32);
    }

    #[test]
    fn local_events_have_distinct_ids() {
        let a = Event::local(EventKind::Notice, None, vec![], "x", &serde_json::json!({}));
        let b = Event::local(EventKind::Notice, None, vec![], "y", &serde_json::json!({}));
        assert_ne!(a.id, b.id);
        assert_eq!(a.summary, "x");
    }
}
