//! The console over real HTTP: signing in and out, and each page's forms with their CSRF
//! protection and permissions. Every refusal is checked against the JSON API's answer to the
//! same request, since the console runs the API's own handlers.

mod account;
mod browser;
mod events;
mod invites;
mod links;
mod members;
mod oauth_apps;
mod organizations;
mod portal;
mod portal_browser;
mod sign_in;
mod webhooks;

use reqwest::StatusCode;
use serde_json::Value;

use crate::common::console::Page;

/// Asserts the console refused with the status and message the API gave.
pub fn assert_same_refusal(api: (StatusCode, Value), page: &Page) {
    let (status, body) = api;
    // The console shows a validation failure's messages in one sentence.
    let message = match &body["message"] {
        Value::String(message) => message.clone(),
        Value::Array(messages) => {
            messages.iter().filter_map(Value::as_str).collect::<Vec<_>>().join("; ")
        }
        other => panic!("a message: {other}"),
    };
    page.assert_refused(status, &message);
}
