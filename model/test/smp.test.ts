import { describe, expect, it } from 'vitest';
import { TDF_MIGRATING, TDF_RUNQ, TDF_STOPREQ, TDPRI_KERN_DAEMON } from '../../spec/constants.js';
import { LwktModel } from '../index.js';
import { cpu, create, expectStep, SMP2, thread } from './helpers.js';

describe('scheduling a thread of another cpu', () => {
  it('sends lwkt_schedule by IPI and enqueues on the ipi step', () => {
    const model = new LwktModel(SMP2);
    const td = create(model, 0, { target: 1, tdflags: TDF_STOPREQ });

    // lwkt_init_thread linked it to cpu 1 by IPI too.
    expect(cpu(model, 0).gd_ipiq[1]).toEqual([{ func: 'lwkt_init_thread_remote', arg: td }]);
    expectStep(model, { cpu: 0, call: 'lwkt_schedule', td }, 'returned');
    expect(cpu(model, 0).gd_ipiq[1]).toEqual([
      { func: 'lwkt_init_thread_remote', arg: td },
      { func: 'lwkt_schedule', arg: td },
    ]);
    expect(thread(model, td).td_flags & TDF_RUNQ).toBe(0);

    expectStep(model, { cpu: 1, call: 'ipi' }, 'returned');
    expect(cpu(model, 0).gd_ipiq[1]).toEqual([]);
    expect(cpu(model, 1).gd_tdallq).toEqual([1, td]);
    expect(cpu(model, 1).gd_tdrunq[TDPRI_KERN_DAEMON]).toEqual([td]);
    expect(thread(model, td).td_flags & TDF_RUNQ).toBe(TDF_RUNQ);

    expectStep(model, { cpu: 1, call: 'lwkt_switch' }, 'suspended');
    expect(model.running()).toEqual([0, td]);
    expect(model.snapshot().mp_lock).toBe(1);
  });

  it('defers the IPI while the target cpu is in a critical section', () => {
    const model = new LwktModel(SMP2);
    const td = create(model, 0, { target: 1 });
    expectStep(model, { cpu: 1, call: 'crit_enter' }, 'returned');
    expectStep(model, { cpu: 1, call: 'ipi' }, 'returned');
    expect(cpu(model, 1).gd_tdrunq[TDPRI_KERN_DAEMON]).toEqual([]);

    // crit_exit runs splz, which processes the FIFO.
    expectStep(model, { cpu: 1, call: 'crit_exit' }, 'returned');
    expect(cpu(model, 1).gd_tdrunq[TDPRI_KERN_DAEMON]).toEqual([td]);
    expect(cpu(model, 1).gd_reqflags).toBe(0);
  });
});

describe('lwkt_setcpu_self', () => {
  function migrating(): { model: LwktModel; td: number } {
    const model = new LwktModel(SMP2);
    const td = create(model, 0);
    expectStep(model, { cpu: 0, call: 'lwkt_switch' }, 'suspended');

    // cpu 1 wakes td up: the request travels to td's cpu 0.
    expectStep(model, { cpu: 1, call: 'lwkt_schedule', td }, 'returned');
    expect(cpu(model, 1).gd_ipiq[0]).toEqual([{ func: 'lwkt_schedule', arg: td }]);

    expectStep(model, { cpu: 0, call: 'lwkt_setcpu_self', target: 1 }, 'suspended');
    expect(model.running()).toEqual([0, 1]);
    expect(thread(model, td).td_flags & TDF_MIGRATING).toBe(TDF_MIGRATING);
    expect(thread(model, td).frames).toEqual([{ fn: 'lwkt_switch', stage: 'switch' }, { fn: 'lwkt_setcpu_self' }]);
    expect(cpu(model, 1).gd_tdallq).toEqual([1, td]);
    return { model, td };
  }

  it('drops a wakeup that arrives while the thread migrates', () => {
    const { model, td } = migrating();

    // TDF_MIGRATING keeps _lwkt_enqueue from putting td on cpu 0.
    expectStep(model, { cpu: 0, call: 'ipi' }, 'returned');
    expect(thread(model, td).td_flags & TDF_RUNQ).toBe(0);
    expect(cpu(model, 0).gd_tdrunq[TDPRI_KERN_DAEMON]).toEqual([]);

    expectStep(model, { cpu: 1, call: 'ipi' }, 'returned');
    expect(thread(model, td).td_gd).toBe(1);
    expect(thread(model, td).td_flags & TDF_MIGRATING).toBe(0);

    const result = expectStep(model, { cpu: 1, call: 'lwkt_switch' }, 'suspended');
    expect(result.completed).toEqual([{ td, call: 'lwkt_setcpu_self', ret: null }]);
    expect(model.running()).toEqual([0, td]);
    expect(thread(model, td).td_pri).toBe(TDPRI_KERN_DAEMON);
  });

  it('forwards a wakeup that arrives after the thread moved', () => {
    const { model, td } = migrating();
    expectStep(model, { cpu: 1, call: 'ipi' }, 'returned');

    // td_gd is now 1, so cpu 0 sends the request on to cpu 1.
    expectStep(model, { cpu: 0, call: 'ipi' }, 'returned');
    expect(cpu(model, 0).gd_ipiq[1]).toEqual([{ func: 'lwkt_schedule', arg: td }]);
    expectStep(model, { cpu: 1, call: 'ipi' }, 'returned');
    expect(cpu(model, 1).gd_tdrunq[TDPRI_KERN_DAEMON]).toEqual([td]);
  });
});

describe('token requests across cpus', () => {
  it('spins in lwkt_gettoken until the owner cpu takes an ipi', () => {
    const model = new LwktModel(SMP2);
    expect(expectStep(model, { cpu: 0, call: 'lwkt_wait_init' }, 'returned').ret).toBe(0);
    const td = create(model, 1);
    expectStep(model, { cpu: 1, call: 'lwkt_switch' }, 'suspended');
    expect(model.running()).toEqual([0, td]);

    expectStep(model, { cpu: 1, call: 'lwkt_gettoken', tok: 0 }, 'spinning');
    expect(thread(model, td).frames).toEqual([{ fn: 'lwkt_gettoken', stage: 'spin', ref: 0 }]);
    expect(model.snapshot().tokrefs).toEqual([{ id: 0, tr_tok: 0, tr_magic: 2, tr_reqgd: 1 }]);
    expect(cpu(model, 1).gd_ipiq[0]).toEqual([{ func: 'lwkt_reqtoken_remote', arg: 0 }]);

    // The request is in flight: spinning sends nothing new.
    expectStep(model, { cpu: 1, call: 'spin' }, 'spinning');
    expect(cpu(model, 1).gd_ipiq[0]).toHaveLength(1);

    expectStep(model, { cpu: 0, call: 'ipi' }, 'returned');
    expect(model.snapshot().tokens).toEqual([{ id: 0, t_cpu: 1, t_reqcpu: 1 }]);

    const done = expectStep(model, { cpu: 1, call: 'spin' }, 'returned');
    expect(done.ret).toBeNull();
    expect(thread(model, td).frames).toEqual([]);
    expect(thread(model, td).td_toks).toEqual([0]);
    expect(thread(model, td).td_pri).toBe(TDPRI_KERN_DAEMON);

    // Releasing hands the token to the last requester, cpu 1 itself.
    expectStep(model, { cpu: 1, call: 'lwkt_reltoken', tok: 0 }, 'returned');
    expect(model.snapshot().tokrefs).toEqual([]);
  });

  it('defers the request while a thread of the owner holds the token', () => {
    const model = new LwktModel(SMP2);
    expectStep(model, { cpu: 0, call: 'lwkt_wait_init' }, 'returned');
    expectStep(model, { cpu: 0, call: 'lwkt_gettoken', tok: 0 }, 'returned');
    const td = create(model, 1);
    expectStep(model, { cpu: 1, call: 'lwkt_switch' }, 'suspended');
    expectStep(model, { cpu: 1, call: 'lwkt_gettoken', tok: 0 }, 'spinning');

    expectStep(model, { cpu: 0, call: 'ipi' }, 'returned');
    expect(cpu(model, 0).gd_tokreqbase).toEqual([1]);
    expectStep(model, { cpu: 1, call: 'spin' }, 'spinning');

    // The holder releases: t_reqcpu is cpu 1, so the token moves; the
    // deferred request is answered at the next lwkt_switch of cpu 0.
    expectStep(model, { cpu: 0, call: 'lwkt_reltoken', tok: 0 }, 'returned');
    expect(model.snapshot().tokens[0]?.t_cpu).toBe(1);
    expectStep(model, { cpu: 0, call: 'lwkt_switch' }, 'returned');
    expect(cpu(model, 0).gd_tokreqbase).toEqual([]);

    expectStep(model, { cpu: 1, call: 'spin' }, 'returned');
    expect(thread(model, td).td_toks).toEqual([1]);
  });
});
