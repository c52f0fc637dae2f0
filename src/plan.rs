//! Which dossiers to look up on the national portal now, under a request budget.
//!
//! Pure: no clock, no network, no database. "now" is a parameter.
//!
//! # Tiers (highest first)
//! Every candidate with a well-formed national code falls in at most one tier:
//!
//! 0. **Changed**: looked up before, but the provincial row changed since, and no look-up has
//!    been made at least `sync_grace` after that change. Oldest change first.
//! 1. **Discrepancy**: has an open discrepancy (to confirm or auto-resolve), last looked up at
//!    least `recheck` ago. Oldest look-up first.
//! 2. **Due**: non-terminal (or unmapped) and due within `due_soon` or already overdue, last
//!    looked up at least `recheck` ago. Oldest look-up first.
//! 3. **New**: never looked up. Oldest provincial change first.
//! 4. **Rest**: every other non-terminal dossier, and terminal ones not yet confirmed. Oldest
//!    look-up first (staleness).
//! 5. **Failing**: a dossier whose last look-ups failed (`failures` in a row, none since
//!    succeeded), once its back-off has passed: `failure_backoff` after the first failure,
//!    doubling with each further one up to `failure_backoff_max`. Whatever tier it would be
//!    in otherwise, it comes after every dossier that can be read; oldest failure first. So a
//!    dossier the portal cannot answer for costs at most one look-up per back-off step, and
//!    never one the others need. Only when a budget smaller than the stale tier has kept it
//!    waiting `failure_backoff_max` past its back-off does it compete in tier 4 by the time of
//!    its last try (a failure that was transient must not leave a dossier unread for ever):
//!    then it costs at most one look-up per `failure_backoff_max` plus its back-off, ahead of
//!    stale dossiers only.
//!
//! Never returned:
//! - a dossier whose provincial row changed less than `sync_grace` ago and that has not been
//!   looked up since (its push may still be in flight: a look-up now would prove nothing);
//! - a terminal dossier with `lookups_since_change >= 2` and no open discrepancy: it matched
//!   after it closed, was confirmed once more, and is left alone;
//! - a malformed national code (the portal cannot match it: `bad_dossier_code`);
//! - a failing dossier whose back-off has not passed.
//!
//! A look-up made within `sync_grace` of a change does not count as a check of that change: the
//! push may have landed after it, so the dossier stays in tier 0 until looked up past the grace.
//!
//! Cost: one pass over the candidates filling one `(key, index)` vector, a partial selection
//! (`select_nth_unstable`) of the budget, and a sort of the selected: O(n + k log k).

use std::time::Duration;

use crate::model::{is_well_formed_national_code, LocalTime, Status};

/// What is known of one dossier when planning look-ups. A store fills it from the provincial row
/// and the bookkeeping of national look-ups.
#[derive(Clone, Debug, PartialEq)]
pub struct Candidate {
    /// National dossier code to look up. A malformed code is never planned.
    pub code: String,
    /// Mapped provincial status (`None`: unmapped; planned as non-terminal).
    pub status: Option<Status>,
    /// Provincial received-at (informational; the planner does not need it).
    pub received_at: Option<LocalTime>,
    /// Provincial due date (`NgayHenTra`); `None`: never "due soon".
    pub due_at: Option<LocalTime>,
    /// Last time the provincial row really changed (row hash changed); for a new dossier, when
    /// it was first seen.
    pub provincial_updated_at: LocalTime,
    /// Last successful national look-up (found or not found), if any.
    pub last_lookup_at: Option<LocalTime>,
    /// Successful look-ups since the provincial row last changed (reset to 0 on every change).
    pub lookups_since_change: u32,
    /// At least one discrepancy of this dossier is open (or acknowledged, i.e. not resolved).
    pub has_open_discrepancy: bool,
    /// Look-ups of this dossier that failed in a row since its last success (0: not failing).
    /// Only failures of the dossier's own request count: not a look-up refused by an open
    /// circuit breaker, a login that failed, nor the failures of a run in which the portal
    /// itself was down.
    pub failures: u32,
    /// When the last counted failure happened (`None` when `failures` is 0).
    pub last_failure_at: Option<LocalTime>,
}

/// The look-up budget of one planning cycle.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Budget {
    /// Look-ups per second the portal is asked for (the client's rate limit enforces it).
    pub per_second: f64,
    /// At most this many look-ups in one cycle.
    pub per_cycle: usize,
    /// Length of one planning cycle (time between two `plan` calls). The cycle gets at most
    /// `per_second × cycle` look-ups, so that they are done before the next cycle is planned.
    pub cycle: Duration,
}

impl Budget {
    /// Look-ups planned per cycle: `min(per_cycle, ⌊per_second × cycle⌋)` (0 when the rate is
    /// not a positive number).
    pub fn lookups_per_cycle(&self) -> usize {
        let by_rate = self.per_second * self.cycle.as_secs_f64();
        if by_rate.is_nan() || by_rate <= 0.0 {
            return 0;
        }
        // The epsilon absorbs float error (0.29 × 100 s is 28.999…).
        let by_rate = (by_rate + 1e-9).floor();
        if by_rate >= self.per_cycle as f64 {
            self.per_cycle
        } else {
            by_rate as usize
        }
    }
}

/// Tunables of the planner (config section `[national]`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PlanSettings {
    /// A change younger than this may still be on its way to the portal.
    pub sync_grace: Duration,
    /// A non-terminal dossier this close to its due date (or past it) is watched closely.
    pub due_soon: Duration,
    /// Least time between two look-ups of a dossier that its open discrepancy or its due date
    /// raises (tiers 1 and 2); sooner than that it only competes by staleness. Keeps a backlog
    /// of unfixed discrepancies or overdue dossiers from eating the whole budget.
    pub recheck: Duration,
    /// After a failed look-up, the dossier waits this long before it is tried again; the wait
    /// doubles with each further failure in a row ([`failure_backoff`]).
    pub failure_backoff: Duration,
    /// The longest wait between two tries of a failing dossier.
    pub failure_backoff_max: Duration,
}

impl Default for PlanSettings {
    fn default() -> Self {
        PlanSettings {
            sync_grace: Duration::from_secs(30 * 60),
            due_soon: Duration::from_secs(24 * 3600),
            recheck: Duration::from_secs(4 * 3600),
            failure_backoff: Duration::from_secs(15 * 60),
            failure_backoff_max: Duration::from_secs(24 * 3600),
        }
    }
}

/// How long a dossier whose last `failures` look-ups failed waits before the next try:
/// `failure_backoff × 2^(failures − 1)`, at most `failure_backoff_max` (zero when not failing).
/// With the defaults: 15 min, 30 min, 1 h, 2 h, … 16 h, then a day.
pub fn failure_backoff(failures: u32, s: &PlanSettings) -> Duration {
    if failures == 0 {
        return Duration::ZERO;
    }
    let doublings = (failures - 1).min(30);
    s.failure_backoff
        .saturating_mul(1 << doublings)
        .min(s.failure_backoff_max)
}

const TIER_SHIFT: u32 = 60;
const TIME_BIAS: i64 = 1 << 59;

/// Sort key: tier in the top bits, then a time (seconds), `None` oldest of all.
fn key(tier: u64, t: Option<LocalTime>) -> u64 {
    let secs = t.map_or(0, |t| {
        t.and_utc()
            .timestamp()
            .saturating_add(TIME_BIAS)
            .clamp(1, (1 << TIER_SHIFT) - 1)
    });
    (tier << TIER_SHIFT) | secs as u64
}

fn to_chrono(d: Duration) -> chrono::Duration {
    chrono::Duration::from_std(d).unwrap_or(chrono::Duration::MAX)
}

/// Why a dossier is looked up (the tiers of the module documentation, highest first).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Tier {
    /// Changed in the province since its last check past the grace.
    Changed = 0,
    /// Has an open discrepancy to confirm or auto-resolve.
    Discrepancy = 1,
    /// Non-terminal, due soon or overdue.
    Due = 2,
    /// Never looked up.
    New = 3,
    /// Everything else still worth a look, by staleness.
    Stale = 4,
    /// Its last look-ups failed and its back-off has passed: after everything else.
    Failing = 5,
}

/// The settings turned into instants relative to `now`, so that classifying a candidate is
/// mostly comparisons.
struct Limits {
    grace: chrono::Duration,
    /// A change after this is younger than the grace.
    grace_from: LocalTime,
    /// A look-up at or before this is old enough for a recheck.
    recheck_by: LocalTime,
    /// A due date at or before this is "due soon" (or past).
    due_by: LocalTime,
}

impl Limits {
    fn new(s: &PlanSettings, now: LocalTime) -> Self {
        let (grace, due_soon, recheck) = (
            to_chrono(s.sync_grace),
            to_chrono(s.due_soon),
            to_chrono(s.recheck),
        );
        Limits {
            grace,
            grace_from: now.checked_sub_signed(grace).unwrap_or(LocalTime::MIN),
            recheck_by: now.checked_sub_signed(recheck).unwrap_or(LocalTime::MIN),
            due_by: now.checked_add_signed(due_soon).unwrap_or(LocalTime::MAX),
        }
    }
}

/// The tier of one candidate and the time that orders it within its tier, or `None` when it is
/// not to be looked up now. A failing dossier keeps the rules that would leave it alone (the
/// grace of a change, a confirmed closed dossier), and otherwise waits for its back-off and
/// then goes last.
fn classify(
    c: &Candidate,
    l: &Limits,
    s: &PlanSettings,
    now: LocalTime,
) -> Option<(Tier, Option<LocalTime>)> {
    let tier = classify_readable(c, l)?;
    if c.failures == 0 {
        return Some(tier);
    }
    let wait = to_chrono(failure_backoff(c.failures, s));
    let Some(t) = c.last_failure_at else {
        return Some((Tier::Failing, None));
    };
    let ready = t.checked_add_signed(wait).unwrap_or(LocalTime::MAX);
    if now < ready {
        return None;
    }
    let starved = ready
        .checked_add_signed(to_chrono(s.failure_backoff_max))
        .unwrap_or(LocalTime::MAX);
    if now >= starved {
        // Kept waiting a whole `failure_backoff_max` by the readable dossiers: by staleness.
        return Some((Tier::Stale, Some(t)));
    }
    Some((Tier::Failing, Some(t)))
}

/// [`classify`] of a dossier whose look-ups do not fail.
fn classify_readable(c: &Candidate, l: &Limits) -> Option<(Tier, Option<LocalTime>)> {
    let upd = c.provincial_updated_at;
    // Not yet checked past the grace of its last change?
    let pending = match c.last_lookup_at {
        None => true,
        Some(t) => t < upd || t - upd < l.grace,
    };
    if pending && upd > l.grace_from {
        return None; // the push may still be in flight
    }
    if pending && c.last_lookup_at.is_some() {
        return Some((Tier::Changed, Some(upd)));
    }
    let terminal = c.status.is_some_and(Status::is_terminal);
    let recheck_due = c.last_lookup_at.is_none_or(|t| t <= l.recheck_by);
    if c.has_open_discrepancy && recheck_due {
        return Some((Tier::Discrepancy, c.last_lookup_at));
    }
    if !terminal && recheck_due && c.due_at.is_some_and(|d| d <= l.due_by) {
        return Some((Tier::Due, c.last_lookup_at));
    }
    if c.last_lookup_at.is_none() {
        return Some((Tier::New, Some(upd)));
    }
    if terminal && c.lookups_since_change >= 2 && !c.has_open_discrepancy {
        return None; // matched after it closed, confirmed once more: left alone
    }
    Some((Tier::Stale, c.last_lookup_at))
}

/// The tier `plan` puts a candidate in at `now` (`None`: not looked up now). For logs and
/// metrics ("look-ups by reason").
pub fn tier_of(c: &Candidate, now: LocalTime, s: &PlanSettings) -> Option<Tier> {
    if !is_well_formed_national_code(&c.code) {
        return None;
    }
    classify(c, &Limits::new(s, now), s, now).map(|(t, _)| t)
}

/// Returns the indices into `cands` to look up now, most urgent first: at most
/// [`Budget::lookups_per_cycle`] of them, in tier order (see the module documentation).
pub fn plan(cands: &[Candidate], now: LocalTime, budget: Budget, s: &PlanSettings) -> Vec<usize> {
    let want = budget.lookups_per_cycle();
    if want == 0 {
        return Vec::new();
    }
    let limits = Limits::new(s, now);
    let mut ranked: Vec<(u64, usize)> = cands
        .iter()
        .enumerate()
        .filter(|(_, c)| is_well_formed_national_code(&c.code))
        .filter_map(|(i, c)| classify(c, &limits, s, now).map(|(tier, t)| (key(tier as u64, t), i)))
        .collect();
    if ranked.len() > want {
        ranked.select_nth_unstable(want - 1);
        ranked.truncate(want);
    }
    ranked.sort_unstable();
    ranked.into_iter().map(|(_, i)| i).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn now() -> LocalTime {
        NaiveDate::from_ymd_opt(2026, 3, 10)
            .unwrap()
            .and_hms_opt(10, 0, 0)
            .unwrap()
    }
    fn ago(mins: i64) -> LocalTime {
        now() - chrono::Duration::minutes(mins)
    }

    /// A candidate in a quiet state: processing, due in 10 days, changed 30 days ago, checked
    /// (once, past the grace) `looked` minutes ago.
    fn quiet(looked: i64) -> Candidate {
        Candidate {
            code: String::new(),
            status: Some(Status::Processing),
            received_at: Some(ago(31 * 1440)),
            due_at: Some(now() + chrono::Duration::days(10)),
            provincial_updated_at: ago(30 * 1440),
            last_lookup_at: Some(ago(looked)),
            lookups_since_change: 1,
            has_open_discrepancy: false,
            failures: 0,
            last_failure_at: None,
        }
    }
    /// `base`, whose last `failures` look-ups failed, the last one `mins` ago.
    fn failing(failures: u32, mins: i64, base: Candidate) -> Candidate {
        Candidate {
            failures,
            last_failure_at: Some(ago(mins)),
            ..base
        }
    }
    /// Changed `mins` ago, after a look-up a day before the change.
    fn changed(mins: i64) -> Candidate {
        Candidate {
            provincial_updated_at: ago(mins),
            last_lookup_at: Some(ago(mins + 1440)),
            lookups_since_change: 0,
            ..quiet(0)
        }
    }
    /// Never looked up; first seen `mins` ago.
    fn new(mins: i64) -> Candidate {
        Candidate {
            provincial_updated_at: ago(mins),
            received_at: Some(ago(mins)),
            last_lookup_at: None,
            lookups_since_change: 0,
            ..quiet(0)
        }
    }
    fn disc(looked: i64) -> Candidate {
        Candidate {
            has_open_discrepancy: true,
            ..quiet(looked)
        }
    }
    fn due_in(mins: i64, looked: i64) -> Candidate {
        Candidate {
            due_at: Some(now() + chrono::Duration::minutes(mins)),
            ..quiet(looked)
        }
    }
    fn closed(lookups_since_change: u32, looked: i64) -> Candidate {
        Candidate {
            status: Some(Status::Returned),
            lookups_since_change,
            ..quiet(looked)
        }
    }

    fn settings() -> PlanSettings {
        PlanSettings {
            sync_grace: Duration::from_secs(30 * 60),
            due_soon: Duration::from_secs(24 * 3600),
            recheck: Duration::from_secs(3600),
            failure_backoff: Duration::from_secs(15 * 60),
            failure_backoff_max: Duration::from_secs(24 * 3600),
        }
    }
    fn budget(n: usize) -> Budget {
        Budget {
            per_second: 5.0,
            per_cycle: n,
            cycle: Duration::from_secs(3600),
        }
    }

    struct Scenario {
        name: &'static str,
        cands: Vec<(&'static str, Candidate)>,
        budget: Budget,
        expect: &'static [&'static str],
    }

    fn scenarios() -> Vec<Scenario> {
        vec![
            Scenario {
                name: "changed beats everything",
                cands: vec![
                    ("rest", quiet(600)),
                    ("new", new(120)),
                    ("due", due_in(60, 120)),
                    ("disc", disc(120)),
                    ("changed", changed(40)),
                ],
                budget: budget(10),
                expect: &["changed", "disc", "due", "new", "rest"],
            },
            Scenario {
                name: "grace respected: changes and arrivals younger than the grace wait",
                cands: vec![
                    ("changed-10m", changed(10)),
                    ("changed-29m", changed(29)),
                    ("changed-31m", changed(31)),
                    ("new-5m", new(5)),
                    ("new-45m", new(45)),
                    (
                        "disc-changed-5m",
                        Candidate {
                            has_open_discrepancy: true,
                            ..changed(5)
                        },
                    ),
                    (
                        "due-changed-5m",
                        Candidate {
                            due_at: Some(ago(60)),
                            ..changed(5)
                        },
                    ),
                ],
                budget: budget(10),
                expect: &["changed-31m", "new-45m"],
            },
            Scenario {
                name: "a look-up inside the grace does not count as a check",
                cands: vec![
                    (
                        "looked-in-grace",
                        Candidate {
                            last_lookup_at: Some(ago(50)),
                            lookups_since_change: 1,
                            ..changed(60)
                        },
                    ),
                    (
                        "looked-after-grace",
                        Candidate {
                            last_lookup_at: Some(ago(20)),
                            lookups_since_change: 1,
                            ..changed(60)
                        },
                    ),
                    (
                        "in-grace-still-waiting",
                        Candidate {
                            last_lookup_at: Some(ago(5)),
                            lookups_since_change: 1,
                            ..changed(10)
                        },
                    ),
                ],
                budget: budget(10),
                expect: &["looked-in-grace", "looked-after-grace"],
            },
            Scenario {
                name: "budget cap respected exactly (per cycle)",
                cands: vec![
                    ("c1", changed(300)),
                    ("c2", changed(200)),
                    ("c3", changed(100)),
                    ("c4", changed(50)),
                    ("r1", quiet(500)),
                ],
                budget: budget(3),
                expect: &["c1", "c2", "c3"],
            },
            Scenario {
                name: "budget cap by rate: 0.05/s over 60 s is 3",
                cands: vec![
                    ("r1", quiet(100)),
                    ("r2", quiet(200)),
                    ("r3", quiet(300)),
                    ("r4", quiet(400)),
                    ("r5", quiet(500)),
                ],
                budget: Budget {
                    per_second: 0.05,
                    per_cycle: 100,
                    cycle: Duration::from_secs(60),
                },
                expect: &["r5", "r4", "r3"],
            },
            Scenario {
                name: "zero budget plans nothing",
                cands: vec![("c1", changed(300))],
                budget: Budget {
                    per_second: 0.0,
                    per_cycle: 100,
                    cycle: Duration::from_secs(60),
                },
                expect: &[],
            },
            Scenario {
                name: "confirmed-closed left alone; closed once-checked confirmed by staleness",
                cands: vec![
                    ("confirmed", closed(2, 5000)),
                    ("confirmed-3", closed(3, 9000)),
                    ("needs-confirm", closed(1, 3000)),
                    ("open", quiet(1000)),
                    (
                        "closed-overdue-confirmed",
                        Candidate {
                            due_at: Some(ago(600)),
                            ..closed(2, 9000)
                        },
                    ),
                    (
                        "closed-disc",
                        Candidate {
                            has_open_discrepancy: true,
                            ..closed(2, 90)
                        },
                    ),
                ],
                budget: budget(10),
                expect: &["closed-disc", "needs-confirm", "open"],
            },
            Scenario {
                name: "closed just now: changed tier, then once more, then left alone",
                cands: vec![(
                    "just-closed",
                    Candidate {
                        status: Some(Status::Resolved),
                        ..changed(45)
                    },
                )],
                budget: budget(10),
                expect: &["just-closed"],
            },
            Scenario {
                name: "open discrepancy beats due-soon",
                cands: vec![
                    ("due-overdue", due_in(-600, 500)),
                    ("due-soon", due_in(120, 900)),
                    ("disc", disc(90)),
                ],
                budget: budget(2),
                expect: &["disc", "due-soon"],
            },
            Scenario {
                name: "recheck interval: recently checked discrepancy / due compete by staleness",
                cands: vec![
                    ("disc-fresh", disc(10)),
                    ("due-fresh", due_in(60, 20)),
                    ("stale", quiet(300)),
                    ("new", new(40)),
                ],
                budget: budget(10),
                expect: &["new", "stale", "due-fresh", "disc-fresh"],
            },
            Scenario {
                name: "due soon or overdue beats new beats rest; far due and closed are not due",
                cands: vec![
                    ("due-far", due_in(3 * 1440, 400)),
                    ("new", new(60)),
                    ("overdue", due_in(-60, 70)),
                    (
                        "closed-overdue",
                        Candidate {
                            due_at: Some(ago(60)),
                            ..closed(1, 80)
                        },
                    ),
                    ("due-soon", due_in(600, 65)),
                ],
                budget: budget(10),
                expect: &["overdue", "due-soon", "new", "due-far", "closed-overdue"],
            },
            Scenario {
                name: "staleness order: never-looked first, then oldest look-up first",
                cands: vec![
                    ("r-100", quiet(100)),
                    ("r-5000", quiet(5000)),
                    ("r-1", quiet(1)),
                    ("r-700", quiet(700)),
                    (
                        "unmapped",
                        Candidate {
                            status: None,
                            ..quiet(50)
                        },
                    ),
                ],
                budget: budget(10),
                expect: &["r-5000", "r-700", "r-100", "unmapped", "r-1"],
            },
            Scenario {
                name: "within the changed tier: oldest change first",
                cands: vec![
                    ("c-40", changed(40)),
                    ("c-900", changed(900)),
                    ("c-31", changed(31)),
                    ("c-300", changed(300)),
                ],
                budget: budget(10),
                expect: &["c-900", "c-300", "c-40", "c-31"],
            },
            Scenario {
                name: "a failing dossier waits for its back-off: 15 min, 30 min, 1 h, … a day",
                cands: vec![
                    ("1-failure-14m", failing(1, 14, new(600))),
                    ("1-failure-15m", failing(1, 15, new(600))),
                    ("2-failures-29m", failing(2, 29, quiet(600))),
                    ("2-failures-30m", failing(2, 30, quiet(600))),
                    ("3-failures-59m", failing(3, 59, quiet(600))),
                    ("3-failures-60m", failing(3, 60, quiet(600))),
                    ("20-failures-23h", failing(20, 23 * 60, quiet(9000))),
                    ("20-failures-24h", failing(20, 24 * 60, quiet(9000))),
                ],
                budget: budget(10),
                expect: &[
                    "20-failures-24h",
                    "3-failures-60m",
                    "2-failures-30m",
                    "1-failure-15m",
                ],
            },
            Scenario {
                name: "a failing dossier comes after every dossier that can be read",
                cands: vec![
                    ("failing-changed", failing(1, 600, changed(2000))),
                    ("failing-disc", failing(1, 600, disc(2000))),
                    ("failing-due", failing(1, 600, due_in(60, 2000))),
                    ("failing-new", failing(1, 600, new(2000))),
                    ("rest", quiet(100)),
                    ("new", new(60)),
                    ("changed", changed(40)),
                ],
                budget: budget(10),
                expect: &[
                    "changed",
                    "new",
                    "rest",
                    "failing-changed",
                    "failing-disc",
                    "failing-due",
                    "failing-new",
                ],
            },
            Scenario {
                name: "a budget that does not reach the failing tier leaves it out",
                cands: vec![
                    ("failing-changed", failing(4, 300, changed(9000))),
                    ("r1", quiet(100)),
                    ("r2", quiet(200)),
                ],
                budget: budget(2),
                expect: &["r2", "r1"],
            },
            Scenario {
                name: "a failing dossier kept waiting a whole cap past its back-off competes by \
                       staleness",
                cands: vec![
                    // 20 failures: back-off 24 h, then 24 h more in the failing tier.
                    ("starved-47h", failing(20, 47 * 60, quiet(9000))),
                    ("starved-48h", failing(20, 48 * 60, quiet(9000))),
                    ("stale-50h", quiet(50 * 60)),
                    ("stale-40h", quiet(40 * 60)),
                    ("changed", changed(40)),
                ],
                budget: budget(3),
                expect: &["changed", "stale-50h", "starved-48h"],
            },
            Scenario {
                name: "within the failing tier: oldest failure first",
                cands: vec![
                    ("f-20", failing(1, 20, quiet(600))),
                    ("f-300", failing(1, 300, quiet(100))),
                    ("f-90", failing(2, 90, quiet(900))),
                ],
                budget: budget(10),
                expect: &["f-300", "f-90", "f-20"],
            },
            Scenario {
                name: "failing or not: the grace and the confirmed-closed rule still apply",
                cands: vec![
                    ("failing-in-grace", failing(1, 600, changed(10))),
                    ("failing-confirmed-closed", failing(1, 600, closed(2, 5000))),
                    ("failing-needs-confirm", failing(1, 600, closed(1, 5000))),
                ],
                budget: budget(10),
                expect: &["failing-needs-confirm"],
            },
            Scenario {
                name: "malformed codes are never looked up",
                cands: vec![("bad", changed(300)), ("good", changed(200))],
                budget: budget(10),
                expect: &["good"],
            },
        ]
    }

    #[test]
    fn scenarios_table() {
        for sc in scenarios() {
            let cands: Vec<Candidate> = sc
                .cands
                .iter()
                .enumerate()
                .map(|(i, (label, c))| Candidate {
                    code: if *label == "bad" {
                        "HS-000123".into()
                    } else {
                        format!("000.00.11.H18-260310-{i:04}")
                    },
                    ..c.clone()
                })
                .collect();
            let got: Vec<&str> = plan(&cands, now(), sc.budget, &settings())
                .into_iter()
                .map(|i| sc.cands[i].0)
                .collect();
            assert_eq!(got, sc.expect, "scenario: {}", sc.name);
        }
    }

    #[test]
    fn failure_backoff_doubles_up_to_the_cap() {
        let s = settings();
        let mins = |n| failure_backoff(n, &s).as_secs() / 60;
        let got: Vec<u64> = (0..=9).map(mins).collect();
        assert_eq!(got, [0, 15, 30, 60, 120, 240, 480, 960, 1440, 1440]);
        assert_eq!(mins(u32::MAX), 1440, "no overflow");
    }

    #[test]
    fn budget_per_cycle() {
        let b = |per_second: f64, per_cycle: usize, secs: u64| Budget {
            per_second,
            per_cycle,
            cycle: Duration::from_secs(secs),
        };
        for (budget, want) in [
            (b(5.0, 1000, 60), 300),
            (b(5.0, 120, 60), 120),
            (b(0.29, 1000, 100), 29),
            (b(0.5, 1000, 3), 1),
            (b(0.0, 1000, 60), 0),
            (b(-1.0, 1000, 60), 0),
            (b(f64::NAN, 1000, 60), 0),
            (b(f64::INFINITY, 7, 60), 7),
            (b(5.0, 1000, 0), 0),
        ] {
            assert_eq!(budget.lookups_per_cycle(), want, "{budget:?}");
        }
    }

    /// The partial selection picks exactly what a full sort would.
    #[test]
    fn selection_matches_full_sort() {
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let cands: Vec<Candidate> = (0..2000)
            .map(|i| {
                let r = next();
                let base = match r % 7 {
                    0 => changed((r >> 8) as i64 % 2000),
                    1 => new((r >> 8) as i64 % 2000),
                    2 => disc((r >> 8) as i64 % 2000),
                    3 => due_in((r >> 8) as i64 % 4000 - 1000, (r >> 20) as i64 % 2000),
                    4 => closed((r >> 8) as u32 % 3, (r >> 20) as i64 % 2000),
                    5 => failing(
                        (r >> 8) as u32 % 5 + 1,
                        (r >> 20) as i64 % 2000,
                        quiet((r >> 32) as i64 % 2000),
                    ),
                    _ => quiet((r >> 8) as i64 % 2000),
                };
                Candidate {
                    code: format!("000.00.11.H18-260310-{i:04}"),
                    ..base
                }
            })
            .collect();
        let all = plan(&cands, now(), budget(usize::MAX), &settings());
        for k in [0, 1, 7, 300, all.len(), all.len() + 5] {
            let got = plan(&cands, now(), budget(k), &settings());
            assert_eq!(got, all[..k.min(all.len())], "k = {k}");
        }
    }
}
