//! Screens drawn with ratatui's TestBackend and compared as insta snapshots, at the smallest
//! size people use (80x24) and a larger one.

use crate::common::*;
use crossterm::event::KeyCode;
use partnerdeck::app::Model;
use partnerdeck::app::ReadStamp;
use partnerdeck::app::msg::{Failure, FailureKind, Msg, Scope};
use partnerdeck::domain::solution::Solution;
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

fn with_details(mut m: Model) -> Model {
    // The detail of 7001 as the Graph call returns it.
    let n = solutions().into_iter().next().unwrap().node;
    feed(
        &mut m,
        [Msg::DetailLoaded {
            started: ReadStamp::issue(),
            id: "7001".into(),
            result: Ok(n),
        }],
    );
    m
}

#[test]
fn solutions_pending_lane_80x24() {
    insta::assert_snapshot!(screen(&loaded_model(), 80, 24));
}

#[test]
fn solutions_all_lane_120x36() {
    let mut m = loaded_model();
    feed(&mut m, [key('h')]);
    insta::assert_snapshot!(screen(&m, 120, 36));
}

/// The line of the screen that holds `needle`.
fn line_with<'a>(s: &'a str, needle: &str) -> &'a str {
    s.lines()
        .find(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("{needle:?} not on screen:\n{s}"))
}

#[test]
fn detail_shows_both_sides_permissions_80x24() {
    let mut m = loaded_model();
    feed(&mut m, [code(KeyCode::Enter)]);
    let m = with_details(m);
    let s = screen(&m, 80, 24);
    assert!(
        s.contains("MANAGE_TEMPLATES") && s.contains("VIEW_COST"),
        "{s}"
    );
    insta::assert_snapshot!(s);
}

#[test]
fn the_detail_head_keeps_each_label_with_its_value_when_narrow() {
    let mut m = loaded_model();
    feed(&mut m, [code(KeyCode::Enter)]);
    let m = with_details(m);
    for width in [80, 60, 40] {
        let s = screen(&m, width, 24);
        // Each pair on one line, whatever the width: nothing says "we" on one line and
        // "are partner" on the next; the status is not lost when the head needs more lines.
        assert!(line_with(&s, "we are").contains("we are partner"), "{s}");
        assert!(line_with(&s, "status").contains("status INITIATED"), "{s}");
        assert!(line_with(&s, "id 7001").contains("id 7001"), "{s}");
    }
}

#[test]
fn detail_120x36() {
    let mut m = loaded_model();
    feed(&mut m, [code(KeyCode::Enter)]);
    insta::assert_snapshot!(screen(&with_details(m), 120, 36));
}

#[test]
fn confirm_dialog_names_solution_id_and_call_80x24() {
    let mut m = with_details(loaded_model());
    feed(&mut m, [key('a')]);
    let s = screen(&m, 80, 24);
    assert!(s.contains("POST /v25.0/7001/accept"), "{s}");
    assert!(s.contains("Kōbe Retail Connect"), "{s}");
    insta::assert_snapshot!(s);
}

#[test]
fn confirm_dialog_while_sending_80x24() {
    let mut m = with_details(loaded_model());
    feed(&mut m, [key('a'), key('y')]);
    insta::assert_snapshot!(screen(&m, 80, 24));
}

#[test]
fn help_is_generated_from_the_key_map_80x24() {
    let mut m = loaded_model();
    feed(&mut m, [key('?')]);
    let s = screen(&m, 80, 30);
    assert!(s.contains("Ctrl-r") && s.contains("refresh now"));
    insta::assert_snapshot!(s);
}

#[test]
fn stale_data_says_why_in_the_status_bar_80x24() {
    let mut m = loaded_model();
    feed(
        &mut m,
        [Msg::SolutionsLoaded {
            started: ReadStamp::issue(),
            at: at(30),
            result: Err(Failure::new(
                FailureKind::Throttled,
                "Meta is throttling this app (code 4): calls resume in about 12 min.",
                Some(4),
            )),
        }],
    );
    let s = screen(&m, 80, 24);
    assert!(s.contains("STALE"), "{s}");
    insta::assert_snapshot!(s);
}

#[test]
fn before_the_first_refresh_80x24() {
    let mut m = Model::new(OUR_APP, "v25.0");
    m.demo = true;
    m.read_only = true;
    feed(
        &mut m,
        [Msg::RefreshStarted {
            scope: Scope::Solutions,
            at: at(0),
        }],
    );
    insta::assert_snapshot!(screen(&m, 80, 24));
}

#[test]
fn hostile_names_are_inert_and_aligned() {
    let mut m = loaded_model();
    let mut items = solutions();
    items[0] = Solution::new(
        node(
            "7001",
            "Evil\u{1b}[2J\u{1b}]0;pwned\u{7}\u{202E}gnp.exe 👩‍💻",
            "INITIATED",
            "PENDING_ACTIVATION",
        ),
        items[0].role,
    );
    feed(
        &mut m,
        [Msg::SolutionsLoaded {
            started: ReadStamp::issue(),
            at: at(1),
            result: Ok(items),
        }],
    );
    let s = screen(&m, 80, 24);
    assert!(!s.contains('\u{1b}'), "an escape reached the screen");
    assert!(!s.contains('\u{202E}'));
    // The ID column starts at the same place on every row.
    let cols: Vec<usize> = s
        .lines()
        .filter(|l| l.contains("7001") || l.contains("7002"))
        .map(|l| l.find("700").unwrap())
        .collect();
    assert_eq!(cols.len(), 2, "{s}");
    insta::assert_snapshot!(s);
}

#[test]
fn tiny_terminal_does_not_panic() {
    let mut m = loaded_model();
    for (w, h) in [(1, 1), (10, 3), (20, 5), (40, 8)] {
        feed(
            &mut m,
            [Msg::Resize {
                width: w,
                height: h,
                list_rows: partnerdeck::ui::list_rows(h),
            }],
        );
        screen(&m, w, h);
        feed(&mut m, [code(KeyCode::Enter)]);
        screen(&m, w, h);
        feed(&mut m, [key('a')]);
        screen(&m, w, h);
        feed(&mut m, [code(KeyCode::Esc), code(KeyCode::Esc)]);
    }
}

#[test]
fn help_fits_an_80x24_screen_in_two_columns() {
    let mut m = loaded_model();
    feed(&mut m, [key('?')]);
    let s = screen(&m, 80, 24);
    for (keys, what) in partnerdeck::app::keymap::help_lines(partnerdeck::app::Pane::Solutions) {
        assert!(s.contains(what), "'{keys}: {what}' is missing:\n{s}");
    }
    insta::assert_snapshot!(s);
}

#[test]
fn wabas_pane_before_the_first_refresh_80x24() {
    let mut m = loaded_model();
    feed(&mut m, [key('2')]);
    let s = screen(&m, 80, 24);
    assert!(s.contains("Loading client WABAs"), "{s}");
    insta::assert_snapshot!(s);
}

#[test]
fn wabas_pane_without_a_business_id_names_the_setting_80x24() {
    let mut m = loaded_model();
    m.wabas.not_configured = true;
    feed(&mut m, [key('2')]);
    let s = screen(&m, 80, 24);
    assert!(s.contains("--business-id"), "{s}");
    insta::assert_snapshot!(s);
}

#[test]
fn wabas_attention_lane_80x24() {
    let s = screen(&wabas_model(), 80, 24);
    // Attention is a marker and words, not colour alone; unknown steps are "?".
    assert!(
        (s.contains("│ ! ") || s.contains("│›! ")) && s.contains("BLOCKED") && s.contains('?'),
        "{s}"
    );
    insta::assert_snapshot!(s);
}

#[test]
fn wabas_all_lane_wide_120x36() {
    let mut m = wabas_model();
    feed(&mut m, [key('h'), key('o')]);
    let s = screen(&m, 120, 36);
    assert!(s.contains("Owner") && s.contains("Limit"), "{s}");
    // Review and verification give way to the name at 120 columns (the detail has them);
    // wider, they come back.
    let wider = screen(&m, 160, 36);
    assert!(
        wider.contains("IN_APPEAL") && wider.contains("Verification"),
        "{wider}"
    );
    insta::assert_snapshot!(s);
}

#[test]
fn waba_detail_80x24() {
    let mut m = wabas_model();
    // Cobalt Motors (blocked) is first in the attention lane.
    feed(&mut m, [code(KeyCode::Enter)]);
    let s = screen(&m, 80, 24);
    assert!(s.contains("error 141010") && s.contains("fix:"), "{s}");
    insta::assert_snapshot!(s);
}

#[test]
fn waba_detail_wide_120x36() {
    let mut m = wabas_model();
    feed(&mut m, [code(KeyCode::Enter), key('j')]);
    let s = screen(&m, 120, 36);
    assert!(
        s.contains("Meridian Alerts") && s.contains("Kestrel Commerce Cloud"),
        "{s}"
    );
    assert!(s.contains("timezone_id: 71"), "{s}");
    insta::assert_snapshot!(s);
}

#[test]
fn register_dialog_shows_only_bullets_80x24() {
    let mut m = wabas_model();
    feed(&mut m, [key('l'), key('l'), key('o'), key('o')]); // All, by name
    feed(&mut m, [key('j'), code(KeyCode::Enter), key('R')]); // Harborview Dental
    feed(&mut m, [key('9'), key('7'), key('5')]);
    let s = screen(&m, 80, 24);
    assert!(s.contains("•••___"), "{s}");
    assert!(!s.contains("975"), "the PIN reached the screen:\n{s}");
    assert!(s.contains("POST /v25.0/2021/register"), "{s}");
    insta::assert_snapshot!(s);
}

#[test]
fn wabas_tiny_terminal_does_not_panic() {
    let mut m = wabas_model();
    for (w, h) in [(1, 1), (10, 3), (20, 5), (40, 8)] {
        screen(&m, w, h);
        feed(&mut m, [code(KeyCode::Enter)]);
        screen(&m, w, h);
        feed(&mut m, [key('R'), key('1')]);
        screen(&m, w, h);
        feed(&mut m, [code(KeyCode::Esc), code(KeyCode::Esc)]);
    }
}

#[test]
fn a_hold_without_a_failed_list_still_says_why() {
    // Only a detail read was throttled: the list is fresh, the pane is held.
    let mut m = loaded_model();
    feed(
        &mut m,
        [Msg::ScopeHeld {
            scope: Scope::Solutions,
            until: at(42 + 11 * 60),
        }],
    );
    let s = screen(&m, 80, 24);
    assert!(s.contains("Meta is throttling this app"), "{s}");
    assert!(s.contains("about 11m more"), "{s}");
}

/// Scrolling back up moves the selection inside the window; the window stays where it was
/// until the selection leaves it (it does not stick to the bottom row).
#[test]
fn the_window_keeps_its_place_when_scrolling_up() {
    let mut m = wabas_model();
    let height = 11;
    feed(
        &mut m,
        [Msg::Resize {
            width: 100,
            height,
            list_rows: partnerdeck::ui::list_rows(height),
        }],
    );
    feed(&mut m, [key('l'), key('l')]); // the All lane
    let n = m.wabas.visible().len();
    assert!(
        n > partnerdeck::ui::list_rows(height) as usize + 2,
        "{n} rows"
    );
    for _ in 0..n {
        feed(&mut m, [key('j')]);
    }
    let bottom = screen(&m, 100, height);
    feed(&mut m, [key('k'), key('k')]);
    let up = screen(&m, 100, height);
    let marked = |text: &str| {
        text.lines()
            .position(|l| l.contains('›'))
            .unwrap_or_else(|| panic!("no selected row: {text}"))
    };
    assert_eq!(marked(&up) + 2, marked(&bottom), "{bottom}\n{up}");
    // The same rows are on screen.
    let rows = |text: &str| text.lines().filter(|l| l.contains("│")).count();
    assert_eq!(rows(&up), rows(&bottom));
}

/// A row Meta sent in a shape that could not be read stays in the list, shown raw and marked.
#[test]
fn an_unreadable_row_is_shown_raw_and_marked() {
    let mut m = loaded_model();
    let mut items = solutions();
    items[0].node.malformed = Some(Box::new(partnerdeck::graph::model::Malformed {
        reason: "invalid type: integer, expected a string".into(),
        raw: r#"{"id":"7001","name":42}"#.into(),
    }));
    feed(
        &mut m,
        [Msg::SolutionsLoaded {
            at: at(5),
            started: ReadStamp::issue(),
            result: Ok(items),
        }],
    );
    let s = screen(&m, 120, 24);
    assert!(s.contains("⚠ unreadable row:"), "{s}");
    assert!(
        s.contains("Atlas Support Desk"),
        "the other rows stand: {s}"
    );
}

/// A refresh and an action on their way show a spinner and the seconds they have taken, so a
/// slow call can be told from a hung one.
#[test]
fn motion_while_waiting_spinner_and_elapsed_seconds() {
    let mut m = loaded_model();
    feed(
        &mut m,
        [Msg::RefreshStarted {
            scope: Scope::Solutions,
            at: at(30),
        }],
    );
    let s = screen(&m, 100, 24);
    assert!(s.contains("refreshing 12s"), "{s}");
    // An accept on its way for 7 seconds.
    feed(&mut m, [key('a'), key('y')]);
    let id = m
        .in_flight
        .as_ref()
        .expect("in flight")
        .target
        .object_id()
        .to_string();
    feed(&mut m, [Msg::ActionSending { id, at: at(35) }]);
    let s = screen(&m, 120, 24);
    assert!(s.contains("sending accept 'Kōbe Retail Connect' 7s"), "{s}");
    assert!(["◐", "◓", "◑", "◒"].iter().any(|f| s.contains(f)), "{s}");
}
