// The abstract state of spec/schema.ts AbstractState: a deep copy of the
// machine. The step call in progress (td_call) appears as `call`.
import { STATE_SCHEMA_ID } from '../spec/constants.js';
import type { AbstractState, ThreadState, TokrefState } from '../spec/schema.js';
import type { Machine, Thread } from './machine.js';

function threadState(td: Thread): ThreadState {
  return {
    id: td.id,
    zfreed: td.zfreed,
    td_gd: td.td_gd,
    td_pri: td.td_pri,
    td_flags: td.td_flags,
    td_mpcount: td.td_mpcount,
    td_cscount: td.td_cscount,
    td_refs: td.td_refs,
    td_nest_count: td.td_nest_count,
    td_wait: td.td_wait,
    td_wmesg: td.td_wmesg,
    td_preempted: td.td_preempted,
    td_toks: [...td.td_toks],
    td_proc: td.td_proc === null ? null : { ...td.td_proc },
    td_release: td.td_release,
    td_preemptable: td.td_preemptable,
    td_comm: td.td_comm,
    td_kstack: td.td_kstack,
    td_kstack_size: td.td_kstack_size,
    frames: structuredClone(td.frames),
    call: td.td_call,
  };
}

/** A tokref is listed while some thread holds it or its remote request is in flight (MAGIC2). */
function liveTokrefs(m: Machine): TokrefState[] {
  const held = new Set(m.threads.flatMap((td) => td.td_toks));
  return [...m.tokrefs.values()]
    .filter((ref) => held.has(ref.id) || ref.tr_magic === 2)
    .sort((a, b) => a.id - b.id)
    .map((ref) => ({ id: ref.id, tr_tok: ref.tr_tok, tr_magic: ref.tr_magic, tr_reqgd: ref.tr_reqgd }));
}

export function snapshot(m: Machine): AbstractState {
  return {
    schema: STATE_SCHEMA_ID,
    config: { ...m.config },
    panicked: m.panicked === null ? null : { ...m.panicked },
    mp_lock: m.mp_lock,
    counters: { ...m.counters },
    cpus: m.cpus.map((gd) => ({
      cpuid: gd.gd_cpuid,
      gd_curthread: gd.gd_curthread,
      gd_idlethread: gd.gd_idlethread,
      gd_runqmask: gd.gd_runqmask,
      gd_tdrunq: gd.gd_tdrunq.map((queue) => [...queue]),
      gd_reqflags: gd.gd_reqflags,
      gd_intr_nesting_level: gd.gd_intr_nesting_level,
      gd_tdallq: [...gd.gd_tdallq],
      gd_tdfreeq: [...gd.gd_tdfreeq],
      gd_tdfreecount: gd.gd_tdfreecount,
      gd_ipending: [...gd.gd_ipending],
      gd_fpending: gd.gd_fpending,
      gd_tokreqbase: [...gd.gd_tokreqbase],
      gd_ipiq: gd.gd_ipiq.map((fifo) => fifo.map((msg) => ({ ...msg }))),
    })),
    threads: m.threads.map(threadState),
    waits: m.waits.map((w) => ({ id: w.id, wa_waitq: [...w.wa_waitq], wa_gen: w.wa_gen, wa_count: w.wa_count })),
    tokens: m.tokens.map((tok) => ({ id: tok.id, t_cpu: tok.t_cpu, t_reqcpu: tok.t_reqcpu })),
    tokrefs: liveTokrefs(m),
  };
}
