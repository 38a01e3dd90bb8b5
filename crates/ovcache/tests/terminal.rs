//! `ovcache` on a real pseudo-terminal: `clear` asks before it removes anything, tables are
//! drawn, and colour follows `NO_COLOR`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::process::Command;

use rexpect::process::WaitStatus;
use rexpect::session::{PtySession, spawn_command};
use support::Workdir;

/// `ovcache --settings .. --alias files <args>` on a pseudo-terminal.
fn on_terminal(work: &Workdir, args: &[&str], no_color: bool) -> PtySession {
    let mut command = Command::new(env!("CARGO_BIN_EXE_ovcache"));
    command
        .current_dir(work.path())
        .env_remove("OPENVIPER_SETTINGS")
        .env_remove("CLICOLOR_FORCE")
        .env("TERM", "xterm")
        .arg("--settings")
        .arg(work.path().join("settings.json"))
        .args(["--alias", "files"])
        .args(args);
    if no_color {
        command.env("NO_COLOR", "1");
    } else {
        command.env_remove("NO_COLOR");
    }
    spawn_command(command, Some(30_000)).unwrap()
}

/// `text` as rexpect reads it: one char per byte.
fn as_read(text: &str) -> String {
    text.bytes().map(char::from).collect()
}

fn exit_code(session: &PtySession) -> i32 {
    match session.process().wait().unwrap() {
        WaitStatus::Exited(_, code) => code,
        other => panic!("ovcache did not exit: {other:?}"),
    }
}

fn file_cache() -> Workdir {
    let work = Workdir::new();
    let dir = work.path().join("cache");
    work.settings(serde_json::json!({
        "files": { "BACKEND": "openviper.cache.FileCache", "OPTIONS": { "cache_dir": dir } }
    }));
    work.run("files", &["set", "kept", "1"]).ok();
    work
}

#[test]
fn clear_asks_and_a_no_keeps_everything() {
    let work = file_cache();
    let mut session = on_terminal(&work, &["clear"], false);
    session
        .exp_string(
            "Clear alias \"files\" (openviper.cache.FileCache): this cache's entries only? [y/N]",
        )
        .unwrap();
    session.send_line("n").unwrap();
    let rest = session.exp_eof().unwrap();
    assert!(
        rest.contains("not confirmed: nothing was removed"),
        "{rest:?}"
    );
    assert!(
        rest.contains("\u{1b}["),
        "no colour on a terminal: {rest:?}"
    );
    assert_eq!(exit_code(&session), 4);
    assert_eq!(work.run("files", &["get", "kept"]).ok(), "1\n");
}

#[test]
fn clear_asks_and_a_yes_clears() {
    let work = file_cache();
    let mut session = on_terminal(&work, &["clear"], true);
    session.exp_string("[y/N]").unwrap();
    session.send_line("y").unwrap();
    let rest = session.exp_eof().unwrap();
    assert!(rest.contains("cleared alias \"files\""), "{rest:?}");
    assert_eq!(exit_code(&session), 0);
    work.run("files", &["get", "kept"]).expect_code(1);
}

#[test]
fn no_color_and_tables_on_a_terminal() {
    let work = file_cache();
    let mut session = on_terminal(&work, &["get", "absent"], true);
    let shown = session.exp_eof().unwrap();
    assert!(
        shown.contains("error: key \"absent\" not found"),
        "{shown:?}"
    );
    assert!(
        !shown.contains('\u{1b}'),
        "colour despite NO_COLOR: {shown:?}"
    );
    assert_eq!(exit_code(&session), 1);

    let mut session = on_terminal(&work, &["aliases"], false);
    let table = session.exp_eof().unwrap();
    assert!(
        table.contains(&as_read("┌")) && table.contains(&as_read("│ files")),
        "{table}"
    );
    assert!(table.contains("openviper.cache.FileCache"), "{table}");
}
