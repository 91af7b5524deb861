// Shared setup for the model's tests: configurations and a step driver that
// fails the test with the step and its result when a step ends unexpectedly.
import { expect } from 'vitest';
import type { Config, Step, StepResult } from '../../spec/schema.js';
import { LwktModel } from '../index.js';

export const SMP2: Config = { ncpus: 2, smp: true, invariants: true, untimelySwitch: false, panicOnCscount: false };
export const UP: Config = { ncpus: 1, smp: false, invariants: true, untimelySwitch: false, panicOnCscount: false };

/** Steps the model and returns the result. */
export function step(model: LwktModel, s: Step): StepResult {
  return model.step(s);
}

/** Steps the model and expects the given status. */
export function expectStep(model: LwktModel, s: Step, status: StepResult['status']): StepResult {
  const result = model.step(s);
  expect(result.status, `${JSON.stringify(s)} gave ${JSON.stringify(result)}`).toBe(status);
  return result;
}

/** lwkt_create on `cpu` for `target`; returns the new thread's id. */
export function create(model: LwktModel, cpu: number, opts: { target?: number; tdflags?: number; preemptable?: boolean } = {}): number {
  const result = expectStep(
    model,
    { cpu, call: 'lwkt_create', target: opts.target ?? -1, tdflags: opts.tdflags ?? 0, preemptable: opts.preemptable ?? false, comm: 'test' },
    'returned',
  );
  if (typeof result.ret !== 'number') throw new Error(`lwkt_create returned ${String(result.ret)}`);
  return result.ret;
}

export function thread(model: LwktModel, id: number) {
  const td = model.snapshot().threads[id];
  if (td === undefined) throw new Error(`no thread ${id}`);
  return td;
}

export function cpu(model: LwktModel, id: number) {
  const gd = model.snapshot().cpus[id];
  if (gd === undefined) throw new Error(`no cpu ${id}`);
  return gd;
}
