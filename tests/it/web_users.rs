//! `tthc-sync user add|passwd|remove`: the web page's accounts file, the password from
//! standard input and never from the command line.

use std::io::Write;
use std::process::{Command, Stdio};

use crate::support::config::TestConfig;
use tthc_sync::web::users::{Role, Users};

fn user(cfg: &std::path::Path, args: &[&str], stdin: &str) -> std::process::Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_tthc-sync"))
        .arg("--config")
        .arg(cfg)
        .arg("user")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

#[test]
fn user_add_passwd_remove_manage_the_accounts_file() {
    let dir = tempfile::tempdir().unwrap();
    let users_file = dir.path().join("users.toml");
    let cfg = TestConfig::example()
        .set(
            "service.database",
            dir.path().join("t.db").display().to_string(),
        )
        .set("web.users_file", users_file.display().to_string())
        .write(&dir.path().join("c.toml"));
    let out = user(
        &cfg,
        &["add", "lan", "--role", "operator"],
        "mật khẩu rất dài\n",
    );
    assert!(out.status.success(), "{out:?}");
    let users = Users::load(&users_file).unwrap();
    assert_eq!(
        users.verify("lan", "mật khẩu rất dài"),
        Some(Role::Operator)
    );
    // Too short, or a second account of the same name: refused, the file unchanged.
    let out = user(&cfg, &["add", "binh"], "short\n");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("at least 12"));
    let out = user(&cfg, &["add", "lan"], "another long password\n");
    assert!(!out.status.success());
    let out = user(
        &cfg,
        &["passwd", "lan", "--role", "viewer"],
        "another long password\n",
    );
    assert!(out.status.success(), "{out:?}");
    let users = Users::load(&users_file).unwrap();
    assert_eq!(users.verify("lan", "mật khẩu rất dài"), None);
    assert_eq!(
        users.verify("lan", "another long password"),
        Some(Role::Viewer)
    );
    let out = user(&cfg, &["remove", "lan"], "");
    assert!(out.status.success(), "{out:?}");
    assert!(Users::load(&users_file).unwrap().users.is_empty());
}
