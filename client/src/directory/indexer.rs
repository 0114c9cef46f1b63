//! The one thread that writes the search index.
//!
//! The store writer hands each stored listing's prepared services here and
//! goes on storing: a tantivy commit holds the index writer for a few
//! hundred milliseconds (every indexing thread finishes and writes its
//! segment), and while the store writer waited through it, verification
//! stopped too and a 2-core aggregator kept only 1.4 cores busy
//! (docs/benchmarks.md). Tasks are applied in the order they were sent,
//! which is change-number order; the thread commits at least every
//! [`COMMIT_EVERY`] while anything is pending, at once when asked, and
//! after a failed write or commit brings the index back in step from the
//! store.

use std::sync::mpsc::{self, Receiver, RecvTimeoutError, SyncSender};
use std::sync::{Arc, Condvar, Mutex, Weak};
use std::time::{Duration, Instant};

use rusqlite::Connection;
use signpost_spec::Limits;

use super::{catch_up, entries};
use crate::error::{Error, Result};
use crate::search::index::{Prepared, SearchIndex, COMMIT_EVERY};

/// Most services waiting to be filed before the store writer waits: bounds
/// the memory of prepared services (a few KiB each) while letting the
/// store go on through a commit.
const MAX_WAITING_SERVICES: usize = 50_000;

/// Tasks in the channel at most (each also counted in services).
const MAX_WAITING_TASKS: usize = 4096;

/// One piece of work for the index, in change-number order.
enum Task {
    /// File a hub's services (none: remove the hub), as of a change.
    File {
        hub_id: String,
        timezone: String,
        hub_key: i64,
        change: i64,
        prepared: Vec<Prepared>,
    },
    /// Commit now and say how it went.
    Commit(SyncSender<Result<()>>),
}

/// Services sent but not yet filed, and the bell the thread rings as it
/// files them.
#[derive(Default)]
struct Waiting {
    services: Mutex<usize>,
    drained: Condvar,
}

/// The sending side: cheap to clone, shared by the store writer and the
/// directory's other writes.
#[derive(Clone)]
pub(crate) struct Indexer {
    tasks: SyncSender<Task>,
    waiting: Arc<Waiting>,
}

impl Indexer {
    /// Starts the thread that files into `index`; `store` is the writing
    /// connection it reads from to catch up after a failure.
    pub fn start(
        index: Arc<SearchIndex>,
        store: Weak<Mutex<Connection>>,
        limits: Limits,
    ) -> Result<Indexer> {
        let (tasks, inbox) = mpsc::sync_channel(MAX_WAITING_TASKS);
        let waiting = Arc::new(Waiting::default());
        let shared = waiting.clone();
        std::thread::Builder::new()
            .name("signpost-index".into())
            .spawn(move || run(&inbox, &index, &store, &limits, &shared))
            .map_err(|e| Error::Setup(format!("the search index thread could not start: {e}")))?;
        Ok(Indexer { tasks, waiting })
    }

    /// Files a hub's services (none to remove it) as of store change
    /// `change`; waits while too many services are already waiting.
    pub fn file(
        &self,
        hub_id: String,
        timezone: String,
        hub_key: i64,
        change: i64,
        prepared: Vec<Prepared>,
    ) -> Result<()> {
        {
            let mut waiting = self
                .waiting
                .services
                .lock()
                .unwrap_or_else(|p| p.into_inner());
            while *waiting > MAX_WAITING_SERVICES {
                waiting = self
                    .waiting
                    .drained
                    .wait(waiting)
                    .unwrap_or_else(|p| p.into_inner());
            }
            *waiting += prepared.len();
        }
        self.tasks
            .send(Task::File {
                hub_id,
                timezone,
                hub_key,
                change,
                prepared,
            })
            .map_err(|_| stopped())
    }

    /// Waits until everything sent before is filed and committed.
    pub fn commit(&self) -> Result<()> {
        let (reply, answer) = mpsc::sync_channel(1);
        self.tasks
            .send(Task::Commit(reply))
            .map_err(|_| stopped())?;
        answer.recv().map_err(|_| stopped())?
    }
}

fn stopped() -> Error {
    Error::Setup("the search index thread has stopped; restart the node".into())
}

fn run(
    inbox: &Receiver<Task>,
    index: &SearchIndex,
    store: &Weak<Mutex<Connection>>,
    limits: &Limits,
    waiting: &Waiting,
) {
    let mut pending_since: Option<Instant> = None;
    loop {
        let wait = pending_since.map_or(COMMIT_EVERY, |since| {
            COMMIT_EVERY.saturating_sub(since.elapsed())
        });
        let task = match inbox.recv_timeout(wait.max(Duration::from_millis(1))) {
            Ok(task) => Some(task),
            Err(RecvTimeoutError::Timeout) => None,
            Err(RecvTimeoutError::Disconnected) => {
                if let Err(e) = index.commit_if_dirty() {
                    tracing::error!(error = %e, "the search index's last commit failed; it catches up at the next start");
                }
                return;
            }
        };
        match task {
            Some(Task::File {
                hub_id,
                timezone,
                hub_key,
                change,
                prepared,
            }) => {
                let filed =
                    index.replace_hub(&hub_id, &timezone, &entries(hub_key, &prepared), change);
                waiting.release(prepared.len());
                drop(prepared);
                if let Err(e) = filed {
                    index.failed(&e);
                }
                pending_since.get_or_insert_with(Instant::now);
            }
            Some(Task::Commit(reply)) => {
                let committed = index.commit_if_dirty();
                if let Err(e) = &committed {
                    index.failed(e);
                }
                let _ = reply.send(committed);
                pending_since = None;
            }
            None => {}
        }
        if index.take_failure() {
            recover(inbox, index, store, limits, waiting);
            pending_since = None;
            continue;
        }
        // Commit when nothing is waiting and the last commit is old enough
        // (an idle directory's listing is searchable at once), and at
        // least every COMMIT_EVERY whatever is waiting.
        let Some(since) = pending_since else {
            continue;
        };
        let committed = if since.elapsed() >= COMMIT_EVERY {
            index.commit_if_dirty().map(|()| true)
        } else if waiting.is_empty() {
            index.commit_if_due()
        } else {
            Ok(false)
        };
        match committed {
            Ok(true) => pending_since = None,
            Ok(false) => {}
            Err(e) => index.failed(&e),
        }
    }
}

impl Waiting {
    /// `services` more were filed (or dropped): wakes a sender waiting for
    /// room.
    fn release(&self, services: usize) {
        let mut count = self.services.lock().unwrap_or_else(|p| p.into_inner());
        *count = count.saturating_sub(services);
        self.drained.notify_all();
    }

    /// True when every service sent has been filed.
    fn is_empty(&self) -> bool {
        *self.services.lock().unwrap_or_else(|p| p.into_inner()) == 0
    }
}

/// After a failed write or commit: throws away what was applied since the
/// last good commit and files again from the store everything changed
/// since. Tasks waiting meanwhile are dropped: they were stored before
/// they were sent, so the catch-up files them too. Never waits for the
/// store while the store writer waits for this thread.
fn recover(
    inbox: &Receiver<Task>,
    index: &SearchIndex,
    store: &Weak<Mutex<Connection>>,
    limits: &Limits,
    waiting: &Waiting,
) {
    let Some(store) = store.upgrade() else {
        return;
    };
    let conn = loop {
        drain(inbox, waiting);
        match store.try_lock() {
            Ok(conn) => break conn,
            Err(std::sync::TryLockError::Poisoned(p)) => break p.into_inner(),
            Err(std::sync::TryLockError::WouldBlock) => {
                std::thread::sleep(Duration::from_millis(5));
            }
        }
    };
    drain(inbox, waiting);
    match index
        .rollback()
        .and_then(|()| catch_up(&conn, index, limits))
    {
        Ok(()) => tracing::info!("the search index is back in step with the store"),
        Err(e) => {
            tracing::error!(error = %e, "the search index could not catch up; will try again");
            index.failed(&e);
        }
    }
}

/// Drops every waiting task (answering commits with what recovery will
/// do), releasing the store writer if it waits on a full queue.
fn drain(inbox: &Receiver<Task>, waiting: &Waiting) {
    while let Ok(task) = inbox.try_recv() {
        match task {
            Task::File { prepared, .. } => waiting.release(prepared.len()),
            Task::Commit(reply) => {
                let _ = reply.send(Err(Error::Setup(
                    "the search index is catching up with the store after a failure".into(),
                )));
            }
        }
    }
}
