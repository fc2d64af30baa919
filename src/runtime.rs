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

use crate::app::msg::UsageReport;
use crate::app::{Effect, Model, Msg, update};
use crate::graph::client::Usage;
use crate::tasks::{self, Services};
use crate::term::{GlyphSafe, Tui};
use crate::ui::{self, Theme};

/// How often the screen is redrawn with nothing happening, so ages in the status bar move.
const AGE_TICK: Duration = Duration::from_secs(1);
/// How long quitting waits for a mutation in flight to finish its audit line.
const QUIT_GRACE: Duration = Duration::from_secs(5);

/// Run the console until the user quits, a signal arrives, or the terminal goes away.
/// The terminal is restored on every way out, panics included (the hook `ratatui::init`
/// installs restores it before the panic message is printed).
pub async fn run_console(services: Services, model: Model) -> Result<()> {
    // Raw mode, the alternate screen and the restoring panic hook come from ratatui::init;
    // drawing goes through GlyphSafe, so complex graphemes leave no ghost cells.
    drop(ratatui::init());
    let result = match Terminal::new(GlyphSafe::new(CrosstermBackend::new(std::io::stdout()))) {
        Ok(mut terminal) => event_loop(&mut terminal, services, model).await,
        Err(e) => Err(e).wrap_err("setting up the terminal"),
    };
    ratatui::restore();
    result
}

async fn event_loop(terminal: &mut Tui, services: Services, mut model: Model) -> Result<()> {
    let theme = Theme::from_env();
    let (tx, mut rx) = mpsc::unbounded_channel::<Msg>();
    // Ctrl-r bumps the counter; a press during a refresh queues exactly one more round.
    let (wake_tx, wake_rx) = tokio::sync::watch::channel(0u64);
    let pollers = [
        tokio::spawn(tasks::poll_solutions(
            services.clone(),
            wake_rx.clone(),
            tx.clone(),
        )),
        tokio::spawn(tasks::poll_wabas(
            services.clone(),
            wake_rx.clone(),
            tx.clone(),
        )),
        tokio::spawn(tasks::poll_credit_lines(
            services.clone(),
            wake_rx.clone(),
            tx.clone(),
        )),
    ];
    let mut actions = tokio::task::JoinSet::new();

    let mut events = EventStream::new();
    let mut sigterm = signal(SignalKind::terminate()).wrap_err("installing the SIGTERM handler")?;
    let mut sighup = signal(SignalKind::hangup()).wrap_err("installing the SIGHUP handler")?;
    let mut sigint = signal(SignalKind::interrupt()).wrap_err("installing the SIGINT handler")?;
    // Issue 9: SIGTSTP from outside suspends like Ctrl-Z (term::suspend_and_resume).
    let mut sigtstp =
        signal(SignalKind::from_raw(libc::SIGTSTP)).wrap_err("installing the SIGTSTP handler")?;
    let mut tick = tokio::time::interval(AGE_TICK);

    let size = terminal.size()?;
    update(
        &mut model,
        Msg::Resize {
            width: size.width,
            height: size.height,
        },
    );
    let mut dirty = true;
    let mut usage = UsageReport::default();
    // Test hook (documented in docs/when-things-go-wrong.md): panic after the first draw, to
    // prove the terminal is restored on a panic.
    let panic_after_draw = std::env::var("PARTNERDECK_TEST_PANIC").is_ok_and(|v| v == "1");
    loop {
        if dirty {
            // No `terminal.clear()` here: it asks the terminal for the cursor position and
            // waits for the answer. Cells the terminal draws wider than we think (Devanagari
            // vowel signs) are handled by the `GlyphSafe` backend instead.
            terminal.draw(|f| ui::draw(f, &model, Utc::now(), &theme))?;
            dirty = false;
            if panic_after_draw {
                panic!("PARTNERDECK_TEST_PANIC=1: deliberate panic after the first draw");
            }
        }
        let msg = tokio::select! {
            event = events.next() => match event {
                // Issue 9: Ctrl-Z gives the terminal back and stops; after `fg`, a full redraw.
                Some(Ok(Event::Key(key))) if crate::term::is_suspend_key(&key) => {
                    crate::term::suspend_and_resume(terminal)?;
                    dirty = true;
                    continue;
                }
                Some(Ok(Event::Key(key))) => Msg::Key(key),
                Some(Ok(Event::Resize(width, height))) => Msg::Resize { width, height },
                Some(Ok(_)) => { dirty = true; continue }
                // The terminal is gone (dropped SSH session, closed pty): stop, don't spin.
                Some(Err(_)) | None => Msg::Shutdown,
            },
            Some(msg) = rx.recv() => msg,
            Some(done) = actions.join_next(), if !actions.is_empty() => match done {
                Ok(outcome) => Msg::ActionFinished(outcome),
                Err(e) => {
                    tracing::error!("an action task failed: {e}");
                    continue;
                }
            },
            _ = sigterm.recv() => Msg::Shutdown,
            _ = sighup.recv() => Msg::Shutdown,
            _ = sigint.recv() => Msg::Shutdown,
            _ = sigtstp.recv() => {
                crate::term::suspend_and_resume(terminal)?;
                dirty = true;
                continue;
            }
            _ = tick.tick() => {
                let now = usage_report(&services.client.usage());
                if now == usage {
                    dirty = true;
                    continue;
                }
                usage = now;
                Msg::UsageReported(now)
            }
        };
        dirty = true;
        let mut quit = false;
        for effect in update(&mut model, msg) {
            match effect {
                Effect::Refresh => wake_tx.send_modify(|n| *n += 1),
                Effect::FetchDetail { id } => {
                    tokio::spawn(tasks::fetch_detail(services.clone(), id, tx.clone()));
                }
                Effect::Perform { target, pin } => {
                    // Never the PIN: only what is done to which object.
                    tracing::info!(object = %target.object_id(), action = target.action_label(), "sending");
                    actions.spawn(tasks::perform_reporting(
                        services.clone(),
                        target,
                        pin,
                        Some(tx.clone()),
                    ));
                }
                Effect::Quit => quit = true,
            }
        }
        if quit {
            break;
        }
    }
    for poller in &pollers {
        poller.abort();
    }
    // A mutation already sent still gets its audit line: give it a moment to finish.
    let _ = tokio::time::timeout(QUIT_GRACE, async {
        while actions.join_next().await.is_some() {}
    })
    .await;
    Ok(())
}

/// The usage the status bar shows, from what the client last saw.
pub fn usage_report(u: &Usage) -> UsageReport {
    UsageReport {
        app_pct: [u.app_call_pct, u.app_cpu_pct, u.app_time_pct]
            .into_iter()
            .flatten()
            .max(),
        buc_pct: u.buc_max_pct,
    }
}
