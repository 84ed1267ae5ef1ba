//! Learned boilerplate, shared by every worker through a JetStream stream.
//!
//! Contract: each worker samples the block hashes of the articles it cleans
//! (a bounded number per source and per batch) and publishes them every
//! `learn.sync_interval_secs` as one batch on `<learn.prefix>.<worker>`, held
//! by the stream `learn.stream` (bounded by age and bytes). Every worker,
//! itself included, reads that stream from the start and feeds each batch to
//! its [`BoilerplateModel`], so all workers converge on the same model, and a
//! restarted worker rebuilds it by replaying the stream. The model's memory
//! is bounded by its own limits. Learning is best effort: a batch that
//! cannot be published is dropped with a warning; articles are never held
//! back for it.
//!
//! What learning changes: the *published text* loses blocks the model knows
//! for that source. The *content id* does not depend on the model (see
//! `article::process_learning`), so two workers whose models differ for a
//! moment still give an article the same id.

use std::collections::HashMap;
use std::sync::{Mutex, RwLock};
use std::time::Duration;

use anyhow::{Context, Result};
use async_nats::jetstream::{self, consumer, stream};
use futures::StreamExt;
use serde::{Deserialize, Serialize};

use crate::clean::learned::{BoilerplateModel, LearnedConfig};
use crate::config::LearnSettings;

/// One article's blocks, as recorded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Observation {
    pub source: String,
    pub blocks: Vec<u64>,
}

/// What one worker publishes per sync.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Batch {
    pub worker: String,
    pub observations: Vec<Observation>,
}

/// Observations waiting for the next sync, bounded per batch and per source.
#[derive(Default)]
struct Outbox {
    observations: Vec<Observation>,
    per_source: HashMap<String, usize>,
}

/// The worker's learned state: the model it cleans with and the outbox.
pub struct Learning {
    settings: LearnSettings,
    model: RwLock<BoilerplateModel>,
    outbox: Mutex<Outbox>,
}

impl Learning {
    pub fn new(settings: LearnSettings) -> Self {
        let model = BoilerplateModel::new(LearnedConfig {
            min_articles: settings.min_articles,
            max_sources: settings.max_sources,
            max_blocks_per_source: settings.max_blocks_per_source,
            max_strip_share: settings.max_strip_share,
            ..LearnedConfig::default()
        });
        Learning {
            settings,
            model: RwLock::new(model),
            outbox: Mutex::new(Outbox::default()),
        }
    }

    /// Runs `f` with read access to the model.
    pub fn with_model<T>(&self, f: impl FnOnce(&BoilerplateModel) -> T) -> Option<T> {
        self.model.read().ok().map(|model| f(&model))
    }

    /// Queues an article's blocks for the next batch, if there is room.
    pub fn observe(&self, source: &str, blocks: Vec<u64>) {
        if blocks.is_empty() {
            return;
        }
        let Ok(mut outbox) = self.outbox.lock() else {
            return;
        };
        if outbox.observations.len() >= self.settings.max_batch_articles {
            return;
        }
        let seen = outbox.per_source.entry(source.to_string()).or_insert(0);
        if *seen >= self.settings.max_batch_articles_per_source {
            return;
        }
        *seen += 1;
        outbox.observations.push(Observation {
            source: source.to_string(),
            blocks,
        });
    }

    fn take_batch(&self) -> Vec<Observation> {
        match self.outbox.lock() {
            Ok(mut outbox) => {
                outbox.per_source.clear();
                std::mem::take(&mut outbox.observations)
            }
            Err(_) => Vec::new(),
        }
    }

    /// Feeds a batch (from any worker) into the model.
    pub fn apply(&self, batch: &Batch) {
        if let Ok(mut model) = self.model.write() {
            for observation in &batch.observations {
                model.record(&observation.source, &observation.blocks);
            }
        }
    }
}

/// Creates or checks the learning stream.
pub async fn ensure_stream(
    js: &jetstream::Context,
    settings: &LearnSettings,
    replicas: usize,
) -> Result<stream::Stream> {
    crate::nats::ensure_stream(
        js,
        stream::Config {
            name: settings.stream.clone(),
            subjects: vec![format!("{}.>", settings.prefix)],
            max_age: Duration::from_secs(settings.max_age_days * 86_400),
            max_bytes: settings.max_stream_bytes,
            discard: stream::DiscardPolicy::Old,
            num_replicas: replicas,
            storage: stream::StorageType::File,
            ..Default::default()
        },
    )
    .await
}

/// Replays the stream into the model (bounded by `replay_timeout`), then
/// keeps applying new batches in the background; also publishes this
/// worker's batches. Returns the background tasks.
pub async fn start(
    js: jetstream::Context,
    learning: std::sync::Arc<Learning>,
    worker_id: String,
    replicas: usize,
    replay_timeout: Duration,
) -> Result<Vec<tokio::task::JoinHandle<()>>> {
    let settings = learning.settings.clone();
    let stream = ensure_stream(&js, &settings, replicas).await?;
    let last_at_start = stream.cached_info().state.last_sequence;
    let consumer = stream
        .create_consumer(consumer::pull::OrderedConfig {
            deliver_policy: consumer::DeliverPolicy::All,
            ..Default::default()
        })
        .await
        .context("cannot read the learning stream")?;
    let mut messages = consumer
        .messages()
        .await
        .context("cannot read the learning stream")?;

    // Replay what other workers (and earlier runs) learned, within a bound.
    let mut replayed = 0usize;
    if last_at_start > 0 {
        let deadline = tokio::time::Instant::now() + replay_timeout;
        while let Ok(Some(Ok(message))) = tokio::time::timeout_at(deadline, messages.next()).await {
            if let Ok(batch) = serde_json::from_slice::<Batch>(&message.payload) {
                learning.apply(&batch);
                replayed += batch.observations.len();
            }
            let at = message.info().map(|i| i.stream_sequence).unwrap_or(0);
            if at >= last_at_start {
                break;
            }
        }
    }
    tracing::info!(
        observations = replayed,
        sources = learning.with_model(|m| m.source_count()).unwrap_or(0),
        "learned boilerplate replayed"
    );

    let apply_learning = learning.clone();
    let apply = tokio::spawn(async move {
        while let Some(next) = messages.next().await {
            match next {
                Ok(message) => match serde_json::from_slice::<Batch>(&message.payload) {
                    Ok(batch) => apply_learning.apply(&batch),
                    Err(e) => tracing::warn!(error = %e, "ignoring a malformed learning batch"),
                },
                Err(e) => {
                    tracing::warn!(error = %e, "reading the learning stream failed; retrying")
                }
            }
        }
    });
    let subject = format!(
        "{}.{}",
        settings.prefix,
        crate::payload::subject_token(&worker_id)
    );
    let interval = Duration::from_secs(settings.sync_interval_secs.max(1));
    let publish = tokio::spawn(async move {
        loop {
            tokio::time::sleep(interval).await;
            let observations = learning.take_batch();
            if observations.is_empty() {
                continue;
            }
            let count = observations.len();
            let batch = Batch {
                worker: worker_id.clone(),
                observations,
            };
            let Ok(payload) = serde_json::to_vec(&batch) else {
                continue;
            };
            let stored = async {
                js.publish(subject.clone(), payload.into()).await?.await?;
                anyhow::Ok(())
            };
            match stored.await {
                Ok(()) => tracing::debug!(observations = count, "learning batch published"),
                Err(e) => {
                    tracing::warn!(error = %e, observations = count, "learning batch dropped")
                }
            }
        }
    });
    Ok(vec![apply, publish])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> LearnSettings {
        crate::config::Settings::load_from(None, Vec::new())
            .unwrap()
            .learn
    }

    #[test]
    fn outbox_is_bounded_per_source_and_per_batch() {
        let mut s = settings();
        s.max_batch_articles = 5;
        s.max_batch_articles_per_source = 2;
        let learning = Learning::new(s);
        for i in 0..10 {
            learning.observe("a", vec![i]);
            learning.observe("b", vec![i]);
            learning.observe(&format!("s{i}"), vec![i]);
        }
        let batch = learning.take_batch();
        assert_eq!(batch.len(), 5);
        assert!(batch.iter().filter(|o| o.source == "a").count() <= 2);
        assert!(
            learning.take_batch().is_empty(),
            "taking empties the outbox"
        );
        learning.observe("a", vec![]);
        assert!(
            learning.take_batch().is_empty(),
            "articles without blocks are not sent"
        );
    }

    #[test]
    fn applied_batches_teach_the_model() {
        let learning = Learning::new(settings());
        let batch = Batch {
            worker: "w".into(),
            observations: (0..3)
                .map(|i| Observation {
                    source: "site".into(),
                    blocks: vec![42, 100 + i],
                })
                .collect(),
        };
        learning.apply(&batch);
        assert_eq!(
            learning.with_model(|m| m.is_boilerplate("site", 42)),
            Some(true)
        );
        assert_eq!(
            learning.with_model(|m| m.is_boilerplate("site", 100)),
            Some(false)
        );
        assert_eq!(
            learning.with_model(|m| m.is_boilerplate("other", 42)),
            Some(false)
        );
    }
}
