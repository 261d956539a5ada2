//! Product rules with no I/O: roles and what they may do, the event catalog and its payloads,
//! organization slugs, OAuth scopes.

pub mod event;
pub mod role;
pub mod scope;
pub mod slug;
