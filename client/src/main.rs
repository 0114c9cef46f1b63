//! `signpost`: keep a verified local copy of a Signpost directory, search
//! it offline, check any listing, and export the data.

use std::io::IsTerminal;
use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use clap::{Parser, Subcommand, ValueEnum};
use signpost_client::search::SearchParams;
use signpost_client::{export, inspect, Replica};

#[derive(Parser)]
#[command(
    name = "signpost",
    version,
    about = "Use a Signpost community-services directory from your own computer or app",
    long_about = "Copies an aggregator's directory into a local file, checking every hub's \
                  signature on the way (so nobody in between can alter a listing), and lets \
                  you search that copy offline, check any listing, and export the data."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Bring a local copy up to date with an aggregator (only what changed).
    Sync {
        /// The aggregator's address, e.g. https://directory.example.org
        #[arg(long)]
        from: String,
        /// The local copy (created if missing).
        #[arg(long)]
        db: PathBuf,
        /// Print the result as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Search the local copy.
    Search {
        /// The local copy, made by `signpost sync`.
        #[arg(long)]
        db: PathBuf,
        /// Words to look for, e.g. "food bank".
        query: Option<String>,
        /// Only these categories (comma-separated), e.g. Food,Advice
        #[arg(long)]
        taxonomy: Option<String>,
        /// Near a point: LAT,LON, e.g. 54.0466,-2.8007
        #[arg(long)]
        near: Option<String>,
        /// How far from --near, in km (default 25).
        #[arg(long = "within-km")]
        within_km: Option<f64>,
        /// Only services open at this time: "now" or like 2026-11-24T10:00:00Z
        #[arg(long = "open-at")]
        open_at: Option<String>,
        /// How many results (1 to 100).
        #[arg(long, default_value_t = 20)]
        limit: u32,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Check a listing: a file, a hub's address, or an aggregator's
    /// /v1/hubs/ID/listing address. Says who signed it and what is wrong.
    Verify {
        /// A file path or an http(s) address.
        source: String,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Write the local copy's services out.
    Export {
        /// The local copy.
        #[arg(long)]
        db: PathBuf,
        /// hsds-json (Open Referral shaped), csv or xlsx (Excel).
        #[arg(long, value_enum, default_value = "hsds-json")]
        format: ExportFormat,
        /// Write here instead of standard output.
        #[arg(long)]
        output: Option<PathBuf>,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum ExportFormat {
    HsdsJson,
    Csv,
    Xlsx,
}

fn main() -> std::process::ExitCode {
    match run(Cli::parse()) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> Result<std::process::ExitCode> {
    let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    runtime.block_on(async move {
        match cli.command {
            Command::Sync { from, db, json } => sync(&from, &db, json).await,
            Command::Search {
                db,
                query,
                taxonomy,
                near,
                within_km,
                open_at,
                limit,
                json,
            } => {
                let mut q = std::collections::HashMap::new();
                for (k, v) in [
                    ("q", query),
                    ("taxonomy", taxonomy),
                    ("near", near),
                    ("within_km", within_km.map(|w| w.to_string())),
                    ("open_at", open_at),
                    ("per_page", Some(limit.to_string())),
                ] {
                    if let Some(v) = v {
                        q.insert(k.to_owned(), v);
                    }
                }
                let params = SearchParams::from_query(&q)?;
                if !db.exists() {
                    bail!(
                        "{} does not exist; make it with: signpost sync --from URL --db {}",
                        db.display(),
                        db.display()
                    );
                }
                let page = Replica::open(&db)?.search(params).await?;
                if json {
                    println!("{}", serde_json::to_string_pretty(&page)?);
                } else if page.items.is_empty() {
                    println!("No services found.");
                } else {
                    println!("{:<40} {:<30} {:>8}  WHEN", "SERVICE", "HUB", "KM");
                    for hit in &page.items {
                        let s: signpost_spec::Service = serde_json::from_str(hit.service.get())?;
                        let when = signpost_client::import::csv::format_opening_hours(&s.schedules);
                        let km = hit
                            .distance_km
                            .map(|d| format!("{d:.1}"))
                            .unwrap_or_default();
                        println!(
                            "{:<40} {:<30} {:>8}  {}",
                            cut(&s.name, 40),
                            cut(&hit.hub_name, 30),
                            km,
                            when
                        );
                    }
                    println!("{} of {} shown.", page.items.len(), page.total);
                }
                Ok(std::process::ExitCode::SUCCESS)
            }
            Command::Verify { source, json } => {
                let bytes = inspect::load(&source).await?;
                let report = inspect::inspect(&bytes);
                if json {
                    println!("{}", serde_json::to_string_pretty(&report)?);
                } else {
                    print_inspection(&report);
                }
                Ok(if report.valid {
                    std::process::ExitCode::SUCCESS
                } else {
                    std::process::ExitCode::from(2)
                })
            }
            Command::Export { db, format, output } => {
                if !db.exists() {
                    bail!(
                        "{} does not exist; make it with: signpost sync --from URL --db {}",
                        db.display(),
                        db.display()
                    );
                }
                let listings = Replica::open(&db)?.listings().await?;
                let bytes = match format {
                    ExportFormat::HsdsJson => export::hsds_json(&listings)?,
                    ExportFormat::Csv => export::csv(&listings)?,
                    ExportFormat::Xlsx => export::xlsx(&listings)?,
                };
                match output {
                    Some(path) => std::fs::write(&path, bytes)
                        .with_context(|| format!("writing {}", path.display()))?,
                    None => {
                        use std::io::Write;
                        std::io::stdout().write_all(&bytes)?;
                    }
                }
                Ok(std::process::ExitCode::SUCCESS)
            }
        }
    })
}

fn cut(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_owned()
    } else {
        s.chars().take(n - 1).collect::<String>() + "…"
    }
}

async fn sync(from: &str, db: &std::path::Path, json: bool) -> Result<std::process::ExitCode> {
    let replica = Replica::open(db)?;
    let bar = std::io::stderr().is_terminal().then(|| {
        let bar = indicatif::ProgressBar::new_spinner();
        bar.set_style(
            indicatif::ProgressStyle::with_template("{spinner} {msg} [{elapsed}]")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
        );
        bar.enable_steady_tick(std::time::Duration::from_millis(120));
        bar
    });
    let report = replica
        .sync(from, Default::default(), |p| {
            if let Some(bar) = &bar {
                bar.set_message(format!(
                    "{} pages, {} listings verified, {} refused",
                    p.pages, p.accepted, p.rejected
                ));
            }
        })
        .await;
    if let Some(bar) = &bar {
        bar.finish_and_clear();
    }
    let report = report?;
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        println!(
            "Synced {} from {}: {} listings new or updated, {} unchanged, {} refused (cursor {}).",
            db.display(),
            report.feed,
            report.accepted,
            report.unchanged,
            report.rejected,
            report.cursor
        );
        for r in &report.refused {
            println!("  refused {}: {}: {}", r.hub_id, r.code, r.message);
        }
    }
    Ok(if report.rejected > 0 {
        std::process::ExitCode::from(2)
    } else {
        std::process::ExitCode::SUCCESS
    })
}

fn print_inspection(r: &inspect::Inspection) {
    let or_dash = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".into());
    if r.valid {
        println!("VALID listing of {:?}", or_dash(&r.hub_name));
    } else {
        println!("INVALID: {}: {}", or_dash(&r.error_code), or_dash(&r.error));
        println!("What it claims (not verified):");
    }
    println!("  hub id:     {}", or_dash(&r.hub_id));
    if !r.key_chain.is_empty() {
        println!(
            "  signed by:  {}",
            r.key_chain.last().cloned().unwrap_or_default()
        );
        if r.key_chain.len() > 1 {
            println!("  key chain:  {}", r.key_chain.join(" -> "));
        }
    }
    println!(
        "  seq:        {}",
        r.seq.map(|s| s.to_string()).unwrap_or_else(|| "-".into())
    );
    println!("  issued:     {}", or_dash(&r.issued_at));
    println!("  expires:    {}", or_dash(&r.expires_at));
    println!(
        "  services:   {}{}",
        r.services,
        if r.withdrawn {
            " (withdrawn from the network)"
        } else {
            ""
        }
    );
    println!("  size:       {} bytes", r.bytes);
}
