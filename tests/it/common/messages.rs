//! The API's answers that the stories of several areas check, word for word.

pub const ORG_NOT_FOUND: &str = "Organization not found";
pub const BAD_UUID: &str = "Validation failed (uuid is expected)";
pub const BAD_CURSOR: &str = "cursor must be a cursor returned by a previous page";
pub const BAD_EMAIL: &str = "email must be an email";
pub const BAD_ROLE: &str = "role must be one of the following values: OWNER, ADMIN, MEMBER";
pub const BAD_LOGIN: &str = "Invalid email or password";
pub const WRONG_PASSWORD: &str = "Current password is incorrect";
pub const RATE_LIMITED: &str = "Too many requests. Try again later.";
pub const ALREADY_MEMBER: &str = "User is already a member of this organization";
pub const OAUTH_REFUSED: &str = "Access denied. OAuth tokens cannot be used for this route.";
pub const ADD_DENIED: &str = "Access denied. Only owners and admins can add members.";
pub const DELETE_DENIED: &str = "Access denied. Only owners can delete organizations.";
pub const OWNERS_ONLY: &str = "Access denied. Only owners can grant or remove the OWNER role.";
pub const OWNER_REMOVAL_DENIED: &str = "Access denied. Only owners can remove owners.";
pub const OWNER_INVITE_DENIED: &str = "Access denied. Only owners can invite owners.";
pub const ONLY_MEMBER: &str = "Access denied. OAuth tokens can only grant the MEMBER role.";

/// The 403 message of a route for owners and admins only.
pub fn denied(action: &str) -> String {
    format!("Access denied. Only owners and admins can {action}.")
}
