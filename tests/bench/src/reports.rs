//! `signpost-bench reports`: how long each coordinator report takes
//! on demand over a region of N hubs, beside a baseline measured in the
//! same run on the same store: one plain full scan of the services
//! (every stored service read from the search index, each parsed into a [`Service`]), which
//! every report that reads the whole region has to do at least once.
//!
//! The listings are those of [`crate::fixtures::bench_listing`] with names and phones
//! made more like a real region's (a few dozen kinds of session, named
//! after hundreds of places; a phone number per service), and with one
//! deliberate duplicate per 100 hubs (a hub relisting its neighbour's
//! service: same phone, organisation and place, a near-identical name) that
//! the duplicates report must find. They are stored through
//! [`Aggregator::ingest`] (verify and store, no HTTP).

use std::collections::HashSet;
use std::time::Instant;

use signpost_client::search::index::SearchIndex;
use signpost_spec::Service;

use anyhow::{anyhow, Context, Result};
use signpost_node::aggregator::Aggregator;
use signpost_node::config::AggregatorSection;
use signpost_node::reports::{self, Areas, Division};

use crate::fixtures::{bench_key, bench_listing_unsigned, sign_bench_listing};

/// Kinds of session, as hubs name them.
const ACTIVITIES: &[&str] = &[
    "Food bank",
    "Community pantry",
    "Warm space",
    "Youth club",
    "Job club",
    "Debt advice drop-in",
    "Benefits advice",
    "Digital drop-in",
    "Coffee morning",
    "Parent and toddler group",
    "Men's shed",
    "Knit and natter",
    "Walking group",
    "Befriending",
    "Housing advice",
    "English conversation club",
    "Community garden",
    "Lunch club",
    "Homework club",
    "Mental health peer support",
    "Carers' group",
    "Repair café",
    "Chair yoga",
    "Library of things",
    "Baby bank",
    "Uniform exchange",
    "Energy advice",
    "Art group",
    "Choir",
    "Bereavement support",
    "Dementia café",
    "Welfare rights surgery",
];
const PLACE_START: &[&str] = &[
    "Ash", "Brad", "Carn", "Dun", "Eller", "Fern", "Gras", "Hal", "Ing", "Kirk",
];
const PLACE_END: &[&str] = &[
    "by", "ton", "ham", "field", "wick", "ley", "dale", "mere", "thorpe", "croft",
];
const PLACE_PART: &[&str] = &["", " North", " South"];

/// The place a bench hub is named after (300 in all).
fn place(i: usize) -> String {
    format!(
        "{}{}{}",
        PLACE_START[i % 10],
        PLACE_END[(i / 10) % 10],
        PLACE_PART[(i / 100) % 3]
    )
}

/// Renames service `s` of hub `i` and gives it a phone of its own.
fn realistic(i: usize, s: usize, services: usize, service: &mut Service) {
    service.name = format!(
        "{} {}",
        ACTIVITIES[(i * 7 + s * 13) % ACTIVITIES.len()],
        place(i)
    );
    for p in &mut service.phones {
        p.number = format!("01632 {:06}", (i * services + s) % 1_000_000);
    }
}

/// Hub `i`'s listing for this benchmark, signed; and, for every hundredth
/// hub, the (hub, service) ids of the duplicate it plants.
fn listing(i: usize, services: usize) -> Result<(Vec<u8>, Option<reports::PairKey>)> {
    let key = bench_key(i)?;
    let mut listing = bench_listing_unsigned(i, services, &key)?;
    for (s, service) in listing.services.iter_mut().enumerate() {
        realistic(i, s, services, service);
    }
    let mut planted = None;
    if i % 100 == 1 && services > 1 {
        // Relist the neighbour's first service: same phone, organisation
        // and place; the name with a word more.
        let neighbour_key = bench_key(i - 1)?;
        let mut theirs = bench_listing_unsigned(i - 1, 1, &neighbour_key)?;
        if let (Some(mut copy), Some(last)) = (theirs.services.pop(), listing.services.last_mut()) {
            realistic(i - 1, 0, services, &mut copy);
            let their_id = copy.id.clone();
            copy.id = last.id.clone();
            copy.name = format!("{} (weekly)", copy.name);
            *last = copy;
            planted = Some((
                neighbour_key.key_id().to_string(),
                their_id,
                key.key_id().to_string(),
                last.id.clone(),
            ));
        }
    }
    Ok((sign_bench_listing(&listing, &key)?, planted))
}

/// Square areas tiling the bench hubs' region (and a row beyond it with
/// no services), each side sampled at four points, as GeoJSON.
fn areas_geojson(rows: usize, cols: usize) -> Vec<u8> {
    let (south, west, north, east) = (53.69, -3.06, 54.29, -2.50);
    let (dlat, dlon) = ((north - south) / rows as f64, (east - west) / cols as f64);
    let mut features = Vec::new();
    for r in 0..=rows {
        for c in 0..cols {
            let (s, w) = (south + r as f64 * dlat, west + c as f64 * dlon);
            let (n, e) = (s + dlat, w + dlon);
            let mut ring = Vec::new();
            for k in 0..4 {
                ring.push([w + (e - w) * k as f64 / 4.0, s]);
            }
            for k in 0..4 {
                ring.push([e, s + (n - s) * k as f64 / 4.0]);
            }
            for k in 0..4 {
                ring.push([e - (e - w) * k as f64 / 4.0, n]);
            }
            for k in 0..4 {
                ring.push([w, n - (n - s) * k as f64 / 4.0]);
            }
            ring.push([w, s]);
            features.push(serde_json::json!({"type": "Feature",
                "properties": {"name": format!("Area {r}-{c}")},
                "geometry": {"type": "Polygon", "coordinates": [ring]}}));
        }
    }
    serde_json::to_vec(&serde_json::json!({"type": "FeatureCollection", "features": features}))
        .unwrap_or_default()
}

/// One report's timing.
#[derive(Debug, Clone)]
pub struct Timed {
    /// What was timed.
    pub name: String,
    /// The fastest of the runs, seconds.
    pub best_secs: f64,
    /// The slowest, seconds.
    pub worst_secs: f64,
    /// What it found, in words.
    pub found: String,
}

/// What the reports benchmark measured.
#[derive(Debug, Clone)]
pub struct ReportsBenchReport {
    /// Hubs stored.
    pub hubs: usize,
    /// Services per hub.
    pub services_per_hub: usize,
    /// Services stored.
    pub services: usize,
    /// Seconds to sign and ingest them.
    pub load_secs: f64,
    /// Runs of each timing.
    pub runs: usize,
    /// The baseline: a plain full scan, parsed.
    pub baseline: Timed,
    /// Each report.
    pub reports: Vec<Timed>,
    /// Deliberate duplicates planted, and how many were found.
    pub planted: (usize, usize),
    /// A few of the other pairs found, in words, to see what they are.
    pub others: Vec<String>,
}

impl ReportsBenchReport {
    /// The report as Markdown, with the command that produced it.
    pub fn markdown(&self, command: &str) -> String {
        let mut out = format!(
            "Command: `{command}`\n\n\
             Machine: {cores} cores (as seen by the process), measured {when}. \
             {services} services from {hubs} hubs ({per} each) signed and stored through the \
             ingest path in {load:.0} s. Each figure is the fastest of {runs} runs on one core \
             (slowest in brackets), through the aggregator's read pool as the API calls it.\n\n\
             | figure | time | ratio to baseline | found |\n\
             | --- | --- | --- | --- |\n\
             | baseline: full scan, every service stored in the index, each parsed | {b:.3} s ({bw:.3} s) | 1 | {bf} |\n",
            cores = std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1),
            when = jiff::Timestamp::now().strftime("%Y-%m-%d"),
            services = self.services,
            hubs = self.hubs,
            per = self.services_per_hub,
            load = self.load_secs,
            runs = self.runs,
            b = self.baseline.best_secs,
            bw = self.baseline.worst_secs,
            bf = self.baseline.found,
        );
        for t in &self.reports {
            out.push_str(&format!(
                "| {} | {:.3} s ({:.3} s) | {:.2} | {} |\n",
                t.name,
                t.best_secs,
                t.worst_secs,
                t.best_secs / self.baseline.best_secs.max(1e-9),
                t.found
            ));
        }
        out.push_str(&format!(
            "\nDeliberate duplicates planted: {}; found: {}.\n",
            self.planted.0, self.planted.1
        ));
        if !self.others.is_empty() {
            out.push_str("\nOther pairs found, for example:\n\n");
            for o in &self.others {
                out.push_str(&format!("- {o}\n"));
            }
        }
        out
    }
}

/// Times `work` over `runs` runs on the aggregator's read pool.
async fn time<T: Send + 'static>(
    agg: &Aggregator,
    name: &str,
    runs: usize,
    work: impl Fn(&rusqlite::Connection, &SearchIndex) -> signpost_node::Result<T>
        + Send
        + Sync
        + Clone
        + 'static,
    describe: impl Fn(&T) -> String,
) -> Result<(Timed, T)> {
    let (mut best, mut worst) = (f64::INFINITY, 0f64);
    let mut last = None;
    for _ in 0..runs.max(1) {
        let w = work.clone();
        let started = Instant::now();
        let index = agg.index();
        let out = agg.read(move |c| w(c, &index)).await?;
        let secs = started.elapsed().as_secs_f64();
        best = best.min(secs);
        worst = worst.max(secs);
        last = Some(out);
    }
    let out = last.ok_or_else(|| anyhow!("bench: no run"))?;
    eprintln!("  {name}: {best:.3} s");
    Ok((
        Timed {
            name: name.to_owned(),
            best_secs: best,
            worst_secs: worst,
            found: describe(&out),
        },
        out,
    ))
}

/// Fills a fresh aggregator with `hubs` × `services` and times the reports.
pub async fn reports_bench(hubs: usize, services: usize) -> Result<ReportsBenchReport> {
    let runs = 3;
    let dir = tempfile::tempdir().context("creating a temp dir")?;
    let mut agg = Aggregator::open_db(
        &dir.path().join("reports.db"),
        &AggregatorSection {
            enabled: true,
            ..AggregatorSection::default()
        },
    )?;
    eprintln!("signing and storing {hubs} listings of {services} services...");
    let started = Instant::now();
    let (tx, mut rx) = tokio::sync::mpsc::channel::<(Vec<u8>, Option<_>)>(64);
    let signer = tokio::task::spawn_blocking(move || -> Result<()> {
        for i in 0..hubs {
            if tx.blocking_send(listing(i, services)?).is_err() {
                break;
            }
        }
        Ok(())
    });
    let mut planted = HashSet::new();
    let mut n = 0usize;
    while let Some((bytes, plant)) = rx.recv().await {
        let outcome = agg.ingest(bytes, None).await?;
        if let signpost_node::aggregator::Ingested::Rejected { message, .. } = outcome {
            return Err(anyhow!("bench listing refused: {message}"));
        }
        planted.extend(plant);
        n += 1;
        if n.is_multiple_of(1000) {
            eprintln!(
                "  stored {n} of {hubs} ({:.0} s)",
                started.elapsed().as_secs_f64()
            );
        }
    }
    signer.await.context("bench signer")??;
    let load_secs = started.elapsed().as_secs_f64();
    agg.areas = Some(std::sync::Arc::new(Areas::parse(
        &areas_geojson(20, 15),
        "bench areas",
        "name",
    )?));
    let areas = agg.areas.clone();

    eprintln!("timing ({runs} runs each)...");
    let (baseline, stored) = time(
        &agg,
        "baseline",
        runs,
        |_, index| {
            let mut count = 0usize;
            index.for_each_service(|stored| {
                let service: Service = serde_json::from_str(&stored.json)
                    .map_err(|e| signpost_client::Error::Setup(format!("bench: a service: {e}")))?;
                count += usize::from(!service.id.is_empty());
                Ok(())
            })?;
            Ok(count)
        },
        |n| format!("{n} services"),
    )
    .await?;
    let mut timings = Vec::new();
    let (t, pairs) = time(
        &agg,
        "duplicates (`/v1/reports/duplicates`)",
        runs,
        reports::duplicates,
        |p| format!("{} pairs", p.len()),
    )
    .await?;
    timings.push(t);
    let is_planted = |p: &reports::DuplicatePair| {
        let key = (
            p.a.hub_id.clone(),
            p.a.service_id.clone(),
            p.b.hub_id.clone(),
            p.b.service_id.clone(),
        );
        let flipped = (key.2.clone(), key.3.clone(), key.0.clone(), key.1.clone());
        planted.contains(&key) || planted.contains(&flipped)
    };
    let found = pairs.iter().filter(|p| is_planted(p)).count();
    let others = pairs
        .iter()
        .filter(|p| !is_planted(p))
        .take(3)
        .map(|p| {
            format!(
                "\"{}\" ({}) and \"{}\" ({}): {:.2}, {}",
                p.a.name,
                p.a.hub_name,
                p.b.name,
                p.b.hub_name,
                p.score,
                p.reasons.join("; ")
            )
        })
        .collect();
    let gaps = |c: &Vec<reports::Coverage>| {
        format!(
            "{} categories, {} gaps",
            c.len(),
            c.iter().map(|x| x.gaps.len()).sum::<usize>()
        )
    };
    let (t, _) = time(
        &agg,
        "coverage, 5 km grid, gaps over 2 km (`/v1/reports/coverage`)",
        runs,
        |c, index| reports::coverage(c, index, 2.0, Division::Grid { cell_km: 5.0 }),
        gaps,
    )
    .await?;
    timings.push(t);
    let shapes = areas.clone();
    let (t, _) = time(
        &agg,
        "coverage, 315 GeoJSON areas, gaps over 2 km",
        runs,
        move |c, index| match &shapes {
            Some(a) => reports::coverage(c, index, 2.0, Division::Areas(a)),
            None => Ok(Vec::new()),
        },
        gaps,
    )
    .await?;
    timings.push(t);
    let (t, _) = time(
        &agg,
        "freshness (`/v1/reports/freshness`)",
        runs,
        |c, index| reports::freshness(c, index, jiff::Timestamp::now().as_second(), 365),
        |f| format!("{} hubs", f.len()),
    )
    .await?;
    timings.push(t);
    let (t, _) = time(
        &agg,
        "the coordinator page's three reports over one scan (`/reports`)",
        runs,
        |c, index| {
            let snapshot = reports::Snapshot::load(c, index)?;
            let pairs = snapshot.duplicates(c)?;
            let coverage = snapshot.coverage(5.0, Division::Grid { cell_km: 5.0 });
            let fresh = reports::freshness(c, index, jiff::Timestamp::now().as_second(), 365)?;
            Ok((pairs.len(), coverage.items.len(), fresh.len()))
        },
        |(p, c, f)| format!("{p} pairs, {c} categories, {f} hubs"),
    )
    .await?;
    timings.push(t);
    Ok(ReportsBenchReport {
        hubs,
        services_per_hub: services,
        services: stored,
        load_secs,
        runs,
        baseline,
        reports: timings,
        planted: (planted.len(), found),
        others,
    })
}
