//! The delivery signature (reference §5.1): `X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of
//! the raw body keyed with the app secret>`, compared in constant time. Only `-256` is
//! accepted. The app secret and the verify token live in types that never print them.

use std::fmt;

use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// The header Meta signs deliveries with.
pub const SIGNATURE_HEADER: &str = "x-hub-signature-256";

/// The Meta app secret. `Debug` prints `AppSecret(<redacted>)`; no `Display`, no `Serialize`.
#[derive(Clone, PartialEq, Eq)]
pub struct AppSecret(String);

impl AppSecret {
    pub fn new(secret: impl Into<String>) -> AppSecret {
        AppSecret(secret.into())
    }

    /// The secret itself: only to key the HMAC.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for AppSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AppSecret(<redacted>)")
    }
}

/// The verify token of the subscription handshake. `Debug` is redacted.
#[derive(Clone, PartialEq, Eq)]
pub struct VerifyToken(String);

impl VerifyToken {
    pub fn new(token: impl Into<String>) -> VerifyToken {
        VerifyToken(token.into())
    }

    /// Constant-time comparison with what the handshake sent.
    pub fn matches(&self, given: &str) -> bool {
        subtle_eq(self.0.as_bytes(), given.as_bytes())
    }
}

impl fmt::Debug for VerifyToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("VerifyToken(<redacted>)")
    }
}

/// Equality whose time does not depend on where the inputs differ (only on their lengths).
fn subtle_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let mut diff = 0u8;
    for (x, y) in a.iter().zip(b) {
        diff |= x ^ y;
    }
    std::hint::black_box(diff) == 0
}

/// Why a delivery was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("no X-Hub-Signature-256 header")]
    Missing,
    #[error("the X-Hub-Signature-256 header is not `sha256=<64 hex digits>`")]
    Malformed,
    #[error("the signature does not match the body and the app secret")]
    Mismatch,
}

/// `sha256=<hex>` for `body` keyed with `secret` (what Meta sends; used by tests and tools).
pub fn sign(secret: &AppSecret, body: &[u8]) -> String {
    let mut mac = HmacSha256::new_from_slice(secret.expose().as_bytes())
        .expect("HMAC takes keys of any length");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// Check the header value against the body; the MAC comparison is constant-time.
pub fn verify(secret: &AppSecret, header: Option<&str>, body: &[u8]) -> Result<(), SignatureError> {
    let header = header.ok_or(SignatureError::Missing)?.trim();
    let hex_part = header
        .strip_prefix("sha256=")
        .ok_or(SignatureError::Malformed)?;
    if hex_part.len() != 64 {
        return Err(SignatureError::Malformed);
    }
    let given = hex::decode(hex_part).map_err(|_| SignatureError::Malformed)?;
    let mut mac = HmacSha256::new_from_slice(secret.expose().as_bytes())
        .expect("HMAC takes keys of any length");
    mac.update(body);
    mac.verify_slice(&given)
        .map_err(|_| SignatureError::Mismatch)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sign_and_verify() {
        let s = AppSecret::new("shh");
        let body = br#"{"object":"whatsapp_business_account"}"#;
        let sig = sign(&s, body);
        assert!(sig.starts_with("sha256=") && sig.len() == 71);
        assert_eq!(verify(&s, Some(&sig), body), Ok(()));
        assert_eq!(
            verify(
                &s,
                Some(&sig.to_uppercase().replace("SHA256=", "sha256=")),
                body
            ),
            Ok(()),
            "hex digits in either case"
        );
        assert_eq!(verify(&s, None, body), Err(SignatureError::Missing));
        assert_eq!(
            verify(&s, Some("sha1=abc"), body),
            Err(SignatureError::Malformed)
        );
        assert_eq!(
            verify(&AppSecret::new("other"), Some(&sig), body),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(verify(&s, Some(&sig), b"{}"), Err(SignatureError::Mismatch));
    }

    #[test]
    fn secrets_do_not_print() {
        assert_eq!(
            format!("{:?}", AppSecret::new("x1")),
            "AppSecret(<redacted>)"
        );
        assert_eq!(
            format!("{:?}", VerifyToken::new("x1")),
            "VerifyToken(<redacted>)"
        );
        assert!(VerifyToken::new("abc").matches("abc"));
        assert!(!VerifyToken::new("abc").matches("abd"));
        assert!(!VerifyToken::new("abc").matches("ab"));
    }

    #[test]
    fn known_vector() {
        // RFC 4231 test case 2: key "Jefe", data "what do ya want for nothing?".
        assert_eq!(
            sign(&AppSecret::new("Jefe"), b"what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}
