//! Connecting to NATS and making sure the JetStream topology exists.
//!
//! Contract: [`connect`] either returns a connected client within the
//! configured timeout or an error that says which server could not be reached
//! and what to check; credentials are passed to the client and never logged.
//! [`ensure_topology`] creates the three streams, the KV bucket and the
//! durable consumer when missing and checks them when present; running it
//! from many workers at once is safe.

use std::time::Duration;

use anyhow::{bail, Context, Result};
use async_nats::jetstream::{self, consumer, kv, stream};

use crate::config::{redact_url, Settings};

/// Closes a connection for good before the private server it talks to is
/// stopped (`demo`, `bench`), so no "disconnected from NATS" warning lands in
/// their reports: drains it, then waits (at most 2 s) for it to close.
pub async fn close(client: &async_nats::Client) {
    match tokio::time::timeout(Duration::from_secs(5), client.drain()).await {
        Ok(Ok(())) => {}
        _ => return,
    }
    let deadline = tokio::time::Instant::now() + Duration::from_secs(2);
    while client.connection_state() == async_nats::connection::State::Connected
        && tokio::time::Instant::now() < deadline
    {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Connects with the configured credentials and TLS settings. Reconnects
/// after the first connection are automatic and unbounded.
pub async fn connect(settings: &Settings) -> Result<async_nats::Client> {
    let nats = &settings.nats;
    let mut options = async_nats::ConnectOptions::new()
        .name(&nats.client_name)
        .connection_timeout(settings.connect_timeout())
        .request_timeout(Some(settings.request_timeout()))
        // The default 2048-message client buffer stalls fast pull consumers.
        .client_capacity(65_536)
        .subscription_capacity(65_536)
        .event_callback(|event| async move {
            match event {
                async_nats::Event::Connected => tracing::info!("connected to NATS"),
                async_nats::Event::Disconnected => {
                    tracing::warn!("disconnected from NATS; reconnecting")
                }
                async_nats::Event::ServerError(error) => {
                    tracing::warn!(error = %error, "NATS server reported an error")
                }
                other => tracing::info!(event = %other, "NATS connection event"),
            }
        });
    let methods = [
        !nats.user.is_empty(),
        !nats.token.is_empty(),
        !nats.creds_file.is_empty(),
        !nats.nkey_seed_file.is_empty(),
    ];
    if methods.iter().filter(|set| **set).count() > 1 {
        bail!("more than one NATS authentication method is set (nats.user, nats.token, nats.creds_file, nats.nkey_seed_file): keep one");
    }
    if !nats.user.is_empty() {
        options = options.user_and_password(nats.user.clone(), nats.password.clone());
    }
    if !nats.token.is_empty() {
        options = options.token(nats.token.clone());
    }
    if !nats.creds_file.is_empty() {
        options = options
            .credentials_file(&nats.creds_file)
            .await
            .with_context(|| {
                format!(
                    "cannot read NATS credentials file {} (nats.creds_file)",
                    nats.creds_file
                )
            })?;
    }
    if !nats.nkey_seed_file.is_empty() {
        let seed = std::fs::read_to_string(&nats.nkey_seed_file).with_context(|| {
            format!(
                "cannot read NKey seed file {} (nats.nkey_seed_file)",
                nats.nkey_seed_file
            )
        })?;
        options = options.nkey(seed.trim().to_string());
    }
    if nats.tls_required {
        options = options.require_tls(true);
    }
    if !nats.tls_ca_file.is_empty() {
        options = options.add_root_certificates(nats.tls_ca_file.clone().into());
    }
    match (nats.tls_cert_file.is_empty(), nats.tls_key_file.is_empty()) {
        (false, false) => {
            options = options.add_client_certificate(
                nats.tls_cert_file.clone().into(),
                nats.tls_key_file.clone().into(),
            )
        }
        (true, true) => {}
        _ => bail!("nats.tls_cert_file and nats.tls_key_file must be set together"),
    }

    let shown_url = redact_url(&nats.url);
    let servers: Vec<async_nats::ServerAddr> = nats
        .url
        .split(',')
        .map(|one| one.trim().parse())
        .collect::<Result<_, _>>()
        .with_context(|| format!("nats.url {shown_url:?} is not a valid NATS URL list"))?;
    let client = tokio::time::timeout(
        settings.connect_timeout() + Duration::from_secs(1),
        options.connect(servers),
    )
    .await
    .map_err(|_| anyhow::anyhow!("timed out"))
    .and_then(|r| r.map_err(anyhow::Error::from))
    .with_context(|| {
        format!("cannot connect to NATS at {shown_url}: check that the server runs and the URL (--nats-url, NATS_URL or nats.url) and credentials are right")
    })?;
    Ok(client)
}

/// A JetStream context whose requests time out as configured.
pub fn jetstream(client: async_nats::Client, settings: &Settings) -> jetstream::Context {
    let mut js = jetstream::new(client);
    js.set_timeout(settings.request_timeout());
    js
}

/// Handles to everything the worker uses in JetStream.
pub struct Topology {
    pub raw: stream::Stream,
    pub consumer: consumer::PullConsumer,
    pub bucket: kv::Store,
}

/// Creates or checks the streams, the dedupe bucket and the durable consumer.
pub async fn ensure_topology(js: &jetstream::Context, settings: &Settings) -> Result<Topology> {
    let s = &settings.streams;
    let max_age = Duration::from_secs(s.max_age_days * 86_400);
    let raw = ensure_stream(
        js,
        stream::Config {
            name: s.raw_stream.clone(),
            subjects: vec![format!("{}.>", s.raw_prefix)],
            max_age,
            num_replicas: s.replicas,
            storage: stream::StorageType::File,
            duplicate_window: Duration::from_secs(120),
            ..Default::default()
        },
    )
    .await?;
    let duplicate_window = Duration::from_secs(s.duplicate_window_secs);
    ensure_stream(
        js,
        stream::Config {
            name: s.clean_stream.clone(),
            subjects: vec![format!("{}.>", s.clean_prefix)],
            max_age,
            num_replicas: s.replicas,
            storage: stream::StorageType::File,
            duplicate_window,
            ..Default::default()
        },
    )
    .await?;
    ensure_stream(
        js,
        stream::Config {
            name: s.deadletter_stream.clone(),
            subjects: vec![
                format!("{}.>", s.rejected_prefix),
                format!("{}.>", s.duplicate_prefix),
            ],
            max_age,
            num_replicas: s.replicas,
            storage: stream::StorageType::File,
            duplicate_window,
            ..Default::default()
        },
    )
    .await?;

    let d = &settings.dedupe;
    let bucket = match js.get_key_value(&d.bucket).await {
        Ok(store) => store,
        Err(_) => match js
            .create_key_value(kv::Config {
                bucket: d.bucket.clone(),
                description: "article-ingest content id claims".into(),
                history: 1,
                max_age: Duration::from_secs(d.retention_days * 86_400),
                max_value_size: 1024,
                num_replicas: s.replicas,
                storage: stream::StorageType::File,
                ..Default::default()
            })
            .await
        {
            Ok(store) => store,
            // Another worker may have created it between our two calls.
            Err(create_error) => js
                .get_key_value(&d.bucket)
                .await
                .map_err(|_| create_error)
                .with_context(|| {
                    format!(
                        "cannot create the dedupe KV bucket {:?}: check that JetStream is enabled and the account may create streams",
                        d.bucket
                    )
                })?,
        },
    };

    let c = &settings.consumer;
    let consumer = raw
        .get_or_create_consumer(
            &c.durable_name,
            consumer::pull::Config {
                durable_name: Some(c.durable_name.clone()),
                description: Some("article-ingest workers".into()),
                filter_subject: format!("{}.>", s.raw_prefix),
                ack_policy: consumer::AckPolicy::Explicit,
                ack_wait: Duration::from_secs(c.ack_wait_secs),
                max_ack_pending: c.max_ack_pending,
                max_deliver: -1,
                num_replicas: s.replicas,
                ..Default::default()
            },
        )
        .await
        .with_context(|| {
            format!(
                "cannot create or bind the durable consumer {:?} on stream {:?}",
                c.durable_name, s.raw_stream
            )
        })?;
    Ok(Topology {
        raw,
        consumer,
        bucket,
    })
}

/// Creates a stream, or checks that the existing one holds our subjects.
/// Its `cached_info` is fresh when this returns.
pub async fn ensure_stream(
    js: &jetstream::Context,
    config: stream::Config,
) -> Result<stream::Stream> {
    let name = config.name.clone();
    let wanted_subjects = config.subjects.clone();
    let mut stream = js.get_or_create_stream(config).await.with_context(|| {
        format!("cannot create or read stream {name:?}: check that the server runs with JetStream enabled (-js) and that this account may use it")
    })?;
    let info = stream
        .info()
        .await
        .with_context(|| format!("cannot read stream {name:?}"))?;
    for subject in &wanted_subjects {
        if !info.config.subjects.iter().any(|s| s == subject) {
            bail!(
                "stream {name:?} exists but does not hold subject {subject:?} (it holds {:?}): fix the stream or change the prefixes in [streams]",
                info.config.subjects
            );
        }
    }
    Ok(stream)
}
