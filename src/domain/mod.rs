//! Product rules with no I/O: roles and what they may do, the event catalog and its payloads,
//! organization slugs.

pub mod event;
pub mod role;
pub mod slug;
