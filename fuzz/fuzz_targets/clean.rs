//! `Cleaner::builtin().clean` on arbitrary UTF-8 (text, title, source, url
//! cut from the input), then the whole `process` step: never panics, and a
//! clean record's id is the content id of its own title and text.
#![no_main]

use article_ingest::article;
use article_ingest::clean::{CleanInput, Cleaner};
use article_ingest::fingerprint::content_id;
use article_ingest::payload::RawArticle;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(all) = std::str::from_utf8(data) else {
        return;
    };
    // "text\u{1}title\u{1}source\u{1}url": optional parts after separators.
    let mut parts = all.splitn(4, '\u{1}');
    let text = parts.next().unwrap_or_default();
    let title = parts.next();
    let source = parts.next();
    let url = parts.next();
    let cleaner = Cleaner::builtin();
    let cleaned = cleaner.clean(&CleanInput {
        text,
        title,
        source,
        url,
    });
    let _ = cleaned.body();
    if text.trim().is_empty() {
        return;
    }
    let raw = RawArticle {
        text: text.to_string(),
        url: url.map(str::to_string),
        source: source.unwrap_or("fuzz").to_string(),
        title: title.map(str::to_string),
        lang: None,
        fetched_at: None,
        extra: Default::default(),
    };
    if let Ok(out) = article::process(&cleaner, raw, "t") {
        let v: serde_json::Value = serde_json::from_slice(&out.record).expect("record is JSON");
        let (t, b) = (v["title"].as_str().unwrap(), v["text"].as_str().unwrap());
        assert_eq!(content_id(t, b), out.id);
    }
});
