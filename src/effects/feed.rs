//! The Events feed: the event history at start, the webhook intake (listener and/or followed
//! file) while the console runs, and the events the console records itself (observed changes,
//! action outcomes, notices). Everything goes through the [`AsyncStore`] on the blocking pool.

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::sync::mpsc;

use crate::app::msg::{LocalEvent, Msg};
use crate::store::{AsyncStore, Query, StoredEvent};
use crate::webhooks::{Event, Intake, IntakeConfig};

/// How much history the pane loads at start.
pub const HISTORY: usize = 500;

/// Called with the listener's address once it listens (the demo points the simulator at it).
pub type ListenHook = Arc<dyn Fn(SocketAddr) + Send + Sync>;

/// What the feed needs. The default is no store and no intake: the pane still shows what the
/// console records, without keeping it.
#[derive(Clone, Default)]
pub struct EventFeed {
    pub store: Option<AsyncStore>,
    /// The ways webhooks come in; `None` (or nothing enabled) = no intake.
    pub intake: Option<IntakeConfig>,
    pub on_listen: Option<ListenHook>,
    /// Why the store could not be opened, said once at start.
    pub store_error: Option<String>,
}

/// Read the history, start the intake, then forward what it stores, in batches.
pub async fn run(feed: EventFeed, tx: mpsc::UnboundedSender<Msg>) {
    if let Some(e) = &feed.store_error {
        let _ = tx.send(Msg::Notice(format!(
            "The event history is not kept this session: {e}"
        )));
    }
    let (history, last_seen) = match &feed.store {
        Some(store) => {
            let read = store
                .with(|s| {
                    let events = s.query(&Query {
                        limit: Some(HISTORY),
                        ..Query::default()
                    })?;
                    Ok((events, s.last_seen()?))
                })
                .await;
            match read {
                Ok(r) => r,
                Err(e) => {
                    tracing::warn!(error = %e, "reading the event history");
                    (vec![], 0)
                }
            }
        }
        None => (vec![], 0),
    };
    let mut running: Option<Intake> = None;
    let mut new_events = None;
    let mut described = None;
    match (feed.intake.filter(IntakeConfig::is_enabled), &feed.store) {
        (Some(cfg), Some(store)) => {
            let file = cfg.file.clone();
            match Intake::start(cfg, store.clone()).await {
                Ok((intake, rx)) => {
                    let mut ways = vec![];
                    if let Some(addr) = intake.listen_addr() {
                        ways.push(format!("webhooks on {addr}"));
                        if let Some(hook) = &feed.on_listen {
                            hook(addr);
                        }
                    }
                    if let Some(f) = file {
                        ways.push(format!("following {}", f.display()));
                    }
                    described = Some(ways.join(", "));
                    running = Some(intake);
                    new_events = Some(rx);
                }
                Err(e) => {
                    let _ = tx.send(Msg::Notice(format!(
                        "Webhooks are not received this session: {e}"
                    )));
                }
            }
        }
        (Some(_), None) => {
            let _ = tx.send(Msg::Notice(
                "Webhooks are not received this session: the event store is not open.".into(),
            ));
        }
        (None, _) => {}
    }
    if tx
        .send(Msg::EventsHistory {
            events: history,
            last_seen,
            feed: described,
        })
        .is_err()
    {
        return;
    }
    let Some(mut rx) = new_events else {
        return;
    };
    while let Some(first) = rx.recv().await {
        let mut batch = vec![first];
        while batch.len() < 500 {
            match rx.try_recv() {
                Ok(e) => batch.push(e),
                Err(_) => break,
            }
        }
        if tx.send(Msg::EventsArrived(batch)).is_err() {
            break;
        }
    }
    if let Some(intake) = running {
        intake.shutdown().await;
    }
}

/// Stamp an event the console made, store it, and send it back.
pub async fn record(store: Option<AsyncStore>, local: LocalEvent, tx: mpsc::UnboundedSender<Msg>) {
    let scopes = local.scopes.iter().map(|s| s.to_event()).collect();
    let event = Event::local(
        local.kind,
        local.object_id.as_deref(),
        scopes,
        &local.summary,
        &local.raw,
    );
    let stored = match store {
        Some(store) => match store.insert(vec![event.clone()]).await {
            Ok(new) => new,
            Err(e) => {
                tracing::warn!(error = %e, "storing a console event");
                vec![StoredEvent { seq: 0, event }]
            }
        },
        None => vec![StoredEvent { seq: 0, event }],
    };
    if !stored.is_empty() {
        let _ = tx.send(Msg::EventsArrived(stored));
    }
}
