/**
 * One actuation mode as an adapter (one interface, many adapters): the settings it owns under the
 * configuration's `actuation:` section (a zod fragment, defaults included, that the configuration
 * schema composes), what it needs from the rest of the configuration, and how it builds its
 * Actuator. mode-settings.ts lists their settings (for the configuration), registry.ts the
 * adapters (for `phoebe run`).
 */
import type { z } from 'zod';
import type { Clock } from '../util/clock.js';
import type { Actuator, ActuationMode } from './actuator.js';
import type { KubeClients } from './kubernetes/client.js';
import type { ActLogger } from './logger.js';

/** The job as the configuration names it (its `job:` section). */
export interface ActuatorTarget {
  /** Flink job name. */
  name: string;
  /** Flink job id (32 hex), when known. */
  id?: string;
  /** job.sourceTaskPattern: which vertices are sources (they may be pinned to their own parallelism). */
  sourceTaskPattern?: string;
  flinkRest?: { url: string };
  flinkDeployment?: { namespace: string; name: string };
  taskManagerDeployment?: { namespace: string; name: string };
}

/** What an adapter may use to build its actuator. */
export interface ActuatorContext {
  /** The configuration's file name, for messages. */
  source: string;
  job: ActuatorTarget;
  /** Whether the Kubernetes API is configured (a kubeconfig, or running in a pod). */
  kubernetesConfigured: boolean;
  /** The Kubernetes API clients; throws a UserError when they cannot be built. */
  kube(): KubeClients;
  logger: ActLogger;
  /** The latest parallelism seen in the metrics (recommend mode reports it). */
  observedParallelism: () => number | undefined;
  /** Default: the system clock. */
  clock?: Clock;
}

/** An unmet need, as the configuration reports it: the key's path and what is wrong. */
export interface ConfigIssue {
  path: string[];
  message: string;
}

/**
 * A mode's settings and needs: what the configuration composes and checks. Kept apart from the
 * actuator it builds (ActuatorMode) so that reading a configuration loads no actuator, no
 * Kubernetes client (the twin and `validate-config` parse configurations too).
 */
export interface ModeSettings<Shape extends z.ZodRawShape = z.ZodRawShape> {
  readonly mode: ActuationMode;
  /** Its settings under `actuation:`: key → schema (defaults included); {} when it has none. */
  readonly settings: Shape;
  /** What it needs from the job section and its settings when it is the configured mode. */
  needs(job: ActuatorTarget, settings: z.output<z.ZodObject<Shape>>): ConfigIssue[];
}

export interface ActuatorMode<Shape extends z.ZodRawShape = z.ZodRawShape> extends ModeSettings<Shape> {
  /** Builds the actuator; a configuration it cannot work with is a UserError. */
  create(settings: z.output<z.ZodObject<Shape>>, context: ActuatorContext): Actuator;
}
