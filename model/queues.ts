// Run queues, list helpers and the reschedule request.
//
// Each CPU has 32 FIFO run queues indexed by td_pri & TDPRI_MASK and a mask of
// queues that may be non-empty. Enqueueing sets the mask bit, dequeueing leaves
// it, and lwkt_switch clears a bit when it finds that queue empty.
// Seed lines cite DragonFly BSD sys/kern/lwkt_thread.c rev 1.71.
import { RQF_AST_LWKT_RESCHED, TDF_MIGRATING, TDF_RUNQ, TDPRI_MASK } from '../spec/constants.js';
import type { CpuId, Machine, Thread, ThreadId } from './machine.js';

/** Index of the most significant set bit of an unsigned 32-bit mask (undefined for 0 in C; -1 here). */
export function bsrl(mask: number): number {
  return 31 - Math.clz32(mask);
}

/** Returns `1 << nq` as an unsigned 32-bit value. */
export function queueBit(nq: number): number {
  return (1 << nq) >>> 0;
}

/**
 * Returns `(2 << nq) - 1` as an unsigned 32-bit value: the mask of the queues at or below nq.
 * At nq = 31 the shift gives 0, so the mask is 0xffffffff.
 */
export function queuesUpTo(nq: number): number {
  return ((2 << nq) - 1) >>> 0;
}

/** Removes the first occurrence of `id` from `list`; returns whether it was there. */
export function listRemove(list: ThreadId[], id: ThreadId): boolean {
  const at = list.indexOf(id);
  if (at < 0) return false;
  list.splice(at, 1);
  return true;
}

/** lwkt_thread.c:126 */
export function _lwkt_dequeue(m: Machine, td: Thread): void {
  m.enter('_lwkt_dequeue');

  // lwkt_thread.c:128-133
  if (td.td_flags & TDF_RUNQ) {
    const nq = td.td_pri & TDPRI_MASK;
    const gd = m.gd(td.td_gd);
    td.td_flags &= ~TDF_RUNQ;
    const queue = gd.gd_tdrunq[nq] ?? [];
    if (!listRemove(queue, td.id)) removeFromAnyRunq(m, td.id);
    // lwkt_thread.c:134: the mask bit stays; lwkt_switch clears it lazily.
  }
}

/**
 * NOTE: TAILQ_REMOVE of a thread that is on another run queue than td_gd's
 * queue td_pri & TDPRI_MASK corrupts the C lists. The model unlinks it from the
 * queue it is really on instead, and the structure invariants report the state.
 */
function removeFromAnyRunq(m: Machine, id: ThreadId): void {
  for (const gd of m.cpus) {
    for (const queue of gd.gd_tdrunq) {
      if (listRemove(queue, id)) return;
    }
  }
}

/** lwkt_thread.c:140 */
export function _lwkt_enqueue(m: Machine, td: Thread): void {
  m.enter('_lwkt_enqueue');

  // lwkt_thread.c:142: a migrating thread is enqueued by lwkt_setcpu_remote.
  if ((td.td_flags & (TDF_RUNQ | TDF_MIGRATING)) === 0) {
    const nq = td.td_pri & TDPRI_MASK;
    const gd = m.gd(td.td_gd);

    // lwkt_thread.c:146-148
    td.td_flags |= TDF_RUNQ;
    gd.gd_tdrunq[nq]?.push(td.id);
    gd.gd_runqmask = (gd.gd_runqmask | queueBit(nq)) >>> 0;
  }
}

/** need_lwkt_resched() of i386 cpu.h: acts on mycpu. */
export function need_lwkt_resched(m: Machine, mycpu: CpuId): void {
  m.gd(mycpu).gd_reqflags |= RQF_AST_LWKT_RESCHED;
}

export function clear_lwkt_resched(m: Machine, mycpu: CpuId): void {
  m.gd(mycpu).gd_reqflags &= ~RQF_AST_LWKT_RESCHED;
}

/** Removes td from the gd_tdallq of `cpu`, or from whichever gd_tdallq holds it. */
export function tdallqRemove(m: Machine, cpu: CpuId, id: ThreadId): void {
  if (listRemove(m.gd(cpu).gd_tdallq, id)) return;

  // NOTE: C unlinks through td_allq and would damage the other list's tail
  // pointer when td is last there; spec/semantics.md 5 unlinks it properly.
  for (const gd of m.cpus) {
    if (listRemove(gd.gd_tdallq, id)) return;
  }
}
