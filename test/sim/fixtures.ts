// Moved to test/support/fixtures.ts. This re-export serves the tests under test/act, test/loop
// and test/sim/policies that still import it from here; delete it once they import from
// test/support.
export * from '../support/fixtures.js';
