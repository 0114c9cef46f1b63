//! Running a node for years: consistent backups while it serves, restores
//! that check what they restore, and a lock so two processes never serve
//! (or restore into) the same folder at once.

use std::fs::File;
use std::path::{Path, PathBuf};

use rusqlite::{Connection, OpenFlags};

use crate::config::DATABASE_FILE;
use crate::error::{NodeError, Result};

/// File whose lock marks a folder as being served.
pub const LOCK_FILE: &str = "signpost.lock";

/// An exclusive lock on a data folder, held while a node serves it.
#[derive(Debug)]
pub struct FolderLock {
    _file: File,
}

impl FolderLock {
    /// Takes the folder's lock, or says that another process holds it.
    pub fn take(dir: &Path) -> Result<FolderLock> {
        let path = dir.join(LOCK_FILE);
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|e| NodeError::io("opening", &path, e))?;
        match file.try_lock() {
            Ok(()) => Ok(FolderLock { _file: file }),
            Err(std::fs::TryLockError::WouldBlock) => Err(NodeError::Setup(format!(
                "another signpost-node is using {}; stop it first",
                dir.display()
            ))),
            Err(std::fs::TryLockError::Error(e)) => Err(NodeError::io("locking", &path, e)),
        }
    }
}

/// Writes a consistent copy of the folder's database to `to` while the
/// node keeps serving. `VACUUM INTO` reads one snapshot (WAL lets writers
/// carry on meanwhile) and writes a compact, self-contained file; unlike the
/// page-by-page backup API it never has to restart when a write lands
/// during the copy, so it finishes even under a busy crawl.
pub fn backup(dir: &Path, to: &Path) -> Result<u64> {
    if to.exists() {
        return Err(NodeError::Setup(format!(
            "{} already exists; choose a new file name",
            to.display()
        )));
    }
    let source = dir.join(DATABASE_FILE);
    if !source.exists() {
        return Err(NodeError::Setup(format!(
            "{} has no database",
            dir.display()
        )));
    }
    let conn = Connection::open_with_flags(&source, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    conn.busy_timeout(std::time::Duration::from_secs(30))?;
    let target = to
        .to_str()
        .ok_or_else(|| NodeError::Setup(format!("{} is not a UTF-8 path", to.display())))?;
    conn.execute("VACUUM INTO ?1", [target])?;
    let size = std::fs::metadata(to)
        .map_err(|e| NodeError::io("reading", to, e))?
        .len();
    check_database(to)?;
    Ok(size)
}

/// Checks a database file: SQLite's integrity check, and a schema version
/// this build knows. Returns the schema version.
pub fn check_database(path: &Path) -> Result<usize> {
    let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    let result: String = conn.query_row("PRAGMA integrity_check", [], |r| r.get(0))?;
    if result != "ok" {
        return Err(NodeError::Setup(format!(
            "{} fails SQLite's integrity check: {result}",
            path.display()
        )));
    }
    let version: usize = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    if version > signpost_client::store::schema_version() {
        return Err(NodeError::Setup(format!(
            "{} was written by a newer signpost-node (schema {version}); upgrade first",
            path.display()
        )));
    }
    Ok(version)
}

/// Replaces the folder's database with a backup. The node must be stopped
/// (the folder lock is taken to make sure). The database being replaced is
/// kept as `signpost.db.before-restore-UNIXTIME`; returns that path. The
/// hub publishes anew the next time it is opened (by `restore` itself on
/// the command line, or at start), above the replaced database's seq.
pub fn restore(dir: &Path, from: &Path) -> Result<PathBuf> {
    let _lock = FolderLock::take(dir)?;
    check_database(from)?;
    let db = dir.join(DATABASE_FILE);
    let staged = dir.join(format!("{DATABASE_FILE}.restoring"));
    std::fs::copy(from, &staged).map_err(|e| NodeError::io("copying", from, e))?;
    File::open(&staged)
        .and_then(|f| f.sync_all())
        .map_err(|e| NodeError::io("syncing", &staged, e))?;
    let kept = dir.join(format!(
        "{DATABASE_FILE}.before-restore-{}",
        jiff::Timestamp::now().as_second()
    ));
    let mut issued_before = 0;
    if db.exists() {
        // Fold any WAL into the old file first, so the kept copy is whole.
        if let Ok(conn) = Connection::open(&db) {
            let _ = conn.pragma_update(None, "wal_checkpoint", "TRUNCATE");
            // What the hub published since the backup, aggregators may hold:
            // the restored hub's next seq must go above it. (A database
            // too broken to say falls back on the clock, as `edit` does.)
            issued_before = crate::hub::highest_seq(&conn).unwrap_or(0);
        }
        std::fs::rename(&db, &kept).map_err(|e| NodeError::io("moving aside", &db, e))?;
        for suffix in ["-wal", "-shm"] {
            let side = dir.join(format!("{DATABASE_FILE}{suffix}"));
            if side.exists() {
                std::fs::remove_file(&side).map_err(|e| NodeError::io("removing", &side, e))?;
            }
        }
    }
    std::fs::rename(&staged, &db).map_err(|e| NodeError::io("installing", &staged, e))?;
    // Bring an older backup's schema up to date now, not at first serve,
    // and have the hub publish anew when it is next opened.
    let conn = signpost_client::store::open(&db)?;
    crate::hub::mark_restored(&conn, issued_before)?;
    drop(conn);
    // The search index described the database that was replaced: the
    // next start builds it again from the restored one.
    remove_index(&db)?;
    Ok(kept)
}

fn remove_index(db: &Path) -> Result<()> {
    let index = crate::aggregator::index_dir(db);
    if index.exists() {
        std::fs::remove_dir_all(&index).map_err(|e| NodeError::io("removing", &index, e))?;
    }
    Ok(())
}

/// Builds the aggregator's search index again from the database (the node
/// must be stopped: the folder is locked meanwhile). Gives how many
/// services are searchable.
pub fn reindex(dir: &Path, config: &crate::config::Config) -> Result<usize> {
    let _lock = FolderLock::take(dir)?;
    remove_index(&dir.join(DATABASE_FILE))?;
    let agg = crate::aggregator::Aggregator::open(dir, config)?;
    Ok(agg.searchable())
}
