import { describe, expect, it } from 'vitest';
import { LWKT_CREATE_FLAGS_ALLOWED, TDF_INTTHREAD, TDF_RUNNING, TDF_STOPREQ, TDF_VERBOSE } from '../../spec/constants.js';
import type { AbstractState, Frame, Step } from '../../spec/schema.js';
import { isSpinning, validateStep } from '../validate.js';
import { addThread, addWait, bootState, runOn, thread } from './abstract-state-fixtures.js';

/** Builds a two-cpu state with threads 0..3 and wait queues 0 and 1. */
function twoCpuState(): AbstractState {
  const state = bootState(2);
  addThread(state, 0, 12);
  addThread(state, 1, 20);
  addWait(state);
  addWait(state);
  return state;
}

/** Makes thread 2 the running thread of cpu 0 with `frame` as its innermost frame. */
function spinningOnCpu0(frame: Frame): AbstractState {
  const state = twoCpuState();
  runOn(state, 2);
  thread(state, 2).frames = [frame];
  return state;
}

/** Casts a malformed object so the schema check can be exercised. */
function malformed(value: unknown): Step {
  return value as Step;
}

describe('validateStep accepts', () => {
  it.each<Step>([
    { cpu: 0, call: 'lwkt_switch' },
    { cpu: 1, call: 'lwkt_schedule', td: 3 },
    { cpu: 1, call: 'lwkt_create', target: -1, tdflags: TDF_INTTHREAD | TDF_STOPREQ, preemptable: true, comm: 'ithread' },
    { cpu: 0, call: 'lwkt_create', target: 1, tdflags: LWKT_CREATE_FLAGS_ALLOWED, preemptable: false, comm: '' },
    { cpu: 0, call: 'lwkt_alloc_thread', target: 1, stksize: 4096 },
    { cpu: 0, call: 'lwkt_setcpu_self', target: 1 },
    { cpu: 0, call: 'lwkt_block', w: 1, wmesg: null, gen: 0 },
    { cpu: 0, call: 'lwkt_signal', w: 0, count: -1 },
    { cpu: 0, call: 'lwkt_gettoken', tok: 1 },
    { cpu: 1, call: 'set_proc', td: 0, pid: null, stat: 'SRUN' },
    { cpu: 0, call: 'crit_exit' },
  ])('$call on cpu $cpu', (step) => {
    expect(validateStep(twoCpuState(), step)).toBeNull();
  });

  it('misuse such as freeing the running thread', () => {
    const state = twoCpuState();
    expect(thread(state, 0).td_flags & TDF_RUNNING).toBe(TDF_RUNNING);
    expect(validateStep(state, { cpu: 0, call: 'lwkt_free_thread', td: 0 })).toBeNull();
  });

  it('steps naming a zone-freed thread', () => {
    const state = twoCpuState();
    thread(state, 3).zfreed = true;
    expect(validateStep(state, { cpu: 0, call: 'lwkt_schedule', td: 3 })).toBeNull();
  });
});

describe('validateStep schema check', () => {
  it('rejects an unknown call', () => {
    const message = validateStep(twoCpuState(), malformed({ cpu: 0, call: 'lwkt_frobnicate' }));
    expect(message).toContain(`step has call "lwkt_frobnicate", which is not a step`);
  });

  it('rejects a value that is not an object', () => {
    expect(validateStep(twoCpuState(), malformed(42))).toContain('step has call undefined, which is not a step');
  });

  it('rejects a missing field', () => {
    const message = validateStep(twoCpuState(), malformed({ cpu: 0, call: 'lwkt_schedule' }));
    expect(message).toBe(`step 'lwkt_schedule' is missing field /td; add it as the 'lwkt_schedule' step of spec/schema.ts defines it`);
  });

  it('rejects a field of the wrong type', () => {
    const message = validateStep(twoCpuState(), malformed({ cpu: 0, call: 'lwkt_setpri', td: 2, pri: 'high' }));
    expect(message).toContain(`step 'lwkt_setpri' has an invalid field /pri: Expected integer (got "high")`);
  });

  it('rejects an extra field', () => {
    const message = validateStep(twoCpuState(), malformed({ cpu: 0, call: 'lwkt_switch', td: 1 }));
    expect(message).toBe(`step 'lwkt_switch' has unexpected field /td; remove it, since the 'lwkt_switch' step of spec/schema.ts does not define it`);
  });

  it('rejects a negative cpu', () => {
    const message = validateStep(twoCpuState(), malformed({ cpu: -1, call: 'lwkt_switch' }));
    expect(message).toContain(`step 'lwkt_switch' has an invalid field /cpu`);
  });

  it('rejects a comm longer than 64 characters', () => {
    const step = malformed({ cpu: 0, call: 'lwkt_set_comm', td: 2, comm: 'x'.repeat(65) });
    expect(validateStep(twoCpuState(), step)).toContain('/comm');
  });
});

describe('validateStep cpu rule', () => {
  it('rejects a cpu beyond ncpus', () => {
    expect(validateStep(twoCpuState(), { cpu: 2, call: 'lwkt_switch' })).toBe(
      "step 'lwkt_switch' runs on cpu 2, but only cpus 0..1 exist; use a cpu below 2",
    );
  });

  it('rejects a create target beyond ncpus', () => {
    const message = validateStep(twoCpuState(), { cpu: 0, call: 'lwkt_create', target: 2, tdflags: 0, preemptable: false, comm: 'x' });
    expect(message).toContain("step 'lwkt_create' has target 2, but only cpus 0..1 exist");
  });

  it('rejects an alloc target beyond ncpus', () => {
    const message = validateStep(twoCpuState(), { cpu: 0, call: 'lwkt_alloc_thread', target: 5, stksize: 4096 });
    expect(message).toContain("step 'lwkt_alloc_thread' has target 5");
  });

  it('rejects a target below -1 through the schema', () => {
    const message = validateStep(twoCpuState(), malformed({ cpu: 0, call: 'lwkt_alloc_thread', target: -2, stksize: 4096 }));
    expect(message).toContain('/target');
  });

  it('rejects lwkt_setcpu_self to -1 or beyond ncpus', () => {
    expect(validateStep(twoCpuState(), malformed({ cpu: 0, call: 'lwkt_setcpu_self', target: -1 }))).toContain('/target');
    expect(validateStep(twoCpuState(), { cpu: 0, call: 'lwkt_setcpu_self', target: 2 })).toContain(
      "step 'lwkt_setcpu_self' moves to cpu 2, but only cpus 0..1 exist",
    );
  });
});

describe('validateStep reference rule', () => {
  it('rejects an unknown thread', () => {
    expect(validateStep(twoCpuState(), { cpu: 0, call: 'lwkt_schedule', td: 99 })).toBe(
      "step 'lwkt_schedule' names thread 99, but only threads 0..3 exist; use a thread id from the state",
    );
  });

  it.each<Step>([
    { cpu: 0, call: 'intr', td: 4 },
    { cpu: 0, call: 'set_proc', td: 4, pid: 1, stat: 'SSLEEP' },
    { cpu: 0, call: 'lwkt_acquire', td: 4 },
    { cpu: 0, call: 'lwkt_wait_free', td: 4 },
  ])('rejects an unknown thread in $call', (step) => {
    expect(validateStep(twoCpuState(), step)).toContain('names thread 4');
  });

  it('rejects an unknown wait queue', () => {
    expect(validateStep(twoCpuState(), { cpu: 0, call: 'lwkt_signal', w: 2, count: 1 })).toBe(
      "step 'lwkt_signal' names wait queue 2, but only wait queues 0..1 exist; create one with 'lwkt_wait_init' or use an id from the state",
    );
  });

  it('rejects a wait queue before any exists', () => {
    const message = validateStep(bootState(1), { cpu: 0, call: 'lwkt_block', w: 0, wmesg: 'x', gen: 0 });
    expect(message).toContain('names wait queue 0, but no wait queue exists yet');
  });

  it('rejects an unknown token', () => {
    expect(validateStep(twoCpuState(), { cpu: 0, call: 'lwkt_reltoken', tok: 7 })).toContain(
      "step 'lwkt_reltoken' names token 7, but only tokens 0..1 exist",
    );
  });

  it('rejects tdflags outside LWKT_CREATE_FLAGS_ALLOWED', () => {
    const step: Step = { cpu: 0, call: 'lwkt_create', target: -1, tdflags: TDF_INTTHREAD | TDF_VERBOSE, preemptable: false, comm: 'x' };
    expect(validateStep(twoCpuState(), step)).toBe(
      `step 'lwkt_create' has tdflags 0x10800, with bits 0x800 outside LWKT_CREATE_FLAGS_ALLOWED (0x${LWKT_CREATE_FLAGS_ALLOWED.toString(16)}); pass only TDF_STOPREQ, TDF_INTTHREAD, TDF_NORESCHED and TDF_SYSTHREAD`,
    );
  });

  it('rejects tdflags wider than 32 bits', () => {
    const step: Step = { cpu: 0, call: 'lwkt_create', target: -1, tdflags: 2 ** 32 + TDF_STOPREQ, preemptable: false, comm: 'x' };
    expect(validateStep(twoCpuState(), step)).toContain('outside LWKT_CREATE_FLAGS_ALLOWED');
  });
});

describe('validateStep panic rule', () => {
  it('rejects every step after a panic', () => {
    const state = twoCpuState();
    state.panicked = { id: 'crit_panic.negative', site: 'lwkt_thread.c:1303' };
    expect(validateStep(state, { cpu: 0, call: 'lwkt_switch' })).toBe(
      'the machine panicked (crit_panic.negative at lwkt_thread.c:1303), so no step is valid any more; start a new run',
    );
    expect(validateStep(state, { cpu: 1, call: 'ipi' })).not.toBeNull();
  });
});

describe('validateStep spin rule', () => {
  const spinFrames: Frame[] = [
    { fn: 'lwkt_gettoken', stage: 'spin', ref: 0 },
    { fn: 'lwkt_reltoken', stage: 'spin', ref: 0 },
    { fn: 'lwkt_acquire', td: 3, gd: 1 },
  ];

  it.each(spinFrames)('rejects a thread call while spinning in $fn', (frame) => {
    expect(validateStep(spinningOnCpu0(frame), { cpu: 0, call: 'crit_enter' })).toBe(
      `cpu 0 is spinning in ${frame.fn}; only 'spin' and environment steps are valid on it, so send step 'crit_enter' after the loop ends`,
    );
  });

  it.each(spinFrames)('accepts spin and environment steps while spinning in $fn', (frame) => {
    const state = spinningOnCpu0(frame);
    const steps: Step[] = [
      { cpu: 0, call: 'spin' },
      { cpu: 0, call: 'intr', td: 3 },
      { cpu: 0, call: 'fastintr_switch' },
      { cpu: 0, call: 'ipi' },
      { cpu: 0, call: 'set_proc', td: 2, pid: 5, stat: 'SRUN' },
    ];
    for (const step of steps) expect(validateStep(state, step), step.call).toBeNull();
  });

  it('leaves other cpus free while one spins', () => {
    const state = spinningOnCpu0({ fn: 'lwkt_acquire', td: 3, gd: 1 });
    expect(validateStep(state, { cpu: 1, call: 'lwkt_switch' })).toBeNull();
  });

  it.each<Frame>([
    { fn: 'lwkt_gettoken', stage: 'spin-body', ref: 0 },
    { fn: 'lwkt_reltoken', stage: 'spin-body', ref: 0 },
    { fn: 'lwkt_gettoken', stage: 'yield', ref: 0 },
  ])('does not count $fn stage $stage as spinning', (frame) => {
    const state = spinningOnCpu0(frame);
    expect(isSpinning(state, 0)).toBe(false);
    expect(validateStep(state, { cpu: 0, call: 'crit_enter' })).toBeNull();
  });

  it('looks only at the innermost frame', () => {
    const state = twoCpuState();
    runOn(state, 2);
    thread(state, 2).frames = [{ fn: 'lwkt_gettoken', stage: 'crit-exit', ref: 0 }, { fn: 'lwkt_acquire', td: 3, gd: 1 }];
    expect(isSpinning(state, 0)).toBe(false);
  });

  it('rejects spin on a cpu that is not spinning', () => {
    expect(validateStep(twoCpuState(), { cpu: 1, call: 'spin' })).toBe(
      "step 'spin' on cpu 1, but its current thread is not in a spin loop; run a thread call or another environment step instead",
    );
  });

  it('ignores spin frames of threads not running', () => {
    const state = twoCpuState();
    thread(state, 3).frames = [{ fn: 'lwkt_acquire', td: 2, gd: 0 }];
    expect(isSpinning(state, 1)).toBe(false);
  });
});
