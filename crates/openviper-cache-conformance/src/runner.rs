//! Runs the suite as libtest trials, one per check, named `family::test_x`.

use std::process::ExitCode;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use libtest_mimic::{Arguments, Completion, Failed, Trial};
use openviper_cache_core::ClearScope;

use crate::checks::{ALL, Check, Needs};
use crate::context::{CheckResult, Ctx, Subject};

/// When set to `1`, a subject whose server is not configured fails the suite instead of
/// skipping it (CI sets it, so a server test can never pass by skipping).
pub const REQUIRE_SERVICES_ENV: &str = "OPENVIPER_REQUIRE_SERVICES";

/// How long one check may run before it fails as hung.
const CHECK_TIMEOUT: Duration = Duration::from_secs(120);

pub(crate) fn services_required() -> bool {
    std::env::var(REQUIRE_SERVICES_ENV).is_ok_and(|v| v == "1")
}

/// How long the clean-up after a check may take.
const CLEANUP_TIMEOUT: Duration = Duration::from_secs(60);

/// Runs `check` on `subject` in a fresh context, then removes what it wrote (pass or fail).
async fn run_in_context(check: &Check, subject: Subject) -> CheckResult {
    let ctx = Ctx::new(subject)?;
    let outcome = match tokio::time::timeout(CHECK_TIMEOUT, (check.run)(&ctx)).await {
        Ok(outcome) => outcome,
        Err(_) => Err(format!("hung for {CHECK_TIMEOUT:?}").into()),
    };
    let cleaned = tokio::time::timeout(CLEANUP_TIMEOUT, ctx.clean_up()).await;
    outcome?;
    match cleaned {
        Ok(Ok(())) => Ok(()),
        Ok(Err(error)) => Err(format!("removing what the check wrote failed: {error}").into()),
        Err(_) => Err(format!("removing what the check wrote hung for {CLEANUP_TIMEOUT:?}").into()),
    }
}

/// Runs one check, by name, on `subject` in its own context (and removes what it wrote); for
/// a broken-backend test or a single check of a custom backend.
///
/// ```
/// use openviper_cache_conformance::{run_check, Subject};
/// use openviper_cache_memory as _;
/// # #[tokio::main(flavor = "multi_thread", worker_threads = 2)]
/// # async fn main() {
/// let subject = Subject::new("openviper.cache.InMemoryCache", serde_json::json!({}));
/// run_check(&subject, "atomic::test_incr").await.unwrap();
/// assert!(run_check(&subject, "no::such_check").await.is_err());
/// # }
/// ```
pub async fn run_check(subject: &Subject, name: &str) -> CheckResult {
    let check = ALL
        .iter()
        .find(|c| c.name == name)
        .ok_or_else(|| format!("no check named {name}"))?;
    run_in_context(check, subject.clone()).await
}

/// How one check of [`run_suite`] ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The backend kept the promise.
    Passed,
    /// It did not: why.
    Failed(String),
    /// The backend's capabilities rule the check out: why.
    Skipped(&'static str),
}

/// Runs the whole suite on `subject` inside the caller's runtime (checks in parallel, those
/// that empty the whole store alone) and reports each check as `(family::test_x, outcome)`:
/// for programs that run the suite themselves, such as `ovcache conformance` or a test that
/// checks what the suite leaves behind.
///
/// ```
/// use openviper_cache_conformance::{Outcome, Subject, run_suite};
/// use openviper_cache_memory as _;
/// # #[tokio::main(flavor = "multi_thread", worker_threads = 2)]
/// # async fn main() {
/// let subject = Subject::new("openviper.cache.InMemoryCache", serde_json::json!({}));
/// let report = run_suite(&subject).await;
/// assert!(report.iter().all(|(_, outcome)| !matches!(outcome, Outcome::Failed(_))));
/// # }
/// ```
pub async fn run_suite(subject: &Subject) -> Vec<(&'static str, Outcome)> {
    let caps = match Ctx::new(subject.clone()) {
        Ok(ctx) => ctx.cache().capabilities(),
        Err(err) => {
            let why = format!("cannot build {}: {err}", subject.backend);
            return ALL
                .iter()
                .map(|c| (c.name, Outcome::Failed(why.clone())))
                .collect();
        }
    };
    let clear_is_global = caps.clear == ClearScope::WholeStore;
    let mut report: Vec<(&'static str, Outcome)> = Vec::with_capacity(ALL.len());
    let mut parallel = tokio::task::JoinSet::new();
    let mut alone = Vec::new();
    for check in ALL {
        if let Some(reason) = Needs::skip_reason_of(check.needs, &caps, subject) {
            report.push((check.name, Outcome::Skipped(reason)));
        } else if check.clears && clear_is_global {
            alone.push(*check);
        } else {
            let (check, subject) = (*check, subject.clone());
            parallel.spawn(async move { (check.name, run_in_context(&check, subject).await) });
        }
    }
    let verdict = |result: CheckResult| match result {
        Ok(()) => Outcome::Passed,
        Err(failure) => Outcome::Failed(failure.to_string()),
    };
    while let Some(joined) = parallel.join_next().await {
        match joined {
            Ok((name, result)) => report.push((name, verdict(result))),
            Err(panicked) => report.push(("?", Outcome::Failed(panicked.to_string()))),
        }
    }
    for check in alone {
        report.push((
            check.name,
            verdict(run_in_context(&check, subject.clone()).await),
        ));
    }
    let order = |name: &str| ALL.iter().position(|c| c.name == name);
    report.sort_by_key(|(name, _)| order(name));
    report
}

/// The `main` of a conformance test target for `backend` (its dotted name): every check of
/// [`crate::checks::ALL`] as a trial named `services_<scheme>::family::test_x`, those the
/// backend's capabilities rule out reported as ignored with the reason. When `subject` says the
/// server is not configured, every trial is reported under the same names, as ignored, or as
/// failed when `OPENVIPER_REQUIRE_SERVICES=1`, so `cargo test services_redis` never runs zero
/// trials. Use it through [`conformance_main!`](crate::conformance_main).
pub fn run_main(backend: &str, subject: impl FnOnce() -> Result<Subject, String>) -> ExitCode {
    run_named(Some(backend), subject)
}

/// [`run_main`] for the one-argument form of [`conformance_main!`](crate::conformance_main):
/// the trials are named after the subject's backend, or `services_unknown` when the server is
/// not configured.
pub fn run_main_unnamed(subject: impl FnOnce() -> Result<Subject, String>) -> ExitCode {
    run_named(None, subject)
}

fn run_named(backend: Option<&str>, subject: impl FnOnce() -> Result<Subject, String>) -> ExitCode {
    let args = Arguments::from_args();
    let subject = subject();
    let scheme = match (backend, &subject) {
        (Some(backend), _) => scheme(backend),
        (None, Ok(subject)) => scheme(&subject.backend),
        (None, Err(_)) => "services_unknown".to_owned(),
    };
    let trials = match subject {
        Ok(subject) => trials_for(&scheme, subject),
        Err(reason) if services_required() => failing_trials(
            &scheme,
            &format!("{REQUIRE_SERVICES_ENV}=1 but the server is not configured: {reason}"),
        ),
        Err(reason) => skipped_trials(&scheme, &format!("server not configured: {reason}")),
    };
    libtest_mimic::run(&args, trials).exit_code()
}

fn trials_for(scheme: &str, subject: Subject) -> Vec<Trial> {
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(runtime) => Arc::new(runtime),
        Err(err) => {
            return failing_trials(scheme, &format!("cannot start a tokio runtime: {err}"));
        }
    };
    // Built once to read its capabilities; construction does not touch the network.
    let caps = match Ctx::new(subject.clone()) {
        Ok(ctx) => ctx.cache().capabilities(),
        Err(err) => {
            return failing_trials(scheme, &format!("cannot build {}: {err}", subject.backend));
        }
    };
    // A whole-store clear would wipe the keys of checks running beside it: it runs alone.
    let exclusive = Arc::new(RwLock::new(()));
    let clear_is_global = caps.clear == ClearScope::WholeStore;
    ALL.iter()
        .map(|check| {
            let name = format!("{scheme}::{}", check.name);
            if let Some(reason) = Needs::skip_reason_of(check.needs, &caps, &subject) {
                return Trial::ignorable_test(name, move || Ok(Completion::ignored_with(reason)));
            }
            let (runtime, subject, exclusive) = (
                Arc::clone(&runtime),
                subject.clone(),
                Arc::clone(&exclusive),
            );
            let check: Check = *check;
            Trial::test(name, move || {
                let _shared;
                let _alone;
                if check.clears && clear_is_global {
                    _alone = exclusive.write();
                } else {
                    _shared = exclusive.read();
                }
                runtime
                    .block_on(run_in_context(&check, subject))
                    .map_err(|failure| Failed::from(failure.to_string()))
            })
        })
        .collect()
}

/// `openviper.cache.RedisCache` -> `services_redis`, as trial names' first segment.
fn scheme(backend: &str) -> String {
    let last = backend.rsplit('.').next().unwrap_or(backend);
    let short = last.strip_suffix("Cache").unwrap_or(last);
    format!("services_{}", short.to_ascii_lowercase())
}

fn failing_trials(scheme: &str, message: &str) -> Vec<Trial> {
    ALL.iter()
        .map(|check| {
            let message = message.to_owned();
            Trial::test(format!("{scheme}::{}", check.name), move || {
                Err(Failed::from(message))
            })
        })
        .collect()
}

fn skipped_trials(scheme: &str, reason: &str) -> Vec<Trial> {
    ALL.iter()
        .map(|check| {
            let reason = reason.to_owned();
            Trial::ignorable_test(format!("{scheme}::{}", check.name), move || {
                Ok(Completion::ignored_with(reason))
            })
        })
        .collect()
}
