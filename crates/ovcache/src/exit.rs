//! The exit codes of `ovcache`, for scripts.
//!
//! ```
//! assert_eq!(ovcache::exit::NOT_FOUND, 1);
//! ```

/// `get`, `has` or `ttl` of a key the cache does not hold.
pub const NOT_FOUND: u8 = 1;
/// The command line is wrong (clap's own code), or a `set` VALUE is not JSON.
pub const USAGE: u8 = 2;
/// The settings, the backend or the store failed: the line on stderr says which.
pub const ERROR: u8 = 3;
/// Refused: `clear` not confirmed, or `conformance` on a store whose `clear()` would empty it
/// whole, without `--allow-flush`.
pub const REFUSED: u8 = 4;
/// `check` read back something else than it wrote, or `conformance` had failing checks.
pub const CHECKS_FAILED: u8 = 5;
