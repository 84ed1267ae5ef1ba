//! Title detection.
//!
//! Contract: the title is the first heading-like line (short, one sentence)
//! whose content words mostly occur in the page's long paragraphs (it is
//! about the page's subject, unlike menus and teasers of other stories). A
//! trailing " - Site name" is dropped, or the bare headline printed elsewhere
//! on the page is preferred. Bounded: the subject is sampled from at most
//! `MAX_SUBJECT_WORDS` words; candidates are scanned once.

use std::borrow::Cow;
use std::ops::Range;

use super::rules::StopWords;
use super::segment::FLAT_MIN_CHARS;
use super::text::{contains_short, count_before_space, truncate_at_char, word_hash, words, Scan};

const MAX_SUBJECT_WORDS: usize = 1500;
/// Lines with at least this many words are paragraphs: they define the subject.
const SUBJECT_LINE_WORDS: usize = 25;
const MIN_TITLE_CHARS: usize = 12;
const MAX_TITLE_CHARS: usize = 250;
const SEPARATORS: &[&str] = &[" | ", " - ", " – ", " — ", " :: ", " · ", " • "];

/// A given title is usable when it has letters and a headline's length.
pub fn is_sane(t: &str) -> bool {
    let n = t.chars().count();
    (3..=400).contains(&n) && t.chars().filter(|c| c.is_alphabetic()).count() >= 3
}

/// Content word: at least 4 characters and not a stop word in any language.
fn content_hashes<'a>(s: &'a str, stop: &'a StopWords) -> impl Iterator<Item = u64> + 'a {
    words(s)
        .filter(|w| w.chars().count() >= 4)
        .map(word_hash)
        .filter(move |h| !stop.is_any_hash(*h))
}

/// The page's lines with what the cleaner's word pass already knows about them:
/// `scans[i]` and the content-word hashes `hashes[content[i]]` of `lines[i]` (the
/// hashes `content_hashes` gives, in order).
pub struct Lines<'l, 'a> {
    pub lines: &'l [Cow<'a, str>],
    pub scans: &'l [Scan],
    pub content: &'l [Range<usize>],
    pub hashes: &'l [u64],
}

impl Lines<'_, '_> {
    fn content(&self, i: usize) -> &[u64] {
        self.content
            .get(i)
            .and_then(|r| self.hashes.get(r.clone()))
            .unwrap_or(&[])
    }
}

/// The subject's content-word hashes as an open-addressing set (load <= 1/2):
/// filled and probed once per page, cheaper than sorting ~1500 hashes.
struct Subject {
    /// 0 marks an empty slot; a hash equal to 0 is kept in `zero`.
    slots: Vec<u64>,
    zero: bool,
    len: usize,
}

impl Subject {
    fn of(lines: &Lines<'_, '_>) -> Self {
        let mut n = 0;
        let mut end = 0;
        for (i, sc) in lines.scans.iter().enumerate() {
            if sc.tokens < SUBJECT_LINE_WORDS {
                continue;
            }
            n += lines.content(i).len();
            end = i + 1;
            if n >= MAX_SUBJECT_WORDS {
                break;
            }
        }
        let mut set = Subject {
            slots: vec![0; (2 * n).next_power_of_two().max(16)],
            zero: false,
            len: 0,
        };
        for (i, sc) in lines.scans.iter().enumerate().take(end) {
            if sc.tokens >= SUBJECT_LINE_WORDS {
                for &h in lines.content(i) {
                    set.insert(h);
                }
            }
        }
        set
    }
    fn is_empty(&self) -> bool {
        self.len == 0
    }
    fn slot(&self, h: u64) -> usize {
        // Fibonacci hashing of the FNV value: spreads its bits over the index.
        let mask = self.slots.len() - 1;
        (h.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 32) as usize & mask
    }
    fn insert(&mut self, h: u64) {
        if h == 0 {
            self.len += usize::from(!self.zero);
            self.zero = true;
            return;
        }
        let mask = self.slots.len() - 1;
        let mut i = self.slot(h);
        loop {
            match self.slots[i] {
                0 => {
                    self.slots[i] = h;
                    self.len += 1;
                    return;
                }
                k if k == h => return,
                _ => i = (i + 1) & mask,
            }
        }
    }
    /// `overlap` of a whole line, from its precomputed content words.
    fn overlap_hashes(&self, hashes: &[u64]) -> (usize, usize) {
        let m = hashes.iter().filter(|&&h| self.has(h)).count();
        (hashes.len(), m)
    }
    fn has(&self, h: u64) -> bool {
        if h == 0 {
            return self.zero;
        }
        let mask = self.slots.len() - 1;
        let mut i = self.slot(h);
        loop {
            match self.slots[i] {
                0 => return false,
                k if k == h => return true,
                _ => i = (i + 1) & mask,
            }
        }
    }
    /// (content words, of which in the subject)
    fn overlap(&self, s: &str, stop: &StopWords) -> (usize, usize) {
        let (mut n, mut m) = (0, 0);
        for h in content_hashes(s, stop) {
            n += 1;
            if self.has(h) {
                m += 1;
            }
        }
        (n, m)
    }
}

/// `chars` and `tokens`: the line's character and whitespace-separated token counts.
fn heading_like(l: &str, chars: usize, tokens: usize) -> bool {
    if l.len() < MIN_TITLE_CHARS || l.len() > MAX_TITLE_CHARS * 4 {
        return false;
    }
    if !(MIN_TITLE_CHARS..=MAX_TITLE_CHARS).contains(&chars) {
        return false;
    }
    if !(2..SUBJECT_LINE_WORDS).contains(&tokens) {
        return false;
    }
    // One sentence at most: "Foo. Bar baz." is a paragraph, not a headline.
    let inner_stops = count_before_space(l.trim_end_matches(['.', '!', '?', '…', ' ']), b'.');
    inner_stops == 0
}

fn overlap_matches((n, m): (usize, usize)) -> bool {
    m >= 2 && m * 10 >= n * 6
}

fn matches_subject(subject: &Subject, l: &str, stop: &StopWords) -> bool {
    overlap_matches(subject.overlap(l, stop))
}

/// False when `l` cannot hold any of `SEPARATORS` (all are a space, then `|`, `-`,
/// `:`, or a character starting with byte 0xC2 or 0xE2, then a space): one byte scan
/// instead of a substring search per separator.
fn may_have_separator(l: &str) -> bool {
    l.as_bytes()
        .windows(2)
        .any(|w| w[0] == b' ' && matches!(w[1], b'|' | b'-' | b':' | 0xC2 | 0xE2))
}

/// "Headline | Site name": the site name dilutes the overlap, so judge the head alone.
fn head_matches_subject(subject: &Subject, l: &str, stop: &StopWords) -> bool {
    may_have_separator(l)
        && SEPARATORS.iter().any(|sep| {
            l.rsplit_once(sep)
                .is_some_and(|(head, _)| matches_subject(subject, head, stop))
        })
}

/// Finds the title among the page's lines.
pub fn detect(page: &Lines<'_, '_>, stop: &StopWords) -> Option<String> {
    let subject = Subject::of(page);
    if subject.is_empty() {
        return None;
    }
    let lines = page.lines;
    let sc = |i: usize| page.scans.get(i).copied().unwrap_or_default();
    let (idx, line) = lines.iter().enumerate().find(|(i, l)| {
        heading_like(l, sc(*i).chars, sc(*i).tokens)
            && (overlap_matches(subject.overlap_hashes(page.content(*i)))
                || head_matches_subject(&subject, l, stop))
    })?;
    let line: &str = line;
    if !SEPARATORS.iter().any(|s| line.contains(s)) {
        return Some(line.to_string());
    }
    // "Headline - Site": prefer the bare headline if the page prints it (the h1).
    let half = line.len() / 2;
    if let Some((bi, bare)) = lines
        .iter()
        .enumerate()
        .skip(idx + 1)
        .take(2000)
        .find(|(_, l)| l.len() >= half && l.len() < line.len() && contains_short(line, l))
    {
        if heading_like(bare, sc(bi).chars, sc(bi).tokens)
            && overlap_matches(subject.overlap_hashes(page.content(bi)))
        {
            return Some(bare.to_string());
        }
    }
    // Else strip a trailing part that is not about the subject (the site name).
    for sep in SEPARATORS {
        if let Some((head, tail)) = line.rsplit_once(sep) {
            let (n, m) = subject.overlap(tail, stop);
            if tail.split_whitespace().count() <= 4
                && m == 0
                && n <= 3
                && matches_subject(&subject, head, stop)
            {
                return Some(head.to_string());
            }
        }
    }
    Some(line.to_string())
}

/// The title of a page flattened to one line, where no line is heading-like:
/// such text opens with the document's title and the site ("Headline – Site
/// Menu News Sport…"), and prints the headline again above the story (the
/// h1). The head of the first line, cut at a site separator, is the title
/// when it is headline-sized and recurs later in the page. Bounded: a search
/// for each separator in the line's first `MAX_TITLE_CHARS` bytes, and one
/// for the head in the rest of the line.
pub fn detect_in_flattened(first_line: &str) -> Option<String> {
    if first_line.len() < FLAT_MIN_CHARS {
        return None;
    }
    let head_zone = truncate_at_char(first_line, MAX_TITLE_CHARS);
    SEPARATORS
        .iter()
        .filter_map(|sep| head_zone.find(sep).map(|at| (at, sep.len())))
        .filter(|&(at, _)| at > 0)
        .min()
        .and_then(|(at, sep_len)| {
            let head = first_line.get(..at)?.trim();
            let tokens = head.split_whitespace().count();
            let chars = head.chars().count();
            let rest = first_line.get(at + sep_len..)?;
            (heading_like(head, chars, tokens) && tokens >= 3 && rest.contains(head))
                .then(|| head.to_string())
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clean::rules::CompiledRules;

    fn lines(v: &[&'static str]) -> Vec<Cow<'static, str>> {
        v.iter().map(|s| Cow::Borrowed(*s)).collect()
    }

    /// `detect` with the line data computed the slow way (what the cleaner's pass must equal).
    fn detect_lines(l: &[Cow<'_, str>], stop: &StopWords) -> Option<String> {
        let scans: Vec<Scan> = l
            .iter()
            .map(|s| crate::clean::text::scan(s, |_| {}))
            .collect();
        let mut hashes = Vec::new();
        let mut content = Vec::new();
        for s in l {
            let a = hashes.len();
            hashes.extend(content_hashes(s, stop));
            content.push(a..hashes.len());
        }
        detect(
            &Lines {
                lines: l,
                scans: &scans,
                content: &content,
                hashes: &hashes,
            },
            stop,
        )
    }

    const BODY: &str = "The city council voted on Tuesday to approve the new harbour bridge, ending a decade of \
        debate about the crossing, its cost and the ferry operators who said the bridge would ruin their trade.";

    #[test]
    fn picks_the_heading_about_the_subject_not_the_menu() {
        let rules = CompiledRules::builtin().expect("rules");
        let l = lines(&[
            "News Sport Weather",
            "Markets rally on oil news",
            "Council approves harbour bridge after decade of debate",
            BODY,
        ]);
        assert_eq!(
            detect_lines(&l, &rules.stopwords).as_deref(),
            Some("Council approves harbour bridge after decade of debate")
        );
    }

    #[test]
    fn strips_the_site_name_or_prefers_the_bare_headline() {
        let rules = CompiledRules::builtin().expect("rules");
        let l = lines(&["Council approves harbour bridge - The Daily Post", BODY]);
        assert_eq!(
            detect_lines(&l, &rules.stopwords).as_deref(),
            Some("Council approves harbour bridge")
        );
        let l = lines(&[
            "Council approves harbour bridge | Daily Post",
            "Menu",
            "Council approves harbour bridge",
            BODY,
        ]);
        assert_eq!(
            detect_lines(&l, &rules.stopwords).as_deref(),
            Some("Council approves harbour bridge")
        );
    }

    #[test]
    fn a_flattened_page_opens_with_its_title_and_prints_it_again() {
        let headline = "Council approves harbour bridge after a decade of debate";
        let filler = "The council voted on Tuesday night after a long public meeting. ".repeat(20);
        let page = format!(
            "{headline} – Harbour Gazette News Sport Weather Menu Search {headline} {filler}"
        );
        assert_eq!(detect_in_flattened(&page).as_deref(), Some(headline));
        // The head must recur: a page that only opens with it gives no title.
        let once = format!("{headline} – Harbour Gazette News Sport Weather {filler}");
        assert_eq!(detect_in_flattened(&once), None);
        // A short line is not a flattened page, and a one-word head is no headline.
        assert_eq!(
            detect_in_flattened(&format!("{headline} – Site {headline}")),
            None
        );
        let word = format!("Harbour – Gazette Harbour {filler}");
        assert_eq!(detect_in_flattened(&word), None);
    }

    #[test]
    fn no_title_when_the_page_has_only_paragraphs() {
        let rules = CompiledRules::builtin().expect("rules");
        assert_eq!(detect_lines(&lines(&[BODY, BODY]), &rules.stopwords), None);
    }
}
