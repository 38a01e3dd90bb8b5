//! The command line, as clap reads it.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Parser, Subcommand};

/// Look inside a cache, fix an entry, empty it, check that its store behaves, and measure it.
///
/// Settings: --settings PATH, else $OPENVIPER_SETTINGS, else ./settings.toml when present,
/// else the in-memory default. Exit codes: 0 ok, 1 not found, 2 usage, 3 error,
/// 4 refused, 5 checks failed.
#[derive(Debug, Parser)]
#[command(name = "ovcache", version, about, long_about = None)]
pub(crate) struct Cli {
    /// The settings file (TOML, or JSON for a .json name).
    #[arg(long, global = true, value_name = "PATH")]
    pub(crate) settings: Option<PathBuf>,
    /// The cache alias to work on.
    #[arg(long, global = true, default_value = openviper_cache::DEFAULT_ALIAS)]
    pub(crate) alias: String,
    /// Print JSON instead of text or tables, for scripts.
    #[arg(long, global = true)]
    pub(crate) json: bool,
    /// After the command, print the alias's counters in this run (hits, misses, errors,
    /// operations) on stderr.
    #[arg(long, global = true)]
    pub(crate) stats: bool,
    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Print the value of KEY as JSON, decoded from the stored form (exit 1 when missing).
    Get {
        key: String,
        /// Write the stored bytes as they are.
        #[arg(long)]
        raw: bool,
    },
    /// Store VALUE (JSON) under KEY in the stored form, so the library reads it with its type.
    Set {
        key: String,
        #[arg(allow_hyphen_values = true)]
        value: String,
        /// Seconds to live (a number > 0, or "forever"); default: the alias default TTL.
        #[arg(long, value_parser = parse_ttl, value_name = "SECONDS", allow_negative_numbers = true)]
        ttl: Option<Duration>,
        /// Store VALUE as a string, without reading it as JSON.
        #[arg(long, conflicts_with = "raw")]
        string: bool,
        /// Store VALUE's bytes as they are, not in the stored form.
        #[arg(long)]
        raw: bool,
    },
    /// Remove one or more keys; prints how many were there.
    Delete {
        #[arg(required = true)]
        keys: Vec<String>,
    },
    /// Whether KEY holds a live entry (exit 1 when it does not).
    Has { key: String },
    /// The alias's keys starting with PREFIX, where the store can list them.
    Keys {
        #[arg(default_value = "")]
        prefix: String,
    },
    /// Remove the alias's entries (asks first on a terminal).
    Clear {
        /// Do not ask; required when stdin is not a terminal.
        #[arg(long, short)]
        yes: bool,
    },
    /// Add DELTA (default 1, may be negative) to the integer under KEY; prints the new value.
    Incr {
        key: String,
        #[arg(default_value_t = 1, allow_negative_numbers = true)]
        delta: i64,
    },
    /// How long KEY has left (exit 1 when missing).
    Ttl { key: String },
    /// Every backend name this build can select.
    Backends,
    /// The configured aliases, their backends and options (secrets masked).
    Aliases,
    /// Connect, write, read back and delete a probe key under a reserved prefix; prints latency.
    Check,
    /// Run the conformance suite against the alias, under a private prefix.
    Conformance {
        /// Run even when the store's clear() empties the whole store (memcached flush_all).
        #[arg(long)]
        allow_flush: bool,
        /// The option that namespaces the backend's keys (built-in backends: known).
        #[arg(long, value_name = "OPTION")]
        prefix_option: Option<String>,
        /// The option that sets the default TTL in seconds ("none": the backend has none).
        #[arg(long, value_name = "OPTION", default_value = "ttl")]
        ttl_option: String,
    },
    /// Run the standard workload (10 000 keys, 100-byte values, 90 % get / 10 % set),
    /// sequentially and from 64 tasks, as `cargo xtask bench` does.
    Bench {
        /// Operations per round (default: 2 000 000 in-process, 60 000 otherwise).
        #[arg(long)]
        ops: Option<u64>,
        /// Rounds per mode; the median counts.
        #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u64).range(1..))]
        rounds: u64,
    },
    /// The alias's counters in this process and what its backend says of itself now
    /// (entries, bytes, connections open and in use), from the instrumentation layer.
    Stats,
    /// Print shell completions.
    Completions { shell: clap_complete::Shell },
}

/// A `--ttl`: seconds (> 0, fractions allowed) or `forever`.
fn parse_ttl(text: &str) -> Result<Duration, String> {
    if text.eq_ignore_ascii_case("forever") {
        return Ok(openviper_cache::FOREVER);
    }
    let seconds: f64 = text
        .parse()
        .map_err(|_| format!("{text:?} is not a number of seconds or \"forever\""))?;
    if !(seconds.is_finite() && seconds > 0.0) {
        return Err(format!(
            "{text:?}: a TTL is a finite number of seconds above 0"
        ));
    }
    Duration::try_from_secs_f64(seconds).map_err(|e| format!("{text:?}: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ttls_are_positive_seconds_or_forever() {
        assert_eq!(parse_ttl("1.5"), Ok(Duration::from_millis(1500)));
        assert_eq!(parse_ttl("Forever"), Ok(openviper_cache::FOREVER));
        for bad in ["0", "-1", "nan", "inf", "soon", ""] {
            assert!(parse_ttl(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_command_line_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
