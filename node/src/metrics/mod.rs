//! Prometheus metrics: crawls by outcome and their duration, refusals by
//! reason, upstream feed lag, request latency per route, store size, build
//! information and the usual `process_*` family. Served only on a separate address
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

/// Upper bounds (seconds) of the crawl duration histogram buckets: a
/// crawl is a network fetch (up to the 20 s request timeout by default)
/// plus verification and storage.
pub const CRAWL_BUCKETS: [f64; 12] = [
    0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 60.0,
];

/// `process_start_time_seconds`, taken when the first metrics are made
/// (at start-up, before the node listens).
static PROCESS_START: std::sync::OnceLock<f64> = std::sync::OnceLock::new();

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

/// A histogram with 12 fixed buckets (cumulative, as Prometheus wants).
#[derive(Debug)]
struct Histogram {
    bounds: &'static [f64; 12],
    buckets: [AtomicU64; 12],
    count: AtomicU64,
    sum_micros: AtomicU64,
}

impl Histogram {
    fn new(bounds: &'static [f64; 12]) -> Histogram {
        Histogram {
            bounds,
            buckets: std::array::from_fn(|_| AtomicU64::new(0)),
            count: AtomicU64::new(0),
            sum_micros: AtomicU64::new(0),
        }
    }

    fn observe(&self, d: Duration) {
        let secs = d.as_secs_f64();
        for (i, bound) in self.bounds.iter().enumerate() {
            if secs <= *bound {
                self.buckets[i].fetch_add(1, Ordering::Relaxed);
            }
        }
        self.count.fetch_add(1, Ordering::Relaxed);
        self.sum_micros
            .fetch_add(d.as_micros() as u64, Ordering::Relaxed);
    }

    /// Writes the `_bucket`, `_sum` and `_count` lines, with `labels`
    /// (`route="/v1/feed",` or empty) before `le`.
    fn render(&self, out: &mut String, name: &str, labels: &str) {
        for (i, bound) in self.bounds.iter().enumerate() {
            let _ = writeln!(
                out,
                "{name}_bucket{{{labels}le=\"{bound}\"}} {}",
                self.buckets[i].load(Ordering::Relaxed)
            );
        }
        let count = self.count.load(Ordering::Relaxed);
        let _ = writeln!(out, "{name}_bucket{{{labels}le=\"+Inf\"}} {count}");
        let plain = labels.trim_end_matches(',');
        let braces = |s: &str| {
            if s.is_empty() {
                String::new()
            } else {
                format!("{{{s}}}")
            }
        };
        let _ = writeln!(
            out,
            "{name}_sum{} {}",
            braces(plain),
            self.sum_micros.load(Ordering::Relaxed) as f64 / 1e6
        );
        let _ = writeln!(out, "{name}_count{} {count}", braces(plain));
    }
}

/// Every metric a node keeps.
#[derive(Debug)]
pub struct Metrics {
    crawls: LabelledCounter,
    refusals: LabelledCounter,
    requests: LabelledCounter,
    /// Request latency by route (the router's pattern, never the raw path,
    /// so the label set stays as small as the route table).
    latency: Mutex<BTreeMap<String, std::sync::Arc<Histogram>>>,
    crawl_duration: Histogram,
    /// Unix seconds when the last crawl finished (0: none yet).
    last_crawl: std::sync::atomic::AtomicI64,
    /// Unix seconds when these metrics were made (the node's start).
    created: i64,
}

impl Default for Metrics {
    fn default() -> Self {
        let now = jiff::Timestamp::now();
        PROCESS_START.get_or_init(|| now.as_millisecond() as f64 / 1000.0);
        Metrics {
            crawls: Default::default(),
            refusals: Default::default(),
            requests: Default::default(),
            latency: Default::default(),
            crawl_duration: Histogram::new(&CRAWL_BUCKETS),
            last_crawl: Default::default(),
            created: now.as_second(),
        }
    }
}

pub use signpost_client::store::aggregator::StoreGauges;

impl Metrics {
    /// Counts a crawl by outcome (`accepted`, `not_modified`, `failed`,
    /// ...), records how long it took and that one finished now.
    pub fn crawl(&self, outcome: &str, took: Duration) {
        self.crawls.add(outcome);
        self.crawl_duration.observe(took);
        self.last_crawl
            .store(jiff::Timestamp::now().as_second(), Ordering::Relaxed);
    }

    /// Seconds since the last crawl finished, or since the node started
    /// when none has yet (what `/readyz` compares with its bound).
    pub fn crawl_age_secs(&self) -> i64 {
        let last = self.last_crawl.load(Ordering::Relaxed).max(self.created);
        jiff::Timestamp::now().as_second() - last
    }

    /// Counts a refused listing by its reason code.
    pub fn refusal(&self, code: &str) {
        self.refusals.add(code);
    }

    /// Records one HTTP request's latency (under its route pattern, e.g.
    /// `/v1/services/{hub_id}/{service_id}`, or `unmatched`) and status class.
    pub fn request(&self, route: &str, status: u16, took: Duration) {
        self.requests.add(match status {
            100..=199 => "1xx",
            200..=299 => "2xx",
            300..=399 => "3xx",
            400..=499 => "4xx",
            _ => "5xx",
        });
        let histogram = self.latency.lock().ok().map(|mut map| {
            let key = if map.contains_key(route) || map.len() < MAX_LABELS {
                route
            } else {
                "other"
            };
            map.entry(key.to_owned())
                .or_insert_with(|| std::sync::Arc::new(Histogram::new(&LATENCY_BUCKETS)))
                .clone()
        });
        if let Some(h) = histogram {
            h.observe(took);
        }
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
            "# HELP signpost_http_request_duration_seconds Time to answer HTTP requests, by route."
        );
        let _ = writeln!(
            out,
            "# TYPE signpost_http_request_duration_seconds histogram"
        );
        let routes: Vec<(String, std::sync::Arc<Histogram>)> = self
            .latency
            .lock()
            .map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
            .unwrap_or_default();
        for (route, h) in &routes {
            h.render(
                &mut out,
                "signpost_http_request_duration_seconds",
                &format!("route=\"{}\",", escape(route)),
            );
        }
        let _ = writeln!(
            out,
            "# HELP signpost_crawl_duration_seconds Time to crawl one hub address (fetch, verify, store)."
        );
        let _ = writeln!(out, "# TYPE signpost_crawl_duration_seconds histogram");
        self.crawl_duration
            .render(&mut out, "signpost_crawl_duration_seconds", "");
        let _ = writeln!(
            out,
            "# HELP signpost_build_info The running build: version, 1.\n# TYPE signpost_build_info gauge\nsignpost_build_info{{version=\"{}\"}} 1",
            env!("CARGO_PKG_VERSION")
        );
        process(&mut out);
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

/// The `process_*` family every Prometheus client library exports, read
/// from `/proc/self` (Linux; elsewhere only the start time is known).
fn process(out: &mut String) {
    let mut gauge = |name: &str, kind: &str, help: &str, value: f64| {
        let _ = writeln!(
            out,
            "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}"
        );
    };
    if let Some(start) = PROCESS_START.get() {
        gauge(
            "process_start_time_seconds",
            "gauge",
            "Start time of the process since unix epoch in seconds.",
            *start,
        );
    }
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kib = |field: &str| {
        status
            .lines()
            .find(|l| l.starts_with(field))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|n| n.parse::<f64>().ok())
            .map(|n| n * 1024.0)
    };
    if let Some(rss) = kib("VmRSS:") {
        gauge(
            "process_resident_memory_bytes",
            "gauge",
            "Resident memory size in bytes.",
            rss,
        );
    }
    if let Some(vm) = kib("VmSize:") {
        gauge(
            "process_virtual_memory_bytes",
            "gauge",
            "Virtual memory size in bytes.",
            vm,
        );
    }
    // Fields 14 and 15 of /proc/self/stat (after the parenthesised name)
    // are user and system time in clock ticks, 100 a second on Linux.
    if let Some(cpu) = std::fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|stat| {
            let after = stat.rsplit_once(')')?.1;
            let fields: Vec<&str> = after.split_whitespace().collect();
            let user = fields.get(11)?.parse::<f64>().ok()?;
            let system = fields.get(12)?.parse::<f64>().ok()?;
            Some((user + system) / 100.0)
        })
    {
        gauge(
            "process_cpu_seconds_total",
            "counter",
            "Total user and system CPU time spent in seconds.",
            cpu,
        );
    }
    if let Ok(fds) = std::fs::read_dir("/proc/self/fd") {
        gauge(
            "process_open_fds",
            "gauge",
            "Number of open file descriptors.",
            fds.count() as f64,
        );
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
        m.crawl("accepted", Duration::from_millis(40));
        m.crawl("accepted", Duration::from_secs(3));
        m.refusal("bad_signature");
        for i in 0..200 {
            m.refusal(&format!("invented_{i}"));
        }
        m.request("/v1/services", 200, Duration::from_millis(3));
        m.request("unmatched", 404, Duration::from_millis(30));
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
        assert!(text.contains(
            "signpost_http_request_duration_seconds_bucket{route=\"/v1/services\",le=\"0.005\"} 1"
        ));
        assert!(
            text.contains("signpost_http_request_duration_seconds_count{route=\"unmatched\"} 1")
        );
        assert!(text.contains("signpost_crawl_duration_seconds_bucket{le=\"0.05\"} 1"));
        assert!(text.contains("signpost_crawl_duration_seconds_count 2"));
        assert!(text.contains("signpost_build_info{version=\""));
        assert!(text.contains("process_start_time_seconds "));
        if cfg!(target_os = "linux") {
            assert!(text.contains("process_resident_memory_bytes "));
            assert!(text.contains("process_cpu_seconds_total "));
        }
        assert!(m.crawl_age_secs() <= 1);
        assert!(text.contains("signpost_http_requests_total{status=\"4xx\"} 1"));
    }
}
