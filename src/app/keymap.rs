//! The key map: one table that both the update function and the help screen read, so the
//! help can never drift from what the keys do.

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

use crate::app::model::Pane;

/// What a key asks for, before the model decides whether it makes sense right now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    NextPane,
    PrevPane,
    Solutions,
    Wabas,
    CreditLines,
    Events,
    Down,
    Up,
    Top,
    Bottom,
    PageDown,
    PageUp,
    NextLane,
    PrevLane,
    Open,
    Close,
    Filter,
    Accept,
    Reject,
    Deactivate,
    Subscribe,
    Register,
    BspRegister,
    Sort,
    SortReverse,
    Share,
    Revoke,
    Confirm,
    Copy,
    Refresh,
    Help,
    Quit,
}

impl Command {
    /// The pane a command belongs to; `None` for commands of every pane.
    pub fn pane(self) -> Option<Pane> {
        match self {
            Command::Accept | Command::Reject | Command::Deactivate => Some(Pane::Solutions),
            Command::Subscribe | Command::Register | Command::BspRegister => Some(Pane::Wabas),
            Command::Share | Command::Revoke => Some(Pane::CreditLines),
            _ => None,
        }
    }

    pub fn help(self) -> &'static str {
        match self {
            Command::NextPane => "next pane",
            Command::PrevPane => "previous pane",
            Command::Solutions => "Solutions pane",
            Command::Wabas => "WABAs pane",
            Command::CreditLines => "Credit lines pane",
            Command::Events => "Events pane",
            Command::Down => "move down",
            Command::Up => "move up",
            Command::Top => "first row",
            Command::Bottom => "last row",
            Command::PageDown => "page down",
            Command::PageUp => "page up",
            Command::NextLane => "next lane",
            Command::PrevLane => "previous lane",
            Command::Open => "detail of the row",
            Command::Close => "close / clear filter / no",
            Command::Filter => "filter (Enter keeps it)",
            Command::Accept => "accept request/deactivation",
            Command::Reject => "reject request/deactivation",
            Command::Deactivate => "ask to deactivate (ours)",
            Command::Subscribe => "subscribe our app (webhooks)",
            Command::Register => "register number (in detail)",
            Command::BspRegister => "register number with our BSP (in detail)",
            Command::Sort => "sort by the next column",
            Command::SortReverse => "reverse the order",
            Command::Share => "share a credit line",
            Command::Revoke => "revoke an allocation",
            Command::Confirm => "yes, in a confirm dialog",
            Command::Copy => "copy the id (or fbtrace_id)",
            Command::Refresh => "refresh now",
            Command::Help => "this help",
            Command::Quit => "quit",
        }
    }
}

const NONE: KeyModifiers = KeyModifiers::NONE;
const CTRL: KeyModifiers = KeyModifiers::CONTROL;

/// Every binding. Several keys may share a command; the help lists them together.
pub const KEYMAP: &[(KeyCode, KeyModifiers, Command)] = &[
    (KeyCode::Tab, NONE, Command::NextPane),
    (KeyCode::BackTab, NONE, Command::PrevPane),
    (KeyCode::Char('1'), NONE, Command::Solutions),
    (KeyCode::Char('2'), NONE, Command::Wabas),
    (KeyCode::Char('3'), NONE, Command::CreditLines),
    (KeyCode::Char('4'), NONE, Command::Events),
    (KeyCode::Char('j'), NONE, Command::Down),
    (KeyCode::Down, NONE, Command::Down),
    (KeyCode::Char('k'), NONE, Command::Up),
    (KeyCode::Up, NONE, Command::Up),
    (KeyCode::Char('g'), NONE, Command::Top),
    (KeyCode::Home, NONE, Command::Top),
    (KeyCode::Char('G'), NONE, Command::Bottom),
    (KeyCode::End, NONE, Command::Bottom),
    (KeyCode::PageDown, NONE, Command::PageDown),
    (KeyCode::PageUp, NONE, Command::PageUp),
    (KeyCode::Char('l'), NONE, Command::NextLane),
    (KeyCode::Right, NONE, Command::NextLane),
    (KeyCode::Char('h'), NONE, Command::PrevLane),
    (KeyCode::Left, NONE, Command::PrevLane),
    (KeyCode::Enter, NONE, Command::Open),
    (KeyCode::Esc, NONE, Command::Close),
    (KeyCode::Char('n'), NONE, Command::Close),
    (KeyCode::Char('/'), NONE, Command::Filter),
    (KeyCode::Char('a'), NONE, Command::Accept),
    (KeyCode::Char('r'), NONE, Command::Reject),
    (KeyCode::Char('d'), NONE, Command::Deactivate),
    (KeyCode::Char('s'), NONE, Command::Subscribe),
    (KeyCode::Char('R'), NONE, Command::Register),
    (KeyCode::Char('B'), NONE, Command::BspRegister),
    (KeyCode::Char('o'), NONE, Command::Sort),
    (KeyCode::Char('O'), NONE, Command::SortReverse),
    (KeyCode::Char('S'), NONE, Command::Share),
    (KeyCode::Char('X'), NONE, Command::Revoke),
    (KeyCode::Char('y'), NONE, Command::Confirm),
    (KeyCode::Char('c'), NONE, Command::Copy),
    (KeyCode::Char('r'), CTRL, Command::Refresh),
    (KeyCode::Char('?'), NONE, Command::Help),
    (KeyCode::Char('q'), NONE, Command::Quit),
    (KeyCode::Char('c'), CTRL, Command::Quit),
];

/// The command a key press means, if any. Shift is ignored for characters (it is already
/// in the character) and for Shift-Tab; key releases and repeats of releases are ignored.
pub fn command_for(key: &KeyEvent) -> Option<Command> {
    if key.kind == KeyEventKind::Release {
        return None;
    }
    let mods = match key.code {
        KeyCode::Char(_) | KeyCode::BackTab => key.modifiers - KeyModifiers::SHIFT,
        _ => key.modifiers,
    };
    KEYMAP
        .iter()
        .find(|(code, m, _)| *code == key.code && *m == mods)
        .map(|(_, _, c)| *c)
}

/// A key as a person would write it.
pub fn key_label(code: KeyCode, mods: KeyModifiers) -> String {
    let base = match code {
        KeyCode::Tab => "Tab".to_string(),
        KeyCode::BackTab => "Shift-Tab".to_string(),
        KeyCode::Down => "↓".to_string(),
        KeyCode::Up => "↑".to_string(),
        KeyCode::Left => "←".to_string(),
        KeyCode::Right => "→".to_string(),
        KeyCode::Home => "Home".to_string(),
        KeyCode::End => "End".to_string(),
        KeyCode::PageDown => "PgDn".to_string(),
        KeyCode::PageUp => "PgUp".to_string(),
        KeyCode::Enter => "Enter".to_string(),
        KeyCode::Esc => "Esc".to_string(),
        KeyCode::Char(c) => c.to_string(),
        other => format!("{other:?}"),
    };
    if mods.contains(KeyModifiers::CONTROL) {
        format!("Ctrl-{base}")
    } else {
        base
    }
}

/// The first key bound to `cmd`, as a person would write it: what key hints on screen say,
/// so they follow the key map (and its remapping) instead of naming a letter themselves.
pub fn key_for(cmd: Command) -> String {
    KEYMAP.iter().find(|(_, _, c)| *c == cmd).map_or_else(
        || "?".to_string(),
        |(code, mods, _)| key_label(*code, *mods),
    )
}

/// The help screen's lines on `pane`: each command of that pane or of every pane once, with
/// all its keys, in key-map order.
pub fn help_lines(pane: Pane) -> Vec<(String, &'static str)> {
    let mut out: Vec<(Command, Vec<String>)> = Vec::new();
    for (code, mods, cmd) in KEYMAP {
        if cmd.pane().is_some_and(|p| p != pane) {
            continue;
        }
        let label = key_label(*code, *mods);
        match out.iter_mut().find(|(c, _)| c == cmd) {
            Some((_, keys)) => keys.push(label),
            None => out.push((*cmd, vec![label])),
        }
    }
    out.into_iter()
        .map(|(cmd, keys)| (keys.join(" "), cmd.help()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(code: KeyCode, mods: KeyModifiers) -> KeyEvent {
        KeyEvent::new(code, mods)
    }

    #[test]
    fn keys_of_design_md_map_to_commands() {
        assert_eq!(
            command_for(&key(KeyCode::Char('j'), NONE)),
            Some(Command::Down)
        );
        assert_eq!(
            command_for(&key(KeyCode::Char('G'), KeyModifiers::SHIFT)),
            Some(Command::Bottom)
        );
        assert_eq!(
            command_for(&key(KeyCode::BackTab, KeyModifiers::SHIFT)),
            Some(Command::PrevPane)
        );
        assert_eq!(
            command_for(&key(KeyCode::Char('r'), CTRL)),
            Some(Command::Refresh)
        );
        assert_eq!(
            command_for(&key(KeyCode::Char('r'), NONE)),
            Some(Command::Reject)
        );
        assert_eq!(command_for(&key(KeyCode::Char('x'), NONE)), None);
    }

    #[test]
    fn help_lists_every_command_once() {
        let lines = help_lines(Pane::Solutions);
        assert!(lines.iter().any(|(k, _)| k == "a"));
        assert!(lines.iter().any(|(k, h)| k == "o" && h.contains("sort")));
        assert!(lines.iter().any(|(k, h)| k == "O" && h.contains("reverse")));
        let wabas = help_lines(Pane::Wabas);
        assert!(wabas.iter().any(|(k, h)| k == "o" && h.contains("sort")));
        assert!(wabas.iter().any(|(k, _)| k == "s") && wabas.iter().any(|(k, _)| k == "R"));
        assert!(!wabas.iter().any(|(k, _)| k == "a"));
        assert!(!wabas.iter().any(|(k, _)| k == "S"));
        let credit = help_lines(Pane::CreditLines);
        assert!(credit.iter().any(|(k, h)| k == "S" && h.contains("share")));
        assert!(credit.iter().any(|(k, h)| k == "X" && h.contains("revoke")));
        assert!(!credit.iter().any(|(k, _)| k == "a"));
        assert_eq!(key_for(Command::Accept), "a");
        assert_eq!(key_for(Command::Refresh), "Ctrl-r");
        assert_eq!(key_for(Command::NextLane), "l");
        let refresh = lines.iter().find(|(_, h)| *h == "refresh now").unwrap();
        assert_eq!(refresh.0, "Ctrl-r");
        let down = lines.iter().find(|(_, h)| *h == "move down").unwrap();
        assert_eq!(down.0, "j ↓");
        let mut helps: Vec<_> = lines.iter().map(|(_, h)| *h).collect();
        let n = helps.len();
        helps.dedup();
        assert_eq!(helps.len(), n);
    }
}
