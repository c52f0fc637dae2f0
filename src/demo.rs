//! The built-in demo: both simulators in-process on free loopback ports, one sync cycle into a
//! fresh database, and a summary scored against the world's ground truth.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Serialize;

use crate::clock::{local_now, Clock};
use crate::config::Config;
use crate::reconcile::Severity;
use crate::sim::{Simulators, World, WorldParams};
use crate::source::Clients;
use crate::store::{DiscrepancyFilter, Store};
use crate::sync::{self, CycleReport};

/// What `tthc-sync demo` was asked for.
#[derive(Clone, Debug)]
pub struct DemoOptions {
    /// The seed of the simulated world: the same seed gives the same world (`--seed`).
    pub seed: u64,
    /// How many dossiers the world has (`--dossiers`).
    pub dossiers: usize,
    /// The share of dossiers, 0–1, given a sync fault (`--faults`).
    pub fault_rate: f64,
    /// Where the database, the config and the ground truth are written.
    pub dir: PathBuf,
}

/// How the discrepancies found compare with the faults the world injected. Precision is that
/// of what `tthc-sync discrepancies` lists by default (severity medium and above); recall counts
/// a fault found at any severity (`collapsed_status` is `low` unless it costs points).
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct Score {
    /// Findings the world's ground truth expects (its injected faults, and its received
    /// dossiers without a due date), as distinct (dossier id, kind) pairs.
    pub injected: usize,
    /// Open and acknowledged discrepancies of severity medium and above (the default listing),
    /// as distinct (dossier id, kind) pairs.
    pub found: usize,
    /// Open and acknowledged discrepancies of severity low, as distinct (dossier id, kind)
    /// pairs: not listed by default, not counted in `found`.
    pub low: usize,
    /// Injected faults found with the right kind, at any severity.
    pub true_positives: usize,
    /// Discrepancies of the default listing with no injected fault behind them (or the wrong
    /// kind), as (dossier id, kind).
    pub false_positives: Vec<(String, String)>,
    /// Injected faults not found with their kind, as (dossier id, kind).
    pub missed: Vec<(String, String)>,
}

impl Score {
    /// The share of the default listing's discrepancies that are injected faults, 0–1 (1 when
    /// it is empty).
    pub fn precision(&self) -> f64 {
        if self.found == 0 {
            1.0
        } else {
            (self.found - self.false_positives.len()) as f64 / self.found as f64
        }
    }
    /// The share of injected faults found with their kind, 0–1 (1 when none injected).
    pub fn recall(&self) -> f64 {
        if self.injected == 0 {
            1.0
        } else {
            self.true_positives as f64 / self.injected as f64
        }
    }
}

/// Compares the open discrepancies in `store` with a world's ground truth, by (dossier id, kind).
pub fn score_against_truth(store: &Store, world: &World) -> crate::store::Result<Score> {
    let open = store.discrepancies(&DiscrepancyFilter {
        states: vec![
            crate::lifecycle::State::Open,
            crate::lifecycle::State::Acknowledged,
        ],
        ..Default::default()
    })?;
    let pairs = |low: bool| -> BTreeSet<(String, String)> {
        open.iter()
            .filter(|d| (d.severity == Severity::Low.as_str()) == low)
            .map(|d| (d.dossier_id.clone(), d.kind.clone()))
            .collect()
    };
    let (listed, low) = (pairs(false), pairs(true));
    let truth: BTreeSet<(String, String)> = world
        .truth
        .iter()
        .map(|t| (t.dossier_id.clone(), t.expected_kind.clone()))
        .collect();
    let all: BTreeSet<(String, String)> = listed.union(&low).cloned().collect();
    Ok(Score {
        injected: truth.len(),
        found: listed.len(),
        low: low.len(),
        true_positives: all.intersection(&truth).count(),
        false_positives: listed.difference(&truth).cloned().collect(),
        missed: truth.difference(&all).cloned().collect(),
    })
}

/// What the demo did and where it left everything, for the CLI to print.
#[derive(Clone, Debug, Serialize)]
pub struct DemoSummary {
    /// The fresh database the cycle wrote (`tthc-sync.db` in the demo's directory).
    pub database: PathBuf,
    /// The config written next to it ([`write_config`]), for the review commands.
    pub config: PathBuf,
    /// The world's ground truth (`ground-truth.json`): every injected fault and its kind.
    pub truth: PathBuf,
    /// Dossiers in the provincial view after the cycle.
    pub provincial_dossiers: u64,
    /// Codes the portal simulator has (a look-up found them).
    pub national_found: u64,
    /// Codes a successful look-up did not find.
    pub national_not_found: u64,
    /// The sync cycle's report.
    pub run: CycleReport,
    /// Open and acknowledged discrepancies by kind.
    pub by_kind: Vec<(String, u64)>,
    /// The five agencies (name, else code) with the most open discrepancies.
    pub top_agencies: Vec<(String, u64)>,
    /// The findings scored against the ground truth.
    pub score: Score,
    /// The current month's report (Markdown and HTML), next to the database.
    pub report: Vec<PathBuf>,
}

/// Writes `cfg` as TOML so that the CLI can be pointed at the demo's database and simulators.
pub fn write_config(cfg: &Config, path: &Path) -> std::io::Result<()> {
    let p = &cfg.provincial;
    let n = &cfg.national;
    let text = format!(
        "# Written by `tthc-sync demo`: points at simulators that stopped with the demo.\n\
         [service]\ndatabase = {db:?}\nprovince_name = {prov:?}\n\n\
         [provincial]\nprofile = {profile:?}\napi_url = {api:?}\nsso_url = {sso:?}\n\
         username = {pu:?}\npassword_file = {ppw:?}\npage_size = {ps}\n\n\
         [national]\nadapter_url = {nurl:?}\ndstcode = {dst:?}\nmadonvi = {mdv:?}\n\
         username = {nu:?}\npassword_file = {npw:?}\nlookups_per_cycle = {lpc}\n",
        db = cfg.service.database.display().to_string(),
        prov = cfg.service.province_name,
        profile = p.profile,
        api = p.api_url,
        sso = p.sso_url.clone().unwrap_or_default(),
        pu = p.username,
        ppw = p
            .password_file
            .as_ref()
            .map(|x| x.display().to_string())
            .unwrap_or_default(),
        ps = p.page_size,
        nurl = n.adapter_url,
        dst = n.dstcode,
        mdv = n.madonvi,
        nu = n.username,
        npw = n
            .password_file
            .as_ref()
            .map(|x| x.display().to_string())
            .unwrap_or_default(),
        lpc = n.lookups_per_cycle,
    );
    let mut text = text;
    for (key, value) in [("group_id", &p.group_id), ("tenant", &p.tenant)] {
        if let Some(v) = value {
            text = text.replacen(
                "\n[national]\n",
                &format!("{key} = {v:?}\n\n[national]\n"),
                1,
            );
        }
    }
    if let Some(sc) = &cfg.scores {
        text.push_str(&format!(
            "\n[scores]\napi = {api:?}\nportal_url = {url:?}\n",
            api = sc.api,
            url = sc.portal_url
        ));
        if let Some(id) = sc.province_id {
            text.push_str(&format!("province_id = {id}\n"));
        }
        if let Some(root) = &sc.root_department_id {
            text.push_str(&format!("root_department_id = {root:?}\n"));
        }
    }
    std::fs::write(path, text)
}

/// Runs the demo end to end.
pub async fn run(opts: &DemoOptions) -> anyhow::Result<DemoSummary> {
    std::fs::create_dir_all(&opts.dir)?;
    let db = opts.dir.join("tthc-sync.db");
    for suffix in ["", "-wal", "-shm"] {
        let p = PathBuf::from(format!("{}{suffix}", db.display()));
        if p.exists() {
            std::fs::remove_file(&p)?;
        }
    }
    let now = local_now();
    // Vendors' habits on (docs/discrepancies.md, "Precision"): none is a fault, so the
    // precision printed is measured against them. Every status flow on (docs/domain.md §9):
    // completed pauses, second supplement requests, edits, procedures without due dates.
    let world = World::generate(WorldParams {
        vendor_habits: true,
        flows: crate::sim::world::Flows::demo(),
        ..WorldParams::new(opts.seed, opts.dossiers, opts.fault_rate, now)
    });
    let truth_path = opts.dir.join("ground-truth.json");
    std::fs::write(&truth_path, serde_json::to_vec_pretty(&world.truth)?)?;
    let sims = Simulators::start(world, 0, 0).await?;
    let cfg = sims.config(&opts.dir, &db)?;
    let config_path = opts.dir.join("tthc-sync.toml");
    write_config(&cfg, &config_path)?;
    let clients = Clients::new(&cfg)?;
    let mut store = Store::open(&db)?;
    let clock: Clock = Arc::new(local_now);
    let run = sync::run_cycle(&mut store, &cfg, &clients, &clock).await?;
    let (national_found, national_not_found) = store.national_count()?;
    let score = score_against_truth(&store, &sims.world)?;
    // The simulator publishes 766 scores computed from its national view, as the portal does:
    // fetch this month's and last month's, so the report shows the published figure too.
    let month = crate::model::YearMonth::of(&local_now());
    for m in [month.previous(), month] {
        crate::scores::fetch_scores(&mut store, &cfg, m).await?;
    }
    let report = write_demo_report(&mut store, &cfg, &opts.dir)?;
    Ok(DemoSummary {
        database: db,
        config: config_path,
        truth: truth_path,
        provincial_dossiers: store.provincial_count()?,
        national_found,
        national_not_found,
        run,
        by_kind: store.open_counts_by_kind()?,
        top_agencies: store.open_counts_by_agency(5)?,
        score,
        report,
    })
}

/// Seeds the agencies from the built-in data file and writes this month's report.
fn write_demo_report(store: &mut Store, cfg: &Config, dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    use crate::report::{self, agencies, Format};
    store.upsert_agencies(&agencies::parse_agencies(agencies::DIEN_BIEN_TOML)?)?;
    let now = local_now();
    let month = crate::model::YearMonth::of(&now);
    let built = report::build(
        store,
        month,
        now,
        &cfg.calendar.build()?,
        &cfg.service.province_name,
    )?;
    Ok(report::write_report(
        &built,
        &[Format::Markdown, Format::Html],
        dir,
        &cfg.report.document,
    )?)
}
