//! The decoder: one webhook delivery body in, one [`Event`] per change out (reference §5).
//!
//! Nothing is dropped: a change of an unknown field or an unknown `value.event` becomes an
//! event summarised from its raw value; a body that is not JSON, or JSON that is not Meta's
//! envelope, becomes one event holding the body. Nothing here panics on odd input.

use chrono::{DateTime, TimeZone, Utc};
use serde_json::{Map, Value, json};

use super::event::{Event, EventKind, MAX_SUMMARY, Scope, one_line, stable_id};

/// Decode one delivery body (received now).
pub fn decode(body: &[u8]) -> Vec<Event> {
    decode_at(body, Utc::now())
}

/// Decode one delivery body received at `received_at`.
pub fn decode_at(body: &[u8], received_at: DateTime<Utc>) -> Vec<Event> {
    let parsed: Option<Value> = serde_json::from_slice(body).ok();
    let Some(Value::Object(root)) = parsed else {
        return vec![undecodable(body, received_at)];
    };
    let object = root.get("object").and_then(Value::as_str).unwrap_or("");
    let Some(entries) = root.get("entry").and_then(Value::as_array) else {
        return vec![undecodable(body, received_at)];
    };
    let mut out = Vec::new();
    for entry in entries {
        let entry_id = text(entry.get("id"));
        let time_raw = entry.get("time").cloned().unwrap_or(Value::Null);
        let time = entry_time(&time_raw).unwrap_or(received_at);
        let changes = entry.get("changes").and_then(Value::as_array);
        match changes {
            Some(changes) if !changes.is_empty() => {
                for change in changes {
                    out.push(decode_change(
                        object,
                        entry_id.as_deref(),
                        &time_raw,
                        time,
                        change,
                        received_at,
                    ));
                }
            }
            // An entry without changes (or with something else, e.g. `messaging`): keep it.
            _ => {
                let raw = json!({ "object": object, "entry": [entry] }).to_string();
                out.push(Event {
                    id: stable_id(&["entry", &raw]),
                    time,
                    received_at,
                    kind: EventKind::Webhook,
                    field: None,
                    event: None,
                    object_id: entry_id.clone(),
                    scopes: vec![],
                    summary: one_line(
                        &format!(
                            "Webhook entry without changes for {}: {}",
                            entry_id.as_deref().unwrap_or("?"),
                            entry
                        ),
                        MAX_SUMMARY,
                    ),
                    raw,
                });
            }
        }
    }
    if out.is_empty() {
        out.push(undecodable(body, received_at));
    }
    out
}

fn undecodable(body: &[u8], received_at: DateTime<Utc>) -> Event {
    let text = String::from_utf8_lossy(body).into_owned();
    Event {
        id: stable_id(&["body", &text]),
        time: received_at,
        received_at,
        kind: EventKind::Webhook,
        field: None,
        event: None,
        object_id: None,
        scopes: vec![],
        summary: one_line(&format!("Unrecognised webhook delivery: {text}"), 160),
        raw: match serde_json::from_str::<Value>(&text) {
            Ok(_) => text,
            Err(_) => Value::String(text).to_string(),
        },
    }
}

/// `entry[].time`: Unix seconds as a number or a numeric string.
fn entry_time(v: &Value) -> Option<DateTime<Utc>> {
    let secs = match v {
        Value::Number(n) => n.as_i64().or_else(|| n.as_f64().map(|f| f as i64))?,
        Value::String(s) => s.trim().parse::<i64>().ok()?,
        _ => return None,
    };
    Utc.timestamp_opt(secs, 0).single()
}

/// A string or a number as text (ids come both ways); other values are `None`.
fn text(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn get<'a>(v: &'a Value, path: &[&str]) -> Option<&'a Value> {
    path.iter().try_fold(v, |v, k| v.get(k))
}

fn field_text(v: &Value, path: &[&str]) -> Option<String> {
    text(get(v, path))
}

/// A list of strings (or numbers) as `A, B`; `None` when absent or empty.
fn list_text(v: Option<&Value>) -> Option<String> {
    let items: Vec<String> = v?
        .as_array()?
        .iter()
        .filter_map(|x| text(Some(x)))
        .collect();
    (!items.is_empty()).then(|| items.join(", "))
}

fn decode_change(
    object: &str,
    entry_id: Option<&str>,
    time_raw: &Value,
    time: DateTime<Utc>,
    change: &Value,
    received_at: DateTime<Utc>,
) -> Event {
    let field = text(change.get("field"));
    let empty = Value::Object(Map::new());
    let value = change.get("value").unwrap_or(&empty);
    let mut entry = Map::new();
    if let Some(id) = entry_id {
        entry.insert("id".into(), Value::String(id.into()));
    }
    entry.insert("time".into(), time_raw.clone());
    entry.insert("changes".into(), json!([change]));
    let raw = json!({ "object": object, "entry": [Value::Object(entry)] }).to_string();
    let value_text = value.to_string();
    let time_text = time_raw.to_string();
    let id = stable_id(&[
        entry_id.unwrap_or(""),
        &time_text,
        field.as_deref().unwrap_or(""),
        &value_text,
    ]);
    let name = text(value.get("event"));
    let d = match field.as_deref() {
        Some("account_update") => account_update(value, name.as_deref(), entry_id),
        Some("partner_solutions") => partner_solutions(value, name.as_deref(), entry_id),
        Some("phone_number_quality_update") => phone_quality(value, name.as_deref(), entry_id),
        Some("account_review_update") => account_review(value, entry_id),
        other => Decoded {
            object_id: entry_id.map(str::to_string),
            scopes: vec![],
            summary: format!(
                "Webhook {} for {}: {}",
                other.unwrap_or("(no field)"),
                entry_id.unwrap_or("?"),
                value_text
            ),
        },
    };
    Event {
        id,
        time,
        received_at,
        kind: EventKind::Webhook,
        field,
        event: name,
        object_id: d.object_id,
        scopes: d.scopes,
        summary: one_line(&d.summary, MAX_SUMMARY),
        raw,
    }
}

struct Decoded {
    object_id: Option<String>,
    scopes: Vec<Scope>,
    summary: String,
}

/// `account_update` (reference §5.2). The WABA is `waba_info.waba_id`, else `entry[].id`.
fn account_update(value: &Value, event: Option<&str>, entry_id: Option<&str>) -> Decoded {
    let waba = field_text(value, &["waba_info", "waba_id"]).or(entry_id.map(str::to_string));
    let w = waba.clone().unwrap_or_else(|| "?".into());
    let owner = field_text(value, &["waba_info", "owner_business_id"]);
    let by_owner = owner
        .as_deref()
        .map(|o| format!(" (customer business {o})"))
        .unwrap_or_default();
    let app = field_text(value, &["waba_info", "partner_app_id"]);
    let solution = field_text(value, &["waba_info", "solution_id"]);
    let via_solution = solution
        .as_deref()
        .map(|s| format!(", via solution {s}"))
        .unwrap_or_default();
    let wabas = vec![Scope::Wabas];
    let (scopes, summary) = match event {
        Some("PARTNER_ADDED") => {
            let mut scopes = vec![Scope::Wabas, Scope::CreditLines];
            if solution.is_some() {
                scopes.insert(0, Scope::Solutions);
            }
            let partners = list_text(get(value, &["waba_info", "solution_partner_business_ids"]))
                .map(|p| format!("; partners {p}"))
                .unwrap_or_default();
            (
                scopes,
                format!("WABA {w} shared with us{by_owner}{via_solution}{partners}"),
            )
        }
        Some("PARTNER_APP_INSTALLED") => (
            wabas,
            format!(
                "App {} installed on WABA {w}{by_owner}{via_solution}",
                app.as_deref().unwrap_or("?")
            ),
        ),
        Some("PARTNER_APP_UNINSTALLED") => (
            wabas,
            format!(
                "App {} uninstalled from WABA {w}{by_owner}",
                app.as_deref().unwrap_or("?")
            ),
        ),
        Some("PARTNER_REMOVED") => {
            let reason = field_text(value, &["disconnection_info", "reason"]);
            let by = field_text(value, &["disconnection_info", "initiated_by"]);
            let why = match (reason, by) {
                (Some(r), Some(b)) => format!(" (reason {r}, initiated by {b})"),
                (Some(r), None) => format!(" (reason {r})"),
                (None, Some(b)) => format!(" (initiated by {b})"),
                (None, None) => String::new(),
            };
            (
                vec![Scope::Wabas, Scope::CreditLines],
                format!("WABA {w} no longer shared with us{by_owner}{why}"),
            )
        }
        Some("ACCOUNT_DELETED") => (
            vec![Scope::Wabas, Scope::CreditLines],
            format!("WABA {w} deleted"),
        ),
        Some("ACCOUNT_RESTRICTION") => {
            let items: Vec<String> = value
                .get("restriction_info")
                .and_then(Value::as_array)
                .map(|a| a.iter().map(restriction).collect())
                .unwrap_or_default();
            let what = if items.is_empty() {
                String::new()
            } else {
                format!(": {}", items.join("; "))
            };
            (wabas, format!("WABA {w} restricted{what}"))
        }
        Some("ACCOUNT_VIOLATION") => {
            let t = field_text(value, &["violation_info", "violation_type"])
                .unwrap_or_else(|| "unspecified".into());
            (wabas, format!("WABA {w} policy violation: {t}"))
        }
        Some("DISABLED_UPDATE") => {
            let state = field_text(value, &["ban_info", "waba_ban_state"]);
            let date = field_text(value, &["ban_info", "waba_ban_date"])
                .map(|d| format!(" on {d}"))
                .unwrap_or_default();
            let words = match state.as_deref() {
                Some("DISABLE") => "disabled (banned)".to_string(),
                Some("REINSTATE") => "reinstated".to_string(),
                Some("SCHEDULE_FOR_DISABLE") => "scheduled to be disabled".to_string(),
                Some(other) => format!("ban state {other}"),
                None => "ban state changed".to_string(),
            };
            let raw_state = state.map(|s| format!(" [{s}]")).unwrap_or_default();
            (wabas, format!("WABA {w} {words}{date}{raw_state}"))
        }
        Some("AD_ACCOUNT_LINKED") => {
            let ad = field_text(value, &["waba_info", "ad_account_linked"])
                .unwrap_or_else(|| "?".into());
            (wabas, format!("WABA {w} linked to ad account {ad}"))
        }
        Some("AUTH_INTL_PRICE_ELIGIBILITY_UPDATE") => {
            let info = value.get("auth_international_rate_eligibility");
            let start = info
                .and_then(|i| i.get("start_time"))
                .and_then(|t| entry_time(t).map(|d| d.format("%Y-%m-%d").to_string()))
                .map(|d| format!(" from {d}"))
                .unwrap_or_default();
            let countries: Vec<String> = info
                .and_then(|i| i.get("exception_countries"))
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(|c| field_text(c, &["country_code"]))
                        .collect()
                })
                .unwrap_or_default();
            let except = if countries.is_empty() {
                String::new()
            } else {
                format!(" (exceptions: {})", countries.join(", "))
            };
            (
                wabas,
                format!("WABA {w} eligible for authentication-international rates{start}{except}"),
            )
        }
        Some("BUSINESS_PRIMARY_LOCATION_COUNTRY_UPDATE") => {
            let c = field_text(value, &["country"]).unwrap_or_else(|| "?".into());
            (
                wabas,
                format!("WABA {w} primary business location set to {c}"),
            )
        }
        Some("MM_LITE_TERMS_SIGNED") => (
            wabas,
            format!("WABA {w}: Marketing Messages API terms signed{by_owner}"),
        ),
        Some("PARTNER_CLIENT_CERTIFICATION_STATUS_UPDATE") => {
            let info = value.get("partner_client_certification_info");
            let client = info
                .and_then(|i| text(i.get("client_business_id")))
                .unwrap_or_else(|| "?".into());
            let status = info
                .and_then(|i| text(i.get("status")))
                .unwrap_or_else(|| "?".into());
            let reasons = list_text(info.and_then(|i| i.get("rejection_reasons")))
                .map(|r| format!(" (reasons: {r})"))
                .unwrap_or_default();
            (
                wabas,
                format!("Business verification of client {client}: {status}{reasons}"),
            )
        }
        Some("VOLUME_BASED_PRICING_TIER_UPDATE") => {
            let t = |k: &str| field_text(value, &["volume_tier_info", k]);
            let tier = t("tier").unwrap_or_else(|| "?".into());
            let cat = t("pricing_category")
                .map(|c| format!(" for {c}"))
                .unwrap_or_default();
            let region = t("region").map(|r| format!(" in {r}")).unwrap_or_default();
            let month = t("effective_month")
                .map(|m| format!(" from {m}"))
                .unwrap_or_default();
            (
                wabas,
                format!("WABA {w} pricing tier {tier}{cat}{region}{month}"),
            )
        }
        Some("ACCOUNT_OFFBOARDED") => (
            wabas,
            format!("WABA {w} offboarded (device change or re-registration)"),
        ),
        Some("ACCOUNT_RECONNECTED") => (wabas, format!("WABA {w} reconnected")),
        Some(other) => (wabas, format!("WABA {w}: account_update {other} {}", value)),
        None => (wabas, format!("WABA {w}: account_update {}", value)),
    };
    Decoded {
        object_id: waba,
        scopes,
        summary,
    }
}

/// One `restriction_info[]` item: `TYPE until 2025-05-01 12:00 UTC`.
fn restriction(item: &Value) -> String {
    let t = field_text(item, &["restriction_type"]).unwrap_or_else(|| "restriction".into());
    let until = item
        .get("expiration")
        .and_then(entry_time)
        .map(|d| format!(" until {}", d.format("%Y-%m-%d %H:%M UTC")))
        .unwrap_or_default();
    let fix = field_text(item, &["remediation"])
        .map(|r| format!(" ({r})"))
        .unwrap_or_default();
    format!("{t}{until}{fix}")
}

/// `partner_solutions` (reference §5.3).
fn partner_solutions(value: &Value, event: Option<&str>, entry_id: Option<&str>) -> Decoded {
    let sid = field_text(value, &["solution_id"]);
    let s = sid.clone().unwrap_or_else(|| "?".into());
    let status = field_text(value, &["solution_status"]);
    let words = status.as_deref().map(|st| {
        let meaning = match st {
            "INITIATED" => " (request sent, waiting for acceptance)",
            "ACTIVE" => " (accepted)",
            "REJECTED" => " (rejected)",
            "DRAFT" => " (draft saved)",
            "PENDING_DEACTIVATION" => " (deactivation requested)",
            "DEACTIVATED" => " (deactivated)",
            "PENDING" => " (pending)",
            _ => "",
        };
        format!("{st}{meaning}")
    });
    let summary = match (event, words) {
        (Some("SOLUTION_CREATED"), Some(w)) => format!("Solution {s} created: {w}"),
        (Some("SOLUTION_CREATED"), None) => format!("Solution {s} created"),
        (Some("SOLUTION_UPDATED"), Some(w)) => format!("Solution {s} now {w}"),
        (Some("SOLUTION_UPDATED"), None) => format!("Solution {s} updated"),
        (Some(other), _) => format!("Solution {s}: partner_solutions {other} {value}"),
        (None, _) => format!("Solution {s}: partner_solutions {value}"),
    };
    Decoded {
        object_id: sid.or(entry_id.map(str::to_string)),
        scopes: vec![Scope::Solutions],
        summary,
    }
}

/// `phone_number_quality_update`: `value{display_phone_number, event, current_limit,
/// old_limit?, ...}`; `entry[].id` is the WABA. [inferred from Meta's reference; open strings]
fn phone_quality(value: &Value, event: Option<&str>, entry_id: Option<&str>) -> Decoded {
    let phone = field_text(value, &["display_phone_number"]);
    let p = phone.clone().unwrap_or_else(|| "?".into());
    let what = match event {
        Some("FLAGGED") => "quality flagged".to_string(),
        Some("UNFLAGGED") => "quality no longer flagged".to_string(),
        Some("DOWNGRADE") => "messaging limit lowered".to_string(),
        Some("UPGRADE") => "messaging limit raised".to_string(),
        Some("ONBOARDING") => "onboarding".to_string(),
        Some("THROUGHPUT_UPGRADE") => "throughput raised".to_string(),
        Some(other) => format!("quality update {other}"),
        None => "quality update".to_string(),
    };
    let cur = field_text(value, &["current_limit"]);
    let old = field_text(value, &["old_limit"]);
    let limit = match (old, cur) {
        (Some(o), Some(c)) => format!(": limit {o} → {c}"),
        (None, Some(c)) => format!(": limit {c}"),
        _ => String::new(),
    };
    let on = entry_id.map(|w| format!(" (WABA {w})")).unwrap_or_default();
    Decoded {
        object_id: phone.or(entry_id.map(str::to_string)),
        scopes: vec![Scope::Wabas],
        summary: format!("Number {p} {what}{limit}{on}"),
    }
}

/// `account_review_update`: `value{decision}` ∈ APPROVED, REJECTED, PENDING, DEFERRED (§3.2).
fn account_review(value: &Value, entry_id: Option<&str>) -> Decoded {
    let w = entry_id.unwrap_or("?");
    let decision = field_text(value, &["decision"]).unwrap_or_else(|| "?".into());
    Decoded {
        object_id: entry_id.map(str::to_string),
        scopes: vec![Scope::Wabas],
        summary: format!("WABA {w} account review: {decision}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn odd_inputs_never_panic_and_are_kept() {
        for body in [
            &b""[..],
            b"not json",
            b"[]",
            b"{}",
            b"{\"entry\":5}",
            b"{\"entry\":[]}",
            b"{\"entry\":[5,null,{\"changes\":7}]}",
            b"{\"entry\":[{\"id\":1,\"time\":\"x\",\"changes\":[5,{\"field\":3,\"value\":[]}]}]}",
            b"\xff\xfe",
        ] {
            let evs = decode(body);
            assert!(!evs.is_empty(), "{body:?}");
            for e in evs {
                assert!(!e.summary.is_empty());
                assert!(serde_json::from_str::<Value>(&e.raw).is_ok(), "{}", e.raw);
                assert!(!e.summary.contains('\n'));
            }
        }
    }

    #[test]
    fn same_change_same_id_and_raw_redecodes() {
        let body = br#"{"object":"whatsapp_business_account","entry":[{"id":"1","time":1739321024,"changes":[{"field":"partner_solutions","value":{"event":"SOLUTION_UPDATED","solution_id":"9","solution_status":"ACTIVE"}}]}]}"#;
        let a = decode(body);
        let b = decode(body);
        assert_eq!(a[0].id, b[0].id);
        let again = decode(a[0].raw.as_bytes());
        assert_eq!(again[0].id, a[0].id);
        assert_eq!(again[0].summary, a[0].summary);
        assert_eq!(a[0].summary, "Solution 9 now ACTIVE (accepted)");
        assert_eq!(a[0].time.timestamp(), 1739321024);
    }
}
