//! The key map: one table that both the update function and the help screen read, so the
//! help can never drift from what the keys do. The defaults are `DEFAULT_KEYMAP`; the `[keys]`
//! table of the config file replaces the keys of any command (`Keymap::with_overrides`), and
//! a map where two commands would share a key in the same place is refused at start.
//!
//! The model carries the map in force; `update` and `ui::draw` make it the *active* one for
//! the time they run, so `key_label(command)` (what footers and hints call) follows it.

use std::cell::RefCell;
use std::sync::{Arc, LazyLock};

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
    /// Every command, in the order the help lists them.
    pub const ALL: [Command; 32] = [
        Command::NextPane,
        Command::PrevPane,
        Command::Solutions,
        Command::Wabas,
        Command::CreditLines,
        Command::Events,
        Command::Down,
        Command::Up,
        Command::Top,
        Command::Bottom,
        Command::PageDown,
        Command::PageUp,
        Command::NextLane,
        Command::PrevLane,
        Command::Open,
        Command::Close,
        Command::Filter,
        Command::Accept,
        Command::Reject,
        Command::Deactivate,
        Command::Subscribe,
        Command::Register,
        Command::BspRegister,
        Command::Sort,
        Command::SortReverse,
        Command::Share,
        Command::Revoke,
        Command::Confirm,
        Command::Copy,
        Command::Refresh,
        Command::Help,
        Command::Quit,
    ];

    /// The command's name in the config file's `[keys]` table.
    pub fn config_name(self) -> &'static str {
        match self {
            Command::NextPane => "next_pane",
            Command::PrevPane => "prev_pane",
            Command::Solutions => "solutions",
            Command::Wabas => "wabas",
            Command::CreditLines => "credit_lines",
            Command::Events => "events",
            Command::Down => "down",
            Command::Up => "up",
            Command::Top => "top",
            Command::Bottom => "bottom",
            Command::PageDown => "page_down",
            Command::PageUp => "page_up",
            Command::NextLane => "next_lane",
            Command::PrevLane => "prev_lane",
            Command::Open => "open",
            Command::Close => "close",
            Command::Filter => "filter",
            Command::Accept => "accept",
            Command::Reject => "reject",
            Command::Deactivate => "deactivate",
            Command::Subscribe => "subscribe",
            Command::Register => "register",
            Command::BspRegister => "bsp_register",
            Command::Sort => "sort",
            Command::SortReverse => "sort_reverse",
            Command::Share => "share",
            Command::Revoke => "revoke",
            Command::Confirm => "confirm",
            Command::Copy => "copy",
            Command::Refresh => "refresh",
            Command::Help => "help",
            Command::Quit => "quit",
        }
    }

    /// The command a `[keys]` name stands for.
    pub fn from_config_name(name: &str) -> Option<Command> {
        Command::ALL.into_iter().find(|c| c.config_name() == name)
    }

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

/// The default bindings. Several keys may share a command; the help lists them together.
pub const DEFAULT_KEYMAP: &[(KeyCode, KeyModifiers, Command)] = &[
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

/// One key with its modifiers, as the map stores it: Shift is part of the character (`G`),
/// Ctrl with a letter is stored lower-case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Key {
    pub code: KeyCode,
    pub mods: KeyModifiers,
}

/// Ctrl-c: always quits, whatever the map says; it cannot be given to another command.
pub const HARD_QUIT: Key = Key {
    code: KeyCode::Char('c'),
    mods: CTRL,
};
/// Ctrl-z: suspends the console (handled before the map).
pub const SUSPEND: Key = Key {
    code: KeyCode::Char('z'),
    mods: CTRL,
};

impl Key {
    pub const fn new(code: KeyCode, mods: KeyModifiers) -> Key {
        Key { code, mods }
    }

    /// The key a key press is, in the map's terms.
    pub fn of_event(key: &KeyEvent) -> Key {
        let mods = match key.code {
            KeyCode::Char(_) | KeyCode::BackTab => key.modifiers - KeyModifiers::SHIFT,
            _ => key.modifiers,
        };
        let code = match key.code {
            KeyCode::Char(c) if mods.contains(CTRL) => KeyCode::Char(c.to_ascii_lowercase()),
            other => other,
        };
        Key { code, mods }
    }

    /// A key as the config file writes it: one character (`"a"`, `"G"`, `"?"`), a name
    /// (`"Enter"`, `"Esc"`, `"Tab"`, `"Shift-Tab"`, `"Up"`, `"Down"`, `"Left"`, `"Right"`,
    /// `"Home"`, `"End"`, `"PgUp"`, `"PgDn"`, `"Backspace"`, `"Delete"`, `"Insert"`,
    /// `"Space"`, `"F1"`…`"F12"`), or either after `Ctrl-` or `Alt-`. Names ignore case.
    pub fn parse(text: &str) -> Result<Key, String> {
        let bad = || {
            format!(
                "{text:?} is not a key (write keys like \"a\", \"G\", \"Ctrl-r\", \"Enter\", \"Down\", \"PgDn\" or \"F5\")"
            )
        };
        let mut rest = text.trim();
        let mut mods = NONE;
        loop {
            let lower = rest.to_ascii_lowercase();
            let strip = |p: &str| lower.starts_with(p) && rest.len() > p.len();
            if strip("ctrl-") || strip("ctrl+") {
                mods |= CTRL;
                rest = &rest[5..];
            } else if strip("alt-") || strip("alt+") {
                mods |= KeyModifiers::ALT;
                rest = &rest[4..];
            } else if strip("shift-") || strip("shift+") {
                mods |= KeyModifiers::SHIFT;
                rest = &rest[6..];
            } else {
                break;
            }
        }
        let mut chars = rest.chars();
        let code = match (chars.next(), chars.next()) {
            (Some(c), None) if !c.is_control() && !c.is_whitespace() => match c {
                '↑' => KeyCode::Up,
                '↓' => KeyCode::Down,
                '←' => KeyCode::Left,
                '→' => KeyCode::Right,
                c => KeyCode::Char(c),
            },
            _ => match rest.to_ascii_lowercase().as_str() {
                "enter" | "return" => KeyCode::Enter,
                "esc" | "escape" => KeyCode::Esc,
                "tab" => KeyCode::Tab,
                "backtab" => KeyCode::BackTab,
                "up" => KeyCode::Up,
                "down" => KeyCode::Down,
                "left" => KeyCode::Left,
                "right" => KeyCode::Right,
                "home" => KeyCode::Home,
                "end" => KeyCode::End,
                "pgup" | "pageup" => KeyCode::PageUp,
                "pgdn" | "pagedown" => KeyCode::PageDown,
                "backspace" => KeyCode::Backspace,
                "delete" | "del" => KeyCode::Delete,
                "insert" | "ins" => KeyCode::Insert,
                "space" => KeyCode::Char(' '),
                f if f.starts_with('f') => match f[1..].parse::<u8>() {
                    Ok(n @ 1..=12) => KeyCode::F(n),
                    _ => return Err(bad()),
                },
                _ => return Err(bad()),
            },
        };
        // Shift is in the character itself ("G"); Shift-Tab is its own key.
        let code = match code {
            KeyCode::Tab if mods.contains(KeyModifiers::SHIFT) => KeyCode::BackTab,
            KeyCode::Char(c) if mods.contains(KeyModifiers::SHIFT) && !mods.contains(CTRL) => {
                KeyCode::Char(c.to_ascii_uppercase())
            }
            other => other,
        };
        let event = KeyEvent::new(code, mods);
        Ok(Key::of_event(&event))
    }

    /// The key as the help writes it.
    pub fn name(self) -> String {
        key_name(self.code, self.mods)
    }
}

/// Where a command's key is read: the same key may do two things only in two different panes.
fn contexts_overlap(a: Command, b: Command) -> bool {
    match (a.pane(), b.pane()) {
        (Some(x), Some(y)) => x == y,
        _ => true,
    }
}

/// The keys one command gets from the config file's `[keys]` table, and the line they are on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyOverride {
    /// The name as written (`accept`), checked against [`Command::config_name`].
    pub command: String,
    pub keys: Vec<String>,
    /// 1-based line in the config file, when known.
    pub line: Option<usize>,
}

/// Why a `[keys]` table was refused: one sentence, and the line it is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeymapProblem {
    pub line: Option<usize>,
    pub sentence: String,
}

/// The bindings in force: the defaults with the config file's `[keys]` applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Keymap {
    bindings: Vec<(Key, Command)>,
}

impl Default for Keymap {
    fn default() -> Keymap {
        Keymap {
            bindings: DEFAULT_KEYMAP
                .iter()
                .map(|(code, mods, cmd)| (Key::new(*code, *mods), *cmd))
                .collect(),
        }
    }
}

impl Keymap {
    /// The defaults with each named command's keys replaced by the ones given. Refused, with
    /// one sentence naming both commands and the line: an unknown command or key, a command
    /// left without keys, two commands on one key where both are read (every pane, or the
    /// same pane), Ctrl-c for anything but quit (it always quits), Ctrl-z (it suspends), and
    /// a digit or Backspace for confirm or close (the PIN field types those).
    pub fn with_overrides(overrides: &[KeyOverride]) -> Result<Keymap, KeymapProblem> {
        let mut given: Vec<(Command, Vec<Key>, Option<usize>)> = Vec::new();
        for o in overrides {
            let problem = |sentence: String| KeymapProblem {
                line: o.line,
                sentence,
            };
            let cmd = Command::from_config_name(o.command.trim()).ok_or_else(|| {
                let names: Vec<&str> = Command::ALL.iter().map(|c| c.config_name()).collect();
                problem(format!(
                    "{:?} is not a command; the commands are {}",
                    o.command,
                    names.join(", ")
                ))
            })?;
            let mut keys: Vec<Key> = Vec::new();
            for text in &o.keys {
                let key = Key::parse(text).map_err(&problem)?;
                let name = cmd.config_name();
                if key == HARD_QUIT && cmd != Command::Quit {
                    return Err(problem(format!(
                        "{name} cannot be Ctrl-c: Ctrl-c always quits"
                    )));
                }
                if key == SUSPEND {
                    return Err(problem(format!(
                        "{name} cannot be Ctrl-z: Ctrl-z suspends the console"
                    )));
                }
                let typed_in_pin = matches!(key.code, KeyCode::Char(c) if c.is_ascii_digit())
                    || key.code == KeyCode::Backspace;
                if typed_in_pin
                    && key.mods == NONE
                    && matches!(cmd, Command::Confirm | Command::Close)
                {
                    return Err(problem(format!(
                        "{name} = {text:?} would be typed into the PIN field of a register dialog; give {name} a key that is not a digit or Backspace"
                    )));
                }
                if !keys.contains(&key) {
                    keys.push(key);
                }
            }
            // Ctrl-c stays on quit whatever the table says.
            if cmd == Command::Quit && !keys.contains(&HARD_QUIT) {
                keys.push(HARD_QUIT);
            }
            if keys.is_empty() {
                return Err(problem(format!(
                    "{} has no key: give it at least one",
                    cmd.config_name()
                )));
            }
            match given.iter_mut().find(|(c, _, _)| *c == cmd) {
                Some(_) => {
                    return Err(problem(format!("{} is given twice", cmd.config_name())));
                }
                None => given.push((cmd, keys, o.line)),
            }
        }
        // Overridden commands keep their place in the help order.
        let mut bindings: Vec<(Key, Command)> = Vec::new();
        let mut placed: Vec<Command> = Vec::new();
        for (code, mods, cmd) in DEFAULT_KEYMAP {
            match given.iter().find(|(c, _, _)| c == cmd) {
                Some((_, keys, _)) if !placed.contains(cmd) => {
                    bindings.extend(keys.iter().map(|k| (*k, *cmd)));
                    placed.push(*cmd);
                }
                Some(_) => {}
                None => bindings.push((Key::new(*code, *mods), *cmd)),
            }
        }
        let line_of = |cmd: Command| {
            given
                .iter()
                .find(|(c, _, _)| *c == cmd)
                .map(|(_, _, line)| *line)
        };
        for (i, (key, a)) in bindings.iter().enumerate() {
            for (other, b) in &bindings[i + 1..] {
                if other != key || a == b || !contexts_overlap(*a, *b) {
                    continue;
                }
                let place = |cmd: Command| match line_of(cmd) {
                    Some(Some(line)) => format!("{} on line {line}", cmd.config_name()),
                    Some(None) => format!("{} in [keys]", cmd.config_name()),
                    None => format!("{} by default", cmd.config_name()),
                };
                // Name the line of the command the file changed (the later one if both).
                let line = line_of(*b).flatten().or(line_of(*a).flatten());
                return Err(KeymapProblem {
                    line,
                    sentence: format!(
                        "{} and {} would both be {}; give one of them another key",
                        place(*a),
                        place(*b),
                        key.name()
                    ),
                });
            }
        }
        Ok(Keymap { bindings })
    }

    /// The command a key press means, if any. Shift is ignored for characters (it is already
    /// in the character) and for Shift-Tab; key releases are ignored.
    pub fn command_for(&self, key: &KeyEvent) -> Option<Command> {
        if key.kind == KeyEventKind::Release {
            return None;
        }
        let key = Key::of_event(key);
        self.bindings
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, c)| *c)
    }

    /// Whether `key` is one of `command`'s keys.
    pub fn is_key_of(&self, key: &KeyEvent, command: Command) -> bool {
        let key = Key::of_event(key);
        self.bindings
            .iter()
            .any(|(k, c)| *k == key && *c == command)
    }

    /// The keys of `command`, in map order.
    pub fn keys_of(&self, command: Command) -> impl Iterator<Item = Key> + '_ {
        self.bindings
            .iter()
            .filter(move |(_, c)| *c == command)
            .map(|(k, _)| *k)
    }

    /// The first key of `command`, as the help writes it.
    pub fn label(&self, command: Command) -> String {
        self.keys_of(command)
            .next()
            .map_or_else(|| "—".to_string(), Key::name)
    }

    /// The help screen's lines on `pane`: each command of that pane or of every pane once,
    /// with all its keys, in key-map order.
    pub fn help_lines(&self, pane: Pane) -> Vec<(String, &'static str)> {
        let mut out: Vec<(Command, Vec<String>)> = Vec::new();
        for (key, cmd) in &self.bindings {
            if cmd.pane().is_some_and(|p| p != pane) {
                continue;
            }
            let label = key.name();
            match out.iter_mut().find(|(c, _)| c == cmd) {
                Some((_, keys)) => keys.push(label),
                None => out.push((*cmd, vec![label])),
            }
        }
        out.into_iter()
            .map(|(cmd, keys)| (keys.join(" "), cmd.help()))
            .collect()
    }
}

static DEFAULT: LazyLock<Arc<Keymap>> = LazyLock::new(|| Arc::new(Keymap::default()));

thread_local! {
    static ACTIVE: RefCell<Option<Arc<Keymap>>> = const { RefCell::new(None) };
}

/// The default map, shared.
pub fn default_keymap() -> Arc<Keymap> {
    DEFAULT.clone()
}

/// Run `f` with `keymap` as the active map of this thread (`update` and `ui::draw` do this
/// with the model's map); the previous one comes back afterwards, panics included.
pub fn with_active<R>(keymap: &Arc<Keymap>, f: impl FnOnce() -> R) -> R {
    struct Restore(Option<Arc<Keymap>>);
    impl Drop for Restore {
        fn drop(&mut self) {
            let previous = self.0.take();
            ACTIVE.with(|a| *a.borrow_mut() = previous);
        }
    }
    let previous = ACTIVE.with(|a| a.borrow_mut().replace(keymap.clone()));
    let _restore = Restore(previous);
    f()
}

/// The active map: the model's inside `update` and `ui::draw`, else the defaults.
pub fn active() -> Arc<Keymap> {
    ACTIVE
        .with(|a| a.borrow().clone())
        .unwrap_or_else(default_keymap)
}

/// The command a key press means in the active map.
pub fn command_for(key: &KeyEvent) -> Option<Command> {
    active().command_for(key)
}

/// Ctrl-c, which quits from anywhere (a dialog, the PIN field, a filter being typed).
pub fn is_hard_quit(key: &KeyEvent) -> bool {
    key.kind != KeyEventKind::Release && Key::of_event(key) == HARD_QUIT
}

/// The key that runs `command` in the active map, as the help writes it (the first of its
/// keys): footers and hints name keys through this, never with a literal, so they follow
/// the `[keys]` table.
pub fn key_label(command: Command) -> String {
    active().label(command)
}

/// A key as a person would write it.
pub fn key_name(code: KeyCode, mods: KeyModifiers) -> String {
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
        KeyCode::Backspace => "Backspace".to_string(),
        KeyCode::Delete => "Delete".to_string(),
        KeyCode::Insert => "Insert".to_string(),
        KeyCode::F(n) => format!("F{n}"),
        KeyCode::Char(' ') => "Space".to_string(),
        KeyCode::Char(c) => c.to_string(),
        other => format!("{other:?}"),
    };
    let mut out = String::new();
    if mods.contains(KeyModifiers::CONTROL) {
        out.push_str("Ctrl-");
    }
    if mods.contains(KeyModifiers::ALT) {
        out.push_str("Alt-");
    }
    out.push_str(&base);
    out
}

/// The help screen's lines on `pane` in the active map.
pub fn help_lines(pane: Pane) -> Vec<(String, &'static str)> {
    active().help_lines(pane)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(code: KeyCode, mods: KeyModifiers) -> KeyEvent {
        KeyEvent::new(code, mods)
    }

    fn over(command: &str, keys: &[&str], line: usize) -> KeyOverride {
        KeyOverride {
            command: command.into(),
            keys: keys.iter().map(|k| k.to_string()).collect(),
            line: Some(line),
        }
    }

    #[test]
    fn the_default_map_has_no_conflict() {
        assert_eq!(Keymap::with_overrides(&[]), Ok(Keymap::default()));
    }

    #[test]
    fn every_bound_command_has_a_config_name() {
        // A new command must join `Command::ALL` to be remappable (and listed in README).
        for (_, _, cmd) in DEFAULT_KEYMAP {
            assert!(Command::ALL.contains(cmd), "{cmd:?} is not in Command::ALL");
            assert_eq!(Command::from_config_name(cmd.config_name()), Some(*cmd));
        }
    }

    #[test]
    fn keys_parse_as_the_help_writes_them() {
        let k = |s: &str| Key::parse(s).unwrap();
        assert_eq!(k("a"), Key::new(KeyCode::Char('a'), NONE));
        assert_eq!(k("G"), Key::new(KeyCode::Char('G'), NONE));
        assert_eq!(k("Shift-g"), Key::new(KeyCode::Char('G'), NONE));
        assert_eq!(k("Ctrl-R"), Key::new(KeyCode::Char('r'), CTRL));
        assert_eq!(k("ctrl+r"), Key::new(KeyCode::Char('r'), CTRL));
        assert_eq!(k("Down"), Key::new(KeyCode::Down, NONE));
        assert_eq!(k("↓"), Key::new(KeyCode::Down, NONE));
        assert_eq!(k("PgDn"), Key::new(KeyCode::PageDown, NONE));
        assert_eq!(k("Shift-Tab"), Key::new(KeyCode::BackTab, NONE));
        assert_eq!(k("F5"), Key::new(KeyCode::F(5), NONE));
        assert_eq!(k("Space"), Key::new(KeyCode::Char(' '), NONE));
        assert_eq!(k("-"), Key::new(KeyCode::Char('-'), NONE));
        for bad in ["", "Ctrl-", "F13", "Hyper-x", "ab"] {
            assert!(Key::parse(bad).is_err(), "{bad:?}");
        }
        // Every default key's name parses back to the same key.
        for (code, mods, _) in DEFAULT_KEYMAP {
            let key = Key::new(*code, *mods);
            assert_eq!(Key::parse(&key.name()), Ok(key));
        }
    }

    #[test]
    fn with_active_scopes_the_map_and_restores_it() {
        let mine = Arc::new(Keymap::with_overrides(&[over("accept", &["A"], 1)]).unwrap());
        assert_eq!(key_label(Command::Accept), "a");
        let inside = with_active(&mine, || key_label(Command::Accept));
        assert_eq!(inside, "A");
        assert_eq!(key_label(Command::Accept), "a");
    }

    #[test]
    fn quit_keeps_ctrl_c() {
        let map = Keymap::with_overrides(&[over("quit", &["x"], 2)]).unwrap();
        let quit_keys: Vec<String> = map.keys_of(Command::Quit).map(Key::name).collect();
        assert_eq!(quit_keys, ["x", "Ctrl-c"]);
        assert_eq!(
            map.command_for(&key(KeyCode::Char('q'), NONE)),
            None,
            "q is free once quit is moved"
        );
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
        assert_eq!(key_label(Command::Accept), "a");
        assert_eq!(key_label(Command::Refresh), "Ctrl-r");
        assert_eq!(key_label(Command::NextLane), "l");
        let refresh = lines.iter().find(|(_, h)| *h == "refresh now").unwrap();
        assert_eq!(refresh.0, "Ctrl-r");
        let down = lines.iter().find(|(_, h)| *h == "move down").unwrap();
        assert_eq!(down.0, "j ↓");
        let mut helps: Vec<_> = lines.iter().map(|(_, h)| *h).collect();
        let n = helps.len();
        helps.dedup();
        assert_eq!(helps.len(), n);
    }

    #[test]
    fn key_label_names_the_first_key_of_a_command() {
        assert_eq!(key_label(Command::Accept), "a");
        assert_eq!(key_label(Command::Down), "j");
        assert_eq!(key_label(Command::Refresh), "Ctrl-r");
    }
}
