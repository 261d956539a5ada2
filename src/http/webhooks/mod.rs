//! Webhook endpoints of an organization: the original API page's create route, and the
//! routes to manage, test and replay deliveries. All of them are for OWNERs and ADMINs.
//!
//! One room per use case; the response types are in [`views`], the request fields' checks in
//! [`fields`], and who may reach a webhook in [`access`].

pub mod access;
pub mod attempts;
pub mod create;
pub mod deliveries;
pub mod fields;
pub mod read;
pub mod recovery;
pub mod secrets;
pub mod settings;
pub mod stats;
pub mod test;
pub mod update;
pub mod views;
