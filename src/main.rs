//! The `tthc-sync` command: argument parsing and printing only; the work is in the library.

mod output;

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{bail, Context};
use clap::{Parser, Subcommand, ValueEnum};

use tthc_sync::config::{self, Config};
use tthc_sync::dossier_view::DossierView;
use tthc_sync::lifecycle::State;
use tthc_sync::reconcile::{Kind, Severity};
#[cfg(feature = "sim")]
use tthc_sync::sim::{Simulators, World, WorldParams};
use tthc_sync::store::{DiscrepancyFilter, ManualChange, Store};
use tthc_sync::sync::{self, Clients, Clock};

use output::Format;

#[derive(Parser)]
#[command(
    name = "tthc-sync",
    version,
    about = "Reconciles the province's one-stop dossier system with the National Public Service \
             Portal (Cổng DVCQG) and reports what sync faults cost in the 766 score."
)]
struct Cli {
    /// Configuration file.
    #[arg(long, global = true, default_value = config::DEFAULT_PATH)]
    config: PathBuf,
    /// Database to read, instead of the one the config names (for the review commands).
    #[arg(long, global = true)]
    database: Option<PathBuf>,
    /// Log format on stderr.
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Text)]
    log_format: LogFormat,
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

#[derive(Subcommand)]
enum Command {
    // `demo` and `simulate` exist only with the `sim` feature (on by default); a production
    // build (`--no-default-features`) does not offer them.
    /// Runs the demo: both simulators in-process, one sync cycle into a fresh database, and a
    /// summary checked against the simulated world's ground truth.
    #[cfg(feature = "sim")]
    Demo {
        #[arg(long, default_value_t = 2024)]
        seed: u64,
        #[arg(long, default_value_t = 5000)]
        dossiers: usize,
        /// Fraction of dossiers given a sync fault.
        #[arg(long, default_value_t = 0.03)]
        faults: f64,
        /// Directory for the database, config and ground truth (default: a new temp dir).
        #[arg(long)]
        dir: Option<PathBuf>,
    },
    /// Runs one sync cycle: pull, look up, reconcile.
    Sync {
        /// Run one cycle and exit (the daemon is `tthc-sync run`).
        #[arg(long)]
        once: bool,
    },
    /// Lists discrepancies of severity medium and above, largest score impact first, then a
    /// one-line count of the low ones (`--severity low` or `--all` lists them too).
    Discrepancies {
        /// open, acknowledged or resolved (repeatable; default: open and acknowledged).
        #[arg(long, value_parser = parse_state)]
        state: Vec<State>,
        /// A kind, e.g. missing_on_national.
        #[arg(long, value_parser = parse_kind)]
        kind: Option<Kind>,
        /// Agency code or name.
        #[arg(long)]
        agency: Option<String>,
        /// The least severity listed: low, medium (the default), high or critical.
        #[arg(long, value_parser = parse_severity, conflicts_with = "all")]
        severity: Option<Severity>,
        /// Every severity (the same as `--severity low`).
        #[arg(long)]
        all: bool,
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// Shows, acknowledges or resolves one discrepancy.
    Discrepancy {
        #[command(subcommand)]
        action: DiscrepancyAction,
    },
    /// Both views of one dossier side by side, with history and open discrepancies.
    Dossier {
        /// National code, local code or provincial id.
        code: String,
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// National look-ups: `--failing` lists the dossiers whose look-ups have failed for longer
    /// than `national.lookup_failing_after_hours` (code, agency, since, attempts, last error
    /// class), longest failing first: the list to send to the portal's operators.
    Lookups {
        /// The dossiers whose look-ups keep failing (required: the only listing so far).
        #[arg(long)]
        failing: bool,
        /// List every dossier failing now, however recently it started.
        #[arg(long)]
        all: bool,
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// Serves both portal simulators on loopback until stopped.
    #[cfg(feature = "sim")]
    Simulate {
        #[arg(long, default_value_t = 2024)]
        seed: u64,
        #[arg(long, default_value_t = 5000)]
        dossiers: usize,
        /// Fraction of dossiers given a sync fault.
        #[arg(long, default_value_t = 0.03)]
        faults: f64,
        #[arg(long, default_value_t = 18080)]
        national_port: u16,
        #[arg(long, default_value_t = 18081)]
        provincial_port: u16,
        /// Wire format of the provincial simulator: igate, opencps or td.
        #[arg(long, default_value = "igate")]
        profile: String,
        /// Directory for the ground truth and a config pointing at the simulators.
        #[arg(long, default_value = "tthc-sync-sim")]
        dir: PathBuf,
    },
    /// Writes the monthly report (Tiến độ giải quyết TTHC and the overdue lists) of a month.
    Report {
        /// The month, YYYY-MM. A frozen month's report is read from its snapshot.
        #[arg(long, required_unless_present = "freeze", conflicts_with = "freeze")]
        month: Option<tthc_sync::model::YearMonth>,
        /// Freezes this month (YYYY-MM, over): its report as it stands is stored and later
        /// reports of it read that snapshot. A frozen month stays as it is.
        #[arg(long, value_name = "YYYY-MM")]
        freeze: Option<tthc_sync::model::YearMonth>,
        /// With --month of a frozen month: also prints what the database says differently now.
        #[arg(long, requires = "month")]
        since_frozen: bool,
        /// md, html, docx, packs, xlsx or csv (repeatable, or comma-separated).
        #[arg(long, value_delimiter = ',', default_value = "md", value_parser = tthc_sync::report::Format::parse)]
        format: Vec<tthc_sync::report::Format>,
        /// Directory to write to.
        #[arg(long, default_value = ".")]
        out: PathBuf,
        /// Load this agency data file (e.g. config/agencies/dien-bien.toml) into the database
        /// first.
        #[arg(long)]
        agencies: Option<PathBuf>,
    },
    /// Loads and validates the config (exit 0), or says what to fix.
    CheckConfig,
    /// First contact, read-only: logs in to each side, samples provincial rows and national
    /// look-ups, checks the published scores, and says what the profile or config must adapt.
    /// Never writes the database; prints key names, counts and shapes, never a row's value.
    /// Exit 0: the profile covers everything seen; 3: it needs adapting; 1: a side cannot be
    /// reached.
    Probe {
        /// Provincial rows to sample (whole pages, newest first).
        #[arg(long, default_value_t = 200)]
        rows: usize,
        /// National look-ups to make (at national.lookups_per_second).
        #[arg(long, default_value_t = 20)]
        lookups: usize,
        /// Also write a redacted sample and a suggested profile to this directory.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// The review web page's accounts (`web.users_file`): add, change the password or role of,
    /// or remove a user. The password is read from the terminal (asked twice, not echoed) or
    /// from the first line of standard input, never from the command line.
    User {
        #[command(subcommand)]
        action: UserAction,
    },
    /// Runs as a service: jobs on the `[daemon]` schedules, systemd notify and watchdog,
    /// SIGHUP reloads the config, SIGTERM stops; /healthz and /metrics when configured.
    Run,
    /// Fetches the portal's published 766 scores of a month ([scores] in the config), stores
    /// every row, and prints the province's "Tiến độ giải quyết" score.
    Scores {
        /// The month, YYYY-MM.
        #[arg(long, value_parser = parse_month)]
        month: tthc_sync::model::YearMonth,
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
}

#[derive(Subcommand)]
enum DiscrepancyAction {
    Show {
        id: i64,
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// Marks it acknowledged (seen, being handled).
    Ack {
        id: i64,
        /// Who is responsible (recorded beside the operating-system user running the command).
        #[arg(long)]
        by: String,
        /// Why: what was checked, what was done (required).
        #[arg(long)]
        note: String,
    },
    /// Marks it resolved by hand (it reopens if the sync sees it again).
    Resolve {
        id: i64,
        /// Who is responsible (recorded beside the operating-system user running the command).
        #[arg(long)]
        by: String,
        /// Why: what was checked, what was done (required).
        #[arg(long)]
        note: String,
    },
}

#[derive(Subcommand)]
enum UserAction {
    /// Adds a user (the password from the terminal or standard input).
    Add {
        name: String,
        /// viewer (reads every page) or operator (also acknowledges and resolves).
        #[arg(long, value_parser = parse_role, default_value = "viewer")]
        role: tthc_sync::web::users::Role,
    },
    /// Sets a user's password (and role, with --role).
    Passwd {
        name: String,
        #[arg(long, value_parser = parse_role)]
        role: Option<tthc_sync::web::users::Role>,
    },
    /// Removes a user (their sessions end at their next request).
    Remove { name: String },
}

fn parse_role(s: &str) -> Result<tthc_sync::web::users::Role, String> {
    tthc_sync::web::users::Role::parse(s).ok_or_else(|| format!("`{s}`: use viewer or operator"))
}

impl Command {
    /// `demo` or `simulate`: interactive commands that print their own summary.
    fn is_simulation(&self) -> bool {
        #[cfg(feature = "sim")]
        if matches!(self, Command::Demo { .. } | Command::Simulate { .. }) {
            return true;
        }
        false
    }
}

fn parse_state(s: &str) -> Result<State, String> {
    State::parse(s).ok_or_else(|| format!("`{s}`: use open, acknowledged or resolved"))
}

fn parse_month(s: &str) -> Result<tthc_sync::model::YearMonth, String> {
    s.parse()
        .map_err(|_| format!("`{s}` is not a month: write YYYY-MM, e.g. 2026-08"))
}

fn parse_severity(s: &str) -> Result<Severity, String> {
    Severity::parse(s).ok_or_else(|| format!("`{s}`: use low, medium, high or critical"))
}

fn parse_kind(s: &str) -> Result<Kind, String> {
    Kind::parse(s).ok_or_else(|| {
        format!(
            "`{s}` is not a kind; kinds: {}",
            Kind::ALL.map(Kind::as_str).join(", ")
        )
    })
}

/// Logging: `TTHC_SYNC_LOG` (an env-filter, e.g. `info` or `discrepancy=info,http=debug`) or
/// `default_level`.
fn init_logging(format: LogFormat, default_level: &str) {
    use tracing_subscriber::prelude::*;
    use tracing_subscriber::EnvFilter;
    let filter =
        EnvFilter::try_from_env("TTHC_SYNC_LOG").unwrap_or_else(|_| EnvFilter::new(default_level));
    let registry = tracing_subscriber::registry().with(filter);
    // Under systemd, stderr goes to the journal anyway; prefer the native protocol for fields.
    if std::env::var_os("JOURNAL_STREAM").is_some() {
        if let Ok(layer) = tracing_journald::layer() {
            registry.with(layer).init();
            return;
        }
    }
    match format {
        LogFormat::Json => registry
            .with(
                tracing_subscriber::fmt::layer()
                    .json()
                    .with_writer(std::io::stderr),
            )
            .init(),
        LogFormat::Text => registry
            .with(tracing_subscriber::fmt::layer().with_writer(std::io::stderr))
            .init(),
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // Interactive commands print their own summary; the service logs every event.
    let default_level = if cli.command.is_simulation() {
        "warn"
    } else {
        "info"
    };
    init_logging(cli.log_format, default_level);
    if matches!(
        cli.command,
        Command::Discrepancies { .. }
            | Command::Discrepancy { .. }
            | Command::Dossier { .. }
            | Command::Lookups { .. }
    ) {
        // Review output is often piped into `head` or `less`: end quietly when the reader goes.
        // SAFETY: setting a signal disposition at start-up, before any thread is spawned.
        unsafe {
            libc::signal(libc::SIGPIPE, libc::SIG_DFL);
        }
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn load_config(cli: &Cli) -> anyhow::Result<Config> {
    Ok(Config::load(&cli.config)?)
}

/// The province's name and the calendar for review commands: from the config, or — when only
/// `--database` is given and there is no config file — the defaults (Điện Biên, the built-in
/// holiday files, default office hours).
fn review_settings(cli: &Cli) -> anyhow::Result<(String, tthc_sync::calendar::Calendar)> {
    if cli.database.is_some() && !cli.config.exists() {
        return Ok((
            "Điện Biên".to_string(),
            tthc_sync::calendar::Calendar::builtin(),
        ));
    }
    let cfg = load_config(cli)?;
    Ok((cfg.service.province_name.clone(), cfg.calendar.build()?))
}

/// `[report.document]` from the config; its defaults when only `--database` is given and
/// there is no config file.
fn document_settings(cli: &Cli) -> anyhow::Result<tthc_sync::report::DocumentSettings> {
    if cli.database.is_some() && !cli.config.exists() {
        return Ok(tthc_sync::report::DocumentSettings::default());
    }
    Ok(load_config(cli)?.report.document)
}

/// `national.lookup_failing_after_hours` from the config; its default (24 h) when only
/// `--database` is given and there is no config file.
fn failing_after(cli: &Cli) -> anyhow::Result<chrono::Duration> {
    if cli.database.is_some() && !cli.config.exists() {
        return Ok(chrono::Duration::hours(24));
    }
    Ok(load_config(cli)?.national.lookup_failing_after())
}

/// The database of the review commands: `--database`, else the config's.
fn db_path(cli: &Cli) -> anyhow::Result<std::path::PathBuf> {
    Ok(match &cli.database {
        Some(p) => p.clone(),
        None => load_config(cli)?.service.database,
    })
}

/// The operating-system user running a command, for the audit trail: `SUDO_USER` when set
/// (the person behind `sudo`), else the name of the real uid, else `uid N`.
fn os_user() -> String {
    if let Some(user) = std::env::var("SUDO_USER")
        .ok()
        .filter(|u| !u.trim().is_empty())
    {
        return user;
    }
    // SAFETY: getuid has no preconditions and cannot fail.
    let uid = unsafe { libc::getuid() };
    user_name(uid).unwrap_or_else(|| format!("uid {uid}"))
}

/// The name of `uid` in the user database (`getpwuid_r`); `None` when it has no entry.
fn user_name(uid: u32) -> Option<String> {
    // SAFETY: a zeroed passwd is a valid out-parameter; getpwuid_r writes into `pwd` and `buf`
    // (whose length it is given) and sets `result` to `&pwd` on success or null.
    unsafe {
        let mut pwd: libc::passwd = std::mem::zeroed();
        let mut buf = vec![0 as libc::c_char; 16 * 1024];
        let mut result: *mut libc::passwd = std::ptr::null_mut();
        let rc = libc::getpwuid_r(uid, &mut pwd, buf.as_mut_ptr(), buf.len(), &mut result);
        if rc != 0 || result.is_null() || pwd.pw_name.is_null() {
            return None;
        }
        Some(
            std::ffi::CStr::from_ptr(pwd.pw_name)
                .to_string_lossy()
                .into_owned(),
        )
    }
}

/// The effective uid of this process.
fn euid() -> u32 {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() }
}

/// The database for review commands: `--database`, else the config's. Never migrated: an
/// older database is refused, saying to run the service or `sync --once`.
fn open_store(cli: &Cli) -> anyhow::Result<Store> {
    let path = db_path(cli)?;
    if !path.exists() {
        bail!(
            "database {} does not exist (run `tthc-sync sync --once` first, or pass --database)",
            path.display()
        );
    }
    Ok(Store::open_current(&path)?)
}

async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match &cli.command {
        #[cfg(feature = "sim")]
        Command::Demo {
            seed,
            dossiers,
            faults,
            dir,
        } => {
            let dir = match dir {
                Some(d) => d.clone(),
                None => std::env::temp_dir().join(format!("tthc-sync-demo-{}", std::process::id())),
            };
            let summary = tthc_sync::demo::run(&tthc_sync::demo::DemoOptions {
                seed: *seed,
                dossiers: *dossiers,
                fault_rate: *faults,
                dir,
            })
            .await?;
            output::print_demo(&summary);
            if summary.score.false_positives.is_empty() && summary.score.missed.is_empty() {
                Ok(ExitCode::SUCCESS)
            } else {
                eprintln!(
                    "error: the findings do not match the simulator's ground truth \
                     (false positives {:?}, missed {:?})",
                    summary.score.false_positives, summary.score.missed
                );
                Ok(ExitCode::from(3))
            }
        }
        Command::Sync { once } => {
            if !once {
                bail!("`sync` runs one cycle: pass --once (the service is `tthc-sync run`)");
            }
            let cfg = load_config(&cli)?;
            let clients = Clients::new(&cfg)?;
            let db = &cfg.service.database;
            tthc_sync::store::refuse_root_writer(db, euid())?;
            let mut store = Store::open(db)?;
            let _lock = tthc_sync::store::RunLock::acquire(db)?;
            // With the lock held no other cycle runs: a run still `running` was abandoned.
            store.close_abandoned_runs(sync::local_now())?;
            let clock: Clock = Arc::new(sync::local_now);
            let report = sync::run_cycle(&mut store, &cfg, &clients, &clock).await?;
            output::print_run(&report);
            Ok(match report.outcome {
                tthc_sync::store::Outcome::Ok => ExitCode::SUCCESS,
                tthc_sync::store::Outcome::Partial => ExitCode::from(2),
                tthc_sync::store::Outcome::Failed => ExitCode::FAILURE,
            })
        }
        Command::Discrepancies {
            state,
            kind,
            agency,
            severity,
            all,
            format,
        } => {
            let store = open_store(&cli)?;
            let states = if state.is_empty() {
                vec![State::Open, State::Acknowledged]
            } else {
                state.clone()
            };
            let least = if *all {
                Severity::Low
            } else {
                severity.unwrap_or(Severity::Medium)
            };
            let mut filter = DiscrepancyFilter {
                states,
                kind: *kind,
                agency: agency.clone(),
                least_severity: None,
                month: None,
            };
            let every = store.discrepancies(&filter)?.len();
            filter.least_severity = Some(least);
            let rows = store.discrepancies(&filter)?;
            output::print_discrepancies(&rows, every - rows.len(), least, *format)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Discrepancy { action } => {
            if !matches!(action, DiscrepancyAction::Show { .. }) {
                tthc_sync::store::refuse_root_writer(&db_path(&cli)?, euid())?;
            }
            let mut store = open_store(&cli)?;
            match action {
                DiscrepancyAction::Show { id, format } => {
                    let d = store
                        .discrepancy(*id)?
                        .with_context(|| format!("no discrepancy with id {id}"))?;
                    let events = store.discrepancy_events(*id)?;
                    output::print_discrepancy(&d, &events, *format)?;
                }
                DiscrepancyAction::Ack { id, by, note }
                | DiscrepancyAction::Resolve { id, by, note } => {
                    let (to, done) = match action {
                        DiscrepancyAction::Ack { .. } => (State::Acknowledged, "acknowledged"),
                        _ => (State::Resolved, "resolved"),
                    };
                    let os_user = os_user();
                    let change = ManualChange {
                        by,
                        os_user: &os_user,
                        note,
                    };
                    let seen = store.set_discrepancy_state(*id, to, change, sync::local_now())?;
                    println!("discrepancy {id} {done} by {by} (operating-system user {os_user})");
                    println!(
                        "  recorded as seen: {}, severity {}, impact {:+.4}, province: {}, portal: {}",
                        seen.state, seen.severity, seen.score_impact, seen.provincial, seen.national
                    );
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Lookups {
            failing,
            all,
            format,
        } => {
            if !failing {
                bail!("`lookups` lists the failing look-ups: pass --failing");
            }
            let store = open_store(&cli)?;
            let now = sync::local_now();
            let since = if *all {
                now
            } else {
                now - failing_after(&cli)?
            };
            let rows = store.failing_lookups(since)?;
            output::print_failing_lookups(&rows, *format)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Dossier { code, format } => {
            let store = open_store(&cli)?;
            let (_, cal) = review_settings(&cli)?;
            let view = DossierView::load(&store, code, sync::local_now(), &cal)?
                .with_context(|| format!("no dossier `{code}` in the provincial view"))?;
            output::print_dossier(&view, *format)?;
            Ok(ExitCode::SUCCESS)
        }
        #[cfg(feature = "sim")]
        Command::Simulate {
            seed,
            dossiers,
            faults,
            national_port,
            provincial_port,
            profile,
            dir,
        } => {
            let Some(sim_profile) = tthc_sync::sim::SimProfile::parse(profile) else {
                bail!("--profile {profile}: use igate, opencps or td");
            };
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
            let world = World::generate(WorldParams::new(
                *seed,
                *dossiers,
                *faults,
                sync::local_now(),
            ));
            let truth = dir.join("ground-truth.json");
            std::fs::write(&truth, serde_json::to_vec_pretty(&world.truth)?)?;
            let sims = Simulators::start_with(world, sim_profile, *national_port, *provincial_port)
                .await?;
            let cfg = sims.config(dir, &dir.join("tthc-sync.db"))?;
            let cfg_path = dir.join("tthc-sync.toml");
            tthc_sync::demo::write_config(&cfg, &cfg_path)?;
            println!("national portal simulator:   http://{}", sims.national_addr);
            println!(
                "provincial portal simulator: http://{} (profile {})",
                sims.provincial_addr,
                sim_profile.name()
            );
            println!("ground truth: {}", truth.display());
            println!("config:       {}", cfg_path.display());
            println!("try: tthc-sync --config {} sync --once", cfg_path.display());
            println!("Ctrl-C stops the simulators.");
            tokio::signal::ctrl_c().await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Report {
            month,
            freeze,
            since_frozen,
            format,
            out,
            agencies,
        } => {
            let mut store = open_store(&cli)?;
            if let Some(file) = agencies {
                let records = tthc_sync::report::agencies::load_agencies_file(file)?;
                let n = store.upsert_agencies(&records)?;
                println!("{n} agencies loaded from {}", file.display());
            }
            let (province, cal) = review_settings(&cli)?;
            let now = sync::local_now();
            if let Some(m) = freeze {
                use tthc_sync::report::frozen::{freeze, Freeze};
                match freeze(&mut store, *m, now, &cal, &province)? {
                    Freeze::Frozen(_) => println!("{} frozen", m.iso()),
                    Freeze::AlreadyFrozen(at) => println!(
                        "{} was already frozen at {}; left as it is",
                        m.iso(),
                        tthc_sync::model::fmt_time(&at)
                    ),
                }
                return Ok(ExitCode::SUCCESS);
            }
            let Some(month) = month else {
                anyhow::bail!("report needs --month YYYY-MM or --freeze YYYY-MM");
            };
            let report = tthc_sync::report::month_report(&store, *month, now, &cal, &province)?;
            if *since_frozen {
                match report.frozen_at {
                    None => println!(
                        "{} is not frozen: the report is built from the database as it is now",
                        month.iso()
                    ),
                    Some(at) => {
                        let current =
                            tthc_sync::report::build(&store, *month, now, &cal, &province)?;
                        let changes = tthc_sync::report::frozen::changes_since(&report, &current);
                        println!(
                            "{} frozen at {}: {}",
                            month.iso(),
                            tthc_sync::model::fmt_time(&at),
                            if changes.is_empty() {
                                "nothing changed since"
                            } else {
                                "changed since:"
                            }
                        );
                        for c in changes {
                            println!("  {c}");
                        }
                    }
                }
            }
            let settings = document_settings(&cli)?;
            for path in tthc_sync::report::write_report(&report, format, out, &settings)? {
                println!("{}", path.display());
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::CheckConfig => {
            let cfg = load_config(&cli)?;
            cfg.provincial.password().resolve("provincial.password_*")?;
            cfg.national.password().resolve("national.password_*")?;
            println!("{}: ok", cli.config.display());
            Ok(ExitCode::SUCCESS)
        }
        Command::Probe { rows, lookups, out } => {
            let cfg = load_config(&cli)?;
            let opts = tthc_sync::probe::ProbeOptions {
                rows: *rows,
                lookups: *lookups,
                ..Default::default()
            };
            let report = tthc_sync::probe::probe(&cfg, &opts).await?;
            output::print_probe(&report);
            if let Some(dir) = out {
                for path in tthc_sync::probe::write_files(&report, dir)? {
                    println!("wrote {}", path.display());
                }
            }
            Ok(ExitCode::from(report.exit_code()))
        }
        Command::User { action } => {
            use tthc_sync::web::users::{read_new_password, Users};
            let cfg = load_config(&cli)?;
            let Some(web) = &cfg.web else {
                bail!(
                    "config {}: no [web] section: add one with users_file (see \
                     config/tthc-sync.example.toml)",
                    cli.config.display()
                );
            };
            let path = &web.users_file;
            let mut users = Users::load(path)?;
            let done = match action {
                UserAction::Add { name, role } => {
                    tthc_sync::web::users::check_name(name)?;
                    let pw = read_new_password()?;
                    users.add(name, *role, &pw)?;
                    format!("user {name} added ({})", role.as_str())
                }
                UserAction::Passwd { name, role } => {
                    if users.get(name).is_none() {
                        bail!("no user `{name}` in {}", path.display());
                    }
                    let pw = read_new_password()?;
                    users.passwd(name, *role, &pw)?;
                    format!("user {name}: password changed")
                }
                UserAction::Remove { name } => {
                    users.remove(name)?;
                    format!("user {name} removed")
                }
            };
            users.save(path)?;
            println!("{done} ({})", path.display());
            Ok(ExitCode::SUCCESS)
        }
        Command::Run => {
            tthc_sync::daemon::run::run(&cli.config).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Scores { month, format } => {
            let cfg = load_config(&cli)?;
            let db = &cfg.service.database;
            let mut store = Store::open(db)?;
            let report = tthc_sync::scores::fetch_scores(&mut store, &cfg, *month).await?;
            output::print_scores(&report, *format)?;
            Ok(ExitCode::SUCCESS)
        }
    }
}
