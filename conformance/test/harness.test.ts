import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { SchedulerFactory } from '../../spec/api.js';
import type { Config, StepResult } from '../../spec/schema.js';
import { createModel, validateStep } from '../../model/index.js';
import { judgeStep } from '../generate/legality.js';
import { resolveStep } from '../generate/steps.js';
import { runCheck } from '../run/check.js';
import { LockstepRun } from '../run/lockstep.js';

const CONFIG: Config = { ncpus: 2, smp: true, invariants: true, untimelySwitch: false, panicOnCscount: false };

/** Builds the model, except that step number `n` (from 0) is replaced by `misbehave`. */
function modelWith(n: number, misbehave: () => unknown): SchedulerFactory {
  return (config) => {
    const model = createModel(config);
    let count = 0;
    return {
      name: 'patched-model',
      step: (step) => (count++ === n ? misbehave() as StepResult : model.step(step)),
      running: () => model.running(),
    };
  };
}

const checkOf = (factory: SchedulerFactory, runs = 20) =>
  runCheck({ config: CONFIG, factory, implementation: 'patched-model', seed: 3, runs, maxSteps: 30, misuseRate: 0.03 });

describe('harness survives faulty implementations', () => {
  it('reports an exception as a difference', () => {
    const result = checkOf(modelWith(2, () => { throw new RangeError('queue index out of range'); }));
    expect(result.verdict).toBe('counterexample');
    const first = result.counterexample?.trace.firstDifference;
    expect(first?.differences[0]).toBe('implementation threw: RangeError: queue index out of range');
    expect(result.counterexample?.trace.steps.length).toBe(3);
  });

  it('reports a malformed result as a difference', () => {
    const result = checkOf(modelWith(0, () => ({ status: 'finished' })));
    expect(result.counterexample?.trace.firstDifference?.differences[0]).toContain('malformed StepResult');
    expect(result.counterexample?.trace.steps.length).toBe(1);
  });

  it('reports a boot exception as a difference', () => {
    const result = checkOf(() => { throw new Error('no memory'); }, 3);
    expect(result.verdict).toBe('counterexample');
    expect(result.counterexample?.trace.firstDifference?.differences[0]).toBe('boot: implementation threw while booting: Error: no memory');
  });
});

describe('generated steps', () => {
  it('are valid and labelled by the legality rules', () => {
    const selectors = fc.array(fc.tuple(fc.boolean(), fc.nat(999), fc.nat(1023), fc.nat(1023), fc.nat(1023)), { maxLength: 80 });
    fc.assert(fc.property(selectors, (commands) => {
      const run = new LockstepRun(CONFIG, createModel);
      for (const [misuse, kind, a, b, c] of commands) {
        if (run.stopped) break;
        const resolved = resolveStep(run.state, misuse ? 'misuse' : 'legal', kind, [a, b, c]);
        if (resolved === null) break;
        expect(validateStep(run.state, resolved.step)).toBeNull();
        expect(resolved.misuse).toBe(judgeStep(run.state, resolved.step));
        if (!misuse) expect(resolved.misuse).toBeNull();
        run.apply(resolved.step, resolved.misuse);
      }
    }), { numRuns: 40 });
  });

  it('are the same for the same seed', () => {
    const once = () => runCheck({ config: CONFIG, factory: createModel, implementation: 'model', seed: 9, runs: 5, maxSteps: 50, misuseRate: 0.1 });
    expect(JSON.stringify(once())).toBe(JSON.stringify(once()));
  });
});
