//! `ovcache` on the in-memory default (no server, no settings file), and what it reads from
//! where: `--settings`, `OPENVIPER_SETTINGS`, `./settings.toml`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use support::Workdir;

#[test]
fn backends_lists_every_builtin_backend() {
    let work = Workdir::new();
    let out = support::Outcome::from(work.ovcache().arg("backends").output().unwrap()).ok();
    let names: Vec<&str> = out.lines().collect();
    assert_eq!(
        names,
        [
            "openviper.cache.DatabaseCache",
            "openviper.cache.DragonflyCache",
            "openviper.cache.FileCache",
            "openviper.cache.InMemoryCache",
            "openviper.cache.MemcachedCache",
            "openviper.cache.RedisCache",
        ]
    );
    let json = support::Outcome::from(
        work.ovcache()
            .args(["--json", "backends"])
            .output()
            .unwrap(),
    );
    assert_eq!(json.json().as_array().map(Vec::len), Some(6));
}

#[test]
fn without_settings_the_default_alias_is_in_memory() {
    let work = Workdir::new();
    let out = support::Outcome::from(work.ovcache().args(["--json", "aliases"]).output().unwrap());
    assert_eq!(
        out.json(),
        serde_json::json!([{ "alias": "default", "backend": "openviper.cache.InMemoryCache", "options": {} }])
    );
    // A missing key: exit 1, one line naming key and alias, no colour off a terminal.
    let missing = support::Outcome::from(work.ovcache().args(["get", "nope"]).output().unwrap())
        .expect_code(1);
    assert_eq!(missing.stdout, "");
    assert_eq!(
        missing.stderr,
        "ovcache: error: key \"nope\" not found in alias \"default\"\n"
    );
    let has = support::Outcome::from(work.ovcache().args(["has", "nope"]).output().unwrap())
        .expect_code(1);
    assert_eq!(has.stdout, "false\n");
    assert_eq!(has.stderr, "", "the answer is the output: no error line");
    let ttl = support::Outcome::from(work.ovcache().args(["ttl", "nope"]).output().unwrap());
    ttl.expect_code(1);
}

#[test]
fn settings_come_from_the_flag_then_the_variable_then_the_local_file() {
    let work = Workdir::new();
    let toml =
        |alias: &str| format!("[CACHES.{alias}]\nBACKEND = \"openviper.cache.InMemoryCache\"\n");
    std::fs::write(work.path().join("settings.toml"), toml("local")).unwrap();
    std::fs::write(work.path().join("env.toml"), toml("from_env")).unwrap();
    std::fs::write(work.path().join("flag.toml"), toml("from_flag")).unwrap();
    let aliases = |command: &mut assert_cmd::Command| {
        let out = support::Outcome::from(command.args(["--json", "aliases"]).output().unwrap());
        let listed: Vec<String> = out
            .json()
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["alias"].as_str().unwrap().to_owned())
            .collect();
        listed
    };
    assert_eq!(aliases(&mut work.ovcache()), ["default", "local"]);
    assert_eq!(
        aliases(work.ovcache().env("OPENVIPER_SETTINGS", "env.toml")),
        ["default", "from_env"]
    );
    assert_eq!(
        aliases(
            work.ovcache()
                .env("OPENVIPER_SETTINGS", "env.toml")
                .args(["--settings", "flag.toml"])
        ),
        ["default", "from_flag"]
    );
}

#[test]
fn errors_are_one_line_naming_what_to_fix() {
    let work = Workdir::new();
    let run = |args: &[&str]| support::Outcome::from(work.ovcache().args(args).output().unwrap());

    let invalid = run(&["get", "has space"]).expect_code(3);
    assert!(
        invalid.stderr.contains("invalid cache key \"has space\""),
        "{}",
        invalid.stderr
    );
    let unknown = run(&["--alias", "nope", "get", "k"]).expect_code(3);
    assert!(
        unknown.stderr.contains("unknown cache alias \"nope\""),
        "{}",
        unknown.stderr
    );
    let not_json = run(&["set", "k", "hello"]).expect_code(2);
    assert!(not_json.stderr.contains("--string"), "{}", not_json.stderr);
    let bad_ttl = run(&["set", "k", "1", "--ttl", "-5"]).expect_code(2);
    assert!(bad_ttl.stderr.contains("--ttl"), "{}", bad_ttl.stderr);

    std::fs::write(work.path().join("broken.toml"), "[CACHES.default\n").unwrap();
    let broken = run(&["--settings", "broken.toml", "aliases"]).expect_code(3);
    assert!(broken.stderr.contains("broken.toml"), "{}", broken.stderr);
    assert_eq!(broken.stderr.lines().count(), 1, "{}", broken.stderr);
    let missing = run(&["--settings", "absent.toml", "aliases"]).expect_code(3);
    assert!(missing.stderr.contains("absent.toml"), "{}", missing.stderr);

    std::fs::write(
        work.path().join("options.toml"),
        "[CACHES.default]\nBACKEND = \"openviper.cache.InMemoryCache\"\nOPTIONS = { max_entries = \"many\" }\n",
    )
    .unwrap();
    let options = run(&["--settings", "options.toml", "get", "k"]).expect_code(3);
    assert!(
        options.stderr.contains("\"default\"") && options.stderr.contains("max_entries"),
        "{}",
        options.stderr
    );
    for outcome in [&invalid, &unknown, &not_json, &broken, &options] {
        assert!(
            !outcome.stderr.contains('\u{1b}'),
            "colour off a terminal: {:?}",
            outcome.stderr
        );
    }
}

#[test]
fn aliases_never_show_a_secret() {
    let work = Workdir::new();
    work.settings(serde_json::json!({
        "sessions": {
            "BACKEND": "openviper.cache.RedisCache",
            "OPTIONS": { "url": "redis://app:hunter2@cache.internal:6379/0", "password": "hunter2", "key_prefix": "s:" }
        }
    }));
    for args in [&["aliases"][..], &["--json", "aliases"][..]] {
        let out = work.run("default", args).ok();
        assert!(!out.contains("hunter2"), "{out}");
        assert!(
            out.contains("sessions") && out.contains("cache.internal"),
            "{out}"
        );
        assert!(out.contains("***"), "{out}");
    }
}

#[test]
fn check_conformance_and_bench_run_on_the_default() {
    let work = Workdir::new();
    let run = |args: &[&str]| support::Outcome::from(work.ovcache().args(args).output().unwrap());

    let check = run(&["--json", "check"]).expect_code(0).json();
    assert_eq!(check["ok"], true);
    assert_eq!(check["backend"], "openviper.cache.InMemoryCache");
    assert_eq!(check["capabilities"]["clear"], "namespace");
    assert!(check["get_ms"].as_f64().is_some_and(|ms| ms >= 0.0));

    let suite = run(&["--json", "conformance"]).expect_code(0).json();
    assert_eq!(suite["failed"], 0, "{suite:#}");
    assert!(suite["passed"].as_u64().unwrap() >= 30, "{suite:#}");
    let remaining = suite["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "ttl::test_remaining_ttl")
        .unwrap();
    assert_eq!(remaining["outcome"], "passed");

    let bench = run(&["--json", "bench", "--ops", "4000", "--rounds", "2"])
        .expect_code(0)
        .json();
    let modes: Vec<&str> = bench["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["mode"].as_str().unwrap())
        .collect();
    assert_eq!(modes, ["sequential", "64 tasks"]);
    for result in bench["results"].as_array().unwrap() {
        assert!(result["ops_per_sec"].as_f64().unwrap() > 0.0, "{bench}");
        assert!(result["p50_us"].as_f64().unwrap() <= result["p99_us"].as_f64().unwrap());
    }
    assert_eq!(bench["ops_per_round"], 4000);
}

#[test]
fn clear_refuses_without_yes_off_a_terminal() {
    let work = Workdir::new();
    let refused =
        support::Outcome::from(work.ovcache().arg("clear").output().unwrap()).expect_code(4);
    assert!(refused.stderr.contains("--yes"), "{}", refused.stderr);
    let cleared = support::Outcome::from(work.ovcache().args(["clear", "--yes"]).output().unwrap());
    assert_eq!(cleared.ok(), "cleared alias \"default\"\n");
}

#[test]
fn incr_takes_negative_deltas_and_completions_are_printed() {
    let work = Workdir::new();
    let out = support::Outcome::from(work.ovcache().args(["incr", "k", "-3"]).output().unwrap());
    assert_eq!(out.ok(), "-3\n");
    let bash = support::Outcome::from(
        work.ovcache()
            .args(["completions", "bash"])
            .output()
            .unwrap(),
    )
    .ok();
    assert!(
        bash.contains("ovcache") && bash.contains("conformance"),
        "{bash}"
    );
    let help = support::Outcome::from(work.ovcache().arg("--help").output().unwrap()).ok();
    for command in [
        "get",
        "set",
        "delete",
        "has",
        "keys",
        "clear",
        "incr",
        "ttl",
        "backends",
        "aliases",
        "check",
        "conformance",
        "bench",
        "stats",
        "completions",
    ] {
        assert!(
            help.contains(&format!("  {command} ")),
            "{command} missing from --help:\n{help}"
        );
    }
}

#[test]
fn stats_of_the_run_come_from_the_instrumentation_layer() {
    let work = Workdir::new();
    let out = support::Outcome::from(work.ovcache().args(["--stats", "check"]).output().unwrap())
        .expect_code(0);
    // check: a set, a get that hits, a delete; then the backend's gauges (the probe is gone).
    assert!(
        out.stderr.contains(
            "stats of alias \"default\" in this run: 1 hits, 0 misses, 0 errors, 3 operations (hit ratio 100.0 %); now 0 entries"
        ),
        "{}",
        out.stderr
    );
}

#[test]
fn stats_prints_the_counters_and_the_gauges_the_backend_knows() {
    let work = Workdir::new();
    let out = support::Outcome::from(work.ovcache().args(["--json", "stats"]).output().unwrap())
        .expect_code(0);
    assert_eq!(
        out.json(),
        serde_json::json!({
            "alias": "default", "backend": "openviper.cache.InMemoryCache",
            "hits": 0, "misses": 0, "errors": 0, "operations": 0, "hit_ratio": null,
            "entries": 0, "bytes": null, "connections": null, "connections_in_use": null,
        })
    );
    let table =
        support::Outcome::from(work.ovcache().arg("stats").output().unwrap()).expect_code(0);
    assert!(table.stdout.contains("entries\t0"), "{}", table.stdout);
    assert!(
        table.stdout.contains("connections\tunknown"),
        "{}",
        table.stdout
    );
}
