import { describe, expect, it } from 'vitest';
import type { Config } from '../../spec/schema.js';
import { createImpl } from '../../impl/index.js';
import { FAULTS } from '../faults/index.js';
import { runCheck } from '../run/check.js';
import { replayTrace } from '../trace/trace.js';

const CONFIG: Config = { ncpus: 2, smp: true, invariants: true, untimelySwitch: false, panicOnCscount: false };

describe('planted faults', () => {
  it.each(FAULTS.map((f) => [f.name, f] as const))('%s is caught and shrunk', (_name, fault) => {
    const result = runCheck({
      config: CONFIG, factory: fault.factory, implementation: fault.name,
      seed: 11, runs: 100, maxSteps: 200, misuseRate: 0.03, shrinkFindings: false,
    });

    expect(result.verdict).toBe('counterexample');
    const trace = result.counterexample!.trace;
    expect(trace.steps.length).toBeLessThanOrEqual(12);
    expect(trace.firstDifference?.stepIndex).toBe(trace.steps.length - 1);
    expect(trace.firstDifference?.differences.length).toBeGreaterThan(0);

    const replayed = replayTrace(trace, fault.factory, fault.name);
    expect(replayed.verdict).toBe('counterexample');
    expect(replayed.trace.firstDifference).toEqual(trace.firstDifference);

    // The same steps on the implementation without the fault agree with the model.
    const unfaulted = replayTrace(trace, createImpl, 'impl');
    expect(unfaulted.trace.firstDifference).toBeNull();
  });
});
