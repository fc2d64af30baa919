//! partnerdeck: parse the command line, install the error and panic hooks, dispatch.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;

use clap::Parser;
use color_eyre::eyre::{Result, WrapErr};

use graph_sim::{self as sim, SimHandle, SimOptions, World};
use partnerdeck::app::Model;
use partnerdeck::audit::AuditLog;
use partnerdeck::cli::{Cli, Command, GlobalArgs, SimArgs, SnapshotArgs};
use partnerdeck::config::{self, Settings, Token};
use partnerdeck::effects::Services;
use partnerdeck::effects::feed::{EventFeed, ListenHook};
use partnerdeck::graph::client::GraphClient;
use partnerdeck::store::AsyncStore;
use partnerdeck::webhooks::{AppSecret, IntakeConfig};
use partnerdeck::{logging, runtime, snapshot};

fn main() -> ExitCode {
    partnerdeck::memory::limit_arenas();
    // The process holds the token: no core dump, no ptrace attach by other users' tools.
    harden_process();
    if let Err(e) = color_eyre::install() {
        eprintln!("partnerdeck: {e}");
    }
    quiet_broken_pipe();
    let cli = Cli::parse();
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("partnerdeck: cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    let code = rt.block_on(async {
        match run(cli).await {
            Ok(code) => code,
            Err(e) => {
                // Anything a user caused (settings, files, the terminal, a closed pipe) is one
                // plain sentence; only a real bug gets the report with a backtrace.
                match plain_sentence(&e) {
                    Some(s) => eprintln!("partnerdeck: {s}"),
                    None => eprintln!("partnerdeck: {e:?}"),
                }
                ExitCode::from(2)
            }
        }
    });
    // Don't wait for blocked stdin readers or stalled requests on the way out.
    rt.shutdown_timeout(std::time::Duration::from_millis(200));
    code
}

/// A problem the user caused (or can fix), said in one sentence; `main` prints it without a
/// backtrace and exits 2.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct UserError(String);

/// The error as one plain sentence when a user caused it (bad settings or files, an I/O
/// failure, the terminal, a refusal by the Graph client or the simulator); `None` for a bug.
fn plain_sentence(e: &color_eyre::Report) -> Option<String> {
    let user_caused = e.chain().any(|c| {
        c.is::<config::ConfigError>()
            || c.is::<UserError>()
            || c.is::<std::io::Error>()
            || c.is::<partnerdeck::graph::GraphError>()
            || c.is::<sim::SimError>()
    });
    if !user_caused {
        return None;
    }
    let parts: Vec<String> = e
        .chain()
        .map(|c| c.to_string().trim().trim_end_matches('.').to_string())
        .filter(|p| !p.is_empty())
        .collect();
    Some(format!("{}.", parts.join(": ")))
}

/// No core dumps (`RLIMIT_CORE` 0) and not dumpable (`PR_SET_DUMPABLE` 0, which also keeps
/// other processes of the same user from attaching a debugger): the token is in memory.
fn harden_process() {
    #[cfg(unix)]
    {
        let none = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: plain system calls with valid arguments.
        unsafe {
            if libc::setrlimit(libc::RLIMIT_CORE, &none) != 0 {
                eprintln!("partnerdeck: warning: could not disable core dumps");
            }
            #[cfg(target_os = "linux")]
            if libc::prctl(libc::PR_SET_DUMPABLE, 0, 0, 0, 0) != 0 {
                eprintln!("partnerdeck: warning: could not make the process non-dumpable");
            }
        }
    }
}

/// A closed pipe on stdout (`partnerdeck sim | head -1`) ends the process quietly instead of
/// a panic report: printing macros panic on EPIPE, and that is no bug of ours.
fn quiet_broken_pipe() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let msg = info
            .payload()
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| info.payload().downcast_ref::<&str>().copied())
            .unwrap_or("");
        if msg.starts_with("failed printing to std") && msg.contains("Broken pipe") {
            std::process::exit(0);
        }
        previous(info);
    }));
}

async fn run(cli: Cli) -> Result<ExitCode> {
    match cli.command {
        Some(Command::Sim(args)) => run_sim(args).await,
        Some(Command::Snapshot(args)) => run_snapshot(&cli.global, args).await,
        Some(Command::Events(args)) => partnerdeck::events_cli::run(&cli.global, args).await,
        None => run_console(&cli.global).await,
    }
}

fn load_settings(global: &GlobalArgs) -> Result<Settings> {
    Ok(config::load(global, &|k| std::env::var(k).ok())?)
}

/// `--demo`: start the simulator in-process and point the settings at it. Mutations go to a
/// separate audit file unless one was named, so a demo never mixes with real records.
async fn start_demo(global: &GlobalArgs, settings: &mut Settings) -> Result<Arc<SimHandle>> {
    use partnerdeck::domain::partner::{PartnerKind, PartnerKindSetting, decide_partner_kind};
    let kind = match global.demo_kind.as_deref() {
        None => PartnerKind::SolutionPartner,
        Some(k) => k
            .parse::<PartnerKindSetting>()
            .ok()
            .and_then(|s| decide_partner_kind(s, None))
            .ok_or_else(|| {
                UserError(format!(
                    "--demo-kind (PARTNERDECK_DEMO_KIND) {k:?} is not solution_partner or tech_provider"
                ))
            })?,
    };
    let world = match kind {
        PartnerKind::SolutionPartner => World::demo(),
        PartnerKind::TechProvider => World::demo_tech_provider(),
    };
    let handle = sim::start(world, SimOptions::default())
        .await
        .wrap_err("starting the built-in simulator")?;
    if kind == PartnerKind::TechProvider {
        // The simulator serves Plivo too, with its demo credentials.
        let mut partner = partnerdeck::bsp::settings::PartnerSettings::demo(
            &handle.base_url(),
            partnerdeck::bsp::Bsp::Plivo,
        );
        partner.partner_kind = PartnerKindSetting::TechProvider;
        settings.partner = partner;
    }
    settings.graph_url = handle.base_url();
    settings.token = Some(Token::new(handle.token()));
    settings.app_id = Some(handle.app_id());
    settings.business_id = Some(handle.business_id());
    if global.audit_log.is_none() {
        settings.audit_log = settings.audit_log.with_file_name("demo-audit.jsonl");
    }
    // Its own event history next to the demo audit log, and a listener the simulator pushes
    // signed webhooks to (see `demo_webhooks`).
    settings.event_db = settings.audit_log.with_file_name("demo-events.sqlite3");
    settings.webhook_listen = Some(SocketAddr::from(([127, 0, 0, 1], 0)));
    settings.webhook_file = None;
    settings.app_secret = Some(AppSecret::new(sim::DEMO_APP_SECRET));
    Ok(Arc::new(handle))
}

/// How often the demo simulator pushes a plausible webhook by itself:
/// `PARTNERDECK_DEMO_TRICKLE` seconds (0 = never), 45 by default.
fn demo_trickle() -> Option<std::time::Duration> {
    let secs = std::env::var("PARTNERDECK_DEMO_TRICKLE")
        .ok()
        .and_then(|v| v.trim().parse::<u64>().ok())
        .unwrap_or(45);
    (secs > 0).then(|| std::time::Duration::from_secs(secs))
}

/// Once the console listens, point the demo simulator's webhooks at it.
fn demo_webhooks(sim: Arc<SimHandle>) -> ListenHook {
    Arc::new(move |addr| {
        sim.set_webhooks(Some(sim::WebhookOptions {
            trickle: demo_trickle(),
            ..sim::WebhookOptions::new(format!("http://{addr}/webhook"), sim::DEMO_APP_SECRET)
        }))
    })
}

async fn run_sim(args: SimArgs) -> Result<ExitCode> {
    let world = match (&args.world, args.wabas) {
        (Some(path), _) => World::from_file(path)?,
        (None, Some(generated)) => World::demo_with_generated_wabas(generated),
        (None, None) => World::demo(),
    };
    let addr: SocketAddr = args.addr.parse().map_err(|_| {
        UserError(format!(
            "--addr {} is not HOST:PORT (e.g. 127.0.0.1:8765)",
            args.addr
        ))
    })?;
    let faults = match &args.faults {
        Some(path) => sim::faults::load(path)?,
        None => vec![],
    };
    let webhooks = args.webhook_url.as_ref().map(|url| {
        let secret = std::env::var("PARTNERDECK_APP_SECRET")
            .ok()
            .filter(|s| !s.trim().is_empty())
            .unwrap_or_else(|| sim::DEMO_APP_SECRET.to_string());
        println!("Webhooks: pushing signed deliveries to {url}");
        sim::WebhookOptions {
            trickle: args
                .webhook_trickle
                .filter(|s| *s > 0)
                .map(std::time::Duration::from_secs),
            ..sim::WebhookOptions::new(url.clone(), secret.trim())
        }
    });
    let opts = SimOptions {
        addr,
        latency: std::time::Duration::from_millis(args.latency_ms),
        faults,
        webhooks,
    };
    sim::run_standalone(world, opts).await?;
    Ok(ExitCode::SUCCESS)
}

async fn run_snapshot(global: &GlobalArgs, args: SnapshotArgs) -> Result<ExitCode> {
    let mut settings = load_settings(global)?;
    let _demo = match global.demo {
        true => Some(start_demo(global, &mut settings).await?),
        false => None,
    };
    if let Some(dir) = settings.log_file.parent() {
        let _ = logging::private_dir(dir);
    }
    let _log = logging::init(&settings.log_file).ok();
    let ready = settings.require()?;
    let client = GraphClient::new(settings.client_config(ready.token))?;
    // The BSP registration of each WABA, from what this console did (the audit log).
    let registrations = partnerdeck::audit::read_records(&settings.audit_log)
        .map(|r| partnerdeck::audit::registration_records(&r))
        .unwrap_or_default();
    let request = snapshot::Request {
        app_id: ready.app_id.clone(),
        business_id: settings.business_id.clone(),
        partner_business_id: settings.partner_business_id.clone(),
        credit_line_id: settings.credit_line_id.clone(),
        partner: settings.partner.clone(),
        registrations,
    };
    let format = match args.json {
        true => snapshot::Format::Json,
        false => snapshot::Format::Text,
    };
    let outcome = match snapshot::run(&client, request, format, std::io::stdout()).await {
        Ok(outcome) => outcome,
        // The reader has what it wanted.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => return Ok(ExitCode::SUCCESS),
        Err(e) => {
            return Err(
                UserError(format!("Cannot write the snapshot to standard output: {e}")).into(),
            );
        }
    };
    // Errors go to standard error, so a script reading the data is not confused by them.
    eprint!("{}", snapshot::text::errors(&outcome.errors));
    Ok(if outcome.errors.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

async fn run_console(global: &GlobalArgs) -> Result<ExitCode> {
    // Before anything else: without a terminal there is no console (and no 11 KB of escape
    // codes in a file).
    let term = std::env::var("TERM").ok();
    partnerdeck::term::check_terminal(term.as_deref()).map_err(UserError)?;
    let mut settings = load_settings(global)?;
    let demo = match global.demo {
        true => Some(start_demo(global, &mut settings).await?),
        false => None,
    };
    let ready = settings.require()?;
    let intake = IntakeConfig::from_settings(&settings)?;
    // The data directory (log, audit log, events) is private: created 0700, files 0600.
    for file in [&settings.log_file, &settings.audit_log, &settings.event_db] {
        if let Some(dir) = file.parent() {
            logging::private_dir(dir)
                .wrap_err_with(|| format!("Cannot create the directory {}", dir.display()))?;
        }
    }
    let _log = logging::init(&settings.log_file)
        .wrap_err_with(|| format!("Cannot open the log file {}", settings.log_file.display()))?;
    let audit = AuditLog::open(&settings.audit_log)
        .wrap_err_with(|| format!("Cannot open the audit log {}", settings.audit_log.display()))?;
    let client = GraphClient::new(settings.client_config(ready.token))?;
    tracing::info!(
        graph_url = %settings.graph_url,
        api_version = %settings.api_version,
        read_only = settings.read_only,
        demo = global.demo,
        "console starting"
    );
    let mut model = Model::new(ready.app_id.clone(), settings.api_version.clone());
    model.keymap = settings.keymap.clone();
    model.read_only = settings.read_only;
    model.demo = global.demo;
    model.wabas.not_configured = settings.business_id.is_none();
    model.credit.not_configured =
        settings.business_id.is_none() && settings.credit_line_id.is_none();
    let mut feed = EventFeed {
        intake: Some(intake),
        on_listen: demo.clone().map(demo_webhooks),
        ..EventFeed::default()
    };
    match AsyncStore::open(settings.event_db.clone()).await {
        Ok(store) => feed.store = Some(store),
        Err(e) => {
            tracing::warn!(error = %e, "opening the event store");
            feed.store_error = Some(e.to_string());
        }
    }
    // The BSP client, built once from the settings (a Tech Provider's `B`).
    model.partner_kind_setting = settings.partner.partner_kind;
    model.bsp = settings.partner.bsp;
    let bsp = match settings.require_bsp() {
        Ok(cfg) => match partnerdeck::bsp::BspClient::new(cfg) {
            Ok(c) => Some(c),
            Err(e) => {
                model.bsp_missing = Some(e.sentence());
                None
            }
        },
        Err(e) => {
            model.bsp_missing = Some(e.to_string());
            None
        }
    };
    model.bsp_call = bsp.as_ref().map(|c| c.describe_call());
    if let Some(kind) =
        partnerdeck::domain::partner::decide_partner_kind(settings.partner.partner_kind, None)
    {
        model.set_partner_kind(Some(kind));
    }
    let services = Services {
        partner_kind: settings.partner.partner_kind,
        bsp,
        client,
        app_id: ready.app_id,
        business_id: settings.business_id.clone(),
        partner_business_id: settings.partner_business_id.clone(),
        credit_line_id: settings.credit_line_id.clone(),
        audit: Arc::new(audit),
        poll_interval: settings.poll_interval,
        feed,
        wabas: partnerdeck::effects::WabaReads {
            read_concurrency: settings.read_concurrency,
            recheck_period: settings.extras_recheck_period,
            inbox: Default::default(),
        },
    };
    let theme = partnerdeck::ui::Theme::choose(settings.theme);
    // A colour theme chosen in the settings wins over NO_COLOR (no-color.org), which
    // crossterm would otherwise apply by itself and drop every colour.
    if settings
        .theme
        .is_some_and(|t| t != partnerdeck::ui::theme::ThemeName::Mono)
    {
        crossterm::style::force_color_output(true);
    }
    runtime::run_console(services, model, theme).await?;
    Ok(ExitCode::SUCCESS)
}
