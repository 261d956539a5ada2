//! Email templates: built into the binary, each replaceable by a file of the same name in the
//! operator's directory. All are loaded and test-rendered at start, so a broken override stops
//! the server there rather than failing emails later. HTML templates escape what they insert.

use std::path::Path;

use anyhow::Context as _;
use minijinja::{AutoEscape, Environment, UndefinedBehavior};

use super::Message;

macro_rules! built_in {
    ($file:literal) => {
        ($file, include_str!(concat!("../../templates/email/", $file)))
    };
}
/// The built-in templates, by file name.
const BUILT_IN: &[(&str, &str)] = &[
    built_in!("verify_email.subject.txt"),
    built_in!("verify_email.txt"),
    built_in!("verify_email.html"),
    built_in!("password_reset.subject.txt"),
    built_in!("password_reset.txt"),
    built_in!("password_reset.html"),
    built_in!("invite.subject.txt"),
    built_in!("invite.txt"),
    built_in!("invite.html"),
    built_in!("change_email.subject.txt"),
    built_in!("change_email.txt"),
    built_in!("change_email.html"),
    built_in!("email_changed.subject.txt"),
    built_in!("email_changed.txt"),
    built_in!("email_changed.html"),
    built_in!("password_changed.subject.txt"),
    built_in!("password_changed.txt"),
    built_in!("password_changed.html"),
];

/// An email's three parts, rendered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub subject: String,
    pub text: String,
    pub html: String,
}

pub struct Templates {
    env: Environment<'static>,
}

impl Templates {
    /// The built-in templates, with any of `dir`'s files of the same names in their place.
    pub fn load(dir: Option<&Path>) -> anyhow::Result<Self> {
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        env.set_auto_escape_callback(|name| {
            if name.ends_with(".html") { AutoEscape::Html } else { AutoEscape::None }
        });
        for (file, source) in BUILT_IN {
            let source = match dir {
                Some(dir) => match std::fs::read_to_string(dir.join(file)) {
                    Ok(custom) => custom,
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => (*source).to_owned(),
                    Err(e) => {
                        return Err(e).with_context(|| format!("reading email template {file}"));
                    }
                },
                None => (*source).to_owned(),
            };
            env.add_template_owned(*file, source)
                .with_context(|| format!("email template {file}"))?;
        }
        let templates = Self { env };
        for sample in Message::samples() {
            templates
                .render(&sample, "ada@example.com")
                .with_context(|| format!("rendering the {} email", sample.template()))?;
        }
        Ok(templates)
    }

    /// Renders `message` for `recipient`, all three parts.
    pub fn render(&self, message: &Message, recipient: &str) -> anyhow::Result<Rendered> {
        let context = context_of(message, recipient);
        Ok(Rendered {
            subject: self.subject(message.template(), &context)?,
            text: self.part(message.template(), "txt", &context)?,
            html: self.part(message.template(), "html", &context)?,
        })
    }

    /// The subject of `template`, on one line: a line break in it would start a header.
    pub fn subject(&self, template: &str, context: &Context) -> anyhow::Result<String> {
        let subject = self.part(template, "subject.txt", context)?;
        Ok(subject.split_whitespace().collect::<Vec<_>>().join(" "))
    }

    /// The text and HTML bodies of `template`.
    pub fn bodies(&self, template: &str, context: &Context) -> anyhow::Result<(String, String)> {
        Ok((self.part(template, "txt", context)?, self.part(template, "html", context)?))
    }

    fn part(&self, template: &str, suffix: &str, context: &Context) -> anyhow::Result<String> {
        // Links are URLs Roster built (a checked base URL and a base64url token): inserted as
        // they are, not with `/` escaped, so every mail client follows them.
        let values = minijinja::Value::from_pairs(context.iter().map(|(key, value)| {
            let value = if key == "link" {
                minijinja::Value::from_safe_string(value.clone())
            } else {
                minijinja::Value::from(value.as_str())
            };
            (key.as_str(), value)
        }));
        let name = format!("{template}.{suffix}");
        Ok(self.env.get_template(&name)?.render(values)?)
    }
}

/// What a template sees: names and values.
pub type Context = Vec<(String, String)>;

/// What `message`'s templates see when it goes to `recipient`.
pub fn context_of(message: &Message, recipient: &str) -> Context {
    let mut context: Context =
        message.context().into_iter().map(|(key, value)| (key.to_owned(), value)).collect();
    context.push(("email".to_owned(), recipient.to_owned()));
    context
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_escapes_what_it_inserts_and_text_does_not() {
        let templates = Templates::load(None).expect("built-in templates load");
        let message = Message::PasswordChanged { name: "<b>Ada</b> & co".into() };
        let rendered = templates.render(&message, "ada@example.com").expect("renders");
        assert!(
            rendered.html.contains("&lt;b&gt;Ada&lt;&#x2f;b&gt; &amp; co"),
            "{}",
            rendered.html
        );
        assert!(rendered.text.contains("<b>Ada</b> & co"));
        assert_eq!(rendered.subject, "Your password was changed");

        let link = "https://roster.example/reset-password?token=rst_pr_x".to_owned();
        let valid_for = std::time::Duration::from_secs(60);
        let message = Message::PasswordReset { name: "Ada".into(), link, valid_for };
        let rendered = templates.render(&message, "ada@example.com").expect("renders");
        let href = r#"href="https://roster.example/reset-password?token=rst_pr_x""#;
        assert!(rendered.html.contains(href), "links go in as they are: {}", rendered.html);
    }

    #[test]
    fn a_file_in_the_directory_replaces_the_built_in_one() {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(dir.path().join("password_changed.subject.txt"), "Hi {{ name }}\nthere")
            .expect("write");
        let templates = Templates::load(Some(dir.path())).expect("loads");
        let message = Message::PasswordChanged { name: "Ada".into() };
        let rendered = templates.render(&message, "ada@example.com").expect("renders");
        assert_eq!(rendered.subject, "Hi Ada there");
    }

    #[test]
    fn a_broken_override_stops_the_start() {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(dir.path().join("invite.txt"), "{{ no_such_value }}").expect("write");
        assert!(Templates::load(Some(dir.path())).is_err());
        std::fs::write(dir.path().join("invite.txt"), "{% if %}").expect("write");
        assert!(Templates::load(Some(dir.path())).is_err());
    }
}
