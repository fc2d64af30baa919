//! Cursor paging (reference §1.6) as plain functions, so the rules are testable without HTTP.
//!
//! - A page is `{"data":[...],"paging":{"cursors":{"after":..},"next":..}}`; a bare object where
//!   a list was expected is one item (§8 row 15); `paging` may be missing or `{"cursors":{}}`.
//! - The list ends when `paging.next` is absent (the `after` cursor is present on the last
//!   page too, and a short page does not mean the end).
//! - `next` is an absolute URL; it is followed only if its origin is the client's base URL,
//!   so the token is never sent anywhere else.
//! - Items are de-duplicated by `id` (first wins); a cursor that does not advance stops the
//!   walk with what was read so far; the number of pages is capped.
//!
//! A page can also be read without decoding its rows ([`index_page`]): each row is the
//! JSON text Meta sent, borrowed from the page, so a caller can tell an unchanged row by its
//! text ([`fingerprint`]) and decode only the others.
//!
//! A page read whole can be remembered ([`PageMemo`]: its `ETag`, its rows' ids and the
//! fingerprints of their texts, its cursors) and asked for again with `If-None-Match`: a
//! `304 Not Modified` answer is that page again, without a body. Graph's answers carry an
//! `ETag` (Meta's OpenAPI, `CachedResponseHeaders`); that a list edge honours
//! `If-None-Match` is inferred, not documented, so everything works without it.

use std::borrow::Cow;
use std::collections::HashSet;
use std::ops::Range;

use serde::Deserialize;
use serde_json::Value;
use serde_json::value::RawValue;
use url::Url;

use super::error::{ErrorKind, GraphError};

/// A last-resort bound on the pages of one list: 100,000 pages of 100 is ten million rows,
/// far beyond any real book, so it never cuts off a real one. The loop guard that matters is
/// [`MAX_FRUITLESS_PAGES`].
pub const MAX_PAGES: usize = 100_000;

/// A list stops when this many pages in a row brought no row it had not seen: Meta is going
/// round in circles (a cursor that advances but repeats rows).
pub const MAX_FRUITLESS_PAGES: usize = 20;

/// One page of a Graph list.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Page {
    pub items: Vec<Value>,
    /// `paging.next`, if present and non-empty.
    pub next: Option<String>,
    /// `paging.cursors.after`, if present.
    pub after: Option<String>,
}

/// Split a response body into items and paging. Errors (kind `Transport`) when the body is
/// neither a list envelope, an array, nor an object.
pub fn parse_page(body: Value) -> Result<Page, GraphError> {
    match body {
        Value::Object(mut map) => {
            if !map.contains_key("data") {
                // A bare object where a list was expected: one item, no more pages.
                // An empty object is an empty list.
                let items = if map.is_empty() {
                    vec![]
                } else {
                    vec![Value::Object(map)]
                };
                return Ok(Page {
                    items,
                    ..Page::default()
                });
            }
            let items = match map.remove("data") {
                Some(Value::Array(a)) => a,
                Some(Value::Null) => vec![],
                Some(other) => {
                    return Err(shape_error(format!(
                        "its \"data\" is {} instead of a list",
                        json_type(&other)
                    )));
                }
                None => vec![],
            };
            let (next, after) = links(map.get("paging"));
            Ok(Page { items, next, after })
        }
        Value::Array(items) => Ok(Page {
            items,
            ..Page::default()
        }),
        other => Err(shape_error(format!(
            "it is {} instead of a list",
            json_type(&other)
        ))),
    }
}

/// `paging.next` (when present and not blank) and `paging.cursors.after`.
fn links(paging: Option<&Value>) -> (Option<String>, Option<String>) {
    let next = paging
        .and_then(|p| p.get("next"))
        .and_then(Value::as_str)
        .filter(|s| !s.trim().is_empty())
        .map(str::to_string);
    let after = paging
        .and_then(|p| p.get("cursors"))
        .and_then(|c| c.get("after"))
        .and_then(Value::as_str)
        .map(str::to_string);
    (next, after)
}

/// One row of a page as Meta sent it: its JSON text, borrowed from the page, and its `id`
/// when it is a string or a number (as [`Page`] rows are de-duplicated).
#[derive(Debug, Clone)]
pub struct RawRow<'a> {
    pub text: &'a str,
    pub id: Option<Cow<'a, str>>,
}

/// A row of a page that owns its text: where the row is in the text, and its id (where it
/// is in the text, or decoded apart when it had escapes or was a number).
#[derive(Debug, Clone, PartialEq)]
pub struct RowAt {
    pub text: Range<usize>,
    pub id: Option<IdAt>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum IdAt {
    At(Range<usize>),
    Apart(Box<str>),
}

impl RowAt {
    /// Where `row` (borrowed from `text`) is in `text`.
    pub fn of(text: &str, row: RawRow<'_>) -> RowAt {
        let at = |part: &str| {
            let start = part.as_ptr() as usize - text.as_ptr() as usize;
            start..start + part.len()
        };
        RowAt {
            text: at(row.text),
            id: row.id.map(|id| match id {
                Cow::Borrowed(id) => IdAt::At(at(id)),
                Cow::Owned(id) => IdAt::Apart(id.into()),
            }),
        }
    }

    /// The row's text in `text` (the page's text this row was made of).
    pub fn text<'a>(&self, text: &'a str) -> &'a str {
        text.get(self.text.clone()).unwrap_or_default()
    }

    /// The row's id.
    pub fn id<'a>(&'a self, text: &'a str) -> Option<&'a str> {
        match self.id.as_ref()? {
            IdAt::At(r) => text.get(r.clone()),
            IdAt::Apart(id) => Some(id),
        }
    }
}

/// A page of a list remembered as it was read whole, to be asked for again with its tag
/// (`If-None-Match`): a `304 Not Modified` is this page again.
#[derive(Debug, Clone, PartialEq)]
pub struct PageMemo {
    /// The fingerprint of the request (URL and query): a tag stands for that page only.
    pub request: Fingerprint,
    /// The page's `ETag`, as Meta sent it.
    pub etag: Box<str>,
    /// Each row, in order.
    pub rows: Box<[MemoRow]>,
    /// `paging.next` and `paging.cursors.after` of the page.
    pub next: Option<Box<str>>,
    pub after: Option<Box<str>>,
}

/// A row of a [`PageMemo`]: the key of its id, which the walk de-duplicates it by and the
/// poller knows its WABA by ([`id_key`]: a page not modified costs no look at an id's text),
/// and the fingerprint of its text.
#[derive(Debug, Clone, PartialEq)]
pub struct MemoRow {
    pub key: u64,
    pub text: Fingerprint,
}

/// The key a list's rows are de-duplicated by: 64 bits of the id's XXH3 (two ids of a list
/// share one by chance about once in 2^64 pairs).
pub fn id_key(id: &str) -> u64 {
    xxhash_rust::xxh3::xxh3_64(id.as_bytes())
}

/// A row's `id` when it is a string or a number, read without decoding the rest of the row.
pub fn row_id(text: &str) -> Option<Cow<'_, str>> {
    // Asked for first (`fields=id,…`), Meta sends it first: `{"id":"123",…` is read in place
    // without a second pass over the row.
    if let Some(rest) = text.strip_prefix("{\"id\":\"")
        && let Some(end) = memchr::memchr(b'"', rest.as_bytes())
        && !rest[..end].contains('\\')
        && matches!(rest.as_bytes().get(end + 1), Some(b',' | b'}'))
    {
        return Some(Cow::Borrowed(&rest[..end]));
    }
    #[derive(Deserialize)]
    struct IdOnly<'a> {
        #[serde(default, borrow)]
        id: Option<&'a RawValue>,
    }
    let id = serde_json::from_str::<IdOnly<'_>>(text).ok()?.id?;
    let text = id.get();
    match text.as_bytes().first()? {
        b'"' => match serde_json::from_str::<&str>(text) {
            Ok(s) => Some(Cow::Borrowed(s)),
            // Escapes inside: decoded into a string of its own.
            Err(_) => serde_json::from_str::<String>(text).ok().map(Cow::Owned),
        },
        b'-' | b'0'..=b'9' => serde_json::from_str::<serde_json::Number>(text)
            .ok()
            .map(|n| Cow::Owned(n.to_string())),
        _ => None,
    }
}

/// A page read in one pass over its text without decoding its rows: where each row's text
/// is (byte ranges of the text) and the paging, with the shapes [`parse_page`] reads.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct PageIndex {
    pub rows: Vec<Range<usize>>,
    pub next: Option<String>,
    pub after: Option<String>,
}

impl PageIndex {
    /// The rows' texts in `text` (the text this index was made of).
    pub fn rows<'a>(&self, text: &'a str) -> Vec<&'a str> {
        self.rows
            .iter()
            .filter_map(|r| text.get(r.clone()))
            .collect()
    }
}

/// Index a page's text (see [`PageIndex`]). The outer error: the text is not JSON; the
/// inner one (kind `Transport`): it is neither a list envelope, an array, nor an object.
pub fn index_page(text: &str) -> Result<Result<PageIndex, GraphError>, serde_json::Error> {
    let base = text.as_ptr() as usize;
    let range = |raw: &RawValue| {
        let start = raw.get().as_ptr() as usize - base;
        start..start + raw.get().len()
    };
    let page = match serde_json::from_str::<Top<'_>>(text)? {
        Top::List(items) => PageIndex {
            rows: items.into_iter().map(range).collect(),
            ..PageIndex::default()
        },
        Top::Object {
            data: None,
            other_keys,
            ..
        } => {
            // A bare object where a list was expected: one item, no more pages.
            // An empty object is an empty list.
            let trimmed = text.trim();
            let start = trimmed.as_ptr() as usize - base;
            PageIndex {
                rows: if other_keys == 0 {
                    vec![]
                } else {
                    std::iter::once(start..start + trimmed.len()).collect()
                },
                ..PageIndex::default()
            }
        }
        Top::Object {
            data: Some(data),
            paging,
            ..
        } => {
            let rows = match data {
                Shape::List(items) => items.into_iter().map(range).collect(),
                Shape::Other("null") => vec![],
                Shape::Other(other) => {
                    return Ok(Err(shape_error(format!(
                        "its \"data\" is {other} instead of a list"
                    ))));
                }
            };
            let (next, after) = links(paging.as_ref());
            PageIndex { rows, next, after }
        }
        Top::Other(other) => {
            return Ok(Err(shape_error(format!("it is {other} instead of a list"))));
        }
    };
    Ok(Ok(page))
}

/// A page's text read in one pass: a list of rows, an object (its `data` and `paging`,
/// how many other fields), or another JSON type.
enum Top<'a> {
    List(Vec<&'a RawValue>),
    Object {
        data: Option<Shape<'a>>,
        paging: Option<Value>,
        other_keys: usize,
    },
    Other(&'static str),
}

/// A value that should be a list of rows: the rows, or the type it is instead.
enum Shape<'a> {
    List(Vec<&'a RawValue>),
    Other(&'static str),
}

/// Reads a value as [`Top`] (`top`) or [`Shape`].
struct ShapeVisitor {
    top: bool,
}

enum Either<'a> {
    Top(Top<'a>),
    Shape(Shape<'a>),
}

impl<'de> serde::de::Visitor<'de> for ShapeVisitor {
    type Value = Either<'de>;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a page of a Graph list")
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Either<'de>, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0));
        while let Some(item) = seq.next_element::<&'de RawValue>()? {
            items.push(item);
        }
        Ok(if self.top {
            Either::Top(Top::List(items))
        } else {
            Either::Shape(Shape::List(items))
        })
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Either<'de>, A::Error> {
        use serde::de::IgnoredAny;
        if !self.top {
            while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
            return Ok(Either::Shape(Shape::Other("an object")));
        }
        let (mut data, mut paging, mut other_keys) = (None, None, 0);
        while let Some(key) = map.next_key::<Cow<'de, str>>()? {
            match &*key {
                "data" => data = Some(map.next_value::<ShapeOf<'de>>()?.0),
                "paging" => paging = Some(map.next_value::<Value>()?),
                _ => {
                    map.next_value::<IgnoredAny>()?;
                    other_keys += 1;
                }
            }
        }
        Ok(Either::Top(Top::Object {
            data,
            paging,
            other_keys,
        }))
    }

    fn visit_unit<E>(self) -> Result<Either<'de>, E> {
        Ok(self.other("null"))
    }
    fn visit_bool<E>(self, _: bool) -> Result<Either<'de>, E> {
        Ok(self.other("a boolean"))
    }
    fn visit_i64<E>(self, _: i64) -> Result<Either<'de>, E> {
        Ok(self.other("a number"))
    }
    fn visit_u64<E>(self, _: u64) -> Result<Either<'de>, E> {
        Ok(self.other("a number"))
    }
    fn visit_f64<E>(self, _: f64) -> Result<Either<'de>, E> {
        Ok(self.other("a number"))
    }
    fn visit_str<E>(self, _: &str) -> Result<Either<'de>, E> {
        Ok(self.other("a string"))
    }
}

impl ShapeVisitor {
    fn other<'a>(&self, what: &'static str) -> Either<'a> {
        if self.top {
            Either::Top(Top::Other(what))
        } else {
            Either::Shape(Shape::Other(what))
        }
    }
}

impl<'de> Deserialize<'de> for Top<'de> {
    fn deserialize<D: serde::Deserializer<'de>>(de: D) -> Result<Top<'de>, D::Error> {
        match de.deserialize_any(ShapeVisitor { top: true })? {
            Either::Top(t) => Ok(t),
            Either::Shape(_) => Err(serde::de::Error::custom("not a page")),
        }
    }
}

/// `data` of an envelope.
struct ShapeOf<'a>(Shape<'a>);

impl<'de> Deserialize<'de> for ShapeOf<'de> {
    fn deserialize<D: serde::Deserializer<'de>>(de: D) -> Result<ShapeOf<'de>, D::Error> {
        match de.deserialize_any(ShapeVisitor { top: false })? {
            Either::Shape(s) => Ok(ShapeOf(s)),
            Either::Top(_) => Err(serde::de::Error::custom("not a list")),
        }
    }
}

/// A fast hasher for the maps a round walks once per row (ids, fingerprints), where the
/// default SipHash costs more than the rest of the look-up. Keys are Meta's ids and hashes
/// of them, so flooding a map on purpose is not a concern.
#[derive(Debug, Default, Clone, Copy)]
pub struct QuickHasher(u64);

impl QuickHasher {
    #[inline]
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

impl std::hash::Hasher for QuickHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            self.add(u64::from_le_bytes(chunk.try_into().unwrap_or_default()));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut last = [0u8; 8];
            last[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(last));
        }
    }
    #[inline]
    fn write_u8(&mut self, n: u8) {
        self.add(u64::from(n));
    }
    #[inline]
    fn write_u64(&mut self, n: u64) {
        self.add(n);
    }
    #[inline]
    fn write_usize(&mut self, n: usize) {
        self.add(n as u64);
    }
    #[inline]
    fn finish(&self) -> u64 {
        // The multiply leaves the best bits at the top; the table indexes with the bottom.
        self.0.rotate_left(26)
    }
}

/// A `HashMap` / `HashSet` with [`QuickHasher`].
pub type QuickMap<K, V> =
    std::collections::HashMap<K, V, std::hash::BuildHasherDefault<QuickHasher>>;
pub type QuickSet<K> = HashSet<K, std::hash::BuildHasherDefault<QuickHasher>>;

/// A fingerprint of a text: 128 bits of XXH3 (two different texts share one by chance about
/// once in 2^64 pairs, far beyond any book), kept as two words so that a remembered one costs
/// 16 bytes, not the 32 an aligned `u128` would in an `Option`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Fingerprint([u64; 2]);

pub fn fingerprint(text: &str) -> Fingerprint {
    let h = xxhash_rust::xxh3::xxh3_128(text.as_bytes());
    Fingerprint([h as u64, (h >> 64) as u64])
}

fn shape_error(what: String) -> GraphError {
    GraphError::new(
        ErrorKind::Transport,
        format!("Meta's answer did not have the expected shape: {what}"),
    )
}

pub(crate) fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

/// `scheme://host:port` of a URL, with the default port made explicit.
pub fn origin_of(u: &Url) -> (String, String, Option<u16>) {
    (
        u.scheme().to_ascii_lowercase(),
        u.host_str().unwrap_or_default().to_ascii_lowercase(),
        u.port_or_known_default(),
    )
}

/// Parse a `paging.next` URL and check it has the same origin as `base`. Anything else is
/// refused (kind `Transport`), so the Authorization header never goes to another host.
pub fn check_next_url(base: &Url, next: &str) -> Result<Url, GraphError> {
    let url = Url::parse(next).map_err(|_| {
        GraphError::new(
            ErrorKind::Transport,
            "Meta's paging.next is not a valid URL, so the rest of the list was not read",
        )
    })?;
    if origin_of(&url) != origin_of(base) || !url.username().is_empty() || url.password().is_some()
    {
        return Err(GraphError::new(
            ErrorKind::Transport,
            format!(
                "Refused to follow paging.next to {}://{} (not the configured Graph URL), so the rest of the list was not read",
                url.scheme(),
                url.host_str().unwrap_or("?")
            ),
        ));
    }
    Ok(without_access_token(url))
}

/// The URL without any `access_token` query parameter: the token travels in the
/// Authorization header only, whatever a `paging.next` link carries.
pub fn without_access_token(mut url: Url) -> Url {
    let has = url
        .query_pairs()
        .any(|(k, _)| k.eq_ignore_ascii_case("access_token"));
    if !has {
        return url;
    }
    let kept: Vec<(String, String)> = url
        .query_pairs()
        .filter(|(k, _)| !k.eq_ignore_ascii_case("access_token"))
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    if kept.is_empty() {
        url.set_query(None);
    } else {
        url.query_pairs_mut().clear().extend_pairs(kept);
    }
    url
}

/// What to do after a page.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    /// Read this URL next.
    Next(String),
    /// The list is complete.
    Done,
    /// The cursor did not advance: stop with what was read so far.
    Stalled,
}

/// Walks a paged list without keeping its items: drops rows already seen (by `id`, first
/// wins) and decides whether and where to continue. [`Pager`] keeps the items; a reader that
/// turns each page into typed rows at once uses this alone.
#[derive(Debug, Default)]
pub struct Walk {
    /// Keys of the ids seen ([`id_key`]): a round of 100,000 rows keeps no copy of their ids.
    ids: QuickSet<u64>,
    /// Fingerprints of the cursors and links followed (a link is a long URL).
    afters: HashSet<Fingerprint>,
    nexts: HashSet<Fingerprint>,
    pages: usize,
    max_pages: usize,
    /// Pages in a row that brought nothing new.
    fruitless: usize,
}

impl Walk {
    pub fn new() -> Walk {
        Walk::with_max_pages(MAX_PAGES)
    }

    pub fn with_max_pages(max_pages: usize) -> Walk {
        Walk {
            max_pages,
            ..Walk::default()
        }
    }

    pub fn pages(&self) -> usize {
        self.pages
    }

    /// Room for the ids of `rows` rows (a list about as long as last time).
    pub fn reserve(&mut self, rows: usize) {
        self.ids.reserve(rows);
    }

    /// Take in one page: its rows not seen before, and what to do next (an error when the
    /// page cap is reached or the list goes round in circles; the rows stand).
    pub fn take(&mut self, page: Page) -> (Vec<Value>, Result<Step, GraphError>) {
        let mut fresh = Vec::with_capacity(page.items.len());
        for item in page.items {
            if self.first_time(item.get("id").and_then(id_string).as_deref()) {
                fresh.push(item);
            }
        }
        let step = self.end_page(fresh.is_empty(), page.next, page.after);
        (fresh, step)
    }

    /// [`take`](Self::take) for a page read as text: its rows not seen before, each with its
    /// id (read once here), and what to do next.
    pub fn take_raw<'a>(
        &mut self,
        rows: Vec<&'a str>,
        next: Option<String>,
        after: Option<String>,
    ) -> (Vec<RawRow<'a>>, Result<Step, GraphError>) {
        let mut fresh = Vec::with_capacity(rows.len());
        for text in rows {
            let id = row_id(text);
            if self.first_time(id.as_deref()) {
                fresh.push(RawRow { text, id });
            }
        }
        let step = self.end_page(fresh.is_empty(), next, after);
        (fresh, step)
    }

    /// [`take`](Self::take) for a remembered page that was not modified: which of its rows
    /// (by id) were not seen before, and what to do next.
    pub fn take_remembered(&mut self, memo: &PageMemo) -> (Vec<bool>, Result<Step, GraphError>) {
        let fresh: Vec<bool> = memo
            .rows
            .iter()
            .map(|row| self.ids.insert(row.key))
            .collect();
        let step = self.end_page(
            !fresh.contains(&true),
            memo.next.as_deref().map(str::to_string),
            memo.after.as_deref().map(str::to_string),
        );
        (fresh, step)
    }

    /// Whether a row with this id (rows without one always are) is seen for the first time.
    fn first_time(&mut self, id: Option<&str>) -> bool {
        id.is_none_or(|id| self.ids.insert(id_key(id)))
    }

    fn end_page(
        &mut self,
        nothing_new: bool,
        next: Option<String>,
        after: Option<String>,
    ) -> Result<Step, GraphError> {
        self.pages += 1;
        self.fruitless = if nothing_new { self.fruitless + 1 } else { 0 };
        self.step(next, after)
    }

    fn step(&mut self, next: Option<String>, after: Option<String>) -> Result<Step, GraphError> {
        let Some(next) = next else {
            return Ok(Step::Done);
        };
        let advanced_after = match after {
            Some(a) => self.afters.insert(fingerprint(&a)),
            None => true,
        };
        if !advanced_after || !self.nexts.insert(fingerprint(&next)) {
            return Ok(Step::Stalled);
        }
        if self.fruitless >= MAX_FRUITLESS_PAGES {
            return Err(GraphError::new(
                ErrorKind::Transport,
                format!(
                    "Stopped reading a list after {} pages in a row brought nothing new: Meta kept sending more",
                    self.fruitless
                ),
            ));
        }
        if self.pages >= self.max_pages {
            return Err(GraphError::new(
                ErrorKind::Transport,
                format!(
                    "Stopped reading a list after {} pages: Meta kept sending more",
                    self.max_pages
                ),
            ));
        }
        Ok(Step::Next(next))
    }
}

/// Walks a paged list and collects its items (see [`Walk`]).
#[derive(Debug, Default)]
pub struct Pager {
    walk: Walk,
    items: Vec<Value>,
}

impl Pager {
    pub fn new() -> Pager {
        Pager::with_max_pages(MAX_PAGES)
    }

    pub fn with_max_pages(max_pages: usize) -> Pager {
        Pager {
            walk: Walk::with_max_pages(max_pages),
            items: vec![],
        }
    }

    pub fn pages(&self) -> usize {
        self.walk.pages()
    }

    /// Take in one page; say what to do next. Errors when the page cap is reached.
    pub fn push(&mut self, page: Page) -> Result<Step, GraphError> {
        let (fresh, step) = self.walk.take(page);
        self.items.extend(fresh);
        step
    }

    pub fn into_items(self) -> Vec<Value> {
        self.items
    }
}

fn id_string(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn parses_list_envelope() {
        let p = parse_page(json!({"data":[{"id":"1"}],"paging":{"cursors":{"before":"b","after":"a"},"next":"https://g/x?after=a"}}))
            .unwrap();
        assert_eq!(p.items.len(), 1);
        assert_eq!(p.after.as_deref(), Some("a"));
        assert_eq!(p.next.as_deref(), Some("https://g/x?after=a"));
    }

    #[test]
    fn tolerates_missing_or_empty_paging_and_bare_objects() {
        let p = parse_page(json!({"data":[]})).unwrap();
        assert_eq!(p, Page::default());
        let p = parse_page(json!({"data":[{"id":"1"}],"paging":{"cursors":{}}})).unwrap();
        assert_eq!(p.items.len(), 1);
        assert!(p.next.is_none() && p.after.is_none());
        let p = parse_page(json!({"id":"9","receiving_business":{"id":"3"}})).unwrap();
        assert_eq!(
            p.items,
            vec![json!({"id":"9","receiving_business":{"id":"3"}})]
        );
        assert!(p.next.is_none());
        assert_eq!(parse_page(json!({})).unwrap().items.len(), 0);
        assert_eq!(parse_page(json!([{"id":"1"}])).unwrap().items.len(), 1);
        assert_eq!(parse_page(json!({"data":null})).unwrap().items.len(), 0);
        let p = parse_page(json!({"data":[],"paging":{"next":""}})).unwrap();
        assert!(p.next.is_none());
    }

    /// The rows of a page's text as `index_page` finds them, and its paging.
    fn indexed(text: &str) -> (Vec<&str>, Option<String>, Option<String>) {
        let i = index_page(text).expect("JSON").expect("a page");
        (i.rows(text), i.next, i.after)
    }

    #[test]
    fn a_page_read_as_text_has_the_shapes_of_a_decoded_one() {
        let text = r#"{"data":[{"id":"1","n":[1,{"a":"}"}]} , {"id":2}],"paging":{"cursors":{"after":"a"},"next":"https://g/x?after=a"}}"#;
        let (rows, next, after) = indexed(text);
        assert_eq!(rows, [r#"{"id":"1","n":[1,{"a":"}"}]}"#, r#"{"id":2}"#]);
        assert_eq!(next.as_deref(), Some("https://g/x?after=a"));
        assert_eq!(after.as_deref(), Some("a"));
        // Each row is the text Meta sent, and decodes as the decoded page's row does.
        let page = parse_page(serde_json::from_str(text).unwrap()).unwrap();
        for (row, item) in rows.iter().zip(&page.items) {
            assert_eq!(&serde_json::from_str::<Value>(row).unwrap(), item);
        }
        assert_eq!(indexed(r#"{"data":[]}"#), (vec![], None, None));
        assert_eq!(
            indexed(r#"{"data":null,"paging":{"next":""}}"#),
            (vec![], None, None)
        );
        assert_eq!(indexed(r#" [ {"id":"1"} ] "#).0, [r#"{"id":"1"}"#]);
        assert_eq!(
            indexed(" { } ").0.len(),
            0,
            "an empty object is an empty list"
        );
        assert_eq!(
            indexed(r#" {"id":"9","x":{"data":1}} "#).0,
            [r#"{"id":"9","x":{"data":1}}"#],
            "a bare object is one row"
        );
        for (text, says) in [
            (r#""x""#, "it is a string"),
            ("3", "it is a number"),
            ("null", "it is null"),
            ("true", "it is a boolean"),
            (r#"{"data":"x"}"#, "\"data\" is a string"),
            (r#"{"data":{"id":"1"}}"#, "\"data\" is an object"),
        ] {
            let e = index_page(text).unwrap().unwrap_err();
            assert_eq!(e.kind, ErrorKind::Transport);
            assert!(e.message.contains(says), "{text}: {}", e.message);
        }
        for not_json in [r#"{"data":[{"id":"1"}"#, "<html>", ""] {
            assert!(index_page(not_json).is_err(), "{not_json}");
        }
    }

    #[test]
    fn a_rows_id_is_read_without_decoding_it() {
        assert_eq!(row_id(r#"{"name":"x","id":"123"}"#).as_deref(), Some("123"));
        assert_eq!(row_id(r#"{"id":"123","name":"x"}"#).as_deref(), Some("123"));
        assert_eq!(row_id(r#"{"id":"7"}"#).as_deref(), Some("7"));
        assert_eq!(row_id(r#"{ "id" : "8" }"#).as_deref(), Some("8"));
        assert_eq!(row_id(r#"{"id":"1\"2","x":1}"#).as_deref(), Some("1\"2"));
        assert!(matches!(row_id(r#"{"id":"123"}"#), Some(Cow::Borrowed(_))));
        assert_eq!(row_id(r#"{"id":"1\u0032"}"#).as_deref(), Some("12"));
        assert_eq!(row_id(r#"{"id":42}"#).as_deref(), Some("42"));
        assert_eq!(row_id(r#"{"id":null}"#), None);
        assert_eq!(row_id(r#"{"id":{"x":1}}"#), None);
        assert_eq!(row_id(r#"{"no_id":true}"#), None);
        assert_eq!(row_id("5"), None);
        // De-duplicated as decoded rows are: first wins, rows without an id all stay.
        let mut w = Walk::new();
        let rows = vec![r#"{"id":"1"}"#, r#"{"id":1,"v":2}"#, "{}", "{}"];
        let (fresh, step) = w.take_raw(rows, None, None);
        assert_eq!(step.unwrap(), Step::Done);
        let texts: Vec<&str> = fresh.iter().map(|r| r.text).collect();
        assert_eq!(texts, [r#"{"id":"1"}"#, "{}", "{}"]);
    }

    #[test]
    fn refuses_wrong_shapes() {
        for v in [
            json!("x"),
            json!(3),
            json!(null),
            json!(true),
            json!({"data":"x"}),
        ] {
            assert_eq!(parse_page(v).unwrap_err().kind, ErrorKind::Transport);
        }
    }

    #[test]
    fn next_url_origin_check() {
        let base = Url::parse("https://graph.facebook.com").unwrap();
        assert!(check_next_url(&base, "https://graph.facebook.com/v25.0/1/x?after=a").is_ok());
        assert!(check_next_url(&base, "https://graph.facebook.com:443/v25.0/1/x").is_ok());
        assert!(check_next_url(&base, "https://GRAPH.facebook.com/v25.0/1/x").is_ok());
        for bad in [
            "https://evil.example/v25.0/1/x",
            "http://graph.facebook.com/v25.0/1/x",
            "https://graph.facebook.com:8443/v25.0/1/x",
            "https://graph.facebook.com.evil.example/x",
            "https://user@graph.facebook.com/x",
            "/v25.0/1/x",
            "not a url",
        ] {
            assert!(check_next_url(&base, bad).is_err(), "{bad}");
        }
        let u = check_next_url(
            &base,
            "https://graph.facebook.com/v25.0/1/x?access_token=EAAsecret&after=a&ACCESS_TOKEN=b",
        )
        .unwrap();
        assert_eq!(u.as_str(), "https://graph.facebook.com/v25.0/1/x?after=a");
        let u =
            check_next_url(&base, "https://graph.facebook.com/v25.0/1/x?access_token=x").unwrap();
        assert_eq!(u.as_str(), "https://graph.facebook.com/v25.0/1/x");
        let local = Url::parse("http://127.0.0.1:8765").unwrap();
        assert!(check_next_url(&local, "http://127.0.0.1:8765/v25.0/x").is_ok());
        assert!(check_next_url(&local, "http://127.0.0.1:8766/v25.0/x").is_err());
        assert!(check_next_url(&local, "http://localhost:8765/v25.0/x").is_err());
    }

    fn page(ids: &[&str], after: Option<&str>, next: Option<&str>) -> Page {
        Page {
            items: ids.iter().map(|i| json!({"id": i})).collect(),
            after: after.map(str::to_string),
            next: next.map(str::to_string),
        }
    }

    #[test]
    fn walks_dedupes_and_stops() {
        let mut p = Pager::new();
        assert_eq!(
            p.push(page(&["1", "2"], Some("a1"), Some("u1"))).unwrap(),
            Step::Next("u1".into())
        );
        assert_eq!(
            p.push(page(&["2", "3"], Some("a2"), Some("u2"))).unwrap(),
            Step::Next("u2".into())
        );
        // Last page: `after` present, `next` absent.
        assert_eq!(p.push(page(&["4"], Some("a3"), None)).unwrap(), Step::Done);
        let ids: Vec<_> = p
            .into_items()
            .into_iter()
            .map(|v| v["id"].clone())
            .collect();
        assert_eq!(ids, vec![json!("1"), json!("2"), json!("3"), json!("4")]);
    }

    #[test]
    fn first_duplicate_wins_and_numeric_ids_count() {
        let mut p = Pager::new();
        let first = Page {
            items: vec![
                json!({"id":"1","v":"first"}),
                json!({"id":2}),
                json!({"no_id":true}),
            ],
            ..Page::default()
        };
        p.push(first).unwrap();
        let mut p2 = Pager::new();
        p2.push(Page {
            items: vec![
                json!({"id":"1","v":"first"}),
                json!({"id":"1","v":"second"}),
                json!({"no_id":true}),
                json!({"no_id":true}),
            ],
            ..Page::default()
        })
        .unwrap();
        let items = p2.into_items();
        assert_eq!(items.len(), 3);
        assert_eq!(items[0]["v"], "first");
    }

    #[test]
    fn non_advancing_cursor_stalls() {
        let mut p = Pager::new();
        p.push(page(&["1"], Some("a"), Some("u1"))).unwrap();
        assert_eq!(
            p.push(page(&["1"], Some("a"), Some("u2"))).unwrap(),
            Step::Stalled
        );
        let mut p = Pager::new();
        p.push(page(&["1"], None, Some("u1"))).unwrap();
        assert_eq!(
            p.push(page(&["2"], None, Some("u1"))).unwrap(),
            Step::Stalled
        );
        assert_eq!(p.into_items().len(), 2);
    }

    #[test]
    fn page_cap_is_an_error() {
        let mut p = Pager::with_max_pages(3);
        for i in 0..2 {
            let a = format!("a{i}");
            let u = format!("u{i}");
            assert!(matches!(
                p.push(page(&[], Some(&a), Some(&u))).unwrap(),
                Step::Next(_)
            ));
        }
        assert!(p.push(page(&[], Some("a9"), Some("u9"))).is_err());
    }

    #[test]
    fn a_long_real_list_is_never_cut_off_but_a_circling_one_is() {
        // 3,000 pages of new rows: far past the old cap of 1,000 pages.
        let mut p = Pager::new();
        for i in 0..3000 {
            let id = i.to_string();
            let a = format!("a{i}");
            let u = format!("u{i}");
            assert!(matches!(
                p.push(page(&[&id], Some(&a), Some(&u))).unwrap(),
                Step::Next(_)
            ));
        }
        assert_eq!(p.pages(), 3000);
        // Then cursors that advance but only repeat rows: stopped after a few.
        let mut stopped = None;
        for i in 0..100 {
            let a = format!("b{i}");
            let u = format!("v{i}");
            if let Err(e) = p.push(page(&["1", "2"], Some(&a), Some(&u))) {
                stopped = Some((i, e));
                break;
            }
        }
        let (after, e) = stopped.expect("a circling list stops");
        assert_eq!(after + 1, MAX_FRUITLESS_PAGES);
        assert!(e.message.contains("nothing new"), "{}", e.message);
        assert_eq!(p.into_items().len(), 3000, "what was read stays");
    }
}
