//! # signpost-node
//!
//! The Signpost server. In the **hub** role it keeps a community hub's
//! services and publishes them as a signed listing at
//! `/.well-known/signpost/listing`, with an admin API for editing. (The
//! **aggregator** role, which crawls and merges hubs, builds on this.)
//!
//! Modules are named after concerns: [`config`], [`store`], [`hub`],
//! [`import`], [`admin`], [`web`], [`server`].

pub mod admin;
pub mod cli_service;
pub mod config;
pub mod demo;
pub mod error;
pub mod hub;
pub mod import;
pub mod init;
pub mod keyfile;
pub mod server;
pub mod store;
pub mod web;

pub use error::{NodeError, Result};
