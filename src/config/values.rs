//! Setting values that need parsing or hiding: durations, the retry schedule, the public URL,
//! the secret key.

use std::fmt;
use std::path::Path;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

/// A secret given in the environment variable `env` (its value `from_env`) or in `file`,
/// trimmed; never both. Secrets are not taken as flags, which the process list shows.
pub fn read_secret(
    env: &str,
    from_env: Option<String>,
    file: Option<&Path>,
) -> anyhow::Result<Option<String>> {
    match (from_env, file) {
        (Some(_), Some(_)) => anyhow::bail!("set {env} or give a file, not both"),
        (Some(value), None) => Ok(Some(value.trim().to_owned())),
        (None, Some(path)) => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?;
            Ok(Some(text.trim().to_owned()))
        }
        (None, None) => Ok(None),
    }
}

/// A database URL, whose password `Debug` never shows.
#[derive(Clone, PartialEq, Eq)]
pub struct DatabaseUrl(String);

impl DatabaseUrl {
    pub fn new(url: impl Into<String>) -> Self {
        Self(url.into())
    }
}

impl std::ops::Deref for DatabaseUrl {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

impl std::str::FromStr for DatabaseUrl {
    type Err = std::convert::Infallible;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(Self::new(s))
    }
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match url::Url::parse(&self.0) {
            Ok(mut url) if url.password().is_some() => {
                let _ = url.set_password(Some("<redacted>"));
                write!(f, "{:?}", url.as_str())
            }
            Ok(_) => write!(f, "{:?}", self.0),
            Err(_) => f.write_str("\"<unparsable URL, redacted>\""),
        }
    }
}

/// The 32-byte key that encrypts secrets at rest.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretKey(pub [u8; 32]);

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretKey(<redacted>)")
    }
}

impl std::str::FromStr for SecretKey {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bytes = STANDARD
            .decode(s.trim())
            .map_err(|_| "secret key must be base64 of 32 bytes".to_owned())?;
        let key: [u8; 32] =
            bytes.try_into().map_err(|_| "secret key must be base64 of 32 bytes".to_owned())?;
        Ok(Self(key))
    }
}

impl SecretKey {
    pub fn to_base64(&self) -> String {
        STANDARD.encode(self.0)
    }
}

/// An absolute `http(s)://` origin, kept without a trailing slash.
pub fn parse_public_url(s: &str) -> Result<String, String> {
    let parsed = url::Url::parse(s.trim()).map_err(|e| format!("invalid public URL {s:?}: {e}"))?;
    let path_ok = parsed.path() == "/" || parsed.path().is_empty();
    if !matches!(parsed.scheme(), "http" | "https")
        || parsed.host().is_none()
        || !path_ok
        || parsed.query().is_some()
        || parsed.fragment().is_some()
    {
        return Err(format!(
            "public URL must be an http(s) origin such as https://roster.example.com, not {s:?}"
        ));
    }
    Ok(parsed.as_str().trim_end_matches('/').to_owned())
}

/// Delays before the first, second, … retry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetrySchedule(pub Vec<Duration>);

pub fn parse_duration(s: &str) -> Result<Duration, String> {
    humantime::parse_duration(s.trim()).map_err(|e| format!("invalid duration {s:?}: {e}"))
}

pub fn parse_schedule(s: &str) -> Result<RetrySchedule, String> {
    let delays = s
        .split(',')
        .filter(|part| !part.trim().is_empty())
        .map(parse_duration)
        .collect::<Result<Vec<_>, _>>()?;
    if delays.len() > 20 {
        return Err("a retry schedule has at most 20 delays".into());
    }
    Ok(RetrySchedule(delays))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedules_parse() {
        assert_eq!(
            parse_schedule("1s,5s,30s"),
            Ok(RetrySchedule(vec![
                Duration::from_secs(1),
                Duration::from_secs(5),
                Duration::from_secs(30)
            ]))
        );
        assert_eq!(
            parse_schedule("200ms, 5m"),
            Ok(RetrySchedule(vec![Duration::from_millis(200), Duration::from_secs(300)]))
        );
        assert_eq!(parse_schedule(""), Ok(RetrySchedule(vec![])));
        assert!(parse_schedule("soon").is_err());
    }

    #[test]
    fn database_passwords_are_redacted() {
        let url = DatabaseUrl::new("postgres://roster:hunter2@db.internal:5432/roster");
        assert_eq!(
            format!("{url:?}"),
            "\"postgres://roster:%3Credacted%3E@db.internal:5432/roster\""
        );
        assert_eq!(&*url, "postgres://roster:hunter2@db.internal:5432/roster");
        let plain = DatabaseUrl::new("sqlite://roster.db");
        assert_eq!(format!("{plain:?}"), "\"sqlite://roster.db\"");
    }

    #[test]
    fn secret_keys_parse_and_hide() {
        let key: SecretKey = STANDARD.encode([7u8; 32]).parse().expect("valid key");
        assert_eq!(format!("{key:?}"), "SecretKey(<redacted>)");
        assert!("c2hvcnQ=".parse::<SecretKey>().is_err());
    }

    #[test]
    fn public_urls_are_origins() {
        assert_eq!(
            parse_public_url("https://roster.example.com/").as_deref(),
            Ok("https://roster.example.com")
        );
        assert_eq!(
            parse_public_url("http://127.0.0.1:3001").as_deref(),
            Ok("http://127.0.0.1:3001")
        );
        assert!(parse_public_url("https://roster.example.com/api").is_err());
        assert!(parse_public_url("ftp://roster.example.com").is_err());
        assert!(parse_public_url("roster.example.com").is_err());
    }
}
