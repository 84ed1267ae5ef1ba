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

use caseless::Caseless;
use sha2::{Digest, Sha256};
use unicode_normalization::{is_nfkc_quick, IsNormalized, UnicodeNormalization};

/// The content id of a cleaned article.
pub fn content_id(title: &str, body: &str) -> String {
    let mut normalized = String::with_capacity(title.len() + body.len() + 1);
    normalize_into(title, &mut normalized);
    normalized.push('\n');
    normalize_into(body, &mut normalized);
    sha256_hex(normalized.as_bytes())
}

/// Lowercase hex SHA-256 of raw bytes (the benchmark passthrough's id).
pub fn sha256_hex(bytes: &[u8]) -> String {
    to_hex(&Sha256::digest(bytes))
}

/// The normalised form the content id is computed over.
pub fn normalize(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    normalize_into(text, &mut out);
    out
}

/// Appends the normalised form of `text` to `out`, in one pass, word by word.
/// NFKC never reaches across an ASCII space or control whitespace (no
/// composition or reordering crosses a starter that composes with nothing), so
/// each word is normalised alone: ASCII words are lowercased in bulk, others go
/// through NFKC only when the quick check cannot vouch for them (a "…" or a
/// no-break space), and through the Unicode case-folding tables.
fn normalize_into(text: &str, out: &mut String) {
    let mut sink = Normalized {
        start: out.len(),
        pending_space: false,
        out,
    };
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if is_ascii_space(bytes[i]) {
            sink.space();
            i += 1;
            continue;
        }
        let word_start = i;
        let mut ascii = true;
        while i < bytes.len() && !is_ascii_space(bytes[i]) {
            ascii &= bytes[i].is_ascii();
            i += 1;
        }
        // Both ends sit at an ASCII byte or at an end of `text`: char boundaries.
        let word = &text[word_start..i];
        if ascii {
            sink.ascii_word(word);
        } else if is_nfkc_quick(word.chars()) == IsNormalized::Yes {
            word.chars().for_each(|c| sink.fold(c));
        } else {
            word.nfkc().for_each(|c| sink.fold(c));
        }
    }
}

fn is_ascii_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

/// Steps 2-5 of the normalisation, one character at a time.
struct Normalized<'o> {
    out: &'o mut String,
    /// Where this text's output starts in `out` (no leading space).
    start: usize,
    pending_space: bool,
}

impl Normalized<'_> {
    fn space(&mut self) {
        self.pending_space = self.out.len() > self.start;
    }

    fn ascii_word(&mut self, word: &str) {
        if word.is_empty() {
            return;
        }
        if word.bytes().any(|b| b < 0x20 || b == 0x7f || b == b'`') {
            word.bytes().for_each(|b| self.ascii(b));
            return;
        }
        if self.pending_space {
            self.out.push(' ');
            self.pending_space = false;
        }
        let at = self.out.len();
        self.out.push_str(word);
        if let Some(copied) = self.out.get_mut(at..) {
            copied.make_ascii_lowercase();
        }
    }

    fn ascii(&mut self, b: u8) {
        match b {
            b if is_ascii_space(b) => self.space(),
            0..=0x1f | 0x7f => {}
            b'`' => self.emit('\''),
            _ => self.emit(char::from(b.to_ascii_lowercase())),
        }
    }

    fn fold(&mut self, c: char) {
        if c.is_ascii() {
            // `c` is ASCII, so the cast is exact.
            self.ascii(c as u8);
        } else {
            for f in std::iter::once(c).default_case_fold() {
                self.push(f);
            }
        }
    }

    fn push(&mut self, c: char) {
        if is_invisible(c) {
            return;
        }
        let c = plain_punctuation(c);
        if c.is_whitespace() {
            self.space();
            return;
        }
        self.emit(c);
    }

    fn emit(&mut self, c: char) {
        if self.pending_space {
            self.out.push(' ');
            self.pending_space = false;
        }
        self.out.push(c);
    }
}

/// Step 3: typographic quotes to `'` or `"`, dashes and minus signs to `-`.
fn plain_punctuation(c: char) -> char {
    match c {
        '\u{2018}' | '\u{2019}' | '\u{201A}' | '\u{201B}' | '\u{2032}' | '\u{02BC}' | '`'
        | '\u{00B4}' => '\'',
        '\u{201C}' | '\u{201D}' | '\u{201E}' | '\u{201F}' | '\u{2033}' | '\u{00AB}'
        | '\u{00BB}' | '\u{2039}' | '\u{203A}' => '"',
        '\u{2010}'..='\u{2015}' | '\u{2212}' | '\u{FE58}' | '\u{FE63}' | '\u{FF0D}' => '-',
        c => c,
    }
}

/// Whether `text` holds an [`is_invisible`] character: a byte scan that decodes
/// only at the lead bytes of the few ranges concerned (C0 controls and DEL are
/// single bytes; the rest start with 0xC2, 0xCD, 0xD8, 0xE1, 0xE2 or 0xEF).
pub fn has_invisible(text: &str) -> bool {
    const CHUNK: usize = 32;
    let suspect = |b: u8| {
        b < 0x09
            || (0x0e..0x20).contains(&b)
            || b == 0x7f
            || matches!(b, 0xC2 | 0xCD | 0xD8 | 0xE1 | 0xE2 | 0xEF)
    };
    let bytes = text.as_bytes();
    (0..bytes.len()).step_by(CHUNK).any(|at| {
        let chunk = &bytes[at..(at + CHUNK).min(bytes.len())];
        // Non-short-circuit OR over the chunk: vectorised, and most chunks are clean.
        chunk.iter().fold(false, |any, &b| any | suspect(b))
            && chunk.iter().enumerate().any(|(i, &b)| match b {
                0xC2 | 0xCD | 0xD8 | 0xE1 | 0xE2 | 0xEF => text
                    .get(at + i..)
                    .and_then(|rest| rest.chars().next())
                    .is_some_and(is_invisible),
                b => suspect(b),
            })
    })
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

    /// The definition, step by step (what `normalize` computes in one pass).
    fn reference(text: &str) -> String {
        let folded = caseless::default_case_fold_str(&text.nfkc().collect::<String>());
        let mut out = String::new();
        let mut pending_space = false;
        for c in folded.chars() {
            if is_invisible(c) {
                continue;
            }
            let c = plain_punctuation(c);
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

    #[test]
    fn one_pass_normalisation_agrees_with_the_definition() {
        let pieces = [
            "Abc",
            " ",
            "\t\n",
            "Straße",
            "ﬁ",
            "Ａ",
            "É",
            "e\u{0301}",
            "\u{0301}",
            "’",
            "«",
            "—",
            "\u{200B}",
            "\u{00AD}",
            "ΣΑΣ",
            "İ",
            "ǅ",
            "東京",
            "\u{2163}",
            "`",
            "\u{FEFF}",
            "x",
            "\u{1}",
            "\u{7f}",
            "\u{85}",
            "\u{a0}",
            "\r\n",
            "Q",
        ];
        let n = pieces.len();
        for k in 0..n * n * n {
            let mut s = String::new();
            let mut v = k;
            for _ in 0..3 {
                s.push_str(pieces[v % n]);
                v /= n;
            }
            assert_eq!(normalize(&s), reference(&s), "{s:?}");
        }
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/seeds");
        let mut seeds = 0;
        for entry in std::fs::read_dir(dir).expect("seed fixtures").flatten() {
            let path = entry.path();
            if path.extension().and_then(|e| e.to_str()) == Some("txt") {
                let text = std::fs::read_to_string(&path).expect("seed");
                assert_eq!(normalize(&text), reference(&text), "{}", path.display());
                seeds += 1;
            }
        }
        assert!(seeds >= 5);
    }

    #[test]
    fn has_invisible_agrees_with_is_invisible_on_every_char() {
        for c in (0..=0x10FFFFu32).filter_map(char::from_u32) {
            let alone = c.to_string();
            assert_eq!(has_invisible(&alone), is_invisible(c), "{:?}", c);
            let framed = format!("aé{c}z");
            assert_eq!(has_invisible(&framed), is_invisible(c), "{:?}", c);
        }
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
