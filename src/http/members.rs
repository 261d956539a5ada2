//! Members of an organization and their roles. Every change runs with the organization
//! locked, so "at least one OWNER" holds however many requests race.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use uuid::Uuid;

use super::access;
use super::body::{Prop, Rule, body_schema};
use super::extract::{ApiPath, JsonObject, ListQuery, PageParams, cursor};
use super::validate::Fields;
use super::views::{ErrorBody, MemberView, Page};
use crate::domain::event::{
    Actor, MemberAdded, MemberRef, MemberRemoved, MemberRoleUpdated, NewEvent,
};
use crate::domain::role::{MemberChangeDenied, Role, check_removal, check_role_change};
use crate::domain::scope::Scope;
use crate::error::{ApiError, ApiResult};
use crate::http::principal::Principal;
use crate::state::AppState;
use crate::store::members::{self, Member};
use crate::store::organizations::Organization;
use crate::store::{StoreError, Tx, events, oauth_grants, users, webhooks};
use chrono::{DateTime, Utc};

pub(super) const EMAIL: Prop = Prop::required("email", Rule::Email);
pub(super) const ROLE: Prop = Prop::required("role", Rule::OneOf(Role::names));
const ADD: &[Prop] = &[EMAIL.about("The email of an existing user."), ROLE];
body_schema!(AddMemberRequest = ADD);
const UPDATE: &[Prop] = &[ROLE];
body_schema!(UpdateMemberRequest = UPDATE);

fn last_owner() -> ApiError {
    ApiError::conflict("Organization must have at least one owner")
}

/// `action` is what managers may do; `owner_action` what only owners may.
pub(super) fn denied(reason: MemberChangeDenied, action: &str, owner_action: &str) -> ApiError {
    match reason {
        MemberChangeDenied::NotManager => ApiError::managers_only(action),
        MemberChangeDenied::OwnerOnly => access::owners_only(owner_action),
    }
}

const GRANT_OWNER: &str = "grant or remove the OWNER role";
/// The answer to adding an account whose address is not verified.
pub const UNVERIFIED_MEMBER: &str = "The user has not verified their email address yet";

/// The member as `member.*` events describe them.
pub(super) fn member_ref(member: &Member) -> MemberRef<'_> {
    MemberRef { user_id: member.user_id, email: &member.email, role: member.role }
}

/// Members of the organization, newest first; any member may list them.
#[utoipa::path(get, path = "/api/organizations/{organizationId}/members", tag = "members",
    security(("bearer" = []), ("oauth2" = ["members:read"])),
    params(("organizationId" = Uuid, Path), PageParams),
    responses((status = 200, body = Page<MemberView>), (status = 400, body = ErrorBody),
               (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(id): ApiPath<Uuid>,
    query: ListQuery,
) -> ApiResult<Json<Page<MemberView>>> {
    let after = query
        .cursor
        .as_deref()
        .map(|c| {
            let text = cursor::decode(c)?;
            let (at, user) = text.split_once('|').ok_or_else(cursor::invalid)?;
            Ok::<_, ApiError>((
                at.parse::<i64>().map_err(|_| cursor::invalid())?,
                Uuid::parse_str(user).map_err(|_| cursor::invalid())?,
            ))
        })
        .transpose()?;
    let mut conn = state.db.acquire().await?;
    access::membership(&mut conn, id, &principal, Scope::MembersRead).await?;
    let rows = members::list(&mut conn, id, after, query.limit + 1).await?;
    Ok(Json(Page::from_rows(
        rows,
        query.limit,
        |m| {
            let (at, user) = members::key_of(m);
            format!("{at}|{user}")
        },
        MemberView::from,
    )))
}

/// Add an existing user to the organization (OWNER or ADMIN; only an OWNER grants OWNER).
#[utoipa::path(post, path = "/api/organizations/{organizationId}/members", tag = "members",
    security(("bearer" = []), ("oauth2" = ["members:write"])), params(("organizationId" = Uuid, Path)), request_body = AddMemberRequest,
    responses((status = 201, body = MemberView), (status = 400, body = ErrorBody),
               (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
               (status = 404, body = ErrorBody, description = "Organization or user not found"),
               (status = 409, body = ErrorBody, description = "Already a member, or the address is not verified")))]
pub async fn add(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(id): ApiPath<Uuid>,
    JsonObject(body): JsonObject,
) -> ApiResult<(StatusCode, Json<MemberView>)> {
    let mut f = Fields::new(body, ADD);
    let email = f.email(&EMAIL);
    let role = f.one_of(&ROLE, Role::parse);
    f.finish()?;

    let mut tx = state.db.begin_write().await?;
    let (org, actor_role) =
        access::locked_membership(&mut tx, id, &principal, Scope::MembersWrite).await?;
    check_role_change(actor_role, None, role).map_err(|r| denied(r, "add members", GRANT_OWNER))?;
    access::check_oauth_grant(&principal, role)?;
    let user =
        users::find_by_email(&mut tx, &email).await?.ok_or_else(|| ApiError::not_found("User"))?;
    // As with invites: an address nobody proved may belong to someone else.
    if state.config.email.require_verified_email && user.email_verified_at.is_none() {
        return Err(ApiError::conflict(UNVERIFIED_MEMBER));
    }
    let now = state.clock.now();
    members::insert(&mut tx, org.id, user.id, role, now).await.map_err(|e| match e {
        StoreError::Conflict => ApiError::conflict("User is already a member of this organization"),
        other => other.into(),
    })?;
    let member = Member {
        user_id: user.id,
        organization_id: org.id,
        email: user.email,
        name: user.name,
        role,
        created_at: now,
        updated_at: now,
    };
    let data = MemberAdded(member_ref(&member));
    let event = NewEvent::of(&data, org.as_ref(), principal.actor(), now);
    events::append(&mut tx, &event).await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(member.into())))
}

/// Change a member's role (OWNER or ADMIN; only an OWNER grants or takes away OWNER).
#[utoipa::path(patch, path = "/api/organizations/{organizationId}/members/{userId}", tag = "members",
    security(("bearer" = []), ("oauth2" = ["members:write"])), params(("organizationId" = Uuid, Path), ("userId" = Uuid, Path)),
    request_body = UpdateMemberRequest,
    responses((status = 200, body = MemberView), (status = 400, body = ErrorBody),
               (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
               (status = 404, body = ErrorBody),
               (status = 409, body = ErrorBody, description = "Organization must have at least one owner")))]
pub async fn update(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath((id, user_id)): ApiPath<(Uuid, Uuid)>,
    JsonObject(body): JsonObject,
) -> ApiResult<Json<MemberView>> {
    let mut f = Fields::new(body, UPDATE);
    let role = f.one_of(&ROLE, Role::parse);
    f.finish()?;

    let mut tx = state.db.begin_write().await?;
    let (org, actor_role) =
        access::locked_membership(&mut tx, id, &principal, Scope::MembersWrite).await?;
    if !actor_role.can_manage() {
        return Err(ApiError::managers_only("update members"));
    }
    let mut member =
        members::find(&mut tx, id, user_id).await?.ok_or_else(|| ApiError::not_found("Member"))?;
    check_role_change(actor_role, Some(member.role), role)
        .map_err(|r| denied(r, "update members", GRANT_OWNER))?;
    access::check_oauth_grant(&principal, role)?;
    if member.role == role {
        return Ok(Json(member.into()));
    }
    if member.role == Role::Owner && members::count_owners(&mut tx, id).await? <= 1 {
        return Err(last_owner());
    }
    let previous = member.role;
    let now = state.clock.now();
    members::update_role(&mut tx, id, user_id, role, now).await?;
    member.role = role;
    member.updated_at = now;
    let data = MemberRoleUpdated { member: member_ref(&member), previous_role: previous };
    let event = NewEvent::of(&data, org.as_ref(), principal.actor(), now);
    events::append(&mut tx, &event).await?;
    tx.commit().await?;
    Ok(Json(member.into()))
}

/// Remove a member (OWNER or ADMIN; an ADMIN cannot remove an OWNER), or leave.
#[utoipa::path(delete, path = "/api/organizations/{organizationId}/members/{userId}", tag = "members",
    security(("bearer" = []), ("oauth2" = ["members:write"])), params(("organizationId" = Uuid, Path), ("userId" = Uuid, Path)),
    responses((status = 204), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
               (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
               (status = 409, body = ErrorBody, description = "Organization must have at least one owner")))]
pub async fn remove(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath((id, user_id)): ApiPath<(Uuid, Uuid)>,
) -> ApiResult<StatusCode> {
    let mut tx = state.db.begin_write().await?;
    let (org, actor_role) =
        access::locked_membership(&mut tx, id, &principal, Scope::MembersWrite).await?;
    let is_self = principal.user_id() == Some(user_id);
    if !is_self && !actor_role.can_manage() {
        return Err(ApiError::managers_only("remove members"));
    }
    let member =
        members::find(&mut tx, id, user_id).await?.ok_or_else(|| ApiError::not_found("Member"))?;
    check_removal(actor_role, member.role, is_self)
        .map_err(|r| denied(r, "remove members", "remove owners"))?;
    if member.role == Role::Owner && members::count_owners(&mut tx, id).await? <= 1 {
        return Err(last_owner());
    }
    take_out(&mut tx, &org, &member, principal.actor(), state.clock.now()).await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Removes the member from the organization, which the transaction has locked, and records
/// `member.removed` by `actor`. Every way out of an organization (removal, leaving, deleting
/// the account) ends here.
pub(crate) async fn take_out(
    tx: &mut Tx,
    org: &Organization,
    member: &Member,
    actor: Actor,
    now: DateTime<Utc>,
) -> ApiResult<()> {
    members::delete(tx, org.id, member.user_id).await?;
    // Apps the member authorized lose that access with the membership, for good, and so do
    // the webhooks their tokens made or changed.
    oauth_grants::revoke_user_grants(tx, org.id, member.user_id, now).await?;
    webhooks::orphan_of_user(tx, org.id, member.user_id, now).await?;
    let data = MemberRemoved(member_ref(member));
    let event = NewEvent::of(&data, org.as_ref(), actor, now);
    events::append(tx, &event).await?;
    Ok(())
}
