//! Dedupe: one claim per content id, shared by every worker through a
//! JetStream KV bucket, with a bounded in-process cache in front.
//!
//! Contract: [`DedupeStore::claim`] atomically creates the key `id` holding
//! the claimant (raw stream name and sequence). Exactly one raw message wins
//! each id, across restarts and any number of workers, for as long as the
//! bucket keeps the key (`dedupe.retention_days`). If the winner dies before
//! publishing, its message is redelivered, finds its own claim
//! ([`Claim::Redelivered`]) and publishes then; the output's `Nats-Msg-Id`
//! stops a second copy if the first publish did land. Every other message
//! with that id gets [`Claim::Duplicate`].

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use async_nats::jetstream::kv;
use bytes::Bytes;

/// The verdict of a claim.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// First sight of this id: the caller publishes.
    New,
    /// This same raw message claimed the id before (a redelivery): publish.
    Redelivered,
    /// Another raw message holds the id: this one is a duplicate.
    Duplicate { first: String },
}

/// Who claimed an id: the raw stream and sequence of the message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claimant {
    pub stream: String,
    pub sequence: u64,
}

impl Claimant {
    fn encode(&self) -> Bytes {
        Bytes::from(format!("{}:{}", self.stream, self.sequence))
    }
}

pub struct DedupeStore {
    bucket: kv::Store,
    cache: Mutex<ClaimCache>,
}

impl DedupeStore {
    pub fn new(bucket: kv::Store, cache_entries: usize, retention: Duration) -> Self {
        DedupeStore {
            bucket,
            cache: Mutex::new(ClaimCache::new(cache_entries, retention)),
        }
    }

    /// Claims `id` for `claimant`. Errors are transient NATS failures: the
    /// caller must not ack the message (it will be redelivered).
    pub async fn claim(&self, id: &str, claimant: &Claimant) -> Result<Claim> {
        let mine = claimant.encode();
        if let Some(holder) = self.cached(id) {
            return Ok(verdict(holder, &mine));
        }
        // Revision 0 = "only if the key does not exist": one atomic round trip.
        match self.bucket.update(id, mine.clone(), 0).await {
            Ok(_) => {
                self.remember(id, mine);
                Ok(Claim::New)
            }
            Err(e) if e.kind() == kv::UpdateErrorKind::WrongLastRevision => {
                let entry = self.bucket.entry(id).await.with_context(|| {
                    format!("cannot read the claim of {id} in the dedupe bucket")
                })?;
                match entry {
                    Some(entry) if entry.operation == kv::Operation::Put => {
                        self.remember(id, entry.value.clone());
                        Ok(verdict(entry.value, &mine))
                    }
                    // Deleted or purged by an operator: claim it again.
                    Some(entry) => {
                        self.bucket
                            .update(id, mine.clone(), entry.revision)
                            .await
                            .with_context(|| format!("cannot re-claim {id}"))?;
                        Ok(Claim::New)
                    }
                    None => anyhow::bail!("claim of {id} vanished while reading it; retrying"),
                }
            }
            Err(e) => Err(e).with_context(|| format!("cannot claim {id} in the dedupe bucket")),
        }
    }

    fn cached(&self, id: &str) -> Option<Bytes> {
        self.cache.lock().ok()?.get(id)
    }

    fn remember(&self, id: &str, holder: Bytes) {
        if let Ok(mut cache) = self.cache.lock() {
            cache.insert(id, holder);
        }
    }
}

fn verdict(holder: Bytes, mine: &Bytes) -> Claim {
    if holder == mine {
        Claim::Redelivered
    } else {
        Claim::Duplicate {
            first: String::from_utf8_lossy(&holder).into_owned(),
        }
    }
}

/// A FIFO-evicting map of recent claims. Claims never change while the
/// bucket keeps them, so a cached holder is right until it is older than the
/// bucket's retention.
struct ClaimCache {
    capacity: usize,
    retention: Duration,
    entries: HashMap<String, (Bytes, Instant)>,
    order: VecDeque<String>,
}

impl ClaimCache {
    fn new(capacity: usize, retention: Duration) -> Self {
        ClaimCache {
            capacity,
            retention,
            entries: HashMap::with_capacity(capacity.min(1 << 16)),
            order: VecDeque::with_capacity(capacity.min(1 << 16)),
        }
    }

    fn get(&self, id: &str) -> Option<Bytes> {
        self.entries
            .get(id)
            .filter(|(_, at)| at.elapsed() < self.retention)
            .map(|(holder, _)| holder.clone())
    }

    fn insert(&mut self, id: &str, holder: Bytes) {
        if self.capacity == 0 || self.entries.contains_key(id) {
            return;
        }
        while self.entries.len() >= self.capacity {
            match self.order.pop_front() {
                Some(oldest) => {
                    self.entries.remove(&oldest);
                }
                None => break,
            }
        }
        self.entries
            .insert(id.to_string(), (holder, Instant::now()));
        self.order.push_back(id.to_string());
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.entries.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cache_is_bounded_and_evicts_oldest() {
        let mut cache = ClaimCache::new(3, Duration::from_secs(60));
        for i in 0..10 {
            cache.insert(&format!("id{i}"), Bytes::from(format!("S:{i}")));
        }
        assert_eq!(cache.len(), 3);
        assert!(cache.get("id0").is_none());
        assert_eq!(cache.get("id9"), Some(Bytes::from("S:9")));
    }

    #[test]
    fn cache_forgets_after_retention() {
        let mut cache = ClaimCache::new(3, Duration::ZERO);
        cache.insert("a", Bytes::from("S:1"));
        assert!(cache.get("a").is_none());
    }

    #[test]
    fn zero_capacity_caches_nothing() {
        let mut cache = ClaimCache::new(0, Duration::from_secs(60));
        cache.insert("a", Bytes::from("S:1"));
        assert!(cache.get("a").is_none());
    }

    #[test]
    fn verdicts() {
        let mine = Claimant {
            stream: "RAW".into(),
            sequence: 7,
        }
        .encode();
        assert_eq!(verdict(Bytes::from("RAW:7"), &mine), Claim::Redelivered);
        assert_eq!(
            verdict(Bytes::from("RAW:3"), &mine),
            Claim::Duplicate {
                first: "RAW:3".into()
            }
        );
    }
}
