// Invariants of the LWKT scheduler state, evaluated after a step on a plain
// AbstractState (spec/schema.ts). They read no model class, so they apply to
// the snapshot of any implementation. The ids, classes and descriptions are
// INVARIANTS in spec/catalogue.ts; the code they protect is DragonFly BSD
// sys/kern/lwkt_thread.c rev 1.71, cited as `lwkt_thread.c:NNN`.
//
// Lists (run queues, wait queues, free caches, gd_tdallq, td_toks and the
// td_preempted chain) are checked for every thread structure, zone-freed ones
// included, because the C code keeps following the links of a freed
// structure. Checks of a thread's own values (counts, TDF_RUNNING, td_gd of a
// running thread) skip structures with `zfreed` set.
//
// checkInvariants evaluates whatever state it is given. A step that ends in a
// panic or a model limit leaves the state as it was in the middle of a call
// (for example with gd_intr_nesting_level raised), so the caller decides
// whether such a state is checked.
import { INVARIANTS } from '../spec/catalogue.js';
import {
  CACHE_NTHREADS,
  MP_FREE_LOCK,
  NQS,
  TDF_MIGRATING,
  TDF_PREEMPT_LOCK,
  TDF_RUNNING,
  TDF_RUNQ,
  TDPRI_MASK,
} from '../spec/constants.js';
import type { AbstractState, ThreadState } from '../spec/schema.js';

export interface InvariantFailure {
  id: string;
  message: string;
}

/** Returns one message per violation found; an empty list means the invariant holds. */
export type InvariantPredicate = (state: AbstractState, index?: StateIndex) => string[];

/** At most this many violations are spelled out in one failure message. */
const MESSAGES_PER_FAILURE = 8;

// ---------------------------------------------------------------------------
// Helpers over the plain state.

interface RunqEntry {
  cpu: number;
  nq: number;
  td: number;
}

/** Lookups built once per check and shared by the predicates. */
export interface StateIndex {
  threads: Map<number, ThreadState>;
  runqEntries: RunqEntry[];
  /** Number of run queue entries of each queued thread. */
  runqCount: Map<number, number>;
}

export function buildIndex(state: AbstractState): StateIndex {
  const runqEntries: RunqEntry[] = [];
  for (const gd of state.cpus) {
    gd.gd_tdrunq.forEach((queue, nq) => {
      for (const td of queue) runqEntries.push({ cpu: gd.cpuid, nq, td });
    });
  }

  const runqCount = new Map<number, number>();
  for (const entry of runqEntries) runqCount.set(entry.td, (runqCount.get(entry.td) ?? 0) + 1);

  return { threads: new Map(state.threads.map((td) => [td.id, td])), runqEntries, runqCount };
}

function liveThread(index: StateIndex, id: number): ThreadState | undefined {
  const td = index.threads.get(id);
  return td === undefined || td.zfreed ? undefined : td;
}

function hasFlag(td: ThreadState, flag: number): boolean {
  return (td.td_flags & flag) !== 0;
}

/** Returns the run queue index of a thread, the low five bits of td_pri (lwkt_thread.c:129, 143). */
function runqIndex(td: ThreadState): number {
  return td.td_pri & TDPRI_MASK;
}

function formatMask(mask: number): string {
  return `0x${(mask >>> 0).toString(16).padStart(8, '0')}`;
}

// ---------------------------------------------------------------------------
// Structure invariants.

// _lwkt_dequeue trusts TDF_RUNQ to say that td_threadq links the thread into gd_tdrunq[td_pri & TDPRI_MASK] of td_gd (lwkt_thread.c:128-133).
function runqFlagMatchesMembership(state: AbstractState, index = buildIndex(state)): string[] {
  const problems: string[] = [];

  for (const { cpu, nq, td } of index.runqEntries) {
    const thread = index.threads.get(td);
    if (thread === undefined) {
      problems.push(`cpu ${cpu} run queue ${nq} holds thread ${td}, which does not exist`);
    } else if (!hasFlag(thread, TDF_RUNQ)) {
      problems.push(`thread ${td} is on cpu ${cpu} run queue ${nq} but has no TDF_RUNQ`);
    } else if (thread.td_gd !== cpu || runqIndex(thread) !== nq) {
      problems.push(
        `thread ${td} is on cpu ${cpu} run queue ${nq}, but td_gd ${thread.td_gd} and td_pri ${thread.td_pri} place it on cpu ${thread.td_gd} run queue ${runqIndex(thread)}`,
      );
    }
  }

  for (const thread of state.threads) {
    if (!hasFlag(thread, TDF_RUNQ)) continue;
    const nq = runqIndex(thread);
    const queue = state.cpus[thread.td_gd]?.gd_tdrunq[nq];
    if (queue === undefined || !queue.includes(thread.id)) {
      problems.push(`thread ${thread.id} has TDF_RUNQ but is not on cpu ${thread.td_gd} run queue ${nq}`);
    }
  }
  return problems;
}

// A second TAILQ_INSERT_TAIL of a queued thread would corrupt the run queue it is on (lwkt_thread.c:147).
function runqNoDuplicates(state: AbstractState, index = buildIndex(state)): string[] {
  const places = new Map<number, string[]>();
  for (const { cpu, nq, td } of index.runqEntries) {
    const list = places.get(td) ?? [];
    list.push(`cpu ${cpu} run queue ${nq}`);
    places.set(td, list);
  }

  const problems: string[] = [];
  for (const [td, list] of places) {
    if (list.length > 1) problems.push(`thread ${td} appears ${list.length} times on the run queues: ${list.join(', ')}`);
  }
  return problems;
}

// Run queues, wait queues and the free cache share the single td_threadq link, so a thread can sit on only one of them (lwkt_thread.c:147, 396, 1170).
function threadqSingleLink(state: AbstractState): string[] {
  // Each list a thread is on, by name. A duplicate within one run queue is left
  // to runq.no-duplicates. Duplicates within a wait queue or a free cache have
  // no invariant of their own, so they count here.
  const lists = new Map<number, string[]>();
  const note = (td: number, name: string) => {
    const names = lists.get(td) ?? [];
    names.push(name);
    lists.set(td, names);
  };

  for (const gd of state.cpus) {
    gd.gd_tdrunq.forEach((queue, nq) => {
      for (const td of new Set(queue)) note(td, `cpu ${gd.cpuid} run queue ${nq}`);
    });
    for (const td of gd.gd_tdfreeq) note(td, `cpu ${gd.cpuid} free cache`);
  }
  for (const w of state.waits) {
    for (const td of w.wa_waitq) note(td, `wait queue ${w.id}`);
  }

  const problems: string[] = [];
  for (const [td, names] of lists) {
    if (names.length > 1) problems.push(`thread ${td} is linked through td_threadq on ${names.length} lists: ${names.join(', ')}`);
  }
  return problems;
}

// lwkt_switch takes bsrl(gd_runqmask) as the highest non-empty queue, so a clear bit hides a runnable thread (lwkt_thread.c:561-565).
function runqmaskCoversNonempty(state: AbstractState): string[] {
  const problems: string[] = [];
  for (const gd of state.cpus) {
    for (let nq = 0; nq < NQS; nq++) {
      const queue = gd.gd_tdrunq[nq] ?? [];
      if (queue.length > 0 && ((gd.gd_runqmask >>> nq) & 1) === 0) {
        problems.push(`cpu ${gd.cpuid} run queue ${nq} is not empty but bit ${nq} of gd_runqmask ${formatMask(gd.gd_runqmask)} is clear`);
      }
    }
  }
  return problems;
}

// td_allq is one link, and lwkt_free_thread, lwkt_acquire and lwkt_exit remove the thread from gd_tdallq assuming it is there once (lwkt_thread.c:391, 984, 1286).
function allqSingle(state: AbstractState, index = buildIndex(state)): string[] {
  const places = new Map<number, number[]>();
  const problems: string[] = [];

  for (const gd of state.cpus) {
    for (const td of gd.gd_tdallq) {
      if (!index.threads.has(td)) problems.push(`cpu ${gd.cpuid} gd_tdallq holds thread ${td}, which does not exist`);
      const cpus = places.get(td) ?? [];
      cpus.push(gd.cpuid);
      places.set(td, cpus);
    }
  }

  for (const [td, cpus] of places) {
    if (cpus.length > 1) problems.push(`thread ${td} appears ${cpus.length} times on gd_tdallq: cpus ${cpus.join(', ')}`);
  }
  return problems;
}

// lwkt_signal takes wa_count as the number of waiters when count < 0 (lwkt_thread.c:1203-1204).
function waitqCountMatches(state: AbstractState): string[] {
  return state.waits
    .filter((w) => w.wa_count !== w.wa_waitq.length)
    .map((w) => `wait queue ${w.id} has wa_count ${w.wa_count} but ${w.wa_waitq.length} threads on wa_waitq`);
}

// lwkt_schedule finds the wait queue to unlink a thread from through td_wait (lwkt_thread.c:918-924).
function waitqTdWaitMatches(state: AbstractState, index = buildIndex(state)): string[] {
  const problems: string[] = [];

  for (const w of state.waits) {
    for (const td of w.wa_waitq) {
      const thread = index.threads.get(td);
      if (thread === undefined) {
        problems.push(`wait queue ${w.id} holds thread ${td}, which does not exist`);
      } else if (thread.td_wait !== w.id) {
        problems.push(`thread ${td} is on wait queue ${w.id} but its td_wait is ${thread.td_wait}`);
      }
    }
  }

  for (const thread of state.threads) {
    if (thread.td_wait === null) continue;
    const w = state.waits.find((x) => x.id === thread.td_wait);
    if (w === undefined) {
      problems.push(`thread ${thread.id} has td_wait ${thread.td_wait}, which names no wait queue`);
    } else if (!w.wa_waitq.includes(thread.id)) {
      problems.push(`thread ${thread.id} has td_wait ${w.id} but is not on wait queue ${w.id}`);
    }
  }
  return problems;
}

// lwkt_alloc_thread and lwkt_free_thread decide from gd_tdfreecount whether the cache has an entry or room (lwkt_thread.c:238, 392).
function freeqCountMatches(state: AbstractState): string[] {
  return state.cpus
    .filter((gd) => gd.gd_tdfreecount !== gd.gd_tdfreeq.length)
    .map((gd) => `cpu ${gd.cpuid} has gd_tdfreecount ${gd.gd_tdfreecount} but ${gd.gd_tdfreeq.length} threads on gd_tdfreeq`);
}

// lwkt_acquire spins until TDF_RUNNING clears and lwkt_alloc_thread asserts a cached thread is not running, so the flag must mean "on a cpu now" (lwkt_thread.c:241, 980).
function curthreadRunning(state: AbstractState, index = buildIndex(state)): string[] {
  const problems: string[] = [];
  const runningOn = new Map<number, number[]>();

  for (const gd of state.cpus) {
    const thread = index.threads.get(gd.gd_curthread);
    if (thread === undefined) {
      problems.push(`cpu ${gd.cpuid} gd_curthread is thread ${gd.gd_curthread}, which does not exist`);
      continue;
    }
    if (thread.zfreed) continue;
    if (!hasFlag(thread, TDF_RUNNING)) problems.push(`thread ${thread.id} is gd_curthread of cpu ${gd.cpuid} but has no TDF_RUNNING`);
    const cpus = runningOn.get(thread.id) ?? [];
    cpus.push(gd.cpuid);
    runningOn.set(thread.id, cpus);
  }

  for (const thread of state.threads) {
    if (thread.zfreed || !hasFlag(thread, TDF_RUNNING)) continue;
    const cpus = runningOn.get(thread.id) ?? [];
    if (cpus.length === 0) problems.push(`thread ${thread.id} has TDF_RUNNING but is gd_curthread of no cpu`);
    if (cpus.length > 1) problems.push(`thread ${thread.id} is gd_curthread of ${cpus.length} cpus: ${cpus.join(', ')}`);
  }
  return problems;
}

// lwkt_switch resumes td_preempted unconditionally, so a cycle would switch among preemptors forever (lwkt_thread.c:495).
function preemptChainAcyclic(state: AbstractState, index = buildIndex(state)): string[] {
  const problems: string[] = [];

  for (const start of state.threads) {
    const path = [start.id];
    const seen = new Set(path);
    let next = start.td_preempted;
    while (next !== null && !seen.has(next)) {
      path.push(next);
      seen.add(next);
      next = index.threads.get(next)?.td_preempted ?? null;
    }

    // Report each cycle once, from its lowest id.
    if (next === start.id && path.every((id) => id >= start.id)) {
      problems.push(`the td_preempted chain of thread ${start.id} returns to it: ${[...path, start.id].join(' -> ')}`);
    }
  }
  return problems;
}

// lwkt_switch asserts TDF_PREEMPT_LOCK on the thread it returns to, and a preempted thread is switched out (lwkt_thread.c:506, 763-764).
function preemptChainLocked(state: AbstractState, index = buildIndex(state)): string[] {
  const problems: string[] = [];

  for (const preemptor of state.threads) {
    if (preemptor.td_preempted === null) continue;
    const preempted = index.threads.get(preemptor.td_preempted);
    if (preempted === undefined) {
      problems.push(`thread ${preemptor.id} has td_preempted ${preemptor.td_preempted}, which does not exist`);
      continue;
    }
    if (!hasFlag(preempted, TDF_PREEMPT_LOCK)) {
      problems.push(`thread ${preempted.id} is preempted by thread ${preemptor.id} but has no TDF_PREEMPT_LOCK`);
    }
    if (hasFlag(preempted, TDF_RUNNING)) {
      problems.push(`thread ${preempted.id} is preempted by thread ${preemptor.id} but has TDF_RUNNING`);
    }
  }
  return problems;
}

// A token reference is a stack object of one thread, linked into that thread's td_toks through tr_next (lwkt_token.c rev 1.13).
function tokrefSingleHolder(state: AbstractState): string[] {
  const holders = new Map<number, number[]>();
  for (const thread of state.threads) {
    for (const ref of thread.td_toks) {
      const list = holders.get(ref) ?? [];
      list.push(thread.id);
      holders.set(ref, list);
    }
  }

  const problems: string[] = [];
  for (const [ref, threads] of holders) {
    if (threads.length > 1) problems.push(`tokref ${ref} appears ${threads.length} times on td_toks: threads ${threads.join(', ')}`);
  }
  return problems;
}

// ---------------------------------------------------------------------------
// Intent invariants.

// The idle thread is only the fallback of lwkt_switch; lwkt_schedule and lwkt_schedule_self assert it is never queued (lwkt_thread.c:164, 883).
function idleNeverOnRunq(state: AbstractState, index = buildIndex(state)): string[] {
  const problems: string[] = [];
  for (const gd of state.cpus) {
    for (const entry of index.runqEntries) {
      if (entry.td === gd.gd_idlethread) {
        problems.push(`idle thread ${gd.gd_idlethread} of cpu ${gd.cpuid} is on cpu ${entry.cpu} run queue ${entry.nq}`);
      }
    }
  }
  return problems;
}

// crit_panic fires when td_pri would go negative, because the count of critical sections lives in td_pri >> 5 (lwkt_thread.c:1297-1303).
function critCountNonnegative(state: AbstractState): string[] {
  return state.threads
    .filter((td) => !td.zfreed && td.td_pri >> 5 < 0)
    .map((td) => `thread ${td.id} has td_pri ${td.td_pri}, a critical-section count (td_pri >> 5) of ${td.td_pri >> 5}`);
}

// lwkt_block dequeues the thread before putting it on the wait queue and then switches away, so a waiter is neither picked by lwkt_switch nor running (lwkt_thread.c:1169-1175).
function waitqNotRunnable(state: AbstractState, index = buildIndex(state)): string[] {
  const problems: string[] = [];
  for (const w of state.waits) {
    for (const td of w.wa_waitq) {
      const thread = index.threads.get(td);
      if (thread !== undefined && hasFlag(thread, TDF_RUNQ)) {
        problems.push(`thread ${td} is on wait queue ${w.id} and has TDF_RUNQ`);
      } else if (index.runqCount.has(td)) {
        problems.push(`thread ${td} is on wait queue ${w.id} and on a run queue`);
      } else if (thread !== undefined && hasFlag(thread, TDF_RUNNING)) {
        problems.push(`thread ${td} is on wait queue ${w.id} and is running`);
      }
    }
  }
  return problems;
}

// lwkt_block loops while td_wmesg is set, and only lwkt_signal, which finds waiters through wa_waitq, clears it (lwkt_thread.c:1176, 1210).
function blockWaitingThreadReachable(state: AbstractState): string[] {
  const problems: string[] = [];
  for (const thread of state.threads) {
    if (thread.zfreed || thread.td_wmesg === null) continue;
    for (const frame of thread.frames) {
      if (frame.fn !== 'lwkt_block' || !('stage' in frame) || frame.stage !== 'loop') continue;
      if (thread.td_wait !== frame.w) {
        problems.push(
          `thread ${thread.id} waits in lwkt_block on wait queue ${frame.w} with td_wmesg ${JSON.stringify(thread.td_wmesg)}, but its td_wait is ${thread.td_wait}, so no lwkt_signal can wake it`,
        );
      }
    }
  }
  return problems;
}

// mp_lock holds the id of the owning cpu or MP_FREE_LOCK (mplock.s rev 1.15).
function mplockOwnerValid(state: AbstractState): string[] {
  const owner = state.mp_lock;
  if (owner === MP_FREE_LOCK || (Number.isInteger(owner) && owner >= 0 && owner < state.config.ncpus)) return [];
  return [`mp_lock is ${owner}, which is neither -1 nor a cpu id in 0..${state.config.ncpus - 1}`];
}

// lwkt_switch takes the MP lock for a thread with td_mpcount > 0 before running it (lwkt_thread.c:573, 629).
function mplockHeldByRunner(state: AbstractState, index = buildIndex(state)): string[] {
  if (!state.config.smp) return [];
  const problems: string[] = [];
  for (const gd of state.cpus) {
    const thread = liveThread(index, gd.gd_curthread);
    if (thread !== undefined && thread.td_mpcount > 0 && state.mp_lock !== gd.cpuid) {
      problems.push(`thread ${thread.id} runs on cpu ${gd.cpuid} with td_mpcount ${thread.td_mpcount} but mp_lock is ${state.mp_lock}`);
    }
  }
  return problems;
}

// lwkt_preempt adds the preempted thread's td_mpcount to the preemptor and asserts it unchanged on return; lwkt_switch subtracts it back (lwkt_thread.c:746-748, 767, 512-513).
function mpcountConservation(state: AbstractState, index = buildIndex(state)): string[] {
  if (!state.config.smp) return [];
  const problems: string[] = [];

  for (const preemptor of state.threads) {
    if (preemptor.zfreed || preemptor.td_preempted === null) continue;
    const preempted = liveThread(index, preemptor.td_preempted);
    if (preempted === undefined) continue;

    if (preemptor.td_mpcount < preempted.td_mpcount) {
      problems.push(
        `thread ${preemptor.id} preempts thread ${preempted.id} with td_mpcount ${preemptor.td_mpcount}, less than the preempted thread's ${preempted.td_mpcount}`,
      );
    }

    const frame = preempted.frames.find((f) => f.fn === 'lwkt_preempt' && 'ntd' in f && f.ntd === preemptor.id);
    if (frame !== undefined && 'savecnt' in frame && frame.savecnt !== preempted.td_mpcount) {
      problems.push(
        `thread ${preempted.id} has td_mpcount ${preempted.td_mpcount}, but it was ${frame.savecnt} when thread ${preemptor.id} preempted it`,
      );
    }
  }
  return problems;
}

// lwkt_switch asserts td_mpcount >= 0 after taking back a preempted thread's count, and rel_mplock must not go below zero (lwkt_thread.c:514).
function mpcountNonnegative(state: AbstractState): string[] {
  return state.threads
    .filter((td) => !td.zfreed && td.td_mpcount < 0)
    .map((td) => `thread ${td.id} has td_mpcount ${td.td_mpcount}`);
}

// lwkt_free_thread caches at most CACHE_NTHREADS structures per cpu; lwkt_exit skips the bound (lwkt_thread.c:392, 1287-1290).
function freeqBounded(state: AbstractState): string[] {
  return state.cpus
    .filter((gd) => gd.gd_tdfreecount > CACHE_NTHREADS)
    .map((gd) => `cpu ${gd.cpuid} has gd_tdfreecount ${gd.gd_tdfreecount}, above CACHE_NTHREADS (${CACHE_NTHREADS})`);
}

// lwkt_wait_free waits while td_refs is non-zero and lwkt_rele asserts it positive (lwkt_thread.c:367, 376).
function refsNonnegative(state: AbstractState): string[] {
  return state.threads
    .filter((td) => !td.zfreed && td.td_refs < 0)
    .map((td) => `thread ${td.id} has td_refs ${td.td_refs}`);
}

// The run queue helpers use td->td_gd, which for the running thread must be mycpu (lwkt_thread.c:130, 1285).
function runningMatchesTdGd(state: AbstractState, index = buildIndex(state)): string[] {
  const problems: string[] = [];
  for (const gd of state.cpus) {
    const thread = liveThread(index, gd.gd_curthread);
    if (thread !== undefined && thread.td_gd !== gd.cpuid) {
      problems.push(`thread ${thread.id} runs on cpu ${gd.cpuid} but its td_gd is ${thread.td_gd}`);
    }
  }
  return problems;
}

// lwkt_acquire moves the thread between gd_tdallq lists when it changes td_gd; only lwkt_setcpu_self leaves them apart, under TDF_MIGRATING (lwkt_thread.c:982-987, 1105-1108).
function allqMatchesTdGd(state: AbstractState, index = buildIndex(state)): string[] {
  const problems: string[] = [];
  for (const gd of state.cpus) {
    for (const td of gd.gd_tdallq) {
      const thread = liveThread(index, td);
      if (thread !== undefined && thread.td_gd !== gd.cpuid && !hasFlag(thread, TDF_MIGRATING)) {
        problems.push(`thread ${td} is on cpu ${gd.cpuid} gd_tdallq but its td_gd is ${thread.td_gd} and it has no TDF_MIGRATING`);
      }
    }
  }
  return problems;
}

// lwkt_switch panics when called inside a fast interrupt, and every modelled interrupt path lowers the level before it returns (lwkt_thread.c:458-459).
function nestingZeroBetweenSteps(state: AbstractState): string[] {
  return state.cpus
    .filter((gd) => gd.gd_intr_nesting_level !== 0)
    .map((gd) => `cpu ${gd.cpuid} has gd_intr_nesting_level ${gd.gd_intr_nesting_level} between steps`);
}

// ---------------------------------------------------------------------------

/** The predicate of every invariant in spec/catalogue.ts, by id. */
export const INVARIANT_PREDICATES: Readonly<Record<string, InvariantPredicate>> = {
  'runq.flag-matches-membership': runqFlagMatchesMembership,
  'runq.no-duplicates': runqNoDuplicates,
  'threadq.single-link': threadqSingleLink,
  'runqmask.covers-nonempty': runqmaskCoversNonempty,
  'allq.single': allqSingle,
  'waitq.count-matches': waitqCountMatches,
  'waitq.td-wait-matches': waitqTdWaitMatches,
  'freeq.count-matches': freeqCountMatches,
  'curthread.running': curthreadRunning,
  'preempt.chain-acyclic': preemptChainAcyclic,
  'preempt.chain-locked': preemptChainLocked,
  'tokref.single-holder': tokrefSingleHolder,
  'idle.never-on-runq': idleNeverOnRunq,
  'crit.count-nonnegative': critCountNonnegative,
  'waitq.not-runnable': waitqNotRunnable,
  'block.waiting-thread-reachable': blockWaitingThreadReachable,
  'mplock.owner-valid': mplockOwnerValid,
  'mplock.held-by-runner': mplockHeldByRunner,
  'mpcount.conservation': mpcountConservation,
  'mpcount.nonnegative': mpcountNonnegative,
  'freeq.bounded': freeqBounded,
  'refs.nonnegative': refsNonnegative,
  'running.matches-td-gd': runningMatchesTdGd,
  'allq.matches-td-gd': allqMatchesTdGd,
  'nesting.zero-between-steps': nestingZeroBetweenSteps,
};

function summarize(problems: string[]): string {
  const listed = problems.slice(0, MESSAGES_PER_FAILURE);
  const rest = problems.length - listed.length;
  return rest > 0 ? `${listed.join('; ')}; and ${rest} more` : listed.join('; ');
}

/**
 * Evaluates every invariant of the catalogue on `state` and returns the
 * failing ones in catalogue order, one entry per id.
 */
export function checkInvariants(state: AbstractState): InvariantFailure[] {
  const index = buildIndex(state);
  const failures: InvariantFailure[] = [];
  for (const invariant of INVARIANTS) {
    const predicate = INVARIANT_PREDICATES[invariant.id];
    if (predicate === undefined) {
      throw new Error(`invariant '${invariant.id}' of spec/catalogue.ts has no predicate; add one to INVARIANT_PREDICATES in model/invariants.ts`);
    }
    const problems = predicate(state, index);
    if (problems.length > 0) failures.push({ id: invariant.id, message: summarize(problems) });
  }
  return failures;
}
