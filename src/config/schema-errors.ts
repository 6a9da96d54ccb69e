import type { z } from 'zod';

/** One line per problem, each naming the offending key by its dotted path. */
export function describeIssues(error: z.ZodError, source: string): string {
  return error.issues.map((issue) => `${source}: ${describeIssue(issue)}`).join('\n');
}

function keyPath(path: readonly PropertyKey[]): string {
  return path.map((part) => (typeof part === 'number' ? `[${part}]` : String(part))).join('.').replace(/\.\[/g, '[');
}

function describeIssue(issue: z.core.$ZodIssue): string {
  const at = keyPath(issue.path);
  if (issue.code === 'unrecognized_keys') {
    const keys = issue.keys.map((k) => (at ? `${at}.${k}` : k));
    return `unknown key${keys.length > 1 ? 's' : ''} ${keys.map((k) => `"${k}"`).join(', ')}`;
  }
  if (issue.code === 'invalid_type' && /received undefined/.test(issue.message)) return `missing key "${at}"`;
  return `${at ? `"${at}"` : 'document'}: ${issue.message}`;
}
