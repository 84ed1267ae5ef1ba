//! The worker: source → clean → fingerprint → dedupe → sink, with bounded
//! concurrency and a clean shutdown.
//!
//! Contract: a raw message is acked only after its verdict is stored: the
//! clean article published (publish ack received), the duplicate claim read,
//! or the reject published. Any transient failure leaves the message unacked
//! (naked with a delay) so JetStream redelivers it. At most
//! `worker.max_in_flight` messages are processed at once. When `shutdown`
//! resolves the worker stops pulling, finishes in-flight messages (up to
//! `worker.drain_timeout_secs`), flushes its acks and returns.

use std::future::Future;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use async_nats::jetstream::{self, AckKind};
use tokio::sync::Semaphore;
use tracing::Instrument;

use crate::article;
use crate::clean::Cleaner;
use crate::config::Settings;
use crate::dedupe::{Claim, Claimant, DedupeStore};
use crate::learn::Learning;
use crate::payload::{self, RejectReason};
use crate::sink::{Origin, Sink};
use crate::source::Source;
use crate::stats::{summary_fields, Stats};

/// What happened to one raw message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Published { id: String },
    Duplicate { id: String },
    Rejected { reason: &'static str },
}

/// What the worker does between decoding and dedupe.
#[derive(Clone)]
pub enum Transform {
    /// The real thing: clean, then fingerprint the cleaned text.
    Clean(Cleaner),
    /// No cleaning: the id is the SHA-256 of the raw payload and the payload
    /// is published as it came. Same NATS calls as `Clean`: the benchmark's
    /// ceiling.
    Passthrough,
}

/// Shared, immutable parts of a running worker.
struct Pipeline {
    transform: Transform,
    learning: Option<Arc<Learning>>,
    dedupe: DedupeStore,
    sink: Sink,
    stats: Arc<Stats>,
    raw_stream: String,
    max_payload_bytes: usize,
    duplicate_notices: bool,
}

/// Runs the worker until `shutdown` resolves. Returns the final counters'
/// owner so callers (tests, the bench) can read them.
pub async fn run(
    settings: Settings,
    stats: Arc<Stats>,
    shutdown: impl Future<Output = ()>,
) -> Result<()> {
    let cleaner = match settings.rules_dir() {
        Some(dir) => Cleaner::from_dir(&dir)
            .with_context(|| format!("cannot load cleaning rules from {}", dir.display()))?,
        None => Cleaner::builtin(),
    };
    run_with(settings, Transform::Clean(cleaner), stats, shutdown).await
}

/// [`run`] with an explicit transform (the benchmark's passthrough).
pub async fn run_with(
    settings: Settings,
    transform: Transform,
    stats: Arc<Stats>,
    shutdown: impl Future<Output = ()>,
) -> Result<()> {
    let mut shutdown = std::pin::pin!(shutdown);
    // A stop request during start-up ends the worker cleanly too.
    let started = tokio::select! {
        biased;
        _ = shutdown.as_mut() => {
            tracing::info!("stopped during start-up");
            return Ok(());
        }
        started = start(&settings, &transform) => started?,
    };
    let Started {
        client,
        js,
        topology,
        learning,
        learning_tasks,
    } = started;

    stats.ready.store(true, Relaxed);
    tracing::info!(
        stream = %settings.streams.raw_stream,
        consumer = %settings.consumer.durable_name,
        bucket = %settings.dedupe.bucket,
        max_in_flight = settings.worker.max_in_flight,
        "worker started"
    );

    let pipeline = Arc::new(Pipeline {
        transform,
        learning,
        dedupe: DedupeStore::new(
            topology.bucket,
            settings.dedupe.cache_entries,
            Duration::from_secs(settings.dedupe.retention_days * 86_400),
        ),
        sink: Sink::new(js, settings.streams.clone()),
        stats: stats.clone(),
        raw_stream: settings.streams.raw_stream.clone(),
        max_payload_bytes: settings.worker.max_payload_bytes,
        duplicate_notices: settings.dedupe.publish_duplicate_notices,
    });
    let mut source = Source::new(topology.consumer, settings.consumer.batch_size);
    let summary = spawn_summary(
        stats.clone(),
        source.consumer().clone(),
        settings.worker.summary_interval_secs,
    );
    let readiness = spawn_readiness(stats.clone(), client.clone());

    let max_in_flight = settings.worker.max_in_flight;
    let permits = Arc::new(Semaphore::new(max_in_flight));
    loop {
        let permit = tokio::select! {
            biased;
            _ = shutdown.as_mut() => break,
            permit = permits.clone().acquire_owned() => permit.context("worker semaphore closed")?,
        };
        let Some(message) = source.next(&mut shutdown).await else {
            break;
        };
        let pipeline = pipeline.clone();
        stats.in_flight.fetch_add(1, Relaxed);
        tokio::spawn(async move {
            pipeline.handle(message).await;
            pipeline.stats.in_flight.fetch_sub(1, Relaxed);
            drop(permit);
        });
    }

    let released = source.release_buffered().await;
    tracing::info!(
        in_flight = stats.in_flight.load(Relaxed),
        released,
        "shutting down: stopped pulling, finishing in-flight articles"
    );
    drop(source);
    let drain = Duration::from_secs(settings.worker.drain_timeout_secs);
    let drained = tokio::time::timeout(drain, permits.acquire_many(max_in_flight as u32)).await;
    if drained.is_err() {
        tracing::warn!(
            still_in_flight = stats.in_flight.load(Relaxed),
            drain_timeout_secs = drain.as_secs(),
            "drain timeout reached; unfinished articles will be redelivered to another worker"
        );
    }
    summary.abort();
    readiness.abort();
    for task in learning_tasks {
        task.abort();
    }
    stats.ready.store(false, Relaxed);
    // Acks are fire-and-forget publishes: make sure they left before exiting.
    if tokio::time::timeout(Duration::from_secs(5), client.flush())
        .await
        .is_err()
    {
        tracing::warn!("timed out flushing acks to NATS; unacked articles will be redelivered");
    }
    let s = stats.snapshot();
    tracing::info!(
        received = s.received,
        published = s.published,
        duplicates = s.duplicates,
        rejected = s.rejected,
        errors = s.errors,
        "worker stopped"
    );
    Ok(())
}

/// The multi-threaded runtime the command runs on.
///
/// Built with `--cfg tokio_unstable` (`.cargo/config.toml`), it has tokio's
/// LIFO slot switched off. With the slot, the NATS connection's task, woken
/// by an article task's publish, ran straight after that task and wrote that
/// one command: 1.7 `writev` calls an article. Without it the connection task
/// waits its turn in the queue and writes the commands of several articles
/// at once: 0.76 an article. In the benchmark the two-worker and duplicates
/// cases ran faster, the one-worker case the same within noise (BENCHMARKS.md,
/// stop 20). Without the flag the runtime keeps the slot.
pub fn runtime() -> Result<tokio::runtime::Runtime> {
    let mut builder = tokio::runtime::Builder::new_multi_thread();
    #[cfg(tokio_unstable)]
    builder.disable_lifo_slot();
    builder
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}

/// What start-up produces.
struct Started {
    client: async_nats::Client,
    js: jetstream::Context,
    topology: crate::nats::Topology,
    learning: Option<Arc<Learning>>,
    learning_tasks: Vec<tokio::task::JoinHandle<()>>,
}

/// Connects, creates or checks the topology and replays learned boilerplate.
async fn start(settings: &Settings, transform: &Transform) -> Result<Started> {
    let client = crate::nats::connect(settings).await?;
    let js = crate::nats::jetstream(client.clone(), settings);
    let topology = crate::nats::ensure_topology(&js, settings).await?;
    let (learning, learning_tasks) = match (transform, settings.learn.enabled) {
        (Transform::Clean(_), true) => {
            let learning = Arc::new(Learning::new(settings.learn.clone()));
            let tasks = crate::learn::start(
                js.clone(),
                learning.clone(),
                worker_id(),
                settings.streams.replicas,
                Duration::from_secs(settings.learn.replay_timeout_secs),
            )
            .await?;
            (Some(learning), tasks)
        }
        _ => (None, Vec::new()),
    };
    Ok(Started {
        client,
        js,
        topology,
        learning,
        learning_tasks,
    })
}

impl Pipeline {
    async fn handle(&self, message: jetstream::Message) {
        let started = Instant::now();
        let (sequence, delivered, published_at) = match message.info() {
            Ok(info) => (info.stream_sequence, info.delivered, info.published),
            Err(e) => {
                // Not a JetStream delivery: nothing to ack or redeliver.
                tracing::warn!(error = %e, subject = %message.subject, "message without JetStream metadata ignored");
                return;
            }
        };
        let stats = &self.stats;
        stats.received.fetch_add(1, Relaxed);
        stats
            .bytes_in
            .fetch_add(message.payload.len() as u64, Relaxed);
        stats.payload_bytes.observe(message.payload.len() as f64);
        if delivered > 1 {
            stats.redeliveries.fetch_add(1, Relaxed);
        }
        let subject = message.subject.to_string();
        let span = tracing::debug_span!("article", subject = %subject, seq = sequence, delivered);
        let origin = Origin {
            subject: &subject,
            stream: &self.raw_stream,
            sequence,
        };
        match self
            .process(&message, &origin)
            .instrument(span.clone())
            .await
        {
            Ok(verdict) => {
                let _enter = span.enter();
                match &verdict {
                    Verdict::Published { id } => {
                        stats.published.fetch_add(1, Relaxed);
                        tracing::debug!(id = %id, verdict = "published", elapsed_us = started.elapsed().as_micros() as u64, "article published");
                    }
                    Verdict::Duplicate { id } => {
                        stats.duplicates.fetch_add(1, Relaxed);
                        tracing::debug!(id = %id, verdict = "duplicate", "duplicate article dropped");
                    }
                    Verdict::Rejected { reason } => {
                        tracing::debug!(reason, verdict = "rejected", "article rejected");
                    }
                }
                if let Err(e) = message.ack().await {
                    stats.errors.fetch_add(1, Relaxed);
                    tracing::warn!(seq = sequence, error = %e, "cannot ack; the message will be redelivered and deduped");
                }
            }
            Err(e) => {
                stats.errors.fetch_add(1, Relaxed);
                tracing::warn!(subject = %subject, seq = sequence, delivered, error = format!("{e:#}"), "article not finished; it will be redelivered");
                let delay = Duration::from_millis(500 * u64::from(delivered.min(20) as u32));
                let _ = message.ack_with(AckKind::Nak(Some(delay))).await;
            }
        }
        stats
            .processing_seconds
            .observe(started.elapsed().as_secs_f64());
        let since_publish = time::OffsetDateTime::now_utc() - published_at;
        stats
            .end_to_end_seconds
            .observe(since_publish.as_seconds_f64().max(0.0));
    }

    async fn process(&self, message: &jetstream::Message, origin: &Origin<'_>) -> Result<Verdict> {
        let subject_source = origin.subject.rsplit('.').next().unwrap_or("unknown");
        let raw = match payload::decode(&message.payload, subject_source, self.max_payload_bytes) {
            Ok(raw) => raw,
            Err(reason) => return self.reject(origin, subject_source, reason, message).await,
        };
        let source = raw.source.clone();
        let (article, block_hashes) = match &self.transform {
            Transform::Clean(cleaner) => {
                let cleaned_at = article::now_rfc3339();
                let learning = self.learning.as_deref();
                match cleaner.with_thread_copy(|cleaner| {
                    article::process_learning(cleaner, raw, &cleaned_at, learning)
                }) {
                    Ok(done) => done,
                    Err(reason) => return self.reject(origin, &source, reason, message).await,
                }
            }
            Transform::Passthrough => (article::passthrough(raw, &message.payload), None),
        };
        let claimant = Claimant {
            stream: origin.stream.to_string(),
            sequence: origin.sequence,
        };
        match self.dedupe.claim(&article.id, &claimant).await? {
            Claim::New | Claim::Redelivered => {
                self.sink.publish_clean(&article, origin).await?;
                // Only distinct articles teach the learner.
                if let (Some(learning), Some(hashes)) = (&self.learning, block_hashes) {
                    learning.observe(&article.source.to_lowercase(), hashes);
                }
                Ok(Verdict::Published { id: article.id })
            }
            Claim::Duplicate { first } => {
                if self.duplicate_notices {
                    self.sink
                        .publish_duplicate_notice(origin, &article, &first)
                        .await?;
                }
                Ok(Verdict::Duplicate { id: article.id })
            }
        }
    }

    async fn reject(
        &self,
        origin: &Origin<'_>,
        source: &str,
        reason: RejectReason,
        message: &jetstream::Message,
    ) -> Result<Verdict> {
        self.sink
            .publish_reject(origin, source, &reason, message.payload.clone())
            .await?;
        self.stats.reject(&reason);
        Ok(Verdict::Rejected {
            reason: reason.code(),
        })
    }
}

/// Logs one summary line every `interval_secs` and refreshes the lag gauge.
fn spawn_summary(
    stats: Arc<Stats>,
    mut consumer: jetstream::consumer::PullConsumer,
    interval_secs: u64,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        if interval_secs == 0 {
            return;
        }
        let interval = Duration::from_secs(interval_secs);
        let mut before = stats.snapshot();
        let mut last = Instant::now();
        loop {
            tokio::time::sleep(interval).await;
            if let Ok(Ok(info)) =
                tokio::time::timeout(Duration::from_secs(5), consumer.info()).await
            {
                stats.consumer_pending.store(info.num_pending, Relaxed);
            }
            let now = stats.snapshot();
            let (rate, mb_rate) = summary_fields(now, before, last.elapsed());
            tracing::info!(
                received = now.received,
                published = now.published,
                duplicates = now.duplicates,
                rejected = now.rejected,
                errors = now.errors,
                redeliveries = now.redeliveries,
                in_flight = stats.in_flight.load(Relaxed),
                pending = stats.consumer_pending.load(Relaxed),
                rate_per_sec = (rate * 10.0).round() / 10.0,
                mb_per_sec = (mb_rate * 100.0).round() / 100.0,
                "summary"
            );
            before = now;
            last = Instant::now();
        }
    })
}

/// Keeps the ready flag in step with the connection, for `/readyz`.
fn spawn_readiness(stats: Arc<Stats>, client: async_nats::Client) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            let connected = client.connection_state() == async_nats::connection::State::Connected;
            stats.ready.store(connected, Relaxed);
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    })
}

/// A name for this worker's learning batches: host and process id.
fn worker_id() -> String {
    let host = std::env::var("HOSTNAME")
        .ok()
        .or_else(|| std::fs::read_to_string("/etc/hostname").ok())
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "worker".into());
    format!("{host}-{}", std::process::id())
}

#[cfg(test)]
mod tests {
    /// `runtime` switches tokio's LIFO slot off only in a build with
    /// `--cfg tokio_unstable`, which `.cargo/config.toml` gives. A `RUSTFLAGS`
    /// variable in the environment replaces that file's flags, and the worker
    /// would then make twice the `writev` calls without any other sign.
    #[test]
    fn built_with_tokio_unstable() {
        // black_box: the value is known at compile time, and the question is
        // which value this build got.
        assert!(
            std::hint::black_box(cfg!(tokio_unstable)),
            "built without --cfg tokio_unstable: a RUSTFLAGS variable replaces the \
             flags of .cargo/config.toml; add --cfg tokio_unstable to it"
        );
    }
}
