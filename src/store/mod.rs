//! All SQL lives here, for SQLite and PostgreSQL, each in its own native types.
//!
//! Why this shape: every query is written once, as SQL both backends accept (`$N`
//! placeholders, `RETURNING`, `ON CONFLICT`), and [`dispatch!`] compiles it once per backend
//! against that backend's own connection type. Binds and rows therefore use native types —
//! `uuid`, `timestamptz`, `boolean`, `text[]` and `json` on PostgreSQL; STRICT tables with BLOB
//! UUIDs, RFC 3339 text times and JSON-array lists on SQLite — with no conversion layer in
//! between. Where the dialects genuinely differ (row locks, array edits, the claim of due
//! deliveries), the function says so and holds both texts side by side. Queries are not
//! checked at compile time (that needs a live database of each kind per build); every store
//! function is exercised on both backends by the integration tests instead.
//!
//! Invariants:
//! - A write runs in a [`Tx`]: functions that change rows take `&mut Tx`, readers take
//!   `&mut dyn Conn`. A transaction that queued deliveries wakes the workers when it commits,
//!   by construction (see [`Tx::commit`]).
//! - Rows are locked with `SELECT … FOR NO KEY UPDATE` / `FOR SHARE` on PostgreSQL
//!   ([`for_update`], [`for_share`]); on SQLite a write transaction holds the database's single write lock from
//!   its first statement (`BEGIN IMMEDIATE`), so the same read already excludes every writer.
//! - Times are stored as given; the caller's clock truncates them to the millisecond.

mod conn;
mod db;
pub mod db_time;
mod error;
mod types;
mod wakeup;

pub mod account_tokens;
pub mod backup;
pub mod deliveries;
pub mod emails;
pub mod event_types;
pub mod events;
pub mod idempotency;
pub mod invites;
pub mod last_used;
pub mod log_retention;
pub mod login_failures;
pub mod members;
pub mod oauth_apps;
pub mod oauth_grants;
pub mod organizations;
pub mod portal_sessions;
pub mod quotas;
pub mod reseal;
pub mod retention;
pub mod server_keys;
pub mod sessions;
mod single_use;
pub mod tokens;
pub mod users;
mod webhook_settings;
pub mod webhooks;

pub use conn::{Conn, Native, Pooled, Tx, for_key_share, for_share, for_update, in_text_list};
pub use db::{Backend, Db};
pub(crate) use error::bad_value;
pub use error::{StoreError, is_transient};
pub use types::{IdList, JsonText, TextList};
pub use wakeup::{Wakeups, announce, listen};
