//! Load over HTTP: drives a `roster` child process from this one, with the webhook receivers
//! in this process too, so that one clock times both the write's response and the delivery's
//! arrival. Each workload gets a fresh server and database. See BENCHMARKS.md.
//!
//! `cargo bench --bench load -- [--backend sqlite|postgres] [--server PATH] [--writes N]
//! [workload...]`

mod api;
mod email;
mod receiver;
mod report;
mod server;
mod stage;
mod workloads;

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use clap::Parser;

use server::Backend;
use stage::Settings;
use workloads::{Sizes, Workload};

#[derive(Debug, Parser)]
#[command(name = "load", about = "Load benchmark of a roster server over HTTP")]
struct Args {
    /// Passed by `cargo bench`; ignored.
    #[arg(long, hide = true)]
    bench: bool,

    /// The database of each server; repeat for both (the default).
    #[arg(long, value_enum)]
    backend: Vec<Backend>,

    /// The roster binary to drive, e.g. an older build to compare; this checkout's by default.
    #[arg(long)]
    server: Option<PathBuf>,

    /// Writes per workload, instead of each workload's own number (not for `noisy`; for
    /// `email`, invites per round).
    #[arg(long)]
    writes: Option<usize>,

    /// Requests in flight in the closed-loop workloads.
    #[arg(long, default_value_t = 64)]
    in_flight: usize,

    /// Offered writes a second of `fanout-rate` (default 20).
    #[arg(long)]
    rate: Option<f64>,

    /// How long `fanout-rate` offers its rate, unless --writes says how many writes.
    #[arg(long, default_value_t = 10.0)]
    seconds: f64,

    /// Webhooks of the organization in `fanout` and `fanout-rate`.
    #[arg(long, default_value_t = 100)]
    webhooks: usize,

    /// Seconds to wait, after the last write, for deliveries still owed.
    #[arg(long, default_value_t = 60)]
    drain: u64,

    /// Roster instances on the one database, writes spread over them in turn (PostgreSQL).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..=16))]
    instances: u16,

    /// Workloads to run, in order; all of them by default.
    #[arg(value_enum)]
    workloads: Vec<Workload>,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let binary = args.server.unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_roster")));
    anyhow::ensure!(binary.exists(), "no server binary at {}", binary.display());
    let settings = Settings {
        binary,
        in_flight: args.in_flight,
        instances: usize::from(args.instances),
        drain: Duration::from_secs(args.drain),
        clock_ticks: server::clock_ticks(),
    };
    let sizes = Sizes {
        writes: args.writes,
        rate: args.rate,
        seconds: args.seconds,
        webhooks: args.webhooks,
    };
    let backends = if args.backend.is_empty() {
        vec![Backend::Sqlite, Backend::Postgres]
    } else {
        args.backend
    };
    anyhow::ensure!(
        settings.instances == 1 || !backends.contains(&Backend::Sqlite),
        "--instances above 1 needs --backend postgres: SQLite is one process's database"
    );
    let workloads = if args.workloads.is_empty() { Workload::ALL.to_vec() } else { args.workloads };
    println!(
        "Roster load benchmark: {} on {} cores, {} in flight, {} instance(s)",
        settings.binary.display(),
        std::thread::available_parallelism()?.get(),
        settings.in_flight,
        settings.instances
    );
    let mut all = Vec::new();
    let mut email = Vec::new();
    for backend in backends {
        for &workload in &workloads {
            if workload == Workload::Email {
                let rows = email::run(backend, &settings, sizes.writes).await;
                email.extend(rows.with_context(|| format!("email on {backend:?}"))?);
                continue;
            }
            let figures = workloads::run(workload, backend, &settings, &sizes)
                .await
                .with_context(|| format!("{} on {backend:?}", workload.name()))?;
            figures.print();
            all.push(figures);
        }
    }
    if !all.is_empty() {
        report::print_table(&all);
    }
    email::print_table(&email);
    Ok(())
}
