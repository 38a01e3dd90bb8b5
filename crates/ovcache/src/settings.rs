//! Which settings `ovcache` reads: the library's, found the way an operator expects.

use std::path::{Path, PathBuf};

use openviper_cache::{CacheSettings, SETTINGS_ENV};

use crate::error::CliError;

/// The file a run in the current folder reads when nothing else names one.
const LOCAL_SETTINGS: &str = "settings.toml";

/// Where the settings came from.
#[derive(Debug, Clone)]
pub(crate) enum Source {
    /// `--settings PATH`, `$OPENVIPER_SETTINGS` or `./settings.toml`.
    File(PathBuf),
    /// None of them: the in-memory default.
    Default,
}

impl std::fmt::Display for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::File(path) => write!(f, "{}", path.display()),
            Self::Default => f.write_str("(no settings file: the in-memory default)"),
        }
    }
}

/// The settings of `--settings`, else of `$OPENVIPER_SETTINGS`, else of `./settings.toml`
/// when present, else the default ones.
pub(crate) fn load(flag: Option<&Path>) -> Result<(CacheSettings, Source), CliError> {
    let path = match flag {
        Some(path) => Some(path.to_owned()),
        None => std::env::var_os(SETTINGS_ENV)
            .filter(|value| !value.is_empty())
            .map(PathBuf::from)
            .or_else(|| {
                let local = PathBuf::from(LOCAL_SETTINGS);
                local.is_file().then_some(local)
            }),
    };
    match path {
        Some(path) => match CacheSettings::from_path(&path) {
            Ok(settings) => Ok((settings, Source::File(path))),
            Err(error) => Err(CliError::Other(error.to_string())),
        },
        None => Ok((CacheSettings::default(), Source::Default)),
    }
}
