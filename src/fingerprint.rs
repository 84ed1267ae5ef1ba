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
    // The newline, and the slack each of the two normaliser calls reserves for
    // its 8-byte stores: no regrowth (and no copy of the title) on the body.
    let mut normalized = Vec::with_capacity(title.len() + body.len() + 1 + 2 * STORE_SLACK);
    normalize_into(title, &mut normalized);
    normalized.push(b'\n');
    normalize_into(body, &mut normalized);
    sha256_hex(&normalized)
}

/// Lowercase hex SHA-256 of raw bytes (the benchmark passthrough's id).
pub fn sha256_hex(bytes: &[u8]) -> String {
    to_hex(&Sha256::digest(bytes))
}

/// The normalised form the content id is computed over.
pub fn normalize(text: &str) -> String {
    let mut out = Vec::with_capacity(text.len() + STORE_SLACK);
    normalize_into(text, &mut out);
    // Only whole characters are written, so this cannot fail; if it somehow
    // did, the lossy form is still a stable normalisation.
    String::from_utf8(out).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

/// Appends the normalised form of `text` to `out`, in one pass, word by word.
/// NFKC never reaches across an ASCII space or control whitespace (no
/// composition or reordering crosses a starter that composes with nothing), so
/// each word is normalised alone. Plain ASCII, single spaces included, goes
/// through eight bytes at a time, lowercased as it is copied; a word holding any non-ASCII character is
/// rolled back and redone whole: through NFKC only when the quick check cannot
/// vouch for it (a "…" or a no-break space), and through the Unicode
/// case-folding tables. The bytes are UTF-8; the content id hashes them as
/// they are, without a check that would cost a pass over them.
fn normalize_into(text: &str, out: &mut Vec<u8>) {
    let mut buf = std::mem::take(out);
    buf.reserve(text.len() + STORE_SLACK);
    let mut sink = Normalized {
        start: buf.len(),
        pending_space: false,
        out: buf,
    };
    let bytes = text.as_bytes();
    let mut i = 0;
    // The word being copied: where it started in `text`, and `out`'s length and
    // pending space before it (to roll back to).
    let mut word: Option<(usize, usize, bool)> = None;
    while i < bytes.len() {
        // A space may lead the copy when it is the one space the output needs
        // (always so after a whole chunk: it ends the output with a non-space).
        let mut space_may_lead = sink.out.len() > sink.start && !sink.pending_space;
        // Whole chunks of prose, a fixed eight bytes a step: the next load does
        // not wait for this chunk's length to be worked out. (The chunk that
        // stops this loop is loaded again below: carrying it out through
        // `chunk_at` made the content id 16% slower in Criterion.)
        while let Some(chunk) = bytes
            .get(i..i + 8)
            .and_then(|s| <[u8; 8]>::try_from(s).ok())
            .map(u64::from_le_bytes)
        {
            if !copies_whole(chunk, space_may_lead, bytes.get(i + 8).copied()) {
                break;
            }
            sink.copy_plain(&mut word, i, chunk, 8);
            i += 8;
            space_may_lead = true;
        }
        let (chunk, available) = chunk_at(bytes, i);
        let plain = copyable_prefix(chunk, available, space_may_lead);
        if plain > 0 {
            sink.copy_plain(&mut word, i, chunk, plain);
            i += plain;
            if plain == 8 {
                continue;
            }
        }
        let Some(&b) = bytes.get(i) else { break };
        if is_ascii_space(b) {
            sink.space();
            word = None;
            i += 1;
        } else if b.is_ascii() {
            // Control characters and the backtick.
            word.get_or_insert((i, sink.out.len(), sink.pending_space));
            sink.ascii(b);
            i += 1;
        } else {
            let (start, rollback, pending_space) =
                word.take()
                    .unwrap_or((i, sink.out.len(), sink.pending_space));
            sink.out.truncate(rollback);
            sink.pending_space = pending_space;
            while i < bytes.len() && !is_ascii_space(bytes[i]) {
                i += 1;
            }
            // Both ends sit at an ASCII byte or at an end of `text`: char boundaries.
            let unicode_word = &text[start..i];
            if is_nfkc_quick(unicode_word.chars()) == IsNormalized::Yes {
                unicode_word.chars().for_each(|c| sink.fold(c));
            } else {
                unicode_word.nfkc().for_each(|c| sink.fold(c));
            }
        }
    }
    *out = sink.out;
}

/// `Normalized::plain_ascii` stores 8 bytes before cutting back to the ones
/// it keeps: the room past the output it may need.
const STORE_SLACK: usize = 8;

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGHS: u64 = 0x8080_8080_8080_8080;

/// Whether all of `chunk` is what [`copyable_prefix`] copies, given the byte
/// after it: a space may end the chunk when a plain byte follows, as that
/// space is then written.
#[inline]
fn copies_whole(chunk: u64, space_may_lead: bool, next: Option<u8>) -> bool {
    let (stop, space) = stop_bytes(chunk, space_may_lead);
    // Worked out before the test, not inside it: no branch on the next byte.
    let next_plain = next.is_some_and(is_plain);
    stop == 0 && (space >> 63 == 0 || next_plain)
}

/// A byte that normalises to itself lowercased, alone: printable ASCII other
/// than the space and the backtick (written as a quote).
fn is_plain(b: u8) -> bool {
    (0x21..0x7f).contains(&b) && b != b'`'
}

/// The 8 bytes of `bytes` from `at` (zero past the end) and how many are real.
#[inline]
fn chunk_at(bytes: &[u8], at: usize) -> (u64, usize) {
    if let Some(eight) = bytes
        .get(at..at + 8)
        .and_then(|s| <[u8; 8]>::try_from(s).ok())
    {
        return (u64::from_le_bytes(eight), 8);
    }
    let mut chunk = [0u8; 8];
    let available = bytes.len().saturating_sub(at).min(8);
    if let Some(src) = bytes.get(at..at + available) {
        chunk[..available].copy_from_slice(src);
    }
    (u64::from_le_bytes(chunk), available)
}

/// The high bit of each byte of `w` that is an ASCII space.
#[inline]
fn space_bytes(w: u64) -> u64 {
    let x = (w & !HIGHS) ^ (ONES * 0x20);
    // No carry crosses bytes: every sum stays under 0x100.
    !(x + ONES * 0x7f) & !w & HIGHS
}

/// The high bits of the first `n` bytes.
#[inline]
fn prefix_bits(n: usize) -> u64 {
    if n >= 8 {
        HIGHS
    } else {
        HIGHS & ((1u64 << (8 * n)) - 1)
    }
}

/// How many bytes of `chunk`, from the first (of `available`), normalise to
/// themselves lowercased: printable ASCII other than the backtick (written as
/// a quote), with single spaces between them. The copy never ends with a
/// space (the next byte decides whether one is written), nor starts with one
/// unless `space_may_lead`.
#[inline]
fn copyable_prefix(chunk: u64, available: usize, space_may_lead: bool) -> usize {
    let (stop, space) = stop_bytes(chunk, space_may_lead);
    let n = (stop.trailing_zeros() as usize / 8).min(available);
    let words = prefix_bits(n) & !space;
    if words == 0 {
        return 0;
    }
    (63 - words.leading_zeros() as usize) / 8 + 1
}

/// The high bits of the bytes of `chunk` that end a [`copyable_prefix`] (a
/// byte that is not plain, the first of two spaces, a leading space unless
/// `space_may_lead`), and of its spaces.
#[inline]
fn stop_bytes(chunk: u64, space_may_lead: bool) -> (u64, u64) {
    let w = chunk;
    let low = w & !HIGHS;
    // Per byte (no carry crosses bytes: every sum stays under 0x100):
    // at most a space (< 0x21), DEL, the backtick, or not ASCII at all.
    let not_above_space = !(low + ONES * (0x80 - 0x21)) & HIGHS;
    let del = {
        let x = low ^ (ONES * 0x7f);
        !(x + ONES * 0x7f) & HIGHS
    };
    let backtick = {
        let x = low ^ (ONES * 0x60);
        !(x + ONES * 0x7f) & HIGHS
    };
    let space = space_bytes(w);
    let mut stop = (not_above_space & !space) | del | backtick | (w & HIGHS);
    // The first of two spaces in a row.
    stop |= space & (space >> 8);
    if !space_may_lead {
        stop |= space & 0x80;
    }
    (stop, space)
}

/// ASCII letters of `w` lowercased (every byte below 0x80).
fn lowercase8(w: u64) -> u64 {
    // 0x80 in each byte from 'A' up, then in each byte from past 'Z' up.
    let from_a = (w + ONES * (0x80 - 0x41)) & HIGHS;
    let past_z = (w + ONES * (0x80 - 0x5b)) & HIGHS;
    w | ((from_a & !past_z) >> 2)
}

fn is_ascii_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

/// Steps 2-5 of the normalisation, one character at a time.
struct Normalized {
    out: Vec<u8>,
    /// Where this text's output starts in `out` (no leading space).
    start: usize,
    pending_space: bool,
}

impl Normalized {
    fn space(&mut self) {
        self.pending_space = self.out.len() > self.start;
    }

    /// Copies the first `len` bytes of `chunk`, read at byte `at` of the text
    /// (see [`copyable_prefix`]), and moves `word` (the word to roll back to,
    /// see `normalize_into`) to the last word of the copy.
    #[inline]
    fn copy_plain(
        &mut self,
        word: &mut Option<(usize, usize, bool)>,
        at: usize,
        chunk: u64,
        len: usize,
    ) {
        let spaces = space_bytes(chunk) & prefix_bits(len);
        if spaces == 0 {
            word.get_or_insert((at, self.out.len(), self.pending_space));
        } else {
            // The last word of the copy starts after its last space: that
            // space is written, so rolling back keeps it and needs none pending.
            let last_space = (63 - spaces.leading_zeros() as usize) / 8;
            let copy_at = self.out.len() + usize::from(self.pending_space);
            *word = Some((at + last_space + 1, copy_at + last_space + 1, false));
        }
        self.plain_ascii(chunk, len);
    }

    /// The first `len` bytes of `chunk` (see [`copyable_prefix`]), copied
    /// lowercased.
    fn plain_ascii(&mut self, chunk: u64, len: usize) {
        if self.pending_space {
            self.out.push(b' ');
            self.pending_space = false;
        }
        // All eight bytes are stored (one store), then the extra ones cut.
        let at = self.out.len();
        self.out.extend_from_slice(&lowercase8(chunk).to_le_bytes());
        self.out.truncate(at + len);
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
            self.out.push(b' ');
            self.pending_space = false;
        }
        let mut utf8 = [0u8; 4];
        self.out
            .extend_from_slice(c.encode_utf8(&mut utf8).as_bytes());
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

/// The byte offset and length of the first [`is_invisible`] character at or
/// after byte `from` (a char boundary). A vectorised pass over 32 bytes at a
/// time skips the chunks without a byte that can start one (C0 controls and
/// DEL are single bytes; the rest start with 0xC2, 0xCD, 0xD8, 0xE1, 0xE2 or
/// 0xEF); in the others, those bytes are looked at without decoding: the
/// curly quotes and dashes of English text also start with 0xE2 and are told
/// apart by their second and third bytes.
pub fn find_invisible(text: &str, from: usize) -> Option<(usize, usize)> {
    const CHUNK: usize = 32;
    let suspect = |b: u8| {
        b < 0x09
            || (0x0e..0x20).contains(&b)
            || b == 0x7f
            || matches!(b, 0xC2 | 0xCD | 0xD8 | 0xE1 | 0xE2 | 0xEF)
    };
    let bytes = text.as_bytes();
    let mut at = from;
    while let Some(chunk) = bytes.get(at..(at + CHUNK).min(bytes.len())) {
        if chunk.is_empty() {
            break;
        }
        // Non-short-circuit OR over the chunk: vectorised, and most chunks are clean.
        if chunk.iter().fold(false, |any, &b| any | suspect(b)) {
            for (i, &b) in chunk.iter().enumerate() {
                if suspect(b) {
                    if let Some(len) = invisible_at(bytes, at + i) {
                        return Some((at + i, len));
                    }
                }
            }
        }
        at += chunk.len();
    }
    None
}

/// The length of the [`is_invisible`] character starting at byte `at` of
/// valid UTF-8, read from its bytes; None when it is visible.
fn invisible_at(bytes: &[u8], at: usize) -> Option<usize> {
    let byte = |k: usize| bytes.get(at + k).copied().unwrap_or(0);
    match byte(0) {
        0x00..=0x08 | 0x0E..=0x1F | 0x7F => Some(1),
        // U+0080-U+009F but NEL (U+0085, whitespace), and the soft hyphen.
        0xC2 => matches!(byte(1), 0x80..=0x84 | 0x86..=0x9F | 0xAD).then_some(2),
        0xCD => (byte(1) == 0x8F).then_some(2),
        0xD8 => (byte(1) == 0x9C).then_some(2),
        0xE1 => (byte(1) == 0xA0 && byte(2) == 0x8E).then_some(3),
        0xE2 => match byte(1) {
            0x80 => matches!(byte(2), 0x8B..=0x8F | 0xAA..=0xAE).then_some(3),
            0x81 => matches!(byte(2), 0xA0..=0xAF).then_some(3),
            _ => None,
        },
        0xEF => match byte(1) {
            0xBB => (byte(2) == 0xBF).then_some(3),
            0xB8 => matches!(byte(2), 0x80..=0x8F).then_some(3),
            _ => None,
        },
        _ => None,
    }
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
        // The id is the hash of the two normalised parts and a newline.
        let (title, body) = ("Ça  Marche ", "L’été\u{200B} — “déjà” vu…");
        let joined = format!("{}\n{}", normalize(title), normalize(body));
        assert_eq!(content_id(title, body), sha256_hex(joined.as_bytes()));
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

    /// Every text made of exactly `len` of `pieces`, in every order.
    fn every_sequence<'p>(pieces: &'p [&'p str], len: u32) -> impl Iterator<Item = String> + 'p {
        let n = pieces.len();
        (0..n.pow(len)).map(move |k| {
            let mut v = k;
            (0..len)
                .map(|_| {
                    let piece = pieces[v % n];
                    v /= n;
                    piece
                })
                .collect()
        })
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
            // Runs that cross the 8-byte chunks at every offset.
            "ABCDEFGHijk",
            "@[Z]^_{~",
        ];
        for s in every_sequence(&pieces, 3) {
            assert_eq!(normalize(&s), reference(&s), "{s:?}");
        }
        // Spaces between plain words, crossing the chunks at every offset.
        let spaced = [
            "ab",
            " ",
            "  ",
            "Word",
            "é",
            "\t",
            "x\u{0301}",
            "\u{200B}",
            "`q",
            "12345678",
        ];
        for s in every_sequence(&spaced, 5) {
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

    /// [`copyable_prefix`], byte by byte.
    fn copyable_prefix_reference(bytes: &[u8], space_may_lead: bool) -> usize {
        let plain = |b: u8| (0x21..0x7f).contains(&b) && b != b'`';
        let mut n = 0;
        while n < bytes.len() {
            let b = bytes[n];
            let ok = plain(b)
                || (b == b' ' && (n > 0 || space_may_lead) && bytes.get(n + 1) != Some(&b' '));
            if !ok {
                break;
            }
            n += 1;
        }
        while n > 0 && bytes[n - 1] == b' ' {
            n -= 1;
        }
        n
    }

    #[test]
    fn chunk_helpers_agree_with_the_byte_definitions() {
        for b in 0..=255u8 {
            if b < 0x80 {
                let lowered = lowercase8(u64::from_le_bytes([b; 8])).to_le_bytes();
                assert_eq!(lowered, [b.to_ascii_lowercase(); 8], "{b:#x}");
            }
            let spaces = space_bytes(u64::from_le_bytes([b; 8]));
            assert_eq!(spaces, if b == b' ' { HIGHS } else { 0 }, "{b:#x}");
        }
        // Every chunk over an alphabet of each kind of byte, at every length.
        let alphabet = [
            b'a', b'Z', b' ', b'`', 0x7f, 0x01, b'\t', 0xC3, 0xA0, b'!', b'~',
        ];
        let mut state = 0x2545_f491_4f6c_dd1du64;
        for _ in 0..300_000 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let len = (state % 9) as usize;
            let bytes: Vec<u8> = (0..len)
                .map(|k| alphabet[((state >> (8 + 4 * k)) % alphabet.len() as u64) as usize])
                .collect();
            let (chunk, available) = chunk_at(&bytes, 0);
            assert_eq!(available, len);
            for lead in [false, true] {
                assert_eq!(
                    copyable_prefix(chunk, available, lead),
                    copyable_prefix_reference(&bytes, lead),
                    "{bytes:?} lead {lead}"
                );
            }
        }
        for (bytes, lead, next, whole) in [
            (*b"ab cd ef", false, None, true),
            (*b"ab cd ef", true, Some(b' '), true),
            (*b"ab cdef ", true, Some(b'x'), true),
            (*b"ab cdef ", true, Some(b' '), false),
            (*b"ab cdef ", true, Some(b'`'), false),
            (*b"ab cdef ", true, Some(0xC3), false),
            (*b"ab cdef ", true, None, false),
            (*b" abcdefg", true, None, true),
            (*b" abcdefg", false, None, false),
            (*b"ab  defg", true, None, false),
            (*b"ab\ncdefg", true, None, false),
        ] {
            let chunk = u64::from_le_bytes(bytes);
            assert_eq!(
                copies_whole(chunk, lead, next),
                whole,
                "{bytes:?} {lead} {next:?}"
            );
            if whole && bytes[7] != b' ' {
                assert_eq!(copyable_prefix(chunk, 8, lead), 8);
            }
        }
        assert_eq!(chunk_at(b"abc", 1).1, 2);
        assert_eq!(chunk_at(b"abc", 3).1, 0);
    }

    #[test]
    fn find_invisible_agrees_with_is_invisible_on_every_char() {
        for c in (0..=0x10FFFFu32).filter_map(char::from_u32) {
            let alone = c.to_string();
            let at = find_invisible(&alone, 0);
            assert_eq!(at, is_invisible(c).then_some((0, c.len_utf8())), "{c:?}");
            let framed = format!("aé{c}z");
            let at = find_invisible(&framed, 0);
            assert_eq!(at, is_invisible(c).then_some((3, c.len_utf8())), "{c:?}");
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
