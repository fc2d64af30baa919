//! Webhooks from Meta: the event model, the decoder, the signature check, the HTTP listener,
//! the file follower, and [`Intake`], which runs the ways in and stores what they bring.
//!
//! ```text
//! Listener (POST, signed) ─┐                 ┌─> EventStore (SQLite, dedupe by id)
//!                          ├─ Event ─> pump ─┤
//! FileFollower (JSON lines)┘                 └─> UnboundedReceiver<StoredEvent> (only new ones)
//! ```
//!
//! # Wiring it into the console
//!
//! ```text
//! let store = AsyncStore::open(settings.event_db.clone()).await?;      // blocking pool
//! let unseen = store.unseen(500).await?;                               // since last open
//! let cfg = IntakeConfig::from_settings(&settings)?;                   // needs the app secret
//! let (intake, mut new_events) = Intake::start(cfg, store.clone()).await?;
//! // each `new_events.recv()` is a StoredEvent stored for the first time: show it, and
//! // refresh `event.scopes` (Solutions / Wabas / CreditLines)
//! store.insert(vec![Event::local(EventKind::Action, Some(id), scopes, "…", &raw)]).await?;
//! store.mark_all_seen().await?;                                        // on quit
//! ```
//!
//! For `--demo`: start the intake with a listener on `127.0.0.1:0` and
//! `AppSecret::new(graph_sim::DEMO_APP_SECRET)`, then
//! `sim.set_webhooks(Some(WebhookOptions { trickle: Some(45 s), ..WebhookOptions::new(url,
//! DEMO_APP_SECRET) }))` with `url = format!("http://{}/webhook", intake.listen_addr()?)`.

pub mod decode;
pub mod event;
pub mod follow;
pub mod listener;
pub mod signature;

use std::path::PathBuf;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::task::JoinHandle;

pub use decode::{decode, decode_at};
pub use event::{Event, EventKind, Scope};
pub use follow::FileFollower;
pub use listener::{ListenError, Listener, ListenerConfig, ListenerStats, parse_listen_addr};
pub use signature::{AppSecret, SignatureError, VerifyToken, sign, verify};

use crate::config::{ConfigError, Settings};
use crate::store::{AsyncStore, Retention, StoredEvent};

/// What [`Intake`] runs.
#[derive(Debug, Clone, Default)]
pub struct IntakeConfig {
    pub listen: Option<ListenerConfig>,
    pub file: Option<PathBuf>,
    /// How often the file is polled.
    pub file_poll: Option<Duration>,
    pub retention: Retention,
}

impl IntakeConfig {
    /// From the settings: the listener needs the app secret (a listener that cannot check
    /// signatures is refused).
    pub fn from_settings(s: &Settings) -> Result<IntakeConfig, ConfigError> {
        let listen = match s.webhook_listen {
            Some(addr) => {
                let secret = s.app_secret.clone().ok_or_else(|| ConfigError::Missing {
                    what: "The webhook listener needs the app secret to check signatures".into(),
                    how: "PARTNERDECK_APP_SECRET, or app_secret_file in the config file naming a file with mode 0600".into(),
                })?;
                Some(ListenerConfig {
                    verify_token: s.webhook_verify_token.clone(),
                    ..ListenerConfig::new(addr, secret)
                })
            }
            None => None,
        };
        Ok(IntakeConfig {
            listen,
            file: s.webhook_file.clone(),
            file_poll: None,
            retention: s.event_retention,
        })
    }

    /// Is there any way in?
    pub fn is_enabled(&self) -> bool {
        self.listen.is_some() || self.file.is_some()
    }
}

/// The running ways in and the pump that stores their events. Dropping it stops them.
pub struct Intake {
    listener: Option<Listener>,
    follower: Option<FileFollower>,
    pump: JoinHandle<()>,
}

/// How often the pump applies the retention.
const PRUNE_EVERY: Duration = Duration::from_secs(3600);

impl Intake {
    /// Start the listener and/or follower. Every event they bring is inserted into `store`
    /// (on the blocking pool); the ones not stored before are sent on the returned channel.
    pub async fn start(
        cfg: IntakeConfig,
        store: AsyncStore,
    ) -> Result<(Intake, mpsc::UnboundedReceiver<StoredEvent>), ListenError> {
        let (raw_tx, raw_rx) = mpsc::unbounded_channel::<Event>();
        let (new_tx, new_rx) = mpsc::unbounded_channel::<StoredEvent>();
        let listener = match cfg.listen {
            Some(l) => Some(Listener::start(l, raw_tx.clone()).await?),
            None => None,
        };
        let follower = cfg.file.map(|p| {
            FileFollower::start(
                p,
                cfg.file_poll.unwrap_or(follow::DEFAULT_POLL),
                raw_tx.clone(),
            )
        });
        drop(raw_tx);
        let pump = tokio::spawn(pump(raw_rx, store, new_tx, cfg.retention));
        Ok((
            Intake {
                listener,
                follower,
                pump,
            },
            new_rx,
        ))
    }

    /// The listener's address, if one runs.
    pub fn listen_addr(&self) -> Option<std::net::SocketAddr> {
        self.listener.as_ref().map(Listener::local_addr)
    }

    pub fn listener_stats(&self) -> Option<std::sync::Arc<ListenerStats>> {
        self.listener.as_ref().map(Listener::stats)
    }

    pub async fn shutdown(mut self) {
        if let Some(l) = self.listener.take() {
            l.shutdown().await;
        }
        if let Some(f) = self.follower.take() {
            let _ = tokio::task::spawn_blocking(move || f.stop()).await;
        }
        self.pump.abort();
    }
}

impl Drop for Intake {
    fn drop(&mut self) {
        self.pump.abort();
    }
}

/// Take events in batches (whatever is queued), store them, forward the new ones.
async fn pump(
    mut rx: mpsc::UnboundedReceiver<Event>,
    store: AsyncStore,
    tx: mpsc::UnboundedSender<StoredEvent>,
    retention: Retention,
) {
    if let Err(e) = store.prune(retention).await {
        tracing::warn!(error = %e, "event retention");
    }
    let mut last_prune = tokio::time::Instant::now();
    while let Some(first) = rx.recv().await {
        let mut batch = vec![first];
        while batch.len() < 1000 {
            match rx.try_recv() {
                Ok(e) => batch.push(e),
                Err(_) => break,
            }
        }
        match store.insert(batch).await {
            Ok(new) => {
                for e in new {
                    tracing::info!(id = %e.event.id, summary = %e.event.summary, "event stored");
                    // Nobody listening is fine: the store has it.
                    let _ = tx.send(e);
                }
            }
            Err(e) => tracing::warn!(error = %e, "storing webhook events"),
        }
        if last_prune.elapsed() >= PRUNE_EVERY {
            last_prune = tokio::time::Instant::now();
            if let Err(e) = store.prune(retention).await {
                tracing::warn!(error = %e, "event retention");
            }
        }
    }
}
