//! The emails Roster sends, each with what its template may use.

use chrono::{DateTime, Utc};

/// One email to one address. `link` values are full URLs carrying a single-use token.
#[derive(Debug, Clone)]
pub enum Message {
    VerifyEmail {
        name: String,
        link: String,
        valid_for: std::time::Duration,
    },
    PasswordReset {
        name: String,
        link: String,
        valid_for: std::time::Duration,
    },
    Invite {
        organization: String,
        inviter: String,
        role: String,
        link: String,
        expires_at: DateTime<Utc>,
    },
    /// Sent to the new address; the change waits for its link.
    ChangeEmail {
        name: String,
        link: String,
        valid_for: std::time::Duration,
    },
    /// Sent to the old address once the change is made.
    EmailChanged {
        name: String,
        new_email: String,
    },
    PasswordChanged {
        name: String,
    },
}

impl Message {
    /// The template's name: its files are `NAME.subject.txt`, `NAME.txt` and `NAME.html`.
    pub fn template(&self) -> &'static str {
        match self {
            Message::VerifyEmail { .. } => "verify_email",
            Message::PasswordReset { .. } => "password_reset",
            Message::Invite { .. } => "invite",
            Message::ChangeEmail { .. } => "change_email",
            Message::EmailChanged { .. } => "email_changed",
            Message::PasswordChanged { .. } => "password_changed",
        }
    }

    /// The link the email carries, if any.
    pub fn link(&self) -> Option<&str> {
        match self {
            Message::VerifyEmail { link, .. }
            | Message::PasswordReset { link, .. }
            | Message::Invite { link, .. }
            | Message::ChangeEmail { link, .. } => Some(link),
            Message::EmailChanged { .. } | Message::PasswordChanged { .. } => None,
        }
    }

    /// What the templates see, besides `email` (the recipient), which every one has.
    pub fn context(&self) -> Vec<(&'static str, String)> {
        let valid = |d: &std::time::Duration| for_people(*d);
        match self {
            Message::VerifyEmail { name, link, valid_for }
            | Message::PasswordReset { name, link, valid_for }
            | Message::ChangeEmail { name, link, valid_for } => vec![
                ("name", name.clone()),
                ("link", link.clone()),
                ("valid_for", valid(valid_for)),
            ],
            Message::Invite { organization, inviter, role, link, expires_at } => vec![
                ("organization", organization.clone()),
                ("inviter", inviter.clone()),
                ("role", role.clone()),
                ("link", link.clone()),
                ("expires_at", expires_at.format("%Y-%m-%d %H:%M UTC").to_string()),
            ],
            Message::EmailChanged { name, new_email } => {
                vec![("name", name.clone()), ("new_email", new_email.clone())]
            }
            Message::PasswordChanged { name } => vec![("name", name.clone())],
        }
    }

    /// One of each, to check every template renders when the server starts.
    pub fn samples() -> Vec<Message> {
        let link = "https://roster.example/verify-email?token=sample".to_owned();
        let name = "Ada".to_owned();
        let valid_for = std::time::Duration::from_secs(3600);
        vec![
            Message::VerifyEmail { name: name.clone(), link: link.clone(), valid_for },
            Message::PasswordReset { name: name.clone(), link: link.clone(), valid_for },
            Message::Invite {
                organization: "Acme".into(),
                inviter: "Grace".into(),
                role: "MEMBER".into(),
                link: link.clone(),
                expires_at: Utc::now(),
            },
            Message::ChangeEmail { name: name.clone(), link, valid_for },
            Message::EmailChanged { name: name.clone(), new_email: "ada@new.example".into() },
            Message::PasswordChanged { name },
        ]
    }
}

/// "24 hours", "1 hour", "15 minutes": how long a link works, as the email says it.
fn for_people(d: std::time::Duration) -> String {
    let secs = d.as_secs();
    let (n, unit) = match secs {
        s if s >= 3600 && s % 3600 == 0 => (s / 3600, "hour"),
        s if s >= 60 && s % 60 == 0 => (s / 60, "minute"),
        s => (s, "second"),
    };
    if n == 1 { format!("1 {unit}") } else { format!("{n} {unit}s") }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::for_people;

    #[test]
    fn durations_read_as_people_say_them() {
        assert_eq!(for_people(Duration::from_secs(24 * 3600)), "24 hours");
        assert_eq!(for_people(Duration::from_secs(3600)), "1 hour");
        assert_eq!(for_people(Duration::from_secs(900)), "15 minutes");
        assert_eq!(for_people(Duration::from_secs(90)), "90 seconds");
    }
}
