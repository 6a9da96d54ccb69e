// Moved to test/support/live-twin.ts. This re-export serves test/loop/prometheus-outage.test.ts,
// which still imports it from here; delete it once that file imports from test/support.
export * from '../../support/live-twin.js';
