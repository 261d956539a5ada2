use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "UPPERCASE")]
pub enum Role {
    Owner,
    Admin,
    #[default]
    Member,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Owner, Role::Admin, Role::Member];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "OWNER",
            Role::Admin => "ADMIN",
            Role::Member => "MEMBER",
        }
    }

    /// Every role's name, in the order messages and documents list them.
    pub fn names() -> Vec<&'static str> {
        Self::ALL.iter().map(|r| r.as_str()).collect()
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// OWNER and ADMIN manage the organization's settings, members, invites and webhooks.
    pub fn can_manage(self) -> bool {
        matches!(self, Role::Owner | Role::Admin)
    }
}

/// The one role an OAuth token may give, whether it adds a member, invites one or changes a
/// role: a token's power ends with its scopes and its grant, but a role it gave would outlive
/// both, so it may give none that could do more than a plain member.
pub const OAUTH_GRANTABLE: Role = Role::Member;

/// Why a member change is refused, before any invariant that needs the database.
#[derive(Debug, PartialEq, Eq)]
pub enum MemberChangeDenied {
    /// The actor may not manage members at all.
    NotManager,
    /// Granting or taking away OWNER needs an OWNER.
    OwnerOnly,
}

/// Whether `actor` may give `target_new` to a member who has `target_current`
/// (`None` when the member is being added).
pub fn check_role_change(
    actor: Role,
    target_current: Option<Role>,
    target_new: Role,
) -> Result<(), MemberChangeDenied> {
    if !actor.can_manage() {
        return Err(MemberChangeDenied::NotManager);
    }
    let touches_owner = target_new == Role::Owner || target_current == Some(Role::Owner);
    if touches_owner && actor != Role::Owner {
        return Err(MemberChangeDenied::OwnerOnly);
    }
    Ok(())
}

/// Whether `actor` may remove a member who has `target` (`is_self` when leaving).
pub fn check_removal(actor: Role, target: Role, is_self: bool) -> Result<(), MemberChangeDenied> {
    if is_self {
        return Ok(());
    }
    if !actor.can_manage() {
        return Err(MemberChangeDenied::NotManager);
    }
    if target == Role::Owner && actor != Role::Owner {
        return Err(MemberChangeDenied::OwnerOnly);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_owner_touches_owner() {
        assert_eq!(check_role_change(Role::Owner, Some(Role::Member), Role::Owner), Ok(()));
        assert_eq!(
            check_role_change(Role::Admin, Some(Role::Member), Role::Owner),
            Err(MemberChangeDenied::OwnerOnly)
        );
        assert_eq!(
            check_role_change(Role::Admin, Some(Role::Owner), Role::Member),
            Err(MemberChangeDenied::OwnerOnly)
        );
        assert_eq!(check_role_change(Role::Admin, Some(Role::Member), Role::Admin), Ok(()));
        assert_eq!(check_role_change(Role::Admin, None, Role::Member), Ok(()));
        assert_eq!(
            check_role_change(Role::Member, None, Role::Member),
            Err(MemberChangeDenied::NotManager)
        );
    }

    #[test]
    fn removal_rules() {
        assert_eq!(check_removal(Role::Member, Role::Member, true), Ok(()));
        assert_eq!(check_removal(Role::Owner, Role::Owner, true), Ok(()));
        assert_eq!(
            check_removal(Role::Member, Role::Member, false),
            Err(MemberChangeDenied::NotManager)
        );
        assert_eq!(
            check_removal(Role::Admin, Role::Owner, false),
            Err(MemberChangeDenied::OwnerOnly)
        );
        assert_eq!(check_removal(Role::Admin, Role::Admin, false), Ok(()));
        assert_eq!(check_removal(Role::Owner, Role::Owner, false), Ok(()));
    }

    #[test]
    fn parses_only_exact_names() {
        assert_eq!(Role::parse("OWNER"), Some(Role::Owner));
        assert_eq!(Role::parse("owner"), None);
    }
}
