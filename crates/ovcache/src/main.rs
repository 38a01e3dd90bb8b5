//! `ovcache`: see the crate docs (`ovcache --help`, docs/cli.md).

fn main() -> std::process::ExitCode {
    ovcache::run(std::env::args_os())
}
