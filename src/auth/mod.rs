//! Who is calling, as policy and cryptography: password hashing, opaque token formats, and
//! the sign-in limits. Nothing here knows about HTTP; the extractor that turns a request into
//! a principal is [`crate::http::principal`].

pub mod password;
pub mod sign_in;
pub mod token;
