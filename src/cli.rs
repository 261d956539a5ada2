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
    }
}
