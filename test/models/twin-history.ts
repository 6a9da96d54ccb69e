// Moved to test/support/twin-history.ts. This re-export serves the tests under test/loop and
// test/planner that still import it from here; delete it once they import from test/support.
export * from '../support/twin-history.js';
