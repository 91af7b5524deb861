// Wait queues: lwkt_wait_init, lwkt_block and lwkt_signal. DragonFly BSD
// sys/kern/lwkt_thread.c rev 1.71, lines 213-219 and 1161-1219. Each wait
// queue is serialised by its token wa_token (the token with the same id).
import { WAITS_MAX } from '../spec/constants.js';
import { limit, unmodelledSwitch } from './checks.js';
import { crit_enter, crit_exit } from './crit.js';
import type { FrameOf } from './frames.js';
import { lwkt_send_ipiq } from './ipiq.js';
import { pushFrame, SUSPEND, type CpuId, type Flow, type Machine, type Thread, type Wait } from './machine.js';
import { _lwkt_dequeue, _lwkt_enqueue, listRemove } from './queues.js';
import { lwkt_switch } from './switch.js';
import { lwkt_gettoken, lwkt_reltoken, lwkt_token_init } from './token.js';

/** lwkt_thread.c:213; returns the new wait queue's id. */
export function lwkt_wait_init(m: Machine, mycpu: CpuId): number {
  m.enter('lwkt_wait_init');
  if (m.waits.length >= WAITS_MAX) limit('waits-max');
  const id = m.waits.length;

  // lwkt_thread.c:215-218
  lwkt_token_init(m, mycpu, id);
  m.waits.push({ id, wa_waitq: [], wa_gen: 0, wa_count: 0 });
  return id;
}

interface BlockArgs {
  readonly w: Wait;
  readonly wmesg: string | null;
  readonly gen: number;
  readonly ilock: number;
}

function blockFrame(stage: FrameOf<'lwkt_block'>['stage'], a: BlockArgs): FrameOf<'lwkt_block'> {
  return { fn: 'lwkt_block', stage, w: a.w.id, wmesg: a.wmesg, gen: a.gen, ilock: a.ilock };
}

/** lwkt_thread.c:1161: sleep on w unless its generation moved on; returns the new *gen. */
export function lwkt_block(m: Machine, mycpu: CpuId, w: Wait, wmesg: string | null, gen: number): Flow<number> {
  m.enter('lwkt_block');
  const ilock = m.newTokref(w.id);
  const a: BlockArgs = { w, wmesg, gen, ilock: ilock.id };

  // lwkt_thread.c:1166
  if (lwkt_gettoken(m, mycpu, ilock) === SUSPEND) return pushFrame(m, blockFrame('gettoken', a));
  return lwkt_block_locked(m, mycpu, a);
}

/** lwkt_thread.c:1167-1173: queue the thread when the generation matches. */
function lwkt_block_locked(m: Machine, mycpu: CpuId, a: BlockArgs): Flow<number> {
  const td = m.curthread(mycpu);
  crit_enter(m, mycpu);
  if (a.w.wa_gen !== a.gen) return lwkt_block_crit_exit(m, mycpu, a);

  _lwkt_dequeue(m, td);
  a.w.wa_waitq.push(td.id);
  a.w.wa_count += 1;
  td.td_wait = a.w.id;
  td.td_wmesg = a.wmesg;
  return lwkt_block_loop(m, mycpu, td, a);
}

/** lwkt_thread.c:1174-1179: switch until lwkt_signal clears td_wmesg. */
function lwkt_block_loop(m: Machine, mycpu: CpuId, td: Thread, a: BlockArgs): Flow<number> {
  if (lwkt_switch(m, mycpu) === SUSPEND) return pushFrame(m, blockFrame('loop', a));
  return lwkt_block_after_switch(m, mycpu, td, a);
}

function lwkt_block_after_switch(m: Machine, mycpu: CpuId, td: Thread, a: BlockArgs): Flow<number> {
  // lwkt_thread.c:1176-1178: lwkt_schedule leaves td_wmesg set, so such a wakeup is undone here.
  if (td.td_wmesg !== null) {
    _lwkt_dequeue(m, td);
    return lwkt_block_loop(m, mycpu, td, a);
  }
  return lwkt_block_crit_exit(m, mycpu, a);
}

/** lwkt_thread.c:1181 */
function lwkt_block_crit_exit(m: Machine, mycpu: CpuId, a: BlockArgs): Flow<number> {
  if (crit_exit(m, mycpu) === SUSPEND) return pushFrame(m, blockFrame('crit-exit', a));
  return lwkt_block_release(m, mycpu, a);
}

/** lwkt_thread.c:1182-1183 */
function lwkt_block_release(m: Machine, mycpu: CpuId, a: BlockArgs): Flow<number> {
  const newGen = a.w.wa_gen;
  if (lwkt_reltoken(m, mycpu, m.tokref(a.ilock)) === SUSPEND) {
    return pushFrame(m, blockFrame('reltoken', { ...a, gen: newGen }));
  }
  return newGen;
}

export function lwkt_block_resume(m: Machine, mycpu: CpuId, td: Thread, frame: FrameOf<'lwkt_block'>): Flow<number> {
  const a: BlockArgs = { w: m.wait(frame.w), wmesg: frame.wmesg, gen: frame.gen, ilock: frame.ilock };
  switch (frame.stage) {
    case 'gettoken':
      return lwkt_block_locked(m, mycpu, a);
    case 'loop':
      return lwkt_block_after_switch(m, mycpu, td, a);
    case 'crit-exit':
      return lwkt_block_release(m, mycpu, a);
    case 'reltoken':
      return frame.gen;
  }
}

interface SignalArgs {
  readonly w: Wait;
  readonly count: number;
  readonly ilock: number;
}

function signalFrame(stage: FrameOf<'lwkt_signal'>['stage'], a: SignalArgs): FrameOf<'lwkt_signal'> {
  return { fn: 'lwkt_signal', stage, w: a.w.id, count: a.count, ilock: a.ilock };
}

/** lwkt_thread.c:1195: wake up to `count` waiters (all of them when count < 0). */
export function lwkt_signal(m: Machine, mycpu: CpuId, w: Wait, count: number): Flow {
  m.enter('lwkt_signal');
  const ilock = m.newTokref(w.id);
  const a: SignalArgs = { w, count, ilock: ilock.id };

  // lwkt_thread.c:1200
  if (lwkt_gettoken(m, mycpu, ilock) === SUSPEND) return pushFrame(m, signalFrame('gettoken', a));
  return lwkt_signal_locked(m, mycpu, a);
}

/** lwkt_thread.c:1201-1217 */
function lwkt_signal_locked(m: Machine, mycpu: CpuId, a: SignalArgs): Flow {
  const w = a.w;
  w.wa_gen += 1;
  crit_enter(m, mycpu);
  let count = a.count < 0 ? w.wa_count : a.count;

  for (let first = w.wa_waitq[0]; first !== undefined && count !== 0; first = w.wa_waitq[0]) {
    const td = m.thread(first);
    count -= 1;
    w.wa_count -= 1;
    listRemove(w.wa_waitq, td.id);
    td.td_wait = null;
    td.td_wmesg = null;

    // lwkt_thread.c:1211-1215: a local waiter is enqueued without _lwkt_schedule_post.
    if (td.td_gd === mycpu) {
      _lwkt_enqueue(m, td);
    } else if (lwkt_send_ipiq(m, mycpu, td.td_gd, 'lwkt_schedule', td.id) === SUSPEND) {
      unmodelledSwitch();
    }
  }

  // lwkt_thread.c:1217
  const rest: SignalArgs = { ...a, count };
  if (crit_exit(m, mycpu) === SUSPEND) return pushFrame(m, signalFrame('crit-exit', rest));
  return lwkt_signal_release(m, mycpu, rest);
}

/** lwkt_thread.c:1218 */
function lwkt_signal_release(m: Machine, mycpu: CpuId, a: SignalArgs): Flow {
  if (lwkt_reltoken(m, mycpu, m.tokref(a.ilock)) === SUSPEND) return pushFrame(m, signalFrame('reltoken', a));
}

export function lwkt_signal_resume(m: Machine, mycpu: CpuId, frame: FrameOf<'lwkt_signal'>): Flow {
  const a: SignalArgs = { w: m.wait(frame.w), count: frame.count, ilock: frame.ilock };
  switch (frame.stage) {
    case 'gettoken':
      return lwkt_signal_locked(m, mycpu, a);
    case 'crit-exit':
      return lwkt_signal_release(m, mycpu, a);
    case 'reltoken':
      return;
  }
}
