//! The user's seed articles: every expectation of `tests/fixtures/seeds/expectations.json`
//! is checked on the cleaned text (title line + "\n" + body), and each re-scrape must
//! clean to exactly the same title and paragraphs as its original (same content hash).

use std::fs;
use std::path::{Path, PathBuf};

use article_ingest::clean::{CleanInput, Cleaned, Cleaner};
use serde_json::Value;
use unicode_normalization::UnicodeNormalization;

fn seeds_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/seeds")
}

fn clean_file(cleaner: &Cleaner, path: &Path) -> Cleaned {
    let text =
        fs::read_to_string(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    cleaner.clean(&CleanInput {
        text: &text,
        title: None,
        source: None,
        url: None,
    })
}

/// NFC + whitespace collapsed, as the expectations are written.
fn norm(s: &str) -> String {
    let nfc: String = s.nfc().collect();
    nfc.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn cleaned_text(c: &Cleaned) -> String {
    let mut out = String::new();
    if let Some(t) = &c.title {
        out.push_str(t);
        out.push('\n');
    }
    out.push_str(&c.paragraphs.join("\n"));
    out
}

fn strings(v: &Value, key: &str) -> Vec<String> {
    v.get(key)
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

fn expectations() -> Value {
    let raw = fs::read_to_string(seeds_dir().join("expectations.json")).expect("expectations.json");
    serde_json::from_str(&raw).expect("expectations.json is JSON")
}

#[test]
fn every_seed_expectation_holds() {
    let cleaner = Cleaner::builtin();
    let exp = expectations();
    let articles = exp["articles"].as_object().expect("articles object");
    assert_eq!(articles.len(), 5);
    let mut failures = Vec::new();
    for (file, e) in articles {
        let cleaned = clean_file(&cleaner, &seeds_dir().join(file));
        let raw_text = cleaned_text(&cleaned);
        let text = norm(&raw_text);
        let mut fail = |msg: String| failures.push(format!("{file}: {msg}"));
        if let Some(first) = e.get("first_line").and_then(Value::as_str) {
            if !text.starts_with(&norm(first)) {
                fail(format!(
                    "does not start with {first:?}; starts with {:?}",
                    text.chars().take(120).collect::<String>()
                ));
            }
        }
        for s in strings(e, "must_keep") {
            if !text.contains(&norm(&s)) {
                fail(format!("must keep {s:?}"));
            }
        }
        for s in strings(e, "must_remove") {
            if text.contains(&norm(&s)) {
                fail(format!("must remove {s:?}"));
            }
        }
        for s in strings(e, "exactly_once") {
            let n = text.matches(&norm(&s)).count();
            if n != 1 {
                fail(format!("{s:?} appears {n} times, expected exactly once"));
            }
        }
        for s in strings(e, "at_most_once") {
            let n = text.matches(&norm(&s)).count();
            if n > 1 {
                fail(format!("{s:?} appears {n} times, expected at most once"));
            }
        }
        for s in strings(e, "no_line_equal") {
            if raw_text.lines().any(|l| norm(l) == norm(&s)) {
                fail(format!("a line equals {s:?}"));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "seed expectations failed:\n{}",
        failures.join("\n")
    );
}

#[test]
fn rescrapes_clean_to_the_same_title_and_paragraphs() {
    let cleaner = Cleaner::builtin();
    let pairs = [
        ("001_bio_changed_crlf.txt", "001_09bcae2d0884f6e2.txt"),
        (
            "002_timestamps_and_video_changed.txt",
            "002_9438c1acc4b3994a.txt",
        ),
        ("003_next_trailer_rotated.txt", "003_0013cf854fe2a652.txt"),
    ];
    for (rescrape, original) in pairs {
        let a = clean_file(&cleaner, &seeds_dir().join("rescrapes").join(rescrape));
        let b = clean_file(&cleaner, &seeds_dir().join(original));
        assert_eq!(a.title, b.title, "{rescrape} vs {original}: titles differ");
        assert_eq!(
            a.paragraphs, b.paragraphs,
            "{rescrape} vs {original}: paragraphs differ"
        );
    }
}

#[test]
fn distinct_seed_articles_stay_distinct() {
    let cleaner = Cleaner::builtin();
    let exp = expectations();
    for pair in exp["dedupe"]["distinct"]
        .as_array()
        .expect("dedupe.distinct")
    {
        let a = pair[0].as_str().expect("file name");
        let b = pair[1].as_str().expect("file name");
        let ca = clean_file(&cleaner, &seeds_dir().join(a));
        let cb = clean_file(&cleaner, &seeds_dir().join(b));
        assert_ne!(
            cleaned_text(&ca),
            cleaned_text(&cb),
            "{a} and {b} must differ after cleaning"
        );
    }
}

#[test]
fn seeds_are_detected_as_french() {
    let cleaner = Cleaner::builtin();
    for file in ["000_39a025f67963c445.txt", "002_9438c1acc4b3994a.txt"] {
        assert_eq!(
            clean_file(&cleaner, &seeds_dir().join(file))
                .lang
                .as_deref(),
            Some("fr"),
            "{file}"
        );
    }
}
