//! Where the bench and the servers run: apart, on CPUs of their own, for the length of a bench.
//!
//! On a VM a wake-up between two threads costs about 8 µs when they share a CPU and 60 µs when
//! it crosses CPUs, so an unpinned sequential round against a server measures the scheduler's
//! placement more than the client (two processes of the same code differed by 15 %). With
//! the servers on the last CPU and the bench on the others, every round crosses alike.

use std::process::Command;

use crate::Result;
use crate::services::{alive, all_pid_files, read_pid};

/// Tells the bench which CPUs are its own (it pins its network, file and database groups there).
pub(crate) const CLIENT_CPUS_ENV: &str = "OPENVIPER_BENCH_CLIENT_CPUS";

/// Servers moved to one CPU, and the CPUs to give back when the bench is done.
pub(crate) struct ServersApart {
    pids: Vec<u32>,
    allowed: String,
    /// The CPUs left to the bench, as `taskset` spells them.
    pub(crate) client_cpus: String,
}

/// Moves every running server (and each of its threads) to the last CPU this process may
/// use; `None`, with the reason printed, on a machine of one CPU or without `taskset`.
pub(crate) fn servers_apart() -> Option<ServersApart> {
    let allowed = match allowed_cpus() {
        Ok(allowed) => allowed,
        Err(e) => {
            eprintln!("xtask bench: not pinning: {e}");
            return None;
        }
    };
    let cpus = match parse_cpu_list(&allowed) {
        Some(cpus) if cpus.len() >= 2 => cpus,
        _ => {
            eprintln!("xtask bench: not pinning: one CPU ({allowed})");
            return None;
        }
    };
    let (server_cpu, client) = cpus.split_last()?;
    let client_cpus = client
        .iter()
        .map(usize::to_string)
        .collect::<Vec<_>>()
        .join(",");
    let pids: Vec<u32> = all_pid_files()
        .iter()
        .filter_map(|path| read_pid(path))
        .filter(|pid| alive(*pid))
        .collect();
    let apart = ServersApart {
        pids,
        allowed: allowed.clone(),
        client_cpus,
    };
    for pid in &apart.pids {
        if let Err(e) = pin(*pid, &server_cpu.to_string()) {
            eprintln!("xtask bench: not pinning: {e}");
            apart.give_back();
            return None;
        }
    }
    println!(
        "xtask bench: {} server(s) on CPU {server_cpu}, the bench on CPU {}",
        apart.pids.len(),
        apart.client_cpus
    );
    Some(apart)
}

impl ServersApart {
    /// Lets the servers run on every CPU again.
    pub(crate) fn give_back(&self) {
        for pid in &self.pids {
            if alive(*pid)
                && let Err(e) = pin(*pid, &self.allowed)
            {
                eprintln!("xtask bench: {e}");
            }
        }
    }
}

/// `taskset -a -p -c CPUS PID`: every thread of `pid`, and what they start later.
fn pin(pid: u32, cpus: &str) -> Result {
    let output = Command::new("taskset")
        .args(["-a", "-p", "-c", cpus, &pid.to_string()])
        .output()
        .map_err(|e| format!("cannot run taskset: {e}"))?;
    if output.status.success() {
        Ok(())
    } else {
        Err(format!(
            "taskset -a -p -c {cpus} {pid}: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        ))
    }
}

/// The CPUs this process may run on, as the kernel lists them (`0-1`, `0,2-3`).
fn allowed_cpus() -> Result<String> {
    let status = std::fs::read_to_string("/proc/self/status")
        .map_err(|e| format!("cannot read /proc/self/status: {e}"))?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("Cpus_allowed_list:"))
        .map(|list| list.trim().to_owned())
        .ok_or_else(|| "/proc/self/status has no Cpus_allowed_list".to_owned())
}

/// `0-2,5` → `[0, 1, 2, 5]`; `None` when it is not such a list.
fn parse_cpu_list(list: &str) -> Option<Vec<usize>> {
    let mut cpus = Vec::new();
    for part in list.split(',') {
        match part.split_once('-') {
            Some((first, last)) => cpus.extend(first.parse::<usize>().ok()?..=last.parse().ok()?),
            None => cpus.push(part.parse().ok()?),
        }
    }
    Some(cpus)
}

#[cfg(test)]
mod tests {
    use super::parse_cpu_list;

    #[test]
    fn cpu_lists_are_read_as_the_kernel_writes_them() {
        assert_eq!(parse_cpu_list("0-1"), Some(vec![0, 1]));
        assert_eq!(parse_cpu_list("0,2-3,7"), Some(vec![0, 2, 3, 7]));
        assert_eq!(parse_cpu_list("3"), Some(vec![3]));
        assert_eq!(parse_cpu_list("a-1"), None);
        assert_eq!(parse_cpu_list(""), None);
    }
}
