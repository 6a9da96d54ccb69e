/**
 * The fault tests' live twins, many in one child process: on request over the IPC channel it
 * starts a twin exactly as `phoebe twin --scenario … --listen 127.0.0.1:0 --speed … --faults` does
 * (the CLI's own startTwin: the scenario file, the trace, the server with fault injection on),
 * each with its own cluster, fault injector and loopback port, and stops it on request.
 *
 * Why one process for all: a `phoebe twin` process costs about 2 s of CPU to start (module
 * loading and compiling the FlinkDeployment schema), which here is paid once instead of once per
 * scenario. Every scenario still gets a fresh twin — its job at the initial parallelism, no
 * request seen, no fault armed — served from a process other than the one under test.
 *
 *   node dist/test/faults/twin-host.js   (spawned by harness.ts with an IPC channel)
 */
import { startTwin } from '../../src/cli/twin.js';
import type { LiveTwinServer } from '../../src/sim/live/server.js';
import { serveRequests } from './ipc.js';

export type TwinHostRequest = { op: 'start'; scenario: string; speed: number } | { op: 'stop'; url: string };

const twins = new Map<string, LiveTwinServer>();

serveRequests(async (request: TwinHostRequest): Promise<string> => {
  if (request.op === 'stop') {
    await twins.get(request.url)?.close();
    twins.delete(request.url);
    return request.url;
  }
  const server = await startTwin({ scenario: request.scenario, listen: '127.0.0.1:0', speed: request.speed, scheduler: 'default', namespace: 'flink', faults: true });
  twins.set(server.url, server);
  return server.url;
}, async () => {
  await Promise.all([...twins.values()].map((twin) => twin.close()));
});
