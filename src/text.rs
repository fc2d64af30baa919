//! Making text from Meta safe and tidy for a terminal.

use std::borrow::Cow;

/// Characters that would reach the terminal as commands rather than text: C0/C1 controls
/// (ESC starts every escape sequence) and the bidi overrides/isolates that reorder a line.
fn is_hostile(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}')
}

/// Text from Meta, made inert: every control or bidi character becomes one visible,
/// single-width character, so an escape sequence in a name is shown, not obeyed, and the row
/// keeps its layout. C0 controls and DEL become their Unicode control pictures (ESC shows
/// as `␛`, BEL as `␇`), which also says what was sent; C1 controls and bidi overrides
/// become `�`.
pub fn inert(s: &str) -> Cow<'_, str> {
    if s.chars().any(is_hostile) {
        Cow::Owned(s.chars().map(visible).collect())
    } else {
        Cow::Borrowed(s)
    }
}

fn visible(c: char) -> char {
    match c {
        '\u{0}'..='\u{1f}' => char::from_u32(0x2400 + c as u32).unwrap_or('\u{FFFD}'),
        '\u{7f}' => '\u{2421}',
        c if is_hostile(c) => '\u{FFFD}',
        c => c,
    }
}

/// A human age: "4s", "3m", "2h 5m", "3d".
pub fn age(secs: i64) -> String {
    let secs = secs.max(0);
    match secs {
        0..60 => format!("{secs}s"),
        60..3600 => format!("{}m", secs / 60),
        3600..86400 => format!("{}h {}m", secs / 3600, secs % 3600 / 60),
        _ => format!("{}d", secs / 86400),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_sequences_and_bidi_are_made_visible() {
        assert_eq!(inert("Acme\u{1b}[2J"), "Acme\u{241B}[2J");
        assert_eq!(inert("t\u{7}\u{7f}"), "t\u{2407}\u{2421}");
        assert_eq!(inert("abc\u{202E}fed"), "abc\u{FFFD}fed");
        assert_eq!(inert("a\u{9b}b"), "a\u{FFFD}b");
        assert!(matches!(inert("plain 名前 👩‍💻"), Cow::Borrowed(_)));
    }

    #[test]
    fn ages_read_naturally() {
        assert_eq!(age(5), "5s");
        assert_eq!(age(125), "2m");
        assert_eq!(age(3720), "1h 2m");
        assert_eq!(age(-3), "0s");
    }
}
