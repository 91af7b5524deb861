// Hand-built abstract states for the invariant and validity tests. Each builder
// follows what the kernel code leaves behind (boot per spec/semantics.md 1.1,
// _lwkt_enqueue, lwkt_block, lwkt_free_thread, lwkt_preempt), so the states it
// returns satisfy every invariant until a test corrupts them.
import {
  LWKT_THREAD_STACK,
  NQS,
  STATE_SCHEMA_ID,
  TDF_ALLOCATED_STACK,
  TDF_ALLOCATED_THREAD,
  TDF_INTTHREAD,
  TDF_PREEMPT_LOCK,
  TDF_RUNNING,
  TDF_RUNQ,
  TDF_VERBOSE,
  TDPRI_CRIT,
  TDPRI_KERN_DAEMON,
  TDPRI_MASK,
} from '../../spec/constants.js';
import type { AbstractState, CpuState, ThreadState } from '../../spec/schema.js';

export interface BootOptions {
  smp?: boolean;
  invariants?: boolean;
}

function idleThread(cpu: number): ThreadState {
  return {
    id: cpu,
    zfreed: false,
    td_gd: cpu,
    td_pri: TDPRI_KERN_DAEMON,
    td_flags: TDF_RUNNING,
    td_mpcount: 0,
    td_cscount: 0,
    td_refs: 0,
    td_nest_count: 0,
    td_wait: null,
    td_wmesg: null,
    td_preempted: null,
    td_toks: [],
    td_proc: null,
    td_release: false,
    td_preemptable: false,
    td_comm: '',
    td_kstack: true,
    td_kstack_size: LWKT_THREAD_STACK,
    frames: [],
    call: null,
  };
}

function bootCpu(cpu: number, ncpus: number): CpuState {
  return {
    cpuid: cpu,
    gd_curthread: cpu,
    gd_idlethread: cpu,
    gd_runqmask: 0,
    gd_tdrunq: Array.from({ length: NQS }, () => []),
    gd_reqflags: 0,
    gd_intr_nesting_level: 0,
    gd_tdallq: [cpu],
    gd_tdfreeq: [],
    gd_tdfreecount: 0,
    gd_ipending: [],
    gd_fpending: false,
    gd_tokreqbase: [],
    gd_ipiq: Array.from({ length: ncpus }, () => []),
  };
}

/** Builds the boot state: idle thread c runs on cpu c at priority 12, and everything else is empty. */
export function bootState(ncpus: number, options: BootOptions = {}): AbstractState {
  const cpus = Array.from({ length: ncpus }, (_, c) => c);
  return {
    schema: STATE_SCHEMA_ID,
    config: {
      ncpus,
      smp: options.smp ?? ncpus > 1,
      invariants: options.invariants ?? true,
      untimelySwitch: false,
      panicOnCscount: false,
    },
    panicked: null,
    mp_lock: -1,
    counters: { switch_count: 0, preempt_hit: 0, preempt_miss: 0, preempt_weird: 0 },
    cpus: cpus.map((c) => bootCpu(c, ncpus)),
    threads: cpus.map(idleThread),
    waits: [],
    tokens: [],
    tokrefs: [],
  };
}

export function thread(state: AbstractState, id: number): ThreadState {
  const td = state.threads.find((t) => t.id === id);
  if (td === undefined) throw new Error(`fixture: thread ${id} does not exist`);
  return td;
}

export function cpu(state: AbstractState, id: number): CpuState {
  const gd = state.cpus[id];
  if (gd === undefined) throw new Error(`fixture: cpu ${id} does not exist`);
  return gd;
}

export function runq(state: AbstractState, cpuId: number, nq: number): number[] {
  const queue = cpu(state, cpuId).gd_tdrunq[nq];
  if (queue === undefined) throw new Error(`fixture: run queue ${nq} does not exist`);
  return queue;
}

/**
 * Adds a thread as lwkt_create leaves it before it first runs: one critical
 * section on top of `pri`, frame cpu_kthread_restore, on gd_tdallq of `cpu`.
 */
export function addThread(state: AbstractState, cpuId: number, pri: number, fields: Partial<ThreadState> = {}): number {
  const id = state.threads.length;
  state.threads.push({
    ...idleThread(cpuId),
    id,
    td_pri: pri + TDPRI_CRIT,
    td_flags: TDF_VERBOSE | TDF_ALLOCATED_THREAD | TDF_ALLOCATED_STACK,
    td_mpcount: state.config.smp ? 1 : 0,
    td_comm: `thread${id}`,
    frames: [{ fn: 'cpu_kthread_restore' }],
    call: 'cpu_kthread_restore',
    ...fields,
  });
  cpu(state, cpuId).gd_tdallq.push(id);
  return id;
}

/** _lwkt_enqueue (lwkt_thread.c:140-148). */
export function enqueue(state: AbstractState, id: number): void {
  const td = thread(state, id);
  const nq = td.td_pri & TDPRI_MASK;
  td.td_flags |= TDF_RUNQ;
  runq(state, td.td_gd, nq).push(id);
  cpu(state, td.td_gd).gd_runqmask = (cpu(state, td.td_gd).gd_runqmask | (1 << nq)) >>> 0;
}

/** lwkt_wait_init plus the token it owns, owned by `cpuId`. */
export function addWait(state: AbstractState, cpuId = 0): number {
  const id = state.waits.length;
  state.waits.push({ id, wa_waitq: [], wa_gen: 0, wa_count: 0 });
  state.tokens.push({ id, t_cpu: cpuId, t_reqcpu: cpuId });
  return id;
}

/**
 * Leaves a not-running thread as lwkt_block does when it switches out in its
 * retry loop: on the wait queue, holding the queue's token through a new
 * tokref, suspended inside lwkt_switch.
 */
export function block(state: AbstractState, id: number, w: number, wmesg: string): void {
  const td = thread(state, id);
  const wait = state.waits[w];
  const token = state.tokens[w];
  if (wait === undefined || token === undefined) throw new Error(`fixture: wait queue ${w} does not exist`);

  const ilock = state.tokrefs.length === 0 ? 0 : Math.max(...state.tokrefs.map((r) => r.id)) + 1;
  state.tokrefs.push({ id: ilock, tr_tok: w, tr_magic: 1, tr_reqgd: null });
  token.t_cpu = td.td_gd;
  token.t_reqcpu = td.td_gd;

  wait.wa_waitq.push(id);
  wait.wa_count += 1;
  td.td_wait = w;
  td.td_wmesg = wmesg;
  td.td_toks = [ilock, ...td.td_toks];
  td.td_pri = (td.td_pri & TDPRI_MASK) + 2 * TDPRI_CRIT;
  td.frames = [
    { fn: 'lwkt_switch', stage: 'switch' },
    { fn: 'lwkt_block', stage: 'loop', w, wmesg, gen: wait.wa_gen, ilock },
  ];
}

/** lwkt_free_thread's cache path (lwkt_thread.c:391-396): off gd_tdallq, onto the head of gd_tdfreeq. */
export function cacheThread(state: AbstractState, id: number): void {
  const gd = cpu(state, thread(state, id).td_gd);
  gd.gd_tdallq = gd.gd_tdallq.filter((x) => x !== id);
  gd.gd_tdfreeq.unshift(id);
  gd.gd_tdfreecount += 1;
}

/** Makes `id` the running thread of its cpu, as td_switch does. */
export function runOn(state: AbstractState, id: number): void {
  const td = thread(state, id);
  const gd = cpu(state, td.td_gd);
  const previous = thread(state, gd.gd_curthread);
  previous.td_flags &= ~TDF_RUNNING;
  if (previous.frames.length === 0) {
    previous.frames = [{ fn: 'lwkt_switch', stage: 'switch' }];
    previous.td_pri += TDPRI_CRIT;
  }
  gd.gd_curthread = id;
  td.td_flags |= TDF_RUNNING;
  td.frames = [];
  td.td_pri &= TDPRI_MASK;
}

/**
 * Builds a two-cpu SMP state with queued threads on both cpus, two threads
 * blocked on a wait queue, a cached structure, a zone-freed structure, and
 * thread 4 running on cpu 1.
 */
export function busyState(): AbstractState {
  const state = bootState(2);
  enqueue(state, addThread(state, 0, 20)); // 2
  enqueue(state, addThread(state, 0, 20)); // 3

  const t4 = addThread(state, 1, 6, { td_mpcount: 0 });
  enqueue(state, t4);
  runOn(state, t4);

  const w = addWait(state);
  block(state, addThread(state, 0, 12), w, 'wait5'); // 5
  block(state, addThread(state, 0, 12), w, 'wait6'); // 6

  cacheThread(state, addThread(state, 1, 12, { frames: [] })); // 7

  const t8 = addThread(state, 0, 12, { zfreed: true, frames: [] });
  cpu(state, 0).gd_tdallq = cpu(state, 0).gd_tdallq.filter((x) => x !== t8);
  return state;
}

/**
 * Builds one SMP cpu on which interrupt thread 2 (priority 27) preempted
 * thread 1 (priority 6, td_mpcount 1) from an intr step. Thread 1 waits in
 * lwkt_preempt with savecnt 1. Thread 2 runs with both MP counts, and cpu 0
 * holds the MP lock.
 */
export function preemptionState(): AbstractState {
  const state = bootState(1, { smp: true });

  const a = addThread(state, 0, 6);
  enqueue(state, a);
  runOn(state, a);

  const b = addThread(state, 0, 27, { td_flags: TDF_INTTHREAD | TDF_ALLOCATED_THREAD | TDF_ALLOCATED_STACK, td_preemptable: true });
  enqueue(state, b);

  const td = thread(state, a);
  td.td_flags = (td.td_flags | TDF_PREEMPT_LOCK) & ~TDF_RUNNING;
  td.td_pri = 6 + TDPRI_CRIT;
  td.frames = [
    { fn: 'lwkt_preempt', ntd: b, savecnt: 1 },
    { fn: 'lwkt_schedule', mygd: 0, wref: null },
    { fn: 'intr', td: b },
  ];

  const ntd = thread(state, b);
  ntd.td_flags |= TDF_RUNNING;
  ntd.td_pri = 27;
  ntd.td_preempted = a;
  ntd.td_mpcount = 2;
  ntd.frames = [];
  cpu(state, 0).gd_curthread = b;
  state.mp_lock = 0;
  return state;
}
