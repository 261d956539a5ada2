//! Who is on the other end of a request, as a session records it.

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::header::USER_AGENT;
use axum::http::request::Parts;

use crate::error::ApiError;
use crate::store::sessions::{Client, USER_AGENT_MAX};

/// The peer's address and the `User-Agent` it sent.
pub struct Caller {
    pub ip: IpAddr,
    pub user_agent: Option<String>,
}

impl Caller {
    /// What a session started by this caller records.
    pub fn client(&self) -> Client {
        Client { user_agent: self.user_agent.clone(), ip: Some(self.ip.to_canonical().to_string()) }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        // The server puts the peer of every connection here (see `crate::server`).
        let ip = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(peer)| peer.ip())
            .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("no peer address")))?;
        let user_agent = parts
            .headers
            .get(USER_AGENT)
            .map(|value| user_agent(&String::from_utf8_lossy(value.as_bytes())))
            .filter(|ua| !ua.is_empty());
        Ok(Self { ip, user_agent })
    }
}

/// The header as kept: trimmed, without control characters, cut to [`USER_AGENT_MAX`].
fn user_agent(raw: &str) -> String {
    raw.trim().chars().filter(|c| !c.is_control()).take(USER_AGENT_MAX).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_agents_are_cut_on_character_boundaries() {
        assert_eq!(user_agent("  curl/8.5  "), "curl/8.5");
        let long = "é".repeat(300);
        assert_eq!(user_agent(&long).chars().count(), USER_AGENT_MAX);
        assert_eq!(user_agent("a\tb"), "ab");
    }
}
