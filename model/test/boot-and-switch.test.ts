import { describe, expect, it } from 'vitest';
import {
  LWKT_THREAD_STACK,
  MP_FREE_LOCK,
  TDF_IDLE_NOHLT,
  TDF_RUNNING,
  TDF_RUNQ,
  TDF_STOPREQ,
  TDPRI_KERN_DAEMON,
} from '../../spec/constants.js';
import type { Config } from '../../spec/schema.js';
import { LwktModel } from '../index.js';
import { cpu, create, expectStep, SMP2, thread, UP } from './helpers.js';

describe('boot state', () => {
  const configs: Config[] = [
    UP,
    { ...UP, invariants: false },
    ...[1, 2, 3, 4].map((ncpus) => ({ ...SMP2, ncpus })),
  ];

  for (const config of configs) {
    it(`boots ncpus=${config.ncpus} smp=${config.smp} invariants=${config.invariants}`, () => {
      const model = new LwktModel(config);
      const state = model.snapshot();

      expect(model.running()).toEqual([...Array(config.ncpus).keys()]);
      expect(state.mp_lock).toBe(MP_FREE_LOCK);
      expect(state.counters).toEqual({ switch_count: 0, preempt_hit: 0, preempt_miss: 0, preempt_weird: 0 });
      expect(state.threads).toHaveLength(config.ncpus);
      expect(state.waits).toEqual([]);
      expect(state.tokrefs).toEqual([]);

      for (const gd of state.cpus) {
        const idle = thread(model, gd.cpuid);
        expect(gd.gd_idlethread).toBe(gd.cpuid);
        expect(gd.gd_curthread).toBe(gd.cpuid);
        expect(gd.gd_runqmask).toBe(0);
        expect(gd.gd_tdrunq.every((q) => q.length === 0)).toBe(true);
        expect(gd.gd_tdallq).toEqual([gd.cpuid]);
        expect(gd.gd_ipiq).toHaveLength(config.ncpus);
        expect(idle.td_pri).toBe(TDPRI_KERN_DAEMON);
        expect(idle.td_flags).toBe(TDF_RUNNING);
        expect(idle.td_gd).toBe(gd.cpuid);
        expect(idle.td_kstack).toBe(true);
        expect(idle.td_kstack_size).toBe(LWKT_THREAD_STACK);
        expect(idle.frames).toEqual([]);
      }

      const coverage = model.coverage();
      expect(coverage.functions['lwkt_gdinit']).toBe(config.ncpus);
      expect(coverage.functions['lwkt_init_thread']).toBe(config.ncpus);
      expect(coverage.functions['lwkt_switch']).toBe(0);
    });
  }

  it('gives new threads ids after the idle threads', () => {
    const model = new LwktModel({ ...SMP2, ncpus: 3 });
    expect(create(model, 0)).toBe(3);
    expect(create(model, 1)).toBe(4);
  });
});

describe('lwkt_switch queue order', () => {
  it('round-robins within one priority', () => {
    const model = new LwktModel(UP);
    const a = create(model, 0);
    const b = create(model, 0);

    const order: number[] = [];
    for (let i = 0; i < 5; i += 1) {
      expectStep(model, { cpu: 0, call: 'lwkt_switch' }, 'suspended');
      order.push(model.running()[0] ?? -1);
    }
    expect(order).toEqual([a, b, a, b, a]);
    expect(model.snapshot().counters.switch_count).toBe(5);
  });

  it('runs the highest priority first and keeps running it', () => {
    const model = new LwktModel(UP);
    const low = create(model, 0);
    const high = create(model, 0, { tdflags: TDF_STOPREQ });
    expectStep(model, { cpu: 0, call: 'lwkt_setpri', td: high, pri: 20 }, 'returned');
    expectStep(model, { cpu: 0, call: 'lwkt_schedule', td: high }, 'returned');

    expectStep(model, { cpu: 0, call: 'lwkt_switch' }, 'suspended');
    expect(model.running()).toEqual([high]);

    // The running thread stays on its queue, so it is chosen again without a switch.
    expectStep(model, { cpu: 0, call: 'lwkt_switch' }, 'returned');
    expect(model.running()).toEqual([high]);
    expect(model.snapshot().counters.switch_count).toBe(1);

    // Once it leaves the run queue the lower priority runs.
    expectStep(model, { cpu: 0, call: 'lwkt_deschedule_self' }, 'returned');
    expectStep(model, { cpu: 0, call: 'lwkt_switch' }, 'suspended');
    expect(model.running()).toEqual([low]);
  });

  it('cleans a stale gd_runqmask bit in the switcher', () => {
    const model = new LwktModel(UP);
    const td = create(model, 0);
    expectStep(model, { cpu: 0, call: 'lwkt_deschedule', td }, 'returned');

    // Dequeueing leaves the bit of the now empty queue.
    expect(cpu(model, 0).gd_runqmask).toBe(1 << TDPRI_KERN_DAEMON);
    expect(thread(model, td).td_flags & TDF_RUNQ).toBe(0);

    expectStep(model, { cpu: 0, call: 'lwkt_switch' }, 'returned');
    expect(cpu(model, 0).gd_runqmask).toBe(0);
    expect(model.running()).toEqual([0]);
    expect(model.snapshot().counters.switch_count).toBe(0);
  });

  it('marks the idle thread TDF_IDLE_NOHLT when work is pending', () => {
    const model = new LwktModel(UP);
    expectStep(model, { cpu: 0, call: 'crit_enter' }, 'returned');
    expectStep(model, { cpu: 0, call: 'intr', td: 0 }, 'returned');
    expectStep(model, { cpu: 0, call: 'lwkt_switch' }, 'returned');
    expect(thread(model, 0).td_flags & TDF_IDLE_NOHLT).toBe(TDF_IDLE_NOHLT);
  });
});

describe('lwkt_checkpri_self', () => {
  function runAt(pri: number): { model: LwktModel; td: number } {
    const model = new LwktModel(UP);
    const td = create(model, 0);
    expectStep(model, { cpu: 0, call: 'lwkt_switch' }, 'suspended');
    expectStep(model, { cpu: 0, call: 'lwkt_setpri_self', pri }, 'returned');
    return { model, td };
  }

  it('returns 0 at priority 31 even with another thread at 31', () => {
    const { model } = runAt(31);
    const other = create(model, 0, { tdflags: TDF_STOPREQ });
    expectStep(model, { cpu: 0, call: 'lwkt_setpri', td: other, pri: 31 }, 'returned');
    expectStep(model, { cpu: 0, call: 'lwkt_schedule', td: other }, 'returned');
    expect(cpu(model, 0).gd_runqmask >>> 31).toBe(1);

    expect(expectStep(model, { cpu: 0, call: 'lwkt_checkpri_self' }, 'returned').ret).toBe(0);
  });

  it('returns 1 at priority 30 with a thread at 31', () => {
    const { model } = runAt(30);
    const other = create(model, 0, { tdflags: TDF_STOPREQ });
    expectStep(model, { cpu: 0, call: 'lwkt_setpri', td: other, pri: 31 }, 'returned');
    expectStep(model, { cpu: 0, call: 'lwkt_schedule', td: other }, 'returned');

    expect(expectStep(model, { cpu: 0, call: 'lwkt_checkpri_self' }, 'returned').ret).toBe(1);
  });

  it('returns 0 below a stale mask bit and 1 below a queued thread', () => {
    const { model } = runAt(12);
    const other = create(model, 0, { tdflags: TDF_STOPREQ });
    expectStep(model, { cpu: 0, call: 'lwkt_setpri', td: other, pri: 20 }, 'returned');
    expectStep(model, { cpu: 0, call: 'lwkt_schedule', td: other }, 'returned');
    expect(expectStep(model, { cpu: 0, call: 'lwkt_checkpri_self' }, 'returned').ret).toBe(1);

    expectStep(model, { cpu: 0, call: 'lwkt_deschedule', td: other }, 'returned');
    expect(cpu(model, 0).gd_runqmask & (1 << 20)).toBe(1 << 20);
    expect(expectStep(model, { cpu: 0, call: 'lwkt_checkpri_self' }, 'returned').ret).toBe(0);
  });
});
