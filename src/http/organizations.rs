//! Organizations: create, list, read, rename, delete. Their event log is in [`super::events`].

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use uuid::Uuid;

use super::access;
use super::body::{Prop, Rule, body_schema};
use super::extract::{ApiPath, JsonObject, ListQuery, PageParams, cursor};
use super::validate::Fields;
use super::views::{ErrorBody, OrganizationView, Page};
use crate::domain::event::{
    Actor, Change, NewEvent, OrganizationChanges, OrganizationCreated, OrganizationDeleted,
    OrganizationUpdated,
};
use crate::domain::role::Role;
use crate::domain::scope::Scope;
use crate::domain::slug;
use crate::error::{ApiError, ApiResult};
use crate::http::principal::Principal;
use crate::state::AppState;
use crate::store::organizations::{self, Organization};
use crate::store::{StoreError, events, members};

pub const NAME_MAX: usize = 100;
const SLUG_RULE: &str =
    "slug must be 3-48 characters of a-z, 0-9 and -, and must not start or end with -";

const NAME: Prop = Prop::required("name", Rule::Text { max: NAME_MAX });
const SLUG: Prop = Prop::optional(
    "slug",
    Rule::Matching { pattern: slug::pattern, format: None, min: slug::MIN_LEN, max: slug::MAX_LEN },
);
const CREATE: &[Prop] = &[NAME, SLUG.about("Derived from `name` when absent.")];
body_schema!(CreateOrganizationRequest = CREATE);
const UPDATE: &[Prop] = &[Prop { required: false, ..NAME }, SLUG];
body_schema!(UpdateOrganizationRequest = UPDATE);

fn slug_field(f: &mut Fields) -> Option<String> {
    // Taken as given: an overlong slug breaks the slug rule, and is told that rule.
    match f.take(&SLUG)? {
        serde_json::Value::String(slug) if slug::is_valid(&slug) => Some(slug),
        serde_json::Value::String(_) => {
            f.error(SLUG_RULE);
            None
        }
        _ => {
            f.error("slug must be a string");
            None
        }
    }
}

fn slug_taken() -> ApiError {
    ApiError::conflict("Organization slug already exists")
}

/// Create an organization; the caller becomes its OWNER.
#[utoipa::path(post, path = "/api/organizations", tag = "organizations",
    security(("bearer" = [])), request_body = CreateOrganizationRequest,
    responses((status = 201, body = OrganizationView), (status = 400, body = ErrorBody),
               (status = 401, body = ErrorBody),
               (status = 409, body = ErrorBody, description = "Organization slug already exists")))]
pub async fn create(
    State(state): State<AppState>,
    principal: Principal,
    JsonObject(body): JsonObject,
) -> ApiResult<(StatusCode, Json<OrganizationView>)> {
    let mut f = Fields::new(body, CREATE);
    let name = f.text(&NAME);
    let given_slug = slug_field(&mut f);
    f.finish()?;
    let user_id = principal.person()?;

    // A derived slug found free can still be taken by a concurrent create before ours
    // commits; then try again with another. An explicit slug that is taken is the caller's 409.
    let mut tries = 0;
    loop {
        tries += 1;
        match create_once(&state, user_id, &name, given_slug.as_deref()).await {
            Err(StoreError::Conflict) if given_slug.is_none() && tries < 4 => continue,
            Err(StoreError::Conflict) => return Err(slug_taken()),
            Err(other) => return Err(other.into()),
            Ok(org) => {
                return Ok((StatusCode::CREATED, Json(OrganizationView::new(org, Role::Owner))));
            }
        }
    }
}

async fn create_once(
    state: &AppState,
    user_id: Uuid,
    name: &str,
    given_slug: Option<&str>,
) -> Result<Organization, StoreError> {
    let now = state.clock.now();
    let mut tx = state.db.begin_write().await?;
    let slug = match given_slug {
        Some(slug) => slug.to_owned(),
        None => free_slug(&mut tx, &slug::derive(name)).await?,
    };
    let org = Organization {
        id: Uuid::now_v7(),
        slug,
        name: name.to_owned(),
        created_at: now,
        updated_at: now,
    };
    organizations::insert(&mut tx, &org).await?;
    members::insert(&mut tx, org.id, user_id, Role::Owner, now).await?;
    let event = NewEvent::of(&OrganizationCreated {}, org.as_ref(), Actor::User(user_id), now);
    events::append(&mut tx, &event).await?;
    tx.commit().await?;
    Ok(org)
}

/// A derived slug that is not taken yet: the base, or the base with a short random suffix
/// (`Conflict` if five suffixes are all taken).
async fn free_slug(conn: &mut dyn crate::store::Conn, base: &str) -> Result<String, StoreError> {
    if !organizations::slug_exists(conn, base).await? {
        return Ok(base.to_owned());
    }
    let stem = &base[..base.len().min(slug::MAX_LEN - 7)];
    let stem = stem.trim_end_matches('-');
    for _ in 0..5 {
        let candidate = format!("{stem}-{}", &Uuid::new_v4().simple().to_string()[..6]);
        if !organizations::slug_exists(conn, &candidate).await? {
            return Ok(candidate);
        }
    }
    Err(StoreError::Conflict)
}

/// The caller's organizations with their role in each, newest first. An OAuth token sees
/// only its own organization.
#[utoipa::path(get, path = "/api/organizations", tag = "organizations",
    security(("bearer" = []), ("oauth2" = ["organization:read"])),
    params(PageParams),
    responses((status = 200, body = Page<OrganizationView>), (status = 400, body = ErrorBody),
               (status = 401, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    principal: Principal,
    query: ListQuery,
) -> ApiResult<Json<Page<OrganizationView>>> {
    let before = cursor::decode_uuid(query.cursor.as_deref())?;
    let mut conn = state.db.acquire().await?;
    let rows = match (principal.oauth(), principal.user_id()) {
        (Some(grant), _) => {
            let org_id = grant.organization_id;
            match access::membership(&mut conn, org_id, &principal, Scope::OrganizationRead).await {
                Ok(row) => vec![row]
                    .into_iter()
                    .filter(|(org, _)| before.is_none_or(|b| org.id < b))
                    .collect(),
                // The user the token acts for has left: nothing to list.
                Err(err) if err.status() == StatusCode::NOT_FOUND => Vec::new(),
                Err(err) => return Err(err),
            }
        }
        (None, Some(user_id)) => {
            organizations::list_for_user(&mut conn, user_id, before, query.limit + 1).await?
        }
        (None, None) => return Err(ApiError::unauthorized()),
    };
    Ok(Json(Page::from_rows(
        rows,
        query.limit,
        |(org, _)| org.id.to_string(),
        |(org, role)| OrganizationView::new(org, role),
    )))
}

/// One organization; any member may read it.
#[utoipa::path(get, path = "/api/organizations/{organizationId}", tag = "organizations",
    security(("bearer" = []), ("oauth2" = ["organization:read"])), params(("organizationId" = Uuid, Path)),
    responses((status = 200, body = OrganizationView), (status = 400, body = ErrorBody),
               (status = 401, body = ErrorBody),
               (status = 404, body = ErrorBody, description = "Organization not found")))]
pub async fn get(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<Json<OrganizationView>> {
    let mut conn = state.db.acquire().await?;
    let (org, role) =
        access::membership(&mut conn, id, &principal, Scope::OrganizationRead).await?;
    Ok(Json(OrganizationView::new(org, role)))
}

/// Rename an organization or change its slug (OWNER or ADMIN).
#[utoipa::path(patch, path = "/api/organizations/{organizationId}", tag = "organizations",
    security(("bearer" = []), ("oauth2" = ["organization:write"])), params(("organizationId" = Uuid, Path)),
    request_body = UpdateOrganizationRequest,
    responses((status = 200, body = OrganizationView), (status = 400, body = ErrorBody),
               (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
               (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn update(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(id): ApiPath<Uuid>,
    JsonObject(body): JsonObject,
) -> ApiResult<Json<OrganizationView>> {
    let mut f = Fields::new(body, UPDATE);
    let name = f.optional_text(&NAME);
    let new_slug = slug_field(&mut f);
    f.finish()?;

    let mut tx = state.db.begin_write().await?;
    let (mut org, role) =
        access::locked_membership(&mut tx, id, &principal, Scope::OrganizationWrite).await?;
    if !role.can_manage() {
        return Err(ApiError::managers_only("update organizations"));
    }
    let (previous_name, previous_slug) = (org.name.clone(), org.slug.clone());
    if let Some(name) = name {
        org.name = name;
    }
    if let Some(slug) = new_slug {
        org.slug = slug;
    }
    let changes = OrganizationChanges {
        name: Change::between(previous_name.as_str(), org.name.as_str()),
        slug: Change::between(previous_slug.as_str(), org.slug.as_str()),
    };
    if changes.is_empty() {
        return Ok(Json(OrganizationView::new(org, role)));
    }
    let now = state.clock.now();
    org.updated_at = now;
    organizations::update(&mut tx, &org).await.map_err(|e| match e {
        StoreError::Conflict => slug_taken(),
        other => other.into(),
    })?;
    let data = OrganizationUpdated { changes };
    let event = NewEvent::of(&data, org.as_ref(), principal.actor(), now);
    events::append(&mut tx, &event).await?;
    tx.commit().await?;
    Ok(Json(OrganizationView::new(org, role)))
}

/// Delete an organization (OWNER only). Its event log is kept.
#[utoipa::path(delete, path = "/api/organizations/{organizationId}", tag = "organizations",
    security(("bearer" = []), ("oauth2" = ["organization:write"])), params(("organizationId" = Uuid, Path)),
    responses((status = 204), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
               (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn delete(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<StatusCode> {
    let mut tx = state.db.begin_write().await?;
    let (org, role) =
        access::locked_membership(&mut tx, id, &principal, Scope::OrganizationWrite).await?;
    if role != Role::Owner {
        return Err(access::owners_only("delete organizations"));
    }
    let now = state.clock.now();
    let event = NewEvent::of(&OrganizationDeleted {}, org.as_ref(), principal.actor(), now);
    events::append(&mut tx, &event).await?;
    organizations::delete(&mut tx, org.id).await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}
