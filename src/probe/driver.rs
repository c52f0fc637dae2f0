//! The probe's calls: log in to each side, read a sample of provincial pages, look a sample of
//! their national codes up, fetch the published scores of last month. Read-only: the database
//! is never opened. What is kept of the replies is what [`super::analysis`] keeps: counts,
//! key names and shapes.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

use super::analysis::{analyse_rows, shape_of, NationalFindings, ProvincialFindings, ScoresCheck};
use crate::config::{Config, ConfigError};
use crate::model::{is_well_formed_national_code, YearMonth};
use crate::profile::Profile;
use crate::source::national::NationalClient;
use crate::source::provincial::ProvincialClient;
use crate::source::{LoginProblem, SourceError};

/// What to sample.
#[derive(Clone, Debug)]
pub struct ProbeOptions {
    /// Provincial rows to read at most (whole pages of `provincial.page_size`, newest first).
    pub rows: usize,
    /// National look-ups to make at most (at `national.lookups_per_second`).
    pub lookups: usize,
    /// The month whose published scores are checked (default: last month).
    pub scores_month: Option<YearMonth>,
}

impl Default for ProbeOptions {
    fn default() -> Self {
        ProbeOptions {
            rows: 200,
            lookups: 20,
            scores_month: None,
        }
    }
}

/// Whether a side was reached.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub enum Reach {
    /// Logged in and answered.
    Ok,
    /// Could not log in or read: what it points at, and the error (host, status, the portal's
    /// message; never a secret nor a row).
    Failed {
        /// The setting the failure points at.
        problem: LoginProblem,
        /// The error.
        message: String,
    },
    /// Not tried (why).
    Skipped(String),
}

impl Reach {
    fn failed(e: &SourceError) -> Reach {
        Reach::Failed {
            problem: e.login_problem().unwrap_or(LoginProblem::Other),
            message: e.to_string(),
        }
    }
}

/// Everything the probe saw.
#[derive(Clone, Debug, Serialize)]
pub struct ProbeReport {
    /// The profile's name (or file).
    pub profile: String,
    /// Where the profile came from: `built-in <name>` or the file.
    pub profile_source: String,
    /// The provincial side.
    pub provincial: Reach,
    /// Pages read.
    pub pages: usize,
    /// What the sample says about the profile (when rows were read).
    pub sample: Option<ProvincialFindings>,
    /// Every leaf path of the sampled rows (array items as `[]`) with its shapes and counts:
    /// the redacted sample.
    pub shapes: BTreeMap<String, BTreeMap<String, usize>>,
    /// The national side.
    pub national: Reach,
    /// The look-ups' reply shapes (when any was made).
    pub lookups: Option<NationalFindings>,
    /// The published scores check, when `[scores]` is set.
    pub scores: Option<ScoresCheck>,
    /// The profile's TOML text, the base of the suggested profile.
    #[serde(skip)]
    pub profile_text: String,
}

impl ProbeReport {
    /// What cannot be reached, one line each (exit 1 when any).
    pub fn unreachable(&self) -> Vec<String> {
        let mut out = Vec::new();
        for (side, reach) in [
            ("provincial", &self.provincial),
            ("national", &self.national),
        ] {
            if let Reach::Failed { problem, message } = reach {
                out.push(format!("{side}: {} — {message}", problem.advice(side)));
            }
        }
        if let Some(s) = self.scores.as_ref().filter(|s| s.unreachable) {
            out.push(format!(
                "published scores: unreachable — {}",
                s.error.as_deref().unwrap_or("")
            ));
        }
        out
    }

    /// What to adapt in the profile or the config, one line each naming the key (exit 3 when
    /// any).
    pub fn to_adapt(&self) -> Vec<String> {
        let mut out = Vec::new();
        if let Some(s) = &self.sample {
            out.extend(s.to_adapt());
        }
        if let Some(n) = &self.lookups {
            out.extend(n.to_adapt());
        }
        if let Some(s) = &self.scores {
            out.extend(s.to_adapt());
        }
        out
    }

    /// 1 when a side cannot be reached, 3 when the profile or config needs adapting, else 0.
    pub fn exit_code(&self) -> u8 {
        if !self.unreachable().is_empty() {
            1
        } else if !self.to_adapt().is_empty() {
            3
        } else {
            0
        }
    }
}

/// Why the probe could not start: the config (profile, passwords) or a client's settings.
#[derive(Debug, thiserror::Error)]
pub enum ProbeError {
    /// The profile or a password source (the error names the key).
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// A client could not be built (e.g. an unreadable `ca_file`).
    #[error(transparent)]
    Source(#[from] SourceError),
    /// The `--out` directory or a file in it could not be written.
    #[error("{path}: {message}")]
    Write {
        /// The file or directory.
        path: String,
        /// The I/O error.
        message: String,
    },
}

/// Pushes every leaf path of `v` (array items as `[]`) with its shape.
fn leaf_shapes(v: &Value, path: &mut String, out: &mut BTreeMap<String, BTreeMap<String, usize>>) {
    let at = path.len();
    match v {
        Value::Object(map) if !map.is_empty() => {
            for (k, child) in map {
                if at > 0 {
                    path.push('.');
                }
                path.push_str(k);
                leaf_shapes(child, path, out);
                path.truncate(at);
            }
        }
        Value::Array(items) if !items.is_empty() => {
            path.push_str("[]");
            for child in items {
                leaf_shapes(child, path, out);
            }
            path.truncate(at);
        }
        _ => {
            *out.entry(path.clone())
                .or_default()
                .entry(shape_of(v))
                .or_default() += 1
        }
    }
}

/// Up to `n` distinct well-formed national codes of the sample, spread over it.
fn codes_to_look_up(profile: &Profile, rows: &[Value], n: usize) -> Vec<String> {
    let mut codes: Vec<String> = Vec::new();
    for row in rows {
        if let Some(c) = profile.national_code(row) {
            let c = c.trim().to_string();
            if is_well_formed_national_code(&c) && !codes.contains(&c) {
                codes.push(c);
            }
        }
    }
    if codes.len() <= n || n == 0 {
        codes.truncate(n);
        return codes;
    }
    let step = codes.len() as f64 / n as f64;
    (0..n)
        .map(|i| codes[(i as f64 * step) as usize].clone())
        .collect()
}

/// A failed look-up's kind, without its text (which may quote a value).
fn failure_kind(e: &SourceError) -> String {
    match e {
        SourceError::Http(h) => h
            .reason()
            .map(|r| r.to_string())
            .unwrap_or_else(|| "circuit open".into()),
        SourceError::Portal { code, .. } => format!("error_code {code}"),
        SourceError::Reply { .. } => "unreadable reply".into(),
        SourceError::Login { .. } => "login".into(),
        SourceError::Session { .. } => "no session".into(),
    }
}

/// Runs the probe with `cfg`: never opens the database, never keeps a value of a row.
pub async fn probe(cfg: &Config, opts: &ProbeOptions) -> Result<ProbeReport, ProbeError> {
    let profile = cfg.provincial.load_profile()?;
    let (profile_source, profile_text) = match &cfg.provincial.profile_file {
        Some(path) => (
            path.display().to_string(),
            std::fs::read_to_string(path).unwrap_or_default(),
        ),
        None => (
            format!("built-in {}", profile.name),
            Profile::builtin_text(&cfg.provincial.profile)
                .unwrap_or_default()
                .to_string(),
        ),
    };
    let ppw = cfg.provincial.password().resolve("provincial.password_*")?;
    let npw = cfg.national.password().resolve("national.password_*")?;
    let mut report = ProbeReport {
        profile: profile.name.clone(),
        profile_source,
        provincial: Reach::Ok,
        pages: 0,
        sample: None,
        shapes: BTreeMap::new(),
        national: Reach::Ok,
        lookups: None,
        scores: None,
        profile_text,
    };

    // 1-2. The provincial side: log in, read a few pages newest first.
    let client = ProvincialClient::new(&cfg.provincial, profile.clone(), ppw)?;
    let mut rows: Vec<Value> = Vec::new();
    if let Err(e) = client.login_check().await {
        report.provincial = Reach::failed(&e);
    } else {
        let mut n = 0;
        while rows.len() < opts.rows.max(1) {
            match client.page(n).await {
                Ok(page) => {
                    report.pages += 1;
                    let last = page.last || page.rows.is_empty();
                    rows.extend(page.rows);
                    if last {
                        break;
                    }
                    n += 1;
                }
                Err(e) => {
                    report.provincial = Reach::failed(&e);
                    break;
                }
            }
        }
        rows.truncate(opts.rows.max(1));
    }
    if !rows.is_empty() {
        report.sample = Some(analyse_rows(&profile, &rows));
        for row in &rows {
            leaf_shapes(row, &mut String::new(), &mut report.shapes);
        }
    }

    // 3. The national side: log in, look a sample up.
    let national = NationalClient::new(&cfg.national, npw)?;
    if let Err(e) = national.login_check().await {
        report.national = Reach::failed(&e);
    } else {
        let codes = codes_to_look_up(&profile, &rows, opts.lookups);
        if codes.is_empty() {
            report.national = Reach::Skipped(
                "logged in; no well-formed national code in the provincial sample to look up"
                    .into(),
            );
        }
        let mut found = NationalFindings::default();
        for code in &codes {
            let mut params = serde_json::Map::new();
            params.insert("mahoso".into(), code.clone().into());
            match national.call("TraCuuHoSo", code.clone(), params).await {
                Ok(v) => found.record_reply(code, &v),
                Err(e) => {
                    if let Some(p @ (LoginProblem::Madonvi | LoginProblem::Dstcode)) =
                        e.login_problem()
                    {
                        report.national = Reach::Failed {
                            problem: p,
                            message: e.to_string(),
                        };
                        break;
                    }
                    if matches!(e, SourceError::Login { .. })
                        || e.login_problem().is_some()
                        || matches!(&e, SourceError::Http(h) if h.is_circuit_open())
                    {
                        report.national = Reach::failed(&e);
                        break;
                    }
                    found.record_failure(failure_kind(&e));
                }
            }
        }
        if found.asked > 0 {
            report.lookups = Some(found);
        }
    }

    // 4. The published scores of last month.
    if let Some(sc) = &cfg.scores {
        let month = opts
            .scores_month
            .unwrap_or_else(|| YearMonth::of(&crate::clock::local_now()).previous());
        let mut check = ScoresCheck {
            api: sc.api().as_str().to_string(),
            month: month.iso(),
            rows: None,
            province_found: false,
            error: None,
            unreachable: false,
        };
        match crate::scores::fetch_published(sc, month).await {
            Ok((rows, _)) => {
                check.province_found = rows.iter().any(|r| r.is_province);
                check.rows = Some(rows.len());
            }
            Err(crate::scores::ScoresError::Http(e)) => {
                check.unreachable = true;
                check.error = Some(e.to_string());
            }
            Err(e) => check.error = Some(e.to_string()),
        }
        report.scores = Some(check);
    }
    Ok(report)
}
