/** The decision reasons, word for word as the original library writes them. */

export const INVALID_SESSION = "Invalid or expired session";
export const STATE_UNAVAILABLE = "State store unavailable";
export const USER_PERMISSIONS_UNAVAILABLE = "User permissions unavailable";
export const AUDIT_UNAVAILABLE = "Audit log unavailable";

export const sessionAgentMismatch = (expected: string, got: string): string =>
  `Session agent mismatch: expected '${expected}', got '${got}'`;
export const sessionUserMismatch = (expected: string, got: string): string =>
  `Session user mismatch: expected '${expected}', got '${got}'`;
export const scopeOutsideSession = (scope: string, pattern: string): string =>
  `Scope '${scope}' outside session scope '${pattern}'`;
export const sessionScopeRequired = (pattern: string): string =>
  `Session scope '${pattern}' requires a request scope`;
export const deniedByProfile = (action: string, profile: string): string =>
  `Action '${action}' denied by profile '${profile}'`;
export const scopeNotAllowed = (scope: string, profile: string): string =>
  `Scope '${scope}' not allowed by profile '${profile}'`;
export const notAuthorized = (action: string, agent: string): string =>
  `Action '${action}' not authorized for agent '${agent}'`;
export const delegatedBy = (user: string): string => `Delegated by user '${user}'`;
export const allowedByProfile = (profile: string): string => `Allowed by profile '${profile}'`;
export const ALLOWED_BY_USER_PERMISSIONS = "Allowed by user permissions";
export const requiresApproval = (tier: string): string => ` (requires ${tier} approval)`;
/** The reason of a decision allowed by redeeming an approval. */
export const approvedBy = (approver: string, approvalId: string): string => `Approved by '${approver}' (approval ${approvalId})`;
