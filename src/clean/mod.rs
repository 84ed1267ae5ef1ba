//! Cleaning: scraped page text in, article title and body paragraphs out.
//!
//! Contract: pure and synchronous. No I/O, no clock, no global state; the same
//! input and the same rules always give the same output. Memory is bounded by
//! the input size.
//!
//! (Placeholder implementation: splits on blank lines. The real cleaner replaces it.)

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
}

impl Cleaned {
    /// The body as published: paragraphs separated by a blank line.
    pub fn body(&self) -> String {
        self.paragraphs.join("\n\n")
    }
}

/// A configured cleaner. Cheap to share between threads (`Send + Sync`).
#[derive(Debug, Clone, Default)]
pub struct Cleaner {}

impl Cleaner {
    /// The cleaner with the rules shipped in `config/rules/` compiled in.
    pub fn builtin() -> Self {
        Cleaner {}
    }

    /// Loads rule files from a directory (same format as `config/rules/`).
    pub fn from_dir(_dir: &std::path::Path) -> anyhow::Result<Self> {
        Ok(Cleaner {})
    }

    pub fn clean(&self, input: &CleanInput<'_>) -> Cleaned {
        let mut paragraphs: Vec<String> = input
            .text
            .split("\n\n")
            .map(|p| p.split_whitespace().collect::<Vec<_>>().join(" "))
            .filter(|p| !p.is_empty())
            .collect();
        let segments_in = paragraphs.len();
        let title = match input.title {
            Some(t) => Some(t.to_string()),
            None if !paragraphs.is_empty() => Some(paragraphs.remove(0)),
            None => None,
        };
        Cleaned {
            title,
            paragraphs,
            lang: None,
            segments_in,
            segments_removed: 0,
        }
    }
}
