//! Tech Providers in the console (issue 10): the partner kind in force changes the checklist's
//! credit step and the Credit pane; `B` registers the selected number with our BSP through the
//! one pipeline (intent → one POST → the BSP's answer → outcome), refused before any dialog
//! when a pre-check fails or the console is read-only; credentials reach no sink.

use crate::common::{at, feed, key};
use crossterm::event::KeyCode;
use graph_sim::{self as sim, SimHandle, SimOptions, World};
use partnerdeck::app::model::Overlay;
use partnerdeck::app::msg::{ActionResult, Msg, Target, WabaList};
use partnerdeck::app::wabas::WabaLane;
use partnerdeck::app::{Effect, Model, ReadStamp};
use partnerdeck::audit::{AuditLog, read_records, registration_records};
use partnerdeck::bsp::settings::PartnerSettings;
use partnerdeck::bsp::{Bsp, BspClient};
use partnerdeck::config::Token;
use partnerdeck::domain::partner::{PartnerKind, RegistrationState};
use partnerdeck::effects::{Services, perform};
use partnerdeck::graph::client::{ClientConfig, GraphClient};
use partnerdeck::ui::{Theme, draw};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

struct Setup {
    sim: SimHandle,
    services: Services,
    _dir: tempfile::TempDir,
    audit_path: std::path::PathBuf,
}

async fn setup(read_only: bool) -> Setup {
    let sim = sim::start(World::demo_tech_provider(), SimOptions::default())
        .await
        .unwrap();
    let mut cfg = ClientConfig::new(sim.base_url(), Token::new(sim.token()));
    cfg.read_only = read_only;
    let dir = tempfile::tempdir().unwrap();
    let audit_path = dir.path().join("audit.jsonl");
    let partner = PartnerSettings::demo(&sim.base_url(), Bsp::Plivo);
    let bsp = BspClient::new(partner.bsp_config(Some(&sim.app_id()), read_only).unwrap()).unwrap();
    let services = Services {
        partner_kind: partnerdeck::domain::partner::PartnerKindSetting::TechProvider,
        bsp: Some(bsp),
        ..crate::common::sim_services(&sim, GraphClient::new(cfg).unwrap(), &audit_path)
    };
    Setup {
        sim,
        services,
        _dir: dir,
        audit_path,
    }
}

/// The console as a Tech Provider (or not) with one real WABA refresh of the TP world.
async fn console(s: &Setup, kind: Option<PartnerKind>) -> Model {
    let mut m = Model::new(s.sim.app_id(), "v25.0");
    m.read_only = s.services.client.read_only();
    m.bsp = Some(Bsp::Plivo);
    m.bsp_call = s.services.bsp.as_ref().map(BspClient::describe_call);
    let book = partnerdeck::graph::wabas::refresh(&s.services.client, &s.sim.business_id(), None)
        .await
        .unwrap();
    feed(
        &mut m,
        [
            Msg::Resize {
                width: 120,
                height: 36,
                list_rows: partnerdeck::ui::list_rows(36),
            },
            Msg::WabasLoaded {
                started: ReadStamp::issue(),
                at: at(0),
                result: Ok(WabaList::of(book.wabas)),
            },
        ],
    );
    if let Some(k) = kind {
        feed(&mut m, [Msg::PartnerKindDecided(Ok(k))]);
    }
    m
}

fn screen(m: &Model, width: u16, height: u16) -> String {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
    terminal
        .draw(|f| draw(f, m, at(42), &Theme::monochrome()))
        .unwrap();
    terminal.backend().to_string()
}

/// Open the detail of a WABA (All lane) on the WABAs pane.
fn open(m: &mut Model, id: &str) {
    feed(m, [key('2')]);
    m.wabas.lane = WabaLane::All;
    let pos = m
        .wabas
        .visible()
        .iter()
        .position(|r| r.id() == id)
        .unwrap_or_else(|| panic!("no WABA {id}"));
    m.wabas.move_to(pos);
    feed(
        m,
        [Msg::Key(crossterm::event::KeyEvent::from(KeyCode::Enter))],
    );
    assert_eq!(m.wabas.open.as_deref(), Some(id));
}

fn bsp_posts(h: &SimHandle) -> usize {
    h.requests()
        .iter()
        .filter(|r| {
            r.method == "POST"
                && (r.path.contains("/WhatsApp/EmbeddedSignup")
                    || r.path.contains("/tech_provider"))
        })
        .count()
}

fn the_effect(effects: Vec<Effect>) -> Target {
    let mut performs = effects.into_iter().filter_map(|e| match e {
        Effect::Perform { target, .. } => Some(target),
        _ => None,
    });
    let t = performs.next().expect("one Perform");
    assert!(performs.next().is_none(), "exactly one Perform");
    t
}

fn no_secret(text: &str, sink: &str) {
    for secret in [sim::DEMO_PLIVO_AUTH_ID, sim::DEMO_PLIVO_AUTH_TOKEN] {
        assert!(
            !text.contains(secret),
            "a credential reached the {sink}:\n{text}"
        );
    }
}

#[tokio::test]
async fn checklist_and_attention_follow_the_partner_kind() {
    let s = setup(false).await;
    let sp = console(&s, Some(PartnerKind::SolutionPartner)).await;
    let mut tp = console(&s, Some(PartnerKind::TechProvider)).await;
    // Our (empty) credit allocations are known: as a Solution Partner a WABA funded by Plivo's
    // credit is "not ours"; as a Tech Provider it is simply funded.
    let mut sp = sp;
    sp.wabas.set_credentials(Some(Default::default()));
    tp.wabas.set_credentials(Some(Default::default()));
    let funded = sim::DEMO_TP_WABA_REGISTERED_ID;
    assert_eq!(
        sp.wabas.row(funded).unwrap().onboarding.credit_shared,
        Some(false)
    );
    assert_eq!(
        tp.wabas.row(funded).unwrap().onboarding.credit_shared,
        Some(true)
    );
    let reasons = tp.wabas.row(funded).unwrap().attention_reasons();
    assert!(
        reasons.iter().all(|r| !r.contains("credit")),
        "nothing is flagged for lacking our credit: {reasons:?}"
    );
    let unfunded = tp.wabas.row(sim::DEMO_TP_WABA_UNFUNDED_ID).unwrap();
    assert_eq!(unfunded.onboarding.credit_shared, Some(false));
    assert!(
        unfunded
            .attention_reasons()
            .contains(&"not funded".to_string())
    );

    // The header says which kind is in force; the table has a Fund and a BSP column.
    let mut tp2 = console(&s, Some(PartnerKind::TechProvider)).await;
    feed(&mut tp2, [key('2')]);
    tp2.wabas.lane = WabaLane::All;
    let screen_tp = screen(&tp2, 120, 36);
    assert!(screen_tp.contains(" TP "), "{screen_tp}");
    assert!(
        screen_tp.contains("Fund") && screen_tp.contains("BSP"),
        "{screen_tp}"
    );
    let mut sp2 = console(&s, Some(PartnerKind::SolutionPartner)).await;
    feed(&mut sp2, [key('2')]);
    let screen_sp = screen(&sp2, 120, 36);
    assert!(
        screen_sp.contains(" SP ") && screen_sp.contains("Cred"),
        "{screen_sp}"
    );
    assert!(!screen_sp.contains("Fund"), "{screen_sp}");
}

#[tokio::test]
async fn the_credit_pane_of_a_tech_provider_says_why_it_is_empty_and_lists_unfunded_wabas() {
    let s = setup(false).await;
    let mut m = console(&s, Some(PartnerKind::TechProvider)).await;
    feed(&mut m, [key('3')]);
    let text = screen(&m, 120, 36);
    assert!(text.contains("We are a Tech Provider"), "{text}");
    assert!(text.contains(sim::DEMO_TP_WABA_UNFUNDED_ID), "{text}");
    assert!(text.contains("onboarded through"), "{text}");
    assert!(
        !text.contains(&format!("WABA {}", sim::DEMO_TP_WABA_REGISTERED_ID)),
        "a funded WABA is not listed:\n{text}"
    );
    insta::assert_snapshot!(text);

    // As a Solution Partner the pane is the credit lines (none here).
    let mut sp = console(&s, Some(PartnerKind::SolutionPartner)).await;
    feed(&mut sp, [key('3')]);
    assert!(!screen(&sp, 120, 36).contains("We are a Tech Provider"));
}

#[tokio::test]
async fn b_sends_one_post_per_confirm_and_records_intent_and_outcome() {
    let s = setup(false).await;
    let mut m = console(&s, Some(PartnerKind::TechProvider)).await;
    let id = sim::DEMO_TP_WABA_UNFUNDED_ID;
    open(&mut m, id);
    let fx = feed(&mut m, [key('B')]);
    assert!(fx.is_empty());
    let Some(Overlay::Confirm(c)) = &m.overlay else {
        panic!("no confirm dialog: {:?}", m.notice);
    };
    assert!(c.call.contains("/WhatsApp/EmbeddedSignup/"), "{}", c.call);
    let dialog = screen(&m, 120, 36);
    assert!(dialog.contains("Plivo"), "{dialog}");
    assert!(dialog.contains(id), "{dialog}");
    assert!(dialog.contains(sim::DEMO_TP_PHONE_UNFUNDED_ID), "{dialog}");
    assert!(dialog.contains("EmbeddedSignup"), "{dialog}");
    no_secret(&dialog, "screen");

    let target = the_effect(feed(&mut m, [key('y')]));
    assert!(matches!(target, Target::BspRegister { .. }));
    // A second y while sending sends nothing more.
    assert!(
        feed(&mut m, [key('y')])
            .iter()
            .all(|e| !matches!(e, Effect::Perform { .. }))
    );
    assert_eq!(bsp_posts(&s.sim), 0, "nothing before the pipeline runs");
    let outcome = perform::perform_alone(s.services.clone(), target, None).await;
    assert_eq!(bsp_posts(&s.sim), 1, "exactly one POST");
    assert!(
        matches!(outcome.result, ActionResult::Verified { .. }),
        "{:?}",
        outcome.result
    );
    // The intent was written ahead, then the outcome, both `bsp_register`.
    let records = read_records(&s.audit_path).unwrap();
    assert_eq!(records.len(), 2, "{records:?}");
    assert_eq!(records[0].phase, "intent");
    assert_eq!(records[1].phase, "outcome");
    assert_eq!(records[1].outcome, "ok");
    assert!(
        records
            .iter()
            .all(|r| r.action == "bsp_register" && r.target == id)
    );
    assert_eq!(records[0].attempt, records[1].attempt);
    no_secret(
        &std::fs::read_to_string(&s.audit_path).unwrap(),
        "audit log",
    );

    // The BSP step turns ✓ as the records are read again.
    feed(
        &mut m,
        [
            Msg::RegistrationsLoaded(registration_records(&records)),
            Msg::ActionFinished(outcome),
        ],
    );
    assert_eq!(m.registration(id).state, RegistrationState::Registered);
    assert!(
        m.notice
            .as_deref()
            .unwrap_or("")
            .starts_with("Registered with Plivo: Plivo registered")
    );
    assert!(m.overlay.is_none(), "a success is a message, not a dialog");
    let detail = screen(&m, 120, 36);
    assert!(detail.contains("registered with Plivo"), "{detail}");
    no_secret(&detail, "screen");
}

#[tokio::test]
async fn read_only_refuses_b_and_sends_nothing() {
    let s = setup(true).await;
    let mut m = console(&s, Some(PartnerKind::TechProvider)).await;
    assert!(m.read_only);
    open(&mut m, sim::DEMO_TP_WABA_UNFUNDED_ID);
    let fx = feed(&mut m, [key('B')]);
    assert!(fx.is_empty());
    assert!(m.overlay.is_none());
    assert!(
        m.notice.as_deref().unwrap_or("").starts_with("Read-only"),
        "{:?}",
        m.notice
    );
    // And the pipeline itself refuses, with no intent written.
    let w = m
        .wabas
        .row(sim::DEMO_TP_WABA_UNFUNDED_ID)
        .unwrap()
        .waba
        .clone();
    let registration =
        partnerdeck::bsp::prepare(Bsp::Plivo, &w, sim::DEMO_TP_PHONE_UNFUNDED_ID, None).unwrap();
    let target = Target::BspRegister {
        bsp: Bsp::Plivo,
        waba_name: w.name().to_string(),
        phone: "x".into(),
        registration,
    };
    let outcome = perform::perform_alone(s.services.clone(), target, None).await;
    assert!(matches!(outcome.result, ActionResult::Failed { .. }));
    assert_eq!(bsp_posts(&s.sim), 0);
    assert!(read_records(&s.audit_path).unwrap().is_empty());
}

#[tokio::test]
async fn a_failed_precheck_refuses_before_any_dialog() {
    let s = setup(false).await;
    let mut m = console(&s, Some(PartnerKind::TechProvider)).await;
    open(&mut m, sim::DEMO_TP_WABA_INACTIVE_ID);
    let fx = feed(&mut m, [key('B')]);
    assert!(fx.is_empty());
    assert!(m.overlay.is_none(), "no dialog");
    let notice = m.notice.clone().unwrap_or_default();
    assert!(
        notice.starts_with("Not sent:") && notice.contains("not active"),
        "{notice}"
    );
    assert_eq!(bsp_posts(&s.sim), 0);
    assert!(read_records(&s.audit_path).unwrap().is_empty());
}

/// The real binary in a pseudo-terminal, configured as a Tech Provider with Plivo at the
/// simulator: find the unfunded WABA, `B`, `y`, and the BSP step turns ✓; one POST; the
/// credentials never on screen.
#[test]
fn pty_tech_provider_registers_a_number_with_plivo() {
    use crate::common::console::Console;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let sim = rt
        .block_on(sim::start(
            World::demo_tech_provider(),
            SimOptions::default(),
        ))
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let business = sim.business_id();
    let url = sim.base_url();
    let mut c = Console::start_env(
        &sim,
        dir.path(),
        &[
            "--business-id",
            &business,
            "--partner-kind",
            "tech_provider",
        ],
        &[
            ("PARTNERDECK_BSP", "plivo"),
            ("PARTNERDECK_PLIVO_URL", &url),
            ("PARTNERDECK_PLIVO_AUTH_ID", sim::DEMO_PLIVO_AUTH_ID),
            ("PARTNERDECK_PLIVO_AUTH_TOKEN", sim::DEMO_PLIVO_AUTH_TOKEN),
        ],
    );
    c.wait_for("refreshed");
    c.keys("2");
    c.wait_for("Fund");
    let id = sim::DEMO_TP_WABA_UNFUNDED_ID;
    c.keys("/");
    c.keys(id);
    c.keys("\r");
    c.wait_for(id);
    c.keys("\r");
    c.wait_for("BSP");
    c.keys("B");
    let dialog = c.wait_for("EmbeddedSignup");
    assert!(dialog.contains("Plivo"), "{dialog}");
    c.keys("y");
    c.wait_for("Registered with Plivo: Plivo registered");
    let after = c.wait_for("registered with Plivo");
    assert!(after.contains("✓ registered with Plivo"), "{after}");
    assert_eq!(bsp_posts(&sim), 1);
    let raw = String::from_utf8_lossy(&c.raw_bytes()).into_owned();
    no_secret(&raw, "terminal");
    let audit = std::fs::read_to_string(dir.path().join("audit.jsonl")).unwrap();
    assert!(audit.contains("\"bsp_register\""), "{audit}");
    no_secret(&audit, "audit log");
    // Out of the WABA detail (q there closes it), then quit.
    c.keys("\u{1b}");
    c.keys("q");
    assert!(c.wait_exit().success());
}

/// `--demo --demo-kind tech_provider` starts the Tech Provider world with Plivo configured.
#[test]
fn pty_demo_as_a_tech_provider() {
    use crate::common::console::Console;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let sim = rt
        .block_on(sim::start(World::demo(), SimOptions::default()))
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut c = Console::start(
        &sim,
        dir.path(),
        &["--demo", "--demo-kind", "tech_provider"],
    );
    c.wait_for(" TP ");
    c.keys("3");
    c.wait_for("We are a Tech Provider");
    c.keys("2");
    c.keys("l");
    c.keys("l");
    let s = c.wait_for("Saffron Lane Books");
    assert!(s.contains("BSP"), "{s}");
    assert_eq!(sim.requests().len(), 0, "the demo runs its own simulator");
    c.keys("q");
    assert!(c.wait_exit().success());
}

/// `partnerdeck snapshot --json` reads the BSP registration of each WABA from the audit log
/// and says the partner kind at the top level.
#[tokio::test(flavor = "multi_thread", worker_threads = 1)]
async fn snapshot_takes_the_bsp_registration_from_the_audit_log() {
    use partnerdeck::audit::AuditRecord;
    let h = sim::start(World::demo_tech_provider(), SimOptions::default())
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let audit_path = dir.path().join("audit.jsonl");
    let log = AuditLog::open(&audit_path).unwrap();
    let id = sim::DEMO_TP_WABA_UNFUNDED_ID;
    let intent = AuditRecord::new(
        "bsp_register",
        id,
        Some("Saffron Lane Books"),
        "POST http://127.0.0.1/v1/Account/MA…redacted/WhatsApp/EmbeddedSignup/",
    );
    log.append(&intent).unwrap();
    let mut outcome = AuditRecord::outcome_of(&intent);
    outcome.outcome = "ok".into();
    log.append(&outcome).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_partnerdeck"))
        .args(["snapshot", "--json", "--graph-url", &h.base_url()])
        .args(["--app-id", &h.app_id(), "--business-id", &h.business_id()])
        .args(["--partner-kind", "tech_provider", "--audit-log"])
        .arg(&audit_path)
        .env_clear()
        .env("PARTNERDECK_TOKEN", h.token())
        .env("PARTNERDECK_BSP", "plivo")
        .env("HOME", dir.path())
        .output()
        .unwrap();
    let json: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    assert_eq!(json["partner_kind"], "tech_provider");
    let wabas = json["wabas"].as_array().unwrap();
    let reg = |w: &str| {
        wabas
            .iter()
            .find(|x| x["waba"]["id"] == w || x["id"] == w)
            .map(|x| x["bsp_registration"].clone())
            .unwrap_or_else(|| panic!("no WABA {w} in {json}"))
    };
    assert_eq!(reg(id)["state"], "registered", "{json}");
    assert_eq!(reg(id)["bsp"], "plivo");
    assert_eq!(reg(sim::DEMO_TP_WABA_TELNYX_ID)["state"], "unknown");
}
