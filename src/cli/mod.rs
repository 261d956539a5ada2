//! The `roster` command line.

mod keys;

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::app::{App, shutdown_signal};
use crate::config::{ServeArgs, read_secret};
use crate::crypto::SecretBox;
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
    /// Server keys: credentials for the application's backend (migrates the database first).
    Keys {
        #[command(subcommand)]
        command: keys::KeysCommand,
    },
    /// Copy the SQLite database, online and consistent, to a new file (see
    /// docs/operations.md for restoring it). PostgreSQL is backed up with its own tools.
    Backup {
        /// The file to write; it must not exist.
        #[arg(long)]
        to: PathBuf,
    },
    /// Seal every stored secret again under ROSTER_SECRET_KEY, opening those still under
    /// ROSTER_SECRET_KEY_ACCEPT; exits non-zero if any value opens under neither. Safe beside
    /// running servers, and to run again.
    Reseal,
    /// Run a local webhook receiver that verifies signatures and prints each delivery.
    Listen {
        #[command(flatten)]
        secret: WebhookSecret,
        /// Port on 127.0.0.1.
        #[arg(long, default_value_t = 3002)]
        port: u16,
    },
    /// Check a signature for a body read from stdin; exits 0 when it matches, 1 otherwise.
    Verify {
        #[command(flatten)]
        secret: WebhookSecret,
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

/// Where `listen` and `verify` find a webhook's signing secret.
#[derive(Debug, Args)]
pub struct WebhookSecret {
    /// A file holding the webhook's signing secret (`whsec_…`). Or set ROSTER_WEBHOOK_SECRET
    /// to the secret itself; it is never taken on the command line.
    #[arg(long, env = "ROSTER_WEBHOOK_SECRET_FILE")]
    secret_file: Option<PathBuf>,

    /// Refused with a pointer to the two safe ways; see `secret_file`.
    #[arg(long = "secret", hide = true)]
    secret_on_command_line: Option<String>,
}

impl WebhookSecret {
    fn read(&self) -> anyhow::Result<String> {
        if self.secret_on_command_line.is_some() {
            anyhow::bail!(
                "--secret is not accepted: the process list would show the secret to every user \
                 of the machine. Set ROSTER_WEBHOOK_SECRET, or pass --secret-file"
            );
        }
        let from_env = std::env::var("ROSTER_WEBHOOK_SECRET").ok().filter(|v| !v.is_empty());
        read_secret("ROSTER_WEBHOOK_SECRET", from_env, self.secret_file.as_deref())?.ok_or_else(
            || anyhow::anyhow!("set ROSTER_WEBHOOK_SECRET or pass --secret-file with the secret"),
        )
    }
}

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    telemetry::init(cli.serve.log_format);
    let addr = cli.serve.addr;
    let config = cli.serve.into_config()?;
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => {
            let app = App::build(config).await?;
            let listener = tokio::net::TcpListener::bind(addr).await?;
            app.serve(listener, shutdown_signal()).await
        }
        Command::Migrate => {
            let db = config.connect_db().await?;
            db.migrate().await?;
            db.close().await;
            tracing::info!("migrations applied");
            Ok(())
        }
        Command::Keys { command } => {
            let db = config.connect_db().await?;
            db.migrate().await?;
            let done = keys::run(&db, command).await;
            db.close().await;
            done
        }
        Command::Backup { to } => {
            let copied = crate::store::backup::sqlite(&config.database_url, &to).await?;
            println!(
                "backed up to {} ({} bytes, schema version {})",
                to.display(),
                copied.bytes,
                copied.schema_version
            );
            Ok(())
        }
        Command::Reseal => {
            let backend = crate::store::Backend::from_url(&config.database_url)?;
            let key = crate::keys::resolve(&config, backend)?;
            let keys = SecretBox::with_accepted(&key, config.accepted_secret_key.as_ref());
            let db = config.connect_db().await?;
            db.migrate().await?;
            let tally = crate::store::reseal::reseal(&db, &keys).await;
            db.close().await;
            let tally = tally?;
            println!(
                "resealed {}, already under the current key {}, unreadable {}",
                tally.resealed, tally.current, tally.unreadable
            );
            if tally.unreadable > 0 {
                anyhow::bail!(
                    "{} stored values open under neither ROSTER_SECRET_KEY nor \
                     ROSTER_SECRET_KEY_ACCEPT: keep the key that sealed them accepted",
                    tally.unreadable
                );
            }
            Ok(())
        }
        Command::Listen { secret, port } => {
            crate::devtools::listen(secret.read()?, port, shutdown_signal()).await
        }
        Command::Verify { secret, signature, id, timestamp } => {
            if crate::devtools::verify(&secret.read()?, &signature, id.as_deref(), timestamp)? {
                println!("valid");
                Ok(())
            } else {
                println!("invalid");
                std::process::exit(1);
            }
        }
    }
}
