//! The `data` of every event, one type per event. Field order is key order on the wire.

use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;

use super::super::role::Role;
use super::{EventType, LogOnlyEvent, TEST_EVENT};

/// The `data` of one kind of event, without `actor`.
pub trait EventData: Serialize {
    /// The event's name: a catalog type, or one recorded in the log only ([`LogOnlyEvent`]).
    const NAME: &'static str;
}

macro_rules! event_data {
    ($($data:ty => $name:expr),+ $(,)?) => {
        $(impl EventData for $data { const NAME: &'static str = $name; })+
    };
}

event_data! {
    OrganizationCreated => EventType::OrganizationCreated.as_str(),
    OrganizationUpdated<'_> => EventType::OrganizationUpdated.as_str(),
    OrganizationDeleted => EventType::OrganizationDeleted.as_str(),
    MemberAdded<'_> => EventType::MemberAdded.as_str(),
    MemberRemoved<'_> => EventType::MemberRemoved.as_str(),
    MemberRoleUpdated<'_> => EventType::MemberRoleUpdated.as_str(),
    InviteCreated<'_> => EventType::InviteCreated.as_str(),
    InviteAccepted<'_> => EventType::InviteAccepted.as_str(),
    InviteCancelled<'_> => EventType::InviteCancelled.as_str(),
    OauthAppCreated<'_> => EventType::OauthAppCreated.as_str(),
    OauthAppRevoked<'_> => EventType::OauthAppRevoked.as_str(),
    WebhookCreated<'_> => EventType::WebhookCreated.as_str(),
    WebhookDisabled<'_> => EventType::WebhookDisabled.as_str(),
    DeliveryExhausted<'_> => EventType::DeliveryExhausted.as_str(),
    WebhookTest<'_> => TEST_EVENT,
    WebhookUpdated<'_> => LogOnlyEvent::WebhookUpdated.as_str(),
    WebhookDeleted<'_> => LogOnlyEvent::WebhookDeleted.as_str(),
    WebhookSecretRotated => LogOnlyEvent::WebhookSecretRotated.as_str(),
    OauthAppUpdated<'_> => LogOnlyEvent::OauthAppUpdated.as_str(),
    OauthAppSecretRotated<'_> => LogOnlyEvent::OauthAppSecretRotated.as_str(),
}

/// `organization.created`: the organization itself says it all.
#[derive(Serialize)]
pub struct OrganizationCreated {}

/// `organization.updated`: only the fields that changed.
#[derive(Serialize)]
pub struct OrganizationUpdated<'a> {
    pub changes: OrganizationChanges<'a>,
}

#[derive(Serialize, Default)]
pub struct OrganizationChanges<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<Change<&'a str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub slug: Option<Change<&'a str>>,
}

impl OrganizationChanges<'_> {
    pub fn is_empty(&self) -> bool {
        self.name.is_none() && self.slug.is_none()
    }
}

/// A field's value before and after a change.
#[derive(Serialize)]
pub struct Change<T> {
    pub previous: T,
    pub current: T,
}

impl<T: PartialEq> Change<T> {
    /// The change from `previous` to `current`, if there is one.
    pub fn between(previous: T, current: T) -> Option<Self> {
        (previous != current).then_some(Self { previous, current })
    }
}

/// `organization.deleted`: the organization as it was.
#[derive(Serialize)]
pub struct OrganizationDeleted {}

/// The member an event is about.
#[derive(Serialize, Clone, Copy)]
#[serde(rename_all = "camelCase")]
pub struct MemberRef<'a> {
    pub user_id: Uuid,
    pub email: &'a str,
    pub role: Role,
}

/// `member.added`
#[derive(Serialize)]
pub struct MemberAdded<'a>(pub MemberRef<'a>);

/// `member.removed`
#[derive(Serialize)]
pub struct MemberRemoved<'a>(pub MemberRef<'a>);

/// `member.role_updated`: `role` is the new role.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MemberRoleUpdated<'a> {
    #[serde(flatten)]
    pub member: MemberRef<'a>,
    pub previous_role: Role,
}

/// The invite an event is about.
#[derive(Serialize, Clone, Copy)]
#[serde(rename_all = "camelCase")]
pub struct InviteRef<'a> {
    pub invite_id: Uuid,
    pub email: &'a str,
    pub role: Role,
}

/// `invite.created`
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct InviteCreated<'a> {
    #[serde(flatten)]
    pub invite: InviteRef<'a>,
    pub expires_at: DateTime<Utc>,
}

/// `invite.accepted`: `userId` is who accepted it, now a member.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct InviteAccepted<'a> {
    #[serde(flatten)]
    pub invite: InviteRef<'a>,
    pub user_id: Uuid,
}

/// `invite.cancelled`
#[derive(Serialize)]
pub struct InviteCancelled<'a>(pub InviteRef<'a>);

/// The OAuth app an event is about.
#[derive(Serialize, Clone, Copy)]
#[serde(rename_all = "camelCase")]
pub struct AppRef<'a> {
    pub app_id: Uuid,
    pub name: &'a str,
    pub client_id: &'a str,
}

/// `oauth_app.created`, with the scopes the app may be granted.
#[derive(Serialize)]
pub struct OauthAppCreated<'a> {
    #[serde(flatten)]
    pub app: AppRef<'a>,
    pub scopes: &'a [&'static str],
}

/// `oauth_app.revoked`
#[derive(Serialize)]
pub struct OauthAppRevoked<'a>(pub AppRef<'a>);

/// The webhook an event is about, as it stands.
#[derive(Serialize, Clone, Copy)]
#[serde(rename_all = "camelCase")]
pub struct WebhookRef<'a> {
    pub webhook_id: Uuid,
    pub url: &'a str,
    pub events: &'a [&'a str],
}

/// `webhook.created`
#[derive(Serialize)]
pub struct WebhookCreated<'a>(pub WebhookRef<'a>);

/// `webhook.updated`: only the fields that changed (none when only who controls it did).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WebhookUpdated<'a> {
    pub webhook_id: Uuid,
    pub changes: WebhookChanges<'a>,
}

#[derive(Serialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct WebhookChanges<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<Change<&'a str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub events: Option<Change<&'a [&'a str]>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub is_active: Option<Change<bool>>,
    /// Only the names: header values may be credentials. Present when any value changed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub header_names: Option<Change<&'a [String]>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rate_limit: Option<Change<Option<i32>>>,
}

/// `webhook.deleted`: the webhook as it was.
#[derive(Serialize)]
pub struct WebhookDeleted<'a>(pub WebhookRef<'a>);

/// `webhook.secret_rotated`: never the secret, only until when the previous one still signs.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WebhookSecretRotated {
    pub webhook_id: Uuid,
    pub previous_secret_expires_at: DateTime<Utc>,
}

/// `oauth_app.updated`: the app as it is now, and only the fields that changed.
#[derive(Serialize)]
pub struct OauthAppUpdated<'a> {
    #[serde(flatten)]
    pub app: AppRef<'a>,
    pub changes: OauthAppChanges<'a>,
}

#[derive(Serialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct OauthAppChanges<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<Change<&'a str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub redirect_uris: Option<Change<&'a [String]>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scopes: Option<Change<&'a [&'static str]>>,
}

impl WebhookChanges<'_> {
    pub fn is_empty(&self) -> bool {
        self.url.is_none()
            && self.events.is_none()
            && self.is_active.is_none()
            && self.header_names.is_none()
            && self.rate_limit.is_none()
    }
}

impl OauthAppChanges<'_> {
    pub fn is_empty(&self) -> bool {
        self.name.is_none() && self.redirect_uris.is_none() && self.scopes.is_none()
    }
}

/// `oauth_app.secret_rotated`: never the secret, only until when the previous one works.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OauthAppSecretRotated<'a> {
    #[serde(flatten)]
    pub app: AppRef<'a>,
    pub previous_secret_expires_at: DateTime<Utc>,
}

/// `webhook.test`: sample data for the one webhook under test.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WebhookTest<'a> {
    pub webhook_id: Uuid,
    pub message: &'a str,
}

impl WebhookTest<'_> {
    pub const MESSAGE: &'static str = "This is a test delivery from Roster.";
}

/// Why Roster disabled a webhook.
#[derive(Serialize, Clone, Copy, Debug, PartialEq, Eq, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum DisabledReason {
    /// The receiver answered `410 Gone`.
    Gone,
    /// Every attempt of its latest deliveries failed, for long enough.
    Failing,
}

impl DisabledReason {
    pub const ALL: [DisabledReason; 2] = [DisabledReason::Gone, DisabledReason::Failing];

    pub fn as_str(self) -> &'static str {
        match self {
            DisabledReason::Gone => "gone",
            DisabledReason::Failing => "failing",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

/// `webhook.disabled`: Roster made a webhook inactive; `lastError` is what its last failed
/// attempt got (`HTTP 410`, `timeout`, …).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WebhookDisabled<'a> {
    pub webhook_id: Uuid,
    pub url: &'a str,
    pub reason: DisabledReason,
    pub last_error: Option<&'a str>,
}

/// `delivery.exhausted`: a delivery's last attempt failed and none will follow.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DeliveryExhausted<'a> {
    pub webhook_id: Uuid,
    pub delivery_id: Uuid,
    pub event_id: Uuid,
    pub event_type: &'a str,
    pub attempts: i64,
    pub last_error: Option<&'a str>,
}
