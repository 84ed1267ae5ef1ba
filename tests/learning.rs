//! Learned boilerplate across workers and restarts, on a real nats-server.

mod common;

use common::*;

use article_ingest::article;
use article_ingest::clean::Cleaner;
use article_ingest::payload::decode;
use article_ingest::server::NatsServer;

const FOOTER: &str = "The Gazette is an independent newspaper funded by its readers and by the foundation that has owned it since 1990.";
const ONE_OFF: &str = "Correction: an earlier version of this article gave the wrong date for the council meeting, which took place on Tuesday.";

const BODIES: [&str; 4] = [
    "River floods the lower town\nThe river flooded the lower town on Monday night, and the firefighters who came from three villages worked until dawn to move the families out of their houses.\nThe mayor said the damage would be assessed once the water had gone down, which could take several days.",
    "New school for the north of the city\nA new school will open in the north of the city next year, the mayor said on Friday, after the council found the money that had been missing from the budget for the project.\nThe school will take six hundred pupils and will also be open to adults in the evenings.",
    "Dry summer cuts the harvest\nThe farmers of the valley say the dry summer has cut the harvest by a third, and many of them are asking the region for help before the winter comes and the prices rise again.\nThe region said it would decide on the request at its next meeting in October.",
    "Museum buys a painting lost in the war\nThe museum has bought a painting that was lost during the war and found last year in a private collection abroad, and it will be shown to the public from the first of May.\nThe price was not disclosed, but experts said it was likely to be well above the museum's usual budget.",
];

fn payload(body: &str, extra: &str) -> bytes::Bytes {
    bytes::Bytes::from(
        serde_json::json!({"text": format!("{body}\n{extra}\n{FOOTER}"), "source": "gazette"})
            .to_string(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_block_learned_by_one_worker_is_removed_by_the_next_even_after_a_restart() {
    let server = NatsServer::start().expect("nats-server");
    let mut settings = settings_for(&server);
    settings.learn.sync_interval_secs = 1;
    settings.learn.min_articles = 3;
    let js = jetstream_for(&settings).await;

    // Three articles carrying the footer: the first worker learns it.
    let first = RunningWorker::start(settings.clone());
    first.wait_ready().await;
    for body in &BODIES[..3] {
        publish(&js, "articles.raw.gazette", payload(body, "")).await;
    }
    let stats = first.stats.clone();
    wait_for("3 published", || stats.snapshot().published == 3).await;
    let js2 = js.clone();
    wait_for_async("a learning batch stored", || {
        let js = js2.clone();
        async move { stream_count(&js, "ARTICLES_LEARNED").await >= 1 }
    })
    .await;
    first.stop().await;

    // A new worker process rebuilds the model from the stream.
    let second = RunningWorker::start(settings.clone());
    second.wait_ready().await;
    let fourth = payload(BODIES[3], ONE_OFF);
    publish(&js, "articles.raw.gazette", fourth.clone()).await;
    let stats = second.stats.clone();
    wait_for("the fourth published", || stats.snapshot().published == 1).await;
    second.stop().await;

    let clean = stored(&js, "ARTICLES_CLEAN").await;
    assert_eq!(clean.len(), 4);
    let texts: Vec<serde_json::Value> = clean
        .iter()
        .map(|m| serde_json::from_slice(&m.payload).unwrap())
        .collect();
    for early in &texts[..3] {
        assert!(
            early["text"]
                .as_str()
                .unwrap()
                .contains("independent newspaper"),
            "before learning, the rules alone keep the footer"
        );
    }
    let last = texts[3]["text"].as_str().unwrap();
    assert!(
        !last.contains("independent newspaper"),
        "learned footer removed: {last}"
    );
    assert!(last.contains("The museum has bought a painting"), "{last}");
    assert!(
        last.contains("Correction: an earlier version"),
        "a one-off block is kept: {last}"
    );

    // The id does not depend on what was learned: it is the rules-only id.
    let raw = decode(&fourth, "gazette", usize::MAX).unwrap();
    let rules_only = article::process(&Cleaner::builtin(), raw, "t").unwrap();
    assert_eq!(texts[3]["id"].as_str().unwrap(), rules_only.id);
    assert_eq!(consumer_backlog(&js, &settings).await, (0, 0));
}
