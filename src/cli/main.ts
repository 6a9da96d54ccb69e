import { Command, CommanderError } from 'commander';
import { UserError } from '../util/user-error.js';
import { registerSimulate } from './simulate.js';
import { registerForecastBench } from './forecast-bench.js';
import { registerTwin } from './twin.js';
import { registerValidateConfig } from './validate-config.js';
import { registerRun } from './run.js';

export const EXIT_USAGE = 2;

export function buildProgram(): Command {
  const program = new Command('phoebe')
    .description('QoS-aware proactive autoscaling for Apache Flink on Kubernetes')
    .showHelpAfterError('(add --help for usage)')
    .configureOutput({ outputError: (text, write) => write(`phoebe: ${text}`) })
    .exitOverride();
  registerSimulate(program);
  registerForecastBench(program);
  registerTwin(program);
  registerValidateConfig(program);
  registerRun(program);
  return program;
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv, { from: 'user' });
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help and version are successful exits; every other parse problem is a usage error.
      return err.exitCode === 0 ? 0 : EXIT_USAGE;
    }
    if (err instanceof UserError) {
      process.stderr.write(`${err.message.split('\n').map((line) => `phoebe: ${line}`).join('\n')}\n`);
      return EXIT_USAGE;
    }
    throw err;
  }
}
