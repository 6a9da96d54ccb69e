/**
 * The admin token's rule, in one place for the configuration's schema and admin.tokenFile (kept
 * apart from the admin API so that reading a configuration loads no HTTP framework).
 */

/** Shortest admin token accepted (inline, from PHOEBE_ADMIN_TOKEN, or from admin.tokenFile). */
export const ADMIN_TOKEN_MIN_LENGTH = 16;
/** The rule, for messages (which never echo the token). */
export const ADMIN_TOKEN_RULE = `must be at least ${ADMIN_TOKEN_MIN_LENGTH} characters without whitespace`;

/** Why `token` (surrounding whitespace dropped) is not acceptable; undefined when it is. */
export function adminTokenProblem(token: string): string | undefined {
  const trimmed = token.trim();
  return trimmed.length >= ADMIN_TOKEN_MIN_LENGTH && !/\s/.test(trimmed) ? undefined : ADMIN_TOKEN_RULE;
}
