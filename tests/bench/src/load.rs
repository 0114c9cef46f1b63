//! What the serving benchmarks share: a load generator with latency
//! percentiles, a plain static file server (the baseline of `serve`), and
//! node processes to measure from outside.
//!
//! A node process is this binary's hidden `node-serve` command: the same
//! `signpost_node::server::start` that `signpost-node serve` runs, in a
//! process of its own, so its memory is a node's alone.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{anyhow, Context, Result};

/// Latency percentiles and throughput of one load run.
#[derive(Debug, Clone, Copy)]
pub struct LoadFigures {
    /// Requests completed per second.
    pub per_sec: f64,
    /// Median latency.
    pub p50: Duration,
    /// 99th percentile latency.
    pub p99: Duration,
}

/// `clients` concurrent clients GET `urls` (round robin) for `run_for`.
pub async fn load(urls: &[String], clients: usize, run_for: Duration) -> Result<LoadFigures> {
    let http = reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(10))
        .pool_max_idle_per_host(clients)
        .build()
        .context("load client")?;
    let deadline = Instant::now() + run_for;
    let mut tasks = Vec::new();
    for c in 0..clients {
        let (http, urls) = (http.clone(), urls.to_vec());
        tasks.push(tokio::spawn(async move {
            let (mut times, mut errors, mut i) = (Vec::new(), 0usize, c);
            while Instant::now() < deadline {
                let started = Instant::now();
                let ok = match http.get(&urls[i % urls.len()]).send().await {
                    Ok(r) => r.status().is_success() && r.bytes().await.is_ok(),
                    Err(_) => false,
                };
                errors += usize::from(!ok);
                times.push(started.elapsed());
                i += clients;
            }
            (times, errors)
        }));
    }
    let (mut all, mut errors) = (Vec::new(), 0);
    for t in tasks {
        let (times, e) = t.await.context("load task")?;
        all.extend(times);
        errors += e;
    }
    all.sort();
    if errors > 0 {
        // Failed requests count in the figures (they took their time too),
        // so say so beside the report rather than in it.
        eprintln!("warning: {errors} of {} requests failed", all.len());
    }
    let at = |q: f64| {
        all.get(((all.len() as f64 * q) as usize).min(all.len().saturating_sub(1)))
            .copied()
            .unwrap_or_default()
    };
    Ok(LoadFigures {
        per_sec: all.len() as f64 / run_for.as_secs_f64(),
        p50: at(0.5),
        p99: at(0.99),
    })
}

/// Serves `file` at `/listing` until killed (the baseline process).
pub async fn static_file(file: &Path, listen: std::net::SocketAddr) -> Result<()> {
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .context("binding the static file listener")?;
    let app =
        axum::Router::new().route_service("/listing", tower_http::services::ServeFile::new(file));
    axum::serve(listener, app)
        .await
        .with_context(|| format!("serving {}", file.display()))
}

/// A `signpost-node serve` child process, killed when dropped.
pub struct ServeProcess {
    child: Child,
    /// Its base URL.
    pub url: String,
}

impl Drop for ServeProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl ServeProcess {
    /// Starts a node serving `dir` (this binary's `node-serve`, the server
    /// of `signpost-node serve`) on a free port and waits until it answers.
    pub async fn start(dir: &Path) -> Result<ServeProcess> {
        let mut args: Vec<std::ffi::OsString> = vec!["node-serve".into(), "--dir".into()];
        args.push(dir.as_os_str().to_owned());
        ServeProcess::spawn(&args, false).await
    }

    /// Starts this binary with `args` on a free port: a `--listen ADDR` is
    /// appended when `listen_flag` is true (and `SIGNPOST_LISTEN` is set
    /// either way, which a node's settings take).
    pub async fn spawn(args: &[std::ffi::OsString], listen_flag: bool) -> Result<ServeProcess> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .context("finding a free port on 127.0.0.1")?
            .port();
        let exe = std::env::current_exe().context("finding this program's file")?;
        let mut command = Command::new(exe);
        command.args(args);
        if listen_flag {
            command.args(["--listen", &format!("127.0.0.1:{port}")]);
        }
        let child = command
            .env("SIGNPOST_LISTEN", format!("127.0.0.1:{port}"))
            .env("SIGNPOST_LOG", "error")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .context("starting a node process")?;
        let process = ServeProcess {
            child,
            url: format!("http://127.0.0.1:{port}"),
        };
        let started = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            // A large directory builds its search index before listening.
            if started.elapsed() > Duration::from_secs(600) {
                return Err(anyhow!("the node did not start within 600 s"));
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        Ok(process)
    }

    /// Resident memory in bytes (Linux), from /proc.
    pub fn rss_bytes(&self) -> u64 {
        std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .ok()
            .and_then(|s| {
                s.lines()
                    .find(|l| l.starts_with("VmRSS:"))
                    .and_then(|l| l.split_whitespace().nth(1))
                    .and_then(|kb| kb.parse::<u64>().ok())
            })
            .map_or(0, |kb| kb * 1024)
    }
}
