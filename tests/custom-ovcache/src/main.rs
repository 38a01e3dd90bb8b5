//! `myapp-ovcache`: `ovcache` with the team's own backend crate linked (docs/cli.md).

use std::process::ExitCode;

use myapp_cache as _; // keeps "myapp.cache.MyCustomCache" registered

fn main() -> ExitCode {
    ovcache::run(std::env::args_os())
}
