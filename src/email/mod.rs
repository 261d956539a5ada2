//! Transactional email, sent as reliably as webhooks. A change that causes an email writes it
//! to the outbox (`store::emails`) in its own transaction, rendered and sealed
//! ([`Outbox::queue`]); the [`worker`] reads only the database, leases due emails, sends them
//! over SMTP (or to the log when no relay is configured) and retries what the relay could not
//! take yet. It shares the delivery engine's wake-ups, test clock, retry ladder and metrics
//! registry.

pub mod message;
pub mod metrics;
mod outbox;
pub mod templates;
pub mod transport;
pub mod worker;

pub use message::Message;
pub use outbox::Outbox;
