//! The event loop: terminal, key events, ticks and signals in; effects out as tokio tasks
//! whose results come back as messages. Drawing happens only when something changed.

use std::time::Duration;

use chrono::Utc;
use color_eyre::eyre::{Result, WrapErr};
use crossterm::event::{Event, EventStream};
use futures::StreamExt;
use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::mpsc;

use crate::app::{Effect, Model, Msg, update};
use crate::effects::{Executor, Services};
use crate::term::{GlyphSafe, Tui};
use crate::ui::{self, Theme};

/// How often the screen is redrawn with nothing happening, so ages in the status bar move.
const AGE_TICK: Duration = Duration::from_secs(1);
/// How long quitting waits for a mutation in flight to finish its re-read and outcome record;
/// after that it is recorded as "interrupted — outcome unknown".
const QUIT_GRACE: Duration = Duration::from_secs(3);

/// Run the console until the user quits, a signal arrives, or the terminal goes away.
/// The terminal is restored on every way out, panics included (the hook `ratatui::init`
/// installs restores it before the panic message is printed).
pub async fn run_console(services: Services, model: Model, theme: Theme) -> Result<()> {
    // Raw mode, the alternate screen and the restoring panic hook come from ratatui::init;
    // drawing goes through GlyphSafe, so complex graphemes leave no ghost cells.
    drop(ratatui::init());
    let result = match Terminal::new(GlyphSafe::new(CrosstermBackend::new(std::io::stdout()))) {
        Ok(mut terminal) => event_loop(&mut terminal, services, model, theme).await,
        Err(e) => Err(e).wrap_err("setting up the terminal"),
    };
    ratatui::restore();
    result
}

async fn event_loop(
    terminal: &mut Tui,
    services: Services,
    mut model: Model,
    theme: Theme,
) -> Result<()> {
    let (tx, mut rx) = mpsc::unbounded_channel::<Msg>();
    let mut executor = Executor::new(services, tx);
    executor.start();

    let mut events = EventStream::new();
    let mut sigterm = signal(SignalKind::terminate()).wrap_err("installing the SIGTERM handler")?;
    let mut sighup = signal(SignalKind::hangup()).wrap_err("installing the SIGHUP handler")?;
    let mut sigint = signal(SignalKind::interrupt()).wrap_err("installing the SIGINT handler")?;
    // SIGTSTP from outside suspends like Ctrl-Z (term::suspend_and_resume).
    let mut sigtstp =
        signal(SignalKind::from_raw(libc::SIGTSTP)).wrap_err("installing the SIGTSTP handler")?;
    let mut tick = tokio::time::interval(AGE_TICK);

    let size = terminal.size()?;
    update(
        &mut model,
        Msg::Resize {
            width: size.width,
            height: size.height,
            list_rows: ui::list_rows(size.height),
        },
    );
    // Test hook (documented in docs/when-things-go-wrong.md): panic after the first draw, to
    // prove the terminal is restored on a panic.
    let panic_after_draw = std::env::var("PARTNERDECK_TEST_PANIC").is_ok_and(|v| v == "1");
    // Every pass draws once: after a message, or on the age tick (ages in the status bar move).
    loop {
        // No `terminal.clear()` here: it asks the terminal for the cursor position and waits
        // for the answer. Cells the terminal draws wider than we think (Devanagari vowel signs)
        // are handled by the `GlyphSafe` backend instead.
        terminal.draw(|f| ui::draw(f, &model, Utc::now(), &theme))?;
        if panic_after_draw {
            panic!("PARTNERDECK_TEST_PANIC=1: deliberate panic after the first draw");
        }
        let msg = tokio::select! {
            event = events.next() => match event {
                // Ctrl-Z gives the terminal back and stops; after `fg`, a full redraw.
                Some(Ok(Event::Key(key))) if crate::term::is_suspend_key(&key) => {
                    crate::term::suspend_and_resume(terminal)?;
                    continue;
                }
                Some(Ok(Event::Key(key))) => Msg::Key(key),
                Some(Ok(Event::Resize(width, height))) => Msg::Resize {
                    width,
                    height,
                    list_rows: ui::list_rows(height),
                },
                Some(Ok(_)) => continue,
                // The terminal is gone (dropped SSH session, closed pty): stop, don't spin.
                Some(Err(_)) | None => Msg::Shutdown,
            },
            Some(msg) = rx.recv() => msg,
            _ = sigterm.recv() => Msg::Shutdown,
            _ = sighup.recv() => Msg::Shutdown,
            _ = sigint.recv() => Msg::Shutdown,
            _ = sigtstp.recv() => {
                crate::term::suspend_and_resume(terminal)?;
                continue;
            }
            _ = tick.tick() => continue,
        };
        let mut quit = false;
        for effect in update(&mut model, msg) {
            if let Effect::Copy { text } = &effect {
                // The clipboard escape goes to the terminal, between two draws.
                if let Err(e) = crate::term::copy_to_clipboard(&mut std::io::stdout(), text) {
                    tracing::warn!("could not write the clipboard escape: {e}");
                }
            }
            quit |= executor.run(effect);
        }
        if quit {
            break;
        }
    }
    // A mutation already sent gets a moment to finish its outcome record; one that cannot is
    // recorded as interrupted, so no attempt is left without an outcome.
    let interrupted = executor.shutdown(QUIT_GRACE).await;
    if interrupted > 0 {
        tracing::warn!(
            interrupted,
            "quit with actions in flight: recorded as interrupted"
        );
    }
    Ok(())
}
