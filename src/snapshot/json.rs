//! The JSON form, written as it is read: the document goes to the writer entry by entry and
//! WABA by WABA through serde_json's own pretty serializer, so a 100,000-WABA book never
//! exists as one string or one `Value`; [`InertWriter`] escapes on the way out what a
//! terminal would act on.

use std::cell::RefCell;
use std::io::{self, Write};

use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};

use super::book::{Feed, WabaPage};
use super::{Snapshot, SnapshotWaba};

/// Whether a character would change what a terminal shows (DEL, C1 controls, bidi marks,
/// overrides and isolates, line and paragraph separators, and any other control but the
/// JSON whitespace ones). Written as a `\u` escape; outside strings serde_json's output is
/// ASCII, so every such character is inside a string, where the escape is exact.
pub fn needs_escape(c: char) -> bool {
    matches!(c,
        '\u{7f}'..='\u{9f}'
        | '\u{061c}'
        | '\u{200e}' | '\u{200f}'
        | '\u{2028}'..='\u{202e}'
        | '\u{2066}'..='\u{2069}')
        || (c.is_control() && c != '\n' && c != '\t' && c != '\r')
}

/// A writer of serde_json output that writes [`needs_escape`] characters as `\u` escapes.
/// A character cut between two writes is held until its last byte comes.
pub struct InertWriter<W: Write> {
    inner: W,
    /// The first bytes of a character whose last bytes have not been written yet.
    carry: Vec<u8>,
}

impl<W: Write> InertWriter<W> {
    pub fn new(inner: W) -> InertWriter<W> {
        InertWriter {
            inner,
            carry: Vec::new(),
        }
    }

    /// The inner writer, with any cut character written as it came.
    pub fn into_inner(mut self) -> io::Result<W> {
        let carry = std::mem::take(&mut self.carry);
        self.inner.write_all(&carry)?;
        Ok(self.inner)
    }

    fn write_escaped(&mut self, bytes: &[u8]) -> io::Result<()> {
        let mut rest = bytes;
        while !rest.is_empty() {
            let (valid, after) = match std::str::from_utf8(rest) {
                Ok(s) => (s, &[][..]),
                Err(e) => {
                    let (good, bad) = rest.split_at(e.valid_up_to());
                    // `good` is valid UTF-8: it ends where `valid_up_to` says.
                    let good = std::str::from_utf8(good).unwrap_or_default();
                    match e.error_len() {
                        // A character cut at the end: keep its bytes for the next write.
                        None => {
                            self.write_str(good)?;
                            self.carry.extend_from_slice(bad);
                            return Ok(());
                        }
                        // Not UTF-8 (serde_json never writes that): passed on as it is.
                        Some(n) => {
                            self.write_str(good)?;
                            self.inner.write_all(&bad[..n])?;
                            rest = &bad[n..];
                            continue;
                        }
                    }
                }
            };
            self.write_str(valid)?;
            rest = after;
        }
        Ok(())
    }

    fn write_str(&mut self, s: &str) -> io::Result<()> {
        let mut start = 0;
        for (i, c) in s.char_indices() {
            if needs_escape(c) {
                self.inner.write_all(&s.as_bytes()[start..i])?;
                write!(self.inner, "\\u{:04x}", c as u32)?;
                start = i + c.len_utf8();
            }
        }
        self.inner.write_all(&s.as_bytes()[start..])
    }
}

impl<W: Write> Write for InertWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        // The usual case: plain ASCII and no character held back.
        if self.carry.is_empty()
            && buf
                .iter()
                .all(|&b| (0x20..0x7f).contains(&b) || matches!(b, b'\n' | b'\t' | b'\r'))
        {
            self.inner.write_all(buf)?;
            return Ok(buf.len());
        }
        if self.carry.is_empty() {
            self.write_escaped(buf)?;
        } else {
            let mut joined = std::mem::take(&mut self.carry);
            joined.extend_from_slice(buf);
            self.write_escaped(&joined)?;
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// Escape what a terminal would act on in a JSON text (see [`needs_escape`]).
pub fn inert_json(json: &str) -> String {
    if !json.chars().any(needs_escape) {
        return json.to_string();
    }
    let mut w = InertWriter::new(Vec::with_capacity(json.len() + 64));
    // Writing to a Vec cannot fail.
    let _ = w.write_all(json.as_bytes());
    let bytes = w.into_inner().unwrap_or_default();
    String::from_utf8(bytes).unwrap_or_default()
}

/// The whole snapshot held in memory, in the same bytes as [`write_streamed`].
pub fn to_json(snapshot: &Snapshot) -> String {
    let mut w = InertWriter::new(Vec::new());
    let mut ser = serde_json::Serializer::pretty(&mut w);
    if let Err(e) = snapshot.serialize(&mut ser) {
        return format!("{{\"error\":\"{e}\"}}");
    }
    let bytes = w.into_inner().unwrap_or_default();
    String::from_utf8(bytes).unwrap_or_default()
}

/// The WABAs as a JSON array, taken from an iterator as they are serialized.
struct WabaSeq<'a, I>(RefCell<&'a mut I>);

impl<I: Iterator<Item = SnapshotWaba>> Serialize for WabaSeq<'_, I> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut iter = self.0.borrow_mut();
        let mut seq = s.serialize_seq(None)?;
        for w in &mut **iter {
            seq.serialize_element(&w)?;
        }
        seq.end()
    }
}

/// Write the snapshot document to `out`: `fetched_at` and `solutions`, then each WABA as
/// the feed yields it, then what the feed makes of them at the end (`credit_lines`,
/// `partner_kind`, `errors`). The key order is the struct's, so the bytes are those of
/// [`to_json`] of the same snapshot. A final newline ends it. Returns the end of the
/// snapshot (its `wabas` empty).
pub(super) fn write_streamed<W, P>(out: W, mut feed: Feed<P>) -> io::Result<(W, Snapshot)>
where
    W: Write,
    P: Iterator<Item = WabaPage>,
{
    let mut w = InertWriter::new(out);
    let tail = {
        let mut ser = serde_json::Serializer::pretty(&mut w);
        let mut map = (&mut ser).serialize_map(None).map_err(io_error)?;
        map.serialize_entry("fetched_at", &feed.head().fetched_at)
            .map_err(io_error)?;
        map.serialize_entry("solutions", &feed.head().solutions)
            .map_err(io_error)?;
        map.serialize_entry("wabas", &WabaSeq(RefCell::new(&mut feed)))
            .map_err(io_error)?;
        let tail = feed.finish();
        map.serialize_entry("credit_lines", &tail.credit_lines)
            .map_err(io_error)?;
        map.serialize_entry("partner_kind", &tail.partner_kind)
            .map_err(io_error)?;
        map.serialize_entry("errors", &tail.errors)
            .map_err(io_error)?;
        SerializeMap::end(map).map_err(io_error)?;
        tail
    };
    w.write_all(b"\n")?;
    let mut out = w.into_inner()?;
    out.flush()?;
    Ok((out, tail))
}

/// serde_json's error back to the I/O error it carries (a closed pipe stays a closed pipe).
fn io_error(e: serde_json::Error) -> io::Error {
    match e.io_error_kind() {
        Some(kind) => io::Error::new(kind, e.to_string()),
        None => io::Error::other(e.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_output_is_inert_and_exact() {
        let hostile = "a\u{202e}b\u{9b}31m\u{7f}c\u{2028}d\u{2066}e\u{1b}[2J 👨\u{200d}👩 ok";
        let json = serde_json::to_string_pretty(&serde_json::json!({ "name": hostile })).unwrap();
        let out = inert_json(&json);
        assert!(out.chars().all(|c| !needs_escape(c)), "{out:?}");
        assert!(out.contains("\\u202e") && out.contains("\\u009b") && out.contains("\\u007f"));
        let back: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(back["name"], hostile);
        assert_eq!(inert_json("{\"a\": \"plain\"}"), "{\"a\": \"plain\"}");
    }

    #[test]
    fn a_character_cut_between_writes_is_escaped_whole() {
        let text = "\"x\u{202e}y\u{2028}z é\"";
        let whole = inert_json(text);
        // Every way of cutting the bytes in two writes gives the same output.
        for cut in 0..=text.len() {
            let mut w = InertWriter::new(Vec::new());
            w.write_all(&text.as_bytes()[..cut]).unwrap();
            w.write_all(&text.as_bytes()[cut..]).unwrap();
            let out = String::from_utf8(w.into_inner().unwrap()).unwrap();
            assert_eq!(out, whole, "cut at {cut}");
        }
        assert_eq!(whole, "\"x\\u202ey\\u2028z é\"");
    }
}
