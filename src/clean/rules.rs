//! Rule data: the TOML files of `config/rules/` parsed and compiled once.
//!
//! Contract: compiling happens when a `Cleaner` is built (never per article);
//! the compiled form is immutable and shared (`Arc`) between clones and threads.
//! Matching a block runs one `RegexSet` pass (the rules that allow the block's
//! length), and only on blocks short enough for some rule to apply; a rule with
//! a trigger (words, or list separators) runs alone, and only on blocks that
//! hold it; a rule anchored at its end only runs alone, backwards, and only on
//! blocks that end with a byte its matches can end with.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use anyhow::{bail, Context};
use regex::{Regex, RegexBuilder, RegexSet, RegexSetBuilder};
use regex_syntax::hir::Hir;
use serde::Deserialize;

use super::text::{word_hash, words, HashBuild};

/// Built-in rule files, compiled into the binary (same format `from_dir` reads).
pub const BUILTIN_FILES: &[(&str, &str)] = &[
    (
        "generic.toml",
        include_str!("../../config/rules/generic.toml"),
    ),
    ("sites.toml", include_str!("../../config/rules/sites.toml")),
    (
        "stopwords.toml",
        include_str!("../../config/rules/stopwords.toml"),
    ),
];

const DEFAULT_MAX_CHARS: usize = 250;
/// Stop-word lists beyond this many languages are ignored (counts live in fixed arrays).
pub const MAX_STOP_LANGS: usize = 12;
/// Word masks hold one bit per stop-word language (bits 0-11) and one per rule
/// with trigger words (bits 12-31).
const TRIGGER_SHIFT: u32 = MAX_STOP_LANGS as u32;
const MAX_TRIGGERED_RULES: usize = 32 - MAX_STOP_LANGS;
/// The language bits of a word mask.
const LANG_MASK: u32 = (1 << TRIGGER_SHIFT) - 1;
/// A stop-word list fits a page when at least this share (%) of its words are in it.
const MIN_STOP_SHARE: u32 = 15;

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RuleFile {
    #[serde(default)]
    rule: Vec<RuleSpec>,
    #[serde(default)]
    inline: Vec<RuleSpec>,
    #[serde(default)]
    stopwords: BTreeMap<String, String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleSpec {
    family: String,
    pattern: String,
    #[serde(default)]
    max_chars: Option<usize>,
    #[serde(default)]
    sites: Vec<String>,
    /// Whole-block rules only: the rule is tried only on blocks holding one of
    /// these words (see [`CompiledRules::match_block`]).
    #[serde(default)]
    words: Vec<String>,
    /// Whole-block rules only: the rule is tried only on blocks holding at
    /// least this many list separators (`text::is_list_separator`).
    #[serde(default)]
    separators: Option<usize>,
    /// Inline rules only: a literal every match of the pattern contains. The
    /// rule then stays out of the inline set and runs alone, only on text
    /// holding the literal (see [`CompiledRules::inline_rules_matching`]).
    #[serde(default)]
    requires: Option<String>,
}

#[derive(Debug, Clone)]
struct BlockRuleMeta {
    family: usize,
    max_chars: usize,
    sites: Vec<String>,
    /// The rule's trigger bit in a word mask (see [`TRIGGER_SHIFT`]), 0 for a
    /// rule tried on every block.
    trigger: u32,
    /// A rule with a trigger (words or separators) runs alone, on the few
    /// blocks that hold one: a small automaton of its own (with the regex
    /// crate's literal search) instead of a share of a big set's. So does a
    /// rule anchored at its end only, on every block: the regex crate runs
    /// it backwards from the block's end, where it fails within a few bytes,
    /// while in a set it would keep the set's forward pass going to the end.
    alone: Option<Regex>,
    /// For a rule run backwards: the bytes its matches can end with (worked
    /// out from the pattern's syntax tree), unless it can match empty text. A
    /// block ending otherwise is not given to the regex at all: a call costs
    /// more than the few bytes it reads.
    last_bytes: Option<Box<[bool; 256]>>,
    /// Precedence when several rules match a block: anchored rules (at the
    /// start, or run backwards from the end) first, then short-block rules,
    /// then rule order (`(rank, index)` ascending).
    rank: u8,
}

#[derive(Debug, Clone)]
pub struct InlineRule {
    pub family: usize,
    pub regex: Regex,
    sites: Vec<String>,
    /// How a sentence is found worth the rule's own search.
    gate: InlineGate,
}

/// What tells the sentences an inline rule may match.
#[derive(Debug, Clone)]
enum InlineGate {
    /// A hit of the pattern with this index in the inline set.
    InSet(usize),
    /// The literal every match contains (the rule stays out of the set).
    Requires(Box<memchr::memmem::Finder<'static>>),
}

/// The words the cleaner looks up: stop words, with the languages (ISO 639-1
/// codes, in list order) whose lists hold them, and rule trigger words.
#[derive(Debug, Clone, Default)]
pub struct StopWords {
    pub langs: Vec<String>,
    /// word hash -> word mask: the languages whose list holds the word (bits
    /// below [`TRIGGER_SHIFT`]) and the rules it triggers (bits from it).
    table: HashMap<u64, u32, HashBuild>,
    /// The same table as open addressing with a load of at most 1/8, looked up
    /// once per word of every page: nearly always one probe. (At a load of 1/4
    /// the cleaner took about 3% longer in alternating runs; buckets of four
    /// slots compared at once were no faster than 1/8.)
    /// A slot holds the low 32 bits of the hash and the mask; mask 0 marks an
    /// empty slot (every stored mask is non-zero). The slot is picked by the top
    /// bits of the hash times an odd constant (Fibonacci hashing), not by the
    /// hash's own high bits: those left the stop words in clusters that most
    /// other words probed through, and the cleaner took 3% longer (alternating
    /// runs, 133.4 against 128.8 us a page). A word taken for a stop word by
    /// mistake needs a hash collision on the 32-bit tag and the slot bits (13
    /// with the built-in lists) with one of a few hundred stop words.
    slots: Vec<(u32, u32)>,
    /// One bit per slot, set when the slot is taken. Most words of a page are
    /// in no list and land on an empty slot: the bitmap (1 KB with the
    /// built-in lists) answers them from L1, where the 64 KB table would cost
    /// a cache miss for each.
    taken: Vec<u64>,
    /// 64 minus log2 of the slot count: the shift that leaves the slot bits.
    slot_shift: u32,
    /// Longest stop or trigger word in bytes: longer words skip the look-up.
    max_len: usize,
}

impl StopWords {
    /// Word mask of a (trimmed) word, given its byte length and [`word_hash`]:
    /// the languages it is a stop word in, and the rules it triggers.
    #[inline]
    pub fn mask_hashed(&self, len: usize, h: u64) -> u32 {
        if len > self.max_len {
            return 0;
        }
        self.probe(h)
    }

    #[inline]
    fn probe(&self, h: u64) -> u32 {
        let slot = slot_of(h, self.slot_shift);
        let taken = self
            .taken
            .get(slot / 64)
            .is_some_and(|bits| bits & (1 << (slot % 64)) != 0);
        if !taken {
            return 0;
        }
        self.probe_counting(h).0
    }

    /// The mask stored for `h` (0 when absent), and how many slots were read
    /// to find it (the count is dead code, and compiled out, in `probe`).
    #[inline]
    fn probe_counting(&self, h: u64) -> (u32, usize) {
        let n = self.slots.len();
        if n == 0 {
            return (0, 0);
        }
        let tag = h as u32;
        let mut i = slot_of(h, self.slot_shift);
        let mut read = 1;
        loop {
            let (k, m) = self.slots[i];
            if m == 0 || k == tag {
                return (m, read);
            }
            i = (i + 1) & (n - 1);
            read += 1;
        }
    }

    fn build_slots(&mut self) {
        let n = (self.table.len() * 8).next_power_of_two().max(16);
        self.slots = vec![(0, 0); n];
        self.slot_shift = 64 - n.trailing_zeros();
        for (&h, &m) in &self.table {
            let mut i = slot_of(h, self.slot_shift);
            while self.slots[i].1 != 0 {
                i = (i + 1) & (n - 1);
            }
            self.slots[i] = (h as u32, m);
        }
        self.taken = vec![0; n.div_ceil(64)];
        for (i, &(_, m)) in self.slots.iter().enumerate() {
            if m != 0 {
                self.taken[i / 64] |= 1 << (i % 64);
            }
        }
    }

    /// Longest word in the table, in bytes.
    pub fn max_len(&self) -> usize {
        self.max_len
    }

    /// The word with this [`word_hash`] is a stop word of some language.
    pub fn is_any_hash(&self, h: u64) -> bool {
        self.probe(h) & LANG_MASK != 0
    }
}

/// The slot of word hash `h` in a table of `1 << (64 - shift)` slots.
#[inline]
fn slot_of(h: u64, shift: u32) -> usize {
    (h.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> shift) as usize
}

#[derive(Debug, Clone)]
pub struct CompiledRules {
    pub families: Vec<String>,
    /// Whole-block rules, grouped so each block only runs the sets that can apply.
    groups: Vec<RuleGroup>,
    /// The rules with a trigger, words or separators (indices into `block_meta`).
    triggered: Vec<usize>,
    /// The rules anchored at their end only, run alone on every block.
    backward: Vec<usize>,
    /// The bytes a match of some backward rule can end with (every byte when
    /// one of them has no such gate): most blocks end otherwise, and skip the
    /// backward rules with one look-up instead of one per rule.
    backward_last: Box<[bool; 256]>,
    /// Rules triggered by list separators: (least count, trigger bit).
    separator_triggers: Vec<(usize, u32)>,
    block_meta: Vec<BlockRuleMeta>,
    max_block_chars: usize,
    inline: Vec<InlineRule>,
    /// The inline patterns without a required literal in one set: one pass
    /// tells the few sentences any of them matches from the many that none
    /// does. A rule with a required literal stays out: in the set, a pattern
    /// such as the video rule's bounded run of up to 200 characters multiplied
    /// the set's states and made its pass 2.6 times as slow.
    inline_set: RegexSet,
    pub stopwords: StopWords,
    /// Families whose blocks usually separate the article from what follows
    /// (related lists, comments, dates).
    pub separator_families: Vec<usize>,
    /// The family of comment-section headers and counters, when the rules have it.
    pub comment_family: Option<usize>,
    /// The family of related-story headers and links, when the rules have it.
    pub related_family: Option<usize>,
}

/// Rule families whose blocks separate the article from what follows it.
/// Dates among them: an article prints its date above its body, a list of
/// other stories one above each of their ledes.
const SEPARATOR_FAMILIES: &[&str] = &["related", "comments", "timestamp"];
/// The family whose blocks open a comment section (see `comment_family`).
const COMMENT_FAMILY: &str = "comments";
/// The family whose short blocks head lists of other stories (see `related_family`).
const RELATED_FAMILY: &str = "related";

/// The rules without trigger words compiled into one `RegexSet` per band of
/// block lengths (see `from_sources`), so a block is scanned once, by the rules
/// that allow its length. A block that hits is resolved with the set's match
/// list, picking the rule the original precedence names first (see `rank`).
#[derive(Debug, Clone)]
struct RuleGroup {
    set: RegexSet,
    /// Indices into `block_meta`, in set order.
    members: Vec<usize>,
    /// The group serves blocks of `min_chars..=max_chars` characters.
    min_chars: usize,
    max_chars: usize,
}

/// Blocks up to this length are checked against short-block rules (menus, buttons...).
const SHORT_RULE_CHARS: usize = 160;

fn is_anchored(pattern: &str) -> bool {
    let mut p = pattern;
    while let Some(rest) = p.strip_prefix("(?") {
        match rest.find(')') {
            Some(end)
                if rest[..end]
                    .chars()
                    .all(|c| c.is_ascii_alphabetic() || c == '-') =>
            {
                p = &rest[end + 1..]
            }
            _ => break,
        }
    }
    p.starts_with('^')
}

/// The bytes a match of the parsed pattern `hir` can end with; None when it
/// can match the empty text (so any block could match).
fn last_bytes(hir: &Hir) -> Option<Box<[bool; 256]>> {
    let mut table = Box::new([false; 256]);
    let can_be_empty = mark_last_bytes(hir, &mut table);
    (!can_be_empty).then_some(table)
}

/// Marks in `table` every byte a match of `hir` can end with (a superset:
/// non-ASCII characters of a class mark every UTF-8 continuation byte), and
/// tells whether `hir` can match the empty text.
fn mark_last_bytes(hir: &Hir, table: &mut [bool; 256]) -> bool {
    use regex_syntax::hir::{Class, HirKind};
    match hir.kind() {
        HirKind::Empty | HirKind::Look(_) => true,
        HirKind::Literal(literal) => match literal.0.last() {
            Some(&b) => {
                table[usize::from(b)] = true;
                false
            }
            None => true,
        },
        HirKind::Class(Class::Bytes(class)) => {
            for range in class.iter() {
                for b in range.start()..=range.end() {
                    table[usize::from(b)] = true;
                }
            }
            class.iter().next().is_none()
        }
        HirKind::Class(Class::Unicode(class)) => {
            for range in class.iter() {
                let (start, end) = (u32::from(range.start()), u32::from(range.end()));
                for b in start.min(0x80)..end.min(0x7f) + 1 {
                    table[b as usize] = true;
                }
                if end >= 0x80 {
                    table[0x80..0xc0].fill(true);
                }
            }
            class.iter().next().is_none()
        }
        HirKind::Repetition(rep) => mark_last_bytes(&rep.sub, table) || rep.min == 0,
        HirKind::Capture(capture) => mark_last_bytes(&capture.sub, table),
        HirKind::Concat(parts) => {
            // From the end: a part that can be empty lets the one before it end the match.
            for part in parts.iter().rev() {
                if !mark_last_bytes(part, table) {
                    return false;
                }
            }
            true
        }
        HirKind::Alternation(alternatives) => alternatives
            .iter()
            .fold(false, |empty, a| mark_last_bytes(a, table) | empty),
    }
}

/// Every match of the parsed pattern `hir` holds `literal` (a sufficient
/// test, not a complete one: the literal must sit whole in one literal run of
/// the pattern, in a part every match goes through). Checks an inline rule's
/// `requires`, which would otherwise silently lose the matches without it.
fn always_contains(hir: &Hir, literal: &[u8]) -> bool {
    use regex_syntax::hir::HirKind;
    match hir.kind() {
        HirKind::Literal(run) => run.0.windows(literal.len()).any(|w| w == literal),
        HirKind::Repetition(rep) => rep.min >= 1 && always_contains(&rep.sub, literal),
        HirKind::Capture(capture) => always_contains(&capture.sub, literal),
        HirKind::Concat(parts) => parts.iter().any(|p| always_contains(p, literal)),
        HirKind::Alternation(alternatives) => {
            alternatives.iter().all(|a| always_contains(a, literal))
        }
        HirKind::Empty | HirKind::Look(_) | HirKind::Class(_) => false,
    }
}

/// Every match of the parsed pattern `hir` ends at the end of the block
/// (`...$`, `(a|b)$`; not `a|b$`).
fn is_end_anchored(hir: &Hir) -> bool {
    hir.properties()
        .look_set_suffix()
        .contains(regex_syntax::hir::Look::End)
}

/// `\b` in rule files means an ASCII word boundary: Unicode word boundaries force
/// the regex crate off its DFA onto a much slower engine for non-ASCII text.
fn ascii_boundaries(pattern: &str) -> String {
    pattern.replace(r"\b", r"(?-u:\b)")
}

impl CompiledRules {
    pub fn builtin() -> anyhow::Result<Self> {
        Self::from_sources(
            BUILTIN_FILES
                .iter()
                .map(|(n, s)| (n.to_string(), s.to_string())),
        )
    }

    /// Reads every `*.toml` file of `dir` (sorted by name) and merges them.
    pub fn from_dir(dir: &Path) -> anyhow::Result<Self> {
        let mut files = Vec::new();
        for entry in std::fs::read_dir(dir)
            .with_context(|| format!("reading rules dir {}", dir.display()))?
        {
            let path = entry?.path();
            if path.extension().and_then(|e| e.to_str()) == Some("toml") {
                let text = std::fs::read_to_string(&path)
                    .with_context(|| format!("reading {}", path.display()))?;
                files.push((path.display().to_string(), text));
            }
        }
        if files.is_empty() {
            bail!("no *.toml rule files in {}", dir.display());
        }
        files.sort();
        Self::from_sources(files.into_iter())
    }

    fn from_sources(files: impl Iterator<Item = (String, String)>) -> anyhow::Result<Self> {
        let mut families: Vec<String> = Vec::new();
        let family_index = |name: &str, families: &mut Vec<String>| -> usize {
            if let Some(i) = families.iter().position(|f| f == name) {
                i
            } else {
                families.push(name.to_string());
                families.len() - 1
            }
        };
        let mut block_patterns = Vec::new();
        let mut block_meta = Vec::new();
        let mut inline = Vec::new();
        let mut inline_patterns = Vec::new();
        let mut stop_lists: BTreeMap<String, String> = BTreeMap::new();
        let mut trigger_words: Vec<(String, u32)> = Vec::new();
        let mut separator_triggers: Vec<(usize, u32)> = Vec::new();
        for (name, text) in files {
            let file: RuleFile =
                toml::from_str(&text).with_context(|| format!("parsing rule file {name}"))?;
            for spec in file.rule {
                if spec.requires.is_some() {
                    bail!(
                        "{name}: rule {:?} has `requires`; only inline rules take it \
                         (whole-block rules take `words` or `separators`)",
                        spec.pattern
                    );
                }
                if !spec.words.is_empty() && spec.separators.is_some() {
                    bail!(
                        "{name}: rule {:?} has both trigger words and separators; give it one of them",
                        spec.pattern
                    );
                }
                let trigger = if spec.words.is_empty() && spec.separators.is_none() {
                    0
                } else {
                    let k = block_meta
                        .iter()
                        .filter(|m: &&BlockRuleMeta| m.trigger != 0)
                        .count();
                    if k >= MAX_TRIGGERED_RULES {
                        bail!(
                            "{name}: more than {MAX_TRIGGERED_RULES} rules have trigger words or separators"
                        );
                    }
                    let bit = 1u32 << (TRIGGER_SHIFT as usize + k);
                    if let Some(least) = spec.separators {
                        separator_triggers.push((least, bit));
                    }
                    for w in &spec.words {
                        if words(w).collect::<Vec<_>>() != [w.as_str()] {
                            bail!(
                                "{name}: trigger word {w:?} of rule {:?} is not one word \
                                 (no spaces, no punctuation at either end)",
                                spec.pattern
                            );
                        }
                        trigger_words.push((w.to_lowercase(), bit));
                    }
                    bit
                };
                let pattern = ascii_boundaries(&spec.pattern);
                // Parsed once for both questions a rule without a trigger raises:
                // does it run backwards, and with which last bytes.
                let hir = (trigger == 0)
                    .then(|| regex_syntax::parse(&pattern).ok())
                    .flatten();
                let backward = hir.as_ref().is_some_and(is_end_anchored) && !is_anchored(&pattern);
                // Compile alone first so a bad pattern is reported with its file;
                // a rule that runs alone keeps that regex.
                let solo = if trigger == 0 {
                    Regex::new(&pattern)
                } else {
                    RegexBuilder::new(&pattern).size_limit(50 << 20).build()
                }
                .with_context(|| format!("{name}: bad rule pattern {:?}", spec.pattern))?;
                let alone = (trigger != 0 || backward).then_some(solo);
                let max_chars = spec.max_chars.unwrap_or(DEFAULT_MAX_CHARS);
                let rank = 2 * u8::from(!is_anchored(&pattern) && !backward)
                    + u8::from(max_chars > SHORT_RULE_CHARS);
                let last_bytes = hir.as_ref().filter(|_| backward).and_then(last_bytes);
                block_patterns.push(pattern);
                block_meta.push(BlockRuleMeta {
                    alone,
                    last_bytes,
                    family: family_index(&spec.family, &mut families),
                    max_chars,
                    sites: spec.sites.iter().map(|s| s.to_lowercase()).collect(),
                    rank,
                    trigger,
                });
            }
            for spec in file.inline {
                if !spec.words.is_empty() {
                    bail!(
                        "{name}: inline rule {:?} has trigger words; only whole-block rules take them",
                        spec.pattern
                    );
                }
                let pattern = ascii_boundaries(&spec.pattern);
                let regex = RegexBuilder::new(&pattern)
                    .size_limit(50 << 20)
                    .build()
                    .with_context(|| format!("{name}: bad inline pattern {:?}", spec.pattern))?;
                let gate = match spec.requires {
                    Some(literal) if literal.is_empty() => bail!(
                        "{name}: inline rule {:?} requires an empty literal; give the text every match contains",
                        spec.pattern
                    ),
                    Some(literal) => {
                        let hir = regex_syntax::parse(&pattern).with_context(|| {
                            format!("{name}: bad inline pattern {:?}", spec.pattern)
                        })?;
                        if !always_contains(&hir, literal.as_bytes()) {
                            bail!(
                                "{name}: inline rule {:?} requires {literal:?}, but its pattern can \
                                 match without it, and those matches would be lost; give a literal \
                                 that every match holds (case-sensitive), or drop `requires`",
                                spec.pattern
                            );
                        }
                        InlineGate::Requires(Box::new(
                            memchr::memmem::Finder::new(literal.as_bytes()).into_owned(),
                        ))
                    }
                    None => {
                        inline_patterns.push(pattern);
                        InlineGate::InSet(inline_patterns.len() - 1)
                    }
                };
                inline.push(InlineRule {
                    family: family_index(&spec.family, &mut families),
                    regex,
                    sites: spec.sites.iter().map(|s| s.to_lowercase()).collect(),
                    gate,
                });
            }
            for (lang, list) in file.stopwords {
                let entry = stop_lists.entry(lang).or_default();
                entry.push(' ');
                entry.push_str(&list);
            }
        }
        let mut groups = Vec::new();
        // Three bands of block lengths, each with a set of the rules that allow
        // it: short blocks (every rule), blocks up to the default limit, and
        // longer ones, which only the few rules that ask for more apply to. A set
        // of anchored patterns gives up after a few bytes unless one of them can
        // span the whole block (a menu row of 250 chars at most, say): the long
        // band spares most paragraphs a pass over all their bytes. (About 3%
        // faster than two bands in alternating runs; one band per distinct
        // `max_chars`, about 15 sets, was 2% slower.)
        let bands = [
            (0, SHORT_RULE_CHARS),
            (SHORT_RULE_CHARS + 1, DEFAULT_MAX_CHARS),
            (DEFAULT_MAX_CHARS + 1, usize::MAX),
        ];
        for (min_chars, max_chars) in bands {
            let members: Vec<usize> = (0..block_patterns.len())
                .filter(|&k| block_meta[k].max_chars >= min_chars && block_meta[k].alone.is_none())
                .collect();
            if members.is_empty() {
                continue;
            }
            let set = RegexSetBuilder::new(members.iter().map(|&k| &block_patterns[k]))
                .size_limit(200 << 20)
                .dfa_size_limit(64 << 20)
                .build()
                .context("compiling the block rule set")?;
            groups.push(RuleGroup {
                set,
                members,
                min_chars,
                max_chars,
            });
        }
        let inline_set = RegexSetBuilder::new(&inline_patterns)
            .size_limit(200 << 20)
            .dfa_size_limit(64 << 20)
            .build()
            .context("compiling the inline rule set")?;
        let triggered: Vec<usize> = (0..block_meta.len())
            .filter(|&k| block_meta[k].trigger != 0)
            .collect();
        let backward: Vec<usize> = (0..block_meta.len())
            .filter(|&k| block_meta[k].trigger == 0 && block_meta[k].alone.is_some())
            .collect();
        let mut backward_last = Box::new([false; 256]);
        for &k in &backward {
            match &block_meta[k].last_bytes {
                Some(ends) => {
                    for (any, &end) in backward_last.iter_mut().zip(ends.iter()) {
                        *any |= end;
                    }
                }
                None => backward_last.fill(true),
            }
        }
        let max_block_chars = block_meta.iter().map(|m| m.max_chars).max().unwrap_or(0);
        let mut stopwords = StopWords::default();
        for (i, (lang, list)) in stop_lists.into_iter().enumerate().take(MAX_STOP_LANGS) {
            stopwords.langs.push(lang);
            for w in list.split_whitespace() {
                let h = word_hash(w);
                *stopwords.table.entry(h).or_insert(0) |= 1 << i;
                stopwords.max_len = stopwords.max_len.max(w.len());
            }
        }
        for (w, bit) in trigger_words {
            *stopwords.table.entry(word_hash(&w)).or_insert(0) |= bit;
            stopwords.max_len = stopwords.max_len.max(w.len());
        }
        stopwords.build_slots();
        let separator_families = SEPARATOR_FAMILIES
            .iter()
            .filter_map(|name| families.iter().position(|f| f == name))
            .collect();
        let comment_family = families.iter().position(|f| f == COMMENT_FAMILY);
        let related_family = families.iter().position(|f| f == RELATED_FAMILY);
        Ok(CompiledRules {
            comment_family,
            related_family,
            triggered,
            backward,
            backward_last,
            separator_triggers,
            separator_families,
            families,
            groups,
            block_meta,
            max_block_chars,
            inline,
            inline_set,
            stopwords,
        })
    }

    /// Name of a rule family (for reports).
    pub fn family_name(&self, id: usize) -> &str {
        self.families.get(id).map_or("?", String::as_str)
    }

    /// The family of the first whole-block rule matching `block` (with `chars`
    /// characters) for this site, if any. `triggers` are the trigger bits of the
    /// block's words (the OR of their word masks): a rule with trigger words is
    /// only tried when the block holds one of them. The rule's pattern still
    /// decides; the words only spare the regex pass over the other blocks.
    pub fn match_block(
        &self,
        block: &str,
        chars: usize,
        site: Option<&str>,
        triggers: u32,
    ) -> Option<usize> {
        if chars > self.max_block_chars {
            return None;
        }
        let applies = |k: usize| {
            let meta = &self.block_meta[k];
            chars <= meta.max_chars && site_allows(&meta.sites, site)
        };
        let rank = |k: &usize| (self.block_meta[*k].rank, *k);
        let mut best = None;
        if let Some(g) = self
            .groups
            .iter()
            .find(|g| (g.min_chars..=g.max_chars).contains(&chars))
        {
            // One cheap pass decides most blocks; the full match list only for the few that hit.
            if g.set.is_match(block) {
                best = g
                    .set
                    .matches(block)
                    .into_iter()
                    .map(|i| g.members[i])
                    .filter(|&k| applies(k))
                    .min_by_key(rank);
            }
        }
        let last = usize::from(block.as_bytes().last().copied().unwrap_or(0));
        let backward_rules = if self.backward_last[last] {
            &self.backward[..]
        } else {
            &[]
        };
        let backward = backward_rules.iter().copied().filter(|&k| {
            let meta = &self.block_meta[k];
            meta.last_bytes.as_ref().is_none_or(|ends| ends[last])
                && applies(k)
                && meta.alone.as_ref().is_some_and(|r| r.is_match(block))
        });
        best = best.into_iter().chain(backward).min_by_key(rank);
        if triggers >> TRIGGER_SHIFT != 0 {
            let alone = self.triggered.iter().copied().filter(|&k| {
                let meta = &self.block_meta[k];
                meta.trigger & triggers != 0
                    && applies(k)
                    && meta.alone.as_ref().is_some_and(|r| r.is_match(block))
            });
            best = best.into_iter().chain(alone).min_by_key(rank);
        }
        best.map(|k| self.block_meta[k].family)
    }

    /// The trigger bits of the rules that `separators` list separators in a
    /// block trigger (to be ORed with the bits of its words).
    pub fn separator_triggers(&self, separators: usize) -> u32 {
        self.separator_triggers
            .iter()
            .filter(|&&(least, _)| separators >= least)
            .fold(0, |bits, &(_, bit)| bits | bit)
    }

    /// The inline rules for `site` that may match in `text`, in rule order:
    /// those the inline set finds somewhere in it, and those run alone whose
    /// required literal it holds (the caller's search decides for these).
    pub fn inline_rules_matching<'a>(
        &'a self,
        text: &'a str,
        site: Option<&'a str>,
    ) -> impl Iterator<Item = &'a InlineRule> + 'a {
        // One pass over the text for the set's rules; the (rare) hits then run alone.
        let hits = self
            .inline_set
            .is_match(text)
            .then(|| self.inline_set.matches(text));
        self.inline
            .iter()
            .filter(move |rule| match &rule.gate {
                InlineGate::InSet(k) => hits.as_ref().is_some_and(|h| h.matched(*k)),
                InlineGate::Requires(literal) => literal.find(text.as_bytes()).is_some(),
            })
            .filter(move |r| site_allows(&r.sites, site))
    }

    /// Picks the page language for stop-word density from per-language hit
    /// counts over the page's words: the list with the most hits, or None when no
    /// list fits (a language we have no list for).
    pub fn pick_stop_language(
        &self,
        hits: &[u32; MAX_STOP_LANGS],
        total_words: u32,
    ) -> Option<usize> {
        let n = self.stopwords.langs.len().min(MAX_STOP_LANGS);
        let (best, &count) = hits.iter().enumerate().take(n).max_by_key(|(_, c)| **c)?;
        // Prose in a listed language has 25-50% stop words; a language without
        // a list still shares a few short words with some list (4 of 46 words of
        // a Polish paragraph are English stop words: "a", "i", "to", "o").
        (total_words > 0 && count * 100 >= total_words * MIN_STOP_SHARE).then_some(best)
    }
}

fn site_allows(sites: &[String], site: Option<&str>) -> bool {
    if sites.is_empty() {
        return true;
    }
    let Some(site) = site else { return false };
    sites
        .iter()
        .any(|s| site == s || site.ends_with(&format!(".{s}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn last_bytes_are_those_a_match_can_end_with() {
        let parsed = |p: &str| regex_syntax::parse(p).expect("pattern parses");
        let ends = |p: &str| -> Option<String> {
            last_bytes(&parsed(p)).map(|t| {
                (0..=255u8)
                    .filter(|&b| t[usize::from(b)])
                    .map(char::from)
                    .collect()
            })
        };
        // The clock-time rule: a digit, or a closing bracket after one.
        assert_eq!(
            ends(r"\s\(?[0-9]{1,2}:[0-9]{2}(:[0-9]{2})?\)?$").as_deref(),
            Some(")0123456789")
        );
        // Case folding: the ASCII forms (and "ſ" for s, a continuation byte).
        let folded = ends("(?i)(end|stop)s?$").expect("a gate");
        assert_eq!(
            folded.chars().filter(char::is_ascii).collect::<String>(),
            "DPSdps"
        );
        assert!(is_end_anchored(&parsed(r"(?i)\s(a|b)$")) && is_end_anchored(&parsed("a$|b$")));
        // Only then is a match's last byte the block's: `a` can match anywhere.
        assert!(!is_end_anchored(&parsed("a|b$")) && !is_end_anchored(&parsed("ab")));
        // A pattern that can match nothing at all gives no gate.
        assert_eq!(ends("x*$"), None);
        assert_eq!(ends("(a|)$"), None);
        // Non-ASCII characters end with a UTF-8 continuation byte.
        let t = last_bytes(&parsed("é$")).expect("a gate");
        assert!(t[0xa9] && !t[usize::from(b'e')]);
    }

    #[test]
    fn backward_rules_are_skipped_only_for_last_bytes_none_can_end_with() {
        let r = CompiledRules::builtin().expect("rules");
        let ends: String = (0..=255u8)
            .filter(|&b| r.backward_last[usize::from(b)])
            .map(char::from)
            .collect();
        // The clock time (a digit or ")") and the excerpt ("]").
        assert_eq!(ends, ")0123456789]");
        // A backward rule that can match empty text has no gate: no block skips.
        let open = CompiledRules::from_sources(std::iter::once((
            "t.toml".to_string(),
            "[[rule]]\nfamily = \"tail\"\npattern = '\\sharbour$'\n[[rule]]\nfamily = \"any\"\npattern = '\\s*$'\n"
                .to_string(),
        )))
        .expect("rules");
        assert_eq!(open.backward.len(), 2);
        assert!(open.backward_last.iter().all(|&any| any));
    }

    #[test]
    fn words_of_real_text_mostly_take_one_probe() {
        let r = CompiledRules::builtin().expect("rules");
        let stop = &r.stopwords;
        let n = stop.slots.len();
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/seeds");
        let mut hashes = Vec::new();
        for entry in std::fs::read_dir(dir).expect("seed fixtures") {
            let path = entry.expect("entry").path();
            if path.extension().is_some_and(|e| e == "txt") {
                let text = std::fs::read_to_string(&path).expect("seed text");
                hashes.extend(words(&text).map(|w| word_hash(&w.to_lowercase())));
            }
        }
        assert!(hashes.len() > 1000, "{} words", hashes.len());
        let read: usize = hashes.iter().map(|&h| stop.probe_counting(h).1).sum();
        let mean = read as f64 / hashes.len() as f64;
        // Spread evenly at a load of 1/8: about 1.1. Slots picked by the hash's
        // own high bits took 2.3 (stop words in clusters).
        assert!(mean < 1.4, "{mean:.3} probes a word over {n} slots");
        // The bitmap in front of the table answers most words alone (an empty
        // slot) and never hides a stored one.
        let empty_slot = |h: u64| {
            let slot = slot_of(h, stop.slot_shift);
            stop.taken[slot / 64] & (1 << (slot % 64)) == 0
        };
        let answered = hashes.iter().filter(|&&h| empty_slot(h)).count();
        assert!(
            answered * 100 >= hashes.len() * 30,
            "{answered} of {} words answered by the bitmap",
            hashes.len()
        );
        for (&h, &mask) in &stop.table {
            assert!(!empty_slot(h));
            assert_eq!(stop.probe(h), mask);
        }
        for h in hashes {
            let listed = stop.table.get(&h).copied().unwrap_or(0);
            assert_eq!(stop.probe(h), listed);
        }
    }

    #[test]
    fn builtin_rules_compile() {
        let r = CompiledRules::builtin().expect("builtin rules compile");
        assert!(r.families.iter().any(|f| f == "cookie"));
        assert!(r.stopwords.langs.iter().any(|l| l == "fr"));
    }

    #[test]
    fn site_rules_only_apply_to_their_site() {
        let r = CompiledRules::builtin().expect("rules");
        let line = "France 24 - Infos, news & actualités - L'information internationale";
        let chars = line.chars().count();
        assert!(r
            .match_block(line, chars, Some("france24.com"), 0)
            .is_some());
        assert!(r.match_block(line, chars, Some("example.com"), 0).is_none());
    }

    #[test]
    fn inline_rules_run_only_where_the_set_finds_them() {
        let rules = |toml: &str| {
            CompiledRules::from_sources(std::iter::once(("t.toml".to_string(), toml.to_string())))
                .expect("rules")
        };
        let r = rules(
            r#"
[[inline]]
family = "ads"
pattern = 'ADVERTISEMENT'
[[inline]]
family = "cta"
pattern = 'Download the app'
[[inline]]
family = "menu"
pattern = 'Back to home'
sites = ["example.com"]
"#,
        );
        let families = |text: &str, site: Option<&str>| -> Vec<String> {
            r.inline_rules_matching(text, site)
                .map(|rule| r.family_name(rule.family).to_string())
                .collect()
        };
        assert!(families("A plain sentence about the news.", None).is_empty());
        // Every matching rule, in rule order, whatever the order in the text.
        assert_eq!(
            families("Download the app now. ADVERTISEMENT", None),
            ["ads", "cta"]
        );
        // A site's rule only for that site.
        assert!(families("Back to home", Some("other.org")).is_empty());
        assert_eq!(families("Back to home", Some("example.com")), ["menu"]);
    }

    #[test]
    fn a_rule_with_a_required_literal_runs_alone_on_text_holding_it() {
        let r = CompiledRules::from_sources(std::iter::once((
            "t.toml".to_string(),
            r#"
[[inline]]
family = "ads"
pattern = 'ADVERTISEMENT'
[[inline]]
family = "video"
pattern = '^(?P<cut>[^.!?]{3,200}?\s\d{1,2}:\d{2})\s+\p{Lu}'
requires = ":"
[[inline]]
family = "cta"
pattern = 'Download the app'
"#
            .to_string(),
        )))
        .expect("rules");
        let in_set: Vec<Option<usize>> = r
            .inline
            .iter()
            .map(|rule| match rule.gate {
                InlineGate::InSet(k) => Some(k),
                InlineGate::Requires(_) => None,
            })
            .collect();
        assert_eq!(in_set, [Some(0), None, Some(1)]);
        let families = |text: &str| -> Vec<String> {
            r.inline_rules_matching(text, None)
                .map(|rule| r.family_name(rule.family).to_string())
                .collect()
        };
        // No colon: the video rule is not even tried.
        assert_eq!(families("ADVERTISEMENT Download the app"), ["ads", "cta"]);
        // A colon makes it a candidate, in rule order; its own search decides.
        let glued = "Storm hits the coast 03:36 Residents fled";
        assert_eq!(
            families(&format!("ADVERTISEMENT {glued}")),
            ["ads", "video"]
        );
        let video = r
            .inline_rules_matching(glued, None)
            .next()
            .expect("candidate");
        assert_eq!(
            video
                .regex
                .captures(glued)
                .and_then(|c| c.name("cut"))
                .map(|m| m.as_str()),
            Some("Storm hits the coast 03:36")
        );
        assert!(video.regex.captures("Ratio 3:1 in the poll").is_none());
    }

    #[test]
    fn requires_is_for_inline_rules_only_and_never_empty() {
        let compile = |toml: &str| {
            CompiledRules::from_sources(std::iter::once(("t.toml".to_string(), toml.to_string())))
                .map(|_| ())
                .map_err(|e| format!("{e:#}"))
        };
        let block = compile("[[rule]]\nfamily = \"x\"\npattern = '^a:b'\nrequires = \":\"\n");
        assert!(block.unwrap_err().contains("only inline rules take it"));
        let empty = compile("[[inline]]\nfamily = \"x\"\npattern = 'a:b'\nrequires = \"\"\n");
        assert!(empty.unwrap_err().contains("empty literal"));
    }

    #[test]
    fn requires_must_be_held_by_every_match() {
        let compile = |pattern: &str, literal: &str| {
            let toml = format!(
                "[[inline]]\nfamily = \"x\"\npattern = '{pattern}'\nrequires = \"{literal}\"\n"
            );
            CompiledRules::from_sources(std::iter::once(("t.toml".to_string(), toml)))
                .map(|_| ())
                .map_err(|e| format!("{e:#}"))
        };
        // Held by every match: in a literal run, in a repeated part that runs
        // at least once, in every alternative, inside a capture group.
        for (pattern, literal) in [
            (r"\d{1,2}:\d{2}", ":"),
            (r"Photo(?: credit)?: \w+", "Photo"),
            (r"(?:(?:a:)+|b:c)", ":"),
            (r"(?P<cut>Read more:)\s", "more:"),
        ] {
            assert_eq!(compile(pattern, literal), Ok(()), "{pattern:?} {literal:?}");
        }
        // Some match lacks it: an alternative, an optional part, a class, a
        // case-insensitive pattern (the literal is looked for byte for byte).
        for (pattern, literal) in [
            (r"a:|b", ":"),
            (r"x(?::)?y", ":"),
            (r"\d[:.]\d", ":"),
            (r"(?i)read more", "read"),
            (r"\d:\d", "2:3"),
        ] {
            let err = compile(pattern, literal).expect_err(pattern);
            assert!(err.contains("can match without it"), "{err}");
        }
    }

    #[test]
    fn anchored_patterns_are_recognised() {
        assert!(is_anchored("^foo"));
        assert!(is_anchored("(?i)^foo"));
        assert!(!is_anchored("(?i)foo"));
        assert!(!is_anchored("(?P<x>^foo)"));
    }

    #[test]
    fn ascii_boundary_rewrite() {
        assert_eq!(ascii_boundaries(r"\bfoo\b"), r"(?-u:\b)foo(?-u:\b)");
    }
}
