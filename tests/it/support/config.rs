//! The configuration files the tests write, built as TOML instead of written by hand: from the
//! example config, from the simulators' configuration (`Simulators::config`), or from a file
//! another writer made (`demo::write_config`), with keys set by their dotted name. Tests that
//! check how a broken file is refused keep their literal text where the text is the point.

use std::path::{Path, PathBuf};

use toml::{Table, Value};
use tthc_sync::config::{
    CalendarConfig, Config, DaemonConfig, NationalConfig, ProvincialConfig, ReconcileConfig,
    ReportConfig, ScoresConfig, ServiceConfig, WebConfig,
};
use tthc_sync::http::HttpPolicy;
use tthc_sync::sim::Simulators;

/// A TOML config document.
#[derive(Clone, Debug)]
pub struct TestConfig {
    doc: Table,
}

impl TestConfig {
    /// `config/tthc-sync.example.toml` (every key, production values).
    pub fn example() -> TestConfig {
        TestConfig::parse(include_str!("../../../config/tthc-sync.example.toml"))
    }

    /// What `Simulators::config` gives: the simulators' addresses and accounts, their passwords
    /// written as files under `dir`, the database at `db`, no rate limits.
    pub fn sims(sims: &Simulators, dir: &Path, db: &Path) -> TestConfig {
        let cfg = sims
            .config(dir, db)
            .unwrap_or_else(|e| panic!("writing the simulators' passwords under {dir:?}: {e}"));
        TestConfig {
            doc: config_table(&cfg),
        }
    }

    /// The TOML file at `path`.
    pub fn load(path: &Path) -> TestConfig {
        let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
        TestConfig::parse(&text)
    }

    fn parse(text: &str) -> TestConfig {
        TestConfig {
            doc: text.parse().expect("a TOML config"),
        }
    }

    /// Sets `key`, a dotted path such as `national.http.rate_per_second`; missing tables are
    /// created.
    pub fn set(mut self, key: &str, value: impl Into<Value>) -> TestConfig {
        let (tables, name) = match key.rsplit_once('.') {
            Some((tables, name)) => (tables.split('.').collect(), name),
            None => (Vec::new(), key),
        };
        let mut table = &mut self.doc;
        for t in tables {
            table = table
                .entry(t)
                .or_insert_with(|| Value::Table(Table::new()))
                .as_table_mut()
                .unwrap_or_else(|| panic!("{key}: `{t}` is not a table"));
        }
        table.insert(name.to_string(), value.into());
        self
    }

    /// The TOML text.
    pub fn text(&self) -> String {
        toml::to_string(&self.doc).expect("TOML")
    }

    /// Writes the file at `path` (whole, then renamed into place: a service reading it never
    /// sees half a file); returns `path`.
    pub fn write(&self, path: &Path) -> PathBuf {
        let tmp = PathBuf::from(format!("{}.tmp", path.display()));
        std::fs::write(&tmp, self.text()).unwrap_or_else(|e| panic!("{tmp:?}: {e}"));
        std::fs::rename(&tmp, path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
        path.to_path_buf()
    }

    /// The configuration the service would load from this file (checked as it checks it).
    pub fn config(&self) -> Config {
        Config::parse(&self.text(), Path::new("test.toml")).expect("a valid config")
    }
}

/// Every field of `cfg` as TOML. The patterns name every field, so a field added to the
/// config does not compile here until it is written out too.
fn config_table(cfg: &Config) -> Table {
    let Config {
        service,
        provincial,
        national,
        reconcile,
        calendar,
        daemon,
        scores,
        report,
        web,
    } = cfg;
    let mut doc = Table::new();

    let ServiceConfig {
        database,
        province_name,
    } = service;
    let mut t = Table::new();
    put(&mut t, "database", path(database));
    put(&mut t, "province_name", province_name.as_str());
    doc.insert("service".into(), t.into());

    let ProvincialConfig {
        profile,
        api_url,
        sso_url,
        client_id,
        realm,
        username,
        password_file,
        password_credential,
        password_env,
        page_size,
        overlap_minutes,
        max_pages_per_run,
        http,
        profile_file,
        group_id,
        tenant,
        sweep_hours,
    } = provincial;
    let mut t = Table::new();
    put(&mut t, "profile", profile.as_str());
    put(&mut t, "api_url", api_url.as_str());
    put_opt(&mut t, "sso_url", sso_url.as_deref());
    put(&mut t, "client_id", client_id.as_str());
    put(&mut t, "realm", realm.as_str());
    put(&mut t, "username", username.as_str());
    put_opt(&mut t, "password_file", password_file.as_deref().map(path));
    put_opt(
        &mut t,
        "password_credential",
        password_credential.as_deref(),
    );
    put_opt(&mut t, "password_env", password_env.as_deref());
    put(&mut t, "page_size", i64::from(*page_size));
    put(&mut t, "overlap_minutes", i64::from(*overlap_minutes));
    put(&mut t, "max_pages_per_run", i64::from(*max_pages_per_run));
    put_opt(&mut t, "profile_file", profile_file.as_deref().map(path));
    put_opt(&mut t, "group_id", group_id.as_deref());
    put_opt(&mut t, "tenant", tenant.as_deref());
    put(&mut t, "sweep_hours", i64::from(*sweep_hours));
    put(&mut t, "http", http_table(http));
    doc.insert("provincial".into(), t.into());

    let NationalConfig {
        adapter_url,
        auth_endpoint,
        integration_endpoint,
        dstcode,
        madonvi,
        username,
        password_file,
        password_credential,
        password_env,
        lookups_per_second,
        lookups_per_cycle,
        sync_grace_minutes,
        due_soon_hours,
        recheck_hours,
        lookup_backoff_minutes,
        lookup_backoff_max_hours,
        lookup_failing_after_hours,
        list_units,
        list_days,
        http,
    } = national;
    let mut t = Table::new();
    put(&mut t, "adapter_url", adapter_url.as_str());
    put(&mut t, "auth_endpoint", auth_endpoint.as_str());
    put(
        &mut t,
        "integration_endpoint",
        integration_endpoint.as_str(),
    );
    put(&mut t, "dstcode", dstcode.as_str());
    put(&mut t, "madonvi", madonvi.as_str());
    put(&mut t, "username", username.as_str());
    put_opt(&mut t, "password_file", password_file.as_deref().map(path));
    put_opt(
        &mut t,
        "password_credential",
        password_credential.as_deref(),
    );
    put_opt(&mut t, "password_env", password_env.as_deref());
    put(&mut t, "lookups_per_second", *lookups_per_second);
    put(&mut t, "lookups_per_cycle", int(*lookups_per_cycle));
    put(&mut t, "sync_grace_minutes", i64::from(*sync_grace_minutes));
    put(&mut t, "due_soon_hours", i64::from(*due_soon_hours));
    put(&mut t, "recheck_hours", i64::from(*recheck_hours));
    put(
        &mut t,
        "lookup_backoff_minutes",
        i64::from(*lookup_backoff_minutes),
    );
    put(
        &mut t,
        "lookup_backoff_max_hours",
        i64::from(*lookup_backoff_max_hours),
    );
    put(
        &mut t,
        "lookup_failing_after_hours",
        i64::from(*lookup_failing_after_hours),
    );
    put(&mut t, "list_units", list_units.clone());
    put(&mut t, "list_days", i64::from(*list_days));
    put(&mut t, "http", http_table(http));
    doc.insert("national".into(), t.into());

    let ReconcileConfig {
        date_tolerance_minutes,
        full_every_minutes,
    } = reconcile;
    let mut t = Table::new();
    put(
        &mut t,
        "date_tolerance_minutes",
        i64::from(*date_tolerance_minutes),
    );
    put(&mut t, "full_every_minutes", i64::from(*full_every_minutes));
    doc.insert("reconcile".into(), t.into());

    let CalendarConfig {
        holidays_dir,
        office_hours,
        statutory_times_file,
        cut_off_hours,
        infer_statutory_min_dossiers,
        infer_statutory_min_percent,
        infer_statutory_sample,
    } = calendar;
    let mut t = Table::new();
    put_opt(&mut t, "holidays_dir", holidays_dir.as_deref().map(path));
    put(&mut t, "office_hours", office_hours.clone());
    put_opt(
        &mut t,
        "statutory_times_file",
        statutory_times_file.as_deref().map(path),
    );
    let hours: Table = cut_off_hours
        .iter()
        .map(|(g, h)| (g.clone(), toml::Value::from(h.as_str())))
        .collect();
    t.insert("cut_off_hours".into(), hours.into());
    put(
        &mut t,
        "infer_statutory_min_dossiers",
        i64::from(*infer_statutory_min_dossiers),
    );
    put(
        &mut t,
        "infer_statutory_min_percent",
        i64::from(*infer_statutory_min_percent),
    );
    put(
        &mut t,
        "infer_statutory_sample",
        i64::from(*infer_statutory_sample),
    );
    doc.insert("calendar".into(), t.into());

    let DaemonConfig {
        sync_schedule,
        housekeeping_schedule,
        report_schedule,
        scores_schedule,
        run_missed_at_startup,
        http_listen,
        sync_max_age_minutes,
        stop_grace_seconds,
    } = daemon;
    let mut t = Table::new();
    put_opt(&mut t, "sync_schedule", sync_schedule.as_deref());
    put_opt(
        &mut t,
        "housekeeping_schedule",
        housekeeping_schedule.as_deref(),
    );
    put_opt(&mut t, "report_schedule", report_schedule.as_deref());
    put_opt(&mut t, "scores_schedule", scores_schedule.as_deref());
    put(&mut t, "run_missed_at_startup", *run_missed_at_startup);
    put_opt(&mut t, "http_listen", http_listen.as_deref());
    put(
        &mut t,
        "sync_max_age_minutes",
        i64::from(*sync_max_age_minutes),
    );
    put(&mut t, "stop_grace_seconds", i64::from(*stop_grace_seconds));
    doc.insert("daemon".into(), t.into());

    if let Some(ScoresConfig {
        api,
        portal_url,
        province_id,
        legacy_unit_type,
        root_department_id,
        page_size,
        http,
    }) = scores
    {
        let mut t = Table::new();
        put(&mut t, "api", api.as_str());
        put(&mut t, "portal_url", portal_url.as_str());
        put_opt(&mut t, "province_id", *province_id);
        put(&mut t, "legacy_unit_type", *legacy_unit_type);
        put_opt(&mut t, "root_department_id", root_department_id.as_deref());
        put(&mut t, "page_size", i64::from(*page_size));
        put(&mut t, "http", http_table(http));
        doc.insert("scores".into(), t.into());
    }

    let ReportConfig { out_dir, document } = report;
    let mut t = Table::new();
    put_opt(&mut t, "out_dir", out_dir.as_deref().map(path));
    t.insert(
        "document".into(),
        Value::try_from(document).expect("[report.document] as TOML"),
    );
    doc.insert("report".into(), t.into());

    if let Some(WebConfig {
        listen,
        users_file,
        session_minutes,
        tls_cert,
        tls_key,
        trusted_proxy,
    }) = web
    {
        let mut t = Table::new();
        put(&mut t, "listen", listen.as_str());
        put(&mut t, "users_file", path(users_file));
        put(&mut t, "session_minutes", i64::from(*session_minutes));
        put_opt(&mut t, "tls_cert", tls_cert.as_deref().map(path));
        put_opt(&mut t, "tls_key", tls_key.as_deref().map(path));
        put_opt(&mut t, "trusted_proxy", trusted_proxy.as_deref());
        doc.insert("web".into(), t.into());
    }
    doc
}

fn http_table(h: &HttpPolicy) -> Table {
    let HttpPolicy {
        connect_timeout_secs,
        request_timeout_secs,
        max_retries,
        backoff_initial_ms,
        backoff_max_ms,
        jitter,
        rate_per_second,
        burst,
        max_in_flight_per_host,
        breaker_threshold,
        breaker_statuses,
        breaker_cooldown_secs,
        retry_after_max_secs,
        ca_file,
        max_body_bytes,
    } = h;
    let mut t = Table::new();
    put(&mut t, "connect_timeout_secs", *connect_timeout_secs);
    put(&mut t, "request_timeout_secs", *request_timeout_secs);
    put(&mut t, "max_retries", i64::from(*max_retries));
    put(&mut t, "backoff_initial_ms", int(*backoff_initial_ms));
    put(&mut t, "backoff_max_ms", int(*backoff_max_ms));
    put(&mut t, "jitter", *jitter);
    put(&mut t, "rate_per_second", *rate_per_second);
    put(&mut t, "burst", i64::from(*burst));
    put(
        &mut t,
        "max_in_flight_per_host",
        i64::from(*max_in_flight_per_host),
    );
    put(&mut t, "breaker_threshold", i64::from(*breaker_threshold));
    let statuses: Vec<i64> = breaker_statuses.iter().map(|s| i64::from(*s)).collect();
    put(&mut t, "breaker_statuses", statuses);
    put(&mut t, "breaker_cooldown_secs", int(*breaker_cooldown_secs));
    put(&mut t, "retry_after_max_secs", int(*retry_after_max_secs));
    put_opt(&mut t, "ca_file", ca_file.as_deref().map(path));
    put_opt(&mut t, "max_body_bytes", max_body_bytes.map(int));
    t
}

fn put(t: &mut Table, key: &str, value: impl Into<Value>) {
    t.insert(key.to_string(), value.into());
}

/// `None` leaves the key out (the file's way of saying "not set").
fn put_opt(t: &mut Table, key: &str, value: Option<impl Into<Value>>) {
    if let Some(v) = value {
        put(t, key, v);
    }
}

fn path(p: &Path) -> String {
    p.to_str()
        .unwrap_or_else(|| panic!("{p:?} is not UTF-8"))
        .to_string()
}

fn int<N: TryInto<i64> + Copy + std::fmt::Display>(n: N) -> i64 {
    n.try_into()
        .unwrap_or_else(|_| panic!("{n} does not fit a TOML integer"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_simulators_config_as_toml_loads_back_the_same() {
    use tthc_sync::sim::{SimProfile, World, WorldParams};
    let now = chrono::NaiveDate::from_ymd_opt(2026, 11, 20)
        .unwrap()
        .and_hms_opt(15, 30, 0)
        .unwrap();
    for profile in SimProfile::ALL {
        let world = World::generate(WorldParams::new(1, 20, 0.0, now));
        let sims = Simulators::start_with(world, profile, 0, 0).await.unwrap();
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("t.db");
        let mut want = sims.config(dir.path(), &db).unwrap();
        assert_eq!(TestConfig::sims(&sims, dir.path(), &db).config(), want);
        // And every kind of value survives a change.
        want.national.lookups_per_cycle = 7;
        want.national.http.rate_per_second = 1.5;
        want.national.list_units = vec!["000.01.31.H18".into()];
        want.daemon.http_listen = Some("127.0.0.1:0".into());
        want.daemon.scores_schedule = Some(String::new());
        let got = TestConfig::sims(&sims, dir.path(), &db)
            .set("national.lookups_per_cycle", 7)
            .set("national.http.rate_per_second", 1.5)
            .set("national.list_units", vec!["000.01.31.H18"])
            .set("daemon.http_listen", "127.0.0.1:0")
            .set("daemon.scores_schedule", "")
            .config();
        assert_eq!(got, want, "{profile:?}");
    }
}

#[test]
fn the_example_config_is_valid_and_keys_are_set_by_path() {
    let cfg = TestConfig::example()
        .set("provincial.page_size", 7)
        .set("scores.http.max_retries", 0)
        .config();
    assert_eq!(cfg.provincial.page_size, 7);
    assert_eq!(cfg.scores.unwrap().http.max_retries, 0);
    assert_eq!(cfg.national.dstcode, "DIENBIEN");
}
