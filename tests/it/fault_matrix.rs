//! The fault matrix: every fault the simulator can inject, against the console's real pieces
//! over loopback — the Graph client, the background poller with its pacing, the mutation
//! task, the pure state machine and the drawing — with the assertions of issue 5:
//!
//! - the affected scope keeps its last good data, marked stale, with the reason in words;
//!   other scopes are unaffected; when the fault clears, the console recovers by itself;
//! - throttling holds the scope (no request reaches the simulator) until Meta's time;
//! - a dead token stops polling (no retry storm) until Ctrl-r;
//! - a mutation is sent once; a lost answer is "outcome unknown — re-reading", then the truth;
//! - paging faults end de-duplicated after a bounded number of requests.
//!
//! The harness below does what `runtime.rs` does with effects, minus the terminal.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use chrono::Utc;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use graph_sim::{self as sim, Fault, FaultAction, SimHandle, SimOptions, World};
use partnerdeck::app::model::RefreshStatus;
use partnerdeck::app::msg::{ActionResult, FailureKind, Reread};
use partnerdeck::app::{Model, Msg, Overlay, update};
use partnerdeck::config::Token;
use partnerdeck::domain::solution::SolutionState;
use partnerdeck::effects::{Executor, Services};
use partnerdeck::graph::client::{ClientConfig, GraphClient};
use partnerdeck::graph::model::SolutionNode;
use partnerdeck::ui::{Theme, draw};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use tokio::sync::mpsc;

const LIST: &str = "*/whatsapp_business_solutions";
const POLL: Duration = Duration::from_millis(250);

struct Harness {
    sim: SimHandle,
    model: Model,
    rx: mpsc::UnboundedReceiver<Msg>,
    /// The runtime's own executor: pollers, reads and the action pipeline.
    executor: Executor,
    services: Services,
    /// Every message the model received, for assertions about order.
    seen: Vec<String>,
    /// The last action outcome the model received (a success shows no dialog to read it from).
    outcome: Option<partnerdeck::app::msg::ActionOutcome>,
    _dir: tempfile::TempDir,
}

impl Harness {
    async fn start(faults: Vec<Fault>) -> Harness {
        let sim = sim::start(
            World::demo(),
            SimOptions {
                faults,
                ..SimOptions::default()
            },
        )
        .await
        .unwrap();
        let mut cfg = ClientConfig::new(sim.base_url(), Token::new(sim.token()));
        cfg.request_timeout = Duration::from_secs(1);
        cfg.max_get_retries = 1;
        let client = GraphClient::new(cfg).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let services = Services {
            poll_interval: POLL,
            business_id: None,
            ..crate::common::sim_services(&sim, client, &dir.path().join("audit.jsonl"))
        };
        let (tx, rx) = mpsc::unbounded_channel();
        let mut executor = Executor::new(services.clone(), tx);
        executor.start_solutions_only();
        let mut model = Model::new(sim.app_id(), "v25.0");
        update(
            &mut model,
            Msg::Resize {
                width: 160,
                height: 30,
                list_rows: partnerdeck::ui::list_rows(30),
            },
        );
        Harness {
            sim,
            model,
            rx,
            executor,
            services,
            seen: vec![],
            outcome: None,
            _dir: dir,
        }
    }

    /// What the runtime does on its tick: report the usage the client saw, when it changed.
    fn sync_usage(&mut self) {
        let u = partnerdeck::effects::usage_report(&self.services.client.usage());
        if self.model.usage != Some(u) {
            update(&mut self.model, Msg::UsageReported(u));
        }
    }

    /// Feed one message and carry out its effects as the runtime would.
    fn apply(&mut self, msg: Msg) {
        self.sync_usage();
        self.seen.push(format!("{msg:?}"));
        if let Msg::ActionFinished(o) = &msg {
            self.outcome = Some(o.clone());
        }
        for effect in update(&mut self.model, msg) {
            self.executor.run(effect);
        }
    }

    fn key(&mut self, c: char) {
        self.apply(Msg::Key(KeyEvent::new(
            KeyCode::Char(c),
            KeyModifiers::NONE,
        )));
    }

    fn ctrl_r(&mut self) {
        self.apply(Msg::Key(KeyEvent::new(
            KeyCode::Char('r'),
            KeyModifiers::CONTROL,
        )));
    }

    /// Pump messages until `done(model)`, failing after `secs`.
    async fn until(&mut self, what: &str, secs: u64, done: impl Fn(&Model) -> bool) {
        let deadline = Instant::now() + Duration::from_secs(secs);
        while !done(&self.model) {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                let screen = self.screen();
                panic!(
                    "{what}: not reached in {secs} s; model refresh: {:?}\nscreen:\n{screen}",
                    self.model.refresh.solutions
                );
            }
            if let Ok(Some(msg)) = tokio::time::timeout(left, self.rx.recv()).await {
                self.apply(msg);
            }
        }
    }

    /// Pump messages until an action's outcome has arrived, and return it.
    async fn outcome(&mut self, secs: u64) -> partnerdeck::app::msg::ActionOutcome {
        let deadline = Instant::now() + Duration::from_secs(secs);
        while self.outcome.is_none() {
            let left = deadline.saturating_duration_since(Instant::now());
            assert!(
                !left.is_zero(),
                "no outcome in {secs} s:\n{}",
                self.screen()
            );
            if let Ok(Some(msg)) = tokio::time::timeout(left, self.rx.recv()).await {
                self.apply(msg);
            }
        }
        self.outcome.take().unwrap()
    }

    /// Pump messages for a while.
    async fn pump(&mut self, d: Duration) {
        let deadline = Instant::now() + d;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return;
            }
            if let Ok(Some(msg)) = tokio::time::timeout(left, self.rx.recv()).await {
                self.apply(msg);
            }
        }
    }

    async fn first_refresh(&mut self) {
        self.until("the first refresh", 10, |m| {
            m.solutions.loaded && m.refresh.solutions.last_success.is_some()
        })
        .await;
    }

    fn screen(&mut self) -> String {
        self.sync_usage();
        let mut t = Terminal::new(TestBackend::new(160, 30)).unwrap();
        t.draw(|f| draw(f, &self.model, Utc::now(), &Theme::monochrome()))
            .unwrap();
        t.backend().to_string()
    }

    fn requests(&self, method: &str, path_ends: &str) -> usize {
        self.sim
            .requests()
            .iter()
            .filter(|r| r.method == method && r.path.ends_with(path_ends))
            .count()
    }

    fn list_calls(&self) -> usize {
        self.requests("GET", "/whatsapp_business_solutions")
    }
}

/// What a read fault must do to the Solutions scope.
struct ReadCase {
    name: &'static str,
    action: FaultAction,
    kind: FailureKind,
    /// Words the reason must contain (message line and failure sentence).
    says: &'static str,
    after_fault: After,
}

#[derive(Clone, Copy, PartialEq, Debug)]
enum After {
    /// The poller keeps its timer; clearing the fault recovers by itself.
    Recovers,
    /// Throttled: no request at all while held, Ctrl-r included.
    Held,
    /// Dead token: no timer rounds; Ctrl-r tries once; recovers after Ctrl-r.
    Stopped,
}

fn read_cases() -> Vec<ReadCase> {
    use FaultAction as A;
    let throttle = |code, status, regain| A::Throttle {
        code,
        status: Some(status),
        regain_minutes: regain,
        retry_after_secs: None,
    };
    let mut cases = vec![
        ReadCase {
            name: "503 transient",
            action: A::Transient {
                status: 503,
                code: 2,
            },
            kind: FailureKind::Transient,
            says: "Meta had a temporary problem (code 2)",
            after_fault: After::Recovers,
        },
        ReadCase {
            name: "500 transient",
            action: A::Transient {
                status: 500,
                code: 1,
            },
            kind: FailureKind::Transient,
            says: "Meta had a temporary problem (code 1)",
            after_fault: After::Recovers,
        },
        ReadCase {
            name: "HTML error page 502",
            action: A::Html { status: 502 },
            kind: FailureKind::Transport,
            says: "an HTML page instead of JSON (HTTP 502)",
            after_fault: After::Recovers,
        },
        ReadCase {
            name: "HTML page with status 200",
            action: A::Html { status: 200 },
            kind: FailureKind::Transport,
            says: "an HTML page instead of JSON (HTTP 200)",
            after_fault: After::Recovers,
        },
        ReadCase {
            name: "truncated JSON",
            action: A::Truncated,
            kind: FailureKind::Transport,
            says: "cut off or is not valid JSON",
            after_fault: After::Recovers,
        },
        ReadCase {
            name: "connection reset",
            action: A::Reset,
            kind: FailureKind::Transport,
            says: "The connection to 127.0.0.1",
            after_fault: After::Recovers,
        },
        ReadCase {
            name: "body stalls half-way",
            action: A::StallBody { ms: 60_000 },
            kind: FailureKind::Transport,
            says: "timed out after 1 s",
            after_fault: After::Recovers,
        },
        ReadCase {
            name: "slow headers",
            action: A::Delay { ms: 5_000 },
            kind: FailureKind::Transport,
            says: "timed out after 1 s",
            after_fault: After::Recovers,
        },
        ReadCase {
            name: "permission lost (10)",
            action: A::Permission { code: 10 },
            kind: FailureKind::Permission,
            says: "Permission denied by Meta (code 10)",
            after_fault: After::Recovers,
        },
        ReadCase {
            name: "permission lost (200)",
            action: A::Permission { code: 200 },
            kind: FailureKind::Permission,
            says: "Permission denied by Meta (code 200)",
            after_fault: After::Recovers,
        },
        ReadCase {
            name: "token expired (190/463)",
            action: A::TokenExpired { subcode: 463 },
            kind: FailureKind::AuthExpired,
            says: "(code 190, subcode 463): renew it",
            after_fault: After::Stopped,
        },
        ReadCase {
            name: "password changed (190/460)",
            action: A::TokenExpired { subcode: 460 },
            kind: FailureKind::AuthExpired,
            says: "(code 190, subcode 460): renew it",
            after_fault: After::Stopped,
        },
    ];
    for (code, status, regain, says) in [
        (4, 400, None, "Meta is throttling this app (code 4)"),
        (4, 429, None, "Meta is throttling this app (code 4)"),
        (17, 400, None, "Meta is throttling this app (code 17)"),
        (32, 403, None, "Meta is throttling this app (code 32)"),
        (613, 400, None, "Meta is throttling this app (code 613)"),
        (
            80007,
            400,
            Some(12),
            "Meta is throttling this app (code 80007): calls resume in about 12 min",
        ),
        (
            80008,
            429,
            Some(3),
            "Meta is throttling this app (code 80008): calls resume in about 3 min",
        ),
    ] {
        cases.push(ReadCase {
            name: Box::leak(format!("throttle {code} HTTP {status}").into_boxed_str()),
            action: throttle(code, status, regain),
            kind: FailureKind::Throttled,
            says,
            after_fault: After::Held,
        });
    }
    cases
}

async fn run_read_case(case: ReadCase) -> Result<(), String> {
    let mut h = Harness::start(vec![]).await;
    h.first_refresh().await;
    let good = h.model.solutions.items.len();
    assert!(good > 25);
    h.sim
        .set_faults(vec![Fault::new(case.action.clone()).get(LIST)]);
    h.ctrl_r();
    let kind = case.kind;
    h.until(case.name, 10, |m| {
        m.refresh
            .solutions
            .last_error
            .as_ref()
            .is_some_and(|(_, f)| f.kind == kind)
    })
    .await;

    let check = |ok: bool, what: String| if ok { Ok(()) } else { Err(what) };
    let (_, failure) = h.model.refresh.solutions.last_error.clone().unwrap();
    check(
        failure.sentence.contains(case.says),
        format!("{}: sentence {:?}", case.name, failure.sentence),
    )?;
    check(
        !failure.sentence.contains(&h.sim.token()),
        format!("{}: the token is in {:?}", case.name, failure.sentence),
    )?;
    // The last good data stays, marked stale, with the reason in words.
    check(
        h.model.solutions.items.len() == good,
        format!("{}: the last good data was dropped", case.name),
    )?;
    let screen = h.screen();
    check(
        screen.contains("STALE") && screen.contains(case.says),
        format!(
            "{}: the screen does not say stale and why:\n{screen}",
            case.name
        ),
    )?;
    // Other scopes are unaffected.
    check(
        h.model.refresh.wabas == RefreshStatus::default()
            && h.model.refresh.credit_lines == RefreshStatus::default(),
        format!("{}: another scope changed", case.name),
    )?;

    match case.after_fault {
        After::Recovers => {}
        After::Held => {
            h.until("the hold", 5, |m| m.refresh.solutions.held_until.is_some())
                .await;
            let before = h.list_calls();
            h.ctrl_r();
            h.pump(POLL * 6).await;
            check(
                h.list_calls() == before,
                format!(
                    "{}: {} calls while held",
                    case.name,
                    h.list_calls() - before
                ),
            )?;
            let screen = h.screen();
            check(
                screen.contains("on hold") && screen.contains("usage 100%"),
                format!("{}: the hold is not shown:\n{screen}", case.name),
            )?;
            return Ok(());
        }
        After::Stopped => {
            // No timer rounds with a dead token: no retry storm.
            h.pump(POLL * 6).await;
            let before = h.list_calls();
            h.pump(POLL * 6).await;
            check(
                h.list_calls() == before,
                format!("{}: polled on with a dead token", case.name),
            )?;
            check(
                h.screen().contains("polling stopped: renew the token"),
                format!("{}: the stop is not shown", case.name),
            )?;
            // Ctrl-r tries exactly once (one call per role list).
            h.ctrl_r();
            h.pump(POLL * 6).await;
            check(
                h.list_calls() - before == 2,
                format!(
                    "{}: Ctrl-r made {} calls",
                    case.name,
                    h.list_calls() - before
                ),
            )?;
            h.sim.clear_faults();
            h.ctrl_r();
        }
    }
    h.sim.clear_faults();
    let seen_success = h.model.refresh.solutions.last_success;
    h.until(&format!("{}: recovery", case.name), 10, |m| {
        m.refresh.solutions.last_error.is_none() && m.refresh.solutions.last_success > seen_success
    })
    .await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_read_fault_keeps_the_last_good_data_says_why_and_recovers() {
    let cases = read_cases();
    let n = cases.len();
    let results = futures::future::join_all(cases.into_iter().map(run_read_case)).await;
    let failed: Vec<String> = results.into_iter().filter_map(Result::err).collect();
    assert!(
        failed.is_empty(),
        "{} of {n} cases failed:\n{}",
        failed.len(),
        failed.join("\n\n")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_throttled_scope_makes_no_call_until_metas_time_then_recovers_by_itself() {
    let mut h = Harness::start(vec![]).await;
    h.first_refresh().await;
    // Retry-After above the client's short-wait retry: the poller must hold 6 s.
    h.sim.set_faults(vec![
        Fault::new(FaultAction::Throttle {
            code: 80007,
            status: Some(400),
            regain_minutes: None,
            retry_after_secs: Some(6),
        })
        .get(LIST),
    ]);
    h.ctrl_r();
    h.until("the hold", 5, |m| m.refresh.solutions.held_until.is_some())
        .await;
    let held_at = Instant::now();
    h.sim.clear_faults();
    let before = h.list_calls();
    // Ctrl-r during the hold does not call either.
    h.ctrl_r();
    h.pump(Duration::from_secs(3)).await;
    assert_eq!(h.list_calls(), before, "a call went out during the hold");
    let screen = h.screen();
    assert!(screen.contains("on hold"), "{screen}");
    h.until("recovery after the hold", 10, |m| {
        m.refresh.solutions.last_error.is_none() && m.refresh.solutions.held_until.is_none()
    })
    .await;
    assert!(
        held_at.elapsed() >= Duration::from_millis(5500),
        "resumed after {:?}",
        held_at.elapsed()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn polling_slows_down_as_usage_nears_the_limit() {
    let mut h = Harness::start(vec![]).await;
    h.first_refresh().await;
    let rounds = |h: &Harness| {
        h.seen
            .iter()
            .filter(|m| m.starts_with("RefreshStarted"))
            .count()
    };
    // Normal usage: a round every POLL.
    // Windows of 12 intervals: about 12 rounds normally, 3 when slowed; the bounds leave
    // room for a loaded CI machine, where a round can take longer than an interval.
    let r0 = rounds(&h);
    h.pump(POLL * 12).await;
    let normal = rounds(&h) - r0;
    // Usage at 95 %: four times slower.
    h.sim.set_faults(vec![
        Fault::new(FaultAction::Usage { pct: 95, step: 0 }).get(LIST),
    ]);
    h.pump(POLL * 2).await;
    let r1 = rounds(&h);
    h.pump(POLL * 12).await;
    let slowed = rounds(&h) - r1;
    assert!(normal >= 6, "normal rounds {normal}");
    assert!(slowed <= 4, "rounds at 95 %: {slowed} (normal {normal})");
    // The status bar says so.
    let screen = h.screen();
    assert!(screen.contains("usage 95%, polling ×4 slower"), "{screen}");
    // Usage counting up through the thresholds, as the headers report it.
    h.sim.set_faults(vec![
        Fault::new(FaultAction::Usage { pct: 60, step: 2 }).get(LIST),
    ]);
    let mut seen = vec![];
    for _ in 0..3 {
        h.ctrl_r();
        h.pump(POLL * 2).await;
        seen.push(h.services.client.usage().app_call_pct.unwrap_or(0));
    }
    assert!(seen.windows(2).all(|w| w[0] < w[1]), "{seen:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_detail_read_leaves_the_list_fresh() {
    let mut h = Harness::start(vec![]).await;
    h.first_refresh().await;
    let id = sim::DEMO_PENDING_SOLUTION_ID;
    h.sim.set_faults(vec![
        Fault::new(FaultAction::Transient {
            status: 500,
            code: 1,
        })
        .get(id),
    ]);
    // Open the detail of that solution.
    let pos = h
        .model
        .solutions
        .visible()
        .iter()
        .position(|s| s.id() == id)
        .unwrap();
    h.model.solutions.selected = pos;
    h.model.solutions.details.remove(id);
    h.apply(Msg::Key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE)));
    h.until("the detail fails", 10, |m| {
        matches!(
            m.solutions.details.get(id),
            Some(partnerdeck::app::solutions::Detail::Failed(_))
        )
    })
    .await;
    assert!(h.model.refresh.solutions.last_error.is_none());
    assert!(!h.screen().contains("STALE"));
}

// ---------------------------------------------------------------- mutations

/// Select the solution `id` in the All lane.
fn select_solution(h: &mut Harness, id: &str) {
    h.model.solutions.lane = partnerdeck::app::solutions::Lane::All;
    let pos = h
        .model
        .solutions
        .visible()
        .iter()
        .position(|s| s.id() == id)
        .unwrap();
    h.model.solutions.selected = pos;
}

/// Select a solution and confirm `key` on it; wait for the outcome.
async fn act(h: &mut Harness, id: &str, key: char) -> partnerdeck::app::msg::ActionOutcome {
    select_solution(h, id);
    h.key(key);
    assert!(
        matches!(h.model.overlay, Some(Overlay::Confirm(_))),
        "no confirm dialog"
    );
    h.outcome = None;
    h.key('y');
    h.key('y');
    h.outcome(10).await
}

fn state_of(node: &SolutionNode) -> SolutionState {
    SolutionState::derive(&node.status, node.status_for_pending_request.as_deref())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_answer_to_a_committed_accept_is_outcome_unknown_then_the_truth() {
    let id = sim::DEMO_PENDING_SOLUTION_ID;
    let mut h = Harness::start(vec![]).await;
    h.first_refresh().await;
    h.sim.set_faults(vec![
        Fault::new(FaultAction::CommitThenDrop).post("*/accept"),
        // Slow the re-read so "re-reading" can be seen on screen.
        Fault::new(FaultAction::Delay { ms: 300 })
            .get(id)
            .query("fields="),
    ]);
    let o = {
        select_solution(&mut h, id);
        h.key('a');
        h.key('y');
        h.until("outcome unknown — re-reading", 10, |m| {
            m.in_flight.as_ref().is_some_and(|f| f.answer_lost)
        })
        .await;
        let screen = h.screen();
        assert!(screen.contains("Outcome unknown — re-reading"), "{screen}");
        h.key('y');
        h.outcome(10).await
    };
    match &o.result {
        ActionResult::OutcomeUnknown {
            reread: Some(Reread::Solution(node)),
            ..
        } => assert_eq!(state_of(node), SolutionState::Active),
        other => panic!("{other:?}"),
    }
    assert_eq!(h.requests("POST", "/accept"), 1, "sent more than once");
    assert_eq!(h.sim.solution_status(id).unwrap().0, "ACTIVE");
    let screen = h.screen();
    assert!(screen.contains("re-read shows it active"), "{screen}");
    // The answer-lost message came before the outcome.
    let lost = h
        .seen
        .iter()
        .position(|m| m.starts_with("ActionAnswerLost"));
    let done = h.seen.iter().position(|m| m.starts_with("ActionFinished"));
    assert!(lost.is_some() && lost < done);
    let audit = std::fs::read_to_string(h.services.audit.path()).unwrap();
    let lines: Vec<serde_json::Value> = audit
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2, "{audit}");
    assert_eq!(lines[0]["phase"], "intent");
    let line = &lines[1];
    assert_eq!(line["outcome"], "unknown");
    assert_eq!(line["verified_state"], "active");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mutation_faults_never_send_twice_and_say_what_happened() {
    use FaultAction as A;
    struct Case {
        action: A,
        /// What the re-read must show, and what the world must be.
        committed: bool,
        unknown: bool,
        kind: Option<FailureKind>,
    }
    let cases = vec![
        Case {
            action: A::Reset,
            committed: false,
            unknown: true,
            kind: None,
        },
        Case {
            action: A::Truncated,
            committed: true,
            unknown: true,
            kind: None,
        },
        Case {
            action: A::Html { status: 502 },
            committed: true,
            unknown: true,
            kind: None,
        },
        Case {
            action: A::Transient {
                status: 503,
                code: 2,
            },
            committed: false,
            unknown: false,
            kind: Some(FailureKind::Transient),
        },
        Case {
            action: A::Throttle {
                code: 80007,
                status: Some(400),
                regain_minutes: Some(5),
                retry_after_secs: None,
            },
            committed: false,
            unknown: false,
            kind: Some(FailureKind::Throttled),
        },
        Case {
            action: A::TokenExpired { subcode: 463 },
            committed: false,
            unknown: false,
            kind: Some(FailureKind::AuthExpired),
        },
        Case {
            action: A::Permission { code: 10 },
            committed: false,
            unknown: false,
            kind: Some(FailureKind::Permission),
        },
    ];
    let run = |c: Case| async move {
        let id = sim::DEMO_PENDING_SOLUTION_ID;
        let mut h = Harness::start(vec![]).await;
        h.first_refresh().await;
        h.sim
            .set_faults(vec![Fault::new(c.action.clone()).post("*/accept")]);
        let o = act(&mut h, id, 'a').await;
        let label = format!("{:?}", c.action);
        assert_eq!(h.requests("POST", "/accept"), 1, "{label}: sent twice");
        let world = h.sim.solution_status(id).unwrap().0;
        assert_eq!(world == "ACTIVE", c.committed, "{label}: world {world}");
        match (&o.result, c.unknown, c.kind) {
            (
                ActionResult::OutcomeUnknown {
                    reread: Some(Reread::Solution(n)),
                    ..
                },
                true,
                _,
            ) => {
                let want = if c.committed {
                    SolutionState::Active
                } else {
                    SolutionState::Pending
                };
                assert_eq!(state_of(n), want, "{label}");
            }
            (ActionResult::Failed { failure, .. }, false, Some(k)) => {
                assert_eq!(failure.kind, k, "{label}")
            }
            (other, _, _) => panic!("{label}: {other:?}"),
        }
    };
    for c in cases {
        run(c).await;
    }
}

// ---------------------------------------------------------------- paging

async fn walk(faults: Vec<Fault>) -> (Vec<String>, usize, SimHandle) {
    let h = sim::start(
        World::demo(),
        SimOptions {
            faults,
            ..SimOptions::default()
        },
    )
    .await
    .unwrap();
    let c = GraphClient::new(ClientConfig::new(h.base_url(), Token::new(h.token()))).unwrap();
    let path = format!("{}/whatsapp_business_solutions", h.app_id());
    let items: Vec<SolutionNode> = c
        .get_all(&path, &[("limit", "4"), ("fields", "id,name,status")])
        .await
        .unwrap();
    let ids: Vec<String> = items.into_iter().map(|n| n.id).collect();
    let calls = h.requests().len();
    (ids, calls, h)
}

#[tokio::test]
async fn paging_faults_end_deduplicated_after_a_bounded_number_of_requests() {
    let (clean, clean_calls, _h) = walk(vec![]).await;
    assert_eq!(clean.len(), 31);
    assert_eq!(clean_calls, 8, "31 items in pages of 4");
    let unique = |ids: &[String]| ids.iter().collect::<HashSet<_>>().len() == ids.len();

    // Every page repeats the previous page's last two items and its own first one.
    let (ids, calls, _h) = walk(vec![Fault::new(FaultAction::DuplicateIds).get(LIST)]).await;
    assert!(unique(&ids), "{ids:?}");
    assert_eq!(ids, clean, "same items, same order");
    assert_eq!(calls, clean_calls);

    // The cursor stops advancing on the second page: stop there, with what was read.
    let (ids, calls, _h) = walk(vec![
        Fault::new(FaultAction::RepeatCursor)
            .get(LIST)
            .query("after="),
    ])
    .await;
    assert!(unique(&ids));
    assert_eq!(calls, 2, "a cursor that does not advance is not followed");
    assert_eq!(ids, clean[..8]);

    // An empty page that still has `next`: the walk goes on past it.
    let (ids, calls, _h) = walk(vec![
        Fault::new(FaultAction::EmptyPage)
            .get(LIST)
            .query("after=")
            .times(1),
    ])
    .await;
    assert!(unique(&ids));
    assert_eq!(calls, clean_calls);
    assert_eq!(
        ids.len(),
        clean.len() - 4,
        "only the emptied page is missing"
    );

    // Empty pages all the way, and a cursor that repeats on every page: still bounded.
    let (ids, calls, _h) = walk(vec![
        Fault::new(FaultAction::EmptyPage).get(LIST),
        Fault::new(FaultAction::RepeatCursor).get(LIST),
    ])
    .await;
    assert!(ids.is_empty());
    assert!(calls <= clean_calls, "{calls}");
}

// ---------------------------------------------------------------- hostile strings

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_names_are_kept_but_drawn_inert_and_aligned() {
    let mut h = Harness::start(vec![Fault::new(FaultAction::HostileNames).get(LIST)]).await;
    h.first_refresh().await;
    h.model.solutions.lane = partnerdeck::app::solutions::Lane::All;
    let names: Vec<String> = h
        .model
        .solutions
        .items
        .iter()
        .map(|s| s.name().to_string())
        .collect();
    // The data keeps Meta's strings as they are (the snapshot shows them raw in JSON).
    assert!(names.iter().any(|n| n.contains('\u{1b}')));
    assert!(names.iter().any(|n| n.chars().count() == 500));
    let screen = h.screen();
    for bad in ['\u{1b}', '\u{9b}', '\u{7}', '\u{202E}', '\u{202C}'] {
        assert!(!screen.contains(bad), "{bad:?} reached the screen");
    }
    // Every row keeps its columns: the State column starts at the same place on each row.
    let cols: HashSet<usize> = screen
        .lines()
        .filter(|l| l.contains(" partner ") || l.contains(" owner "))
        .map(|l| {
            let cells: Vec<char> = l.chars().collect();
            // Width by grapheme, as ratatui draws it: count cells up to the role column.
            let text: String = cells.iter().collect();
            let at = text
                .find(" partner ")
                .or_else(|| text.find(" owner "))
                .unwrap();
            unicode_width::UnicodeWidthStr::width(&text[..at])
        })
        .collect();
    assert_eq!(cols.len(), 1, "columns drift:\n{screen}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_throttled_detail_read_stops_the_round_and_holds_the_scope() {
    // Only the detail reads (their field list names owner_app) are throttled.
    let mut h = Harness::start(vec![
        Fault::new(FaultAction::Throttle {
            code: 80007,
            status: Some(400),
            regain_minutes: Some(12),
            retry_after_secs: None,
        })
        .method("GET")
        .query("owner_app"),
    ])
    .await;
    h.until("the hold", 10, |m| m.refresh.solutions.held_until.is_some())
        .await;
    let details = |h: &Harness| {
        h.sim
            .requests()
            .iter()
            .filter(|r| r.query.contains("owner_app"))
            .count()
    };
    // At most the reads already in flight when the first throttle came back, not all 31.
    // Those may still be landing at the simulator (the client dropped them): let them settle.
    h.pump(POLL * 2).await;
    let n = details(&h);
    assert!(n <= 4, "{n} detail reads after a throttle");
    let lists = h.list_calls();
    h.ctrl_r();
    h.pump(POLL * 6).await;
    assert_eq!(details(&h), n);
    assert_eq!(h.list_calls(), lists, "the held scope was called");
    // The list itself was fine: its rows are shown.
    assert!(h.model.solutions.items.len() > 25);
}

// ---------------------------------------------------------------- the action pipeline

/// The intent is on disk before the request leaves: while Meta has not answered, the audit
/// log already holds the attempt; the outcome of the same attempt follows.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_intent_is_recorded_before_the_request_leaves() {
    let mut h = Harness::start(vec![]).await;
    h.first_refresh().await;
    let id = sim::DEMO_PENDING_SOLUTION_ID;
    h.sim.set_faults(vec![
        // Below the harness's 1 s request timeout: the answer comes, late.
        Fault::new(FaultAction::Delay { ms: 600 })
            .method("POST")
            .path(&format!("{id}/accept")),
    ]);
    select_solution(&mut h, id);
    h.key('a');
    h.key('y');
    // While the simulator holds the answer, the intent is already on disk.
    let audit_path = h.services.audit.path().to_path_buf();
    let deadline = Instant::now() + Duration::from_secs(10);
    while partnerdeck::audit::read_records(&audit_path)
        .unwrap()
        .is_empty()
    {
        assert!(Instant::now() < deadline, "no intent was written");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(h.model.in_flight.is_some(), "the answer came already");
    assert_eq!(
        h.requests("POST", "/accept"),
        0,
        "answered before the check"
    );
    let records = partnerdeck::audit::read_records(&audit_path).unwrap();
    assert_eq!(records.len(), 1, "{records:?}");
    assert_eq!(records[0].phase, "intent");
    assert_eq!(records[0].target, id);
    h.outcome(10).await;
    let records = partnerdeck::audit::read_records(&audit_path).unwrap();
    assert_eq!(records.len(), 2);
    assert_eq!(records[1].phase, "outcome");
    assert_eq!(records[1].attempt, records[0].attempt);
    assert_eq!(records[1].verified_state.as_deref(), Some("active"));
}

/// A list read that started before an action lands after the action's verified re-read: it
/// must not bring the old state back, and the action is not offered (or sent) again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_older_list_never_overwrites_a_verified_action() {
    let mut h = Harness::start(vec![]).await;
    h.first_refresh().await;
    let id = sim::DEMO_PENDING_SOLUTION_ID;
    // The next owner list hangs for a while.
    h.sim.set_faults(vec![
        Fault::new(FaultAction::Delay { ms: 2500 })
            .get(LIST)
            .query("role=OWNER")
            .times(1),
    ]);
    h.ctrl_r();
    h.until("the delayed refresh to start", 5, |m| {
        m.refresh.solutions.in_flight
    })
    .await;
    let o = act(&mut h, id, 'a').await;
    assert!(matches!(o.result, ActionResult::Verified { .. }), "{o:?}");
    let active = |m: &Model| m.solutions.solution(id).map(|s| s.state);
    assert_eq!(active(&h.model), Some(SolutionState::Active));
    // Wait for the delayed list (and a round after it) to land.
    let done_before = h
        .seen
        .iter()
        .filter(|m| m.starts_with("SolutionsLoaded"))
        .count();
    let deadline = Instant::now() + Duration::from_secs(10);
    while h
        .seen
        .iter()
        .filter(|m| m.starts_with("SolutionsLoaded"))
        .count()
        < done_before + 2
    {
        assert!(Instant::now() < deadline, "the lists never came");
        h.pump(Duration::from_millis(50)).await;
        assert_eq!(
            active(&h.model),
            Some(SolutionState::Active),
            "an older list brought the old state back"
        );
    }
    // Accept again: not offered, nothing sent.
    h.key('\u{1b}');
    h.key('a');
    assert!(!matches!(h.model.overlay, Some(Overlay::Confirm(_))));
    h.key('y');
    h.pump(Duration::from_millis(300)).await;
    assert_eq!(h.requests("POST", "/accept"), 1, "sent twice");
}
