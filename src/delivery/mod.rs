//! Webhook delivery: claim due deliveries from the database, sign, send, record the attempt,
//! schedule the retry. See `worker` for the loop and `store::deliveries` for the queue.

pub mod metrics;
mod recorder;
pub mod sender;
pub mod signature;
pub mod slots;
pub mod ssrf;
pub mod worker;
