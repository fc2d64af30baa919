//! Cursor paging (reference §1.6).
//!
//! A cursor is the base64url (unpadded) encoding of an item's id, like Meta's
//! `MTAxNTExOTQ1MjAwNzI5NDE`. `after=C` returns the items following the one `C` names,
//! `before=C` the `limit` items preceding it. Every non-empty page carries both cursors;
//! `next` only when more items follow, `previous` only when items precede.

use serde_json::{Map, Value, json};

use super::errors::GraphError;

pub const DEFAULT_LIMIT: usize = 25;
pub const MAX_LIMIT: usize = 100;

/// The paging parameters of one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageParams {
    pub limit: usize,
    pub after: Option<String>,
    pub before: Option<String>,
}

impl PageParams {
    /// Read `limit`, `after` and `before` from request parameters. `limit` above the maximum
    /// is clamped (as Meta does); zero, negative or non-numeric is refused with code 100.
    pub fn from_params(params: &[(String, String)]) -> Result<PageParams, GraphError> {
        let get = |k: &str| params.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
        let limit = match get("limit") {
            None => DEFAULT_LIMIT,
            Some(raw) => match raw.trim().parse::<u64>() {
                Ok(0) | Err(_) => {
                    return Err(GraphError::invalid_param(format!(
                        "(#100) Param limit must be a positive integer, got \"{raw}\""
                    )));
                }
                Ok(n) => (n.min(MAX_LIMIT as u64)) as usize,
            },
        };
        let nonempty = |v: Option<&str>| v.filter(|s| !s.is_empty()).map(str::to_string);
        Ok(PageParams {
            limit,
            after: nonempty(get("after")),
            before: nonempty(get("before")),
        })
    }
}

/// The slice of a list one request returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    pub start: usize,
    pub end: usize,
    pub has_previous: bool,
    pub has_next: bool,
}

/// Choose the page of `ids` the parameters ask for. `after` wins over `before` if both are
/// given. A cursor that does not decode, or names an item no longer in the list, is refused.
pub fn select(ids: &[&str], p: &PageParams) -> Result<Page, GraphError> {
    let position = |name: &str, cursor: &str| -> Result<usize, GraphError> {
        decode_cursor(cursor)
            .and_then(|id| ids.iter().position(|i| *i == id))
            .ok_or_else(|| bad_cursor(name))
    };
    let (start, end) = if let Some(after) = &p.after {
        let i = position("after", after)? + 1;
        (i, (i + p.limit).min(ids.len()))
    } else if let Some(before) = &p.before {
        let i = position("before", before)?;
        (i.saturating_sub(p.limit), i)
    } else {
        (0, p.limit.min(ids.len()))
    };
    Ok(Page {
        start,
        end,
        has_previous: start > 0,
        has_next: end < ids.len(),
    })
}

fn bad_cursor(name: &str) -> GraphError {
    GraphError::invalid_param(format!(
        "(#100) The {name} cursor is not valid for this list: it is malformed, or the item it points at no longer exists"
    ))
}

/// The page [`walk`] found: its items' positions, and whether items precede and follow it.
pub struct Walked {
    pub rows: Vec<usize>,
    pub has_previous: bool,
    pub has_next: bool,
}

/// One page of a list given as `candidates` (ascending positions in a bigger sequence) of
/// which the list holds those `matches` accepts. The same page [`select`] chooses on the list
/// itself, found without rendering or scanning the list: `position_of(id)` places a cursor's
/// item in the bigger sequence and a binary search finds it in `candidates`; then the walk
/// goes on only to the page's end and the next matching item.
pub fn walk(
    candidates: &[usize],
    matches: impl Fn(usize) -> bool,
    position_of: impl Fn(&str) -> Option<usize>,
    p: &PageParams,
) -> Result<Walked, GraphError> {
    let place = |name: &str, cursor: &str| -> Result<usize, GraphError> {
        decode_cursor(cursor)
            .and_then(|id| position_of(&id))
            .and_then(|pos| candidates.binary_search(&pos).ok())
            .filter(|&k| matches(candidates[k]))
            .ok_or_else(|| bad_cursor(name))
    };
    let mut walked = Walked {
        rows: vec![],
        has_previous: false,
        has_next: false,
    };
    if let Some(after) = &p.after {
        let k = place("after", after)?;
        let mut rest = candidates[k + 1..].iter().copied().filter(|&i| matches(i));
        walked.rows = rest.by_ref().take(p.limit).collect();
        walked.has_next = rest.next().is_some();
        // The cursor's item itself precedes the page.
        walked.has_previous = true;
    } else if let Some(before) = &p.before {
        let k = place("before", before)?;
        let mut back = candidates[..k]
            .iter()
            .rev()
            .copied()
            .filter(|&i| matches(i));
        walked.rows = back.by_ref().take(p.limit).collect();
        walked.rows.reverse();
        walked.has_previous = back.next().is_some();
        walked.has_next = true;
    } else {
        let mut all = candidates.iter().copied().filter(|&i| matches(i));
        walked.rows = all.by_ref().take(p.limit).collect();
        walked.has_next = all.next().is_some();
    }
    Ok(walked)
}

/// Build `{"data":[...],"paging":{...}}`. `url_for(param, cursor)` builds the absolute
/// `next`/`previous` link with that cursor parameter.
pub fn envelope(
    data: Vec<Value>,
    first_id: Option<&str>,
    last_id: Option<&str>,
    page: Page,
    url_for: impl Fn(&str, &str) -> String,
) -> Value {
    let mut out = Map::new();
    out.insert("data".into(), Value::Array(data));
    let mut paging = Map::new();
    if let (Some(first), Some(last)) = (first_id, last_id) {
        let before = encode_cursor(first);
        let after = encode_cursor(last);
        paging.insert(
            "cursors".into(),
            json!({ "before": before.clone(), "after": after.clone() }),
        );
        if page.has_previous {
            paging.insert("previous".into(), json!(url_for("before", &before)));
        }
        if page.has_next {
            paging.insert("next".into(), json!(url_for("after", &after)));
        }
    }
    if !paging.is_empty() {
        out.insert("paging".into(), Value::Object(paging));
    }
    Value::Object(out)
}

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// The opaque cursor for an item id.
pub fn encode_cursor(id: &str) -> String {
    let bytes = id.as_bytes();
    let mut out = String::with_capacity(bytes.len() * 4 / 3 + 3);
    for chunk in bytes.chunks(3) {
        let n = match chunk.len() {
            3 => (u32::from(chunk[0]) << 16) | (u32::from(chunk[1]) << 8) | u32::from(chunk[2]),
            2 => (u32::from(chunk[0]) << 16) | (u32::from(chunk[1]) << 8),
            _ => u32::from(chunk[0]) << 16,
        };
        let symbols = chunk.len() + 1;
        for k in 0..symbols {
            out.push(B64[((n >> (18 - 6 * k)) & 63) as usize] as char);
        }
    }
    out
}

/// The item id inside a cursor, if it is one of ours. Accepts standard and URL-safe
/// alphabets, with or without padding.
pub fn decode_cursor(cursor: &str) -> Option<String> {
    let trimmed = cursor.trim_end_matches('=');
    let mut bits: u32 = 0;
    let mut nbits = 0;
    let mut out = Vec::with_capacity(trimmed.len() * 3 / 4);
    for c in trimmed.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'-' | b'+' => 62,
            b'_' | b'/' => 63,
            _ => return None,
        };
        bits = (bits << 6) | u32::from(v);
        nbits += 6;
        if nbits >= 8 {
            nbits -= 8;
            out.push((bits >> nbits) as u8);
            bits &= (1 << nbits) - 1;
        }
    }
    if trimmed.len() % 4 == 1 {
        return None;
    }
    let s = String::from_utf8(out).ok()?;
    (!s.is_empty()).then_some(s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn params(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn cursor_looks_like_metas() {
        assert_eq!(
            encode_cursor("10151194520072941"),
            "MTAxNTExOTQ1MjAwNzI5NDE"
        );
        assert_eq!(
            decode_cursor("MTAxNTExOTQ1MjAwNzI5NDE").as_deref(),
            Some("10151194520072941")
        );
        assert_eq!(
            decode_cursor("MTAxNTExOTQ1MjAwNzI5NDE=").as_deref(),
            Some("10151194520072941")
        );
        assert_eq!(decode_cursor("not a cursor!"), None);
        assert_eq!(decode_cursor(""), None);
        assert_eq!(decode_cursor("A"), None);
    }

    proptest! {
        #[test]
        fn cursor_roundtrip(id in "\\PC{1,40}") {
            prop_assert_eq!(decode_cursor(&encode_cursor(&id)), Some(id));
        }
    }

    #[test]
    fn limit_rules() {
        assert_eq!(PageParams::from_params(&[]).unwrap().limit, 25);
        assert_eq!(
            PageParams::from_params(&params(&[("limit", "500")]))
                .unwrap()
                .limit,
            100
        );
        assert_eq!(
            PageParams::from_params(&params(&[("limit", "7")]))
                .unwrap()
                .limit,
            7
        );
        for bad in ["0", "-1", "ten", ""] {
            let err = PageParams::from_params(&params(&[("limit", bad)])).unwrap_err();
            assert_eq!((err.status, err.code), (400, 100), "{bad}");
        }
    }

    #[test]
    fn walks_forward_and_back() {
        let ids = ["a", "b", "c", "d", "e"];
        let p = |pairs: &[(&str, &str)]| PageParams::from_params(&params(pairs)).unwrap();
        let first = select(&ids, &p(&[("limit", "2")])).unwrap();
        assert_eq!(
            (first.start, first.end, first.has_previous, first.has_next),
            (0, 2, false, true)
        );
        let c = encode_cursor("b");
        let second = select(&ids, &p(&[("limit", "2"), ("after", &c)])).unwrap();
        assert_eq!(
            (
                second.start,
                second.end,
                second.has_previous,
                second.has_next
            ),
            (2, 4, true, true)
        );
        let c = encode_cursor("d");
        let last = select(&ids, &p(&[("limit", "2"), ("after", &c)])).unwrap();
        assert_eq!(
            (last.start, last.end, last.has_previous, last.has_next),
            (4, 5, true, false)
        );
        let c = encode_cursor("e");
        let back = select(&ids, &p(&[("limit", "2"), ("before", &c)])).unwrap();
        assert_eq!((back.start, back.end), (2, 4));
        let c = encode_cursor("b");
        let back = select(&ids, &p(&[("limit", "2"), ("before", &c)])).unwrap();
        assert_eq!((back.start, back.end, back.has_previous), (0, 1, false));
        let err = select(&ids, &p(&[("after", "zzzz")])).unwrap_err();
        assert_eq!(err.code, 100);
        let gone = encode_cursor("x");
        assert!(select(&ids, &p(&[("after", &gone)])).is_err());
    }

    proptest! {
        /// A walk over positions picks the same page as `select` over the list itself.
        #[test]
        fn walk_picks_the_page_select_picks(
            keep in proptest::collection::vec(any::<bool>(), 0..60),
            candidate in proptest::collection::vec(any::<bool>(), 60),
            limit in 1usize..8,
            cursor in 0usize..70,
            kind in 0u8..3,
        ) {
            // Items 0..n of a bigger sequence; the candidates a superset of the list.
            let n = keep.len();
            let ids: Vec<String> = (0..n).map(|i| format!("id{i}")).collect();
            let list: Vec<&str> = (0..n).filter(|&i| keep[i]).map(|i| ids[i].as_str()).collect();
            let candidates: Vec<usize> = (0..n).filter(|&i| keep[i] || candidate[i]).collect();
            let c = encode_cursor(&format!("id{cursor}"));
            let p = PageParams {
                limit,
                after: (kind == 1).then(|| c.clone()),
                before: (kind == 2).then(|| c.clone()),
            };
            let position_of = |id: &str| ids.iter().position(|x| x == id);
            let walked = walk(&candidates, |i| keep[i], position_of, &p);
            match (select(&list, &p), walked) {
                (Ok(page), Ok(w)) => {
                    let rows: Vec<&str> = w.rows.iter().map(|&i| ids[i].as_str()).collect();
                    prop_assert_eq!(&list[page.start..page.end], &rows[..]);
                    prop_assert_eq!(page.has_previous, w.has_previous);
                    prop_assert_eq!(page.has_next, w.has_next);
                }
                (Err(a), Err(b)) => prop_assert_eq!(a.message, b.message),
                (a, b) => prop_assert!(false, "select {:?} but walk {:?}", a.map(|p| p.start), b.map(|w| w.rows)),
            }
        }
    }

    #[test]
    fn envelope_links() {
        let page = Page {
            start: 2,
            end: 4,
            has_previous: true,
            has_next: false,
        };
        let v = envelope(vec![json!(1)], Some("c"), Some("d"), page, |k, c| {
            format!("u?{k}={c}")
        });
        assert_eq!(v["paging"]["cursors"]["before"], encode_cursor("c"));
        assert_eq!(
            v["paging"]["previous"],
            format!("u?before={}", encode_cursor("c"))
        );
        assert!(v["paging"].get("next").is_none());
        let empty = envelope(vec![], None, None, page, |_, _| String::new());
        assert_eq!(empty, json!({"data": []}));
    }
}
