//! Redis glob patterns for SCAN MATCH: our prefixes are literal, so every glob character in
//! them is escaped.

/// `text` with `*`, `?`, `[`, `]` and `\` escaped, followed by `*`: matches exactly the keys
/// starting with `text`.
pub(crate) fn prefix_pattern(text: &str) -> String {
    let mut pattern = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if matches!(c, '*' | '?' | '[' | ']' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('*');
    pattern
}

#[cfg(test)]
mod tests {
    use super::prefix_pattern;

    #[test]
    fn escapes_every_glob_character() {
        assert_eq!(prefix_pattern("ov:cache:"), "ov:cache:*");
        assert_eq!(prefix_pattern("a*[b]:"), "a\\*\\[b\\]:*");
        assert_eq!(prefix_pattern("q?\\"), "q\\?\\\\*");
        assert_eq!(prefix_pattern(""), "*");
        assert_eq!(prefix_pattern("ключ"), "ключ*");
    }
}
