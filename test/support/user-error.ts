import { expect } from 'vitest';
import { UserError } from '../../src/util/user-error.js';

/** Runs fn, expects it to throw a UserError, and returns the message for further checks. */
export function userError(fn: () => unknown): string {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(UserError);
  return (caught as UserError).message;
}
