import { createHash } from 'node:crypto';

/**
 * Deterministic identifiers for the live twin: the same scenario and seed give the same job ids,
 * trigger ids and UIDs, so runs are reproducible and tests can name them.
 */
export class IdSource {
  private readonly counters = new Map<string, number>();

  constructor(private readonly namespace: string) {}

  /** 32 lowercase hex characters, like a Flink JobID, TriggerId or JobVertexID. */
  hex32(kind: string): string {
    const n = (this.counters.get(kind) ?? 0) + 1;
    this.counters.set(kind, n);
    return hex32Of(`${this.namespace}/${kind}/${n}`);
  }

  /** An RFC 4122-shaped UID (version 4 layout), as Kubernetes assigns to objects. */
  uid(kind: string): string {
    const h = this.hex32(kind);
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
  }
}

/** A fixed 32-hex id derived from a name (e.g. the job vertex id, which survives resubmissions). */
export function hex32Of(name: string): string {
  return createHash('md5').update(name).digest('hex');
}

export const HEX32 = /^[0-9a-f]{32}$/;
