// Witnesses for every check of spec/catalogue.ts, run against the model of
// DragonFly BSD sys/kern/lwkt_thread.c rev 1.71. The model panics at the check
// after the table's step sequence and passes it after the near miss. A kernel
// built without the options of the check's activeWhen never evaluates it.
// The table is in witness-table.ts. The last part pins the quirks the model
// keeps on purpose.
import { describe, expect, it } from 'vitest';
import { ASSERTIONS, findAssertion, SEED_ASSERTIONS, type AssertionSite } from '../../spec/catalogue.js';
import { RQF_AST_LWKT_RESCHED, TDF_STOPREQ, TDPRI_CRIT, TDPRI_INT_MED, TDPRI_KERN_DAEMON } from '../../spec/constants.js';
import type { Config, Step, StepResult } from '../../spec/schema.js';
import { LwktModel, validateStep } from '../index.js';
import type { Machine } from '../machine.js';
import { SMP2, UP } from './helpers.js';
import { ctxFor, intrThread, WITNESS_TABLE, type Construction, type WitnessRow } from './witness-table.js';

/**
 * Returns the model's internal machine. Only the constructed witnesses use it:
 * no step sequence reaches their state, so the test writes one field directly.
 */
function machineOf(model: LwktModel): Machine {
  return model['machine'];
}

interface Run {
  readonly model: LwktModel;
  readonly results: StepResult[];
}

/**
 * Runs `steps` from boot, checking that each one is valid first, and stops
 * after a panic or a model limit (the machine accepts no later step).
 * `construction` overwrites its field just before the last step.
 */
function runFromBoot(config: Config, steps: readonly Step[], construction?: Construction): Run {
  const model = new LwktModel(config);
  const results: StepResult[] = [];

  for (const [index, step] of steps.entries()) {
    if (construction !== undefined && index === steps.length - 1) {
      construction.corrupt(machineOf(model), ctxFor(config));
    }

    const invalid = validateStep(model.snapshot(), step);
    expect(invalid, `step ${index} ${JSON.stringify(step)}`).toBeNull();

    const result = model.step(step);
    results.push(result);
    if (result.status === 'panic' || result.status === 'limit') break;
  }
  return { model, results };
}

function describeStep(steps: readonly Step[], results: readonly StepResult[], index: number): string {
  return `step ${index} ${JSON.stringify(steps[index])} gave ${JSON.stringify(results[index])}`;
}

/** Expects every step to end without a panic or a limit. */
function expectNoStop(steps: readonly Step[], results: readonly StepResult[]): void {
  for (const [index, result] of results.entries()) {
    expect(result.status, describeStep(steps, results, index)).not.toBe('panic');
    expect(result.status, describeStep(steps, results, index)).not.toBe('limit');
  }
}

function siteOf(id: string): AssertionSite {
  const site = findAssertion(id);
  if (site === undefined) throw new Error(`witness table names ${id}, which is not in spec/catalogue.ts`);
  return site;
}

/** True when every step of the sequence runs on cpu 0, so it also fits a one-cpu machine. */
function usesOnlyCpu0(row: WitnessRow, config: Config): boolean {
  return row.witness(ctxFor(config)).every((step) => step.cpu === 0);
}

/** Runs the witness under `config` and expects the check never to be evaluated. */
function expectNotCompiledIn(row: WitnessRow, config: Config): void {
  const steps = row.witness(ctxFor(config));
  const { model, results } = runFromBoot(config, steps, row.construction);

  for (const [index, result] of results.entries()) {
    expect(result.panic?.id, describeStep(steps, results, index)).not.toBe(row.id);
  }
  expect(model.coverage().assertions[row.id]).toEqual({ evaluated: 0, failed: 0 });
}

describe('witness table', () => {
  it('has one row for every catalogue id', () => {
    const ids = WITNESS_TABLE.map((row) => row.id);

    expect(new Set(ids).size).toBe(ids.length);
    expect([...ids].sort()).toEqual(ASSERTIONS.map((a) => a.id).sort());
  });

  it('lists the seed checks first, in catalogue order', () => {
    const seedRows = WITNESS_TABLE.slice(0, SEED_ASSERTIONS.length).map((row) => row.id);

    expect(seedRows).toEqual(SEED_ASSERTIONS.map((a) => a.id));
  });

  it('constructs only the states steps cannot reach', () => {
    const constructed = WITNESS_TABLE.filter((row) => row.construction !== undefined).map((row) => row.id);

    expect(constructed).toEqual(['preempt.mpcount-changed', 'get_mplock.not-held-after-switch', 'reqtoken.bad-magic']);
    for (const row of WITNESS_TABLE) {
      if (row.construction !== undefined) expect(row.construction.reason.length).toBeGreaterThan(0);
    }
  });
});

describe.each(WITNESS_TABLE.map((row) => ({ ...row, site: siteOf(row.id).site })))('$id ($site)', (row) => {
  const assertion = siteOf(row.id);

  it('panics at the site on the last witness step', () => {
    const steps = row.witness(ctxFor(row.config));
    const { model, results } = runFromBoot(row.config, steps, row.construction);

    expect(results).toHaveLength(steps.length);
    expectNoStop(steps, results.slice(0, -1));

    const last = results[results.length - 1];
    expect(last?.status, describeStep(steps, results, results.length - 1)).toBe('panic');
    expect(last?.panic).toEqual({ id: assertion.id, site: assertion.site });
    expect(model.snapshot().panicked).toEqual({ id: assertion.id, site: assertion.site });
  });

  it('passes the check after the near miss', () => {
    const config = row.nearMissConfig ?? row.config;
    const steps = row.nearMiss(ctxFor(config));
    const { results } = runFromBoot(config, steps);

    expect(results).toHaveLength(steps.length);
    expectNoStop(steps, results);
    expect(results[results.length - 1]?.status, describeStep(steps, results, results.length - 1)).toBe(row.nearMissStatus);
  });

  if (assertion.activeWhen.invariants) {
    it('is not compiled in without INVARIANTS', () => {
      expectNotCompiledIn(row, { ...row.config, invariants: false });
    });
  } else if (row.config.invariants) {
    it('panics without INVARIANTS too', () => {
      const config = { ...row.config, invariants: false };
      const steps = row.witness(ctxFor(config));
      const { results } = runFromBoot(config, steps, row.construction);

      expect(results[results.length - 1]?.panic).toEqual({ id: assertion.id, site: assertion.site });
    });
  }

  // A witness that needs cpu 1 cannot run on a one-cpu kernel.
  if (assertion.activeWhen.smp && usesOnlyCpu0(row, { ...row.config, ncpus: 1 })) {
    it('is not compiled in without SMP', () => {
      expectNotCompiledIn(row, { ...row.config, ncpus: 1, smp: false });
    });
  }
});

describe('lwkt_send_ipiq to the current cpu', () => {
  it('recurses when the wait-queue token stays held on SMP', () => {
    // On SMP the token's owner is this cpu, so lwkt_schedule sends itself to
    // this cpu, which calls lwkt_schedule again at once. lwkt_trytoken fails
    // the same way each time, so the C code recurses until the stack overflows.
    const row = WITNESS_TABLE.find((r) => r.id === 'send_ipiq.up-kernel');
    if (row === undefined) throw new Error('no send_ipiq.up-kernel row');
    const steps = row.witness(ctxFor(SMP2));
    const { results } = runFromBoot(SMP2, steps);

    expectNoStop(steps, results.slice(0, -1));
    const last = results[results.length - 1];
    expect(last?.status).toBe('limit');
    expect(last?.limit).toBe('ipi-self-recursion');
  });
});

describe('quirks kept from the source', () => {
  it('counts preempt_hit without preempting when the target has td_preempted', () => {
    // Interrupt thread X (28) preempts idle thread 0 and deschedules itself;
    // interrupt thread Y (29) preempts X; cpu 1 takes X with lwkt_acquire; Y
    // switches back, so X runs on cpu 0 with td_gd = 1 and td_preempted = 0.
    const c = ctxFor(SMP2);
    const x = c.created(0);
    const y = c.created(1);
    const steps: Step[] = [
      ...intrThread(c, 0),
      ...intrThread(c, 1, TDPRI_INT_MED + 1),
      { cpu: 0, call: 'intr', td: x },
      { cpu: 0, call: 'lwkt_deschedule_self' },
      { cpu: 0, call: 'intr', td: y },
      { cpu: 1, call: 'lwkt_acquire', td: x },
      { cpu: 0, call: 'lwkt_switch' },
      // X enters a critical section so that lwkt_thread.c:696 passes.
      { cpu: 0, call: 'crit_enter' },
    ];
    const { model, results } = runFromBoot(SMP2, steps);
    expectNoStop(steps, results);
    expect(model.snapshot().threads[x]).toMatchObject({ td_gd: 1, td_preempted: 0 });
    expect(model.snapshot().counters.preempt_hit).toBe(2);

    // Cpu 1 schedules X: lwkt_thread.c:732-735 counts a hit, requests a
    // reschedule and does not switch.
    const result = model.step({ cpu: 1, call: 'lwkt_schedule', td: x });

    expect(result.status).toBe('returned');
    const state = model.snapshot();
    expect(state.counters).toMatchObject({ preempt_hit: 3, preempt_miss: 0, preempt_weird: 0 });
    expect(model.running()).toEqual([x, 1]);
    expect(state.cpus[1]?.gd_reqflags).toBe(RQF_AST_LWKT_RESCHED);
  });

  it('lets lwkt_setpri raise a priority past TDPRI_MAX into td_pri critical sections', () => {
    const model = new LwktModel(SMP2);
    const td = ctxFor(SMP2).created(0);
    model.step({ cpu: 0, call: 'lwkt_create', target: -1, tdflags: TDF_STOPREQ, preemptable: false, comm: 'kthread' });

    // lwkt_thread.c:1030 checks only pri >= 0; lwkt_setpri_self would reject 40.
    const result = model.step({ cpu: 0, call: 'lwkt_setpri', td, pri: 40 });

    expect(result.status).toBe('returned');
    // The creation section (32) plus 40: two sections at priority 8.
    expect(model.snapshot().threads[td]?.td_pri).toBe(2 * TDPRI_CRIT + 8);
  });

  it('prints the caller process in the target columns before SCHED PANIC', () => {
    const row = WITNESS_TABLE.find((r) => r.id === 'schedule.proc-sleeping');
    if (row === undefined) throw new Error('no schedule.proc-sleeping row');
    const steps = row.witness(ctxFor(row.config));
    const { results } = runFromBoot(row.config, steps);

    // Caller: idle thread 0, pid 3, SSTOP (4). Target: thread 2, pid 7, SSLEEP
    // (3), but lwkt_thread.c:892-893 read curthread->td_proc again.
    expect(results[results.length - 1]?.printed).toEqual([{ site: 'lwkt_thread.c:887', values: [0, 3, 4, 2, 3, 4] }]);
  });

  it('lets lwkt_signal wake a preemptable thread without preempting', () => {
    const c = ctxFor(UP);
    const ithd = c.created(0);
    const steps: Step[] = [
      { cpu: 0, call: 'lwkt_wait_init' },
      ...intrThread(c, 0),
      // The interrupt thread preempts the idle thread, then blocks on queue 0.
      { cpu: 0, call: 'lwkt_schedule', td: ithd },
      { cpu: 0, call: 'lwkt_block', w: 0, wmesg: 'wmesg', gen: 0 },
      // The return from the preemption asked for a reschedule (lwkt_thread.c:524);
      // the idle thread's next lwkt_switch clears the request.
      { cpu: 0, call: 'lwkt_switch' },
    ];
    const { model, results } = runFromBoot(UP, steps);
    expectNoStop(steps, results);
    expect(model.running()).toEqual([0]);
    expect(model.snapshot().counters.preempt_hit).toBe(1);
    expect(model.snapshot().cpus[0]?.gd_reqflags).toBe(0);

    // lwkt_thread.c:1211-1212 enqueue it without _lwkt_schedule_post.
    const result = model.step({ cpu: 0, call: 'lwkt_signal', w: 0, count: 1 });

    expect(result.status).toBe('returned');
    const state = model.snapshot();
    expect(model.running()).toEqual([0]);
    expect(state.counters.preempt_hit).toBe(1);
    expect(state.cpus[0]?.gd_tdrunq[TDPRI_INT_MED]).toEqual([ithd]);
    expect(state.cpus[0]?.gd_reqflags).toBe(0);
    expect(state.threads[0]?.td_pri).toBe(TDPRI_KERN_DAEMON);
  });
});
