//! The table: its name, checked before any I/O, and when a row has expired.

use std::time::SystemTime;

/// The longest table name: PostgreSQL's identifier limit (MySQL's is 64).
const MAX_TABLE_NAME_BYTES: usize = 63;

/// `name` when it is a plain SQL identifier: ASCII letters, digits and `_`, not starting with a
/// digit, 1 to 63 bytes. Anything else (quotes, dots, spaces, `;`) is refused, so the name can
/// be put into statements, where no parameter can stand for it. `Err` names the `table` option.
///
/// ```
/// use openviper_cache_database::validate_table_name;
/// assert_eq!(validate_table_name("openviper_cache_entries"), Ok("openviper_cache_entries"));
/// assert!(validate_table_name("entries; DROP TABLE users").unwrap_err().contains("table"));
/// assert!(validate_table_name("public.entries").is_err());
/// assert!(validate_table_name("1st").is_err());
/// assert!(validate_table_name("").is_err());
/// ```
pub fn validate_table_name(name: &str) -> Result<&str, String> {
    let mut chars = name.chars();
    let plain = match chars.next() {
        Some(first) if first.is_ascii_alphabetic() || first == '_' => {
            chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        }
        _ => false,
    };
    if !plain {
        return Err(format!(
            "table: {name:?} is not a plain identifier (ASCII letters, digits and _, not starting with a digit)"
        ));
    }
    if name.len() > MAX_TABLE_NAME_BYTES {
        return Err(format!(
            "table: {name:?} is {} bytes long, at most {MAX_TABLE_NAME_BYTES}",
            name.len()
        ));
    }
    Ok(name)
}

/// Whether a row whose `expires_at` is this has expired at `now`: `None` never expires.
/// `SystemTime` is an instant, not a wall-clock reading, so no time zone enters the comparison
/// (the server dialects compare `expires_at` with the server's own UTC clock in SQL).
///
/// ```
/// use std::time::{Duration, SystemTime};
/// use openviper_cache_database::is_entry_expired;
/// let now = SystemTime::now();
/// assert!(!is_entry_expired(None, now));
/// assert!(is_entry_expired(Some(now - Duration::from_secs(1)), now));
/// assert!(is_entry_expired(Some(now), now));
/// assert!(!is_entry_expired(Some(now + Duration::from_secs(1)), now));
/// ```
pub fn is_entry_expired(expires_at: Option<SystemTime>, now: SystemTime) -> bool {
    expires_at.is_some_and(|at| at <= now)
}
