//! The WABAs filter on ids and phone numbers, typed key by key through `update`: a number with
//! spaces, one with dashes, a page that changes a WABA's numbers, a list without a WABA and
//! with it again. After every keystroke and every change the rows shown are those a plain scan
//! of the WABAs' searched fields finds.

use crate::common::*;
use crossterm::event::KeyCode;
use partnerdeck::app::msg::{Msg, WabaList, WabaPage};
use partnerdeck::app::{Model, ReadStamp};
use partnerdeck::domain::onboarding::Health;
use partnerdeck::graph::waba_model::Waba;
use std::sync::Arc;

/// Every field the filter searches, lowercased.
fn searched(w: &Waba) -> Vec<String> {
    let n = &w.node.fields();
    let mut fields: Vec<String> = vec![
        n.id.to_string(),
        n.name.to_string(),
        Health::of_waba(w).label().to_string(),
    ];
    fields.extend(n.currency.as_deref().map(String::from));
    fields.extend(n.account_review_status.as_deref().map(String::from));
    fields.extend(n.business_verification_status.as_deref().map(String::from));
    if let Some(o) = &n.owner_business_info {
        fields.push(o.id.to_string());
        fields.extend(o.name.as_deref().map(String::from));
    }
    for p in n.phone_numbers.iter() {
        fields.push(p.id.to_string());
        fields.extend(p.display_phone_number.as_deref().map(String::from));
        fields.extend(p.verified_name.as_deref().map(String::from));
    }
    fields.iter().map(|f| f.to_lowercase()).collect()
}

/// The rows shown against a plain scan of `book` for the filter as typed.
fn assert_shown_is_scan(m: &Model, book: &[Waba]) {
    let needle = m.wabas.filter.value().trim().to_lowercase();
    let mut want: Vec<&str> = book
        .iter()
        .filter(|w| searched(w).iter().any(|f| f.contains(&needle)))
        .map(|w| w.id())
        .collect();
    want.sort_unstable();
    let shown = m.wabas.visible();
    let mut got: Vec<&str> = shown.iter().map(|r| r.id()).collect();
    got.sort_unstable();
    assert_eq!(got, want, "filter {needle:?}");
}

/// Open the filter and type `text` a key at a time, checking every keystroke; then Backspace
/// back to nothing, checking each again.
fn type_and_check(m: &mut Model, book: &[Waba], text: &str) {
    feed(m, [key('/')]);
    for c in text.chars() {
        feed(m, [key(c)]);
        assert_shown_is_scan(m, book);
    }
    for _ in text.chars() {
        feed(m, [code(KeyCode::Backspace)]);
        assert_shown_is_scan(m, book);
    }
    feed(m, [code(KeyCode::Enter), code(KeyCode::Esc)]);
}

fn list(m: &mut Model, book: &[Waba]) {
    feed(
        m,
        [Msg::WabasLoaded {
            at: at(0),
            started: ReadStamp::issue(),
            result: Ok(WabaList::of(book.to_vec())),
        }],
    );
}

#[test]
fn numbers_typed_with_spaces_and_dashes_find_what_a_scan_finds_as_the_book_changes() {
    let mut m = wabas_model();
    feed(&mut m, [key('h')]); // All
    let mut book = wabas();

    type_and_check(&mut m, &book, "+55 11 5555 0301");
    type_and_check(&mut m, &book, "5550");
    // A number is matched as written: without its spaces it is another needle.
    type_and_check(&mut m, &book, "55115555");

    // A page of a round changes 202's number: written with dashes now, another id.
    let at202 = book.iter().position(|w| w.id() == "202").unwrap();
    book[at202].node.update(|f| {
        f.phone_numbers.update(|p| {
            p[0].id = "2029".into();
            p[0].display_phone_number = Some("+1 (415) 555-0142".into());
        })
    });
    feed(
        &mut m,
        [Msg::WabasPage {
            started: ReadStamp::issue(),
            page: WabaPage {
                wabas: vec![Arc::new(book[at202].clone())],
                listed: 2,
                expected: Some(book.len()),
            },
        }],
    );
    type_and_check(&mut m, &book, "(415) 555-0142");
    type_and_check(&mut m, &book, "2029");
    type_and_check(&mut m, &book, "2021");
    assert!(m.wabas.row("202").is_some());

    // With a filter typed, a list without 303 and then with it again: the rows follow.
    feed(&mut m, [key('/'), key('5'), key('5'), key('5'), key('5')]);
    let without: Vec<Waba> = book.iter().filter(|w| w.id() != "303").cloned().collect();
    list(&mut m, &without);
    assert_eq!(m.wabas.filter.value(), "5555");
    assert_shown_is_scan(&m, &without);
    assert!(m.wabas.visible().iter().all(|r| r.id() != "303"));
    list(&mut m, &book);
    assert_shown_is_scan(&m, &book);
    assert!(m.wabas.visible().iter().any(|r| r.id() == "303"));
}
