//! Where the portals' passwords come from: a file, a systemd credential or an environment
//! variable — never the config file itself.

use std::path::{Path, PathBuf};

use super::{invalid, ConfigError, NationalConfig, ProvincialConfig};

/// Where a secret comes from. Exactly one of the three must be set.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SecretRef {
    /// A file holding the secret (trailing newline ignored).
    pub password_file: Option<PathBuf>,
    /// A systemd credential name (`LoadCredential=NAME:...`), read from `$CREDENTIALS_DIRECTORY`.
    pub password_credential: Option<String>,
    /// An environment variable holding the secret.
    pub password_env: Option<String>,
}

impl SecretRef {
    pub(super) fn validate(&self, key: &str) -> Result<(), ConfigError> {
        let n = [
            self.password_file.is_some(),
            self.password_credential.is_some(),
            self.password_env.is_some(),
        ]
        .iter()
        .filter(|b| **b)
        .count();
        if n != 1 {
            return Err(invalid(
                key,
                "set exactly one of password_file, password_credential, password_env \
                 (passwords are never written in the config file itself)",
            ));
        }
        Ok(())
    }

    /// Reads the secret now. The error names the key and the place, never the secret.
    pub fn resolve(&self, key: &str) -> Result<String, ConfigError> {
        let read_file = |p: &Path| {
            std::fs::read_to_string(p)
                .map(|s| s.trim_end_matches(['\r', '\n']).to_string())
                .map_err(|e| invalid(key, format!("cannot read {}: {e}", p.display())))
        };
        if let Some(p) = &self.password_file {
            private(p).map_err(|why| invalid(&key.replace("password_*", "password_file"), why))?;
            return read_file(p);
        }
        if let Some(name) = &self.password_credential {
            if let Some(dir) = std::env::var_os("CREDENTIALS_DIRECTORY") {
                return read_file(&Path::new(&dir).join(name));
            }
            // Run by hand (check-config, probe, sync --once): the source the installed unit's
            // `LoadCredential=` hands the service.
            let units = unit_files();
            let texts: Vec<String> = units
                .iter()
                .filter_map(|p| std::fs::read_to_string(p).ok())
                .collect();
            let Some(source) = credential_source(&texts, name) else {
                return Err(invalid(
                    key,
                    format!(
                        "credential `{name}` needs $CREDENTIALS_DIRECTORY (set by systemd under \
                         LoadCredential=), and no `LoadCredential={name}:<file>` was found in {} \
                         (set {UNIT_ENV} to the unit file, or use password_file)",
                        units
                            .iter()
                            .map(|p| p.display().to_string())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                ));
            };
            return std::fs::read_to_string(&source)
                .map(|s| s.trim_end_matches(['\r', '\n']).to_string())
                .map_err(|e| {
                    invalid(
                        key,
                        format!(
                            "credential `{name}`: outside the service it is read from the unit's \
                             LoadCredential= source {}, which cannot be read: {e} (the sources \
                             are root-only files: run with sudo, or see docs/first-run.md)",
                            source.display()
                        ),
                    )
                });
        }
        if let Some(var) = &self.password_env {
            return std::env::var(var)
                .map_err(|_| invalid(key, format!("environment variable {var} is not set")));
        }
        Err(invalid(key, "no password source"))
    }
}

/// Refuses a password file that anyone but its owner may read or write (any group or other
/// permission bit, as ssh refuses such a key file): the password would not be secret.
fn private(path: &Path) -> Result<(), String> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let meta =
            std::fs::metadata(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(format!(
                "{} is open to others than its owner (mode {mode:04o}): the password is not \
                 secret; run `chmod 600 {}` (or use password_credential)",
                path.display(),
                path.display()
            ));
        }
    }
    Ok(())
}

/// The environment variable naming the unit file to read `LoadCredential=` from, instead of
/// the installed unit and its drop-ins.
pub const UNIT_ENV: &str = "TTHC_SYNC_UNIT";

/// Where the installed unit lives (docs/deployment.md), then its drop-ins.
const UNIT_FILE: &str = "/etc/systemd/system/tthc-sync.service";

/// The unit files whose `LoadCredential=` lines name a credential's source when tthc-sync runs
/// outside the service: `$TTHC_SYNC_UNIT` when set, else the installed unit and then its
/// drop-ins (`tthc-sync.service.d/*.conf`, in name order, as systemd applies them).
pub fn unit_files() -> Vec<PathBuf> {
    if let Some(p) = std::env::var_os(UNIT_ENV) {
        return vec![PathBuf::from(p)];
    }
    let mut out = vec![PathBuf::from(UNIT_FILE)];
    if let Ok(dir) = std::fs::read_dir(format!("{UNIT_FILE}.d")) {
        let mut drop_ins: Vec<PathBuf> = dir
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "conf"))
            .collect();
        drop_ins.sort();
        out.extend(drop_ins);
    }
    out
}

/// The source file of credential `name` in unit texts (the unit, then its drop-ins): the last
/// `LoadCredential=name:/absolute/path` wins, and an empty `LoadCredential=` clears the ones
/// before it, as systemd reads them. Only absolute paths are sources (a relative one names
/// systemd's credential store, which tthc-sync does not read).
pub fn credential_source(unit_texts: &[String], name: &str) -> Option<PathBuf> {
    let mut found = None;
    for text in unit_texts {
        for line in text.lines() {
            let Some(value) = line.trim().strip_prefix("LoadCredential=") else {
                continue;
            };
            let value = value.trim();
            if value.is_empty() {
                found = None;
                continue;
            }
            if let Some((id, path)) = value.split_once(':') {
                if id == name && path.starts_with('/') {
                    found = Some(PathBuf::from(path));
                }
            }
        }
    }
    found
}

macro_rules! secret_accessor {
    ($t:ty) => {
        impl $t {
            /// Where this side's password comes from.
            pub fn password(&self) -> SecretRef {
                SecretRef {
                    password_file: self.password_file.clone(),
                    password_credential: self.password_credential.clone(),
                    password_env: self.password_env.clone(),
                }
            }
        }
    };
}
secret_accessor!(ProvincialConfig);
secret_accessor!(NationalConfig);
