// lwkt_preempt: a thread being scheduled takes the CPU from the current thread
// at once, and gives it back when it blocks (lwkt_switch returns to
// td_preempted). DragonFly BSD sys/kern/lwkt_thread.c rev 1.71, lines 673-776.
import { TDF_PREEMPT_DONE, TDF_PREEMPT_LOCK, TDPRI_CRIT, TDPRI_MASK } from '../spec/constants.js';
import type { FrameOf } from './frames.js';
import { check } from './checks.js';
import { pushFrame, type CpuId, type Flow, type Machine, type Thread } from './machine.js';
import { cpu_rel_mplock, cpu_try_mplock, MP_LOCK_HELD } from './mplock.js';
import { need_lwkt_resched } from './queues.js';
import { chargeSwitchBudget, td_switch } from './switch.js';

/** Counts a refused preemption and, except for the priority test, requests a reschedule. */
function preemptMiss(m: Machine, mycpu: CpuId): void {
  m.counters.preempt_miss += 1;
  need_lwkt_resched(m, mycpu);
}

/** lwkt_thread.c:673 */
export function lwkt_preempt(m: Machine, mycpu: CpuId, ntd: Thread, critpri: number): Flow {
  m.enter('lwkt_preempt');
  chargeSwitchBudget(m);
  const gd = m.gd(mycpu);

  // lwkt_thread.c:696
  check(m, 'preempt.target-not-in-crit', ntd.td_pri >= TDPRI_CRIT);

  // lwkt_thread.c:698-702: only a higher priority preempts; no reschedule request.
  const td = m.curthread(mycpu);
  if ((ntd.td_pri & TDPRI_MASK) <= (td.td_pri & TDPRI_MASK)) {
    m.counters.preempt_miss += 1;
    return;
  }

  // lwkt_thread.c:703-707: the interrupted code held a critical section of its own.
  if ((td.td_pri & ~TDPRI_MASK) > critpri) {
    preemptMiss(m, mycpu);
    return;
  }

  // lwkt_thread.c:708-714
  if (m.config.smp && ntd.td_gd !== gd.gd_cpuid) {
    preemptMiss(m, mycpu);
    return;
  }

  // lwkt_thread.c:722-726: a target holding tokens never preempts.
  if (ntd.td_toks.length !== 0) {
    preemptMiss(m, mycpu);
    return;
  }

  // lwkt_thread.c:727-731
  if (td === ntd || ((td.td_flags | ntd.td_flags) & TDF_PREEMPT_LOCK) !== 0) {
    m.counters.preempt_weird += 1;
    need_lwkt_resched(m, mycpu);
    return;
  }

  // lwkt_thread.c:732-736: counted as a hit although nothing is preempted.
  if (ntd.td_preempted !== null) {
    m.counters.preempt_hit += 1;
    need_lwkt_resched(m, mycpu);
    return;
  }

  // lwkt_thread.c:746-754: ntd inherits td's MP count for the preemption.
  let savecnt = 0;
  if (m.config.smp) {
    savecnt = td.td_mpcount;
    const mpheld = MP_LOCK_HELD(m, mycpu);
    ntd.td_mpcount += td.td_mpcount;
    if (!mpheld && ntd.td_mpcount !== 0 && !cpu_try_mplock(m, mycpu)) {
      ntd.td_mpcount -= td.td_mpcount;
      preemptMiss(m, mycpu);
      return;
    }
  }

  // lwkt_thread.c:761-764: switch directly, without td_release and without touching the run queues.
  m.counters.preempt_hit += 1;
  ntd.td_preempted = td.id;
  td.td_flags |= TDF_PREEMPT_LOCK;
  td_switch(m, mycpu, td, ntd);
  return pushFrame(m, { fn: 'lwkt_preempt', ntd: ntd.id, savecnt });
}

/** lwkt_thread.c:765-775: the preempted thread td runs again. */
export function lwkt_preempt_resume(m: Machine, mycpu: CpuId, td: Thread, frame: FrameOf<'lwkt_preempt'>): Flow {
  const ntd = m.thread(frame.ntd);

  // lwkt_thread.c:765
  check(m, 'preempt.not-done-on-return', ntd.td_preempted !== null && (td.td_flags & TDF_PREEMPT_DONE) !== 0);

  // lwkt_thread.c:766-773
  if (m.config.smp) {
    check(m, 'preempt.mpcount-changed', frame.savecnt === td.td_mpcount);
    const mpheld = MP_LOCK_HELD(m, mycpu);
    if (mpheld && td.td_mpcount === 0) {
      cpu_rel_mplock(m);
    } else {
      check(m, 'preempt.mplock-not-held-through', !(!mpheld && td.td_mpcount !== 0));
    }
  }

  // lwkt_thread.c:774-775
  ntd.td_preempted = null;
  td.td_flags &= ~(TDF_PREEMPT_LOCK | TDF_PREEMPT_DONE);
}
