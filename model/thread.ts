// Thread structures: creation, the free-thread cache, reference counts, exit.
// DragonFly BSD sys/kern/lwkt_thread.c rev 1.71, lines 195-418 and 1146-1292,
// with cpu_thread_exit and cpu_kthread_restore of vm_machdep.c rev 1.34 and
// swtch.s rev 1.37, and passive_release of trap.c rev 1.55.
import {
  CACHE_NTHREADS,
  LWKT_THREAD_STACK,
  MAXCOMLEN,
  TDF_ALLOCATED_STACK,
  TDF_ALLOCATED_THREAD,
  TDF_RUNNING,
  TDF_STOPREQ,
  TDF_VERBOSE,
  TDPRI_CRIT,
  TDPRI_KERN_DAEMON,
  TDPRI_KERN_USER,
  THREADS_MAX,
} from '../spec/constants.js';
import { check, limit, unmodelledSwitch } from './checks.js';
import { crit_enter_gd, crit_enter_quick, crit_exit_gd } from './crit.js';
import type { FrameOf } from './frames.js';
import { lwkt_send_ipiq } from './ipiq.js';
import { bzeroThread, pushFrame, SUSPEND, type CpuId, type Flow, type Machine, type Thread } from './machine.js';
import { tdallqRemove } from './queues.js';
import { lwkt_deschedule_self, lwkt_schedule, lwkt_setpri_self } from './schedule.js';
import { lwkt_switch } from './switch.js';
import { lwkt_yield } from './yield.js';

/** lwkt_thread.c:195: empty run queues and thread list. */
export function lwkt_gdinit(m: Machine, gdId: CpuId): void {
  m.enter('lwkt_gdinit');
  const gd = m.gd(gdId);
  for (const queue of gd.gd_tdrunq) queue.length = 0;
  gd.gd_runqmask = 0;
  gd.gd_tdallq.length = 0;
}

/** lwkt_thread.c:302: IPI callback that links a thread created for this CPU. */
export function lwkt_init_thread_remote(m: Machine, td: Thread): void {
  m.enter('lwkt_init_thread_remote');
  m.gd(td.td_gd).gd_tdallq.push(td.id);
}

/**
 * lwkt_thread.c:312: bzero the structure and set it up for CPU gdId, inside one
 * critical section, with the first-run frame cpu_kthread_restore (the model
 * runs no thread body, so every thread starts that way). A thread that was on
 * a list stays there, as C keeps the stale links.
 */
export function lwkt_init_thread(
  m: Machine,
  mycpu: CpuId,
  td: Thread,
  stack: boolean,
  stksize: number,
  flags: number,
  gdId: CpuId,
): Flow {
  m.enter('lwkt_init_thread');

  // lwkt_thread.c:317-322
  bzeroThread(td);
  td.td_kstack = stack;
  td.td_kstack_size = stksize;
  td.td_flags |= flags;
  td.td_gd = gdId;
  td.td_pri = TDPRI_KERN_DAEMON + TDPRI_CRIT;
  td.frames = [{ fn: 'cpu_kthread_restore' }];
  td.td_call = 'cpu_kthread_restore';

  // lwkt_thread.c:332-342: the idle thread is linked directly even for another CPU.
  const mygd = mycpu;
  if (!m.config.smp || gdId === mygd || td.id === m.gd(gdId).gd_idlethread) {
    crit_enter_gd(m, mygd);
    m.gd(gdId).gd_tdallq.push(td.id);
    return crit_exit_gd(m, mycpu, mygd);
  }
  return lwkt_send_ipiq(m, mycpu, gdId, 'lwkt_init_thread_remote', td.id);
}

/** cpu_kthread_restore, the first run of a new thread: drop the section it was created in. */
export function cpu_kthread_restore(m: Machine, td: Thread): void {
  m.enter('cpu_kthread_restore');
  td.td_pri -= TDPRI_CRIT;
}

/** lwkt_thread.c:230, with td == NULL: from the CPU's cache, else a fresh structure. */
export function lwkt_alloc_thread(m: Machine, mycpu: CpuId, stksize: number, cpu: number): Flow<Thread> {
  m.enter('lwkt_alloc_thread');
  const gd = m.gd(mycpu);

  // lwkt_thread.c:237-245
  crit_enter_gd(m, mycpu);
  if (gd.gd_tdfreecount > 0) {
    gd.gd_tdfreecount -= 1;
    const first = gd.gd_tdfreeq[0];
    const td = first === undefined ? undefined : m.thread(first);
    check(m, 'alloc_thread.cached-td-corrupt', td !== undefined && (td.td_flags & TDF_RUNNING) === 0);
    // NOTE: without INVARIANTS C would dereference NULL; the counts never disagree in the model.
    if (td === undefined) throw new Error('internal error: gd_tdfreecount > 0 with an empty gd_tdfreeq');
    gd.gd_tdfreeq.shift();
    if (crit_exit_gd(m, mycpu, mycpu) === SUSPEND) {
      return pushFrame(m, { fn: 'lwkt_alloc_thread', stage: 'cached', td: td.id, stksize, target: cpu });
    }
    return lwkt_alloc_thread_cached(m, mycpu, td, stksize, cpu);
  }

  // lwkt_thread.c:247
  if (crit_exit_gd(m, mycpu, mycpu) === SUSPEND) {
    return pushFrame(m, { fn: 'lwkt_alloc_thread', stage: 'fresh', td: null, stksize, target: cpu });
  }
  return lwkt_alloc_thread_fresh(m, mycpu, stksize, cpu);
}

/** lwkt_thread.c:245: keep the allocation flags of the cached structure. */
function lwkt_alloc_thread_cached(m: Machine, mycpu: CpuId, td: Thread, stksize: number, cpu: number): Flow<Thread> {
  const flags = td.td_flags & (TDF_ALLOCATED_STACK | TDF_ALLOCATED_THREAD);
  return lwkt_alloc_thread_stack(m, mycpu, td, flags, stksize, cpu);
}

/** lwkt_thread.c:249-255: zalloc always returns a new structure in the model. */
function lwkt_alloc_thread_fresh(m: Machine, mycpu: CpuId, stksize: number, cpu: number): Flow<Thread> {
  if (m.threads.length >= THREADS_MAX) limit('threads-max');
  const td = m.allocThreadStructure(mycpu);
  td.td_kstack = false;
  td.td_kstack_size = 0;
  return lwkt_alloc_thread_stack(m, mycpu, td, TDF_ALLOCATED_THREAD, stksize, cpu);
}

/** lwkt_thread.c:258-280: reuse the stack if its size fits, then initialise. */
function lwkt_alloc_thread_stack(
  m: Machine,
  mycpu: CpuId,
  td: Thread,
  flagsIn: number,
  stksize: number,
  cpu: number,
): Flow<Thread> {
  let flags = flagsIn;
  let stack = td.td_kstack;

  // lwkt_thread.c:258-267: a stack of another size is freed only if we allocated it.
  if (stack && td.td_kstack_size !== stksize && (flags & TDF_ALLOCATED_STACK) !== 0) stack = false;

  // lwkt_thread.c:268-275
  if (!stack) {
    stack = true;
    flags |= TDF_ALLOCATED_STACK;
  }

  // lwkt_thread.c:276-279: globaldata_find(cpu) for a given CPU.
  const gdId = cpu < 0 ? mycpu : cpu;
  if (lwkt_init_thread(m, mycpu, td, stack, stksize, flags, gdId) === SUSPEND) {
    return pushFrame(m, { fn: 'lwkt_alloc_thread', stage: 'init', td: td.id, stksize, target: cpu });
  }
  return td;
}

export function lwkt_alloc_thread_resume(m: Machine, mycpu: CpuId, frame: FrameOf<'lwkt_alloc_thread'>): Flow<Thread> {
  switch (frame.stage) {
    case 'cached':
      return lwkt_alloc_thread_cached(m, mycpu, m.thread(frame.td ?? -1), frame.stksize, frame.target);
    case 'fresh':
      return lwkt_alloc_thread_fresh(m, mycpu, frame.stksize, frame.target);
    case 'init':
      return m.thread(frame.td ?? -1);
  }
}

/** lwkt_thread.c:349: vsnprintf into td_comm[MAXCOMLEN + 1]. */
export function lwkt_set_comm(m: Machine, td: Thread, comm: string): void {
  m.enter('lwkt_set_comm');
  td.td_comm = comm.slice(0, MAXCOMLEN);
}

/** lwkt_thread.c:359 */
export function lwkt_hold(m: Machine, td: Thread): void {
  m.enter('lwkt_hold');
  td.td_refs += 1;
}

/** lwkt_thread.c:365 */
export function lwkt_rele(m: Machine, td: Thread): void {
  m.enter('lwkt_rele');
  check(m, 'rele.refs-zero', td.td_refs > 0);
  td.td_refs -= 1;
}

/** lwkt_thread.c:374: tsleep(td, 0, "tdreap", hz) is a yield in the model. */
export function lwkt_wait_free(m: Machine, mycpu: CpuId, td: Thread): Flow {
  m.enter('lwkt_wait_free');
  return lwkt_wait_free_loop(m, mycpu, td);
}

export function lwkt_wait_free_loop(m: Machine, mycpu: CpuId, td: Thread): Flow {
  while (td.td_refs !== 0) {
    if (lwkt_yield(m, mycpu) === SUSPEND) return pushFrame(m, { fn: 'lwkt_wait_free', td: td.id });
  }
}

/** lwkt_thread.c:383: to the CPU's cache while it has room, else back to the zone. */
export function lwkt_free_thread(m: Machine, mycpu: CpuId, td: Thread): Flow {
  m.enter('lwkt_free_thread');
  const gd = m.gd(mycpu);

  // lwkt_thread.c:387
  check(m, 'free_thread.running', (td.td_flags & TDF_RUNNING) === 0);

  // lwkt_thread.c:390-397
  crit_enter_gd(m, mycpu);
  tdallqRemove(m, mycpu, td.id);
  if (gd.gd_tdfreecount < CACHE_NTHREADS && (td.td_flags & TDF_ALLOCATED_THREAD) !== 0) {
    gd.gd_tdfreecount += 1;
    gd.gd_tdfreeq.unshift(td.id);
    return crit_exit_gd(m, mycpu, mycpu);
  }

  // lwkt_thread.c:399
  if (crit_exit_gd(m, mycpu, mycpu) === SUSPEND) return pushFrame(m, { fn: 'lwkt_free_thread', td: td.id });
  lwkt_free_thread_release(m, td);
}

/** lwkt_thread.c:400-416: free the stack we allocated, then the structure. */
export function lwkt_free_thread_release(m: Machine, td: Thread): void {
  if (td.td_kstack && (td.td_flags & TDF_ALLOCATED_STACK) !== 0) {
    td.td_kstack = false;
    td.td_kstack_size = 0;
  }
  if (td.td_flags & TDF_ALLOCATED_THREAD) td.zfreed = true;
}

/** lwkt_thread.c:1230, with template NULL; returns the new thread's id. */
export function lwkt_create(
  m: Machine,
  mycpu: CpuId,
  tdflags: number,
  cpu: number,
  preemptable: boolean,
  comm: string,
): Flow<number> {
  m.enter('lwkt_create');

  // lwkt_thread.c:1237
  const td = lwkt_alloc_thread(m, mycpu, LWKT_THREAD_STACK, cpu);
  if (td === SUSPEND) {
    return pushFrame(m, { fn: 'lwkt_create', stage: 'alloc', td: null, tdflags, preemptable, comm });
  }
  return lwkt_create_setup(m, mycpu, td, tdflags, preemptable, comm);
}

/** lwkt_thread.c:1240-1260 */
export function lwkt_create_setup(
  m: Machine,
  mycpu: CpuId,
  td: Thread,
  tdflags: number,
  preemptable: boolean,
  comm: string,
): Flow<number> {
  // lwkt_thread.c:1241-1244: new threads start out needing the MP lock.
  td.td_flags |= TDF_VERBOSE | tdflags;
  if (m.config.smp) td.td_mpcount = 1;

  // lwkt_thread.c:1249-1251, and cpu_intr_preempt installed before scheduling.
  td.td_comm = comm.slice(0, MAXCOMLEN);
  td.td_preemptable = preemptable;

  // lwkt_thread.c:1256-1259
  if ((td.td_flags & TDF_STOPREQ) === 0) {
    if (lwkt_schedule(m, mycpu, td) === SUSPEND) {
      return pushFrame(m, { fn: 'lwkt_create', stage: 'schedule', td: td.id, tdflags, preemptable, comm });
    }
  } else {
    td.td_flags &= ~TDF_STOPREQ;
  }
  return td.id;
}

export function lwkt_create_resume(
  m: Machine,
  mycpu: CpuId,
  frame: FrameOf<'lwkt_create'>,
  inner: Thread | null,
): Flow<number> {
  if (frame.stage === 'schedule') return frame.td ?? -1;
  if (inner === null) throw new Error('internal error: lwkt_create resumed without the allocated thread');
  return lwkt_create_setup(m, mycpu, inner, frame.tdflags, frame.preemptable, frame.comm);
}

/** lwkt_thread.c:1274: the thread never runs again (cpu_thread_exit). */
export function lwkt_exit(m: Machine, mycpu: CpuId): Flow {
  m.enter('lwkt_exit');
  const td = m.curthread(mycpu);

  // lwkt_thread.c:1279-1280
  if (td.td_flags & TDF_VERBOSE) m.printed.push({ site: 'lwkt_thread.c:1280', values: [td.id, td.td_comm] });

  // lwkt_thread.c:1282-1283: caps_exit has nothing to do in the model.
  crit_enter_quick(m, td);
  if (lwkt_deschedule_self(m, mycpu, td) === SUSPEND) unmodelledSwitch();

  // lwkt_thread.c:1284-1285
  check(m, 'exit.wrong-cpu', mycpu === td.td_gd);

  // lwkt_thread.c:1286-1290: no CACHE_NTHREADS bound here.
  const gd = m.gd(mycpu);
  tdallqRemove(m, mycpu, td.id);
  if (td.td_flags & TDF_ALLOCATED_THREAD) {
    gd.gd_tdfreecount += 1;
    gd.gd_tdfreeq.push(td.id);
  }

  // lwkt_thread.c:1291
  return cpu_thread_exit(m, mycpu);
}

/** cpu_thread_exit(): switch away with cpu_exit_switch, which saves nothing. */
export function cpu_thread_exit(m: Machine, mycpu: CpuId): Flow {
  m.enter('cpu_thread_exit');
  if (lwkt_switch(m, mycpu) === SUSPEND) {
    // The exiting thread's state is not saved: only the panic below is left.
    m.unwound = [{ fn: 'cpu_thread_exit' }];
    return SUSPEND;
  }
  cpu_thread_exit_returned(m);
}

export function cpu_thread_exit_returned(m: Machine): void {
  check(m, 'cpu_thread_exit.returned', false);
}

/** lwkt_thread.c:1146: the process of the thread at the end of the td_preempted chain. */
export function lwkt_preempted_proc(m: Machine, mycpu: CpuId): number | null {
  m.enter('lwkt_preempted_proc');
  let td = m.curthread(mycpu);
  while (td.td_preempted !== null) td = m.thread(td.td_preempted);
  return td.td_proc?.pid ?? null;
}

/** passive_release(), the td_release hook of a user thread that entered the kernel. */
export function passive_release(m: Machine, mycpu: CpuId, td: Thread): Flow {
  m.enter('passive_release');
  td.td_release = false;
  return lwkt_setpri_self(m, mycpu, TDPRI_KERN_USER);
}
