//! A ratatui backend wrapper that keeps complex graphemes from leaving ghost cells.
//!
//! Ratatui stores a grapheme cluster in one cell with the width `unicode-width` gives the
//! whole cluster, and treats the cells after it as covered. Many terminals (xterm, VTE, the
//! vt100 parser the tests use) instead lay out a cluster code point by code point: the
//! Devanagari `वा` becomes `व` and `ा` in two separate cells, a ZWJ emoji family may take four
//! cells. Ratatui's diff then assumes that overwriting the first cell erases the whole
//! cluster (true for a CJK wide character, false here), so a later frame leaves the tail of
//! the old cluster on screen: ghost combining marks. The opposite mismatch lets a cluster
//! spill over cells that ratatui believes unchanged.
//!
//! [`GlyphSafe`] fixes both for multi-code-point clusters only (everything else goes through
//! untouched): it keeps a copy of what is on screen; before drawing such a cluster it blanks
//! the cells the cluster claims (so a narrower rendering leaves no stale text), after it
//! redraws the two cells that follow (so a wider rendering is overwritten), and when such a
//! cluster is replaced it blanks the rest of its old span. The extra output is a few cells
//! per changed cluster.

use std::io::{self, IsTerminal};

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use ratatui::backend::{Backend, ClearType, WindowSize};
use ratatui::buffer::{Buffer, Cell};
use ratatui::layout::{Position, Rect, Size};
use unicode_width::UnicodeWidthStr;

/// The console's terminal: crossterm on stdout, through [`GlyphSafe`].
pub type Tui = ratatui::Terminal<GlyphSafe<ratatui::backend::CrosstermBackend<std::io::Stdout>>>;

/// Why the console cannot run here, as one sentence, or `Ok` when it can: standard output
/// is a terminal, keys can be read (standard input is a terminal, or there is a controlling
/// terminal), and `TERM` is set and not `dumb`. `term` is the value of `TERM`.
pub fn check_terminal(term: Option<&str>) -> Result<(), String> {
    if !io::stdout().is_terminal() {
        return Err("Standard output is not a terminal, so the console cannot be drawn: run partnerdeck in a terminal, or use `partnerdeck snapshot` (with --json) for a file or a pipe.".into());
    }
    // Keys are read from stdin when it is a terminal, else from the controlling terminal.
    if !io::stdin().is_terminal() && std::fs::File::open("/dev/tty").is_err() {
        return Err("There is no controlling terminal to read keys from: run partnerdeck in a terminal (ssh -t for a remote one), or use `partnerdeck snapshot`.".into());
    }
    match term.map(str::trim) {
        None | Some("") | Some("dumb") => Err(format!(
            "This terminal (TERM={}) cannot show the console: use one that understands escape codes (e.g. TERM=xterm-256color), or `partnerdeck snapshot` for plain text.",
            term.map(str::trim)
                .filter(|t| !t.is_empty())
                .unwrap_or("unset")
        )),
        Some(_) => Ok(()),
    }
}

/// Whether a key is the suspend key: `Ctrl-Z` (in raw mode it arrives as a key, not as
/// SIGTSTP).
pub fn is_suspend_key(key: &KeyEvent) -> bool {
    key.kind != KeyEventKind::Release
        && key.modifiers.contains(KeyModifiers::CONTROL)
        && matches!(key.code, KeyCode::Char('z') | KeyCode::Char('Z'))
}

/// `Ctrl-Z` or SIGTSTP: give the terminal back to the shell as it was (main screen, cooked
/// mode, cursor shown), stop the process, and after SIGCONT (`fg`) take the terminal again
/// (raw mode, alternate screen, hidden cursor) and force a full redraw on the next draw
/// (the caller marks the model dirty).
pub fn suspend_and_resume(terminal: &mut Tui) -> io::Result<()> {
    leave_terminal()?;
    // SIGSTOP cannot be caught or ignored: this returns once the process is continued.
    // SAFETY: raise only sends a signal to this process.
    let rc = unsafe { libc::raise(libc::SIGSTOP) };
    let stopped = if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    };
    enter_terminal()?;
    // A full redraw on the next draw: clear the screen and forget what was drawn. Not
    // `terminal.clear()`, which asks the terminal for the cursor position while the event
    // reader would swallow the answer; `resize` to the current size clears without asking.
    let size = terminal.size()?;
    terminal.resize(Rect::new(0, 0, size.width, size.height))?;
    stopped
}

fn leave_terminal() -> io::Result<()> {
    crossterm::terminal::disable_raw_mode()?;
    crossterm::execute!(
        io::stdout(),
        crossterm::terminal::LeaveAlternateScreen,
        crossterm::cursor::Show
    )
}

fn enter_terminal() -> io::Result<()> {
    crossterm::terminal::enable_raw_mode()?;
    crossterm::execute!(
        io::stdout(),
        crossterm::terminal::EnterAlternateScreen,
        crossterm::cursor::Hide
    )
}

pub struct GlyphSafe<B: Backend> {
    inner: B,
    /// What the terminal shows, as far as this wrapper has drawn it.
    shadow: Buffer,
}

impl<B: Backend> GlyphSafe<B> {
    pub fn new(inner: B) -> GlyphSafe<B> {
        GlyphSafe {
            inner,
            shadow: Buffer::empty(Rect::default()),
        }
    }

    pub fn inner(&self) -> &B {
        &self.inner
    }
}

/// A cluster of several code points that takes more than one cell: the terminal may lay it
/// out differently from ratatui.
fn complex(cell: &Cell) -> bool {
    let s = cell.symbol();
    s.chars().nth(1).is_some() && !s.is_ascii()
}

fn width(cell: &Cell) -> u16 {
    (cell.symbol().width() as u16).max(1)
}

impl<B: Backend> GlyphSafe<B> {
    fn fit_shadow(&mut self, x: u16, y: u16) {
        let a = self.shadow.area;
        if x >= a.width || y >= a.height {
            let size = self.inner.size().ok();
            let w = size.map_or(0, |s| s.width).max(x + 1).max(a.width);
            let h = size.map_or(0, |s| s.height).max(y + 1).max(a.height);
            self.shadow.resize(Rect::new(0, 0, w, h));
        }
    }

    fn shadow_at(&self, x: u16, y: u16) -> Option<&Cell> {
        self.shadow.cell(Position { x, y })
    }

    /// The cell whose drawing covers (x, y): (x, y) itself, or a wide one just before it.
    fn owner_of(&self, x: u16, y: u16) -> u16 {
        for k in 1..=3u16 {
            if x < k {
                break;
            }
            if let Some(c) = self.shadow_at(x - k, y)
                && width(c) > k
            {
                return x - k;
            }
        }
        x
    }
}

impl<B: Backend> Backend for GlyphSafe<B> {
    type Error = B::Error;

    fn draw<'a, I>(&mut self, content: I) -> Result<(), Self::Error>
    where
        I: Iterator<Item = (u16, u16, &'a Cell)>,
    {
        let cells: Vec<(u16, u16, Cell)> = content.map(|(x, y, c)| (x, y, c.clone())).collect();
        if !cells
            .iter()
            .any(|(x, y, c)| complex(c) || self.shadow_at(*x, *y).is_some_and(complex))
        {
            for (x, y, c) in &cells {
                self.fit_shadow(*x, *y);
                self.shadow[(*x, *y)] = c.clone();
            }
            return self.inner.draw(cells.iter().map(|(x, y, c)| (*x, *y, c)));
        }
        let mut out: Vec<(u16, u16, Cell)> = Vec::with_capacity(cells.len() + 8);
        let mut redraw: Vec<(u16, u16)> = vec![];
        for (x, y, cell) in cells {
            self.fit_shadow(x, y);
            let old = self.shadow[(x, y)].clone();
            let (old_w, new_w) = (width(&old), width(&cell));
            if complex(&cell) {
                // Blank what the cluster claims first: a narrower rendering leaves no ghost.
                let right = self.shadow.area.width;
                for dx in (1..new_w).filter(|dx| x + dx < right) {
                    out.push((x + dx, y, Cell::EMPTY));
                }
            }
            out.push((x, y, cell.clone()));
            if complex(&old) && old_w > new_w {
                // The old cluster may have been laid out as separate characters: clear its tail.
                redraw.extend((new_w..old_w).map(|dx| (x + dx, y)));
            }
            if complex(&cell) {
                // A wider rendering spills over the next cells: draw them again.
                redraw.extend((new_w..new_w + 2).map(|dx| (x + dx, y)));
            }
            self.shadow[(x, y)] = cell;
            for dx in 1..new_w {
                if x + dx < self.shadow.area.width {
                    self.shadow[(x + dx, y)] = Cell::EMPTY;
                }
            }
        }
        redraw.sort_by_key(|(x, y)| (*y, *x));
        redraw.dedup();
        let mut done: Vec<(u16, u16)> = vec![];
        for (x, y) in redraw {
            if x >= self.shadow.area.width {
                continue;
            }
            let owner = self.owner_of(x, y);
            if done.contains(&(owner, y)) {
                continue;
            }
            done.push((owner, y));
            let c = self.shadow[(owner, y)].clone();
            out.push((owner, y, c));
        }
        // Draw in runs that end after each complex cluster, so the cursor is placed anew
        // (each draw starts with a cursor move) and a different rendering width cannot shift
        // the rest of the row.
        let mut start = 0;
        for i in 0..out.len() {
            if complex(&out[i].2) || i + 1 == out.len() {
                self.inner
                    .draw(out[start..=i].iter().map(|(x, y, c)| (*x, *y, c)))?;
                start = i + 1;
            }
        }
        Ok(())
    }

    fn append_lines(&mut self, n: u16) -> Result<(), Self::Error> {
        self.inner.append_lines(n)
    }

    fn hide_cursor(&mut self) -> Result<(), Self::Error> {
        self.inner.hide_cursor()
    }

    fn show_cursor(&mut self) -> Result<(), Self::Error> {
        self.inner.show_cursor()
    }

    fn get_cursor_position(&mut self) -> Result<Position, Self::Error> {
        self.inner.get_cursor_position()
    }

    fn set_cursor_position<P: Into<Position>>(&mut self, position: P) -> Result<(), Self::Error> {
        self.inner.set_cursor_position(position)
    }

    fn clear(&mut self) -> Result<(), Self::Error> {
        self.shadow = Buffer::empty(Rect::default());
        self.inner.clear()
    }

    fn clear_region(&mut self, clear_type: ClearType) -> Result<(), Self::Error> {
        // Anything but a full clear: forget what was on screen, so nothing is skipped.
        self.shadow = Buffer::empty(Rect::default());
        self.inner.clear_region(clear_type)
    }

    fn size(&self) -> Result<Size, Self::Error> {
        self.inner.size()
    }

    fn window_size(&mut self) -> Result<WindowSize, Self::Error> {
        self.inner.window_size()
    }

    fn flush(&mut self) -> Result<(), Self::Error> {
        self.inner.flush()
    }
}

/// Put `text` on the terminal's clipboard with OSC 52 (it travels in the byte stream, so it
/// works over SSH). Inside tmux the sequence is also sent wrapped for tmux's passthrough, so it
/// reaches the outer terminal whether tmux takes OSC 52 itself (`set-clipboard on`) or passes
/// it through (`allow-passthrough on`).
pub fn copy_to_clipboard(out: &mut impl std::io::Write, text: &str) -> std::io::Result<()> {
    use crossterm::clipboard::CopyToClipboard;
    crossterm::execute!(out, CopyToClipboard::to_clipboard_from(text))?;
    if std::env::var_os("TMUX").is_some() {
        let mut plain = Vec::new();
        crossterm::execute!(&mut plain, CopyToClipboard::to_clipboard_from(text))?;
        // DCS tmux; <sequence with every ESC doubled> ST
        let inner = String::from_utf8_lossy(&plain).replace('\u{1b}', "\u{1b}\u{1b}");
        write!(out, "\u{1b}Ptmux;{inner}\u{1b}\\")?;
        out.flush()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use ratatui::Terminal;
    use ratatui::backend::CrosstermBackend;
    use ratatui::widgets::Paragraph;
    use std::num::NonZeroU16;

    /// Draw `frames` one after the other through a real crossterm backend into a vt100
    /// parser (which lays clusters out code point by code point), and return its screen.
    fn through_vt100(frames: &[&str], safe: bool) -> String {
        let mut parser =
            vt100::Parser::new(NonZeroU16::new(3).unwrap(), NonZeroU16::new(30).unwrap(), 0);
        let mut bytes: Vec<u8> = vec![];
        {
            let backend = CrosstermBackend::new(&mut bytes);
            if safe {
                let mut t = Terminal::with_options(
                    GlyphSafe::new(backend),
                    ratatui::TerminalOptions {
                        viewport: ratatui::Viewport::Fixed(Rect::new(0, 0, 30, 3)),
                    },
                )
                .unwrap();
                for f in frames {
                    t.draw(|fr| fr.render_widget(Paragraph::new(*f), fr.area()))
                        .unwrap();
                }
            } else {
                let mut t = Terminal::with_options(
                    backend,
                    ratatui::TerminalOptions {
                        viewport: ratatui::Viewport::Fixed(Rect::new(0, 0, 30, 3)),
                    },
                )
                .unwrap();
                for f in frames {
                    t.draw(|fr| fr.render_widget(Paragraph::new(*f), fr.area()))
                        .unwrap();
                }
            }
        }
        parser.process(&bytes);
        parser.screen().contents()
    }

    #[test]
    fn ctrl_z_is_the_suspend_key() {
        assert!(is_suspend_key(&KeyEvent::new(
            KeyCode::Char('z'),
            KeyModifiers::CONTROL
        )));
        assert!(!is_suspend_key(&KeyEvent::new(
            KeyCode::Char('z'),
            KeyModifiers::NONE
        )));
        assert!(!is_suspend_key(&KeyEvent::new(
            KeyCode::Char('r'),
            KeyModifiers::CONTROL
        )));
    }

    #[test]
    fn devanagari_leaves_no_ghost_marks() {
        let frames = ["संवाद सेतु — ऑर्डर", "abc"];
        let plain = through_vt100(&frames, false);
        let safe = through_vt100(&frames, true);
        let devanagari = |s: &str| s.chars().any(|c| ('\u{0900}'..='\u{097F}').contains(&c));
        // Without the wrapper the old marks stay behind (this is the bug being fixed).
        assert!(devanagari(&plain), "no ghost to fix? {plain:?}");
        assert!(!devanagari(&safe), "ghost marks: {safe:?}");
        assert_eq!(safe.trim_end(), "abc");
    }

    #[test]
    fn text_after_a_cluster_stays_in_place() {
        for frames in [
            &["हिन्दी सेवा|end", "हिन्दी सेवा|end"][..],
            &["ab|end", "वा|end"][..],
            &["वा|end", "ab|end"][..],
            &["Family 👨\u{200D}👩\u{200D}👧 ok|x", "Family ok|x"][..],
        ] {
            let safe = through_vt100(frames, true);
            let last = frames.last().unwrap();
            assert!(
                safe.contains("|end") || safe.contains("ok|x"),
                "{frames:?} → {safe:?}"
            );
            assert!(
                safe.lines()
                    .next()
                    .unwrap()
                    .trim_end()
                    .ends_with(last.rsplit('|').next().unwrap()),
                "{frames:?} → {safe:?}"
            );
        }
    }
}
