//! Settings: layered, validated, never logged with secrets.
//!
//! Contract: [`Settings::load`] merges, later layers winning, the defaults
//! compiled from `config/default.toml`, an optional TOML file, environment
//! variables `ARTICLE_INGEST__<SECTION>__<FIELD>`, and `NATS_URL`. Unknown
//! sections or fields are errors that name the field, so a typo never passes
//! silently. `Debug` output redacts credentials.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{bail, Context, Result};
use serde::Deserialize;

/// The defaults, documented field by field in the file itself.
pub const DEFAULT_TOML: &str = include_str!("../config/default.toml");

/// Prefix of environment variables that override settings.
pub const ENV_PREFIX: &str = "ARTICLE_INGEST__";

#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    pub nats: NatsSettings,
    pub streams: StreamSettings,
    pub consumer: ConsumerSettings,
    pub dedupe: DedupeSettings,
    pub worker: WorkerSettings,
    pub learn: LearnSettings,
    pub log: LogSettings,
    pub metrics: MetricsSettings,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LearnSettings {
    pub enabled: bool,
    pub min_articles: u32,
    pub max_strip_share: f32,
    pub max_sources: usize,
    pub max_blocks_per_source: usize,
    pub sync_interval_secs: u64,
    pub max_batch_articles: usize,
    pub max_batch_articles_per_source: usize,
    pub stream: String,
    pub prefix: String,
    pub max_age_days: u64,
    pub max_stream_bytes: i64,
    pub replay_timeout_secs: u64,
}

#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NatsSettings {
    pub url: String,
    pub client_name: String,
    pub user: String,
    pub password: String,
    pub token: String,
    pub creds_file: String,
    pub nkey_seed_file: String,
    pub tls_required: bool,
    pub tls_ca_file: String,
    pub tls_cert_file: String,
    pub tls_key_file: String,
    pub connect_timeout_secs: u64,
    pub request_timeout_secs: u64,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StreamSettings {
    pub replicas: usize,
    pub raw_stream: String,
    pub raw_prefix: String,
    pub clean_stream: String,
    pub clean_prefix: String,
    pub deadletter_stream: String,
    pub rejected_prefix: String,
    pub duplicate_prefix: String,
    pub max_age_days: u64,
    pub duplicate_window_secs: u64,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsumerSettings {
    pub durable_name: String,
    pub ack_wait_secs: u64,
    pub max_ack_pending: i64,
    pub batch_size: usize,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DedupeSettings {
    pub bucket: String,
    pub retention_days: u64,
    pub cache_entries: usize,
    pub publish_duplicate_notices: bool,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkerSettings {
    pub max_in_flight: usize,
    pub max_payload_bytes: usize,
    pub drain_timeout_secs: u64,
    pub summary_interval_secs: u64,
    pub rules_dir: String,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogSettings {
    pub format: LogFormat,
    pub level: String,
}

#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetricsSettings {
    pub addr: String,
}

impl Settings {
    /// Defaults, then `file`, then the process environment.
    pub fn load(file: Option<&Path>) -> Result<Settings> {
        Self::load_from(file, std::env::vars())
    }

    /// Like [`Settings::load`] with an explicit environment (for tests).
    pub fn load_from(
        file: Option<&Path>,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Settings> {
        let mut merged: toml::Table =
            toml::from_str(DEFAULT_TOML).context("the built-in config/default.toml is invalid")?;
        if let Some(path) = file {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read config file {}", path.display()))?;
            let overlay: toml::Table = toml::from_str(&text)
                .with_context(|| format!("config file {} is not valid TOML", path.display()))?;
            merge_tables(&mut merged, overlay, "")
                .with_context(|| format!("in config file {}", path.display()))?;
        }
        let mut nats_url = None;
        let mut prefixed_url_set = false;
        for (key, value) in env {
            if key == "NATS_URL" {
                nats_url = Some(value).filter(|v| !v.is_empty());
            } else if let Some(path) = key.strip_prefix(ENV_PREFIX) {
                prefixed_url_set |= path.eq_ignore_ascii_case("NATS__URL");
                apply_env(&mut merged, path, &value)
                    .with_context(|| format!("in environment variable {key}"))?;
            }
        }
        let mut settings: Settings = toml::Value::Table(merged)
            .try_into()
            .context("invalid settings")?;
        // NATS_URL is the ecosystem's convention; the prefixed variable is more specific.
        if let (Some(url), false) = (nats_url, prefixed_url_set) {
            settings.nats.url = url;
        }
        settings.validate()?;
        Ok(settings)
    }

    /// Checks values that parse but cannot work, naming the field and the fix.
    pub fn validate(&self) -> Result<()> {
        let subjects = [
            ("streams.raw_prefix", &self.streams.raw_prefix),
            ("streams.clean_prefix", &self.streams.clean_prefix),
            ("streams.rejected_prefix", &self.streams.rejected_prefix),
            ("streams.duplicate_prefix", &self.streams.duplicate_prefix),
            ("learn.prefix", &self.learn.prefix),
        ];
        for (field, prefix) in subjects {
            if prefix.is_empty()
                || prefix.contains(['*', '>', ' '])
                || prefix.starts_with('.')
                || prefix.ends_with('.')
            {
                bail!("{field} = {prefix:?} is not a subject prefix: use dot-separated tokens without wildcards, like \"articles.raw\"");
            }
        }
        if self.streams.raw_prefix == self.streams.clean_prefix {
            bail!("streams.raw_prefix and streams.clean_prefix are both {:?}: the worker would read its own output", self.streams.raw_prefix);
        }
        if self.streams.replicas == 0 || self.streams.replicas > 5 {
            bail!(
                "streams.replicas = {} must be between 1 and 5",
                self.streams.replicas
            );
        }
        if self.worker.max_in_flight == 0 {
            bail!("worker.max_in_flight must be at least 1");
        }
        if self.consumer.batch_size == 0 {
            bail!("consumer.batch_size must be at least 1");
        }
        if self.worker.max_payload_bytes < 64 {
            bail!("worker.max_payload_bytes must be at least 64");
        }
        if self.streams.duplicate_window_secs <= self.consumer.ack_wait_secs {
            bail!("streams.duplicate_window_secs ({}) must exceed consumer.ack_wait_secs ({}), or a redelivered article could be published twice", self.streams.duplicate_window_secs, self.consumer.ack_wait_secs);
        }
        if self.learn.min_articles < 2 {
            bail!("learn.min_articles must be at least 2: one article alone cannot show a block is boilerplate");
        }
        if !(0.0..=1.0).contains(&self.learn.max_strip_share) {
            bail!("learn.max_strip_share must be between 0 and 1");
        }
        if self.dedupe.retention_days == 0 {
            bail!("dedupe.retention_days must be at least 1");
        }
        Ok(())
    }

    pub fn connect_timeout(&self) -> Duration {
        Duration::from_secs(self.nats.connect_timeout_secs.max(1))
    }

    pub fn request_timeout(&self) -> Duration {
        Duration::from_secs(self.nats.request_timeout_secs.max(1))
    }

    pub fn rules_dir(&self) -> Option<PathBuf> {
        (!self.worker.rules_dir.is_empty()).then(|| PathBuf::from(&self.worker.rules_dir))
    }
}

/// Deep-merges `overlay` into `base`, refusing keys the defaults do not have.
fn merge_tables(base: &mut toml::Table, overlay: toml::Table, at: &str) -> Result<()> {
    for (key, value) in overlay {
        let path = if at.is_empty() {
            key.clone()
        } else {
            format!("{at}.{key}")
        };
        match (base.get_mut(&key), value) {
            (Some(toml::Value::Table(base_table)), toml::Value::Table(table)) => {
                merge_tables(base_table, table, &path)?
            }
            (Some(toml::Value::Table(_)), _) => bail!("{path} is a section, not a value"),
            (Some(slot), value) => *slot = value,
            (None, _) => bail!("unknown setting {path} (see config/default.toml for the fields)"),
        }
    }
    Ok(())
}

/// Sets `SECTION__FIELD` from an environment value, typed like the default.
fn apply_env(merged: &mut toml::Table, path: &str, raw: &str) -> Result<()> {
    let mut parts = path.split("__").map(str::to_ascii_lowercase);
    let (Some(section), Some(field), None) = (parts.next(), parts.next(), parts.next()) else {
        bail!("expected {ENV_PREFIX}<SECTION>__<FIELD>, e.g. {ENV_PREFIX}NATS__URL");
    };
    let Some(toml::Value::Table(table)) = merged.get_mut(&section) else {
        bail!("unknown section {section:?}");
    };
    let Some(slot) = table.get_mut(&field) else {
        bail!("unknown setting {section}.{field}");
    };
    let what = format!("{section}.{field}");
    *slot = match slot {
        toml::Value::String(_) => toml::Value::String(raw.to_string()),
        toml::Value::Integer(_) => toml::Value::Integer(
            raw.trim()
                .parse()
                .with_context(|| format!("{what} must be a whole number, got {raw:?}"))?,
        ),
        toml::Value::Boolean(_) => toml::Value::Boolean(match raw.trim() {
            "true" | "1" | "yes" => true,
            "false" | "0" | "no" => false,
            _ => bail!("{what} must be true or false, got {raw:?}"),
        }),
        toml::Value::Float(_) => toml::Value::Float(
            raw.trim()
                .parse()
                .with_context(|| format!("{what} must be a number, got {raw:?}"))?,
        ),
        _ => bail!("{what} cannot be set from the environment"),
    };
    Ok(())
}

fn redacted(value: &str) -> &'static str {
    if value.is_empty() {
        ""
    } else {
        "<redacted>"
    }
}

impl std::fmt::Debug for NatsSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NatsSettings")
            .field("url", &redact_url(&self.url))
            .field("client_name", &self.client_name)
            .field("user", &self.user)
            .field("password", &redacted(&self.password))
            .field("token", &redacted(&self.token))
            .field("creds_file", &self.creds_file)
            .field("nkey_seed_file", &self.nkey_seed_file)
            .field("tls_required", &self.tls_required)
            .field("tls_ca_file", &self.tls_ca_file)
            .field("tls_cert_file", &self.tls_cert_file)
            .field("tls_key_file", &self.tls_key_file)
            .finish()
    }
}

impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Settings")
            .field("nats", &self.nats)
            .field("streams", &self.streams)
            .field("consumer", &self.consumer)
            .field("dedupe", &self.dedupe)
            .field("worker", &self.worker)
            .field("learn", &self.learn)
            .field("log", &self.log)
            .field("metrics", &self.metrics)
            .finish()
    }
}

/// Drops `user:password@` from URLs so they can be logged.
pub fn redact_url(url: &str) -> String {
    url.split(',')
        .map(|one| match (one.find("://"), one.rfind('@')) {
            (Some(scheme_end), Some(at)) if at > scheme_end => {
                format!("{}<redacted>@{}", &one[..scheme_end + 3], &one[at + 1..])
            }
            (None, Some(at)) => format!("<redacted>@{}", &one[at + 1..]),
            _ => one.to_string(),
        })
        .collect::<Vec<_>>()
        .join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn defaults_load_and_validate() {
        let s = Settings::load_from(None, env(&[])).unwrap();
        assert_eq!(s.streams.raw_stream, "ARTICLES_RAW");
        assert_eq!(s.dedupe.retention_days, 90);
        assert_eq!(s.log.format, LogFormat::Text);
    }

    #[test]
    fn file_then_env_then_nats_url() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("c.toml");
        std::fs::write(
            &file,
            "[worker]\nmax_in_flight = 7\n[nats]\nurl = \"nats://file:1\"\n",
        )
        .unwrap();
        let s = Settings::load_from(
            Some(&file),
            env(&[
                ("ARTICLE_INGEST__WORKER__MAX_IN_FLIGHT", "9"),
                ("ARTICLE_INGEST__LOG__FORMAT", "json"),
                ("NATS_URL", "nats://env:2"),
            ]),
        )
        .unwrap();
        assert_eq!(s.worker.max_in_flight, 9);
        assert_eq!(s.log.format, LogFormat::Json);
        assert_eq!(s.nats.url, "nats://env:2");
        let only_file = Settings::load_from(Some(&file), env(&[])).unwrap();
        assert_eq!(only_file.worker.max_in_flight, 7);
        assert_eq!(only_file.nats.url, "nats://file:1");
    }

    #[test]
    fn unknown_fields_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("c.toml");
        std::fs::write(&file, "[worker]\nmax_inflight = 7\n").unwrap();
        let err = format!(
            "{:#}",
            Settings::load_from(Some(&file), env(&[])).unwrap_err()
        );
        assert!(err.contains("worker.max_inflight"), "{err}");
        let err = format!(
            "{:#}",
            Settings::load_from(None, env(&[("ARTICLE_INGEST__NATS__URLL", "x")])).unwrap_err()
        );
        assert!(err.contains("nats.urll"), "{err}");
        let err = format!(
            "{:#}",
            Settings::load_from(
                None,
                env(&[("ARTICLE_INGEST__WORKER__MAX_IN_FLIGHT", "many")])
            )
            .unwrap_err()
        );
        assert!(err.contains("whole number"), "{err}");
    }

    #[test]
    fn invalid_values_are_refused() {
        let err = format!(
            "{:#}",
            Settings::load_from(None, env(&[("ARTICLE_INGEST__STREAMS__RAW_PREFIX", "a.>")]))
                .unwrap_err()
        );
        assert!(err.contains("streams.raw_prefix"), "{err}");
        assert!(Settings::load_from(
            None,
            env(&[("ARTICLE_INGEST__STREAMS__DUPLICATE_WINDOW_SECS", "10")])
        )
        .is_err());
    }

    #[test]
    fn secrets_are_not_in_debug_output() {
        let s = Settings::load_from(
            None,
            env(&[
                ("ARTICLE_INGEST__NATS__PASSWORD", "hunter2"),
                ("ARTICLE_INGEST__NATS__TOKEN", "s3cr3t"),
                ("NATS_URL", "nats://bob:pa55@host:4222"),
            ]),
        )
        .unwrap();
        let shown = format!("{s:?}");
        assert!(!shown.contains("hunter2") && !shown.contains("s3cr3t") && !shown.contains("pa55"));
        assert!(shown.contains("<redacted>"));
    }
}
