// IPI message FIFOs (sys/kern/lwkt_ipiq.c rev 1.10): each ordered pair of CPUs
// has a FIFO, and the target runs the queued callbacks when it takes an IPI or
// polls in splz. Seed lines cite DragonFly BSD sys/kern/lwkt_thread.c rev 1.71.
import { match } from 'ts-pattern';
import { ENOENT, IPIQ_NOWAIT_LIMIT, IPIQ_SEND_WAIT_FILL, RQF_IPIQ, TDPRI_CRIT } from '../spec/constants.js';
import type { IpiFunc, IpiMessage } from '../spec/schema.js';
import { check, limit, unmodelledSwitch } from './checks.js';
import { crit_enter, crit_exit } from './crit.js';
import { sched_ithd_remote } from './intr.js';
import { SUSPEND, type CpuId, type Flow, type Machine } from './machine.js';
import { lwkt_init_thread_remote } from './thread.js';
import { lwkt_setcpu_remote } from './migrate.js';
import { lwkt_deschedule, lwkt_schedule } from './schedule.js';
import { lwkt_reqtoken_remote } from './token.js';

/** Direct calls of lwkt_send_ipiq to the current CPU allowed inside one another. */
const IPI_SELF_DEPTH_MAX = 16;

/** Runs one IPI callback on mycpu, on the current thread's stack. */
function ipi_call(m: Machine, mycpu: CpuId, msg: IpiMessage): Flow {
  return match(msg.func)
    .with('lwkt_schedule', () => lwkt_schedule(m, mycpu, m.thread(msg.arg)))
    .with('lwkt_deschedule', () => lwkt_deschedule(m, mycpu, m.thread(msg.arg)))
    .with('lwkt_init_thread_remote', () => lwkt_init_thread_remote(m, m.thread(msg.arg)))
    .with('lwkt_setcpu_remote', () => lwkt_setcpu_remote(m, mycpu, m.thread(msg.arg)))
    .with('sched_ithd_remote', () => sched_ithd_remote(m, mycpu, m.thread(msg.arg)))
    .with('lwkt_reqtoken_remote', () => lwkt_reqtoken_remote(m, mycpu, m.tokref(msg.arg)))
    .exhaustive();
}

/** Calls a message to the current CPU directly; the call may recurse through lwkt_schedule. */
function ipi_call_self(m: Machine, mycpu: CpuId, msg: IpiMessage): Flow {
  m.ipiSelfDepth += 1;
  if (m.ipiSelfDepth > IPI_SELF_DEPTH_MAX) limit('ipi-self-recursion');
  try {
    return ipi_call(m, mycpu, msg);
  } finally {
    m.ipiSelfDepth -= 1;
  }
}

/** lwkt_send_ipiq(): queue func(arg) for `target`; a full FIFO would make the kernel wait. */
export function lwkt_send_ipiq(m: Machine, mycpu: CpuId, target: CpuId, func: IpiFunc, arg: number): Flow {
  m.enter('lwkt_send_ipiq');

  // A uniprocessor kernel panics ("UP box").
  check(m, 'send_ipiq.up-kernel', m.config.smp);

  if (target === mycpu) return ipi_call_self(m, mycpu, { func, arg });

  const gd = m.gd(mycpu);
  crit_enter(m, mycpu);
  gd.gd_intr_nesting_level += 1;

  const fifo = gd.gd_ipiq[target] ?? [];
  if (fifo.length > IPIQ_SEND_WAIT_FILL) limit('ipiq-full');
  fifo.push({ func, arg });

  gd.gd_intr_nesting_level -= 1;
  return crit_exit(m, mycpu);
}

/** lwkt_send_ipiq_nowait(): like lwkt_send_ipiq but returns ENOENT instead of waiting. */
export function lwkt_send_ipiq_nowait(m: Machine, mycpu: CpuId, target: CpuId, func: IpiFunc, arg: number): number {
  m.enter('lwkt_send_ipiq_nowait');

  if (target === mycpu) {
    if (ipi_call_self(m, mycpu, { func, arg }) === SUSPEND) unmodelledSwitch();
    return 0;
  }

  const fifo = m.gd(mycpu).gd_ipiq[target] ?? [];
  if (fifo.length >= IPIQ_NOWAIT_LIMIT) return ENOENT;
  fifo.push({ func, arg });
  return 0;
}

/** lwkt_process_ipiq(): drain every FIFO into mycpu, by ascending source CPU. */
export function lwkt_process_ipiq(m: Machine, mycpu: CpuId): void {
  m.enter('lwkt_process_ipiq');

  for (const source of m.cpus) {
    if (source.gd_cpuid === mycpu) continue;
    const fifo = source.gd_ipiq[mycpu] ?? [];
    for (let msg = fifo.shift(); msg !== undefined; msg = fifo.shift()) {
      // A callback runs on the current thread's stack; it has no frame of its own.
      if (ipi_call(m, mycpu, msg) === SUSPEND) unmodelledSwitch();
    }
  }
}

/** Step `ipi`: the hardware IPI vector (Xipiq in apic_vector.s). */
export function ipi(m: Machine, mycpu: CpuId): void {
  m.enter('ipi');
  const gd = m.gd(mycpu);
  const td = m.curthread(mycpu);

  // A uniprocessor kernel has no IPI vector.
  if (!m.config.smp) return;

  if (td.td_pri >= TDPRI_CRIT) {
    gd.gd_reqflags |= RQF_IPIQ;
    return;
  }

  gd.gd_intr_nesting_level += 1;
  td.td_pri += TDPRI_CRIT;
  lwkt_process_ipiq(m, mycpu);
  td.td_pri -= TDPRI_CRIT;
  gd.gd_intr_nesting_level -= 1;
}
