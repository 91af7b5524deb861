// The step loop (spec/semantics.md 2.3). It runs the call or event on its CPU
// and records the caller's frames when it is switched out or starts spinning.
// Then it resumes whichever thread the CPU runs, until that thread is at a call
// boundary or spinning.
import { match } from 'ts-pattern';
import type { Completion, Frame, PanicInfo, Step, StepResult } from '../spec/schema.js';
import {
  crit_enter,
  crit_enter_gd,
  crit_enter_quick,
  crit_exit,
  crit_exit_gd,
  crit_exit_noyield,
  crit_exit_quick,
} from './crit.js';
import { hasFrameType, isSpinStage } from './frames.js';
import { cpu_idle, fastintr_switch, intr, splz } from './intr.js';
import { ipi } from './ipiq.js';
import { KernelPanic, ModelLimit, SUSPEND, type Flow, type Machine, type Ret, type Thread } from './machine.js';
import { lwkt_acquire, lwkt_setcpu_self } from './migrate.js';
import { get_mplock, rel_mplock, try_mplock } from './mplock.js';
import { resumeThread } from './resume.js';
import {
  lwkt_checkpri_self,
  lwkt_deschedule,
  lwkt_deschedule_self,
  lwkt_schedule,
  lwkt_schedule_self,
  lwkt_setpri,
  lwkt_setpri_self,
} from './schedule.js';
import { lwkt_switch } from './switch.js';
import {
  lwkt_alloc_thread,
  lwkt_create,
  lwkt_exit,
  lwkt_free_thread,
  lwkt_hold,
  lwkt_preempted_proc,
  lwkt_rele,
  lwkt_set_comm,
  lwkt_wait_free,
} from './thread.js';
import { lwkt_gettoken, lwkt_reltoken, lwkt_trytoken } from './token.js';
import { lwkt_block, lwkt_signal, lwkt_wait_init } from './wait.js';
import { lwkt_yield, lwkt_yield_quick } from './yield.js';
import { check } from './checks.js';

/** Turns the flow of a void, int or thread-returning function into the step's C return value. */
function ret(value: Flow<Ret | Thread | void>): Flow<Ret> {
  if (value === SUSPEND) return SUSPEND;
  if (value === undefined || value === null) return null;
  if (typeof value === 'number') return value;
  return value.id;
}

/** Finds the first tokref for `tok` on the thread's td_toks, head first. */
function heldTokref(m: Machine, td: Thread, tok: number): number | undefined {
  return td.td_toks.find((ref) => m.tokref(ref).tr_tok === tok);
}

/** Runs the call or event of one step on its CPU; `spin` resumes the spinning thread. */
function dispatch(m: Machine, s: Step): Flow<Ret> {
  const mycpu = s.cpu;
  const cur = m.curthread(mycpu);

  return match(s)
    .with({ call: 'lwkt_switch' }, () => ret(lwkt_switch(m, mycpu)))
    .with({ call: 'lwkt_yield' }, () => ret(lwkt_yield(m, mycpu)))
    .with({ call: 'lwkt_yield_quick' }, () => ret(lwkt_yield_quick(m, mycpu)))
    .with({ call: 'lwkt_schedule_self' }, () => ret(lwkt_schedule_self(m, mycpu, cur)))
    .with({ call: 'lwkt_deschedule_self' }, () => ret(lwkt_deschedule_self(m, mycpu, cur)))
    .with({ call: 'lwkt_schedule' }, (x) => ret(lwkt_schedule(m, mycpu, m.thread(x.td))))
    .with({ call: 'lwkt_deschedule' }, (x) => ret(lwkt_deschedule(m, mycpu, m.thread(x.td))))
    .with({ call: 'lwkt_setpri' }, (x) => ret(lwkt_setpri(m, mycpu, m.thread(x.td), x.pri)))
    .with({ call: 'lwkt_setpri_self' }, (x) => ret(lwkt_setpri_self(m, mycpu, x.pri)))
    .with({ call: 'lwkt_checkpri_self' }, () => lwkt_checkpri_self(m, mycpu))
    .with({ call: 'lwkt_create' }, (x) => ret(lwkt_create(m, mycpu, x.tdflags, x.target, x.preemptable, x.comm)))
    .with({ call: 'lwkt_alloc_thread' }, (x) => ret(lwkt_alloc_thread(m, mycpu, x.stksize, x.target)))
    .with({ call: 'lwkt_free_thread' }, (x) => ret(lwkt_free_thread(m, mycpu, m.thread(x.td))))
    .with({ call: 'lwkt_hold' }, (x) => ret(lwkt_hold(m, m.thread(x.td))))
    .with({ call: 'lwkt_rele' }, (x) => ret(lwkt_rele(m, m.thread(x.td))))
    .with({ call: 'lwkt_wait_free' }, (x) => ret(lwkt_wait_free(m, mycpu, m.thread(x.td))))
    .with({ call: 'lwkt_set_comm' }, (x) => ret(lwkt_set_comm(m, m.thread(x.td), x.comm)))
    .with({ call: 'lwkt_wait_init' }, () => lwkt_wait_init(m, mycpu))
    .with({ call: 'lwkt_block' }, (x) => ret(lwkt_block(m, mycpu, m.wait(x.w), x.wmesg, x.gen)))
    .with({ call: 'lwkt_signal' }, (x) => ret(lwkt_signal(m, mycpu, m.wait(x.w), x.count)))
    .with({ call: 'lwkt_acquire' }, (x) => ret(lwkt_acquire(m, mycpu, m.thread(x.td))))
    .with({ call: 'lwkt_setcpu_self' }, (x) => ret(lwkt_setcpu_self(m, mycpu, x.target)))
    .with({ call: 'lwkt_preempted_proc' }, () => lwkt_preempted_proc(m, mycpu))
    .with({ call: 'lwkt_exit' }, () => ret(lwkt_exit(m, mycpu)))
    .with({ call: 'crit_enter' }, () => ret(crit_enter(m, mycpu)))
    .with({ call: 'crit_enter_quick' }, () => ret(crit_enter_quick(m, cur)))
    .with({ call: 'crit_enter_gd' }, () => ret(crit_enter_gd(m, mycpu)))
    .with({ call: 'crit_exit' }, () => ret(crit_exit(m, mycpu)))
    .with({ call: 'crit_exit_quick' }, () => ret(crit_exit_quick(m, mycpu, cur)))
    .with({ call: 'crit_exit_gd' }, () => ret(crit_exit_gd(m, mycpu, mycpu)))
    .with({ call: 'crit_exit_noyield' }, () => ret(crit_exit_noyield(m, cur)))
    .with({ call: 'get_mplock' }, () => ret(get_mplock(m, mycpu)))
    .with({ call: 'rel_mplock' }, () => ret(rel_mplock(m, mycpu)))
    .with({ call: 'try_mplock' }, () => try_mplock(m, mycpu))
    .with({ call: 'lwkt_gettoken' }, (x) => ret(lwkt_gettoken(m, mycpu, m.newTokref(x.tok))))
    .with({ call: 'lwkt_trytoken' }, (x) => lwkt_trytoken(m, mycpu, m.newTokref(x.tok)))
    .with({ call: 'lwkt_reltoken' }, (x) => {
      const ref = heldTokref(m, cur, x.tok);
      if (ref === undefined) {
        // Without INVARIANTS the step does nothing.
        check(m, 'reltoken.not-held', false);
        return null;
      }
      return ret(lwkt_reltoken(m, mycpu, m.tokref(ref)));
    })
    .with({ call: 'splz' }, () => ret(splz(m, mycpu)))
    .with({ call: 'cpu_idle' }, () => ret(cpu_idle(m, mycpu)))
    .with({ call: 'cpusync_enter' }, () => {
      m.enter('cpusync_enter');
      cur.td_cscount += 1;
      return null;
    })
    .with({ call: 'cpusync_exit' }, () => {
      m.enter('cpusync_exit');
      cur.td_cscount -= 1;
      return null;
    })
    .with({ call: 'userenter' }, () => {
      m.enter('userenter');
      cur.td_release = true;
      return null;
    })
    .with({ call: 'intr' }, (x) => ret(intr(m, mycpu, m.thread(x.td))))
    .with({ call: 'fastintr_switch' }, () => ret(fastintr_switch(m, mycpu)))
    .with({ call: 'ipi' }, () => ret(ipi(m, mycpu)))
    .with({ call: 'spin' }, () => resumeThread(m, mycpu, cur))
    .with({ call: 'set_proc' }, (x) => {
      m.enter('set_proc');
      m.thread(x.td).td_proc = x.pid === null ? null : { pid: x.pid, stat: x.stat };
      return null;
    })
    .exhaustive();
}

/**
 * Puts the frames recorded while the caller unwound in front of its frames.
 * A call without a frame type of its own adds a bare frame, except lwkt_exit,
 * whose thread keeps only [cpu_thread_exit].
 */
function recordCallerFrames(m: Machine, caller: Thread, call: Step['call']): void {
  const frames: Frame[] = m.takeUnwound();
  if (!hasFrameType(call) && call !== 'lwkt_exit') frames.push({ fn: call });
  caller.frames = [...frames, ...caller.frames];
}

interface StepOutcome {
  callerRet: { ret: Ret } | null;
  completed: Completion[];
}

/** Resumes the current thread of mycpu until it is at a call boundary or spinning. */
function driveCpu(m: Machine, mycpu: number, caller: Thread, outcome: StepOutcome): void {
  for (;;) {
    const td = m.curthread(mycpu);
    if (td.frames.length === 0 || isSpinStage(td.frames[0])) return;

    const result = resumeThread(m, mycpu, td);
    if (result === SUSPEND) continue;

    // td ran out of frames: its call finished.
    const call = td.td_call;
    td.td_call = null;
    if (td === caller && outcome.callerRet === null) {
      outcome.callerRet = { ret: result };
    } else {
      outcome.completed.push({ td: td.id, call: call ?? 'unknown', ret: result });
    }
  }
}

function resetStep(m: Machine): void {
  m.printed = [];
  m.unwound = [];
  m.switchCalls = 0;
  m.ipiSelfDepth = 0;
}

/** Runs one valid step and returns its result. */
export function runStep(m: Machine, s: Step): StepResult {
  resetStep(m);
  const mycpu = s.cpu;
  const caller = m.curthread(mycpu);
  const outcome: StepOutcome = { callerRet: null, completed: [] };

  // An environment step on a spinning thread must not replace the call it spins in.
  const startsCall = s.call !== 'spin' && caller.frames.length === 0;
  const framesBefore = caller.frames.length;

  try {
    if (startsCall) caller.td_call = s.call;
    const result = dispatch(m, s);

    if (result === SUSPEND) {
      if (s.call !== 'spin') recordCallerFrames(m, caller, s.call);
      driveCpu(m, mycpu, caller, outcome);
    } else {
      if (caller.frames.length === 0) caller.td_call = null;
      outcome.callerRet = { ret: result };
    }
  } catch (e) {
    if (e instanceof KernelPanic) return stopped(m, 'panic', outcome, e.info);
    if (e instanceof ModelLimit) return stopped(m, 'limit', outcome, e.limitId);
    throw e;
  }

  const base = { completed: outcome.completed, printed: m.printed };
  if (outcome.callerRet !== null) return { status: 'returned', ret: outcome.callerRet.ret, ...base };

  // An environment step on a spinning thread is finished once the thread is back at its spin stage.
  const backAtSpin = m.curthread(mycpu) === caller && caller.frames.length === framesBefore;
  if (!startsCall && s.call !== 'spin' && framesBefore > 0 && backAtSpin) return { status: 'returned', ret: null, ...base };

  const spinning = m.curthread(mycpu) === caller && isSpinStage(caller.frames[0]);
  return { status: spinning ? 'spinning' : 'suspended', ...base };
}

function stopped(m: Machine, status: 'panic' | 'limit', outcome: StepOutcome, why: PanicInfo | string): StepResult {
  const base = { completed: outcome.completed, printed: m.printed };
  if (typeof why === 'string') {
    m.limited = why;
    return { status, limit: why, ...base };
  }
  m.panicked = why;
  return { status, panic: why, ...base };
}
