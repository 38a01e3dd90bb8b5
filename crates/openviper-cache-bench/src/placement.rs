//! The bench's threads on CPUs of their own for the rows that wait on a server or a disk:
//! `cargo xtask bench` moves the servers to the last CPU and names the others in
//! [`CLIENT_CPUS_ENV`]. A wake-up that crosses CPUs costs a VM several times one that does
//! not, so unpinned sequential rounds measure where the scheduler put the threads (see
//! xtask's `placement`).

use std::process::Command;

use crate::report::Table;

/// The CPUs the bench keeps to, as `taskset` spells them; unset, nothing is pinned.
const CLIENT_CPUS_ENV: &str = "OPENVIPER_BENCH_CLIENT_CPUS";

/// Pins every thread of this process (and so the threads and the `ovcache` it starts later)
/// to the client CPUs, and notes it in `table`; the in-process rows run before this, on every
/// CPU.
pub(crate) fn keep_to_client_cpus(table: &mut Table) -> Result<(), String> {
    let Ok(cpus) = std::env::var(CLIENT_CPUS_ENV) else {
        table.notes.push(format!(
            "Placement: not pinned ({CLIENT_CPUS_ENV} is not set; `cargo xtask bench` sets it): sequential rows against a server vary with where the scheduler puts the threads."
        ));
        return Ok(());
    };
    let pid = std::process::id().to_string();
    let output = Command::new("taskset")
        .args(["-a", "-p", "-c", &cpus, &pid])
        .output()
        .map_err(|e| format!("cannot run taskset: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "taskset -a -p -c {cpus} {pid}: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        ));
    }
    table.notes.push(format!(
        "Placement: the servers on the last CPU and the bench (its tokio workers, blocking pool and the `ovcache` beside) on CPU {cpus}, both by `taskset`, for every row after the memory rows, which run on every CPU: so each round's wake-ups cross CPUs alike."
    ));
    Ok(())
}
