//! The Credit lines pane drawn with ratatui's TestBackend and compared as insta snapshots: the
//! pane at 80x24 and wide, an allocation's detail, the share and revoke dialogs, and the
//! states before data arrives.

use crate::common::*;
use crossterm::event::KeyCode;
use partnerdeck::app::Model;
use partnerdeck::app::ReadStamp;
use partnerdeck::app::credit_lines::RowKey;
use partnerdeck::app::msg::Msg;
use partnerdeck::ui::{Theme, draw};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

fn screen(m: &Model, width: u16, height: u16) -> String {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
    terminal
        .draw(|f| draw(f, m, at(42), &Theme::monochrome()))
        .unwrap();
    terminal.backend().to_string()
}

fn select(m: &mut Model, key: RowKey) {
    assert!(m.credit.select_key(&m.wabas, &key), "no row {key:?}");
}

#[test]
fn credit_lines_pane_80x24() {
    let s = screen(&credit_model(), 80, 24);
    // Verification in words and symbols, never colour alone; problems first.
    for want in [
        "✗ mismatched",
        "✓ verified",
        "? unknown",
        "– revoked",
        "Cobalt Motors S.A.",
        "Allocations 5 │ Not funded 4",
    ] {
        assert!(s.contains(want), "{want:?} missing:\n{s}");
    }
    let cobalt = s.find("Cobalt Motors S.A.").unwrap();
    let lumen = s.find("Lumen Bakery Ltd.").unwrap();
    assert!(cobalt < lumen, "mismatched before verified");
    insta::assert_snapshot!(s);
}

#[test]
fn credit_lines_pane_wide_120x36() {
    let mut m = credit_model();
    let allocations = screen(&m, 120, 36);
    feed(&mut m, [key('l')]);
    let s = format!("{allocations}\n{}", screen(&m, 120, 36));
    // Wide rows name the allocation and the WABAs using it, and the customer of each
    // not-funded WABA.
    for want in [
        "58303",
        "Harborview Dental",
        "Saffron Pharmacy Pvt. Ltd.",
        "other funding 777",
    ] {
        assert!(s.contains(want), "{want:?} missing:\n{s}");
    }
    insta::assert_snapshot!(s);
}

#[test]
fn mismatched_allocation_detail_80x24() {
    let mut m = credit_model();
    select(&mut m, RowKey::Allocation("58303".into()));
    feed(&mut m, [code(KeyCode::Enter)]);
    let s = screen(&m, 80, 24);
    assert!(s.contains("funding 599 ≠ credential"), "{s}");
    assert!(s.contains("X revoke"), "{s}");
    insta::assert_snapshot!(s);
}

#[test]
fn share_dialog_names_line_customer_waba_currency_and_call_80x24() {
    let mut m = credit_model();
    select(&mut m, RowKey::NotFunded("404".into()));
    feed(&mut m, [key('S'), code(KeyCode::Right)]);
    let s = screen(&m, 80, 24);
    for want in [
        "Northwind Messaging Ltd.",
        "Juniper Travel GmbH",
        "Juniper Travel",
        "‹ GBP ›",
        "(the WABA bills in EUR)",
        "whatsapp_credit_sharing_and_attach",
        "cannot be changed once it is attached",
    ] {
        assert!(s.contains(want), "{want:?} missing:\n{s}");
    }
    insta::assert_snapshot!(s);
}

#[test]
fn revoke_dialog_says_it_covers_every_waba_of_the_business_80x24() {
    let mut m = credit_model();
    select(&mut m, RowKey::Allocation("58101".into()));
    feed(&mut m, [key('X')]);
    let s = screen(&m, 80, 24);
    for want in [
        "Lumen Bakery Ltd.",
        "Northwind Messaging Ltd.",
        "1 WABA: 'Lumen Bakery'",
        "DELETE /v25.0/58101",
        "covers every WABA",
    ] {
        assert!(s.contains(want), "{want:?} missing:\n{s}");
    }
    insta::assert_snapshot!(s);
}

#[test]
fn credit_pane_without_ids_names_the_settings_80x24() {
    let mut m = loaded_model();
    m.credit.not_configured = true;
    feed(&mut m, [key('3')]);
    let s = screen(&m, 80, 24);
    assert!(
        s.contains("--business-id") && s.contains("--credit-line-id"),
        "{s}"
    );
    insta::assert_snapshot!(s);
}

#[test]
fn credit_pane_before_the_first_refresh_and_with_no_line() {
    let mut m = loaded_model();
    feed(&mut m, [key('3')]);
    assert!(screen(&m, 80, 24).contains("Loading credit lines"));
    feed(
        &mut m,
        [Msg::CreditLinesLoaded {
            started: ReadStamp::issue(),
            at: at(1),
            result: Ok(vec![]),
        }],
    );
    assert!(screen(&m, 80, 24).contains("no credit line"));
}

#[test]
fn hostile_business_names_are_inert() {
    let mut m = loaded_model();
    let mut lines = credit_lines();
    lines[0].allocations[0] = allocation(
        "58101",
        "9101",
        "Evil\u{1b}[2J\u{202E}Corp 👩‍💻",
        "515",
        "ACTIVE",
    );
    feed(
        &mut m,
        [
            Msg::CreditLinesLoaded {
                started: ReadStamp::issue(),
                at: at(0),
                result: Ok(lines),
            },
            key('3'),
        ],
    );
    select(&mut m, RowKey::Allocation("58101".into()));
    for (w, h) in [(80, 24), (120, 36)] {
        let s = screen(&m, w, h);
        assert!(!s.contains('\u{1b}') && !s.contains('\u{202E}'), "{s}");
        assert!(s.contains("Evil"), "{s}");
    }
    feed(&mut m, [code(KeyCode::Enter)]);
    for (w, h) in [(80, 24), (120, 36)] {
        let s = screen(&m, w, h);
        assert!(!s.contains('\u{1b}') && !s.contains('\u{202E}'), "{s}");
        assert!(s.contains("Evil"), "{s}");
    }
}

#[test]
fn credit_tiny_terminal_does_not_panic() {
    let mut m = credit_model();
    for (w, h) in [(1, 1), (10, 3), (20, 5), (40, 8)] {
        screen(&m, w, h);
        feed(&mut m, [key('j'), code(KeyCode::Enter)]);
        screen(&m, w, h);
        feed(&mut m, [key('X')]);
        screen(&m, w, h);
        feed(
            &mut m,
            [code(KeyCode::Esc), code(KeyCode::Esc), key('G'), key('S')],
        );
        screen(&m, w, h);
        feed(&mut m, [code(KeyCode::Esc)]);
    }
}
