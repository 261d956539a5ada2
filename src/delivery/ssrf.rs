//! The guard against webhooks aimed at the server's own network. Checked where the address is
//! chosen: the resolver hands the HTTP client only allowed addresses, so the address connected
//! to is the address checked, and a DNS answer that changes between attempts cannot slip past.
//! URLs with a literal IP never reach a resolver; [`crate::domain::webhook_url::check`]
//! refuses those before sending, as it did when the URL was registered.

use std::net::SocketAddr;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

/// The classification is a product rule and lives with the rest of the URL policy.
pub use crate::domain::webhook_url::is_forbidden;

/// A resolver that drops forbidden addresses, failing when none is left.
#[derive(Debug, Clone)]
pub struct GuardedResolver;

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0))
                .await?
                .filter(|addr| !is_forbidden(addr.ip()))
                .collect();
            if addrs.is_empty() {
                return Err(format!("{host} resolves only to forbidden addresses").into());
            }
            Ok(Box::new(addrs.into_iter()) as Addrs)
        })
    }
}
