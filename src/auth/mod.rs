//! Who is calling, as policy and cryptography: password hashing, opaque token formats, and
//! the sign-in limits. Nothing here knows about HTTP or the server's state: the extractor
//! that turns a request into a principal belongs to the HTTP edge.

pub mod password;
pub mod sign_in;
pub mod step_up;
pub mod token;
