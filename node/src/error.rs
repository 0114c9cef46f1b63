//! The one error type of the node library.

use std::path::PathBuf;

use signpost_spec::SpecError;
use thiserror::Error;

/// Everything that can go wrong inside the node, each variant saying what an
/// operator or an API caller should know to fix it.
#[derive(Debug, Error)]
pub enum NodeError {
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
}

impl NodeError {
    /// Shorthand for [`NodeError::Invalid`].
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        NodeError::Invalid {
            field: field.into(),
            message: message.into(),
        }
    }

    /// Shorthand for [`NodeError::Io`].
    pub fn io(action: &'static str, path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        NodeError::Io {
            action,
            path: path.into(),
            source,
        }
    }
}

/// Result alias for the node library.
pub type Result<T, E = NodeError> = std::result::Result<T, E>;
