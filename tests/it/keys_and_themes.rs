//! Issue 12 §11–§12: the `[keys]` table remaps commands (update, help and the status bar
//! follow it; conflicts are refused with a sentence), Ctrl-c always quits, the `mono` theme
//! draws no colour, `light` has no pale text, the status bar keeps "polling stopped: renew
//! the token" at 80 and 40 columns, and subcommands list only the flags that apply.

use std::process::Command as Process;
use std::sync::Arc;

use crate::common::console::Console;
use crate::common::*;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use graph_sim::{self as sim, SimOptions, World};
use partnerdeck::app::keymap::{KeyOverride, Keymap};
use partnerdeck::app::msg::{Failure, FailureKind, Msg, UsageReport};
use partnerdeck::app::{Effect, Model, Overlay, Pane, ReadStamp};
use partnerdeck::ui::{Theme, draw};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;
use ratatui::style::Color;

fn buffer(m: &Model, width: u16, height: u16, theme: &Theme) -> Buffer {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
    terminal.draw(|f| draw(f, m, at(42), theme)).unwrap();
    terminal.backend().buffer().clone()
}

fn row(b: &Buffer, y: u16) -> String {
    (0..b.area.width)
        .map(|x| b[(x, y)].symbol().to_string())
        .collect()
}

fn text(b: &Buffer) -> String {
    (0..b.area.height)
        .map(|y| row(b, y))
        .collect::<Vec<_>>()
        .join("\n")
}

fn status_line(b: &Buffer) -> String {
    row(b, b.area.height - 1)
}

/// Every pane, its detail and the dialogs, as models ready to draw.
fn every_screen() -> Vec<(&'static str, Model)> {
    let mut out = vec![];
    let solutions = loaded_model();
    out.push(("solutions", solutions.clone()));
    let mut m = solutions.clone();
    feed(&mut m, [code(KeyCode::Enter)]);
    out.push(("solution detail", m));
    let mut m = solutions.clone();
    feed(&mut m, [key('a')]);
    assert!(matches!(m.overlay, Some(Overlay::Confirm(_))));
    out.push(("confirm dialog", m.clone()));
    feed(&mut m, [key('y')]);
    out.push(("sending", m));
    let mut m = solutions.clone();
    feed(&mut m, [key('?')]);
    out.push(("help", m));
    let mut m = solutions.clone();
    feed(
        &mut m,
        [Msg::SolutionsLoaded {
            started: ReadStamp::issue(),
            at: at(30),
            result: Err(Failure::new(
                FailureKind::Throttled,
                "Meta is throttling this app (code 4).",
                Some(4),
            )),
        }],
    );
    out.push(("stale", m));
    let wabas = wabas_model();
    out.push(("wabas", wabas.clone()));
    let mut m = wabas;
    feed(&mut m, [code(KeyCode::Enter)]);
    out.push(("waba detail", m));
    let credit = credit_model();
    out.push(("credit lines", credit.clone()));
    let mut m = credit;
    feed(&mut m, [code(KeyCode::Enter)]);
    out.push(("credit detail", m));
    let mut m = loaded_model();
    feed(&mut m, [key('4')]);
    assert_eq!(m.pane, Pane::Events);
    out.push(("events", m));
    out
}

#[test]
fn theme_mono_draws_no_colour_on_any_screen() {
    for (name, m) in every_screen() {
        for (w, h) in [(80, 24), (120, 36), (40, 20)] {
            let b = buffer(&m, w, h, &Theme::monochrome());
            for cell in b.content() {
                assert!(
                    cell.fg == Color::Reset && cell.bg == Color::Reset,
                    "{name} at {w}x{h}: {:?} has colour {:?} on {:?}\n{}",
                    cell.symbol(),
                    cell.fg,
                    cell.bg,
                    text(&b)
                );
            }
        }
    }
    // The check can fail: the dark theme does colour these screens.
    let b = buffer(&loaded_model(), 80, 24, &Theme::colored());
    assert!(b.content().iter().any(|c| c.fg != Color::Reset));
}

#[test]
fn theme_light_has_no_text_that_fades_on_white() {
    let pale = [
        Color::Yellow,
        Color::LightYellow,
        Color::Cyan,
        Color::LightCyan,
        Color::Gray,
        Color::White,
    ];
    for (name, m) in every_screen() {
        let b = buffer(&m, 80, 24, &Theme::light());
        for cell in b.content() {
            // White text only on a coloured background (the active tab).
            let on_white = cell.bg == Color::Reset || cell.bg == Color::White;
            assert!(
                !(on_white && pale.contains(&cell.fg)),
                "{name}: {:?} is {:?} on {:?}",
                cell.symbol(),
                cell.fg,
                cell.bg
            );
        }
    }
}

fn remapped() -> Arc<Keymap> {
    let over = |command: &str, keys: &[&str]| KeyOverride {
        command: command.into(),
        keys: keys.iter().map(|k| k.to_string()).collect(),
        line: None,
    };
    Arc::new(
        Keymap::with_overrides(&[
            over("accept", &["A"]),
            over("help", &["F1", "?"]),
            over("quit", &["x"]),
            over("down", &["n", "Down"]),
            over("close", &["Esc"]),
        ])
        .unwrap(),
    )
}

#[test]
fn keymap_override_drives_update_help_and_status_bar() {
    let mut m = loaded_model();
    m.keymap = remapped();
    // `a` is free now; `A` accepts.
    feed(&mut m, [key('a')]);
    assert!(m.overlay.is_none());
    feed(
        &mut m,
        [Msg::Key(KeyEvent::new(
            KeyCode::Char('A'),
            KeyModifiers::SHIFT,
        ))],
    );
    assert!(matches!(m.overlay, Some(Overlay::Confirm(_))));
    feed(&mut m, [code(KeyCode::Esc)]);
    assert!(m.overlay.is_none());
    // `n` moved from close to down.
    let before = m.solutions.selected;
    feed(&mut m, [key('n')]);
    assert_eq!(m.solutions.selected, before + 1);
    // `q` is free; `x` quits.
    assert!(feed(&mut m, [key('q')]).is_empty());
    let b = buffer(&m, 80, 24, &Theme::monochrome());
    let status = status_line(&b);
    assert!(
        status.contains("F1 help") && status.contains("x quit"),
        "{status}"
    );
    // The help lists the keys of the map.
    feed(&mut m, [code(KeyCode::F(1))]);
    assert_eq!(m.overlay, Some(Overlay::Help));
    let help = text(&buffer(&m, 80, 24, &Theme::monochrome()));
    let line = |what: &str| {
        help.lines()
            .find(|l| l.contains(what))
            .unwrap_or_else(|| panic!("no {what:?} in\n{help}"))
            .to_string()
    };
    assert!(line("accept request").contains(" A  accept"), "{help}");
    assert!(line("this help").contains("F1 ?  this help"), "{help}");
    assert!(line("move down").contains("n ↓  move down"), "{help}");
    assert!(line("quit").contains("x Ctrl-c  quit"), "{help}");
    feed(&mut m, [code(KeyCode::Esc)]);
    assert!(feed(&mut m, [key('x')]).contains(&Effect::Quit));
}

#[test]
fn keymap_conflicts_are_refused_with_both_commands_and_the_line() {
    let over = |command: &str, keys: &[&str], line| KeyOverride {
        command: command.into(),
        keys: keys.iter().map(|k| k.to_string()).collect(),
        line: Some(line),
    };
    // Two commands of every pane on one key.
    let p = Keymap::with_overrides(&[over("refresh", &["?"], 7)]).unwrap_err();
    assert_eq!(p.line, Some(7));
    assert!(
        p.sentence.contains("refresh on line 7") && p.sentence.contains("help by default"),
        "{}",
        p.sentence
    );
    // Both from the file: both lines named.
    let p = Keymap::with_overrides(&[over("accept", &["z"], 3), over("reject", &["z"], 4)])
        .unwrap_err();
    assert!(
        p.sentence.contains("accept on line 3") && p.sentence.contains("reject on line 4"),
        "{}",
        p.sentence
    );
    // A pane's key against a key of every pane.
    let p = Keymap::with_overrides(&[over("sort", &["j"], 2)]).unwrap_err();
    assert!(p.sentence.contains("down by default"), "{}", p.sentence);
    // Two panes may share a key.
    assert!(Keymap::with_overrides(&[over("share", &["a"], 2)]).is_ok());
    // Ctrl-c cannot be taken from quit, nor given to another command.
    let p = Keymap::with_overrides(&[over("copy", &["Ctrl-c"], 5)]).unwrap_err();
    assert!(p.sentence.contains("Ctrl-c always quits"), "{}", p.sentence);
    // Keys typed into the PIN field cannot confirm or cancel it.
    let p = Keymap::with_overrides(&[over("close", &["Backspace"], 6)]).unwrap_err();
    assert!(p.sentence.contains("PIN field"), "{}", p.sentence);
}

#[test]
fn ctrl_c_quits_from_a_filter_being_typed_and_from_a_dialog() {
    let mut m = loaded_model();
    m.keymap = remapped();
    feed(&mut m, [key('/'), key('k')]);
    assert!(m.solutions.filter_editing);
    assert!(feed(&mut m, [ctrl('c')]).contains(&Effect::Quit));

    let mut m = loaded_model();
    feed(&mut m, [key('?')]);
    assert!(feed(&mut m, [ctrl('c')]).contains(&Effect::Quit));

    // With an action on its way, the first press asks again, naming the key pressed.
    let mut m = loaded_model();
    feed(&mut m, [key('a'), key('y')]);
    assert!(m.in_flight.is_some());
    assert!(feed(&mut m, [ctrl('c')]).is_empty());
    assert!(m.notice.as_deref().unwrap_or("").contains("Ctrl-c again"));
    assert!(feed(&mut m, [ctrl('c')]).contains(&Effect::Quit));
}

/// A model with everything the status bar can say at once: a refresh running, stale data,
/// a hold, a dead token, a slowed-down usage and a mutation with a long name on its way.
fn crowded_status() -> Model {
    let mut m = loaded_model();
    feed(
        &mut m,
        [
            key('a'),
            key('y'),
            Msg::UsageReported(UsageReport {
                app_pct: Some(92),
                buc_pct: None,
            }),
            Msg::SolutionsLoaded {
                started: ReadStamp::issue(),
                at: at(30),
                result: Err(Failure::new(
                    FailureKind::AuthExpired,
                    "The access token has expired (code 190): renew it and restart.",
                    Some(190),
                )),
            },
            Msg::RefreshStarted {
                scope: partnerdeck::app::Scope::Solutions,
                at: at(40),
            },
        ],
    );
    m.overlay = None;
    assert!(m.in_flight.is_some() && m.refresh.auth_failure().is_some());
    m
}

#[test]
fn status_bar_keeps_the_token_sentence_at_80_and_40_columns() {
    let m = crowded_status();
    for width in [120, 80, 60, 40] {
        let b = buffer(&m, width, 24, &Theme::monochrome());
        let status = status_line(&b);
        assert!(
            status.contains("polling stopped: renew the token"),
            "{width}: {status:?}"
        );
        // A part gives way whole or by a shorter form; it is never cut in the middle.
        assert!(!status.trim_start().starts_with('·'), "{width}: {status:?}");
        if width >= 80 {
            assert!(
                status.contains("STALE") && status.contains("sending"),
                "{status:?}"
            );
        }
    }
    // At 40 the sentence takes what the line has, whole.
    let b = buffer(&m, 40, 24, &Theme::monochrome());
    assert!(status_line(&b).contains("polling stopped: renew the token"));
    // Every pane, with the same failure everywhere.
    for pane in ['2', '3'] {
        let mut m = crowded_status();
        feed(&mut m, [key(pane)]);
        for width in [80, 40] {
            let status = status_line(&buffer(&m, width, 24, &Theme::monochrome()));
            assert!(
                status.contains("polling stopped: renew the token"),
                "{pane} {width}: {status:?}"
            );
        }
    }
}

#[test]
fn status_bar_at_80_columns_keeps_everything_that_fits() {
    let mut m = loaded_model();
    feed(
        &mut m,
        [Msg::SolutionsLoaded {
            started: ReadStamp::issue(),
            at: at(30),
            result: Err(Failure::new(FailureKind::Transport, "No route.", None)),
        }],
    );
    let status = status_line(&buffer(&m, 80, 24, &Theme::monochrome()));
    assert!(
        status.starts_with("refreshed 42s ago · STALE, failed 12s ago")
            && status.ends_with("? help  q quit"),
        "{status:?}"
    );
    // At 40 the hints go before the state.
    let status = status_line(&buffer(&m, 40, 24, &Theme::monochrome()));
    assert!(status.contains("STALE, failed 12s ago"), "{status:?}");
    assert!(!status.contains("quit"), "{status:?}");
}

fn partnerdeck(args: &[&str], home: &std::path::Path) -> (i32, String, String) {
    let out = Process::new(env!("CARGO_BIN_EXE_partnerdeck"))
        .args(args)
        .env_clear()
        .env("HOME", home)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn sim_and_snapshot_help_list_only_their_flags() {
    let home = tempfile::tempdir().unwrap();
    let (code, sim_help, _) = partnerdeck(&["sim", "--help"], home.path());
    assert_eq!(code, 0);
    assert!(sim_help.contains("--addr") && sim_help.contains("--latency-ms"));
    for f in [
        "--graph-url",
        "--app-id",
        "--poll-interval",
        "--config",
        "--read-only",
    ] {
        assert!(!sim_help.contains(f), "sim --help lists {f}:\n{sim_help}");
    }
    let (code, snap_help, _) = partnerdeck(&["snapshot", "--help"], home.path());
    assert_eq!(code, 0);
    for f in ["--json", "--graph-url", "--app-id", "--config"] {
        assert!(snap_help.contains(f), "snapshot --help lacks {f}");
    }
    for f in ["--poll-interval", "--webhook-listen", "--plivo-url"] {
        assert!(!snap_help.contains(f), "snapshot --help lists {f}");
    }
    let (code, console_help, _) = partnerdeck(&["--help"], home.path());
    assert_eq!(code, 0);
    for f in [
        "--poll-interval",
        "--webhook-listen",
        "--graph-url",
        "--read-only",
    ] {
        assert!(console_help.contains(f), "--help lacks {f}");
    }
    // A flag that does not apply is refused, not ignored.
    let (code, _, err) = partnerdeck(&["sim", "--app-id", "1"], home.path());
    assert_eq!(code, 2);
    assert!(
        err.contains("--app-id does not apply to `partnerdeck sim`"),
        "{err}"
    );
}

#[test]
fn a_conflicting_keys_table_stops_the_start_with_one_sentence() {
    let home = tempfile::tempdir().unwrap();
    let cfg = home.path().join("partnerdeck.toml");
    std::fs::write(
        &cfg,
        "app_id = \"1\"\n\n[keys]\nhelp = \"?\"\nrefresh = \"r\"\n",
    )
    .unwrap();
    let (code, out, err) = partnerdeck(
        &["snapshot", "--config", cfg.to_str().unwrap()],
        home.path(),
    );
    assert_eq!(code, 2, "{out}{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("line 5")
            && err.contains("reject by default")
            && err.contains("refresh on line 5"),
        "{err}"
    );
    std::fs::write(&cfg, "app_id = \"1\"\ntheme = \"dark\"\n[keys\n").unwrap();
    let (code, _, err) = partnerdeck(
        &["snapshot", "--config", cfg.to_str().unwrap()],
        home.path(),
    );
    assert_eq!(code, 2);
    assert!(err.contains("not valid TOML at line 3, column"), "{err}");
}

/// The colour parameters of every SGR sequence in `raw` (30–37, 38, 40–47, 48, 90–107; the
/// default-colour resets 39 and 49 are not colours).
fn colour_codes(raw: &[u8]) -> Vec<String> {
    let text = String::from_utf8_lossy(raw);
    let mut found = vec![];
    for seq in text.split("\x1b[").skip(1) {
        let Some(end) = seq.find(|c: char| c.is_ascii_alphabetic()) else {
            continue;
        };
        if !seq[end..].starts_with('m') {
            continue;
        }
        for p in seq[..end].split(';') {
            if let Ok(n) = p.parse::<u32>()
                && matches!(n, 30..=38 | 40..=48 | 90..=107)
            {
                found.push(seq[..end].to_string());
            }
        }
    }
    found
}

#[test]
fn the_console_uses_the_theme_and_keys_of_its_config_file() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let sim = rt
        .block_on(sim::start(World::demo(), SimOptions::default()))
        .unwrap();
    let dir = tempfile::tempdir().unwrap();

    // mono: not one colour code reaches the terminal; `x` quits.
    let cfg = dir.path().join("mono.toml");
    std::fs::write(&cfg, "theme = \"mono\"\n[keys]\nquit = \"x\"\n").unwrap();
    let mut console = Console::start_env(
        &sim,
        dir.path(),
        &["--config", cfg.to_str().unwrap()],
        &[("NO_COLOR", "")],
    );
    console.wait_for("refreshed");
    console.wait_for("x quit");
    console.keys("?");
    console.wait_for("Keys · Esc closes");
    console.keys("\x1b");
    assert_eq!(colour_codes(&console.raw_bytes()), Vec::<String>::new());
    console.send("x");
    assert!(console.wait_exit().success());
    console.assert_restored();

    // light chosen in the file wins over NO_COLOR (no-color.org: a user's setting wins).
    let cfg = dir.path().join("light.toml");
    std::fs::write(&cfg, "theme = \"light\"\n").unwrap();
    let mut console = Console::start_env(
        &sim,
        dir.path(),
        &["--config", cfg.to_str().unwrap()],
        &[("NO_COLOR", "1")],
    );
    console.wait_for("refreshed");
    assert!(!colour_codes(&console.raw_bytes()).is_empty());
    console.send("q");
    assert!(console.wait_exit().success());
}

mod properties {
    use partnerdeck::app::keymap::{Command, HARD_QUIT, Key, KeyOverride, Keymap};
    use proptest::prelude::*;

    fn key_text() -> impl Strategy<Value = String> {
        prop_oneof![
            "[a-zA-Z0-9?/ ]",
            prop::sample::select(vec![
                "Enter",
                "Esc",
                "Tab",
                "Shift-Tab",
                "Up",
                "Down",
                "PgDn",
                "Home",
                "Backspace",
                "F5",
                "Ctrl-c",
                "Ctrl-z",
                "Ctrl-r",
                "Alt-x",
                "↓",
            ])
            .prop_map(str::to_string),
            any::<String>(),
        ]
    }

    fn overrides() -> impl Strategy<Value = Vec<KeyOverride>> {
        let names: Vec<String> = Command::ALL
            .iter()
            .map(|c| c.config_name().to_string())
            .chain(["nope".to_string()])
            .collect();
        prop::collection::vec(
            (
                prop::sample::select(names),
                prop::collection::vec(key_text(), 0..3),
                1usize..40,
            )
                .prop_map(|(command, keys, line)| KeyOverride {
                    command,
                    keys,
                    line: Some(line),
                }),
            0..6,
        )
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        /// Any `[keys]` table is refused with a sentence or gives a map where every command
        /// has a key, quit keeps Ctrl-c, and no two commands share a key where both are read.
        #[test]
        fn any_keys_table_is_a_sound_map_or_one_sentence(table in overrides()) {
            match Keymap::with_overrides(&table) {
                Err(p) => {
                    prop_assert!(!p.sentence.is_empty() && !p.sentence.contains('\n'));
                }
                Ok(map) => {
                    prop_assert!(map.keys_of(Command::Quit).any(|k| k == HARD_QUIT));
                    for a in Command::ALL {
                        prop_assert!(map.keys_of(a).next().is_some(), "{a:?} has no key");
                        for b in Command::ALL {
                            let overlap = match (a.pane(), b.pane()) {
                                (Some(x), Some(y)) => x == y,
                                _ => true,
                            };
                            if a == b || !overlap {
                                continue;
                            }
                            let shared: Vec<Key> =
                                map.keys_of(a).filter(|k| map.keys_of(b).any(|o| o == *k)).collect();
                            prop_assert!(shared.is_empty(), "{a:?} and {b:?} share {shared:?}");
                        }
                    }
                }
            }
        }

        #[test]
        fn any_text_parses_to_a_key_or_a_reason(text in any::<String>()) {
            if let Ok(key) = Key::parse(&text) {
                prop_assert_eq!(Key::parse(&key.name()), Ok(key));
            }
        }
    }
}
