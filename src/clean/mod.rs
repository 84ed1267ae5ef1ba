//! Cleaning: scraped page text in, article title and body paragraphs out.
//!
//! Contract: pure and synchronous. No I/O, no clock, no global state; the same
//! input and the same rules always give the same output. Never panics on any
//! input; memory and time are bounded by (and roughly linear in) the input
//! size, which is itself capped at [`MAX_INPUT_BYTES`]. Text is only sliced at
//! character boundaries. `Cleaner` is `Send + Sync + Clone` (rules are
//! compiled once and shared behind an `Arc`).
//!
//! Pipeline (each stage can be switched off with [`CleanOptions`] for ablations):
//! 1. lines: CR/LF normalised, whitespace collapsed, empty lines dropped;
//! 2. title: the given title when sane, else the first heading-like line that
//!    shares its words with the page's long paragraphs ([`title`]);
//! 3. segments: lines; flattened one-line pages are split into sentences and
//!    inline furniture is cut out ([`segment`]);
//! 4. per-block features and a jusText-like class (good / near-good / short /
//!    bad) from length and stop-word density;
//! 5. rule families from `config/rules/*.toml` (calls to action, cookies, ads,
//!    share/follow, newsletters, related lists, copyright, comments, credits,
//!    timestamps, bylines, menus) drop whole blocks;
//! 6. learned boilerplate (optional [`learned::BoilerplateModel`]);
//! 7. repetition: title copies, duplicated blocks (the copy that sits among
//!    unique content is kept), doubled captions, teaser fragments;
//! 8. main region: the maximum-scoring contiguous run of blocks;
//! 9. context: near-good and short blocks kept or dropped by their neighbours;
//! 10. paragraphs: kept blocks, consecutive sentences of one line re-joined.

pub mod eval;
pub mod learned;
mod rules;
mod segment;
mod text;
mod title;

use std::borrow::Cow;
use std::cell::RefCell;
use std::ops::Range;
use std::sync::{Arc, Weak};

use rules::{CompiledRules, MAX_STOP_LANGS};
use segment::{PreDrop, SegmentConfig};
use text::{
    collapse_ws, contains_short, count_before_space, ends_with_terminal, host_of, norm_hash, scan,
    truncate_at_char, word_hash, NeedleSearch, Scan,
};

pub use learned::{BoilerplateModel, LearnedConfig};

/// Inputs longer than this are truncated (at a char boundary) before cleaning.
pub const MAX_INPUT_BYTES: usize = 4 << 20;
/// At most this many lines are considered.
const MAX_LINES: usize = 50_000;
/// Blocks shorter than this (in chars) are "short": decided by their neighbours.
const SHORT_CHARS: usize = 50;
/// Good blocks are at least this long...
const GOOD_MIN_CHARS: usize = 140;
/// ... and at least this dense in stop words (share of words).
const STOP_HIGH: f32 = 0.30;
/// Near-good: at least this dense.
const STOP_LOW: f32 = 0.22;
/// Region weight of content in a run of 1, 2, ... content blocks (3+: 1.0).
const RUN_FACTORS: [f32; 3] = [1.0, 0.4, 0.7];
/// Region score of a title copy (see `region_score`).
const TITLE_ANCHOR: f32 = 150.0;
/// Region penalty of a related-list or comments header.
const SEPARATOR_PENALTY: f32 = 80.0;
/// Content (in characters) that must precede a comment-section header in the
/// region for the header to end it, or a list header for it to discount
/// what follows.
const HEADER_AFTER_BODY_CHARS: usize = 500;
/// A related-story block this short is a list header, not a teaser.
const LIST_HEADER_CHARS: usize = 30;
/// The weight of content after a list header. (On the dev pages any factor
/// from 0.5 to 0.7 gave the same result; 0.8 lost half of the gain.)
const AFTER_LIST_HEADER_FACTOR: f32 = 0.6;
/// Teaser: a block whose first words hold this many capitalised stop words is a
/// Title-Case headline glued to its summary ("Man Arrested In Theft Of ... A man was").
const TEASER_CAPS_STOP: u8 = 2;
/// A run of menu items or link titles: a block at least this long (chars)...
const MENU_MIN_CHARS: usize = 300;
/// ... in which at least this share (%) of the words in no stop list start
/// with a capital. (Until stop 18 the share was of the words outside the
/// page language's list only: on a page where no list fits, a menu's "de",
/// "e", "à" counted against it.) Prose,
/// German included, stays well below; a navigation bar flattened into a page's
/// one line does not, however many stop words its items hold ("Acesso à
/// Informação Fale com a Ouvidoria Portal do Servidor"). Such a bar with few
/// stop words is already judged by their density. Counted on the sentences of
/// a split line only, where menu items run together: on a page with line
/// breaks they stand on lines of their own (and counting on every line cost
/// 1.6% of the cleaner's instructions on the dev pages).
const MENU_CAPS_SHARE: u32 = 85;
/// A sentence of a split (flattened) line with more words than this is not a
/// sentence: the splitter found no full stop in it, and on a flattened page
/// that is a menu, a tag cloud or a row of links run together, whatever its
/// stop words say. News prose runs about 20 words a sentence. On the dev pages
/// flattened, F1 0.832 → 0.855; 60 gave 0.850, 100 0.846, 150 0.844, 250
/// 0.840. What it costs: a list written without full stops (a deals page's
/// products, a programme) is lost with it (five dev pages lose some recall).
const MAX_SENTENCE_WORDS: u16 = 80;
/// At most this many teaser-fragment candidates are checked per page (each costs a scan).
const MAX_FRAGMENT_CHECKS: usize = 32;
/// The body's stop words name its language when the best list has at least this
/// many hits, this share (%) of the body's words, and this many times the hits
/// of the runner-up (see `Cleaner::body_language`).
const BODY_LANG_MIN_HITS: u32 = 20;
const BODY_LANG_MIN_DENSITY: u32 = 20;
const BODY_LANG_MARGIN: u32 = 2;
/// Bytes of body given to the language detector.
const LANG_SAMPLE_BYTES: usize = 200;

/// What the cleaner is given about one article.
#[derive(Debug, Clone, Copy, Default)]
pub struct CleanInput<'a> {
    pub text: &'a str,
    /// Title sent by the scraper, if any.
    pub title: Option<&'a str>,
    /// Source name (the site), used to pick per-site rules.
    pub source: Option<&'a str>,
    pub url: Option<&'a str>,
}

/// The cleaned article.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Cleaned {
    pub title: Option<String>,
    /// Body paragraphs, in page order, never including the title.
    pub paragraphs: Vec<String>,
    /// Language code (ISO 639-1) when detected with confidence.
    pub lang: Option<String>,
    /// Segments (blocks/sentences) the text was split into.
    pub segments_in: usize,
    /// Segments dropped as boilerplate or repetition.
    pub segments_removed: usize,
    /// What [`Cleaner::block_hashes`] returns for the same input (in page
    /// order; a block printed twice gives its hash twice), computed in the
    /// same pass.
    pub block_hashes: Vec<u64>,
}

impl Cleaned {
    /// The body as published: paragraphs separated by a blank line.
    pub fn body(&self) -> String {
        self.paragraphs.join("\n\n")
    }
}

/// One segment of a page and what the cleaner decided about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SegmentVerdict {
    pub text: String,
    /// good / neargood / short / bad (length and stop-word density).
    pub class: String,
    /// Why it was dropped (`rule:cta`, `inline:ads`, `duplicate`, `outsideregion`, ...), None if kept.
    pub dropped: Option<String>,
}

/// The cleaner's verdict on every segment of a page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Explained {
    pub title: Option<String>,
    pub segments: Vec<SegmentVerdict>,
}

impl Explained {
    /// The verdict of the first segment containing `needle`.
    pub fn find(&self, needle: &str) -> Option<&SegmentVerdict> {
        self.segments.iter().find(|s| s.text.contains(needle))
    }
}

/// Stage switches, for ablation studies (all on by default).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CleanOptions {
    /// Whole-block and inline rule families from the rule files.
    pub rules: bool,
    /// Split flattened one-line pages into sentences.
    pub sentence_split: bool,
    /// Stop-word density features (else length and punctuation only).
    pub stopwords: bool,
    /// Title detection and removal of title copies from the body.
    pub title: bool,
    /// Duplicate blocks, doubled captions and teaser fragments.
    pub dedupe: bool,
    /// Keep only the main contiguous region.
    pub region: bool,
    /// Decide near-good and short blocks from their neighbours (else keep them).
    pub context: bool,
}

impl Default for CleanOptions {
    fn default() -> Self {
        CleanOptions {
            rules: true,
            sentence_split: true,
            stopwords: true,
            title: true,
            dedupe: true,
            region: true,
            context: true,
        }
    }
}

/// A configured cleaner. Cheap to clone and share between threads (`Send + Sync`).
#[derive(Debug, Clone)]
pub struct Cleaner {
    rules: Arc<CompiledRules>,
    options: CleanOptions,
}

impl Default for Cleaner {
    fn default() -> Self {
        Cleaner::builtin()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Class {
    Good,
    NearGood,
    Short,
    Bad,
}

/// Why a block was dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Dropped {
    /// Cut out of a flattened line by an inline rule (family index).
    Inline(usize),
    /// Matched a whole-block rule (family index).
    Rule(usize),
    Title,
    Learned,
    Duplicate,
    DoubledCaption,
    Fragment,
    OutsideRegion,
    /// Resolved as boilerplate from its class and neighbours.
    Context,
}

impl Dropped {
    /// Drops that are evidence of page furniture (they separate content regions).
    fn is_furniture(self) -> bool {
        matches!(
            self,
            Dropped::Inline(_) | Dropped::Rule(_) | Dropped::Learned
        )
    }
}

#[derive(Debug, Clone)]
struct Block<'a> {
    text: Cow<'a, str>,
    line: usize,
    sentence: bool,
    chars: usize,
    /// Length for the content scores: CJK characters count three (one carries a word).
    weight: usize,
    class: Class,
    hash: u64,
    /// Holds a letter or digit.
    alnum: bool,
    dropped: Option<Dropped>,
    /// Member of a group of repeated blocks.
    repeated: bool,
    /// For a dropped duplicate: the index of the copy that was kept.
    copy_of: Option<usize>,
    /// Words, and stop words of each listed language (for the body's language).
    words: u16,
    stop: [u16; MAX_STOP_LANGS],
}

impl Cleaner {
    /// The cleaner with the rules shipped in `config/rules/` compiled in.
    pub fn builtin() -> Self {
        // The built-in rule files are part of the binary and compiled by the unit
        // tests, so this cannot fail at run time for a tested build.
        let rules = CompiledRules::builtin().expect("built-in rules in config/rules/ are valid");
        Self::with_rules(rules)
    }

    fn with_rules(rules: CompiledRules) -> Self {
        Cleaner {
            rules: Arc::new(rules),
            options: CleanOptions::default(),
        }
    }

    /// Runs `f` with this thread's own copy of the cleaner, made on the
    /// thread's first call. A regex keeps its search caches in a pool that
    /// serves the first thread to use it without a lock and every other thread
    /// through one; a worker's runtime threads all clean, so each gets its own
    /// copy (its rules cloned: the compiled automata are shared, the caches
    /// are not). Costs one copy of the rule tables per thread.
    pub fn with_thread_copy<R>(&self, f: impl FnOnce(&Cleaner) -> R) -> R {
        thread_local! {
            /// The original's rules (held weakly, so their address cannot be
            /// reused by other rules while this entry lives) and their copy.
            static COPY: RefCell<Option<(Weak<CompiledRules>, Arc<CompiledRules>)>> = const { RefCell::new(None) };
        }
        let rules = COPY.with(|slot| {
            let mut slot = slot.borrow_mut();
            match &*slot {
                Some((original, copy))
                    if std::ptr::eq(original.as_ptr(), Arc::as_ptr(&self.rules)) =>
                {
                    copy.clone()
                }
                _ => {
                    let copy = Arc::new((*self.rules).clone());
                    *slot = Some((Arc::downgrade(&self.rules), copy.clone()));
                    copy
                }
            }
        });
        f(&Cleaner {
            rules,
            options: self.options,
        })
    }

    /// Loads rule files from a directory (same format as `config/rules/`): every
    /// `*.toml` file in it is read and merged.
    pub fn from_dir(dir: &std::path::Path) -> anyhow::Result<Self> {
        Ok(Self::with_rules(CompiledRules::from_dir(dir)?))
    }

    /// The same rules with other stage switches (for ablations).
    pub fn with_options(&self, options: CleanOptions) -> Self {
        Cleaner {
            rules: Arc::clone(&self.rules),
            options,
        }
    }

    pub fn options(&self) -> CleanOptions {
        self.options
    }

    pub fn clean(&self, input: &CleanInput<'_>) -> Cleaned {
        self.clean_with(input, None)
    }

    /// Normalised hashes of the article's blocks, as the cleaner segments it,
    /// in page order (a block printed twice appears twice): what
    /// [`BoilerplateModel::record`] takes.
    pub fn block_hashes(&self, input: &CleanInput<'_>) -> Vec<u64> {
        self.prepare(input).block_hashes()
    }

    /// One pass over a block's characters: counts, hash, words, stop words.
    /// Content words (for title detection) are appended to `content` when given.
    /// `MENU`: also count the capitalised words in no stop list (for
    /// [`MENU_CAPS_SHARE`]), on the sentences of a split line only.
    fn scan_block<const MENU: bool>(
        &self,
        text: &str,
        mut content: Option<&mut Vec<u64>>,
    ) -> (Scan, WordStats) {
        let stop = &self.rules.stopwords;
        let n_langs = stop.langs.len().min(MAX_STOP_LANGS);
        let lang_bits: u32 = (1u32 << n_langs) - 1;
        let mut st = WordStats::default();
        // Stop-word counts, eight languages to a word in 8-bit lanes (one table
        // load and one add per eight languages), moved to `st.stop` before a lane
        // could overflow and at the end.
        let mut packed = [0u64; STOP_LANE_WORDS];
        let mut unflushed = 0u32;
        let flush = |packed: &mut [u64; STOP_LANE_WORDS], stop: &mut [u16; MAX_STOP_LANGS]| {
            for (k, lanes) in packed.iter_mut().enumerate() {
                for (lane, count) in lanes.to_le_bytes().into_iter().enumerate() {
                    if let Some(s) = stop.get_mut(8 * k + lane) {
                        *s = s.saturating_add(u16::from(count));
                    }
                }
                *lanes = 0;
            }
        };
        let second_lanes = n_langs > 8;
        let mut words = 0u32;
        let mut unlisted_caps = 0u32;
        let mut listed = 0u32;
        let sc = scan(text, |w| {
            let found = stop.mask_hashed(w.text.len(), w.hash);
            st.triggers |= found;
            if w.compound {
                // Trigger words also count inside compounds ("Photo/AFP").
                for run in w
                    .text
                    .split(|c: char| !c.is_alphanumeric())
                    .filter(|r| !r.is_empty())
                {
                    st.triggers |= stop.mask_hashed(run.len(), word_hash(run));
                }
            }
            let mask = found & lang_bits;
            words += 1;
            if MENU {
                unlisted_caps += u32::from(w.upper & (mask == 0));
                listed += u32::from(mask != 0);
            }
            // Branch-free counting: whether a word is a stop word is a coin toss
            // in prose, which a branch predictor cannot learn. (Words 2 to 12 are
            // the lead; "I" is capitalised everywhere.)
            let in_lead = words.wrapping_sub(2) < 11;
            let lead = (mask != 0) & in_lead & w.upper & (w.hash != text::HASH_OF_I);
            st.caps_stop_lead = st.caps_stop_lead.saturating_add(u8::from(lead));
            packed[0] += SPREAD_BYTE[(mask & 0xff) as usize];
            if second_lanes {
                packed[1] += SPREAD_BYTE[((mask >> 8) & 0xff) as usize];
            }
            unflushed += 1;
            if unflushed == u32::from(u8::MAX) {
                flush(&mut packed, &mut st.stop);
                unflushed = 0;
            }
            if let Some(v) = content.as_deref_mut() {
                // `title::content_hashes`: 4+ chars, not a stop word of any language.
                // (Words longer than any stop word are looked up only for the rare
                // case of a lowercase form shorter than the word.)
                let long_stop_word = w.text.len() > stop.max_len() && stop.is_any_hash(w.hash);
                let keep = (w.chars >= 4) & (mask == 0) & !long_stop_word;
                // Pushed, then kept or not by the length: no branch on a coin toss.
                v.push(w.hash);
                let len = v.len() - usize::from(!keep);
                v.truncate(len);
            }
        });
        st.words = u16::try_from(words).unwrap_or(u16::MAX);
        st.unlisted_caps = u16::try_from(unlisted_caps).unwrap_or(u16::MAX);
        st.listed = u16::try_from(listed).unwrap_or(u16::MAX);
        st.triggers |= self.rules.separator_triggers(sc.separators);
        flush(&mut packed, &mut st.stop);
        (sc, st)
    }

    /// Lines, stop-word language, title and segments of a page.
    fn prepare<'a>(&self, input: &CleanInput<'a>) -> Page<'a> {
        let text = truncate_at_char(input.text, MAX_INPUT_BYTES);
        // Split at '\n' and '\r' bytes (ASCII, so always at char boundaries).
        let mut rest = text;
        let raw_lines = std::iter::from_fn(move || {
            if rest.is_empty() {
                return None;
            }
            match memchr::memchr2(b'\n', b'\r', rest.as_bytes()) {
                Some(p) => {
                    let line = &rest[..p];
                    rest = &rest[p + 1..];
                    Some(line)
                }
                None => Some(std::mem::take(&mut rest)),
            }
        });
        // Content words only serve title detection: skipped when a usable title came with the article.
        let given_title = input
            .title
            .map(collapse_ws)
            .filter(|t| title::is_sane(t))
            .map(Cow::into_owned);
        let detect_title = given_title.is_none() && self.options.title;
        // The one word pass over every line (reused for title detection and for the
        // blocks that are whole lines). It also tells whether the line is already
        // collapsed (most are); the others are collapsed and passed over again.
        // Sized once from a count of line breaks, not grown push by push.
        let line_count = (text::count_line_breaks(text) + 1).min(MAX_LINES);
        let mut lines: Vec<Cow<'a, str>> = Vec::with_capacity(line_count);
        let mut line_scans: Vec<(Scan, WordStats)> = Vec::with_capacity(line_count);
        let mut scans: Vec<Scan> = Vec::with_capacity(line_count);
        let mut content: Vec<Range<usize>> = Vec::with_capacity(line_count);
        // About one content word per 12 bytes of prose.
        let mut hashes: Vec<u64> = Vec::with_capacity(text.len() / 12);
        for raw in raw_lines {
            if lines.len() >= MAX_LINES {
                break;
            }
            let a = hashes.len();
            let (mut sc, mut st) =
                self.scan_block::<false>(raw, detect_title.then_some(&mut hashes));
            let line = if sc.collapsed {
                Cow::Borrowed(raw)
            } else {
                hashes.truncate(a);
                let line = collapse_ws(raw);
                (sc, st) = self.scan_block::<false>(&line, detect_title.then_some(&mut hashes));
                line
            };
            // A line of zero-width characters alone is a blank line (pages put
            // U+200B between paragraphs), not a block of its own between them.
            if line.is_empty()
                || (!sc.alnum
                    && line
                        .chars()
                        .all(|c| c == ' ' || crate::fingerprint::is_invisible(c)))
            {
                continue;
            }
            lines.push(line);
            content.push(a..hashes.len());
            scans.push(sc);
            line_scans.push((sc, st));
        }
        let site = input
            .source
            .map(str::to_lowercase)
            .or_else(|| input.url.and_then(host_of));
        let title = match given_title {
            Some(t) => Some(t),
            None if self.options.title => title::detect(
                &title::Lines {
                    lines: &lines,
                    scans: &scans,
                    content: &content,
                    hashes: &hashes,
                },
                &self.rules.stopwords,
            )
            .or_else(|| lines.first().and_then(|l| title::detect_in_flattened(l))),
            None => None,
        };
        let cfg = SegmentConfig {
            rules: &self.rules,
            site: site.as_deref(),
            title: title.as_deref().filter(|_| self.options.title),
            split_flattened: self.options.sentence_split,
            inline_rules: self.options.rules,
        };
        let segments = segment::segment(lines, &cfg);
        // Whole-line segments reuse their line's pass; sentences get their own.
        let seg_scans = segments
            .iter()
            .map(|s| match line_scans.get(s.line) {
                Some(ls) if !s.sentence => *ls,
                _ => self.scan_block::<true>(&s.text, None),
            })
            .collect();
        Page {
            site,
            title,
            segments,
            scans: seg_scans,
        }
    }

    /// Cleans with an optional learned-boilerplate model for the source.
    pub fn clean_with(
        &self,
        input: &CleanInput<'_>,
        learned: Option<&BoilerplateModel>,
    ) -> Cleaned {
        self.assemble(self.analyse(input, learned))
    }

    /// The page cleaned by the rules alone and, when `learned` knows some of its
    /// blocks, cleaned with the model too: what [`Cleaner::clean`] and
    /// [`Cleaner::clean_with`] return, with the shared stages (1-5, nearly all of
    /// the work) run once.
    pub fn clean_pair(
        &self,
        input: &CleanInput<'_>,
        learned: Option<&BoilerplateModel>,
    ) -> (Cleaned, Option<Cleaned>) {
        let base = self.analyse_base(input);
        // The learned pass only when the model would strip something: when the
        // guard refuses, it would give the rules-only result again.
        let with_model = match (learned, base.site.as_deref()) {
            (Some(model), Some(site)) => {
                learned_drops(&base.analysis.blocks, model, site).map(|drops| {
                    let mut copy = base.analysis.clone();
                    mark_learned(&mut copy.blocks, drops);
                    self.assemble(self.finish(copy))
                })
            }
            _ => None,
        };
        (self.assemble(self.finish(base.analysis)), with_model)
    }

    /// 10. Paragraphs, and the body's language.
    fn assemble(&self, analysis: Analysis<'_>) -> Cleaned {
        let Analysis {
            title,
            blocks,
            block_hashes,
        } = analysis;
        let segments_in = blocks.len();
        // 10. Paragraphs.
        let mut paragraphs: Vec<String> = Vec::new();
        let mut prev_kept: Option<usize> = None;
        for (i, b) in blocks.iter().enumerate() {
            if b.dropped.is_some() {
                continue;
            }
            let joins = prev_kept.is_some_and(|p| {
                p + 1 == i && blocks[p].sentence && b.sentence && blocks[p].line == b.line
            });
            match paragraphs.last_mut() {
                Some(last) if joins => {
                    last.push(' ');
                    last.push_str(&b.text);
                }
                _ => paragraphs.push(b.text.to_string()),
            }
            prev_kept = Some(i);
        }
        let segments_removed = blocks.iter().filter(|b| b.dropped.is_some()).count();
        let lang = self
            .body_language(&blocks)
            .map(str::to_string)
            .or_else(|| detect_lang(&paragraphs));
        Cleaned {
            title,
            paragraphs,
            lang,
            segments_in,
            segments_removed,
            block_hashes,
        }
    }

    /// Every segment of the page with the cleaner's verdict (for debugging,
    /// evaluation reports and rule tests).
    pub fn explain(&self, input: &CleanInput<'_>, learned: Option<&BoilerplateModel>) -> Explained {
        let Analysis { title, blocks, .. } = self.analyse(input, learned);
        let segments = blocks
            .iter()
            .map(|b| SegmentVerdict {
                text: b.text.to_string(),
                class: format!("{:?}", b.class).to_lowercase(),
                dropped: b.dropped.map(|d| match d {
                    Dropped::Inline(f) => format!("inline:{}", self.rules.family_name(f)),
                    Dropped::Rule(f) => format!("rule:{}", self.rules.family_name(f)),
                    other => format!("{other:?}").to_lowercase(),
                }),
            })
            .collect();
        Explained { title, segments }
    }

    /// Stages 1-9: the page's title and its blocks with their verdicts.
    fn analyse<'a>(
        &self,
        input: &CleanInput<'a>,
        learned: Option<&BoilerplateModel>,
    ) -> Analysis<'a> {
        let mut base = self.analyse_base(input);
        // 6. Learned boilerplate.
        if let (Some(model), Some(site)) = (learned, base.site.as_deref()) {
            apply_learned(&mut base.analysis.blocks, model, site);
        }
        self.finish(base.analysis)
    }

    /// Stages 1-5: title, blocks, classes, rule verdicts and title copies.
    fn analyse_base<'a>(&self, input: &CleanInput<'a>) -> Base<'a> {
        let page = self.prepare(input);
        let block_hashes = page.block_hashes();
        let Page {
            site,
            title,
            segments,
            scans,
        } = page;
        let opts = self.options;

        // 4. Features: one pass over each block's words (done in `prepare`) counts stop
        // words of every language; the page language is the list with the most hits.
        let mut page_hits = [0u32; MAX_STOP_LANGS];
        let mut page_words = 0u32;
        let stats: Vec<(Scan, WordStats)> = scans
            .into_iter()
            .map(|(sc, st)| {
                let st = if opts.stopwords {
                    st
                } else {
                    WordStats {
                        triggers: st.triggers,
                        ..WordStats::default()
                    }
                };
                for (p, h) in page_hits.iter_mut().zip(st.stop.iter()) {
                    *p += u32::from(*h);
                }
                page_words += u32::from(st.words);
                (sc, st)
            })
            .collect();
        let stop_lang = if opts.stopwords {
            self.rules.pick_stop_language(&page_hits, page_words)
        } else {
            None
        };

        // Classes; 5. rules.
        let mut blocks: Vec<Block<'a>> = segments
            .into_iter()
            .zip(stats)
            .map(|(s, (sc, st))| {
                let chars = sc.chars;
                let weight = chars + 2 * sc.cjk;
                let mut dropped = s.pre_drop.map(|p| match p {
                    PreDrop::Inline(f) => Dropped::Inline(f),
                    PreDrop::TitleCopy => Dropped::Title,
                });
                let class = if s.sentence && st.words > MAX_SENTENCE_WORDS {
                    Class::Bad
                } else {
                    self.classify(&s.text, sc.alnum, weight, &st, stop_lang)
                };
                if dropped.is_none() && opts.rules {
                    if let Some(f) =
                        self.rules
                            .match_block(&s.text, chars, site.as_deref(), st.triggers)
                    {
                        dropped = Some(Dropped::Rule(f));
                    }
                }
                Block {
                    hash: sc.hash,
                    alnum: sc.alnum,
                    text: s.text,
                    line: s.line,
                    sentence: s.sentence,
                    chars,
                    weight,
                    class,
                    dropped,
                    repeated: false,
                    copy_of: None,
                    words: st.words,
                    stop: st.stop,
                }
            })
            .collect();

        // Title copies in the body.
        if let Some(t) = title.as_deref().filter(|_| opts.title) {
            drop_title_copies(&mut blocks, t);
        }
        Base {
            site,
            analysis: Analysis {
                title,
                blocks,
                block_hashes,
            },
        }
    }

    /// Stages 7-9.
    fn finish<'a>(&self, mut analysis: Analysis<'a>) -> Analysis<'a> {
        let opts = self.options;
        let blocks = &mut analysis.blocks;
        // 7. Repetition.
        if opts.dedupe {
            dedupe(blocks);
            drop_fragments(blocks);
        }
        // 8. Main region.
        if opts.region {
            select_region(blocks, &self.rules);
        }
        // 9. Context.
        if opts.context {
            resolve_context(blocks);
        }
        analysis
    }

    /// The body's language when its stop words leave no doubt: prose in a listed
    /// language is dense in that list's words and much less in any other's.
    /// None sends the body to whatlang (languages without a list, mixed or short
    /// bodies, close relatives the lists cannot tell apart).
    fn body_language(&self, blocks: &[Block<'_>]) -> Option<&str> {
        if !self.options.stopwords {
            return None;
        }
        let mut hits = [0u32; MAX_STOP_LANGS];
        let mut words = 0u32;
        for b in blocks.iter().filter(|b| b.dropped.is_none()) {
            words += u32::from(b.words);
            for (h, s) in hits.iter_mut().zip(b.stop) {
                *h += u32::from(s);
            }
        }
        let n = self.rules.stopwords.langs.len().min(MAX_STOP_LANGS);
        let (mut best, mut first, mut second) = (0, 0u32, 0u32);
        for (i, &h) in hits.iter().enumerate().take(n) {
            if h > first {
                second = first;
                first = h;
                best = i;
            } else if h > second {
                second = h;
            }
        }
        let clear = first >= BODY_LANG_MIN_HITS
            && first * 100 >= words * BODY_LANG_MIN_DENSITY
            && first >= BODY_LANG_MARGIN * second;
        clear.then(|| self.rules.stopwords.langs[best].as_str())
    }

    /// jusText-like class from length and stop-word density.
    fn classify(
        &self,
        text: &str,
        alnum: bool,
        chars: usize,
        st: &WordStats,
        stop_lang: Option<usize>,
    ) -> Class {
        if !alnum {
            return Class::Bad;
        }
        if chars < SHORT_CHARS {
            return Class::Short;
        }
        // Stop words of the page language (none when no list fits), for the
        // density below; the menu test counts the words in no list at all.
        let stop = stop_lang.and_then(|l| st.stop.get(l)).copied().unwrap_or(0);
        let unlisted = u32::from(st.words.saturating_sub(st.listed));
        if chars >= MENU_MIN_CHARS
            && unlisted > 0
            && u32::from(st.unlisted_caps) * 100 >= unlisted * MENU_CAPS_SHARE
        {
            return Class::Bad;
        }
        match stop_lang {
            Some(_) => {
                if st.caps_stop_lead >= TEASER_CAPS_STOP {
                    return Class::Bad;
                }
                let density = if st.words == 0 {
                    0.0
                } else {
                    f32::from(stop) / f32::from(st.words)
                };
                if chars >= GOOD_MIN_CHARS && density >= STOP_HIGH {
                    Class::Good
                } else if density >= STOP_LOW {
                    Class::NearGood
                } else {
                    Class::Bad
                }
            }
            // No stop-word list fits the page: fall back on length and sentence shape.
            None => {
                let sentence_like = ends_with_terminal(text) || count_before_space(text, b',') >= 2;
                if chars >= 2 * GOOD_MIN_CHARS && sentence_like {
                    Class::Good
                } else if chars >= GOOD_MIN_CHARS / 2 && sentence_like {
                    Class::NearGood
                } else {
                    Class::Bad
                }
            }
        }
    }
}

/// u64s of 8-bit lanes that hold one stop-word count per language.
const STOP_LANE_WORDS: usize = MAX_STOP_LANGS.div_ceil(8);
const _: () = assert!(
    STOP_LANE_WORDS <= 2,
    "stop-word counts take one or two u64s of lanes"
);

/// An 8-bit language mask spread to one 8-bit lane per language.
static SPREAD_BYTE: [u64; 256] = {
    let mut t = [0u64; 256];
    let mut n = 0;
    while n < 256 {
        let mut lane = 0;
        while lane < 8 {
            if n & (1 << lane) != 0 {
                t[n] |= 1 << (8 * lane);
            }
            lane += 1;
        }
        n += 1;
    }
    t
};

#[derive(Debug, Default, Clone, Copy)]
struct WordStats {
    words: u16,
    /// Words in no stop-word list that start with a capital letter (counted
    /// on the sentences of a split line only, 0 elsewhere).
    unlisted_caps: u16,
    /// Words in some stop-word list (counted with `unlisted_caps` only).
    listed: u16,
    /// Capitalised stop words among the first words, after the first one.
    caps_stop_lead: u8,
    /// Trigger bits of the rules whose trigger words (or list separators) the
    /// block holds.
    triggers: u32,
    /// Stop words of each listed language.
    stop: [u16; MAX_STOP_LANGS],
}

struct Page<'a> {
    site: Option<String>,
    title: Option<String>,
    segments: Vec<segment::Segment<'a>>,
    /// Per segment: its character pass and word stats.
    scans: Vec<(Scan, WordStats)>,
}

impl Page<'_> {
    /// Normalised hashes of the segments not cut before classification, in
    /// page order. Not deduplicated: the learner, which wants a set, makes one
    /// for the few articles it samples, instead of every article paying a sort.
    fn block_hashes(&self) -> Vec<u64> {
        self.segments
            .iter()
            .zip(&self.scans)
            .filter(|(s, (sc, _))| s.pre_drop.is_none() && sc.alnum)
            .map(|(_, (sc, _))| sc.hash)
            .collect()
    }
}

/// Stages 1-5 of a page (see [`Cleaner::analyse_base`]).
struct Base<'a> {
    site: Option<String>,
    analysis: Analysis<'a>,
}

/// Stages 1-9 of a page.
#[derive(Clone)]
struct Analysis<'a> {
    title: Option<String>,
    blocks: Vec<Block<'a>>,
    block_hashes: Vec<u64>,
}

/// Drops blocks that are the title, or the title plus a short site name/section.
fn drop_title_copies(blocks: &mut [Block<'_>], title: &str) {
    let th = norm_hash(title);
    let tchars = title.chars().count();
    for b in blocks.iter_mut().filter(|b| b.dropped.is_none()) {
        // Only blocks at most 40 characters longer than the title are searched:
        // a substring searcher for the title cost more to build (about 1% of the
        // cleaner's instructions on the dev pages) than these searches.
        let holds_title = || contains_short(&b.text, title);
        if b.hash == th || (b.chars >= tchars && b.chars <= tchars + 40 && holds_title()) {
            b.dropped = Some(Dropped::Title);
        }
    }
}

/// Drops blocks the model has seen on many articles of this source, unless that
/// would strip more than the model's allowed share of the body (syndicated copies
/// of one story look like boilerplate to a per-source count).
fn apply_learned(blocks: &mut [Block<'_>], model: &BoilerplateModel, site: &str) {
    if let Some(drops) = learned_drops(blocks, model, site) {
        mark_learned(blocks, drops);
    }
}

fn mark_learned(blocks: &mut [Block<'_>], drops: Vec<usize>) {
    for i in drops {
        blocks[i].dropped = Some(Dropped::Learned);
    }
}

/// The blocks [`apply_learned`] drops, or None when it drops none.
fn learned_drops(blocks: &[Block<'_>], model: &BoilerplateModel, site: &str) -> Option<Vec<usize>> {
    let hits: Vec<usize> = (0..blocks.len())
        .filter(|&i| blocks[i].dropped.is_none() && model.is_boilerplate(site, blocks[i].hash))
        .collect();
    if hits.is_empty() {
        return None;
    }
    let body_chars: usize = blocks
        .iter()
        .filter(|b| b.dropped.is_none() && b.class != Class::Bad)
        .map(|b| b.chars)
        .sum();
    let hit_chars: usize = hits
        .iter()
        .filter(|&&i| blocks[i].class != Class::Bad)
        .map(|&i| blocks[i].chars)
        .sum();
    model.allows_strip(hit_chars, body_chars).then_some(hits)
}

/// Dropped as a repeat of another block (neutral for the region search).
fn is_repetition(b: &Block<'_>) -> bool {
    matches!(
        b.dropped,
        Some(Dropped::Duplicate | Dropped::Fragment | Dropped::DoubledCaption)
    )
}

fn is_content(b: &Block<'_>) -> bool {
    b.dropped.is_none() && matches!(b.class, Class::Good | Class::NearGood)
}

/// Repeated blocks: a block printed twice in a row (image alt + caption, title
/// twice) is furniture and all copies go; otherwise one copy is kept, the one
/// that sits among unique content (the body), the first on a tie.
fn dedupe(blocks: &mut [Block<'_>]) {
    let groups = repeated_groups(blocks);
    for g in &groups {
        for &i in g {
            blocks[i].repeated = true;
        }
    }
    for g in groups {
        let doubled = g.windows(2).any(|w| w[1] == w[0] + 1) && blocks[g[0]].chars >= 30;
        if doubled {
            for &i in &g {
                blocks[i].dropped = Some(Dropped::DoubledCaption);
            }
            continue;
        }
        let score = |i: usize| -> f32 {
            let mut s = 0.0;
            for d in 1..=4usize {
                for j in [i.checked_sub(d), i.checked_add(d)].into_iter().flatten() {
                    if let Some(b) = blocks.get(j) {
                        if is_content(b) && !b.repeated {
                            s += 1.0 / d as f32;
                        }
                    }
                }
            }
            s
        };
        let mut keep = g[0];
        let mut best = score(keep);
        for &i in &g[1..] {
            let s = score(i);
            if s > best + 1e-6 {
                best = s;
                keep = i;
            }
        }
        for &i in &g {
            if i != keep {
                blocks[i].dropped = Some(Dropped::Duplicate);
                blocks[i].copy_of = Some(keep);
            }
        }
    }
}

/// Indices of the blocks that share a hash with another block (kept, with
/// letters or digits), grouped, in page order within each group. Most hashes
/// are unique, so an open-addressing table finds the repeats and only those are
/// sorted. (The groups' order does not matter to `dedupe`: a group's choice
/// reads only blocks that are in no group.)
fn repeated_groups(blocks: &[Block<'_>]) -> Vec<Vec<usize>> {
    let size = (2 * blocks.len()).next_power_of_two().max(16);
    // (hash, first index, first index already listed), usize::MAX for empty.
    let mut table = vec![(0u64, usize::MAX, false); size];
    let mut repeats: Vec<(u64, usize)> = Vec::new();
    let candidates = blocks
        .iter()
        .enumerate()
        .filter(|(_, b)| b.dropped.is_none() && b.chars > 0 && b.alnum);
    for (i, b) in candidates {
        let mut slot = ((b.hash >> 32) ^ b.hash) as usize & (size - 1);
        loop {
            let (h, first, listed) = &mut table[slot];
            if *first == usize::MAX {
                (*h, *first) = (b.hash, i);
                break;
            }
            if *h == b.hash {
                if !*listed {
                    repeats.push((*h, *first));
                    *listed = true;
                }
                repeats.push((b.hash, i));
                break;
            }
            slot = (slot + 1) & (size - 1);
        }
    }
    repeats.sort_unstable();
    repeats
        .chunk_by(|a, b| a.0 == b.0)
        .map(|g| g.iter().map(|&(_, i)| i).collect())
        .collect()
}

/// Teaser fragments: a block that starts mid-sentence (lowercase) or is cut with
/// an ellipsis, and whose text appears inside a longer kept block, is a teaser
/// of that block.
fn drop_fragments(blocks: &mut [Block<'_>]) {
    // Prefilter: the texts of the blocks kept so far in one haystack, separated by a
    // NUL (never inside a collapsed block, so no match straddles two blocks). A
    // candidate absent from the haystack outside its own block is in no other block
    // (blocks only get dropped, never restored, here): two substring searches
    // instead of one per block; the exact per-block check runs only on a hit.
    let mut haystack = String::new();
    let mut span: Vec<Option<(usize, usize)>> = Vec::new();
    let mut checks = 0;
    for i in 0..blocks.len() {
        if blocks[i].dropped.is_some() || blocks[i].chars < 8 {
            continue;
        }
        let text: &str = &blocks[i].text;
        let starts_lower = text.chars().next().is_some_and(char::is_lowercase);
        let core = text.trim_end_matches(['…', '.', ' ']);
        let cut_short =
            (text.ends_with("...") || text.ends_with('…')) && core.chars().count() >= 30;
        if !(starts_lower || cut_short) {
            continue;
        }
        checks += 1;
        if checks > MAX_FRAGMENT_CHECKS {
            break;
        }
        let needle = if cut_short { core } else { text };
        if span.is_empty() {
            haystack.reserve(blocks.iter().map(|o| o.text.len() + 1).sum());
            span = blocks
                .iter()
                .map(|o| {
                    o.dropped.is_none().then(|| {
                        let a = haystack.len();
                        haystack.push_str(&o.text);
                        haystack.push('\0');
                        (a, haystack.len() - 1)
                    })
                })
                .collect();
        }
        // One searcher per needle, for the page-wide check and then the blocks.
        let needle = NeedleSearch::new(needle.as_bytes());
        let elsewhere = match span.get(i).copied().flatten() {
            Some((a, b)) if !needle.bytes.contains(&0) => {
                let hay = haystack.as_bytes();
                needle.occurs_in(&hay[..a]) || needle.occurs_in(&hay[b..])
            }
            _ => true,
        };
        let contained = elsewhere
            && blocks.iter().enumerate().any(|(j, o)| {
                j != i
                    && o.dropped.is_none()
                    && o.text.len() > needle.bytes.len()
                    && needle.occurs_in(o.text.as_bytes())
            });
        if contained {
            blocks[i].dropped = Some(Dropped::Fragment);
        }
    }
}

/// Score of a block for the main-region search: content is positive, furniture
/// and unresolved short lines negative, repetition neutral.
fn region_score(b: &Block<'_>, separators: &[usize]) -> f32 {
    let weight = b.weight.min(1000) as f32;
    match b.dropped {
        // Headers of related-story lists and comment sections usually end the article.
        Some(Dropped::Rule(f)) if separators.contains(&f) => -SEPARATOR_PENALTY,
        Some(d) if d.is_furniture() => -20.0,
        // The headline (h1) sits right above the body: it anchors the region.
        Some(Dropped::Title) => TITLE_ANCHOR,
        Some(_) => 0.0,
        None => match b.class {
            Class::Good => weight,
            Class::NearGood => weight * 0.5,
            Class::Short => -12.0,
            Class::Bad => -(weight / 3.0).max(20.0),
        },
    }
}

/// Keeps the maximum-scoring contiguous run of blocks (Kadane): an article body
/// is one run of prose, menus and link lists around it score negative.
/// The rules' separator, comment and related families shape it (see
/// [`CompiledRules::separator_families`]).
fn select_region(blocks: &mut [Block<'_>], rules: &CompiledRules) {
    let mut scores: Vec<f32> = blocks
        .iter()
        .map(|b| region_score(b, &rules.separator_families))
        .collect();
    // Article paragraphs come in runs; teasers of other stories come one or two at
    // a time between headlines, bylines and dates. Short runs of content count less.
    let mut i = 0;
    while i < blocks.len() {
        if !is_content(&blocks[i]) {
            i += 1;
            continue;
        }
        let start = i;
        let mut members = 0;
        while i < blocks.len() && (is_content(&blocks[i]) || is_repetition(&blocks[i])) {
            members += usize::from(is_content(&blocks[i]));
            i += 1;
        }
        let factor = RUN_FACTORS.get(members).copied().unwrap_or(1.0);
        for (k, score) in scores.iter_mut().enumerate().take(i).skip(start) {
            if is_content(&blocks[k]) {
                *score *= factor;
            }
        }
    }
    // After a body's worth of content, a list header ("Top stories", "Latest
    // news") heads teasers: their ledes are prose, and a long list of them
    // outweighs the separators. Content after it counts for less (not
    // nothing: sites also print such a header over a box of links in the
    // middle of an article, which goes on below it). Not on flattened pages,
    // where a header is glued into a sentence with its neighbours (there it
    // cost 0.005 F1 on the dev pages).
    if let Some(related) = rules.related_family {
        let mut content = 0usize;
        let mut in_list = false;
        for (b, score) in blocks.iter().zip(scores.iter_mut()) {
            in_list |= b.dropped == Some(Dropped::Rule(related))
                && !b.sentence
                && b.chars <= LIST_HEADER_CHARS
                && content >= HEADER_AFTER_BODY_CHARS;
            if is_content(b) {
                content += b.weight;
                if in_list {
                    *score *= AFTER_LIST_HEADER_FACTOR;
                }
            }
        }
    }
    let (mut best, mut best_range) = (0.0f32, None);
    let (mut run, mut run_start) = (0.0f32, 0usize);
    for (i, &s) in scores.iter().enumerate() {
        if run <= 0.0 {
            run = 0.0;
            run_start = i;
        }
        run += s;
        if run > best {
            best = run;
            best_range = Some((run_start, i));
        }
    }
    let Some((start, mut end)) = best_range else {
        return;
    };
    // Readers' comments are prose too, and a long thread outweighs the
    // penalties of its headers: the first comment-section header after a
    // body's worth of content ends the region. (Before that, a comment
    // counter sits beside the byline.)
    if let Some(family) = rules.comment_family {
        let mut body = 0usize;
        for (i, b) in blocks.iter().enumerate().take(end + 1).skip(start) {
            if b.dropped == Some(Dropped::Rule(family)) && body >= HEADER_AFTER_BODY_CHARS {
                end = i;
                break;
            }
            if is_content(b) {
                body += b.weight;
            }
        }
    }
    // A repeated block whose kept copy lies outside the region (a standfirst also
    // printed as page description, say) keeps its copy inside the region instead.
    // (`restored` marks kept copies already replaced: one restore per group, linear.)
    let mut restored = vec![false; blocks.len()];
    for b in &mut blocks[start..=end] {
        if let Some(k) = b.copy_of.filter(|&k| k < start || k > end) {
            if b.dropped == Some(Dropped::Duplicate) && !restored[k] {
                restored[k] = true;
                b.dropped = None;
            }
        }
    }
    for (i, b) in blocks.iter_mut().enumerate() {
        if (i < start || i > end) && b.dropped.is_none() {
            b.dropped = Some(Dropped::OutsideRegion);
        }
    }
}

/// What a block shows to its neighbours in the context step.
enum Seen {
    /// The region's edge: nothing beyond.
    Edge,
    /// Transparent: short blocks and repetition drops are looked through.
    Skip,
    Class(Class),
}

fn seen(b: &Block<'_>) -> Seen {
    match b.dropped {
        Some(Dropped::OutsideRegion) => Seen::Edge,
        Some(d) if d.is_furniture() || d == Dropped::Context => Seen::Class(Class::Bad),
        Some(_) => Seen::Skip,
        None if b.class == Class::Short => Seen::Skip,
        None => Seen::Class(b.class),
    }
}

/// For every block, the class of the nearest non-short neighbour before and after
/// it (None at an edge), in two linear passes (no rescans over runs of short lines).
fn neighbours(blocks: &[Block<'_>]) -> (Vec<Option<Class>>, Vec<Option<Class>>) {
    let n = blocks.len();
    let (mut prev, mut next) = (vec![None; n], vec![None; n]);
    let mut last = None;
    for i in 0..n {
        prev[i] = last;
        match seen(&blocks[i]) {
            Seen::Edge => last = None,
            Seen::Skip => {}
            Seen::Class(c) => last = Some(c),
        }
    }
    last = None;
    for i in (0..n).rev() {
        next[i] = last;
        match seen(&blocks[i]) {
            Seen::Edge => last = None,
            Seen::Skip => {}
            Seen::Class(c) => last = Some(c),
        }
    }
    (prev, next)
}

/// jusText's context step: near-good blocks next to content are content; short
/// blocks between content (subheadings, one-line paragraphs) are content; the
/// rest is dropped. One step is ours: a bad block that ends like a sentence,
/// between two good ones, is content too. Prose thick with names and figures
/// (a match's scores, an event's dates and venues) has too few stop words to
/// pass on its words, and its neighbours say what it is.
fn resolve_context(blocks: &mut [Block<'_>]) {
    let good = |c: Option<Class>| matches!(c, Some(Class::Good) | Some(Class::NearGood));
    let (mut prev, mut next) = neighbours(blocks);
    let mut sandwiched = false;
    for (i, b) in blocks.iter_mut().enumerate() {
        if b.dropped.is_none()
            && b.class == Class::Bad
            && prev[i] == Some(Class::Good)
            && next[i] == Some(Class::Good)
            && ends_with_terminal(&b.text)
        {
            b.class = Class::NearGood;
            sandwiched = true;
        }
    }
    // The rest is dropped first, so near-good and short decisions see it. (A
    // dropped bad block looks to its neighbours as it did undropped.)
    for b in blocks.iter_mut() {
        if b.dropped.is_none() && b.class == Class::Bad {
            b.dropped = Some(Dropped::Context);
        }
    }
    if sandwiched {
        (prev, next) = neighbours(blocks);
    }
    for (i, b) in blocks.iter_mut().enumerate() {
        let drop = b.dropped.is_none()
            && match b.class {
                Class::NearGood => !(good(prev[i]) || good(next[i])),
                Class::Short => !(good(prev[i]) && good(next[i])),
                _ => false,
            };
        if drop {
            b.dropped = Some(Dropped::Context);
        }
    }
}

/// ISO 639-1 code of the body's language, when whatlang is confident (for the
/// bodies whose stop words do not settle it, see `Cleaner::body_language`).
fn detect_lang(paragraphs: &[String]) -> Option<String> {
    // whatlang's cost grows with the sample; one long paragraph is a good, short sample.
    let longest = paragraphs.iter().max_by_key(|p| p.len())?;
    let info = whatlang::detect(truncate_at_char(longest, LANG_SAMPLE_BYTES))?;
    if !info.is_reliable() {
        return None;
    }
    iso639_1(info.lang().code()).map(str::to_string)
}

/// ISO 639-3 (whatlang) to ISO 639-1 codes.
const ISO639: &[(&str, &str)] = &[
    ("eng", "en"),
    ("fra", "fr"),
    ("spa", "es"),
    ("deu", "de"),
    ("ita", "it"),
    ("por", "pt"),
    ("nld", "nl"),
    ("rus", "ru"),
    ("ukr", "uk"),
    ("pol", "pl"),
    ("ces", "cs"),
    ("swe", "sv"),
    ("dan", "da"),
    ("nob", "nb"),
    ("fin", "fi"),
    ("tur", "tr"),
    ("ara", "ar"),
    ("heb", "he"),
    ("ell", "el"),
    ("hun", "hu"),
    ("ron", "ro"),
    ("bul", "bg"),
    ("hrv", "hr"),
    ("srp", "sr"),
    ("slk", "sk"),
    ("slv", "sl"),
    ("lit", "lt"),
    ("lav", "lv"),
    ("est", "et"),
    ("cmn", "zh"),
    ("jpn", "ja"),
    ("kor", "ko"),
    ("hin", "hi"),
    ("ben", "bn"),
    ("vie", "vi"),
    ("tha", "th"),
    ("ind", "id"),
    ("cat", "ca"),
    ("epo", "eo"),
    ("pes", "fa"),
    ("urd", "ur"),
];

fn iso639_1(code3: &str) -> Option<&'static str> {
    ISO639
        .iter()
        .find(|(c3, _)| *c3 == code3)
        .map(|(_, c1)| *c1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stop_word_counts_saturate_on_huge_blocks() {
        let cleaner = Cleaner::builtin();
        let en = cleaner
            .rules
            .stopwords
            .langs
            .iter()
            .position(|l| l == "en")
            .expect("an English list");
        // Past the packed lanes' flush point (255 words) and past u16::MAX.
        let text = "the and of ".repeat(25_000);
        let (_, st) = cleaner.scan_block::<false>(&text, None);
        assert_eq!(st.words, u16::MAX);
        assert_eq!(st.stop[en], u16::MAX);
        let text = "the cat and ".repeat(30_000);
        let (_, st) = cleaner.scan_block::<false>(&text, None);
        assert_eq!(st.stop[en], 60_000);
        let (_, small) = cleaner.scan_block::<false>("the cat and the dog", None);
        assert_eq!(small.words, 5);
        assert_eq!(small.stop[en], 3);
    }

    #[test]
    fn long_runs_of_capitalised_items_are_menus_and_prose_is_not() {
        let cleaner = Cleaner::builtin();
        let class = |text: &str, lang: &str| {
            let lang = cleaner.rules.stopwords.langs.iter().position(|l| l == lang);
            let (sc, st) = cleaner.scan_block::<true>(text, None);
            cleaner.classify(text, sc.alnum, sc.chars, &st, lang)
        };
        // A city hall's navigation as a flattened page gives it: items of a
        // few words, some with stop words, no sentence end.
        let menu = "Acesso à Informação Fale com a Ouvidoria Portal do Servidor Diário \
            Oficial do Município Secretaria de Saúde Secretaria da Educação e Cultura \
            Conselhos e Comissões Secretaria de Obras e Serviços Públicos Plano Diretor da \
            Cidade Licitações e Contratos Nota Fiscal de Serviços Carta de Serviços ao \
            Cidadão Perguntas e Respostas Mapa do Site";
        assert!(menu.chars().count() >= MENU_MIN_CHARS);
        assert_eq!(class(menu, "pt"), Class::Bad);
        // Also on a page where no list fits (menus and tag clouds leave too
        // few stop words for any language): its stop words, of whatever list,
        // are not counted as words without a capital.
        // (A flattened menu ends with a full stop when the sentence split cut
        // it there, and then passes for a sentence.)
        let cut = format!("{menu}.");
        assert_eq!(class(&cut, "none"), Class::Bad);
        assert_eq!(class(&cut, "es"), Class::Bad);
        // The same words in lower case hold as many stop words: the capitals
        // alone make it a menu.
        assert_ne!(class(&menu.to_lowercase(), "pt"), Class::Bad);
        // Prose stays prose, German included, whose nouns all take a capital.
        let german = "Der Rat sagte am Dienstag, dass er den Plan für den Hafen nicht \
            genehmigen werde, weil die Kosten der Arbeiten für die Stadt und ihre Bewohner \
            zu hoch seien. Es ist das dritte Mal, dass der Plan abgelehnt wurde, und die \
            Bürgermeisterin sagte, dass sie von der Abstimmung nicht überrascht sei. Viele \
            der Menschen, die in der Nähe der Docks leben, hatten darum gebeten.";
        assert!(german.chars().count() >= MENU_MIN_CHARS);
        assert_eq!(class(german, "de"), Class::Good);
    }

    #[test]
    fn a_sentence_thin_in_stop_words_between_good_paragraphs_is_kept() {
        let cleaner = Cleaner::builtin();
        let good_before = "The draw in the first round of the cup was made on Monday, and the two \
            teams that had met in the final last year were drawn against each other again, \
            which the coaches said was bad luck for both of them.";
        let good_after = "After the matches the captain said that the team had played well on a \
            slow court and that he was looking forward to the next round, which will be played \
            at home in front of their own fans in the spring.";
        // Few stop words (3 of 21): bad on its words alone.
        let results = "Tsonga beat Uchiyama 6-2, 6-1, Nishioka beat Monfils 7-5, 6-2 and \
            Mannarino beat Sugita 6-3, 6-4 in Madrid on Tuesday.";
        let verdict = |text: &str, needle: &str| {
            let input = CleanInput {
                text,
                title: Some("Cup results"),
                ..Default::default()
            };
            let explained = cleaner.explain(&input, None);
            let segment = explained.find(needle).cloned();
            segment.unwrap_or_else(|| panic!("no segment holds {needle:?}"))
        };
        let page = format!("{good_before}\n{results}\n{good_after}");
        let kept = verdict(&page, "Tsonga beat");
        assert_eq!(kept.dropped, None, "{kept:?}");
        // Its words alone make it bad: after the last good paragraph it goes,
        let page = format!("{good_before}\n{good_after}\n{results}");
        let last = verdict(&page, "Tsonga beat");
        assert_eq!(last.class, "bad");
        assert!(last.dropped.is_some(), "{last:?}");
        // and between two good ones when it does not end like a sentence.
        let cut = results.trim_end_matches('.');
        let page = format!("{good_before}\n{cut}\n{good_after}");
        let unfinished = verdict(&page, "Tsonga beat");
        assert_eq!(
            unfinished.dropped.as_deref(),
            Some("context"),
            "{unfinished:?}"
        );
    }

    #[test]
    fn a_run_of_words_without_a_full_stop_on_a_flattened_page_is_not_a_sentence() {
        // A flattened page: a tag cloud (lowercase, stop words and all, no
        // full stop in 120 words) before the story's sentences.
        let tags = "climate and energy news of the week election results in the state             markets and the economy travel and food for the family "
            .repeat(6);
        let story = "The harbour council voted on Tuesday to approve the redevelopment plan.             Work on the first phase is expected to begin next spring, the council said.             Residents who objected have six weeks to appeal against the decision.             The plan includes a school, a park and four hundred homes near the water.             The mayor said the docks had stood empty for more than twenty years.";
        let page = format!("{tags}. {story}");
        assert!(page.len() >= segment::FLAT_MIN_CHARS);
        let explained = Cleaner::builtin().explain(
            &CleanInput {
                text: &page,
                title: None,
                source: None,
                url: None,
            },
            None,
        );
        let run = explained
            .segments
            .iter()
            .find(|s| s.text.starts_with("climate"))
            .expect("the tag cloud is a segment");
        assert!(run.text.split(' ').count() > usize::from(MAX_SENTENCE_WORDS));
        assert_eq!(run.class, "bad");
        assert!(run.dropped.is_some());
        // The story's sentences, of 11 to 16 words, are judged as prose.
        let kept: Vec<&str> = explained
            .segments
            .iter()
            .filter(|s| s.dropped.is_none())
            .map(|s| s.text.as_str())
            .collect();
        assert_eq!(kept.len(), 5, "{kept:?}");
        assert!(kept[0].starts_with("The harbour council"));
    }

    fn assert_send_sync_clone<T: Send + Sync + Clone>() {}

    #[test]
    fn cleaner_is_shareable() {
        assert_send_sync_clone::<Cleaner>();
    }

    #[test]
    fn thread_copies_clean_like_their_original_and_follow_it() {
        let page = "Zebra crossings return to the high street\nThe council voted on Tuesday to restore the zebra crossings that were removed from the high street last year, after a campaign by parents and the local school.\nParents who want to help can join the road safety group, which meets at the school on the first Monday of every month and plans the next campaign there.";
        let input = CleanInput {
            text: page,
            title: None,
            source: Some("example.com"),
            url: None,
        };
        let builtin = Cleaner::builtin();
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(
            dir.path().join("extra.toml"),
            "[[rule]]\nfamily = \"ads\"\npattern = '^Parents who want to help'\nmax_chars = 400\n",
        )
        .expect("rule file");
        let custom = Cleaner::from_dir(dir.path()).expect("custom rules");
        let bare = builtin.with_options(CleanOptions {
            rules: false,
            ..CleanOptions::default()
        });
        for cleaner in [&builtin, &custom, &bare, &builtin] {
            let direct = cleaner.clean(&input);
            let copied = cleaner.with_thread_copy(|copy| {
                // A copy of its own, never the original's rule tables.
                assert!(!Arc::ptr_eq(&copy.rules, &cleaner.rules));
                copy.clean(&input)
            });
            assert_eq!(copied.paragraphs, direct.paragraphs);
        }
        // The custom rule is in force through the copy (not a stale copy of
        // the built-in rules made earlier on this thread).
        let builtin_text = builtin.with_thread_copy(|c| c.clean(&input).body());
        assert!(builtin_text.contains("road safety group"), "{builtin_text}");
        let custom_text = custom.with_thread_copy(|c| c.clean(&input).body());
        assert!(!custom_text.contains("road safety group"), "{custom_text}");
        // One copy per thread and original, reused.
        let first = builtin.with_thread_copy(|c| Arc::as_ptr(&c.rules));
        let again = builtin.with_thread_copy(|c| Arc::as_ptr(&c.rules));
        assert_eq!(first, again);
        let elsewhere = std::thread::scope(|s| {
            s.spawn(|| builtin.with_thread_copy(|c| Arc::as_ptr(&c.rules) as usize))
                .join()
                .expect("thread")
        });
        assert_ne!(first as usize, elsewhere);
    }

    #[test]
    fn lines_of_zero_width_characters_are_blank_lines() {
        let paragraphs = [
            "The harbour council voted on Tuesday to approve the redevelopment plan for the disused docks.",
            "Work on the first phase is expected to begin next spring, the council said in a statement.",
            "Residents who objected to the plan have six weeks to appeal against the decision.",
        ];
        let plain = paragraphs.join("\n");
        // As WordPress editors leave them: U+200B alone (or with a BOM, a
        // soft hyphen, spaces) on the lines between paragraphs.
        let spaced = paragraphs.join("\n\u{200B}\n \u{FEFF}\u{00AD} \n");
        let cleaner = Cleaner::builtin();
        let input = |text| CleanInput {
            text,
            title: None,
            source: None,
            url: None,
        };
        let segments: Vec<String> = cleaner
            .explain(&input(&spaced), None)
            .segments
            .into_iter()
            .map(|s| s.text)
            .collect();
        assert_eq!(segments, paragraphs);
        assert_eq!(
            cleaner.clean(&input(&spaced)).paragraphs,
            cleaner.clean(&input(&plain)).paragraphs
        );
        // A line of punctuation alone is still a block.
        let dashed = paragraphs.join("\n—\n");
        assert_eq!(cleaner.explain(&input(&dashed), None).segments.len(), 5);
    }

    fn gazette_page(body: &str) -> String {
        // The body twice over (a sentence apart) so the footer is well under half the page.
        format!(
            "Harbour news\n{body}\nAs a result, {body}\nThe Harbour Gazette has been printed in the old town since 1921 and is owned by its readers, who elect the board every year at the annual meeting."
        )
    }

    #[test]
    fn clean_pair_is_clean_and_clean_with_in_one_pass() {
        let cleaner = Cleaner::builtin();
        let bodies = [
            "The council voted on Tuesday to approve the new harbour bridge, ending a decade of debate about the crossing and its cost to the town.",
            "Fishermen said the catch this spring was the best in twenty years, and that the prices at the market had risen for the first time since the war.",
            "The school on the hill will close for the summer while the roof is repaired, the head teacher told parents in a letter sent home on Friday.",
            "A storm flooded the lower streets of the old town overnight, and the fire brigade pumped water out of the cellars until the morning tide turned.",
        ];
        // A model that has seen the gazette's pages with the first three bodies.
        let learn = |config: LearnedConfig| {
            let mut model = BoilerplateModel::new(config);
            for body in &bodies[..3] {
                let page = gazette_page(body);
                let input = CleanInput {
                    text: &page,
                    source: Some("gazette"),
                    ..Default::default()
                };
                model.record("gazette", &cleaner.block_hashes(&input));
            }
            model
        };
        let model = learn(LearnedConfig::default());
        let page = gazette_page(bodies[3]);
        let input = CleanInput {
            text: &page,
            source: Some("gazette"),
            ..Default::default()
        };
        let (rules_only, learned) = cleaner.clean_pair(&input, Some(&model));
        assert_eq!(rules_only, cleaner.clean(&input));
        let learned = learned.expect("the model knows the gazette's footer");
        assert_eq!(learned, cleaner.clean_with(&input, Some(&model)));
        assert!(rules_only.body().contains("owned by its readers"));
        assert!(!learned.body().contains("owned by its readers"));
        assert!(learned.body().contains("storm flooded"));

        let empty = BoilerplateModel::new(LearnedConfig::default());
        let (alone, none) = cleaner.clean_pair(&input, Some(&empty));
        assert_eq!(alone, rules_only);
        assert!(none.is_none());

        // The model knows the footer, but its guard allows no stripping: no learned
        // pass, and cleaning with the model gives the rules-only result.
        let guarded = learn(LearnedConfig {
            max_strip_share: 0.0,
            ..LearnedConfig::default()
        });
        let (refused, skipped) = cleaner.clean_pair(&input, Some(&guarded));
        assert_eq!(refused, rules_only);
        assert!(skipped.is_none());
        assert_eq!(cleaner.clean_with(&input, Some(&guarded)), rules_only);
    }

    #[test]
    fn the_body_language_comes_from_stop_words_or_whatlang() {
        let cleaner = Cleaner::builtin();
        let cases = [
            ("en", "The council said on Tuesday that it would not approve the plan for the harbour, because the cost of the work was too high for the town and its people. It was the third time that the plan had been turned down, and the mayor said that she was not surprised by the vote. Many of the people who live near the docks had asked for the plan to be stopped."),
            ("fr", "Le conseil a dit mardi qu'il ne voulait pas du projet pour le port, car le coût des travaux était trop élevé pour la ville et pour ses habitants. C'est la troisième fois que le projet est refusé, et la maire a dit qu'elle n'était pas surprise par le vote. Beaucoup de ceux qui vivent près des quais avaient demandé que le projet soit arrêté."),
            ("es", "El consejo dijo el martes que no iba a aprobar el plan para el puerto, porque el coste de las obras era demasiado alto para la ciudad y para sus vecinos. Es la tercera vez que el plan es rechazado, y la alcaldesa dijo que no le sorprendía el voto. Muchos de los que viven cerca de los muelles habían pedido que se parara el plan."),
            ("de", "Der Rat sagte am Dienstag, dass er den Plan für den Hafen nicht genehmigen werde, weil die Kosten der Arbeiten für die Stadt und ihre Bewohner zu hoch seien. Es ist das dritte Mal, dass der Plan abgelehnt wurde, und die Bürgermeisterin sagte, dass sie von der Abstimmung nicht überrascht sei. Viele der Menschen, die in der Nähe der Docks leben, hatten darum gebeten, den Plan zu stoppen."),
            ("it", "Il consiglio ha detto martedì che non avrebbe approvato il piano per il porto, perché il costo dei lavori era troppo alto per la città e per i suoi abitanti. È la terza volta che il piano viene respinto, e la sindaca ha detto che non era sorpresa dal voto. Molti di quelli che vivono vicino ai moli avevano chiesto che il piano fosse fermato."),
            ("pt", "O conselho disse na terça-feira que não iria aprovar o plano para o porto, porque o custo das obras era muito alto para a cidade e para os seus moradores. É a terceira vez que o plano é recusado, e a prefeita disse que não ficou surpresa com a votação. Muitos dos que vivem perto das docas tinham pedido que o plano fosse parado."),
            ("nl", "De raad zei dinsdag dat hij het plan voor de haven niet zou goedkeuren, omdat de kosten van het werk te hoog waren voor de stad en haar inwoners. Het is de derde keer dat het plan is afgewezen, en de burgemeester zei dat ze niet verrast was door de stemming. Veel van de mensen die bij de dokken wonen hadden gevraagd om het plan te stoppen."),
            // No stop-word list: whatlang decides.
            ("pl", "Rada powiedziała we wtorek, że nie zatwierdzi planu dla portu, ponieważ koszt prac był zbyt wysoki dla miasta i jego mieszkańców. To już trzeci raz, kiedy plan został odrzucony, a burmistrz powiedziała, że nie była zaskoczona wynikiem głosowania. Wielu mieszkańców okolic doków prosiło o wstrzymanie planu."),
        ];
        for (want, text) in cases {
            let got = cleaner.clean(&CleanInput {
                text,
                ..Default::default()
            });
            assert_eq!(got.lang.as_deref(), Some(want), "{text}");
        }
    }

    #[test]
    fn clean_gives_the_block_hashes_of_block_hashes_on_the_seeds() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/seeds");
        let cleaner = Cleaner::builtin();
        let mut n = 0;
        for entry in std::fs::read_dir(&dir).expect("seed fixtures").flatten() {
            let path = entry.path();
            if path.extension().and_then(|e| e.to_str()) != Some("txt") {
                continue;
            }
            let text = std::fs::read_to_string(&path).expect("seed text");
            for url in [None, Some("https://www.example.com/a")] {
                let input = CleanInput {
                    text: &text,
                    url,
                    ..Default::default()
                };
                let hashes = cleaner.block_hashes(&input);
                assert!(!hashes.is_empty(), "{}", path.display());
                assert_eq!(
                    cleaner.clean(&input).block_hashes,
                    hashes,
                    "{}",
                    path.display()
                );
            }
            n += 1;
        }
        assert!(n >= 5, "seed fixtures found: {n}");
    }
}
