//! The node's error type: the directory core's ([`signpost_client::Error`]),
//! so a store, index or fetch failure reads the same wherever it surfaces.

pub use signpost_client::Error as NodeError;

/// Result alias for the node library.
pub type Result<T, E = NodeError> = std::result::Result<T, E>;
