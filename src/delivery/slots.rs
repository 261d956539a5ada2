//! Who holds the worker's attempt slots. Each webhook and each organization may hold only its
//! share of them at once. A claimed delivery over its share waits here, under its lease, for
//! one of its webhook's or organization's attempts to finish; and claims leave out webhooks
//! and organizations already full. So a dead endpoint, or a flood from one organization,
//! holds its share and no more, and everyone else's deliveries keep moving.

use std::collections::{HashMap, VecDeque};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use tokio::sync::Notify;
use tokio::time::Instant;
use uuid::Uuid;

use crate::store::deliveries::{DueDelivery, Exclusions};

#[derive(Debug, Clone, Copy)]
pub struct Shares {
    pub per_webhook: usize,
    pub per_organization: usize,
    /// A waiting delivery whose lease has less than this left is not started: the attempt
    /// could outlive the lease. It falls due again when the lease ends.
    pub lease_needed: Duration,
}

/// A claimed delivery and when its lease runs out.
pub struct Claimed {
    pub delivery: DueDelivery,
    pub lease_ends: Instant,
}

pub struct Slots {
    shares: Shares,
    state: Mutex<State>,
    /// Told when a webhook or organization that claims left out has room again.
    reopened: Notify,
}

#[derive(Default)]
struct State {
    webhooks: HashMap<Uuid, Load>,
    organizations: HashMap<Uuid, Load>,
    /// Deliveries over their share, per webhook, oldest first.
    waiting: HashMap<Uuid, VecDeque<Claimed>>,
}

#[derive(Default)]
struct Load {
    running: usize,
    waiting: usize,
    /// Reported full to a claim: it is told when a quarter of its share is free again, so the
    /// next claim takes several of its deliveries rather than one per finished attempt.
    left_out: bool,
}

impl Load {
    fn held(&self) -> usize {
        self.running + self.waiting
    }

    fn reopens(&self, share: usize) -> bool {
        self.left_out && self.held() <= share - share.div_ceil(4)
    }
}

impl Slots {
    pub fn new(shares: Shares) -> Self {
        Self { shares, state: Mutex::default(), reopened: Notify::new() }
    }

    /// The webhooks and organizations holding their whole share, for claims to leave out.
    pub fn full(&self) -> Exclusions {
        let mut state = self.lock();
        let mut full = Exclusions::default();
        for (id, load) in &mut state.webhooks {
            if load.held() >= self.shares.per_webhook {
                load.left_out = true;
                full.webhooks.push(*id);
            }
        }
        for (id, load) in &mut state.organizations {
            if load.held() >= self.shares.per_organization {
                load.left_out = true;
                full.organizations.push(*id);
            }
        }
        full
    }

    /// Takes a claimed delivery: back to be started now if its webhook and organization have
    /// room, or kept waiting (`None`) until one of theirs finishes.
    pub fn admit(&self, claimed: Claimed) -> Option<Claimed> {
        let mut state = self.lock();
        let (webhook, org) = (claimed.delivery.webhook_id, claimed.delivery.organization_id);
        let room = state.webhooks.get(&webhook).is_none_or(|l| l.running < self.shares.per_webhook)
            && state
                .organizations
                .get(&org)
                .is_none_or(|l| l.running < self.shares.per_organization);
        let webhook_load = state.webhooks.entry(webhook).or_default();
        if room {
            webhook_load.running += 1;
            state.organizations.entry(org).or_default().running += 1;
            return Some(claimed);
        }
        webhook_load.waiting += 1;
        state.organizations.entry(org).or_default().waiting += 1;
        state.waiting.entry(webhook).or_default().push_back(claimed);
        None
    }

    /// Records that an attempt of `finished` ended, and hands back the delivery to attempt in
    /// its slot, if `next` is asked for: one waiting on the same webhook, or else on another
    /// webhook of the same organization.
    pub fn finish(&self, finished: &DueDelivery, next: bool) -> Option<Claimed> {
        let mut state = self.lock();
        let (webhook, org) = (finished.webhook_id, finished.organization_id);
        let reopens = release(&mut state, webhook, org, &self.shares);
        let successor = if next { self.successor(&mut state, webhook, org) } else { None };
        drop(state);
        if reopens {
            self.reopened.notify_one();
        }
        successor
    }

    /// Resolves when a webhook or organization that a claim left out has room again.
    pub async fn reopened(&self) {
        self.reopened.notified().await;
    }

    fn successor(&self, state: &mut State, webhook: Uuid, org: Uuid) -> Option<Claimed> {
        loop {
            let same_webhook = state.waiting.contains_key(&webhook)
                && state
                    .webhooks
                    .get(&webhook)
                    .is_some_and(|l| l.running < self.shares.per_webhook);
            let from = if same_webhook {
                webhook
            } else {
                // Another webhook of the organization, with room of its own.
                *state.waiting.iter().find_map(|(id, queue)| {
                    let front = queue.front()?;
                    let has_room =
                        state.webhooks.get(id).is_some_and(|l| l.running < self.shares.per_webhook);
                    (front.delivery.organization_id == org && has_room).then_some(id)
                })?
            };
            if state
                .organizations
                .get(&org)
                .is_some_and(|l| l.running >= self.shares.per_organization)
            {
                return None;
            }
            let queue = state.waiting.get_mut(&from)?;
            let claimed = queue.pop_front()?;
            if queue.is_empty() {
                state.waiting.remove(&from);
            }
            let webhook_load = state.webhooks.entry(from).or_default();
            webhook_load.waiting -= 1;
            let org_load = state.organizations.entry(org).or_default();
            org_load.waiting -= 1;
            if claimed.lease_ends.saturating_duration_since(Instant::now())
                < self.shares.lease_needed
            {
                forget_if_idle(state, from, org);
                continue;
            }
            state.webhooks.entry(from).or_default().running += 1;
            state.organizations.entry(org).or_default().running += 1;
            return Some(claimed);
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // The state is counters and queues, consistent after every step: a panic elsewhere
        // cannot leave it half-changed.
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// One fewer running for the webhook and organization; true if either reopens.
fn release(state: &mut State, webhook: Uuid, org: Uuid, shares: &Shares) -> bool {
    let mut reopens = false;
    if let Some(load) = state.webhooks.get_mut(&webhook) {
        load.running = load.running.saturating_sub(1);
        if load.reopens(shares.per_webhook) {
            load.left_out = false;
            reopens = true;
        }
    }
    if let Some(load) = state.organizations.get_mut(&org) {
        load.running = load.running.saturating_sub(1);
        if load.reopens(shares.per_organization) {
            load.left_out = false;
            reopens = true;
        }
    }
    forget_if_idle(state, webhook, org);
    reopens
}

fn forget_if_idle(state: &mut State, webhook: Uuid, org: Uuid) {
    if state.webhooks.get(&webhook).is_some_and(|l| l.held() == 0) {
        state.webhooks.remove(&webhook);
    }
    if state.organizations.get(&org).is_some_and(|l| l.held() == 0) {
        state.organizations.remove(&org);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHARES: Shares =
        Shares { per_webhook: 2, per_organization: 3, lease_needed: Duration::from_secs(1) };

    fn claimed(webhook: Uuid, org: Uuid) -> Claimed {
        let delivery = DueDelivery {
            id: Uuid::now_v7(),
            lease_id: Uuid::now_v7(),
            webhook_id: webhook,
            organization_id: org,
            event_id: Uuid::now_v7(),
            event_type: "organization.updated".into(),
            chain_attempts: 0,
            total_attempts: 0,
            url: "http://127.0.0.1:9/".into(),
            webhook_enabled: true,
            secret_sealed: String::new(),
            previous_secret: None,
            headers_sealed: None,
            payload: "{}".into(),
        };
        Claimed { delivery, lease_ends: Instant::now() + Duration::from_secs(60) }
    }

    #[test]
    fn a_webhook_holds_its_share_and_the_rest_wait_their_turn() {
        let slots = Slots::new(SHARES);
        let (webhook, org) = (Uuid::now_v7(), Uuid::now_v7());
        let first = slots.admit(claimed(webhook, org)).expect("room");
        assert!(slots.admit(claimed(webhook, org)).is_some());
        let third = claimed(webhook, org);
        let third_id = third.delivery.id;
        assert!(slots.admit(third).is_none(), "over the webhook's share");
        assert_eq!(slots.full().webhooks, vec![webhook]);

        let next = slots.finish(&first.delivery, true).expect("the waiting one takes the slot");
        assert_eq!(next.delivery.id, third_id);
        assert!(slots.finish(&next.delivery, true).is_none());
    }

    #[test]
    fn an_organization_holds_its_share_across_its_webhooks() {
        let slots = Slots::new(SHARES);
        let org = Uuid::now_v7();
        let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
        let running = [claimed(a, org), claimed(a, org), claimed(b, org)]
            .map(|c| slots.admit(c).expect("inside the organization's share"));
        assert!(slots.admit(claimed(b, org)).is_none());
        assert_eq!(slots.full().organizations, vec![org]);
        // Another organization is not held up.
        assert!(slots.admit(claimed(Uuid::now_v7(), Uuid::now_v7())).is_some());
        // Webhook `a` has nothing waiting: the slot goes to `b`'s waiting delivery.
        let next = slots.finish(&running[0].delivery, true).expect("b's turn");
        assert_eq!(next.delivery.webhook_id, b);
    }

    #[test]
    fn a_waiting_delivery_whose_lease_is_nearly_over_is_left_to_fall_due() {
        let slots = Slots::new(SHARES);
        let (webhook, org) = (Uuid::now_v7(), Uuid::now_v7());
        let first = slots.admit(claimed(webhook, org)).expect("room");
        assert!(slots.admit(claimed(webhook, org)).is_some());
        let mut late = claimed(webhook, org);
        late.lease_ends = Instant::now();
        assert!(slots.admit(late).is_none());
        assert!(slots.finish(&first.delivery, true).is_none());
        assert!(slots.full().webhooks.is_empty());
    }

    #[tokio::test]
    async fn claims_hear_when_a_full_webhook_has_room_again() {
        let slots = Slots::new(Shares { per_webhook: 4, ..SHARES });
        let (webhook, org) = (Uuid::now_v7(), Uuid::now_v7());
        let held: Vec<_> =
            (0..3).map(|_| slots.admit(claimed(webhook, org)).expect("room")).collect();
        assert!(slots.full().organizations == vec![org]);
        slots.finish(&held[0].delivery, true);
        tokio::time::timeout(Duration::from_secs(1), slots.reopened()).await.expect("told");
    }
}
