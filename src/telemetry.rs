//! Logging: one place that sets up tracing for the whole process.
//!
//! Contract: text for terminals, JSON (one object per line, stable field
//! names) for log pipelines; the filter comes from `RUST_LOG` when set, else
//! from `log.level`. Logs go to stderr so that commands' results on stdout
//! stay machine-readable.

use tracing_subscriber::{fmt, EnvFilter};

use crate::config::LogFormat;

/// Installs the global subscriber. Calling it twice is harmless.
pub fn init(format: LogFormat, level: &str) {
    let filter = EnvFilter::try_from_default_env()
        .or_else(|_| EnvFilter::try_new(level))
        .unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = fmt().with_env_filter(filter).with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .with_span_list(false)
            .try_init(),
        LogFormat::Text => builder.with_target(false).try_init(),
    };
}
