//! An organization's OAuth apps (OWNER, ADMIN): the list and registering one ([`list`]),
//! and one app with its settings, secret rotation and revocation ([`detail`]).

pub mod detail;
pub mod list;

use minijinja::{Value, context};
use serde_json::Value as Json;

use crate::console::form::Form;
use crate::domain::scope::Scope;

/// Every scope an app may ask for, with the line people read before granting it.
fn scopes() -> Vec<Value> {
    Scope::ALL.iter().map(|s| context! { name => s.as_str(), about => s.about() }).collect()
}

/// An app's fields from its form, as the API's body. Redirect URIs come one per line;
/// blank lines are left out, the rest is passed on as typed for the API to check.
fn settings_body(form: &Form) -> Vec<(&'static str, Option<Json>)> {
    let uris = form
        .value("redirectUris")
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .map(|uri| Json::String(uri.to_owned()))
        .collect();
    let scopes = form.all("scopes").into_iter().map(|s| Json::String(s.to_owned())).collect();
    vec![
        ("name", form.text("name")),
        ("redirectUris", Some(Json::Array(uris))),
        ("scopes", Some(Json::Array(scopes))),
    ]
}

/// The fields a form shown again holds.
fn form_values(form: &Form) -> Value {
    context! {
        name => form.value("name"),
        redirectUris => form.value("redirectUris"),
        scopes => form.values("scopes"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redirect_uris_are_one_per_line() {
        let form = Form::parse(
            b"name=A&redirectUris=https%3A%2F%2Fa.test%2Fcb%0D%0A%0D%0A+x+&scopes=members%3Aread",
        );
        let body = settings_body(&form);
        assert_eq!(body[1].1, Some(serde_json::json!(["https://a.test/cb", "x"])));
        assert_eq!(body[2].1, Some(serde_json::json!(["members:read"])));
    }
}
