//! Hostile input: a corpus of nasty payloads generated in code, each through
//! `payload::decode` and `article::process` (a reject with the expected code
//! or a well-formed clean record, never a panic, within a hang-guard time
//! bound); a stable-Rust random/mutation smoke test standing in for the
//! cargo-fuzz targets in `fuzz/`; and an end-to-end run of a handful of them
//! through a real worker.

mod common;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use common::*;

use article_ingest::article::{self, CleanArticle};
use article_ingest::clean::{CleanInput, Cleaner};
use article_ingest::fingerprint::content_id;
use article_ingest::payload::{decode, RejectReason};
use article_ingest::server::NatsServer;
use article_ingest::sink::{HEADER_RAW_SEQUENCE, HEADER_REJECT_REASON, HEADER_TRUNCATED};

/// Per-input hang guard (generous: debug builds, a loaded 2-core machine).
const PER_INPUT: Duration = Duration::from_secs(2);
/// Inputs of several megabytes get a larger guard in debug builds.
const PER_BIG_INPUT: Duration = Duration::from_secs(if cfg!(debug_assertions) { 20 } else { 4 });

#[derive(Debug, Clone)]
enum Expect {
    /// Rejected with this code.
    Reject(&'static str),
    /// A clean record; `Some(id)`: with this content id.
    Clean(Option<String>),
    /// Depends on the cleaner's rules (boilerplate, one-line pages): a clean
    /// record, or this reject.
    CleanOr(&'static str),
}

struct Case {
    name: String,
    payload: Vec<u8>,
    max_bytes: usize,
    expect: Expect,
    big: bool,
}

fn case(name: impl Into<String>, payload: impl Into<Vec<u8>>, expect: Expect) -> Case {
    Case {
        name: name.into(),
        payload: payload.into(),
        max_bytes: 1 << 20,
        expect,
        big: false,
    }
}

fn json(v: serde_json::Value) -> Vec<u8> {
    v.to_string().into_bytes()
}

fn plain_id(text: &str) -> String {
    let raw = decode(text.as_bytes(), "t", usize::MAX).expect("plain decodes");
    article::process(&Cleaner::builtin(), raw, "t")
        .expect("plain cleans")
        .id
}

/// Inserts `junk` after every character that is not a newline.
fn sprinkle(text: &str, junk: &str) -> String {
    let mut out = String::with_capacity(text.len() * (1 + junk.len()));
    for c in text.chars() {
        out.push(c);
        if c != '\n' {
            out.push_str(junk);
        }
    }
    out
}

fn corpus() -> Vec<Case> {
    let good = synthetic_text(7);
    let good_json =
        json(serde_json::json!({"text": good, "url": "https://x.example/7", "source": "x"}));
    let mut cases = Vec::new();

    // Truncated JSON: every proper prefix of an object is invalid JSON.
    for cut in (1..good_json.len()).step_by(37) {
        cases.push(case(
            format!("truncated at {cut}"),
            good_json[..cut].to_vec(),
            Expect::Reject("invalid_json"),
        ));
    }
    for (name, text) in [
        ("trailing comma", r#"{"text": "a", }"#),
        ("single quotes", r#"{'text': 'a'}"#),
        ("trailing garbage", r#"{"text": "a\n\nb"} and more"#),
        ("lone surrogate escape", r#"{"text": "a\ud800b"}"#),
        ("NaN", r#"{"text": "a", "n": NaN}"#),
        (
            "number out of range",
            r#"{"text": "a\n\nb", "fetched_at": 1e400}"#,
        ),
        ("unterminated array", r#"[1, 2"#),
        ("bare brace", "{"),
        ("control char in string", "{\"text\": \"a\u{1}b\"}"),
    ] {
        cases.push(case(name, text, Expect::Reject("invalid_json")));
    }
    // JSON that is not an object.
    for (name, text) in [
        ("array", "[]"),
        ("array of text", r#"["text", "body"]"#),
        ("nested arrays", "[[[]]]"),
    ] {
        cases.push(case(name, text, Expect::Reject("not_an_object")));
    }
    // JSON scalars do not start with { or [: by contract they are plain text.
    for (name, text) in [
        ("json string", r#""a quoted\n\nstring""#),
        ("json number", "12345"),
        ("json null", "null"),
    ] {
        cases.push(case(name, text, Expect::CleanOr("nothing_left")));
    }
    // Wrong field types.
    for (name, v) in [
        ("text number", serde_json::json!({"text": 12})),
        ("text array", serde_json::json!({"text": ["a"]})),
        ("text object", serde_json::json!({"text": {"a": 1}})),
        ("text bool", serde_json::json!({"text": true})),
        ("url number", serde_json::json!({"text": good, "url": 7})),
        (
            "source array",
            serde_json::json!({"text": good, "source": ["x"]}),
        ),
        (
            "title object",
            serde_json::json!({"text": good, "title": {}}),
        ),
        (
            "lang bool",
            serde_json::json!({"text": good, "lang": false}),
        ),
        (
            "fetched_at object",
            serde_json::json!({"text": good, "fetched_at": {}}),
        ),
        (
            "fetched_at array",
            serde_json::json!({"text": good, "fetched_at": [1]}),
        ),
    ] {
        cases.push(case(name, json(v), Expect::Reject("wrong_field_type")));
    }
    cases.push(case(
        "duplicate key, last one a number",
        r#"{"text": "a", "text": 5}"#,
        Expect::Reject("wrong_field_type"),
    ));
    cases.push(case(
        "text null",
        r#"{"text": null}"#,
        Expect::Reject("missing_text"),
    ));
    cases.push(case(
        "no text",
        r#"{"url": "https://x"}"#,
        Expect::Reject("missing_text"),
    ));
    cases.push(case("empty object", "{}", Expect::Reject("missing_text")));
    // Not UTF-8.
    for (name, bytes) in [
        ("lone 0xff", b"\xff".to_vec()),
        ("latin-1", b"Le pr\xe9sident a d\xe9clar\xe9".to_vec()),
        ("overlong slash", b"a\xc0\xafb".to_vec()),
        ("encoded surrogate", b"a\xed\xa0\x80b".to_vec()),
        ("cut multibyte at end", "Caf\u{e9}".as_bytes()[..4].to_vec()),
        (
            "bad byte inside JSON string",
            b"{\"text\": \"a\xfe\"}".to_vec(),
        ),
    ] {
        cases.push(case(name, bytes, Expect::Reject("not_utf8")));
    }
    // NUL and control characters.
    cases.push(case(
        "NUL escapes in JSON",
        json(serde_json::json!({"text": format!("Ti\u{0}tle\n\nBo\u{0}dy {good}")})),
        Expect::Clean(None),
    ));
    cases.push(case(
        "raw NUL bytes in text",
        format!("Title\0\0\n\nBody\0 text {good}"),
        Expect::Clean(None),
    ));
    cases.push(case(
        "only control characters",
        "\u{1}\u{2}\u{3}\u{7f}\u{1b}[31m",
        Expect::CleanOr("nothing_left"),
    ));
    cases.push(case(
        "controls between every char",
        sprinkle(&good, "\u{1}"),
        Expect::Clean(Some(plain_id(&good))),
    ));
    // Empty and whitespace.
    cases.push(case("empty payload", "", Expect::Reject("empty_payload")));
    cases.push(case("spaces", "    ", Expect::Reject("empty_text")));
    cases.push(case(
        "newlines and tabs",
        "\n\t\r\n ",
        Expect::Reject("empty_text"),
    ));
    cases.push(case(
        "unicode spaces",
        "\u{2003}\u{3000}\u{a0}\u{2029}",
        Expect::Reject("empty_text"),
    ));
    cases.push(case(
        "empty text field",
        r#"{"text": ""}"#,
        Expect::Reject("empty_text"),
    ));
    cases.push(case(
        "whitespace text field",
        r#"{"text": " \t\n\r "}"#,
        Expect::Reject("empty_text"),
    ));
    cases.push(case(
        "zero-width only",
        "\u{200b}\u{200b}\u{feff}\u{200d}",
        Expect::Reject("nothing_left"),
    ));
    cases.push(case(
        "title only",
        "Just a title",
        Expect::Reject("nothing_left"),
    ));
    // Size limit.
    let limit = 4096;
    let mut at_limit = format!("Title\n\n{good}\n\n").into_bytes();
    at_limit.resize(limit, b'x');
    let mut over = at_limit.clone();
    over.push(b'x');
    cases.push(Case {
        max_bytes: limit,
        ..case("exactly at the limit", at_limit, Expect::Clean(None))
    });
    cases.push(Case {
        max_bytes: limit,
        ..case("one byte over the limit", over, Expect::Reject("too_large"))
    });
    cases.push(Case {
        max_bytes: limit,
        ..case(
            "4 MiB over a 4 KiB limit",
            vec![b'{'; 4 << 20],
            Expect::Reject("too_large"),
        )
    });
    // Huge shapes.
    let line: String = "word ".repeat(500_000);
    cases.push(Case {
        max_bytes: 16 << 20,
        big: true,
        ..case(
            "one 2.5 MB line",
            line.clone(),
            Expect::CleanOr("nothing_left"),
        )
    });
    cases.push(Case {
        max_bytes: 16 << 20,
        big: true,
        ..case(
            "title then one 2.5 MB line",
            format!("Title\n\n{line}"),
            Expect::CleanOr("nothing_left"),
        )
    });
    cases.push(Case {
        max_bytes: 16 << 20,
        big: true,
        ..case(
            "one 4 MiB word",
            "x".repeat(4 << 20),
            Expect::CleanOr("nothing_left"),
        )
    });
    cases.push(Case {
        max_bytes: 16 << 20,
        big: true,
        ..case(
            "100,000 one-character lines",
            "a\n".repeat(100_000),
            Expect::CleanOr("nothing_left"),
        )
    });
    cases.push(Case {
        max_bytes: 16 << 20,
        big: true,
        ..case(
            "100,000 one-character paragraphs",
            "a\n\n".repeat(100_000),
            Expect::CleanOr("nothing_left"),
        )
    });
    cases.push(Case {
        max_bytes: 16 << 20,
        big: true,
        ..case(
            "200,000 blank lines around a story",
            format!("{}{good}{}", "\n".repeat(100_000), "\n".repeat(100_000)),
            Expect::Clean(Some(plain_id(&good))),
        )
    });
    // Deep nesting.
    let deep = |n: usize| {
        format!(
            "{{\"text\":\"x\\n\\ny\",\"a\":{}{}}}",
            "[".repeat(n),
            "]".repeat(n)
        )
    };
    cases.push(case(
        "nested 100 deep (allowed)",
        deep(100),
        // Its text, "x" and "y", is no article.
        Expect::CleanOr("nothing_left"),
    ));
    cases.push(Case {
        big: true,
        ..case(
            "nested 100,000 deep",
            deep(100_000),
            Expect::Reject("invalid_json"),
        )
    });
    cases.push(Case {
        big: true,
        ..case(
            "1,000,000 open brackets",
            "[".repeat(1_000_000),
            Expect::Reject("invalid_json"),
        )
    });
    cases.push(case(
        "nested objects 1,000 deep",
        format!("{}{}", "{\"a\":".repeat(1000), "}".repeat(1000)),
        Expect::Reject("invalid_json"),
    ));
    cases.push(case(
        "50,000 extra fields",
        {
            let mut m = serde_json::Map::new();
            m.insert("text".into(), good.clone().into());
            for i in 0..50_000 {
                m.insert(format!("f{i}"), i.into());
            }
            json(serde_json::Value::Object(m))
        },
        Expect::Clean(Some(plain_id(&good))),
    ));
    // Invisible-character spam: the content id ignores it (fingerprint contract).
    for (name, junk) in [
        ("zero-width space spam", "\u{200b}"),
        ("zero-width joiner spam", "\u{200d}\u{2060}"),
        ("bidi override spam", "\u{202e}\u{202d}\u{202c}"),
        ("bidi isolate spam", "\u{2067}\u{2069}"),
        ("BOM and soft hyphen spam", "\u{feff}\u{ad}"),
    ] {
        cases.push(case(
            name,
            sprinkle(&good, junk),
            Expect::Clean(Some(plain_id(&good))),
        ));
    }
    cases.push(case(
        "zero-width spam 1 MiB around a story",
        format!(
            "{}{good}{}",
            "\u{200b}".repeat(150_000),
            "\u{200b}".repeat(150_000)
        ),
        Expect::Clean(Some(plain_id(&good))),
    ));
    // Combining-character floods.
    cases.push(Case {
        big: true,
        ..case(
            "200,000 combining acutes on one letter",
            format!("Title\n\na{}", "\u{301}".repeat(200_000)),
            Expect::Clean(None),
        )
    });
    cases.push(Case {
        big: true,
        ..case(
            "alternating combining classes x200,000",
            format!("Title\n\na{}", "\u{301}\u{316}".repeat(100_000)),
            Expect::Clean(None),
        )
    });
    cases.push(case("zalgo text", sprinkle(&good, "\u{30d}\u{30e}\u{304}\u{305}\u{33f}\u{311}\u{306}\u{310}\u{352}\u{357}\u{351}\u{316}\u{317}\u{318}"), Expect::CleanOr("nothing_left")));
    cases.push(case(
        "hangul jamo flood",
        format!("Title\n\n{}", "\u{1100}\u{1161}\u{11a8}".repeat(50_000)),
        Expect::CleanOr("nothing_left"),
    ));
    // All boilerplate: a real cleaner drops it all; the placeholder keeps it.
    let boilerplate = [
        "Subscribe to our newsletter",
        "Accept all cookies",
        "Share on Facebook",
        "Share on Twitter",
        "Advertisement",
        "Read more",
        "Sign in to comment",
        "© 2024 Example Media. All rights reserved.",
    ]
    .join("\n\n");
    cases.push(case(
        "all boilerplate",
        boilerplate.clone(),
        Expect::CleanOr("nothing_left"),
    ));
    cases.push(case(
        "boilerplate x1000",
        format!("{boilerplate}\n\n").repeat(1000),
        Expect::CleanOr("nothing_left"),
    ));
    cases
}

/// The checks a clean output must pass whatever the cleaner's rules.
fn check_clean(name: &str, raw_source: &str, chars_in: usize, out: &CleanArticle) {
    let v: serde_json::Value = serde_json::from_slice(&out.record)
        .unwrap_or_else(|e| panic!("{name}: record is not JSON: {e}"));
    assert!(v.is_object(), "{name}: record is an object");
    assert_eq!(v["id"].as_str(), Some(out.id.as_str()), "{name}: id field");
    assert_eq!(out.id.len(), 64, "{name}: id is hex SHA-256");
    assert!(
        out.id
            .bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()),
        "{name}"
    );
    // A page without a headline has a null title; the id then hashes "".
    let title = match &v["title"] {
        serde_json::Value::Null => "",
        t => t.as_str().expect("title is a string or null"),
    };
    let text = v["text"].as_str().expect("text string");
    assert!(!text.trim().is_empty(), "{name}: body not empty");
    assert_eq!(
        content_id(title, text),
        out.id,
        "{name}: id is the record's content id"
    );
    assert_eq!(v["source"].as_str(), Some(raw_source), "{name}: source");
    assert_eq!(
        v["stats"]["chars_in"].as_u64(),
        Some(chars_in as u64),
        "{name}: chars_in"
    );
    assert!(
        v["stats"]["chars_out"].as_u64().unwrap() <= chars_in as u64 + 64,
        "{name}: output not larger than input"
    );
}

fn run_case(cleaner: &Cleaner, c: &Case) -> (Result<CleanArticle, RejectReason>, Duration) {
    let started = Instant::now();
    let result = decode(&c.payload, "hostile", c.max_bytes).and_then(|raw| {
        let source = raw.source.clone();
        let chars_in = raw.text.chars().count();
        let out = article::process(cleaner, raw, "2024-01-01T00:00:00.000Z");
        if let Ok(out) = &out {
            check_clean(&c.name, &source, chars_in, out);
        }
        out
    });
    (result, started.elapsed())
}

#[test]
fn hostile_corpus_gets_the_right_verdict_quickly_and_never_panics() {
    let cleaner = Cleaner::builtin();
    let cases = corpus();
    let mut rows = Vec::new();
    let mut failures = Vec::new();
    for c in &cases {
        let (result, took) = run_case(&cleaner, c);
        let bound = if c.big { PER_BIG_INPUT } else { PER_INPUT };
        let verdict = match &result {
            Ok(_) => "clean".to_string(),
            Err(r) => r.code().to_string(),
        };
        let ok = match (&c.expect, &result) {
            (Expect::Reject(code), Err(r)) => r.code() == *code,
            (Expect::Clean(None), Ok(_)) => true,
            (Expect::Clean(Some(id)), Ok(out)) => out.id == *id,
            (Expect::CleanOr(_), Ok(_)) => true,
            (Expect::CleanOr(code), Err(r)) => r.code() == *code,
            _ => false,
        };
        if !ok {
            failures.push(format!(
                "{}: expected {:?}, got {verdict}",
                c.name, c.expect
            ));
        }
        if took > bound {
            failures.push(format!("{}: took {took:?} (bound {bound:?})", c.name));
        }
        rows.push(format!(
            "HOSTILE | {} | {} bytes | {verdict} | {} ms",
            c.name,
            c.payload.len(),
            took.as_millis()
        ));
    }
    for row in &rows {
        eprintln!("{row}");
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(cases.len() >= 80, "corpus has {} cases", cases.len());
}

/// A body made only of invisible characters is no article: it must be
/// rejected like an empty one. Today it is published (and every such page
/// with the same title gets the same content id, so the second is silently
/// dropped as a "duplicate" of the first).
#[test]
fn a_body_of_only_invisible_characters_is_rejected() {
    let cleaner = Cleaner::builtin();
    for junk in [
        "\u{200b}",
        "\u{200b}\u{200d}\u{feff}",
        "\u{202e}\u{2066}\u{2069}",
        "\u{ad}\u{2060}",
    ] {
        let payload = format!("A real title\n\n{}", junk.repeat(1000));
        let verdict = decode(payload.as_bytes(), "t", 1 << 20)
            .and_then(|raw| article::process(&cleaner, raw, "t"))
            .map(|a| a.id);
        assert_eq!(
            verdict.map_err(|r| r.code()),
            Err("nothing_left"),
            "body of only {junk:?}"
        );
    }
}

#[test]
fn not_utf8_reports_the_first_bad_offset() {
    for (bytes, offset) in [
        (&b"\xff"[..], 0),
        (b"Le pr\xe9sident", 5),
        (b"{\"text\": \"a\xfe\"}", 11),
    ] {
        match decode(bytes, "t", 1 << 20) {
            Err(RejectReason::NotUtf8 { offset: got }) => assert_eq!(got, offset, "{bytes:?}"),
            other => panic!("{bytes:?}: {other:?}"),
        }
    }
}

// ---------------------------------------------------------------------------
// Stable-Rust fuzz smoke test (see fuzz/ for the cargo-fuzz targets).

/// xorshift64*: tiny, deterministic, good enough to pick mutations.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

const DICTIONARY: &[&str] = &[
    "{",
    "}",
    "[",
    "]",
    "\"",
    ":",
    ",",
    "\\",
    "\\u0000",
    "\\ud800",
    "\"text\"",
    "\"url\"",
    "\"source\"",
    "\"title\"",
    "\"lang\"",
    "\"fetched_at\"",
    "null",
    "true",
    "1e999",
    "-0",
    "\n\n",
    "\n",
    "\r\n",
    " ",
    "\t",
    "\u{0}",
    "\u{200b}",
    "\u{202e}",
    "\u{301}",
    "\u{feff}",
    "\u{ad}",
    "\u{2028}",
    "ﬁ",
    "ß",
    "İ",
    "\u{1F600}",
    "Advertisement",
    "Read more",
];

fn seeds() -> Vec<Vec<u8>> {
    let mut seeds: Vec<Vec<u8>> = vec![
        synthetic_article(1, "fuzz").to_vec(),
        synthetic_text(2).into_bytes(),
        br#"{"text":"T\n\nBody","url":"u","source":"s","title":"t","lang":"en","fetched_at":1,"x":[1,{"y":null}]}"#.to_vec(),
        b"[1,2,3]".to_vec(),
        b"plain text\n\nwith two paragraphs".to_vec(),
    ];
    for (_, text) in article_ingest::demo::SEEDS {
        seeds.push(text.as_bytes()[..text.len().min(2000)].to_vec());
    }
    seeds
}

fn mutate(rng: &mut Rng, input: &mut Vec<u8>) {
    for _ in 0..1 + rng.below(8) {
        let at = rng.below(input.len() + 1);
        match rng.below(8) {
            0 if !input.is_empty() => {
                let i = rng.below(input.len());
                input[i] = rng.next() as u8;
            }
            1 if !input.is_empty() => {
                let end = (at + 1 + rng.below(16)).min(input.len());
                input.drain(at.min(end)..end);
            }
            2 => {
                let word = DICTIONARY[rng.below(DICTIONARY.len())].as_bytes();
                input.splice(at..at, word.iter().copied());
            }
            3 => input.truncate(at),
            4 if !input.is_empty() => {
                let start = rng.below(input.len());
                let end = (start + 1 + rng.below(64)).min(input.len());
                let chunk = input[start..end].to_vec();
                input.splice(at..at, chunk);
            }
            5 => {
                let byte = [0x80, 0xc0, 0xe0, 0xf0, 0xf8, 0xff, 0xed][rng.below(7)];
                input.insert(at, byte);
            }
            6 => {
                let c = char::from_u32(rng.below(0x3_0000) as u32).unwrap_or('\u{fffd}');
                let mut buf = [0u8; 4];
                input.splice(at..at, c.encode_utf8(&mut buf).bytes());
            }
            _ => {
                let n = rng.below(24);
                let filler: Vec<u8> = (0..n).map(|_| rng.next() as u8).collect();
                input.splice(at..at, filler);
            }
        }
    }
    input.truncate(8192);
}

#[test]
fn twenty_thousand_random_and_mutated_inputs_never_panic() {
    const RUNS: usize = 20_000;
    let cleaner = Cleaner::builtin();
    let seeds = seeds();
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut verdicts: HashMap<&'static str, usize> = HashMap::new();
    let started = Instant::now();
    let mut slowest = (Duration::ZERO, Vec::new());
    for run in 0..RUNS {
        let mut input = if run % 10 == 0 {
            let n = rng.below(256);
            (0..n).map(|_| rng.next() as u8).collect()
        } else {
            seeds[rng.below(seeds.len())].clone()
        };
        mutate(&mut rng, &mut input);
        let t = Instant::now();
        let max = if run % 7 == 0 {
            64 + rng.below(2048)
        } else {
            1 << 20
        };
        let result = std::panic::catch_unwind(|| {
            let verdict = decode(&input, "fuzz", max).and_then(|raw| {
                let source = raw.source.clone();
                let chars_in = raw.text.chars().count();
                let out = article::process(&cleaner, raw, "t")?;
                check_clean("fuzz", &source, chars_in, &out);
                Ok(out)
            });
            // The cleaner alone on arbitrary UTF-8.
            let text = String::from_utf8_lossy(&input);
            let _ = cleaner.clean(&CleanInput {
                text: &text,
                title: None,
                source: Some("fuzz"),
                url: None,
            });
            verdict.map(|_| "clean").unwrap_or_else(|r| r.code())
        });
        let took = t.elapsed();
        if took > slowest.0 {
            slowest = (took, input.clone());
        }
        match result {
            Ok(code) => *verdicts.entry(code).or_default() += 1,
            Err(_) => panic!(
                "run {run}: panic on input {:?}",
                String::from_utf8_lossy(&input)
            ),
        }
        assert!(
            took < PER_INPUT,
            "run {run}: {took:?} on {:?}",
            String::from_utf8_lossy(&input)
        );
    }
    eprintln!(
        "FUZZ-SMOKE | {RUNS} inputs in {} ms | slowest {} us | verdicts {verdicts:?}",
        started.elapsed().as_millis(),
        slowest.0.as_micros()
    );
    assert!(
        verdicts.len() >= 5,
        "the mutations reach several verdicts: {verdicts:?}"
    );
    assert!(
        verdicts.get("clean").copied().unwrap_or(0) > RUNS / 20,
        "{verdicts:?}"
    );
}

// ---------------------------------------------------------------------------
// End to end through a real worker.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_payloads_through_a_worker_land_in_dead_letters_and_it_keeps_going() {
    let server = NatsServer::start().expect("nats-server");
    let mut settings = settings_for(&server);
    settings.worker.max_payload_bytes = 64 * 1024;
    let js = jetstream_for(&settings).await;
    ensure(&js, &settings).await;
    let server_max = js.client().server_info().max_payload;

    let mut near_max = b"\xff".to_vec();
    near_max.resize(server_max - 64, b'z');
    let rejects: Vec<(&str, Vec<u8>)> = vec![
        ("invalid_json", br#"{"text": "cut"#.to_vec()),
        ("not_utf8", b"Le pr\xe9sident \xff".to_vec()),
        (
            "invalid_json",
            format!(
                "{{\"text\":\"x\",\"a\":{}{}}}",
                "[".repeat(10_000),
                "]".repeat(10_000)
            )
            .into_bytes(),
        ),
        ("empty_text", "\u{2003}\u{3000} \n".as_bytes().to_vec()),
        (
            "nothing_left",
            "\u{200b}\u{200b}\u{feff}".as_bytes().to_vec(),
        ),
        ("too_large", "word ".repeat(20_000).into_bytes()),
        // Over the worker's limit and so close to the server's that the
        // reject headers do not fit: stored truncated, marked so.
        ("too_large", near_max),
    ];
    let good: Vec<Vec<u8>> = vec![
        json(serde_json::json!({"text": format!("NUL\u{0} title\n\n{}", synthetic_text(1))})),
        sprinkle(&synthetic_text(2), "\u{200b}\u{202e}").into_bytes(),
        format!("Title\n\na{}", "\u{301}".repeat(10_000)).into_bytes(),
        synthetic_article(3, "hostile").to_vec(),
    ];
    let mut expected_rejects = HashMap::new();
    for (i, (code, payload)) in rejects.iter().enumerate() {
        let seq = publish(&js, "articles.raw.hostile", payload.clone()).await;
        expected_rejects.insert(seq, (*code, payload.clone()));
        // Interleave good ones: the worker must keep going after each reject.
        if let Some(g) = good.get(i) {
            publish(&js, "articles.raw.hostile", g.clone()).await;
        }
    }

    let worker = RunningWorker::start(settings.clone());
    let stats = worker.stats.clone();
    wait_for("all handled", || {
        let s = stats.snapshot();
        s.rejected == rejects.len() as u64 && s.published == good.len() as u64
    })
    .await;
    let s = worker.stop().await.snapshot();
    assert_eq!(s.errors, 0, "no transient errors: {s:?}");

    let dead = stored(&js, "ARTICLES_DEADLETTER").await;
    assert_eq!(dead.len(), rejects.len());
    for m in &dead {
        let seq: u64 = m
            .headers
            .get(HEADER_RAW_SEQUENCE)
            .unwrap()
            .as_str()
            .parse()
            .unwrap();
        let (code, payload) = &expected_rejects[&seq];
        assert_eq!(
            m.headers.get(HEADER_REJECT_REASON).map(|v| v.as_str()),
            Some(*code)
        );
        match m.headers.get(HEADER_TRUNCATED) {
            None => assert_eq!(&m.payload[..], &payload[..], "{code}: byte for byte"),
            Some(len) => {
                assert_eq!(len.as_str(), payload.len().to_string(), "original length");
                assert!(m.payload.len() < payload.len());
                assert_eq!(&m.payload[..], &payload[..m.payload.len()], "a prefix");
            }
        }
    }
    assert!(
        dead.iter()
            .any(|m| m.headers.get(HEADER_TRUNCATED).is_some()),
        "the near-limit payload took the truncation path"
    );
    assert_eq!(stream_count(&js, "ARTICLES_CLEAN").await, good.len() as u64);
    assert_eq!(consumer_backlog(&js, &settings).await, (0, 0));
    eprintln!(
        "HOSTILE-E2E | {} rejects, {} clean | {s:?}",
        rejects.len(),
        good.len()
    );
}
