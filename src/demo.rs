//! The demo: the whole pipeline on this machine, end to end, in seconds.
//!
//! Contract: starts a private nats-server on a free loopback port, a worker
//! in this process, feeds the five sample articles, their three re-scrapes
//! and one broken payload one at a time, prints each clean article and each
//! verdict, then stops everything it started (also on error).

use std::io::Write;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use bytes::Bytes;

use crate::config::Settings;
use crate::server::NatsServer;
use crate::stats::{Snapshot, Stats};

/// The user's sample articles, compiled in so the demo runs from anywhere.
pub const SEEDS: [(&str, &str); 5] = [
    (
        "000_39a025f67963c445.txt",
        include_str!("../tests/fixtures/seeds/000_39a025f67963c445.txt"),
    ),
    (
        "001_09bcae2d0884f6e2.txt",
        include_str!("../tests/fixtures/seeds/001_09bcae2d0884f6e2.txt"),
    ),
    (
        "002_9438c1acc4b3994a.txt",
        include_str!("../tests/fixtures/seeds/002_9438c1acc4b3994a.txt"),
    ),
    (
        "003_0013cf854fe2a652.txt",
        include_str!("../tests/fixtures/seeds/003_0013cf854fe2a652.txt"),
    ),
    (
        "004_d81ca5ce1a1317d3.txt",
        include_str!("../tests/fixtures/seeds/004_d81ca5ce1a1317d3.txt"),
    ),
];

/// Re-scrapes of three seeds, each with the original it duplicates.
pub const RESCRAPES: [(&str, &str, &str); 3] = [
    (
        "001_bio_changed_crlf.txt",
        "001_09bcae2d0884f6e2.txt",
        include_str!("../tests/fixtures/seeds/rescrapes/001_bio_changed_crlf.txt"),
    ),
    (
        "002_timestamps_and_video_changed.txt",
        "002_9438c1acc4b3994a.txt",
        include_str!("../tests/fixtures/seeds/rescrapes/002_timestamps_and_video_changed.txt"),
    ),
    (
        "003_next_trailer_rotated.txt",
        "003_0013cf854fe2a652.txt",
        include_str!("../tests/fixtures/seeds/rescrapes/003_next_trailer_rotated.txt"),
    ),
];

/// A raw payload as a scraper would send it.
pub fn seed_payload(name: &str, text: &str) -> Bytes {
    Bytes::from(
        serde_json::json!({
            "text": text,
            "url": format!("https://example.org/seeds/{name}"),
            "source": "seeds",
            "fetched_at": "2024-06-19T12:00:00Z",
        })
        .to_string(),
    )
}

pub async fn run(out: &mut impl Write) -> Result<()> {
    let server = NatsServer::start()?;
    writeln!(out, "started a private nats-server at {}", server.url())?;
    let mut settings = Settings::load_from(None, Vec::new())?;
    settings.nats.url = server.url();
    settings.worker.summary_interval_secs = 0;

    let stats = Arc::new(Stats::default());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let worker = tokio::spawn(crate::worker::run(settings.clone(), stats.clone(), async {
        let _ = stopped.await;
    }));
    let result = feed_and_show(out, &settings, &stats).await;
    let _ = stop.send(());
    match tokio::time::timeout(Duration::from_secs(30), worker).await {
        Ok(Ok(Ok(()))) => writeln!(out, "worker stopped cleanly")?,
        Ok(Ok(Err(e))) => return Err(e.context("the worker failed")),
        Ok(Err(e)) => bail!("the worker task panicked: {e}"),
        Err(_) => bail!("the worker did not stop within 30 s"),
    }
    drop(server);
    writeln!(out, "stopped the nats-server; demo done")?;
    result
}

async fn feed_and_show(out: &mut impl Write, settings: &Settings, stats: &Stats) -> Result<()> {
    let client = crate::nats::connect(settings).await?;
    let js = crate::nats::jetstream(client, settings);
    wait_until(|| stats.ready.load(Relaxed), "the worker to start").await?;
    let clean_stream = js
        .get_stream(&settings.streams.clean_stream)
        .await
        .context("cannot open the clean stream")?;
    let subject = format!("{}.seeds", settings.streams.raw_prefix);
    let clean_subject = format!("{}.seeds", settings.streams.clean_prefix);

    writeln!(out, "\n== 1. the five sample articles ==")?;
    let mut items: Vec<(String, Bytes)> = SEEDS
        .iter()
        .map(|(name, text)| (name.to_string(), seed_payload(name, text)))
        .collect();
    let rescrape_start = items.len();
    items.extend(RESCRAPES.iter().map(|(name, original, text)| {
        (
            format!("{name} (re-scrape of {original})"),
            seed_payload(name, text),
        )
    }));
    items.push((
        "broken.json (truncated JSON)".to_string(),
        Bytes::from_static(b"{\"text\": \"Un article coup"),
    ));
    for (index, (name, payload)) in items.into_iter().enumerate() {
        if index == rescrape_start {
            writeln!(
                out,
                "\n== 2. the same articles scraped again, and a broken payload =="
            )?;
        }
        let before = stats.snapshot();
        js.publish(subject.clone(), payload)
            .await?
            .await
            .context("the raw stream did not store the payload")?;
        let after = wait_for_verdict(stats, before).await?;
        if after.published > before.published {
            let message = clean_stream
                .get_last_raw_message_by_subject(&clean_subject)
                .await
                .context("cannot read the published article back")?;
            let record: serde_json::Value = serde_json::from_slice(&message.payload)?;
            let text = record["text"].as_str().unwrap_or_default();
            writeln!(
                out,
                "\n{name}: PUBLISHED as {}",
                record["id"].as_str().unwrap_or("?")
            )?;
            writeln!(
                out,
                "  title: {}",
                record["title"]
                    .as_str()
                    .unwrap_or("(none: the page has no headline; the body opens with the lede)")
            )?;
            writeln!(
                out,
                "  body:  {} paragraphs, {} chars (from {} chars scraped), lang {}",
                text.split("\n\n").count(),
                record["stats"]["chars_out"],
                record["stats"]["chars_in"],
                record["lang"].as_str().unwrap_or("?")
            )?;
            for paragraph in text.split("\n\n").take(2) {
                writeln!(out, "  | {}", preview(paragraph, 110))?;
            }
        } else if after.duplicates > before.duplicates {
            writeln!(out, "\n{name}: DUPLICATE, not published again")?;
        } else {
            writeln!(
                out,
                "\n{name}: REJECTED to {}.seeds",
                settings.streams.rejected_prefix
            )?;
        }
    }
    let s = stats.snapshot();
    writeln!(
        out,
        "\nsummary: received {}, published {}, duplicates {}, rejected {}",
        s.received, s.published, s.duplicates, s.rejected
    )?;
    crate::nats::close(&js.client()).await;
    Ok(())
}

fn preview(text: &str, max_chars: usize) -> String {
    let mut shown: String = text.chars().take(max_chars).collect();
    if text.chars().count() > max_chars {
        shown.push('…');
    }
    shown
}

async fn wait_for_verdict(stats: &Stats, before: Snapshot) -> Result<Snapshot> {
    let done = |s: Snapshot| s.published + s.duplicates + s.rejected;
    wait_until(
        || done(stats.snapshot()) > done(before),
        "the worker's verdict",
    )
    .await?;
    Ok(stats.snapshot())
}

async fn wait_until(mut condition: impl FnMut() -> bool, what: &str) -> Result<()> {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !condition() {
        if Instant::now() > deadline {
            bail!("timed out after 20 s waiting for {what}");
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    Ok(())
}
