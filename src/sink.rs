//! Sink: everything the worker writes to JetStream besides claims.
//!
//! Contract: each method returns only once JetStream has stored the message
//! (its publish ack arrived), so the caller may then ack the input. Every
//! message carries a `Nats-Msg-Id` derived from its content or its input, so
//! a retry after a crash is dropped by the stream's duplicate window instead
//! of stored twice.

use anyhow::{Context, Result};
use async_nats::header::{HeaderMap, NATS_MESSAGE_ID};
use async_nats::jetstream::{self, context::PublishErrorKind};
use bytes::Bytes;

use crate::article::CleanArticle;
use crate::config::StreamSettings;
use crate::payload::{subject_token, RejectReason};

/// Headers on rejected messages.
pub const HEADER_REJECT_REASON: &str = "Article-Reject-Reason";
pub const HEADER_REJECT_DETAIL: &str = "Article-Reject-Detail";
pub const HEADER_RAW_SUBJECT: &str = "Article-Raw-Subject";
pub const HEADER_RAW_SEQUENCE: &str = "Article-Raw-Sequence";
pub const HEADER_TRUNCATED: &str = "Article-Payload-Truncated";

/// Where a raw message came from.
#[derive(Debug, Clone)]
pub struct Origin<'a> {
    pub subject: &'a str,
    pub stream: &'a str,
    pub sequence: u64,
}

#[derive(Clone)]
pub struct Sink {
    js: jetstream::Context,
    streams: StreamSettings,
}

impl Sink {
    pub fn new(js: jetstream::Context, streams: StreamSettings) -> Self {
        Sink { js, streams }
    }

    /// Publishes a clean article on `<clean_prefix>.<source>`.
    pub async fn publish_clean(&self, article: &CleanArticle, origin: &Origin<'_>) -> Result<()> {
        let subject = format!(
            "{}.{}",
            self.streams.clean_prefix,
            subject_token(&article.source)
        );
        let mut headers = HeaderMap::new();
        headers.insert(NATS_MESSAGE_ID, article.id.as_str());
        headers.insert(HEADER_RAW_SEQUENCE, origin.sequence.to_string().as_str());
        self.publish(subject, headers, article.record.clone())
            .await
            .with_context(|| format!("cannot publish clean article {}", article.id))
    }

    /// Stores a rejected payload, byte for byte, with the reason in headers.
    pub async fn publish_reject(
        &self,
        origin: &Origin<'_>,
        source: &str,
        reason: &RejectReason,
        payload: Bytes,
    ) -> Result<()> {
        let subject = format!("{}.{}", self.streams.rejected_prefix, subject_token(source));
        let mut headers = HeaderMap::new();
        headers.insert(
            NATS_MESSAGE_ID,
            format!("reject:{}:{}", origin.stream, origin.sequence).as_str(),
        );
        headers.insert(HEADER_REJECT_REASON, reason.code());
        headers.insert(
            HEADER_REJECT_DETAIL,
            header_safe(&reason.to_string()).as_str(),
        );
        headers.insert(HEADER_RAW_SUBJECT, origin.subject);
        headers.insert(HEADER_RAW_SEQUENCE, origin.sequence.to_string().as_str());
        match self
            .publish(subject.clone(), headers.clone(), payload.clone())
            .await
        {
            Ok(()) => Ok(()),
            // A payload right at the server's limit no longer fits once our
            // headers are added: keep what fits and say so.
            Err(e) if is_max_payload(&e) => {
                let room = self
                    .js
                    .client()
                    .server_info()
                    .max_payload
                    .saturating_sub(4096);
                headers.insert(HEADER_TRUNCATED, payload.len().to_string().as_str());
                self.publish(subject, headers, payload.slice(..room.min(payload.len())))
                    .await
            }
            Err(e) => Err(e),
        }
        .with_context(|| {
            format!(
                "cannot publish reject of raw message {} ({})",
                origin.sequence,
                reason.code()
            )
        })
    }

    /// Publishes a small duplicate notice on `<duplicate_prefix>.<source>`.
    pub async fn publish_duplicate_notice(
        &self,
        origin: &Origin<'_>,
        article: &CleanArticle,
        first: &str,
    ) -> Result<()> {
        let subject = format!(
            "{}.{}",
            self.streams.duplicate_prefix,
            subject_token(&article.source)
        );
        let notice = serde_json::json!({
            "id": article.id,
            "source": article.source,
            "url": article.url,
            "raw_subject": origin.subject,
            "raw_sequence": origin.sequence,
            "first_claimed_by": first,
        });
        let mut headers = HeaderMap::new();
        headers.insert(
            NATS_MESSAGE_ID,
            format!("duplicate:{}:{}", origin.stream, origin.sequence).as_str(),
        );
        self.publish(subject, headers, Bytes::from(notice.to_string()))
            .await
            .with_context(|| format!("cannot publish duplicate notice for {}", article.id))
    }

    async fn publish(&self, subject: String, headers: HeaderMap, payload: Bytes) -> Result<()> {
        let ack = self
            .js
            .publish_with_headers(subject, headers, payload)
            .await?;
        ack.await?;
        Ok(())
    }
}

fn is_max_payload(error: &anyhow::Error) -> bool {
    error
        .downcast_ref::<jetstream::context::PublishError>()
        .is_some_and(|e| e.kind() == PublishErrorKind::MaxPayloadExceeded)
}

/// Header values must be one line of visible text; keep them short too.
fn header_safe(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(512)
        .collect()
}
