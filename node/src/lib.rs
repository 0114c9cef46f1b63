//! # signpost-node
//!
//! The Signpost server. In the **hub** role it keeps a community hub's
//! services and publishes them as a signed listing at
//! `/.well-known/signpost/listing`, with an admin API for editing. In the
//! **aggregator** role it crawls hubs, verifies their listings, and serves
//! a searchable regional directory and an RPDE change feed.
//!
//! Modules are named after concerns: [`config`], [`store`], [`hub`],
//! [`import`], [`admin`], [`web`], [`server`], and for aggregators
//! [`aggregator`], [`crawl`], [`verify`], [`search`], [`feed`], and the
//! Open Referral API, [`hsds`].

pub mod aggregator;
pub mod cli_service;
pub mod config;
pub mod crawl;
pub mod demo;
pub mod error;
pub mod feed;
pub mod follow;
pub mod forwarded;

pub mod hub;
pub mod import;
pub mod init;
pub mod keyfile;
pub mod listen;
pub mod metrics;
pub mod ops;
pub mod rate_limit;
pub mod recovery;
pub mod reports;
pub mod schedule;
pub mod server;
pub mod web;

pub use error::{NodeError, Result};
