//! `signpost-node bench`: measured performance, always beside a baseline
//! taken in the same run on the same machine (the raw Ed25519
//! `verify_strict` rate of one core), so figures from different machines
//! can be compared as ratios.
//!
//! The crawl benchmark serves N signed listings from up to 1,000 loopback
//! listeners (each its own "host", so per-host politeness does not
//! serialise them),
//! then has a real aggregator crawl them all into a fresh SQLite store, and
//! then crawl them again (every answer a 304).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use futures_util::StreamExt;
use jiff::{SignedDuration, Timestamp};
use sha2::{Digest, Sha256};
use signpost_spec::{
    pae, sign_listing, HubKey, HubProfile, Limits, Listing, Service, LISTING_PAYLOAD_TYPE,
};

use crate::aggregator::Aggregator;
use crate::config::{AggregatorSection, Config};
use crate::crawl;
use crate::error::{NodeError, Result};
use signpost_client::store::aggregator::{self as db, Origin};

/// Services the store says its active hubs hold.
const SERVICES_HELD: &str =
    "SELECT COALESCE(SUM(services), 0) FROM agg_hubs WHERE state = 'active'";

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

const WORDS: &[&str] = &[
    "food",
    "pantry",
    "advice",
    "debt",
    "benefits",
    "youth",
    "club",
    "wellbeing",
    "walk",
    "job",
    "digital",
    "café",
    "warm",
    "space",
    "parents",
    "toddlers",
    "befriending",
    "housing",
    "library",
    "laundry",
    "art",
    "garden",
    "men's",
    "shed",
    "choir",
    "yoga",
    "English",
];
const CATEGORIES: &[&str] = &[
    "Food",
    "Cost of living",
    "Advice",
    "Employment",
    "Youth",
    "Wellbeing",
    "Mental health",
    "Digital inclusion",
    "Learning",
    "Social",
    "Older people",
    "Families",
];
const DAYS: &[&str] = &[
    "MO",
    "TU",
    "WE",
    "TH",
    "FR",
    "SA",
    "SU",
    "MO,WE",
    "TU,TH",
    "MO,TU,WE,TH,FR",
];

/// A deterministic hub key for bench hub `i`.
pub fn bench_key(i: usize) -> Result<HubKey> {
    let seed: [u8; 32] = Sha256::digest(format!("signpost bench hub {i}")).into();
    Ok(HubKey::from_seed(&seed)?)
}

/// A realistic listing for bench hub `i` with `services` services, signed.
pub fn bench_listing(i: usize, services: usize, key: &HubKey) -> Result<Vec<u8>> {
    sign_bench_listing(&bench_listing_unsigned(i, services, key)?, key)
}

/// Signs a bench listing (after a benchmark has changed what it needs).
pub fn sign_bench_listing(listing: &Listing, key: &HubKey) -> Result<Vec<u8>> {
    Ok(sign_listing(listing, key, &Limits::default())?)
}

/// The listing [`bench_listing`] signs: hub `i`'s profile and `services`
/// services, spread over Lancashire and South Cumbria.
pub fn bench_listing_unsigned(i: usize, services: usize, key: &HubKey) -> Result<Listing> {
    let now = Timestamp::now();
    // Spread hubs over Lancashire and South Cumbria.
    let lat = 53.70 + (i % 97) as f64 * 0.006;
    let lon = -3.05 + (i % 89) as f64 * 0.006;
    let hub: HubProfile = serde_json::from_value(serde_json::json!({
        "id": key.key_id().to_string(),
        "name": format!("Community hub {i}"),
        "description": "A bench hub with a realistic spread of services.",
        "area_served": format!("Ward {}", i % 300),
        "latitude": lat, "longitude": lon,
        "dimensions": {"space": ["dedicated"], "governance": "community-led",
                       "focus": "generic", "coordination": "first-level"}
    }))
    .map_err(|e| NodeError::Setup(format!("bench profile: {e}")))?;
    let mut list = Vec::with_capacity(services);
    for s in 0..services {
        let n = i * 7919 + s * 104_729;
        let name = format!(
            "{} {} {}",
            WORDS[n % WORDS.len()],
            WORDS[(n / 7) % WORDS.len()],
            s
        );
        let service: Service = serde_json::from_value(serde_json::json!({
            "id": uuid::Uuid::from_u128(((i as u128) << 32) | s as u128).to_string(),
            "name": name,
            "description": format!("{name}: a session run by volunteers for anyone in the area who needs it. Drop in or call first; we can help with forms, food and a friendly chat."),
            "organization": {"name": format!("Community hub {i}")},
            "eligibility_description": "Anyone",
            "access": ["walk-in"],
            "phones": [{"number": format!("01632 960{:03}", n % 1000)}],
            "locations": [{"id": uuid::Uuid::from_u128(((i as u128) << 64) | s as u128).to_string(),
                           "name": "Main hall",
                           "address": {"address_1": format!("{} High Street", s + 1), "city": "Lancaster", "postal_code": "LA1 1AA", "country": "GB"},
                           "latitude": lat + (s as f64) * 0.0001, "longitude": lon}],
            "schedules": [{"byday": DAYS[n % DAYS.len()], "opens_at": "10:00", "closes_at": "13:00"}],
            "taxonomy_terms": [{"name": CATEGORIES[n % CATEGORIES.len()]}]
        }))
        .map_err(|e| NodeError::Setup(format!("bench service: {e}")))?;
        list.push(service);
    }
    let listing = Listing {
        signpost: "1".into(),
        hub,
        seq: 1,
        issued_at: now - SignedDuration::from_secs(5),
        expires_at: now + SignedDuration::from_hours(24 * 7),
        withdrawn: false,
        rotations: vec![],
        services: list,
    };
    Ok(listing)
}

/// One core's `verify_strict` rate over `message`, measured for about `for_`.
pub fn raw_verify_rate(message: &[u8], for_: Duration) -> Result<f64> {
    let key = bench_key(usize::MAX)?;
    let signature = key.sign_raw(message);
    let id = key.key_id().clone();
    let started = Instant::now();
    let mut count = 0u64;
    while started.elapsed() < for_ {
        for _ in 0..64 {
            id.verify(message, &signature)?;
        }
        count += 64;
    }
    Ok(count as f64 / started.elapsed().as_secs_f64())
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
        let listing: Listing = serde_json::from_slice(payload)
            .map_err(|e| NodeError::Setup(format!("bench: a listing does not parse: {e}")))?;
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
    .map_err(|e| NodeError::Setup(format!("bench: {e}")))??;
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
    .map_err(|e| NodeError::Setup(format!("bench: {e}")))??;

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
    .map_err(|e| NodeError::Setup(format!("bench: {e}")))??;

    eprintln!("measuring the floor: one typed parse, and filing in the index, on one core...");
    let sample_all: Vec<Vec<u8>> = listings.iter().take(1000).cloned().collect();
    let (floor_parse_per_sec, floor_index_per_sec) =
        tokio::task::spawn_blocking(move || floor_rates(&sample_all))
            .await
            .map_err(|e| NodeError::Setup(format!("bench: {e}")))??;
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get()) as f64;
    let floor_per_sec = cores / (1.0 / raw + 1.0 / floor_parse_per_sec + 1.0 / floor_index_per_sec);

    eprintln!(
        "ingesting directly (no HTTP), {} at a time...",
        options.concurrency
    );
    let direct_dir = tempfile::tempdir().map_err(|e| NodeError::io("creating", "a temp dir", e))?;
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
                etag: crate::hub::etag_of(&bytes),
                bytes: bytes.into(),
            })
            .collect(),
    );
    let mut addrs: Vec<SocketAddr> = Vec::with_capacity(listeners);
    let mut servers = Vec::with_capacity(listeners);
    for _ in 0..listeners {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
            .await
            .map_err(|e| NodeError::io("binding a bench listener on", "127.0.0.1", e))?;
        addrs.push(
            listener
                .local_addr()
                .map_err(|e| NodeError::io("reading the address of", "listener", e))?,
        );
        let app = Router::new()
            .route("/h/{i}/listing", get(serve))
            .with_state(served.clone());
        servers.push(tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        }));
    }

    let dir = tempfile::tempdir().map_err(|e| NodeError::io("creating", "a temp dir", e))?;
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

/// A running aggregator preloaded with `hubs` bench listings of `services`
/// services each (ingested directly, not crawled), for feed and sync
/// benchmarks. Returns the node, its folder (keep it alive) and the mean
/// envelope size.
pub async fn preloaded_aggregator(
    hubs: usize,
    services: usize,
) -> Result<(crate::server::RunningNode, tempfile::TempDir, usize)> {
    let dir = tempfile::tempdir().map_err(|e| NodeError::io("creating", "a temp dir", e))?;
    init_bench_node(
        dir.path().to_owned(),
        "Bench directory".into(),
        Some(([127, 0, 0, 1], 0).into()),
        true,
    )?;
    let mut config = Config::load(dir.path())?;
    config.aggregator.recrawl_interval_secs = 86_400;
    let agg = Aggregator::open(dir.path(), &config)?;
    let mut total = 0usize;
    for i in 0..hubs {
        let bytes = {
            let key = bench_key(i)?;
            tokio::task::spawn_blocking(move || bench_listing(i, services, &key))
                .await
                .map_err(|e| NodeError::Setup(format!("bench: {e}")))??
        };
        total += bytes.len();
        agg.ingest(bytes, None).await?;
        if (i + 1).is_multiple_of(1000) {
            eprintln!("  loaded {} of {hubs} hubs", i + 1);
        }
    }
    drop(agg);
    let node = crate::server::start(dir.path(), config).await?;
    Ok((node, dir, total / hubs.max(1)))
}

/// The raw verify rate over a typical bench listing's signed bytes.
pub fn baseline_verify_rate(services: usize) -> Result<f64> {
    let key = bench_key(0)?;
    let bytes = bench_listing(0, services, &key)?;
    let payload = signpost_spec::Envelope::from_bytes(&bytes, &Limits::default())?
        .decode_payload(LISTING_PAYLOAD_TYPE, &Limits::default())?;
    raw_verify_rate(&pae(LISTING_PAYLOAD_TYPE, &payload), Duration::from_secs(2))
}

/// What the convergence benchmark measured.
#[derive(Debug, Clone)]
pub struct ConvergeReport {
    /// Seconds from a hub edit until all three aggregators held it, per round.
    pub rounds: Vec<f64>,
    /// The recrawl and upstream poll interval used, in seconds.
    pub interval_secs: u64,
}

impl ConvergeReport {
    /// The report as Markdown, with the command that produced it.
    pub fn markdown(&self, command: &str) -> String {
        let mut sorted = self.rounds.clone();
        sorted.sort_by(f64::total_cmp);
        let median = sorted.get(sorted.len() / 2).copied().unwrap_or(0.0);
        let max = sorted.last().copied().unwrap_or(0.0);
        format!(
            "Command: `{command}`\n\n\
             | figure | value | ratio to baseline |\n\
             | --- | --- | --- |\n\
             | baseline: the schedule's interval (recrawl and upstream poll) | {i} s | 1 |\n\
             | three aggregators in a cycle, one hub edit until all three hold it: median of {n} | {median:.2} s | {mr:.2} |\n\
             | the same, slowest round | {max:.2} s | {xr:.2} |\n",
            i = self.interval_secs,
            n = self.rounds.len(),
            mr = median / self.interval_secs as f64,
            xr = max / self.interval_secs as f64,
        )
    }
}

/// Three aggregators in a cycle (A follows B, B follows C, C follows A),
/// each crawling one hub, all running their own schedules with
/// `interval` seconds between crawls and polls; times how long an edit at
/// A's hub takes to reach all three (the hub nudges A, and each follower
/// waits on its upstream's feed).
pub async fn converge_bench(rounds: usize, interval: u64) -> Result<ConvergeReport> {
    let mut dirs = Vec::new();
    let mut hubs = Vec::new();
    for i in 0..3 {
        let dir = tempfile::tempdir().map_err(|e| NodeError::io("creating", "a temp dir", e))?;
        let outcome = init_bench_node(
            dir.path().to_owned(),
            format!("Hub {i}"),
            Some(([127, 0, 0, 1], 0).into()),
            false,
        )?;
        let mut config = Config::load(dir.path())?;
        // Its aggregators, to be nudged, are on loopback.
        config.aggregator.allow_private_networks = true;
        let node = crate::server::start(dir.path(), config).await?;
        hubs.push((node, outcome.admin_token, outcome.hub_id));
        dirs.push(dir);
    }
    let mut aggs = Vec::new();
    for (i, (hub_node, _, _)) in hubs.iter().enumerate() {
        let dir = tempfile::tempdir().map_err(|e| NodeError::io("creating", "a temp dir", e))?;
        init_bench_node(
            dir.path().to_owned(),
            format!("Aggregator {i}"),
            Some(([127, 0, 0, 1], 0).into()),
            true,
        )?;
        let mut config = Config::load(dir.path())?;
        config.aggregator.allow_private_networks = true;
        config.aggregator.recrawl_interval_secs = interval;
        config.aggregator.upstream_poll_secs = interval;
        config.aggregator.hubs = vec![hub_node.url()];
        aggs.push(crate::server::start(dir.path(), config).await?);
        dirs.push(dir);
    }
    for i in 0..3 {
        let upstream = aggs[(i + 1) % 3].url();
        if let Some(agg) = &aggs[i].aggregator {
            let url = signpost_client::follow::feed_url(&upstream)
                .map_err(NodeError::Config)?
                .to_string();
            agg.write(move |c| db::add_upstream(c, &url, "cli").map(|_| ()))
                .await?;
        }
    }
    let http = reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(10))
        .build()
        .map_err(|e| NodeError::Setup(format!("bench client: {e}")))?;
    let seq_at = |agg: String, hub: String| {
        let http = http.clone();
        async move {
            let v: serde_json::Value = http
                .get(format!("{agg}/v1/hubs/{hub}"))
                .send()
                .await
                .ok()?
                .json()
                .await
                .ok()?;
            v["seq"].as_u64()
        }
    };
    // Wait for the first full convergence.
    let deadline = Instant::now() + Duration::from_secs(60);
    'first: loop {
        let mut all = true;
        for a in &aggs {
            for (_, _, hub_id) in &hubs {
                all &= seq_at(a.url(), hub_id.clone()).await.is_some();
            }
        }
        if all {
            break 'first;
        }
        if Instant::now() > deadline {
            return Err(NodeError::Setup(
                "the cycle did not converge within 60 s".into(),
            ));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let mut times = Vec::new();
    let (hub, token, hub_id) = &hubs[0];
    for round in 0..rounds {
        // Edits as a volunteer saves them, one after another, but further
        // apart than the aggregator's gap between nudged crawls of one
        // hub (which a burst of saves waits out: see `NUDGE_GAP_SECS`).
        if round > 0 {
            tokio::time::sleep(Duration::from_secs(
                crate::aggregator::NUDGE_GAP_SECS as u64 + 1,
            ))
            .await;
        }
        let started = Instant::now();
        let reply: serde_json::Value = http
            .post(format!("{}/admin/v1/services", hub.url()))
            .bearer_auth(token)
            .json(&serde_json::json!({"name": format!("Session {round}")}))
            .send()
            .await
            .map_err(|e| NodeError::Setup(format!("bench edit: {e}")))?
            .json()
            .await
            .map_err(|e| NodeError::Setup(format!("bench edit: {e}")))?;
        let seq = reply["listing"]["seq"].as_u64().unwrap_or(0);
        loop {
            let mut all = true;
            for a in &aggs {
                all &= seq_at(a.url(), hub_id.clone()).await == Some(seq);
            }
            if all {
                break;
            }
            if started.elapsed() > Duration::from_secs(60) {
                return Err(NodeError::Setup(
                    "an edit did not converge within 60 s".into(),
                ));
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        times.push(started.elapsed().as_secs_f64());
        // Let the seconds-based seq move on before the next edit.
        tokio::time::sleep(Duration::from_millis(1100)).await;
    }
    for node in aggs.into_iter().chain(hubs.into_iter().map(|h| h.0)) {
        node.stop().await?;
    }
    Ok(ConvergeReport {
        rounds: times,
        interval_secs: interval,
    })
}

pub mod reports;
pub mod serve;

/// What the serving benchmark measured.
#[derive(Debug, Clone)]
pub struct ServeReport {
    /// The hub listing endpoint.
    pub listing: serve::LoadFigures,
    /// The static file server baseline, same bytes.
    pub static_file: serve::LoadFigures,
    /// Resident memory of an idle hub node, bytes.
    pub idle_hub_rss: u64,
    /// Size of the listing served.
    pub listing_bytes: usize,
}

impl ServeReport {
    /// The report as Markdown.
    pub fn markdown(&self, command: &str) -> String {
        let mib = |b: u64| b as f64 / (1024.0 * 1024.0);
        format!(
            "Command: `{command}`\n\n\
             | figure | value | ratio to baseline | target |\n\
             | --- | --- | --- | --- |\n\
             | baseline: static file server (tower-http ServeFile), same {b}-byte listing, 32 clients | {s:.0} req/s (p50 {sp50:?}, p99 {sp99:?}) | 1 | |\n\
             | hub listing endpoint (`signpost-node serve`, own process), 32 clients | {l:.0} req/s (p50 {lp50:?}, p99 {lp99:?}) | {r:.2} | at least 0.5 |\n\
             | resident memory of an idle hub node | {rss:.1} MiB | | under 20 MiB |\n",
            b = self.listing_bytes,
            s = self.static_file.per_sec,
            sp50 = self.static_file.p50,
            sp99 = self.static_file.p99,
            l = self.listing.per_sec,
            lp50 = self.listing.p50,
            lp99 = self.listing.p99,
            r = self.listing.per_sec / self.static_file.per_sec,
            rss = mib(self.idle_hub_rss),
        )
    }
}

/// Hub listing throughput against a static file server, and idle memory.
pub async fn serve_bench(services: usize) -> Result<ServeReport> {
    let dir = tempfile::tempdir().map_err(|e| NodeError::io("creating", "a temp dir", e))?;
    let outcome = init_bench_node(dir.path().to_owned(), "Bench hub".into(), None, false)?;
    let _ = outcome;
    {
        let config = Config::load(dir.path())?;
        let mut hub = crate::hub::HubCore::open(dir.path(), &config)?;
        for s in 0..services {
            hub.add_service(serde_json::json!({
                "name": format!("Service {s}"),
                "description": "A session run by volunteers for anyone in the area who needs it.",
                "locations": [{"latitude": 54.0, "longitude": -2.8}],
                "schedules": [{"byday": "MO,WE", "opens_at": "10:00", "closes_at": "12:00"}],
                "taxonomy_terms": [{"name": "Food"}]
            }))?;
        }
    }
    let node = serve::ServeProcess::start(dir.path()).await?;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let idle_hub_rss = node.rss_bytes();
    let listing_url = format!("{}{}", node.url, signpost_client::fetch::WELL_KNOWN_PATH);
    let bytes = reqwest::get(&listing_url)
        .await
        .and_then(|r| r.error_for_status())
        .map_err(|e| NodeError::Setup(format!("bench fetch: {e}")))?
        .bytes()
        .await
        .map_err(|e| NodeError::Setup(format!("bench fetch: {e}")))?;
    let file = dir.path().join("static-listing.json");
    std::fs::write(&file, &bytes).map_err(|e| NodeError::io("writing", &file, e))?;
    let baseline = serve::ServeProcess::spawn(
        &[
            "bench".into(),
            "static-file".into(),
            file.as_os_str().to_owned(),
        ],
        Some(()),
    )
    .await?;
    let run = Duration::from_secs(5);
    let static_file = serve::load(&[format!("{}/listing", baseline.url)], 32, run).await?;
    let listing = serve::load(&[listing_url], 32, run).await?;
    drop(baseline);
    Ok(ServeReport {
        listing,
        static_file,
        idle_hub_rss,
        listing_bytes: bytes.len(),
    })
}

/// What the search benchmark measured.
#[derive(Debug, Clone)]
pub struct SearchReport {
    /// Services stored.
    pub services: u64,
    /// Seconds taken to load them (direct ingest, verify and store).
    pub load_secs: f64,
    /// True when an earlier run's directory was reused (`--keep`).
    pub reused: bool,
    /// Seconds from starting `signpost-node serve` on the loaded store to
    /// its first answer (the search index is built from the store first).
    pub startup_secs: f64,
    /// Baseline: one-row primary-key lookups over HTTP (`/v1/hubs/{id}`).
    pub baseline: serve::LoadFigures,
    /// Per query kind: (name, figures).
    pub queries: Vec<(String, serve::LoadFigures)>,
    /// Resident memory of the aggregator process after the queries.
    pub rss: u64,
}

impl SearchReport {
    /// The report as Markdown.
    pub fn markdown(&self, command: &str) -> String {
        let mut out = format!(
            "Command: `{command}`\n\n\
             {} services {} (verified and stored through the ingest path, 32 at a time); \
             the node then started on them in {:.1} s (its search index opened from its folder, or built from the store when missing).\n\n\
             | figure (4 clients, 5 s each, over HTTP) | p50 | p99 | ratio of p99 to baseline p99 | target |\n\
             | --- | --- | --- | --- | --- |\n\
             | baseline: one hub by id (`/v1/hubs/ID`) | {:?} | {:?} | 1 | |\n",
            self.services,
            if self.reused {
                "loaded by an earlier run (`--keep`)".to_owned()
            } else {
                format!("loaded in {:.0} s", self.load_secs)
            },
            self.startup_secs,
            self.baseline.p50,
            self.baseline.p99
        );
        for (name, f) in &self.queries {
            out.push_str(&format!(
                "| {name} | {:?} | {:?} | {:.1} | p99 under 20 ms |\n",
                f.p50,
                f.p99,
                f.p99.as_secs_f64() / self.baseline.p99.as_secs_f64().max(1e-9)
            ));
        }
        out.push_str(&format!(
            "\nResident memory of the aggregator process holding them: {:.0} MiB.\n",
            self.rss as f64 / (1024.0 * 1024.0)
        ));
        out
    }
}

/// Loads `hubs` × `services` into a fresh aggregator, serves it from a
/// `signpost-node serve` process and measures search latency and memory.
pub async fn search_bench(
    hubs: usize,
    services: usize,
    keep: Option<&std::path::Path>,
) -> Result<SearchReport> {
    let temp = tempfile::tempdir().map_err(|e| NodeError::io("creating", "a temp dir", e))?;
    let dir = keep.unwrap_or(temp.path()).to_owned();
    let loaded = dir.join(crate::config::DATABASE_FILE).exists();
    if !loaded {
        std::fs::create_dir_all(&dir).map_err(|e| NodeError::io("creating", &dir, e))?;
        init_bench_node(dir.clone(), "Bench directory".into(), None, true)?;
    }
    let mut config = Config::load(&dir)?;
    config.aggregator.scheduled = false;
    std::fs::write(
        dir.join(crate::config::CONFIG_FILE),
        config.to_commented_toml(),
    )
    .map_err(|e| NodeError::io("writing", &dir, e))?;
    let started = Instant::now();
    let first_id = bench_key(0)?.key_id().to_string();
    if loaded {
        eprintln!(
            "  reusing the directory already loaded in {}",
            dir.display()
        );
    } else {
        let agg = Arc::new(Aggregator::open(&dir, &config)?);
        // Sign on one core while the other stores.
        let (tx, mut rx) = tokio::sync::mpsc::channel::<Vec<u8>>(64);
        let signer = tokio::task::spawn_blocking(move || -> Result<()> {
            for i in 0..hubs {
                let bytes = bench_listing(i, services, &bench_key(i)?)?;
                if tx.blocking_send(bytes).is_err() {
                    break;
                }
            }
            Ok(())
        });
        let mut n = 0usize;
        let mut ingests = futures_util::stream::poll_fn(|cx| rx.poll_recv(cx))
            .map(|bytes| agg.ingest(bytes, None))
            .buffer_unordered(32);
        while let Some(outcome) = ingests.next().await {
            outcome?;
            n += 1;
            if n.is_multiple_of(5000) {
                eprintln!(
                    "  loaded {n} of {hubs} listings ({:.0} s)",
                    started.elapsed().as_secs_f64()
                );
            }
        }
        signer
            .await
            .map_err(|e| NodeError::Setup(format!("bench signer: {e}")))??;
    }
    let load_secs = started.elapsed().as_secs_f64();
    eprintln!("  starting the node (it opens its search index, or builds it from the store when missing)...");
    let starting = Instant::now();
    let node = serve::ServeProcess::start(&dir).await?;
    let startup_secs = starting.elapsed().as_secs_f64();
    let base = node.url.clone();
    let run = Duration::from_secs(5);
    let baseline = serve::load(&[format!("{base}/v1/hubs/{first_id}")], 4, run).await?;
    let mut queries = Vec::new();
    for (name, urls) in [
        (
            "text: one word (`q=befriending`)",
            vec![format!("{base}/v1/services?q=befriending")],
        ),
        (
            "text: two words (`q=food pantry`)",
            vec![format!("{base}/v1/services?q=food%20pantry")],
        ),
        (
            "taxonomy + distance (`taxonomy=Food&near=…&within_km=2`)",
            vec![format!(
                "{base}/v1/services?taxonomy=Food&near=53.9,-2.9&within_km=2"
            )],
        ),
        (
            "open at a time (`open_at=…`, Tuesday 11:00)",
            vec![format!("{base}/v1/services?open_at=2026-11-24T11:00:00Z")],
        ),
    ] {
        eprintln!("  querying: {name}");
        queries.push((name.to_owned(), serve::load(&urls, 4, run).await?));
    }
    let rss = node.rss_bytes();
    let total = {
        let conn = signpost_client::store::open(&dir.join(crate::config::DATABASE_FILE))?;
        conn.query_row(SERVICES_HELD, [], |r| r.get::<_, i64>(0))? as u64
    };
    Ok(SearchReport {
        services: total,
        load_secs,
        reused: loaded,
        startup_secs,
        baseline,
        queries,
        rss,
    })
}

/// Sets up a node folder for a benchmark: a first-level community hub, or
/// (with `aggregator`) a second-level directory that is also a hub.
fn init_bench_node(
    dir: std::path::PathBuf,
    name: String,
    listen: Option<std::net::SocketAddr>,
    aggregator: bool,
) -> Result<crate::init::InitOutcome> {
    use signpost_spec::{Coordination, Dimensions, Focus, Governance, Space};
    let dimensions = if aggregator {
        Dimensions {
            space: vec![Space::Virtual],
            governance: Governance::Partnership,
            focus: Focus::Generic,
            coordination: Coordination::SecondLevel,
        }
    } else {
        Dimensions {
            space: vec![Space::Dedicated],
            governance: Governance::CommunityLed,
            focus: Focus::Generic,
            coordination: Coordination::FirstLevel,
        }
    };
    crate::init::init(&crate::init::InitOptions {
        dir,
        name,
        url: None,
        listen,
        dimensions,
        aggregator,
    })
}
