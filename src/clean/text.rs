//! Small text helpers shared by the cleaner stages.
//!
//! Contract: pure functions over `&str`; they never index bytes that could
//! split a UTF-8 character and never allocate unless the result differs from
//! the input.

use std::borrow::Cow;

/// Collapses every run of whitespace into one space and trims the ends.
/// Borrows when the text is already collapsed (the common case for scraped lines).
pub fn collapse_ws(s: &str) -> Cow<'_, str> {
    let trimmed = s.trim();
    let bytes = trimmed.as_bytes();
    let mut clean = true;
    let mut prev_space = false;
    let mut i = 0;
    // Byte scan: ASCII decides itself; only lead bytes of the few multi-byte
    // whitespace/control characters (U+0080-U+00A0, U+1680, U+2000-U+205F, U+3000)
    // need a decode.
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    loop {
        // Fast path: 8 plain ASCII bytes (no control, no DEL, no non-ASCII, no two
        // spaces in a row) at a time; anything else goes through the byte path below.
        if let Some(chunk) = bytes.get(i..i + 8) {
            let mut a = [0u8; 8];
            a.copy_from_slice(chunk);
            let w = u64::from_le_bytes(a);
            let below_space = w.wrapping_sub(ONES * 0x20) & !w & HIGHS;
            let x = w ^ (ONES * 0x7f);
            let del = x.wrapping_sub(ONES) & !x & HIGHS;
            if (w & HIGHS) | below_space | del == 0 {
                // Exact per-byte mask of spaces (0x80 in each space byte).
                let t = w ^ (ONES * 0x20);
                let spaces = !(((t & !HIGHS).wrapping_add(!HIGHS)) | t) & HIGHS;
                let doubled = spaces & (spaces >> 8) != 0 || (prev_space && spaces & 0x80 != 0);
                if !doubled {
                    prev_space = spaces >> 63 != 0;
                    i += 8;
                    continue;
                }
            }
        }
        if i >= bytes.len() {
            break;
        }
        let b = bytes[i];
        if b < 0x80 {
            if b == b' ' {
                if prev_space {
                    clean = false;
                    break;
                }
                prev_space = true;
            } else if b < 0x20 || b == 0x7f {
                clean = false;
                break;
            } else {
                prev_space = false;
            }
            i += 1;
            continue;
        }
        if matches!(b, 0xC2 | 0xE1 | 0xE2 | 0xE3) {
            let c = trimmed[i..].chars().next().unwrap_or(' ');
            if c.is_whitespace() || c.is_control() {
                clean = false;
                break;
            }
        }
        prev_space = false;
        i += 1;
        // Skip continuation bytes.
        while i < bytes.len() && (bytes[i] & 0xC0) == 0x80 {
            i += 1;
        }
    }
    if clean {
        return Cow::Borrowed(trimmed);
    }
    let mut out = String::with_capacity(trimmed.len());
    for word in trimmed.split(|c: char| c.is_whitespace() || c.is_control()) {
        if word.is_empty() {
            continue;
        }
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    Cow::Owned(out)
}

/// FNV-1a, 64 bit: tiny, deterministic across runs and platforms (block hashes
/// are persisted by the learned-boilerplate model, so `std`'s random SipHash won't do).
#[derive(Clone, Copy)]
pub struct Fnv(u64);

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0100_0000_01b3;

impl Fnv {
    pub fn new() -> Self {
        Fnv(FNV_OFFSET)
    }
    #[inline]
    pub fn push_char(&mut self, c: char) {
        // ASCII (most text) costs one round; other code points three.
        if c.is_ascii() {
            self.0 ^= c as u64;
            self.0 = self.0.wrapping_mul(FNV_PRIME);
            return;
        }
        let mut v = c as u32;
        // Feed the code point as up to 3 bytes (all code points fit in 21 bits).
        for _ in 0..3 {
            self.0 ^= u64::from(v & 0xff);
            self.0 = self.0.wrapping_mul(FNV_PRIME);
            v >>= 8;
        }
    }
    pub fn finish(self) -> u64 {
        self.0
    }
}

/// Hash of a block after normalisation: lowercase, letters and digits only.
/// Two blocks that differ only in case, punctuation or spacing hash the same.
pub fn norm_hash(s: &str) -> u64 {
    let mut h = Fnv::new();
    for c in s.chars() {
        if c.is_ascii() {
            if c.is_ascii_alphanumeric() {
                h.push_char(c.to_ascii_lowercase());
            }
        } else if c.is_alphanumeric() {
            for l in c.to_lowercase() {
                h.push_char(l);
            }
        }
    }
    h.finish()
}

/// Hash of one word, lowercased (used for stop-word and subject look-ups).
pub fn word_hash(w: &str) -> u64 {
    let mut h = Fnv::new();
    for c in w.chars() {
        if c.is_ascii() {
            h.push_char(c.to_ascii_lowercase());
            continue;
        }
        for l in c.to_lowercase() {
            h.push_char(l);
        }
    }
    h.finish()
}

/// [`word_hash`] of "I" (and "i").
pub const HASH_OF_I: u64 = (FNV_OFFSET ^ b'i' as u64).wrapping_mul(FNV_PRIME);

/// A hasher for keys that already are good 64-bit hashes (our FNV values):
/// passes them through instead of re-hashing them with SipHash.
#[derive(Default, Clone, Copy)]
pub struct PassThroughHasher(u64);

impl std::hash::Hasher for PassThroughHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 << 8) ^ u64::from(b) ^ (self.0 >> 56);
        }
    }
    fn write_u64(&mut self, v: u64) {
        self.0 = v;
    }
}

pub type HashBuild = std::hash::BuildHasherDefault<PassThroughHasher>;

/// What one pass over a block's characters gives (see [`scan`]).
#[derive(Debug, Default, Clone, Copy)]
pub struct Scan {
    /// Characters.
    pub chars: usize,
    /// Han, kana and hangul characters.
    pub cjk: usize,
    /// Holds at least one letter or digit.
    pub alnum: bool,
    /// [`norm_hash`] of the block.
    pub hash: u64,
    /// Whitespace-separated tokens (`split_whitespace().count()`).
    pub tokens: usize,
    /// List separators ([`is_list_separator`]): menus and breadcrumbs are runs
    /// of items between them.
    pub separators: usize,
    /// The text is its own [`collapse_ws`]: no whitespace or control character
    /// but single spaces between tokens.
    pub collapsed: bool,
}

/// One word of [`scan`]: the same words as [`words`], with their [`word_hash`].
pub struct Word<'s> {
    pub text: &'s str,
    pub hash: u64,
    pub chars: usize,
    /// The first character is uppercase.
    pub upper: bool,
    /// Letters or digits follow a slash or a bar inside the word ("Photo/AFP",
    /// "Reuters|Getty").
    pub compound: bool,
}

/// The characters that separate the items of a menu, a breadcrumb or a row of
/// links flattened into one line: "Home | News | Sport", "Accueil › Monde".
#[inline]
pub fn is_list_separator(c: char) -> bool {
    matches!(c, '|' | '>' | '•' | '·' | '»' | '›')
}

/// Han, kana and hangul: scripts written without spaces, dense in meaning per character.
#[inline]
pub fn is_cjk(c: char) -> bool {
    matches!(c as u32, 0x3040..=0x30FF | 0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xAC00..=0xD7AF | 0xF900..=0xFAFF)
}

/// ASCII letters and digits lowercased; 0 for every other byte.
static ASCII_ALNUM_LOWER: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut b = 0;
    while b < 128 {
        let c = b as u8;
        if c.is_ascii_alphanumeric() {
            t[b] = c.to_ascii_lowercase();
        }
        b += 1;
    }
    t
};

/// What [`scan`] asks of a non-ASCII character, looked up in one table for the
/// scripts news text mostly holds (Latin, Greek, Cyrillic; General Punctuation:
/// curly quotes, dashes), instead of the binary searches of `std`'s Unicode
/// tables. Every entry is computed from `std` itself, so the answers agree.
#[derive(Clone, Copy, Default)]
struct CharProps {
    /// The lowercase form when it is one character; `'\0'` when it is several.
    lower: char,
    alnum: bool,
    upper: bool,
    whitespace: bool,
    control: bool,
}

impl CharProps {
    fn of(c: char) -> Self {
        let mut lower = c.to_lowercase();
        let single = match (lower.next(), lower.next()) {
            (Some(l), None) => l,
            _ => '\0',
        };
        CharProps {
            lower: single,
            alnum: c.is_alphanumeric(),
            upper: c.is_uppercase(),
            whitespace: c.is_whitespace(),
            control: c.is_control(),
        }
    }

    /// Looked up for the tabled ranges, computed for the rest.
    #[inline]
    fn get(c: char) -> Self {
        let table = CHAR_TABLE.get_or_init(|| {
            let mut t = vec![CharProps::default(); TABLED_LOW + TABLED_PUNCT.len()];
            for (u, props) in (0..TABLED_LOW as u32).chain(TABLED_PUNCT).zip(t.iter_mut()) {
                *props = char::from_u32(u).map_or_else(CharProps::default, CharProps::of);
            }
            t
        });
        let u = c as usize;
        let slot = if u < TABLED_LOW {
            Some(u)
        } else if TABLED_PUNCT.contains(&(c as u32)) {
            Some(TABLED_LOW + u - TABLED_PUNCT.start as usize)
        } else {
            None
        };
        slot.and_then(|i| table.get(i).copied())
            .unwrap_or_else(|| CharProps::of(c))
    }

    /// Hands each character of `c`'s lowercase form (`self` is `c`'s entry) to `f`.
    #[inline]
    fn for_each_lower(self, c: char, mut f: impl FnMut(char)) {
        if self.lower != '\0' {
            f(self.lower);
        } else {
            c.to_lowercase().for_each(f);
        }
    }
}

/// Code points below this are tabled: Latin, Greek, Cyrillic.
const TABLED_LOW: usize = 0x530;
/// General Punctuation, also tabled.
const TABLED_PUNCT: std::ops::Range<u32> = 0x2000..0x2070;
static CHAR_TABLE: std::sync::OnceLock<Vec<CharProps>> = std::sync::OnceLock::new();

/// One pass over a block: character counts, [`norm_hash`], token count, and every
/// word (as [`words`] yields them, with [`word_hash`]) handed to `on_word`. The
/// word hash and the block hash are fed from the same decoded characters.
///
/// One token per turn of the outer loop, and `on_word` called from one place
/// only, so the compiler inlines it and keeps the caller's counters in registers.
pub fn scan<'s>(s: &'s str, mut on_word: impl FnMut(Word<'s>)) -> Scan {
    let mut out = Scan::default();
    let mut block = Fnv::new();
    let bytes = s.as_bytes();
    // A space that ends the text ends a token like any other: checked here.
    let mut collapsed = bytes.last() != Some(&b' ');
    let mut i = 0;
    while i < bytes.len() {
        // A token runs to the next whitespace character (consumed with it); its
        // word runs from the first to the last letter or digit in it.
        let mut word_start = usize::MAX; // byte offset of the first alnum char, MAX if none yet
        let mut word_end = 0usize;
        let mut upper = false;
        let mut wh = Fnv::new(); // word hash over everything since the first alnum char
        let mut wh_end = Fnv::new(); // ... as it was after the last alnum char
        let mut wchars = 0usize;
        let mut wchars_end = 0usize;
        let mut gap = false; // a slash or bar since the last alnum char of the word
        let mut compound = false;
        let mut blank = true; // only whitespace so far: no token yet
        while let Some(&b) = bytes.get(i) {
            // Fast path: a run of ASCII letters and digits (most of the text), with the
            // word state updated once at the end of the run.
            if ASCII_ALNUM_LOWER[usize::from(b)] != 0 {
                if word_start == usize::MAX {
                    word_start = i;
                    upper = b.is_ascii_uppercase();
                }
                compound |= gap;
                gap = false;
                blank = false;
                let run_start = i;
                while let Some(&c) = bytes.get(i) {
                    let l = u64::from(ASCII_ALNUM_LOWER[usize::from(c)]);
                    if l == 0 {
                        break;
                    }
                    block.0 = (block.0 ^ l).wrapping_mul(FNV_PRIME);
                    wh.0 = (wh.0 ^ l).wrapping_mul(FNV_PRIME);
                    i += 1;
                }
                out.chars += i - run_start;
                wchars += i - run_start;
                word_end = i;
                wh_end = wh;
                wchars_end = wchars;
                continue;
            }
            if b < 0x80 {
                i += 1;
                out.chars += 1;
                if matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r') {
                    // Whitespace before any token char: at the start, or doubled.
                    collapsed &= b == b' ' && !blank;
                    if blank {
                        continue;
                    }
                    break;
                }
                blank = false;
                collapsed &= b >= 0x20 && b != 0x7f;
                out.separators += usize::from(is_list_separator(char::from(b)));
                // ASCII punctuation or a control character: part of the word
                // only between its letters.
                if word_start != usize::MAX {
                    wh.push_char(char::from(b));
                    wchars += 1;
                    gap |= matches!(b, b'/' | b'|');
                }
                continue;
            }
            let c = s[i..].chars().next().unwrap_or(' ');
            let start = i;
            i += c.len_utf8();
            out.chars += 1;
            out.cjk += usize::from(is_cjk(c));
            let props = CharProps::get(c);
            if props.whitespace {
                collapsed = false;
                if blank {
                    continue;
                }
                break;
            }
            blank = false;
            collapsed &= !props.control;
            out.separators += usize::from(is_list_separator(c));
            if props.alnum {
                if word_start == usize::MAX {
                    word_start = start;
                    upper = props.upper;
                }
                compound |= gap;
                gap = false;
                props.for_each_lower(c, |l| {
                    block.push_char(l);
                    wh.push_char(l);
                });
                wchars += 1;
                word_end = i;
                wh_end = wh;
                wchars_end = wchars;
            } else if word_start != usize::MAX {
                props.for_each_lower(c, |l| wh.push_char(l));
                wchars += 1;
            }
        }
        if blank {
            break;
        }
        out.tokens += 1;
        if word_start != usize::MAX {
            out.alnum = true;
            on_word(Word {
                text: &s[word_start..word_end],
                hash: wh_end.finish(),
                chars: wchars_end,
                upper,
                compound,
            });
        }
    }
    out.hash = block.finish();
    out.collapsed = collapsed;
    out
}

/// Iterates over the words of a block with leading/trailing punctuation removed.
/// Apostrophe-joined French/Italian elisions ("l'accueil") stay one word.
pub fn words(s: &str) -> impl Iterator<Item = &str> {
    s.split_whitespace()
        .map(|w| w.trim_matches(|c: char| !c.is_alphanumeric()))
        .filter(|w| !w.is_empty())
}

/// Truncates to at most `max_bytes`, backing off to a char boundary.
pub fn truncate_at_char(s: &str, max_bytes: usize) -> &str {
    if s.len() <= max_bytes {
        return s;
    }
    let mut end = max_bytes;
    while end > 0 && !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// The host of a URL, lowercased, without a leading "www.".
pub fn host_of(url: &str) -> Option<String> {
    let rest = url.split_once("://").map(|(_, r)| r).unwrap_or(url);
    let host = rest.split(['/', '?', '#']).next()?;
    let host = host.rsplit('@').next()?;
    let host = host.split(':').next()?;
    if host.is_empty() {
        return None;
    }
    let host = host.to_lowercase();
    Some(
        host.strip_prefix("www.")
            .map(str::to_string)
            .unwrap_or(host),
    )
}

/// The '\n' and '\r' bytes of `s`. Counted 64 bytes at a time into a byte-wide
/// sum, which compiles to vector compares: 0.4 µs for a 9 KB page, where
/// `memchr2_iter(..).count()` took 2 µs, restarting its search at every one of
/// a page's ~175 breaks, and a plain `filter(..).count()` took 4.
pub fn count_line_breaks(s: &str) -> usize {
    let is_break = |b: u8| u8::from((b == b'\n') | (b == b'\r'));
    let mut chunks = s.as_bytes().chunks_exact(64);
    let mut n = 0usize;
    for chunk in &mut chunks {
        // At most 64 per chunk: no overflow.
        let in_chunk: u8 = chunk.iter().fold(0u8, |k, &b| k + is_break(b));
        n += usize::from(in_chunk);
    }
    n + chunks
        .remainder()
        .iter()
        .map(|&b| usize::from(is_break(b)))
        .sum::<usize>()
}

/// How often `first` followed by a space occurs in `s`: `s.matches(", ")` and
/// the like without building a substring searcher for every block.
pub fn count_before_space(s: &str, first: u8) -> usize {
    let bytes = s.as_bytes();
    memchr::memchr_iter(first, bytes)
        .filter(|&i| bytes.get(i + 1) == Some(&b' '))
        .count()
}

/// `hay.contains(needle)` for the short texts of one page (headlines, lines),
/// checked at each occurrence of the needle's first byte: building a substring
/// searcher costs more than the search for texts this short.
pub fn contains_short(hay: &str, needle: &str) -> bool {
    let (hay, needle) = (hay.as_bytes(), needle.as_bytes());
    let Some((&first, _)) = needle.split_first() else {
        return true;
    };
    let Some(last_start) = hay.len().checked_sub(needle.len()) else {
        return false;
    };
    memchr::memchr_iter(first, &hay[..=last_start]).any(|p| hay[p..].starts_with(needle))
}

/// A substring search for a needle of any length (a paragraph) in long
/// haystacks (a whole page), whose searcher costs at most
/// [`NeedleSearch::PREFIX`] bytes to build: the prefix is searched for, and
/// each (rare) hit is checked for the rest. Building a `memmem` searcher for
/// a whole paragraph took longer than the searches it served. For short
/// haystacks, [`contains_short`] needs no searcher at all.
pub struct NeedleSearch<'n> {
    pub bytes: &'n [u8],
    prefix: memchr::memmem::Finder<'n>,
}

impl<'n> NeedleSearch<'n> {
    pub const PREFIX: usize = 32;

    pub fn new(bytes: &'n [u8]) -> Self {
        let prefix = bytes.get(..Self::PREFIX).unwrap_or(bytes);
        NeedleSearch {
            bytes,
            prefix: memchr::memmem::Finder::new(prefix),
        }
    }

    pub fn occurs_in(&self, haystack: &[u8]) -> bool {
        self.prefix.find_iter(haystack).any(|at| {
            haystack
                .get(at..)
                .is_some_and(|rest| rest.starts_with(self.bytes))
        })
    }
}

/// True when the text ends like a sentence (possibly followed by closing quotes/brackets).
pub fn ends_with_terminal(s: &str) -> bool {
    let t = s.trim_end_matches(['"', '\'', '”', '’', '»', ')', ']', ' ']);
    t.ends_with(['.', '!', '?', '…', ':', ';', '。', '！', '？'])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn needle_search_finds_long_needles_whole_not_by_their_prefix() {
        let long = "the minister said on tuesday that the budget would be cut by a third";
        let search = NeedleSearch::new(long.as_bytes());
        assert!(search.bytes.len() > NeedleSearch::PREFIX);
        // Same first 32 bytes, different end: not found.
        let prefix_only = "the minister said on tuesday that nothing would change";
        assert!(!search.occurs_in(prefix_only.as_bytes()));
        // The prefix occurs twice; only the second occurrence runs on.
        let both = format!("{prefix_only}. Then {long}, she added.");
        assert!(search.occurs_in(both.as_bytes()));
        // A needle shorter than the prefix is searched whole.
        let short = NeedleSearch::new(b"budget");
        assert!(short.occurs_in(long.as_bytes()));
        assert!(!short.occurs_in(prefix_only.as_bytes()));
        // The whole needle runs past the haystack's end: not found.
        assert!(!search.occurs_in(&long.as_bytes()[..long.len() - 1]));
    }

    #[test]
    fn line_breaks_are_counted_across_chunk_boundaries() {
        let naive = |s: &str| s.bytes().filter(|&b| b == b'\n' || b == b'\r').count();
        // Every length around the 64-byte chunk, breaks at every third byte
        // (and runs of them), with multi-byte characters between.
        for len in 0..200 {
            let s: String = (0..len)
                .map(|i| match i % 7 {
                    0 | 3 => '\n',
                    5 => '\r',
                    6 => 'é',
                    _ => 'a',
                })
                .collect();
            assert_eq!(count_line_breaks(&s), naive(&s), "{len}");
        }
        let all = "\n".repeat(300);
        assert_eq!(count_line_breaks(&all), 300);
    }

    #[test]
    fn collapse_borrows_clean_text_and_fixes_messy_text() {
        assert!(matches!(collapse_ws("a b c"), Cow::Borrowed(_)));
        assert_eq!(collapse_ws("  a \t b\u{0}\n c  "), "a b c");
        assert_eq!(collapse_ws(" \n "), "");
    }

    #[test]
    fn collapse_fast_path_agrees_with_the_definition() {
        let slow = |s: &str| -> String {
            s.split(|c: char| c.is_whitespace() || c.is_control())
                .filter(|w| !w.is_empty())
                .collect::<Vec<_>>()
                .join(" ")
        };
        let pieces = [
            "abcdefgh",
            " ",
            "  ",
            "x",
            "é",
            "\u{a0}",
            "\t",
            "\u{7f}",
            "ab cd ef",
            "\u{2003}",
            "12345678 ",
            "z",
            "\u{85}",
            "\u{9f}",
            "\u{0}",
        ];
        // Every sequence of up to 4 pieces: spaces on chunk boundaries and inside chunks.
        let n = pieces.len();
        for k in 0..n * n * n * n {
            let mut s = String::new();
            let mut v = k;
            for _ in 0..4 {
                s.push_str(pieces[v % n]);
                v /= n;
            }
            let got = collapse_ws(&s);
            assert_eq!(got, slow(&s), "{s:?}");
            assert_eq!(scan(&s, |_| {}).collapsed, got == s, "{s:?}");
        }
    }

    #[test]
    fn char_table_agrees_with_std_everywhere() {
        for c in (0..0x11_0000u32).filter_map(char::from_u32) {
            let got = CharProps::get(c);
            let lower: Vec<char> = c.to_lowercase().collect();
            match lower.as_slice() {
                [one] => assert_eq!(got.lower, *one, "{c:?}"),
                _ => assert_eq!(got.lower, '\0', "{c:?}"),
            }
            assert_eq!(got.alnum, c.is_alphanumeric(), "{c:?}");
            assert_eq!(got.upper, c.is_uppercase(), "{c:?}");
            assert_eq!(got.whitespace, c.is_whitespace(), "{c:?}");
            assert_eq!(got.control, c.is_control(), "{c:?}");
        }
    }

    #[test]
    fn hash_of_i_is_the_word_hash_of_i() {
        assert_eq!(HASH_OF_I, word_hash("I"));
        assert_eq!(HASH_OF_I, word_hash("i"));
        assert_ne!(HASH_OF_I, word_hash("İ"));
    }

    #[test]
    fn norm_hash_ignores_case_and_punctuation() {
        assert_eq!(
            norm_hash("Share on Facebook!"),
            norm_hash("share on  facebook")
        );
        assert_ne!(
            norm_hash("Share on Facebook"),
            norm_hash("Share on Twitter")
        );
    }

    #[test]
    fn scan_agrees_with_words_and_hashes() {
        for s in [
            "",
            " ",
            "Share on Facebook!",
            "  l'accueil -- \"Quoted,\" (x) ÉCOLE Straße İstanbul 東京 タワー 3.5 ... a\u{a0}b\tc ",
            "--- | ---",
            "«Bonjour», dit-il. ΣΊΣΥΦΟΣ ǅemal x²",
            "Photo/AFP (l'accueil) e-mail cafés x.y.z né-à café-bar 3,5% l’été a'-b a/ /b a/-/b",
            "Home | News|Sport > Politique › Monde • Vidéos · Direct » Plus ||",
        ] {
            let mut got = Vec::new();
            let sc = scan(s, |w| {
                let separated = w.text.split(['/', '|']).count();
                assert_eq!(w.compound, separated > 1, "{:?}", w.text);
                got.push((w.text, w.hash, w.chars, w.upper))
            });
            let want: Vec<_> = words(s)
                .map(|w| {
                    (
                        w,
                        word_hash(w),
                        w.chars().count(),
                        w.starts_with(char::is_uppercase),
                    )
                })
                .collect();
            assert_eq!(got, want, "{s:?}");
            assert_eq!(sc.hash, norm_hash(s), "{s:?}");
            assert_eq!(sc.chars, s.chars().count());
            assert_eq!(sc.cjk, s.chars().filter(|&c| is_cjk(c)).count());
            assert_eq!(sc.tokens, s.split_whitespace().count());
            assert_eq!(
                sc.separators,
                s.chars().filter(|&c| is_list_separator(c)).count(),
                "{s:?}"
            );
            assert_eq!(sc.alnum, s.chars().any(char::is_alphanumeric));
            assert_eq!(sc.collapsed, collapse_ws(s) == s, "{s:?}");
        }
    }

    #[test]
    fn count_before_space_counts_like_matches() {
        for s in [
            "",
            ",",
            ", ",
            "a, b, c",
            ",, , ,",
            "x. y. z.",
            "é, è,  ü",
            ", ,",
        ] {
            assert_eq!(
                count_before_space(s, b','),
                s.matches(", ").count(),
                "{s:?}"
            );
            assert_eq!(
                count_before_space(s, b'.'),
                s.matches(". ").count(),
                "{s:?}"
            );
        }
    }

    #[test]
    fn contains_short_is_contains() {
        let texts = [
            "",
            "a",
            "ab",
            "ba",
            "abab",
            "é",
            "aé",
            "éa",
            "Headline - Site",
            "Headline",
        ];
        for h in texts {
            for n in texts {
                assert_eq!(contains_short(h, n), h.contains(n), "{h:?} {n:?}");
            }
        }
    }

    #[test]
    fn truncate_never_splits_a_char() {
        let s = "éééé";
        assert_eq!(truncate_at_char(s, 3), "é");
        assert_eq!(truncate_at_char(s, 100), s);
    }

    #[test]
    fn hosts() {
        assert_eq!(
            host_of("https://www.France24.com/fr/x?y").as_deref(),
            Some("france24.com")
        );
        assert_eq!(
            host_of("http://user@example.org:8080/").as_deref(),
            Some("example.org")
        );
        assert_eq!(host_of(""), None);
    }
}
