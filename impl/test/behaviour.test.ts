import { describe, expect, it } from 'vitest';
import {
  RQF_AST_LWKT_RESCHED,
  TDF_PREEMPT_LOCK,
  TDF_RUNNING,
  TDF_RUNQ,
  TDF_STOPREQ,
  type Config,
  type Step,
  type StepResult,
} from '../../spec/index.js';
import { createImpl, LwktImpl } from '../index.js';

const UP: Config = { ncpus: 1, smp: false, invariants: true, untimelySwitch: false, panicOnCscount: false };
const SMP2: Config = { ncpus: 2, smp: true, invariants: true, untimelySwitch: false, panicOnCscount: false };

/** Runs steps on a fresh implementation; returns it and a copy of each result. */
function run(config: Config, steps: Step[], impl = new LwktImpl(config)): { impl: LwktImpl; results: StepResult[] } {
  const results = steps.map((s) => structuredClone(impl.step(s)));
  return { impl, results };
}

const create = (cpu: number, comm: string, extra: Partial<Extract<Step, { call: 'lwkt_create' }>> = {}): Step => ({
  cpu, call: 'lwkt_create', target: -1, tdflags: 0, preemptable: false, comm, ...extra,
});

describe('boot state', () => {
  it('starts each cpu on its idle thread at priority 12', () => {
    const s = createImpl(SMP2).snapshot!();
    expect(s.schema).toBe('lwkt-state/1');
    expect(s.mp_lock).toBe(-1);
    expect(s.counters).toEqual({ switch_count: 0, preempt_hit: 0, preempt_miss: 0, preempt_weird: 0 });
    expect(s.threads).toHaveLength(2);
    for (const c of [0, 1]) {
      const gd = s.cpus[c]!;
      expect(gd.gd_curthread).toBe(c);
      expect(gd.gd_idlethread).toBe(c);
      expect(gd.gd_runqmask).toBe(0);
      expect(gd.gd_tdrunq).toHaveLength(32);
      expect(gd.gd_tdallq).toEqual([c]);
      expect(gd.gd_ipiq).toEqual([[], []]);
      const td = s.threads[c]!;
      expect(td).toMatchObject({ id: c, td_gd: c, td_pri: 12, td_flags: TDF_RUNNING, td_kstack: true, td_kstack_size: 12288, frames: [], call: null });
    }
    expect(s.waits).toEqual([]);
    expect(s.tokrefs).toEqual([]);
  });

  it('numbers new threads after the idle threads', () => {
    const { impl, results } = run(SMP2, [create(0, 'a'), create(1, 'b')]);
    expect(results.map((r) => r.status === 'returned' && r.ret)).toEqual([2, 3]);
    const td = impl.snapshot().threads[2]!;
    expect(td).toMatchObject({ td_pri: 44, td_mpcount: 1, td_comm: 'a', frames: [{ fn: 'cpu_kthread_restore' }], call: 'cpu_kthread_restore' });
  });
});

describe('growth of the per-thread arrays', () => {
  it('keeps every thread intact when more threads exist than the initial room', () => {
    const steps = Array.from({ length: 100 }, (_, k) => create(k % 2, `t${k + 2}`));
    const { impl, results } = run(SMP2, steps);
    expect(results.map((r) => r.status === 'returned' && r.ret)).toEqual(Array.from({ length: 100 }, (_, k) => k + 2));
    const s = impl.snapshot();
    expect(s.threads).toHaveLength(102);
    for (const td of s.threads.slice(2)) {
      expect(td).toMatchObject({ td_gd: td.id % 2, td_pri: 44, td_comm: `t${td.id}`, frames: [{ fn: 'cpu_kthread_restore' }] });
    }
    expect(s.cpus[0]!.gd_tdallq).toEqual(s.threads.filter((td) => td.td_gd === 0).map((td) => td.id));
  });
});

describe('priority and round robin', () => {
  // Threads 1 and 2 at priority 12, thread 3 raised to 20 before it is scheduled.
  const setup: Step[] = [
    create(0, 'a'),
    create(0, 'b'),
    create(0, 'c', { tdflags: TDF_STOPREQ }),
    { cpu: 0, call: 'lwkt_setpri', td: 3, pri: 20 },
    { cpu: 0, call: 'lwkt_schedule', td: 3 },
  ];

  it('requests a reschedule for a higher-priority thread and runs it first', () => {
    const { impl, results } = run(UP, [...setup, { cpu: 0, call: 'lwkt_switch' }]);
    expect(results[4]).toMatchObject({ status: 'returned', ret: null });
    expect(impl.running()).toEqual([3]);
    // The new thread ran cpu_kthread_restore, which drops its initial critical section.
    expect(results[5]).toEqual({ status: 'suspended', completed: [{ td: 3, call: 'cpu_kthread_restore', ret: null }], printed: [] });
    const s = impl.snapshot();
    expect(s.threads[3]!.td_pri).toBe(20);
    expect(s.cpus[0]!.gd_reqflags & RQF_AST_LWKT_RESCHED).toBe(0);
    expect(s.threads[0]!.frames).toEqual([{ fn: 'lwkt_switch', stage: 'switch' }]);
  });

  it('round-robins equal priorities by rotating the chosen thread to the tail', () => {
    const { impl } = run(UP, [...setup, { cpu: 0, call: 'lwkt_switch' }, { cpu: 0, call: 'lwkt_deschedule_self' }]);
    const order: number[] = [];
    for (let i = 0; i < 4; i++) {
      impl.step({ cpu: 0, call: 'lwkt_switch' });
      order.push(impl.running()[0]!);
    }
    expect(order).toEqual([1, 2, 1, 2]);
    expect(impl.snapshot().cpus[0]!.gd_tdrunq[12]).toEqual([1, 2]);
  });

  it('clears a stale runqmask bit when the queue is empty', () => {
    const { impl } = run(UP, [...setup, { cpu: 0, call: 'lwkt_deschedule', td: 3 }]);
    expect(impl.snapshot().cpus[0]!.gd_runqmask).toBe((1 << 12) | (1 << 20));
    impl.step({ cpu: 0, call: 'lwkt_switch' });
    expect(impl.running()).toEqual([1]);
    expect(impl.snapshot().cpus[0]!.gd_runqmask).toBe(1 << 12);
  });

  it('lwkt_checkpri_self reports a higher-priority runnable thread', () => {
    const { results } = run(UP, [...setup, { cpu: 0, call: 'lwkt_checkpri_self' }]);
    expect(results[5]).toMatchObject({ status: 'returned', ret: 1 });
    const low = run(UP, [create(0, 'a'), { cpu: 0, call: 'lwkt_checkpri_self' }]);
    expect(low.results[1]).toMatchObject({ status: 'returned', ret: 0 });
  });
});

describe('preemption', () => {
  // Thread 1 is an interrupt thread at priority 28, created stopped.
  const setup: Step[] = [
    create(0, 'irq', { tdflags: TDF_STOPREQ, preemptable: true }),
    { cpu: 0, call: 'lwkt_setpri', td: 1, pri: 28 },
  ];

  it('switches to the interrupt thread inside the interrupt and back when it blocks', () => {
    const { impl, results } = run(UP, [...setup, { cpu: 0, call: 'intr', td: 1 }]);
    expect(results[2]).toEqual({ status: 'suspended', completed: [{ td: 1, call: 'cpu_kthread_restore', ret: null }], printed: [] });
    let s = impl.snapshot();
    expect(s.counters.preempt_hit).toBe(1);
    expect(s.counters.switch_count).toBe(0);
    expect(s.threads[1]!.td_preempted).toBe(0);
    expect(s.threads[0]!.td_flags & TDF_PREEMPT_LOCK).toBe(TDF_PREEMPT_LOCK);
    expect(s.threads[0]!.frames).toEqual([
      { fn: 'lwkt_preempt', ntd: 1, savecnt: 0 },
      { fn: 'lwkt_schedule', mygd: 0, wref: null },
      { fn: 'intr', td: 1 },
    ]);
    expect(s.threads[0]!.call).toBe('intr');

    run(UP, [{ cpu: 0, call: 'lwkt_deschedule_self' }], impl);
    const back = impl.step({ cpu: 0, call: 'lwkt_switch' });
    expect(back).toEqual({ status: 'suspended', completed: [{ td: 0, call: 'intr', ret: null }], printed: [] });
    s = impl.snapshot();
    expect(impl.running()).toEqual([0]);
    expect(s.threads[1]!.td_preempted).toBeNull();
    expect(s.threads[0]!.td_flags & TDF_PREEMPT_LOCK).toBe(0);
    expect(s.threads[0]!.td_pri).toBe(12);
  });

  it('defers the interrupt inside a critical section and runs it at crit_exit', () => {
    const { impl, results } = run(UP, [...setup, { cpu: 0, call: 'crit_enter' }, { cpu: 0, call: 'intr', td: 1 }]);
    expect(results[3]).toMatchObject({ status: 'returned' });
    expect(impl.snapshot().cpus[0]!.gd_ipending).toEqual([1]);
    const exit = impl.step({ cpu: 0, call: 'crit_exit' });
    expect(exit.status).toBe('suspended');
    expect(impl.running()).toEqual([1]);
    expect(impl.snapshot().threads[0]!.frames.map((f) => f.fn)).toEqual(['lwkt_preempt', 'lwkt_schedule', 'splz', 'lwkt_yield_quick', 'crit_exit']);
  });

  it('lends the MP count of the preempted thread with SMP', () => {
    const smp1: Config = { ...UP, smp: true };
    const { impl } = run(smp1, [{ cpu: 0, call: 'get_mplock' }, ...setup, { cpu: 0, call: 'intr', td: 1 }]);
    const s = impl.snapshot();
    expect(s.threads[1]!.td_mpcount).toBe(2);
    expect(s.threads[0]!.frames[0]).toEqual({ fn: 'lwkt_preempt', ntd: 1, savecnt: 1 });
    expect(s.mp_lock).toBe(0);
  });
});

describe('IPI scheduling', () => {
  it('remote creation waits for the ipi step', () => {
    const { impl, results } = run(SMP2, [create(0, 'remote', { target: 1 })]);
    expect(results[0]).toMatchObject({ status: 'returned', ret: 2 });
    let s = impl.snapshot();
    expect(s.cpus[0]!.gd_ipiq[1]).toEqual([
      { func: 'lwkt_init_thread_remote', arg: 2 },
      { func: 'lwkt_schedule', arg: 2 },
    ]);
    expect(s.cpus[1]!.gd_tdallq).toEqual([1]);

    impl.step({ cpu: 1, call: 'ipi' });
    s = impl.snapshot();
    expect(s.cpus[0]!.gd_ipiq[1]).toEqual([]);
    expect(s.cpus[1]!.gd_tdallq).toEqual([1, 2]);
    expect(s.cpus[1]!.gd_tdrunq[12]).toEqual([2]);
    expect(s.threads[2]!.td_flags & TDF_RUNQ).toBe(TDF_RUNQ);

    impl.step({ cpu: 1, call: 'cpu_idle' });
    expect(impl.running()).toEqual([0, 2]);
  });

  it('defers an IPI that arrives in a critical section', () => {
    const { impl } = run(SMP2, [create(0, 'remote', { target: 1 }), { cpu: 1, call: 'crit_enter' }, { cpu: 1, call: 'ipi' }]);
    expect(impl.snapshot().cpus[1]!.gd_reqflags & 1).toBe(1);
    impl.step({ cpu: 1, call: 'crit_exit' });
    const s = impl.snapshot();
    expect(s.cpus[1]!.gd_reqflags).toBe(0);
    expect(s.cpus[1]!.gd_tdrunq[12]).toEqual([2]);
  });
});

describe('blocking and signalling', () => {
  // Thread 1 runs and blocks on wait queue 0 with generation 0.
  const setup: Step[] = [
    { cpu: 0, call: 'lwkt_wait_init' },
    create(0, 'sleeper'),
    { cpu: 0, call: 'lwkt_switch' },
    { cpu: 0, call: 'lwkt_block', w: 0, wmesg: 'wait', gen: 0 },
  ];

  it('suspends the blocked thread on the wait queue', () => {
    const { impl, results } = run(UP, setup);
    expect(results[3]).toEqual({ status: 'suspended', completed: [{ td: 0, call: 'lwkt_switch', ret: null }], printed: [] });
    const s = impl.snapshot();
    expect(s.waits[0]).toEqual({ id: 0, wa_waitq: [1], wa_gen: 0, wa_count: 1 });
    expect(s.threads[1]).toMatchObject({ td_wait: 0, td_wmesg: 'wait', td_toks: [0], call: 'lwkt_block' });
    expect(s.threads[1]!.frames).toEqual([
      { fn: 'lwkt_switch', stage: 'switch' },
      { fn: 'lwkt_block', stage: 'loop', w: 0, wmesg: 'wait', gen: 0, ilock: 0 },
    ]);
    expect(s.tokrefs).toEqual([{ id: 0, tr_tok: 0, tr_magic: 1, tr_reqgd: null }]);
  });

  it('wakes the thread, which returns the new generation', () => {
    const { impl, results } = run(UP, [...setup, { cpu: 0, call: 'lwkt_signal', w: 0, count: 1 }, { cpu: 0, call: 'lwkt_switch' }]);
    expect(results[4]).toMatchObject({ status: 'returned', ret: null });
    expect(results[5]).toEqual({ status: 'suspended', completed: [{ td: 1, call: 'lwkt_block', ret: 1 }], printed: [] });
    const s = impl.snapshot();
    expect(s.waits[0]).toEqual({ id: 0, wa_waitq: [], wa_gen: 1, wa_count: 0 });
    expect(s.threads[1]).toMatchObject({ td_wait: null, td_wmesg: null, td_toks: [], frames: [], call: null });
    expect(s.tokrefs).toEqual([]);
  });

  it('does not sleep when the generation has moved on', () => {
    const { results } = run(UP, [...setup.slice(0, 3), { cpu: 0, call: 'lwkt_block', w: 0, wmesg: 'wait', gen: 5 }]);
    expect(results[3]).toEqual({ status: 'returned', ret: 0, completed: [], printed: [] });
  });

  it('remote token spins until handed over', () => {
    const { impl, results } = run(SMP2, [{ cpu: 0, call: 'lwkt_wait_init' }, { cpu: 1, call: 'lwkt_gettoken', tok: 0 }]);
    expect(results[1]!.status).toBe('spinning');
    expect(impl.snapshot().cpus[1]!.gd_ipiq[0]).toEqual([{ func: 'lwkt_reqtoken_remote', arg: 0 }]);
    impl.step({ cpu: 0, call: 'ipi' });
    expect(impl.snapshot().tokens[0]).toEqual({ id: 0, t_cpu: 1, t_reqcpu: 1 });
    expect(impl.step({ cpu: 1, call: 'spin' })).toMatchObject({ status: 'returned', ret: null });
    expect(impl.snapshot().threads[1]!.td_toks).toEqual([0]);
  });
});

describe('assertions', () => {
  it('crit_exit without crit_enter panics and clears td_pri', () => {
    const { impl, results } = run(UP, [{ cpu: 0, call: 'crit_exit' }]);
    expect(results[0]).toEqual({ status: 'panic', panic: { id: 'crit_panic.negative', site: 'lwkt_thread.c:1303' }, completed: [], printed: [] });
    const s = impl.snapshot();
    expect(s.panicked).toEqual({ id: 'crit_panic.negative', site: 'lwkt_thread.c:1303' });
    expect(s.threads[0]!.td_pri).toBe(0);
  });

  it('checks KASSERTs only with INVARIANTS', () => {
    const step: Step = { cpu: 0, call: 'lwkt_schedule', td: 0 };
    expect(run(UP, [step]).results[0]).toMatchObject({ status: 'panic', panic: { id: 'schedule.idle-thread' } });
    expect(run({ ...UP, invariants: false }, [step]).results[0]).toMatchObject({ status: 'returned' });
  });

  it('lwkt_setpri_self rejects a priority above TDPRI_MAX', () => {
    expect(run(UP, [{ cpu: 0, call: 'lwkt_setpri_self', pri: 32 }]).results[0]).toMatchObject({ panic: { id: 'setpri_self.out-of-range' } });
  });

  it('a fast interrupt that switches always panics', () => {
    const r = run({ ...UP, invariants: false }, [{ cpu: 0, call: 'fastintr_switch' }]).results[0];
    expect(r).toMatchObject({ status: 'panic', panic: { id: 'switch.in-fast-interrupt', site: 'lwkt_thread.c:459' } });
  });

  it('prints the caller pid in the target columns before SCHED PANIC', () => {
    const { results } = run(UP, [
      create(0, 'sleeper', { tdflags: TDF_STOPREQ }),
      { cpu: 0, call: 'set_proc', td: 1, pid: 7, stat: 'SSLEEP' },
      { cpu: 0, call: 'set_proc', td: 0, pid: 3, stat: 'SRUN' },
      { cpu: 0, call: 'lwkt_schedule', td: 1 },
    ]);
    expect(results[3]).toEqual({
      status: 'panic',
      panic: { id: 'schedule.proc-sleeping', site: 'lwkt_thread.c:895' },
      completed: [],
      printed: [{ site: 'lwkt_thread.c:887', values: [0, 3, 2, 1, 3, 2] }],
    });
  });
});

describe('faulty variants', () => {
  it('a subclass can replace a seed function', () => {
    // A scheduler that never sets the gd_runqmask bit of a queue never finds the new thread.
    class ForgetfulMask extends LwktImpl {
      protected override _lwkt_enqueue(td: number): void {
        const mask = this.gd_runqmask[this.td_gd[td]!]!;
        super._lwkt_enqueue(td);
        this.gd_runqmask[this.td_gd[td]!] = mask;
      }
    }
    const steps: Step[] = [create(0, 'a'), { cpu: 0, call: 'lwkt_switch' }];
    expect(run(UP, steps).impl.running()).toEqual([1]);
    expect(run(UP, steps, new ForgetfulMask(UP)).impl.running()).toEqual([0]);
  });
});

describe('thread arrays past their initial room', () => {
  it('keeps every thread when the per-thread arrays grow', () => {
    const steps: Step[] = [];
    for (let i = 0; i < 99; i++) steps.push({ cpu: 0, call: 'lwkt_alloc_thread', stksize: 8192, target: -1 });
    steps.push(create(0, 'last'), { cpu: 0, call: 'lwkt_switch' });
    const { impl, results } = run(UP, steps);

    expect(results.slice(0, 99).map((r) => r.status === 'returned' && r.ret)).toEqual(steps.slice(0, 99).map((_, i) => i + 1));
    const s = impl.snapshot();
    expect(s.threads).toHaveLength(101);
    expect(s.cpus[0]!.gd_tdallq).toEqual(Array.from({ length: 101 }, (_, i) => i));
    for (const td of s.threads.slice(1, 100)) {
      expect(td).toMatchObject({ td_pri: 44, td_kstack_size: 8192, td_wait: null, td_preempted: null, td_proc: null, td_wmesg: null, frames: [{ fn: 'cpu_kthread_restore' }] });
    }
    // The thread created last was scheduled and is running now, its restore frame done.
    expect(s.cpus[0]!.gd_curthread).toBe(100);
    expect(s.threads[100]).toMatchObject({ td_comm: 'last', td_pri: 12, frames: [], call: null });
    expect(results[100]).toMatchObject({ status: 'suspended', completed: [{ td: 100, call: 'cpu_kthread_restore', ret: null }] });
  });
});
