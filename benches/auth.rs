//! Authentication benchmark: what each kind of bearer token costs a request, and how fast the
//! token endpoint issues `client_credentials` tokens. A real server on a temporary database,
//! 64 concurrent clients on loopback, in one process. Prints requests/s and p50/p99 latency of
//! - `GET /api/organizations/{id}/members` with a session token, a personal access token, and
//!   an OAuth token (which also passes the organization and scope checks);
//! - `POST /api/oauth/token` with `grant_type=client_credentials` (each one a write).
//!
//! Run: `cargo bench --bench auth` (both backends), or `-- sqlite` / `-- postgres`.

mod common;

use std::time::{Duration, Instant};

use anyhow::Context;
use futures::StreamExt;
use serde_json::{Value, json};

use common::{ms, percentile};

const CLIENTS: usize = 64;
const REQUESTS: usize = 6_400;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    println!(
        "Roster authentication benchmark ({} cores)",
        std::thread::available_parallelism()?.get()
    );
    for backend in common::backends() {
        run(backend).await.with_context(|| format!("{backend} benchmark"))?;
    }
    Ok(())
}

async fn run(backend: &str) -> anyhow::Result<()> {
    println!("\n== {backend} ==");
    let server = common::Server::start(backend).await?;
    let base = server.base.clone();
    let client = reqwest::Client::builder().pool_max_idle_per_host(CLIENTS).build()?;
    let post = |path: &str, token: Option<&str>, body: Value| {
        let mut req = client.post(format!("{base}{path}")).json(&body);
        if let Some(token) = token {
            req = req.bearer_auth(token);
        }
        async move { anyhow::Ok(req.send().await?.error_for_status()?.json::<Value>().await?) }
    };
    let registered = post(
        "/api/auth/register",
        None,
        json!({"email": "bench@example.com", "password": "benchmark password", "name": "Bench"}),
    )
    .await?;
    let session = registered["accessToken"].as_str().context("token")?.to_owned();
    let org = post("/api/organizations", Some(&session), json!({"name": "Bench"})).await?;
    let org = org["id"].as_str().context("org id")?.to_owned();
    let pat = post(
        "/api/users/me/tokens",
        Some(&session),
        json!({"name": "bench", "currentPassword": "benchmark password"}),
    )
    .await?;
    let pat = pat["token"].as_str().context("pat")?.to_owned();
    let oauth_app = post(
        &format!("/api/organizations/{org}/oauth-apps"),
        Some(&session),
        json!({"name": "Bench", "redirectUris": ["https://bench.example.com/cb"], "scopes": ["members:read"]}),
    )
    .await?;
    let client_id = oauth_app["clientId"].as_str().context("client id")?.to_owned();
    let secret = oauth_app["clientSecret"].as_str().context("secret")?.to_owned();
    let issue = || {
        client
            .post(format!("{base}/api/oauth/token"))
            .basic_auth(&client_id, Some(&secret))
            .form(&[("grant_type", "client_credentials")])
    };
    let oauth: Value = issue().send().await?.error_for_status()?.json().await?;
    let oauth = oauth["access_token"].as_str().context("access token")?.to_owned();

    let members = format!("{base}/api/organizations/{org}/members");
    for (label, token) in
        [("session token", &session), ("personal access token", &pat), ("OAuth token", &oauth)]
    {
        let figures = load(|| client.get(&members).bearer_auth(token)).await?;
        println!("GET …/members, {label:<22} {figures}");
    }
    let figures = load(issue).await?;
    println!("POST /api/oauth/token (client_credentials) {figures}");
    server.stop().await
}

/// Sends [`REQUESTS`] requests, [`CLIENTS`] at a time; every one must succeed.
async fn load(request: impl Fn() -> reqwest::RequestBuilder) -> anyhow::Result<String> {
    let started = Instant::now();
    let mut latencies: Vec<Duration> = futures::stream::iter(0..REQUESTS)
        .map(|_| {
            let req = request();
            async move {
                let sent = Instant::now();
                let res = req.send().await?;
                anyhow::ensure!(res.status().is_success(), "answered {}", res.status());
                res.bytes().await?;
                Ok(sent.elapsed())
            }
        })
        .buffer_unordered(CLIENTS)
        .collect::<Vec<anyhow::Result<Duration>>>()
        .await
        .into_iter()
        .collect::<anyhow::Result<_>>()?;
    let elapsed = started.elapsed();
    latencies.sort();
    Ok(format!(
        "{:>7.0} req/s  p50 {:>6.2} ms  p99 {:>6.2} ms",
        REQUESTS as f64 / elapsed.as_secs_f64(),
        ms(percentile(&latencies, 0.5)),
        ms(percentile(&latencies, 0.99)),
    ))
}
