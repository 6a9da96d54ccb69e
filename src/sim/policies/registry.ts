import type { PolicyFactory } from '../policy.js';
import { flinkAutoscalerPolicy } from './flink-autoscaler.js';
import { hpaPolicy } from './hpa.js';
import { defaultPhoebe2022Forecaster, phoebe2022Policy } from './phoebe-2022.js';
import { defaultPhoebeForecaster, phoebePolicy } from './phoebe.js';
import { staticPolicy } from './static.js';

/** Every policy `phoebe simulate --policy` can name, in the order `all` runs them. */
export const POLICIES: ReadonlyMap<string, PolicyFactory> = new Map<string, PolicyFactory>([
  ['static', staticPolicy],
  ['hpa', hpaPolicy],
  ['flink-autoscaler', (context) => flinkAutoscalerPolicy(context)],
  ['phoebe-2022', (context) => phoebe2022Policy(context, { forecaster: defaultPhoebe2022Forecaster })],
  ['phoebe', (context) => phoebePolicy(context, defaultPhoebeForecaster)],
]);
