// Moved to test/support/prometheus-harness.ts. This re-export serves the tests under test/act,
// test/export and test/loop that still import it from here; delete it once they import from
// test/support.
export * from '../support/prometheus-harness.js';
