//! The web page's accounts (`web.users_file`): one TOML file of names, roles and argon2id
//! password hashes, managed by `tthc-sync user add|passwd|remove` and read at every sign-in.
//!
//! ```toml
//! [[user]]
//! name = "lan.nguyen"
//! role = "operator"
//! hash = "$argon2id$v=19$m=19456,t=2,p=1$…"
//! ```
//!
//! The file is written atomically with mode 0600 (never through a symbolic link); a password
//! is never stored, logged or taken from the command line.

use std::path::{Path, PathBuf};

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use serde::{Deserialize, Serialize};

/// What a signed-in user may do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Reads every page, downloads reports.
    Viewer,
    /// A viewer who may also acknowledge and resolve discrepancies and generate a report.
    Operator,
}

impl Role {
    /// `viewer` or `operator`.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Operator => "operator",
        }
    }

    /// Parses `viewer` or `operator`.
    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "viewer" => Some(Role::Viewer),
            "operator" => Some(Role::Operator),
            _ => None,
        }
    }
}

/// One account.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct User {
    /// The sign-in name (letters, digits, `.`, `_`, `-`; at most 64).
    pub name: String,
    /// What the user may do.
    pub role: Role,
    /// The argon2id hash of the password (PHC string).
    pub hash: String,
}

/// Every account, in the file's order.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Users {
    /// The accounts.
    #[serde(default, rename = "user")]
    pub users: Vec<User>,
}

/// Why the accounts file or a change to it cannot be used; each names the file or the thing
/// to fix.
#[derive(Debug, thiserror::Error)]
pub enum UsersError {
    /// The file could not be read or written.
    #[error("accounts file {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file is not a valid accounts file.
    #[error("accounts file {path}: {message}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// What the parser said.
        message: String,
    },
    /// A name, password or change that cannot be accepted.
    #[error("{0}")]
    Invalid(String),
}

/// The shortest password accepted.
pub const MIN_PASSWORD_CHARS: usize = 12;

/// A hash verified when the name is unknown, so that a sign-in takes as long for an unknown
/// name as for a wrong password (the time does not tell which names exist).
const DUMMY_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$0wq6ySr0gVv0OcbqD1Y8mZp4H7k5i5b0v6G3Qm7pX1M";

/// Checks a sign-in name: 1..=64 ASCII letters, digits, `.`, `_`, `-`.
pub fn check_name(name: &str) -> Result<(), UsersError> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    if ok {
        Ok(())
    } else {
        Err(UsersError::Invalid(format!(
            "`{}` is not a user name: use 1 to 64 letters, digits, `.`, `_` or `-`",
            crate::quote::bounded(name, 64)
        )))
    }
}

/// Checks a new password: at least [`MIN_PASSWORD_CHARS`] characters, not all blank.
pub fn check_password(password: &str) -> Result<(), UsersError> {
    if password.chars().count() < MIN_PASSWORD_CHARS || password.trim().is_empty() {
        return Err(UsersError::Invalid(format!(
            "the password must have at least {MIN_PASSWORD_CHARS} characters"
        )));
    }
    Ok(())
}

/// The argon2id hash (default parameters, a fresh random salt) of `password`.
pub fn hash_password(password: &str) -> Result<String, UsersError> {
    let mut salt = [0u8; 16];
    getrandom::getrandom(&mut salt)
        .map_err(|e| UsersError::Invalid(format!("no randomness for a salt: {e}")))?;
    let salt =
        SaltString::encode_b64(&salt).map_err(|e| UsersError::Invalid(format!("salt: {e}")))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| UsersError::Invalid(format!("hashing the password: {e}")))
}

fn verify_hash(hash: &str, password: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|h| {
        Argon2::default()
            .verify_password(password.as_bytes(), &h)
            .is_ok()
    })
}

impl Users {
    /// Reads the accounts file; a file that does not exist is no account.
    pub fn load(path: &Path) -> Result<Users, UsersError> {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Users::default()),
            Err(source) => {
                return Err(UsersError::Io {
                    path: path.to_path_buf(),
                    source,
                })
            }
        };
        let users: Users = toml::from_str(&text).map_err(|e| UsersError::Parse {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
        for u in &users.users {
            check_name(&u.name).map_err(|e| UsersError::Parse {
                path: path.to_path_buf(),
                message: e.to_string(),
            })?;
            if PasswordHash::new(&u.hash).is_err() {
                return Err(UsersError::Parse {
                    path: path.to_path_buf(),
                    message: format!(
                        "user `{}`: `hash` is not a password hash; set it again with \
                         `tthc-sync user passwd {}`",
                        u.name, u.name
                    ),
                });
            }
        }
        Ok(users)
    }

    /// Writes the accounts file atomically, mode 0600.
    pub fn save(&self, path: &Path) -> Result<(), UsersError> {
        let text = toml::to_string(self).map_err(|e| UsersError::Parse {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
        let text = format!(
            "# tthc-sync web accounts: written by `tthc-sync user`, argon2id hashes.\n{text}"
        );
        crate::atomic_file::write(path, text.as_bytes(), Some(0o600)).map_err(|source| {
            UsersError::Io {
                path: path.to_path_buf(),
                source,
            }
        })
    }

    /// The account named `name`.
    pub fn get(&self, name: &str) -> Option<&User> {
        self.users.iter().find(|u| u.name == name)
    }

    /// Adds an account; refused when the name exists.
    pub fn add(&mut self, name: &str, role: Role, password: &str) -> Result<(), UsersError> {
        check_name(name)?;
        if self.get(name).is_some() {
            return Err(UsersError::Invalid(format!(
                "user `{name}` exists: change its password with `tthc-sync user passwd {name}`"
            )));
        }
        check_password(password)?;
        self.users.push(User {
            name: name.to_string(),
            role,
            hash: hash_password(password)?,
        });
        Ok(())
    }

    /// Sets an existing account's password, and its role when `role` is given.
    pub fn passwd(
        &mut self,
        name: &str,
        role: Option<Role>,
        password: &str,
    ) -> Result<(), UsersError> {
        check_password(password)?;
        let hash = hash_password(password)?;
        let user = self
            .users
            .iter_mut()
            .find(|u| u.name == name)
            .ok_or_else(|| {
                UsersError::Invalid(format!(
                    "no user `{}`: add it with `tthc-sync user add`",
                    crate::quote::bounded(name, 64)
                ))
            })?;
        user.hash = hash;
        if let Some(role) = role {
            user.role = role;
        }
        Ok(())
    }

    /// Removes an account.
    pub fn remove(&mut self, name: &str) -> Result<(), UsersError> {
        let before = self.users.len();
        self.users.retain(|u| u.name != name);
        if self.users.len() == before {
            return Err(UsersError::Invalid(format!(
                "no user `{}`",
                crate::quote::bounded(name, 64)
            )));
        }
        Ok(())
    }

    /// The role of `name` when `password` is its password. An unknown name costs the same
    /// time as a wrong password.
    pub fn verify(&self, name: &str, password: &str) -> Option<Role> {
        match self.get(name) {
            Some(u) => verify_hash(&u.hash, password).then_some(u.role),
            None => {
                let _ = verify_hash(DUMMY_HASH, password);
                None
            }
        }
    }
}

/// Reads a new password for `tthc-sync user add|passwd`, never from the command line: on a
/// terminal it asks twice with echo off (prompts on stderr); otherwise it reads the first line
/// of standard input (`printf '%s\n' "$PW" | tthc-sync user add NAME`).
pub fn read_new_password() -> Result<String, UsersError> {
    use std::io::{BufRead, IsTerminal, Write};
    let stdin = std::io::stdin();
    let io = |source| UsersError::Io {
        path: PathBuf::from("<standard input>"),
        source,
    };
    let read_line = |prompt: Option<&str>| -> Result<String, UsersError> {
        if let Some(p) = prompt {
            eprint!("{p}");
            let _ = std::io::stderr().flush();
        }
        let mut line = String::new();
        stdin.lock().read_line(&mut line).map_err(io)?;
        if prompt.is_some() {
            eprintln!();
        }
        Ok(line.trim_end_matches(['\n', '\r']).to_string())
    };
    if !stdin.is_terminal() {
        let pw = read_line(None)?;
        if pw.is_empty() {
            return Err(UsersError::Invalid(
                "no password on standard input (its first line is the password)".into(),
            ));
        }
        return Ok(pw);
    }
    let _echo_off = EchoOff::new();
    let first = read_line(Some("Mật khẩu mới (password): "))?;
    let second = read_line(Some("Nhập lại (again): "))?;
    if first != second {
        return Err(UsersError::Invalid("the two passwords differ".into()));
    }
    Ok(first)
}

/// Terminal echo off on standard input while it lives (restored on drop).
struct EchoOff(Option<libc::termios>);

impl EchoOff {
    fn new() -> EchoOff {
        // SAFETY: tcgetattr writes a termios for fd 0 into a zeroed struct it is given;
        // tcsetattr reads the one passed. Both only fail (returning -1) when fd 0 is not a
        // terminal, and then nothing is changed.
        unsafe {
            let mut t: libc::termios = std::mem::zeroed();
            if libc::tcgetattr(0, &mut t) != 0 {
                return EchoOff(None);
            }
            let saved = t;
            t.c_lflag &= !libc::ECHO;
            if libc::tcsetattr(0, libc::TCSANOW, &t) != 0 {
                return EchoOff(None);
            }
            EchoOff(Some(saved))
        }
    }
}

impl Drop for EchoOff {
    fn drop(&mut self) {
        if let Some(saved) = &self.0 {
            // SAFETY: restores the attributes read in `new` on the same descriptor.
            unsafe {
                libc::tcsetattr(0, libc::TCSANOW, saved);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn add_verify_passwd_remove_and_the_file_round_trips_with_mode_0600() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("users.toml");
        let mut users = Users::load(&path).unwrap();
        assert!(users.users.is_empty());
        users
            .add("lan.nguyen", Role::Operator, "mật khẩu đủ dài 1")
            .unwrap();
        users.add("binh", Role::Viewer, "another long one").unwrap();
        assert!(users.add("binh", Role::Viewer, "another long one").is_err());
        assert!(users.add("x y", Role::Viewer, "another long one").is_err());
        assert!(users.add("short", Role::Viewer, "short").is_err());
        users.save(&path).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(!text.contains("mật khẩu"), "{text}");
        let mut users = Users::load(&path).unwrap();
        assert_eq!(
            users.verify("lan.nguyen", "mật khẩu đủ dài 1"),
            Some(Role::Operator)
        );
        assert_eq!(users.verify("lan.nguyen", "wrong password!!"), None);
        assert_eq!(users.verify("nobody", "mật khẩu đủ dài 1"), None);
        users
            .passwd("binh", Some(Role::Operator), "a new long password")
            .unwrap();
        assert_eq!(users.verify("binh", "another long one"), None);
        assert_eq!(
            users.verify("binh", "a new long password"),
            Some(Role::Operator)
        );
        users.remove("binh").unwrap();
        assert!(users.remove("binh").is_err());
        assert_eq!(users.verify("binh", "a new long password"), None);
    }

    /// The stand-in hash parses, so an unknown name costs a full argon2 verification.
    #[test]
    fn the_dummy_hash_is_a_real_hash() {
        assert!(PasswordHash::new(DUMMY_HASH).is_ok());
    }

    #[test]
    fn a_broken_file_names_itself_and_what_to_fix() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("users.toml");
        std::fs::write(
            &path,
            "[[user]]\nname = \"a\"\nrole = \"operator\"\nhash = \"plain\"\n",
        )
        .unwrap();
        let e = Users::load(&path).unwrap_err().to_string();
        assert!(
            e.contains("users.toml") && e.contains("user passwd a"),
            "{e}"
        );
        std::fs::write(&path, "[[user]]\nname = \"a\"\nrole = \"admin\"\n").unwrap();
        let e = Users::load(&path).unwrap_err().to_string();
        assert!(e.contains("users.toml"), "{e}");
    }
}
