//! Partner kind (Solution Partner or Tech Provider) and the rules that follow from it: the
//! `auto` decision against the simulator's two worlds, the checklist's credit step per kind,
//! the unfunded WABAs with their Solution Partner, the snapshot fields, the onboarding limit,
//! the role cross-check, the registration state from audit records, and the settings.

use std::io::Write;
use std::path::{Path, PathBuf};

use chrono::{Duration, TimeZone, Utc};
use graph_sim::{self as sim, SimHandle, SimOptions, World};
use partnerdeck::bsp::settings::PartnerSettings;
use partnerdeck::bsp::{Bsp, BspCredentials};
use partnerdeck::cli::GlobalArgs;
use partnerdeck::config::{self, Token};
use partnerdeck::domain::partner::{
    BSP_REGISTER_ACTION, BspRegistration, ONBOARDING_LIMIT, PartnerKind, PartnerKindSetting,
    RegistrationRecord, RegistrationState, credit_step, decide_partner_kind, onboarding_window,
    registration_of, role_disagreement, unfunded_wabas,
};
use partnerdeck::graph::client::{ClientConfig, GraphClient};
use partnerdeck::graph::credit;
use partnerdeck::graph::model::Role;
use partnerdeck::graph::wabas;
use partnerdeck::snapshot;

async fn start(world: World) -> (SimHandle, GraphClient) {
    let h = sim::start(world, SimOptions::default()).await.unwrap();
    let c = GraphClient::new(ClientConfig::new(h.base_url(), Token::new(h.token()))).unwrap();
    (h, c)
}

#[tokio::test]
async fn auto_decides_from_our_credit_lines() {
    let (h, c) = start(World::demo()).await;
    let owns = credit::owns_credit_lines(&c, &h.business_id())
        .await
        .unwrap();
    assert!(owns);
    assert_eq!(
        decide_partner_kind(PartnerKindSetting::Auto, Some(owns)),
        Some(PartnerKind::SolutionPartner)
    );
    let q = h.requests();
    let last = q.last().unwrap();
    assert!(last.path.ends_with("/extendedcredits"), "{last:?}");
    assert!(last.query.contains("limit=1"), "one cheap read: {last:?}");

    let (h, c) = start(World::demo_tech_provider()).await;
    assert_eq!(h.business_id(), sim::DEMO_TP_BUSINESS_ID);
    let owns = credit::owns_credit_lines(&c, &h.business_id())
        .await
        .unwrap();
    assert!(!owns);
    assert_eq!(
        decide_partner_kind(PartnerKindSetting::Auto, Some(owns)),
        Some(PartnerKind::TechProvider)
    );
    // The setting wins; auto without knowing is undecided.
    assert_eq!(
        decide_partner_kind(PartnerKindSetting::SolutionPartner, Some(false)),
        Some(PartnerKind::SolutionPartner)
    );
    assert_eq!(
        decide_partner_kind(PartnerKindSetting::TechProvider, None),
        Some(PartnerKind::TechProvider)
    );
    assert_eq!(decide_partner_kind(PartnerKindSetting::Auto, None), None);
}

#[test]
fn credit_step_per_kind() {
    let ours: partnerdeck::domain::funding::Credentials = ["C1".into()].into();
    let sp = PartnerKind::SolutionPartner;
    let tp = PartnerKind::TechProvider;
    assert_eq!(credit_step(sp, Some("C1"), Some(&ours)), Some(true));
    assert_eq!(
        credit_step(sp, Some("SPX"), Some(&ours)),
        Some(false),
        "not our credit"
    );
    assert_eq!(credit_step(sp, None, Some(&ours)), Some(false));
    // A Tech Provider owns no credit: funded by anyone's is done.
    assert_eq!(credit_step(tp, Some("SPX"), Some(&ours)), Some(true));
    assert_eq!(credit_step(tp, Some("SPX"), None), Some(true));
    assert_eq!(credit_step(tp, Some("  "), None), Some(false));
    assert_eq!(credit_step(tp, None, None), Some(false));
}

#[tokio::test]
async fn tech_provider_world_lists_unfunded_wabas_with_their_solution_partner() {
    let (h, c) = start(World::demo_tech_provider()).await;
    let book = wabas::refresh(&c, &h.business_id(), None).await.unwrap();
    assert_eq!(book.wabas.len(), 5);
    let snap = snapshot::collect(&c, &h.app_id(), Some(&h.business_id()), None, None).await;
    let list = unfunded_wabas(&book.wabas, &snap.solutions, sim::DEMO_TP_APP_ID);
    let ids: Vec<&str> = list.iter().map(|u| u.waba_id.as_str()).collect();
    assert_eq!(
        ids,
        [
            sim::DEMO_TP_WABA_UNFUNDED_ID,
            sim::DEMO_TP_WABA_INACTIVE_ID,
            sim::DEMO_TP_WABA_TELNYX_UNFUNDED_ID
        ]
    );
    let sp_of = |id: &str| {
        let u = list.iter().find(|u| u.waba_id == id).unwrap();
        let through = &u.onboarded_through.as_ref().unwrap()[0];
        (
            through.solution_id.clone(),
            through.state.label(),
            through.solution_partner.as_ref().map(|a| a.id.clone()),
        )
    };
    // Our own solution: the partner app comes from our solution list.
    assert_eq!(
        sp_of(sim::DEMO_TP_WABA_UNFUNDED_ID),
        (
            sim::DEMO_TP_PLIVO_SOLUTION_ID.to_string(),
            "active",
            Some(sim::DEMO_PLIVO_APP_ID.to_string())
        )
    );
    assert_eq!(sp_of(sim::DEMO_TP_WABA_INACTIVE_ID).1, "deactivated");
    // Telnyx owns its solution: the owner app.
    assert_eq!(
        sp_of(sim::DEMO_TP_WABA_TELNYX_UNFUNDED_ID).2.as_deref(),
        Some(sim::DEMO_TELNYX_APP_ID)
    );
    let s = list[0].sentence();
    assert!(
        s.contains("has no funding at all") && s.contains("Plivo WhatsApp"),
        "{s}"
    );

    // The onboarding window: four WABAs in the last three days.
    let w = onboarding_window(
        book.wabas.iter().map(|w| w.node.creation_time()),
        Utc::now(),
    );
    assert_eq!(w.count, 4);
    assert_eq!(w.remaining(), ONBOARDING_LIMIT - 4);
}

#[tokio::test]
async fn snapshot_says_the_kind_and_the_registration_state() {
    // Solution Partner world, auto.
    let (h, c) = start(World::demo()).await;
    let snap = snapshot::collect(&c, &h.app_id(), Some(&h.business_id()), None, None).await;
    let v: serde_json::Value = serde_json::from_str(&snap.to_json()).unwrap();
    assert_eq!(v["partner_kind"], "solution_partner");
    assert_eq!(
        v["wabas"][0]["bsp_registration"],
        serde_json::json!({"bsp": null, "state": "not_applicable", "at": null})
    );

    // Tech Provider world, auto, with Plivo as our BSP.
    let (h, c) = start(World::demo_tech_provider()).await;
    let partner = PartnerSettings {
        bsp: Some(Bsp::Plivo),
        ..PartnerSettings::default()
    };
    let snap = snapshot::collect_with(
        &c,
        &h.app_id(),
        Some(&h.business_id()),
        None,
        None,
        &partner,
    )
    .await;
    assert!(snap.errors.is_empty(), "{:?}", snap.errors);
    let v: serde_json::Value = serde_json::from_str(&snap.to_json()).unwrap();
    assert_eq!(v["partner_kind"], "tech_provider");
    let waba = |id: &str| {
        v["wabas"]
            .as_array()
            .unwrap()
            .iter()
            .find(|w| w["id"] == id)
            .unwrap()
            .clone()
    };
    // Funded by the Solution Partner's credit: the credit step is done.
    assert_eq!(
        waba(sim::DEMO_TP_WABA_REGISTERED_ID)["onboarding"]["credit_shared"],
        true
    );
    assert_eq!(
        waba(sim::DEMO_TP_WABA_UNFUNDED_ID)["onboarding"]["credit_shared"],
        false
    );
    assert_eq!(
        waba(sim::DEMO_TP_WABA_REGISTERED_ID)["bsp_registration"],
        serde_json::json!({"bsp": "plivo", "state": "unknown", "at": null})
    );
    assert_eq!(v["credit_lines"], serde_json::json!([]));

    // An explicit setting wins over auto.
    let partner = PartnerSettings {
        partner_kind: PartnerKindSetting::SolutionPartner,
        ..PartnerSettings::default()
    };
    let snap = snapshot::collect_with(
        &c,
        &h.app_id(),
        Some(&h.business_id()),
        None,
        None,
        &partner,
    )
    .await;
    assert_eq!(snap.partner_kind, Some(PartnerKind::SolutionPartner));
}

#[test]
fn onboarding_limit_counts_a_rolling_week() {
    let now = Utc.with_ymd_and_hms(2026, 12, 3, 12, 0, 0).unwrap();
    let t = |d: Duration| Some((now - d).timestamp());
    // 199 inside the week, one exactly seven days old (outside), one in the future, one unknown.
    let mut times: Vec<Option<i64>> = (0..199).map(|i| t(Duration::minutes(i * 40))).collect();
    times.push(t(Duration::days(7)));
    times.push(t(Duration::minutes(-5)));
    times.push(None);
    let w = onboarding_window(times.clone(), now);
    assert_eq!(w.count, 199);
    assert!(!w.at_limit());
    assert_eq!(w.remaining(), 1);
    assert!(w.sentence().contains("199 of 200"), "{}", w.sentence());
    times.push(t(Duration::days(6)));
    let w = onboarding_window(times, now);
    assert_eq!(w.count, 200);
    assert!(w.at_limit());
    assert_eq!(w.remaining(), 0);
    // The oldest in the window (6 days ago) frees a slot a day from now.
    assert_eq!(w.next_slot_at, Some(now + Duration::days(1)));
    assert!(
        w.sentence().contains("limit is reached"),
        "{}",
        w.sentence()
    );
}

#[test]
fn role_cross_check() {
    let ours = "111";
    assert_eq!(role_disagreement("S", Role::Owner, Some("111"), ours), None);
    assert_eq!(
        role_disagreement("S", Role::Partner, Some("222"), ours),
        None
    );
    let e = role_disagreement("S", Role::Owner, Some("222"), ours).unwrap();
    assert!(
        e.contains("role OWNER") && e.contains("222") && e.contains("111"),
        "{e}"
    );
    let e = role_disagreement("S", Role::Partner, Some("111"), ours).unwrap();
    assert!(e.contains("role PARTNER"), "{e}");
    assert_eq!(
        role_disagreement("S", Role::Unknown, Some("222"), ours),
        None
    );
    assert_eq!(role_disagreement("S", Role::Owner, None, ours), None);
    assert_eq!(role_disagreement("S", Role::Owner, Some(""), ours), None);
}

#[test]
fn registration_state_from_audit_records() {
    let at = |m: i64| Utc.with_ymd_and_hms(2026, 12, 3, 10, 0, 0).unwrap() + Duration::minutes(m);
    let rec = |target: &str, outcome: &str, m: i64, msg: Option<&str>| RegistrationRecord {
        action: BSP_REGISTER_ACTION.into(),
        target: target.into(),
        outcome: outcome.into(),
        at: at(m),
        operator: Some("ana".into()),
        message: msg.map(str::to_string),
        bsp: Some(Bsp::Plivo),
    };
    let tp = Some(PartnerKind::TechProvider);
    // No record: unknown with our BSP.
    assert_eq!(
        registration_of(tp, "W", &[], Some(Bsp::Telnyx)),
        BspRegistration::unknown(Some(Bsp::Telnyx))
    );
    // A Solution Partner: not applicable whatever the records say.
    let records = vec![rec("W", "ok", 1, None)];
    assert_eq!(
        registration_of(Some(PartnerKind::SolutionPartner), "W", &records, None).state,
        RegistrationState::NotApplicable
    );
    // Failed, then registered, then a lost answer: still registered (at the ok's time).
    let records = vec![
        rec(
            "W",
            "failed",
            1,
            Some("Plivo refused our credentials (401)."),
        ),
        rec("W", "ok", 2, None),
        rec("W", "unknown", 3, None),
        rec("OTHER", "failed", 4, Some("x")),
        RegistrationRecord {
            action: "accept".into(),
            ..rec("W", "failed", 5, None)
        },
    ];
    let r = registration_of(tp, "W", &records, None);
    assert_eq!(r.state, RegistrationState::Registered);
    assert_eq!(r.at, Some(at(2)));
    assert_eq!(r.bsp, Some(Bsp::Plivo));
    assert_eq!(r.operator.as_deref(), Some("ana"));
    // Only a failure: failed with its sentence. A later refusal (nothing sent) is ignored.
    let records = vec![
        rec("W", "failed", 1, Some("Plivo refused.")),
        rec("W", "refused", 2, Some("Not sent: read-only")),
    ];
    assert_eq!(
        registration_of(tp, "W", &records, None).state,
        RegistrationState::Failed {
            reason: "Plivo refused.".into()
        }
    );
    // An intent with no outcome after it (a crash mid-call): unknown.
    let records = vec![
        rec("W", "failed", 1, Some("x")),
        rec("W", "intent", 2, None),
    ];
    let r = registration_of(tp, "W", &records, None);
    assert_eq!(r.state, RegistrationState::Unknown);
    assert_eq!(r.at, Some(at(2)));
    // From an audit record's fields: the BSP comes from the described call.
    let r = RegistrationRecord::from_audit_fields(
        BSP_REGISTER_ACTION,
        "W",
        "ok",
        "2026-12-03T10:00:00.000Z",
        "ana",
        None,
        "POST https://api.plivo.com/v1/Account/MA…redacted/WhatsApp/EmbeddedSignup/",
    )
    .unwrap();
    assert_eq!(r.bsp, Some(Bsp::Plivo));
    assert_eq!(r.at, at(0));
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

fn env_of(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
    let map: std::collections::HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    move |k: &str| map.get(k).cloned()
}

#[test]
fn settings_for_partner_kind_bsp_and_credentials() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = write(dir.path(), "c.toml", "", 0o600);
    let args = GlobalArgs {
        config: Some(cfg.clone()),
        ..GlobalArgs::default()
    };
    // Defaults.
    let s = config::load(&args, &env_of(&[])).unwrap();
    assert_eq!(s.partner.partner_kind, PartnerKindSetting::Auto);
    assert_eq!(s.partner.bsp, None);
    assert_eq!(s.partner.plivo_url, "https://api.plivo.com");
    assert_eq!(s.partner.telnyx_url, "https://api.telnyx.com");
    let e = s.require_bsp().unwrap_err().to_string();
    assert!(e.starts_with("No BSP: set PARTNERDECK_BSP=plivo"), "{e}");

    // Environment: kind, BSP, Plivo credentials, URL.
    let env = env_of(&[
        ("PARTNERDECK_PARTNER_KIND", "tech_provider"),
        ("PARTNERDECK_BSP", "plivo"),
        ("PARTNERDECK_PLIVO_AUTH_ID", "MAENVAUTHID000000001"),
        ("PARTNERDECK_PLIVO_AUTH_TOKEN", "env-plivo-token"),
        ("PARTNERDECK_PLIVO_URL", "http://127.0.0.1:8765/"),
        ("PARTNERDECK_APP_ID", "42"),
    ]);
    let s = config::load(&args, &env).unwrap();
    assert_eq!(s.partner.partner_kind, PartnerKindSetting::TechProvider);
    assert_eq!(s.partner.bsp, Some(Bsp::Plivo));
    assert_eq!(s.partner.plivo_url, "http://127.0.0.1:8765");
    let bc = s.require_bsp().unwrap();
    assert_eq!(bc.bsp(), Bsp::Plivo);
    assert_eq!(bc.app_id.as_deref(), Some("42"));
    assert_eq!(
        bc.credentials,
        BspCredentials::plivo("MAENVAUTHID000000001", "env-plivo-token")
    );
    let debug = format!("{s:?} {bc:?}");
    assert!(
        !debug.contains("MAENV") && !debug.contains("env-plivo-token"),
        "{debug}"
    );

    // The flag beats the environment for the kind.
    let mut flagged = args.clone();
    flagged.partner_kind = Some("solution_partner".into());
    assert_eq!(
        config::load(&flagged, &env).unwrap().partner.partner_kind,
        PartnerKindSetting::SolutionPartner
    );
    // Bad values are named.
    let e = config::load(&args, &env_of(&[("PARTNERDECK_PARTNER_KIND", "bsp")])).unwrap_err();
    assert!(e.to_string().contains("partner kind"), "{e}");
    let e = config::load(&args, &env_of(&[("PARTNERDECK_BSP", "twilio")])).unwrap_err();
    assert!(e.to_string().contains("plivo or telnyx"), "{e}");
    let e = config::load(
        &args,
        &env_of(&[("PARTNERDECK_TELNYX_URL", "http://api.telnyx.com")]),
    )
    .unwrap_err();
    assert!(e.to_string().contains("Telnyx URL"), "{e}");
    // Half the Plivo credentials is an error that shows neither.
    let e = config::load(&args, &env_of(&[("PARTNERDECK_PLIVO_AUTH_ID", "MAHALF")])).unwrap_err();
    assert!(e.to_string().contains("set both"), "{e}");
    assert!(!e.to_string().contains("MAHALF"));

    // Files named in the config: 0600 only.
    let plivo = write(
        dir.path(),
        "plivo",
        "MAFILEAUTHID00000001:file-token\n",
        0o600,
    );
    write(dir.path(), "telnyx", "KEYfromfile\n", 0o600);
    let cfg2 = write(
        dir.path(),
        "c2.toml",
        &format!(
            "partner_kind = \"auto\"\nbsp = \"telnyx\"\nplivo_credentials_file = {:?}\ntelnyx_api_key_file = \"telnyx\"\ntelnyx_url = \"https://telnyx.example\"\n",
            plivo.display().to_string()
        ),
        0o644,
    );
    let args2 = GlobalArgs {
        config: Some(cfg2.clone()),
        ..GlobalArgs::default()
    };
    let s = config::load(&args2, &env_of(&[])).unwrap();
    assert_eq!(s.partner.bsp, Some(Bsp::Telnyx));
    assert_eq!(s.partner.telnyx_url, "https://telnyx.example");
    assert_eq!(
        s.partner.plivo,
        Some(BspCredentials::plivo("MAFILEAUTHID00000001", "file-token"))
    );
    assert_eq!(
        s.partner.telnyx,
        Some(BspCredentials::telnyx("KEYfromfile"))
    );
    // The environment beats the file.
    let s = config::load(&args2, &env_of(&[("PARTNERDECK_TELNYX_API_KEY", "KEYenv")])).unwrap();
    assert_eq!(s.partner.telnyx, Some(BspCredentials::telnyx("KEYenv")));
    // Telnyx without a key says how to give one.
    let s = config::load(&args, &env_of(&[("PARTNERDECK_BSP", "telnyx")])).unwrap();
    let e = s.require_bsp().unwrap_err().to_string();
    assert!(
        e.contains("PARTNERDECK_TELNYX_API_KEY") && e.contains("0600"),
        "{e}"
    );
    #[cfg(unix)]
    {
        write(dir.path(), "telnyx", "KEYfromfile\n", 0o644);
        let e = config::load(&args2, &env_of(&[])).unwrap_err().to_string();
        assert!(e.contains("chmod 600"), "{e}");
        assert!(!e.contains("KEYfromfile"), "{e}");
    }
}

#[test]
fn there_are_no_credential_flags() {
    use clap::Parser;
    use partnerdeck::cli::Cli;
    for flag in [
        "--plivo-auth-id",
        "--plivo-auth-token",
        "--telnyx-api-key",
        "--bsp-token",
    ] {
        assert!(Cli::try_parse_from(["pd", flag, "x"]).is_err(), "{flag}");
    }
    let c = Cli::try_parse_from([
        "pd",
        "--partner-kind",
        "tech_provider",
        "--plivo-url",
        "http://127.0.0.1:1",
        "--telnyx-url",
        "http://127.0.0.1:2",
    ])
    .unwrap();
    assert_eq!(c.global.partner_kind.as_deref(), Some("tech_provider"));
    assert_eq!(c.global.plivo_url.as_deref(), Some("http://127.0.0.1:1"));
    assert_eq!(c.global.telnyx_url.as_deref(), Some("http://127.0.0.1:2"));
}
