//! Raw payloads in, a typed article or a reject reason out.
//!
//! Contract: pure. [`decode`] never panics and runs in time linear in the
//! payload; every way a payload can be unusable maps to one [`RejectReason`]
//! whose [`code`](RejectReason::code) is stable (it goes into headers, metrics
//! and logs) and whose message says what was wrong.
//!
//! Accepted forms: a JSON object with a string `text` and optional string
//! `url`, `source`, `title`, `lang` and string-or-number `fetched_at` (other
//! fields are carried through untouched), or plain UTF-8 text that does not
//! start with `{` or `[`, taken whole as the `text`.

use serde_json::{Map, Value};

/// Why a payload was rejected. Callers branch on it; operators read it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RejectReason {
    #[error("payload is {size} bytes, over the {limit}-byte limit")]
    TooLarge { size: usize, limit: usize },
    #[error("payload is empty")]
    Empty,
    #[error("payload is not valid UTF-8 (first bad byte at offset {offset})")]
    NotUtf8 { offset: usize },
    #[error("payload looks like JSON but does not parse: {detail}")]
    InvalidJson { detail: String },
    #[error("payload is JSON but not an object")]
    NotAnObject,
    #[error("field `{field}` has the wrong type: expected {expected}")]
    WrongFieldType {
        field: &'static str,
        expected: &'static str,
    },
    #[error("field `text` is missing")]
    MissingText,
    #[error("text is empty or only whitespace")]
    EmptyText,
    #[error("nothing is left after cleaning ({chars_in} characters in)")]
    NothingLeft { chars_in: usize },
}

impl RejectReason {
    /// Stable snake_case code for headers, metrics labels and log fields.
    pub fn code(&self) -> &'static str {
        match self {
            RejectReason::TooLarge { .. } => "too_large",
            RejectReason::Empty => "empty_payload",
            RejectReason::NotUtf8 { .. } => "not_utf8",
            RejectReason::InvalidJson { .. } => "invalid_json",
            RejectReason::NotAnObject => "not_an_object",
            RejectReason::WrongFieldType { .. } => "wrong_field_type",
            RejectReason::MissingText => "missing_text",
            RejectReason::EmptyText => "empty_text",
            RejectReason::NothingLeft { .. } => "nothing_left",
        }
    }

    /// Every code, for metrics that want all label values up front.
    pub const ALL_CODES: [&'static str; 9] = [
        "too_large",
        "empty_payload",
        "not_utf8",
        "invalid_json",
        "not_an_object",
        "wrong_field_type",
        "missing_text",
        "empty_text",
        "nothing_left",
    ];
}

/// A decoded raw article.
#[derive(Debug, Clone, PartialEq)]
pub struct RawArticle {
    pub text: String,
    pub url: Option<String>,
    /// The payload's `source`, else the raw subject's last token.
    pub source: String,
    pub title: Option<String>,
    pub lang: Option<String>,
    pub fetched_at: Option<Value>,
    /// Fields this service does not know, carried through to the output.
    pub extra: Map<String, Value>,
}

/// Decodes one raw payload. `subject_source` is the last token of the subject
/// it arrived on, used when the payload names no source.
pub fn decode(
    payload: &[u8],
    subject_source: &str,
    max_bytes: usize,
) -> Result<RawArticle, RejectReason> {
    if payload.len() > max_bytes {
        return Err(RejectReason::TooLarge {
            size: payload.len(),
            limit: max_bytes,
        });
    }
    if payload.is_empty() {
        return Err(RejectReason::Empty);
    }
    let text = std::str::from_utf8(payload).map_err(|e| RejectReason::NotUtf8 {
        offset: e.valid_up_to(),
    })?;
    let first = text.trim_start().chars().next();
    match first {
        None => Err(RejectReason::EmptyText),
        Some('{') => decode_object(text, subject_source),
        Some('[') => match serde_json::from_str::<Value>(text) {
            Ok(_) => Err(RejectReason::NotAnObject),
            Err(e) => Err(RejectReason::InvalidJson {
                detail: e.to_string(),
            }),
        },
        Some(_) => Ok(RawArticle {
            text: text.to_string(),
            url: None,
            source: subject_source.to_string(),
            title: None,
            lang: None,
            fetched_at: None,
            extra: Map::new(),
        }),
    }
}

fn decode_object(text: &str, subject_source: &str) -> Result<RawArticle, RejectReason> {
    let mut object: Map<String, Value> = match serde_json::from_str(text) {
        Ok(Value::Object(object)) => object,
        Ok(_) => return Err(RejectReason::NotAnObject),
        Err(e) => {
            return Err(RejectReason::InvalidJson {
                detail: e.to_string(),
            })
        }
    };
    let text = match object.remove("text") {
        Some(Value::String(text)) => text,
        None | Some(Value::Null) => return Err(RejectReason::MissingText),
        Some(_) => {
            return Err(RejectReason::WrongFieldType {
                field: "text",
                expected: "a string",
            })
        }
    };
    if text.trim().is_empty() {
        return Err(RejectReason::EmptyText);
    }
    let url = optional_string(&mut object, "url")?;
    let source = optional_string(&mut object, "source")?
        .filter(|s| !s.trim().is_empty())
        .unwrap_or_else(|| subject_source.to_string());
    let title = optional_string(&mut object, "title")?;
    let lang = optional_string(&mut object, "lang")?;
    let fetched_at = match object.remove("fetched_at") {
        None | Some(Value::Null) => None,
        Some(v @ (Value::String(_) | Value::Number(_))) => Some(v),
        Some(_) => {
            return Err(RejectReason::WrongFieldType {
                field: "fetched_at",
                expected: "a string or a number",
            })
        }
    };
    Ok(RawArticle {
        text,
        url,
        source,
        title,
        lang,
        fetched_at,
        extra: object,
    })
}

fn optional_string(
    object: &mut Map<String, Value>,
    field: &'static str,
) -> Result<Option<String>, RejectReason> {
    match object.remove(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(RejectReason::WrongFieldType {
            field,
            expected: "a string",
        }),
    }
}

/// Makes a name safe as one NATS subject token: letters, digits, `-` and `_`
/// kept, anything else replaced by `_`, at most 64 characters; empty → `unknown`.
pub fn subject_token(name: &str) -> String {
    let token: String = name
        .trim()
        .chars()
        .take(64)
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    if token.is_empty() {
        "unknown".to_string()
    } else {
        token
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMIT: usize = 1024;

    fn reject(payload: &[u8]) -> &'static str {
        decode(payload, "site", LIMIT).unwrap_err().code()
    }

    #[test]
    fn json_object_with_all_fields() {
        let a = decode(
            br#"{"text":"Body","url":"https://x/1","source":"Le Monde","title":"T","lang":"fr","fetched_at":"2024-06-19T10:00:00Z","tags":["a"],"n":1}"#,
            "site",
            LIMIT,
        )
        .unwrap();
        assert_eq!(a.text, "Body");
        assert_eq!(a.url.as_deref(), Some("https://x/1"));
        assert_eq!(a.source, "Le Monde");
        assert_eq!(a.title.as_deref(), Some("T"));
        assert_eq!(a.lang.as_deref(), Some("fr"));
        assert_eq!(a.fetched_at, Some(Value::from("2024-06-19T10:00:00Z")));
        assert_eq!(a.extra.len(), 2);
        assert_eq!(a.extra["tags"], serde_json::json!(["a"]));
    }

    #[test]
    fn plain_text_takes_the_subject_source() {
        let a = decode("Un article.\n\nSuite.".as_bytes(), "france24", LIMIT).unwrap();
        assert_eq!(a.text, "Un article.\n\nSuite.");
        assert_eq!(a.source, "france24");
        assert!(a.url.is_none() && a.extra.is_empty());
    }

    #[test]
    fn each_kind_of_bad_payload_has_its_reason() {
        assert_eq!(reject(b""), "empty_payload");
        assert_eq!(reject(b"  \n\t "), "empty_text");
        assert_eq!(reject(b"abc\xff\xfe"), "not_utf8");
        assert_eq!(reject(br#"{"text": "unterminated"#), "invalid_json");
        assert_eq!(reject(br#"["text"]"#), "not_an_object");
        assert_eq!(reject(br#"[1, 2"#), "invalid_json");
        assert_eq!(reject(br#"{"url":"x"}"#), "missing_text");
        assert_eq!(reject(br#"{"text":null}"#), "missing_text");
        assert_eq!(reject(br#"{"text":42}"#), "wrong_field_type");
        assert_eq!(reject(br#"{"text":"ok","url":7}"#), "wrong_field_type");
        assert_eq!(
            reject(br#"{"text":"ok","fetched_at":{}}"#),
            "wrong_field_type"
        );
        assert_eq!(reject(br#"{"text":"   "}"#), "empty_text");
        assert_eq!(reject(&vec![b'a'; LIMIT + 1]), "too_large");
        assert!(decode(&vec![b'a'; LIMIT], "s", LIMIT).is_ok());
    }

    #[test]
    fn deeply_nested_json_is_rejected_not_a_stack_overflow() {
        let deep = format!(
            "{{\"text\":\"x\",\"a\":{}{}}}",
            "[".repeat(100_000),
            "]".repeat(100_000)
        );
        assert_eq!(
            decode(deep.as_bytes(), "s", usize::MAX).unwrap_err().code(),
            "invalid_json"
        );
    }

    #[test]
    fn subject_tokens_are_safe() {
        assert_eq!(subject_token("Le Monde.fr"), "le_monde_fr");
        assert_eq!(subject_token("a>b*c"), "a_b_c");
        assert_eq!(subject_token(""), "unknown");
        assert_eq!(subject_token("éé"), "__");
        assert_eq!(subject_token(&"x".repeat(100)).len(), 64);
    }
}
