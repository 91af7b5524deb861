import { describe, expect, it } from 'vitest';
import {
  RQF_AST_LWKT_RESCHED,
  TDF_INTTHREAD,
  TDF_PREEMPT_DONE,
  TDF_PREEMPT_LOCK,
  TDF_RUNNING,
  TDF_STOPREQ,
  TDPRI_INT_MED,
  TDPRI_KERN_DAEMON,
} from '../../spec/constants.js';
import { LwktModel } from '../index.js';
import { create, expectStep, SMP2, thread, UP } from './helpers.js';

/** Boots, creates an interrupt thread at TDPRI_INT_MED and a kernel thread, and runs the kernel thread on cpu 0. */
function setup(config = SMP2): { model: LwktModel; ithd: number; td: number } {
  const model = new LwktModel(config);
  const ithd = create(model, 0, { tdflags: TDF_STOPREQ | TDF_INTTHREAD, preemptable: true });
  expectStep(model, { cpu: 0, call: 'lwkt_setpri', td: ithd, pri: TDPRI_INT_MED }, 'returned');
  const td = create(model, 0);
  expectStep(model, { cpu: 0, call: 'lwkt_switch' }, 'suspended');
  expect(model.running()[0]).toBe(td);
  return { model, ithd, td };
}

describe('interrupt thread preemption', () => {
  it('preempts at once and records the frames of the interrupted call', () => {
    const { model, ithd, td } = setup();

    expectStep(model, { cpu: 0, call: 'intr', td: ithd }, 'suspended');

    expect(model.running()[0]).toBe(ithd);
    const state = model.snapshot();
    expect(state.counters.preempt_hit).toBe(1);
    expect(state.counters.preempt_miss).toBe(0);

    const preempted = thread(model, td);
    expect(preempted.td_flags & TDF_PREEMPT_LOCK).toBe(TDF_PREEMPT_LOCK);
    expect(preempted.td_flags & TDF_RUNNING).toBe(0);
    expect(preempted.frames).toEqual([
      { fn: 'lwkt_preempt', ntd: ithd, savecnt: 1 },
      { fn: 'lwkt_schedule', mygd: 0, wref: null },
      { fn: 'intr', td: ithd },
    ]);

    // The interrupt thread ran its first-run restore and dropped its creation section.
    const preemptor = thread(model, ithd);
    expect(preemptor.td_preempted).toBe(td);
    expect(preemptor.td_pri).toBe(TDPRI_INT_MED);
    expect(preemptor.frames).toEqual([]);
  });

  it('resumes the preempted thread when the interrupt thread blocks', () => {
    const { model, ithd, td } = setup();
    expectStep(model, { cpu: 0, call: 'intr', td: ithd }, 'suspended');

    expectStep(model, { cpu: 0, call: 'lwkt_deschedule_self' }, 'returned');
    const result = expectStep(model, { cpu: 0, call: 'lwkt_switch' }, 'suspended');

    expect(result.completed).toEqual([{ td, call: 'intr', ret: null }]);
    expect(model.running()[0]).toBe(td);

    const resumed = thread(model, td);
    expect(resumed.td_flags & (TDF_PREEMPT_LOCK | TDF_PREEMPT_DONE)).toBe(0);
    expect(resumed.td_pri).toBe(TDPRI_KERN_DAEMON);
    expect(resumed.frames).toEqual([]);
    expect(thread(model, ithd).td_preempted).toBeNull();
    expect(thread(model, ithd).frames).toEqual([{ fn: 'lwkt_switch', stage: 'switch' }]);
  });

  it('lends the MP count to the preemptor and takes it back', () => {
    const { model, ithd, td } = setup();
    expect(thread(model, td).td_mpcount).toBe(1);
    expect(thread(model, ithd).td_mpcount).toBe(1);
    expect(model.snapshot().mp_lock).toBe(0);

    expectStep(model, { cpu: 0, call: 'intr', td: ithd }, 'suspended');
    expect(thread(model, ithd).td_mpcount).toBe(2);
    expect(thread(model, td).td_mpcount).toBe(1);

    // The preemptor drops its own count; the lock stays for the preempted thread.
    expectStep(model, { cpu: 0, call: 'rel_mplock' }, 'returned');
    expect(thread(model, ithd).td_mpcount).toBe(1);
    expect(model.snapshot().mp_lock).toBe(0);

    expectStep(model, { cpu: 0, call: 'lwkt_deschedule_self' }, 'returned');
    expectStep(model, { cpu: 0, call: 'lwkt_switch' }, 'suspended');
    expect(thread(model, ithd).td_mpcount).toBe(0);
    expect(thread(model, td).td_mpcount).toBe(1);
    expect(model.snapshot().mp_lock).toBe(0);
  });

  it('is refused inside a critical section and runs from crit_exit', () => {
    const { model, ithd, td } = setup(UP);
    expectStep(model, { cpu: 0, call: 'crit_enter' }, 'returned');
    expectStep(model, { cpu: 0, call: 'intr', td: ithd }, 'returned');
    expect(model.running()[0]).toBe(td);
    expect(model.snapshot().cpus[0]?.gd_ipending).toEqual([ithd]);

    // crit_exit -> lwkt_yield_quick -> splz -> sched_ithd preempts.
    expectStep(model, { cpu: 0, call: 'crit_exit' }, 'suspended');
    expect(model.running()[0]).toBe(ithd);
    expect(thread(model, td).frames).toEqual([
      { fn: 'lwkt_preempt', ntd: ithd, savecnt: 0 },
      { fn: 'lwkt_schedule', mygd: 0, wref: null },
      { fn: 'splz' },
      { fn: 'lwkt_yield_quick', stage: 'splz' },
      { fn: 'crit_exit' },
    ]);

    expectStep(model, { cpu: 0, call: 'lwkt_deschedule_self' }, 'returned');
    const back = expectStep(model, { cpu: 0, call: 'lwkt_switch' }, 'suspended');
    expect(back.completed).toEqual([{ td, call: 'crit_exit', ret: null }]);
    expect(thread(model, td).td_pri).toBe(TDPRI_KERN_DAEMON);
    expect(thread(model, td).td_nest_count).toBe(0);
    // The stale mask bit of the interrupt thread's queue (28 > 12) requests a reschedule.
    expect(model.snapshot().cpus[0]?.gd_reqflags).toBe(RQF_AST_LWKT_RESCHED);
  });

  it('counts a miss for a lower priority target', () => {
    const model = new LwktModel(UP);
    const low = create(model, 0, { tdflags: TDF_STOPREQ, preemptable: true });
    expectStep(model, { cpu: 0, call: 'lwkt_setpri', td: low, pri: 5 }, 'returned');
    expectStep(model, { cpu: 0, call: 'intr', td: low }, 'returned');
    expect(model.snapshot().counters.preempt_miss).toBe(1);
    expect(model.running()).toEqual([0]);
  });
});
