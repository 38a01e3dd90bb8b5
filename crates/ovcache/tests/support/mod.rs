//! Running the real `ovcache` binary in a folder of its own.
#![allow(dead_code, unreachable_pub, clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::Output;

use assert_cmd::Command;

/// A folder to run `ovcache` in, holding its settings file.
pub struct Workdir {
    pub dir: tempfile::TempDir,
}

impl Workdir {
    pub fn new() -> Self {
        Self {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Writes `settings.json` with `caches` as its CACHES table; returns its path.
    pub fn settings(&self, caches: serde_json::Value) -> PathBuf {
        let path = self.path().join("settings.json");
        let document = serde_json::json!({ "CACHES": caches });
        std::fs::write(&path, serde_json::to_vec_pretty(&document).unwrap()).unwrap();
        path
    }

    /// `ovcache` in this folder, with no settings variable of the caller's.
    pub fn ovcache(&self) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_ovcache"));
        command
            .current_dir(self.path())
            .env_remove("OPENVIPER_SETTINGS")
            .env_remove("NO_COLOR")
            .env_remove("CLICOLOR_FORCE");
        command
    }

    /// `ovcache --settings <settings.json> --alias <alias> <args>`, run to its end.
    pub fn run(&self, alias: &str, args: &[&str]) -> Outcome {
        let output = self
            .ovcache()
            .arg("--settings")
            .arg(self.path().join("settings.json"))
            .args(["--alias", alias])
            .args(args)
            .output()
            .unwrap();
        Outcome::from(output)
    }
}

/// What one run of `ovcache` printed and how it ended.
#[derive(Debug)]
pub struct Outcome {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl From<Output> for Outcome {
    fn from(output: Output) -> Self {
        Self {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }
}

impl Outcome {
    /// Panics, showing everything, unless it ended with `code`.
    #[track_caller]
    pub fn expect_code(self, code: i32) -> Self {
        assert_eq!(
            self.code, code,
            "exit code; stdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        self
    }

    /// It succeeded; its stdout.
    #[track_caller]
    pub fn ok(self) -> String {
        self.expect_code(0).stdout
    }

    /// Its stdout as JSON.
    #[track_caller]
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!("not JSON ({e}): {:?}; stderr: {}", self.stdout, self.stderr)
        })
    }
}

/// A prefix no other run uses.
pub fn unique_prefix(tag: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    format!("ovcli:{tag}:{}{nanos:x}:", std::process::id())
}
