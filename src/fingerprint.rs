//! Content ids: the SHA-256 of an article's normalised title and body.
//!
//! Contract: pure. Two cleaned articles that differ only in Unicode form,
//! letter case, whitespace, quote or dash style, or invisible characters get
//! the same id; any difference in words gives a different one. The
//! normalisation, in order:
//!
//! 1. Unicode NFKC (compatibility forms folded: `ﬁ` → `fi`, full-width → ASCII);
//! 2. full Unicode case folding (`Straße` → `strasse`);
//! 3. typographic quotes → `'` or `"`, dashes and minus signs → `-`;
//! 4. invisible characters dropped (zero-width, soft hyphen, bidi controls,
//!    BOM, other control and format characters);
//! 5. every run of whitespace → one space, trimmed.
//!
//! The id is lowercase hex of SHA-256 over `title`, a newline, then `body`,
//! each normalised; the newline keeps "a b" + "c" apart from "a" + "b c".

use sha2::{Digest, Sha256};
use unicode_normalization::UnicodeNormalization;

/// The content id of a cleaned article.
pub fn content_id(title: &str, body: &str) -> String {
    let mut hasher = Sha256::new();
    hasher.update(normalize(title).as_bytes());
    hasher.update(b"\n");
    hasher.update(normalize(body).as_bytes());
    to_hex(&hasher.finalize())
}

/// Lowercase hex SHA-256 of raw bytes (the benchmark passthrough's id).
pub fn sha256_hex(bytes: &[u8]) -> String {
    to_hex(&Sha256::digest(bytes))
}

/// The normalised form the content id is computed over.
pub fn normalize(text: &str) -> String {
    let folded = caseless::default_case_fold_str(&text.nfkc().collect::<String>());
    let mut out = String::with_capacity(folded.len());
    let mut pending_space = false;
    for c in folded.chars() {
        let c = match c {
            '\u{2018}' | '\u{2019}' | '\u{201A}' | '\u{201B}' | '\u{2032}' | '\u{02BC}' | '`'
            | '\u{00B4}' => '\'',
            '\u{201C}' | '\u{201D}' | '\u{201E}' | '\u{201F}' | '\u{2033}' | '\u{00AB}'
            | '\u{00BB}' | '\u{2039}' | '\u{203A}' => '"',
            '\u{2010}'..='\u{2015}' | '\u{2212}' | '\u{FE58}' | '\u{FE63}' | '\u{FF0D}' => '-',
            c if is_invisible(c) => continue,
            c => c,
        };
        if c.is_whitespace() {
            pending_space = !out.is_empty();
            continue;
        }
        if pending_space {
            out.push(' ');
            pending_space = false;
        }
        out.push(c);
    }
    out
}

/// Zero-width and format characters, bidi controls, the BOM, the soft
/// hyphen and control characters other than whitespace.
pub fn is_invisible(c: char) -> bool {
    matches!(c,
        '\u{00AD}' | '\u{034F}' | '\u{061C}' | '\u{180E}'
        | '\u{200B}'..='\u{200F}'
        | '\u{202A}'..='\u{202E}'
        | '\u{2060}'..='\u{206F}'
        | '\u{FEFF}'
        | '\u{FE00}'..='\u{FE0F}')
        || (c.is_control() && !c.is_whitespace())
}

fn to_hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(DIGITS[usize::from(b >> 4)] as char);
        out.push(DIGITS[usize::from(b & 0xf)] as char);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn id_is_lowercase_hex_sha256() {
        // sha256("\n") — empty title and body.
        assert_eq!(
            content_id("", ""),
            "01ba4719c80b6fe911b091a7c05124b64eeece964e09c058ef8f9805daca546b"
        );
        let id = content_id("Title", "Body");
        assert_eq!(id.len(), 64);
        assert!(id
            .chars()
            .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()));
    }

    #[test]
    fn normalisation_steps() {
        assert_eq!(normalize("  Hello\t\n  World  "), "hello world");
        assert_eq!(normalize("Straße"), "strasse");
        assert_eq!(normalize("ﬁne ＡＢＣ"), "fine abc");
        assert_eq!(
            normalize("l’État « dit » “x” — y – z"),
            "l'état \" dit \" \"x\" - y - z"
        );
        assert_eq!(
            normalize("in\u{200B}vis\u{00AD}ible\u{202E}\u{FEFF}"),
            "invisible"
        );
        // NFC and NFD spellings of é agree.
        assert_eq!(normalize("Cre\u{0301}pe"), normalize("Cr\u{e9}pe"));
    }

    #[test]
    fn furniture_free_variants_share_an_id() {
        let a = content_id(
            "Poutine à Pyongyang",
            "Le sommet s’ouvre.\n\nDeux “dirigeants”.",
        );
        let b = content_id(
            "POUTINE À PYONGYANG",
            "Le sommet s'ouvre.\r\n\r\n Deux \"dirigeants\".",
        );
        assert_eq!(a, b);
    }

    #[test]
    fn different_words_or_split_give_different_ids() {
        assert_ne!(content_id("a", "b c"), content_id("a", "b d"));
        assert_ne!(content_id("a b", "c"), content_id("a", "b c"));
    }
}
