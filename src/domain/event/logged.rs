//! Every event the log can hold: the catalog, which webhooks subscribe to, and the events
//! that are recorded in the log only, which no webhook subscribes to.

use super::EventType;

event_enum! {
    /// Events recorded in the event log only, the audit of changes the catalog has no type
    /// for: not in the catalog, so no webhook subscribes to them and the original API page's
    /// list of events stays as it is.
    LogOnlyEvent {
        WebhookTest => "webhook.test",
        WebhookUpdated => "webhook.updated",
        WebhookDeleted => "webhook.deleted",
        WebhookSecretRotated => "webhook.secret_rotated",
        OauthAppUpdated => "oauth_app.updated",
        OauthAppSecretRotated => "oauth_app.secret_rotated",
    }
}

/// An event type the log can hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LoggedEvent {
    Catalog(EventType),
    LogOnly(LogOnlyEvent),
}

impl From<EventType> for LoggedEvent {
    fn from(event: EventType) -> Self {
        LoggedEvent::Catalog(event)
    }
}

impl From<LogOnlyEvent> for LoggedEvent {
    fn from(event: LogOnlyEvent) -> Self {
        LoggedEvent::LogOnly(event)
    }
}

impl LoggedEvent {
    /// Every type, the catalog first, each in its own order.
    pub fn all() -> impl Iterator<Item = LoggedEvent> {
        let catalog = EventType::ALL.iter().copied().map(LoggedEvent::Catalog);
        catalog.chain(LogOnlyEvent::ALL.iter().copied().map(LoggedEvent::LogOnly))
    }

    pub fn as_str(self) -> &'static str {
        match self {
            LoggedEvent::Catalog(event) => event.as_str(),
            LoggedEvent::LogOnly(event) => event.as_str(),
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::all().find(|e| e.as_str() == s)
    }

    /// Every type as class-validator lists them in `isIn` messages.
    pub fn catalog() -> String {
        Self::all().map(LoggedEvent::as_str).collect::<Vec<_>>().join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_log_holds_the_catalog_and_more() {
        assert_eq!(LoggedEvent::parse("member.added"), Some(EventType::MemberAdded.into()));
        assert_eq!(LoggedEvent::parse("webhook.test"), Some(LogOnlyEvent::WebhookTest.into()));
        assert_eq!(LoggedEvent::parse("nope"), None);
        assert!(LoggedEvent::catalog().starts_with(&EventType::catalog()));
        assert!(LoggedEvent::catalog().ends_with(
            "webhook.test, webhook.updated, webhook.deleted, \
             webhook.secret_rotated, oauth_app.updated, oauth_app.secret_rotated"
        ));
    }
}
