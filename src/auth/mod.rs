//! Who is calling: password hashing, opaque tokens, and the extractor that turns a request's
//! bearer token into a [`principal::Principal`].

pub mod password;
pub mod principal;
pub mod token;
