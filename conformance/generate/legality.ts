// Legal use of the LWKT API (spec/semantics.md section 7). A valid step is
// either legal, following the documented contract of the call, or misuse. The
// generator draws legal steps from these rules, and reports label a finding as
// one about the source only when every step before it was legal.
import { TDPRI_MAX } from '../../spec/constants.js';
import type { AbstractState, Step, ThreadState } from '../../spec/schema.js';
import {
  critCount, curthread, hasExited, hasIncomingIpi, hasPendingReference, isBeingAcquired, isMigrating, isOnFreeCache, pendingInitSource, holdsToken, isIdleThread, isInterruptThread, isLive,
  isOnRunq, isPreemptLocked, isRunning, isSpinning, ownMpcount, threadOf,
} from './state.js';

/** Calls the idle thread may legally make. */
const IDLE_CALLS: ReadonlySet<string> = new Set(['cpu_idle', 'lwkt_switch', 'lwkt_create', 'lwkt_schedule']);

/** Returns null when `step` is legal in state `s`, else the reason it is misuse. The step must be valid. */
export function judgeStep(s: AbstractState, step: Step): string | null {
  switch (step.call) {
    case 'spin': return null;
    case 'ipi': return hasIncomingIpi(s, step.cpu) ? null : 'ipi with no message queued for this cpu';
    case 'fastintr_switch': return 'a fast interrupt handler that calls lwkt_switch';
    case 'intr': return judgeInterrupt(s, step.td);
    case 'set_proc': return judgeSetProc(s, step.td, step.stat, step.pid);
    default: break;
  }

  const td = curthread(s, step.cpu);
  if (isSpinning(td)) return 'thread call on a spinning cpu';
  if (isIdleThread(s, td) && !IDLE_CALLS.has(step.call)) return `${step.call} by an idle thread`;
  return judgeThreadCall(s, td, step);
}

function judgeThreadCall(s: AbstractState, td: ThreadState, step: Step): string | null {
  switch (step.call) {
    case 'cpu_idle':
      return isIdleThread(s, td) ? null : 'cpu_idle by a thread that is not the idle thread';
    case 'lwkt_yield':
    case 'lwkt_yield_quick':
    case 'lwkt_schedule_self':
    case 'lwkt_deschedule_self':
      return judgeSelfScheduling(s, td);
    case 'lwkt_schedule':
      return judgeSchedule(s, td, step.td, step.cpu);
    case 'lwkt_deschedule':
      return judgeDeschedule(s, step.td);
    case 'lwkt_setpri': {
      const target = threadOf(s, step.td);
      if (target === undefined || !isLive(s, target)) return 'lwkt_setpri of a thread that is not live';
      if (target.td_gd !== step.cpu) return 'lwkt_setpri of a thread owned by another cpu';
      return judgePriority(step.pri);
    }
    case 'lwkt_setpri_self':
      return judgePriority(step.pri);
    case 'lwkt_free_thread':
      return judgeFree(s, td, step.td, step.cpu);
    case 'lwkt_hold':
    case 'lwkt_set_comm':
      return judgeLiveTarget(s, step.td, step.call);
    case 'lwkt_rele': {
      const target = threadOf(s, step.td);
      return target !== undefined && target.td_refs > 0 ? null : 'lwkt_rele without a matching lwkt_hold';
    }
    case 'lwkt_wait_free':
      return judgeSelfScheduling(s, td);
    case 'lwkt_block':
      if (td.td_wait !== null) return 'lwkt_block by a thread already on a wait queue';
      return step.wmesg === null ? 'lwkt_block with a NULL wmesg' : null;
    case 'lwkt_signal':
      return step.count >= -1 ? null : 'lwkt_signal with a count below -1';
    case 'lwkt_acquire':
      return judgeAcquire(s, td, step.td);
    case 'lwkt_setcpu_self':
      return judgeSetcpu(s, td, step.target);
    case 'lwkt_exit':
      return judgeExit(s, td, step.cpu);
    case 'crit_exit':
    case 'crit_exit_quick':
    case 'crit_exit_gd':
    case 'crit_exit_noyield':
      return critCount(td) > 0 ? null : `${step.call} outside a critical section`;
    case 'rel_mplock':
      return ownMpcount(s, td) > 0 ? null : 'rel_mplock without a matching get_mplock';
    case 'lwkt_reltoken':
      return holdsToken(s, td, step.tok) ? null : 'lwkt_reltoken of a token the thread does not hold';
    case 'cpusync_exit':
      return td.td_cscount > 0 ? null : 'cpusync_exit without a matching cpusync_enter';
    case 'cpusync_enter':
      return s.config.panicOnCscount ? 'cpusync_enter with lwkt.panic_on_cscount set' : null;
    case 'lwkt_create':
    case 'lwkt_alloc_thread':
      return step.target < s.cpus.length ? null : 'target cpu out of range';
    default:
      // lwkt_switch, lwkt_checkpri_self, lwkt_wait_init, lwkt_preempted_proc,
      // crit_enter*, get_mplock, try_mplock, lwkt_gettoken, lwkt_trytoken, splz, userenter.
      return null;
  }
}

function judgePriority(pri: number): string | null {
  return pri >= 0 && pri <= TDPRI_MAX ? null : `priority ${pri} outside 0..${TDPRI_MAX}`;
}

/** lwkt_schedule_self and everything built on it (lwkt_yield, lwkt_wait_free's tsleep). */
function judgeSelfScheduling(s: AbstractState, td: ThreadState): string | null {
  if (td.td_wait !== null) return 'self-scheduling by a thread still on a wait queue';
  if (isBeingAcquired(s, td.id)) return 'self-scheduling by a thread another cpu waits for in lwkt_acquire';
  if (td.td_proc?.stat === 'SSLEEP') return 'self-scheduling by a thread whose process sleeps';
  return null;
}

/** Checks that a thread may be put on a run queue: live, not an idle thread, and not half-way through a preemption. */
function judgeSchedulable(s: AbstractState, target: ThreadState | undefined, what: string): string | null {
  if (target === undefined || !isLive(s, target)) return `${what} of a thread that is not live`;
  if (isIdleThread(s, target)) return `${what} of an idle thread`;
  if (isPreemptLocked(target) && !isOnRunq(target)) return `${what} of a preempted thread that is off its run queue`;
  // lwkt_setcpu_remote has yet to move the thread, and a schedule now would run it on its old cpu.
  if (isMigrating(target)) return `${what} of a migrating thread`;
  if (isBeingAcquired(s, target.id)) return `${what} of a thread another cpu waits for in lwkt_acquire`;
  if (target.td_proc?.stat === 'SSLEEP') return `${what} of a thread whose process sleeps`;
  return null;
}

function judgeSchedule(s: AbstractState, caller: ThreadState, id: number, cpu: number): string | null {
  if (isIdleThread(s, caller) && id === caller.id) return 'lwkt_schedule of the idle thread by itself';
  // The creating cpu may schedule a thread whose remote initialisation is still queued,
  // because its lwkt_schedule message follows the initialisation in the same FIFO.
  const target = threadOf(s, id);
  if (target !== undefined && pendingInitSource(s, id) === cpu) {
    return target.zfreed || isOnFreeCache(s, id) || hasExited(target) ? 'lwkt_schedule of a thread that is not live' : null;
  }
  return judgeSchedulable(s, target, 'lwkt_schedule');
}

function judgeDeschedule(s: AbstractState, id: number): string | null {
  const target = threadOf(s, id);
  if (target === undefined || !isLive(s, target)) return 'lwkt_deschedule of a thread that is not live';
  if (isIdleThread(s, target)) return 'lwkt_deschedule of an idle thread';
  return isPreemptLocked(target) ? 'lwkt_deschedule of a preempted thread' : null;
}

function judgeInterrupt(s: AbstractState, id: number): string | null {
  const target = threadOf(s, id);
  if (target !== undefined && !isInterruptThread(target)) return 'interrupt for a thread without TDF_INTTHREAD';
  return judgeSchedulable(s, target, 'interrupt');
}

function judgeSetProc(s: AbstractState, id: number, stat: string, pid: number | null): string | null {
  const target = threadOf(s, id);
  if (target === undefined || !isLive(s, target)) return 'set_proc on a thread that is not live';
  return pid !== null && stat === 'SSLEEP' ? 'set_proc with a sleeping process (the scheduler never runs one)' : null;
}

function judgeLiveTarget(s: AbstractState, id: number, call: string): string | null {
  const target = threadOf(s, id);
  return target !== undefined && isLive(s, target) ? null : `${call} of a thread that is not live`;
}

/** lwkt_free_thread frees a stopped thread of this cpu that nothing refers to any more. */
function judgeFree(s: AbstractState, caller: ThreadState, id: number, cpu: number): string | null {
  const target = threadOf(s, id);
  if (target === undefined || !isLive(s, target)) return 'lwkt_free_thread of a thread that is not live';
  if (target.id === caller.id || isRunning(target)) return 'lwkt_free_thread of a running thread';
  if (isIdleThread(s, target)) return 'lwkt_free_thread of an idle thread';
  if (isOnRunq(target) || target.td_wait !== null || isPreemptLocked(target)) {
    return 'lwkt_free_thread of a thread that can still run';
  }
  if (target.td_refs !== 0) return 'lwkt_free_thread of a held thread';
  if (hasPendingReference(s, target.id)) return 'lwkt_free_thread of a thread an IPI or interrupt still names';
  if (isBeingAcquired(s, target.id)) return 'lwkt_free_thread of a thread another cpu waits for in lwkt_acquire';
  return target.td_gd === cpu ? null : 'lwkt_free_thread of a thread owned by another cpu';
}

/** lwkt_acquire takes a descheduled thread from another cpu. */
function judgeAcquire(s: AbstractState, caller: ThreadState, id: number): string | null {
  const target = threadOf(s, id);
  if (target === undefined || !isLive(s, target)) return 'lwkt_acquire of a thread that is not live';
  if (target.id === caller.id || isIdleThread(s, target)) return 'lwkt_acquire of the caller or an idle thread';
  if (isOnRunq(target)) return 'lwkt_acquire of a thread still on a run queue';
  if (isPreemptLocked(target)) return 'lwkt_acquire of a preempted thread';
  if (hasPendingReference(s, target.id)) return 'lwkt_acquire of a thread an IPI or interrupt still names';
  if (isInterruptThread(target)) return 'lwkt_acquire of an interrupt thread, whose interrupt can arrive during the move';
  return target.td_wait !== null ? 'lwkt_acquire of a thread on a wait queue' : null;
}

/** lwkt_setcpu_self is safe only with no pending events that could schedule the thread. */
function judgeSetcpu(s: AbstractState, td: ThreadState, target: number): string | null {
  if (target < 0 || target >= s.cpus.length) return 'lwkt_setcpu_self to a cpu out of range';
  if (td.td_toks.length > 0) return 'lwkt_setcpu_self while holding tokens';
  if (td.td_preempted !== null) return 'lwkt_setcpu_self by a thread that preempted another';
  if (isInterruptThread(td)) return 'lwkt_setcpu_self by an interrupt thread, whose interrupt can arrive during the move';
  return td.td_wait !== null ? 'lwkt_setcpu_self while on a wait queue' : null;
}

function judgeExit(s: AbstractState, td: ThreadState, cpu: number): string | null {
  if (td.td_wait !== null) return 'lwkt_exit while on a wait queue';
  if (td.td_preempted !== null) return 'lwkt_exit by a thread that preempted another';
  if (td.td_toks.length > 0) return 'lwkt_exit while holding tokens';
  if (td.td_cscount !== 0) return 'lwkt_exit while mastering a cpusync';
  if (hasExited(td)) return 'lwkt_exit by an exited thread';
  if (isInterruptThread(td)) return 'lwkt_exit by an interrupt thread, whose interrupt can still arrive';
  if (hasPendingReference(s, td.id)) return 'lwkt_exit while an IPI or interrupt still names the thread';
  if (isBeingAcquired(s, td.id)) return 'lwkt_exit while another cpu waits in lwkt_acquire for the thread';
  return td.td_gd === cpu ? null : 'lwkt_exit on a cpu that does not own the thread';
}
