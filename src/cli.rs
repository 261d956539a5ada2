//! The `roster` command line.

use clap::{Parser, Subcommand};

use crate::app::{App, shutdown_signal};
use crate::config::{Config, ServeArgs};
use crate::store::Db;
use crate::telemetry;

#[derive(Debug, Parser)]
#[command(name = "roster", version, about = "Organizations, members and signed webhooks over HTTP")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub serve: ServeArgs,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the API server (the default).
    Serve,
    /// Apply database migrations and exit.
    Migrate,
    /// Run a local webhook receiver that verifies signatures and prints each delivery.
    Listen {
        /// The webhook's signing secret (`whsec_…`).
        #[arg(long, env = "ROSTER_LISTEN_SECRET", hide_env_values = true)]
        secret: String,
        /// Port on 127.0.0.1.
        #[arg(long, default_value_t = 3002)]
        port: u16,
    },
    /// Check a signature for a body read from stdin; exits 0 when it matches, 1 otherwise.
    Verify {
        /// The webhook's signing secret (`whsec_…`).
        #[arg(long)]
        secret: String,
        /// `X-Webhook-Signature` (hex), or `webhook-signature` (`v1,…`) with --id and --timestamp.
        #[arg(long)]
        signature: String,
        /// The `webhook-id` header, for a `v1,…` signature.
        #[arg(long)]
        id: Option<String>,
        /// The `webhook-timestamp` header, for a `v1,…` signature.
        #[arg(long)]
        timestamp: Option<i64>,
    },
}

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    telemetry::init(cli.serve.log_format);
    let addr = cli.serve.addr;
    let config = Config::from(cli.serve);
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => {
            let app = App::build(config).await?;
            let listener = tokio::net::TcpListener::bind(addr).await?;
            app.serve(listener, shutdown_signal()).await
        }
        Command::Migrate => {
            let db = Db::connect(&config.database_url).await?;
            db.migrate().await?;
            db.close().await;
            tracing::info!("migrations applied");
            Ok(())
        }
        Command::Listen { secret, port } => {
            crate::devtools::listen(secret, port, shutdown_signal()).await
        }
        Command::Verify { secret, signature, id, timestamp } => {
            if crate::devtools::verify(&secret, &signature, id.as_deref(), timestamp)? {
                println!("valid");
                Ok(())
            } else {
                println!("invalid");
                std::process::exit(1);
            }
        }
    }
}
