//! Group commit: the one thread that writes accepted listings.
//!
//! Crawls and feed polls verify listings in parallel, then hand them here.
//! The thread takes every listing waiting and stores them in a single
//! transaction, each inside its own savepoint, so a listing is still all or
//! nothing and one failure spoils only itself. A transaction's fixed costs
//! (WAL frames, index page writes, the commit) are then paid once per batch
//! rather than once per listing: that was most of the store's time
//! (docs/benchmarks.md). When the aggregator is idle a batch is one listing,
//! so nothing waits for company. Answers go back only after the commit, so
//! "accepted" still means "on disk".

use std::sync::{Arc, Mutex};

use jiff::Timestamp;
use rusqlite::Connection;
use signpost_spec::VerifiedListing;
use tokio::sync::{mpsc, oneshot};

use super::Ingested;
use crate::error::{Error, Result};
use crate::search::index::Prepared;
use crate::store::aggregator::{self as db, AcceptedListing};
use crate::verify::{judge, Judgement, TrustPolicy};

/// Most listings stored in one transaction: bounds how long readers of the
/// WAL wait for a checkpoint and how much one failed commit takes back.
pub const MAX_BATCH: usize = 256;

/// Listings waiting for the writer before crawls are made to wait: bounds
/// the memory that verified-but-unstored listings hold.
const QUEUE_DEPTH: usize = 512;

/// A verified listing on its way to the store.
pub(crate) struct Verified {
    /// What the spec crate's verification gave.
    pub verified: VerifiedListing,
    /// Its services read for the search index, in listing order.
    pub prepared: Vec<Prepared>,
    /// The exact envelope bytes.
    pub bytes: Vec<u8>,
    /// SHA-256 (hex) of `bytes`.
    pub sha: String,
    /// Where it came from.
    pub source_url: Option<String>,
    /// When it was verified.
    pub now: Timestamp,
}

/// A listing waiting in the queue, with whom to answer.
pub(crate) struct Job {
    listing: Verified,
    reply: Option<oneshot::Sender<Result<Ingested>>>,
}

impl std::ops::Deref for Job {
    type Target = Verified;
    fn deref(&self) -> &Verified {
        &self.listing
    }
}

/// Called with what each committed batch stored, before anyone is told
/// and while the database is still held (so derived state sees changes in
/// change-number order): keeps the search index in step with the store.
pub(crate) type AfterCommit = dyn Fn(Vec<Stored>) + Send + Sync;

/// A listing of a committed batch that replaced what was held, for
/// whoever keeps derived state (the search index) in step with the store.
pub(crate) struct Stored {
    /// The hub.
    pub hub_id: String,
    /// The hub's timezone (opening hours are in it).
    pub timezone: String,
    /// Its services read for the index (taken from the job).
    pub prepared: Vec<Prepared>,
    /// The hub's row in the store (its services' keys start from it).
    pub hub_key: i64,
    /// The feed's change number for it.
    pub change_number: i64,
}

/// The sending side of the writer thread's queue.
pub(crate) struct Writer {
    queue: mpsc::Sender<Job>,
}

impl Writer {
    /// Starts the writer thread on `conn` (shared with other, rarer,
    /// writes, which take the same lock between batches).
    pub fn start(
        conn: Arc<Mutex<Connection>>,
        policy: TrustPolicy,
        after_commit: Arc<AfterCommit>,
    ) -> Result<Writer> {
        let (queue, jobs) = mpsc::channel(QUEUE_DEPTH);
        std::thread::Builder::new()
            .name("signpost-store-writer".into())
            .spawn(move || run(jobs, &conn, &policy, &*after_commit))
            .map_err(|e| Error::Setup(format!("the store writer could not start: {e}")))?;
        Ok(Writer { queue })
    }

    /// Stores one verified listing (if the acceptance rules allow) and
    /// says what became of it, once it is committed.
    pub async fn submit(&self, listing: Verified) -> Result<Ingested> {
        let (reply, answer) = oneshot::channel();
        let job = Job {
            listing,
            reply: Some(reply),
        };
        self.queue
            .send(job)
            .await
            .map_err(|_| Error::Setup("the store writer has stopped; restart the node".into()))?;
        answer.await.map_err(|_| {
            Error::Setup("the store writer stopped before answering; restart the node".into())
        })?
    }
}

fn run(
    mut jobs: mpsc::Receiver<Job>,
    conn: &Mutex<Connection>,
    policy: &TrustPolicy,
    after_commit: &AfterCommit,
) {
    while let Some(first) = jobs.blocking_recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match jobs.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        let outcomes = match conn.lock() {
            Ok(mut conn) => {
                let outcomes = write_batch(&mut conn, policy, &batch);
                if let Ok(outcomes) = &outcomes {
                    let stored: Vec<Stored> = batch
                        .iter_mut()
                        .zip(outcomes)
                        .filter_map(|(job, outcome)| match outcome {
                            Ok((Ingested::Accepted { change_number, .. }, Some(hub_key))) => {
                                Some(Stored {
                                    hub_id: job.listing.verified.hub_id.to_string(),
                                    timezone: job.listing.verified.listing.hub.timezone.clone(),
                                    prepared: std::mem::take(&mut job.listing.prepared),
                                    hub_key: *hub_key,
                                    change_number: *change_number,
                                })
                            }
                            _ => None,
                        })
                        .collect();
                    after_commit(stored);
                }
                outcomes
            }
            Err(_) => Err(Error::Setup(
                "a database write crashed; restart the node".into(),
            )),
        };
        match outcomes {
            Ok(outcomes) => {
                for (job, outcome) in batch.iter_mut().zip(outcomes) {
                    if let Some(reply) = job.reply.take() {
                        let _ = reply.send(outcome.map(|(ingested, _)| ingested));
                    }
                }
            }
            Err(e) => {
                tracing::error!(error = %e, listings = batch.len(), "a batch of listings could not be stored");
                let message = e.to_string();
                for job in &mut batch {
                    if let Some(reply) = job.reply.take() {
                        let _ = reply.send(Err(Error::Setup(format!(
                            "the listing could not be stored: {message}"
                        ))));
                    }
                }
            }
        }
    }
}

/// What became of one job, with the hub's row in the store when it
/// replaced what was held.
type Outcome = Result<(Ingested, Option<i64>)>;

/// Judges and stores every job of a batch in one transaction; a job whose
/// own writes fail is rolled back to its savepoint and answered with the
/// error. An error in the commit itself fails the whole batch.
fn write_batch(conn: &mut Connection, policy: &TrustPolicy, batch: &[Job]) -> Result<Vec<Outcome>> {
    let mut tx = conn.transaction()?;
    let mut outcomes = Vec::with_capacity(batch.len());
    for job in batch {
        let mut savepoint = tx.savepoint()?;
        match store_one(&savepoint, policy, job) {
            Ok(outcome) => {
                savepoint.commit()?;
                outcomes.push(Ok(outcome));
            }
            Err(e) => {
                savepoint.rollback()?;
                drop(savepoint);
                outcomes.push(Err(e));
            }
        }
    }
    tx.commit()?;
    Ok(outcomes)
}

/// The acceptance rules and the store, for one listing, inside the batch.
fn store_one(conn: &Connection, policy: &TrustPolicy, job: &Job) -> Outcome {
    let verified = &job.verified;
    let hub_id = verified.hub_id.to_string();
    // Through the operator's denylist and re-pins (store::denylist).
    let held = crate::store::denylist::held_hub(conn, &hub_id)?;
    let source_hub = match &job.source_url {
        Some(url) => db::get_source(conn, url)?.and_then(|s| s.hub_id),
        None => None,
    };
    let seq = verified.listing.seq;
    let now_ms = job.now.as_millisecond();
    match judge(
        verified,
        &job.sha,
        held.as_ref(),
        source_hub.as_deref(),
        policy,
    ) {
        Judgement::Unchanged => {
            if let Some(source) = &job.source_url {
                db::record_provenance(conn, &hub_id, source, seq, now_ms)?;
            }
            Ok((Ingested::Unchanged { hub_id, seq }, None))
        }
        Judgement::Reject { code, message } => Ok((
            Ingested::Rejected {
                hub_id: Some(hub_id),
                code: code.to_owned(),
                message,
            },
            None,
        )),
        Judgement::Accept => {
            let stored = db::store_listing(
                conn,
                &AcceptedListing {
                    hub_id: &hub_id,
                    signing_key: verified.signing_key().as_str(),
                    envelope: &job.bytes,
                    envelope_sha256: &job.sha,
                    listing: &verified.listing,
                    source_url: job.source_url.as_deref(),
                    now_ms,
                },
            )?;
            if let Some(source) = &job.source_url {
                db::record_provenance(conn, &hub_id, source, seq, now_ms)?;
            }
            crate::store::denylist::repin_used(
                conn,
                &hub_id,
                verified.signing_key().as_str(),
                now_ms,
            )?;
            Ok((
                Ingested::Accepted {
                    hub_id,
                    seq,
                    change_number: stored.change_number,
                    withdrawn: verified.listing.withdrawn,
                },
                Some(stored.hub_key),
            ))
        }
    }
}
