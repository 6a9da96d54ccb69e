/**
 * An error caused by the user's input (a file, a flag, a config key). The CLI prints its
 * message alone and exits with status 2; anything else is a bug and keeps its stack.
 */
export class UserError extends Error {
  override readonly name = 'UserError';
}
