import { describe, expect, it } from 'vitest';
import { FLINK_DEPLOYMENT_CRD, validateFlinkDeployment } from '../../../src/sim/live/flinkdeployment-schema.js';
import { loadYaml, specPath } from '../../support/live-cluster-harness.js';

describe('FlinkDeployment CRD schema of the live twin', () => {
  it('is the upstream CRD\'s openAPIV3Schema (config/specs), unchanged', () => {
    const crd = loadYaml(specPath('flinkdeployments.flink.apache.org-v1.yml')) as any;
    const version = crd.spec.versions.find((v: { name: string }) => v.name === FLINK_DEPLOYMENT_CRD.version);
    expect(FLINK_DEPLOYMENT_CRD.group).toBe(crd.spec.group);
    expect(FLINK_DEPLOYMENT_CRD.kind).toBe(crd.spec.names.kind);
    expect(FLINK_DEPLOYMENT_CRD.plural).toBe(crd.spec.names.plural);
    expect(FLINK_DEPLOYMENT_CRD.openAPIV3Schema).toEqual(version.schema.openAPIV3Schema);
  });

  it('accepts the operator\'s example FlinkDeployments and names every violation of a bad one', () => {
    for (const file of ['example-flinkdeployment-autoscaling.yaml', 'example-flinkdeployment-checkpoint-ha.yaml']) {
      expect(validateFlinkDeployment(loadYaml(specPath(file))), file).toEqual([]);
    }
    const example = loadYaml(specPath('example-flinkdeployment-autoscaling.yaml')) as any;
    const bad = structuredClone(example);
    bad.spec.job.parallelism = '4';
    bad.spec.flinkVersion = 'v0_1';
    bad.spec.jobManager.replicas = 1.5;
    bad.status = { lifecycleState: 'HAPPY' };
    const causes = validateFlinkDeployment(bad);
    expect(causes.map((c) => c.field).sort()).toEqual(['spec.flinkVersion', 'spec.job.parallelism', 'spec.jobManager.replicas', 'status.lifecycleState']);
    expect(causes.find((c) => c.field === 'spec.flinkVersion')?.reason).toBe('FieldValueNotSupported');
    // int-or-string fields take both, and nothing else.
    const ports = structuredClone(example);
    ports.spec.podTemplate.spec.containers[0].ports = [{ containerPort: 8081 }];
    ports.spec.podTemplate.spec.containers[0].livenessProbe = { httpGet: { port: 'rest' } };
    expect(validateFlinkDeployment(ports)).toEqual([]);
    ports.spec.podTemplate.spec.containers[0].livenessProbe = { httpGet: { port: true } };
    expect(validateFlinkDeployment(ports).map((c) => c.field)).toContain('spec.podTemplate.spec.containers[0].livenessProbe.httpGet.port');
  });
});
