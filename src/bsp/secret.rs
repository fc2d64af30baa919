//! BSP credentials, in types that never print them, and the scrubbing of any text that might
//! carry them back (an answer that echoes them, a transport error naming the URL).

use std::fmt;

use base64::Engine as _;

use super::Bsp;

/// One secret value (Plivo Auth ID or Auth Token, Telnyx API key). Only leaves through
/// [`expose`](Self::expose); `Debug` prints `<redacted>`; no `Display`, no `Serialize`.
#[derive(Clone, PartialEq, Eq)]
pub struct BspSecret(String);

impl BspSecret {
    pub fn new(secret: impl Into<String>) -> BspSecret {
        BspSecret(secret.into())
    }

    /// The secret itself: for the request (path, header) and for scrubbing only.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for BspSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// The credentials of our account at one BSP.
#[derive(Clone, PartialEq, Eq)]
pub enum BspCredentials {
    /// HTTP Basic, `auth_id:auth_token`; the Auth ID is also in the URL path (§6.1).
    Plivo {
        auth_id: BspSecret,
        auth_token: BspSecret,
    },
    /// `Authorization: Bearer <api key>` (§6.2).
    Telnyx { api_key: BspSecret },
}

impl fmt::Debug for BspCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BspCredentials::Plivo { .. } => f.write_str("BspCredentials::Plivo(<redacted>)"),
            BspCredentials::Telnyx { .. } => f.write_str("BspCredentials::Telnyx(<redacted>)"),
        }
    }
}

impl BspCredentials {
    pub fn plivo(auth_id: impl Into<String>, auth_token: impl Into<String>) -> BspCredentials {
        BspCredentials::Plivo {
            auth_id: BspSecret::new(auth_id),
            auth_token: BspSecret::new(auth_token),
        }
    }

    pub fn telnyx(api_key: impl Into<String>) -> BspCredentials {
        BspCredentials::Telnyx {
            api_key: BspSecret::new(api_key),
        }
    }

    pub fn bsp(&self) -> Bsp {
        match self {
            BspCredentials::Plivo { .. } => Bsp::Plivo,
            BspCredentials::Telnyx { .. } => Bsp::Telnyx,
        }
    }

    /// Every form in which these credentials could come back in a text: each value raw,
    /// JSON-escaped and percent-encoded, and the `Authorization` header value (Basic base64
    /// of `id:token`, or the bearer key). Longest first, so a longer form is replaced whole.
    pub fn forms(&self) -> Vec<String> {
        let mut raw: Vec<&str> = Vec::new();
        let mut out: Vec<String> = Vec::new();
        match self {
            BspCredentials::Plivo {
                auth_id,
                auth_token,
            } => {
                raw.push(auth_id.expose());
                raw.push(auth_token.expose());
                let pair = format!("{}:{}", auth_id.expose(), auth_token.expose());
                out.push(base64::engine::general_purpose::STANDARD.encode(pair.as_bytes()));
                out.push(base64::engine::general_purpose::STANDARD_NO_PAD.encode(pair.as_bytes()));
                out.push(pair);
            }
            BspCredentials::Telnyx { api_key } => raw.push(api_key.expose()),
        }
        for r in raw {
            out.push(r.to_string());
            // JSON-escaped, and escaped twice (a message quoting an escaped value, inside JSON).
            let once = json_escaped(r);
            out.push(json_escaped(&once));
            out.push(once);
            out.push(url::form_urlencoded::byte_serialize(r.as_bytes()).collect());
            out.push(
                url::Url::parse("http://x/")
                    .ok()
                    .and_then(|mut u| {
                        u.path_segments_mut().ok()?.push(r);
                        Some(u.path().trim_start_matches('/').to_string())
                    })
                    .unwrap_or_default(),
            );
        }
        out.retain(|f| !f.is_empty());
        out.sort_by_key(|f| std::cmp::Reverse(f.len()));
        out.dedup();
        out
    }

    /// `text` with every form of the credentials replaced by `<redacted>`.
    pub fn scrub(&self, text: &str) -> String {
        scrub_forms(text, &self.forms())
    }
}

fn json_escaped(s: &str) -> String {
    let json = serde_json::to_string(s).unwrap_or_default();
    json[1..json.len().saturating_sub(1).max(1)].to_string()
}

pub(crate) fn scrub_forms(text: &str, forms: &[String]) -> String {
    let mut out = text.to_string();
    for f in forms {
        if out.contains(f.as_str()) {
            out = out.replace(f.as_str(), "<redacted>");
        }
    }
    out
}

/// A Plivo Auth ID as shown to people: its first two letters (`MA`/`SA`, the account kind) and
/// `…redacted`, so the confirm dialog shows which kind of account without the id.
pub fn redacted_auth_id(auth_id: &str) -> String {
    let head: String = if auth_id.chars().count() >= 10 {
        auth_id.chars().take(2).collect()
    } else {
        String::new()
    };
    format!("{head}…redacted")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_secrets() {
        let c = BspCredentials::plivo("MAXXXXXXXXXXXXXXXXXX", "tok\"en/with+odd chars");
        let d = format!("{c:?} {:?}", BspSecret::new("abc"));
        assert!(
            !d.contains("MAXX") && !d.contains("tok") && !d.contains("abc"),
            "{d}"
        );
    }

    #[test]
    fn every_form_is_scrubbed() {
        let c = BspCredentials::plivo("MAXXXXXXXXXXXXXXXXXX", "tok\"en/with+odd chars");
        let basic = base64::engine::general_purpose::STANDARD
            .encode("MAXXXXXXXXXXXXXXXXXX:tok\"en/with+odd chars");
        let text = format!(
            "raw MAXXXXXXXXXXXXXXXXXX tok\"en/with+odd chars json {} url tok%22en%2Fwith%2Bodd+chars basic {basic}",
            serde_json::to_string("tok\"en/with+odd chars").unwrap()
        );
        let s = c.scrub(&text);
        assert!(!s.contains("MAXX"), "{s}");
        assert!(!s.contains("tok"), "{s}");
        assert!(!s.contains(&basic[..12]), "{s}");
        assert_eq!(redacted_auth_id("MAXXXXXXXXXXXXXXXXXX"), "MA…redacted");
        assert_eq!(redacted_auth_id("short"), "…redacted");
    }
}
