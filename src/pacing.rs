//! How fast the background pollers may call Meta: pure decisions, no clock, no IO.
//!
//! - Polling slows down on its own as the usage Meta reports (`X-App-Usage`,
//!   `X-Business-Use-Case-Usage`, reference §1.5) nears the limit: the interval doubles
//!   above [`SLOW_ABOVE_PCT`] and quadruples above [`SLOWER_ABOVE_PCT`].
//! - After throttling, the scope is *held*: no call at all (Ctrl-r included) until the time
//!   Meta gave (`estimated_time_to_regain_access`, or `Retry-After`) has passed, or
//!   [`THROTTLE_FALLBACK`] (at least four intervals) when Meta gave none.
//! - After an expired or revoked token (190 and friends) no timer round runs: only Ctrl-r
//!   tries again, once, so there is never a retry storm with a dead token.

use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::graph::client::Usage;
use crate::graph::error::{ErrorKind, GraphError};

/// Above this usage (percent of a limit) the poll interval doubles.
pub const SLOW_ABOVE_PCT: u32 = 75;
/// Above this usage the poll interval quadruples.
pub const SLOWER_ABOVE_PCT: u32 = 90;
/// The hold after throttling when Meta did not say how long: this, or four poll intervals,
/// whichever is longer.
pub const THROTTLE_FALLBACK: Duration = Duration::from_secs(120);

/// The longest any wait or hold lasts, whatever Meta says (`Retry-After`, regain time):
/// 24 hours. Waits are said in words with [`wait_words`].
pub use crate::graph::error::{MAX_WAIT, wait_words};

/// `d`, at most [`MAX_WAIT`].
pub fn clamp_wait(d: Duration) -> Duration {
    d.min(MAX_WAIT)
}

/// `now + d`, saturating: never overflows or panics, whatever `d` is (a wait is clamped to
/// [`MAX_WAIT`] first, and the sum saturates at the latest time chrono can hold).
pub fn deadline(now: DateTime<Utc>, d: Duration) -> DateTime<Utc> {
    let d = chrono::Duration::from_std(clamp_wait(d)).unwrap_or(chrono::Duration::MAX);
    now.checked_add_signed(d)
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}

/// The highest percentage in the usage Meta reported, over the app and business use cases.
pub fn highest_pct(u: &Usage) -> Option<u32> {
    [u.app_call_pct, u.app_cpu_pct, u.app_time_pct, u.buc_max_pct]
        .into_iter()
        .flatten()
        .max()
}

/// How much slower than usual to poll at this usage: 1, 2 or 4.
pub fn usage_factor(pct: Option<u32>) -> u32 {
    match pct {
        Some(p) if p > SLOWER_ABOVE_PCT => 4,
        Some(p) if p > SLOW_ABOVE_PCT => 2,
        _ => 1,
    }
}

/// How a round of calls ended, as far as pacing cares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Ok,
    /// Failed for a reason that retrying on the usual timer may fix (network, 5xx, …).
    Failed,
    /// Meta is throttling us; `wait` is how long Meta said, if it said.
    Throttled {
        wait: Option<Duration>,
    },
    /// The token is expired or revoked: retrying on a timer cannot help.
    AuthExpired,
}

impl Outcome {
    pub fn of_error(e: &GraphError) -> Outcome {
        match e.kind {
            ErrorKind::Throttled => Outcome::Throttled {
                wait: e.retry_after,
            },
            ErrorKind::AuthExpired => Outcome::AuthExpired,
            _ => Outcome::Failed,
        }
    }

    pub fn of<T>(r: &Result<T, GraphError>) -> Outcome {
        match r {
            Ok(_) => Outcome::Ok,
            Err(e) => Outcome::of_error(e),
        }
    }

    /// Whether this outcome should stop the rest of a round (e.g. the detail reads after a
    /// list): calling on would only hit the same wall.
    pub fn stops_round(&self) -> bool {
        matches!(self, Outcome::Throttled { .. } | Outcome::AuthExpired)
    }
}

/// What a poller does before its next round.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NextRound {
    /// Wait this long, or less if Ctrl-r is pressed.
    After(Duration),
    /// Make no call for this long, whatever is pressed; then start a round.
    Hold(Duration),
    /// Wait for Ctrl-r only.
    WakeOnly,
}

/// The next round after a round that ended with `outcome`, polling every `base` at
/// `usage_pct` percent of the limit.
/// Every wait it returns is at most [`MAX_WAIT`].
pub fn next_round(base: Duration, usage_pct: Option<u32>, outcome: &Outcome) -> NextRound {
    let slowed = clamp_wait(base.saturating_mul(usage_factor(usage_pct)));
    match outcome {
        Outcome::Ok | Outcome::Failed => NextRound::After(slowed),
        Outcome::AuthExpired => NextRound::WakeOnly,
        Outcome::Throttled { wait: Some(w) } if !w.is_zero() => NextRound::Hold(clamp_wait(*w)),
        Outcome::Throttled { .. } => NextRound::Hold(clamp_wait(
            THROTTLE_FALLBACK.max(base.saturating_mul(4)).max(slowed),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S30: Duration = Duration::from_secs(30);

    #[test]
    fn usage_slows_polling_down() {
        for (pct, factor) in [
            (None, 1),
            (Some(0), 1),
            (Some(75), 1),
            (Some(76), 2),
            (Some(90), 2),
            (Some(91), 4),
            (Some(100), 4),
            (Some(250), 4),
        ] {
            assert_eq!(usage_factor(pct), factor, "{pct:?}");
        }
        assert_eq!(
            next_round(S30, Some(80), &Outcome::Ok),
            NextRound::After(Duration::from_secs(60))
        );
        assert_eq!(
            next_round(S30, Some(95), &Outcome::Failed),
            NextRound::After(Duration::from_secs(120))
        );
        assert_eq!(next_round(S30, None, &Outcome::Ok), NextRound::After(S30));
    }

    #[test]
    fn highest_of_every_header() {
        let u = Usage {
            app_call_pct: Some(12),
            app_cpu_pct: Some(80),
            app_time_pct: None,
            buc_max_pct: Some(40),
            regain_minutes: Some(0),
        };
        assert_eq!(highest_pct(&u), Some(80));
        assert_eq!(highest_pct(&Usage::default()), None);
    }

    #[test]
    fn throttling_holds_for_metas_time() {
        let twelve = Duration::from_secs(12 * 60);
        assert_eq!(
            next_round(S30, Some(100), &Outcome::Throttled { wait: Some(twelve) }),
            NextRound::Hold(twelve)
        );
        assert_eq!(
            next_round(S30, None, &Outcome::Throttled { wait: None }),
            NextRound::Hold(THROTTLE_FALLBACK)
        );
        assert_eq!(
            next_round(
                Duration::from_secs(60),
                None,
                &Outcome::Throttled {
                    wait: Some(Duration::ZERO)
                }
            ),
            NextRound::Hold(Duration::from_secs(240))
        );
    }

    #[test]
    fn expired_token_waits_for_a_person() {
        assert_eq!(
            next_round(S30, None, &Outcome::AuthExpired),
            NextRound::WakeOnly
        );
        assert!(Outcome::AuthExpired.stops_round());
        assert!(Outcome::Throttled { wait: None }.stops_round());
        assert!(!Outcome::Failed.stops_round());
    }

    #[test]
    fn outcome_of_errors() {
        let mut e = GraphError::new(ErrorKind::Throttled, "x");
        e.retry_after = Some(Duration::from_secs(60));
        assert_eq!(
            Outcome::of_error(&e),
            Outcome::Throttled {
                wait: Some(Duration::from_secs(60))
            }
        );
        assert_eq!(
            Outcome::of::<()>(&Err(GraphError::new(ErrorKind::AuthExpired, "x"))),
            Outcome::AuthExpired
        );
        assert_eq!(
            Outcome::of::<()>(&Err(GraphError::new(ErrorKind::Transport, "x"))),
            Outcome::Failed
        );
        assert_eq!(Outcome::of::<()>(&Ok(())), Outcome::Ok);
    }

    #[test]
    fn huge_waits_are_clamped_and_deadlines_saturate() {
        let huge = Duration::from_secs(10u64.pow(13));
        for outcome in [
            Outcome::Throttled { wait: Some(huge) },
            Outcome::Throttled {
                wait: Some(Duration::MAX),
            },
            Outcome::Throttled { wait: None },
        ] {
            match next_round(Duration::MAX, Some(100), &outcome) {
                NextRound::Hold(d) => assert!(d <= MAX_WAIT, "{d:?}"),
                other => panic!("{other:?}"),
            }
        }
        assert_eq!(
            next_round(Duration::MAX, None, &Outcome::Ok),
            NextRound::After(MAX_WAIT)
        );
        assert_eq!(clamp_wait(huge), MAX_WAIT);
        assert_eq!(clamp_wait(S30), S30);
        let now = Utc::now();
        assert_eq!(deadline(now, huge), now + chrono::Duration::hours(24));
        assert_eq!(
            deadline(now, Duration::MAX),
            now + chrono::Duration::hours(24)
        );
        assert_eq!(
            deadline(DateTime::<Utc>::MAX_UTC, S30),
            DateTime::<Utc>::MAX_UTC
        );
        assert_eq!(deadline(now, S30), now + chrono::Duration::seconds(30));
    }

    #[test]
    fn waits_in_words() {
        assert_eq!(wait_words(Duration::from_millis(300)), "1 s");
        assert_eq!(wait_words(Duration::from_secs(45)), "45 s");
        assert_eq!(wait_words(Duration::from_secs(12 * 60)), "12 min");
        assert_eq!(wait_words(Duration::from_secs(200 * 60)), "3 h 20 min");
        assert_eq!(wait_words(Duration::from_secs(10u64.pow(13))), "24 h");
    }
}
