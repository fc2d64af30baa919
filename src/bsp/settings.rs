//! The partner-kind and BSP settings as `config::Settings` carries them (loaded there, from
//! flags, environment and config file; the credentials only from the environment or 0600
//! files, never flags), and how they become a [`BspConfig`].

use super::{Bsp, BspConfig, BspCredentials, DEFAULT_PLIVO_URL, DEFAULT_TELNYX_URL};
use crate::domain::partner::PartnerKindSetting;

/// Partner kind, BSP, BSP URLs and credentials. `Debug` never shows the credentials.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartnerSettings {
    /// `--partner-kind` / `PARTNERDECK_PARTNER_KIND` / `partner_kind`; default `auto`.
    pub partner_kind: PartnerKindSetting,
    /// `PARTNERDECK_BSP` / `bsp`: the BSP a Tech Provider registers its customers with.
    pub bsp: Option<Bsp>,
    /// `--plivo-url` / `PARTNERDECK_PLIVO_URL` / `plivo_url`, no trailing slash.
    pub plivo_url: String,
    /// `--telnyx-url` / `PARTNERDECK_TELNYX_URL` / `telnyx_url`, no trailing slash.
    pub telnyx_url: String,
    /// `PARTNERDECK_PLIVO_AUTH_ID` + `PARTNERDECK_PLIVO_AUTH_TOKEN`, or `plivo_credentials_file`.
    pub plivo: Option<BspCredentials>,
    /// `PARTNERDECK_TELNYX_API_KEY`, or `telnyx_api_key_file`.
    pub telnyx: Option<BspCredentials>,
}

impl Default for PartnerSettings {
    fn default() -> PartnerSettings {
        PartnerSettings {
            partner_kind: PartnerKindSetting::Auto,
            bsp: None,
            plivo_url: DEFAULT_PLIVO_URL.to_string(),
            telnyx_url: DEFAULT_TELNYX_URL.to_string(),
            plivo: None,
            telnyx: None,
        }
    }
}

impl PartnerSettings {
    /// For `--demo`: the simulator at `sim_url` serves both BSPs; the demo credentials of
    /// both, `bsp` chosen, the kind left to `auto`.
    pub fn demo(sim_url: &str, bsp: Bsp) -> PartnerSettings {
        PartnerSettings {
            partner_kind: PartnerKindSetting::Auto,
            bsp: Some(bsp),
            plivo_url: sim_url.trim_end_matches('/').to_string(),
            telnyx_url: sim_url.trim_end_matches('/').to_string(),
            plivo: Some(BspCredentials::plivo(
                graph_sim::DEMO_PLIVO_AUTH_ID,
                graph_sim::DEMO_PLIVO_AUTH_TOKEN,
            )),
            telnyx: Some(BspCredentials::telnyx(graph_sim::DEMO_TELNYX_API_KEY)),
        }
    }

    /// The credentials of `bsp`, if given.
    pub fn credentials(&self, bsp: Bsp) -> Option<&BspCredentials> {
        match bsp {
            Bsp::Plivo => self.plivo.as_ref(),
            Bsp::Telnyx => self.telnyx.as_ref(),
        }
    }

    pub fn url(&self, bsp: Bsp) -> &str {
        match bsp {
            Bsp::Plivo => &self.plivo_url,
            Bsp::Telnyx => &self.telnyx_url,
        }
    }

    /// The client configuration of the chosen BSP (default timeouts), or `None` when no BSP is
    /// chosen or its credentials are missing (`config::Settings::require_bsp` says which).
    pub fn bsp_config(&self, app_id: Option<&str>, read_only: bool) -> Option<BspConfig> {
        let bsp = self.bsp?;
        let creds = self.credentials(bsp)?.clone();
        let mut cfg = BspConfig::new(self.url(bsp), creds, app_id.map(str::to_string));
        cfg.read_only = read_only;
        Some(cfg)
    }
}
