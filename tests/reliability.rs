//! Reliability under faults: a worker SIGKILLed again and again, workers
//! racing on the same duplicates, the NATS server restarted, a cluster node
//! killed, a graceful SIGTERM, and a stalled downstream stream. Each scenario
//! feeds known distinct articles, duplicates and bad payloads, injects the
//! fault mid-run, lets it settle and checks exactly-once by content id and
//! raw sequence. Figures are printed as `RELIABILITY | ...` lines:
//!
//! ```text
//! cargo test --release --test reliability -- --nocapture
//! ```
// Each scenario holds the SERIAL lock for its whole run, across awaits, on
// purpose: every #[tokio::test] has its own runtime on its own thread.
#![allow(clippy::await_holding_lock)]

mod common;
#[path = "common/faults.rs"]
mod faults;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_nats::jetstream::stream;
use common::*;
use faults::*;

use article_ingest::server::NatsServer;

/// The fault scenarios run one at a time: each drives several processes on
/// a 2-core machine, and their timing assertions (a kill must land on
/// unacked work) need the CPU they were written for.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn one_at_a_time() -> std::sync::MutexGuard<'static, ()> {
    SERIAL
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn log_dir() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("article-ingest-reliability-")
        .tempdir()
        .expect("temp dir")
}

fn test_settings(url: &str) -> article_ingest::config::Settings {
    let mut settings = fault_settings(url);
    settings.nats.client_name = "reliability-test".into();
    settings
}

/// Clean-stream count, retried until readable (bounded).
async fn clean_count(js: &async_nats::jetstream::Context) -> u64 {
    let deadline = Instant::now() + WAIT;
    loop {
        if let Some(n) = try_count(js, "ARTICLES_CLEAN").await {
            return n;
        }
        assert!(Instant::now() < deadline, "cannot read ARTICLES_CLEAN");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Waits until the clean stream holds more than `than` messages.
async fn wait_clean_above(js: &async_nats::jetstream::Context, than: u64) {
    let started = Instant::now();
    loop {
        if try_count(js, "ARTICLES_CLEAN").await.unwrap_or(0) > than {
            return;
        }
        assert!(
            started.elapsed() < WAIT,
            "nothing new published within {WAIT:?} (stuck at {than})"
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

fn ms(d: Duration) -> u128 {
    d.as_millis()
}

// ---------------------------------------------------------------------------
// 1. SIGKILL

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn worker_sigkilled_six_times_loses_and_doubles_nothing() {
    let _serial = one_at_a_time();
    let server = NatsServer::start().expect("nats-server");
    let settings = test_settings(&server.url());
    let js = jetstream_for(&settings).await;
    ensure(&js, &settings).await;
    // 2,000 distinct + 200 copies + 50 bad payloads.
    let corpus = Arc::new(Corpus::new(0, 2000, 10, 1, 40));
    let started = Instant::now();

    // Feed in chunks while the worker is being killed, faster than it cleans, so
    // that a backlog stands and every kill finds pulled, unacked work.
    let publisher = tokio::spawn({
        let (js, corpus) = (js.clone(), corpus.clone());
        async move {
            let mut published = Published::new();
            let mut at = 0;
            while at < corpus.len() {
                let end = (at + 150).min(corpus.len());
                publish_range(&js, &corpus, at..end, &mut published).await;
                at = end;
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            published
        }
    });

    let dir = log_dir();
    // Small windows keep the worker busy for seconds, so every kill lands on
    // pulled-but-unacked messages (checked below through redeliveries).
    let env = [
        ("ARTICLE_INGEST__WORKER__MAX_IN_FLIGHT", "4"),
        ("ARTICLE_INGEST__CONSUMER__BATCH_SIZE", "8"),
    ];
    let mut worker = WorkerProcess::spawn(&server.url(), &env, &dir.path().join("worker.log"));
    let mut recoveries = Vec::new();
    let mut redeliveries = 0.0;
    const KILLS: usize = 6;
    for kill in 0..KILLS {
        worker.wait_ready().await;
        // Let it publish a good hundred articles, then kill it mid-work.
        let before = clean_count(&js).await;
        wait_clean_above(&js, before + 100).await;
        let at_kill = clean_count(&js).await;
        assert!(
            at_kill < corpus.distinct as u64,
            "kill {kill} must land mid-run ({at_kill} published)"
        );
        redeliveries += worker.metric("article_ingest_redeliveries_total");
        worker.kill();
        let killed = Instant::now();
        worker.restart();
        // Recovered once the new process itself has published something.
        while worker.metric("article_ingest_published_total") < 1.0 {
            assert!(killed.elapsed() < WAIT, "restarted worker never published");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        recoveries.push(killed.elapsed());
        eprintln!(
            "kill {kill}: {at_kill} published at kill, publishing again after {} ms",
            ms(killed.elapsed())
        );
    }
    let published = tokio::time::timeout(WAIT, publisher)
        .await
        .expect("publisher timed out")
        .expect("publisher");
    assert_eq!(published.len(), corpus.len());
    let last_kill = Instant::now();
    let out = settle(&js, &settings, &corpus, &published, WAIT).await;
    let settled = last_kill.elapsed();
    redeliveries += worker.metric("article_ingest_redeliveries_total");
    eprintln!("redelivered messages seen by the workers: {redeliveries}");
    assert!(
        redeliveries > 0.0,
        "the kills must hit unacked work (else they prove nothing)"
    );
    let worst = recoveries.iter().max().copied().unwrap_or_default();
    report(
        "SIGKILL x6, 1 worker",
        &corpus,
        &out,
        &format!(
            "worst {} ms from SIGKILL to the restarted process publishing; settled {} ms after the last (incl. {} s ack wait + 0.5 s grace); total {} ms",
            ms(worst),
            ms(settled),
            settings.consumer.ack_wait_secs,
            ms(started.elapsed())
        ),
    );
    if out.lost > 0 || out.duplicates_published > 0 {
        eprintln!("worker log tail:\n{}", worker.log_tail(60));
    }
    assert_exactly_once("sigkill", &corpus, &out);
}

// ---------------------------------------------------------------------------
// 2. Racing workers

async fn racing_workers(workers: usize, notices: bool) {
    let server = NatsServer::start().expect("nats-server");
    let mut settings = test_settings(&server.url());
    settings.consumer.batch_size = 2;
    settings.worker.max_in_flight = 4;
    settings.dedupe.publish_duplicate_notices = notices;
    let js = jetstream_for(&settings).await;
    ensure(&js, &settings).await;
    // Every article with two back-to-back copies: 300 x 3 + 15 bad.
    let corpus = Corpus::new(10_000, 300, 1, 2, 20);
    let running: Vec<RunningWorker> = (0..workers)
        .map(|_| RunningWorker::start(settings.clone()))
        .collect();
    for w in &running {
        w.wait_ready().await;
    }
    let started = Instant::now();
    let published = publish_corpus(&js, &corpus).await;
    let out = settle(&js, &settings, &corpus, &published, WAIT).await;
    let elapsed = started.elapsed();
    let mut per_worker = Vec::new();
    for w in running {
        per_worker.push(w.stop().await.snapshot());
    }
    eprintln!("per worker: {per_worker:?}");
    report(
        &format!("{workers} workers racing on back-to-back copies"),
        &corpus,
        &out,
        &format!("n/a (all handled in {} ms)", ms(elapsed)),
    );
    assert_exactly_once(&format!("race x{workers}"), &corpus, &out);
    let racing = per_worker
        .iter()
        .filter(|s| s.published > 0 && s.duplicates > 0)
        .count();
    assert!(
        racing >= 2,
        "at least two workers must both publish and drop copies: {per_worker:?}"
    );
    let duplicates: u64 = per_worker.iter().map(|s| s.duplicates).sum();
    assert_eq!(duplicates, corpus.duplicates as u64, "{per_worker:?}");

    if notices {
        // Each id: its copies minus one notice, all naming the one raw
        // message that won, which has no notice itself.
        let dead = read_all(&js, &settings.streams.deadletter_stream).await;
        let mut by_id: HashMap<String, Vec<(u64, String)>> = HashMap::new();
        for m in dead
            .iter()
            .filter(|m| m.subject.starts_with("articles.duplicate."))
        {
            let v: serde_json::Value = serde_json::from_slice(&m.payload).expect("notice JSON");
            by_id
                .entry(v["id"].as_str().unwrap().to_string())
                .or_default()
                .push((
                    v["raw_sequence"].as_u64().unwrap(),
                    v["first_claimed_by"].as_str().unwrap().to_string(),
                ));
        }
        let mut seqs_of: HashMap<String, Vec<u64>> = HashMap::new();
        for (seq, kind) in &published {
            if let Kind::Distinct(id) | Kind::Duplicate(id) = kind {
                seqs_of.entry(id.clone()).or_default().push(*seq);
            }
        }
        assert_eq!(by_id.len(), corpus.distinct, "one notice set per article");
        for (id, notices) in &by_id {
            let all = &seqs_of[id];
            assert_eq!(notices.len(), all.len() - 1, "{id}: {notices:?} of {all:?}");
            let noticed: Vec<u64> = notices.iter().map(|(s, _)| *s).collect();
            let winner: Vec<&u64> = all.iter().filter(|s| !noticed.contains(s)).collect();
            assert_eq!(winner.len(), 1, "{id}: {notices:?} of {all:?}");
            let claimed = format!("ARTICLES_RAW:{}", winner[0]);
            assert!(
                notices.iter().all(|(_, first)| *first == claimed),
                "{id}: notices must name the winner {claimed}: {notices:?}"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_workers_racing_on_the_same_copies_publish_each_once() {
    let _serial = one_at_a_time();
    racing_workers(2, false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_workers_racing_publish_each_once_and_notice_each_copy_once() {
    let _serial = one_at_a_time();
    racing_workers(3, true).await;
}

// ---------------------------------------------------------------------------
// 3. NATS server restart

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn workers_ride_through_a_nats_server_restart() {
    let _serial = one_at_a_time();
    let mut server = NatsServer::start().expect("nats-server");
    let settings = test_settings(&server.url());
    let js = jetstream_for(&settings).await;
    ensure(&js, &settings).await;
    let corpus = Corpus::new(20_000, 1500, 10, 1, 40);
    let first_part = corpus.len() * 2 / 3;
    let mut published = Published::new();
    publish_range(&js, &corpus, 0..first_part, &mut published).await;

    let dir = log_dir();
    let workers: Vec<WorkerProcess> = (0..2)
        .map(|i| {
            WorkerProcess::spawn(
                &server.url(),
                &[],
                &dir.path().join(format!("worker{i}.log")),
            )
        })
        .collect();
    for w in &workers {
        w.wait_ready().await;
    }
    let pids: Vec<u32> = workers.iter().map(WorkerProcess::pid).collect();
    wait_clean_above(&js, 300).await;
    let at_kill = clean_count(&js).await;
    server.kill();
    let down = Instant::now();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let ready_while_down: Vec<bool> = workers.iter().map(WorkerProcess::is_ready).collect();
    server
        .restart()
        .expect("server restarts on the same port and store");
    let up = Instant::now();
    // New input after the restart must flow too. It goes out before waiting
    // for progress: fast workers can drain the first part before the kill,
    // and then only new input shows that publishing resumed (a CI run of
    // ed20e8c waited for a backlog that no longer existed).
    publish_range(&js, &corpus, first_part..corpus.len(), &mut published).await;
    wait_clean_above(&js, at_kill).await;
    let recovered = up.elapsed();
    let out = settle(&js, &settings, &corpus, &published, WAIT).await;
    for (w, pid) in workers.iter().zip(&pids) {
        assert_eq!(w.pid(), *pid, "the worker was not restarted");
        assert!(
            w.is_ready(),
            "worker {pid} still running and ready; log:\n{}",
            w.log_tail(30)
        );
    }
    eprintln!("/readyz while the server was down: {ready_while_down:?}");
    report(
        "NATS server restart (down 1.5 s), 2 workers",
        &corpus,
        &out,
        &format!(
            "{} ms after the server was back ({} ms after it died) publishing resumed; {at_kill} of the first {first_part} were out at the kill",
            ms(recovered),
            ms(up.duration_since(down) + recovered)
        ),
    );
    if out.lost > 0 || out.duplicates_published > 0 {
        eprintln!("worker log tail:\n{}", workers[0].log_tail(60));
    }
    assert_exactly_once("server restart", &corpus, &out);
}

// ---------------------------------------------------------------------------
// 4. Three-node cluster, one node killed

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cluster_node_killed_workers_fail_over() {
    let _serial = one_at_a_time();
    let mut cluster = Cluster::start();
    let deadline = Instant::now() + WAIT;
    while !(0..3).all(|i| cluster.has_meta_leader(i)) {
        assert!(
            Instant::now() < deadline,
            "cluster never elected a JetStream meta leader:\n{}",
            cluster.log_tail(0, 30)
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let mut settings = test_settings(&cluster.urls());
    settings.streams.replicas = 3;
    let js = jetstream_for(&settings).await;
    let deadline = Instant::now() + WAIT;
    loop {
        match tokio::time::timeout(
            Duration::from_secs(15),
            article_ingest::nats::ensure_topology(&js, &settings),
        )
        .await
        {
            Ok(Ok(_)) => break,
            other => {
                let e = other
                    .map(|r| r.err().map(|e| format!("{e:#}")))
                    .ok()
                    .flatten();
                assert!(
                    Instant::now() < deadline,
                    "cannot create R3 topology: {e:?}"
                );
                tokio::time::sleep(Duration::from_millis(300)).await;
            }
        }
    }
    let corpus = Corpus::new(30_000, 1200, 10, 1, 30);
    let published = publish_corpus(&js, &corpus).await;

    let dir = log_dir();
    let env = [
        ("ARTICLE_INGEST__STREAMS__REPLICAS", "3"),
        // Small windows: the run lasts long enough to kill a node mid-way.
        ("ARTICLE_INGEST__WORKER__MAX_IN_FLIGHT", "4"),
        ("ARTICLE_INGEST__CONSUMER__BATCH_SIZE", "8"),
    ];
    let workers: Vec<WorkerProcess> = (0..2)
        .map(|i| {
            WorkerProcess::spawn(
                &cluster.urls(),
                &env,
                &dir.path().join(format!("worker{i}.log")),
            )
        })
        .collect();
    for w in &workers {
        w.wait_ready().await;
    }
    wait_clean_above(&js, 100).await;
    let victim = (0..3)
        .max_by_key(|i| cluster.connections_named(*i, "article-ingest"))
        .unwrap();
    let on_victim = cluster.connections_named(victim, "article-ingest");
    let at_kill = clean_count(&js).await;
    assert!(at_kill < corpus.distinct as u64, "kill lands mid-run");
    cluster.kill(victim);
    let killed = Instant::now();
    // Counters right after the kill; at most max_in_flight (4) handlings per
    // worker can still complete from before it, so "resumed" is beyond that.
    let before: Vec<f64> = workers
        .iter()
        .map(|w| w.metric("article_ingest_published_total") + 4.0)
        .collect();
    // Recovered once every worker (the one on the dead node too) publishes again.
    loop {
        let resumed = workers
            .iter()
            .zip(&before)
            .all(|(w, b)| w.metric("article_ingest_published_total") > *b);
        if resumed || clean_count(&js).await >= corpus.distinct as u64 {
            break;
        }
        assert!(
            killed.elapsed() < WAIT,
            "workers did not resume after the node died"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let recovered = killed.elapsed();
    let out = settle(&js, &settings, &corpus, &published, Duration::from_secs(90)).await;
    report(
        &format!(
            "3-node cluster, R3, node {} killed ({} of 2 workers on it)",
            cluster.name(victim),
            on_victim
        ),
        &corpus,
        &out,
        &format!(
            "{} ms after the kill every worker published again",
            ms(recovered)
        ),
    );
    if out.lost > 0 || out.duplicates_published > 0 || out.backlog != (0, 0) {
        for w in &workers {
            eprintln!("worker log tail:\n{}", w.log_tail(40));
        }
    }
    assert_exactly_once("cluster", &corpus, &out);
}

// ---------------------------------------------------------------------------
// 5. SIGTERM

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_drains_exits_zero_and_nothing_published_comes_back() {
    let _serial = one_at_a_time();
    let server = NatsServer::start().expect("nats-server");
    let settings = test_settings(&server.url());
    let js = jetstream_for(&settings).await;
    ensure(&js, &settings).await;
    let corpus = Corpus::new(40_000, 1500, 10, 1, 40);
    let published = publish_corpus(&js, &corpus).await;

    let dir = log_dir();
    const DRAIN_SECS: u64 = 10;
    let env = [
        ("ARTICLE_INGEST__WORKER__DRAIN_TIMEOUT_SECS", "10"),
        // Small buffers: nothing waits long enough to pass the ack wait.
        ("ARTICLE_INGEST__WORKER__MAX_IN_FLIGHT", "32"),
        ("ARTICLE_INGEST__CONSUMER__BATCH_SIZE", "32"),
    ];
    let mut first = WorkerProcess::spawn(&server.url(), &env, &dir.path().join("first.log"));
    first.wait_ready().await;
    wait_clean_above(&js, 300).await;
    first.term();
    let termed = Instant::now();
    let status = first
        .wait_exit(Duration::from_secs(DRAIN_SECS + 10))
        .await
        .expect("worker exits after SIGTERM within drain + flush timeouts");
    let drain = termed.elapsed();
    assert!(
        status.success(),
        "exit status {status:?}; log:\n{}",
        first.log_tail(20)
    );
    assert!(
        drain < Duration::from_secs(DRAIN_SECS + 5),
        "took {drain:?}"
    );
    let log = first.log_text();
    assert!(log.contains("shutting down"), "graceful path taken");
    let first_published = log_field(&log, "worker stopped", "published").expect("final counters");

    let partial = outcome(&js, &settings, &corpus, &published).await;
    assert_eq!(partial.duplicates_published, 0, "{partial:?}");
    assert_eq!(
        partial.published as u64, first_published,
        "every publish the first worker counted is stored, once"
    );
    assert!(
        partial.published < corpus.distinct,
        "SIGTERM landed mid-run"
    );

    let second = WorkerProcess::spawn(&server.url(), &env, &dir.path().join("second.log"));
    second.wait_ready().await;
    let out = settle(&js, &settings, &corpus, &published, WAIT).await;
    let second_published = second.metric("article_ingest_published_total") as u64;
    report(
        "SIGTERM mid-run, then a second worker",
        &corpus,
        &out,
        &format!(
            "exit 0 after {} ms drain; first published {first_published}, second {second_published}",
            ms(drain)
        ),
    );
    assert_exactly_once("sigterm", &corpus, &out);
    assert_eq!(
        first_published + second_published,
        corpus.distinct as u64,
        "the second worker re-published nothing the first had finished"
    );
}

// ---------------------------------------------------------------------------
// 6. Stalled downstream

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn full_clean_stream_stalls_without_loss_then_drains_exactly_once() {
    let _serial = one_at_a_time();
    let server = NatsServer::start().expect("nats-server");
    let settings = test_settings(&server.url());
    let js = jetstream_for(&settings).await;
    const ROOM: i64 = 100;
    let full = stream::Config {
        name: "ARTICLES_CLEAN".into(),
        subjects: vec!["articles.clean.>".into()],
        max_messages: ROOM,
        discard: stream::DiscardPolicy::New,
        storage: stream::StorageType::File,
        duplicate_window: Duration::from_secs(120),
        ..Default::default()
    };
    tokio::time::timeout(WAIT, js.create_stream(full.clone()))
        .await
        .expect("create timed out")
        .expect("create the small clean stream");
    ensure(&js, &settings).await;
    let corpus = Corpus::new(50_000, 400, 10, 1, 40);
    let published = publish_corpus(&js, &corpus).await;

    let dir = log_dir();
    let worker = WorkerProcess::spawn(&server.url(), &[], &dir.path().join("worker.log"));
    worker.wait_ready().await;
    let deadline = Instant::now() + WAIT;
    while clean_count(&js).await < ROOM as u64
        || worker.metric("article_ingest_errors_total") < 100.0
    {
        assert!(Instant::now() < deadline, "clean stream never filled");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Stalled: watch it for a while.
    let rss_start = worker.rss_kib().expect("rss");
    let mut rss_max = rss_start;
    let errors_start = worker.metric("article_ingest_errors_total");
    let stall = Instant::now();
    while stall.elapsed() < Duration::from_secs(4) {
        rss_max = rss_max.max(worker.rss_kib().expect("rss"));
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let errors_end = worker.metric("article_ingest_errors_total");
    let in_flight = worker.metric("article_ingest_in_flight");
    assert_eq!(
        clean_count(&js).await,
        ROOM as u64,
        "nothing over the limit"
    );
    let (pending, ack_pending) = try_backlog(&js, &settings).await.expect("backlog");
    let unpublished = corpus.distinct as u64 - ROOM as u64;
    eprintln!(
        "stalled: rss {rss_start} -> max {rss_max} KiB, errors {errors_start} -> {errors_end}, in flight {in_flight}, backlog ({pending}, {ack_pending})"
    );
    assert!(
        pending + ack_pending as u64 >= unpublished,
        "articles that could not be published must stay unacked: ({pending}, {ack_pending}) < {unpublished}"
    );
    assert!(
        errors_end > errors_start,
        "publish failures keep being counted"
    );
    const RSS_BOUND_KIB: u64 = 128 * 1024;
    assert!(
        rss_max < RSS_BOUND_KIB,
        "RSS {rss_max} KiB over {RSS_BOUND_KIB}"
    );
    assert!(
        rss_max < rss_start + 32 * 1024,
        "RSS grows while stalled: {rss_start} -> {rss_max} KiB"
    );

    // Open the tap.
    let mut open = full;
    open.max_messages = -1;
    tokio::time::timeout(WAIT, js.update_stream(open))
        .await
        .expect("update timed out")
        .expect("raise the limit");
    let opened = Instant::now();
    let out = settle(&js, &settings, &corpus, &published, WAIT).await;
    report(
        "clean stream full (max_msgs 100, discard new) for 4 s, then raised",
        &corpus,
        &out,
        &format!(
            "drained {} ms after the limit was raised (incl. 2.5 s grace); RSS max {} MiB",
            ms(opened.elapsed()),
            rss_max / 1024
        ),
    );
    assert_exactly_once("stalled downstream", &corpus, &out);
}

// ---------------------------------------------------------------------------
// Readiness while disconnected (metrics.rs contract)

/// `/readyz` "is 200 only while the worker is connected and its consumer
/// bound" (src/metrics.rs). Seen in the server-restart scenario: it stays 200
/// while the server is down, because `stats.ready` is set once after the
/// topology is ensured and cleared only at shutdown.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readyz_is_503_while_nats_is_down_and_200_again_after() {
    let _serial = one_at_a_time();
    let mut server = NatsServer::start().expect("nats-server");
    let dir = log_dir();
    let worker = WorkerProcess::spawn(&server.url(), &[], &dir.path().join("worker.log"));
    worker.wait_ready().await;
    server.kill();
    let deadline = Instant::now() + Duration::from_secs(10);
    while worker.is_ready() {
        assert!(
            Instant::now() < deadline,
            "/readyz still 200 ten seconds after the server died"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    server.restart().expect("restart");
    worker.wait_ready().await;
}

/// SIGTERM while the worker is still connecting (here: to a port that
/// accepts TCP but never speaks NATS) should be the same graceful exit 0.
/// Today the process dies of the signal (status 143): the handlers are only
/// installed when `shutdown_signal()` is first polled, after connect and
/// ensure_topology (src/main.rs `run_worker`, src/worker.rs `run`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_while_connecting_exits_zero() {
    let _serial = one_at_a_time();
    let silent = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("nats://{}", silent.local_addr().unwrap());
    let dir = log_dir();
    let mut worker = WorkerProcess::spawn(&url, &[], &dir.path().join("worker.log"));
    tokio::time::sleep(Duration::from_millis(700)).await;
    worker.term();
    let status = worker
        .wait_exit(Duration::from_secs(15))
        .await
        .expect("exits after SIGTERM");
    assert!(status.success(), "exit status {status:?}");
}
