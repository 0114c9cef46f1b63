//! The one error type of the directory core, shared by the node: a store,
//! index, fetch or feed failure means the same to an aggregator as to an app.

use std::path::PathBuf;

use signpost_spec::SpecError;
use thiserror::Error;

/// Everything that can go wrong in the directory core and the node, each
/// variant saying what an operator, an app or an API caller should know to
/// fix it.
#[derive(Debug, Error)]
pub enum Error {
    /// The configuration file or an environment override is not valid.
    #[error("configuration: {0}")]
    Config(String),
    /// A file could not be read or written.
    #[error("{action} {path}: {source}")]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The SQLite database failed.
    #[error("database: {0}")]
    Db(#[from] rusqlite::Error),
    /// A listing would break the protocol (the message names the field).
    #[error("{0}")]
    Spec(#[from] SpecError),
    /// A value sent by an admin or a file is not acceptable.
    #[error("{field}: {message}")]
    Invalid { field: String, message: String },
    /// A file being imported is malformed.
    #[error("import, {location}: {message}")]
    Import { location: String, message: String },
    /// The thing asked for does not exist.
    #[error("{0} not found")]
    NotFound(String),
    /// The hub's key file is missing, unreadable or malformed.
    #[error("key file {path}: {message}")]
    Key { path: PathBuf, message: String },
    /// The data directory is not set up (or set up twice).
    #[error("{0}")]
    Setup(String),
    /// An aggregator's or hub's address is not usable.
    #[error("{0}")]
    BadAddress(String),
    /// This replica already follows another aggregator.
    #[error("{db} follows {following}; use another file to follow {asked}")]
    OtherAggregator {
        /// The replica file.
        db: PathBuf,
        /// The feed it follows.
        following: String,
        /// The feed asked for.
        asked: String,
    },
    /// The feed could not be read (network, HTTP, or not an RPDE feed).
    #[error("sync stopped: {code}: {message}")]
    Feed {
        /// Stable code (`timeout`, `connect_failed`, `bad_feed`, `feed_backwards`, ...).
        code: String,
        /// What happened.
        message: String,
    },
    /// A stored listing could not be written out.
    #[error("export: {0}")]
    Export(String),
}

impl Error {
    /// Shorthand for [`Error::Invalid`].
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Error::Invalid {
            field: field.into(),
            message: message.into(),
        }
    }

    /// Shorthand for [`Error::Io`].
    pub fn io(action: &'static str, path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            action,
            path: path.into(),
            source,
        }
    }
}

/// Result alias for the directory core.
pub type Result<T, E = Error> = std::result::Result<T, E>;
