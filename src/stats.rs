//! Counters the worker keeps: for the periodic summary line and `/metrics`.
//!
//! Contract: lock-free to update from any task; [`Stats::snapshot`] reads a
//! consistent-enough copy; [`Stats::render_prometheus`] writes the Prometheus
//! text exposition format. Memory is fixed: histograms have fixed buckets.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering::Relaxed};
use std::time::Duration;

use crate::payload::RejectReason;

/// Upper bounds (seconds) of the per-article processing time histogram.
const TIME_BUCKETS: [f64; 12] = [
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 2.0,
];
/// Upper bounds (seconds) of the publish-to-output latency histogram: fine
/// enough for the benchmark's percentiles.
const LATENCY_BUCKETS: [f64; 24] = [
    0.0005, 0.001, 0.0015, 0.002, 0.003, 0.004, 0.005, 0.0075, 0.01, 0.015, 0.02, 0.03, 0.05,
    0.075, 0.1, 0.15, 0.2, 0.3, 0.5, 0.75, 1.0, 2.0, 5.0, 10.0,
];
/// Upper bounds (bytes) of the payload size histogram.
const SIZE_BUCKETS: [f64; 8] = [
    1024.0, 4096.0, 16384.0, 65536.0, 262144.0, 1048576.0, 4194304.0, 16777216.0,
];

pub struct Histogram<const N: usize> {
    bounds: [f64; N],
    counts: [AtomicU64; N],
    count: AtomicU64,
    /// Sum in millionths of the unit, to stay atomic and integral.
    sum_micro: AtomicU64,
}

impl<const N: usize> Histogram<N> {
    fn new(bounds: [f64; N]) -> Self {
        Histogram {
            bounds,
            counts: std::array::from_fn(|_| AtomicU64::new(0)),
            count: AtomicU64::new(0),
            sum_micro: AtomicU64::new(0),
        }
    }

    pub fn observe(&self, value: f64) {
        if let Some(i) = self.bounds.iter().position(|b| value <= *b) {
            self.counts[i].fetch_add(1, Relaxed);
        }
        self.count.fetch_add(1, Relaxed);
        self.sum_micro.fetch_add((value * 1e6) as u64, Relaxed);
    }

    /// Upper bound of the bucket holding quantile `q` (0..1), if any samples.
    pub fn quantile(&self, q: f64) -> Option<f64> {
        let total = self.count.load(Relaxed);
        if total == 0 {
            return None;
        }
        let rank = (q * total as f64).ceil().max(1.0) as u64;
        let mut cumulative = 0;
        for (bound, count) in self.bounds.iter().zip(&self.counts) {
            cumulative += count.load(Relaxed);
            if cumulative >= rank {
                return Some(*bound);
            }
        }
        Some(f64::INFINITY)
    }

    fn render(&self, out: &mut String, name: &str, help: &str) {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} histogram");
        let mut cumulative = 0;
        for (bound, count) in self.bounds.iter().zip(&self.counts) {
            cumulative += count.load(Relaxed);
            let _ = writeln!(out, "{name}_bucket{{le=\"{bound}\"}} {cumulative}");
        }
        let total = self.count.load(Relaxed);
        let _ = writeln!(out, "{name}_bucket{{le=\"+Inf\"}} {total}");
        let _ = writeln!(
            out,
            "{name}_sum {}",
            self.sum_micro.load(Relaxed) as f64 / 1e6
        );
        let _ = writeln!(out, "{name}_count {total}");
    }
}

pub struct Stats {
    pub received: AtomicU64,
    pub published: AtomicU64,
    pub duplicates: AtomicU64,
    pub rejected: [AtomicU64; RejectReason::ALL_CODES.len()],
    pub redeliveries: AtomicU64,
    pub errors: AtomicU64,
    pub bytes_in: AtomicU64,
    pub in_flight: AtomicI64,
    /// Messages the consumer has not delivered yet (from consumer info).
    pub consumer_pending: AtomicU64,
    pub ready: AtomicBool,
    pub processing_seconds: Histogram<12>,
    /// Time from the raw message being stored to its verdict being stored.
    pub end_to_end_seconds: Histogram<24>,
    pub payload_bytes: Histogram<8>,
}

/// A copy of the counters at one moment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Snapshot {
    pub received: u64,
    pub published: u64,
    pub duplicates: u64,
    pub rejected: u64,
    pub redeliveries: u64,
    pub errors: u64,
    pub bytes_in: u64,
}

impl Default for Stats {
    fn default() -> Self {
        Stats {
            received: AtomicU64::new(0),
            published: AtomicU64::new(0),
            duplicates: AtomicU64::new(0),
            rejected: std::array::from_fn(|_| AtomicU64::new(0)),
            redeliveries: AtomicU64::new(0),
            errors: AtomicU64::new(0),
            bytes_in: AtomicU64::new(0),
            in_flight: AtomicI64::new(0),
            consumer_pending: AtomicU64::new(0),
            ready: AtomicBool::new(false),
            processing_seconds: Histogram::new(TIME_BUCKETS),
            end_to_end_seconds: Histogram::new(LATENCY_BUCKETS),
            payload_bytes: Histogram::new(SIZE_BUCKETS),
        }
    }
}

impl Stats {
    pub fn reject(&self, reason: &RejectReason) {
        if let Some(i) = RejectReason::ALL_CODES
            .iter()
            .position(|c| *c == reason.code())
        {
            self.rejected[i].fetch_add(1, Relaxed);
        }
    }

    pub fn snapshot(&self) -> Snapshot {
        Snapshot {
            received: self.received.load(Relaxed),
            published: self.published.load(Relaxed),
            duplicates: self.duplicates.load(Relaxed),
            rejected: self.rejected.iter().map(|c| c.load(Relaxed)).sum(),
            redeliveries: self.redeliveries.load(Relaxed),
            errors: self.errors.load(Relaxed),
            bytes_in: self.bytes_in.load(Relaxed),
        }
    }

    pub fn render_prometheus(&self) -> String {
        let mut out = String::with_capacity(4096);
        let counters = [
            (
                "article_ingest_received_total",
                "Raw messages received.",
                &self.received,
            ),
            (
                "article_ingest_published_total",
                "Clean articles published.",
                &self.published,
            ),
            (
                "article_ingest_duplicates_total",
                "Articles dropped as duplicates.",
                &self.duplicates,
            ),
            (
                "article_ingest_redeliveries_total",
                "Raw messages delivered more than once.",
                &self.redeliveries,
            ),
            (
                "article_ingest_errors_total",
                "Transient failures; the message was left for redelivery.",
                &self.errors,
            ),
            (
                "article_ingest_received_bytes_total",
                "Raw payload bytes received.",
                &self.bytes_in,
            ),
        ];
        for (name, help, value) in counters {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} counter\n{name} {}",
                value.load(Relaxed)
            );
        }
        let name = "article_ingest_rejected_total";
        let _ = writeln!(out, "# HELP {name} Raw messages rejected to the dead-letter subject, by reason.\n# TYPE {name} counter");
        for (code, value) in RejectReason::ALL_CODES.iter().zip(&self.rejected) {
            let _ = writeln!(out, "{name}{{reason=\"{code}\"}} {}", value.load(Relaxed));
        }
        let gauges = [
            (
                "article_ingest_in_flight",
                "Articles being processed now.",
                self.in_flight.load(Relaxed) as f64,
            ),
            (
                "article_ingest_consumer_pending",
                "Raw messages waiting in the consumer (lag).",
                self.consumer_pending.load(Relaxed) as f64,
            ),
            (
                "article_ingest_ready",
                "1 when connected and the consumer is bound.",
                u8::from(self.ready.load(Relaxed)) as f64,
            ),
        ];
        for (name, help, value) in gauges {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {value}"
            );
        }
        self.processing_seconds.render(
            &mut out,
            "article_ingest_processing_seconds",
            "Time from receiving a raw message to acking it.",
        );
        self.end_to_end_seconds.render(
            &mut out,
            "article_ingest_end_to_end_seconds",
            "Time from a raw message being stored to its verdict being stored.",
        );
        self.payload_bytes.render(
            &mut out,
            "article_ingest_payload_bytes",
            "Size of raw payloads.",
        );
        out
    }
}

/// The summary line's numbers: totals and rates since the previous line.
pub fn summary_fields(now: Snapshot, before: Snapshot, elapsed: Duration) -> (f64, f64) {
    let secs = elapsed.as_secs_f64().max(1e-9);
    let rate = (now.received - before.received) as f64 / secs;
    let mb_rate = (now.bytes_in - before.bytes_in) as f64 / secs / 1e6;
    (rate, mb_rate)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_and_renders() {
        let stats = Stats::default();
        stats.received.fetch_add(3, Relaxed);
        stats.reject(&RejectReason::NotUtf8 { offset: 0 });
        stats.reject(&RejectReason::EmptyText);
        stats.processing_seconds.observe(0.0003);
        stats.processing_seconds.observe(5.0);
        let snap = stats.snapshot();
        assert_eq!(snap.received, 3);
        assert_eq!(snap.rejected, 2);
        let text = stats.render_prometheus();
        assert!(text.contains("article_ingest_received_total 3\n"));
        assert!(text.contains("article_ingest_rejected_total{reason=\"not_utf8\"} 1\n"));
        assert!(text.contains("article_ingest_processing_seconds_bucket{le=\"0.0005\"} 1\n"));
        assert!(text.contains("article_ingest_processing_seconds_bucket{le=\"+Inf\"} 2\n"));
        assert!(text.contains("article_ingest_processing_seconds_count 2\n"));
    }

    #[test]
    fn quantiles_from_buckets() {
        let stats = Stats::default();
        assert_eq!(stats.end_to_end_seconds.quantile(0.5), None);
        for _ in 0..98 {
            stats.end_to_end_seconds.observe(0.0012);
        }
        stats.end_to_end_seconds.observe(0.2);
        stats.end_to_end_seconds.observe(20.0);
        assert_eq!(stats.end_to_end_seconds.quantile(0.5), Some(0.0015));
        assert_eq!(stats.end_to_end_seconds.quantile(0.99), Some(0.2));
        assert_eq!(stats.end_to_end_seconds.quantile(1.0), Some(f64::INFINITY));
    }

    #[test]
    fn rates() {
        let before = Snapshot::default();
        let now = Snapshot {
            received: 100,
            bytes_in: 2_000_000,
            ..Default::default()
        };
        let (rate, mb) = summary_fields(now, before, Duration::from_secs(10));
        assert_eq!(rate, 10.0);
        assert_eq!(mb, 0.2);
    }
}
