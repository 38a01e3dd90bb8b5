//! How results reach stdout: JSON for scripts, tables on a terminal, plain lines otherwise.

use std::io::{IsTerminal, Write};

use comfy_table::{ContentArrangement, Table, presets};

use crate::error::CliError;

/// Where and how a command prints.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Out {
    /// `--json`.
    pub(crate) json: bool,
    /// stdout is a terminal: tables and pretty JSON.
    pub(crate) terminal: bool,
}

impl Out {
    pub(crate) fn new(json: bool) -> Self {
        Self {
            json,
            terminal: std::io::stdout().is_terminal(),
        }
    }

    /// Writes `text` and a newline. A closed pipe (`ovcache keys | head`) ends output quietly.
    pub(crate) fn line(&self, text: &str) -> Result<(), CliError> {
        let mut stdout = std::io::stdout().lock();
        match writeln!(stdout, "{text}").and_then(|()| stdout.flush()) {
            Err(error) if error.kind() != std::io::ErrorKind::BrokenPipe => {
                Err(CliError::Other(format!("writing to stdout: {error}")))
            }
            _ => Ok(()),
        }
    }

    /// `text` in `colour`, where stdout takes colour (a terminal, `NO_COLOR` unset).
    pub(crate) fn paint(&self, text: &str, colour: anstyle::AnsiColor) -> String {
        paint(text, colour, &std::io::stdout())
    }

    /// Writes bytes as they are.
    pub(crate) fn bytes(&self, bytes: &[u8]) -> Result<(), CliError> {
        let mut stdout = std::io::stdout().lock();
        match stdout.write_all(bytes).and_then(|()| stdout.flush()) {
            Err(error) if error.kind() != std::io::ErrorKind::BrokenPipe => {
                Err(CliError::Other(format!("writing to stdout: {error}")))
            }
            _ => Ok(()),
        }
    }

    /// Writes `value` as JSON: indented on a terminal, one line otherwise.
    pub(crate) fn json_value(&self, value: &serde_json::Value) -> Result<(), CliError> {
        let text = if self.terminal {
            serde_json::to_string_pretty(value)
        } else {
            serde_json::to_string(value)
        }
        .map_err(|e| CliError::Other(format!("printing JSON: {e}")))?;
        self.line(&text)
    }

    /// Writes rows: a table on a terminal, else tab-separated lines without the header.
    pub(crate) fn table(&self, header: &[&str], rows: &[Vec<String>]) -> Result<(), CliError> {
        if !self.terminal {
            for row in rows {
                self.line(&row.join("\t"))?;
            }
            return Ok(());
        }
        let mut table = Table::new();
        table
            .load_style(presets::UTF8_FULL_CONDENSED)
            .set_content_arrangement(ContentArrangement::Dynamic)
            .set_width(120)
            .set_header(header.iter().copied());
        for row in rows {
            table.add_row(row.iter().map(String::as_str));
        }
        self.line(&table.to_string())
    }
}

/// `text` in bold `colour` when `stream` takes colour: a terminal, with `NO_COLOR` unset
/// (anstream's rules, which also read `CLICOLOR` and `CLICOLOR_FORCE`).
pub(crate) fn paint<S: anstream::stream::RawStream>(
    text: &str,
    colour: anstyle::AnsiColor,
    stream: &S,
) -> String {
    if anstream::AutoStream::choice(stream) == anstream::ColorChoice::Never {
        return text.to_owned();
    }
    let style = anstyle::Style::new().bold().fg_color(Some(colour.into()));
    format!("{style}{text}{style:#}")
}
