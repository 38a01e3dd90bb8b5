//! The conformance suite for openviper-cache backends.
//!
//! Every built-in backend runs it, and so can yours: each check is a public async fn whose doc
//! comment is the promise it checks, grouped by behaviour family ([`checks`]). The runner picks
//! the checks a backend's [`Capabilities`](openviper_cache_core::Capabilities) call for and
//! reports the others as ignored with the reason, so nothing passes silently.
//!
//! A backend's `tests/conformance.rs` (declared with `harness = false` in its Cargo.toml):
//!
//! ```no_run
//! use openviper_cache_conformance::{conformance_main, Subject};
//! use openviper_cache_memory as _; // link the backend's registration
//!
//! const BACKEND: &str = "openviper.cache.InMemoryCache";
//! conformance_main!(BACKEND, || Ok(Subject::new(BACKEND, serde_json::json!({}))));
//! ```
//!
//! Each check builds its own cache through the registry, from the subject's backend name and
//! `OPTIONS` (with a fresh random `key_prefix` where the backend has one), and works on keys
//! under a fresh random namespace, so checks run in parallel on one shared server without
//! touching each other's keys or another program's.
#![deny(missing_docs)]

pub mod checks;
mod context;
mod runner;
pub mod servers;

pub use context::{CheckResult, Ctx, Failure, Subject};
pub use runner::{Outcome, REQUIRE_SERVICES_ENV, run_check, run_main, run_main_unnamed, run_suite};

/// Expands to the `main` of a `harness = false` test target that runs the whole suite on the
/// backend named `$backend` (its dotted name, which names the trials
/// `services_<scheme>::family::test_x`) with the subject returned by `$subject` (a
/// `fn() -> Result<Subject, String>`; `Err` names why the backend's server is not configured,
/// which reports every trial as skipped, or as failed when `OPENVIPER_REQUIRE_SERVICES=1`).
///
/// The one-argument form, `conformance_main!(|| ..)`, still works: the trials are then named
/// after the subject's backend when it builds, and `services_unknown` when it does not.
#[macro_export]
macro_rules! conformance_main {
    ($backend:expr, $subject:expr $(,)?) => {
        fn main() -> ::std::process::ExitCode {
            $crate::run_main($backend, $subject)
        }
    };
    ($subject:expr $(,)?) => {
        fn main() -> ::std::process::ExitCode {
            $crate::run_main_unnamed($subject)
        }
    };
}
