// Resumption: running the rest of each frame of a switched-out thread,
// innermost first (spec/semantics.md 2.3 and 2.4).
import { match } from 'ts-pattern';
import type { Frame } from '../spec/schema.js';
import { crit_exit_quick } from './crit.js';
import { isTypedFrame, type TypedFrame } from './frames.js';
import { cpu_idle_resume, splz_resume } from './intr.js';
import { SUSPEND, type CpuId, type Flow, type Machine, type Ret, type Thread } from './machine.js';
import { get_mplock_after_switch } from './mplock.js';
import { lwkt_acquire_resume, lwkt_setcpu_self_resume } from './migrate.js';
import { lwkt_preempt_resume } from './preempt.js';
import { lwkt_schedule_resume } from './schedule.js';
import { lwkt_switch_choose } from './switch.js';
import {
  cpu_kthread_restore,
  cpu_thread_exit_returned,
  lwkt_alloc_thread_resume,
  lwkt_create_resume,
  lwkt_free_thread_release,
  lwkt_wait_free_loop,
} from './thread.js';
import { lwkt_gettoken_resume, lwkt_reltoken_resume } from './token.js';
import { lwkt_block_resume, lwkt_signal_resume } from './wait.js';
import { lwkt_yield_quick_resume, lwkt_yield_resume } from './yield.js';

/**
 * Value a finished rest hands to the frame outside it. Only lwkt_create needs
 * one: the thread its lwkt_alloc_thread returned.
 */
type Inner = Thread | Ret | void;

/** Runs the rest of one frame of td, which is the current thread of mycpu. */
function runRest(m: Machine, mycpu: CpuId, td: Thread, frame: TypedFrame, inner: Inner): Flow<Inner> {
  return match(frame)
    .with({ fn: 'lwkt_switch' }, (f) => (f.stage === 'release' ? lwkt_switch_choose(m, mycpu, td) : crit_exit_quick(m, mycpu, td)))
    .with({ fn: 'lwkt_preempt' }, (f) => lwkt_preempt_resume(m, mycpu, td, f))
    .with({ fn: 'lwkt_schedule' }, (f) => lwkt_schedule_resume(m, mycpu, f))
    .with({ fn: 'splz' }, () => splz_resume(m, mycpu, td))
    .with({ fn: 'lwkt_yield_quick' }, (f) => lwkt_yield_quick_resume(m, mycpu, td, f))
    .with({ fn: 'lwkt_yield' }, (f) => lwkt_yield_resume(m, mycpu, f))
    .with({ fn: 'lwkt_block' }, (f) => lwkt_block_resume(m, mycpu, td, f))
    .with({ fn: 'lwkt_signal' }, (f) => lwkt_signal_resume(m, mycpu, f))
    .with({ fn: 'lwkt_setcpu_self' }, () => lwkt_setcpu_self_resume(m, mycpu, td))
    .with({ fn: 'cpu_thread_exit' }, () => cpu_thread_exit_returned(m))
    .with({ fn: 'get_mplock' }, () => get_mplock_after_switch(m, mycpu))
    .with({ fn: 'cpu_kthread_restore' }, () => cpu_kthread_restore(m, td))
    .with({ fn: 'lwkt_gettoken' }, (f) => lwkt_gettoken_resume(m, mycpu, td, f))
    .with({ fn: 'lwkt_reltoken' }, (f) => lwkt_reltoken_resume(m, mycpu, f))
    .with({ fn: 'lwkt_acquire' }, (f) => lwkt_acquire_resume(m, mycpu, f))
    .with({ fn: 'lwkt_alloc_thread' }, (f) => lwkt_alloc_thread_resume(m, mycpu, f))
    .with({ fn: 'lwkt_create' }, (f) => lwkt_create_resume(m, mycpu, f, isThread(inner) ? inner : null))
    .with({ fn: 'lwkt_free_thread' }, (f) => lwkt_free_thread_release(m, m.thread(f.td)))
    .with({ fn: 'lwkt_wait_free' }, (f) => lwkt_wait_free_loop(m, mycpu, m.thread(f.td)))
    .with({ fn: 'cpu_idle' }, (f) => cpu_idle_resume(m, mycpu, td, f))
    .with({ fn: 'intr' }, () => undefined)
    .exhaustive();
}

function isThread(value: Inner): value is Thread {
  return typeof value === 'object' && value !== null;
}

/** The C return value of a finished call, from what its outermost rest returned. */
export function toRet(value: Inner): Ret {
  if (value === undefined || value === null) return null;
  if (isThread(value)) return value.id;
  return value;
}

/**
 * Runs td's frames, innermost first, until they are all done (the call
 * finished: returns its value) or a rest stops the thread again (returns
 * SUSPEND, with the new inner frames put in front of those still left).
 */
export function resumeThread(m: Machine, mycpu: CpuId, td: Thread): Flow<Ret> {
  let inner: Inner = undefined;

  for (let frame = td.frames.shift(); frame !== undefined; frame = td.frames.shift()) {
    const result = runFrame(m, mycpu, td, frame, inner);
    if (result === SUSPEND) {
      td.frames = [...m.takeUnwound(), ...td.frames];
      return SUSPEND;
    }
    inner = result;
  }
  return toRet(inner);
}

function runFrame(m: Machine, mycpu: CpuId, td: Thread, frame: Frame, inner: Inner): Flow<Inner> {
  // A bare step-call frame has nothing left but its return; such calls return void.
  if (!isTypedFrame(frame)) return null;
  return runRest(m, mycpu, td, frame, inner);
}
