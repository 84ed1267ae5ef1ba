//! Fault-injection helpers for `tests/reliability.rs` and `tests/hostile.rs`:
//! worker subprocesses (SIGKILL, SIGTERM, RSS, metrics), a three-node
//! nats-server cluster on loopback, a labelled corpus of distinct articles,
//! duplicates and bad payloads, and the exactly-once check over what the
//! pipeline stored. Every wait is bounded.
#![allow(dead_code)]

use std::collections::{HashMap, HashSet};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use async_nats::jetstream;
use bytes::Bytes;

use article_ingest::article;
use article_ingest::clean::Cleaner;
use article_ingest::config::Settings;
use article_ingest::payload::decode;
use article_ingest::server::{find_binary, free_port};
use article_ingest::sink::{HEADER_RAW_SEQUENCE, HEADER_REJECT_REASON};

use crate::common::{synthetic_text, WAIT};

/// The environment every worker subprocess gets (the brief's fault settings).
pub const WORKER_ENV: [(&str, &str); 3] = [
    ("ARTICLE_INGEST__CONSUMER__ACK_WAIT_SECS", "2"),
    ("ARTICLE_INGEST__STREAMS__DUPLICATE_WINDOW_SECS", "120"),
    ("ARTICLE_INGEST__WORKER__SUMMARY_INTERVAL_SECS", "0"),
];

/// Test-side settings matching [`WORKER_ENV`], so whoever creates the
/// consumer first gives it the same ack wait.
pub fn fault_settings(url: &str) -> Settings {
    let mut settings = Settings::load_from(None, Vec::new()).expect("default settings");
    settings.nats.url = url.to_string();
    settings.worker.summary_interval_secs = 0;
    settings.worker.drain_timeout_secs = 10;
    settings.consumer.ack_wait_secs = 2;
    settings.streams.duplicate_window_secs = 120;
    settings
}

// ---------------------------------------------------------------------------
// Worker subprocess

/// `article-ingest run` as a child process, logging to a file, with its
/// metrics endpoint on a free loopback port. Dropping it kills it.
pub struct WorkerProcess {
    child: Option<Child>,
    pub metrics_port: u16,
    pub log: PathBuf,
    url: String,
    env: Vec<(String, String)>,
}

impl WorkerProcess {
    pub fn spawn(url: &str, extra_env: &[(&str, &str)], log: &Path) -> WorkerProcess {
        let mut worker = WorkerProcess {
            child: None,
            metrics_port: 0,
            log: log.to_path_buf(),
            url: url.to_string(),
            env: extra_env
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        };
        worker.start();
        worker
    }

    fn start(&mut self) {
        self.metrics_port = free_port().expect("free port");
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .expect("worker log file");
        let child = Command::new(env!("CARGO_BIN_EXE_article-ingest"))
            .args(["run", "--nats-url", &self.url, "--metrics-addr"])
            .arg(format!("127.0.0.1:{}", self.metrics_port))
            .env_remove("RUST_LOG")
            .env("NATS_URL", &self.url)
            .envs(WORKER_ENV)
            .envs(self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log clone"))
            .stderr(log)
            .spawn()
            .expect("spawn article-ingest run");
        self.child = Some(child);
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().expect("running").id()
    }

    /// SIGKILL (what `Child::kill` sends on unix) and reap.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// A fresh process with the same settings (new metrics port).
    pub fn restart(&mut self) {
        self.kill();
        self.start();
    }

    /// SIGTERM through `kill(1)`.
    pub fn term(&self) {
        let status = Command::new("kill")
            .args(["-TERM", &self.pid().to_string()])
            .status()
            .expect("run kill -TERM");
        assert!(status.success(), "kill -TERM failed");
    }

    /// Waits for the process to exit on its own, at most `timeout`.
    pub async fn wait_exit(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + timeout;
        loop {
            let child = self.child.as_mut()?;
            if let Ok(Some(status)) = child.try_wait() {
                self.child = None;
                return Some(status);
            }
            if Instant::now() > deadline {
                return None;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Resident memory of the process in KiB, from /proc.
    pub fn rss_kib(&self) -> Option<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid())).ok()?;
        status
            .lines()
            .find(|l| l.starts_with("VmRSS:"))?
            .split_whitespace()
            .nth(1)?
            .parse()
            .ok()
    }

    /// The counters of `/metrics`, or `None` while the endpoint is not up.
    pub fn metrics(&self) -> Option<HashMap<String, f64>> {
        let body = http_get(self.metrics_port, "/metrics")?;
        let mut out = HashMap::new();
        for line in body.lines().filter(|l| !l.starts_with('#')) {
            if let Some((name, value)) = line.rsplit_once(' ') {
                if let Ok(value) = value.parse::<f64>() {
                    out.insert(name.to_string(), value);
                }
            }
        }
        Some(out)
    }

    /// One counter (0 when absent); rejects summed over reasons.
    pub fn metric(&self, name: &str) -> f64 {
        let Some(metrics) = self.metrics() else {
            return 0.0;
        };
        metrics
            .iter()
            .filter(|(k, _)| *k == name || k.starts_with(&format!("{name}{{")))
            .map(|(_, v)| v)
            .sum()
    }

    pub fn is_ready(&self) -> bool {
        http_get(self.metrics_port, "/readyz").is_some()
    }

    pub async fn wait_ready(&self) {
        let deadline = Instant::now() + WAIT;
        while !self.is_ready() {
            assert!(
                Instant::now() < deadline,
                "worker not ready; log:\n{}",
                self.log_tail(40)
            );
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    pub fn log_text(&self) -> String {
        String::from_utf8_lossy(&std::fs::read(&self.log).unwrap_or_default()).into_owned()
    }

    pub fn log_tail(&self, lines: usize) -> String {
        let text = self.log_text();
        let all: Vec<&str> = text.lines().collect();
        all[all.len().saturating_sub(lines)..].join("\n")
    }
}

impl Drop for WorkerProcess {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Minimal HTTP/1.0 GET on 127.0.0.1: the body of a 200 answer, else `None`.
pub fn http_get(port: u16, path: &str) -> Option<String> {
    let timeout = Duration::from_secs(2);
    let mut stream =
        TcpStream::connect_timeout(&([127, 0, 0, 1], port).into(), Duration::from_millis(500))
            .ok()?;
    stream.set_read_timeout(Some(timeout)).ok()?;
    stream.set_write_timeout(Some(timeout)).ok()?;
    write!(stream, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").ok()?;
    let mut answer = Vec::new();
    stream.take(64 << 20).read_to_end(&mut answer).ok()?;
    let answer = String::from_utf8_lossy(&answer).into_owned();
    let (head, body) = answer.split_once("\r\n\r\n")?;
    head.starts_with("HTTP/1.1 200")
        .then(|| body.to_string())
        .or_else(|| head.starts_with("HTTP/1.0 200").then(|| body.to_string()))
}

/// The `key=value` field of the last log line containing `marker`
/// (text log format, ANSI colour codes stripped).
pub fn log_field(log: &str, marker: &str, key: &str) -> Option<u64> {
    let line = log.lines().rev().find(|l| l.contains(marker))?;
    let plain: String = strip_ansi(line);
    let needle = format!("{key}=");
    let at = plain.find(&needle)? + needle.len();
    plain[at..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect::<String>()
        .parse()
        .ok()
}

fn strip_ansi(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

// ---------------------------------------------------------------------------
// Three-node cluster

struct Node {
    name: String,
    client_port: u16,
    http_port: u16,
    config: PathBuf,
    log: PathBuf,
    child: Option<Child>,
}

/// Three nats-servers with JetStream, clustered over loopback routes.
pub struct Cluster {
    nodes: Vec<Node>,
    binary: PathBuf,
    pub dir: tempfile::TempDir,
}

impl Cluster {
    pub fn start() -> Cluster {
        let binary = find_binary().expect("nats-server");
        let dir = tempfile::Builder::new()
            .prefix("article-ingest-cluster-")
            .tempdir()
            .expect("temp dir");
        let route_ports: Vec<u16> = (0..3).map(|_| free_port().expect("port")).collect();
        let routes = route_ports
            .iter()
            .map(|p| format!("\"nats-route://127.0.0.1:{p}\""))
            .collect::<Vec<_>>()
            .join(", ");
        let mut nodes = Vec::new();
        for (i, route_port) in route_ports.iter().enumerate() {
            let name = format!("n{i}");
            let client_port = free_port().expect("port");
            let http_port = free_port().expect("port");
            let store = dir.path().join(&name);
            let config = dir.path().join(format!("{name}.conf"));
            std::fs::write(
                &config,
                format!(
                    "server_name: {name}\n\
                     listen: 127.0.0.1:{client_port}\n\
                     http: 127.0.0.1:{http_port}\n\
                     jetstream {{ store_dir: \"{}\" }}\n\
                     cluster {{\n  name: reliability\n  listen: 127.0.0.1:{route_port}\n  routes: [{routes}]\n}}\n",
                    store.display()
                ),
            )
            .expect("write node config");
            nodes.push(Node {
                log: dir.path().join(format!("{name}.log")),
                name,
                client_port,
                http_port,
                config,
                child: None,
            });
        }
        let mut cluster = Cluster { nodes, binary, dir };
        for i in 0..3 {
            cluster.spawn(i);
        }
        for i in 0..3 {
            wait_for_port(cluster.nodes[i].client_port);
        }
        cluster
    }

    fn spawn(&mut self, i: usize) {
        let node = &mut self.nodes[i];
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&node.log)
            .expect("node log");
        let child = Command::new(&self.binary)
            .arg("--config")
            .arg(&node.config)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("spawn nats-server");
        node.child = Some(child);
    }

    /// All client URLs, comma-separated (the worker's NATS_URL).
    pub fn urls(&self) -> String {
        self.nodes
            .iter()
            .map(|n| format!("nats://127.0.0.1:{}", n.client_port))
            .collect::<Vec<_>>()
            .join(",")
    }

    pub fn name(&self, i: usize) -> &str {
        &self.nodes[i].name
    }

    /// SIGKILL one node.
    pub fn kill(&mut self, i: usize) {
        if let Some(mut child) = self.nodes[i].child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    pub fn restart(&mut self, i: usize) {
        self.kill(i);
        self.spawn(i);
        wait_for_port(self.nodes[i].client_port);
    }

    /// Client connections on node `i` whose name is `client_name` (from /connz).
    pub fn connections_named(&self, i: usize, client_name: &str) -> usize {
        let Some(body) = http_get(self.nodes[i].http_port, "/connz?limit=1024") else {
            return 0;
        };
        let v: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
        v["connections"]
            .as_array()
            .map(|cs| cs.iter().filter(|c| c["name"] == client_name).count())
            .unwrap_or(0)
    }

    /// True once `/jsz` on node `i` reports a JetStream meta leader.
    pub fn has_meta_leader(&self, i: usize) -> bool {
        let Some(body) = http_get(self.nodes[i].http_port, "/jsz") else {
            return false;
        };
        let v: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
        v["meta_cluster"]["leader"]
            .as_str()
            .is_some_and(|l| !l.is_empty())
    }

    pub fn log_tail(&self, i: usize, lines: usize) -> String {
        let text = std::fs::read_to_string(&self.nodes[i].log).unwrap_or_default();
        let all: Vec<&str> = text.lines().collect();
        all[all.len().saturating_sub(lines)..].join("\n")
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        for i in 0..self.nodes.len() {
            self.kill(i);
        }
    }
}

fn wait_for_port(port: u16) {
    let deadline = Instant::now() + Duration::from_secs(15);
    while TcpStream::connect_timeout(&([127, 0, 0, 1], port).into(), Duration::from_millis(200))
        .is_err()
    {
        assert!(Instant::now() < deadline, "port {port} never opened");
        std::thread::sleep(Duration::from_millis(50));
    }
}

// ---------------------------------------------------------------------------
// Corpus

/// What one raw message is, and what must come of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    /// The first copy of an article: its id must be published exactly once.
    Distinct(String),
    /// Same text as a `Distinct` one, other url and source: never published.
    Duplicate(String),
    /// A payload the worker must reject with this code, exactly once.
    Bad(&'static str),
}

pub struct Corpus {
    /// Tells this corpus's message ids from another's on the same server.
    pub base: usize,
    /// (subject, payload, kind) in publish order.
    pub messages: Vec<(String, Bytes, Kind)>,
    pub expected_ids: HashSet<String>,
    pub distinct: usize,
    pub duplicates: usize,
    pub bad: usize,
}

/// Bad payloads, rotating, with the code the worker gives them.
pub fn bad_payload(k: usize) -> (Vec<u8>, &'static str) {
    match k % 6 {
        0 => (
            format!("{{\"text\": \"cut {k}").into_bytes(),
            "invalid_json",
        ),
        1 => (
            format!("Le pr\u{e9}sident {k} ")
                .into_bytes()
                .into_iter()
                .chain([0xff, 0xfe])
                .collect(),
            "not_utf8",
        ),
        2 => (format!("[\"text\", {k}]").into_bytes(), "not_an_object"),
        3 => (
            format!("{{\"url\": \"https://bad.example/{k}\"}}").into_bytes(),
            "missing_text",
        ),
        4 => (
            format!("{{\"text\": {k}}}").into_bytes(),
            "wrong_field_type",
        ),
        _ => (b"{\"text\": \"  \\n \"}".to_vec(), "empty_text"),
    }
}

pub fn expected_id(payload: &[u8]) -> String {
    let raw = decode(payload, "t", usize::MAX).expect("corpus article decodes");
    article::process(&Cleaner::builtin(), raw, "t")
        .expect("corpus article cleans")
        .id
}

impl Corpus {
    /// `distinct` articles numbered from `base`; after every `dup_every`-th
    /// one, `copies` back-to-back copies (same text, other source and url);
    /// after every `bad_every`-th one, a bad payload. Checked offline.
    pub fn new(
        base: usize,
        distinct: usize,
        dup_every: usize,
        copies: usize,
        bad_every: usize,
    ) -> Corpus {
        let mut corpus = Corpus {
            base,
            messages: Vec::new(),
            expected_ids: HashSet::new(),
            distinct,
            duplicates: 0,
            bad: 0,
        };
        let cleaner = Cleaner::builtin();
        for i in base..base + distinct {
            let source = ["wire", "daily", "herald"][i % 3];
            let payload = Bytes::from(
                serde_json::json!({
                    "text": synthetic_text(i),
                    "url": format!("https://{source}.example/news/{i}"),
                    "source": source,
                })
                .to_string(),
            );
            let id = expected_id(&payload);
            assert!(corpus.expected_ids.insert(id.clone()), "ids are distinct");
            corpus.messages.push((
                format!("articles.raw.{source}"),
                payload,
                Kind::Distinct(id.clone()),
            ));
            if dup_every > 0 && i % dup_every == 0 {
                for c in 0..copies {
                    let other = format!("mirror{c}");
                    let payload = Bytes::from(
                        serde_json::json!({
                            "text": synthetic_text(i),
                            "url": format!("https://{other}.example/copy/{i}?ref={c}"),
                            "source": other,
                        })
                        .to_string(),
                    );
                    assert_eq!(expected_id(&payload), id, "a copy has the original's id");
                    corpus.messages.push((
                        format!("articles.raw.{other}"),
                        payload,
                        Kind::Duplicate(id.clone()),
                    ));
                    corpus.duplicates += 1;
                }
            }
            if bad_every > 0 && i % bad_every == bad_every - 1 {
                let (payload, code) = bad_payload(corpus.bad);
                let got = decode(&payload, "bad", 1 << 20)
                    .and_then(|raw| article::process(&cleaner, raw, "t"))
                    .map(|a| a.id)
                    .unwrap_err()
                    .code();
                assert_eq!(got, code, "bad payload {} is {code}", corpus.bad);
                corpus.messages.push((
                    "articles.raw.bad".into(),
                    Bytes::from(payload),
                    Kind::Bad(code),
                ));
                corpus.bad += 1;
            }
        }
        corpus
    }

    pub fn len(&self) -> usize {
        self.messages.len()
    }
}

/// Raw stream sequence → what that message is.
pub type Published = HashMap<u64, Kind>;

/// Publishes `corpus.messages[range]` pipelined (acks awaited in windows of
/// 128), recording raw sequences. Each message carries a `Nats-Msg-Id`, so a
/// retry after an unknown outcome (e.g. a server restart) is deduped by the
/// raw stream and returns the first sequence. Bounded by `WAIT`.
pub async fn publish_range(
    js: &jetstream::Context,
    corpus: &Corpus,
    range: std::ops::Range<usize>,
    out: &mut Published,
) {
    let deadline = Instant::now() + WAIT;
    let send = |index: usize| {
        let (subject, payload, _) = &corpus.messages[index];
        let mut headers = async_nats::HeaderMap::new();
        headers.insert(
            async_nats::header::NATS_MESSAGE_ID,
            format!("corpus-{}-{index}", corpus.base).as_str(),
        );
        js.publish_with_headers(subject.clone(), headers, payload.clone())
    };
    let indices: Vec<usize> = range.collect();
    for chunk in indices.chunks(128) {
        let mut acks = Vec::with_capacity(chunk.len());
        for &index in chunk {
            let ack = tokio::time::timeout(Duration::from_secs(5), send(index))
                .await
                .ok()
                .and_then(Result::ok);
            acks.push((index, ack));
        }
        for (index, ack) in acks {
            let mut ack = ack;
            loop {
                let result = match ack.take() {
                    Some(ack) => tokio::time::timeout(Duration::from_secs(10), ack)
                        .await
                        .ok()
                        .and_then(Result::ok),
                    None => tokio::time::timeout(Duration::from_secs(10), async {
                        send(index).await.ok()?.await.ok()
                    })
                    .await
                    .ok()
                    .flatten(),
                };
                match result {
                    Some(ack) => {
                        out.insert(ack.sequence, corpus.messages[index].2.clone());
                        break;
                    }
                    None => {
                        assert!(Instant::now() < deadline, "cannot publish the corpus");
                        tokio::time::sleep(Duration::from_millis(100)).await;
                    }
                }
            }
        }
    }
}

pub async fn publish_corpus(js: &jetstream::Context, corpus: &Corpus) -> Published {
    let mut out = Published::new();
    publish_range(js, corpus, 0..corpus.len(), &mut out).await;
    out
}

// ---------------------------------------------------------------------------
// Checking what the pipeline stored

/// Message count of a stream, or `None` if it cannot be read right now.
pub async fn try_count(js: &jetstream::Context, name: &str) -> Option<u64> {
    tokio::time::timeout(Duration::from_secs(2), async {
        let mut stream = js.get_stream(name).await.ok()?;
        Some(stream.info().await.ok()?.state.messages)
    })
    .await
    .ok()
    .flatten()
}

/// (pending, ack pending) of the durable consumer, or `None` right now.
pub async fn try_backlog(js: &jetstream::Context, settings: &Settings) -> Option<(u64, usize)> {
    tokio::time::timeout(Duration::from_secs(2), async {
        let stream = js.get_stream(&settings.streams.raw_stream).await.ok()?;
        let mut consumer: jetstream::consumer::PullConsumer = stream
            .get_consumer(&settings.consumer.durable_name)
            .await
            .ok()?;
        let info = consumer.info().await.ok()?;
        Some((info.num_pending, info.num_ack_pending))
    })
    .await
    .ok()
    .flatten()
}

/// Every message of a stream (subject, headers, payload), read with direct
/// gets; retried as a whole until it succeeds within `WAIT`.
pub async fn read_all(
    js: &jetstream::Context,
    name: &str,
) -> Vec<jetstream::message::StreamMessage> {
    let deadline = Instant::now() + WAIT;
    loop {
        let attempt = tokio::time::timeout(Duration::from_secs(30), async {
            let mut stream = js.get_stream(name).await.ok()?;
            let info = stream.info().await.ok()?;
            let mut out = Vec::with_capacity(info.state.messages as usize);
            if info.state.messages == 0 {
                return Some(out);
            }
            for seq in info.state.first_sequence..=info.state.last_sequence {
                match stream.get_raw_message(seq).await {
                    Ok(m) => out.push(m),
                    Err(e) if e.to_string().contains("no message found") => {}
                    Err(_) => return None,
                }
            }
            Some(out)
        })
        .await;
        if let Ok(Some(out)) = attempt {
            return out;
        }
        assert!(Instant::now() < deadline, "cannot read stream {name}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// What the pipeline stored, measured against the corpus.
#[derive(Debug, Default, Clone)]
pub struct Outcome {
    /// Messages in the clean stream.
    pub published: usize,
    /// Distinct ids among them.
    pub distinct_ids: usize,
    /// Extra copies of ids already published (0 when exactly once).
    pub duplicates_published: usize,
    /// Expected ids absent from the clean stream.
    pub lost: usize,
    /// Ids in the clean stream the corpus does not have.
    pub unexpected: usize,
    /// Rejects in the dead-letter stream.
    pub rejected: usize,
    /// Bad payloads (by raw sequence) with no reject.
    pub rejects_missing: usize,
    /// Extra rejects for one raw sequence.
    pub rejects_doubled: usize,
    /// Rejects whose reason or sequence is wrong.
    pub rejects_wrong: Vec<String>,
    /// Consumer (pending, ack pending).
    pub backlog: (u64, usize),
}

pub async fn outcome(
    js: &jetstream::Context,
    settings: &Settings,
    corpus: &Corpus,
    published: &Published,
) -> Outcome {
    let clean = read_all(js, &settings.streams.clean_stream).await;
    let mut seen: HashMap<String, usize> = HashMap::new();
    for m in &clean {
        let v: serde_json::Value = serde_json::from_slice(&m.payload).expect("clean JSON");
        let id = v["id"]
            .as_str()
            .expect("clean record has an id")
            .to_string();
        *seen.entry(id).or_default() += 1;
    }
    let mut out = Outcome {
        published: clean.len(),
        distinct_ids: seen.len(),
        duplicates_published: seen.values().map(|n| n - 1).sum(),
        lost: corpus
            .expected_ids
            .iter()
            .filter(|id| !seen.contains_key(*id))
            .count(),
        unexpected: seen
            .keys()
            .filter(|id| !corpus.expected_ids.contains(*id))
            .count(),
        ..Outcome::default()
    };
    let dead = read_all(js, &settings.streams.deadletter_stream).await;
    let rejected_prefix = format!("{}.", settings.streams.rejected_prefix);
    let mut rejects: HashMap<u64, usize> = HashMap::new();
    for m in dead
        .iter()
        .filter(|m| m.subject.starts_with(&rejected_prefix))
    {
        out.rejected += 1;
        let seq: u64 = m
            .headers
            .get(HEADER_RAW_SEQUENCE)
            .and_then(|v| v.as_str().parse().ok())
            .unwrap_or(0);
        let reason = m
            .headers
            .get(HEADER_REJECT_REASON)
            .map(|v| v.as_str().to_string())
            .unwrap_or_default();
        match published.get(&seq) {
            Some(Kind::Bad(code)) if *code == reason => {}
            other => out.rejects_wrong.push(format!(
                "raw seq {seq} rejected as {reason:?}, it is {other:?}"
            )),
        }
        *rejects.entry(seq).or_default() += 1;
    }
    out.rejects_doubled = rejects.values().map(|n| n - 1).sum();
    out.rejects_missing = published
        .iter()
        .filter(|(seq, kind)| matches!(kind, Kind::Bad(_)) && !rejects.contains_key(seq))
        .count();
    out.backlog = try_backlog(js, settings)
        .await
        .unwrap_or((u64::MAX, usize::MAX));
    out
}

/// Waits (bounded by `limit`) until the stored result is complete and the
/// consumer empty, then a little longer for stray redeliveries (more than one
/// ack wait), and returns the final outcome.
pub async fn settle(
    js: &jetstream::Context,
    settings: &Settings,
    corpus: &Corpus,
    published: &Published,
    limit: Duration,
) -> Outcome {
    let deadline = Instant::now() + limit;
    let bad = published
        .values()
        .filter(|k| matches!(k, Kind::Bad(_)))
        .count() as u64;
    loop {
        let clean = try_count(js, &settings.streams.clean_stream).await;
        let dead = try_count(js, &settings.streams.deadletter_stream).await;
        let backlog = try_backlog(js, settings).await;
        if clean >= Some(corpus.distinct as u64) && dead >= Some(bad) && backlog == Some((0, 0)) {
            break;
        }
        if Instant::now() > deadline {
            eprintln!(
                "settle timed out: clean {clean:?}/{} dead {dead:?}/{bad} backlog {backlog:?}",
                corpus.distinct
            );
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(
        Duration::from_secs(settings.consumer.ack_wait_secs) + Duration::from_millis(500),
    )
    .await;
    outcome(js, settings, corpus, published).await
}

/// Asserts exactly-once: every distinct article once, every bad payload
/// rejected once with its reason, nothing else, consumer empty.
pub fn assert_exactly_once(scenario: &str, corpus: &Corpus, out: &Outcome) {
    assert!(
        out.rejects_wrong.is_empty(),
        "{scenario}: wrong rejects: {:?}",
        &out.rejects_wrong[..out.rejects_wrong.len().min(10)]
    );
    assert_eq!(out.lost, 0, "{scenario}: articles lost: {out:?}");
    assert_eq!(
        out.duplicates_published, 0,
        "{scenario}: articles published twice: {out:?}"
    );
    assert_eq!(out.unexpected, 0, "{scenario}: unexpected ids: {out:?}");
    assert_eq!(out.published, corpus.distinct, "{scenario}: {out:?}");
    assert_eq!(
        out.rejects_missing, 0,
        "{scenario}: rejects missing: {out:?}"
    );
    assert_eq!(
        out.rejects_doubled, 0,
        "{scenario}: rejects doubled: {out:?}"
    );
    assert_eq!(out.rejected, corpus.bad, "{scenario}: {out:?}");
    assert_eq!(
        out.backlog,
        (0, 0),
        "{scenario}: consumer not drained: {out:?}"
    );
}

/// One line per scenario, for RELIABILITY.md.
pub fn report(scenario: &str, corpus: &Corpus, out: &Outcome, recover: &str) {
    eprintln!(
        "RELIABILITY | {scenario} | in {} ({} distinct, {} duplicates, {} bad) | published {} | rejected {} | duplicates published {} | lost {} | recover {recover}",
        corpus.len(),
        corpus.distinct,
        corpus.duplicates,
        corpus.bad,
        out.published,
        out.rejected,
        out.duplicates_published,
        out.lost,
    );
}
