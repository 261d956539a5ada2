//! Sealing every stored secret again under the current key, after `ROSTER_SECRET_KEY` has
//! changed (`roster reseal`): webhook signing secrets (and the previous one, during a
//! rotation's overlap), custom headers, queued email bodies and stored idempotent answers.
//!
//! Rows are taken a batch at a time in key order, each batch in its own short transaction.
//! A value is replaced only if it is still the one read (a value changed meanwhile was sealed
//! afresh by a server), so the command can run beside live servers and again at any time.

use uuid::Uuid;

use crate::crypto::{Resealed, SecretBox};
use crate::run;
use crate::store::Db;

/// A column of sealed values, and the unique key its rows are found by.
struct Sealed {
    table: &'static str,
    key: &'static str,
    column: &'static str,
}

const SEALED: &[Sealed] = &[
    Sealed { table: "webhooks", key: "id", column: "secret_sealed" },
    Sealed { table: "webhooks", key: "id", column: "previous_secret_sealed" },
    Sealed { table: "webhooks", key: "id", column: "headers_sealed" },
    Sealed { table: "emails", key: "id", column: "sealed_body" },
    Sealed { table: "idempotency_keys", key: "claim_id", column: "response" },
];

/// Rows read and written per transaction.
const BATCH: i64 = 500;

/// What a pass over every sealed value found and did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Tally {
    /// Under the accepted key, now sealed again under the current one.
    pub resealed: u64,
    /// Under the current key already.
    pub current: u64,
    /// Under neither key: nothing can read these.
    pub unreadable: u64,
}

pub async fn reseal(db: &Db, keys: &SecretBox) -> anyhow::Result<Tally> {
    let mut tally = Tally::default();
    for sealed in SEALED {
        let Sealed { table, key, column } = sealed;
        let select = format!(
            "SELECT {key}, {column} FROM {table} WHERE {column} IS NOT NULL \
             AND ($1 IS NULL OR {key} > $1) ORDER BY {key} LIMIT $2"
        );
        let update = format!("UPDATE {table} SET {column} = $1 WHERE {key} = $2 AND {column} = $3");
        let mut after: Option<Uuid> = None;
        loop {
            let mut tx = db.begin_write().await?;
            let rows: Vec<(Uuid, String)> =
                run!(&mut tx, fetch_all, sqlx::query_as(&select).bind(after).bind(BATCH))?;
            for (id, value) in &rows {
                match keys.reseal(value) {
                    Resealed::Current => tally.current += 1,
                    Resealed::Unreadable => tally.unreadable += 1,
                    Resealed::Again(again) => {
                        tally.resealed += run!(
                            &mut tx,
                            execute,
                            sqlx::query(&update).bind(&again).bind(id).bind(value)
                        )?;
                    }
                }
            }
            tx.commit().await?;
            match rows.last() {
                Some((id, _)) if rows.len() as i64 == BATCH => after = Some(*id),
                _ => break,
            }
        }
    }
    Ok(tally)
}
