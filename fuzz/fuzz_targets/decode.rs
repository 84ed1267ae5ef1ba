//! `payload::decode` on arbitrary bytes, with a limit taken from the input:
//! must never panic; a decoded article must then go through `process`.
#![no_main]

use article_ingest::article;
use article_ingest::clean::Cleaner;
use article_ingest::payload::decode;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (limit, payload) = match data.split_first() {
        Some((b, rest)) if *b < 8 => (64 + usize::from(*b) * 512, rest),
        _ => (1 << 20, data),
    };
    if let Ok(raw) = decode(payload, "fuzz", limit) {
        assert!(!raw.text.trim().is_empty(), "decode passed empty text");
        if let Ok(out) = article::process(&Cleaner::builtin(), raw, "t") {
            let v: serde_json::Value = serde_json::from_slice(&out.record).expect("record is JSON");
            assert_eq!(v["id"].as_str(), Some(out.id.as_str()));
        }
    }
});
