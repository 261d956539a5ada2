//! Product rules with no I/O: roles and what they may do, the event catalog and its payloads,
//! organization slugs, OAuth scopes and server keys' scopes, where webhooks may deliver, the retry ladder, the
//! secrets handed out for webhooks, and the text and times both backends can store. Nothing
//! here imports the rest of the crate.

pub mod event;
pub mod key_scope;
pub mod retry;
pub mod role;
pub mod scope;
pub mod secret;
pub mod slug;
pub mod text;
pub mod time;
pub mod uri;
pub mod webhook_url;
