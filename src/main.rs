//! The `article-ingest` command: a thin layer over the library.

use std::io::{BufRead, IsTerminal, Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};

use article_ingest::article;
use article_ingest::clean::Cleaner;
use article_ingest::config::{LogFormat, Settings};
use article_ingest::{demo, feed, payload, stats::Stats, telemetry, worker};

/// mimalloc: per-article allocations are many and short-lived, shared by
/// several threads; it is about 5% faster than the system allocator here
/// (`cargo bench --bench clean`).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "article-ingest",
    version,
    about = "Clean scraped news articles, drop duplicates, publish them: a NATS JetStream worker",
    after_help = "Examples:\n  article-ingest demo\n  article-ingest run --nats-url nats://127.0.0.1:4222\n  article-ingest clean page.txt\n  article-ingest feed --nats-url nats://127.0.0.1:4222 scraped/"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the worker: pull raw articles, clean, dedupe, publish, until SIGTERM/SIGINT.
    #[command(
        after_help = "Example:\n  NATS_URL=nats://nats:4222 article-ingest run --config /etc/article-ingest.toml"
    )]
    Run {
        /// TOML file overriding config/default.toml (environment variables override both).
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
        /// NATS server URL(s); overrides NATS_URL and the config.
        #[arg(long, value_name = "URL")]
        nats_url: Option<String>,
        /// Serve /metrics, /healthz and /readyz on this address (e.g. 127.0.0.1:9090).
        #[arg(long, value_name = "ADDR")]
        metrics_addr: Option<String>,
        /// Log format: text or json; overrides log.format.
        #[arg(long, value_name = "FORMAT")]
        log_format: Option<String>,
        /// Benchmark ceiling: make the same NATS calls but do no cleaning.
        #[arg(long, hide = true)]
        passthrough: bool,
    },
    /// Clean files offline and print the result (no NATS needed).
    #[command(
        after_help = "A file is scraped text, a JSON payload, or JSONL (one payload per line); stdin when no file is given.\nExamples:\n  article-ingest clean page.txt\n  article-ingest clean --json payloads.jsonl > clean.jsonl"
    )]
    Clean {
        /// Print one JSON line per input: the output record, or {\"error\": ...}.
        #[arg(long)]
        json: bool,
        /// Directory of rule files instead of the built-in rules.
        #[arg(long, value_name = "DIR")]
        rules: Option<PathBuf>,
        files: Vec<PathBuf>,
    },
    /// Publish text, .json or .jsonl files (directories walked) as raw articles.
    #[command(
        after_help = "Example:\n  article-ingest feed --nats-url nats://127.0.0.1:4222 tests/fixtures/seeds/"
    )]
    Feed {
        #[arg(long, value_name = "URL")]
        nats_url: Option<String>,
        /// Publish everything to this subject instead of <raw_prefix>.<source>.
        #[arg(long, value_name = "SUBJECT")]
        subject: Option<String>,
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
        #[arg(required = true)]
        paths: Vec<PathBuf>,
    },
    /// Benchmark the worker end to end against the NATS ceiling (private nats-server).
    #[command(
        after_help = "Examples:\n  article-ingest bench                      # 50,000 articles, 3 runs per case\n  article-ingest bench --articles 300 --runs 1\n  article-ingest bench --soak --articles 1000000"
    )]
    Bench {
        /// Raw articles per run.
        #[arg(long, default_value_t = 50_000)]
        articles: usize,
        /// Runs per case; the median is reported.
        #[arg(long, default_value_t = 3)]
        runs: usize,
        /// Share of re-sent copies in the duplicates case.
        #[arg(long, default_value_t = 0.3)]
        duplicate_share: f64,
        /// JSONL with `scraped_text` fields for article bodies (default: the eval set if present).
        #[arg(long, value_name = "FILE")]
        corpus: Option<PathBuf>,
        /// Only cases whose name starts with this (repeatable): ceiling, worker.
        #[arg(long)]
        only: Vec<String>,
        /// Also write the report to this file.
        #[arg(long, value_name = "FILE")]
        output: Option<PathBuf>,
        /// Soak mode: one worker, feed and drain concurrently, sample RSS over time.
        #[arg(long)]
        soak: bool,
    },
    /// Score the cleaner on a benchmark JSONL ({id, url, scraped_text, gold} per line).
    #[command(
        after_help = "Writes predictions ({\"id\", \"text\"} per line) and prints P, R and F1 with the benchmark's metric\n(4-token shingles, as the benchmark's score.py).\nExamples:\n  article-ingest eval ../shared/eval-data/dev.jsonl\n  article-ingest eval --min-f1 0.90 --predictions /tmp/pred.jsonl ../shared/eval-data/dev.jsonl"
    )]
    Eval {
        /// The benchmark file.
        #[arg(default_value = "../shared/eval-data/dev.jsonl")]
        file: PathBuf,
        /// Where to write the predictions.
        #[arg(long, value_name = "FILE", default_value = "eval-predictions.jsonl")]
        predictions: PathBuf,
        /// Print each page's precision and recall, worst first.
        #[arg(long)]
        per_page: bool,
        /// Exit with status 1 when F1 is below this.
        #[arg(long, value_name = "F1")]
        min_f1: Option<f64>,
    },
    /// Start a private nats-server and a worker, feed the sample articles and show the results.
    #[command(
        after_help = "Needs nats-server: scripts/install-nats-server puts it in .tools/ (or set NATS_SERVER_BIN).\nExample:\n  article-ingest demo"
    )]
    Demo,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match dispatch(cli.command) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn dispatch(command: Command) -> Result<ExitCode> {
    match command {
        Command::Run {
            config,
            nats_url,
            metrics_addr,
            log_format,
            passthrough,
        } => {
            let mut settings = Settings::load(config.as_deref())?;
            if let Some(url) = nats_url {
                settings.nats.url = url;
            }
            if let Some(addr) = metrics_addr {
                settings.metrics.addr = addr;
            }
            if let Some(format) = log_format {
                settings.log.format = match format.as_str() {
                    "json" => LogFormat::Json,
                    "text" => LogFormat::Text,
                    other => anyhow::bail!("--log-format {other:?}: use text or json"),
                };
            }
            telemetry::init(settings.log.format, &settings.log.level);
            // The worker runs as a task of the runtime, not on the thread that
            // blocks on it: the task it spawns per article then goes to that
            // runtime thread's own queue instead of the shared one, which woke
            // another thread for each. Worker CPU per article fell about 7%
            // (bench, BENCHMARKS.md, stop 19).
            worker::runtime()?.block_on(async move {
                tokio::spawn(run_worker(settings, passthrough))
                    .await
                    .context("the worker task panicked")?
            })?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Clean { json, rules, files } => clean_files(json, rules, files),
        Command::Feed {
            nats_url,
            subject,
            config,
            paths,
        } => {
            let mut settings = Settings::load(config.as_deref())?;
            if let Some(url) = nats_url {
                settings.nats.url = url;
            }
            telemetry::init(LogFormat::Text, "warn");
            worker::runtime()?.block_on(feed_paths(settings, subject, paths))
        }
        Command::Bench {
            articles,
            runs,
            duplicate_share,
            corpus,
            only,
            output,
            soak,
        } => {
            telemetry::init(LogFormat::Text, "warn");
            let corpus = corpus.or_else(|| {
                let default = PathBuf::from("../shared/eval-data/dev.jsonl");
                default.is_file().then_some(default)
            });
            let options = article_ingest::bench::BenchOptions {
                articles,
                runs,
                duplicate_share,
                corpus,
                only,
            };
            let mut report = Vec::new();
            let rt = worker::runtime()?;
            if soak {
                rt.block_on(article_ingest::bench::soak(&options, &mut report))?;
            } else {
                rt.block_on(article_ingest::bench::run(&options, &mut report))?;
            }
            std::io::stdout().write_all(&report)?;
            if let Some(path) = output {
                std::fs::write(&path, &report)
                    .with_context(|| format!("cannot write {}", path.display()))?;
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Eval {
            file,
            predictions,
            per_page,
            min_f1,
        } => {
            if !file.is_file() {
                anyhow::bail!(
                    "benchmark file {} not found: pass the path of a JSONL with id, scraped_text and gold fields (the dev set lives in ../shared/eval-data/dev.jsonl)",
                    file.display()
                );
            }
            let report = article_ingest::clean::eval::run(&file, &predictions)?;
            if per_page {
                let mut docs: Vec<_> = report.docs.iter().collect();
                docs.sort_by(|a, b| (a.precision + a.recall).total_cmp(&(b.precision + b.recall)));
                for d in docs {
                    println!("P={:.3} R={:.3}  {}", d.precision, d.recall, d.url);
                }
            }
            println!("{}", report.summary());
            println!("predictions written to {}", predictions.display());
            match min_f1 {
                Some(min) if report.f1 < min => {
                    eprintln!("F1 {:.3} is below the required {min:.3}", report.f1);
                    Ok(ExitCode::from(1))
                }
                _ => Ok(ExitCode::SUCCESS),
            }
        }
        Command::Demo => {
            telemetry::init(LogFormat::Text, "warn");
            worker::runtime()?.block_on(demo::run(&mut std::io::stdout()))?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

async fn run_worker(settings: Settings, passthrough: bool) -> Result<()> {
    let shutdown = shutdown_signal()?;
    let stats = Arc::new(Stats::default());
    if !settings.metrics.addr.is_empty() {
        article_ingest::metrics::serve(&settings.metrics.addr, stats.clone()).await?;
    }
    if passthrough {
        tracing::warn!("passthrough mode: articles are NOT cleaned (benchmark ceiling)");
        return worker::run_with(settings, worker::Transform::Passthrough, stats, shutdown).await;
    }
    worker::run(settings, stats, shutdown).await
}

/// Resolves on the first SIGTERM or SIGINT. The handlers are installed
/// when this is called, not when the future is first polled, so a signal
/// during start-up is not lost (nor fatal).
#[cfg(unix)]
fn shutdown_signal() -> Result<impl std::future::Future<Output = ()>> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate()).context("cannot install the SIGTERM handler")?;
    let mut int = signal(SignalKind::interrupt()).context("cannot install the SIGINT handler")?;
    Ok(async move {
        tokio::select! {
            _ = int.recv() => tracing::info!(signal = "SIGINT", "shutdown requested"),
            _ = term.recv() => tracing::info!(signal = "SIGTERM", "shutdown requested"),
        }
    })
}

#[cfg(not(unix))]
fn shutdown_signal() -> Result<impl std::future::Future<Output = ()>> {
    Ok(async {
        let _ = tokio::signal::ctrl_c().await;
        tracing::info!(signal = "SIGINT", "shutdown requested");
    })
}

async fn feed_paths(
    settings: Settings,
    subject: Option<String>,
    paths: Vec<PathBuf>,
) -> Result<ExitCode> {
    let files = feed::collect_files(&paths)?;
    let mut outgoing = Vec::new();
    for file in &files {
        outgoing.extend(feed::payloads_of(
            file,
            &settings.streams.raw_prefix,
            subject.as_deref(),
        )?);
    }
    let client = article_ingest::nats::connect(&settings).await?;
    let js = article_ingest::nats::jetstream(client.clone(), &settings);
    let bar = (outgoing.len() >= 200 && std::io::stderr().is_terminal())
        .then(|| indicatif::ProgressBar::new(outgoing.len() as u64));
    let total = outgoing.len();
    let (published, failed) = feed::publish_all(&js, outgoing, bar.as_ref()).await?;
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    println!(
        "fed {published} of {total} payloads from {} files ({failed} failed)",
        files.len()
    );
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn clean_files(json: bool, rules: Option<PathBuf>, files: Vec<PathBuf>) -> Result<ExitCode> {
    let cleaner = match &rules {
        Some(dir) => Cleaner::from_dir(dir)
            .with_context(|| format!("cannot load cleaning rules from {}", dir.display()))?,
        None => Cleaner::builtin(),
    };
    let mut inputs: Vec<(String, Vec<u8>)> = Vec::new();
    if files.is_empty() {
        let mut buf = Vec::new();
        std::io::stdin()
            .read_to_end(&mut buf)
            .context("cannot read stdin")?;
        inputs.push(("stdin".into(), buf));
    } else {
        for file in feed::collect_files(&files)? {
            let bytes =
                std::fs::read(&file).with_context(|| format!("cannot read {}", file.display()))?;
            let is_jsonl = file
                .extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("jsonl"));
            let name = file.display().to_string();
            if is_jsonl {
                for line in bytes.lines() {
                    let line = line.with_context(|| format!("cannot read {name}"))?;
                    if !line.trim().is_empty() {
                        inputs.push((name.clone(), line.into_bytes()));
                    }
                }
            } else {
                inputs.push((name, bytes));
            }
        }
    }
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let mut rejected = 0;
    for (name, bytes) in inputs {
        let result = payload::decode(&bytes, "unknown", usize::MAX)
            .and_then(|raw| article::process(&cleaner, raw, &article::now_rfc3339()));
        match (result, json) {
            (Ok(clean), true) => {
                out.write_all(&clean.record)?;
                writeln!(out)?;
            }
            (Ok(clean), false) => {
                let record: serde_json::Value = serde_json::from_slice(&clean.record)?;
                writeln!(out, "{}\n", clean.title)?;
                writeln!(out, "{}", record["text"].as_str().unwrap_or_default())?;
            }
            (Err(reason), true) => {
                rejected += 1;
                let line = serde_json::json!({"error": reason.to_string(), "reason": reason.code(), "input": name});
                writeln!(out, "{line}")?;
            }
            (Err(reason), false) => {
                rejected += 1;
                eprintln!("{name}: rejected: {reason}");
            }
        }
    }
    out.flush()?;
    Ok(if rejected == 0 || json {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
