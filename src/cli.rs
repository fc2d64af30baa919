//! The command line (design.md, "Command line"). Every setting is an `Option` so that "not
//! given" is distinguishable and `config::load` can fill it from the config file or defaults.
//! There is deliberately no token flag: flags show in `ps`.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// Terminal console for WhatsApp Business Platform partner operations over Meta's Graph API.
#[derive(Debug, Clone, Parser)]
#[command(
    name = "partnerdeck",
    version,
    about,
    long_about = "Terminal console for WhatsApp Business Platform partner operations over Meta's Graph API.\n\n\
Without a subcommand, starts the interactive console.\n\n\
Settings, lowest to highest precedence: built-in defaults < config file (TOML; --config or the \
default config.toml) < environment PARTNERDECK_* < flags.\n\n\
The access token is read from PARTNERDECK_TOKEN, or from the file named by token_file in the \
config file (mode 0600). There is no token flag: flags show in `ps`.",
    after_help = "Examples:\n  partnerdeck --demo                 console against the built-in simulator\n  partnerdeck --read-only            console that cannot send any change\n  partnerdeck snapshot --json        one refresh, printed as JSON (exit 0 ok, 1 on failure)\n  partnerdeck sim --addr 127.0.0.1:8765"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub global: GlobalArgs,
}

/// Settings accepted before or after any subcommand.
#[derive(Debug, Clone, Default, Args)]
pub struct GlobalArgs {
    /// Config file (TOML); it must exist. Default: config.toml in the partnerdeck config directory, if present.
    #[arg(long, global = true, value_name = "PATH", env = "PARTNERDECK_CONFIG")]
    pub config: Option<PathBuf>,

    /// Console against the built-in Graph API simulator (no credentials, no network).
    #[arg(long, global = true)]
    pub demo: bool,

    /// With --demo: which partner the demo business is, solution_partner (default) or
    /// tech_provider (a Tech Provider world, BSP Plivo served by the simulator).
    #[arg(
        long,
        global = true,
        value_name = "KIND",
        env = "PARTNERDECK_DEMO_KIND"
    )]
    pub demo_kind: Option<String>,

    /// Graph API base URL [default: https://graph.facebook.com]
    #[arg(long, global = true, value_name = "URL", env = "PARTNERDECK_GRAPH_URL")]
    pub graph_url: Option<String>,

    /// Pinned Graph API version, vNN.0 [default: v25.0]
    #[arg(
        long,
        global = true,
        value_name = "vNN.0",
        env = "PARTNERDECK_API_VERSION"
    )]
    pub api_version: Option<String>,

    /// Our Meta app (solutions are listed on it).
    #[arg(long, global = true, value_name = "ID", env = "PARTNERDECK_APP_ID")]
    pub app_id: Option<String>,

    /// Our business portfolio (client WABAs, credit lines).
    #[arg(
        long,
        global = true,
        value_name = "ID",
        env = "PARTNERDECK_BUSINESS_ID"
    )]
    pub business_id: Option<String>,

    /// Optional: only client WABAs shared with this partner too.
    #[arg(
        long,
        global = true,
        value_name = "ID",
        env = "PARTNERDECK_PARTNER_BUSINESS_ID"
    )]
    pub partner_business_id: Option<String>,

    /// Optional credit line; otherwise discovered via extendedcredits.
    #[arg(
        long,
        global = true,
        value_name = "ID",
        env = "PARTNERDECK_CREDIT_LINE_ID"
    )]
    pub credit_line_id: Option<String>,

    /// No mutation can be sent, enforced below the UI (env PARTNERDECK_READ_ONLY=1/true/yes).
    #[arg(
        long,
        global = true,
        env = "PARTNERDECK_READ_ONLY",
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = "true",
        value_name = "BOOL",
        value_parser = parse_bool,
    )]
    pub read_only: Option<bool>,

    /// Background refresh period in seconds [default: 30]
    #[arg(
        long,
        global = true,
        value_name = "SECS",
        env = "PARTNERDECK_POLL_INTERVAL"
    )]
    pub poll_interval: Option<u64>,

    /// Append-only JSON-lines record of every mutation [default: audit.jsonl in the data directory]
    #[arg(
        long,
        global = true,
        value_name = "PATH",
        env = "PARTNERDECK_AUDIT_LOG"
    )]
    pub audit_log: Option<PathBuf>,

    /// Where diagnostic logs are written [default: partnerdeck.log in the data directory]
    #[arg(long, global = true, value_name = "PATH", env = "PARTNERDECK_LOG_FILE")]
    pub log_file: Option<PathBuf>,

    /// Receive Meta's webhooks here: PORT (loopback), or IP:PORT (0.0.0.0:PORT for every interface). Needs PARTNERDECK_APP_SECRET.
    #[arg(
        long,
        global = true,
        value_name = "ADDR",
        env = "PARTNERDECK_WEBHOOK_LISTEN"
    )]
    pub webhook_listen: Option<String>,

    /// Follow a JSON-lines file of webhook deliveries written by another receiver.
    #[arg(
        long,
        global = true,
        value_name = "PATH",
        env = "PARTNERDECK_WEBHOOK_FILE"
    )]
    pub webhook_file: Option<PathBuf>,
    /// solution_partner, tech_provider or auto [default: auto, from whether our business owns credit lines]
    #[arg(
        long,
        global = true,
        value_name = "KIND",
        env = "PARTNERDECK_PARTNER_KIND"
    )]
    pub partner_kind: Option<String>,

    /// Plivo's API base URL [default: https://api.plivo.com]. Credentials: PARTNERDECK_PLIVO_AUTH_ID and PARTNERDECK_PLIVO_AUTH_TOKEN (no flags).
    #[arg(long, global = true, value_name = "URL", env = "PARTNERDECK_PLIVO_URL")]
    pub plivo_url: Option<String>,

    /// Telnyx's API base URL [default: https://api.telnyx.com]. Key: PARTNERDECK_TELNYX_API_KEY (no flag).
    #[arg(
        long,
        global = true,
        value_name = "URL",
        env = "PARTNERDECK_TELNYX_URL"
    )]
    pub telnyx_url: Option<String>,
}

#[derive(Debug, Clone, Subcommand)]
pub enum Command {
    /// Run the Graph API simulator alone; prints its URL and token.
    Sim(SimArgs),
    /// One refresh of everything, printed; exit 0 ok, 1 on failure.
    Snapshot(SnapshotArgs),
    /// The stored event feed (webhooks and console events), oldest first.
    Events(EventsArgs),
}

#[derive(Debug, Clone, Args)]
pub struct EventsArgs {
    /// Only events from this long ago on: e.g. 90s, 30m, 24h, 7d.
    #[arg(long, value_name = "DURATION")]
    pub since: Option<String>,

    /// Only events of this kind: webhook, observed, action or notice.
    #[arg(long, value_name = "KIND")]
    pub kind: Option<String>,

    /// One JSON object per event, one per line.
    #[arg(long)]
    pub json: bool,

    /// Keep printing new events as they are stored (Ctrl-C to stop). With --webhook-listen
    /// or --webhook-file, also receive and store them.
    #[arg(long)]
    pub follow: bool,

    /// At most this many events (the most recent) before following.
    #[arg(long, value_name = "N")]
    pub limit: Option<usize>,
}

#[derive(Debug, Clone, Args)]
pub struct SimArgs {
    /// Address to listen on (port 0 picks a free port).
    #[arg(long, value_name = "HOST:PORT", default_value = "127.0.0.1:8765")]
    pub addr: String,

    /// World file to load instead of the built-in demo world.
    #[arg(long, value_name = "FILE")]
    pub world: Option<PathBuf>,

    /// Added latency per request, in milliseconds.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub latency_ms: u64,

    /// Faults to inject from the start: a JSON or TOML (*.toml) fault list. Switch them at run
    /// time with POST/PUT/DELETE /__sim/faults.
    #[arg(long, value_name = "FILE")]
    pub faults: Option<PathBuf>,

    /// Push signed webhooks to this URL when the simulated state changes (signed with
    /// PARTNERDECK_APP_SECRET, or the simulator's demo secret). Control: POST
    /// /__sim/onboard_waba, POST /__sim/restrict_waba?waba_id=ID.
    #[arg(long, value_name = "URL")]
    pub webhook_url: Option<String>,

    /// With --webhook-url: also push a random plausible event every SECS seconds.
    #[arg(long, value_name = "SECS", requires = "webhook_url")]
    pub webhook_trickle: Option<u64>,
}

#[derive(Debug, Clone, Args)]
#[command(after_long_help = snapshot_help())]
pub struct SnapshotArgs {
    /// Print the machine form (one JSON object, design.md's contract) instead of text.
    #[arg(long, conflicts_with = "plain")]
    pub json: bool,

    /// Print the text form (the default): tab-separated lines whose first field is the
    /// record kind, in the fixed columns listed below.
    #[arg(long)]
    pub plain: bool,
}

/// The text form's sections and columns, for `snapshot --help`.
fn snapshot_help() -> String {
    format!(
        "Text form (default, same as --plain): one section per scope, each a header line \
(\"WABAs: 307\", or \"WABAs: not read — <why>\" when the scope failed), a column line \
starting with #, then tab-separated data lines whose first field is the record kind. \
Values are made inert; a tab or newline inside one is shown as a symbol, so the columns \
hold. A missing value is -. Columns per kind:\n{}\n\
Example: grep '^allocation' | awk -F'\\t' '$3 == \"mismatched\" {{print $2, $5}}' \
lists each mismatched allocation's credit line and id.\n\n\
Errors go to standard error (and under \"errors\" in the JSON). Exit 0 when everything \
was read, 1 when any call failed.",
        crate::snapshot::text::columns_help()
    )
}

/// Parse a yes/no value: 1/true/yes/on or 0/false/no/off, any case.
pub fn parse_bool(s: &str) -> Result<bool, String> {
    match s.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Ok(true),
        "0" | "false" | "no" | "off" | "" => Ok(false),
        other => Err(format!("expected 1/true/yes or 0/false/no, got {other:?}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_is_well_formed() {
        Cli::command().debug_assert();
    }

    fn parse(args: &[&str]) -> Cli {
        Cli::try_parse_from(args).unwrap()
    }

    #[test]
    fn read_only_flag_forms() {
        // These tests run with whatever environment the test process has; only check the
        // flag forms that override the environment.
        assert_eq!(parse(&["pd", "--read-only"]).global.read_only, Some(true));
        assert_eq!(
            parse(&["pd", "--read-only=false"]).global.read_only,
            Some(false)
        );
        assert_eq!(
            parse(&["pd", "--read-only=yes"]).global.read_only,
            Some(true)
        );
        // A following subcommand is not eaten as the flag's value.
        let c = parse(&["pd", "--read-only", "snapshot", "--json"]);
        assert_eq!(c.global.read_only, Some(true));
        assert!(matches!(
            c.command,
            Some(Command::Snapshot(SnapshotArgs { json: true, .. }))
        ));
    }

    #[test]
    fn global_flags_after_subcommand() {
        let c = parse(&["pd", "snapshot", "--app-id", "42", "--poll-interval", "5"]);
        assert_eq!(c.global.app_id.as_deref(), Some("42"));
        assert_eq!(c.global.poll_interval, Some(5));
    }

    #[test]
    fn sim_defaults() {
        let c = parse(&["pd", "sim"]);
        match c.command {
            Some(Command::Sim(s)) => {
                assert_eq!(s.addr, "127.0.0.1:8765");
                assert_eq!(s.latency_ms, 0);
                assert!(s.world.is_none());
                assert!(s.faults.is_none());
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn there_is_no_token_flag() {
        assert!(Cli::try_parse_from(["pd", "--token", "x"]).is_err());
        let help = Cli::command().render_long_help().to_string();
        assert!(help.contains("PARTNERDECK_TOKEN"));
        assert!(!help.contains("--token"));
    }

    #[test]
    fn bools() {
        for t in ["1", "true", "YES", "on"] {
            assert_eq!(parse_bool(t), Ok(true));
        }
        for f in ["0", "false", "No", "off"] {
            assert_eq!(parse_bool(f), Ok(false));
        }
        assert!(parse_bool("maybe").is_err());
    }
}
