//! Secrets never shown: the one rule every `Debug`, `Display` and log line of settings and
//! options follows.
//!
//! - An option whose name is a secret (`password`, `passwd`, `secret`, `token`, `api_key`,
//!   anything containing `password` or `secret`, and whatever the backend declares with
//!   `register_backend!(.., secret_options = [..])`) shows as `***`.
//! - In an option that holds an address (its name contains `url`, `uri`, `dsn`, `host`, `nodes`,
//!   `servers` or `endpoint`), and in any string that starts like a URL (`scheme:`), everything
//!   before the last `@` after the scheme shows as `***`, whatever the URL's shape
//!   (`redis://u:pw@h`, `redis:/u:pw@h`, `u:pw@h`), and so does the value of a query parameter
//!   named like a secret (`?password=..`).

use std::borrow::Cow;

/// What a secret shows as.
pub const REDACTED: &str = "***";

/// Option names that are secrets on every backend.
pub const SECRET_OPTIONS: &[&str] = &["password", "passwd", "secret", "token", "api_key", "auth"];

/// Whether an option named `name` is a secret, given the backend's own `extra` secret options.
///
/// ```
/// use openviper_cache_core::redact::is_secret_option;
/// assert!(is_secret_option("password", &[]));
/// assert!(is_secret_option("sentinel_password", &[]));
/// assert!(is_secret_option("endpoint_key", &["endpoint_key"]));
/// assert!(!is_secret_option("key_prefix", &[]));
/// ```
pub fn is_secret_option(name: &str, extra: &[&str]) -> bool {
    let lower = name.to_ascii_lowercase();
    SECRET_OPTIONS.contains(&lower.as_str())
        || lower.contains("password")
        || lower.contains("secret")
        || lower.ends_with("_token")
        || extra.iter().any(|e| e.eq_ignore_ascii_case(name))
}

/// Whether an option named `name` holds a server address, which may carry credentials.
fn is_address_option(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    ["url", "uri", "dsn", "host", "nodes", "servers", "endpoint"]
        .iter()
        .any(|word| lower.contains(word))
}

/// `text` with the credentials of a URL-shaped string replaced by `***` (see the module docs).
///
/// ```
/// use openviper_cache_core::redact::redact_url;
/// assert_eq!(redact_url("redis://u:pw@h:1/0"), "redis://***@h:1/0");
/// assert_eq!(redact_url("redis:/u:pw@h"), "redis:/***@h");
/// assert_eq!(redact_url("u:pw@h"), "***@h");
/// assert_eq!(redact_url("postgres://h/db?user=a&password=pw"), "postgres://h/db?user=a&password=***");
/// assert_eq!(redact_url("redis://h:1"), "redis://h:1");
/// ```
pub fn redact_url(text: &str) -> Cow<'_, str> {
    let mut out = Cow::Borrowed(text);
    if let Some(at) = text.rfind('@') {
        let start = userinfo_start(text, at);
        out = Cow::Owned(format!("{}{REDACTED}{}", &text[..start], &text[at..]));
    }
    if let Some(query) = out.find('?') {
        let (head, params) = out.split_at(query + 1);
        let redacted: Vec<String> = params
            .split('&')
            .map(|pair| match pair.split_once('=') {
                Some((name, _)) if is_secret_option(name, &[]) => format!("{name}={REDACTED}"),
                _ => pair.to_owned(),
            })
            .collect();
        let joined = format!("{head}{}", redacted.join("&"));
        if joined != *out {
            out = Cow::Owned(joined);
        }
    }
    out
}

/// Where the credentials before the `@` at `at` start: after `scheme://`, after `scheme:` and
/// any `/` when what follows still has a `:` or a `/` (`redis:/u:pw@h`), else at the start
/// (`u:pw@h` is a user and a password, not a scheme).
fn userinfo_start(text: &str, at: usize) -> usize {
    if let Some(slashes) = text[..at].find("://") {
        return slashes + 3;
    }
    match scheme_end(text) {
        Some(end) if end <= at && text[end..at].contains([':', '/']) => {
            end + text[end..at].bytes().take_while(|b| *b == b'/').count()
        }
        _ => 0,
    }
}

/// The end of `scheme:` at the start of `text`, if it starts with a URL scheme.
fn scheme_end(text: &str) -> Option<usize> {
    let colon = text.find(':')?;
    let scheme = &text[..colon];
    let valid = scheme
        .bytes()
        .next()
        .is_some_and(|b| b.is_ascii_alphabetic())
        && scheme
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'));
    valid.then_some(colon + 1)
}

/// `options` (an OPTIONS object) with every secret redacted, for `Debug` and messages.
///
/// ```
/// use openviper_cache_core::redact::redact_options;
/// let shown = redact_options(
///     &serde_json::json!({"url": "redis://:pw@h", "password": "pw", "port": 1, "tls": {"token": "t"}}),
///     &[],
/// );
/// assert_eq!(shown, serde_json::json!({"url": "redis://***@h", "password": "***", "port": 1, "tls": {"token": "***"}}));
/// ```
pub fn redact_options(options: &serde_json::Value, extra: &[&str]) -> serde_json::Value {
    redact_value(options, None, extra)
}

fn redact_value(
    value: &serde_json::Value,
    name: Option<&str>,
    extra: &[&str],
) -> serde_json::Value {
    use serde_json::Value;
    if name.is_some_and(|n| is_secret_option(n, extra)) && !value.is_null() {
        return Value::String(REDACTED.to_owned());
    }
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), redact_value(v, Some(k), extra)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(
            items
                .iter()
                .map(|item| redact_value(item, name, extra))
                .collect(),
        ),
        Value::String(text) if name.is_some_and(is_address_option) || looks_like_url(text) => {
            Value::String(redact_url(text).into_owned())
        }
        other => other.clone(),
    }
}

fn looks_like_url(text: &str) -> bool {
    scheme_end(text).is_some() && text.contains('@')
}

/// Every secret string in `options` (secret options' values, the credentials part of
/// addresses), so that a message quoting them can be scrubbed with [`scrub`].
pub fn secrets_in(options: &serde_json::Value, extra: &[&str]) -> Vec<String> {
    let mut found = Vec::new();
    collect_secrets(options, None, extra, &mut found);
    found.retain(|s| !s.is_empty());
    found.sort_by_key(|s| std::cmp::Reverse(s.len()));
    found.dedup();
    found
}

fn collect_secrets(
    value: &serde_json::Value,
    name: Option<&str>,
    extra: &[&str],
    found: &mut Vec<String>,
) {
    use serde_json::Value;
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                collect_secrets(v, Some(k), extra, found);
            }
        }
        Value::Array(items) => {
            for item in items {
                collect_secrets(item, name, extra, found);
            }
        }
        Value::String(text) if name.is_some_and(|n| is_secret_option(n, extra)) => {
            found.push(text.clone());
        }
        Value::Number(n) if name.is_some_and(|n| is_secret_option(n, extra)) => {
            found.push(n.to_string());
        }
        Value::String(text) if name.is_some_and(is_address_option) || looks_like_url(text) => {
            found.extend(url_secrets(text));
        }
        _ => {}
    }
}

/// The credentials a URL-shaped `text` carries: its userinfo and secret query values.
pub fn url_secrets(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    if let Some(at) = text.rfind('@') {
        let userinfo = &text[userinfo_start(text, at)..at];
        found.push(userinfo.to_owned());
        // The password alone too, as clients quote it decoded or on its own.
        if let Some((_, password)) = userinfo.split_once(':') {
            found.push(password.to_owned());
        }
    }
    if let Some((_, params)) = text.split_once('?') {
        for pair in params.split('&') {
            if let Some((name, value)) = pair.split_once('=')
                && is_secret_option(name, &[])
            {
                found.push(value.to_owned());
            }
        }
    }
    found.retain(|s| !s.is_empty());
    found
}

/// `text` with every occurrence of each of `secrets` replaced by `***`: for messages that quote
/// an option's value (a parse error of a URL, a serde error naming the value).
///
/// ```
/// use openviper_cache_core::redact::scrub;
/// assert_eq!(scrub("invalid value: \"hunter2\"", &["hunter2".to_string()]), "invalid value: \"***\"");
/// ```
pub fn scrub(text: &str, secrets: &[String]) -> String {
    let mut out = text.to_owned();
    for secret in secrets.iter().filter(|s| !s.is_empty()) {
        if out.contains(secret.as_str()) {
            out = out.replace(secret.as_str(), REDACTED);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_url_shape_loses_its_credentials() {
        for (url, shown) in [
            ("redis://user:pw@h:6379/0", "redis://***@h:6379/0"),
            ("rediss://:p%40ss@h", "rediss://***@h"),
            ("redis://u:p@ss@h", "redis://***@h"),
            ("redis:/u:pw@h", "redis:/***@h"),
            ("redis:u:pw@h", "redis:***@h"),
            ("u:pw@h:1", "***@h:1"),
            (
                "mysql://u:pw@h/db?password=x&ssl=1",
                "mysql://***@h/db?password=***&ssl=1",
            ),
            ("sqlite::memory:", "sqlite::memory:"),
        ] {
            assert_eq!(redact_url(url), shown, "{url}");
        }
    }

    #[test]
    fn secrets_are_found_for_scrubbing() {
        let options = serde_json::json!({
            "url": "redis://u:pw1@h", "password": "pw2", "nodes": ["x:pw3@h"], "key_prefix": "a@b"
        });
        let secrets = secrets_in(&options, &[]);
        for secret in ["pw1", "pw2", "pw3"] {
            assert!(
                secrets.iter().any(|s| s == secret),
                "{secret} in {secrets:?}"
            );
        }
        let text = scrub("bad url redis://u:pw1@h and pw2", &secrets);
        assert!(!text.contains("pw1") && !text.contains("pw2"), "{text}");
        // A key prefix with an @ is not an address: shown as it is.
        let shown = redact_options(&options, &[]);
        assert_eq!(shown["key_prefix"], "a@b");
        assert_eq!(shown["nodes"][0], "***@h");
    }
}
