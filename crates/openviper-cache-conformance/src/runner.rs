//! Runs the suite as libtest trials, one per check, named `family::test_x`.

use std::process::ExitCode;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use libtest_mimic::{Arguments, Completion, Failed, Trial};
use openviper_cache_core::ClearScope;

use crate::checks::{ALL, Check};
use crate::context::{CheckResult, Ctx, Subject};

/// When set to `1`, a subject whose server is not configured fails the suite instead of
/// skipping it (CI sets it, so a server test can never pass by skipping).
pub const REQUIRE_SERVICES_ENV: &str = "OPENVIPER_REQUIRE_SERVICES";

/// How long one check may run before it fails as hung.
const CHECK_TIMEOUT: Duration = Duration::from_secs(120);

fn services_required() -> bool {
    std::env::var(REQUIRE_SERVICES_ENV).is_ok_and(|v| v == "1")
}

/// Runs one check, by name, on `subject` in its own context; for a broken-backend test or a
/// single check of a custom backend.
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
    let ctx = Ctx::new(subject.clone())?;
    (check.run)(&ctx).await
}

/// The `main` of a conformance test target: every check of [`crate::checks::ALL`] as a trial,
/// those the backend's capabilities rule out reported as ignored with the reason. Use it
/// through [`conformance_main!`](crate::conformance_main).
pub fn run_main(subject: impl FnOnce() -> Result<Subject, String>) -> ExitCode {
    let args = Arguments::from_args();
    let trials = match subject() {
        Ok(subject) => trials_for(subject),
        Err(reason) if services_required() => failing_trials(&format!(
            "{REQUIRE_SERVICES_ENV}=1 but the server is not configured: {reason}"
        )),
        Err(reason) => skipped_trials(&format!("server not configured: {reason}")),
    };
    libtest_mimic::run(&args, trials).exit_code()
}

fn trials_for(subject: Subject) -> Vec<Trial> {
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(runtime) => Arc::new(runtime),
        Err(err) => return failing_trials(&format!("cannot start a tokio runtime: {err}")),
    };
    // Built once to read its capabilities; construction does not touch the network.
    let caps = match Ctx::new(subject.clone()) {
        Ok(ctx) => ctx.cache().capabilities(),
        Err(err) => return failing_trials(&format!("cannot build {}: {err}", subject.backend)),
    };
    // A whole-store clear would wipe the keys of checks running beside it: it runs alone.
    let exclusive = Arc::new(RwLock::new(()));
    let clear_is_global = caps.clear == ClearScope::WholeStore;
    let has_prefix = subject.prefix_option.is_some();
    ALL.iter()
        .map(|check| {
            let name = format!("{}::{}", scheme(&subject.backend), check.name);
            if let Some(reason) = check.needs.skip_reason(&caps, has_prefix) {
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
                runtime.block_on(async move {
                    let ctx = Ctx::new(subject).map_err(|e| Failed::from(e.to_string()))?;
                    match tokio::time::timeout(CHECK_TIMEOUT, (check.run)(&ctx)).await {
                        Ok(Ok(())) => Ok(()),
                        Ok(Err(failure)) => Err(Failed::from(failure.to_string())),
                        Err(_) => Err(Failed::from(format!("hung for {CHECK_TIMEOUT:?}"))),
                    }
                })
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

fn failing_trials(message: &str) -> Vec<Trial> {
    ALL.iter()
        .map(|check| {
            let message = message.to_owned();
            Trial::test(check.name, move || Err(Failed::from(message)))
        })
        .collect()
}

fn skipped_trials(reason: &str) -> Vec<Trial> {
    ALL.iter()
        .map(|check| {
            let reason = reason.to_owned();
            Trial::ignorable_test(check.name, move || Ok(Completion::ignored_with(reason)))
        })
        .collect()
}
