//! The pure middle of the pipeline: decoded raw article → cleaned, identified
//! output record.
//!
//! Contract: no I/O and no clock (the caller passes `cleaned_at`). The output
//! record is the wire format of the clean subject, documented in README.md:
//! carried-through fields first, then `id`, `url`, `source`, `title`, `text`,
//! `lang`, `fetched_at`, `cleaned_at`, `stats`. Unknown fields never overwrite
//! ours.

use serde_json::{Map, Value};

use crate::clean::{CleanInput, Cleaner};
use std::borrow::Cow;

use crate::fingerprint::{content_id, find_invisible};
use crate::learn::Learning;
use crate::payload::{RawArticle, RejectReason};

/// A cleaned article ready to publish.
#[derive(Debug, Clone)]
pub struct CleanArticle {
    /// Content id: hex SHA-256 of the normalised title and body.
    pub id: String,
    /// Source name as given (the subject token is derived from it).
    pub source: String,
    pub url: Option<String>,
    pub title: String,
    pub lang: Option<String>,
    pub chars_in: usize,
    pub chars_out: usize,
    /// The JSON record published on the clean subject.
    pub record: bytes::Bytes,
}

/// Cleans `raw`, computes its content id and renders the output record.
pub fn process(
    cleaner: &Cleaner,
    raw: RawArticle,
    cleaned_at: &str,
) -> Result<CleanArticle, RejectReason> {
    process_learning(cleaner, raw, cleaned_at, None).map(|(article, _)| article)
}

/// [`process`] with learned boilerplate: the published text also loses the
/// blocks `learning` knows for this source, while the content id is still
/// computed from the rules-only cleaning, so it never depends on what a
/// worker has learned so far. Returns the article's block hashes (for the
/// learner) when `learning` is given.
pub fn process_learning(
    cleaner: &Cleaner,
    raw: RawArticle,
    cleaned_at: &str,
    learning: Option<&Learning>,
) -> Result<(CleanArticle, Option<Vec<u64>>), RejectReason> {
    let chars_in = raw.text.chars().count();
    let text = strip_invisible(&raw.text);
    let input = CleanInput {
        text: &text,
        title: raw.title.as_deref(),
        source: Some(&raw.source),
        url: raw.url.as_deref(),
    };
    // One pass serves both cleanings: the rules-only one (for the id) and, when
    // the model knows blocks of this page, the learned one (for the text).
    let (mut cleaned, learned) = match learning {
        Some(learning) => learning
            .with_model(|model| cleaner.clean_pair(&input, Some(model)))
            .unwrap_or_else(|| (cleaner.clean(&input), None)),
        None => (cleaner.clean(&input), None),
    };
    cleaned.title = cleaned.title.filter(|t| !t.trim().is_empty());
    let body = cleaned.body();
    // Invisible characters and punctuation alone are not an article.
    if !body.chars().any(char::is_alphanumeric) {
        return Err(RejectReason::NothingLeft { chars_in });
    }
    let title = cleaned.title.clone().unwrap_or_default();
    let id = content_id(&title, &body);
    let mut block_hashes = None;
    let mut body = body;
    if learning.is_some() {
        let hashes = std::mem::take(&mut cleaned.block_hashes);
        if let Some(mut learned) = learned {
            let learned_body = learned.body();
            if learned_body.chars().any(char::is_alphanumeric) {
                body = learned_body;
                learned.title = cleaned.title.take();
                cleaned = learned;
            }
        }
        block_hashes = Some(hashes);
    }
    let chars_out =
        cleaned.title.as_deref().map_or(0, |t| t.chars().count()) + body.chars().count();
    let lang = raw.lang.clone().or(cleaned.lang.clone());

    let mut record = raw.extra;
    for ours in [
        "id",
        "url",
        "source",
        "title",
        "text",
        "lang",
        "fetched_at",
        "cleaned_at",
        "stats",
    ] {
        record.remove(ours);
    }
    record.insert("id".into(), Value::from(id.clone()));
    record.insert(
        "url".into(),
        raw.url.clone().map_or(Value::Null, Value::from),
    );
    record.insert("source".into(), Value::from(raw.source.clone()));
    record.insert(
        "title".into(),
        cleaned.title.clone().map_or(Value::Null, Value::from),
    );
    record.insert("text".into(), Value::from(body));
    if let Some(lang) = &lang {
        record.insert("lang".into(), Value::from(lang.clone()));
    }
    record.insert("fetched_at".into(), raw.fetched_at.unwrap_or(Value::Null));
    record.insert("cleaned_at".into(), Value::from(cleaned_at));
    let mut stats = Map::new();
    stats.insert("chars_in".into(), Value::from(chars_in));
    stats.insert("chars_out".into(), Value::from(chars_out));
    stats.insert("segments_in".into(), Value::from(cleaned.segments_in));
    stats.insert(
        "segments_removed".into(),
        Value::from(cleaned.segments_removed),
    );
    record.insert("stats".into(), Value::Object(stats));
    // Serialising a Map of Values cannot fail: keys are strings, numbers finite.
    let record = serde_json::to_vec(&Value::Object(record))
        .unwrap_or_default()
        .into();

    let article = CleanArticle {
        id,
        source: raw.source,
        url: raw.url,
        title: cleaned.title.unwrap_or_default(),
        lang,
        chars_in,
        chars_out,
        record,
    };
    Ok((article, block_hashes))
}

/// Drops invisible and control characters (see [`crate::fingerprint::is_invisible`]) so that
/// spam of them cannot hide words from the cleaner. Borrows when there are none.
pub fn strip_invisible(text: &str) -> Cow<'_, str> {
    let Some(mut next) = find_invisible(text, 0) else {
        return Cow::Borrowed(text);
    };
    // The visible runs between them are copied whole.
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    loop {
        let (start, len) = next;
        out.push_str(text.get(at..start).unwrap_or_default());
        at = start + len;
        match find_invisible(text, at) {
            Some(found) => next = found,
            None => break,
        }
    }
    out.push_str(text.get(at..).unwrap_or_default());
    Cow::Owned(out)
}

/// The benchmark's ceiling: no cleaning, the id is the SHA-256 of the raw
/// payload and the record is the payload itself (no copy).
pub fn passthrough(raw: RawArticle, payload: &bytes::Bytes) -> CleanArticle {
    CleanArticle {
        id: crate::fingerprint::sha256_hex(payload),
        source: raw.source,
        url: raw.url,
        title: raw.title.unwrap_or_default(),
        lang: raw.lang,
        chars_in: payload.len(),
        chars_out: payload.len(),
        record: payload.clone(),
    }
}

/// RFC 3339 UTC timestamp with millisecond precision, for `cleaned_at`.
pub fn now_rfc3339() -> String {
    let now = time::OffsetDateTime::now_utc();
    let format = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
    );
    now.format(&format)
        .unwrap_or_else(|_| now.unix_timestamp().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::payload::decode;

    #[test]
    fn strip_invisible_drops_exactly_the_invisible_characters() {
        use crate::fingerprint::is_invisible;
        let pieces = [
            "word", " ", "\u{200B}", "é", "\u{00AD}", "\x07", "\u{FEFF}", "—", "\n", "\u{2060}",
        ];
        // Every sequence of up to four pieces, and longer texts that cross the
        // scanner's 32-byte chunks.
        let mut texts: Vec<String> = vec![String::new()];
        for _ in 0..4 {
            let longer: Vec<String> = texts
                .iter()
                .flat_map(|t| pieces.iter().map(move |p| format!("{t}{p}")))
                .collect();
            texts.extend(longer);
        }
        texts.push(format!(
            "{}\u{200B}{}\u{00AD}x",
            "a".repeat(31),
            "b".repeat(40)
        ));
        texts.push("\u{200B}".repeat(20));
        for text in &texts {
            let expected: String = text.chars().filter(|c| !is_invisible(*c)).collect();
            let got = strip_invisible(text);
            assert_eq!(got, expected, "{text:?}");
            assert_eq!(
                matches!(got, Cow::Borrowed(_)),
                expected == *text,
                "{text:?}"
            );
        }
    }

    #[test]
    fn record_has_the_wire_fields_and_carries_extras() {
        let payload = serde_json::json!({
            "text": "Harbour council approves the plan for the old docks\n\nThe harbour council voted on Tuesday to approve the redevelopment plan, which will turn the disused docks into housing, a school and a public park.\n\nWork on the first phase is expected to begin next spring, the council said in a statement after the vote.",
            "url": "https://e.x/a",
            "source": "ex",
            "fetched_at": 1718784000,
            "section": "world",
            "id": "spoof",
        });
        let raw = decode(payload.to_string().as_bytes(), "ex", 1 << 20).unwrap();
        let out = process(&Cleaner::builtin(), raw, "2024-06-19T10:00:00.000Z").unwrap();
        let v: Value = serde_json::from_slice(&out.record).unwrap();
        assert_eq!(v["id"], Value::from(out.id.clone()));
        assert_eq!(out.id.len(), 64);
        assert_eq!(v["section"], "world");
        assert_eq!(v["url"], "https://e.x/a");
        assert_eq!(v["source"], "ex");
        assert_eq!(v["fetched_at"], 1718784000);
        assert_eq!(v["cleaned_at"], "2024-06-19T10:00:00.000Z");
        assert!(!v["text"].as_str().unwrap().is_empty());
        assert!(v["stats"]["chars_in"].as_u64().unwrap() > 0);
        assert!(v["stats"]["chars_out"].as_u64().unwrap() > 0);
        assert_eq!(
            out.id,
            content_id(v["title"].as_str().unwrap(), v["text"].as_str().unwrap())
        );
    }

    #[test]
    fn a_body_of_invisible_characters_is_nothing_left() {
        let text = "\u{200B}\u{200D}\u{FEFF}\n\u{2060}\u{200B}\n".repeat(50);
        let raw = decode(text.as_bytes(), "s", 1 << 20).unwrap();
        let err = process(&Cleaner::builtin(), raw, "t").unwrap_err();
        assert_eq!(err.code(), "nothing_left");
    }

    #[test]
    fn timestamp_shape() {
        let ts = now_rfc3339();
        assert_eq!(ts.len(), 24, "{ts}");
        assert!(ts.ends_with('Z') && ts.as_bytes()[10] == b'T');
    }
}
