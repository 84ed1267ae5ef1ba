//! End to end against a real nats-server started by each test.

mod common;

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use bytes::Bytes;
use common::*;

use article_ingest::article;
use article_ingest::clean::Cleaner;
use article_ingest::demo::{seed_payload, RESCRAPES, SEEDS};
use article_ingest::payload::decode;
use article_ingest::server::NatsServer;
use article_ingest::sink::{HEADER_RAW_SEQUENCE, HEADER_REJECT_REASON};

fn expected_id(payload: &[u8]) -> String {
    let raw = decode(payload, "seeds", usize::MAX).expect("seed decodes");
    article::process(&Cleaner::builtin(), raw, "t")
        .expect("seed cleans")
        .id
}

fn ids_of(messages: &[async_nats::jetstream::message::StreamMessage]) -> Vec<String> {
    messages
        .iter()
        .map(|m| {
            let v: serde_json::Value = serde_json::from_slice(&m.payload).expect("clean JSON");
            let id = v["id"].as_str().expect("id").to_string();
            let header = m.headers.get("Nats-Msg-Id").map(|h| h.as_str().to_string());
            assert_eq!(header.as_deref(), Some(id.as_str()), "Nats-Msg-Id = id");
            id
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seeds_come_out_clean_and_rescrapes_are_duplicates() {
    let server = NatsServer::start().expect("nats-server");
    let settings = settings_for(&server);
    let worker = RunningWorker::start(settings.clone());
    worker.wait_ready().await;
    let js = jetstream_for(&settings).await;

    let mut expected = HashSet::new();
    for (name, text) in SEEDS {
        let payload = seed_payload(name, text);
        expected.insert(expected_id(&payload));
        publish(&js, "articles.raw.seeds", payload).await;
    }
    assert_eq!(expected.len(), 5, "the five seeds have distinct ids");
    let stats = worker.stats.clone();
    wait_for("5 published", || stats.snapshot().published == 5).await;
    for (name, original, text) in RESCRAPES {
        let payload = seed_payload(name, text);
        let original_text = SEEDS.iter().find(|(n, _)| *n == original).unwrap().1;
        assert_eq!(
            expected_id(&payload),
            expected_id(&seed_payload(original, original_text)),
            "{name} must get the id of {original}"
        );
        publish(&js, "articles.raw.seeds", payload).await;
    }
    wait_for("3 duplicates", || stats.snapshot().duplicates == 3).await;

    let clean = stored(&js, "ARTICLES_CLEAN").await;
    let ids: HashSet<String> = ids_of(&clean).into_iter().collect();
    assert_eq!(clean.len(), 5);
    assert_eq!(ids, expected);
    for message in &clean {
        assert_eq!(message.subject.as_str(), "articles.clean.seeds");
        let v: serde_json::Value = serde_json::from_slice(&message.payload).unwrap();
        // 004 has no headline line: its title is null and its first line opens the body.
        assert!(v["title"].is_null() || !v["title"].as_str().unwrap().is_empty());
        assert!(v["text"].as_str().unwrap().len() > 500);
        assert_eq!(v["source"], "seeds");
        assert!(v["url"]
            .as_str()
            .unwrap()
            .starts_with("https://example.org/seeds/"));
        assert!(v["cleaned_at"].is_string());
    }
    let s = worker.stop().await.snapshot();
    assert_eq!(
        (s.received, s.published, s.duplicates, s.rejected),
        (8, 5, 3, 0)
    );
    assert_eq!(consumer_backlog(&js, &settings).await, (0, 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_workers_never_publish_an_article_twice() {
    let server = NatsServer::start().expect("nats-server");
    let mut settings = settings_for(&server);
    // Small pulls, so that one worker cannot take the whole backlog at once.
    settings.consumer.batch_size = 8;
    settings.worker.max_in_flight = 8;
    let js = jetstream_for(&settings).await;
    ensure(&js, &settings).await;
    // Both workers pulling before the first article arrives: a fast worker could
    // otherwise drain the whole backlog before the other has connected.
    let a = RunningWorker::start(settings.clone());
    let b = RunningWorker::start(settings.clone());
    a.wait_ready().await;
    b.wait_ready().await;
    // Each article three times in a row, so its copies reach both workers at once.
    const DISTINCT: usize = 150;
    for i in 0..DISTINCT {
        for source in ["alpha", "beta", "gamma"] {
            // Same text, different source and url: the same article.
            let payload = serde_json::json!({"text": synthetic_text(i), "source": source, "url": format!("https://{source}.example/{i}")});
            publish(&js, &format!("articles.raw.{source}"), payload.to_string()).await;
        }
    }
    let (sa, sb) = (a.stats.clone(), b.stats.clone());
    wait_for("all 450 handled", || {
        let (x, y) = (sa.snapshot(), sb.snapshot());
        x.published + x.duplicates + y.published + y.duplicates == 3 * DISTINCT as u64
    })
    .await;
    let (x, y) = (a.stop().await.snapshot(), b.stop().await.snapshot());
    assert!(
        x.received > 0 && y.received > 0,
        "both workers took part: {x:?} {y:?}"
    );
    assert_eq!(x.published + y.published, DISTINCT as u64);
    assert_eq!(x.duplicates + y.duplicates, 2 * DISTINCT as u64);

    let ids = ids_of(&stored(&js, "ARTICLES_CLEAN").await);
    assert_eq!(ids.len(), DISTINCT);
    assert_eq!(ids.iter().collect::<HashSet<_>>().len(), DISTINCT);
    assert_eq!(consumer_backlog(&js, &settings).await, (0, 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redelivered_message_with_its_own_claim_is_published_exactly_once() {
    let server = NatsServer::start().expect("nats-server");
    let settings = settings_for(&server);
    let js = jetstream_for(&settings).await;
    let topology = article_ingest::nats::ensure_topology(&js, &settings)
        .await
        .unwrap();

    // Article A: a worker claimed its id, then died before publishing.
    let a = synthetic_article(1, "news");
    let a_seq = publish(&js, "articles.raw.news", a.clone()).await;
    let a_id = expected_id(&a);
    topology
        .bucket
        .create(&a_id, Bytes::from(format!("ARTICLES_RAW:{a_seq}")))
        .await
        .unwrap();
    // Article B: a worker claimed it and published it, then died before acking.
    let b = synthetic_article(2, "news");
    let b_seq = publish(&js, "articles.raw.news", b.clone()).await;
    let b_id = expected_id(&b);
    topology
        .bucket
        .create(&b_id, Bytes::from(format!("ARTICLES_RAW:{b_seq}")))
        .await
        .unwrap();
    let raw = decode(&b, "news", usize::MAX).unwrap();
    let b_clean = article::process(&Cleaner::builtin(), raw, "t").unwrap();
    let origin = article_ingest::sink::Origin {
        subject: "articles.raw.news",
        stream: "ARTICLES_RAW",
        sequence: b_seq,
    };
    article_ingest::sink::Sink::new(js.clone(), settings.streams.clone())
        .publish_clean(&b_clean, &origin)
        .await
        .unwrap();
    // Article C: a different message that is a copy of A, claimed by A already.
    publish(&js, "articles.raw.other", a.clone()).await;

    let worker = RunningWorker::start(settings.clone());
    let stats = worker.stats.clone();
    wait_for("3 handled", || {
        let s = stats.snapshot();
        s.published + s.duplicates == 3
    })
    .await;
    let s = worker.stop().await.snapshot();
    assert_eq!(
        s.published, 2,
        "A and B are (re)published by their own messages"
    );
    assert_eq!(s.duplicates, 1, "C is a duplicate of A");

    let mut ids = ids_of(&stored(&js, "ARTICLES_CLEAN").await);
    ids.sort();
    let mut want = vec![a_id, b_id];
    want.sort();
    assert_eq!(ids, want, "each article stored exactly once");
    assert_eq!(consumer_backlog(&js, &settings).await, (0, 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_kind_of_reject_lands_in_the_rejected_subject_with_its_reason() {
    let server = NatsServer::start().expect("nats-server");
    let mut settings = settings_for(&server);
    settings.worker.max_payload_bytes = 4096;
    let js = jetstream_for(&settings).await;
    ensure(&js, &settings).await;

    let big = serde_json::json!({"text": "word ".repeat(2000)}).to_string();
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("not_utf8", b"Le pr\xe9sident \xff".to_vec()),
        ("invalid_json", br#"{"text": "cut"#.to_vec()),
        ("not_an_object", br#"["text"]"#.to_vec()),
        ("missing_text", br#"{"url": "https://x"}"#.to_vec()),
        ("wrong_field_type", br#"{"text": 12}"#.to_vec()),
        ("empty_text", br#"{"text": "  \n "}"#.to_vec()),
        ("too_large", big.into_bytes()),
        ("nothing_left", b"-\n-\n-".to_vec()),
    ];
    let mut sequences = HashMap::new();
    for (reason, payload) in &cases {
        let seq = publish(&js, "articles.raw.bad", payload.clone()).await;
        sequences.insert(seq, (*reason, payload.clone()));
    }
    // A good article after them: bad input must not stop the worker.
    publish(&js, "articles.raw.bad", synthetic_article(7, "bad")).await;

    let worker = RunningWorker::start(settings.clone());
    let stats = worker.stats.clone();
    wait_for("all handled", || {
        let s = stats.snapshot();
        s.rejected == cases.len() as u64 && s.published == 1
    })
    .await;
    worker.stop().await;

    let rejected = stored(&js, "ARTICLES_DEADLETTER").await;
    assert_eq!(rejected.len(), cases.len());
    for message in rejected {
        assert_eq!(message.subject.as_str(), "articles.rejected.bad");
        let seq: u64 = message
            .headers
            .get(HEADER_RAW_SEQUENCE)
            .unwrap()
            .as_str()
            .parse()
            .unwrap();
        let (reason, payload) = &sequences[&seq];
        assert_eq!(
            message
                .headers
                .get(HEADER_REJECT_REASON)
                .map(|v| v.as_str()),
            Some(*reason)
        );
        assert_eq!(
            &message.payload[..],
            &payload[..],
            "{reason}: payload byte for byte"
        );
    }
    assert_eq!(consumer_backlog(&js, &settings).await, (0, 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_worker_picks_up_where_the_last_one_stopped() {
    let server = NatsServer::start().expect("nats-server");
    let mut settings = settings_for(&server);
    settings.worker.max_in_flight = 4;
    settings.consumer.batch_size = 4;
    let js = jetstream_for(&settings).await;
    ensure(&js, &settings).await;
    const TOTAL: usize = 300;
    for i in 0..TOTAL {
        publish(&js, "articles.raw.news", synthetic_article(i, "news")).await;
    }
    let first = RunningWorker::start(settings.clone());
    let stats = first.stats.clone();
    wait_for("some published", || stats.snapshot().published >= 40).await;
    let first_published = first.stop().await.snapshot().published;
    assert!(first_published < TOTAL as u64, "stopped mid-stream");

    let second = RunningWorker::start(settings.clone());
    let stats = second.stats.clone();
    wait_for("the rest published", || {
        stats.snapshot().published + first_published >= TOTAL as u64
    })
    .await;
    // Give stray redeliveries a chance to show up before counting.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let second = second.stop().await.snapshot();
    assert_eq!(first_published + second.published, TOTAL as u64);
    assert_eq!(
        second.duplicates, 0,
        "nothing the first worker finished came back"
    );
    let ids = ids_of(&stored(&js, "ARTICLES_CLEAN").await);
    assert_eq!(ids.iter().collect::<HashSet<_>>().len(), TOTAL);
    assert_eq!(ids.len(), TOTAL);
    assert_eq!(consumer_backlog(&js, &settings).await, (0, 0));
}
