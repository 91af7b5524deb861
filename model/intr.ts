// Interrupts, splz and the idle loop: the parts of intr_machdep.c rev 1.25,
// ipl.s rev 1.17 and machdep.c rev 1.72 that DragonFly BSD
// sys/kern/lwkt_thread.c rev 1.71 depends on. The spl mask is not modelled, so
// an interrupt is held back only by a critical section.
import { RQF_INTPEND, RQF_IPIQ, TDF_IDLE_NOHLT, TDPRI_CRIT } from '../spec/constants.js';
import { unmodelledSwitch } from './checks.js';
import type { FrameOf } from './frames.js';
import { lwkt_process_ipiq, lwkt_send_ipiq } from './ipiq.js';
import { pushFrame, SUSPEND, type CpuId, type Flow, type Machine, type Thread } from './machine.js';
import { lwkt_schedule } from './schedule.js';
import { lwkt_switch } from './switch.js';

/** sched_ithd(): schedule the interrupt thread on its own CPU. */
export function sched_ithd(m: Machine, mycpu: CpuId, td: Thread): Flow {
  m.enter('sched_ithd');
  if (td.td_gd === mycpu) return lwkt_schedule(m, mycpu, td);
  return lwkt_send_ipiq(m, mycpu, td.td_gd, 'sched_ithd_remote', td.id);
}

/** IPI callback of sched_ithd for a thread of the receiving CPU. */
export function sched_ithd_remote(m: Machine, mycpu: CpuId, td: Thread): Flow {
  m.enter('sched_ithd_remote');
  return sched_ithd(m, mycpu, td);
}

/** Step `intr`: a threaded hardware interrupt for td arrives on mycpu. */
export function intr(m: Machine, mycpu: CpuId, td: Thread): Flow {
  m.enter('intr');
  const gd = m.gd(mycpu);
  const cur = m.curthread(mycpu);

  // Inside a critical section the interrupt is only recorded for splz.
  if (cur.td_pri >= TDPRI_CRIT) {
    if (!gd.gd_ipending.includes(td.id)) {
      gd.gd_ipending.push(td.id);
      gd.gd_ipending.sort((a, b) => a - b);
    }
    gd.gd_reqflags |= RQF_INTPEND;
    return;
  }

  if (sched_ithd(m, mycpu, td) === SUSPEND) return pushFrame(m, { fn: 'intr', td: td.id });
}

/** Step `fastintr_switch`: a fast interrupt whose handler calls lwkt_switch. */
export function fastintr_switch(m: Machine, mycpu: CpuId): Flow {
  m.enter('fastintr_switch');
  const gd = m.gd(mycpu);
  const cur = m.curthread(mycpu);

  if (cur.td_pri >= TDPRI_CRIT) {
    gd.gd_fpending = true;
    gd.gd_reqflags |= RQF_INTPEND;
    return;
  }

  gd.gd_intr_nesting_level += 1;
  cur.td_pri += TDPRI_CRIT;

  // lwkt_switch panics at lwkt_thread.c:459 because the nesting level is non-zero.
  if (lwkt_switch(m, mycpu) === SUSPEND) unmodelledSwitch();
  cur.td_pri -= TDPRI_CRIT;
  gd.gd_intr_nesting_level -= 1;
}

/** splz(): run pending IPIs and interrupts whatever the critical-section count. */
export function splz(m: Machine, mycpu: CpuId): Flow {
  m.enter('splz');
  const td = m.curthread(mycpu);
  td.td_pri += TDPRI_CRIT;
  return splz_loop(m, mycpu, td);
}

/** Runs the rest of splz after a pending interrupt thread switched td out. */
export function splz_resume(m: Machine, mycpu: CpuId, td: Thread): Flow {
  td.td_pri += TDPRI_CRIT;
  td.td_nest_count -= 1;
  return splz_loop(m, mycpu, td);
}

function splz_loop(m: Machine, mycpu: CpuId, td: Thread): Flow {
  const gd = m.gd(mycpu);

  for (;;) {
    if (m.config.smp && gd.gd_reqflags & RQF_IPIQ) {
      gd.gd_reqflags &= ~RQF_IPIQ;
      lwkt_process_ipiq(m, mycpu);
      continue;
    }

    if (gd.gd_fpending) {
      // The fast handler calls lwkt_switch, which panics at lwkt_thread.c:459.
      gd.gd_fpending = false;
      gd.gd_intr_nesting_level += 1;
      if (lwkt_switch(m, mycpu) === SUSPEND) unmodelledSwitch();
      gd.gd_intr_nesting_level -= 1;
      continue;
    }

    const irq = gd.gd_ipending.shift();
    if (irq !== undefined) {
      // The interrupt thread may preempt td only if td's caller held no critical section.
      td.td_pri -= TDPRI_CRIT;
      td.td_nest_count += 1;
      if (sched_ithd(m, mycpu, m.thread(irq)) === SUSPEND) return pushFrame(m, { fn: 'splz' });
      td.td_pri += TDPRI_CRIT;
      td.td_nest_count -= 1;
      continue;
    }

    break;
  }

  td.td_pri -= TDPRI_CRIT;
  if (gd.gd_ipending.length === 0 && !gd.gd_fpending) gd.gd_reqflags &= ~RQF_INTPEND;
}

/** Step `cpu_idle`: one iteration of the idle loop with machdep.cpu_idle_hlt set. */
export function cpu_idle(m: Machine, mycpu: CpuId): Flow {
  m.enter('cpu_idle');
  const td = m.curthread(mycpu);
  if (lwkt_switch(m, mycpu) === SUSPEND) return pushFrame(m, { fn: 'cpu_idle', stage: 'switch' });
  return cpu_idle_after_switch(m, mycpu, td);
}

/** Halts (not modelled) when nothing is runnable, else clears TDF_IDLE_NOHLT; splz either way. */
function cpu_idle_after_switch(m: Machine, mycpu: CpuId, td: Thread): Flow {
  const gd = m.gd(mycpu);
  if (!(gd.gd_runqmask === 0 && (td.td_flags & TDF_IDLE_NOHLT) === 0)) td.td_flags &= ~TDF_IDLE_NOHLT;
  if (splz(m, mycpu) === SUSPEND) return pushFrame(m, { fn: 'cpu_idle', stage: 'splz' });
}

export function cpu_idle_resume(m: Machine, mycpu: CpuId, td: Thread, frame: FrameOf<'cpu_idle'>): Flow {
  if (frame.stage === 'splz') return;
  return cpu_idle_after_switch(m, mycpu, td);
}
