//! Roster's integration tests: one binary, one module per area of the public API. Each story
//! spawns the real server on port 0 with a database of its own and runs on SQLite and on
//! PostgreSQL (see `common`).

#[macro_use]
mod common;

mod account;
mod app_events;
mod auth;
mod backup;
mod browser_harness;
mod cli;
mod cluster;
mod connections;
mod console;
mod delivery;
mod durability;
mod email;
mod idempotency;
mod input_rules;
mod invites;
mod key_rotation;
mod malformed_requests;
mod members;
mod oauth_apps;
mod oauth_hardening;
mod oauth_scopes;
mod oauth_server;
mod openapi;
mod organizations;
mod pooler;
mod quotas;
mod retention;
mod smoke;
mod webhook_health;
mod webhooks_api;
