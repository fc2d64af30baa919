//! `partnerdeck events`: print the stored event feed, oldest first (newest last), as text or
//! JSON lines; `--follow` keeps printing what is stored after (polling the database, so it also
//! sees what a running console stores). With `--webhook-listen` / `--webhook-file` it also runs
//! the intake itself, a headless receiver.

use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

use chrono::Utc;
use color_eyre::eyre::{Result, WrapErr, eyre};

use crate::cli::{EventsArgs, GlobalArgs};
use crate::config::{self, ConfigError};
use crate::store::{AsyncStore, Query, StoredEvent};
use crate::webhooks::{EventKind, Intake, IntakeConfig};

/// How often `--follow` looks for new events.
pub const FOLLOW_POLL: Duration = Duration::from_millis(300);

/// Parse a duration like `90s`, `30m`, `24h`, `7d`, `2w` (a bare number is seconds).
pub fn parse_since(raw: &str) -> Result<Duration, String> {
    let raw = raw.trim();
    let split = raw.find(|c: char| !c.is_ascii_digit()).unwrap_or(raw.len());
    let (num, unit) = raw.split_at(split);
    let n: u64 = num
        .parse()
        .map_err(|_| format!("{raw:?} is not a duration like 90s, 30m, 24h or 7d"))?;
    let secs = match unit.trim() {
        "" | "s" => 1,
        "m" | "min" => 60,
        "h" => 3600,
        "d" => 86_400,
        "w" => 7 * 86_400,
        _ => {
            return Err(format!(
                "{raw:?} is not a duration like 90s, 30m, 24h or 7d"
            ));
        }
    };
    Ok(Duration::from_secs(n.saturating_mul(secs)))
}

fn print(out: &mut impl Write, events: &[StoredEvent], json: bool) -> std::io::Result<()> {
    for e in events {
        if json {
            writeln!(out, "{}", e.event.to_json_line())?;
        } else {
            writeln!(out, "{}", e.event.to_line())?;
        }
    }
    out.flush()
}

pub async fn run(global: &GlobalArgs, args: EventsArgs) -> Result<ExitCode> {
    let settings = config::load(global, &|k| std::env::var(k).ok())?;
    let since = match &args.since {
        Some(s) => {
            let d = parse_since(s).map_err(|reason| ConfigError::BadValue {
                name: "--since".into(),
                reason,
            })?;
            let d = chrono::Duration::from_std(d).unwrap_or(chrono::Duration::MAX);
            Some(Utc::now().checked_sub_signed(d).unwrap_or_default())
        }
        None => None,
    };
    let kind = match &args.kind {
        Some(k) => Some(
            k.parse::<EventKind>()
                .map_err(|reason| ConfigError::BadValue {
                    name: "--kind".into(),
                    reason,
                })?,
        ),
        None => None,
    };
    let store = AsyncStore::open(settings.event_db.clone())
        .await
        .wrap_err("opening the event history")?;
    let intake_cfg = IntakeConfig::from_settings(&settings)?;
    let _intake = if args.follow && intake_cfg.is_enabled() {
        let _log = crate::logging::init(&settings.log_file).ok();
        let (intake, _new) = Intake::start(intake_cfg, store.clone())
            .await
            .map_err(|e| eyre!("{e}"))?;
        if let Some(addr) = intake.listen_addr() {
            eprintln!("Listening for webhooks on http://{addr}/webhook");
        }
        Some((intake, _log))
    } else {
        None
    };

    let first = store
        .query(Query {
            since,
            kind,
            limit: args.limit,
            after_seq: None,
        })
        .await?;
    let mut last = match first.last() {
        Some(e) => e.seq,
        None => store.with(|s| s.last_seq()).await?,
    };
    let mut stdout = std::io::stdout();
    if print(&mut stdout, &first, args.json).is_err() {
        return Ok(ExitCode::SUCCESS); // stdout closed (e.g. `| head`)
    }
    if !args.follow {
        return Ok(ExitCode::SUCCESS);
    }
    let ctrl_c = tokio::signal::ctrl_c();
    tokio::pin!(ctrl_c);
    loop {
        tokio::select! {
            _ = &mut ctrl_c => return Ok(ExitCode::SUCCESS),
            _ = tokio::time::sleep(FOLLOW_POLL) => {}
        }
        let new = store
            .query(Query {
                since,
                kind,
                limit: None,
                after_seq: Some(last),
            })
            .await?;
        if let Some(e) = new.last() {
            last = e.seq;
        }
        if print(&mut stdout, &new, args.json).is_err() {
            return Ok(ExitCode::SUCCESS);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_since("90s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_since("90"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_since("30m"), Ok(Duration::from_secs(1800)));
        assert_eq!(parse_since("24h"), Ok(Duration::from_secs(86_400)));
        assert_eq!(parse_since("7d"), Ok(Duration::from_secs(7 * 86_400)));
        assert!(parse_since("h").is_err());
        assert!(parse_since("3y").is_err());
        assert!(parse_since("").is_err());
    }
}
