//! Inviting people into an organization by email. Roster emails the invitee an accept link,
//! unless the request or the server's setting says not to; the token also comes back once in
//! the create response, for applications that send their own (the `invite.created` event
//! never carries it).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::access::{self, Need};
use super::body::{Prop, Rule, body_schema};
use super::extract::{ApiPath, JsonObject, ListQuery, PageParams, cursor};
use super::members::{EMAIL, ROLE};
use super::quota;
use super::validate::Fields;
use super::views::{ErrorBody, MemberView, Page};
use crate::auth::token;
use crate::domain::event::{
    InviteAccepted, InviteCancelled, InviteCreated, InviteRef, MemberAdded, NewEvent,
};
use crate::domain::role::{OAUTH_GRANTABLE, Role, check_role_change};
use crate::domain::scope::Scope;
use crate::error::{ApiError, ApiResult};
use crate::http::principal::Principal;
use crate::state::AppState;
use crate::store::invites::{self, Invite, InviteStatus};
use crate::store::members::{self, Member};
use crate::store::{StoreError, events, users};

pub const UNVERIFIED_INVITEE: &str = "Verify your email address before accepting an invite";

const SEND_EMAIL: Prop = Prop::optional("sendEmail", Rule::Bool).about(
    "Whether Roster emails the invitee an accept link; defaults to the server's setting (on \
     unless ROSTER_INVITE_EMAILS=false). The token is in the response either way.",
);
const CREATE: &[Prop] = &[EMAIL, ROLE, SEND_EMAIL];
body_schema!(CreateInviteRequest = CREATE);
const TOKEN: Prop = Prop::required("token", Rule::Raw { min: 1, max: token::MAX_LEN })
    .about("The `rst_inv_…` token from the invite's creation.");
const ACCEPT: &[Prop] = &[TOKEN];
body_schema!(AcceptInviteRequest = ACCEPT);

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct InviteView {
    pub id: Uuid,
    pub organization_id: Uuid,
    pub email: String,
    pub role: Role,
    pub status: InviteStatus,
    /// The user who created the invite.
    pub invited_by: Uuid,
    pub expires_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<Invite> for InviteView {
    fn from(i: Invite) -> Self {
        Self {
            id: i.id,
            organization_id: i.organization_id,
            email: i.email,
            role: i.role,
            status: i.status,
            invited_by: i.invited_by,
            expires_at: i.expires_at,
            created_at: i.created_at,
            updated_at: i.updated_at,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct CreatedInvite {
    #[serde(flatten)]
    pub invite: InviteView,
    /// `rst_inv_…`: shown once. Send it to the invitee.
    pub token: String,
}

#[derive(Serialize, ToSchema)]
pub struct AcceptedInvite {
    pub invite: InviteView,
    pub member: MemberView,
}

/// The invite as `invite.*` events describe it.
fn invite_ref(invite: &Invite) -> InviteRef<'_> {
    InviteRef { invite_id: invite.id, email: &invite.email, role: invite.role }
}

/// Invite someone by email (OWNER or ADMIN; only an OWNER invites an OWNER).
#[utoipa::path(post, path = "/api/organizations/{organizationId}/invites", tag = "invites",
    security(("bearer" = []), ("oauth2" = ["invites:write"])), params(("organizationId" = Uuid, Path)), request_body = CreateInviteRequest,
    responses((status = 201, body = CreatedInvite), (status = 400, body = ErrorBody),
               (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
               (status = 404, body = ErrorBody),
               (status = 409, body = ErrorBody, description = "Already a member, an invite is pending, or the pending-invite quota is reached")))]
pub async fn create(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(id): ApiPath<Uuid>,
    JsonObject(body): JsonObject,
) -> ApiResult<(StatusCode, Json<CreatedInvite>)> {
    let mut f = Fields::new(body, CREATE);
    let email = f.email(&EMAIL);
    let role = f.one_of(&ROLE, Role::parse);
    let send_email = f.optional_bool(&SEND_EMAIL).unwrap_or(state.config.email.invite_emails);
    f.finish()?;

    let mut tx = state.db.begin_write().await?;
    let (org, actor_role) =
        access::locked_membership(&mut tx, id, &principal, Scope::InvitesWrite).await?;
    check_role_change(actor_role, None, role)
        .map_err(|r| super::members::denied(r, "invite members", "invite owners"))?;
    access::check_oauth_grant(&principal, role)?;
    if let Some(user) = users::find_by_email(&mut tx, &email).await?
        && members::find(&mut tx, id, user.id).await?.is_some()
    {
        return Err(ApiError::conflict("User is already a member of this organization"));
    }
    let now = state.clock.now();
    quota::pending_invite(&mut tx, &state.config.quotas, id, now).await?;
    invites::expire_stale(&mut tx, id, &email, now).await?;
    let token = token::generate(token::INVITE_PREFIX);
    let invite = Invite {
        id: Uuid::now_v7(),
        organization_id: id,
        email,
        role,
        status: InviteStatus::Pending,
        invited_by: principal.actor().id(),
        oauth_app_id: principal.oauth().map(|grant| grant.app_id),
        expires_at: now + state.config.invite_ttl,
        created_at: now,
        updated_at: now,
    };
    invites::insert(&mut tx, &invite, &token::digest(&token)).await.map_err(|e| match e {
        StoreError::Conflict => ApiError::conflict("An invite is already pending for this email"),
        other => other.into(),
    })?;
    let data = InviteCreated { invite: invite_ref(&invite), expires_at: invite.expires_at };
    let event = NewEvent::of(&data, org.as_ref(), principal.actor(), now);
    events::append(&mut tx, &event).await?;
    if send_email {
        super::invite_email::queue(&state, &mut tx, &invite, &org, principal.actor(), &token, now)
            .await?;
    }
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(CreatedInvite { invite: invite.into(), token })))
}

/// The organization's invites, newest first (OWNER or ADMIN).
#[utoipa::path(get, path = "/api/organizations/{organizationId}/invites", tag = "invites",
    security(("bearer" = []), ("oauth2" = ["invites:read"])),
    params(("organizationId" = Uuid, Path), ("status" = Option<InviteStatus>, Query), PageParams),
    responses((status = 200, body = Page<InviteView>), (status = 400, body = ErrorBody),
               (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
               (status = 404, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(id): ApiPath<Uuid>,
    query: ListQuery,
) -> ApiResult<Json<Page<InviteView>>> {
    let status = query.choice("status", &InviteStatus::CHOICES)?;
    let before = cursor::decode_uuid(query.cursor.as_deref())?;
    let mut conn = state.db.acquire().await?;
    access::as_manager(&mut conn, id, &principal, Scope::InvitesRead, "view invites").await?;
    let rows =
        invites::list(&mut conn, id, status, before, query.limit + 1, state.clock.now()).await?;
    Ok(Json(Page::from_rows(rows, query.limit, |i| i.id.to_string(), InviteView::from)))
}

/// Cancel a pending invite (OWNER or ADMIN).
#[utoipa::path(delete, path = "/api/organizations/{organizationId}/invites/{inviteId}", tag = "invites",
    security(("bearer" = []), ("oauth2" = ["invites:write"])), params(("organizationId" = Uuid, Path), ("inviteId" = Uuid, Path)),
    responses((status = 204), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
               (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
               (status = 409, body = ErrorBody, description = "The invite is not pending")))]
pub async fn cancel(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath((id, invite_id)): ApiPath<(Uuid, Uuid)>,
) -> ApiResult<StatusCode> {
    let mut tx = state.db.begin_write().await?;
    let (org, role) =
        access::locked_membership(&mut tx, id, &principal, Scope::InvitesWrite).await?;
    if !role.can_manage() {
        return Err(ApiError::managers_only("cancel invites"));
    }
    let now = state.clock.now();
    let invite = invites::find(&mut tx, id, invite_id, now)
        .await?
        .ok_or_else(|| ApiError::not_found("Invite"))?;
    if invite.role == Role::Owner && role != Role::Owner {
        return Err(access::owners_only("cancel invites for owners"));
    }
    if invite.status != InviteStatus::Pending {
        return Err(ApiError::conflict(format!("Invite is {}", invite.status.as_str())));
    }
    invites::set_status(&mut tx, invite.id, InviteStatus::Cancelled, now).await?;
    let data = InviteCancelled(invite_ref(&invite));
    let event = NewEvent::of(&data, org.as_ref(), principal.actor(), now);
    events::append(&mut tx, &event).await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Accept an invite as the signed-in user whose email it was sent to.
#[utoipa::path(post, path = "/api/invites/accept", tag = "invites",
    security(("bearer" = [])), request_body = AcceptInviteRequest,
    responses((status = 200, body = AcceptedInvite), (status = 400, body = ErrorBody),
               (status = 401, body = ErrorBody),
               (status = 403, body = ErrorBody, description = "The invite is for another email"),
               (status = 404, body = ErrorBody, description = "Invite not found"),
               (status = 409, body = ErrorBody, description = "Cancelled, accepted, or already a member"),
               (status = 410, body = ErrorBody, description = "Invite has expired")))]
pub async fn accept(
    State(state): State<AppState>,
    principal: Principal,
    JsonObject(body): JsonObject,
) -> ApiResult<Json<AcceptedInvite>> {
    let mut f = Fields::new(body, ACCEPT);
    let presented = f.raw_string(&TOKEN);
    f.finish()?;
    let user_id = principal.person()?;

    let digest = token::digest(&presented);
    let now = state.clock.now();
    let mut conn = state.db.acquire().await?;
    let found = invites::find_by_token(&mut conn, &digest, now).await?;
    drop(conn);
    let org_id = found.ok_or_else(|| ApiError::not_found("Invite"))?.organization_id;

    // Re-read under the organization's lock: two accepts of one invite yield one membership.
    let mut tx = state.db.begin_write().await?;
    if !crate::store::organizations::lock(&mut tx, org_id).await? {
        return Err(ApiError::not_found("Invite"));
    }
    let mut invite = invites::find_by_token(&mut tx, &digest, now)
        .await?
        .ok_or_else(|| ApiError::not_found("Invite"))?;
    let user = users::find(&mut tx, user_id).await?.ok_or_else(ApiError::unauthorized)?;
    if users::normalize_email(&user.email) != users::normalize_email(&invite.email) {
        return Err(ApiError::forbidden("This invite was sent to another email address"));
    }
    // Without it, anyone could register the invited address and take the invite.
    if state.config.email.require_verified_email && user.email_verified_at.is_none() {
        return Err(ApiError::forbidden(UNVERIFIED_INVITEE));
    }
    match invite.status {
        InviteStatus::Pending => {}
        InviteStatus::Expired => {
            return Err(ApiError::Status(StatusCode::GONE, "Invite has expired".into()));
        }
        InviteStatus::Accepted => {
            return Err(ApiError::conflict("Invite has already been accepted"));
        }
        InviteStatus::Cancelled => return Err(ApiError::conflict("Invite has been cancelled")),
    }
    // An invite an app made gives no more than its token could (one stored before OAuth
    // tokens were held to MEMBER may ask for more).
    if invite.oauth_app_id.is_some() && invite.role != OAUTH_GRANTABLE {
        return Err(ApiError::forbidden(format!(
            "Access denied. Invites made with OAuth tokens can only grant the {} role.",
            OAUTH_GRANTABLE.as_str()
        )));
    }
    members::insert(&mut tx, org_id, user.id, invite.role, now).await.map_err(|e| match e {
        StoreError::Conflict => ApiError::conflict("User is already a member of this organization"),
        other => other.into(),
    })?;
    invites::set_status(&mut tx, invite.id, InviteStatus::Accepted, now).await?;
    invite.status = InviteStatus::Accepted;
    invite.updated_at = now;
    let (org, _) = access::membership(&mut tx, org_id, &principal, Need::NoOAuth).await?;
    let member = Member {
        user_id: user.id,
        organization_id: org_id,
        email: user.email,
        name: user.name,
        role: invite.role,
        created_at: now,
        updated_at: now,
    };
    let accepted = InviteAccepted { invite: invite_ref(&invite), user_id: principal.actor().id() };
    events::append(&mut tx, &NewEvent::of(&accepted, org.as_ref(), principal.actor(), now)).await?;
    let added = MemberAdded(super::members::member_ref(&member));
    events::append(&mut tx, &NewEvent::of(&added, org.as_ref(), principal.actor(), now)).await?;
    tx.commit().await?;
    Ok(Json(AcceptedInvite { invite: invite.into(), member: member.into() }))
}
