//! The `CACHES` table of a settings document (TOML or JSON).

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

use serde::Deserialize;

use crate::error::{CacheError, Result};
use crate::redact;
use crate::registry::secret_options_of;

/// The backend `"default"` resolves to when the settings do not define it.
pub const DEFAULT_BACKEND: &str = "openviper.cache.InMemoryCache";

/// The environment variable naming the settings file read when `configure` was not called.
pub const SETTINGS_ENV: &str = "OPENVIPER_SETTINGS";

/// One alias: which backend, with which options.
///
/// Its `Debug` shows the options with every secret as `***` (see
/// [`redact`](crate::redact)).
#[derive(Clone, PartialEq)]
pub struct AliasSettings {
    /// The dotted backend name (`BACKEND`).
    pub backend: String,
    /// The backend's options (`OPTIONS`), an object; empty when absent.
    pub options: serde_json::Value,
}

impl AliasSettings {
    /// The options with every secret shown as `***`.
    ///
    /// ```
    /// use openviper_cache_core::CacheSettings;
    /// let settings = CacheSettings::from_toml_str(r#"
    ///     [CACHES.default]
    ///     BACKEND = "openviper.cache.RedisCache"
    ///     OPTIONS = { url = "redis://app:hunter2@cache:6379/0", password = "hunter2" }
    /// "#).unwrap();
    /// let shown = settings.alias("default").unwrap().redacted_options().to_string();
    /// assert!(!shown.contains("hunter2"), "{shown}");
    /// assert!(!format!("{settings:?}").contains("hunter2"));
    /// ```
    pub fn redacted_options(&self) -> serde_json::Value {
        redact::redact_options(&self.options, secret_options_of(&self.backend))
    }
}

impl fmt::Debug for AliasSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AliasSettings")
            .field("backend", &self.backend)
            .field("options", &self.redacted_options())
            .finish()
    }
}

/// The cache settings: every alias of a document's top-level `CACHES` table.
///
/// Other top-level tables of the document are ignored, so the cache can share the
/// application's settings file. A document without `CACHES` has no aliases, and `"default"`
/// is then an in-memory cache.
///
/// ```
/// use openviper_cache_core::CacheSettings;
///
/// let settings = CacheSettings::from_toml_str(r#"
///     [CACHES.default]
///     BACKEND = "openviper.cache.InMemoryCache"
///     OPTIONS = { ttl = 300, max_entries = 100000 }
/// "#).unwrap();
/// assert_eq!(settings.aliases(), vec!["default"]);
///
/// let json = CacheSettings::from_json_str(
///     r#"{"CACHES": {"sessions": {"BACKEND": "openviper.cache.InMemoryCache"}}}"#,
/// ).unwrap();
/// assert_eq!(json.alias("sessions").unwrap().backend, "openviper.cache.InMemoryCache");
///
/// let err = CacheSettings::from_toml_str("[CACHES.default]\nOPTIONS = {}").unwrap_err();
/// assert_eq!(err.to_string(), "cache settings: alias \"default\" has no BACKEND");
/// ```
#[derive(Clone, Default, PartialEq)]
pub struct CacheSettings {
    caches: BTreeMap<String, AliasSettings>,
}

#[derive(Deserialize)]
struct Document {
    #[serde(rename = "CACHES", default)]
    caches: BTreeMap<String, RawAlias>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAlias {
    #[serde(rename = "BACKEND")]
    backend: Option<String>,
    #[serde(rename = "OPTIONS", default)]
    options: Option<serde_json::Value>,
}

impl CacheSettings {
    /// Parses a TOML document with a top-level `CACHES` table. A number that is not finite
    /// (`nan`, `inf`) in `OPTIONS` is a [`CacheError::Config`] naming the alias and the option:
    /// JSON, and so the options a backend reads, has no such numbers.
    ///
    /// ```
    /// use openviper_cache_core::{CacheError, CacheSettings};
    /// let err = CacheSettings::from_toml_str("[CACHES.default]\nBACKEND = 'x'\nOPTIONS = { ttl = nan }").unwrap_err();
    /// assert!(matches!(err, CacheError::Config { .. }));
    /// assert_eq!(err.to_string(), "cache alias \"default\": OPTIONS.ttl: nan is not a finite number");
    /// ```
    pub fn from_toml_str(text: &str) -> Result<Self> {
        let syntax = |err: toml::de::Error| CacheError::Settings {
            message: format!("invalid TOML: {}", err.message()),
        };
        let table: toml::Table = toml::from_str(text).map_err(syntax)?;
        if let Some(toml::Value::Table(caches)) = table.get("CACHES") {
            for (alias, entry) in caches {
                if let Some(options) = entry.get("OPTIONS") {
                    non_finite(alias, "OPTIONS", options)?;
                }
            }
        }
        let document: Document = toml::Value::Table(table).try_into().map_err(syntax)?;
        Self::from_document(document)
    }

    /// Parses a JSON document with a top-level `CACHES` object.
    pub fn from_json_str(text: &str) -> Result<Self> {
        let document: Document =
            serde_json::from_str(text).map_err(|err| CacheError::Settings {
                message: format!("invalid JSON: {err}"),
            })?;
        Self::from_document(document)
    }

    /// Reads a settings file: JSON when its name ends in `.json`, TOML otherwise.
    pub fn from_path(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|err| CacheError::Settings {
            message: format!("cannot read {}: {err}", path.display()),
        })?;
        let is_json = path
            .extension()
            .is_some_and(|ext| ext.eq_ignore_ascii_case("json"));
        let parsed = if is_json {
            Self::from_json_str(&text)
        } else {
            Self::from_toml_str(&text)
        };
        parsed.map_err(|err| match err {
            CacheError::Settings { message } => CacheError::Settings {
                message: format!("{}: {message}", path.display()),
            },
            other => other,
        })
    }

    /// Adds or replaces one alias; for settings built in code.
    ///
    /// ```
    /// use openviper_cache_core::CacheSettings;
    /// let settings = CacheSettings::default()
    ///     .with_alias("local", "openviper.cache.InMemoryCache", serde_json::json!({"ttl": 60}));
    /// assert_eq!(settings.aliases(), vec!["local"]);
    /// ```
    pub fn with_alias(
        mut self,
        alias: impl Into<String>,
        backend: impl Into<String>,
        options: serde_json::Value,
    ) -> Self {
        self.caches.insert(
            alias.into(),
            AliasSettings {
                backend: backend.into(),
                options,
            },
        );
        self
    }

    /// The aliases the document defines, sorted.
    pub fn aliases(&self) -> Vec<&str> {
        self.caches.keys().map(String::as_str).collect()
    }

    /// One alias's settings.
    pub fn alias(&self, alias: &str) -> Option<&AliasSettings> {
        self.caches.get(alias)
    }

    fn from_document(document: Document) -> Result<Self> {
        let caches = document
            .caches
            .into_iter()
            .map(|(alias, raw)| {
                let backend = raw.backend.ok_or_else(|| CacheError::Settings {
                    message: format!("alias {alias:?} has no BACKEND"),
                })?;
                let options = match raw.options {
                    None | Some(serde_json::Value::Null) => {
                        serde_json::Value::Object(serde_json::Map::new())
                    }
                    Some(object @ serde_json::Value::Object(_)) => object,
                    Some(_) => {
                        return Err(CacheError::Settings {
                            message: format!("alias {alias:?}: OPTIONS must be a table"),
                        });
                    }
                };
                Ok((alias, AliasSettings { backend, options }))
            })
            .collect::<Result<_>>()?;
        Ok(Self { caches })
    }
}

/// `Config` naming the option when `value` holds a number that is not finite.
fn non_finite(alias: &str, path: &str, value: &toml::Value) -> Result<()> {
    match value {
        toml::Value::Float(f) if !f.is_finite() => {
            // As TOML spells them.
            let spelled = match (f.is_nan(), f.is_sign_negative()) {
                (true, _) => "nan",
                (false, false) => "inf",
                (false, true) => "-inf",
            };
            Err(CacheError::config(
                alias,
                format!("{path}: {spelled} is not a finite number"),
            ))
        }
        toml::Value::Table(table) => table
            .iter()
            .try_for_each(|(name, inner)| non_finite(alias, &format!("{path}.{name}"), inner)),
        toml::Value::Array(items) => items
            .iter()
            .enumerate()
            .try_for_each(|(i, inner)| non_finite(alias, &format!("{path}[{i}]"), inner)),
        _ => Ok(()),
    }
}

impl fmt::Debug for CacheSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CacheSettings")
            .field("caches", &self.caches)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_alias_fields_are_rejected_naming_the_alias() {
        let err = CacheSettings::from_toml_str("[CACHES.sessions]\nBACKEND = \"x\"\nOPTION = {}\n")
            .unwrap_err();
        let text = err.to_string();
        assert!(text.contains("OPTION"), "{text}");
        assert!(matches!(err, CacheError::Settings { .. }));
    }

    #[test]
    fn other_top_level_tables_are_ignored() {
        let s = CacheSettings::from_toml_str(
            "DEBUG = true\n[DATABASES.default]\nURL='x'\n[CACHES.a]\nBACKEND='b'\n",
        )
        .unwrap();
        assert_eq!(s.aliases(), vec!["a"]);
        assert_eq!(s.alias("a").unwrap().options, serde_json::json!({}));
        assert_eq!(
            CacheSettings::from_toml_str("").unwrap(),
            CacheSettings::default()
        );
    }

    #[test]
    fn options_must_be_a_table_and_syntax_errors_are_settings_errors() {
        assert!(matches!(
            CacheSettings::from_json_str(r#"{"CACHES":{"a":{"BACKEND":"b","OPTIONS":3}}}"#),
            Err(CacheError::Settings { .. })
        ));
        assert!(matches!(
            CacheSettings::from_toml_str("[CACHES.a\n"),
            Err(CacheError::Settings { .. })
        ));
    }

    #[test]
    fn from_path_picks_the_format_and_names_the_file() {
        let dir = std::env::temp_dir().join(format!("ov-settings-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let json = dir.join("s.json");
        std::fs::write(&json, r#"{"CACHES":{"j":{"BACKEND":"b"}}}"#).unwrap();
        assert_eq!(
            CacheSettings::from_path(&json).unwrap().aliases(),
            vec!["j"]
        );
        let toml = dir.join("s.toml");
        std::fs::write(&toml, "[CACHES.t]\n").unwrap();
        let err = CacheSettings::from_path(&toml).unwrap_err().to_string();
        assert!(
            err.contains("s.toml") && err.contains("\"t\" has no BACKEND"),
            "{err}"
        );
        let missing = CacheSettings::from_path(dir.join("nope.toml"))
            .unwrap_err()
            .to_string();
        assert!(missing.contains("nope.toml"), "{missing}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

#[cfg(test)]
mod secret_tests {
    use super::*;

    #[test]
    fn debug_never_shows_a_secret_whatever_the_url_shape() {
        let settings = CacheSettings::from_toml_str(
            r#"
            [CACHES.a]
            BACKEND = "openviper.cache.RedisCache"
            OPTIONS = { url = "redis:/u:topsecret1@h", password = "topsecret2" }
            [CACHES.b]
            BACKEND = "openviper.cache.DatabaseCache"
            OPTIONS = { url = "postgres://u:topsecret3@h/db", nested = { token = "topsecret4" } }
            "#,
        )
        .unwrap();
        let shown = format!(
            "{settings:?} {:?}",
            crate::CacheManager::new(settings.clone())
        );
        for secret in ["topsecret1", "topsecret2", "topsecret3", "topsecret4"] {
            assert!(!shown.contains(secret), "{secret} in {shown}");
        }
        assert!(shown.contains("postgres://***@h/db"), "{shown}");
    }

    #[test]
    fn non_finite_numbers_are_config_errors_naming_the_option() {
        for (options, option) in [
            ("{ ttl = nan }", "OPTIONS.ttl"),
            ("{ max_bytes = inf }", "OPTIONS.max_bytes"),
            ("{ tls = { x = -inf } }", "OPTIONS.tls.x"),
            ("{ list = [1.0, nan] }", "OPTIONS.list[1]"),
        ] {
            let text = format!("[CACHES.c]\nBACKEND = 'b'\nOPTIONS = {options}\n");
            match CacheSettings::from_toml_str(&text) {
                Err(CacheError::Config { alias, message }) => {
                    assert_eq!(alias, "c");
                    assert!(message.starts_with(option), "{message}");
                }
                other => panic!("{options}: {other:?}"),
            }
        }
    }
}
