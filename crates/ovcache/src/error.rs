//! What can end a command, and its exit code.

use openviper_cache::CacheError;

use crate::exit;

/// Why a command failed; `Display` is the one line `ovcache` prints.
#[derive(Debug, thiserror::Error)]
pub(crate) enum CliError {
    #[error("key {key:?} not found in alias {alias:?}")]
    NotFound { alias: String, key: String },
    /// A "no" already printed as the command's answer (`has`): exit 1, no error line.
    #[error("")]
    Answered,
    #[error("{0}")]
    Usage(String),
    #[error("{0}")]
    Refused(String),
    #[error("{0}")]
    ChecksFailed(String),
    #[error("{}", in_alias(.alias, .source))]
    Cache { alias: String, source: CacheError },
    #[error("{0}")]
    Other(String),
}

/// `source` with the alias named, unless its message names it already.
fn in_alias(alias: &str, source: &CacheError) -> String {
    match source {
        CacheError::UnknownAlias(_)
        | CacheError::UnknownBackend { .. }
        | CacheError::Config { .. }
        | CacheError::Settings { .. } => source.to_string(),
        other => format!("alias {alias:?}: {other}"),
    }
}

impl CliError {
    pub(crate) fn exit_code(&self) -> u8 {
        match self {
            Self::NotFound { .. } | Self::Answered => exit::NOT_FOUND,
            Self::Usage(_) => exit::USAGE,
            Self::Refused(_) => exit::REFUSED,
            Self::ChecksFailed(_) => exit::CHECKS_FAILED,
            Self::Cache { .. } | Self::Other(_) => exit::ERROR,
        }
    }
}
