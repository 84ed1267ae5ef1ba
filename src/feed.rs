//! Feed: publish files as raw articles, the way a scraper would.
//!
//! Contract: every payload is published to JetStream and its ack awaited
//! (with a bounded number of acks outstanding); the returned counts say how
//! many were stored and how many failed. Inputs: plain text files (one
//! payload each), `.json` files (one payload each) and `.jsonl` files (one
//! payload per non-empty line); directories are walked in name order.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use async_nats::jetstream;
use bytes::Bytes;
use futures::stream::{FuturesUnordered, StreamExt};

use crate::payload::subject_token;

/// Most publish acks awaited at once.
const MAX_OUTSTANDING_ACKS: usize = 1024;

/// One payload and the subject it goes to.
#[derive(Debug, Clone, PartialEq)]
pub struct Outgoing {
    pub subject: String,
    pub payload: Bytes,
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct FeedCounts {
    pub files: usize,
    pub published: usize,
    pub failed: usize,
}

/// Expands paths (directories walked, sorted) into files.
pub fn collect_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for path in paths {
        let meta =
            std::fs::metadata(path).with_context(|| format!("cannot read {}", path.display()))?;
        if meta.is_dir() {
            let mut entries: Vec<PathBuf> = std::fs::read_dir(path)
                .with_context(|| format!("cannot list directory {}", path.display()))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| {
                    !p.file_name()
                        .is_some_and(|n| n.to_string_lossy().starts_with('.'))
                })
                .collect();
            entries.sort();
            files.extend(collect_files(&entries)?);
        } else {
            files.push(path.clone());
        }
    }
    Ok(files)
}

/// Reads one file into payloads with their subjects.
pub fn payloads_of(
    path: &Path,
    raw_prefix: &str,
    subject_override: Option<&str>,
) -> Result<Vec<Outgoing>> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    let extension = path
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase());
    let chunks: Vec<Bytes> = match extension.as_deref() {
        Some("jsonl") | Some("ndjson") => bytes
            .split(|b| *b == b'\n')
            .filter(|line| line.iter().any(|b| !b.is_ascii_whitespace()))
            .map(Bytes::copy_from_slice)
            .collect(),
        _ => vec![Bytes::from(bytes)],
    };
    Ok(chunks
        .into_iter()
        .map(|payload| Outgoing {
            subject: subject_override.map_or_else(
                || format!("{raw_prefix}.{}", subject_token(&source_of(&payload))),
                str::to_string,
            ),
            payload,
        })
        .collect())
}

/// The payload's `source` field when it is a JSON object that has one.
fn source_of(payload: &[u8]) -> String {
    #[derive(serde::Deserialize)]
    struct WithSource {
        source: Option<String>,
    }
    serde_json::from_slice::<WithSource>(payload)
        .ok()
        .and_then(|w| w.source)
        .unwrap_or_else(|| "unknown".to_string())
}

/// Publishes every payload and waits for JetStream to store each.
pub async fn publish_all(
    js: &jetstream::Context,
    outgoing: impl IntoIterator<Item = Outgoing>,
    progress: Option<&indicatif::ProgressBar>,
) -> Result<(usize, usize)> {
    let mut pending = FuturesUnordered::new();
    let (mut published, mut failed) = (0, 0);
    let mut settle = |result: Result<(), anyhow::Error>| {
        match result {
            Ok(()) => published += 1,
            Err(e) => {
                failed += 1;
                tracing::warn!(error = format!("{e:#}"), "payload not stored");
            }
        }
        if let Some(bar) = progress {
            bar.inc(1);
        }
    };
    for item in outgoing {
        if pending.len() >= MAX_OUTSTANDING_ACKS {
            if let Some(result) = pending.next().await {
                settle(result);
            }
        }
        let subject = item.subject.clone();
        match js.publish(item.subject, item.payload).await {
            Ok(ack) => pending.push(async move {
                ack.await.map(|_| ()).with_context(|| {
                    format!("no JetStream ack for {subject}: is a stream bound to it?")
                })
            }),
            Err(e) => settle(Err(anyhow::Error::from(e).context("publish failed"))),
        }
    }
    while let Some(result) = pending.next().await {
        settle(result);
    }
    Ok((published, failed))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jsonl_text_and_json_files() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("a.jsonl"),
            "{\"text\":\"x\",\"source\":\"Le Monde\"}\n\n{\"text\":\"y\"}\n",
        )
        .unwrap();
        std::fs::write(dir.path().join("b.txt"), "plain text").unwrap();
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        std::fs::write(
            dir.path().join("sub/c.json"),
            "{\"text\":\"z\",\"source\":\"ex\"}",
        )
        .unwrap();
        std::fs::write(dir.path().join(".hidden"), "no").unwrap();

        let files = collect_files(&[dir.path().to_path_buf()]).unwrap();
        assert_eq!(files.len(), 3);
        let all: Vec<Outgoing> = files
            .iter()
            .flat_map(|f| payloads_of(f, "articles.raw", None).unwrap())
            .collect();
        let subjects: Vec<&str> = all.iter().map(|o| o.subject.as_str()).collect();
        assert_eq!(
            subjects,
            [
                "articles.raw.le_monde",
                "articles.raw.unknown",
                "articles.raw.unknown",
                "articles.raw.ex"
            ]
        );
        assert_eq!(all[2].payload, Bytes::from("plain text"));
        let forced = payloads_of(&files[0], "articles.raw", Some("x.y")).unwrap();
        assert!(forced.iter().all(|o| o.subject == "x.y"));
    }
}
