//! The end-to-end benchmark: the real worker against the ceiling NATS sets.
//!
//! Contract: everything runs on this machine against a private nats-server
//! (JetStream, file storage) on a free loopback port, and stops by itself.
//! Each run starts from an empty server: N raw articles are preloaded, then
//! worker processes (this same binary, `run`) drain them; the run's figures
//! come from the processes' own `/proc` counters and `/metrics`. Cases:
//! `ceiling` (the passthrough worker: same NATS calls, no cleaning),
//! `worker`, `worker x2`, and `worker, 30% duplicates`. Each case runs
//! `runs` times and the median run is reported. After the drain, a paced
//! phase feeds articles at half the measured rate to measure the time from
//! publish to clean output without a backlog.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use bytes::Bytes;

use crate::clean::Cleaner;
use crate::config::Settings;
use crate::server::{free_port, NatsServer};

#[derive(Debug, Clone)]
pub struct BenchOptions {
    pub articles: usize,
    pub runs: usize,
    /// Share of the articles that are re-sent copies in the duplicates case.
    pub duplicate_share: f64,
    /// JSONL with `scraped_text` fields to build bodies from (the eval set).
    pub corpus: Option<PathBuf>,
    /// Only these cases (by name prefix); empty = all.
    pub only: Vec<String>,
}

#[derive(Debug, Clone, Default)]
pub struct RunResult {
    pub articles: usize,
    pub bytes: usize,
    pub seconds: f64,
    pub published: u64,
    pub duplicates: u64,
    pub worker_cpu: f64,
    pub server_cpu: f64,
    pub peak_rss_kb: u64,
    pub p50: Option<f64>,
    pub p99: Option<f64>,
}

impl RunResult {
    pub fn rate(&self) -> f64 {
        self.articles as f64 / self.seconds.max(1e-9)
    }
}

struct Case {
    name: &'static str,
    workers: usize,
    passthrough: bool,
    duplicates: bool,
}

const CASES: [Case; 4] = [
    Case {
        name: "ceiling (passthrough)",
        workers: 1,
        passthrough: true,
        duplicates: false,
    },
    Case {
        name: "worker",
        workers: 1,
        passthrough: false,
        duplicates: false,
    },
    Case {
        name: "worker x2",
        workers: 2,
        passthrough: false,
        duplicates: false,
    },
    Case {
        name: "worker, 30% duplicates",
        workers: 1,
        passthrough: false,
        duplicates: true,
    },
];

/// Runs every case and writes a report (Markdown) to `out`.
pub async fn run(options: &BenchOptions, out: &mut impl Write) -> Result<Vec<(String, RunResult)>> {
    let bodies = corpus(options.corpus.as_deref())?;
    let unique = build_payloads(&bodies, options.articles, 0.0, 0);
    let with_duplicates = build_payloads(&bodies, options.articles, options.duplicate_share, 0);
    let mb = unique.iter().map(Bytes::len).sum::<usize>() as f64 / 1e6;
    writeln!(out, "# article-ingest benchmark\n")?;
    writeln!(out, "{}", machine_description())?;
    writeln!(
        out,
        "{} articles per run ({:.1} MB, {:.1} KB average, bodies from {} source texts), {} run(s) per case, median reported. Figures on a shared 2-core machine are noisy: compare cases within one report.\n",
        options.articles,
        mb,
        mb * 1000.0 / options.articles.max(1) as f64,
        bodies.len(),
        options.runs
    )?;
    let mut results = Vec::new();
    for case in CASES.iter().filter(|c| {
        options.only.is_empty() || options.only.iter().any(|o| c.name.starts_with(o.as_str()))
    }) {
        let payloads = if case.duplicates {
            &with_duplicates
        } else {
            &unique
        };
        let mut runs = Vec::new();
        for _ in 0..options.runs.max(1) {
            let result = run_case(case, payloads)
                .await
                .with_context(|| format!("benchmark case {:?} failed", case.name))?;
            eprintln!("  {}: {:.0} articles/s", case.name, result.rate());
            runs.push(result);
        }
        runs.sort_by(|a, b| a.rate().total_cmp(&b.rate()));
        results.push((case.name.to_string(), runs[runs.len() / 2].clone()));
    }
    let ceiling = results
        .iter()
        .find(|(name, _)| name.starts_with("ceiling"))
        .map(|(_, r)| r.rate());
    writeln!(out, "| case | articles/s | MB/s | p50 publish→output | p99 | worker CPU s / 1k articles | server CPU s / 1k | peak worker RSS | published / duplicates | × ceiling |")?;
    writeln!(out, "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")?;
    for (name, r) in &results {
        let per_k = 1000.0 / r.articles.max(1) as f64;
        writeln!(
            out,
            "| {name} | {:.0} | {:.1} | {} | {} | {:.3} | {:.3} | {:.0} MB | {} / {} | {} |",
            r.rate(),
            r.bytes as f64 / 1e6 / r.seconds.max(1e-9),
            ms(r.p50),
            ms(r.p99),
            r.worker_cpu * per_k,
            r.server_cpu * per_k,
            r.peak_rss_kb as f64 / 1024.0,
            r.published,
            r.duplicates,
            ceiling.map_or("-".into(), |c| format!("{:.2}", r.rate() / c)),
        )?;
    }
    Ok(results)
}

fn ms(value: Option<f64>) -> String {
    match value {
        Some(v) if v.is_finite() => format!("≤ {:.1} ms", v * 1000.0),
        Some(_) => "> 10 s".into(),
        None => "-".into(),
    }
}

async fn run_case(case: &Case, payloads: &[Bytes]) -> Result<RunResult> {
    let server = NatsServer::start()?;
    let mut settings = Settings::load_from(None, Vec::new())?;
    settings.nats.url = server.url();
    let client = crate::nats::connect(&settings).await?;
    let js = crate::nats::jetstream(client, &settings);
    let topology = crate::nats::ensure_topology(&js, &settings).await?;
    let (stored, failed) = crate::feed::publish_all(
        &js,
        payloads.iter().map(|p| crate::feed::Outgoing {
            subject: "articles.raw.bench".into(),
            payload: p.clone(),
        }),
        None,
    )
    .await?;
    if failed > 0 || stored != payloads.len() {
        bail!("preloading failed: {stored} stored, {failed} failed");
    }
    let server_pid = server.pid().context("server not running")?;
    let server_cpu_before = cpu_seconds(server_pid)?;
    let started = Instant::now();
    let mut workers = Vec::new();
    for _ in 0..case.workers {
        workers.push(WorkerProcess::spawn(&server.url(), case.passthrough)?);
    }
    let mut consumer = topology.consumer;
    let deadline = started + Duration::from_secs(600);
    loop {
        let info = consumer.info().await?;
        if info.num_pending == 0
            && info.num_ack_pending == 0
            && info.ack_floor.stream_sequence >= payloads.len() as u64
        {
            break;
        }
        for w in &mut workers {
            w.check_alive()?;
        }
        if Instant::now() > deadline {
            bail!("workers did not drain the stream within 10 minutes");
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let seconds = started.elapsed().as_secs_f64();
    let server_cpu = cpu_seconds(server_pid)? - server_cpu_before;
    let mut worker_cpu = 0.0;
    let mut peak_rss_kb = 0;
    let mut published = 0;
    let mut duplicates = 0;
    for w in &workers {
        worker_cpu += cpu_seconds(w.child.id())?;
        peak_rss_kb = peak_rss_kb.max(peak_rss(w.child.id())?);
        let metrics = w.metrics().await?;
        published += metric(&metrics, "article_ingest_published_total") as u64;
        duplicates += metric(&metrics, "article_ingest_duplicates_total") as u64;
    }

    // Paced phase: half the measured rate, new articles, for about 3 s.
    let rate = (payloads.len() as f64 / seconds / 2.0).max(50.0);
    let paced_count = ((rate * 3.0) as usize).clamp(50, payloads.len());
    let paced_text = SourceText::new(&Cleaner::builtin(), PACED_TEXT.to_string());
    let paced = build_payloads(&[paced_text], paced_count, 0.0, 1_000_000);
    let mut before = Vec::new();
    for w in &workers {
        before.push(w.metrics().await?);
    }
    let handled_before: f64 = before.iter().map(|m| handled(m)).sum();
    let tick = Duration::from_secs_f64(1.0 / rate);
    let paced_start = Instant::now();
    for (i, payload) in paced.into_iter().enumerate() {
        tokio::time::sleep_until((paced_start + tick.mul_f64(i as f64)).into()).await;
        js.publish("articles.raw.bench", payload).await?;
    }
    let deadline = Instant::now() + Duration::from_secs(60);
    let after = loop {
        let mut after = Vec::new();
        for w in &workers {
            after.push(w.metrics().await?);
        }
        let handled_after: f64 = after.iter().map(|m| handled(m)).sum();
        if handled_after >= handled_before + paced_count as f64 || Instant::now() > deadline {
            break after;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    // One histogram for all workers: merge by summing bucket lines.
    let (before, after) = (merge_histograms(&before), merge_histograms(&after));
    let (p50, p99) = latency_quantiles(&before, &after);
    for w in workers {
        w.stop().await?;
    }
    crate::nats::close(&js.client()).await;
    drop(server);
    Ok(RunResult {
        articles: payloads.len(),
        bytes: payloads.iter().map(Bytes::len).sum(),
        seconds,
        published,
        duplicates,
        worker_cpu,
        server_cpu,
        peak_rss_kb,
        p50,
        p99,
    })
}

/// Body of the paced phase's articles (each made unique by a sentence).
const PACED_TEXT: &str = "Rail strike ends after agreement on wages\n\nThe national rail unions called off the strike on Thursday after reaching an agreement with operators on wages and working hours.\n\nTrains are expected to run normally from the weekend, the operators said in a joint statement, although some regional lines may see delays until Monday.\n\nThe agreement still has to be approved by union members in a vote next month.";

/// Articles with a verdict so far, from a `/metrics` scrape.
fn handled(metrics: &str) -> f64 {
    metric(metrics, "article_ingest_end_to_end_seconds_count")
}

/// Sums the end-to-end histogram bucket lines of several scrapes.
fn merge_histograms(scrapes: &[String]) -> String {
    let mut merged: Vec<(String, f64)> = Vec::new();
    for scrape in scrapes {
        let lines = scrape
            .lines()
            .filter(|l| l.starts_with("article_ingest_end_to_end_seconds_bucket"));
        for (i, line) in lines.enumerate() {
            let Some((key, value)) = line.rsplit_once(' ') else {
                continue;
            };
            let value: f64 = value.parse().unwrap_or(0.0);
            match merged.get_mut(i) {
                Some((_, sum)) => *sum += value,
                None => merged.push((key.to_string(), value)),
            }
        }
    }
    merged
        .into_iter()
        .map(|(key, value)| format!("{key} {value}\n"))
        .collect()
}

/// A worker subprocess with its metrics endpoint.
struct WorkerProcess {
    child: Child,
    metrics_addr: String,
}

impl WorkerProcess {
    fn spawn(url: &str, passthrough: bool) -> Result<WorkerProcess> {
        let metrics_addr = format!("127.0.0.1:{}", free_port()?);
        let mut command = Command::new(std::env::current_exe()?);
        command
            .args(["run", "--nats-url", url, "--metrics-addr", &metrics_addr])
            .env("ARTICLE_INGEST__WORKER__SUMMARY_INTERVAL_SECS", "0")
            .env("ARTICLE_INGEST__LOG__LEVEL", "warn")
            .env_remove("RUST_LOG")
            .stdin(Stdio::null())
            .stdout(Stdio::null());
        if passthrough {
            command.arg("--passthrough");
        }
        let child = command.spawn().context("cannot start a worker process")?;
        Ok(WorkerProcess {
            child,
            metrics_addr,
        })
    }

    fn check_alive(&mut self) -> Result<()> {
        if let Some(status) = self.child.try_wait()? {
            bail!("a worker exited early with {status}");
        }
        Ok(())
    }

    async fn metrics(&self) -> Result<String> {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            match http_get(&self.metrics_addr, "/metrics").await {
                Ok(body) => return Ok(body),
                Err(e) if Instant::now() > deadline => return Err(e),
                Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
            }
        }
    }

    async fn stop(mut self) -> Result<()> {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(30);
        while self.child.try_wait()?.is_none() {
            if Instant::now() > deadline {
                let _ = self.child.kill();
                bail!("a worker did not exit within 30 s of SIGTERM");
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        Ok(())
    }
}

impl Drop for WorkerProcess {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// A minimal HTTP/1.1 GET on loopback.
pub async fn http_get(addr: &str, path: &str) -> Result<String> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let fut = async {
        let mut stream = tokio::net::TcpStream::connect(addr).await?;
        stream
            .write_all(
                format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n")
                    .as_bytes(),
            )
            .await?;
        let mut response = String::new();
        stream.read_to_string(&mut response).await?;
        anyhow::Ok(response)
    };
    let response = tokio::time::timeout(Duration::from_secs(5), fut)
        .await
        .context("HTTP request timed out")??;
    match response.split_once("\r\n\r\n") {
        Some((head, body)) if head.starts_with("HTTP/1.1 200") => Ok(body.to_string()),
        Some((head, _)) => bail!("{}", head.lines().next().unwrap_or_default()),
        None => bail!("malformed HTTP response"),
    }
}

/// The value of an unlabelled metric line.
pub fn metric(text: &str, name: &str) -> f64 {
    text.lines()
        .find_map(|line| {
            let (key, value) = line.split_once(' ')?;
            (key == name).then(|| value.trim().parse().ok())?
        })
        .unwrap_or(0.0)
}

/// p50 and p99 of the end-to-end histogram between two scrapes.
fn latency_quantiles(before: &str, after: &str) -> (Option<f64>, Option<f64>) {
    let buckets = |text: &str| -> Vec<(f64, f64)> {
        text.lines()
            .filter_map(|line| {
                let rest = line.strip_prefix("article_ingest_end_to_end_seconds_bucket{le=\"")?;
                let (bound, value) = rest.split_once("\"} ")?;
                let bound = if bound == "+Inf" {
                    f64::INFINITY
                } else {
                    bound.parse().ok()?
                };
                Some((bound, value.trim().parse().ok()?))
            })
            .collect()
    };
    let (b, a) = (buckets(before), buckets(after));
    if a.is_empty() || a.len() != b.len() {
        return (None, None);
    }
    let delta: Vec<(f64, f64)> = a
        .iter()
        .zip(&b)
        .map(|((bound, x), (_, y))| (*bound, x - y))
        .collect();
    let total = delta.last().map_or(0.0, |(_, c)| *c);
    if total <= 0.0 {
        return (None, None);
    }
    let quantile = |q: f64| {
        delta
            .iter()
            .find(|(_, c)| *c >= (q * total).ceil())
            .map(|(b, _)| *b)
    };
    (quantile(0.5), quantile(0.99))
}

/// CPU seconds (user + system) a process has used, from /proc.
pub fn cpu_seconds(pid: u32) -> Result<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .with_context(|| format!("cannot read /proc/{pid}/stat"))?;
    // Fields after the parenthesised command name; utime and stime are 14 and 15.
    let after = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest)
        .unwrap_or_default();
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks: f64 = fields
        .get(11)
        .and_then(|v| v.parse::<f64>().ok())
        .unwrap_or(0.0)
        + fields
            .get(12)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0);
    Ok(ticks / 100.0)
}

/// Peak resident set (VmHWM) of a process, in KiB.
pub fn peak_rss(pid: u32) -> Result<u64> {
    status_field(pid, "VmHWM:")
}

/// Current resident set (VmRSS) of a process, in KiB.
pub fn current_rss(pid: u32) -> Result<u64> {
    status_field(pid, "VmRSS:")
}

fn status_field(pid: u32, field: &str) -> Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .with_context(|| format!("cannot read /proc/{pid}/status"))?;
    Ok(status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0))
}

fn machine_description() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines().find_map(|l| {
                l.strip_prefix("model name")
                    .map(|v| v.trim_start_matches([' ', '\t', ':']).to_string())
            })
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let server = crate::server::find_binary()
        .ok()
        .and_then(|bin| Command::new(bin).arg("--version").output().ok())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    format!("Machine: {cores} cores ({cpu}); {server}; worker and server share the cores.\n")
}

/// Source texts for article bodies: the eval pages when given, else the seeds.
fn corpus(path: Option<&Path>) -> Result<Vec<SourceText>> {
    let mut texts: Vec<String> = crate::demo::SEEDS
        .iter()
        .map(|(_, t)| t.to_string())
        .collect();
    if let Some(path) = path {
        let data = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read corpus {}", path.display()))?;
        for line in data.lines().filter(|l| !l.trim().is_empty()) {
            let row: serde_json::Value = serde_json::from_str(line).with_context(|| {
                format!("corpus {} has a line that is not JSON", path.display())
            })?;
            if let Some(text) = row["scraped_text"].as_str() {
                texts.push(text.to_string());
            }
        }
    }
    let cleaner = Cleaner::builtin();
    Ok(texts
        .into_iter()
        .map(|text| SourceText::new(&cleaner, text))
        .collect())
}

/// A text that benchmark bodies are made from, and the line after which a
/// numbered sentence makes each copy a distinct article.
pub struct SourceText {
    text: String,
    numbered_line: usize,
}

/// The sentence that makes a benchmark body distinct.
fn numbered_sentence(number: usize) -> String {
    format!(
        " The ministry confirmed on Monday that report number {number} would be released in full."
    )
}

impl SourceText {
    /// Picks the line for the numbered sentence: the first line, longest first,
    /// where two different numbers give two different cleaned articles (a
    /// sentence added to navigation is cleaned away, and its copies would be
    /// duplicates). Falls back to the longest line.
    pub fn new(cleaner: &Cleaner, text: String) -> Self {
        let mut lines: Vec<(usize, usize)> = text
            .lines()
            .enumerate()
            .map(|(n, line)| (line.len(), n))
            .collect();
        lines.sort_unstable_by(|a, b| b.cmp(a));
        let cleaned = |numbered_line: usize, number: usize| {
            let body = with_number(&text, numbered_line, number);
            let c = cleaner.clean(&crate::clean::CleanInput {
                text: &body,
                source: Some("bench"),
                ..Default::default()
            });
            (c.title, c.paragraphs)
        };
        let numbered_line = lines
            .iter()
            .take(12)
            .map(|&(_, n)| n)
            .find(|&n| cleaned(n, 1) != cleaned(n, 2))
            .or_else(|| lines.first().map(|&(_, n)| n))
            .unwrap_or(0);
        SourceText {
            text,
            numbered_line,
        }
    }
}

/// `text` with the numbered sentence at the end of line `numbered_line`.
fn with_number(text: &str, numbered_line: usize, number: usize) -> String {
    let mut body = String::with_capacity(text.len() + 120);
    for (n, line) in text.lines().enumerate() {
        body.push_str(line);
        if n == numbered_line {
            body.push_str(&numbered_sentence(number));
        }
        body.push('\n');
    }
    body
}

/// `count` raw payloads; each distinct one gets a numbered sentence where the
/// cleaner keeps it (see [`SourceText::new`]), so distinct payloads are
/// distinct articles; a share of them are exact re-sends of earlier ones.
pub fn build_payloads(
    texts: &[SourceText],
    count: usize,
    duplicate_share: f64,
    first_number: usize,
) -> Vec<Bytes> {
    let copies = (count as f64 * duplicate_share).round() as usize;
    let distinct = count - copies;
    let mut out: Vec<Bytes> = (0..distinct)
        .map(|i| {
            let source = &texts[i % texts.len()];
            let body = with_number(&source.text, source.numbered_line, first_number + i);
            Bytes::from(
                serde_json::json!({"text": body, "source": "bench", "url": format!("https://bench.example/{i}")})
                    .to_string(),
            )
        })
        .collect();
    for i in 0..copies {
        // Spread copies through the stream so they meet their originals in flight.
        let original = out[(i * 7919) % distinct.max(1)].clone();
        let at = (i * 2 + 1).min(out.len());
        out.insert(at, original);
    }
    out
}

/// Soak: one worker fed continuously with `articles` articles while its RSS
/// is sampled; reports RSS over time so a leak shows as a rising line.
pub async fn soak(options: &BenchOptions, out: &mut impl Write) -> Result<()> {
    let bodies = corpus(options.corpus.as_deref())?;
    let server = NatsServer::start()?;
    let mut settings = Settings::load_from(None, Vec::new())?;
    settings.nats.url = server.url();
    // Keep the disk bounded: the raw and clean streams forget old messages.
    settings.streams.max_age_days = 1;
    let client = crate::nats::connect(&settings).await?;
    let js = crate::nats::jetstream(client, &settings);
    let topology = crate::nats::ensure_topology(&js, &settings).await?;
    let worker = WorkerProcess::spawn(&server.url(), false)?;
    let pid = worker.child.id();
    writeln!(
        out,
        "# soak: {} articles through one worker\n",
        options.articles
    )?;
    writeln!(
        out,
        "| articles fed | RSS MB | peak RSS MB |\n|---:|---:|---:|"
    )?;
    let started = Instant::now();
    const CHUNK: usize = 20_000;
    let mut fed = 0;
    let mut samples = Vec::new();
    while fed < options.articles {
        let count = CHUNK.min(options.articles - fed);
        let chunk = build_payloads(&bodies, count, 0.0, fed);
        crate::feed::publish_all(
            &js,
            chunk.into_iter().map(|payload| crate::feed::Outgoing {
                subject: "articles.raw.soak".into(),
                payload,
            }),
            None,
        )
        .await?;
        fed += count;
        // Bound the backlog so the soak measures the worker, not the disk.
        let mut consumer = topology.consumer.clone();
        while consumer.info().await?.num_pending > CHUNK as u64 {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let rss = current_rss(pid)?;
        samples.push(rss);
        if fed % 100_000 < CHUNK || fed == options.articles {
            writeln!(
                out,
                "| {fed} | {:.0} | {:.0} |",
                rss as f64 / 1024.0,
                peak_rss(pid)? as f64 / 1024.0
            )?;
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    let quarter = samples.get(samples.len() / 4).copied().unwrap_or(0);
    let last = samples.last().copied().unwrap_or(0);
    writeln!(
        out,
        "\n{} articles in {:.0} s ({:.0}/s); RSS at 25%: {:.0} MB, at the end: {:.0} MB, peak {:.0} MB",
        fed,
        seconds,
        fed as f64 / seconds,
        quarter as f64 / 1024.0,
        last as f64 / 1024.0,
        peak_rss(pid)? as f64 / 1024.0
    )?;
    worker.stop().await?;
    crate::nats::close(&js.client()).await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payloads_are_distinct_then_copies() {
        let cleaner = Cleaner::builtin();
        let texts: Vec<SourceText> = ["a\nb\nc", "d\ne"]
            .into_iter()
            .map(|t| SourceText::new(&cleaner, t.to_string()))
            .collect();
        let unique = build_payloads(&texts, 100, 0.0, 0);
        assert_eq!(unique.len(), 100);
        let set: std::collections::HashSet<_> = unique.iter().collect();
        assert_eq!(set.len(), 100);
        let dup = build_payloads(&texts, 100, 0.3, 0);
        assert_eq!(dup.len(), 100);
        let set: std::collections::HashSet<_> = dup.iter().collect();
        assert_eq!(set.len(), 70);
    }

    #[test]
    fn distinct_payloads_are_distinct_articles() {
        // The eval pages too, when this checkout has them (as the benchmark does).
        let dev = Path::new(crate::clean::eval::DEFAULT_DEV_PATH);
        let texts = corpus(dev.exists().then_some(dev)).unwrap();
        let payloads = build_payloads(&texts, 2 * texts.len(), 0.0, 0);
        let cleaner = Cleaner::builtin();
        let ids: std::collections::HashSet<String> = payloads
            .iter()
            .map(|p| {
                let raw = crate::payload::decode(p, "bench", 1 << 22).unwrap();
                crate::article::process(&cleaner, raw, "t").unwrap().id
            })
            .collect();
        assert_eq!(ids.len(), payloads.len());
    }

    #[test]
    fn metric_and_quantile_parsing() {
        let before = "x_total 3\narticle_ingest_end_to_end_seconds_bucket{le=\"0.001\"} 0\narticle_ingest_end_to_end_seconds_bucket{le=\"0.01\"} 0\narticle_ingest_end_to_end_seconds_bucket{le=\"+Inf\"} 0\n";
        let after = "x_total 5\narticle_ingest_end_to_end_seconds_bucket{le=\"0.001\"} 60\narticle_ingest_end_to_end_seconds_bucket{le=\"0.01\"} 99\narticle_ingest_end_to_end_seconds_bucket{le=\"+Inf\"} 100\n";
        assert_eq!(metric(after, "x_total"), 5.0);
        assert_eq!(metric(after, "missing"), 0.0);
        assert_eq!(latency_quantiles(before, after), (Some(0.001), Some(0.01)));
    }

    #[test]
    fn own_process_counters() {
        let pid = std::process::id();
        assert!(cpu_seconds(pid).unwrap() >= 0.0);
        assert!(peak_rss(pid).unwrap() > 0);
    }
}
