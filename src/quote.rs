//! Quoting text a portal sent into an error message, bounded: a non-2xx body's message, a
//! field value that could not be read. Error texts reach the logs and the run record, so a
//! quote is short and says how long the original was; 2xx bodies are never quoted at all
//! (`http` describes them).

/// `text` with whitespace runs collapsed to one space and control characters dropped, cut
/// to `max_chars` characters; when cut, followed by `… (N characters)`, N the collapsed
/// length. Pure.
pub(crate) fn bounded(text: &str, max_chars: usize) -> String {
    let clean: Vec<&str> = text
        .split(|c: char| c.is_whitespace() || c.is_control())
        .filter(|w| !w.is_empty())
        .collect();
    let clean = clean.join(" ");
    let n = clean.chars().count();
    if n <= max_chars {
        return clean;
    }
    let head: String = clean.chars().take(max_chars).collect();
    format!("{head}… ({n} characters)")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_quote_is_cut_and_says_how_long_it_was() {
        assert_eq!(bounded("  a\n\tb\u{0}c ", 10), "a b c");
        assert_eq!(bounded("Lỗi hệ thống", 12), "Lỗi hệ thống");
        assert_eq!(bounded("Lỗi hệ thống", 3), "Lỗi… (12 characters)");
        let long = "x".repeat(1_000_000);
        assert_eq!(
            bounded(&long, 80),
            format!("{}… (1000000 characters)", &long[..80])
        );
    }
}
