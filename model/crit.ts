// Critical sections (sys/sys/thread2.h rev 1.17) and crit_panic.
//
// The critical-section count lives in the bits of td_pri above TDPRI_MASK:
// entering adds TDPRI_CRIT, leaving subtracts it. Leaving the outermost
// section with a request pending on the thread's CPU calls lwkt_yield_quick,
// which may switch, so every exit returns a Flow.
// Seed lines cite DragonFly BSD sys/kern/lwkt_thread.c rev 1.71.
import { TDPRI_CRIT } from '../spec/constants.js';
import { check } from './checks.js';
import type { CpuId, Flow, Machine, Thread } from './machine.js';
import { lwkt_yield_quick } from './yield.js';

/** Makes the INVARIANTS test of crit_enter, crit_exit and crit_exit_noyield. */
function crit_check_negative(m: Machine, td: Thread): void {
  check(m, 'crit_panic.negative', td.td_pri >= 0, () => crit_panic(m, td));
}

/** lwkt_thread.c:1297: zero td_pri, then panic (the caller of check raises it). */
export function crit_panic(m: Machine, td: Thread): void {
  m.enter('crit_panic');

  // lwkt_thread.c:1300-1302
  td.td_pri = 0;
}

export function crit_enter(m: Machine, mycpu: CpuId): void {
  m.enter('crit_enter');
  const td = m.curthread(mycpu);
  td.td_pri += TDPRI_CRIT;
  crit_check_negative(m, td);
}

export function crit_enter_quick(m: Machine, td: Thread): void {
  m.enter('crit_enter_quick');
  td.td_pri += TDPRI_CRIT;
}

export function crit_enter_gd(m: Machine, gdId: CpuId): void {
  m.enter('crit_enter_gd');
  crit_enter_quick(m, m.curthread(gdId));
}

/** Yields when the outermost section ends with a request pending on td's CPU. */
function crit_exit_maybe_yield(m: Machine, mycpu: CpuId, td: Thread): Flow {
  const gd = m.gd(td.td_gd);
  if (gd.gd_reqflags !== 0 && td.td_pri < TDPRI_CRIT) return lwkt_yield_quick(m, mycpu);
}

export function crit_exit(m: Machine, mycpu: CpuId): Flow {
  m.enter('crit_exit');
  const td = m.curthread(mycpu);
  td.td_pri -= TDPRI_CRIT;
  crit_check_negative(m, td);
  return crit_exit_maybe_yield(m, mycpu, td);
}

/** Has no negative check, unlike crit_exit. */
export function crit_exit_quick(m: Machine, mycpu: CpuId, td: Thread): Flow {
  m.enter('crit_exit_quick');
  td.td_pri -= TDPRI_CRIT;
  return crit_exit_maybe_yield(m, mycpu, td);
}

export function crit_exit_gd(m: Machine, mycpu: CpuId, gdId: CpuId): Flow {
  m.enter('crit_exit_gd');
  return crit_exit_quick(m, mycpu, m.curthread(gdId));
}

export function crit_exit_noyield(m: Machine, td: Thread): void {
  m.enter('crit_exit_noyield');
  td.td_pri -= TDPRI_CRIT;
  crit_check_negative(m, td);
}
