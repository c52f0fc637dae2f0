//! Tests of loading and validating the config.

use super::*;

pub(crate) const EXAMPLE: &str = include_str!("../../config/tthc-sync.example.toml");

/// The example with each `(from, to)` edit applied (the first occurrence of `from`) is
/// rejected, and the error names `key`.
fn assert_error_names(edits: &[(&str, &str)], key: &str) {
    let mut text = EXAMPLE.to_string();
    for (from, to) in edits {
        assert!(text.contains(from), "example lacks {from}");
        text = text.replacen(from, to, 1);
    }
    let err = Config::parse(&text, Path::new("x.toml"))
        .unwrap_err()
        .to_string();
    assert!(err.contains(key), "{err} should name {key}");
}

#[test]
fn example_config_is_valid() {
    let cfg = Config::parse(EXAMPLE, Path::new("example.toml")).unwrap();
    assert_eq!(cfg.provincial.profile, "igate");
}

#[test]
fn errors_name_the_key() {
    let cases: &[(&str, &str, &str)] = &[
        (
            "profile = \"igate\"",
            "profile = \"vnpt\"",
            "provincial.profile",
        ),
        ("page_size = 100", "page_size = 0", "provincial.page_size"),
        (
            "lookups_per_second = 5.0",
            "lookups_per_second = -1.0",
            "national.lookups_per_second",
        ),
        (
            "adapter_url = \"https://dichvucong.gov.vn/adapter\"",
            "adapter_url = \"ftp://x\"",
            "national.adapter_url",
        ),
        (
            "lookup_backoff_minutes = 15",
            "lookup_backoff_minutes = 0",
            "national.lookup_backoff_minutes",
        ),
        (
            "lookup_backoff_max_hours = 24",
            "lookup_backoff_max_hours = 0",
            "national.lookup_backoff_max_hours",
        ),
        (
            "lookup_failing_after_hours = 24",
            "lookup_failing_after_hours = 721",
            "national.lookup_failing_after_hours",
        ),
        (
            "breaker_cooldown_secs = 60",
            "breaker_cooldown_secs = 0",
            "provincial.http",
        ),
    ];
    for (from, to, key) in cases {
        assert_error_names(&[(from, to)], key);
    }
}

#[test]
fn failing_look_ups_keys() {
    let cfg = Config::parse(EXAMPLE, Path::new("example.toml")).unwrap();
    let s = cfg.national.plan_settings();
    assert_eq!(s.failure_backoff, Duration::from_secs(15 * 60));
    assert_eq!(s.failure_backoff_max, Duration::from_secs(24 * 3600));
    assert_eq!(s.sync_grace, cfg.national.sync_grace());
    assert_eq!(
        cfg.national.lookup_failing_after(),
        chrono::Duration::hours(24)
    );
    assert_eq!(cfg.national.http.breaker_cooldown_secs, 60);
    // The longest wait may not be shorter than the first.
    assert_error_names(
        &[
            (
                "lookup_backoff_minutes = 15",
                "lookup_backoff_minutes = 120",
            ),
            (
                "lookup_backoff_max_hours = 24",
                "lookup_backoff_max_hours = 1",
            ),
        ],
        "national.lookup_backoff_max_hours",
    );
}

#[test]
fn daemon_section() {
    let cfg = Config::parse(EXAMPLE, Path::new("example.toml")).unwrap();
    assert_eq!(cfg.daemon.sync_schedule.as_deref(), Some("*/15 * * * *"));
    assert_eq!(cfg.daemon.report_schedule, None);
    assert_eq!(
        cfg.daemon.http_addr().unwrap(),
        Some("127.0.0.1:9464".parse().unwrap())
    );
    // Without the section: valid, sync and housekeeping on their defaults, nothing served.
    let start = EXAMPLE.find("\n[daemon]").unwrap();
    let without = &EXAMPLE[..start];
    let cfg = Config::parse(without, Path::new("x.toml")).unwrap();
    assert_eq!(cfg.daemon, DaemonConfig::default());
    let scheduled: Vec<&str> = cfg
        .daemon
        .schedules()
        .iter()
        .filter(|(_, _, s)| s.is_some())
        .map(|(job, _, _)| *job)
        .collect();
    assert_eq!(scheduled, ["sync", "housekeeping"]);
    assert_eq!(cfg.daemon.http_addr().unwrap(), None);
    // An empty schedule unschedules a job.
    let text = EXAMPLE.replacen(
        "housekeeping_schedule = \"30 2 * * *\"",
        "housekeeping_schedule = \"\"",
        1,
    );
    let cfg = Config::parse(&text, Path::new("x.toml")).unwrap();
    assert!(cfg.daemon.schedules()[1].2.is_none());
    // (from, to, key the error must name)
    let cases: &[(&str, &str, &str)] = &[
        (
            "sync_schedule = \"*/15 * * * *\"",
            "sync_schedule = \"every now and then\"",
            "daemon.sync_schedule",
        ),
        (
            "housekeeping_schedule = \"30 2 * * *\"",
            "housekeeping_schedule = \"99 2 * * *\"",
            "daemon.housekeeping_schedule",
        ),
        (
            "# report_schedule = \"0 6 1 * *\"",
            "report_schedule = \"0 6 1 *\"",
            "daemon.report_schedule",
        ),
        (
            "http_listen = \"127.0.0.1:9464\"",
            "http_listen = \"localhost\"",
            "daemon.http_listen",
        ),
        (
            "sync_max_age_minutes = 90",
            "sync_max_age_minutes = 0",
            "daemon.sync_max_age_minutes",
        ),
        (
            "stop_grace_seconds = 25",
            "stop_grace_seconds = 0",
            "daemon.stop_grace_seconds",
        ),
    ];
    for (from, to, key) in cases {
        assert_error_names(&[(from, to)], key);
    }
}

#[test]
fn scores_section_is_optional_and_its_errors_name_the_key() {
    let cfg = Config::parse(EXAMPLE, Path::new("example.toml")).unwrap();
    let sc = cfg.scores.expect("the example has [scores]");
    assert_eq!(sc.api(), ScoresApi::ProgressTree);
    assert!(
        cfg.national.list_units.is_empty(),
        "DanhSachHoSo is off by default"
    );
    // The section is the file's last: cut it off.
    let start = EXAMPLE.find("\n[scores]").unwrap();
    let without = &EXAMPLE[..start];
    assert!(Config::parse(without, Path::new("x.toml"))
        .unwrap()
        .scores
        .is_none());
    let progress_tree = "api = \"progress_tree\"";
    let cases: &[(&[(&str, &str)], &str)] = &[
        (&[(progress_tree, "api = \"v3\"")], "scores.api"),
        (
            &[
                (progress_tree, "api = \"legacy\""),
                ("province_id = 11", "province_id = 0"),
            ],
            "scores.province_id",
        ),
        (
            &[(
                "root_department_id = \"00000000-0000-0000-0000-000000000000\"",
                "root_department_id = \" \"",
            )],
            "scores.root_department_id",
        ),
        (
            &[(
                "portal_url = \"https://dichvucong.gov.vn\"",
                "portal_url = \"dichvucong\"",
            )],
            "scores.portal_url",
        ),
        (
            &[(
                "page_size = 100\n\n[scores.http]",
                "page_size = 0\n\n[scores.http]",
            )],
            "scores.page_size",
        ),
        (
            &[
                ("list_units = []", "list_units = [\"000.01.31.H18\"]"),
                ("list_days = 30", "list_days = 0"),
            ],
            "national.list_days",
        ),
        (
            &[("list_units = []", "list_units = [\"\"]")],
            "national.list_units",
        ),
    ];
    for (edits, key) in cases {
        assert_error_names(edits, key);
    }
}

#[test]
fn profile_headers_and_profile_file_are_checked() {
    let text = EXAMPLE.replacen("profile = \"igate\"", "profile = \"opencps\"", 1);
    let err = Config::parse(&text, Path::new("x.toml"))
        .unwrap_err()
        .to_string();
    assert!(err.contains("provincial.group_id"), "{err}");
    let ok = text.replacen("[provincial]\n", "[provincial]\ngroup_id = \"35\"\n", 1);
    Config::parse(&ok, Path::new("x.toml")).unwrap();
    let text = EXAMPLE.replacen("profile = \"igate\"", "profile = \"td\"", 1);
    let err = Config::parse(&text, Path::new("x.toml"))
        .unwrap_err()
        .to_string();
    assert!(err.contains("provincial.tenant"), "{err}");
    let text = EXAMPLE.replacen(
        "[provincial]\n",
        "[provincial]\nprofile_file = \"/nonexistent/my-igate.toml\"\n",
        1,
    );
    let err = Config::parse(&text, Path::new("x.toml"))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("provincial.profile_file") && err.contains("my-igate.toml"),
        "{err}"
    );
}

#[test]
fn unknown_key_and_inline_password_are_rejected() {
    let text = EXAMPLE.replacen("[national]", "[national]\npassword = \"hunter2\"", 1);
    let err = Config::parse(&text, Path::new("x.toml"))
        .unwrap_err()
        .to_string();
    assert!(err.contains("password"), "{err}");
}

/// Every URL that carries credentials refuses `http://` unless its host is loopback, and the
/// error names the key; https and loopback http are accepted.
#[test]
fn credentials_never_travel_in_clear() {
    let with_scores = EXAMPLE;
    let urls = [
        ("provincial.api_url", "api_url = \"https://"),
        ("provincial.sso_url", "sso_url = \"https://"),
        ("national.adapter_url", "adapter_url = \"https://"),
        ("scores.portal_url", "portal_url = \"https://"),
    ];
    for (key, from) in urls {
        assert!(with_scores.contains(from), "example lacks {from}");
        let to = from.replace("https://", "http://");
        let text = with_scores.replacen(from, &to, 1);
        let err = Config::parse(&text, Path::new("x.toml"))
            .unwrap_err()
            .to_string();
        assert!(err.contains(key) && err.contains("in clear"), "{err}");
        for local in ["127.0.0.1:8080", "localhost", "[::1]:9000", "127.1.2.3"] {
            let to = format!("{to}{local}/x\"\n#");
            let text = with_scores.replacen(from, &to, 1);
            Config::parse(&text, Path::new("x.toml"))
                .unwrap_or_else(|e| panic!("{key} = {local}: {e}"));
        }
    }
    assert!(Config::parse(EXAMPLE, Path::new("x.toml"))
        .unwrap()
        .scores
        .is_some());
}

/// A password file anyone but its owner may read is refused, naming the key and the fix;
/// mode 0600 and 0400 are read.
#[cfg(unix)]
#[test]
fn a_password_file_open_to_others_is_refused() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("pw");
    std::fs::write(&file, "s3cret\n").unwrap();
    let secret = SecretRef {
        password_file: Some(file.clone()),
        ..SecretRef::default()
    };
    for mode in [0o644, 0o640, 0o604, 0o660, 0o602] {
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(mode)).unwrap();
        let err = secret
            .resolve("national.password_*")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("national.password_file")
                && err.contains(&format!("mode {mode:04o}"))
                && err.contains("chmod 600")
                && !err.contains("s3cret"),
            "{err}"
        );
    }
    for mode in [0o600, 0o400] {
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(mode)).unwrap();
        assert_eq!(secret.resolve("national.password_*").unwrap(), "s3cret");
    }
}

#[test]
fn credential_sources_are_read_from_the_unit_and_its_drop_ins() {
    use super::credential_source;
    let unit = include_str!("../../systemd/tthc-sync.service").to_string();
    assert_eq!(
        credential_source(std::slice::from_ref(&unit), "national-password"),
        Some("/etc/tthc-sync/credentials/national-password".into())
    );
    assert_eq!(credential_source(std::slice::from_ref(&unit), "nope"), None);
    // A drop-in overrides; an empty LoadCredential= clears what came before; a relative source
    // (systemd's credential store) is not a file tthc-sync reads.
    let drop_in = "[Service]\nLoadCredential=provincial-password:/srv/pw\n".to_string();
    assert_eq!(
        credential_source(&[unit.clone(), drop_in], "provincial-password"),
        Some("/srv/pw".into())
    );
    let cleared = "[Service]\nLoadCredential=\n".to_string();
    assert_eq!(
        credential_source(&[unit, cleared], "national-password"),
        None
    );
    let relative = "LoadCredential=national-password:national-password\n".to_string();
    assert_eq!(credential_source(&[relative], "national-password"), None);
}

#[test]
fn web_section_is_optional_and_its_errors_name_the_key() {
    let cfg = Config::parse(EXAMPLE, Path::new("example.toml")).unwrap();
    let web = cfg.web.expect("the example has [web]");
    assert_eq!(web.listen_addr().unwrap().to_string(), "127.0.0.1:9465");
    assert_eq!(web.session_lifetime().as_secs(), 480 * 60);
    let start = EXAMPLE.find("\n[web]").expect("[web] in the example");
    let without = format!("{}\n", &EXAMPLE[..start]);
    assert!(Config::parse(&without, Path::new("x.toml"))
        .unwrap()
        .web
        .is_none());
    // A non-loopback address with TLS is accepted.
    let tls = EXAMPLE
        .replacen(
            "listen = \"127.0.0.1:9465\"",
            "listen = \"0.0.0.0:9465\"",
            1,
        )
        .replacen("# tls_cert", "tls_cert", 1)
        .replacen("# tls_key", "tls_key", 1);
    let web = Config::parse(&tls, Path::new("x.toml"))
        .unwrap()
        .web
        .unwrap();
    assert!(web.tls());
    for (from, to, key) in [
        (
            "listen = \"127.0.0.1:9465\"",
            "listen = \"0.0.0.0:9465\"",
            "web.listen",
        ),
        (
            "listen = \"127.0.0.1:9465\"",
            "listen = \"localhost\"",
            "web.listen",
        ),
        (
            "listen = \"127.0.0.1:9465\"",
            "listen = \"127.0.0.1:9464\"",
            "web.listen",
        ),
        (
            "session_minutes = 480",
            "session_minutes = 0",
            "web.session_minutes",
        ),
        (
            "# trusted_proxy = \"127.0.0.1\"",
            "trusted_proxy = \"proxy\"",
            "web.trusted_proxy",
        ),
    ] {
        assert_error_names(&[(from, to)], key);
    }
}

#[test]
fn statutory_times_file_is_read_and_its_errors_name_the_key() {
    assert_error_names(
        &[(
            "# statutory_times_file = \"/etc/tthc-sync/statutory-times.toml\"",
            "statutory_times_file = \"/nonexistent/statutory-times.toml\"",
        )],
        "calendar.statutory_times_file",
    );
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("times.toml");
    std::fs::write(
        &file,
        "[[procedure]]\ncode = \"9.000001\"\nlimit = 4\nunit = \"working_hours\"\n",
    )
    .unwrap();
    let text = EXAMPLE.replacen(
        "# statutory_times_file = \"/etc/tthc-sync/statutory-times.toml\"",
        &format!("statutory_times_file = {:?}", file.display().to_string()),
        1,
    );
    let cal = Config::parse(&text, Path::new("x.toml"))
        .unwrap()
        .calendar
        .build()
        .unwrap();
    assert_eq!(
        cal.statutory_time("9.000001", None),
        Some(crate::calendar::StatutoryTime {
            limit: 4,
            unit: crate::calendar::TimeUnit::WorkingHours,
            // No group: the default cut-off.
            cut_off: chrono::NaiveTime::from_hms_opt(17, 0, 0),
            source: crate::calendar::StatutorySource::File,
        })
    );
    // The file replaces the built-in one.
    assert_eq!(cal.statutory_time("1.001193", None), None);
}

#[test]
fn cut_off_hours_are_checked_and_name_the_key() {
    assert_error_names(
        &[("certification = \"15:00\"", "certification = \"3pm\"")],
        "calendar.cut_off_hours",
    );
    assert_error_names(&[(", default = \"17:00\"", "")], "calendar.cut_off_hours");
    let cal = Config::parse(EXAMPLE, Path::new("x.toml"))
        .unwrap()
        .calendar
        .build()
        .unwrap();
    let cut = |code: &str| cal.statutory_time(code, None).and_then(|t| t.cut_off);
    let h = |h| chrono::NaiveTime::from_hms_opt(h, 0, 0);
    assert_eq!(cut("1.001193"), h(15)); // civil status
    assert_eq!(cut("1.004873"), h(15)); // certification
    assert_eq!(cut("1.009994"), h(17)); // no group
}

/// `[report.document]` in the example spells out the defaults, so the file documents them; a
/// bad template or dated table is refused with its key named.
#[test]
fn example_document_settings_are_the_defaults() {
    let cfg = Config::parse(EXAMPLE, Path::new("example.toml")).unwrap();
    assert_eq!(
        cfg.report.document,
        super::document::DocumentSettings::default()
    );
    assert_error_names(
        &[("\"{units};\"", "\"{unit};\"")],
        "report.document.recipients[3]",
    );
    assert_error_names(
        &[("from = \"2025-07-01\"\n", "")],
        "report.document.units[1].from",
    );
    assert_error_names(
        &[("from = \"2025-03-01\"", "from = \"1 March 2025\"")],
        "from",
    );
}

#[test]
fn statutory_inference_keys_are_checked_and_name_the_key() {
    assert_error_names(
        &[(
            "infer_statutory_min_percent = 60",
            "infer_statutory_min_percent = 50",
        )],
        "calendar.infer_statutory_min_percent",
    );
    assert_error_names(
        &[(
            "infer_statutory_min_percent = 60",
            "infer_statutory_min_percent = 101",
        )],
        "calendar.infer_statutory_min_percent",
    );
    assert_error_names(
        &[(
            "infer_statutory_sample = 200",
            "infer_statutory_sample = 19",
        )],
        "calendar.infer_statutory_sample",
    );
    let cal = Config::parse(EXAMPLE, Path::new("x.toml"))
        .unwrap()
        .calendar
        .build()
        .unwrap();
    assert_eq!(
        *cal.inference(),
        crate::calendar::InferenceSettings {
            min_dossiers: 20,
            min_percent: 60,
            sample: 200,
        }
    );
}
