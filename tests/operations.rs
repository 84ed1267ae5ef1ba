//! Operations: the binary's errors, JSON logs, SIGTERM, and the metrics and
//! health endpoints, against real nats-servers started here.

mod common;

use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::*;

use article_ingest::bench::{http_get, metric};
use article_ingest::server::{free_port, NatsServer};
use article_ingest::stats::Stats;

const BIN: &str = env!("CARGO_BIN_EXE_article-ingest");

fn wait_exit(child: &mut std::process::Child, within: Duration) -> std::process::ExitStatus {
    let deadline = Instant::now() + within;
    loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            return status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("process did not exit within {within:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn unreachable_nats_fails_fast_with_what_to_do() {
    let port = free_port().unwrap();
    let mut child = Command::new(BIN)
        .args(["run", "--nats-url", &format!("nats://127.0.0.1:{port}")])
        .env("ARTICLE_INGEST__NATS__CONNECT_TIMEOUT_SECS", "1")
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let status = wait_exit(&mut child, Duration::from_secs(20));
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
    assert_eq!(status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("error: cannot connect to NATS at nats://127.0.0.1:"),
        "{stderr}"
    );
    assert!(stderr.contains("check that the server runs"), "{stderr}");
}

#[test]
fn bad_config_names_the_field() {
    let output = Command::new(BIN)
        .arg("run")
        .env("ARTICLE_INGEST__WORKER__MAX_INFLIGHT", "4")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr.contains("unknown setting worker.max_inflight"),
        "{stderr}"
    );

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bad.toml");
    std::fs::write(&file, "[streams]\nreplicas = 0\n").unwrap();
    let output = Command::new(BIN)
        .args(["run", "--config"])
        .arg(&file)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr.contains("streams.replicas"), "{stderr}");
}

#[test]
fn every_command_has_help_with_an_example() {
    for command in ["run", "clean", "feed", "demo", "bench"] {
        let output = Command::new(BIN)
            .args([command, "--help"])
            .output()
            .unwrap();
        let help = String::from_utf8_lossy(&output.stdout);
        assert!(output.status.success(), "{command}");
        assert!(
            help.contains("article-ingest ") && help.to_lowercase().contains("example"),
            "{command} --help lacks an example:\n{help}"
        );
    }
}

#[test]
fn clean_json_prints_one_line_per_input_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("in.jsonl");
    let good = serde_json::json!({"text": synthetic_text(1), "source": "x"}).to_string();
    std::fs::write(&file, format!("{good}\n{{\"text\": 5}}\n\n{good}\n")).unwrap();
    let output = Command::new(BIN)
        .args(["clean", "--json"])
        .arg(&file)
        .output()
        .unwrap();
    assert!(output.status.success());
    let lines: Vec<serde_json::Value> = String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 3);
    assert_eq!(lines[0]["id"].as_str().unwrap().len(), 64);
    assert_eq!(lines[1]["reason"], "wrong_field_type");
    assert_eq!(lines[0]["id"], lines[2]["id"]);
}

#[test]
fn sigterm_drains_and_exits_zero_with_json_logs() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let server = NatsServer::start().expect("nats-server");
    let settings = settings_for(&server);
    let js = runtime.block_on(async {
        let js = jetstream_for(&settings).await;
        ensure(&js, &settings).await;
        for i in 0..200 {
            publish(&js, "articles.raw.news", synthetic_article(i, "news")).await;
        }
        js
    });
    let mut child = Command::new(BIN)
        .args(["run", "--nats-url", &server.url(), "--log-format", "json"])
        .env("ARTICLE_INGEST__WORKER__SUMMARY_INTERVAL_SECS", "1")
        .env("RUST_LOG", "info")
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    runtime.block_on(wait_for_async("all 200 published", || {
        let js = js.clone();
        async move { stream_count(&js, "ARTICLES_CLEAN").await == 200 }
    }));
    std::thread::sleep(Duration::from_millis(1500)); // one summary line
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let status = wait_exit(&mut child, Duration::from_secs(30));
    assert_eq!(status.code(), Some(0));
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
    let events: Vec<serde_json::Value> = stderr
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|_| panic!("not JSON: {l}")))
        .collect();
    let find = |message: &str| {
        events
            .iter()
            .find(|e| e["message"] == message)
            .unwrap_or_else(|| panic!("no {message:?} in {stderr}"))
            .clone()
    };
    assert_eq!(find("worker started")["level"], "INFO");
    let summary = find("summary");
    assert!(summary["received"].as_u64().is_some() && summary["rate_per_sec"].is_number());
    assert_eq!(find("shutdown requested")["signal"], "SIGTERM");
    let stopped = find("worker stopped");
    assert_eq!(stopped["published"], 200);
    assert_eq!(stopped["received"], 200);
    assert!(events.iter().all(|e| e["level"] != "ERROR"), "{stderr}");
    runtime.block_on(async {
        assert_eq!(consumer_backlog(&js, &settings).await, (0, 0));
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_count_what_was_fed_and_readiness_follows_nats() {
    let mut server = NatsServer::start().expect("nats-server");
    let settings = settings_for(&server);
    let js = jetstream_for(&settings).await;
    ensure(&js, &settings).await;
    for i in 0..30 {
        publish(&js, "articles.raw.news", synthetic_article(i, "news")).await;
    }
    for i in 0..10 {
        publish(&js, "articles.raw.copy", synthetic_article(i, "copy")).await;
    }
    for bad in [&b"{\"text\": 1}"[..], b"\xff\xfe", b"{broken"] {
        publish(&js, "articles.raw.bad", bad.to_vec()).await;
    }

    let stats = Arc::new(Stats::default());
    let addr = article_ingest::metrics::serve("127.0.0.1:0", stats.clone())
        .await
        .unwrap()
        .to_string();
    assert!(
        http_get(&addr, "/readyz").await.is_err(),
        "not ready before start"
    );
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let worker = tokio::spawn(article_ingest::worker::run(
        settings.clone(),
        stats.clone(),
        async move {
            let _ = stopped.await;
        },
    ));
    let s = stats.clone();
    wait_for("43 handled", move || {
        let x = s.snapshot();
        x.published + x.duplicates + x.rejected == 43
    })
    .await;
    let body = http_get(&addr, "/metrics").await.unwrap();
    assert_eq!(metric(&body, "article_ingest_received_total"), 43.0);
    assert_eq!(metric(&body, "article_ingest_published_total"), 30.0);
    assert_eq!(metric(&body, "article_ingest_duplicates_total"), 10.0);
    assert_eq!(
        metric(
            &body,
            "article_ingest_rejected_total{reason=\"wrong_field_type\"}"
        ),
        1.0
    );
    assert_eq!(
        metric(&body, "article_ingest_rejected_total{reason=\"not_utf8\"}"),
        1.0
    );
    assert_eq!(
        metric(
            &body,
            "article_ingest_rejected_total{reason=\"invalid_json\"}"
        ),
        1.0
    );
    assert_eq!(
        metric(&body, "article_ingest_processing_seconds_count"),
        43.0
    );
    assert_eq!(metric(&body, "article_ingest_in_flight"), 0.0);
    assert_eq!(http_get(&addr, "/healthz").await.unwrap(), "ok\n");
    assert_eq!(http_get(&addr, "/readyz").await.unwrap(), "ready\n");

    // Losing the server makes the worker unready; getting it back, ready again.
    server.kill();
    let probe = addr.clone();
    wait_for_async("/readyz 503", move || {
        let probe = probe.clone();
        async move { http_get(&probe, "/readyz").await.is_err() }
    })
    .await;
    assert_eq!(http_get(&addr, "/healthz").await.unwrap(), "ok\n");
    server.restart().unwrap();
    let probe = addr.clone();
    wait_for_async("/readyz 200 again", move || {
        let probe = probe.clone();
        async move { http_get(&probe, "/readyz").await.is_ok() }
    })
    .await;
    let _ = stop.send(());
    tokio::time::timeout(WAIT, worker)
        .await
        .expect("worker stops")
        .unwrap()
        .unwrap();
}
