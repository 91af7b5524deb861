// lwkt_yield_quick and lwkt_yield. DragonFly BSD sys/kern/lwkt_thread.c
// rev 1.71, lines 794-853.
import { TDF_RUNQ } from '../spec/constants.js';
import { unmodelledSwitch } from './checks.js';
import { crit_enter_quick, crit_exit_noyield } from './crit.js';
import type { FrameOf } from './frames.js';
import { splz } from './intr.js';
import { pushFrame, SUSPEND, type CpuId, type Flow, type Machine, type Thread } from './machine.js';
import { lwkt_deschedule_self, lwkt_schedule_self } from './schedule.js';
import { lwkt_switch } from './switch.js';

/** lwkt_thread.c:794 */
export function lwkt_yield_quick(m: Machine, mycpu: CpuId): Flow {
  m.enter('lwkt_yield_quick');
  const gd = m.gd(mycpu);
  const td = m.curthread(mycpu);

  // lwkt_thread.c:813-814: td_nest_count keeps splz from nesting deeper than twice.
  if (gd.gd_reqflags !== 0 && td.td_nest_count < 2) {
    if (splz(m, mycpu) === SUSPEND) return pushFrame(m, { fn: 'lwkt_yield_quick', stage: 'splz' });
  }

  return lwkt_yield_quick_untimely(m, mycpu, td);
}

/** lwkt_thread.c:822-838: with lwkt.untimely_switch, switch on every outermost crit_exit. */
export function lwkt_yield_quick_untimely(m: Machine, mycpu: CpuId, td: Thread): Flow {
  const gd = m.gd(mycpu);
  if (!(m.config.untimelySwitch && td.td_nest_count === 0 && gd.gd_intr_nesting_level === 0)) return;

  // lwkt_thread.c:825
  crit_enter_quick(m, td);

  // lwkt_thread.c:830-831
  if (td.td_flags & TDF_RUNQ) {
    if (lwkt_switch(m, mycpu) === SUSPEND) return pushFrame(m, { fn: 'lwkt_yield_quick', stage: 'untimely-runq' });
    crit_exit_noyield(m, td);
    return;
  }

  // lwkt_thread.c:833-835: the thread is inside a critical section here.
  if (lwkt_schedule_self(m, mycpu, td) === SUSPEND) unmodelledSwitch();
  if (lwkt_switch(m, mycpu) === SUSPEND) return pushFrame(m, { fn: 'lwkt_yield_quick', stage: 'untimely-sched' });
  return lwkt_yield_quick_after_sched(m, mycpu, td);
}

/** lwkt_thread.c:835-837 */
function lwkt_yield_quick_after_sched(m: Machine, mycpu: CpuId, td: Thread): Flow {
  if (lwkt_deschedule_self(m, mycpu, td) === SUSPEND) unmodelledSwitch();
  crit_exit_noyield(m, td);
}

export function lwkt_yield_quick_resume(m: Machine, mycpu: CpuId, td: Thread, frame: FrameOf<'lwkt_yield_quick'>): Flow {
  switch (frame.stage) {
    case 'splz':
      return lwkt_yield_quick_untimely(m, mycpu, td);
    case 'untimely-runq':
      crit_exit_noyield(m, td);
      return;
    case 'untimely-sched':
      return lwkt_yield_quick_after_sched(m, mycpu, td);
  }
}

/** lwkt_thread.c:849: unlike lwkt_yield_quick, yields to threads of equal priority too. */
export function lwkt_yield(m: Machine, mycpu: CpuId): Flow {
  m.enter('lwkt_yield');
  const td = m.curthread(mycpu);

  // lwkt_thread.c:851
  if (lwkt_schedule_self(m, mycpu, td) === SUSPEND) return pushFrame(m, { fn: 'lwkt_yield', stage: 'schedule-self' });

  // lwkt_thread.c:852
  if (lwkt_switch(m, mycpu) === SUSPEND) return pushFrame(m, { fn: 'lwkt_yield', stage: 'switch' });
}

export function lwkt_yield_resume(m: Machine, mycpu: CpuId, frame: FrameOf<'lwkt_yield'>): Flow {
  if (frame.stage === 'switch') return;
  if (lwkt_switch(m, mycpu) === SUSPEND) return pushFrame(m, { fn: 'lwkt_yield', stage: 'switch' });
}
