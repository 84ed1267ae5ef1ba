//! Test harness: a private nats-server per test, in-process workers, and
//! helpers that read what the pipeline stored. Every wait has a timeout.
#![allow(dead_code)]

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_nats::jetstream::{self, stream::Stream};
use bytes::Bytes;

use article_ingest::config::Settings;
use article_ingest::server::NatsServer;
use article_ingest::stats::Stats;

pub const WAIT: Duration = Duration::from_secs(60);

pub fn settings_for(server: &NatsServer) -> Settings {
    let mut settings = Settings::load_from(None, Vec::new()).expect("default settings");
    settings.nats.url = server.url();
    settings.worker.summary_interval_secs = 0;
    settings.worker.drain_timeout_secs = 10;
    settings.consumer.ack_wait_secs = 5;
    settings.streams.duplicate_window_secs = 120;
    settings
}

/// A worker running in this process until stopped.
pub struct RunningWorker {
    pub stats: Arc<Stats>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<anyhow::Result<()>>,
}

impl RunningWorker {
    pub fn start(settings: Settings) -> RunningWorker {
        let stats = Arc::new(Stats::default());
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(article_ingest::worker::run(
            settings,
            stats.clone(),
            async move {
                let _ = stopped.await;
            },
        ));
        RunningWorker {
            stats,
            stop: Some(stop),
            task,
        }
    }

    /// Waits until the worker is ready; fails at once if it stopped first (a
    /// worker that cannot connect returns its error instead of becoming ready).
    pub async fn wait_ready(&self) {
        wait_for("worker ready", || {
            assert!(
                !self.task.is_finished(),
                "the worker stopped before it was ready"
            );
            self.stats.ready.load(std::sync::atomic::Ordering::Relaxed)
        })
        .await;
    }

    /// Graceful stop (like SIGTERM); panics if it fails or hangs.
    pub async fn stop(mut self) -> Arc<Stats> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        tokio::time::timeout(WAIT, &mut self.task)
            .await
            .expect("worker did not stop in time")
            .expect("worker task panicked")
            .expect("worker returned an error");
        self.stats.clone()
    }

    /// Abrupt stop: the task is dropped mid-work, like a crash.
    pub fn abort(self) -> Arc<Stats> {
        self.task.abort();
        self.stats.clone()
    }
}

pub async fn wait_for(what: &str, mut condition: impl FnMut() -> bool) {
    let deadline = Instant::now() + WAIT;
    while !condition() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

pub async fn wait_for_async<F, Fut>(what: &str, mut condition: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = Instant::now() + WAIT;
    while !condition().await {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

pub async fn jetstream_for(settings: &Settings) -> jetstream::Context {
    let client = tokio::time::timeout(WAIT, article_ingest::nats::connect(settings))
        .await
        .expect("connect timed out")
        .expect("connect");
    article_ingest::nats::jetstream(client, settings)
}

/// Creates streams, bucket and consumer as a worker would.
pub async fn ensure(js: &jetstream::Context, settings: &Settings) {
    tokio::time::timeout(WAIT, article_ingest::nats::ensure_topology(js, settings))
        .await
        .expect("topology timed out")
        .expect("topology");
}

/// Publishes and waits for the JetStream ack; returns the stream sequence.
pub async fn publish(js: &jetstream::Context, subject: &str, payload: impl Into<Bytes>) -> u64 {
    tokio::time::timeout(WAIT, async {
        js.publish(subject.to_string(), payload.into())
            .await
            .expect("publish")
            .await
            .expect("publish ack")
            .sequence
    })
    .await
    .expect("publish timed out")
}

/// Every message currently stored in a stream, in order.
pub async fn stored(js: &jetstream::Context, name: &str) -> Vec<jetstream::message::StreamMessage> {
    tokio::time::timeout(WAIT, async {
        let mut stream: Stream = js.get_stream(name).await.expect("stream");
        let info = stream.info().await.expect("stream info");
        let (first, last) = (info.state.first_sequence, info.state.last_sequence);
        let mut out = Vec::new();
        if info.state.messages == 0 {
            return out;
        }
        for seq in first..=last {
            if let Ok(message) = stream.get_raw_message(seq).await {
                out.push(message);
            }
        }
        out
    })
    .await
    .expect("reading the stream timed out")
}

pub async fn stream_count(js: &jetstream::Context, name: &str) -> u64 {
    let mut stream = js.get_stream(name).await.expect("stream");
    tokio::time::timeout(WAIT, stream.info())
        .await
        .expect("info timed out")
        .expect("info")
        .state
        .messages
}

/// (pending, ack pending) of the durable consumer.
pub async fn consumer_backlog(js: &jetstream::Context, settings: &Settings) -> (u64, usize) {
    let stream = js
        .get_stream(&settings.streams.raw_stream)
        .await
        .expect("raw stream");
    let mut consumer: jetstream::consumer::PullConsumer = stream
        .get_consumer(&settings.consumer.durable_name)
        .await
        .expect("consumer");
    let info = tokio::time::timeout(WAIT, consumer.info())
        .await
        .expect("consumer info timed out")
        .expect("consumer info");
    (info.num_pending, info.num_ack_pending)
}

/// A plausible distinct news article, as a JSON payload.
pub fn synthetic_article(i: usize, source: &str) -> Bytes {
    let text = synthetic_text(i);
    Bytes::from(
        serde_json::json!({
            "text": text,
            "url": format!("https://{source}.example/news/{i}"),
            "source": source,
        })
        .to_string(),
    )
}

pub fn synthetic_text(i: usize) -> String {
    format!(
        "Harbour council approves plan number {i} for the old docks\n\n\
         The harbour council voted on Tuesday to approve redevelopment plan number {i}, \
         which will turn the disused docks into housing, a school and a public park over the next decade.\n\n\
         Council members said the plan, the {i}th put forward since the docks closed, \
         had won support after months of consultation with residents and local businesses.\n\n\
         Work on the first phase is expected to begin next spring, and the council will publish \
         a detailed timetable once the funding for plan {i} has been confirmed by the regional government."
    )
}
