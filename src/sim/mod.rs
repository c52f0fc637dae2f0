//! Simulators of both portals, rendered from one synthetic world (`world`), served on
//! loopback. Used by the tests, the benchmarks and `tthc-sync demo`/`simulate`.
//!
//! Faults of two sorts: *sync faults* are baked into the world's national view and listed in
//! its ground truth; *transport faults* (errors, expired sessions) are switched on at run time
//! through [`SimControl`].

mod flow;
pub mod habits;
pub mod national;
pub mod provincial;
pub mod records;
pub mod scores;
pub mod stream;
mod truth;
pub mod world;

use std::collections::HashSet;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex};

use chrono::Timelike;
use tokio::task::JoinHandle;

use crate::config::{
    CalendarConfig, Config, NationalConfig, ProvincialConfig, ReconcileConfig, ScoresConfig,
    ServiceConfig,
};
use crate::http::HttpPolicy;
pub use stream::{Generated, WorldStream};
pub use world::{Fault, GroundTruth, World, WorldParams};

/// The user name the national simulator's login accepts.
pub const NATIONAL_USER: &str = "sim-national";
/// The national simulator's password, unless [`Knobs::national_password`] sets another.
pub const NATIONAL_PASSWORD: &str = "sim-national-secret";
/// The user name the provincial simulator accepts.
pub const PROVINCIAL_USER: &str = "sim-provincial";
/// The provincial simulator's password, unless [`Knobs::provincial_password`] sets another.
pub const PROVINCIAL_PASSWORD: &str = "sim-provincial-secret";
/// The `dstcode` the generated config sends to the national simulator (`national.dstcode`).
pub const DSTCODE: &str = "SIM";
/// The province's unit code (`national.madonvi`) the national simulator requires in every
/// call.
pub const MADONVI: &str = "000.00.00.H18";
/// The Keycloak realm the iGate simulator serves.
pub const SIM_REALM: &str = "digo";
/// The OAuth2 client the iGate simulator knows.
pub const SIM_CLIENT_ID: &str = "web-onegate";
/// The `groupId` the OpenCPS simulator expects.
pub const SIM_GROUP_ID: &str = "35";
/// The `tenant` the td simulator expects.
pub const SIM_TENANT: &str = "dienbien";

pub use records::SimProfile;

/// A transport fault the provincial simulator injects into a list reply.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PageFault {
    /// This HTTP status (500, 502, 503…) with an HTML body.
    Status(u16),
    /// HTTP 429 with `Retry-After: <secs>`.
    TooManyRequests {
        /// The `Retry-After` value, in seconds.
        retry_after_secs: u64,
    },
    /// Waits this long before answering normally (set past the client's timeout).
    Slow {
        /// The wait, in milliseconds.
        millis: u64,
    },
    /// Headers, then the connection is cut before any body byte.
    Reset,
    /// Half a JSON body, then the connection is cut.
    Truncated,
    /// HTTP 200 with a body that is not valid JSON.
    InvalidJson,
    /// HTTP 200 with an HTML maintenance page.
    Html200,
    /// HTTP 200, a well-formed page whose rows are garbage (strings, numbers, empty objects,
    /// rows without an id or with unreadable dates).
    GarbageRows,
}

/// When a [`PageFault`] applies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PageFaultPlan {
    /// The fault.
    pub fault: PageFault,
    /// Only on this page (0-based whatever the profile's paging); `None` = any page.
    pub page: Option<u32>,
    /// This many times, then the plan is spent; `None` = every time.
    pub times: Option<u32>,
}

/// A list reply that contradicts itself: HTTP 200 and the envelope of a full page — the same
/// total, `last: false` / `hasNextPage: true` while more pages follow — but fewer rows, as
/// search-backed list APIs and gateways that time out answer under load.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PageAnomaly {
    /// No rows at all.
    Empty,
    /// Only the first `rows` rows of the page.
    Short {
        /// Rows kept.
        rows: usize,
    },
}

/// When a [`PageAnomaly`] applies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PageAnomalyPlan {
    /// The anomaly.
    pub anomaly: PageAnomaly,
    /// Only on this page (0-based whatever the profile's paging); `None` = any page.
    pub page: Option<u32>,
    /// This many times, then the plan is spent; `None` = every time.
    pub times: Option<u32>,
}

/// A transport or portal fault the national simulator injects into a reply.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NationalFault {
    /// This HTTP status (500, 502, 503…) with an HTML body.
    Status(u16),
    /// HTTP 429 with `Retry-After: <secs>`.
    TooManyRequests {
        /// The `Retry-After` value, in seconds.
        retry_after_secs: u64,
    },
    /// Waits this long before answering normally (set past the client's timeout).
    Slow {
        /// The wait, in milliseconds.
        millis: u64,
    },
    /// HTTP 200 with an HTML maintenance page.
    Html200,
    /// HTTP 200 with a body that is not valid JSON.
    InvalidJson,
    /// HTTP 200 with a non-zero `error_code` (a portal-side error, not a session problem).
    ErrorCode,
}

/// How a look-up of one of [`Knobs::national_failing_codes`] fails, every time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CodeFailure {
    /// This HTTP status with an HTML body (500; 502 as a gateway answers for a record that
    /// crashes its backend).
    Status(u16),
    /// No reply for this long, then HTTP 504: longer than the client's request timeout, a
    /// timeout.
    Hang {
        /// The wait, in milliseconds.
        millis: u64,
    },
}

impl Default for CodeFailure {
    fn default() -> Self {
        CodeFailure::Status(500)
    }
}

/// When a [`NationalFault`] applies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NationalFaultPlan {
    /// The fault.
    pub fault: NationalFault,
    /// Only for this service (`login`, `TraCuuHoSo`, `DanhSachHoSo`); `None` = every call.
    pub service: Option<&'static str>,
    /// This many times, then the plan is spent; `None` = every time.
    pub times: Option<u32>,
}

/// Run-time switches of the simulators (transport faults).
#[derive(Debug, Default)]
pub struct Knobs {
    /// Faults of national calls; the first plan that matches a request applies.
    pub national_faults: Vec<NationalFaultPlan>,
    /// The national password the simulator accepts (`None`: [`NATIONAL_PASSWORD`]).
    pub national_password: Option<String>,
    /// The provincial password the simulator accepts (`None`: [`PROVINCIAL_PASSWORD`]).
    pub provincial_password: Option<String>,
    /// `TraCuuHoSo` for these codes fails every time, as `national_failing_as` says (HTTP 500
    /// by default). Each such request is counted as a hit of `failing <code>`.
    pub national_failing_codes: HashSet<String>,
    /// How the look-ups of `national_failing_codes` fail.
    pub national_failing_as: CodeFailure,
    /// Sessions issued before this counter value are refused (forces a re-login).
    pub national_session_floor: u64,
    /// Once this many `TraCuuHoSo` calls were served, every session issued so far expires
    /// (the floor is raised past them), once: a session that expires mid-run.
    pub national_expire_sessions_after: Option<u64>,
    /// Every national call answers HTTP 503.
    pub national_down: bool,
    /// Every provincial call answers HTTP 503.
    pub provincial_down: bool,
    /// Provincial pages at or after this page number answer HTTP 500.
    pub provincial_fail_from_page: Option<u32>,
    /// Faults of the provincial list call; the first plan that matches a request applies.
    pub provincial_page_faults: Vec<PageFaultPlan>,
    /// A provincial token (igate, td) is refused (HTTP 401) after serving this many pages:
    /// a token that expires mid-pull.
    pub provincial_token_pages: Option<u32>,
    /// `(k, n)`: right after page `k` is served, every `n`-th dossier (in the current order)
    /// is modified "now" (world now + 5 minutes), once: rows move between pages mid-pull.
    pub provincial_bump_after_page: Option<(u32, usize)>,
    /// Every page after the first also repeats the last row of the page before it.
    pub provincial_duplicate_rows: bool,
    /// List replies that contradict themselves (an empty or short page in a full page's
    /// envelope); the first plan that matches a request applies.
    pub provincial_page_anomalies: Vec<PageAnomalyPlan>,
    /// Right after page `k` is served, every dossier held back ([`SimControl::held_back`])
    /// appears, modified "now" (world now + 5 minutes), once: rows inserted at the front while
    /// the client pages, the list's total grows.
    pub provincial_release_after_page: Option<u32>,
    /// `(k, n)`: right after page `k` is served, every `n`-th dossier of the pages served so far
    /// (pages `0..=k` of the current order) leaves the list (it is held back), once: the rows
    /// after it move up across the page boundary, the list's total drops.
    pub provincial_remove_after_page: Option<(u32, usize)>,
    /// igate dates are written in UTC with a `+0000` offset.
    pub provincial_utc_offsets: bool,
    /// Every provincial row also carries its applicant's data where no profile list names it,
    /// as an independently written system might ([`provincial::hidden_personal_data`]): an
    /// e-form block, a deeper nesting, an array of people, a field whose text is JSON.
    pub provincial_hidden_personal_data: bool,
    /// `DanhSachHoSo` answers HTTP 500, every time.
    pub national_list_failing: bool,
    /// Applied to every provincial row as it is rendered, with the dossier's index: a vendor
    /// whose rows differ from the profile (a renamed field, a new label or date format, an
    /// extra key), for `tthc-sync probe`'s tests.
    pub provincial_row_edit: Option<fn(usize, &mut serde_json::Value)>,
}

impl Knobs {
    /// The fault for a national call to `service`, spending one use of its plan.
    pub fn take_national_fault(&mut self, service: &str) -> Option<NationalFault> {
        let plan = self
            .national_faults
            .iter_mut()
            .find(|p| p.service.is_none_or(|s| s == service) && p.times != Some(0))?;
        if let Some(t) = plan.times.as_mut() {
            *t -= 1;
        }
        Some(plan.fault)
    }

    /// The national password the simulator accepts now.
    pub fn national_password(&self) -> &str {
        self.national_password
            .as_deref()
            .unwrap_or(NATIONAL_PASSWORD)
    }

    /// The provincial password the simulator accepts now.
    pub fn provincial_password(&self) -> &str {
        self.provincial_password
            .as_deref()
            .unwrap_or(PROVINCIAL_PASSWORD)
    }

    /// The anomaly for a reply to `page`, spending one use of its plan.
    pub fn take_page_anomaly(&mut self, page: u32) -> Option<PageAnomaly> {
        let plan = self
            .provincial_page_anomalies
            .iter_mut()
            .find(|p| p.page.is_none_or(|x| x == page) && p.times != Some(0))?;
        if let Some(t) = plan.times.as_mut() {
            *t -= 1;
        }
        Some(plan.anomaly)
    }

    /// The fault for a request of `page`, spending one use of its plan.
    pub fn take_page_fault(&mut self, page: u32) -> Option<PageFault> {
        let plan = self
            .provincial_page_faults
            .iter_mut()
            .find(|p| p.page.is_none_or(|x| x == page) && p.times != Some(0))?;
        if let Some(t) = plan.times.as_mut() {
            *t -= 1;
        }
        Some(plan.fault)
    }
}

/// Shared state of a running pair of simulators.
#[derive(Debug, Default)]
pub struct SimControl {
    /// The run-time switches; tests set them through [`SimControl::knobs`].
    pub knobs: Mutex<Knobs>,
    /// Requests served, by service (`TraCuuHoSo`, `DanhSachHoSo`, `login`, `page`, `token`,
    /// `fault` for an injected provincial fault, `national_fault` for a national one, `failing
    /// <code>` for each request of a code in `national_failing_codes`).
    pub hits: Mutex<std::collections::BTreeMap<String, u64>>,
    /// Provincial dossiers modified while the simulator ran (id → new last-modified time).
    pub bumped: Mutex<std::collections::HashMap<String, crate::model::LocalTime>>,
    /// Provincial dossiers the list does not show (not created yet, or gone from the list):
    /// see [`Knobs::provincial_release_after_page`], [`Knobs::provincial_remove_after_page`].
    pub held_back: Mutex<HashSet<String>>,
    /// The world as served now, once [`Simulators::advance_to`] rewound it; `None`: the
    /// generated world, at its own now.
    pub served: Mutex<Option<Arc<World>>>,
}

impl SimControl {
    /// Counts one request served of `what` (see [`SimControl::hits`]).
    pub fn hit(&self, what: &str) {
        *self
            .hits
            .lock()
            .expect("hits lock")
            .entry(what.to_string())
            .or_default() += 1;
    }
    /// How many requests of `what` were served so far.
    pub fn hits(&self, what: &str) -> u64 {
        self.hits
            .lock()
            .expect("hits lock")
            .get(what)
            .copied()
            .unwrap_or(0)
    }
    /// The world both simulators serve now: the one [`Simulators::advance_to`] set, else
    /// `generated`.
    pub fn world_now(&self, generated: &Arc<World>) -> Arc<World> {
        self.served
            .lock()
            .expect("served lock")
            .clone()
            .unwrap_or_else(|| Arc::clone(generated))
    }

    /// The switches, locked: set a fault, read a password.
    pub fn knobs(&self) -> std::sync::MutexGuard<'_, Knobs> {
        self.knobs.lock().expect("knobs lock")
    }

    /// A dossier's last-modified time as the provincial simulator now serves it.
    pub fn updated_at(&self, d: &world::SimDossier) -> crate::model::LocalTime {
        self.bumped
            .lock()
            .expect("bumped lock")
            .get(&d.id)
            .copied()
            .unwrap_or_else(|| d.updated_at())
    }

    /// Dossier indices newest-first by last modification (ties by id), as served now: every
    /// dossier that exists at the world's now ([`World::exists`]) and is not held back.
    pub fn order(&self, w: &World) -> Vec<usize> {
        let updated: Vec<_> = w.dossiers.iter().map(|d| self.updated_at(d)).collect();
        let held = self.held_back.lock().expect("held_back lock");
        let mut order: Vec<usize> = (0..w.dossiers.len())
            .filter(|&i| w.exists(&w.dossiers[i]) && !held.contains(&w.dossiers[i].id))
            .collect();
        drop(held);
        order.sort_by(|&a, &b| {
            updated[b]
                .cmp(&updated[a])
                .then_with(|| w.dossiers[a].id.cmp(&w.dossiers[b].id))
        });
        order
    }

    /// Applies the knobs that change the list once page `page` (of `size` rows, served from
    /// `order`) was served: `provincial_bump_after_page`, `provincial_release_after_page`,
    /// `provincial_remove_after_page`.
    fn after_page(&self, w: &World, page: u32, size: usize, order: &[usize]) {
        let (bump, release, remove) = {
            let mut k = self.knobs();
            let take = |knob: &mut Option<(u32, usize)>| match *knob {
                Some((p, n)) if p == page => {
                    *knob = None;
                    Some(n.max(1))
                }
                _ => None,
            };
            let bump = take(&mut k.provincial_bump_after_page);
            let remove = take(&mut k.provincial_remove_after_page);
            let release = k.provincial_release_after_page == Some(page);
            if release {
                k.provincial_release_after_page = None;
            }
            (bump, release, remove)
        };
        let at = w.params.now.with_nanosecond(0).expect("valid") + chrono::Duration::minutes(5);
        if let Some(every) = bump {
            let mut bumped = self.bumped.lock().expect("bumped lock");
            for &i in order.iter().skip(every - 1).step_by(every) {
                bumped.insert(w.dossiers[i].id.clone(), at);
            }
        }
        if release {
            let released: Vec<String> = self
                .held_back
                .lock()
                .expect("held_back lock")
                .drain()
                .collect();
            let mut bumped = self.bumped.lock().expect("bumped lock");
            for id in released {
                bumped.insert(id, at);
            }
        }
        if let Some(every) = remove {
            let served = ((page as usize + 1) * size).min(order.len());
            let mut held = self.held_back.lock().expect("held_back lock");
            for &i in order[..served].iter().skip(every - 1).step_by(every) {
                held.insert(w.dossiers[i].id.clone());
            }
        }
    }
}

/// Both simulators running on loopback.
/// Both stop when this value is dropped.
pub struct Simulators {
    /// The world both serve, with its ground truth.
    pub world: Arc<World>,
    /// The wire format the provincial simulator speaks.
    pub profile: SimProfile,
    /// Their run-time switches and request counts.
    pub control: Arc<SimControl>,
    /// Where the national portal simulator listens.
    pub national_addr: SocketAddr,
    /// Where the provincial system simulator listens.
    pub provincial_addr: SocketAddr,
    tasks: Vec<JoinHandle<()>>,
}

impl Drop for Simulators {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

impl Simulators {
    /// Serves `world` on `127.0.0.1` (port 0 = any free port), the provincial side as igate.
    pub async fn start(
        world: World,
        national_port: u16,
        provincial_port: u16,
    ) -> std::io::Result<Simulators> {
        Simulators::start_with(world, SimProfile::Igate, national_port, provincial_port).await
    }

    /// Serves `world` on `127.0.0.1`, the provincial side in `profile`'s wire format.
    pub async fn start_with(
        world: World,
        profile: SimProfile,
        national_port: u16,
        provincial_port: u16,
    ) -> std::io::Result<Simulators> {
        let world = Arc::new(world);
        let control = Arc::new(SimControl::default());
        let nl = tokio::net::TcpListener::bind(("127.0.0.1", national_port)).await?;
        let pl = tokio::net::TcpListener::bind(("127.0.0.1", provincial_port)).await?;
        let national_addr = nl.local_addr()?;
        let provincial_addr = pl.local_addr()?;
        let n_app = national::router(world.clone(), control.clone());
        let p_app = provincial::router(world.clone(), control.clone(), profile);
        let tasks = vec![
            tokio::spawn(async move {
                let _ = axum::serve(nl, n_app).await;
            }),
            tokio::spawn(async move {
                let _ = axum::serve(pl, p_app).await;
            }),
        ];
        Ok(Simulators {
            world,
            profile,
            control,
            national_addr,
            provincial_addr,
            tasks,
        })
    }

    /// Serves the world as it was at `t` from now on ([`World::as_of`]): both simulators and the
    /// published scores. `t` may move forward or back, up to the world's own now; a world with
    /// sync faults cannot be rewound (the error says so). `world` stays the generated world.
    pub fn advance_to(&self, t: crate::model::LocalTime) -> Result<Arc<World>, String> {
        let served = Arc::new(self.world.as_of(t)?);
        *self.control.served.lock().expect("served lock") = Some(Arc::clone(&served));
        Ok(served)
    }

    /// A configuration pointing at these simulators, with passwords written as files under
    /// `dir` and the database at `db`. Rate limits are off: loopback needs no politeness.
    pub fn config(&self, dir: &Path, db: &Path) -> std::io::Result<Config> {
        let write_secret = |name: &str, value: &str| -> std::io::Result<std::path::PathBuf> {
            let p = dir.join(name);
            std::fs::write(&p, value)?;
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600))?;
            }
            Ok(p)
        };
        let (prov, nat) = {
            let k = self.control.knobs();
            (
                k.provincial_password().to_string(),
                k.national_password().to_string(),
            )
        };
        let prov_pw = write_secret("provincial-password", &prov)?;
        let nat_pw = write_secret("national-password", &nat)?;
        let fast = HttpPolicy {
            connect_timeout_secs: 2.0,
            request_timeout_secs: 5.0,
            max_retries: 2,
            backoff_initial_ms: 5,
            backoff_max_ms: 50,
            rate_per_second: 0.0,
            burst: 1,
            max_in_flight_per_host: 8,
            breaker_cooldown_secs: 1,
            ..HttpPolicy::default()
        };
        Ok(Config {
            service: ServiceConfig {
                database: db.to_path_buf(),
                province_name: "Điện Biên".into(),
            },
            provincial: ProvincialConfig {
                profile: self.profile.name().into(),
                api_url: format!("http://{}", self.provincial_addr),
                sso_url: (self.profile == SimProfile::Igate)
                    .then(|| format!("http://{}", self.provincial_addr)),
                client_id: SIM_CLIENT_ID.into(),
                realm: SIM_REALM.into(),
                username: PROVINCIAL_USER.into(),
                password_file: Some(prov_pw),
                password_credential: None,
                password_env: None,
                page_size: 200,
                overlap_minutes: 10,
                max_pages_per_run: 5000,
                http: fast.clone(),
                profile_file: None,
                group_id: (self.profile == SimProfile::Opencps).then(|| SIM_GROUP_ID.into()),
                tenant: (self.profile == SimProfile::Td).then(|| SIM_TENANT.into()),
                sweep_hours: 24,
            },
            national: NationalConfig {
                adapter_url: format!("http://{}", self.national_addr),
                auth_endpoint: "/api/auth".into(),
                integration_endpoint: "/api/integration".into(),
                dstcode: DSTCODE.into(),
                madonvi: MADONVI.into(),
                username: NATIONAL_USER.into(),
                password_file: Some(nat_pw),
                password_credential: None,
                password_env: None,
                lookups_per_second: 100_000.0,
                lookups_per_cycle: 1_000_000,
                sync_grace_minutes: 60,
                due_soon_hours: 48,
                recheck_hours: 4,
                lookup_backoff_minutes: 15,
                lookup_backoff_max_hours: 24,
                lookup_failing_after_hours: 24,
                list_units: Vec::new(),
                list_days: 30,
                http: fast.clone(),
            },
            reconcile: ReconcileConfig::default(),
            calendar: CalendarConfig::default(),
            daemon: crate::config::DaemonConfig::default(),
            scores: Some(ScoresConfig {
                api: "progress_tree".into(),
                portal_url: format!("http://{}", self.national_addr),
                province_id: Some(scores::PROVINCE_ID),
                legacy_unit_type: 1,
                root_department_id: Some(scores::ROOT_DEPARTMENT_ID.into()),
                page_size: 100,
                http: fast,
            }),
            report: Default::default(),
            web: None,
        })
    }
}
