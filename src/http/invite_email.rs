//! The email that carries an invite to its invitee, queued with the invite itself.

use chrono::{DateTime, Utc};

use crate::domain::event::Actor;
use crate::email::Message;
use crate::error::ApiResult;
use crate::state::AppState;
use crate::store::invites::Invite;
use crate::store::organizations::Organization;
use crate::store::{Tx, oauth_apps, users};

/// Queues the invite's email in `tx`: from the inviting person (or app acting as itself),
/// with the accept link carrying `token`.
pub async fn queue(
    state: &AppState,
    tx: &mut Tx,
    invite: &Invite,
    org: &Organization,
    inviter: Actor,
    token: &str,
    now: DateTime<Utc>,
) -> ApiResult<()> {
    let inviter = match inviter {
        Actor::User(id) => users::find(tx, id).await?.map(|u| u.name),
        Actor::OauthApp(id) => oauth_apps::find(tx, org.id, id).await?.map(|a| a.name),
        // Roster itself invites no one; the organization stands in.
        Actor::System => None,
    };
    let message = Message::Invite {
        organization: org.name.clone(),
        inviter: inviter.unwrap_or_else(|| org.name.clone()),
        role: invite.role.as_str().to_owned(),
        link: state.outbox.link("invites/accept", token),
        expires_at: invite.expires_at,
    };
    state.outbox.queue(tx, &invite.email, &message, now).await
}
