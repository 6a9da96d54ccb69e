import type { Command } from 'commander';
import { stringify as toYaml } from 'yaml';
import { loadPhoebeConfig, redactedConfig, type PhoebeConfig } from '../config/phoebe-config.js';

interface ValidateOptions {
  config: string;
  fileChecks: boolean;
  json?: boolean;
}

export function registerValidateConfig(program: Command): void {
  program
    .command('validate-config')
    .description('check a phoebe configuration file and print the effective configuration (secrets redacted)')
    .requiredOption('--config <file>', 'phoebe configuration YAML (see config/phoebe.example.yaml)')
    .option('--no-file-checks', 'do not check that the files it names (CA, token/password files, kubeconfig) are readable here')
    .option('--json', 'print JSON instead of YAML')
    .action((options: ValidateOptions) => {
      const config = loadPhoebeConfig(options.config, process.env, { checkFiles: options.fileChecks });
      process.stdout.write(formatEffectiveConfig(config, options.json ? 'json' : 'yaml'));
    });
}

/** The effective configuration with every secret replaced by `<redacted>`. */
export function formatEffectiveConfig(config: PhoebeConfig, format: 'yaml' | 'json'): string {
  const { source, envOverrides, queryOverrides, ...rest } = redactedConfig(config) as Record<string, unknown> &
    Pick<PhoebeConfig, 'source' | 'envOverrides' | 'queryOverrides'>;
  if (format === 'json') return `${JSON.stringify({ source, envOverrides, queryOverrides, config: rest }, null, 2)}\n`;
  const header = [
    `# ${source}: valid`,
    `# environment overrides: ${envOverrides.length > 0 ? envOverrides.join(', ') : 'none'}`,
    `# queries replaced in the file: ${queryOverrides.length > 0 ? queryOverrides.join(', ') : 'none (all from the catalogue)'}`,
  ];
  return `${header.join('\n')}\n${toYaml(rest, { lineWidth: 0 })}`;
}
