//! The BSP registration clients (Plivo, Telnyx) against the simulator over loopback: every
//! documented answer → outcome, sentence and state; "already registered" counts as registered;
//! one POST per call and none re-sent when the answer is lost; pre-checks send nothing; the
//! credentials reach no sink, even when the server echoes them.

use std::time::Duration;

use graph_sim::{self as sim, Fault, FaultAction, SimHandle, SimOptions, World};
use partnerdeck::bsp::answer::interpret;
use partnerdeck::bsp::{
    Bsp, BspClient, BspConfig, BspCredentials, BspError, Outcome, PrecheckRefusal, Registration,
    precheck,
};
use partnerdeck::domain::partner::RegistrationState;
use partnerdeck::graph::model::SolutionNode;

async fn start() -> SimHandle {
    sim::start(World::demo_tech_provider(), SimOptions::default())
        .await
        .unwrap()
}

fn plivo_with(h: &SimHandle, id: &str, token: &str) -> BspClient {
    BspClient::new(BspConfig::new(
        h.base_url(),
        BspCredentials::plivo(id, token),
        Some(sim::DEMO_TP_APP_ID.into()),
    ))
    .unwrap()
}

fn plivo(h: &SimHandle) -> BspClient {
    plivo_with(h, sim::DEMO_PLIVO_AUTH_ID, sim::DEMO_PLIVO_AUTH_TOKEN)
}

fn telnyx_with(h: &SimHandle, key: &str) -> BspClient {
    BspClient::new(BspConfig::new(
        h.base_url(),
        BspCredentials::telnyx(key),
        Some(sim::DEMO_TP_APP_ID.into()),
    ))
    .unwrap()
}

/// The registration of a demo WABA's one number, as the console builds it.
fn reg(h: &SimHandle, waba_id: &str) -> Registration {
    let w = h.world();
    let w = w.waba(waba_id).unwrap();
    Registration {
        waba_id: waba_id.into(),
        business_id: w.owner_business_id.clone(),
        phone_number_id: w.phone_numbers[0].id.clone(),
        reference: Some("customer-42".into()),
    }
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

#[tokio::test]
async fn plivo_registers_and_a_second_attempt_counts_as_registered() {
    let h = start().await;
    let c = plivo(&h);
    let r = reg(&h, sim::DEMO_TP_WABA_UNFUNDED_ID);
    let a = c.register(&r).await.unwrap();
    assert_eq!(a.http_status, 200);
    assert_eq!(a.outcome, Outcome::Registered);
    assert_eq!(a.state(), RegistrationState::Registered);
    assert_eq!(a.outcome.audit_outcome(), "ok");
    assert!(a.api_id.is_some());
    assert_eq!(
        a.sentence,
        "Plivo registered the WABA and its phone number."
    );
    // The documented side effects: Plivo's credit attached, the number connected.
    let w = h.world();
    let w = w.waba(sim::DEMO_TP_WABA_UNFUNDED_ID).unwrap();
    assert_eq!(w.primary_funding_id, sim::DEMO_PLIVO_FUNDING_ID);
    assert_eq!(w.phone_numbers[0].status, "CONNECTED");
    let taken = h.bsp_registrations();
    assert!(
        taken
            .iter()
            .any(|t| t.waba_id == sim::DEMO_TP_WABA_UNFUNDED_ID
                && t.bsp == "plivo"
                && t.reference.as_deref() == Some("customer-42"))
    );

    let again = c.register(&r).await.unwrap();
    assert_eq!(again.http_status, 400);
    assert_eq!(again.outcome, Outcome::AlreadyRegistered);
    assert_eq!(again.state(), RegistrationState::Registered);
    assert_eq!(again.outcome.audit_outcome(), "ok");
    assert!(
        again.sentence.contains("already registered"),
        "{}",
        again.sentence
    );
    assert_eq!(bsp_posts(&h), 2, "one POST per call");
}

#[tokio::test]
async fn plivo_documented_refusals_over_http() {
    let h = start().await;
    let c = plivo(&h);
    // The solution that onboarded it is deactivated (the client sends; the precheck would not).
    let a = c
        .register(&reg(&h, sim::DEMO_TP_WABA_INACTIVE_ID))
        .await
        .unwrap();
    assert_eq!(
        (a.http_status, &a.outcome),
        (400, &Outcome::SolutionNotActive)
    );
    assert!(matches!(a.state(), RegistrationState::Failed { .. }));
    assert!(a.sentence.contains("not active"), "{}", a.sentence);

    // A number of another WABA.
    let mut r = reg(&h, sim::DEMO_TP_WABA_UNFUNDED_ID);
    r.phone_number_id = sim::DEMO_TP_PHONE_TELNYX_ID.into();
    let a = c.register(&r).await.unwrap();
    assert_eq!(a.outcome, Outcome::PhoneOnAnotherWaba);
    assert_eq!(a.outcome.audit_outcome(), "failed");

    // Digits, but no such WABA.
    let mut r = reg(&h, sim::DEMO_TP_WABA_UNFUNDED_ID);
    r.waba_id = "999".into();
    let a = c.register(&r).await.unwrap();
    assert_eq!(a.outcome, Outcome::InvalidWabaId);

    // Bad credentials, a forbidden account, an internal error.
    let a = plivo_with(&h, sim::DEMO_PLIVO_AUTH_ID, "wrong-token")
        .register(&reg(&h, sim::DEMO_TP_WABA_UNFUNDED_ID))
        .await
        .unwrap();
    assert_eq!((a.http_status, &a.outcome), (401, &Outcome::Unauthorized));
    assert!(
        a.sentence.contains("PARTNERDECK_PLIVO_AUTH_TOKEN"),
        "{}",
        a.sentence
    );
    let a = plivo_with(
        &h,
        sim::DEMO_PLIVO_FORBIDDEN_AUTH_ID,
        sim::DEMO_PLIVO_FORBIDDEN_AUTH_TOKEN,
    )
    .register(&reg(&h, sim::DEMO_TP_WABA_UNFUNDED_ID))
    .await
    .unwrap();
    assert_eq!((a.http_status, &a.outcome), (403, &Outcome::Forbidden));
    h.fail_next_bsp_requests(1);
    let a = c
        .register(&reg(&h, sim::DEMO_TP_WABA_UNFUNDED_ID))
        .await
        .unwrap();
    assert_eq!((a.http_status, &a.outcome), (500, &Outcome::ServerError));
    assert!(matches!(a.state(), RegistrationState::Failed { .. }));
    assert!(a.sentence.contains("try again"), "{}", a.sentence);
    // None of these registered anything.
    assert!(
        h.bsp_registrations()
            .iter()
            .all(|t| t.waba_id == sim::DEMO_TP_WABA_REGISTERED_ID)
    );
    // The pre-seeded registration answers "already registered".
    let a = c
        .register(&reg(&h, sim::DEMO_TP_WABA_REGISTERED_ID))
        .await
        .unwrap();
    assert_eq!(a.outcome, Outcome::AlreadyRegistered);
}

#[test]
fn every_documented_answer_has_an_outcome_sentence_and_state() {
    let err = |t: &str| format!(r#"{{"api_id":"a1b2","error":"{t}"}}"#);
    let failed = |s: &RegistrationState| matches!(s, RegistrationState::Failed { .. });
    let cases: Vec<(Bsp, u16, String, Outcome, &str)> = vec![
        (
            Bsp::Plivo,
            200,
            r#"{"api_id":"a1b2","message":"Embedded signup completed successfully.","waba_id":"1","phone_number_id":"2","business_id":"3"}"#.into(),
            Outcome::Registered,
            "registered",
        ),
        (Bsp::Plivo, 400, err("waba_id is required."), Outcome::MissingField("waba_id".into()), "failed"),
        (Bsp::Plivo, 400, err("business_id is required."), Outcome::MissingField("business_id".into()), "failed"),
        (Bsp::Plivo, 400, err("phone_number_id is required."), Outcome::MissingField("phone_number_id".into()), "failed"),
        (Bsp::Plivo, 400, err("waba_id is not a valid WhatsApp Business Account ID."), Outcome::InvalidWabaId, "failed"),
        (Bsp::Plivo, 400, err("This WABA is already registered with Plivo."), Outcome::AlreadyRegistered, "registered"),
        (Bsp::Plivo, 400, err("This phone number is already registered under another WABA."), Outcome::PhoneOnAnotherWaba, "failed"),
        (Bsp::Plivo, 400, err("Multi-Partner Solution is not active for your app. Contact Plivo support."), Outcome::SolutionNotActive, "failed"),
        (Bsp::Plivo, 401, err("Authentication credentials were not provided or are invalid."), Outcome::Unauthorized, "failed"),
        (Bsp::Plivo, 403, err("Your account is not authorized for the Embedded Signup API."), Outcome::Forbidden, "failed"),
        (Bsp::Plivo, 500, err("An internal error occurred. Please try again later."), Outcome::ServerError, "failed"),
        (
            Bsp::Telnyx,
            200,
            r#"{"data":{"waba_id":"1","phone_number_id":"2","status":"registered","customer_id":"c"}}"#.into(),
            Outcome::Registered,
            "registered",
        ),
        (Bsp::Telnyx, 401, String::new(), Outcome::Unauthorized, "failed"),
    ];
    let mut sentences = std::collections::HashSet::new();
    for (bsp, status, body, outcome, state) in cases {
        let a = interpret(bsp, status, &body);
        assert_eq!(a.outcome, outcome, "{bsp} {status} {body}");
        assert_eq!(a.state().as_str(), state, "{bsp} {status} {body}");
        if state == "failed" {
            assert!(failed(&a.state()));
            // The reason is the sentence.
            assert_eq!(
                a.state(),
                RegistrationState::Failed {
                    reason: a.sentence.clone()
                }
            );
        }
        assert!(a.sentence.starts_with(bsp.name()), "{}", a.sentence);
        assert!(a.sentence.ends_with('.'), "{}", a.sentence);
        assert!(
            sentences.insert(a.sentence.clone()),
            "duplicate sentence {}",
            a.sentence
        );
    }
    // Undocumented answers: said as they are; 2xx and 5xx unknown, 4xx failed.
    let a = interpret(Bsp::Telnyx, 200, r#"{"data":{"status":"pending"}}"#);
    assert!(matches!(a.outcome, Outcome::Unexpected { status: 200, .. }));
    assert_eq!(a.state(), RegistrationState::Unknown);
    let a = interpret(
        Bsp::Telnyx,
        422,
        r#"{"errors":[{"code":"10015","title":"Invalid value","detail":"waba_id is required."}]}"#,
    );
    assert!(failed(&a.state()));
    assert!(
        a.sentence.contains("waba_id is required."),
        "{}",
        a.sentence
    );
    let a = interpret(Bsp::Plivo, 502, "<html>Bad gateway</html>");
    assert_eq!(a.state(), RegistrationState::Unknown);
    let a = interpret(Bsp::Plivo, 400, &err("Something new."));
    assert!(a.sentence.contains("Something new."), "{}", a.sentence);
    assert!(failed(&a.state()));
}

#[tokio::test]
async fn telnyx_registers_and_refuses_a_bad_key() {
    let h = start().await;
    let c = telnyx_with(&h, sim::DEMO_TELNYX_API_KEY);
    let r = reg(&h, sim::DEMO_TP_WABA_TELNYX_UNFUNDED_ID);
    let a = c.register(&r).await.unwrap();
    assert_eq!((a.http_status, &a.outcome), (200, &Outcome::Registered));
    assert_eq!(a.state(), RegistrationState::Registered);
    assert_eq!(
        h.world()
            .waba(sim::DEMO_TP_WABA_TELNYX_UNFUNDED_ID)
            .unwrap()
            .primary_funding_id,
        sim::DEMO_TELNYX_FUNDING_ID
    );
    let a = c.register(&r).await.unwrap();
    assert_eq!(a.outcome, Outcome::Registered, "Telnyx answers 200 again");
    let a = telnyx_with(&h, "KEYwrong").register(&r).await.unwrap();
    assert_eq!((a.http_status, &a.outcome), (401, &Outcome::Unauthorized));
    assert!(
        a.sentence.contains("PARTNERDECK_TELNYX_API_KEY"),
        "{}",
        a.sentence
    );
    // Its body names our app.
    assert_eq!(c.body(&r)["app_id"], sim::DEMO_TP_APP_ID);
    assert_eq!(c.body(&r)["customer_id"], "customer-42");
    assert!(c.body(&r).get("business_id").is_none());
    assert_eq!(bsp_posts(&h), 3);
}

#[tokio::test]
async fn credentials_reach_no_sink_even_when_echoed() {
    let h = start().await;
    h.set_bsp_echo_credentials(true);
    // A token with characters JSON escapes, and a wrong one so the error text echoes it.
    let id = sim::DEMO_PLIVO_AUTH_ID;
    let token = r#"s3cr"et\tok/en+x"#;
    let c = plivo_with(&h, id, token);
    let forms = BspCredentials::plivo(id, token).forms();
    let check = |what: &str, text: &str| {
        assert!(!text.contains(id), "{what} holds the auth id: {text}");
        assert!(!text.contains("s3cr"), "{what} holds the token: {text}");
        for f in &forms {
            assert!(!text.contains(f.as_str()), "{what} holds {f:?}: {text}");
        }
    };
    let a = c
        .register(&reg(&h, sim::DEMO_TP_WABA_UNFUNDED_ID))
        .await
        .unwrap();
    assert_eq!(a.outcome, Outcome::Unauthorized);
    // The sim did echo them (raw and escaped) — and none got through.
    assert!(a.text.contains("echo"), "{}", a.text);
    assert!(a.text.contains("<redacted>"), "{}", a.text);
    check("text", &a.text);
    check("sentence", &a.sentence);
    check("Debug of the answer", &format!("{a:?}"));
    check("Debug of the client", &format!("{c:?}"));
    let call = c.describe_call();
    check("describe_call", &call);
    assert_eq!(
        call,
        format!(
            "POST {}/v1/Account/MA…redacted/WhatsApp/EmbeddedSignup/",
            h.base_url()
        )
    );
    // A successful answer that echoes the right credentials is scrubbed too.
    let good = plivo(&h);
    let a = good
        .register(&reg(&h, sim::DEMO_TP_WABA_UNFUNDED_ID))
        .await
        .unwrap();
    assert_eq!(a.outcome, Outcome::Registered);
    assert!(!a.text.contains(sim::DEMO_PLIVO_AUTH_TOKEN), "{}", a.text);
    assert!(!a.text.contains(sim::DEMO_PLIVO_AUTH_ID), "{}", a.text);
    // Telnyx: the bearer key echoed.
    let key = r#"KEY"with\quote"#;
    let t = telnyx_with(&h, key);
    let a = t
        .register(&reg(&h, sim::DEMO_TP_WABA_TELNYX_ID))
        .await
        .unwrap();
    assert_eq!(a.outcome, Outcome::Unauthorized);
    assert!(a.text.contains("echo"), "{}", a.text);
    assert!(!a.text.contains("with"), "{}", a.text);
    assert!(!format!("{a:?} {t:?} {}", t.describe_call()).contains("with"));
    // The simulator's request log holds no Auth ID either.
    assert!(h.requests().iter().all(|r| !r.path.contains(id)));
    assert!(
        h.requests()
            .iter()
            .any(|r| r.path == "/v1/Account/[redacted]/WhatsApp/EmbeddedSignup/")
    );
    // A connection that cannot be made: the error sentence names no credential.
    let dead = BspClient::new(BspConfig::new(
        "http://127.0.0.1:9",
        BspCredentials::plivo(id, token),
        None,
    ))
    .unwrap();
    let e = dead
        .register(&reg(&h, sim::DEMO_TP_WABA_UNFUNDED_ID))
        .await
        .unwrap_err();
    assert!(matches!(e, BspError::NotSent(_)), "{e:?}");
    check("connect error", &e.to_string());
    check("Debug of the connect error", &format!("{e:?}"));
    assert_eq!(e.state(), None, "nothing was sent");
}

#[tokio::test]
async fn a_lost_answer_is_outcome_unknown_and_not_resent() {
    let h = start().await;
    let c = plivo(&h);
    let r = reg(&h, sim::DEMO_TP_WABA_UNFUNDED_ID);
    // Committed, then the connection is cut before the answer.
    h.add_fault(
        Fault::new(FaultAction::CommitThenDrop)
            .post("v1/Account/*")
            .times(1),
    );
    let e = c.register(&r).await.unwrap_err();
    assert!(matches!(e, BspError::OutcomeUnknown(_)), "{e:?}");
    assert_eq!(e.state(), Some(RegistrationState::Unknown));
    assert_eq!(e.audit_outcome(), "unknown");
    assert!(e.to_string().contains("not re-sent"), "{e}");
    assert_eq!(bsp_posts(&h), 1, "sent once, no retry");
    assert_eq!(h.bsp_registrations().len(), 2, "the sim did register it");
    // The user's second attempt learns what happened.
    let a = c.register(&r).await.unwrap();
    assert_eq!(a.outcome, Outcome::AlreadyRegistered);
    assert_eq!(a.state(), RegistrationState::Registered);
    assert_eq!(bsp_posts(&h), 2);

    // Reset: nothing done, no answer.
    h.add_fault(
        Fault::new(FaultAction::Reset)
            .post("v2/whatsapp/*")
            .times(1),
    );
    let t = telnyx_with(&h, sim::DEMO_TELNYX_API_KEY);
    let e = t
        .register(&reg(&h, sim::DEMO_TP_WABA_TELNYX_ID))
        .await
        .unwrap_err();
    assert!(matches!(e, BspError::OutcomeUnknown(_)), "{e:?}");
    assert_eq!(bsp_posts(&h), 3);

    // A timeout: the answer comes too late; still one POST. (The sim records a request when
    // it answers, and the abandoned one is never answered, so count at the fault instead.)
    h.clear_faults();
    let delay = h.add_fault(Fault::new(FaultAction::Delay { ms: 700 }).post("v2/whatsapp/*"));
    let mut cfg = BspConfig::new(
        h.base_url(),
        BspCredentials::telnyx(sim::DEMO_TELNYX_API_KEY),
        Some(sim::DEMO_TP_APP_ID.into()),
    );
    cfg.request_timeout = Duration::from_millis(150);
    let slow = BspClient::new(cfg).unwrap();
    let e = slow
        .register(&reg(&h, sim::DEMO_TP_WABA_TELNYX_ID))
        .await
        .unwrap_err();
    assert!(matches!(e, BspError::OutcomeUnknown(_)), "{e:?}");
    tokio::time::sleep(Duration::from_millis(900)).await;
    let seen = h.faults().iter().find(|f| f.id == delay).unwrap().seen;
    assert_eq!(seen, 1, "one POST per call, none re-sent");
    assert!(bsp_posts(&h) <= 4);
}

#[tokio::test]
async fn prechecks_refuse_without_sending() {
    let h = start().await;
    let c = plivo(&h);
    let good = reg(&h, sim::DEMO_TP_WABA_UNFUNDED_ID);

    let mut r = good.clone();
    r.waba_id = "45000x".into();
    let e = c.register(&r).await.unwrap_err();
    assert_eq!(
        e,
        BspError::Refused(PrecheckRefusal::WabaIdNotDigits("45000x".into()))
    );
    assert!(e.to_string().starts_with("Not sent:"), "{e}");

    let mut r = good.clone();
    r.reference = Some("x".repeat(65));
    let e = c.register(&r).await.unwrap_err();
    assert_eq!(e, BspError::Refused(PrecheckRefusal::ReferenceTooLong(65)));
    assert!(e.to_string().contains("64"), "{e}");
    let mut r64 = good.clone();
    r64.reference = Some("é".repeat(64));
    assert!(partnerdeck::bsp::check_request(Bsp::Plivo, &r64).is_ok());

    let mut r = good.clone();
    r.business_id.clear();
    assert_eq!(
        c.register(&r).await.unwrap_err(),
        BspError::Refused(PrecheckRefusal::BusinessIdMissing)
    );
    // Telnyx does not take a business id, and needs our app id.
    let mut cfg = BspConfig::new(h.base_url(), BspCredentials::telnyx("k"), None);
    cfg.read_only = false;
    let no_app = BspClient::new(cfg).unwrap();
    assert_eq!(
        no_app.register(&good).await.unwrap_err(),
        BspError::Refused(PrecheckRefusal::AppIdMissing)
    );
    // Read-only: nothing sent.
    let mut cfg = BspConfig::new(
        h.base_url(),
        BspCredentials::plivo(sim::DEMO_PLIVO_AUTH_ID, sim::DEMO_PLIVO_AUTH_TOKEN),
        None,
    );
    cfg.read_only = true;
    let ro = BspClient::new(cfg).unwrap();
    assert_eq!(ro.register(&good).await.unwrap_err(), BspError::ReadOnly);
    // Plain http to a host that is not loopback is refused outright.
    assert!(
        BspClient::new(BspConfig::new(
            "http://api.plivo.com",
            BspCredentials::plivo("MA1", "t"),
            None
        ))
        .is_err()
    );

    // The solution check: active passes, deactivated or none or unread refuses.
    let sol = |status: &str, pending: &str| SolutionNode {
        id: "24".into(),
        name: "Bramble × Plivo".into(),
        status: status.into(),
        status_for_pending_request: Some(pending.into()),
        ..SolutionNode::default()
    };
    assert!(precheck(Bsp::Plivo, &good, Some(&[sol("ACTIVE", "NONE")])).is_ok());
    assert!(
        precheck(
            Bsp::Plivo,
            &good,
            Some(&[
                sol("DEACTIVATED", "NONE"),
                sol("ACTIVE", "PENDING_DEACTIVATION")
            ])
        )
        .is_ok()
    );
    let e = precheck(Bsp::Plivo, &good, Some(&[sol("DEACTIVATED", "NONE")])).unwrap_err();
    assert!(matches!(e, PrecheckRefusal::SolutionNotActive { .. }));
    assert!(e.to_string().contains("deactivated, not active"), "{e}");
    assert!(e.to_string().contains("Bramble × Plivo (24)"), "{e}");
    assert!(matches!(
        precheck(Bsp::Telnyx, &good, Some::<&[SolutionNode]>(&[])).unwrap_err(),
        PrecheckRefusal::NoSolution { .. }
    ));
    assert_eq!(
        precheck::<SolutionNode>(Bsp::Plivo, &good, None).unwrap_err(),
        PrecheckRefusal::SolutionsUnknown
    );
    assert_eq!(bsp_posts(&h), 0, "no pre-check refusal sent anything");
}

#[tokio::test]
async fn a_tiny_server_that_drops_the_connection_gets_one_post() {
    // An axum-free listener: read the request, then close without answering.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let accepted = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let seen = accepted.clone();
    tokio::spawn(async move {
        use tokio::io::AsyncReadExt;
        loop {
            let Ok((mut sock, _)) = listener.accept().await else {
                return;
            };
            seen.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let mut buf = vec![0u8; 8192];
            let _ = sock.read(&mut buf).await;
            drop(sock);
        }
    });
    let c = BspClient::new(BspConfig::new(
        format!("http://{addr}"),
        BspCredentials::plivo(sim::DEMO_PLIVO_AUTH_ID, sim::DEMO_PLIVO_AUTH_TOKEN),
        None,
    ))
    .unwrap();
    let r = Registration {
        waba_id: "1".into(),
        business_id: "2".into(),
        phone_number_id: "3".into(),
        reference: None,
    };
    let e = c.register(&r).await.unwrap_err();
    assert!(matches!(e, BspError::OutcomeUnknown(_)), "{e:?}");
    assert!(!e.to_string().contains(sim::DEMO_PLIVO_AUTH_ID), "{e}");
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(
        accepted.load(std::sync::atomic::Ordering::SeqCst),
        1,
        "one connection, no retry"
    );
}

#[tokio::test]
async fn the_b_key_path_end_to_end_on_the_tech_provider_world() {
    use partnerdeck::bsp::settings::PartnerSettings;
    use partnerdeck::bsp::{prepare, summarize};
    use partnerdeck::config::Token;
    use partnerdeck::graph::client::{ClientConfig, GraphClient};
    use partnerdeck::graph::wabas;

    let h = start().await;
    let graph = GraphClient::new(ClientConfig::new(h.base_url(), Token::new(h.token()))).unwrap();
    let book = wabas::refresh(&graph, &h.business_id(), None)
        .await
        .unwrap();
    let waba = |id: &str| book.wabas.iter().find(|w| w.id() == id).unwrap();
    let partner = PartnerSettings::demo(&h.base_url(), Bsp::Plivo);
    let client = BspClient::new(partner.bsp_config(Some(&h.app_id()), false).unwrap()).unwrap();

    // Refused before sending: a deactivated onboarding solution, a number of another WABA.
    let e = prepare(
        Bsp::Plivo,
        waba(sim::DEMO_TP_WABA_INACTIVE_ID),
        sim::DEMO_TP_PHONE_INACTIVE_ID,
        None,
    )
    .unwrap_err();
    assert!(
        matches!(e, PrecheckRefusal::SolutionNotActive { .. }),
        "{e}"
    );
    let e = prepare(
        Bsp::Plivo,
        waba(sim::DEMO_TP_WABA_UNFUNDED_ID),
        sim::DEMO_TP_PHONE_TELNYX_ID,
        None,
    )
    .unwrap_err();
    assert!(matches!(e, PrecheckRefusal::PhoneNotOfWaba { .. }), "{e}");
    let refused: Result<_, BspError> = Err(e.into());
    let (status, outcome, sentence, state) = summarize(&refused);
    assert_eq!((status, outcome, state), (None, "refused", None));
    assert!(sentence.starts_with("Not sent:"), "{sentence}");
    assert_eq!(bsp_posts(&h), 0);

    // Prepared from the WABA as read (owner business from owner_business_info), then sent.
    let req = prepare(
        Bsp::Plivo,
        waba(sim::DEMO_TP_WABA_UNFUNDED_ID),
        sim::DEMO_TP_PHONE_UNFUNDED_ID,
        Some("bramble-7"),
    )
    .unwrap();
    assert_eq!(req.business_id, "3600000000000002");
    let result = client.register(&req).await;
    let (status, outcome, _, state) = summarize(&result);
    assert_eq!(
        (status, outcome, state),
        (Some(200), "ok", Some(RegistrationState::Registered))
    );
    // The funding is there on the next read: the checklist's Tech Provider credit step is done.
    let after = wabas::refresh(&graph, &h.business_id(), None)
        .await
        .unwrap();
    let w = after
        .wabas
        .iter()
        .find(|w| w.id() == sim::DEMO_TP_WABA_UNFUNDED_ID)
        .unwrap();
    assert_eq!(
        partnerdeck::domain::partner::credit_step(
            partnerdeck::domain::partner::PartnerKind::TechProvider,
            w.node.funding_id(),
            None
        ),
        Some(true)
    );
}
