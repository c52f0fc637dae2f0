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
            let dir = std::env::var_os("CREDENTIALS_DIRECTORY").ok_or_else(|| {
                invalid(
                    key,
                    format!(
                        "credential `{name}` needs $CREDENTIALS_DIRECTORY \
                         (run under systemd with LoadCredential=)"
                    ),
                )
            })?;
            return read_file(&Path::new(&dir).join(name));
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
