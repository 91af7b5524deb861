// lwkt_switch and the machine switch td_switch.
//
// lwkt_switch (DragonFly BSD sys/kern/lwkt_thread.c rev 1.71, lines 445-638)
// is split into its phases: the passive-release hook, the return to a
// preempted thread, the search of the run queues, the MP lock hand-over and
// the switch itself. Each phase keeps the seed's names and line references.
import {
  RQF_IDLECHECK_MASK,
  STEP_SWITCH_BUDGET,
  TDF_IDLE_NOHLT,
  TDF_PREEMPT_DONE,
  TDF_PREEMPT_LOCK,
  TDF_RUNNING,
  TDPRI_CRIT,
  TDPRI_MASK,
} from '../spec/constants.js';
import { check, limit } from './checks.js';
import { crit_enter_gd, crit_exit_quick } from './crit.js';
import { pushFrame, SUSPEND, type CpuId, type Flow, type Machine, type Thread } from './machine.js';
import { cpu_rel_mplock, cpu_try_mplock, MP_LOCK_HELD } from './mplock.js';
import { bsrl, clear_lwkt_resched, need_lwkt_resched, queueBit, queuesUpTo } from './queues.js';
import { passive_release } from './thread.js';
import { lwkt_chktokens, lwkt_drain_token_requests } from './token.js';

/** Counts a call of lwkt_switch or lwkt_preempt against STEP_SWITCH_BUDGET. */
export function chargeSwitchBudget(m: Machine): void {
  m.switchCalls += 1;
  if (m.switchCalls > STEP_SWITCH_BUDGET) limit('step-switch-budget');
}

/**
 * td->td_switch(ntd), cpu_lwkt_switch or cpu_exit_switch (swtch.s rev 1.37):
 * ntd becomes the current thread and TDF_RUNNING moves to it. The outgoing
 * thread's frames are recorded by the callers as the stack unwinds.
 */
export function td_switch(m: Machine, mycpu: CpuId, td: Thread, ntd: Thread): void {
  m.enter('td_switch');
  m.gd(mycpu).gd_curthread = ntd.id;
  td.td_flags &= ~TDF_RUNNING;
  ntd.td_flags |= TDF_RUNNING;
}

/** lwkt_thread.c:445 */
export function lwkt_switch(m: Machine, mycpu: CpuId): Flow {
  m.enter('lwkt_switch');
  chargeSwitchBudget(m);
  const gd = m.gd(mycpu);
  const td = m.curthread(mycpu);

  // lwkt_thread.c:458-460: no panic is ever in progress while the model runs.
  check(m, 'switch.in-fast-interrupt', gd.gd_intr_nesting_level === 0);

  // lwkt_thread.c:471-472: td_release is passive_release.
  if (td.td_release) {
    if (passive_release(m, mycpu, td) === SUSPEND) {
      return pushFrame(m, { fn: 'lwkt_switch', stage: 'release' });
    }
  }

  return lwkt_switch_choose(m, mycpu, td);
}

/** lwkt_thread.c:474-637, the part of lwkt_switch after the td_release hook. */
export function lwkt_switch_choose(m: Machine, mycpu: CpuId, td: Thread): Flow {
  // lwkt_thread.c:474
  crit_enter_gd(m, mycpu);

  // lwkt_thread.c:485
  let mpheld = m.config.smp && MP_LOCK_HELD(m, mycpu);

  // lwkt_thread.c:486-493
  if (m.config.smp && m.config.invariants && td.td_cscount !== 0) {
    m.printed.push({ site: 'lwkt_thread.c:488', values: [td.id] });
    check(m, 'switch.mastering-cpusync', td.td_cscount === 0);
  }

  let ntd: Thread;
  if (td.td_preempted !== null) {
    ntd = m.thread(td.td_preempted);
    lwkt_switch_return_to_preempted(m, mycpu, td, ntd, mpheld);
  } else {
    const choice = lwkt_switch_pick_next(m, mycpu, mpheld);
    ntd = choice.ntd;
    mpheld = choice.mpheld;
  }

  // lwkt_thread.c:616
  check(m, 'switch.target-pri-below-crit', ntd.td_pri >= TDPRI_CRIT);

  // lwkt_thread.c:624-631
  if (m.config.smp) {
    if (ntd.td_mpcount === 0) {
      if (MP_LOCK_HELD(m, mycpu)) cpu_rel_mplock(m);
    } else {
      check(m, 'switch.mplock-not-held', MP_LOCK_HELD(m, mycpu));
    }
  }

  // lwkt_thread.c:632-635
  if (td !== ntd) {
    m.counters.switch_count += 1;
    td_switch(m, mycpu, td, ntd);
    return pushFrame(m, { fn: 'lwkt_switch', stage: 'switch' });
  }

  // lwkt_thread.c:637
  return crit_exit_quick(m, mycpu, td);
}

/**
 * lwkt_thread.c:495-526: td preempted ntd, so ntd runs next whatever the run
 * queues hold. td gives back the MP count it inherited.
 */
function lwkt_switch_return_to_preempted(m: Machine, mycpu: CpuId, td: Thread, ntd: Thread, mpheld: boolean): void {
  const gd = m.gd(mycpu);

  // lwkt_thread.c:506
  check(m, 'switch.preempted-not-locked', (ntd.td_flags & TDF_PREEMPT_LOCK) !== 0);

  // lwkt_thread.c:507-516
  if (m.config.smp) {
    check(m, 'switch.mplock-not-held-on-return', !(ntd.td_mpcount !== 0 && !mpheld));
    if (ntd.td_mpcount !== 0) {
      td.td_mpcount -= ntd.td_mpcount;
      check(m, 'switch.mpcount-negative', td.td_mpcount >= 0);
    }
  }

  // lwkt_thread.c:517
  ntd.td_flags |= TDF_PREEMPT_DONE;

  // lwkt_thread.c:524-525: at priority 31 the mask is 0xffffffff and the test is false.
  if (gd.gd_runqmask > queuesUpTo(ntd.td_pri & TDPRI_MASK)) need_lwkt_resched(m, mycpu);
}

/** True when ntd needs the MP lock and this CPU neither holds it nor can take it (lwkt_thread.c:573). */
function cannotGetMplock(m: Machine, mycpu: CpuId, ntd: Thread, mpheld: boolean): boolean {
  return ntd.td_mpcount !== 0 && !mpheld && !cpu_try_mplock(m, mycpu);
}

/** True when ntd holds tokens that this CPU does not own yet (lwkt_thread.c:574). */
function cannotGetTokens(m: Machine, mycpu: CpuId, ntd: Thread): boolean {
  return ntd.td_toks.length !== 0 && lwkt_chktokens(m, mycpu, ntd) === 0;
}

/** Moves ntd to the tail of its run queue: round-robin within a priority. */
function rotateToTail(queue: number[], ntd: Thread): void {
  const at = queue.indexOf(ntd.id);
  if (at >= 0) queue.splice(at, 1);
  queue.push(ntd.id);
}

/** lwkt_thread.c:527-614: pick the next thread from the run queues, or the idle thread. */
function lwkt_switch_pick_next(m: Machine, mycpu: CpuId, mpheldIn: boolean): { ntd: Thread; mpheld: boolean } {
  const gd = m.gd(mycpu);
  const idle = m.thread(gd.gd_idlethread);
  let mpheld = mpheldIn;

  // lwkt_thread.c:549-552
  if (m.config.smp && gd.gd_tokreqbase.length !== 0) lwkt_drain_token_requests(m, mycpu);

  // lwkt_thread.c:558
  clear_lwkt_resched(m, mycpu);

  // lwkt_thread.c:559-565: clear the bits of empty queues until a non-empty one is found.
  for (;;) {
    if (gd.gd_runqmask === 0) break;
    const nq = bsrl(gd.gd_runqmask);
    const queue = gd.gd_tdrunq[nq] ?? [];
    const first = queue[0];
    if (first === undefined) {
      gd.gd_runqmask = (gd.gd_runqmask & ~queueBit(nq)) >>> 0;
      continue;
    }
    let ntd = m.thread(first);

    if (!m.config.smp) {
      // lwkt_thread.c:603-604
      rotateToTail(queue, ntd);
      return { ntd, mpheld };
    }

    // lwkt_thread.c:573-575
    if (cannotGetMplock(m, mycpu, ntd, mpheld) || cannotGetTokens(m, mycpu, ntd)) {
      const found = lwkt_switch_search_runnable(m, mycpu, nq, mpheld);
      mpheld = found.mpheld;
      if (found.ntd === null) {
        // lwkt_thread.c:591-593
        idle.td_flags |= TDF_IDLE_NOHLT;
        return { ntd: idle, mpheld };
      }

      // lwkt_thread.c:595-596
      ntd = found.ntd;
      rotateToTail(gd.gd_tdrunq[found.nq] ?? [], ntd);
      return { ntd, mpheld };
    }

    // lwkt_thread.c:599-600
    rotateToTail(queue, ntd);
    return { ntd, mpheld };
  }

  // lwkt_thread.c:611-613
  if (gd.gd_reqflags & RQF_IDLECHECK_MASK) idle.td_flags |= TDF_IDLE_NOHLT;
  return { ntd: idle, mpheld };
}

/**
 * lwkt_thread.c:576-590: scan the queues from nq down for a thread whose MP
 * lock and tokens this CPU can get. mpheld is sampled again only after a
 * thread passed the lock test, so a lock taken by the first test of
 * lwkt_thread.c:573 makes cpu_try_mplock fail here.
 */
function lwkt_switch_search_runnable(
  m: Machine,
  mycpu: CpuId,
  startNq: number,
  mpheldIn: boolean,
): { ntd: Thread | null; nq: number; mpheld: boolean } {
  const gd = m.gd(mycpu);
  let mpheld = mpheldIn;
  let rqmask = gd.gd_runqmask;
  let nq = startNq;

  while (rqmask !== 0) {
    // lwkt_thread.c:578-585
    for (const id of [...(gd.gd_tdrunq[nq] ?? [])]) {
      const ntd = m.thread(id);
      if (ntd.td_mpcount !== 0 && !mpheld && !cpu_try_mplock(m, mycpu)) continue;
      mpheld = MP_LOCK_HELD(m, mycpu);
      if (ntd.td_toks.length !== 0 && lwkt_chktokens(m, mycpu, ntd) === 0) continue;
      return { ntd, nq, mpheld };
    }

    // lwkt_thread.c:588-589
    rqmask = (rqmask & ~queueBit(nq)) >>> 0;
    nq = bsrl(rqmask);
  }
  return { ntd: null, nq, mpheld };
}
