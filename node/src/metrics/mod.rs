//! Prometheus metrics: crawls by outcome, refusals by reason, upstream feed
//! lag, request latency, and store size. Served only on a separate address
//! (`node.metrics_listen`), off unless configured, so the public port never
//! exposes operational detail.
//!
//! A handful of counters does not need a metrics framework: these are
//! atomics and a fixed-bucket histogram, rendered in the Prometheus text
//! format at scrape time.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

/// Upper bounds (seconds) of the request latency histogram buckets.
pub const LATENCY_BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
];

/// Most distinct label values kept per counter family (bounded memory even
/// if a hostile hub invents reasons).
const MAX_LABELS: usize = 64;

/// A counter family keyed by one label value.
#[derive(Debug, Default)]
struct LabelledCounter {
    values: Mutex<BTreeMap<String, u64>>,
}

impl LabelledCounter {
    fn add(&self, label: &str) {
        if let Ok(mut map) = self.values.lock() {
            let key = if map.contains_key(label) || map.len() < MAX_LABELS {
                label.to_owned()
            } else {
                "other".to_owned()
            };
            *map.entry(key).or_default() += 1;
        }
    }

    fn snapshot(&self) -> BTreeMap<String, u64> {
        self.values.lock().map(|m| m.clone()).unwrap_or_default()
    }
}

/// A latency histogram with fixed buckets.
#[derive(Debug)]
struct Histogram {
    buckets: [AtomicU64; LATENCY_BUCKETS.len()],
    count: AtomicU64,
    sum_micros: AtomicU64,
}

impl Default for Histogram {
    fn default() -> Self {
        Histogram {
            buckets: std::array::from_fn(|_| AtomicU64::new(0)),
            count: AtomicU64::new(0),
            sum_micros: AtomicU64::new(0),
        }
    }
}

impl Histogram {
    fn observe(&self, d: Duration) {
        let secs = d.as_secs_f64();
        for (i, bound) in LATENCY_BUCKETS.iter().enumerate() {
            if secs <= *bound {
                self.buckets[i].fetch_add(1, Ordering::Relaxed);
            }
        }
        self.count.fetch_add(1, Ordering::Relaxed);
        self.sum_micros
            .fetch_add(d.as_micros() as u64, Ordering::Relaxed);
    }
}

/// Every metric a node keeps.
#[derive(Debug, Default)]
pub struct Metrics {
    crawls: LabelledCounter,
    refusals: LabelledCounter,
    requests: LabelledCounter,
    latency: Histogram,
}

pub use signpost_client::store::aggregator::StoreGauges;

impl Metrics {
    /// Counts a crawl by outcome (`accepted`, `not_modified`, `failed`, ...).
    pub fn crawl(&self, outcome: &str) {
        self.crawls.add(outcome);
    }

    /// Counts a refused listing by its reason code.
    pub fn refusal(&self, code: &str) {
        self.refusals.add(code);
    }

    /// Records one HTTP request's latency and status class.
    pub fn request(&self, status: u16, took: Duration) {
        self.requests.add(match status {
            100..=199 => "1xx",
            200..=299 => "2xx",
            300..=399 => "3xx",
            400..=499 => "4xx",
            _ => "5xx",
        });
        self.latency.observe(took);
    }

    /// The Prometheus text exposition.
    pub fn render(&self, store: Option<&StoreGauges>) -> String {
        let mut out = String::new();
        family(
            &mut out,
            "signpost_crawls_total",
            "counter",
            "Crawls of hub addresses, by outcome.",
            "outcome",
            &self.crawls.snapshot(),
        );
        family(
            &mut out,
            "signpost_refusals_total",
            "counter",
            "Listings refused by verification or acceptance rules, by reason.",
            "reason",
            &self.refusals.snapshot(),
        );
        family(
            &mut out,
            "signpost_http_requests_total",
            "counter",
            "HTTP requests served, by status class.",
            "status",
            &self.requests.snapshot(),
        );
        let _ = writeln!(
            out,
            "# HELP signpost_http_request_duration_seconds Time to answer HTTP requests."
        );
        let _ = writeln!(
            out,
            "# TYPE signpost_http_request_duration_seconds histogram"
        );
        for (i, bound) in LATENCY_BUCKETS.iter().enumerate() {
            let _ = writeln!(
                out,
                "signpost_http_request_duration_seconds_bucket{{le=\"{bound}\"}} {}",
                self.latency.buckets[i].load(Ordering::Relaxed)
            );
        }
        let count = self.latency.count.load(Ordering::Relaxed);
        let _ = writeln!(
            out,
            "signpost_http_request_duration_seconds_bucket{{le=\"+Inf\"}} {count}"
        );
        let _ = writeln!(
            out,
            "signpost_http_request_duration_seconds_sum {}",
            self.latency.sum_micros.load(Ordering::Relaxed) as f64 / 1e6
        );
        let _ = writeln!(out, "signpost_http_request_duration_seconds_count {count}");
        if let Some(s) = store {
            let _ = writeln!(
                out,
                "# HELP signpost_store_bytes Size of the database and its WAL."
            );
            let _ = writeln!(out, "# TYPE signpost_store_bytes gauge");
            let _ = writeln!(out, "signpost_store_bytes {}", s.bytes);
            family(
                &mut out,
                "signpost_hubs",
                "gauge",
                "Hubs held, by state.",
                "state",
                &s.hubs,
            );
            let _ = writeln!(out, "# HELP signpost_services Services searchable.");
            let _ = writeln!(out, "# TYPE signpost_services gauge");
            let _ = writeln!(out, "signpost_services {}", s.services);
            let _ = writeln!(out, "# HELP signpost_upstream_lag_seconds Seconds since each upstream feed was last read to the end.");
            let _ = writeln!(out, "# TYPE signpost_upstream_lag_seconds gauge");
            for (url, lag) in &s.upstream_lag_secs {
                let _ = writeln!(
                    out,
                    "signpost_upstream_lag_seconds{{upstream=\"{}\"}} {lag}",
                    escape(url)
                );
            }
        }
        out
    }
}

fn escape(label: &str) -> String {
    label
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

fn family(
    out: &mut String,
    name: &str,
    kind: &str,
    help: &str,
    label: &str,
    values: &BTreeMap<String, u64>,
) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
    for (value, n) in values {
        let _ = writeln!(out, "{name}{{{label}=\"{}\"}} {n}", escape(value));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_prometheus_text_with_bounded_labels() {
        let m = Metrics::default();
        m.crawl("accepted");
        m.crawl("accepted");
        m.refusal("bad_signature");
        for i in 0..200 {
            m.refusal(&format!("invented_{i}"));
        }
        m.request(200, Duration::from_millis(3));
        m.request(404, Duration::from_millis(30));
        let text = m.render(None);
        assert!(text.contains("signpost_crawls_total{outcome=\"accepted\"} 2"));
        assert!(text.contains("signpost_refusals_total{reason=\"bad_signature\"} 1"));
        assert!(text.contains("signpost_refusals_total{reason=\"other\"}"));
        assert!(
            text.lines()
                .filter(|l| l.starts_with("signpost_refusals_total"))
                .count()
                <= MAX_LABELS + 1
        );
        assert!(text.contains("signpost_http_request_duration_seconds_bucket{le=\"0.005\"} 1"));
        assert!(text.contains("signpost_http_request_duration_seconds_count 2"));
        assert!(text.contains("signpost_http_requests_total{status=\"4xx\"} 1"));
    }
}
