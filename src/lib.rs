//! Roster: an HTTP JSON API for multi-tenant applications — users and tokens, organizations,
//! members with roles, invites, OAuth apps with Roster as their authorization server, and an
//! event log that feeds signed, retried webhooks.

pub mod app;
pub mod auth;
pub mod cli;
pub mod clock;
pub mod config;
pub mod console;
pub mod crypto;
pub mod delivery;
pub mod devtools;
pub mod domain;
pub mod email;
pub mod error;
pub mod http;
pub mod keys;
pub mod maintenance;
pub mod metrics;
pub mod server;
pub mod state;
pub mod store;
pub mod telemetry;
