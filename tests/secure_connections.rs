//! The worker over the connection settings a real deployment uses: TLS with a
//! private CA and client certificates (`nats.tls_*`), NKey authentication
//! (`nats.nkey_seed_file`), and a `.creds` file (`nats.creds_file`) on a
//! server in operator mode (decentralised JWT auth). Each test starts its own
//! nats-server with the matching configuration; certificates, keys and JWTs
//! are made fresh for the test. A worker cleans one seed article through the
//! secured connection, and a client without the right credentials is refused.

mod common;

use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering::Relaxed;

use article_ingest::config::Settings;
use article_ingest::server::NatsServer;
use bytes::Bytes;
use common::{jetstream_for, publish, settings_for, stored, wait_for, RunningWorker};
use rcgen::{BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair};

fn seed() -> Bytes {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/seeds/000_39a025f67963c445.txt");
    Bytes::from(std::fs::read(path).expect("seed fixture"))
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write test file");
    path.display().to_string()
}

/// Starts a nats-server with `config` (listen address, port and store come
/// from `NatsServer`'s command line).
fn start_server(dir: &Path, config: &str) -> NatsServer {
    let config_path = write(dir, "server.conf", config);
    let log = dir.join("server.log");
    NatsServer::start_with(vec![
        "--config".into(),
        config_path,
        "--log".into(),
        log.display().to_string(),
    ])
    .unwrap_or_else(|e| {
        let log = std::fs::read_to_string(&log).unwrap_or_default();
        panic!("nats-server did not start with the test configuration: {e:#}\nits log:\n{log}")
    })
}

/// Runs a worker with `settings`, publishes one raw article through a client
/// made from the same settings, and returns the clean records stored.
async fn clean_one_article(settings: Settings) -> Vec<serde_json::Value> {
    let worker = RunningWorker::start(settings.clone());
    worker.wait_ready().await;
    let js = jetstream_for(&settings).await;
    publish(
        &js,
        &format!("{}.secure", settings.streams.raw_prefix),
        seed(),
    )
    .await;
    let stats = worker.stats.clone();
    wait_for("the article cleaned and published", move || {
        stats.published.load(Relaxed) >= 1
    })
    .await;
    let records = stored(&js, &settings.streams.clean_stream)
        .await
        .iter()
        .map(|m| serde_json::from_slice(&m.payload).expect("clean record is JSON"))
        .collect();
    worker.stop().await;
    records
}

/// Connecting with `settings` fails, with the worker's connection error.
async fn assert_refused(settings: &Settings, why: &str) -> String {
    let error = article_ingest::nats::connect(settings)
        .await
        .map(|_| ())
        .expect_err(why);
    let shown = format!("{error:#}");
    assert!(shown.contains("cannot connect to NATS"), "{why}: {shown}");
    shown
}

struct Pki {
    ca_pem: String,
    ca_key: KeyPair,
    ca: rcgen::Certificate,
}

impl Pki {
    fn new() -> Pki {
        let ca_key = KeyPair::generate().expect("CA key");
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params
            .distinguished_name
            .push(DnType::CommonName, "article-ingest test CA");
        let ca = params.self_signed(&ca_key).expect("CA certificate");
        Pki {
            ca_pem: ca.pem(),
            ca_key,
            ca,
        }
    }

    /// A certificate and key signed by the CA: (certificate PEM, key PEM).
    fn issue(&self, names: &[&str], purpose: ExtendedKeyUsagePurpose) -> (String, String) {
        let key = KeyPair::generate().expect("key");
        let mut params =
            CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>())
                .expect("params");
        params
            .distinguished_name
            .push(DnType::CommonName, names.first().copied().unwrap_or("test"));
        params.extended_key_usages = vec![purpose];
        let cert = params
            .signed_by(&key, &self.ca, &self.ca_key)
            .expect("signed certificate");
        (cert.pem(), key.serialize_pem())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_with_a_private_ca_and_client_certificates() {
    let dir = tempfile::tempdir().expect("temp dir");
    let pki = Pki::new();
    let (server_cert, server_key) = pki.issue(
        &["127.0.0.1", "localhost"],
        ExtendedKeyUsagePurpose::ServerAuth,
    );
    let (client_cert, client_key) =
        pki.issue(&["article-ingest"], ExtendedKeyUsagePurpose::ClientAuth);
    let ca_file = write(dir.path(), "ca.pem", &pki.ca_pem);
    let config = format!(
        "tls {{\n  cert_file: \"{}\"\n  key_file: \"{}\"\n  ca_file: \"{ca_file}\"\n  verify: true\n  timeout: 5\n}}\n",
        write(dir.path(), "server.pem", &server_cert),
        write(dir.path(), "server-key.pem", &server_key),
    );
    let server = start_server(dir.path(), &config);

    let mut secured = settings_for(&server);
    secured.nats.tls_required = true;
    secured.nats.tls_ca_file = ca_file.clone();
    secured.nats.tls_cert_file = write(dir.path(), "client.pem", &client_cert);
    secured.nats.tls_key_file = write(dir.path(), "client-key.pem", &client_key);
    let records = clean_one_article(secured.clone()).await;
    assert_eq!(records.len(), 1, "one clean record: {records:?}");
    assert!(records[0]["text"].as_str().is_some_and(|t| !t.is_empty()));

    // Without a client certificate the server refuses the connection...
    let mut no_client_cert = secured.clone();
    no_client_cert.nats.tls_cert_file.clear();
    no_client_cert.nats.tls_key_file.clear();
    assert_refused(&no_client_cert, "a client without a certificate is refused").await;
    // ... and without the private CA the client does not trust the server.
    let mut no_ca = secured;
    no_ca.nats.tls_ca_file.clear();
    assert_refused(&no_ca, "a client that does not trust the CA is refused").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nkey_seed_file_authenticates_the_worker() {
    let dir = tempfile::tempdir().expect("temp dir");
    let user = nkeys::KeyPair::new_user();
    let config = format!(
        "authorization {{\n  users = [\n    {{ nkey: \"{}\" }}\n  ]\n}}\n",
        user.public_key()
    );
    let server = start_server(dir.path(), &config);

    let mut with_seed = settings_for(&server);
    with_seed.nats.nkey_seed_file = write(
        dir.path(),
        "worker.nk",
        &format!("{}\n", user.seed().expect("user seed")),
    );
    let records = clean_one_article(with_seed.clone()).await;
    assert_eq!(records.len(), 1, "one clean record: {records:?}");

    // Another key is refused.
    let stranger = nkeys::KeyPair::new_user();
    let mut wrong_seed = with_seed.clone();
    wrong_seed.nats.nkey_seed_file = write(
        dir.path(),
        "stranger.nk",
        &stranger.seed().expect("stranger seed"),
    );
    assert_refused(&wrong_seed, "an unknown key is refused").await;
    // A seed file that is missing is reported by name.
    let mut missing = with_seed;
    missing.nats.nkey_seed_file = dir.path().join("absent.nk").display().to_string();
    let error = article_ingest::nats::connect(&missing)
        .await
        .map(|_| ())
        .expect_err("a missing seed file is an error");
    assert!(format!("{error:#}").contains("absent.nk"), "{error:#}");
}

/// Base64url without padding, as JWTs encode their parts.
fn base64url(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, &b)| n | u32::from(b) << (16 - 8 * i));
        for k in 0..=chunk.len() {
            out.push(char::from(ALPHABET[(n >> (18 - 6 * k) & 63) as usize]));
        }
    }
    out
}

/// A NATS JWT (v2) for `subject`, with these `nats` claims, signed by `issuer`.
fn nats_jwt(issuer: &nkeys::KeyPair, subject: &str, name: &str, nats: serde_json::Value) -> String {
    let header = base64url(br#"{"typ":"JWT","alg":"ed25519-nkey"}"#);
    let claims = serde_json::json!({
        // Any unique id will do: the server checks the signature, not the jti.
        "jti": format!("{name}-{subject}"),
        "iat": 1_700_000_000u64,
        "iss": issuer.public_key(),
        "name": name,
        "sub": subject,
        "nats": nats,
    });
    let payload = base64url(claims.to_string().as_bytes());
    let signed = format!("{header}.{payload}");
    let signature = issuer.sign(signed.as_bytes()).expect("sign JWT");
    format!("{signed}.{}", base64url(&signature))
}

/// A `.creds` file: the user's JWT and seed, in the format `nsc` writes.
fn creds(user_jwt: &str, user: &nkeys::KeyPair) -> String {
    format!(
        "-----BEGIN NATS USER JWT-----\n{user_jwt}\n------END NATS USER JWT------\n\n\
         -----BEGIN USER NKEY SEED-----\n{}\n------END USER NKEY SEED------\n",
        user.seed().expect("user seed")
    )
}

/// An account under `operator`, with JetStream (unlimited) or without.
fn new_account(operator: &nkeys::KeyPair, jetstream: bool) -> (nkeys::KeyPair, String) {
    let account = nkeys::KeyPair::new_account();
    let storage = if jetstream { -1 } else { 0 };
    let jwt = nats_jwt(
        operator,
        &account.public_key(),
        "ingest",
        serde_json::json!({
            "limits": {
                "subs": -1, "data": -1, "payload": -1, "imports": -1, "exports": -1,
                "wildcards": true, "conn": -1, "leaf": -1,
                "mem_storage": storage, "disk_storage": storage,
                "streams": storage, "consumer": storage
            },
            "default_permissions": { "pub": {}, "sub": {} },
            "type": "account",
            "version": 2
        }),
    );
    (account, jwt)
}

/// A user of `account`, allowed everything the account allows.
fn user_of(account: &nkeys::KeyPair) -> (nkeys::KeyPair, String) {
    let user = nkeys::KeyPair::new_user();
    let jwt = nats_jwt(
        account,
        &user.public_key(),
        "worker",
        serde_json::json!({
            "pub": {}, "sub": {}, "subs": -1, "data": -1, "payload": -1,
            "type": "user", "version": 2
        }),
    );
    (user, jwt)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn creds_file_authenticates_the_worker_in_operator_mode() {
    let dir = tempfile::tempdir().expect("temp dir");
    let operator = nkeys::KeyPair::new_operator();
    let operator_jwt = nats_jwt(
        &operator,
        &operator.public_key(),
        "test-operator",
        serde_json::json!({ "type": "operator", "version": 2 }),
    );
    let (account, account_jwt) = new_account(&operator, true);
    let (user, user_jwt) = user_of(&account);
    // JetStream needs a system account (without JetStream) in operator mode.
    let (system, system_jwt) = new_account(&operator, false);
    let config = format!(
        "operator: \"{operator_jwt}\"\nsystem_account: {sys}\nresolver: MEMORY\n\
         resolver_preload: {{\n  {sys}: \"{system_jwt}\"\n  {}: \"{account_jwt}\"\n}}\n",
        account.public_key(),
        sys = system.public_key(),
    );
    let server = start_server(dir.path(), &config);

    let mut with_creds = settings_for(&server);
    with_creds.nats.creds_file = write(dir.path(), "worker.creds", &creds(&user_jwt, &user));
    let records = clean_one_article(with_creds.clone()).await;
    assert_eq!(records.len(), 1, "one clean record: {records:?}");

    // A user of an account the server does not know is refused.
    let (unknown_account, _) = new_account(&nkeys::KeyPair::new_operator(), true);
    let (stranger, stranger_jwt) = user_of(&unknown_account);
    let mut wrong = with_creds.clone();
    wrong.nats.creds_file = write(
        dir.path(),
        "stranger.creds",
        &creds(&stranger_jwt, &stranger),
    );
    assert_refused(&wrong, "a user of an unknown account is refused").await;
}
