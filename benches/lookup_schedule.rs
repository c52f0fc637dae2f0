//! Replays a synthetic week of a province's dossiers with a simulated clock (no network) and
//! measures how long a sync fault stays unseen under the look-up planner (`plan`) and under a
//! plain round-robin sweep with the same budget. Also times one `plan` call over 200,000
//! candidates.
//!
//! A third run plans the same world with 1 % of its dossiers whose look-ups always fail (issue
//! 13): the detection of the other dossiers' faults must stay as fast, and each failing
//! dossier costs at most one look-up per back-off step.
//!
//! Run: `cargo bench --bench lookup_schedule` (`LOOKUP_DOSSIERS=N` for a smaller world).

use std::time::{Duration, Instant};

use chrono::{NaiveDate, NaiveDateTime};
use tthc_sync::model::Status;
use tthc_sync::plan::{failure_backoff, plan, tier_of, Budget, Candidate, PlanSettings};

/// The world's size: `LOOKUP_DOSSIERS`, else 200,000.
fn dossier_count() -> usize {
    std::env::var("LOOKUP_DOSSIERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200_000)
}
/// Fraction of dossiers whose look-ups always fail in the third run.
const ALWAYS_FAILING: f64 = 0.01;
const FAULT_RATE: f64 = 0.02;
const SEC: i64 = 1000; // simulated time is in milliseconds from the start (a Monday, 00:00)
const MIN: i64 = 60 * SEC;
const HOUR: i64 = 60 * MIN;
const DAY: i64 = 24 * HOUR;
const WEEK: i64 = 7 * DAY;
/// After the week, the clock runs on (no new events) so that late faults can still be seen.
const TAIL: i64 = DAY;
const CYCLE: i64 = 60 * SEC;
const PER_SECOND: f64 = 5.0;
const GRACE: i64 = 30 * MIN;

/// SplitMix64: a tiny deterministic PRNG.
struct Rng(u64);

impl Rng {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
    fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }
    /// Uniform in [lo, hi) (milliseconds).
    fn span(&mut self, lo: i64, hi: i64) -> i64 {
        lo + ((hi - lo) as f64 * self.unit()) as i64
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum FaultKind {
    /// A provincial change whose push was lost or stale: appears at that change.
    Changed,
    /// The national record went wrong with no provincial change (appears at a random moment).
    Other,
}

#[derive(Clone, Copy)]
struct Fault {
    at: i64,
    kind: FaultKind,
    /// The dossier was terminal in the province when the fault appeared.
    closed: bool,
}

struct Dossier {
    arrival: i64,
    due: i64,
    /// Provincial status changes in time order (the first is the arrival), all within the week.
    events: Vec<(i64, Status)>,
    fault: Option<Fault>,
}

fn gen_dossier(rng: &mut Rng) -> Dossier {
    const DAY_WEIGHT: [f64; 7] = [1.0, 1.0, 1.0, 1.0, 1.0, 0.4, 0.1];
    let online = rng.chance(0.2);
    let arrival = if online {
        rng.span(0, WEEK)
    } else {
        let total: f64 = DAY_WEIGHT.iter().sum();
        let mut x = rng.unit() * total;
        let mut day = 0;
        while day < 6 && x >= DAY_WEIGHT[day] {
            x -= DAY_WEIGHT[day];
            day += 1;
        }
        day as i64 * DAY + rng.span(7 * HOUR + 30 * MIN, 17 * HOUR)
    };
    let statutory_days = [1, 3, 5, 7, 10, 15][rng.below(6)];
    let due = arrival + statutory_days * DAY;
    let mut ev = Vec::with_capacity(6);
    let mut t = arrival;
    if online {
        ev.push((t, Status::Submitted));
        t += rng.span(30 * MIN, 8 * HOUR);
    }
    ev.push((t, Status::Received));
    if rng.chance(0.03) {
        ev.push((t + rng.span(HOUR, DAY), Status::Rejected));
    } else {
        t += rng.span(30 * MIN, DAY);
        ev.push((t, Status::Processing));
        let planned = (statutory_days * DAY) as f64 * (0.2 + 1.1 * rng.unit());
        let mut resolve = (arrival + planned as i64).max(t + HOUR);
        if rng.chance(0.10) {
            let s = t + ((resolve - t) as f64 * (0.2 + 0.4 * rng.unit())) as i64;
            let back = s + rng.span(HOUR, 2 * DAY);
            ev.push((s, Status::SupplementRequested));
            ev.push((back, Status::Processing));
            resolve += back - s;
        }
        if rng.chance(0.01) {
            ev.push((resolve, Status::Withdrawn));
        } else {
            ev.push((resolve, Status::Resolved));
            ev.push((resolve + rng.span(2 * HOUR, 3 * DAY), Status::Returned));
        }
    }
    ev.retain(|e| e.0 < WEEK);
    let fault = rng.chance(FAULT_RATE).then(|| {
        let (at, kind) = if rng.chance(0.5) {
            (ev[rng.below(ev.len())].0, FaultKind::Changed)
        } else {
            (rng.span(arrival, WEEK), FaultKind::Other)
        };
        let closed = ev
            .iter()
            .take_while(|e| e.0 <= at)
            .last()
            .is_some_and(|e| e.1.is_terminal());
        Fault { at, kind, closed }
    });
    Dossier {
        arrival,
        due,
        events: ev,
        fault,
    }
}

fn start() -> NaiveDateTime {
    NaiveDate::from_ymd_opt(2026, 3, 2)
        .unwrap()
        .and_hms_opt(0, 0, 0)
        .unwrap()
}

fn local(t: i64) -> NaiveDateTime {
    start() + chrono::Duration::milliseconds(t)
}

fn code(i: usize) -> String {
    format!("000.00.11.H18-260302-{i:06}")
}

enum Scheduler {
    Plan,
    RoundRobin { cursor: usize },
}

/// One simulated world: what the daemon knows (candidates) plus the hidden truth (faults).
struct Sim<'a> {
    dossiers: &'a [Dossier],
    /// Every provincial event, in time order: (time, dossier, new status).
    events: &'a [(i64, u32, Status)],
    cands: Vec<Candidate>,
    /// Time of each dossier's last provincial change (ms).
    updated: Vec<i64>,
    /// When each fault was first seen (its discrepancy opened), if it was.
    seen: Vec<Option<i64>>,
    /// When the vendor fixes a seen fault (the next look-up then auto-resolves it).
    fixed_at: Vec<i64>,
    next_event: usize,
    lookups: u64,
    plan_time: Duration,
    plan_calls: u32,
    /// Look-ups by tier (plan only).
    by_tier: [u64; 6],
    /// Dossiers whose look-ups always fail (empty: none).
    failing: &'a [bool],
    /// Look-ups of each failing dossier (each one failed).
    failed_lookups: Vec<u32>,
}

impl<'a> Sim<'a> {
    fn new(dossiers: &'a [Dossier], events: &'a [(i64, u32, Status)], failing: &'a [bool]) -> Self {
        Sim {
            dossiers,
            events,
            cands: Vec::with_capacity(dossiers.len()),
            updated: Vec::with_capacity(dossiers.len()),
            seen: vec![None; dossiers.len()],
            fixed_at: vec![i64::MAX; dossiers.len()],
            next_event: 0,
            lookups: 0,
            plan_time: Duration::ZERO,
            plan_calls: 0,
            by_tier: [0; 6],
            failing,
            failed_lookups: vec![0; dossiers.len()],
        }
    }

    /// Applies every provincial event up to `t`.
    fn advance(&mut self, t: i64) {
        while let Some(&(et, i, status)) = self.events.get(self.next_event) {
            if et > t {
                break;
            }
            self.next_event += 1;
            let i = i as usize;
            if i == self.cands.len() {
                let d = &self.dossiers[i];
                self.cands.push(Candidate {
                    code: code(i),
                    status: Some(status),
                    received_at: Some(local(d.arrival)),
                    due_at: Some(local(d.due)),
                    provincial_updated_at: local(et),
                    last_lookup_at: None,
                    lookups_since_change: 0,
                    has_open_discrepancy: false,
                    failures: 0,
                    last_failure_at: None,
                });
                self.updated.push(et);
            } else {
                let c = &mut self.cands[i];
                c.status = Some(status);
                c.provincial_updated_at = local(et);
                c.lookups_since_change = 0;
                self.updated[i] = et;
            }
        }
    }

    /// One `TraCuuHoSo` of dossier `i` at `t`, and what the comparison concludes; for an
    /// always-failing dossier, its failure (as `store_lookups` records it).
    fn lookup(&mut self, i: usize, t: i64) {
        self.lookups += 1;
        let c = &mut self.cands[i];
        if self.failing.get(i).copied().unwrap_or(false) {
            c.failures += 1;
            c.last_failure_at = Some(local(t));
            self.failed_lookups[i] += 1;
            return;
        }
        c.last_lookup_at = Some(local(t));
        c.lookups_since_change += 1;
        let Some(f) = self.dossiers[i].fault else {
            return;
        };
        match self.seen[i] {
            // A mismatch is only reported past the grace of the last provincial change.
            None if t >= f.at && t >= self.updated[i] + GRACE => {
                self.seen[i] = Some(t);
                c.has_open_discrepancy = true;
                let mut r = Rng(i as u64 ^ 0xD1B5_4A32_D192_ED03);
                self.fixed_at[i] = t + r.span(4 * HOUR, 3 * DAY);
            }
            Some(_) if t >= self.fixed_at[i] => c.has_open_discrepancy = false,
            _ => {}
        }
    }

    fn run(&mut self, mut sched: Scheduler) {
        let budget = budget();
        let settings = settings();
        let per_cycle = budget.lookups_per_cycle();
        let mut now = 0;
        while now < WEEK + TAIL {
            self.advance(now);
            let picks: Vec<usize> = match &mut sched {
                Scheduler::Plan => {
                    let t0 = Instant::now();
                    let p = plan(&self.cands, local(now), budget, &settings);
                    self.plan_time += t0.elapsed();
                    self.plan_calls += 1;
                    for &i in &p {
                        if let Some(t) = tier_of(&self.cands[i], local(now), &settings) {
                            self.by_tier[t as usize] += 1;
                        }
                    }
                    p
                }
                Scheduler::RoundRobin { cursor } => {
                    let n = self.cands.len();
                    let k = per_cycle.min(n);
                    let p = (0..k).map(|j| (*cursor + j) % n).collect();
                    if n > 0 {
                        *cursor = (*cursor + k) % n;
                    }
                    p
                }
            };
            for (j, i) in picks.into_iter().enumerate() {
                let t = now + (j as f64 * 1000.0 / PER_SECOND) as i64;
                self.advance(t);
                self.lookup(i, t);
            }
            now += CYCLE;
        }
    }
}

fn budget() -> Budget {
    Budget {
        per_second: PER_SECOND,
        per_cycle: 10_000,
        cycle: Duration::from_millis(CYCLE as u64),
    }
}

/// `LOOKUP_DUE_SOON_H` and `LOOKUP_RECHECK_H` (hours) override the defaults (24, 4).
fn settings() -> PlanSettings {
    let hours = |var: &str, default: f64| {
        let h = std::env::var(var)
            .ok()
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(default);
        Duration::from_secs_f64(h * 3600.0)
    };
    PlanSettings {
        sync_grace: Duration::from_millis(GRACE as u64),
        due_soon: hours("LOOKUP_DUE_SOON_H", 24.0),
        recheck: hours("LOOKUP_RECHECK_H", 4.0),
        ..PlanSettings::default()
    }
}

/// Detection latencies (ms; `None`: never seen) of the faults `keep` selects, on dossiers that
/// are not always failing, sorted (never seen last).
fn latencies(
    dossiers: &[Dossier],
    failing: &[bool],
    sim: &Sim<'_>,
    keep: fn(&Fault) -> bool,
) -> Vec<Option<i64>> {
    let mut lat: Vec<Option<i64>> = dossiers
        .iter()
        .enumerate()
        .filter(|(i, _)| !failing[*i])
        .filter_map(|(i, d)| {
            let f = d.fault.filter(keep)?;
            Some(sim.seen[i].map(|s| s - f.at))
        })
        .collect();
    lat.sort_by_key(|l| l.unwrap_or(i64::MAX));
    lat
}

/// Most look-ups one dossier can get over the run when each failure backs it off
/// ([`failure_backoff`]) and it is planned as soon as allowed, at cycle boundaries.
fn most_failed_lookups(settings: &PlanSettings) -> u32 {
    let (mut n, mut next, mut now) = (0u32, 0i64, 0i64);
    while now < WEEK + TAIL {
        if now >= next {
            n += 1;
            next = now + failure_backoff(n, settings).as_millis() as i64;
        }
        now += CYCLE;
    }
    n
}

/// The third run against the first: detection of the other dossiers' faults, and what the
/// failing dossiers cost.
fn failing_report(dossiers: &[Dossier], failing: &[bool], clean: &Sim<'_>, with: &Sim<'_>) {
    let n_failing = failing.iter().filter(|f| **f).count();
    println!();
    println!(
        "with {n_failing} dossiers ({:.0} %) whose look-ups always fail, faults of the other \
         dossiers (minutes)",
        ALWAYS_FAILING * 100.0
    );
    println!(
        "{:<30} {:<16} {:>6} {:>6} {:>9} {:>9} {:>9}",
        "fault", "world", "faults", "seen", "p50", "p95", "max"
    );
    type Filter = fn(&Fault) -> bool;
    let groups: [(&str, Filter); 2] = [
        ("changed in province", |f| f.kind == FaultKind::Changed),
        ("other", |f| f.kind == FaultKind::Other),
    ];
    for (label, keep) in groups {
        let mut p95 = Vec::new();
        for (name, sim) in [("no failing", clean), ("1 % failing", with)] {
            let lat = latencies(dossiers, failing, sim, keep);
            let seen = lat.iter().filter(|l| l.is_some()).count();
            p95.push(percentile(&lat, 0.95));
            println!(
                "{:<30} {:<16} {:>6} {:>6} {:>9} {:>9} {:>9}",
                label,
                name,
                lat.len(),
                seen,
                fmt_latency(percentile(&lat, 0.50)),
                fmt_latency(percentile(&lat, 0.95)),
                fmt_latency(lat.last().copied().flatten()),
            );
        }
        if let [Some(a), Some(b)] = p95[..] {
            let ratio = b as f64 / a as f64;
            println!("{label}: p95 with failing / without = {ratio:.3}");
            assert!(
                ratio <= 1.10,
                "{label}: detection p95 {b} ms with failing dossiers, {a} ms without"
            );
        }
    }
    let attempts: Vec<u32> = (0..dossiers.len())
        .filter(|i| failing[*i])
        .map(|i| with.failed_lookups[i])
        .collect();
    let most = most_failed_lookups(&settings());
    let max = attempts.iter().copied().max().unwrap_or(0);
    let total: u64 = attempts.iter().map(|a| u64::from(*a)).sum();
    println!(
        "failing dossiers' look-ups: {total} in all ({:.3} % of {}), at most {max} per dossier \
         (back-off allows {most} in {} days)",
        100.0 * total as f64 / with.lookups as f64,
        with.lookups,
        (WEEK + TAIL) / DAY
    );
    assert!(max <= most, "a failing dossier was looked up {max} times");
}

/// Latencies in ms; `None` = never seen (sorts last).
fn percentile(sorted: &[Option<i64>], p: f64) -> Option<i64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = ((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

fn fmt_latency(l: Option<i64>) -> String {
    match l {
        None => "never".into(),
        Some(ms) => format!("{:.1}", ms as f64 / MIN as f64),
    }
}

fn main() {
    let wall = Instant::now();
    let mut rng = Rng(0x7717_C5A1_2026_0302);
    let n = dossier_count();
    let mut dossiers: Vec<Dossier> = (0..n).map(|_| gen_dossier(&mut rng)).collect();
    dossiers.sort_by_key(|d| d.arrival);
    let mut events: Vec<(i64, u32, Status)> = dossiers
        .iter()
        .enumerate()
        .flat_map(|(i, d)| d.events.iter().map(move |&(t, s)| (t, i as u32, s)))
        .collect();
    events.sort_by_key(|e| (e.0, e.1));
    let faults = dossiers.iter().filter(|d| d.fault.is_some()).count();
    println!(
        "world: {n} dossiers arriving over 7 days, {} provincial changes, {faults} faults; \
         budget {PER_SECOND}/s, cycle {} s ({} look-ups/cycle), sync grace {} min; \
         clock runs 1 day past the week",
        events.len(),
        CYCLE / SEC,
        budget().lookups_per_cycle(),
        GRACE / MIN,
    );

    let mut planned = Sim::new(&dossiers, &events, &[]);
    planned.run(Scheduler::Plan);
    let mut swept = Sim::new(&dossiers, &events, &[]);
    swept.run(Scheduler::RoundRobin { cursor: 0 });
    // The same world, 1 % of its dossiers failing every look-up (their own PRNG: the world is
    // the same).
    let mut frng = Rng(0x1313_F41E_0000_0013);
    let failing: Vec<bool> = (0..n).map(|_| frng.chance(ALWAYS_FAILING)).collect();
    let mut with_failing = Sim::new(&dossiers, &events, &failing);
    with_failing.run(Scheduler::Plan);

    println!();
    println!("time from a fault's appearance to its discrepancy being opened (minutes)");
    println!(
        "{:<30} {:<12} {:>6} {:>6} {:>9} {:>9} {:>9}",
        "fault", "scheduler", "faults", "seen", "p50", "p95", "max"
    );
    type Filter = fn(&Fault) -> bool;
    let groups: [(&str, Filter); 4] = [
        ("changed in province", |f| f.kind == FaultKind::Changed),
        ("other", |f| f.kind == FaultKind::Other),
        ("  other, dossier open", |f| {
            f.kind == FaultKind::Other && !f.closed
        }),
        ("  other, dossier closed", |f| {
            f.kind == FaultKind::Other && f.closed
        }),
    ];
    let mut p95s = Vec::new();
    for (label, keep) in groups {
        for (name, sim) in [("plan", &planned), ("round-robin", &swept)] {
            let mut lat: Vec<Option<i64>> = dossiers
                .iter()
                .enumerate()
                .filter_map(|(i, d)| {
                    let f = d.fault.filter(keep)?;
                    Some(sim.seen[i].map(|s| s - f.at))
                })
                .collect();
            lat.sort_by_key(|l| l.unwrap_or(i64::MAX));
            let seen = lat.iter().filter(|l| l.is_some()).count();
            let p95 = percentile(&lat, 0.95);
            if label == "changed in province" {
                p95s.push(p95);
            }
            println!(
                "{:<30} {:<12} {:>6} {:>6} {:>9} {:>9} {:>9}",
                label,
                name,
                lat.len(),
                seen,
                fmt_latency(percentile(&lat, 0.50)),
                fmt_latency(p95),
                fmt_latency(lat.last().copied().flatten()),
            );
        }
    }
    if let [Some(a), Some(b)] = p95s[..] {
        println!(
            "changed-in-province p95: round-robin / plan = {:.1}x",
            b as f64 / a as f64
        );
    }
    println!(
        "look-ups made: plan {}, round-robin {}; plan calls {} taking {:.1} s in all",
        planned.lookups,
        swept.lookups,
        planned.plan_calls,
        planned.plan_time.as_secs_f64()
    );

    failing_report(&dossiers, &failing, &planned, &with_failing);

    let names = ["changed", "discrepancy", "due", "new", "stale", "failing"];
    let spent: Vec<String> = names
        .iter()
        .zip(planned.by_tier)
        .map(|(n, c)| format!("{n} {c}"))
        .collect();
    println!("plan look-ups by tier: {}", spent.join(", "));
    let mut census = [0usize; 6];
    let mut idle = 0;
    for c in &planned.cands {
        match tier_of(c, local(WEEK), &settings()) {
            Some(t) => census[t as usize] += 1,
            None => idle += 1,
        }
    }
    let census: Vec<String> = names
        .iter()
        .zip(census)
        .map(|(n, c)| format!("{n} {c}"))
        .collect();
    println!(
        "candidates by tier as the week ends: {}, left alone/waiting {idle}",
        census.join(", ")
    );

    // One plan call over all 200,000 candidates, as the week ends.
    let now = local(WEEK);
    let mut times: Vec<Duration> = (0..21)
        .map(|_| {
            let t0 = Instant::now();
            let p = plan(&planned.cands, now, budget(), &settings());
            let el = t0.elapsed();
            assert_eq!(p.len(), budget().lookups_per_cycle());
            el
        })
        .collect();
    times.sort();
    println!(
        "plan() over {} candidates: median {:.2} ms (21 calls, min {:.2} ms, max {:.2} ms)",
        planned.cands.len(),
        times[10].as_secs_f64() * 1e3,
        times[0].as_secs_f64() * 1e3,
        times[20].as_secs_f64() * 1e3,
    );
    println!("whole run: {:.1} s", wall.elapsed().as_secs_f64());
}
