//! OAuth scopes: what an OAuth token may do on an organization's routes.

use std::fmt;

use super::event::{EventName, EventType, LogOnlyEvent, LoggedEvent};

macro_rules! scopes {
    ($($variant:ident => $name:literal: $about:literal),+ $(,)?) => {
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum Scope { $($variant),+ }

        impl Scope {
            /// Every scope, in the order documents list them.
            pub const ALL: &'static [Scope] = &[$(Scope::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $(Scope::$variant => $name),+ }
            }

            /// One line for people deciding whether to grant it.
            pub fn about(self) -> &'static str {
                match self { $(Scope::$variant => $about),+ }
            }
        }
    };
}

scopes! {
    OrganizationRead => "organization:read": "See the organization and its event log",
    OrganizationWrite => "organization:write": "Rename or delete the organization",
    MembersRead => "members:read": "See its members and their roles",
    MembersWrite => "members:write": "Add, remove and change the roles of members",
    InvitesRead => "invites:read": "See its invites",
    InvitesWrite => "invites:write": "Invite people and cancel invites",
    WebhooksRead => "webhooks:read": "See its webhooks and their deliveries",
    WebhooksWrite => "webhooks:write": "Create, change, test and delete webhooks",
    EventsPublish => "events:publish": "Publish the application's events to its webhooks",
}

impl Scope {
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|scope| scope.as_str() == s)
    }

    /// The catalog as class-validator lists it in `isIn` messages.
    pub fn catalog() -> String {
        Self::ALL.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")
    }
}

/// The scope that reads what an event tells, in the event log and through a webhook alike: a
/// webhook subscribed to an event hands its data over just like the API does. `None` for
/// events no OAuth token may read (`oauth_app.*`: apps are managed by people only).
pub fn reading(event: impl Into<LoggedEvent>) -> Option<Scope> {
    use EventType::*;
    match event.into() {
        LoggedEvent::Catalog(event) => match event {
            OrganizationCreated | OrganizationUpdated | OrganizationDeleted => {
                Some(Scope::OrganizationRead)
            }
            MemberAdded | MemberRemoved | MemberRoleUpdated => Some(Scope::MembersRead),
            InviteCreated | InviteAccepted | InviteCancelled => Some(Scope::InvitesRead),
            WebhookCreated | WebhookDisabled | DeliveryExhausted => Some(Scope::WebhooksRead),
            OauthAppCreated | OauthAppRevoked => None,
        },
        LoggedEvent::LogOnly(event) => match event {
            LogOnlyEvent::WebhookTest
            | LogOnlyEvent::WebhookUpdated
            | LogOnlyEvent::WebhookDeleted
            | LogOnlyEvent::WebhookSecretRotated => Some(Scope::WebhooksRead),
            LogOnlyEvent::OauthAppUpdated | LogOnlyEvent::OauthAppSecretRotated => None,
        },
    }
}

/// [`reading`] for any type a webhook subscribes to. The application's own events are read
/// with `organization:read`, the scope of the event log that holds them.
pub fn reading_name(name: &EventName) -> Option<Scope> {
    match name {
        EventName::BuiltIn(event) => reading(*event),
        EventName::Custom(_) => Some(Scope::OrganizationRead),
    }
}

/// Every event type a token with `scopes` may read, by [`reading`].
pub fn readable(scopes: &Scopes) -> Vec<LoggedEvent> {
    LoggedEvent::all().filter(|e| reading(*e).is_some_and(|s| scopes.contains(s))).collect()
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A set of scopes, kept in catalog order so that it reads and stores the same every time.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scopes(Vec<Scope>);

impl Scopes {
    pub fn new(scopes: impl IntoIterator<Item = Scope>) -> Self {
        let mut all: Vec<Scope> = scopes.into_iter().collect();
        all.sort();
        all.dedup();
        Self(all)
    }

    /// Parses RFC 6749's space-separated form; `None` names the first unknown scope.
    pub fn parse_space_separated(s: &str) -> Result<Self, String> {
        s.split(' ')
            .filter(|part| !part.is_empty())
            .map(|part| Scope::parse(part).ok_or_else(|| part.to_owned()))
            .collect::<Result<Vec<_>, _>>()
            .map(Self::new)
    }

    pub fn contains(&self, scope: Scope) -> bool {
        self.0.contains(&scope)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn is_subset_of(&self, other: &Scopes) -> bool {
        self.0.iter().all(|s| other.contains(*s))
    }

    /// The scopes of this set that `other` lacks.
    pub fn without(&self, other: &Scopes) -> Scopes {
        Self(self.0.iter().copied().filter(|s| !other.contains(*s)).collect())
    }

    /// The scopes in both sets.
    pub fn intersect(&self, other: &Scopes) -> Scopes {
        Self(self.0.iter().copied().filter(|s| other.contains(*s)).collect())
    }

    pub fn iter(&self) -> impl Iterator<Item = Scope> + '_ {
        self.0.iter().copied()
    }

    pub fn names(&self) -> Vec<&'static str> {
        self.iter().map(Scope::as_str).collect()
    }

    /// RFC 6749's space-separated form, which is also how scopes are stored.
    pub fn to_space_separated(&self) -> String {
        self.names().join(" ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scope_sets_are_ordered_and_parsed() {
        let set = Scopes::parse_space_separated("webhooks:read  members:read webhooks:read")
            .expect("known scopes");
        assert_eq!(set.to_space_separated(), "members:read webhooks:read");
        assert_eq!(Scopes::parse_space_separated("members:read nope"), Err("nope".into()));
        assert!(Scopes::parse_space_separated("").expect("empty").is_empty());
        let all = Scopes::new(Scope::ALL.iter().copied());
        assert!(set.is_subset_of(&all));
        assert!(!all.is_subset_of(&set));
        assert_eq!(all.intersect(&set), set);
        assert_eq!(all.without(&set).iter().count(), 7);
        assert!(set.without(&all).is_empty());
        assert_eq!(Scope::ALL.len(), 9);
    }

    #[test]
    fn tokens_read_only_what_their_scopes_cover() {
        let names = |scopes: &str| {
            let scopes = Scopes::parse_space_separated(scopes).expect("known scopes");
            readable(&scopes).into_iter().map(LoggedEvent::as_str).collect::<Vec<_>>()
        };
        assert_eq!(
            names("organization:read"),
            ["organization.created", "organization.updated", "organization.deleted"]
        );
        assert_eq!(
            names("webhooks:read"),
            [
                "webhook.created",
                "webhook.disabled",
                "delivery.exhausted",
                "webhook.test",
                "webhook.updated",
                "webhook.deleted",
                "webhook.secret_rotated"
            ]
        );
        let everything = Scope::ALL.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(" ");
        assert!(!names(&everything).iter().any(|name| name.starts_with("oauth_app.")));
        assert_eq!(reading(EventType::OauthAppRevoked), None);
    }
}
