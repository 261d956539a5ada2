//! What a server key may do. Server keys belong to the application's backend, not to a person
//! or an organization, so their powers are few and named: publishing the application's
//! events to any organization, and managing the event catalogue.

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum KeyScope {
    EventsPublish,
    EventTypesWrite,
}

impl KeyScope {
    pub const ALL: &'static [KeyScope] = &[KeyScope::EventsPublish, KeyScope::EventTypesWrite];

    pub fn as_str(self) -> &'static str {
        match self {
            KeyScope::EventsPublish => "events:publish",
            KeyScope::EventTypesWrite => "event-types:write",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|scope| scope.as_str() == s)
    }

    /// Every scope, as a message lists them.
    pub fn catalog() -> String {
        Self::ALL.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")
    }
}

impl fmt::Display for KeyScope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_scopes_read_back() {
        for scope in KeyScope::ALL {
            assert_eq!(KeyScope::parse(scope.as_str()), Some(*scope));
        }
        assert_eq!(KeyScope::parse("webhooks:write"), None);
        assert_eq!(KeyScope::catalog(), "events:publish, event-types:write");
    }
}
