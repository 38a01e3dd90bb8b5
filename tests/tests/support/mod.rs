//! Running a test's body in a child process of the test binary, with an environment variable
//! set (the process-wide settings are fixed once per process, and `set_var` is unsafe in
//! edition 2024).
#![allow(dead_code, unreachable_pub, clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;

/// Runs the ignored test `child_test` of this binary with `var=value` and asserts it passed.
pub fn run_child_test(child_test: &str, var: &str, value: &Path) {
    let output = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", child_test, "--ignored", "--nocapture"])
        .env(var, value)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "child failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        stdout.contains("1 passed"),
        "the child ran no test:\n{stdout}"
    );
}
