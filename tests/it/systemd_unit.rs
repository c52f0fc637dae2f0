//! Checks on `systemd/tthc-sync.service`: the directives the service relies on (always), and
//! the `systemd-analyze security` exposure score (when `systemd-analyze` is installed).

use std::path::{Path, PathBuf};
use std::process::Command;

const MAX_EXPOSURE: f64 = 1.2;

fn unit_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("systemd/tthc-sync.service")
}

/// `Key=value` lines of the unit, in order, comments and section headers dropped.
fn directives() -> Vec<(String, String)> {
    let text = std::fs::read_to_string(unit_path()).expect("read systemd/tthc-sync.service");
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#') && !l.starts_with('['))
        .map(|l| {
            let (k, v) = l
                .split_once('=')
                .unwrap_or_else(|| panic!("not Key=value: {l}"));
            (k.trim().to_owned(), v.trim().to_owned())
        })
        .collect()
}

fn values(key: &str) -> Vec<String> {
    directives()
        .into_iter()
        .filter(|(k, _)| k == key)
        .map(|(_, v)| v)
        .collect()
}

#[test]
fn unit_has_the_directives_the_service_relies_on() {
    // (key, every value it must have, in order)
    let cases: &[(&str, &[&str])] = &[
        ("Type", &["notify"]),
        ("WatchdogSec", &["60"]),
        ("Restart", &["on-failure"]),
        ("TimeoutStopSec", &["30"]),
        ("User", &["tthc-sync"]),
        ("Group", &["tthc-sync"]),
        ("StateDirectory", &["tthc-sync"]),
        ("StateDirectoryMode", &["0750"]),
        ("UMask", &["0027"]),
        ("ConfigurationDirectory", &["tthc-sync"]),
        (
            "ExecStartPre",
            &["/usr/bin/tthc-sync check-config --config /etc/tthc-sync/tthc-sync.toml"],
        ),
        (
            "ExecStart",
            &["/usr/bin/tthc-sync run --config /etc/tthc-sync/tthc-sync.toml"],
        ),
        (
            "ExecReload",
            &[
                "/usr/bin/tthc-sync check-config --config /etc/tthc-sync/tthc-sync.toml",
                "/bin/kill -HUP $MAINPID",
            ],
        ),
        (
            "LoadCredential",
            &[
                "provincial-password:/etc/tthc-sync/credentials/provincial-password",
                "national-password:/etc/tthc-sync/credentials/national-password",
            ],
        ),
        ("RestrictAddressFamilies", &["AF_UNIX AF_INET AF_INET6"]),
        ("CapabilityBoundingSet", &[""]),
        // Issue 16: no core (it would hold passwords), bounded resources, binds only the
        // health port and the web page's.
        ("LimitCORE", &["0"]),
        ("MemoryMax", &["1G"]),
        ("TasksMax", &["256"]),
        ("LimitNOFILE", &["4096"]),
        ("PrivateMounts", &["yes"]),
        ("SocketBindDeny", &["any"]),
        ("SocketBindAllow", &["tcp:9464 tcp:9465"]),
    ];
    for (key, want) in cases {
        assert_eq!(values(key), *want, "{key}=");
    }
}

#[test]
fn unit_keeps_network_and_a_fixed_user() {
    // The portals must stay reachable; the database must stay readable by the group.
    for forbidden in ["PrivateNetwork", "IPAddressDeny", "DynamicUser"] {
        assert!(values(forbidden).is_empty(), "{forbidden}= must not be set");
    }
}

#[test]
fn sysusers_declares_the_service_user() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("systemd/tthc-sync.sysusers");
    let text = std::fs::read_to_string(path).expect("read systemd/tthc-sync.sysusers");
    assert!(
        text.lines()
            .any(|l| l == r#"u tthc-sync - "tthc-sync daemon" /var/lib/tthc-sync"#),
        "{text}"
    );
}

/// `Overall exposure level for tthc-sync.service: 1.2 OK` → 1.2
fn parse_exposure(output: &str) -> Option<f64> {
    let line = output
        .lines()
        .find(|l| l.contains("Overall exposure level"))?;
    line.rsplit_once(':')?
        .1
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

#[test]
fn parse_exposure_cases() {
    let cases: &[(&str, Option<f64>)] = &[
        (
            "→ Overall exposure level for tthc-sync.service: 1.2 OK 🙂",
            Some(1.2),
        ),
        (
            "x\n→ Overall exposure level for a.service: 9.6 UNSAFE 😨\n",
            Some(9.6),
        ),
        ("nothing here", None),
    ];
    for (text, want) in cases {
        assert_eq!(parse_exposure(text), *want, "{text}");
    }
}

#[test]
fn systemd_analyze_security_exposure() {
    let output = match Command::new("systemd-analyze")
        .args(["security", "--offline=true", "--no-pager"])
        .arg(unit_path())
        .output()
    {
        Ok(o) => o,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            eprintln!("skipped: systemd-analyze is not on PATH (apt-get install systemd)");
            return;
        }
        Err(e) => panic!("running systemd-analyze: {e}"),
    };
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    let exposure = parse_exposure(&text)
        .unwrap_or_else(|| panic!("no exposure level in systemd-analyze output:\n{text}"));
    eprintln!("systemd-analyze security exposure: {exposure}");
    assert!(
        exposure <= MAX_EXPOSURE,
        "exposure {exposure} > {MAX_EXPOSURE}; a hardening directive was lost:\n{text}"
    );
}
