// Moving threads between CPUs: lwkt_setcpu_self, its IPI callback
// lwkt_setcpu_remote, and lwkt_acquire. DragonFly BSD sys/kern/lwkt_thread.c
// rev 1.71, lines 972-989 and 1098-1142.
import { TDF_MIGRATING, TDF_RUNNING, TDF_RUNQ } from '../spec/constants.js';
import { check, limit, unmodelledSwitch } from './checks.js';
import { crit_enter_gd, crit_enter_quick, crit_exit_gd, crit_exit_quick } from './crit.js';
import type { FrameOf } from './frames.js';
import { lwkt_send_ipiq } from './ipiq.js';
import { pushFrame, SUSPEND, type CpuId, type Flow, type Machine, type Thread } from './machine.js';
import { _lwkt_enqueue, tdallqRemove } from './queues.js';
import { lwkt_deschedule_self } from './schedule.js';
import { lwkt_switch } from './switch.js';

/** lwkt_thread.c:1098: SMP only; the thread continues on CPU rgd. */
export function lwkt_setcpu_self(m: Machine, mycpu: CpuId, rgd: CpuId): Flow {
  m.enter('lwkt_setcpu_self');
  if (!m.config.smp) return;
  const td = m.curthread(mycpu);
  if (td.td_gd === rgd) return;

  // lwkt_thread.c:1104-1106: TDF_MIGRATING keeps _lwkt_enqueue away until rgd takes it.
  crit_enter_quick(m, td);
  td.td_flags |= TDF_MIGRATING;
  if (lwkt_deschedule_self(m, mycpu, td) === SUSPEND) unmodelledSwitch();

  // lwkt_thread.c:1107-1108
  tdallqRemove(m, td.td_gd, td.id);
  m.gd(rgd).gd_tdallq.push(td.id);

  // lwkt_thread.c:1109-1110
  if (lwkt_send_ipiq(m, mycpu, rgd, 'lwkt_setcpu_remote', td.id) === SUSPEND) unmodelledSwitch();
  if (lwkt_switch(m, mycpu) === SUSPEND) return pushFrame(m, { fn: 'lwkt_setcpu_self' });

  // lwkt_thread.c:1112
  return crit_exit_quick(m, mycpu, td);
}

export function lwkt_setcpu_self_resume(m: Machine, mycpu: CpuId, td: Thread): Flow {
  return crit_exit_quick(m, mycpu, td);
}

/** lwkt_thread.c:1131: IPI callback on the target CPU. */
export function lwkt_setcpu_remote(m: Machine, mycpu: CpuId, td: Thread): void {
  m.enter('lwkt_setcpu_remote');

  // lwkt_thread.c:1136-1137: a handler cannot wait for another step of the sender.
  if (td.td_flags & TDF_RUNNING) limit('ipi-spin');

  // lwkt_thread.c:1138-1141
  td.td_gd = mycpu;
  td.td_flags &= ~TDF_MIGRATING;
  _lwkt_enqueue(m, td);
}

/** lwkt_thread.c:972: take a descheduled thread of another CPU over to this one. */
export function lwkt_acquire(m: Machine, mycpu: CpuId, td: Thread): Flow {
  m.enter('lwkt_acquire');
  const gd = td.td_gd;

  // lwkt_thread.c:979
  check(m, 'acquire.on-runq', (td.td_flags & TDF_RUNQ) === 0);

  return lwkt_acquire_spin_test(m, mycpu, td, gd);
}

/** lwkt_thread.c:980-981: spin until the thread is switched out on its CPU. */
function lwkt_acquire_spin_test(m: Machine, mycpu: CpuId, td: Thread, gd: CpuId): Flow {
  if (td.td_flags & TDF_RUNNING) return pushFrame(m, { fn: 'lwkt_acquire', td: td.id, gd });

  // lwkt_thread.c:982-988
  if (gd === mycpu) return;
  crit_enter_gd(m, mycpu);
  tdallqRemove(m, gd, td.id);
  td.td_gd = mycpu;
  m.gd(mycpu).gd_tdallq.push(td.id);
  return crit_exit_gd(m, mycpu, mycpu);
}

export function lwkt_acquire_resume(m: Machine, mycpu: CpuId, frame: FrameOf<'lwkt_acquire'>): Flow {
  return lwkt_acquire_spin_test(m, mycpu, m.thread(frame.td), frame.gd);
}
