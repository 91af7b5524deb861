import { describe, expect, it } from 'vitest';
import { TDF_RUNQ, TDPRI_KERN_DAEMON } from '../../spec/constants.js';
import { LwktModel } from '../index.js';
import { cpu, create, expectStep, SMP2, thread, UP } from './helpers.js';

/** Boots, creates a wait queue and runs a new thread on cpu 0. */
function setup(config = UP): { model: LwktModel; td: number } {
  const model = new LwktModel(config);
  expectStep(model, { cpu: 0, call: 'lwkt_wait_init' }, 'returned');
  const td = create(model, 0);
  expectStep(model, { cpu: 0, call: 'lwkt_switch' }, 'suspended');
  return { model, td };
}

describe('lwkt_block generation check', () => {
  it('returns at once with the current generation when gen is stale', () => {
    const { model, td } = setup();
    const result = expectStep(model, { cpu: 0, call: 'lwkt_block', w: 0, wmesg: 'wait', gen: 5 }, 'returned');
    expect(result.ret).toBe(0);
    expect(model.running()).toEqual([td]);
    expect(model.snapshot().waits[0]?.wa_waitq).toEqual([]);
    expect(thread(model, td).td_toks).toEqual([]);
  });

  it('blocks on a matching gen and wakes on lwkt_signal', () => {
    const { model, td } = setup();
    expectStep(model, { cpu: 0, call: 'lwkt_block', w: 0, wmesg: 'wait', gen: 0 }, 'suspended');

    expect(model.running()).toEqual([0]);
    const blocked = thread(model, td);
    expect(blocked.td_wait).toBe(0);
    expect(blocked.td_wmesg).toBe('wait');
    expect(blocked.td_flags & TDF_RUNQ).toBe(0);
    expect(blocked.frames).toEqual([
      { fn: 'lwkt_switch', stage: 'switch' },
      { fn: 'lwkt_block', stage: 'loop', w: 0, wmesg: 'wait', gen: 0, ilock: 0 },
    ]);
    expect(model.snapshot().waits[0]).toEqual({ id: 0, wa_waitq: [td], wa_gen: 0, wa_count: 1 });

    // lwkt_signal enqueues the local waiter without a reschedule request.
    expectStep(model, { cpu: 0, call: 'lwkt_signal', w: 0, count: 1 }, 'returned');
    expect(model.snapshot().waits[0]).toEqual({ id: 0, wa_waitq: [], wa_gen: 1, wa_count: 0 });
    expect(thread(model, td).td_wmesg).toBeNull();
    expect(cpu(model, 0).gd_tdrunq[TDPRI_KERN_DAEMON]).toEqual([td]);

    const result = expectStep(model, { cpu: 0, call: 'lwkt_switch' }, 'suspended');
    expect(result.completed).toEqual([{ td, call: 'lwkt_block', ret: 1 }]);
    expect(model.running()).toEqual([td]);
    expect(thread(model, td).td_pri).toBe(TDPRI_KERN_DAEMON);
    expect(thread(model, td).td_toks).toEqual([]);
  });

  it('keeps blocking after lwkt_schedule because td_wmesg stays set', () => {
    const { model, td } = setup();
    expectStep(model, { cpu: 0, call: 'lwkt_block', w: 0, wmesg: 'wait', gen: 0 }, 'suspended');

    expectStep(model, { cpu: 0, call: 'lwkt_schedule', td }, 'returned');
    expect(thread(model, td).td_wait).toBeNull();
    expect(thread(model, td).td_wmesg).toBe('wait');

    // The thread runs, finds td_wmesg set, dequeues itself and switches back
    // to the idle thread, whose lwkt_switch then returns within the same step.
    const switchesBefore = model.snapshot().counters.switch_count;
    expectStep(model, { cpu: 0, call: 'lwkt_switch' }, 'returned');
    expect(model.snapshot().counters.switch_count).toBe(switchesBefore + 2);
    expect(model.running()).toEqual([0]);
    expect(thread(model, td).frames[1]).toEqual({ fn: 'lwkt_block', stage: 'loop', w: 0, wmesg: 'wait', gen: 0, ilock: 0 });
    expect(model.snapshot().waits[0]?.wa_waitq).toEqual([]);
  });

  it('sends the wakeup of a waiter of another cpu by IPI', () => {
    const model = new LwktModel(SMP2);
    expectStep(model, { cpu: 1, call: 'lwkt_wait_init' }, 'returned');
    const td = create(model, 1);
    expectStep(model, { cpu: 1, call: 'lwkt_switch' }, 'suspended');
    expectStep(model, { cpu: 1, call: 'lwkt_block', w: 0, wmesg: 'wait', gen: 0 }, 'suspended');

    // cpu 0 does not own the token: it spins until cpu 1 hands it over.
    expectStep(model, { cpu: 0, call: 'lwkt_signal', w: 0, count: -1 }, 'spinning');
    expectStep(model, { cpu: 1, call: 'ipi' }, 'returned');
    expectStep(model, { cpu: 0, call: 'spin' }, 'returned');
    expect(cpu(model, 0).gd_ipiq[1]).toEqual([{ func: 'lwkt_schedule', arg: td }]);

    expectStep(model, { cpu: 1, call: 'ipi' }, 'returned');
    expect(thread(model, td).td_flags & TDF_RUNQ).toBe(TDF_RUNQ);
  });
});
