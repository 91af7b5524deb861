// Witness table for the checks of spec/catalogue.ts: for each assertion id, a
// step sequence from boot whose last step panics at that check, and a near
// miss that passes it. The model is that of DragonFly BSD sys/kern/lwkt_thread.c
// rev 1.71 (April 2005), whose lines are cited as lwkt_thread.c:NNN.
//
// Thread ids depend on the number of CPUs (each CPU's idle thread takes the
// first ids), so every sequence is built from a context that names the threads
// made after boot in creation order. The same sequence then also runs under a
// uniprocessor configuration.
import {
  LWKT_THREAD_STACK,
  TDF_INTTHREAD,
  TDF_STOPREQ,
  TDPRI_INT_MED,
  TDPRI_MAX,
} from '../../spec/constants.js';
import type { Config, Step } from '../../spec/schema.js';
import type { Machine } from '../machine.js';
import { SMP2, UP } from './helpers.js';

export interface Ctx {
  readonly ncpus: number;
  /** Id of the k-th thread structure allocated after boot (k from 0). */
  created(k: number): number;
}

export function ctxFor(config: Config): Ctx {
  return { ncpus: config.ncpus, created: (k) => config.ncpus + k };
}

type Build = (c: Ctx) => Step[];

/** A state that no step sequence reaches, built by overwriting one field before the last step. */
export interface Construction {
  readonly reason: string;
  corrupt(m: Machine, c: Ctx): void;
}

export interface WitnessRow {
  readonly id: string;
  readonly config: Config;
  /** Steps from boot. Only the last one panics. */
  readonly witness: Build;
  /** The closest sequence that passes the check. */
  readonly nearMiss: Build;
  readonly nearMissStatus: 'returned' | 'suspended' | 'spinning';
  /** The near miss's configuration when it differs from `config`. */
  readonly nearMissConfig?: Config;
  readonly construction?: Construction;
}

const NO_INVARIANTS_SMP2: Config = { ...SMP2, invariants: false };

// ---------------------------------------------------------------------------
// Step builders.

/** lwkt_create of a kernel thread on the current cpu, which schedules it at once. */
function kthread(cpu = 0): Step {
  return { cpu, call: 'lwkt_create', target: -1, tdflags: 0, preemptable: false, comm: 'kthread' };
}

/** lwkt_create of a kernel thread left unscheduled (TDF_STOPREQ). */
function stoppedKthread(cpu = 0): Step {
  return { cpu, call: 'lwkt_create', target: -1, tdflags: TDF_STOPREQ, preemptable: false, comm: 'kthread' };
}

/**
 * Makes an interrupt thread as add_intrdesc does: created stopped and
 * preemptable, then raised to `pri` so that it preempts kernel threads. It
 * becomes the k-th thread made after boot.
 */
export function intrThread(c: Ctx, k: number, pri: number = TDPRI_INT_MED): Step[] {
  return [
    { cpu: 0, call: 'lwkt_create', target: -1, tdflags: TDF_STOPREQ | TDF_INTTHREAD, preemptable: true, comm: 'ithread' },
    { cpu: 0, call: 'lwkt_setpri', td: c.created(k), pri },
  ];
}

function allocThread(cpu = 0): Step {
  return { cpu, call: 'lwkt_alloc_thread', target: -1, stksize: LWKT_THREAD_STACK };
}

/**
 * Idle thread 0 preempted by interrupt thread created(0), then moved to cpu 1 by
 * lwkt_acquire while it waits (the idle thread is never on a run queue, so the
 * acquire passes lwkt_thread.c:979). Its td_gd is now 1.
 */
function idlePreemptedAndAcquired(c: Ctx): Step[] {
  return [...intrThread(c, 0), { cpu: 0, call: 'intr', td: c.created(0) }, { cpu: 1, call: 'lwkt_acquire', td: 0 }];
}

/**
 * Kernel thread created(1) runs with the MP lock it was created with (td_mpcount
 * 1), and interrupt thread created(0) preempts it, inheriting that count
 * (lwkt_thread.c:748).
 */
function kthreadPreemptedHoldingMplock(c: Ctx): Step[] {
  return [...intrThread(c, 0), kthread(), { cpu: 0, call: 'lwkt_switch' }, { cpu: 0, call: 'intr', td: c.created(0) }];
}

/**
 * Idle thread 0 takes the MP lock with `count` get_mplock calls, then interrupt
 * thread created(0) preempts it and holds 1 + `count` (lwkt_thread.c:748).
 */
function idlePreemptedHoldingMplock(c: Ctx, count: number): Step[] {
  const gets: Step[] = Array.from({ length: count }, () => ({ cpu: 0, call: 'get_mplock' }) as const);
  return [...gets, ...intrThread(c, 0), { cpu: 0, call: 'intr', td: c.created(0) }];
}

/**
 * Interrupt thread created(0) preempts idle thread 0 after the idle thread took
 * the MP lock with get_mplock. With `release` it gives back both counts, which
 * drops the lock. It then deschedules itself, frees and reallocates its own
 * structure, and switches.
 */
function idleWithMplockPreempted(c: Ctx, release: boolean): Step[] {
  const releases: Step[] = release
    ? [
        { cpu: 0, call: 'rel_mplock' },
        { cpu: 0, call: 'rel_mplock' },
      ]
    : [];
  return [
    ...intrThread(c, 0),
    { cpu: 0, call: 'get_mplock' },
    { cpu: 0, call: 'intr', td: c.created(0) },
    ...releases,
    { cpu: 0, call: 'lwkt_deschedule_self' },
    { cpu: 0, call: 'lwkt_free_thread', td: c.created(0) },
    allocThread(),
    { cpu: 0, call: 'lwkt_switch' },
  ];
}

/**
 * Kernel thread created(1) blocks on wait queue 0. With `holdToken` the idle
 * thread then takes the queue's token. Interrupt thread created(0) preempts the
 * idle thread and schedules the blocked thread.
 */
function blockedThreadAndPreemptedTokenHolder(c: Ctx, holdToken: boolean): Step[] {
  const take: Step[] = holdToken ? [{ cpu: 0, call: 'lwkt_gettoken', tok: 0 }] : [];
  return [
    { cpu: 0, call: 'lwkt_wait_init' },
    ...intrThread(c, 0),
    kthread(),
    { cpu: 0, call: 'lwkt_switch' },
    { cpu: 0, call: 'lwkt_block', w: 0, wmesg: 'wmesg', gen: 0 },
    ...take,
    { cpu: 0, call: 'intr', td: c.created(0) },
    { cpu: 0, call: 'lwkt_schedule', td: c.created(1) },
  ];
}

/**
 * Kernel thread created(0) gave back its creation MP count, then called
 * get_mplock while cpu 1 held the lock, so it waits switched out inside
 * get_mplock with td_mpcount 1.
 */
function kthreadWaitingInGetMplock(): Step[] {
  return [
    kthread(),
    { cpu: 0, call: 'lwkt_switch' },
    { cpu: 0, call: 'rel_mplock' },
    { cpu: 1, call: 'get_mplock' },
    { cpu: 0, call: 'get_mplock' },
  ];
}

/** Cpu 1 requests token 0 from cpu 0, whose idle thread may hold it. The request waits in the FIFO to cpu 0. */
function remoteTokenRequest(holdOnCpu0: boolean): Step[] {
  const take: Step[] = holdOnCpu0 ? [{ cpu: 0, call: 'lwkt_gettoken', tok: 0 }] : [];
  return [{ cpu: 0, call: 'lwkt_wait_init' }, ...take, { cpu: 1, call: 'lwkt_gettoken', tok: 0 }];
}

// ---------------------------------------------------------------------------
// The table, in catalogue order.

export const WITNESS_TABLE: readonly WitnessRow[] = [
  {
    // lwkt_block with a NULL wmesg leaves the idle thread on the wait queue when
    // its lwkt_switch finds nothing else to run (lwkt_thread.c:1175-1180).
    id: 'schedule_self.td-wait-set',
    config: SMP2,
    witness: () => [
      { cpu: 0, call: 'lwkt_wait_init' },
      { cpu: 0, call: 'lwkt_block', w: 0, wmesg: null, gen: 0 },
      { cpu: 0, call: 'lwkt_yield' },
    ],
    // A kernel thread whose lwkt_block returned at once on a stale generation
    // number has td_wait NULL, so its yield passes both KASSERTs.
    nearMiss: () => [
      { cpu: 0, call: 'lwkt_wait_init' },
      kthread(),
      { cpu: 0, call: 'lwkt_switch' },
      { cpu: 0, call: 'lwkt_block', w: 0, wmesg: null, gen: 1 },
      { cpu: 0, call: 'lwkt_yield' },
    ],
    nearMissStatus: 'returned',
  },
  {
    id: 'schedule_self.idle-thread',
    config: SMP2,
    witness: () => [{ cpu: 0, call: 'lwkt_schedule_self' }],
    nearMiss: () => [kthread(), { cpu: 0, call: 'lwkt_switch' }, { cpu: 0, call: 'lwkt_schedule_self' }],
    nearMissStatus: 'returned',
  },
  {
    id: 'schedule_self.proc-sleeping',
    config: SMP2,
    witness: (c) => [
      kthread(),
      { cpu: 0, call: 'lwkt_switch' },
      { cpu: 0, call: 'set_proc', td: c.created(0), pid: 7, stat: 'SSLEEP' },
      { cpu: 0, call: 'lwkt_schedule_self' },
    ],
    nearMiss: (c) => [
      kthread(),
      { cpu: 0, call: 'lwkt_switch' },
      { cpu: 0, call: 'set_proc', td: c.created(0), pid: 7, stat: 'SRUN' },
      { cpu: 0, call: 'lwkt_schedule_self' },
    ],
    nearMissStatus: 'returned',
  },
  {
    id: 'deschedule_self.td-wait-set',
    config: SMP2,
    witness: () => [
      { cpu: 0, call: 'lwkt_wait_init' },
      { cpu: 0, call: 'lwkt_block', w: 0, wmesg: null, gen: 0 },
      { cpu: 0, call: 'lwkt_deschedule_self' },
    ],
    // A stale generation number makes lwkt_block return without queueing.
    nearMiss: () => [
      { cpu: 0, call: 'lwkt_wait_init' },
      { cpu: 0, call: 'lwkt_block', w: 0, wmesg: null, gen: 1 },
      { cpu: 0, call: 'lwkt_deschedule_self' },
    ],
    nearMissStatus: 'returned',
  },
  {
    // The kernel thread is freed into the cache while it waits on the run
    // queue (it never ran, so lwkt_thread.c:387 passes), then runs, and its own
    // allocation takes itself from the cache.
    id: 'alloc_thread.cached-td-corrupt',
    config: SMP2,
    witness: (c) => [
      kthread(),
      { cpu: 0, call: 'lwkt_free_thread', td: c.created(0) },
      { cpu: 0, call: 'lwkt_switch' },
      allocThread(),
    ],
    // Allocated by the idle thread, the cached structure is not running.
    nearMiss: (c) => [kthread(), { cpu: 0, call: 'lwkt_free_thread', td: c.created(0) }, allocThread()],
    nearMissStatus: 'returned',
  },
  {
    id: 'rele.refs-zero',
    config: SMP2,
    witness: () => [{ cpu: 0, call: 'lwkt_rele', td: 0 }],
    nearMiss: () => [
      { cpu: 0, call: 'lwkt_hold', td: 0 },
      { cpu: 0, call: 'lwkt_rele', td: 0 },
    ],
    nearMissStatus: 'returned',
  },
  {
    id: 'free_thread.running',
    config: SMP2,
    witness: () => [{ cpu: 0, call: 'lwkt_free_thread', td: 0 }],
    // A thread that never ran is not TDF_RUNNING.
    nearMiss: (c) => [kthread(), { cpu: 0, call: 'lwkt_free_thread', td: c.created(0) }],
    nearMissStatus: 'returned',
  },
  {
    id: 'switch.in-fast-interrupt',
    config: SMP2,
    witness: () => [{ cpu: 0, call: 'fastintr_switch' }],
    // Inside a critical section the fast interrupt is only made pending.
    nearMiss: () => [{ cpu: 0, call: 'crit_enter' }, { cpu: 0, call: 'fastintr_switch' }],
    nearMissStatus: 'returned',
  },
  {
    id: 'switch.mastering-cpusync',
    config: { ...SMP2, panicOnCscount: true },
    witness: () => [{ cpu: 0, call: 'cpusync_enter' }, { cpu: 0, call: 'lwkt_switch' }],
    // With lwkt.panic_on_cscount clear, only the diagnostic of lwkt_thread.c:488 is printed.
    nearMiss: () => [{ cpu: 0, call: 'cpusync_enter' }, { cpu: 0, call: 'lwkt_switch' }],
    nearMissConfig: SMP2,
    nearMissStatus: 'returned',
  },
  {
    // lwkt_alloc_thread reuses the preempted thread's structure, and its bzero
    // clears TDF_PREEMPT_LOCK.
    id: 'switch.preempted-not-locked',
    config: SMP2,
    witness: (c) => [
      ...kthreadPreemptedHoldingMplock(c),
      { cpu: 0, call: 'lwkt_free_thread', td: c.created(1) },
      allocThread(),
      { cpu: 0, call: 'lwkt_switch' },
    ],
    // Freed but not reallocated, the structure keeps its flags.
    nearMiss: (c) => [
      ...kthreadPreemptedHoldingMplock(c),
      { cpu: 0, call: 'lwkt_free_thread', td: c.created(1) },
      { cpu: 0, call: 'lwkt_switch' },
    ],
    nearMissStatus: 'suspended',
  },
  {
    // The interrupt thread holds its own count 1 plus the idle thread's 1; two
    // releases drop the lock that the preempted idle thread still needs.
    id: 'switch.mplock-not-held-on-return',
    config: SMP2,
    witness: (c) => [
      ...idlePreemptedHoldingMplock(c, 1),
      { cpu: 0, call: 'rel_mplock' },
      { cpu: 0, call: 'rel_mplock' },
      { cpu: 0, call: 'lwkt_switch' },
    ],
    nearMiss: (c) => [...idlePreemptedHoldingMplock(c, 1), { cpu: 0, call: 'rel_mplock' }, { cpu: 0, call: 'lwkt_switch' }],
    nearMissStatus: 'suspended',
  },
  {
    // The preempted idle thread has td_mpcount 2, the interrupt thread 1 + 2.
    // Two releases keep the lock, and lwkt_thread.c:513 takes back 2 from 1.
    id: 'switch.mpcount-negative',
    config: SMP2,
    witness: (c) => [
      ...idlePreemptedHoldingMplock(c, 2),
      { cpu: 0, call: 'rel_mplock' },
      { cpu: 0, call: 'rel_mplock' },
      { cpu: 0, call: 'lwkt_switch' },
    ],
    nearMiss: (c) => [...idlePreemptedHoldingMplock(c, 2), { cpu: 0, call: 'rel_mplock' }, { cpu: 0, call: 'lwkt_switch' }],
    nearMissStatus: 'suspended',
  },
  {
    // crit_exit_quick has no negative check, and lwkt_switch's own
    // crit_enter_gd then only brings td_pri back to 12 - 32 + 32 = 12.
    id: 'switch.target-pri-below-crit',
    config: SMP2,
    witness: () => [{ cpu: 0, call: 'crit_exit_quick' }, { cpu: 0, call: 'lwkt_switch' }],
    nearMiss: () => [
      { cpu: 0, call: 'crit_enter_quick' },
      { cpu: 0, call: 'crit_exit_quick' },
      { cpu: 0, call: 'lwkt_switch' },
    ],
    nearMissStatus: 'returned',
  },
  {
    // Nothing else is runnable, so lwkt_switch falls back to the idle thread
    // itself, which now counts the MP lock that cpu 1 holds.
    id: 'switch.mplock-not-held',
    config: SMP2,
    witness: () => [{ cpu: 1, call: 'get_mplock' }, { cpu: 0, call: 'get_mplock' }],
    // try_mplock gives up instead of switching.
    nearMiss: () => [{ cpu: 1, call: 'get_mplock' }, { cpu: 0, call: 'try_mplock' }],
    nearMissStatus: 'returned',
  },
  {
    // The interrupt thread leaves a critical section it never entered, switches
    // back to the idle thread it preempted at td_pri 28 - 32 + 32 = 28, and is
    // scheduled again while it waits on the run queue.
    id: 'preempt.target-not-in-crit',
    config: SMP2,
    witness: (c) => [
      ...intrThread(c, 0),
      { cpu: 0, call: 'intr', td: c.created(0) },
      { cpu: 0, call: 'crit_exit_quick' },
      { cpu: 0, call: 'lwkt_switch' },
      { cpu: 0, call: 'lwkt_schedule', td: c.created(0) },
    ],
    nearMiss: (c) => [
      ...intrThread(c, 0),
      { cpu: 0, call: 'intr', td: c.created(0) },
      { cpu: 0, call: 'lwkt_switch' },
      { cpu: 0, call: 'lwkt_schedule', td: c.created(0) },
    ],
    nearMissStatus: 'suspended',
  },
  {
    // Cpu 1 runs the preempted idle thread of cpu 0 before its preemptor
    // switched back, so TDF_PREEMPT_DONE is clear.
    id: 'preempt.not-done-on-return',
    config: SMP2,
    witness: (c) => [
      ...idlePreemptedAndAcquired(c),
      { cpu: 1, call: 'lwkt_schedule', td: 0 },
      { cpu: 1, call: 'lwkt_switch' },
    ],
    // The preemptor switches back first.
    nearMiss: (c) => [
      ...idlePreemptedAndAcquired(c),
      { cpu: 1, call: 'lwkt_schedule', td: 0 },
      { cpu: 0, call: 'lwkt_switch' },
    ],
    nearMissStatus: 'suspended',
  },
  {
    id: 'preempt.mpcount-changed',
    config: SMP2,
    witness: (c) => [...intrThread(c, 0), { cpu: 0, call: 'intr', td: c.created(0) }, { cpu: 0, call: 'lwkt_switch' }],
    nearMiss: (c) => [...intrThread(c, 0), { cpu: 0, call: 'intr', td: c.created(0) }, { cpu: 0, call: 'lwkt_switch' }],
    nearMissStatus: 'suspended',
    construction: {
      reason:
        'Only the running thread changes its own td_mpcount, and a preempted thread runs again either ' +
        "through its preemptor's lwkt_switch, which leaves its count alone, or from a run queue, where " +
        'lwkt_thread.c:765 fails first. Reallocating the structure drops its lwkt_preempt frame.',
      // The preempted idle thread's count goes from 0 to 1. The preemptor holds
      // the lock, so lwkt_thread.c:509 and 629 still pass on the way back.
      corrupt: (m) => {
        m.thread(0).td_mpcount += 1;
      },
    },
  },
  {
    // Without INVARIANTS: the idle thread counts the MP lock, and its preemptor
    // drops the lock. The preemptor then frees and reallocates itself, and bzero
    // clears its td_preempted. So its lwkt_switch falls back to the idle thread
    // without the lock instead of returning through lwkt_thread.c:509.
    id: 'preempt.mplock-not-held-through',
    config: NO_INVARIANTS_SMP2,
    witness: (c) => idleWithMplockPreempted(c, true),
    // Without the releases the lock is still held when the idle thread resumes.
    nearMiss: (c) => idleWithMplockPreempted(c, false),
    nearMissStatus: 'suspended',
  },
  {
    id: 'schedule.idle-thread',
    config: SMP2,
    witness: () => [{ cpu: 0, call: 'lwkt_schedule', td: 1 }],
    nearMiss: (c) => [stoppedKthread(), { cpu: 0, call: 'lwkt_schedule', td: c.created(0) }],
    nearMissStatus: 'returned',
  },
  {
    // The caller has a process too, so the printf of lwkt_thread.c:887 runs.
    id: 'schedule.proc-sleeping',
    config: SMP2,
    witness: (c) => [
      stoppedKthread(),
      { cpu: 0, call: 'set_proc', td: c.created(0), pid: 7, stat: 'SSLEEP' },
      { cpu: 0, call: 'set_proc', td: 0, pid: 3, stat: 'SSTOP' },
      { cpu: 0, call: 'lwkt_schedule', td: c.created(0) },
    ],
    nearMiss: (c) => [
      stoppedKthread(),
      { cpu: 0, call: 'set_proc', td: c.created(0), pid: 7, stat: 'SRUN' },
      { cpu: 0, call: 'set_proc', td: 0, pid: 3, stat: 'SSTOP' },
      { cpu: 0, call: 'lwkt_schedule', td: c.created(0) },
    ],
    nearMissStatus: 'returned',
  },
  {
    id: 'acquire.on-runq',
    config: SMP2,
    witness: (c) => [kthread(), { cpu: 0, call: 'lwkt_acquire', td: c.created(0) }],
    nearMiss: (c) => [stoppedKthread(), { cpu: 0, call: 'lwkt_acquire', td: c.created(0) }],
    nearMissStatus: 'returned',
  },
  {
    id: 'setpri.negative',
    config: SMP2,
    witness: () => [{ cpu: 0, call: 'lwkt_setpri', td: 0, pri: -1 }],
    nearMiss: () => [{ cpu: 0, call: 'lwkt_setpri', td: 0, pri: 0 }],
    nearMissStatus: 'returned',
  },
  {
    // Thread 1 is the idle thread of cpu 1.
    id: 'setpri.remote-thread',
    config: SMP2,
    witness: () => [{ cpu: 0, call: 'lwkt_setpri', td: 1, pri: 12 }],
    nearMiss: () => [{ cpu: 1, call: 'lwkt_setpri', td: 1, pri: 12 }],
    nearMissStatus: 'returned',
  },
  {
    id: 'setpri_self.out-of-range',
    config: SMP2,
    witness: () => [{ cpu: 0, call: 'lwkt_setpri_self', pri: TDPRI_MAX + 1 }],
    nearMiss: () => [{ cpu: 0, call: 'lwkt_setpri_self', pri: TDPRI_MAX }],
    nearMissStatus: 'returned',
  },
  {
    // The preemptor switches back on cpu 0, so the idle thread of cpu 0 runs
    // there with td_gd = 1 and exits.
    id: 'exit.wrong-cpu',
    config: SMP2,
    witness: (c) => [...idlePreemptedAndAcquired(c), { cpu: 0, call: 'lwkt_switch' }, { cpu: 0, call: 'lwkt_exit' }],
    // Without the lwkt_acquire the thread exits on its own cpu.
    nearMiss: (c) => [
      ...intrThread(c, 0),
      { cpu: 0, call: 'intr', td: c.created(0) },
      { cpu: 0, call: 'lwkt_switch' },
      { cpu: 0, call: 'lwkt_exit' },
    ],
    nearMissStatus: 'suspended',
  },
  {
    id: 'crit_panic.negative',
    config: SMP2,
    witness: () => [{ cpu: 0, call: 'crit_exit' }],
    nearMiss: () => [{ cpu: 0, call: 'crit_enter' }, { cpu: 0, call: 'crit_exit' }],
    nearMissStatus: 'returned',
  },

  // Checks of the code lwkt_thread.c calls.
  {
    id: 'get_mplock.not-held-after-switch',
    config: SMP2,
    witness: () => [...kthreadWaitingInGetMplock(), { cpu: 0, call: 'lwkt_switch' }],
    // Cpu 1 lets go of the lock, and the switcher takes it for the waiting thread.
    nearMiss: () => [...kthreadWaitingInGetMplock(), { cpu: 1, call: 'rel_mplock' }, { cpu: 0, call: 'lwkt_switch' }],
    nearMissStatus: 'suspended',
    construction: {
      reason:
        'A thread switched out in get_mplock has td_mpcount > 0, and every switch to such a thread ' +
        'either takes the MP lock first (lwkt_thread.c:573, lwkt_preempt at lwkt_thread.c:749) or fails ' +
        'ASSERT_MP_LOCK_HELD at lwkt_thread.c:629, which is compiled in under the same options. The ' +
        'idle thread case of the catalogue stops at lwkt_thread.c:629.',
      // With td_mpcount 0 the switcher runs the waiting thread without the lock.
      corrupt: (m, c) => {
        m.thread(c.created(0)).td_mpcount = 0;
      },
    },
  },
  {
    id: 'rel_mplock.count-zero',
    config: SMP2,
    witness: () => [{ cpu: 0, call: 'rel_mplock' }],
    nearMiss: () => [{ cpu: 0, call: 'get_mplock' }, { cpu: 0, call: 'rel_mplock' }],
    nearMissStatus: 'returned',
  },
  {
    // The idle thread of cpu 0 runs there with td_gd = 1, and lwkt_chktokens
    // compares the token's owner (cpu 1) with td_gd, not with the running cpu.
    id: 'gettoken.not-owned',
    config: SMP2,
    witness: (c) => [
      { cpu: 1, call: 'lwkt_wait_init' },
      ...idlePreemptedAndAcquired(c),
      { cpu: 0, call: 'lwkt_switch' },
      { cpu: 0, call: 'lwkt_gettoken', tok: 0 },
    ],
    // A token made on cpu 0 is owned by cpu 0.
    nearMiss: (c) => [
      { cpu: 0, call: 'lwkt_wait_init' },
      ...idlePreemptedAndAcquired(c),
      { cpu: 0, call: 'lwkt_switch' },
      { cpu: 0, call: 'lwkt_gettoken', tok: 0 },
    ],
    nearMissStatus: 'returned',
  },
  {
    id: 'reltoken.not-held',
    config: SMP2,
    witness: () => [{ cpu: 0, call: 'lwkt_wait_init' }, { cpu: 0, call: 'lwkt_reltoken', tok: 0 }],
    nearMiss: () => [
      { cpu: 0, call: 'lwkt_wait_init' },
      { cpu: 0, call: 'lwkt_gettoken', tok: 0 },
      { cpu: 0, call: 'lwkt_reltoken', tok: 0 },
    ],
    nearMissStatus: 'returned',
  },
  {
    // The IPI defers cpu 1's request because the idle thread of cpu 0 holds the
    // token; lwkt_switch then drains the request and hands the token to cpu 1
    // although the idle thread still holds it.
    id: 'reltoken.not-owned',
    config: SMP2,
    witness: () => [
      ...remoteTokenRequest(true),
      { cpu: 0, call: 'ipi' },
      { cpu: 0, call: 'lwkt_switch' },
      { cpu: 0, call: 'lwkt_reltoken', tok: 0 },
    ],
    // Released before lwkt_switch drains the request, the token is still cpu 0's.
    nearMiss: () => [...remoteTokenRequest(true), { cpu: 0, call: 'ipi' }, { cpu: 0, call: 'lwkt_reltoken', tok: 0 }],
    nearMissStatus: 'returned',
  },
  {
    id: 'reqtoken.bad-magic',
    config: SMP2,
    witness: () => [...remoteTokenRequest(false), { cpu: 0, call: 'ipi' }],
    nearMiss: () => [...remoteTokenRequest(false), { cpu: 0, call: 'ipi' }],
    nearMissStatus: 'returned',
    construction: {
      reason:
        'lwkt_chktokens sets LWKT_TOKREF_MAGIC2 before it queues a request and sends none while the ' +
        'reference carries MAGIC2; only the handling of that request sets MAGIC1 again.',
      // The queued request's reference loses its MAGIC2 before cpu 0 handles it.
      corrupt: (m) => {
        const request = m.gd(1).gd_ipiq[0]?.[0];
        if (request === undefined) throw new Error('expected a token request queued from cpu 1 to cpu 0');
        m.tokref(request.arg).tr_magic = 1;
      },
    },
  },
  {
    // The idle thread holds the token of the wait queue the kernel thread
    // blocked on, and it is on the preempting interrupt thread's td_preempted
    // chain, so lwkt_trytoken fails and lwkt_schedule forwards by IPI.
    id: 'send_ipiq.up-kernel',
    config: UP,
    witness: (c) => blockedThreadAndPreemptedTokenHolder(c, true),
    nearMiss: (c) => blockedThreadAndPreemptedTokenHolder(c, false),
    nearMissStatus: 'returned',
  },
  {
    // The idle thread exits while nothing else is runnable, so the lwkt_switch
    // of cpu_thread_exit picks the idle thread itself and returns. A kernel
    // thread that exited, was scheduled again and ran gets there too.
    id: 'cpu_thread_exit.returned',
    config: SMP2,
    witness: () => [{ cpu: 0, call: 'lwkt_exit' }],
    // With a kernel thread runnable, the exiting thread is switched away for good.
    nearMiss: () => [kthread(), { cpu: 0, call: 'lwkt_exit' }],
    nearMissStatus: 'suspended',
  },
  {
    id: 'null-dereference',
    config: SMP2,
    witness: (c) => [
      stoppedKthread(),
      { cpu: 0, call: 'set_proc', td: c.created(0), pid: 7, stat: 'SSLEEP' },
      { cpu: 0, call: 'lwkt_schedule', td: c.created(0) },
    ],
    nearMiss: (c) => [
      stoppedKthread(),
      { cpu: 0, call: 'set_proc', td: c.created(0), pid: 7, stat: 'SRUN' },
      { cpu: 0, call: 'lwkt_schedule', td: c.created(0) },
    ],
    nearMissStatus: 'returned',
  },
];
