//! `signpost-bench crawl`: serves N signed listings from up to 1,000
//! loopback listeners (each its own "host", so per-host politeness does not
//! serialise them), has a real aggregator crawl them all into a fresh
//! SQLite store, then crawl them again (every answer a 304); beside the
//! raw verify rate of one core and the floor of what each listing must
//! cost, measured in the same run.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use futures_util::StreamExt;
use jiff::Timestamp;
use signpost_client::store::aggregator::{self as db, Origin};
use signpost_node::aggregator::Aggregator;
use signpost_node::config::{AggregatorSection, Config};
use signpost_node::crawl;
use signpost_spec::{pae, Limits, Listing, LISTING_PAYLOAD_TYPE};

use crate::fixtures::{bench_key, bench_listing, raw_verify_rate, SERVICES_HELD};

/// What to measure.
#[derive(Debug, Clone)]
pub struct CrawlBenchOptions {
    /// How many hubs to serve and crawl.
    pub hubs: usize,
    /// Services in each hub's listing.
    pub services: usize,
    /// Crawls in flight at once.
    pub concurrency: usize,
}

/// What was measured.
#[derive(Debug, Clone)]
pub struct CrawlBenchReport {
    /// The options used.
    pub options: CrawlBenchOptions,
    /// Mean envelope size in bytes.
    pub mean_envelope_bytes: usize,
    /// One core's `verify_strict` rate over a typical listing's signed bytes.
    pub raw_verify_per_sec: f64,
    /// The same over a 64-byte message (the textbook figure).
    pub raw_verify_small_per_sec: f64,
    /// One core's rate of the spec crate's whole `verify_listing` (size,
    /// shape, parse, validation, signature) over the bench listings.
    pub full_verify_per_sec: f64,
    /// The floor: listings per second if each cost only what it must (raw
    /// `verify_strict` of its signed bytes, one typed parse of its payload,
    /// and filing its services in the search index), on every core.
    pub floor_per_sec: f64,
    /// The floor's parts, one core, per second: typed parse ...
    pub floor_parse_per_sec: f64,
    /// ... and filing a listing's services in the index (committed).
    pub floor_index_per_sec: f64,
    /// Listings verified and stored per second without HTTP, `concurrency`
    /// at a time (verification on every core, the store group-committed).
    pub direct_ingest_per_sec: f64,
    /// Cores kept busy on average while ingesting without HTTP (None where
    /// the process's CPU time cannot be read).
    pub direct_cores_busy: Option<f64>,
    /// Seconds for the full first crawl.
    pub full_crawl_secs: f64,
    /// Cores kept busy on average during the full crawl (the bench's own
    /// hub servers included).
    pub crawl_cores_busy: Option<f64>,
    /// Listings accepted in it.
    pub accepted: usize,
    /// Seconds for the second crawl (all 304).
    pub recrawl_secs: f64,
    /// Sources answered 304 in it.
    pub not_modified: usize,
    /// Services searchable afterwards.
    pub stored_services: u64,
}

impl CrawlBenchReport {
    /// Listings verified and stored per second in the first crawl.
    pub fn ingest_per_sec(&self) -> f64 {
        self.accepted as f64 / self.full_crawl_secs
    }

    /// Ingest rate as a fraction of one core's raw verify rate.
    pub fn ingest_ratio(&self) -> f64 {
        self.ingest_per_sec() / self.raw_verify_per_sec
    }

    /// Ingest rate as a fraction of the floor measured in the same run.
    pub fn floor_ratio(&self) -> f64 {
        self.ingest_per_sec() / self.floor_per_sec
    }

    /// Hubs per second when nothing changed.
    pub fn recrawl_per_sec(&self) -> f64 {
        self.not_modified as f64 / self.recrawl_secs
    }

    /// The report as Markdown, with the command that produced it.
    pub fn markdown(&self, command: &str) -> String {
        let o = &self.options;
        format!(
            "Command: `{command}`\n\n\
             Machine: {cores} cores (as seen by the process), measured {when}.\n\n\
             | figure | value | ratio to baseline |\n\
             | --- | --- | --- |\n\
             | baseline: raw `verify_strict`, one core, {bytes}-byte signed message (a typical listing) | {raw:.0} /s | 1 |\n\
             | raw `verify_strict`, one core, 64-byte message | {small:.0} /s | {small_ratio:.2} |\n\
             | `verify_listing` (size, shape, parse, validation, signature), one core | {full:.0} /s | {full_ratio:.3} |\n\
             | floor part: one typed parse of the payload, one core | {parse:.0} /s | {parse_ratio:.3} |\n\
             | floor part: filing a listing's services in the search index, one core | {index:.0} /s | {index_ratio:.3} |\n\
             | floor: raw verify + typed parse + index, per listing, times {cores} cores | {floor:.0} listings/s | {floor_ratio:.3} |\n\
             | ingest without HTTP, {conc} at a time (verify on every core, judge, group-committed store, searchable) | {direct:.0} listings/s | {direct_ratio:.3} |\n\
             | full crawl: {hubs} hubs × {services} services, verified and stored | {ingest:.0} listings/s ({secs:.2} s, {svc:.0} services/s) | {ratio:.3} |\n\
             | unchanged recrawl (all 304) | {recrawl:.0} hubs/s ({rsecs:.2} s) | {rratio:.3} |\n\n\
             Accepted {accepted} of {hubs} listings; {stored} services searchable afterwards; \
             {not_modified} of {hubs} answered 304 on the recrawl; {conc} crawls in flight at most.\n\n\
             Full crawl against the floor measured in this run: {of_floor:.2} (target: at least 0.6). \
             Cores busy on average: {direct_busy} without HTTP, {crawl_busy} in the full crawl.\n",
            direct_busy = busy(self.direct_cores_busy),
            crawl_busy = busy(self.crawl_cores_busy),
            parse = self.floor_parse_per_sec,
            parse_ratio = self.floor_parse_per_sec / self.raw_verify_per_sec,
            index = self.floor_index_per_sec,
            index_ratio = self.floor_index_per_sec / self.raw_verify_per_sec,
            floor = self.floor_per_sec,
            floor_ratio = self.floor_per_sec / self.raw_verify_per_sec,
            of_floor = self.floor_ratio(),
            cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
            when = Timestamp::now().strftime("%Y-%m-%d"),
            bytes = self.mean_envelope_bytes,
            raw = self.raw_verify_per_sec,
            small = self.raw_verify_small_per_sec,
            small_ratio = self.raw_verify_small_per_sec / self.raw_verify_per_sec,
            full = self.full_verify_per_sec,
            direct = self.direct_ingest_per_sec,
            direct_ratio = self.direct_ingest_per_sec / self.raw_verify_per_sec,
            full_ratio = self.full_verify_per_sec / self.raw_verify_per_sec,
            hubs = o.hubs,
            services = o.services,
            ingest = self.ingest_per_sec(),
            secs = self.full_crawl_secs,
            svc = self.ingest_per_sec() * o.services as f64,
            ratio = self.ingest_ratio(),
            recrawl = self.recrawl_per_sec(),
            rsecs = self.recrawl_secs,
            rratio = self.recrawl_per_sec() / self.raw_verify_per_sec,
            accepted = self.accepted,
            stored = self.stored_services,
            not_modified = self.not_modified,
            conc = o.concurrency,
        )
    }
}

#[derive(Clone)]
struct Served {
    bytes: axum::body::Bytes,
    etag: String,
}

/// Most loopback listeners a crawl bench opens: each is a "host" to the
/// crawler's politeness rules; more hubs share listeners by path (the
/// file-descriptor limit would not allow 10,000 listeners and their
/// connections).
const MAX_BENCH_LISTENERS: usize = 1000;

async fn serve(
    State(served): State<Arc<Vec<Served>>>,
    axum::extract::Path(i): axum::extract::Path<usize>,
    headers: HeaderMap,
) -> Response {
    let Some(served) = served.get(i) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    if headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        == Some(served.etag.as_str())
    {
        return (
            StatusCode::NOT_MODIFIED,
            [(header::ETAG, served.etag.clone())],
        )
            .into_response();
    }
    (
        [
            (header::CONTENT_TYPE, "application/json".to_owned()),
            (header::ETAG, served.etag.clone()),
        ],
        served.bytes.clone(),
    )
        .into_response()
}

/// Cores busy, as the report writes it.
fn busy(cores: Option<f64>) -> String {
    cores.map_or_else(|| "unknown".into(), |c| format!("{c:.2}"))
}

/// CPU seconds this process has used so far, all threads (Linux's
/// `/proc/self/stat`, in USER_HZ ticks of 1/100 s); None elsewhere. Tells
/// a benchmark whether a slow phase was busy or waiting.
fn process_cpu_secs() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name (which may hold spaces) in brackets:
    // utime and stime are the 12th and 13th.
    let after = stat.rsplit_once(')')?.1;
    let mut fields = after.split_whitespace().skip(11);
    let user: f64 = fields.next()?.parse().ok()?;
    let system: f64 = fields.next()?.parse().ok()?;
    Some((user + system) / 100.0)
}

/// Average cores busy since (`cpu`, `wall`) were taken.
fn cores_busy(cpu: Option<f64>, wall: Instant) -> Option<f64> {
    Some((process_cpu_secs()? - cpu?) / wall.elapsed().as_secs_f64())
}

/// One core's rates of the two parts of the floor besides the signature:
/// a typed parse of each payload, and filing each listing's services in a
/// search index (one indexing thread, committed at the end).
fn floor_rates(listings: &[Vec<u8>]) -> Result<(f64, f64)> {
    let limits = Limits::default();
    let payloads = listings
        .iter()
        .map(|bytes| {
            signpost_spec::Envelope::from_bytes(bytes, &limits)?
                .decode_payload(LISTING_PAYLOAD_TYPE, &limits)
        })
        .collect::<std::result::Result<Vec<_>, _>>()?;
    let started = Instant::now();
    let mut parsed = Vec::with_capacity(payloads.len());
    for payload in &payloads {
        let listing: Listing =
            serde_json::from_slice(payload).context("bench: a listing does not parse")?;
        parsed.push(listing);
    }
    let parse_per_sec = payloads.len() as f64 / started.elapsed().as_secs_f64();
    let index = signpost_client::search::index::SearchIndex::in_memory()?;
    let started = Instant::now();
    let mut preparing = Duration::ZERO;
    for (i, listing) in parsed.iter().enumerate() {
        let reading = Instant::now();
        let prepared: Vec<_> = listing
            .services
            .iter()
            .map(|s| signpost_client::search::index::prepare(s, &listing.hub.id, &listing.hub.name))
            .collect();
        preparing += reading.elapsed();
        let entries: Vec<_> = prepared
            .iter()
            .enumerate()
            .map(
                |(position, prepared)| signpost_client::search::index::Entry {
                    key: signpost_client::search::index::service_key(i as i64, position as u32),
                    position: position as u32,
                    prepared,
                },
            )
            .collect();
        index.replace_hub(
            &listing.hub.id,
            &listing.hub.timezone,
            &entries,
            i as i64 + 1,
        )?;
    }
    let filed = started.elapsed();
    index.commit_if_dirty()?;
    let index_per_sec = parsed.len() as f64 / started.elapsed().as_secs_f64();
    tracing::info!(
        listings = parsed.len(),
        preparing_secs = preparing.as_secs_f64(),
        adding_secs = (filed - preparing).as_secs_f64(),
        committing_secs = (started.elapsed() - filed).as_secs_f64(),
        "where the floor's index time goes"
    );
    Ok((parse_per_sec, index_per_sec))
}

/// Runs the crawl benchmark in a temporary directory.
pub async fn crawl_bench(options: CrawlBenchOptions) -> Result<CrawlBenchReport> {
    eprintln!(
        "signing {} listings of {} services...",
        options.hubs, options.services
    );
    let (hubs, services) = (options.hubs, options.services);
    let listings = tokio::task::spawn_blocking(move || -> Result<Vec<Vec<u8>>> {
        (0..hubs)
            .map(|i| bench_listing(i, services, &bench_key(i)?))
            .collect()
    })
    .await
    .context("bench")??;
    let mean_envelope_bytes = listings.iter().map(Vec::len).sum::<usize>() / listings.len().max(1);

    eprintln!("measuring the raw verify rate of one core...");
    let sample = listings.first().cloned().unwrap_or_default();
    let (raw, small) = tokio::task::spawn_blocking(move || -> Result<(f64, f64)> {
        let payload = signpost_spec::Envelope::from_bytes(&sample, &Limits::default())?
            .decode_payload(LISTING_PAYLOAD_TYPE, &Limits::default())?;
        let message = pae(LISTING_PAYLOAD_TYPE, &payload);
        Ok((
            raw_verify_rate(&message, Duration::from_secs(2))?,
            raw_verify_rate(&[7u8; 64], Duration::from_secs(2))?,
        ))
    })
    .await
    .context("bench")??;

    eprintln!("measuring the full verify path (parse, validate, signature) of one core...");
    let sample_all: Vec<Vec<u8>> = listings.iter().take(1000).cloned().collect();
    let full_verify_per_sec = tokio::task::spawn_blocking(move || -> Result<f64> {
        let opts = signpost_spec::VerifyOptions::now();
        let started = Instant::now();
        for bytes in &sample_all {
            signpost_spec::verify_listing(bytes, &opts)?;
        }
        Ok(sample_all.len() as f64 / started.elapsed().as_secs_f64())
    })
    .await
    .context("bench")??;

    eprintln!("measuring the floor: one typed parse, and filing in the index, on one core...");
    let sample_all: Vec<Vec<u8>> = listings.iter().take(1000).cloned().collect();
    let (floor_parse_per_sec, floor_index_per_sec) =
        tokio::task::spawn_blocking(move || floor_rates(&sample_all))
            .await
            .context("bench")??;
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get()) as f64;
    let floor_per_sec = cores / (1.0 / raw + 1.0 / floor_parse_per_sec + 1.0 / floor_index_per_sec);

    eprintln!(
        "ingesting directly (no HTTP), {} at a time...",
        options.concurrency
    );
    let direct_dir = tempfile::tempdir().context("creating a temp dir")?;
    let direct = Aggregator::open_db(
        &direct_dir.path().join("direct.db"),
        &AggregatorSection {
            enabled: true,
            ..AggregatorSection::default()
        },
    )?;
    let started = Instant::now();
    let cpu = process_cpu_secs();
    let mut ingests = futures_util::stream::iter(listings.iter().cloned())
        .map(|bytes| direct.ingest(bytes, None))
        .buffer_unordered(options.concurrency.max(1));
    while let Some(outcome) = ingests.next().await {
        outcome?;
    }
    drop(ingests);
    // Until searchable, as the full crawl: the index thread's work must not
    // spill into the next phase.
    direct.make_searchable().await?;
    let direct_ingest_per_sec = listings.len() as f64 / started.elapsed().as_secs_f64();
    let direct_cores_busy = cores_busy(cpu, started);
    drop(direct);

    let listeners = options.hubs.clamp(1, MAX_BENCH_LISTENERS);
    eprintln!(
        "serving {} hubs on {listeners} loopback listeners...",
        options.hubs
    );
    let served: Arc<Vec<Served>> = Arc::new(
        listings
            .into_iter()
            .map(|bytes| Served {
                etag: signpost_node::hub::etag_of(&bytes),
                bytes: bytes.into(),
            })
            .collect(),
    );
    let mut addrs: Vec<SocketAddr> = Vec::with_capacity(listeners);
    let mut servers = Vec::with_capacity(listeners);
    for _ in 0..listeners {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
            .await
            .context("binding a bench listener on 127.0.0.1")?;
        addrs.push(
            listener
                .local_addr()
                .context("reading the address of a bench listener")?,
        );
        let app = Router::new()
            .route("/h/{i}/listing", get(serve))
            .with_state(served.clone());
        servers.push(tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        }));
    }

    let dir = tempfile::tempdir().context("creating a temp dir")?;
    let mut config = Config::default();
    config.aggregator.enabled = true;
    config.aggregator.allow_private_networks = true;
    config.aggregator.max_concurrent_crawls = options.concurrency;
    let agg = Arc::new(Aggregator::open(dir.path(), &config)?);
    let urls: Vec<String> = (0..options.hubs)
        .map(|i| format!("http://{}/h/{i}/listing", addrs[i % listeners]))
        .collect();
    agg.write(move |conn| {
        let tx = conn.transaction()?;
        for url in &urls {
            db::add_source(&tx, url, Origin::Cli, 0)?;
        }
        tx.commit()?;
        Ok(())
    })
    .await?;

    eprintln!("full crawl...");
    let started = Instant::now();
    let cpu = process_cpu_secs();
    let reports = crawl::crawl_all_now(&agg).await?;
    agg.make_searchable().await?;
    let full_crawl_secs = started.elapsed().as_secs_f64();
    let crawl_cores_busy = cores_busy(cpu, started);
    let accepted = reports.iter().filter(|r| r.outcome == "accepted").count();
    if let Some(bad) = reports.iter().find(|r| r.outcome != "accepted") {
        eprintln!("warning: {} was {}: {:?}", bad.url, bad.outcome, bad.error);
    }

    eprintln!("unchanged recrawl...");
    let started = Instant::now();
    let reports = crawl::crawl_all_now(&agg).await?;
    let recrawl_secs = started.elapsed().as_secs_f64();
    let not_modified = reports
        .iter()
        .filter(|r| r.outcome == "not_modified")
        .count();
    let stored_services = agg
        .read(|c| Ok(c.query_row(SERVICES_HELD, [], |r| r.get::<_, i64>(0))? as u64))
        .await?;
    for s in servers {
        s.abort();
    }
    Ok(CrawlBenchReport {
        options,
        mean_envelope_bytes,
        raw_verify_per_sec: raw,
        raw_verify_small_per_sec: small,
        full_verify_per_sec,
        floor_per_sec,
        floor_parse_per_sec,
        floor_index_per_sec,
        direct_ingest_per_sec,
        direct_cores_busy,
        full_crawl_secs,
        crawl_cores_busy,
        accepted,
        recrawl_secs,
        not_modified,
        stored_services,
    })
}
