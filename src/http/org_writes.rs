//! Writes to one organization take turns in memory before they take a database connection:
//! per organization and instance, a few run at once, a bounded number more wait, and past
//! that the caller is answered 429 with `Retry-After`. One organization's burst then holds a
//! few of the pool's connections, not all of them, and the others' writes go straight on.
//! Only an authenticated caller takes a place in the queue, so requests with no valid token
//! cannot fill an organization's.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use axum::extract::{FromRequestParts, Request, State};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use uuid::Uuid;

use crate::error::ApiError;
use crate::http::server_key::Caller;
use crate::state::AppState;

/// How long a caller turned away is asked to wait.
const RETRY_AFTER_SECS: u64 = 1;

pub struct WriteTurns {
    at_once: usize,
    queued: usize,
    gates: Arc<Mutex<HashMap<Uuid, Gate>>>,
}

struct Gate {
    turns: Arc<Semaphore>,
    /// Callers running or waiting.
    holders: usize,
}

/// A place in an organization's queue; leaving it (dropping) frees the place.
pub struct Ticket {
    gates: Arc<Mutex<HashMap<Uuid, Gate>>>,
    org: Uuid,
    turns: Arc<Semaphore>,
}

impl WriteTurns {
    pub fn new(at_once: usize, queued: usize) -> Self {
        Self { at_once: at_once.max(1), queued, gates: Arc::default() }
    }

    /// A place in `org`'s queue, unless it is full.
    pub fn enter(&self, org: Uuid) -> Result<Ticket, ApiError> {
        let mut gates = lock(&self.gates);
        let gate = gates
            .entry(org)
            .or_insert_with(|| Gate { turns: Arc::new(Semaphore::new(self.at_once)), holders: 0 });
        if gate.holders >= self.at_once + self.queued {
            return Err(ApiError::RateLimited { retry_after_secs: RETRY_AFTER_SECS });
        }
        gate.holders += 1;
        Ok(Ticket { gates: self.gates.clone(), org, turns: gate.turns.clone() })
    }
}

impl Ticket {
    /// Waits for this ticket's turn; the turn lasts as long as the permit.
    pub async fn turn(&self) -> Option<OwnedSemaphorePermit> {
        self.turns.clone().acquire_owned().await.ok()
    }
}

impl Drop for Ticket {
    fn drop(&mut self) {
        let mut gates = lock(&self.gates);
        if let Some(gate) = gates.get_mut(&self.org) {
            gate.holders -= 1;
            if gate.holders == 0 {
                gates.remove(&self.org);
            }
        }
    }
}

fn lock(gates: &Mutex<HashMap<Uuid, Gate>>) -> MutexGuard<'_, HashMap<Uuid, Gate>> {
    // Counters only, consistent after every step: a poisoned lock holds nothing half-done.
    gates.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Middleware for every route: a change under `/api/organizations/{id}` by an authenticated
/// caller waits for its organization's turn.
pub async fn take_turn(State(state): State<AppState>, request: Request, next: Next) -> Response {
    if matches!(*request.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        return next.run(request).await;
    }
    let Some(org) = organization_in(request.uri().path()) else {
        return next.run(request).await;
    };
    let (mut parts, body) = request.into_parts();
    // The handler's own extraction then finds it in the request's extensions.
    if let Err(refused) = Caller::from_request_parts(&mut parts, &state).await {
        return refused.into_response();
    }
    let ticket = match state.org_writes.enter(org) {
        Ok(ticket) => ticket,
        Err(busy) => return busy.into_response(),
    };
    let _turn = ticket.turn().await;
    next.run(Request::from_parts(parts, body)).await
}

/// The organization a path is under, if it names one by a well-formed ID.
fn organization_in(path: &str) -> Option<Uuid> {
    let rest = path.strip_prefix("/api/organizations/")?;
    let id = rest.split('/').next()?;
    Uuid::try_parse(id).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_paths_under_one_organization_take_turns() {
        let id = Uuid::now_v7();
        assert_eq!(organization_in(&format!("/api/organizations/{id}")), Some(id));
        assert_eq!(organization_in(&format!("/api/organizations/{id}/webhooks")), Some(id));
        assert_eq!(organization_in("/api/organizations"), None);
        assert_eq!(organization_in("/api/organizations/not-an-id/members"), None);
        assert_eq!(organization_in("/api/oauth/token"), None);
    }

    #[tokio::test]
    async fn a_full_queue_turns_callers_away_until_a_place_frees() {
        let turns = WriteTurns::new(1, 1);
        let (org, other) = (Uuid::now_v7(), Uuid::now_v7());
        let running = turns.enter(org).expect("first place");
        let _turn = running.turn().await;
        let waiting = turns.enter(org).expect("queued");
        assert!(matches!(turns.enter(org), Err(ApiError::RateLimited { retry_after_secs: 1 })));
        assert!(turns.enter(other).is_ok(), "another organization has its own queue");
        drop(waiting);
        assert!(turns.enter(org).is_ok());
    }
}
