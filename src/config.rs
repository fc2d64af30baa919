//! Layered settings and the access token.
//!
//! Precedence, lowest to highest: built-in defaults < TOML config file < environment
//! `PARTNERDECK_*` < flags. The token comes only from `PARTNERDECK_TOKEN` or from the file
//! named by `token_file` in the config file (mode 0600 or stricter); never from a flag.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use crate::app::keymap::{KeyOverride, Keymap};
use crate::bsp::settings::PartnerSettings;
use crate::bsp::{Bsp, BspConfig, BspCredentials};
use crate::cli::{GlobalArgs, parse_bool};
use crate::domain::partner::PartnerKindSetting;
use crate::graph::client::ClientConfig;
use crate::ui::theme::ThemeName;

pub use crate::graph::secret::Token;
pub use crate::store::Retention;
pub use crate::webhooks::{AppSecret, VerifyToken};

pub const DEFAULT_GRAPH_URL: &str = "https://graph.facebook.com";
pub use crate::graph::client::DEFAULT_API_VERSION;
pub const DEFAULT_POLL_INTERVAL: Duration = Duration::from_secs(30);
/// The shortest poll interval accepted.
pub const MIN_POLL_INTERVAL: Duration = Duration::from_secs(1);
/// The longest poll interval accepted: 24 hours.
pub const MAX_POLL_INTERVAL: Duration = Duration::from_secs(24 * 60 * 60);

/// The default `read_concurrency`: independent reads of a round in flight at once.
pub const DEFAULT_READ_CONCURRENCY: usize = crate::graph::wabas::DEFAULT_READ_CONCURRENCY;
/// The most `read_concurrency` accepted.
pub const MAX_READ_CONCURRENCY: usize = 16;
/// The default `extras_recheck_period`: every WABA's edges are read again once in 6 hours.
pub const DEFAULT_EXTRAS_RECHECK_PERIOD: Duration = Duration::from_secs(6 * 60 * 60);

/// Everything partnerdeck is configured with, after layering.
#[derive(Debug, Clone)]
pub struct Settings {
    pub graph_url: String,
    pub api_version: String,
    pub app_id: Option<String>,
    pub business_id: Option<String>,
    pub partner_business_id: Option<String>,
    pub credit_line_id: Option<String>,
    pub token: Option<Token>,
    pub read_only: bool,
    pub poll_interval: Duration,
    pub audit_log: PathBuf,
    pub log_file: PathBuf,
    /// The largest Graph answer read, in bytes (`max_answer_bytes`,
    /// `PARTNERDECK_MAX_ANSWER_BYTES`); default 32 MB.
    pub max_answer_bytes: u64,
    /// The config file that was read, or the default location that was looked at (for
    /// messages telling the user where to put a setting). `None` if there is no config dir.
    pub config_file: Option<PathBuf>,
    /// Webhooks and the event history (design.md, settings table).
    pub webhook_listen: Option<std::net::SocketAddr>,
    pub webhook_file: Option<PathBuf>,
    pub webhook_verify_token: Option<VerifyToken>,
    pub app_secret: Option<AppSecret>,
    pub event_db: PathBuf,
    pub event_retention: Retention,
    /// The chosen theme (`theme`, `PARTNERDECK_THEME`); `None` leaves it to `NO_COLOR`.
    pub theme: Option<ThemeName>,
    /// The key map: the defaults with the config file's `[keys]` table applied.
    pub keymap: std::sync::Arc<Keymap>,
    /// Partner kind, BSP, BSP URLs and credentials (issue 10).
    pub partner: PartnerSettings,
    /// Independent reads of a round in flight at once (`read_concurrency`,
    /// `PARTNERDECK_READ_CONCURRENCY`), 1 to 16; default 4.
    pub read_concurrency: usize,
    /// Over how long every WABA's subscribed apps and solutions are read again, a slice each
    /// round (`extras_recheck_period` in seconds, `PARTNERDECK_EXTRAS_RECHECK_PERIOD`), from
    /// the poll interval to 7 days; default 6 hours.
    pub extras_recheck_period: Duration,
}

impl Default for Settings {
    /// Built-in defaults only (no file, no environment, no flags).
    fn default() -> Settings {
        let dirs = project_dirs();
        let data = data_dir(dirs.as_ref());
        Settings {
            graph_url: DEFAULT_GRAPH_URL.to_string(),
            api_version: DEFAULT_API_VERSION.to_string(),
            app_id: None,
            business_id: None,
            partner_business_id: None,
            credit_line_id: None,
            token: None,
            read_only: false,
            poll_interval: DEFAULT_POLL_INTERVAL,
            audit_log: data.join("audit.jsonl"),
            log_file: data.join("partnerdeck.log"),
            max_answer_bytes: crate::graph::client::DEFAULT_MAX_ANSWER_BYTES,
            config_file: default_config_file(dirs.as_ref()),
            webhook_listen: None,
            webhook_file: None,
            webhook_verify_token: None,
            app_secret: None,
            event_db: data.join(crate::store::DEFAULT_FILE_NAME),
            event_retention: Retention::default(),
            theme: None,
            keymap: crate::app::keymap::default_keymap(),
            partner: PartnerSettings::default(),
            read_concurrency: DEFAULT_READ_CONCURRENCY,
            extras_recheck_period: DEFAULT_EXTRAS_RECHECK_PERIOD,
        }
    }
}

/// What the console needs to talk to Meta, checked by [`Settings::require`].
#[derive(Debug, Clone)]
pub struct Ready {
    pub token: Token,
    pub app_id: String,
    pub business_id: Option<String>,
}

/// A settings problem, displayed as one plain sentence (main prints it and exits 2).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error(
        "The config file {path} does not exist: create it or point --config / PARTNERDECK_CONFIG at an existing file."
    )]
    ConfigMissing { path: PathBuf },
    #[error("Cannot read {path}: {reason}.")]
    Read { path: PathBuf, reason: String },
    #[error("The config file {path} is not valid TOML{at}: {reason}.")]
    Parse {
        path: PathBuf,
        /// " at line L, column C" when the parser said where.
        at: String,
        reason: String,
    },
    #[error("Unknown key `{key}` in {path}{at}: the known keys are {known}.")]
    UnknownKey {
        path: PathBuf,
        at: String,
        key: String,
        known: String,
    },
    #[error("The [keys] table in {path}{at}: {sentence}.")]
    Keys {
        path: PathBuf,
        at: String,
        sentence: String,
    },
    #[error(
        "The key `token` is not allowed in {path}: put the token in a file of its own (chmod 600) and name it with token_file, or set PARTNERDECK_TOKEN."
    )]
    TokenInConfig { path: PathBuf },
    #[error("Bad value for `{key}` in {path}{at}: {reason}.")]
    BadKey {
        path: PathBuf,
        at: String,
        key: String,
        reason: String,
    },
    #[error("Bad value for {name}: {reason}.")]
    BadValue { name: String, reason: String },
    #[error(
        "The token file {path} can be read by other users (mode {mode:o}): run `chmod 600 {path}` and try again."
    )]
    TokenFileMode { path: PathBuf, mode: u32 },
    #[error(
        "The token file {path} is not a regular file (a pipe, a device or a directory): name a plain file with mode 0600."
    )]
    TokenFileKind { path: PathBuf },
    #[error(
        "The token file {path} is larger than {max} bytes, so it cannot hold just a token: name the file that holds only the token."
    )]
    TokenFileSize { path: PathBuf, max: u64 },
    #[error("The token in {origin} is empty.")]
    TokenEmpty { origin: String },
    #[error("The token in {origin} contains spaces or control characters.")]
    TokenMalformed { origin: String },
    #[error("{what}: set {how}.")]
    Missing { what: String, how: String },
    #[error(
        "The key `{key}` is not allowed in {path}: put the secret in a file of its own (chmod 600) and name it with {key}_file, or use the environment."
    )]
    SecretInConfig { key: String, path: PathBuf },
    #[error(
        "The {what} file {path} can be read by other users (mode {mode:o}): run `chmod 600 {path}` and try again."
    )]
    SecretFileMode {
        what: String,
        path: PathBuf,
        mode: u32,
    },
}

/// The keys a config file may hold.
pub const CONFIG_KEYS: &[&str] = &[
    "theme",
    "keys",
    "graph_url",
    "api_version",
    "app_id",
    "business_id",
    "partner_business_id",
    "credit_line_id",
    "read_only",
    "poll_interval",
    "audit_log",
    "log_file",
    "token_file",
    "webhook_listen",
    "webhook_file",
    "app_secret_file",
    "event_db",
    "event_retention_days",
    "event_retention_count",
    "event_retention_mb",
    "partner_kind",
    "bsp",
    "plivo_url",
    "telnyx_url",
    "plivo_credentials_file",
    "telnyx_api_key_file",
    "max_answer_bytes",
    "read_concurrency",
    "extras_recheck_period",
];

/// The largest token file read: a token is a few hundred bytes.
pub const MAX_TOKEN_FILE_BYTES: u64 = 8 * 1024;

/// The smallest and largest `max_answer_bytes` accepted: 64 KB … 1 GB.
pub const MIN_ANSWER_BYTES: u64 = 64 * 1024;
pub const MAX_ANSWER_BYTES: u64 = 1024 * 1024 * 1024;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileSettings {
    theme: Option<String>,
    /// Only its type is checked here; `key_overrides` reads it again with the lines.
    #[allow(dead_code)]
    keys: Option<toml::Table>,
    #[serde(skip)]
    key_overrides: Vec<KeyOverride>,
    graph_url: Option<String>,
    api_version: Option<String>,
    app_id: Option<IdValue>,
    business_id: Option<IdValue>,
    partner_business_id: Option<IdValue>,
    credit_line_id: Option<IdValue>,
    read_only: Option<bool>,
    poll_interval: Option<u64>,
    audit_log: Option<PathBuf>,
    log_file: Option<PathBuf>,
    token_file: Option<PathBuf>,
    webhook_listen: Option<String>,
    webhook_file: Option<PathBuf>,
    app_secret_file: Option<PathBuf>,
    event_db: Option<PathBuf>,
    event_retention_days: Option<u64>,
    event_retention_count: Option<u64>,
    event_retention_mb: Option<u64>,
    partner_kind: Option<String>,
    bsp: Option<String>,
    plivo_url: Option<String>,
    telnyx_url: Option<String>,
    plivo_credentials_file: Option<PathBuf>,
    telnyx_api_key_file: Option<PathBuf>,
    max_answer_bytes: Option<u64>,
    read_concurrency: Option<u64>,
    extras_recheck_period: Option<u64>,
}

/// Ids may be written as strings or (carelessly, but commonly) as bare integers.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum IdValue {
    Str(String),
    Int(u64),
}

impl IdValue {
    fn into_string(self) -> String {
        match self {
            IdValue::Str(s) => s,
            IdValue::Int(i) => i.to_string(),
        }
    }
}

fn project_dirs() -> Option<directories::ProjectDirs> {
    directories::ProjectDirs::from("", "", "partnerdeck")
}

fn data_dir(dirs: Option<&directories::ProjectDirs>) -> PathBuf {
    dirs.map(|d| d.data_dir().to_path_buf())
        .unwrap_or_else(|| PathBuf::from(".partnerdeck"))
}

fn default_config_file(dirs: Option<&directories::ProjectDirs>) -> Option<PathBuf> {
    dirs.map(|d| d.config_dir().join("config.toml"))
}

/// Load settings from flags (`args`, which clap already merged with the environment), the
/// environment (`env`, consulted again so tests can fake it, and for the token), the config
/// file and the built-in defaults.
pub fn load(
    args: &GlobalArgs,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Settings, ConfigError> {
    let env = |name: &str| env(name).filter(|v| !v.trim().is_empty());
    let defaults = Settings::default();

    // Which config file, and must it exist?
    let explicit = args
        .config
        .clone()
        .or_else(|| env("PARTNERDECK_CONFIG").map(PathBuf::from));
    let (config_file, mut file) = match explicit {
        Some(path) => {
            if !path.is_file() {
                return Err(ConfigError::ConfigMissing { path });
            }
            let f = read_file_settings(&path)?;
            (Some(path), f)
        }
        None => match defaults.config_file.clone() {
            Some(path) if path.is_file() => {
                let f = read_file_settings(&path)?;
                (Some(path), f)
            }
            other => (other, FileSettings::default()),
        },
    };
    let file_path = config_file.clone().unwrap_or_default();
    let base = file_path
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default();
    let hooks = webhook_settings(args, &env, &file, &base, &defaults)?;
    let theme = match env("PARTNERDECK_THEME") {
        Some(v) => Some((v, "PARTNERDECK_THEME".to_string())),
        None => file
            .theme
            .take()
            .map(|v| (v, format!("theme in {}", file_path.display()))),
    };
    let theme = match theme {
        Some((v, from)) => {
            Some(
                v.parse::<ThemeName>()
                    .map_err(|reason| ConfigError::BadValue {
                        name: format!("the theme ({from})"),
                        reason,
                    })?,
            )
        }
        None => None,
    };
    let keymap =
        Keymap::with_overrides(&file.key_overrides).map_err(|problem| ConfigError::Keys {
            path: file_path.clone(),
            at: problem
                .line
                .map_or(String::new(), |l| format!(", line {l}")),
            sentence: problem.sentence,
        })?;
    let partner = load_partner(args, &env, &mut file, &base)?;

    let pick = |flag: &Option<String>, var: &str, file: Option<String>| -> Option<String> {
        flag.clone()
            .filter(|v| !v.trim().is_empty())
            .or_else(|| env(var))
            .or(file)
            .map(|v| v.trim().to_string())
    };

    let graph_url = pick(&args.graph_url, "PARTNERDECK_GRAPH_URL", file.graph_url)
        .unwrap_or(defaults.graph_url);
    let graph_url = validate_graph_url(&graph_url)?;
    let api_version = pick(
        &args.api_version,
        "PARTNERDECK_API_VERSION",
        file.api_version,
    )
    .unwrap_or(defaults.api_version);
    validate_api_version(&api_version)?;

    let app_id = pick(
        &args.app_id,
        "PARTNERDECK_APP_ID",
        file.app_id.map(IdValue::into_string),
    );
    let business_id = pick(
        &args.business_id,
        "PARTNERDECK_BUSINESS_ID",
        file.business_id.map(IdValue::into_string),
    );
    let partner_business_id = pick(
        &args.partner_business_id,
        "PARTNERDECK_PARTNER_BUSINESS_ID",
        file.partner_business_id.map(IdValue::into_string),
    );
    let credit_line_id = pick(
        &args.credit_line_id,
        "PARTNERDECK_CREDIT_LINE_ID",
        file.credit_line_id.map(IdValue::into_string),
    );

    let read_only = match args.read_only {
        Some(b) => b,
        None => match env("PARTNERDECK_READ_ONLY") {
            Some(v) => parse_bool(&v).map_err(|reason| ConfigError::BadValue {
                name: "PARTNERDECK_READ_ONLY".into(),
                reason,
            })?,
            None => file.read_only.unwrap_or(defaults.read_only),
        },
    };

    let poll_secs = match args.poll_interval {
        Some(s) => Some(s),
        None => match env("PARTNERDECK_POLL_INTERVAL") {
            Some(v) => Some(v.trim().parse::<u64>().map_err(|_| ConfigError::BadValue {
                name: "PARTNERDECK_POLL_INTERVAL".into(),
                reason: format!("expected a whole number of seconds, got {:?}", v.trim()),
            })?),
            None => file.poll_interval,
        },
    };
    let poll_interval = match poll_secs {
        Some(s) if !(MIN_POLL_INTERVAL.as_secs()..=MAX_POLL_INTERVAL.as_secs()).contains(&s) => {
            return Err(ConfigError::BadValue {
                name: "the poll interval".into(),
                reason: format!(
                    "it must be at least 1 second and at most 24 hours (86400 seconds), got {s}"
                ),
            });
        }
        Some(s) => Duration::from_secs(s),
        None => defaults.poll_interval,
    };

    let path_setting = |flag: &Option<PathBuf>, var: &str, file: Option<PathBuf>| {
        flag.clone()
            .filter(|p| !p.as_os_str().is_empty())
            .or_else(|| env(var).map(PathBuf::from))
            .or_else(|| file.map(|p| resolve(&base, &p)))
    };
    let audit_log = path_setting(&args.audit_log, "PARTNERDECK_AUDIT_LOG", file.audit_log)
        .unwrap_or(defaults.audit_log);
    let log_file = path_setting(&args.log_file, "PARTNERDECK_LOG_FILE", file.log_file)
        .unwrap_or(defaults.log_file);

    let max_answer_bytes = match env("PARTNERDECK_MAX_ANSWER_BYTES") {
        Some(v) => Some(v.trim().parse::<u64>().map_err(|_| ConfigError::BadValue {
            name: "PARTNERDECK_MAX_ANSWER_BYTES".into(),
            reason: format!("expected a whole number of bytes, got {:?}", v.trim()),
        })?),
        None => file.max_answer_bytes,
    };
    let max_answer_bytes = match max_answer_bytes {
        Some(n) if !(MIN_ANSWER_BYTES..=MAX_ANSWER_BYTES).contains(&n) => {
            return Err(ConfigError::BadValue {
                name: "the answer size limit (max_answer_bytes)".into(),
                reason: format!(
                    "it must be between {MIN_ANSWER_BYTES} (64 KB) and {MAX_ANSWER_BYTES} (1 GB) bytes, got {n}"
                ),
            });
        }
        Some(n) => n,
        None => defaults.max_answer_bytes,
    };

    let whole = |var: &str, file: Option<u64>, unit: &str| match env(var) {
        Some(v) => v
            .trim()
            .parse::<u64>()
            .map(Some)
            .map_err(|_| ConfigError::BadValue {
                name: var.into(),
                reason: format!("expected a whole number of {unit}, got {:?}", v.trim()),
            }),
        None => Ok(file),
    };
    let read_concurrency = match whole(
        "PARTNERDECK_READ_CONCURRENCY",
        file.read_concurrency,
        "reads",
    )? {
        Some(n) if !(1..=MAX_READ_CONCURRENCY as u64).contains(&n) => {
            return Err(ConfigError::BadValue {
                name: "the read concurrency (read_concurrency)".into(),
                reason: format!("it must be between 1 and {MAX_READ_CONCURRENCY}, got {n}"),
            });
        }
        Some(n) => n as usize,
        None => defaults.read_concurrency,
    };
    let extras_recheck_period = match whole(
        "PARTNERDECK_EXTRAS_RECHECK_PERIOD",
        file.extras_recheck_period,
        "seconds",
    )? {
        Some(s) if s < poll_interval.as_secs() || s > 7 * 24 * 60 * 60 => {
            return Err(ConfigError::BadValue {
                name: "the re-check period (extras_recheck_period)".into(),
                reason: format!(
                    "it must be at least the poll interval ({} seconds) and at most 7 days (604800 seconds), got {s}",
                    poll_interval.as_secs()
                ),
            });
        }
        Some(s) => Duration::from_secs(s),
        None => defaults.extras_recheck_period,
    };

    let token = match env("PARTNERDECK_TOKEN") {
        Some(t) => Some(check_token(&t, "PARTNERDECK_TOKEN")?),
        None => match file.token_file {
            Some(p) => Some(read_token_file(&resolve(&base, &p))?),
            None => None,
        },
    };

    Ok(Settings {
        graph_url,
        api_version,
        app_id,
        business_id,
        partner_business_id,
        credit_line_id,
        token,
        read_only,
        poll_interval,
        audit_log,
        log_file,
        max_answer_bytes,
        config_file,
        webhook_listen: hooks.listen,
        webhook_file: hooks.file,
        webhook_verify_token: hooks.verify_token,
        app_secret: hooks.app_secret,
        event_db: hooks.event_db,
        event_retention: hooks.retention,
        theme,
        keymap: std::sync::Arc::new(keymap),
        partner,
        read_concurrency,
        extras_recheck_period,
    })
}

struct WebhookSettings {
    listen: Option<std::net::SocketAddr>,
    file: Option<PathBuf>,
    verify_token: Option<VerifyToken>,
    app_secret: Option<AppSecret>,
    event_db: PathBuf,
    retention: Retention,
}

/// The webhook and event-history settings. The app secret comes only from
/// `PARTNERDECK_APP_SECRET` or the 0600 file named by `app_secret_file`; never a flag.
fn webhook_settings(
    args: &GlobalArgs,
    env: &dyn Fn(&str) -> Option<String>,
    file: &FileSettings,
    base: &Path,
    defaults: &Settings,
) -> Result<WebhookSettings, ConfigError> {
    let listen_raw = args
        .webhook_listen
        .clone()
        .filter(|v| !v.trim().is_empty())
        .or_else(|| env("PARTNERDECK_WEBHOOK_LISTEN"))
        .or_else(|| file.webhook_listen.clone());
    let listen = match listen_raw {
        Some(raw) => Some(crate::webhooks::parse_listen_addr(&raw).map_err(|reason| {
            ConfigError::BadValue {
                name: "the webhook listen address".into(),
                reason,
            }
        })?),
        None => None,
    };
    let webhook_file = args
        .webhook_file
        .clone()
        .filter(|p| !p.as_os_str().is_empty())
        .or_else(|| env("PARTNERDECK_WEBHOOK_FILE").map(PathBuf::from))
        .or_else(|| file.webhook_file.as_ref().map(|p| resolve(base, p)));
    let verify_token = env("PARTNERDECK_WEBHOOK_VERIFY_TOKEN").map(|t| VerifyToken::new(t.trim()));
    let app_secret = match env("PARTNERDECK_APP_SECRET") {
        Some(s) => Some(AppSecret::new(s.trim())),
        None => match &file.app_secret_file {
            Some(p) => Some(AppSecret::new(read_secret_file(
                &resolve(base, p),
                "app secret",
                "app_secret_file",
            )?)),
            None => None,
        },
    };
    let event_db = env("PARTNERDECK_EVENT_DB")
        .map(PathBuf::from)
        .or_else(|| file.event_db.as_ref().map(|p| resolve(base, p)))
        .unwrap_or_else(|| defaults.event_db.clone());
    let number = |var: &str, from_file: Option<u64>| -> Result<Option<u64>, ConfigError> {
        match env(var) {
            Some(v) => v
                .trim()
                .parse::<u64>()
                .map(Some)
                .map_err(|_| ConfigError::BadValue {
                    name: var.into(),
                    reason: format!("expected a whole number, got {:?}", v.trim()),
                }),
            None => Ok(from_file),
        }
    };
    let mut retention = defaults.event_retention;
    if let Some(days) = number(
        "PARTNERDECK_EVENT_RETENTION_DAYS",
        file.event_retention_days,
    )? {
        retention.max_age = Duration::from_secs(days.saturating_mul(24 * 3600));
    }
    if let Some(n) = number(
        "PARTNERDECK_EVENT_RETENTION_COUNT",
        file.event_retention_count,
    )? {
        retention.max_count = n;
    }
    if let Some(mb) = number("PARTNERDECK_EVENT_RETENTION_MB", file.event_retention_mb)? {
        retention.max_bytes = mb.saturating_mul(1 << 20);
    }
    Ok(WebhookSettings {
        listen,
        file: webhook_file,
        verify_token,
        app_secret,
        event_db,
        retention,
    })
}

/// Read a secret from a file that must not be readable or writable by group or others.
fn read_secret_file(path: &Path, what: &str, key: &str) -> Result<String, ConfigError> {
    let meta = std::fs::metadata(path).map_err(|e| ConfigError::Read {
        path: path.to_path_buf(),
        reason: format!("{e} (the {key} setting names it)"),
    })?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(ConfigError::SecretFileMode {
                what: what.to_string(),
                path: path.to_path_buf(),
                mode,
            });
        }
    }
    #[cfg(not(unix))]
    let _ = meta;
    let text = std::fs::read_to_string(path).map_err(|e| ConfigError::Read {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })?;
    let t = text.trim();
    if t.is_empty() {
        return Err(ConfigError::TokenEmpty {
            origin: path.display().to_string(),
        });
    }
    Ok(t.to_string())
}

impl Settings {
    /// The config file to name in messages.
    fn config_label(&self) -> String {
        match &self.config_file {
            Some(p) => p.display().to_string(),
            None => "the config file".to_string(),
        }
    }

    /// Check that what the console needs to talk to Meta is there: the token and the app id.
    /// The error names the missing setting and every way to give it.
    pub fn require(&self) -> Result<Ready, ConfigError> {
        let token = self.token.clone().ok_or_else(|| ConfigError::Missing {
            what: "No access token".into(),
            how: format!(
                "PARTNERDECK_TOKEN, or token_file in {} naming a file with mode 0600 (there is no token flag, or try --demo)",
                self.config_label()
            ),
        })?;
        let app_id = self.app_id.clone().ok_or_else(|| ConfigError::Missing {
            what: "No app id".into(),
            how: format!(
                "--app-id, PARTNERDECK_APP_ID or app_id in {}",
                self.config_label()
            ),
        })?;
        Ok(Ready {
            token,
            app_id,
            business_id: self.business_id.clone(),
        })
    }

    /// Like [`require`](Self::require) for the business id (WABAs, credit lines).
    pub fn require_business_id(&self) -> Result<String, ConfigError> {
        self.business_id
            .clone()
            .ok_or_else(|| ConfigError::Missing {
                what: "No business id".into(),
                how: format!(
                    "--business-id, PARTNERDECK_BUSINESS_ID or business_id in {}",
                    self.config_label()
                ),
            })
    }

    /// The configuration of the client of our BSP (`PARTNERDECK_BSP` with its credentials),
    /// for the `B` key. The error names the missing setting and every way to give it.
    pub fn require_bsp(&self) -> Result<BspConfig, ConfigError> {
        let bsp = self.partner.bsp.ok_or_else(|| ConfigError::Missing {
            what: "No BSP".into(),
            how: format!(
                "PARTNERDECK_BSP=plivo or PARTNERDECK_BSP=telnyx, or bsp in {}",
                self.config_label()
            ),
        })?;
        self.partner
            .bsp_config(self.app_id.as_deref(), self.read_only)
            .ok_or_else(|| match bsp {
                Bsp::Plivo => ConfigError::Missing {
                    what: "No Plivo credentials".into(),
                    how: format!(
                        "PARTNERDECK_PLIVO_AUTH_ID and PARTNERDECK_PLIVO_AUTH_TOKEN, or plivo_credentials_file in {} naming a file with mode 0600 that holds AUTH_ID:AUTH_TOKEN (there are no credential flags)",
                        self.config_label()
                    ),
                },
                Bsp::Telnyx => ConfigError::Missing {
                    what: "No Telnyx API key".into(),
                    how: format!(
                        "PARTNERDECK_TELNYX_API_KEY, or telnyx_api_key_file in {} naming a file with mode 0600 (there is no key flag)",
                        self.config_label()
                    ),
                },
            })
    }

    /// The client configuration these settings describe, with the default timeouts.
    pub fn client_config(&self, token: Token) -> ClientConfig {
        ClientConfig {
            api_version: self.api_version.clone(),
            read_only: self.read_only,
            max_answer_bytes: self.max_answer_bytes,
            ..ClientConfig::new(self.graph_url.clone(), token)
        }
    }
}

/// A relative path in the config file is relative to the file's directory; `~/` is home.
fn resolve(base: &Path, p: &Path) -> PathBuf {
    if let Ok(rest) = p.strip_prefix("~")
        && let Some(home) = directories::BaseDirs::new()
    {
        return home.home_dir().join(rest);
    }
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        base.join(p)
    }
}

fn read_file_settings(path: &Path) -> Result<FileSettings, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|e| ConfigError::Read {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })?;
    // Each top-level value with where it starts, so a message can give its line.
    let spans: std::collections::BTreeMap<String, toml::Spanned<toml::Value>> =
        toml::from_str(&text).map_err(|e| ConfigError::Parse {
            path: path.to_path_buf(),
            at: located(&text, e.span().map(|s| s.start)),
            reason: one_line(e.message()),
        })?;
    let at = |key: &str| located(&text, spans.get(key).map(|v| v.span().start));
    let table: toml::Table = spans
        .iter()
        .map(|(k, v)| (k.clone(), v.get_ref().clone()))
        .collect();
    for key in table.keys() {
        if key == "token" || key == "access_token" {
            return Err(ConfigError::TokenInConfig {
                path: path.to_path_buf(),
            });
        }
        if key == "app_secret" || key == "webhook_verify_token" {
            return Err(ConfigError::SecretInConfig {
                key: key.clone(),
                path: path.to_path_buf(),
            });
        }
        if !CONFIG_KEYS.contains(&key.as_str()) {
            return Err(ConfigError::UnknownKey {
                path: path.to_path_buf(),
                at: at(key),
                key: key.clone(),
                known: CONFIG_KEYS.join(", "),
            });
        }
    }
    // Check types key by key so the message names the key.
    for (key, value) in &table {
        let mut one = toml::Table::new();
        one.insert(key.clone(), value.clone());
        if let Err(e) = FileSettings::deserialize(one) {
            return Err(ConfigError::BadKey {
                path: path.to_path_buf(),
                at: at(key),
                key: key.clone(),
                reason: one_line(e.message()),
            });
        }
    }
    let mut file = FileSettings::deserialize(table).map_err(|e| ConfigError::Parse {
        path: path.to_path_buf(),
        at: String::new(),
        reason: one_line(e.message()),
    })?;
    file.key_overrides = key_overrides(path, &text)?;
    Ok(file)
}

/// The `[keys]` table's entries with their lines: `command = "key"` or `command = ["key", …]`.
fn key_overrides(path: &Path, text: &str) -> Result<Vec<KeyOverride>, ConfigError> {
    #[derive(Deserialize)]
    struct KeysOnly {
        #[serde(default)]
        keys: std::collections::BTreeMap<String, toml::Spanned<toml::Value>>,
    }
    let keys = toml::from_str::<KeysOnly>(text)
        .map_err(|e| ConfigError::Keys {
            path: path.to_path_buf(),
            at: located(text, e.span().map(|s| s.start)),
            sentence: one_line(e.message()),
        })?
        .keys;
    let mut out: Vec<KeyOverride> = Vec::new();
    for (command, value) in keys {
        let (line, _) = position(text, value.span().start);
        let keys = match value.get_ref() {
            toml::Value::String(k) => Some(vec![k.clone()]),
            toml::Value::Array(list) => list
                .iter()
                .map(|v| v.as_str().map(str::to_string))
                .collect::<Option<Vec<String>>>(),
            _ => None,
        };
        let Some(keys) = keys else {
            return Err(ConfigError::Keys {
                path: path.to_path_buf(),
                at: format!(", line {line}"),
                sentence: format!(
                    "{command} must be a key or a list of keys, like \"a\" or [\"j\", \"Down\"]"
                ),
            });
        };
        out.push(KeyOverride {
            command,
            keys,
            line: Some(line),
        });
    }
    // In file order, so the first problem reported is the first one in the file.
    out.sort_by_key(|o| o.line);
    Ok(out)
}

/// Line and column (both from 1, the column in characters) of byte `offset` in `text`.
fn position(text: &str, offset: usize) -> (usize, usize) {
    let mut end = offset.min(text.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let before = &text[..end];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

/// " at line L, column C" for a byte offset, or nothing when it is not known.
fn located(text: &str, offset: Option<usize>) -> String {
    offset.map_or(String::new(), |o| {
        let (line, column) = position(text, o);
        format!(" at line {line}, column {column}")
    })
}

fn one_line(s: &str) -> String {
    s.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .trim_end_matches('.')
        .to_string()
}

fn validate_api_version(v: &str) -> Result<(), ConfigError> {
    let ok = v
        .strip_prefix('v')
        .and_then(|r| r.strip_suffix(".0"))
        .is_some_and(|n| !n.is_empty() && n.len() <= 3 && n.bytes().all(|b| b.is_ascii_digit()));
    if ok {
        Ok(())
    } else {
        Err(ConfigError::BadValue {
            name: "the API version".into(),
            reason: format!("expected the form vNN.0 (e.g. {DEFAULT_API_VERSION}), got {v:?}"),
        })
    }
}

/// An http(s) URL with a host and no query, fragment or credentials. Plain http is allowed
/// only to a loopback host (the simulator), so the token never travels unencrypted.
fn validate_graph_url(raw: &str) -> Result<String, ConfigError> {
    let bad = |reason: String| ConfigError::BadValue {
        name: "the Graph URL".into(),
        reason,
    };
    let url = url::Url::parse(raw).map_err(|e| bad(format!("{raw:?} is not a URL ({e})")))?;
    let host = match url.host() {
        Some(h) => h,
        None => return Err(bad(format!("{raw:?} has no host"))),
    };
    if !url.username().is_empty() || url.password().is_some() {
        return Err(bad("it must not contain credentials".into()));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(bad(format!("{raw:?} must not have a query or fragment")));
    }
    match url.scheme() {
        "https" => {}
        "http" => {
            let loopback = match host {
                url::Host::Domain(d) => d.eq_ignore_ascii_case("localhost"),
                url::Host::Ipv4(a) => a.is_loopback(),
                url::Host::Ipv6(a) => a.is_loopback(),
            };
            if !loopback {
                return Err(bad(format!(
                    "{raw:?} uses plain http to a host that is not loopback, so the token would travel unencrypted; use https"
                )));
            }
        }
        other => {
            return Err(bad(format!(
                "the scheme must be http or https, got {other:?}"
            )));
        }
    }
    Ok(raw.trim_end_matches('/').to_string())
}

fn check_token(raw: &str, source: &str) -> Result<Token, ConfigError> {
    let t = raw.trim_end_matches(['\n', '\r']).trim();
    if t.is_empty() {
        return Err(ConfigError::TokenEmpty {
            origin: source.to_string(),
        });
    }
    if t.chars().any(|c| c.is_whitespace() || c.is_control()) || !t.is_ascii() {
        return Err(ConfigError::TokenMalformed {
            origin: source.to_string(),
        });
    }
    Ok(Token::new(t))
}

/// Read the token file; it must be a regular file of at most [`MAX_TOKEN_FILE_BYTES`]
/// (checked before it is opened, so a FIFO never hangs start-up), not readable or writable
/// by group or others.
pub fn read_token_file(path: &Path) -> Result<Token, ConfigError> {
    let meta = std::fs::metadata(path).map_err(|e| ConfigError::Read {
        path: path.to_path_buf(),
        reason: format!("{e} (the token_file setting names it)"),
    })?;
    if !meta.file_type().is_file() {
        return Err(ConfigError::TokenFileKind {
            path: path.to_path_buf(),
        });
    }
    if meta.len() > MAX_TOKEN_FILE_BYTES {
        return Err(ConfigError::TokenFileSize {
            path: path.to_path_buf(),
            max: MAX_TOKEN_FILE_BYTES,
        });
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(ConfigError::TokenFileMode {
                path: path.to_path_buf(),
                mode,
            });
        }
    }
    #[cfg(not(unix))]
    let _ = meta;
    // Read at most one byte past the limit: the file may have grown since the check.
    let mut text = String::new();
    {
        use std::io::Read;
        let file = std::fs::File::open(path).map_err(|e| ConfigError::Read {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })?;
        file.take(MAX_TOKEN_FILE_BYTES + 1)
            .read_to_string(&mut text)
            .map_err(|e| ConfigError::Read {
                path: path.to_path_buf(),
                reason: e.to_string(),
            })?;
    }
    if text.len() as u64 > MAX_TOKEN_FILE_BYTES {
        return Err(ConfigError::TokenFileSize {
            path: path.to_path_buf(),
            max: MAX_TOKEN_FILE_BYTES,
        });
    }
    check_token(&text, &path.display().to_string())
}

/// The partner-kind and BSP settings (issue 10): kind and URLs from flags, environment or the
/// config file; the credentials only from the environment or 0600 files named in the config
/// file, never flags. Takes the credential file settings out of `file`.
fn load_partner(
    args: &GlobalArgs,
    env: &dyn Fn(&str) -> Option<String>,
    file: &mut FileSettings,
    base: &Path,
) -> Result<PartnerSettings, ConfigError> {
    let defaults = PartnerSettings::default();
    let pick =
        |flag: &Option<String>, var: &str, file: Option<String>| -> Option<(String, String)> {
            flag.clone()
                .filter(|v| !v.trim().is_empty())
                .map(|v| (v, var.to_string()))
                .or_else(|| env(var).map(|v| (v, var.to_string())))
                .or(file.map(|v| (v, "the config file".to_string())))
                .map(|(v, from)| (v.trim().to_string(), from))
        };
    let partner_kind = match pick(
        &args.partner_kind,
        "PARTNERDECK_PARTNER_KIND",
        file.partner_kind.take(),
    ) {
        Some((v, from)) => {
            v.parse::<PartnerKindSetting>()
                .map_err(|reason| ConfigError::BadValue {
                    name: format!("the partner kind ({from})"),
                    reason,
                })?
        }
        None => defaults.partner_kind,
    };
    let bsp = match pick(&None, "PARTNERDECK_BSP", file.bsp.take()) {
        Some((v, from)) => Some(v.parse::<Bsp>().map_err(|reason| ConfigError::BadValue {
            name: format!("the BSP ({from})"),
            reason,
        })?),
        None => None,
    };
    let url =
        |flag: &Option<String>, var: &str, file: Option<String>, default: &str, what: &str| {
            let raw = pick(flag, var, file)
                .map(|(v, _)| v)
                .unwrap_or_else(|| default.to_string());
            validate_graph_url(&raw).map_err(|e| match e {
                ConfigError::BadValue { reason, .. } => ConfigError::BadValue {
                    name: format!("the {what} URL"),
                    reason: reason.replace("the token", "the credentials"),
                },
                other => other,
            })
        };
    let plivo_url = url(
        &args.plivo_url,
        "PARTNERDECK_PLIVO_URL",
        file.plivo_url.take(),
        &defaults.plivo_url,
        "Plivo",
    )?;
    let telnyx_url = url(
        &args.telnyx_url,
        "PARTNERDECK_TELNYX_URL",
        file.telnyx_url.take(),
        &defaults.telnyx_url,
        "Telnyx",
    )?;

    let plivo = match (
        env("PARTNERDECK_PLIVO_AUTH_ID"),
        env("PARTNERDECK_PLIVO_AUTH_TOKEN"),
    ) {
        (Some(id), Some(token)) => Some(BspCredentials::plivo(
            check_secret(&id, "PARTNERDECK_PLIVO_AUTH_ID")?,
            check_secret(&token, "PARTNERDECK_PLIVO_AUTH_TOKEN")?,
        )),
        (Some(_), None) | (None, Some(_)) => {
            return Err(ConfigError::BadValue {
                name: "the Plivo credentials".into(),
                reason: "set both PARTNERDECK_PLIVO_AUTH_ID and PARTNERDECK_PLIVO_AUTH_TOKEN, or neither".into(),
            });
        }
        (None, None) => match file.plivo_credentials_file.take() {
            Some(p) => {
                let path = resolve(base, &p);
                let text = read_credentials_file(&path, "plivo_credentials_file")?;
                let (id, token) = text.split_once(':').ok_or_else(|| ConfigError::BadValue {
                    name: format!("the Plivo credentials file {}", path.display()),
                    reason: "it must hold AUTH_ID:AUTH_TOKEN on one line".into(),
                })?;
                let origin = path.display().to_string();
                Some(BspCredentials::plivo(
                    check_secret(id, &origin)?,
                    check_secret(token, &origin)?,
                ))
            }
            None => None,
        },
    };
    let telnyx = match env("PARTNERDECK_TELNYX_API_KEY") {
        Some(k) => Some(BspCredentials::telnyx(check_secret(
            &k,
            "PARTNERDECK_TELNYX_API_KEY",
        )?)),
        None => match file.telnyx_api_key_file.take() {
            Some(p) => {
                let path = resolve(base, &p);
                let text = read_credentials_file(&path, "telnyx_api_key_file")?;
                Some(BspCredentials::telnyx(check_secret(
                    &text,
                    &path.display().to_string(),
                )?))
            }
            None => None,
        },
    };
    Ok(PartnerSettings {
        partner_kind,
        bsp,
        plivo_url,
        telnyx_url,
        plivo,
        telnyx,
    })
}

/// A credential value: trimmed, not empty, no spaces or control characters (like a token).
fn check_secret(raw: &str, origin: &str) -> Result<String, ConfigError> {
    check_token(raw, origin).map(|t| t.expose().to_string())
}

/// Read a credentials file named in the config file; like the token file it must not be
/// readable or writable by group or others.
fn read_credentials_file(path: &Path, key: &str) -> Result<String, ConfigError> {
    let meta = std::fs::metadata(path).map_err(|e| ConfigError::Read {
        path: path.to_path_buf(),
        reason: format!("{e} (the {key} setting names it)"),
    })?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(ConfigError::BadValue {
                name: format!("the credentials file {}", path.display()),
                reason: format!(
                    "it can be read by other users (mode {mode:o}): run `chmod 600 {}` and try again",
                    path.display()
                ),
            });
        }
    }
    #[cfg(not(unix))]
    let _ = meta;
    std::fs::read_to_string(path).map_err(|e| ConfigError::Read {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;
    use std::io::Write;

    fn fake_env(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k: &str| map.get(k).cloned()
    }

    fn write(dir: &Path, name: &str, text: &str, mode: u32) -> PathBuf {
        let p = dir.join(name);
        let mut f = std::fs::File::create(&p).unwrap();
        f.write_all(text.as_bytes()).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(mode)).unwrap();
        }
        p
    }

    fn args_with_config(p: &Path) -> GlobalArgs {
        GlobalArgs {
            config: Some(p.to_path_buf()),
            ..GlobalArgs::default()
        }
    }

    #[test]
    fn token_debug_is_redacted() {
        let t = Token::new("EAAsecret");
        assert_eq!(format!("{t:?}"), "Token(<redacted>)");
        assert_eq!(t.expose(), "EAAsecret");
    }

    #[test]
    fn read_concurrency_and_recheck_period_layer_and_are_checked() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = write(
            dir.path(),
            "c.toml",
            "read_concurrency = 8\nextras_recheck_period = 3600\n",
            0o600,
        );
        let s = load(&args_with_config(&cfg), &fake_env(&[])).unwrap();
        assert_eq!(s.read_concurrency, 8);
        assert_eq!(s.extras_recheck_period, Duration::from_secs(3600));
        let env = fake_env(&[("PARTNERDECK_READ_CONCURRENCY", "2")]);
        assert_eq!(
            load(&args_with_config(&cfg), &env)
                .unwrap()
                .read_concurrency,
            2
        );
        let empty = write(dir.path(), "e.toml", "", 0o600);
        let s = load(&args_with_config(&empty), &fake_env(&[])).unwrap();
        assert_eq!(s.read_concurrency, DEFAULT_READ_CONCURRENCY);
        assert_eq!(s.extras_recheck_period, DEFAULT_EXTRAS_RECHECK_PERIOD);
        for (var, value, says) in [
            ("PARTNERDECK_READ_CONCURRENCY", "0", "between 1 and 16"),
            ("PARTNERDECK_READ_CONCURRENCY", "many", "whole number"),
            (
                "PARTNERDECK_EXTRAS_RECHECK_PERIOD",
                "5",
                "at least the poll interval",
            ),
            (
                "PARTNERDECK_EXTRAS_RECHECK_PERIOD",
                "9999999",
                "at most 7 days",
            ),
        ] {
            let e = load(&args_with_config(&empty), &fake_env(&[(var, value)])).unwrap_err();
            assert!(e.to_string().contains(says), "{var}={value}: {e}");
        }
    }

    #[test]
    fn defaults_without_file() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = write(dir.path(), "c.toml", "", 0o600);
        let s = load(&args_with_config(&cfg), &fake_env(&[])).unwrap();
        assert_eq!(s.graph_url, DEFAULT_GRAPH_URL);
        assert_eq!(s.api_version, "v25.0");
        assert_eq!(s.poll_interval, Duration::from_secs(30));
        assert!(!s.read_only);
        assert!(s.token.is_none());
        assert!(s.app_id.is_none());
        assert!(s.audit_log.ends_with("audit.jsonl"));
        assert!(s.log_file.ends_with("partnerdeck.log"));
        assert_eq!(s.config_file.as_deref(), Some(cfg.as_path()));
    }

    #[test]
    fn precedence_defaults_file_env_flag() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = write(
            dir.path(),
            "c.toml",
            r#"
graph_url = "https://file.example"
api_version = "v23.0"
app_id = "file-app"
business_id = 777
partner_business_id = "file-partner"
read_only = true
poll_interval = 11
audit_log = "audit/file.jsonl"
"#,
            0o644,
        );
        let env = fake_env(&[
            ("PARTNERDECK_API_VERSION", "v24.0"),
            ("PARTNERDECK_APP_ID", "env-app"),
            ("PARTNERDECK_READ_ONLY", "no"),
            ("PARTNERDECK_POLL_INTERVAL", "12"),
        ]);
        let mut args = args_with_config(&cfg);
        args.app_id = Some("flag-app".into());
        args.poll_interval = Some(13);

        let s = load(&args, &env).unwrap();
        assert_eq!(s.graph_url, "https://file.example"); // file over default
        assert_eq!(s.api_version, "v24.0"); // env over file
        assert_eq!(s.app_id.as_deref(), Some("flag-app")); // flag over env
        assert_eq!(s.business_id.as_deref(), Some("777")); // integer id tolerated
        assert_eq!(s.partner_business_id.as_deref(), Some("file-partner"));
        assert!(s.credit_line_id.is_none());
        assert!(!s.read_only); // env "no" over file true
        assert_eq!(s.poll_interval, Duration::from_secs(13));
        assert_eq!(s.audit_log, dir.path().join("audit/file.jsonl")); // relative to the file
        assert!(s.log_file.ends_with("partnerdeck.log")); // default

        // Flag read_only over env.
        args.read_only = Some(true);
        assert!(load(&args, &env).unwrap().read_only);
        // Env over file for poll interval when no flag.
        args.poll_interval = None;
        assert_eq!(
            load(&args, &env).unwrap().poll_interval,
            Duration::from_secs(12)
        );
    }

    #[test]
    fn config_from_env_var_must_exist() {
        let env = fake_env(&[("PARTNERDECK_CONFIG", "/nonexistent/partnerdeck.toml")]);
        let e = load(&GlobalArgs::default(), &env).unwrap_err();
        assert!(matches!(e, ConfigError::ConfigMissing { .. }));
        assert!(e.to_string().contains("/nonexistent/partnerdeck.toml"));
    }

    #[test]
    fn unknown_key_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = write(
            dir.path(),
            "c.toml",
            "app_id = \"1\"\npoll_intervall = 5\n",
            0o600,
        );
        let e = load(&args_with_config(&cfg), &fake_env(&[])).unwrap_err();
        let msg = e.to_string();
        assert!(msg.contains("`poll_intervall`"), "{msg}");
        assert!(msg.contains("c.toml"), "{msg}");
    }

    #[test]
    fn token_key_in_config_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = write(dir.path(), "c.toml", "token = \"EAAx\"\n", 0o600);
        let e = load(&args_with_config(&cfg), &fake_env(&[])).unwrap_err();
        assert!(matches!(e, ConfigError::TokenInConfig { .. }));
        assert!(!e.to_string().contains("EAAx"));
    }

    #[test]
    fn bad_types_name_the_key() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = write(dir.path(), "c.toml", "poll_interval = \"soon\"\n", 0o600);
        let msg = load(&args_with_config(&cfg), &fake_env(&[]))
            .unwrap_err()
            .to_string();
        assert!(msg.contains("`poll_interval`"), "{msg}");
        let cfg = write(dir.path(), "d.toml", "not toml [", 0o600);
        let msg = load(&args_with_config(&cfg), &fake_env(&[]))
            .unwrap_err()
            .to_string();
        assert!(msg.contains("not valid TOML"), "{msg}");
    }

    #[test]
    fn token_from_env_then_file() {
        let dir = tempfile::tempdir().unwrap();
        let tok = write(dir.path(), "token", "EAAfromfile\n", 0o600);
        let cfg = write(
            dir.path(),
            "c.toml",
            &format!("token_file = {:?}\n", tok.display().to_string()),
            0o644,
        );
        let s = load(&args_with_config(&cfg), &fake_env(&[])).unwrap();
        assert_eq!(s.token.as_ref().unwrap().expose(), "EAAfromfile");
        let s = load(
            &args_with_config(&cfg),
            &fake_env(&[("PARTNERDECK_TOKEN", "EAAfromenv\n")]),
        )
        .unwrap();
        assert_eq!(s.token.unwrap().expose(), "EAAfromenv");
        // Relative token_file is relative to the config file.
        let cfg2 = write(dir.path(), "c2.toml", "token_file = \"token\"\n", 0o600);
        let s = load(&args_with_config(&cfg2), &fake_env(&[])).unwrap();
        assert_eq!(s.token.unwrap().expose(), "EAAfromfile");
    }

    #[cfg(unix)]
    #[test]
    fn token_file_permissions_are_enforced() {
        let dir = tempfile::tempdir().unwrap();
        for mode in [0o644, 0o640, 0o604, 0o660] {
            let tok = write(dir.path(), "token", "EAAx\n", mode);
            let cfg = write(dir.path(), "c.toml", "token_file = \"token\"\n", 0o600);
            let e = load(&args_with_config(&cfg), &fake_env(&[])).unwrap_err();
            let msg = e.to_string();
            assert!(matches!(e, ConfigError::TokenFileMode { .. }), "{msg}");
            assert!(
                msg.contains(&format!("chmod 600 {}", tok.display())),
                "{msg}"
            );
            assert!(!msg.contains("EAAx"));
        }
        write(dir.path(), "token", "EAAx\n", 0o400);
        let cfg = write(dir.path(), "c.toml", "token_file = \"token\"\n", 0o600);
        assert!(load(&args_with_config(&cfg), &fake_env(&[])).is_ok());
    }

    #[cfg(unix)]
    #[test]
    fn token_file_must_be_a_small_regular_file() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = write(dir.path(), "c.toml", "token_file = \"token\"\n", 0o600);
        // A FIFO: refused before it is opened (opening it would block start-up).
        let fifo = dir.path().join("token");
        let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        let e = load(&args_with_config(&cfg), &fake_env(&[])).unwrap_err();
        assert!(matches!(e, ConfigError::TokenFileKind { .. }), "{e}");
        assert!(e.to_string().contains("not a regular file"), "{e}");
        std::fs::remove_file(&fifo).unwrap();
        // A directory.
        std::fs::create_dir(&fifo).unwrap();
        let e = load(&args_with_config(&cfg), &fake_env(&[])).unwrap_err();
        assert!(matches!(e, ConfigError::TokenFileKind { .. }), "{e}");
        std::fs::remove_dir(&fifo).unwrap();
        // Too large.
        write(dir.path(), "token", &"A".repeat(9000), 0o600);
        let e = load(&args_with_config(&cfg), &fake_env(&[])).unwrap_err();
        assert!(matches!(e, ConfigError::TokenFileSize { .. }), "{e}");
        assert!(e.to_string().contains("8192 bytes"), "{e}");
        assert!(!e.to_string().contains("AAAA"), "{e}");
    }

    #[test]
    fn answer_size_limit_setting() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = write(dir.path(), "c.toml", "max_answer_bytes = 1048576\n", 0o600);
        let s = load(&args_with_config(&cfg), &fake_env(&[])).unwrap();
        assert_eq!(s.max_answer_bytes, 1 << 20);
        let s = load(
            &args_with_config(&cfg),
            &fake_env(&[("PARTNERDECK_MAX_ANSWER_BYTES", "2097152")]),
        )
        .unwrap();
        assert_eq!(s.max_answer_bytes, 2 << 20);
        assert_eq!(s.client_config(Token::new("x")).max_answer_bytes, 2 << 20);
        let cfg = write(dir.path(), "d.toml", "", 0o600);
        let s = load(&args_with_config(&cfg), &fake_env(&[])).unwrap();
        assert_eq!(s.max_answer_bytes, 32 << 20);
        for bad in ["12", "nope", "99999999999"] {
            let e = load(
                &args_with_config(&cfg),
                &fake_env(&[("PARTNERDECK_MAX_ANSWER_BYTES", bad)]),
            )
            .unwrap_err();
            assert!(
                e.to_string().contains("MAX_ANSWER_BYTES")
                    || e.to_string().contains("max_answer_bytes"),
                "{e}"
            );
        }
    }

    #[test]
    fn empty_or_missing_token_file() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "token", "\n", 0o600);
        let cfg = write(dir.path(), "c.toml", "token_file = \"token\"\n", 0o600);
        let e = load(&args_with_config(&cfg), &fake_env(&[])).unwrap_err();
        assert!(matches!(e, ConfigError::TokenEmpty { .. }), "{e}");
        let cfg = write(dir.path(), "c.toml", "token_file = \"nope\"\n", 0o600);
        let e = load(&args_with_config(&cfg), &fake_env(&[])).unwrap_err();
        assert!(e.to_string().contains("nope"), "{e}");
        let e = load(
            &args_with_config(&cfg),
            &fake_env(&[("PARTNERDECK_TOKEN", "two words")]),
        )
        .unwrap_err();
        assert!(matches!(e, ConfigError::TokenMalformed { .. }), "{e}");
        assert!(!e.to_string().contains("two words"));
    }

    #[test]
    fn validation() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = write(dir.path(), "c.toml", "", 0o600);
        let with = |vars: &[(&str, &str)]| load(&args_with_config(&cfg), &fake_env(vars));
        assert!(with(&[("PARTNERDECK_API_VERSION", "25.0")]).is_err());
        assert!(with(&[("PARTNERDECK_API_VERSION", "v25.1")]).is_err());
        assert!(with(&[("PARTNERDECK_API_VERSION", "v9.0")]).is_ok());
        assert!(with(&[("PARTNERDECK_GRAPH_URL", "ftp://x")]).is_err());
        assert!(with(&[("PARTNERDECK_GRAPH_URL", "graph.facebook.com")]).is_err());
        assert!(with(&[("PARTNERDECK_GRAPH_URL", "http://graph.example.com")]).is_err());
        assert!(with(&[("PARTNERDECK_GRAPH_URL", "https://u:p@graph.example.com")]).is_err());
        assert_eq!(
            with(&[("PARTNERDECK_GRAPH_URL", "http://127.0.0.1:8765/")])
                .unwrap()
                .graph_url,
            "http://127.0.0.1:8765"
        );
        assert!(with(&[("PARTNERDECK_GRAPH_URL", "http://localhost:1")]).is_ok());
        let e = with(&[("PARTNERDECK_POLL_INTERVAL", "0")]).unwrap_err();
        assert!(e.to_string().contains("at least 1 second"), "{e}");
        for huge in ["86401", "10000000000000", "18446744073709551615"] {
            let e = with(&[("PARTNERDECK_POLL_INTERVAL", huge)]).unwrap_err();
            assert!(e.to_string().contains("at most 24 hours"), "{e}");
        }
        assert_eq!(
            with(&[("PARTNERDECK_POLL_INTERVAL", "86400")])
                .unwrap()
                .poll_interval,
            MAX_POLL_INTERVAL
        );
        assert!(with(&[("PARTNERDECK_POLL_INTERVAL", "soon")]).is_err());
        assert!(with(&[("PARTNERDECK_READ_ONLY", "maybe")]).is_err());
        assert!(with(&[("PARTNERDECK_READ_ONLY", "yes")]).unwrap().read_only);
        assert!(with(&[("PARTNERDECK_READ_ONLY", "1")]).unwrap().read_only);
    }

    #[test]
    fn missing_setting_messages() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = write(dir.path(), "c.toml", "", 0o600);
        let s = load(&args_with_config(&cfg), &fake_env(&[])).unwrap();
        let e = s.require().unwrap_err().to_string();
        assert!(
            e.starts_with("No access token: set PARTNERDECK_TOKEN"),
            "{e}"
        );
        assert!(e.contains(&cfg.display().to_string()), "{e}");

        let s = load(
            &args_with_config(&cfg),
            &fake_env(&[("PARTNERDECK_TOKEN", "EAAx")]),
        )
        .unwrap();
        let e = s.require().unwrap_err().to_string();
        assert_eq!(
            e,
            format!(
                "No app id: set --app-id, PARTNERDECK_APP_ID or app_id in {}.",
                cfg.display()
            )
        );
        let e = s.require_business_id().unwrap_err().to_string();
        assert!(e.starts_with("No business id: set --business-id"), "{e}");

        let s = load(
            &args_with_config(&cfg),
            &fake_env(&[("PARTNERDECK_TOKEN", "EAAx"), ("PARTNERDECK_APP_ID", "42")]),
        )
        .unwrap();
        let r = s.require().unwrap();
        assert_eq!(r.app_id, "42");
        assert_eq!(r.token.expose(), "EAAx");
        let cc = s.client_config(r.token);
        assert_eq!(cc.base_url, DEFAULT_GRAPH_URL);
        assert!(!format!("{s:?}").contains("EAAx"));
        assert!(!format!("{cc:?}").contains("EAAx"));
    }

    #[test]
    fn toml_errors_give_line_and_column() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = write(
            dir.path(),
            "bad.toml",
            "app_id = \"1\"\npoll_interval = 30\ngraph_url = \"https://x.example\n",
            0o600,
        );
        let msg = load(&args_with_config(&cfg), &fake_env(&[]))
            .unwrap_err()
            .to_string();
        assert!(msg.contains("not valid TOML at line 3, column "), "{msg}");
        assert_eq!(msg.lines().count(), 1, "{msg}");

        // A value of the wrong type names the key and its line.
        let cfg = write(
            dir.path(),
            "type.toml",
            "app_id = \"1\"\n\npoll_interval = \"soon\"\n",
            0o600,
        );
        let msg = load(&args_with_config(&cfg), &fake_env(&[]))
            .unwrap_err()
            .to_string();
        assert!(
            msg.contains("`poll_interval`") && msg.contains("at line 3, column 17"),
            "{msg}"
        );
        // An unknown key too.
        let cfg = write(dir.path(), "unknown.toml", "\n\n\nthem = \"dark\"\n", 0o600);
        let msg = load(&args_with_config(&cfg), &fake_env(&[]))
            .unwrap_err()
            .to_string();
        assert!(msg.contains("`them`") && msg.contains("line 4"), "{msg}");
    }

    #[test]
    fn theme_from_file_and_environment() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = write(dir.path(), "t.toml", "theme = \"light\"\n", 0o600);
        let s = load(&args_with_config(&cfg), &fake_env(&[])).unwrap();
        assert_eq!(s.theme, Some(ThemeName::Light));
        let s = load(
            &args_with_config(&cfg),
            &fake_env(&[("PARTNERDECK_THEME", "mono")]),
        )
        .unwrap();
        assert_eq!(s.theme, Some(ThemeName::Mono));
        let cfg = write(dir.path(), "u.toml", "theme = \"sepia\"\n", 0o600);
        let msg = load(&args_with_config(&cfg), &fake_env(&[]))
            .unwrap_err()
            .to_string();
        assert!(msg.contains("theme") && msg.contains("\"sepia\""), "{msg}");
    }

    #[test]
    fn keys_table_remaps_and_refuses_conflicts_with_the_line() {
        use crate::app::keymap::Command;
        use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
        let dir = tempfile::tempdir().unwrap();
        let cfg = write(
            dir.path(),
            "k.toml",
            "app_id = \"1\"\n[keys]\naccept = \"A\"\ndown = [\"j\", \"Down\", \"Ctrl-n\"]\n",
            0o600,
        );
        let s = load(&args_with_config(&cfg), &fake_env(&[])).unwrap();
        let key = |c: char, m| KeyEvent::new(KeyCode::Char(c), m);
        assert_eq!(
            s.keymap.command_for(&key('A', KeyModifiers::SHIFT)),
            Some(Command::Accept)
        );
        assert_eq!(s.keymap.command_for(&key('a', KeyModifiers::NONE)), None);
        assert_eq!(
            s.keymap.command_for(&key('n', KeyModifiers::CONTROL)),
            Some(Command::Down)
        );

        let refused = |text: &str| {
            let cfg = write(dir.path(), "c.toml", text, 0o600);
            load(&args_with_config(&cfg), &fake_env(&[]))
                .unwrap_err()
                .to_string()
        };
        let msg = refused("[keys]\n\naccept = \"q\"\n");
        assert!(
            msg.contains("line 3")
                && msg.contains("accept on line 3")
                && msg.contains("quit by default"),
            "{msg}"
        );
        assert_eq!(msg.lines().count(), 1);
        let msg = refused("[keys]\nrefresh = \"Ctrl-c\"\n");
        assert!(msg.contains("Ctrl-c always quits"), "{msg}");
        let msg = refused("[keys]\nconfirm = \"1\"\n");
        assert!(msg.contains("PIN field"), "{msg}");
        let msg = refused("[keys]\naccpet = \"a\"\n");
        assert!(msg.contains("\"accpet\" is not a command"), "{msg}");
        let msg = refused("[keys]\naccept = 7\n");
        assert!(
            msg.contains("line 2") && msg.contains("a list of keys"),
            "{msg}"
        );
        let msg = refused("[keys]\naccept = \"Hyper-x\"\n");
        assert!(msg.contains("is not a key"), "{msg}");
        // Two panes may share a key: `S` shares on Credit lines, and may accept on Solutions.
        let cfg = write(dir.path(), "ok.toml", "[keys]\naccept = \"S\"\n", 0o600);
        assert!(load(&args_with_config(&cfg), &fake_env(&[])).is_ok());
    }
}
