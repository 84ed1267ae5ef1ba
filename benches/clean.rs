//! Cleaner throughput on real pages: `cargo bench --bench clean`.
//!
//! Reads the benchmark's dev pages (`scraped_text`) from
//! ../shared/eval-data/dev.jsonl (or $CLEAN_BENCH_DATA) at bench time; the data
//! is never copied into the repository. When it is absent, falls back to the seed
//! fixtures and says so. Criterion reports elements/s = pages/s on one thread,
//! for the pages as they are and for the same pages flattened to one line each.
//! The second group times the worker's whole per-article work without NATS.

use std::path::Path;

use article_ingest::article::process;
use article_ingest::clean::eval::{flatten, host, load_pages, DEFAULT_DEV_PATH};
use article_ingest::clean::{CleanInput, Cleaner};
use article_ingest::fingerprint::content_id;
use article_ingest::payload::decode;
use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};

/// The allocator the worker binary uses, so the figures are the worker's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

struct BenchPage {
    text: String,
    url: Option<String>,
    host: Option<String>,
}

impl BenchPage {
    fn input(&self) -> CleanInput<'_> {
        CleanInput {
            text: &self.text,
            title: None,
            source: self.host.as_deref(),
            url: self.url.as_deref(),
        }
    }
}

fn pages() -> (Vec<BenchPage>, &'static str) {
    let path = std::env::var("CLEAN_BENCH_DATA").unwrap_or_else(|_| DEFAULT_DEV_PATH.to_string());
    match load_pages(Path::new(&path)) {
        Ok(pages) => (
            pages
                .into_iter()
                .map(|p| BenchPage {
                    host: host(&p.url),
                    url: Some(p.url),
                    text: p.scraped_text,
                })
                .collect(),
            "dev pages",
        ),
        Err(e) => {
            eprintln!("benchmark data unavailable ({e}); FALLING BACK to the seed fixtures");
            let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/seeds");
            let mut v = Vec::new();
            for entry in std::fs::read_dir(&dir)
                .expect("seed fixtures dir")
                .flatten()
            {
                let path = entry.path();
                if path.extension().and_then(|e| e.to_str()) == Some("txt") {
                    let text = std::fs::read_to_string(&path).expect("seed fixture");
                    v.push(BenchPage {
                        text,
                        url: None,
                        host: None,
                    });
                }
            }
            (v, "seed fixtures (fallback)")
        }
    }
}

fn bench_clean(c: &mut Criterion) {
    let (pages, what) = pages();
    let cleaner = Cleaner::builtin();
    let mut group = c.benchmark_group(format!("clean {what}"));
    group.throughput(Throughput::Elements(pages.len() as u64));
    group.sample_size(20);
    group.bench_function("all pages, one thread", |b| {
        b.iter(|| {
            for p in &pages {
                black_box(cleaner.clean(black_box(&p.input())));
            }
        })
    });
    // The same pages as a scraper that drops line breaks sends them: one line
    // each, which the cleaner splits into sentences (the costlier path).
    let flattened: Vec<BenchPage> = pages
        .iter()
        .map(|p| BenchPage {
            text: flatten(&p.text),
            url: p.url.clone(),
            host: p.host.clone(),
        })
        .collect();
    group.bench_function("all pages flattened to one line, one thread", |b| {
        b.iter(|| {
            for p in &flattened {
                black_box(cleaner.clean(black_box(&p.input())));
            }
        })
    });
    group.finish();
}

/// What the worker does to each article between fetching and publishing:
/// decode the JSON payload, clean, compute the content id, render the record.
fn bench_process(c: &mut Criterion) {
    let (pages, what) = pages();
    let payloads: Vec<Vec<u8>> = pages
        .iter()
        .map(|p| {
            serde_json::json!({"text": p.text, "url": p.url, "source": p.host.as_deref().unwrap_or("bench")})
                .to_string()
                .into_bytes()
        })
        .collect();
    let cleaner = Cleaner::builtin();
    let mut group = c.benchmark_group(format!("process {what}"));
    group.throughput(Throughput::Elements(payloads.len() as u64));
    group.sample_size(20);
    group.bench_function("decode, clean, id, record; one thread", |b| {
        b.iter(|| {
            for p in &payloads {
                let raw = decode(black_box(p), "bench", 4 << 20).expect("payload decodes");
                black_box(process(&cleaner, raw, "2026-01-01T00:00:00.000Z").ok());
            }
        })
    });
    group.finish();
}

/// The content id alone (normalise, SHA-256) over each page's cleaned body.
fn bench_content_id(c: &mut Criterion) {
    let (pages, what) = pages();
    let cleaner = Cleaner::builtin();
    let bodies: Vec<String> = pages
        .iter()
        .map(|p| cleaner.clean(&p.input()).body())
        .collect();
    let mut group = c.benchmark_group(format!("content id {what}"));
    group.throughput(Throughput::Bytes(
        bodies.iter().map(|b| b.len() as u64).sum(),
    ));
    group.sample_size(20);
    group.bench_function("cleaned bodies, one thread", |b| {
        b.iter(|| {
            for body in &bodies {
                black_box(content_id("", black_box(body)));
            }
        })
    });
    group.finish();
}

criterion_group!(benches, bench_clean, bench_process, bench_content_id);
criterion_main!(benches);
