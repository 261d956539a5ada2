//! The names of event types: Roster's own ([`EventType`]) and those the application registers
//! in the catalogue (`invoice.paid`). An application's name is `noun.verb`, two words of
//! lowercase letters, digits and `_`, and its noun is not one of Roster's, so that no type
//! Roster adds later can take a name an application already uses.

use std::fmt;

use super::EventType;

/// The longest name an application may register.
pub const MAX_LEN: usize = 64;

/// Nouns of Roster's own events: an application's types may not start with them.
pub const RESERVED_NOUNS: &[&str] =
    &["organization", "member", "invite", "oauth_app", "webhook", "delivery", "user", "roster"];

/// A type a webhook can subscribe to and the event log can hold.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum EventName {
    BuiltIn(EventType),
    /// A type the application registered; its name passed [`check_custom`].
    Custom(String),
}

impl EventName {
    pub fn as_str(&self) -> &str {
        match self {
            EventName::BuiltIn(event) => event.as_str(),
            EventName::Custom(name) => name,
        }
    }

    /// A stored name: Roster's type of that name, or the application's.
    pub fn from_stored(name: &str) -> Self {
        EventType::parse(name).map_or_else(|| EventName::Custom(name.to_owned()), Self::BuiltIn)
    }

    /// Sort key: Roster's types in catalogue order, then the application's by name.
    pub fn order(&self) -> (usize, &str) {
        match self {
            EventName::BuiltIn(event) => {
                (EventType::ALL.iter().position(|e| e == event).unwrap_or_default(), "")
            }
            EventName::Custom(name) => (EventType::ALL.len(), name),
        }
    }
}

impl From<EventType> for EventName {
    fn from(event: EventType) -> Self {
        EventName::BuiltIn(event)
    }
}

impl fmt::Display for EventName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a name cannot be registered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Not `noun.verb` of lowercase words.
    Malformed,
    /// One of Roster's own names, or its noun.
    Reserved,
}

/// Whether the application may register `name`.
pub fn check_custom(name: &str) -> Result<(), Refusal> {
    let Some((noun, verb)) = name.split_once('.') else { return Err(Refusal::Malformed) };
    if name.len() > MAX_LEN || !is_word(noun) || !is_word(verb) {
        return Err(Refusal::Malformed);
    }
    if EventType::parse(name).is_some() || RESERVED_NOUNS.contains(&noun) {
        return Err(Refusal::Reserved);
    }
    Ok(())
}

fn is_word(word: &str) -> bool {
    let mut bytes = word.bytes();
    bytes.next().is_some_and(|b| b.is_ascii_lowercase())
        && bytes.all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

/// [`check_custom`]'s form as a regular expression, for documents (which give [`MAX_LEN`]
/// and the reserved nouns besides).
pub const PATTERN: &str = "^[a-z][a-z0-9_]*\\.[a-z][a-z0-9_]*$";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn applications_name_their_types_noun_dot_verb() {
        assert_eq!(check_custom("invoice.paid"), Ok(()));
        assert_eq!(check_custom("project.archived_2"), Ok(()));
        for malformed in [
            "invoice",
            "invoice.",
            ".paid",
            "Invoice.paid",
            "invoice.paid.late",
            "invoice-x.paid",
            "2fa.enabled",
            "invoice.pa id",
            "",
        ] {
            assert_eq!(check_custom(malformed), Err(Refusal::Malformed), "{malformed}");
        }
        assert_eq!(check_custom(&format!("a.{}", "b".repeat(MAX_LEN))), Err(Refusal::Malformed));
        assert_eq!(check_custom("member.added"), Err(Refusal::Reserved));
        assert_eq!(check_custom("member.promoted"), Err(Refusal::Reserved));
        assert_eq!(check_custom("delivery.late"), Err(Refusal::Reserved));
    }

    #[test]
    fn stored_names_come_back_as_what_they_were() {
        assert_eq!(EventName::from_stored("member.added"), EventType::MemberAdded.into());
        assert_eq!(
            EventName::from_stored("invoice.paid"),
            EventName::Custom("invoice.paid".into())
        );
        let mut names = [
            EventName::Custom("b.x".into()),
            EventName::Custom("a.x".into()),
            EventType::WebhookCreated.into(),
            EventType::OrganizationCreated.into(),
        ];
        names.sort_by(|a, b| a.order().cmp(&b.order()));
        let names: Vec<&str> = names.iter().map(EventName::as_str).collect();
        assert_eq!(names, ["organization.created", "webhook.created", "a.x", "b.x"]);
    }
}
