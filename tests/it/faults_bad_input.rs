//! Bad input: every parser of the portals' replies, the date parsers and config loading are
//! fed arbitrary and mutated input (property tests and seeded fuzz loops). None may panic;
//! each refuses with a clear error. And a malformed provincial page mid-run loses nothing
//! already stored. The number of inputs tried is printed (`--nocapture`).

use std::collections::BTreeMap;
use std::panic::AssertUnwindSafe;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use chrono::NaiveDate;
use proptest::prelude::*;
use serde_json::{json, Value};
use tthc_sync::config::Config;
use tthc_sync::demo::score_against_truth;
use tthc_sync::model::{LocalTime, YearMonth};
use tthc_sync::profile::Profile;
use tthc_sync::scores;
use tthc_sync::sim::{PageFault, PageFaultPlan, SimProfile, Simulators, World, WorldParams};
use tthc_sync::source::national;
use tthc_sync::source::provincial::parse_page;
use tthc_sync::store::{DiscrepancyFilter, Outcome, Store};
use tthc_sync::sync::{self, Clients, Clock};
use tthc_sync::timestamp::DateOnly;

static TRIED: AtomicU64 = AtomicU64::new(0);

fn tried() {
    TRIED.fetch_add(1, Ordering::Relaxed);
}

fn world_now() -> LocalTime {
    NaiveDate::from_ymd_opt(2026, 11, 20)
        .unwrap()
        .and_hms_opt(16, 0, 0)
        .unwrap()
}

const PROFILES: [&str; 3] = ["igate", "opencps", "td"];

/// Keys the parsers look for, so that arbitrary JSON reaches past the first check.
const KEYS: &[&str] = &[
    "id",
    "code",
    "nationCode",
    "updatedDate",
    "dossierStatus",
    "name",
    "content",
    "last",
    "data",
    "total",
    "hasNextPage",
    "dossierId",
    "modifiedDate",
    "Id",
    "LastModifiedOn",
    "TrangThaiHoSoId",
    "MaHoSo",
    "MaHoSoKhac",
    "MaTrangThai",
    "TrangThaiHoSo",
    "NgayTiepNhan",
    "NgayHenTra",
    "result",
    "error_code",
    "message",
    "ID",
    "TDGQ",
    "parent",
    "children",
    "score",
    "systemId",
    "referenceUid",
    "applicant",
    "appliedDate",
    "acceptedDate",
];

fn arb_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(|f| json!(f)),
        ".{0,24}".prop_map(Value::from),
        "[0-9/:T +.Z-]{0,26}".prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 48, 8, |inner| {
        let key = prop_oneof![
            3 => proptest::sample::select(KEYS).prop_map(str::to_string),
            1 => ".{0,8}",
        ];
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(key, inner, 0..8)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn profiles() -> Vec<Profile> {
    PROFILES
        .iter()
        .map(|n| Profile::builtin(n).unwrap())
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn date_parsers_never_panic(s in prop_oneof![".{0,40}", "[0-9/:T +.Z-]{0,30}",
        "[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]{1,9})?[+-][0-9]{4}"]) {
        tried();
        match national::parse_date(&s, DateOnly::StartOfDay) {
            Ok(_) => {}
            Err(e) => prop_assert!(e.contains(s.trim()), "{e}"),
        }
        for p in profiles() {
            if let Err(e) = p.parse_date("received_at", &s, DateOnly::EndOfDay) {
                prop_assert!(e.to_string().contains("received_at"), "{e}");
            }
        }
    }

    #[test]
    fn replies_never_panic(v in arb_json(), size in 0u32..300) {
        tried();
        for p in profiles() {
            let _ = parse_page(&p, &v, size % 7, size);
            if let Err(e) = p.map_row(v.clone()) {
                prop_assert!(!e.to_string().is_empty());
            }
            // A row inside a valid envelope too.
            let _ = p.map_row(json!({"id": "x", "updatedDate": "2026-11-20T16:00:00.000+0700",
                "Id": "x", "dossierId": "x", "modifiedDate": "20/11/2026 16:00:00",
                "LastModifiedOn": "2026-11-20T16:00:00", "dossierStatus": v.clone(),
                "TrangThaiHoSoId": v.clone(), "nationCode": v.clone(),
                "appointmentDate": v.clone(), "dueDate": v.clone(), "NgayHenTra": v.clone()}));
        }
        for reply in [v.clone(), json!({"error_code": 0, "result": v.clone()}),
                      json!({"error_code": 0, "data": [v.clone()]})] {
            if let Err(e) = national::parse_lookup("000.00.11.H18-261120-0001", &reply) {
                prop_assert!(!e.is_empty());
            }
            if let Err(e) = national::parse_list(&reply) {
                prop_assert!(!e.is_empty());
            }
            let ym = YearMonth { year: 2026, month: 11 };
            let _ = scores::parse_legacy(&reply, ym, true, Some(11));
            let _ = scores::parse_progress_tree(200, &reply, ym);
            let _ = scores::parse_progress_tree(200,
                &json!({"code": "ok", "data": {"parent": v.clone(), "children": [v.clone()]}}), ym);
            let _ = scores::number(Some(&v));
            let _ = scores::integer(Some(&v));
        }
    }
}

/// A mutation of a JSON value: a key dropped, a value replaced by something odd, a date's
/// characters flipped, or a nested value mutated.
fn mutate(rng: &mut fastrand::Rng, v: &mut Value, depth: u32) {
    let odd = |rng: &mut fastrand::Rng| -> Value {
        match rng.u8(0..10) {
            0 => Value::Null,
            1 => json!(rng.i64(..)),
            2 => json!(""),
            3 => json!([]),
            4 => json!({}),
            5 => json!(rng.f64() * 1e300),
            6 => json!("31/02/2026 25:61:61"),
            7 => json!("2026-13-45T99:99:99.999+9999"),
            8 => json!("\u{0}\u{feff}ĐẠI\u{301}"),
            _ => json!(true),
        }
    };
    match v {
        Value::Object(map) if !map.is_empty() => {
            let keys: Vec<String> = map.keys().cloned().collect();
            let k = &keys[rng.usize(..keys.len())];
            match rng.u8(0..4) {
                0 => {
                    map.remove(k);
                }
                1 => {
                    map.insert(k.clone(), odd(rng));
                }
                2 if depth < 4 => mutate(rng, map.get_mut(k).unwrap(), depth + 1),
                _ => {
                    if let Some(Value::String(s)) = map.get_mut(k) {
                        let mut b = s.clone().into_bytes();
                        if !b.is_empty() {
                            let i = rng.usize(..b.len());
                            b[i] = rng.u8(..);
                        }
                        *s = String::from_utf8_lossy(&b).into_owned();
                    } else {
                        map.insert(k.clone(), odd(rng));
                    }
                }
            }
        }
        Value::Array(a) if !a.is_empty() => {
            let i = rng.usize(..a.len());
            if rng.bool() && depth < 4 {
                mutate(rng, &mut a[i], depth + 1);
            } else {
                a[i] = odd(rng);
            }
        }
        other => *other = odd(rng),
    }
}

/// Real rows of each profile and real national replies, mutated one to five times each.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mutated_real_replies_are_refused_cleanly() {
    const ROUNDS: usize = 4000;
    let mut rng = fastrand::Rng::with_seed(766);
    let mut n = 0u64;
    let mut refused = 0u64;
    for profile in SimProfile::ALL {
        let world = World::generate(WorldParams::new(3, 120, 0.05, world_now()));
        let sims = Simulators::start_with(world, profile, 0, 0).await.unwrap();
        let dir = tempfile::tempdir().unwrap();
        let cfg = sims.config(dir.path(), &dir.path().join("t.db")).unwrap();
        let clients = Clients::new(&cfg).unwrap();
        let page = clients.provincial.page(0).await.unwrap();
        let p = clients.provincial.profile().clone();
        let personal: Vec<String> = p.personal_data.clone();
        for i in 0..ROUNDS {
            let mut row = page.rows[i % page.rows.len()].clone();
            for _ in 0..rng.usize(1..=5) {
                mutate(&mut rng, &mut row, 0);
            }
            n += 1;
            match std::panic::catch_unwind(AssertUnwindSafe(|| p.map_row(row.clone()))) {
                Ok(Ok((_, raw))) => {
                    // Whatever the row, the stored JSON holds listed paths and scalars only,
                    // and no personal-data key.
                    let stored: serde_json::Map<String, Value> =
                        serde_json::from_str(&raw).unwrap();
                    for (path, v) in &stored {
                        assert!(p.listed_paths().contains(path), "{path} kept in {raw}");
                        assert!(!v.is_object() && !v.is_array(), "{path} in {raw}");
                    }
                    for k in &personal {
                        assert!(!raw.contains(&format!("\"{k}\"")), "{k} kept in {raw}");
                    }
                }
                Ok(Err(e)) => {
                    refused += 1;
                    assert!(!e.to_string().is_empty());
                }
                Err(_) => panic!("{profile:?} map_row panicked on {row}"),
            }
            let mut reply = json!({p.rows_field.clone(): [row], "last": false, "total": 9});
            mutate(&mut rng, &mut reply, 0);
            n += 1;
            let _ = parse_page(&p, &reply, 0, 50);
        }
        // National replies, from the same world.
        let rows: Vec<Value> = sims
            .world
            .national
            .values()
            .map(tthc_sync::sim::national::render_row)
            .collect();
        for i in 0..ROUNDS {
            let row = &rows[i % rows.len()];
            let code = row["MaHoSo"].as_str().unwrap().to_string();
            let mut reply = json!({"error_code": 0, "message": "Thành công",
                "result": [row.clone()]});
            for _ in 0..rng.usize(1..=4) {
                mutate(&mut rng, &mut reply, 0);
            }
            n += 2;
            if national::parse_lookup(&code, &reply).is_err() {
                refused += 1;
            }
            let _ = national::parse_list(&reply);
        }
    }
    TRIED.fetch_add(n, Ordering::Relaxed);
    eprintln!("mutated replies: {n} tried, {refused} refused with an error, no panic");
}

/// Byte-level mutations of a text: deletions, insertions, flips, dropped or repeated lines.
fn mutate_text(rng: &mut fastrand::Rng, text: &str) -> String {
    const SNIPPETS: &[&str] = &[
        "\n[national]\n",
        "\n[[x]]\n",
        " = ",
        "\"",
        "'''",
        "=\n",
        "[",
        "]",
        "\n[http]\n",
        "max_retries = 99\n",
        "page_size = 0\n",
        "ca_file = \"\"\n",
        "\u{0}",
        "ạ",
        "#",
        "\nprofile = \"nope\"\n",
        "1e999",
        "-1",
        "database = \"\"\n",
        "[0]]",
    ];
    let mut b = text.as_bytes().to_vec();
    for _ in 0..rng.usize(1..=4) {
        if b.is_empty() {
            break;
        }
        let i = rng.usize(..b.len());
        match rng.u8(0..6) {
            0 => {
                let j = (i + rng.usize(1..40)).min(b.len());
                b.drain(i..j);
            }
            1 => {
                let s = SNIPPETS[rng.usize(..SNIPPETS.len())];
                b.splice(i..i, s.bytes());
            }
            2 => b[i] = rng.u8(..),
            3 => b[i] ^= 1 << rng.u8(0..8),
            _ => {
                let lines: Vec<&[u8]> = b.split(|c| *c == b'\n').collect();
                let k = rng.usize(..lines.len());
                let mut out: Vec<u8> = Vec::with_capacity(b.len());
                for (n, l) in lines.iter().enumerate() {
                    let times = if n != k {
                        1
                    } else if rng.bool() {
                        0
                    } else {
                        2
                    };
                    for _ in 0..times {
                        out.extend_from_slice(l);
                        out.push(b'\n');
                    }
                }
                b = out;
            }
        }
    }
    String::from_utf8_lossy(&b).into_owned()
}

#[test]
fn mutated_configs_and_profiles_are_refused_cleanly() {
    const ROUNDS: usize = 3000;
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let example = std::fs::read_to_string(root.join("config/tthc-sync.example.toml")).unwrap();
    let path = Path::new("/etc/tthc-sync/tthc-sync.toml");
    Config::parse(&example, path).expect("the example config is valid");
    let mut rng = fastrand::Rng::with_seed(2026);
    let (mut n, mut refused) = (0u64, 0u64);
    for _ in 0..ROUNDS {
        let text = mutate_text(&mut rng, &example);
        n += 1;
        match std::panic::catch_unwind(|| Config::parse(&text, path)) {
            Ok(Ok(_)) => {}
            Ok(Err(e)) => {
                refused += 1;
                let msg = e.to_string();
                assert!(msg.len() > 10, "unclear error {msg:?}");
            }
            Err(_) => panic!("Config::parse panicked on:\n{text}"),
        }
    }
    // Profiles (a province's own copy, `provincial.profile_file`), and rows mapped with them.
    let sample: BTreeMap<&str, Value> = BTreeMap::from([
        (
            "igate",
            json!({"id": "1", "code": "X", "nationCode": "000.00.11.H18-261120-0001",
            "dossierStatus": {"id": 4, "name": "Đang xử lý"},
            "procedure": {"translate": [{"name": "p"}]},
            "updatedDate": "2026-11-20T16:00:00.000+0700",
            "currentTask": [{"assignee": {"fullname": "Cán bộ A"}}]}),
        ),
        (
            "opencps",
            json!({"dossierId": "1", "dossierNo": "X", "systemId": 5,
            "referenceUid": "000.00.11.H18-261120-0001", "dossierStatus": "processing",
            "modifiedDate": "20/11/2026 16:00:00"}),
        ),
        (
            "td",
            json!({"Id": "1", "MaHoSo": "X", "TrangThaiHoSoId": 4,
            "LastModifiedOn": "2026-11-20T16:00:00"}),
        ),
    ]);
    for name in PROFILES {
        let text =
            std::fs::read_to_string(root.join(format!("config/profiles/{name}.toml"))).unwrap();
        for _ in 0..ROUNDS / 3 {
            let text = mutate_text(&mut rng, &text);
            n += 1;
            let parsed = std::panic::catch_unwind(|| Profile::parse(name, &text));
            match parsed {
                Ok(Ok(p)) => {
                    n += 1;
                    let row = sample[name].clone();
                    if std::panic::catch_unwind(AssertUnwindSafe(|| p.map_row(row))).is_err() {
                        panic!("map_row panicked with the profile:\n{text}");
                    }
                }
                Ok(Err(e)) => {
                    refused += 1;
                    assert!(e.to_string().contains(name), "{e}");
                }
                Err(_) => panic!("Profile::parse panicked on:\n{text}"),
            }
        }
    }
    TRIED.fetch_add(n, Ordering::Relaxed);
    eprintln!("mutated configs and profiles: {n} tried, {refused} refused, no panic");
}

/// A provincial page of garbage mid-run (unparseable, or rows that cannot be read) keeps every
/// row already stored, the watermark, the sweep mark and the discrepancies as they were.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_garbage_page_mid_run_loses_nothing_stored() {
    for (n, fault) in [
        PageFault::InvalidJson,
        PageFault::GarbageRows,
        PageFault::Html200,
    ]
    .into_iter()
    .enumerate()
    {
        let profile = SimProfile::ALL[n % 3];
        let world = World::generate(WorldParams::new(5, 300, 0.05, world_now()));
        let sims = Simulators::start_with(world, profile, 0, 0).await.unwrap();
        let dir = tempfile::tempdir().unwrap();
        let mut cfg = sims.config(dir.path(), &dir.path().join("t.db")).unwrap();
        cfg.provincial.page_size = 50;
        let at = |min: i64| -> Clock {
            let t = world_now() + chrono::Duration::minutes(min);
            Arc::new(move || t)
        };
        let snapshot = |store: &Store| {
            let rows: Vec<(String, String)> = store
                .conn()
                .prepare("SELECT dossier_id, row_hash FROM provincial_dossier ORDER BY 1")
                .unwrap()
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
                .unwrap()
                .collect::<Result<_, _>>()
                .unwrap();
            let marks: Vec<(String, String)> = store
                .conn()
                .prepare("SELECT source, value FROM watermark ORDER BY 1")
                .unwrap()
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
                .unwrap()
                .collect::<Result<_, _>>()
                .unwrap();
            let open: Vec<(i64, String)> = store
                .discrepancies(&DiscrepancyFilter::default())
                .unwrap()
                .into_iter()
                .map(|d| (d.id, d.state))
                .collect();
            (rows, marks, open)
        };
        let clients = Clients::new(&cfg).unwrap();
        let mut store = Store::open(&cfg.service.database).unwrap();
        let r = sync::run_cycle(&mut store, &cfg, &clients, &at(5))
            .await
            .unwrap();
        assert_eq!(r.outcome, Outcome::Ok);
        // Make the next run a sweep (every page) without moving the clock past sync grace.
        store
            .conn()
            .execute("DELETE FROM watermark WHERE source LIKE '%:sweep'", [])
            .unwrap();
        let before = snapshot(&store);
        assert_eq!(before.0.len(), 300);

        // The sweep's page 2 is garbage.
        sims.control.knobs().provincial_page_faults = vec![PageFaultPlan {
            fault,
            page: Some(2),
            times: None,
        }];
        let r = sync::run_cycle(&mut store, &cfg, &clients, &at(6))
            .await
            .unwrap();
        assert_eq!(r.outcome, Outcome::Partial, "{fault:?}");
        let want = match fault {
            PageFault::GarbageRows => "provincial rows could not be read",
            _ => "stopped at page 2",
        };
        assert!(
            r.counts.problems.iter().any(|p| p.contains(want)),
            "{fault:?}: {:?}",
            r.counts.problems
        );
        let after = snapshot(&store);
        assert_eq!(after.0, before.0, "{fault:?}: stored rows unchanged");
        // The watermark stays (skipped rows are read again next run); a sweep with unreadable
        // rows is still recorded as done, so that it is not repeated every cycle.
        let source = format!("provincial:{}", profile.name());
        let mark = |m: &[(String, String)]| m.iter().find(|(s, _)| *s == source).cloned();
        assert_eq!(
            mark(&after.1),
            mark(&before.1),
            "{fault:?}: watermark unchanged"
        );
        if fault != PageFault::GarbageRows {
            assert_eq!(after.1, before.1, "{fault:?}: marks unchanged");
        }
        assert_eq!(after.2, before.2, "{fault:?}: discrepancies unchanged");
        let score = score_against_truth(&store, &sims.world).unwrap();
        assert!(score.missed.is_empty(), "{fault:?}: {:?}", score.missed);
        assert!(
            score.false_positives.is_empty(),
            "{fault:?}: {:?}",
            score.false_positives
        );
    }
}
