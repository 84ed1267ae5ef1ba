//! Segmentation: page text to blocks.
//!
//! Contract: a block is a whitespace-collapsed line. A *flattened* line (a whole
//! page scraped into one very long line, many sentences) is split further:
//! first around copies of the title, then into sentences, then inline furniture
//! (ad markers, timestamps, video widgets, app calls-to-action) is cut out as
//! its own pre-dropped segment. Slicing only ever happens at `char_indices`
//! positions or regex match bounds, so no UTF-8 character is split. Work is
//! linear in the input (with a bounded number of inline-rule passes per sentence).

use std::borrow::Cow;

use super::rules::CompiledRules;
use super::text::collapse_ws;

/// A line at least this long, holding at least `FLAT_MIN_SENTENCES`, is a flattened page.
pub const FLAT_MIN_CHARS: usize = 1000;
/// Few: a flattened page whose menus and teasers carry no full stop may hold
/// only its body's three or four sentences, and unsplit it is judged as one
/// block, body and menus together (a dev page, flattened, lost its whole
/// body at six). A long paragraph of three sentences stays whole.
const FLAT_MIN_SENTENCES: usize = 4;
/// Bound on the number of inline cuts per sentence (keeps the work linear).
const MAX_INLINE_CUTS: usize = 8;

/// Why a segment was dropped before classification.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PreDrop {
    /// Cut by an inline rule of this family.
    Inline(usize),
    /// A copy of the title found inside a flattened line.
    TitleCopy,
}

#[derive(Debug, Clone)]
pub struct Segment<'a> {
    pub text: Cow<'a, str>,
    /// Index of the source line (sentences of one flattened line share it).
    pub line: usize,
    /// True when the segment is a sentence of a flattened line.
    pub sentence: bool,
    pub pre_drop: Option<PreDrop>,
}

/// Abbreviations after which a period does not end a sentence.
const ABBREVIATIONS: &[&str] = &[
    "mr", "mrs", "ms", "dr", "st", "jr", "sr", "prof", "gen", "sen", "rep", "gov", "col", "lt",
    "sgt", "capt", "inc", "co", "corp", "ltd", "vs", "etc", "no", "nr", "nos", "vol", "p", "pp",
    "fig", "approx", "dept", "est", "mt", "ft", "m", "mme", "mlle", "me", "sra", "sr", "dra", "av",
    "bd", "ca", "cf", "e.g", "i.e", "z.b", "u.a", "bzw", "ggf", "jan", "feb", "mar", "apr", "aug",
    "sept", "sep", "oct", "nov", "dec", "u.s", "u.k", "a.m", "p.m",
];

/// Byte offsets where a new sentence starts in `s` (excluding 0).
///
/// Only called on long lines (flattened pages), where a walk over every
/// character cost a tenth of the cleaning time: this one jumps from one
/// terminal character to the next with `memchr`.
fn sentence_starts(s: &str) -> Vec<usize> {
    let bytes = s.as_bytes();
    let mut starts = Vec::new();
    // Terminals before this offset were swallowed by an earlier one ("?!", "...").
    let mut resume = 0;
    for (i, c) in terminals(s) {
        if i < resume {
            continue;
        }
        // Swallow repeated terminals and closing quotes/brackets.
        let mut j = i + c.len_utf8();
        while let Some(d) = s[j..].chars().next().filter(|&d| {
            matches!(
                d,
                '.' | '!' | '?' | '…' | '"' | '”' | '’' | '»' | ')' | ']' | '\''
            )
        }) {
            j += d.len_utf8();
        }
        resume = j;
        // Must be followed by a space and then a letter, digit or opening quote.
        if bytes.get(j) != Some(&b' ') {
            continue;
        }
        let Some(n) = s[j + 1..].chars().next() else {
            continue;
        };
        // A sentence may start with anything but closing punctuation ("©" credits and
        // "@" handles included: on flattened pages they start furniture segments).
        if matches!(n, ',' | ';' | ':' | '.' | ')' | ']' | '}' | '»' | '”') {
            continue;
        }
        if c == '.' && is_abbreviation(&s[..i]) {
            continue;
        }
        starts.push(j + 1);
    }
    starts
}

/// The sentence terminals of `s` ('.', '!', '?', '…'), with their byte
/// offsets, in order.
fn terminals(s: &str) -> impl Iterator<Item = (usize, char)> + '_ {
    let bytes = s.as_bytes();
    let mut ascii = memchr::memchr3_iter(b'.', b'!', b'?', bytes).peekable();
    let mut ellipses = memchr::memmem::find_iter(bytes, "…".as_bytes()).peekable();
    std::iter::from_fn(
        move || match (ascii.peek().copied(), ellipses.peek().copied()) {
            (Some(a), Some(e)) if e < a => ellipses.next().map(|e| (e, '…')),
            (Some(_), _) => ascii.next().map(|a| (a, char::from(bytes[a]))),
            (None, Some(_)) => ellipses.next().map(|e| (e, '…')),
            (None, None) => None,
        },
    )
}

/// True when the word ending right before a period is an abbreviation or an initial.
fn is_abbreviation(before: &str) -> bool {
    let word = before.rsplit([' ', '(', '"', '\'']).next().unwrap_or("");
    if word.is_empty() {
        return false;
    }
    let mut chars = word.chars();
    let first = chars.next();
    // Single letters are initials ("J. Smith"), except in lowercase fragments like "a."
    if chars.next().is_none() {
        return first.is_some_and(|c| c.is_uppercase());
    }
    let lower = word.to_lowercase();
    ABBREVIATIONS.contains(&lower.as_str())
}

pub struct SegmentConfig<'r> {
    pub rules: &'r CompiledRules,
    pub site: Option<&'r str>,
    pub title: Option<&'r str>,
    pub split_flattened: bool,
    pub inline_rules: bool,
}

/// Splits the page into segments.
pub fn segment<'a>(lines: Vec<Cow<'a, str>>, cfg: &SegmentConfig<'_>) -> Vec<Segment<'a>> {
    let mut out = Vec::with_capacity(lines.len() + 8);
    for (li, line) in lines.into_iter().enumerate() {
        // The sentence bounds that tell a flattened line serve its split too.
        let starts = (cfg.split_flattened
            && line.len() >= FLAT_MIN_CHARS
            && line.chars().count() >= FLAT_MIN_CHARS)
            .then(|| sentence_starts(&line))
            .filter(|starts| starts.len() + 1 >= FLAT_MIN_SENTENCES);
        match starts {
            Some(starts) => split_flattened(&line, starts, li, cfg, &mut out),
            None => out.push(Segment {
                text: line,
                line: li,
                sentence: false,
                pre_drop: None,
            }),
        }
    }
    out
}

fn push_owned<'a>(out: &mut Vec<Segment<'a>>, text: &str, line: usize, pre_drop: Option<PreDrop>) {
    let t = collapse_ws(text);
    if t.chars().any(|c| c.is_alphanumeric()) || (pre_drop.is_none() && !t.is_empty()) {
        out.push(Segment {
            text: Cow::Owned(t.into_owned()),
            line,
            sentence: true,
            pre_drop,
        });
    }
}

/// Splits a flattened line, whose sentences start at `starts`.
fn split_flattened<'a>(
    line: &str,
    starts: Vec<usize>,
    li: usize,
    cfg: &SegmentConfig<'_>,
    out: &mut Vec<Segment<'a>>,
) {
    // 1. Cut copies of the title out (they glue navigation to the lede on flattened pages).
    let mut pieces: Vec<(&str, Option<PreDrop>)> = Vec::new();
    match cfg.title.filter(|t| t.chars().count() >= 12) {
        Some(title) => {
            let mut rest = line;
            while let Some(pos) = rest.find(title) {
                pieces.push((&rest[..pos], None));
                pieces.push((&rest[pos..pos + title.len()], Some(PreDrop::TitleCopy)));
                rest = &rest[pos + title.len()..];
            }
            pieces.push((rest, None));
        }
        None => pieces.push((line, None)),
    }
    let mut line_starts = (pieces.len() == 1).then_some(starts);
    for (piece, drop) in pieces {
        if drop.is_some() {
            push_owned(out, piece, li, drop);
            continue;
        }
        // 2. Sentences (the line's own when no title was cut out of it).
        let mut start = 0;
        let mut bounds = line_starts.take().unwrap_or_else(|| sentence_starts(piece));
        bounds.push(piece.len());
        for end in bounds {
            let sentence = &piece[start..end];
            start = end;
            // 3. Inline furniture.
            if cfg.inline_rules {
                cut_inline(sentence, li, cfg, out, 0);
            } else {
                push_owned(out, sentence, li, None);
            }
        }
    }
}

/// Cuts the first inline-rule match out of `s` (recursing on both sides).
fn cut_inline<'a>(
    s: &str,
    li: usize,
    cfg: &SegmentConfig<'_>,
    out: &mut Vec<Segment<'a>>,
    depth: usize,
) {
    if depth < MAX_INLINE_CUTS {
        // The earliest match of any rule wins, so cuts happen left to right.
        let mut best: Option<(usize, usize, usize)> = None;
        for rule in cfg.rules.inline_rules_matching(s, cfg.site) {
            let Some(caps) = rule.regex.captures(s) else {
                continue;
            };
            let Some(m) = caps.name("cut").or_else(|| caps.get(0)) else {
                continue;
            };
            if m.start() == m.end() {
                continue;
            }
            if best.is_none_or(|(b, _, _)| m.start() < b) {
                best = Some((m.start(), m.end(), rule.family));
            }
        }
        if let Some((a, b, family)) = best {
            cut_inline(&s[..a], li, cfg, out, depth + 1);
            push_owned(out, &s[a..b], li, Some(PreDrop::Inline(family)));
            cut_inline(&s[b..], li, cfg, out, depth + 1);
            return;
        }
    }
    push_owned(out, s, li, None);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(s: &str) -> Vec<&str> {
        let mut v = Vec::new();
        let mut start = 0;
        let mut b = sentence_starts(s);
        b.push(s.len());
        for e in b {
            v.push(s[start..e].trim());
            start = e;
        }
        v
    }

    /// The first, character-by-character form of [`sentence_starts`].
    fn sentence_starts_by_chars(s: &str) -> Vec<usize> {
        let mut starts = Vec::new();
        let mut it = s.char_indices().peekable();
        while let Some((i, c)) = it.next() {
            if !matches!(c, '.' | '!' | '?' | '…') {
                continue;
            }
            while let Some(&(_, d)) = it.peek() {
                if matches!(
                    d,
                    '.' | '!' | '?' | '…' | '"' | '”' | '’' | '»' | ')' | ']' | '\''
                ) {
                    it.next();
                } else {
                    break;
                }
            }
            let Some(&(sp, ' ')) = it.peek() else {
                continue;
            };
            let Some(n) = s[sp + 1..].chars().next() else {
                continue;
            };
            if matches!(n, ',' | ';' | ':' | '.' | ')' | ']' | '}' | '»' | '”') {
                continue;
            }
            if c == '.' && is_abbreviation(&s[..i]) {
                continue;
            }
            starts.push(sp + 1);
        }
        starts
    }

    #[test]
    fn sentence_starts_agree_with_the_char_by_char_definition() {
        let pieces = [
            "Word", ".", "!", "?", "…", " ", "\"", "”", "»", ")", "Mr", "é", ",", "J", "a", "2",
        ];
        let n = pieces.len();
        let mut checked = 0;
        for k in 0..n.pow(5) {
            let mut s = String::new();
            let mut v = k;
            for _ in 0..5 {
                s.push_str(pieces[v % n]);
                v /= n;
            }
            assert_eq!(sentence_starts(&s), sentence_starts_by_chars(&s), "{s:?}");
            checked += 1;
        }
        assert_eq!(checked, n.pow(5));
        // And on real text: the seed pages, one of them flattened.
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/seeds");
        let mut seeds = 0;
        for entry in std::fs::read_dir(dir).expect("seed fixtures") {
            let path = entry.expect("entry").path();
            if path.extension().is_some_and(|e| e == "txt") {
                let text = std::fs::read_to_string(&path).expect("seed text");
                let starts = sentence_starts(&text);
                assert_eq!(
                    starts,
                    sentence_starts_by_chars(&text),
                    "{}",
                    path.display()
                );
                seeds += usize::from(!starts.is_empty());
            }
        }
        assert!(seeds >= 5, "{seeds} seed texts with sentences");
    }

    #[test]
    fn splits_sentences_but_not_abbreviations_or_initials() {
        let s = "Mr. Smith met J. Doe in St. Louis. They talked! Then « they left ». et alimentaire. Fin.";
        assert_eq!(
            split(s),
            vec![
                "Mr. Smith met J. Doe in St. Louis.",
                "They talked!",
                "Then « they left ».",
                "et alimentaire.",
                "Fin."
            ]
        );
    }

    #[test]
    fn splits_after_closing_quotes_and_french_spacing() {
        let s = "Il a dit \"non.\" Puis il est parti ! Emportez tout.";
        assert_eq!(
            split(s),
            vec!["Il a dit \"non.\"", "Puis il est parti !", "Emportez tout."]
        );
    }

    #[test]
    fn a_long_line_with_a_few_sentence_ends_is_split_at_them() {
        let rules = CompiledRules::builtin().expect("rules");
        let cfg = SegmentConfig {
            rules: &rules,
            site: None,
            title: None,
            split_flattened: true,
            inline_rules: true,
        };
        let segments = |line: &str| -> Vec<String> {
            segment(vec![Cow::Owned(line.to_string())], &cfg)
                .into_iter()
                .map(|s| s.text.into_owned())
                .collect()
        };
        let menu = "Home About Advertisements Job Vacancies Contact Latest Politics Nigeria News \
            World News Relationship Entertainment Sports Events "
            .repeat(6);
        let body = "Chelsea paid the fee to the Spanish league this morning to secure the \
            signing of the keeper. He will undergo a medical today ahead of the move. The \
            23-year-old flew to London yesterday evening. ";
        let line = format!("{menu}{body}Tags: Latest News Facebook Twitter Popular Posts");
        assert!(line.len() >= FLAT_MIN_CHARS);
        let parts = segments(&line);
        assert_eq!(parts.len(), 4, "{parts:#?}");
        assert!(parts[1].starts_with("He will undergo"), "{parts:#?}");
        assert!(parts[3].starts_with("Tags:"), "{parts:#?}");
        // Three sentences of a long paragraph: one block.
        let paragraph = format!("{}. It rained. It stopped.", "word ".repeat(220).trim_end());
        assert!(paragraph.len() >= FLAT_MIN_CHARS);
        assert_eq!(segments(&paragraph).len(), 1);
    }

    #[test]
    fn no_split_inside_numbers() {
        assert_eq!(
            split("It cost 3.5 million. Yes."),
            vec!["It cost 3.5 million.", "Yes."]
        );
    }
}
