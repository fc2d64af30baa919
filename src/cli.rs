//! The command line (design.md, "Command line"). Every setting is an `Option` so that "not
//! given" is distinguishable and `config::load` can fill it from the config file or defaults.
//! There is deliberately no token flag: flags show in `ps`.

use std::path::PathBuf;

use clap::{Arg, Args, Parser, Subcommand};

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
config file (mode 0600). There is no token flag: flags show in `ps`.\n\n\
Colours: theme = \"dark\" | \"light\" | \"mono\" in the config file, or PARTNERDECK_THEME (NO_COLOR \
means mono unless a theme is set). Keys: a [keys] table in the config file remaps any command \
(e.g. accept = \"A\", down = [\"j\", \"Down\"]); Ctrl-c always quits.",
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
    #[command(args = refused_after("sim", SIM_READS))]
    Sim(SimArgs),
    /// One refresh of everything, printed; exit 0 ok, 1 on failure.
    #[command(args = refused_after("snapshot", SNAPSHOT_READS))]
    Snapshot(SnapshotArgs),
    /// The stored event feed (webhooks and console events), oldest first.
    #[command(args = refused_after("events", EVENTS_READS))]
    Events(EventsArgs),
}

/// Every settings flag of [`GlobalArgs`]: its id (the field) and its long name. The console
/// reads them all; each subcommand lists in its `--help` only the ones it reads.
pub const SETTINGS_FLAGS: &[(&str, &str)] = &[
    ("config", "config"),
    ("demo", "demo"),
    ("demo_kind", "demo-kind"),
    ("graph_url", "graph-url"),
    ("api_version", "api-version"),
    ("app_id", "app-id"),
    ("business_id", "business-id"),
    ("partner_business_id", "partner-business-id"),
    ("credit_line_id", "credit-line-id"),
    ("read_only", "read-only"),
    ("poll_interval", "poll-interval"),
    ("audit_log", "audit-log"),
    ("log_file", "log-file"),
    ("webhook_listen", "webhook-listen"),
    ("webhook_file", "webhook-file"),
    ("partner_kind", "partner-kind"),
    ("plivo_url", "plivo-url"),
    ("telnyx_url", "telnyx-url"),
];

/// `sim` reads no setting (only `PARTNERDECK_APP_SECRET` for its webhooks).
const SIM_READS: &[&str] = &[];
/// `snapshot` reads what the Graph client, the partner kind and the BSP registrations in the
/// audit log need; not the poll interval, the webhooks or the BSP URLs.
const SNAPSHOT_READS: &[&str] = &[
    "config",
    "demo",
    "demo_kind",
    "graph_url",
    "api_version",
    "app_id",
    "business_id",
    "partner_business_id",
    "credit_line_id",
    "read_only",
    "audit_log",
    "log_file",
    "partner_kind",
];
/// `events` reads the event history (from the config file) and, with `--follow`, the intake.
const EVENTS_READS: &[&str] = &["config", "log_file", "webhook_listen", "webhook_file"];

/// For a subcommand, the settings flags it does not read, each as a hidden flag of its own
/// that refuses any use with a sentence: a flag after the subcommand's name is either listed
/// in its `--help` or refused, never silently ignored. (A flag written *before* the
/// subcommand is the top level's and is accepted as before.)
fn refused_after(sub: &'static str, reads: &'static [&str]) -> Vec<Arg> {
    SETTINGS_FLAGS
        .iter()
        .filter(|(id, _)| !reads.contains(id))
        .map(|(id, long)| {
            let sentence = format!("--{long} does not apply to `partnerdeck {sub}`");
            Arg::new(*id)
                .long(*long)
                .hide(true)
                .num_args(0..=1)
                .default_missing_value("")
                .value_name("VALUE")
                .value_parser(move |_: &str| -> Result<String, String> { Err(sentence.clone()) })
        })
        .collect()
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

    /// Serve the demo world with N generated client WABAs instead of its 300 (the seven
    /// hand-written ones stay), to try the console on a big book: `--wabas 100000` starts in
    /// a few seconds. The same seed gives the same WABAs every time.
    #[arg(long, value_name = "N", conflicts_with = "world")]
    pub wabas: Option<usize>,

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
        let c = parse(&["pd", "snapshot", "--app-id", "42", "--log-file", "x.log"]);
        assert_eq!(c.global.app_id.as_deref(), Some("42"));
        assert_eq!(c.global.log_file, Some(PathBuf::from("x.log")));
        // Before the subcommand, a console flag is the top level's, as it always was.
        let c = parse(&["pd", "--poll-interval", "5", "snapshot"]);
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
                assert!(s.wabas.is_none());
            }
            other => panic!("{other:?}"),
        }
        match parse(&["pd", "sim", "--wabas", "100000"]).command {
            Some(Command::Sim(s)) => assert_eq!(s.wabas, Some(100_000)),
            other => panic!("{other:?}"),
        }
        assert!(Cli::try_parse_from(["pd", "sim", "--wabas", "9", "--world", "w.json"]).is_err());
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

    /// The long flags a help text lists.
    fn listed(help: &str) -> Vec<String> {
        help.split_whitespace()
            .filter(|w| w.starts_with("--"))
            .map(|w| w.trim_end_matches([',', '.', ')']).to_string())
            .filter(|w| w.len() > 2)
            .collect()
    }

    fn sub_help(name: &str) -> String {
        let mut cmd = Cli::command();
        cmd.build();
        cmd.find_subcommand_mut(name)
            .unwrap()
            .render_long_help()
            .to_string()
    }

    #[test]
    fn settings_flags_are_every_global_flag() {
        let cmd = Cli::command();
        let mut ids: Vec<&str> = cmd
            .get_arguments()
            .filter(|a| a.get_long().is_some())
            .map(|a| a.get_id().as_str())
            .filter(|id| *id != "help" && *id != "version")
            .collect();
        let mut known: Vec<&str> = SETTINGS_FLAGS.iter().map(|(id, _)| *id).collect();
        ids.sort();
        known.sort();
        assert_eq!(ids, known, "a new flag: say which subcommands read it");
        for (id, long) in SETTINGS_FLAGS {
            let arg = cmd.get_arguments().find(|a| a.get_id() == id).unwrap();
            assert_eq!(arg.get_long(), Some(*long));
        }
    }

    #[test]
    fn subcommand_help_lists_only_the_flags_that_apply() {
        let sim = listed(&sub_help("sim"));
        for f in [
            "--addr",
            "--world",
            "--latency-ms",
            "--faults",
            "--webhook-url",
        ] {
            assert!(sim.iter().any(|l| l == f), "sim --help lacks {f}: {sim:?}");
        }
        for f in [
            "--graph-url",
            "--app-id",
            "--poll-interval",
            "--config",
            "--demo",
        ] {
            assert!(!sim.iter().any(|l| l == f), "sim --help lists {f}");
        }
        let snapshot = listed(&sub_help("snapshot"));
        for f in [
            "--json",
            "--graph-url",
            "--app-id",
            "--business-id",
            "--config",
        ] {
            assert!(snapshot.iter().any(|l| l == f), "snapshot lacks {f}");
        }
        for f in [
            "--poll-interval",
            "--webhook-listen",
            "--webhook-file",
            "--plivo-url",
        ] {
            assert!(!snapshot.iter().any(|l| l == f), "snapshot lists {f}");
        }
        let events = listed(&sub_help("events"));
        assert!(events.iter().any(|l| l == "--webhook-listen"));
        assert!(!events.iter().any(|l| l == "--graph-url"));
        // The console's own help still lists every settings flag.
        let console = listed(&Cli::command().render_long_help().to_string());
        for (_, long) in SETTINGS_FLAGS {
            let flag = format!("--{long}");
            assert!(console.contains(&flag), "console --help lacks {flag}");
        }
    }

    #[test]
    fn a_flag_a_subcommand_does_not_read_is_refused_after_it() {
        let e = Cli::try_parse_from(["pd", "sim", "--graph-url", "http://127.0.0.1:1"])
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("--graph-url does not apply to `partnerdeck sim`"),
            "{e}"
        );
        let e = Cli::try_parse_from(["pd", "snapshot", "--poll-interval", "5"])
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("does not apply to `partnerdeck snapshot`"),
            "{e}"
        );
        let e = Cli::try_parse_from(["pd", "sim", "--demo"])
            .unwrap_err()
            .to_string();
        assert!(e.contains("--demo does not apply"), "{e}");
    }
}
