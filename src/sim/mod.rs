//! Simulators of both portals, rendered from one synthetic world (`world`), served on
//! loopback. Used by the tests, the benchmarks and `tthc-sync demo`/`simulate`.
//!
//! Faults of two sorts: *sync faults* are baked into the world's national view and listed in
//! its ground truth; *transport faults* (errors, expired sessions) are switched on at run time
//! through [`SimControl`].

pub mod national;
pub mod provincial;
pub mod stream;
pub mod world;

use std::collections::HashSet;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex};

use tokio::task::JoinHandle;

use crate::config::{Config, NationalConfig, ProvincialConfig, ReconcileConfig, ServiceConfig};
use crate::http::HttpPolicy;
pub use stream::{Generated, WorldStream};
pub use world::{Fault, GroundTruth, World, WorldParams};

pub const NATIONAL_USER: &str = "sim-national";
pub const NATIONAL_PASSWORD: &str = "sim-national-secret";
pub const PROVINCIAL_USER: &str = "sim-provincial";
pub const PROVINCIAL_PASSWORD: &str = "sim-provincial-secret";
pub const DSTCODE: &str = "SIM";
pub const MADONVI: &str = "000.00.00.H18";

/// Run-time switches of the simulators (transport faults).
#[derive(Debug, Default)]
pub struct Knobs {
    /// `TraCuuHoSo` for these codes answers HTTP 500, every time.
    pub national_failing_codes: HashSet<String>,
    /// Sessions issued before this counter value are refused (forces a re-login).
    pub national_session_floor: u64,
    /// Every national call answers HTTP 503.
    pub national_down: bool,
    /// Every provincial call answers HTTP 503.
    pub provincial_down: bool,
    /// Provincial pages at or after this page number answer HTTP 500.
    pub provincial_fail_from_page: Option<u32>,
}

/// Shared state of a running pair of simulators.
#[derive(Debug, Default)]
pub struct SimControl {
    pub knobs: Mutex<Knobs>,
    /// Requests served, by service (`TraCuuHoSo`, `login`, `page`, `token`).
    pub hits: Mutex<std::collections::BTreeMap<String, u64>>,
}

impl SimControl {
    pub fn hit(&self, what: &str) {
        *self
            .hits
            .lock()
            .expect("hits lock")
            .entry(what.to_string())
            .or_default() += 1;
    }
    pub fn hits(&self, what: &str) -> u64 {
        self.hits
            .lock()
            .expect("hits lock")
            .get(what)
            .copied()
            .unwrap_or(0)
    }
    pub fn knobs(&self) -> std::sync::MutexGuard<'_, Knobs> {
        self.knobs.lock().expect("knobs lock")
    }
}

/// Both simulators running on loopback.
pub struct Simulators {
    pub world: Arc<World>,
    pub control: Arc<SimControl>,
    pub national_addr: SocketAddr,
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
    /// Serves `world` on `127.0.0.1` (port 0 = any free port).
    pub async fn start(
        world: World,
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
        let p_app = provincial::router(world.clone(), control.clone());
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
            control,
            national_addr,
            provincial_addr,
            tasks,
        })
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
        let prov_pw = write_secret("provincial-password", PROVINCIAL_PASSWORD)?;
        let nat_pw = write_secret("national-password", NATIONAL_PASSWORD)?;
        let fast = HttpPolicy {
            connect_timeout_secs: 2.0,
            request_timeout_secs: 5.0,
            max_retries: 2,
            backoff_initial_ms: 5,
            backoff_max_ms: 50,
            rate_per_second: 0.0,
            burst: 1,
            max_in_flight_per_host: 8,
            ..HttpPolicy::default()
        };
        Ok(Config {
            service: ServiceConfig {
                database: db.to_path_buf(),
                province_name: "Điện Biên".into(),
            },
            provincial: ProvincialConfig {
                profile: "igate".into(),
                api_url: format!("http://{}", self.provincial_addr),
                sso_url: Some(format!("http://{}", self.provincial_addr)),
                client_id: "web-onegate".into(),
                username: PROVINCIAL_USER.into(),
                password_file: Some(prov_pw),
                password_credential: None,
                password_env: None,
                page_size: 200,
                overlap_minutes: 10,
                max_pages_per_run: 5000,
                http: fast.clone(),
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
                lookups_per_second: 1000.0,
                lookups_per_cycle: 1_000_000,
                sync_grace_minutes: 60,
                due_soon_hours: 48,
                http: fast,
            },
            reconcile: ReconcileConfig::default(),
        })
    }
}
