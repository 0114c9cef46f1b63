//! `signpost-bench converge`: how long a hub edit takes to reach three
//! aggregators that follow each other in a cycle, beside the schedule's
//! own interval.

use std::time::{Duration, Instant};

use anyhow::{anyhow, Context, Result};
use signpost_client::store::aggregator as db;
use signpost_node::config::Config;

use crate::fixtures::init_bench_node;

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
        let dir = tempfile::tempdir().context("creating a temp dir")?;
        let outcome = init_bench_node(
            dir.path().to_owned(),
            format!("Hub {i}"),
            Some(([127, 0, 0, 1], 0).into()),
            false,
        )?;
        let mut config = Config::load(dir.path())?;
        // Its aggregators, to be nudged, are on loopback.
        config.aggregator.allow_private_networks = true;
        let node = signpost_node::server::start(dir.path(), config).await?;
        hubs.push((node, outcome.admin_token, outcome.hub_id));
        dirs.push(dir);
    }
    let mut aggs = Vec::new();
    for (i, (hub_node, _, _)) in hubs.iter().enumerate() {
        let dir = tempfile::tempdir().context("creating a temp dir")?;
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
        aggs.push(signpost_node::server::start(dir.path(), config).await?);
        dirs.push(dir);
    }
    for i in 0..3 {
        let upstream = aggs[(i + 1) % 3].url();
        if let Some(agg) = &aggs[i].aggregator {
            let url = signpost_client::follow::feed_url(&upstream)
                .map_err(anyhow::Error::msg)?
                .to_string();
            agg.write(move |c| db::add_upstream(c, &url, "cli").map(|_| ()))
                .await?;
        }
    }
    let http = reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(10))
        .build()
        .context("bench client")?;
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
            return Err(anyhow!("the cycle did not converge within 60 s"));
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
                signpost_node::aggregator::NUDGE_GAP_SECS as u64 + 1,
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
            .context("bench edit")?
            .json()
            .await
            .context("bench edit")?;
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
                return Err(anyhow!("an edit did not converge within 60 s"));
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
