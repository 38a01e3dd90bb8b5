//! What this build and these settings offer: backends, aliases, shell completions.

use clap::CommandFactory;
use openviper_cache::{DEFAULT_BACKEND, registered_backends};
use serde_json::json;

use super::Ctx;
use crate::cli::Cli;
use crate::error::CliError;
use crate::output::Out;

pub(crate) fn backends(out: Out) -> Result<(), CliError> {
    let names = registered_backends();
    if out.json {
        return out.json_value(&json!(names));
    }
    for name in names {
        out.line(name)?;
    }
    Ok(())
}

pub(crate) fn aliases(ctx: &Ctx) -> Result<(), CliError> {
    let settings = ctx.manager.settings();
    let rows: Vec<(String, String, serde_json::Value)> = ctx
        .manager
        .aliases()
        .into_iter()
        .map(|alias| match settings.alias(alias) {
            Some(entry) => (
                alias.to_owned(),
                entry.backend.clone(),
                entry.redacted_options(),
            ),
            // Always there: `get_cache("default")` builds it when the settings do not.
            None => (alias.to_owned(), DEFAULT_BACKEND.to_owned(), json!({})),
        })
        .collect();
    if ctx.out.json {
        let listed: Vec<serde_json::Value> = rows
            .into_iter()
            .map(|(alias, backend, options)| {
                json!({ "alias": alias, "backend": backend, "options": options })
            })
            .collect();
        return ctx.out.json_value(&json!(listed));
    }
    if ctx.out.terminal {
        ctx.out.line(&format!("settings: {}", ctx.source))?;
    }
    let rows: Vec<Vec<String>> = rows
        .into_iter()
        .map(|(alias, backend, options)| vec![alias, backend, options.to_string()])
        .collect();
    ctx.out.table(&["alias", "backend", "options"], &rows)
}

pub(crate) fn completions(shell: clap_complete::Shell) -> Result<(), CliError> {
    let mut command = Cli::command();
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut command, "ovcache", &mut script);
    Out::new(false).bytes(&script)
}
