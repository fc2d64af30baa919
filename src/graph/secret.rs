//! Secrets the client carries, in types that never print them.

use std::fmt;

/// An access token. It only leaves this type through [`Token::expose`], which is used to
/// build the `Authorization` header; `Debug` prints `Token(<redacted>)`, and there is no
/// `Display` or `Serialize`.
#[derive(Clone, PartialEq, Eq)]
pub struct Token(String);

impl Token {
    pub fn new(secret: impl Into<String>) -> Token {
        Token(secret.into())
    }

    /// The secret itself. Use only to build the Authorization header (or to scrub it).
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Token(<redacted>)")
    }
}
