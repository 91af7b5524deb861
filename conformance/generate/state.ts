// Read-only queries on the abstract state (spec/schema.ts) that the legality
// rules and the step generator share.
import { TDF_INTTHREAD, TDF_MIGRATING, TDF_PREEMPT_LOCK, TDF_RUNNING, TDF_RUNQ, TDPRI_CRIT } from '../../spec/constants.js';
import type { AbstractState, ThreadState } from '../../spec/schema.js';

export function threadOf(s: AbstractState, id: number): ThreadState | undefined {
  return s.threads[id]?.id === id ? s.threads[id] : s.threads.find((t) => t.id === id);
}

/** gd_curthread of `cpu`. */
export function curthread(s: AbstractState, cpu: number): ThreadState {
  const c = s.cpus[cpu];
  const td = c === undefined ? undefined : threadOf(s, c.gd_curthread);
  if (td === undefined) throw new Error(`abstract state has no current thread for cpu ${cpu}`);
  return td;
}

export function isIdleThread(s: AbstractState, td: ThreadState): boolean {
  return s.cpus.some((c) => c.gd_idlethread === td.id);
}

/** Tests whether the innermost frame is one of the spin stages of spec/semantics.md 2.4. */
export function isSpinning(td: ThreadState): boolean {
  const f = td.frames[0];
  if (f === undefined) return false;
  if (f.fn === 'lwkt_acquire') return true;
  if (f.fn === 'lwkt_gettoken' || f.fn === 'lwkt_reltoken') return 'stage' in f && f.stage === 'spin';
  return false;
}

export function isOnFreeCache(s: AbstractState, id: number): boolean {
  return s.cpus.some((c) => c.gd_tdfreeq.includes(id));
}

/** Tests whether the thread called lwkt_exit and was switched out for good. */
export function hasExited(td: ThreadState): boolean {
  return td.frames[0]?.fn === 'cpu_thread_exit';
}

/** Returns the cpu whose IPI FIFO still contains lwkt_init_thread_remote for the thread, or null. */
export function pendingInitSource(s: AbstractState, id: number): number | null {
  const source = s.cpus.find((c) => c.gd_ipiq.some((fifo) => fifo.some((m) => m.func === 'lwkt_init_thread_remote' && m.arg === id)));
  return source?.cpuid ?? null;
}

/** Tests for a thread structure that is initialised and neither freed, cached nor exited. */
export function isLive(s: AbstractState, td: ThreadState): boolean {
  return !td.zfreed && !isOnFreeCache(s, td.id) && !hasExited(td) && pendingInitSource(s, td.id) === null;
}

export function critCount(td: ThreadState): number {
  return Math.floor(td.td_pri / TDPRI_CRIT);
}

export const hasFlag = (td: ThreadState, flag: number): boolean => (td.td_flags & flag) !== 0;
export const isRunning = (td: ThreadState): boolean => hasFlag(td, TDF_RUNNING);
export const isOnRunq = (td: ThreadState): boolean => hasFlag(td, TDF_RUNQ);
export const isPreemptLocked = (td: ThreadState): boolean => hasFlag(td, TDF_PREEMPT_LOCK);
export const isInterruptThread = (td: ThreadState): boolean => hasFlag(td, TDF_INTTHREAD);
export const isMigrating = (td: ThreadState): boolean => hasFlag(td, TDF_MIGRATING);

/** MP lock references the thread took itself: td_mpcount less what it inherited from the thread it preempted. */
export function ownMpcount(s: AbstractState, td: ThreadState): number {
  const preempted = td.td_preempted === null ? undefined : threadOf(s, td.td_preempted);
  return td.td_mpcount - (preempted?.td_mpcount ?? 0);
}

/** Tests whether the incoming IPI FIFOs of `cpu` contain at least one message. */
export function hasIncomingIpi(s: AbstractState, cpu: number): boolean {
  return s.cpus.some((c) => c.cpuid !== cpu && (c.gd_ipiq[cpu]?.length ?? 0) > 0);
}

export function holdsToken(s: AbstractState, td: ThreadState, tok: number): boolean {
  return td.td_toks.some((ref) => s.tokrefs.find((r) => r.id === ref)?.tr_tok === tok);
}

/** Tests whether an IPI message or a pending interrupt still names the thread, so that it may be scheduled later. */
export function hasPendingReference(s: AbstractState, id: number): boolean {
  return s.cpus.some((c) =>
    c.gd_ipending.includes(id) ||
    c.gd_ipiq.some((fifo) => fifo.some((m) => m.func !== 'lwkt_reqtoken_remote' && m.arg === id)));
}

/** Tests whether another thread spins in lwkt_acquire, waiting for this one to switch out. */
export function isBeingAcquired(s: AbstractState, id: number): boolean {
  return s.threads.some((t) => t.frames[0]?.fn === 'lwkt_acquire' && 'td' in t.frames[0] && t.frames[0].td === id);
}
