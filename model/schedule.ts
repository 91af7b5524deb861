// Scheduling and descheduling, priorities. DragonFly BSD
// sys/kern/lwkt_thread.c rev 1.71, lines 160-185 and 866-1084.
import { SSLEEP, TDF_NORESCHED, TDF_PREEMPT_LOCK, TDF_RUNQ, TDPRI_CRIT, TDPRI_MASK, TDPRI_MAX } from '../spec/constants.js';
import type { ProcStat } from '../spec/schema.js';
import { check, unmodelledSwitch } from './checks.js';
import { crit_enter, crit_enter_gd, crit_enter_quick, crit_exit, crit_exit_gd, crit_exit_quick } from './crit.js';
import type { FrameOf } from './frames.js';
import { lwkt_send_ipiq } from './ipiq.js';
import { pushFrame, SUSPEND, type CpuId, type Flow, type Machine, type Thread } from './machine.js';
import { lwkt_preempt } from './preempt.js';
import { _lwkt_dequeue, _lwkt_enqueue, listRemove, need_lwkt_resched, queuesUpTo } from './queues.js';
import { lwkt_reltoken, lwkt_trytoken } from './token.js';

/** p_stat numbers of sys/proc.h, for the printf of lwkt_thread.c:887. */
export const P_STAT: Record<ProcStat, number> = { SIDL: 1, SRUN: 2, SSLEEP: 3, SSTOP: 4, SZOMB: 5 };

function isSleepingProc(td: Thread): boolean {
  return td.td_proc !== null && P_STAT[td.td_proc.stat] === SSLEEP;
}

/** lwkt_thread.c:160 */
export function lwkt_schedule_self(m: Machine, mycpu: CpuId, td: Thread): Flow {
  m.enter('lwkt_schedule_self');

  // lwkt_thread.c:162-164
  crit_enter_quick(m, td);
  check(m, 'schedule_self.td-wait-set', td.td_wait === null);
  check(m, 'schedule_self.idle-thread', td.id !== m.gd(td.td_gd).gd_idlethread);

  // lwkt_thread.c:165
  _lwkt_enqueue(m, td);

  // lwkt_thread.c:167-168
  check(m, 'schedule_self.proc-sleeping', !isSleepingProc(td));

  // lwkt_thread.c:170
  return crit_exit_quick(m, mycpu, td);
}

/** lwkt_thread.c:179 */
export function lwkt_deschedule_self(m: Machine, mycpu: CpuId, td: Thread): Flow {
  m.enter('lwkt_deschedule_self');

  // lwkt_thread.c:181-182: the KASSERT message names lwkt_schedule_self.
  crit_enter_quick(m, td);
  check(m, 'deschedule_self.td-wait-set', td.td_wait === null);

  // lwkt_thread.c:183-184
  _lwkt_dequeue(m, td);
  return crit_exit_quick(m, mycpu, td);
}

/**
 * lwkt_thread.c:866: after ntd was enqueued on this CPU, preempt (td_preemptable
 * is cpu_intr_preempt, which calls lwkt_preempt) or request a reschedule.
 */
export function _lwkt_schedule_post(m: Machine, mycpu: CpuId, gdId: CpuId, ntd: Thread, cpri: number): Flow {
  m.enter('_lwkt_schedule_post');

  // lwkt_thread.c:868-869
  if (ntd.td_preemptable) return lwkt_preempt(m, mycpu, ntd, cpri);

  // lwkt_thread.c:870-874
  const cur = m.curthread(gdId);
  if ((ntd.td_flags & TDF_NORESCHED) === 0 && (ntd.td_pri & TDPRI_MASK) > (cur.td_pri & TDPRI_MASK)) {
    need_lwkt_resched(m, mycpu);
  }
}

/** lwkt_thread.c:882-897: the INVARIANTS checks at the top of lwkt_schedule. */
function lwkt_schedule_checks(m: Machine, mycpu: CpuId, td: Thread): void {
  if (!m.config.invariants) return;

  // lwkt_thread.c:883
  check(m, 'schedule.idle-thread', td.id !== m.gd(td.td_gd).gd_idlethread);

  // lwkt_thread.c:884-896
  const sleeping = (td.td_flags & TDF_PREEMPT_LOCK) === 0 && isSleepingProc(td);
  if (sleeping) {
    const cur = m.curthread(mycpu);

    // lwkt_thread.c:892-893 read the current thread's process in the target's columns.
    check(m, 'null-dereference', cur.td_proc !== null);
    const curPid = cur.td_proc?.pid ?? -1;
    const curStat = cur.td_proc === null ? -1 : P_STAT[cur.td_proc.stat];
    m.printed.push({ site: 'lwkt_thread.c:887', values: [cur.id, curPid, curStat, td.id, curPid, curStat] });
  }
  check(m, 'schedule.proc-sleeping', !sleeping);
}

/** Enqueues td on this CPU and runs _lwkt_schedule_post; the frame records the rest. */
function enqueueLocal(m: Machine, mycpu: CpuId, td: Thread, wref: number | null): Flow {
  _lwkt_enqueue(m, td);
  if (_lwkt_schedule_post(m, mycpu, mycpu, td, TDPRI_CRIT) === SUSPEND) {
    return pushFrame(m, { fn: 'lwkt_schedule', mygd: mycpu, wref });
  }
}

/** Sends the schedule request to `target`; the frame records the rest. */
function sendSchedule(m: Machine, mycpu: CpuId, target: CpuId, td: Thread, wref: number | null): Flow {
  if (lwkt_send_ipiq(m, mycpu, target, 'lwkt_schedule', td.id) === SUSPEND) {
    return pushFrame(m, { fn: 'lwkt_schedule', mygd: mycpu, wref });
  }
}

/** Local enqueue, or a request to the owning CPU; SMP only decides by td_gd. */
function scheduleOnOwner(m: Machine, mycpu: CpuId, td: Thread, wref: number | null): Flow {
  if (!m.config.smp || td.td_gd === mycpu) return enqueueLocal(m, mycpu, td, wref);
  return sendSchedule(m, mycpu, td.td_gd, td, wref);
}

/** lwkt_thread.c:878 */
export function lwkt_schedule(m: Machine, mycpu: CpuId, td: Thread): Flow {
  m.enter('lwkt_schedule');
  lwkt_schedule_checks(m, mycpu, td);

  // lwkt_thread.c:898-900
  crit_enter_gd(m, mycpu);
  if (td.id === m.gd(mycpu).gd_curthread) {
    _lwkt_enqueue(m, td);
    return crit_exit_gd(m, mycpu, mycpu);
  }

  // lwkt_thread.c:940-958: not on a wait queue.
  if (td.td_wait === null) {
    if (scheduleOnOwner(m, mycpu, td, null) === SUSPEND) return SUSPEND;
    return crit_exit_gd(m, mycpu, mycpu);
  }

  // lwkt_thread.c:918-921: the wait queue's token decides who may take td off it.
  const w = m.wait(td.td_wait);
  const wref = m.newTokref(w.id);
  if (!lwkt_trytoken(m, mycpu, wref)) {
    // lwkt_thread.c:938
    const owner = m.token(w.id).t_cpu;
    if (sendSchedule(m, mycpu, owner, td, null) === SUSPEND) return SUSPEND;
    return crit_exit_gd(m, mycpu, mycpu);
  }

  // lwkt_thread.c:922-924: td_wmesg is left set (see lwkt_block).
  listRemove(w.wa_waitq, td.id);
  w.wa_count -= 1;
  td.td_wait = null;

  // lwkt_thread.c:925-935
  if (scheduleOnOwner(m, mycpu, td, wref.id) === SUSPEND) return SUSPEND;
  return lwkt_schedule_finish(m, mycpu, mycpu, wref.id);
}

/** lwkt_thread.c:936 and 960: release the wait-queue token, leave the critical section. */
function lwkt_schedule_finish(m: Machine, mycpu: CpuId, mygd: CpuId, wref: number | null): Flow {
  if (wref !== null) {
    if (lwkt_reltoken(m, mycpu, m.tokref(wref)) === SUSPEND) {
      return pushFrame(m, { fn: 'lwkt_schedule', mygd, wref: null });
    }
  }
  return crit_exit_gd(m, mycpu, mygd);
}

export function lwkt_schedule_resume(m: Machine, mycpu: CpuId, frame: FrameOf<'lwkt_schedule'>): Flow {
  return lwkt_schedule_finish(m, mycpu, frame.mygd, frame.wref);
}

/** lwkt_thread.c:999: asynchronous for a thread of another CPU. */
export function lwkt_deschedule(m: Machine, mycpu: CpuId, td: Thread): Flow {
  m.enter('lwkt_deschedule');

  // lwkt_thread.c:1001-1010
  crit_enter(m, mycpu);
  if (td.id === m.gd(mycpu).gd_curthread || td.td_gd === mycpu) {
    _lwkt_dequeue(m, td);
  } else if (lwkt_send_ipiq(m, mycpu, td.td_gd, 'lwkt_deschedule', td.id) === SUSPEND) {
    unmodelledSwitch();
  }

  // lwkt_thread.c:1011
  return crit_exit(m, mycpu);
}

/** Sets the priority bits of td_pri, requeueing td when it is on a run queue. */
function setPriorityBits(m: Machine, td: Thread, pri: number): void {
  if (td.td_flags & TDF_RUNQ) {
    _lwkt_dequeue(m, td);
    td.td_pri = (td.td_pri & ~TDPRI_MASK) + pri;
    _lwkt_enqueue(m, td);
  } else {
    td.td_pri = (td.td_pri & ~TDPRI_MASK) + pri;
  }
}

/** lwkt_thread.c:1028: no upper bound, so pri >= 32 adds critical sections. */
export function lwkt_setpri(m: Machine, mycpu: CpuId, td: Thread, pri: number): Flow {
  m.enter('lwkt_setpri');

  // lwkt_thread.c:1030-1031
  check(m, 'setpri.negative', pri >= 0);
  check(m, 'setpri.remote-thread', td.td_gd === mycpu);

  // lwkt_thread.c:1032-1040
  crit_enter(m, mycpu);
  setPriorityBits(m, td, pri);
  return crit_exit(m, mycpu);
}

/** lwkt_thread.c:1044 */
export function lwkt_setpri_self(m: Machine, mycpu: CpuId, pri: number): Flow {
  m.enter('lwkt_setpri_self');
  const td = m.curthread(mycpu);

  // lwkt_thread.c:1048
  check(m, 'setpri_self.out-of-range', pri >= 0 && pri <= TDPRI_MAX);

  // lwkt_thread.c:1049-1057
  crit_enter(m, mycpu);
  setPriorityBits(m, td, pri);
  return crit_exit(m, mycpu);
}

/** lwkt_thread.c:1072: 1 when a thread of higher priority is runnable. */
export function lwkt_checkpri_self(m: Machine, mycpu: CpuId): number {
  m.enter('lwkt_checkpri_self');
  const gd = m.gd(mycpu);
  const td = m.curthread(mycpu);
  let nq = td.td_pri & TDPRI_MASK;

  // lwkt_thread.c:1078-1083: at nq = 31 the bound is 0xffffffff, so the loop ends.
  while (gd.gd_runqmask > queuesUpTo(nq)) {
    if ((gd.gd_tdrunq[nq + 1] ?? []).length !== 0) return 1;
    nq += 1;
  }
  return 0;
}
