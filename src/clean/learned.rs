//! Learned boilerplate: blocks a source prints on many distinct articles.
//!
//! Contract: a plain data structure, no I/O and no clock (its "time" is a
//! counter of recorded articles). It records normalised block hashes (from
//! [`super::Cleaner::block_hashes`]) per source and reports a block as
//! boilerplate once it has been seen on at least `min_articles` distinct
//! articles of that source. Memory is bounded: at most `max_sources` sources
//! (least recently used evicted) and `max_blocks_per_source` blocks per source
//! (least recently seen evicted), each block keeping at most `min_articles`
//! article fingerprints. Serialisable with serde so the worker can persist it.
//! The cleaner applies it with a guard (`max_strip_share`): if the learned
//! blocks would remove more than that share of an article's body, none are
//! removed (a syndicated story printed by the same source again is not
//! boilerplate).

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::text::Fnv;

/// Limits and thresholds of a [`BoilerplateModel`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LearnedConfig {
    /// A block seen on this many distinct articles of a source is boilerplate.
    pub min_articles: u32,
    pub max_sources: usize,
    pub max_blocks_per_source: usize,
    /// Largest share of an article's body (in chars) learned blocks may remove.
    pub max_strip_share: f32,
    /// At most this many blocks are recorded per article.
    pub max_blocks_per_article: usize,
}

impl Default for LearnedConfig {
    fn default() -> Self {
        LearnedConfig {
            min_articles: 3,
            max_sources: 2000,
            max_blocks_per_source: 4000,
            max_strip_share: 0.5,
            max_blocks_per_article: 1000,
        }
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct BlockStats {
    /// Fingerprints of distinct articles the block was seen on (at most `min_articles`).
    articles: Vec<u64>,
    last_seen: u64,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct SourceStats {
    last_used: u64,
    blocks: HashMap<u64, BlockStats>,
}

/// Per-source counts of normalised block hashes across distinct articles.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct BoilerplateModel {
    config: LearnedConfig,
    /// Number of `record` calls so far: the model's clock for LRU eviction.
    clock: u64,
    sources: HashMap<String, SourceStats>,
}

impl BoilerplateModel {
    pub fn new(config: LearnedConfig) -> Self {
        BoilerplateModel {
            config,
            clock: 0,
            sources: HashMap::new(),
        }
    }

    pub fn config(&self) -> &LearnedConfig {
        &self.config
    }

    pub fn source_count(&self) -> usize {
        self.sources.len()
    }

    pub fn block_count(&self, source: &str) -> usize {
        self.sources.get(source).map_or(0, |s| s.blocks.len())
    }

    /// Records one article's block hashes for `source` (in page order, as
    /// [`super::Cleaner::block_hashes`] gives them; the first
    /// `max_blocks_per_article` are kept, and a repeated hash counts once).
    /// Recording the same article (same set of hashes) again does not count
    /// it twice.
    pub fn record(&mut self, source: &str, block_hashes: &[u64]) {
        let mut hashes: Vec<u64> = block_hashes
            .iter()
            .copied()
            .take(self.config.max_blocks_per_article)
            .collect();
        hashes.sort_unstable();
        hashes.dedup();
        if hashes.is_empty() {
            return;
        }
        let mut fp = Fnv::new();
        for h in &hashes {
            for b in h.to_le_bytes() {
                fp.push_char(char::from(b));
            }
        }
        let article = fp.finish();
        self.clock += 1;
        let now = self.clock;
        if !self.sources.contains_key(source)
            && self.sources.len() >= self.config.max_sources.max(1)
        {
            self.evict_sources();
        }
        let keep = self.config.min_articles.max(1) as usize;
        let max_blocks = self.config.max_blocks_per_source.max(1);
        let stats = self.sources.entry(source.to_string()).or_default();
        stats.last_used = now;
        for h in hashes {
            let b = stats.blocks.entry(h).or_default();
            b.last_seen = now;
            if b.articles.len() < keep && !b.articles.contains(&article) {
                b.articles.push(article);
            }
        }
        if stats.blocks.len() > max_blocks {
            evict_blocks(&mut stats.blocks, max_blocks);
        }
    }

    /// True when the block was seen on at least `min_articles` distinct articles of `source`.
    pub fn is_boilerplate(&self, source: &str, hash: u64) -> bool {
        self.sources
            .get(source)
            .and_then(|s| s.blocks.get(&hash))
            .is_some_and(|b| b.articles.len() >= self.config.min_articles.max(1) as usize)
    }

    /// The guard: may learned blocks totalling `strip_chars` be removed from a body of `body_chars`?
    pub fn allows_strip(&self, strip_chars: usize, body_chars: usize) -> bool {
        strip_chars > 0
            && (strip_chars as f64) <= f64::from(self.config.max_strip_share) * body_chars as f64
    }

    /// Drops the least recently used tenth of the sources (amortises eviction cost).
    fn evict_sources(&mut self) {
        let mut by_age: Vec<(u64, String)> = self
            .sources
            .iter()
            .map(|(k, v)| (v.last_used, k.clone()))
            .collect();
        by_age.sort_unstable();
        let n = (by_age.len() / 10).max(1);
        for (_, k) in by_age.into_iter().take(n) {
            self.sources.remove(&k);
        }
    }
}

/// Drops the least recently seen blocks down to 90% of `cap`.
fn evict_blocks(blocks: &mut HashMap<u64, BlockStats>, cap: usize) {
    let target = cap - cap / 10;
    let mut by_age: Vec<(u64, u64)> = blocks.iter().map(|(h, b)| (b.last_seen, *h)).collect();
    by_age.sort_unstable();
    let excess = blocks.len().saturating_sub(target);
    for (_, h) in by_age.into_iter().take(excess) {
        blocks.remove(&h);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clean::{CleanInput, Cleaner};

    fn article(body: &str, footer: &str) -> String {
        format!("{body}\n{footer}")
    }

    const FOOTER: &str = "The Gazette is an independent newspaper funded by its readers and the foundation that owns it since 1990.";
    const BODIES: [&str; 4] = [
        "The river flooded the lower town on Monday night, and the firefighters who came from three villages worked until dawn to move the families out of their houses.",
        "A new school will open in the north of the city next year, the mayor said on Friday, after the council found the money that had been missing from the budget for the project.",
        "The farmers of the valley say the dry summer has cut the harvest by a third, and many of them are asking the region for help before the winter comes and the prices rise again.",
        "The museum has bought a painting that was lost during the war and found last year in a private collection abroad, and it will be shown to the public from the first of May.",
    ];

    #[test]
    fn a_block_seen_on_n_articles_is_removed_from_the_next_one() {
        let cleaner = Cleaner::builtin();
        let mut model = BoilerplateModel::new(LearnedConfig::default());
        for body in &BODIES[..3] {
            let text = article(body, FOOTER);
            model.record(
                "gazette.example",
                &cleaner.block_hashes(&CleanInput {
                    text: &text,
                    ..Default::default()
                }),
            );
        }
        let text = article(BODIES[3], FOOTER);
        let input = CleanInput {
            text: &text,
            source: Some("gazette.example"),
            ..Default::default()
        };
        let without = cleaner.clean(&input);
        assert!(
            without.body().contains("independent newspaper"),
            "footer is prose: the rules alone keep it"
        );
        let with = cleaner.clean_with(&input, Some(&model));
        assert!(
            !with.body().contains("independent newspaper"),
            "{:?}",
            with.paragraphs
        );
        assert!(with.body().contains("The museum has bought a painting"));
    }

    #[test]
    fn a_block_seen_on_fewer_articles_or_the_same_article_twice_is_kept() {
        let cleaner = Cleaner::builtin();
        let mut model = BoilerplateModel::new(LearnedConfig::default());
        // Two distinct articles plus the same article recorded again: 2 distinct, below N=3.
        for body in [BODIES[0], BODIES[1], BODIES[1]] {
            let text = article(body, FOOTER);
            model.record(
                "gazette.example",
                &cleaner.block_hashes(&CleanInput {
                    text: &text,
                    ..Default::default()
                }),
            );
        }
        let text = article(BODIES[3], FOOTER);
        let input = CleanInput {
            text: &text,
            source: Some("gazette.example"),
            ..Default::default()
        };
        assert!(cleaner
            .clean_with(&input, Some(&model))
            .body()
            .contains("independent newspaper"));
        // And another source never learns from this one.
        let other = CleanInput {
            text: &text,
            source: Some("other.example"),
            ..Default::default()
        };
        assert!(cleaner
            .clean_with(&other, Some(&model))
            .body()
            .contains("independent newspaper"));
    }

    #[test]
    fn guard_refuses_to_strip_most_of_a_syndicated_story() {
        let cleaner = Cleaner::builtin();
        let mut model = BoilerplateModel::new(LearnedConfig::default());
        // The same wire story printed under three different headlines: every body block repeats.
        let story = format!("{}\n{}", BODIES[0], BODIES[1]);
        for headline in [
            "Flood in the lower town",
            "Firefighters work until dawn",
            "Families moved out",
        ] {
            let text = format!("{headline}\n{story}");
            model.record(
                "wire.example",
                &cleaner.block_hashes(&CleanInput {
                    text: &text,
                    ..Default::default()
                }),
            );
        }
        let text = format!("Lower town flooded again\n{story}");
        let input = CleanInput {
            text: &text,
            source: Some("wire.example"),
            ..Default::default()
        };
        let cleaned = cleaner.clean_with(&input, Some(&model));
        assert!(
            cleaned.body().contains("The river flooded"),
            "{:?}",
            cleaned.paragraphs
        );
        assert!(cleaned.body().contains("A new school"));
    }

    #[test]
    fn memory_is_bounded_and_model_round_trips_through_json() {
        let cfg = LearnedConfig {
            max_sources: 5,
            max_blocks_per_source: 50,
            ..LearnedConfig::default()
        };
        let mut model = BoilerplateModel::new(cfg);
        for s in 0..20u64 {
            for a in 0..10u64 {
                let hashes: Vec<u64> = (0..30).map(|i| s * 1_000_000 + a * 1000 + i).collect();
                model.record(&format!("site{s}"), &hashes);
            }
        }
        assert!(model.source_count() <= 5);
        assert!(model.block_count("site19") <= 50);
        let json = serde_json::to_string(&model).expect("serialise");
        let back: BoilerplateModel = serde_json::from_str(&json).expect("deserialise");
        assert_eq!(back.source_count(), model.source_count());
    }
}
