//! article-ingest: clean scraped news articles, dedupe them by content hash,
//! publish them downstream, over NATS JetStream.
//!
//! The pipeline reads top to bottom: [`source`] → [`clean`] → [`fingerprint`]
//! → [`dedupe`] → [`sink`]. `clean` and `fingerprint` are pure; only the
//! source, the dedupe store and the sink talk to NATS.

pub mod article;
pub mod bench;
pub mod clean;
pub mod config;
pub mod dedupe;
pub mod demo;
pub mod feed;
pub mod fingerprint;
pub mod learn;
pub mod metrics;
pub mod nats;
pub mod payload;
pub mod server;
pub mod sink;
pub mod source;
pub mod stats;
pub mod telemetry;
pub mod worker;
