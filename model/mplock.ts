// The MP lock (big giant lock) of sys/i386/i386/mplock.s rev 1.15, from the
// scheduler's side: `mp_lock` is the owning CPU or -1, and each thread's
// td_mpcount is its recursion count. Only SMP kernels have it.
// Seed lines cite DragonFly BSD sys/kern/lwkt_thread.c rev 1.71.
import { MP_FREE_LOCK } from '../spec/constants.js';
import { check } from './checks.js';
import { pushFrame, SUSPEND, type CpuId, type Flow, type Machine } from './machine.js';
import { lwkt_switch } from './switch.js';

export function MP_LOCK_HELD(m: Machine, mycpu: CpuId): boolean {
  return m.mp_lock === mycpu;
}

/** Takes the free lock; fails when any CPU holds it, this one included. */
export function cpu_try_mplock(m: Machine, mycpu: CpuId): boolean {
  m.enter('cpu_try_mplock');
  if (m.mp_lock !== MP_FREE_LOCK) return false;
  m.mp_lock = mycpu;
  return true;
}

export function cpu_rel_mplock(m: Machine): void {
  m.enter('cpu_rel_mplock');
  m.mp_lock = MP_FREE_LOCK;
}

/** get_mplock(): count first, then take the lock or let lwkt_switch wait for it. */
export function get_mplock(m: Machine, mycpu: CpuId): Flow {
  m.enter('get_mplock');
  if (!m.config.smp) return;
  const td = m.curthread(mycpu);

  td.td_mpcount += 1;
  if (MP_LOCK_HELD(m, mycpu) || cpu_try_mplock(m, mycpu)) return;

  // The thread stays on its run queue; lwkt_switch runs it again only with the lock.
  if (lwkt_switch(m, mycpu) === SUSPEND) return pushFrame(m, { fn: 'get_mplock' });
  get_mplock_after_switch(m, mycpu);
}

/** The INVARIANTS test after get_mplock's lwkt_switch returns. */
export function get_mplock_after_switch(m: Machine, mycpu: CpuId): void {
  check(m, 'get_mplock.not-held-after-switch', MP_LOCK_HELD(m, mycpu));
}

export function try_mplock(m: Machine, mycpu: CpuId): number {
  m.enter('try_mplock');
  if (!m.config.smp) return 1;
  const td = m.curthread(mycpu);

  td.td_mpcount += 1;
  if (MP_LOCK_HELD(m, mycpu) || cpu_try_mplock(m, mycpu)) return 1;
  td.td_mpcount -= 1;
  return 0;
}

export function rel_mplock(m: Machine, mycpu: CpuId): void {
  m.enter('rel_mplock');
  if (!m.config.smp) return;
  const td = m.curthread(mycpu);

  check(m, 'rel_mplock.count-zero', td.td_mpcount !== 0);
  td.td_mpcount -= 1;
  if (td.td_mpcount === 0 && MP_LOCK_HELD(m, mycpu)) m.mp_lock = MP_FREE_LOCK;
}
