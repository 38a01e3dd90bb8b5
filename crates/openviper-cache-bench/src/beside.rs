//! `ovcache bench` beside the bench's own rows: the CLI's release binary, run on an alias with
//! the backend and options of one row right after that row's group, its figures set against
//! the row's in the same run. `cargo xtask bench` builds the binary and names it in
//! [`OVCACHE_ENV`].

use std::path::{Path, PathBuf};
use std::process::Command;

use openviper_cache_workload::Mix;

use crate::ROUNDS;
use crate::report::Table;

/// The path of the `ovcache` binary to run; without it the comparison is skipped, with a note.
pub(crate) const OVCACHE_ENV: &str = "OPENVIPER_BENCH_OVCACHE";

/// One bench row and the `ovcache bench` figures for the same backend, options and mode.
pub(crate) struct Beside {
    pub(crate) backend: &'static str,
    pub(crate) client: &'static str,
    pub(crate) mode: (bool, Mix),
    /// The row's median ops/s and p50 in the main table.
    pub(crate) bench: (f64, f64),
    /// `ovcache`'s.
    pub(crate) ovcache: (f64, f64),
}

/// Runs `ovcache --json bench --rounds ROUNDS` on an alias of `backend_name` with `options`,
/// `ops` operations a round, right after the group of the row `client` of `backend`, and adds
/// its figures beside that row's.
pub(crate) fn run(
    table: &mut Table,
    (backend, client): (&'static str, &'static str),
    backend_name: &str,
    options: &serde_json::Value,
    ops: u64,
) -> Result<(), String> {
    let Some(binary) = std::env::var_os(OVCACHE_ENV).map(PathBuf::from) else {
        table.notes.push(format!(
            "ovcache bench beside {client}: skipped, {OVCACHE_ENV} is not set (run `cargo xtask bench`)."
        ));
        return Ok(());
    };
    let settings = std::env::temp_dir().join(format!(
        "openviper-bench-ovcache-{}-{backend}.toml",
        std::process::id()
    ));
    std::fs::write(&settings, settings_toml(backend_name, options)?)
        .map_err(|e| format!("{}: {e}", settings.display()))?;
    let outcome = ovcache_bench(&binary, &settings, ops);
    let _ = std::fs::remove_file(&settings);
    for (mode, ovcache) in outcome? {
        let bench = table
            .summary(client, mode)
            .ok_or_else(|| format!("ovcache beside: no bench row {client:?} to set it against"))?;
        table.beside.push(Beside {
            backend,
            client,
            mode,
            bench,
            ovcache,
        });
    }
    Ok(())
}

/// A settings file with one alias, `bench`, of `backend_name` with `options` (an object of
/// strings, numbers, booleans and arrays of them: JSON's spelling of those is TOML's).
fn settings_toml(backend_name: &str, options: &serde_json::Value) -> Result<String, String> {
    let object = options
        .as_object()
        .ok_or("ovcache beside: the options are not an object")?;
    let fields: Vec<String> = object.iter().map(|(k, v)| format!("{k} = {v}")).collect();
    Ok(format!(
        "[CACHES.bench]\nBACKEND = {}\nOPTIONS = {{ {} }}\n",
        serde_json::Value::from(backend_name),
        fields.join(", ")
    ))
}

/// The binary's `(mode, (ops/s, p50 µs))` figures.
type Figures = Vec<((bool, Mix), (f64, f64))>;

fn ovcache_bench(binary: &Path, settings: &Path, ops: u64) -> Result<Figures, String> {
    let mut command = Command::new(binary);
    command
        .arg("--settings")
        .arg(settings)
        .args(["--alias", "bench", "--json", "bench", "--ops"])
        .arg(ops.to_string())
        .arg("--rounds")
        .arg(ROUNDS.to_string());
    let output = command
        .output()
        .map_err(|e| format!("cannot run {}: {e}", binary.display()))?;
    if !output.status.success() {
        return Err(format!(
            "{} bench failed ({}): {}",
            binary.display(),
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        ));
    }
    let report: serde_json::Value = serde_json::from_slice(&output.stdout)
        .map_err(|e| format!("ovcache bench printed no JSON: {e}"))?;
    let results = report["results"]
        .as_array()
        .ok_or("ovcache bench's JSON has no results")?;
    results
        .iter()
        .map(|result| {
            let mode = match result["mode"].as_str() {
                Some("sequential") => (false, Mix::GetSet),
                Some("64 tasks") => (true, Mix::GetSet),
                other => return Err(format!("ovcache bench: unknown mode {other:?}")),
            };
            let figure = |name: &str| {
                result[name]
                    .as_f64()
                    .ok_or_else(|| format!("ovcache bench: a result without {name}"))
            };
            Ok((mode, (figure("ops_per_sec")?, figure("p50_us")?)))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn the_settings_name_one_alias_with_the_rows_options() {
        let options =
            serde_json::json!({ "servers": ["127.0.0.1:1"], "pool_size": 8, "key_prefix": "a\"b" });
        let toml = settings_toml("openviper.cache.MemcachedCache", &options).unwrap();
        let settings = openviper_cache::CacheSettings::from_toml_str(&toml).unwrap();
        let alias = settings.alias("bench").unwrap();
        assert_eq!(alias.backend, "openviper.cache.MemcachedCache");
        assert_eq!(alias.options, options);
    }
}
