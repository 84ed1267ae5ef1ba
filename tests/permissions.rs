//! Runs the real worker against a nats-server that uses
//! deploy/nats/permissions.conf, so the least-privilege user provably has
//! every permission the worker needs and the scraper user no more than it
//! should.

use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::Duration;

use article_ingest::config::Settings;
use article_ingest::server::NatsServer;
use article_ingest::stats::Stats;
use article_ingest::worker;
use async_nats::jetstream;
use bytes::Bytes;
use tokio::time::timeout;

const WORKER_USER: &str = "article-ingest";
const WORKER_PASSWORD: &str = "worker-test-password";
const SCRAPER_USER: &str = "scraper";
const SCRAPER_PASSWORD: &str = "scraper-test-password";
const ADMIN_USER: &str = "admin";
const ADMIN_PASSWORD: &str = "admin-test-password";

const WAIT: Duration = Duration::from_secs(20);

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A nats-server whose only authorization is deploy/nats/permissions.conf,
/// with the passwords it expects defined ahead of it and its log in a file.
struct Server {
    nats: NatsServer,
    log: PathBuf,
    _dir: tempfile::TempDir,
}

fn start_server() -> Server {
    let dir = tempfile::tempdir().unwrap();
    let permissions = std::fs::read_to_string(repo().join("deploy/nats/permissions.conf"))
        .expect("deploy/nats/permissions.conf");
    // Variables do not cross into included files, so the file is copied in
    // after the test passwords. Listen address, port and store come from
    // NatsServer's command line.
    let config = format!(
        "WORKER_PASSWORD: \"{WORKER_PASSWORD}\"\nSCRAPER_PASSWORD: \"{SCRAPER_PASSWORD}\"\nADMIN_PASSWORD: \"{ADMIN_PASSWORD}\"\n\n{permissions}"
    );
    let config_path = dir.path().join("server.conf");
    std::fs::write(&config_path, config).unwrap();
    let log = dir.path().join("server.log");
    let nats = NatsServer::start_with(vec![
        "--config".into(),
        config_path.display().to_string(),
        "--log".into(),
        log.display().to_string(),
    ])
    .expect("nats-server starts with deploy/nats/permissions.conf");
    Server {
        nats,
        log,
        _dir: dir,
    }
}

fn server_log(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

fn violations(log: &str) -> Vec<String> {
    log.lines()
        .filter(|l| l.contains("Violation"))
        .map(String::from)
        .collect()
}

fn worker_settings(url: &str) -> Settings {
    let mut settings = Settings::load_from(
        None,
        vec![
            ("NATS_URL".to_string(), url.to_string()),
            // Every claim goes to the bucket (no in-process cache), so reading
            // another worker's claim is exercised too.
            ("ARTICLE_INGEST__DEDUPE__CACHE_ENTRIES".into(), "0".into()),
            (
                "ARTICLE_INGEST__DEDUPE__PUBLISH_DUPLICATE_NOTICES".into(),
                "true".into(),
            ),
            // The summary task reads the consumer's info.
            (
                "ARTICLE_INGEST__WORKER__SUMMARY_INTERVAL_SECS".into(),
                "1".into(),
            ),
            (
                "ARTICLE_INGEST__WORKER__DRAIN_TIMEOUT_SECS".into(),
                "5".into(),
            ),
            (
                "ARTICLE_INGEST__NATS__REQUEST_TIMEOUT_SECS".into(),
                "3".into(),
            ),
        ],
    )
    .unwrap();
    settings.nats.user = WORKER_USER.into();
    settings.nats.password = WORKER_PASSWORD.into();
    settings
}

async fn connect(url: &str, user: &str, password: &str) -> async_nats::Client {
    timeout(
        WAIT,
        async_nats::ConnectOptions::with_user_and_password(user.into(), password.into())
            .connect(url),
    )
    .await
    .unwrap_or_else(|_| panic!("timed out connecting as {user}"))
    .unwrap_or_else(|e| panic!("cannot connect as {user}: {e}"))
}

fn seed(name: &str) -> Bytes {
    Bytes::from(std::fs::read(repo().join("tests/fixtures/seeds").join(name)).unwrap())
}

struct Running {
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<anyhow::Result<()>>,
}

fn spawn_worker(settings: Settings, stats: Arc<Stats>) -> Running {
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(worker::run(settings, stats, async move {
        let _ = stopped.await;
    }));
    Running { stop, task }
}

async fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    timeout(WAIT, async {
        while !done() {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await
    .unwrap_or_else(|_| panic!("timed out waiting for {what}"));
}

async fn stream_messages(js: &jetstream::Context, name: &str) -> Vec<(String, Bytes)> {
    let mut stream = timeout(WAIT, js.get_stream(name))
        .await
        .expect("timed out reading the stream")
        .unwrap_or_else(|e| panic!("cannot read stream {name}: {e}"));
    let last = timeout(WAIT, stream.info())
        .await
        .expect("timed out")
        .unwrap()
        .state
        .last_sequence;
    let mut messages = Vec::new();
    for sequence in 1..=last {
        let message = timeout(WAIT, stream.get_raw_message(sequence))
            .await
            .expect("timed out getting a message")
            .unwrap();
        messages.push((message.subject.to_string(), message.payload));
    }
    messages
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn least_privilege_users_are_enough_for_the_worker_and_no_more_for_scrapers() {
    let server = start_server();
    let url = server.nats.url();

    // The first worker creates the streams, the bucket and the consumer; the
    // second finds and binds them. One Stats counts both.
    let stats = Arc::new(Stats::default());
    let first = spawn_worker(worker_settings(&url), stats.clone());
    wait_until("the first worker to be ready", || stats.ready.load(Relaxed)).await;
    let second = spawn_worker(worker_settings(&url), stats.clone());

    // The scraper publishes raw articles: two seeds, one of them twice (a
    // duplicate), and a payload the worker rejects.
    let scraper = connect(&url, SCRAPER_USER, SCRAPER_PASSWORD).await;
    let scraper_js = jetstream::new(scraper.clone());
    let raw = [
        ("articles.raw.seeds", seed("000_39a025f67963c445.txt")),
        ("articles.raw.seeds", seed("001_09bcae2d0884f6e2.txt")),
        ("articles.raw.seeds", seed("001_09bcae2d0884f6e2.txt")),
        ("articles.raw.seeds", Bytes::from_static(b"[1, 2, 3]")),
    ];
    // Let the second worker bind before publishing, so both pull.
    tokio::time::sleep(Duration::from_millis(500)).await;
    for (subject, payload) in raw {
        timeout(WAIT, async {
            scraper_js
                .publish(subject, payload)
                .await
                .expect("the scraper may publish raw articles")
                .await
                .expect("ARTICLES_RAW stores them")
        })
        .await
        .expect("timed out publishing a raw article");
    }
    wait_until("all four raw articles to be handled", || {
        let s = stats.snapshot();
        s.published == 2 && s.duplicates == 1 && s.rejected == 1
    })
    .await;
    let s = stats.snapshot();
    assert_eq!(
        s.errors, 0,
        "a worker failed a step (missing permission?): {s:?}"
    );

    // Both workers stop cleanly.
    for running in [first, second] {
        let _ = running.stop.send(());
        timeout(WAIT, running.task)
            .await
            .expect("timed out stopping a worker")
            .expect("the worker task panicked")
            .expect("the worker returned an error");
    }

    // The clean articles are in ARTICLES_CLEAN, the reject and the duplicate
    // notice in ARTICLES_DEADLETTER (read as the admin user).
    let admin = connect(&url, ADMIN_USER, ADMIN_PASSWORD).await;
    let admin_js = jetstream::new(admin.clone());
    let clean = stream_messages(&admin_js, "ARTICLES_CLEAN").await;
    assert_eq!(clean.len(), 2, "{clean:?}");
    for (subject, payload) in &clean {
        assert!(subject.starts_with("articles.clean."), "{subject}");
        let record: serde_json::Value = serde_json::from_slice(payload).unwrap();
        assert!(
            record["text"].as_str().is_some_and(|t| !t.is_empty()),
            "{record}"
        );
    }
    let dead: Vec<String> = stream_messages(&admin_js, "ARTICLES_DEADLETTER")
        .await
        .into_iter()
        .map(|(subject, _)| subject)
        .collect();
    assert!(
        dead.iter().any(|s| s.starts_with("articles.rejected.")),
        "{dead:?}"
    );
    assert!(
        dead.iter().any(|s| s.starts_with("articles.duplicate.")),
        "{dead:?}"
    );

    // The worker needed nothing it was not given.
    let log = server_log(&server.log);
    assert!(
        log.contains("Server is ready"),
        "the server log is not where the test reads it:\n{log}"
    );
    let found = violations(&log);
    assert!(
        found.is_empty(),
        "permission violations while the worker ran:\n{}",
        found.join("\n")
    );

    // A scraper cannot forge clean articles: the publish gets no ack, the
    // server logs the violation, and ARTICLES_CLEAN is unchanged.
    let forged = timeout(Duration::from_secs(10), async {
        scraper_js
            .publish(
                "articles.clean.x",
                Bytes::from_static(b"{\"text\":\"forged\"}"),
            )
            .await?
            .await
            .map_err(async_nats::Error::from)
    })
    .await;
    assert!(
        !matches!(forged, Ok(Ok(_))),
        "the scraper published to articles.clean.x: {forged:?}"
    );
    wait_until("the server to log the scraper's violation", || {
        violations(&server_log(&server.log)).iter().any(|l| {
            l.contains(&format!("user:{SCRAPER_USER}\""))
                && l.contains("Publish Violation")
                && l.contains("\"articles.clean.x\"")
        })
    })
    .await;
    assert_eq!(stream_messages(&admin_js, "ARTICLES_CLEAN").await.len(), 2);
    let unexpected: Vec<String> = violations(&server_log(&server.log))
        .into_iter()
        .filter(|l| !l.contains("\"articles.clean.x\""))
        .collect();
    assert!(unexpected.is_empty(), "{}", unexpected.join("\n"));

    // Wrong credentials are refused: authorization is really on.
    let refused = timeout(
        WAIT,
        async_nats::ConnectOptions::with_user_and_password(SCRAPER_USER.into(), "wrong".into())
            .connect(&url),
    )
    .await;
    assert!(
        !matches!(refused, Ok(Ok(_))),
        "a wrong password was accepted"
    );
}
