//! `roster keys`: server keys are made and revoked on the server's machine, with access to its
//! database, never through the API, so that no web credential can mint one.

use clap::Subcommand;
use uuid::Uuid;

use crate::auth::token;
use crate::clock::Clock;
use crate::domain::key_scope::KeyScope;
use crate::store::Db;
use crate::store::server_keys::{self, ServerKey};

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Make a server key and print it; it is shown this once and stored as a digest.
    Create {
        /// What the key is for, e.g. `backend`.
        #[arg(long)]
        name: String,
        /// What the key may do (repeat for several): `events:publish`, `event-types:write`.
        /// Both when none is given.
        #[arg(long = "scope", value_parser = parse_scope)]
        scopes: Vec<KeyScope>,
    },
    /// List the server keys, revoked ones included (never the keys themselves).
    List,
    /// Revoke a server key: it stops working at once.
    Revoke {
        /// The key's ID, as `roster keys list` shows it.
        id: Uuid,
    },
}

fn parse_scope(s: &str) -> Result<KeyScope, String> {
    KeyScope::parse(s).ok_or_else(|| format!("a scope is one of {}", KeyScope::catalog()))
}

pub async fn run(db: &Db, command: KeysCommand) -> anyhow::Result<()> {
    let now = Clock::system().now();
    match command {
        KeysCommand::Create { name, scopes } => {
            let name = name.trim();
            anyhow::ensure!(
                !name.is_empty() && name.chars().count() <= 100,
                "--name must be 1 to 100 characters"
            );
            let mut scopes = if scopes.is_empty() { KeyScope::ALL.to_vec() } else { scopes };
            scopes.sort();
            scopes.dedup();
            let secret = token::generate(token::SERVER_KEY_PREFIX);
            let key = ServerKey {
                id: Uuid::now_v7(),
                name: name.to_owned(),
                scopes,
                created_at: now,
                last_used_at: None,
                revoked_at: None,
            };
            let mut tx = db.begin_write().await?;
            server_keys::insert(&mut tx, &key, &token::digest(&secret)).await?;
            tx.commit().await?;
            eprintln!("Server key {} ({name}) created; it is shown only now:", key.id);
            println!("{secret}");
        }
        KeysCommand::List => {
            let mut conn = db.acquire().await?;
            println!(
                "{:<36}  {:<20}  {:<34}  {:<10}  {:<10}  STATE",
                "ID", "NAME", "SCOPES", "CREATED", "LAST USED"
            );
            for key in server_keys::list(&mut conn).await? {
                let scopes: Vec<&str> = key.scopes.iter().map(|s| s.as_str()).collect();
                let day = |at: Option<chrono::DateTime<chrono::Utc>>| {
                    at.map_or_else(|| "never".to_owned(), |t| t.format("%Y-%m-%d").to_string())
                };
                let state = key.revoked_at.map_or_else(
                    || "active".to_owned(),
                    |at| format!("revoked {}", at.format("%Y-%m-%d")),
                );
                println!(
                    "{:<36}  {:<20}  {:<34}  {:<10}  {:<10}  {state}",
                    key.id,
                    key.name,
                    scopes.join(","),
                    day(Some(key.created_at)),
                    day(key.last_used_at),
                );
            }
        }
        KeysCommand::Revoke { id } => {
            let mut tx = db.begin_write().await?;
            let revoked = server_keys::revoke(&mut tx, id, now).await?;
            tx.commit().await?;
            anyhow::ensure!(revoked, "no active server key has the ID {id}");
            eprintln!("Server key {id} revoked.");
        }
    }
    Ok(())
}
