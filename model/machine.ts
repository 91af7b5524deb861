// State of the modelled machine: thread structures, per-CPU globaldata, wait
// queues, tokens and token references, the MP lock and the sysctl counters.
//
// The model follows DragonFly BSD sys/kern/lwkt_thread.c rev 1.71 (April 2005).
// Field names are the C names so that each model function can be read next to
// the source line it mirrors.
import type { Config, Frame, IpiMessage, PanicInfo, Printed, ProcInfo } from '../spec/schema.js';
import { MP_FREE_LOCK, NQS } from '../spec/constants.js';
import { ASSERTIONS, SEED_FUNCTIONS } from '../spec/catalogue.js';

/** Thread id, CPU id, wait-queue id and tokref id are plain integers, as in the abstract state. */
export type ThreadId = number;
export type CpuId = number;

/** Return value of a finished call: an int, or null for void functions. */
export type Ret = number | null;

/**
 * Marker returned by every function that may stop its thread in the middle of
 * the call: the thread was switched out, or it entered a spin loop. The caller
 * that still has work left records its frame with `pushFrame` and returns the
 * marker too, so the JavaScript stack unwinds to the step loop.
 */
export const SUSPEND: unique symbol = Symbol('SUSPEND');
export type Suspended = typeof SUSPEND;
export type Flow<T = void> = T | Suspended;

/** struct thread, reduced to the fields the seed and its environment use. */
export interface Thread {
  readonly id: ThreadId;
  zfreed: boolean;
  td_gd: CpuId;
  td_pri: number;
  td_flags: number;
  td_mpcount: number;
  td_cscount: number;
  td_refs: number;
  td_nest_count: number;
  td_wait: number | null;
  td_wmesg: string | null;
  td_preempted: ThreadId | null;
  /** Token references held, head (newest) first. */
  td_toks: number[];
  td_proc: ProcInfo | null;
  td_release: boolean;
  td_preemptable: boolean;
  td_comm: string;
  td_kstack: boolean;
  td_kstack_size: number;
  /** Continuation, innermost frame first; empty at a call boundary. */
  frames: Frame[];
  /**
   * The step call this thread is in the middle of (not part of the abstract
   * state). It names the call in `completed` even when the call's own frame
   * was consumed by a rest that switched again at its very end.
   */
  td_call: string | null;
}

/** struct globaldata, reduced to the fields the seed and its environment use. */
export interface Globaldata {
  readonly gd_cpuid: CpuId;
  gd_curthread: ThreadId;
  gd_idlethread: ThreadId;
  /** Unsigned 32-bit mask of run queues that may be non-empty. */
  gd_runqmask: number;
  gd_tdrunq: ThreadId[][];
  gd_reqflags: number;
  gd_intr_nesting_level: number;
  gd_tdallq: ThreadId[];
  gd_tdfreeq: ThreadId[];
  gd_tdfreecount: number;
  /** Interrupt threads with a pending interrupt, ascending. */
  gd_ipending: ThreadId[];
  gd_fpending: boolean;
  /** Deferred remote token requests (tokref ids), head first. */
  gd_tokreqbase: number[];
  /** Outgoing IPI FIFOs, indexed by target CPU, oldest message first. */
  gd_ipiq: IpiMessage[][];
}

/** struct lwkt_wait; its wa_token is the token with the same id. */
export interface Wait {
  readonly id: number;
  wa_waitq: ThreadId[];
  wa_gen: number;
  wa_count: number;
}

/** struct lwkt_token. */
export interface Token {
  readonly id: number;
  t_cpu: CpuId;
  t_reqcpu: CpuId;
}

/** struct lwkt_tokref; tr_magic is 1 for LWKT_TOKREF_MAGIC1 and 2 for LWKT_TOKREF_MAGIC2. */
export interface Tokref {
  readonly id: number;
  readonly tr_tok: number;
  tr_magic: 1 | 2;
  tr_reqgd: CpuId | null;
}

/** The sysctl counters of lwkt_thread.c:97-100. */
export interface Counters {
  switch_count: number;
  preempt_hit: number;
  preempt_miss: number;
  preempt_weird: number;
}

/** A failed assertion or panic() of the modelled kernel. */
export class KernelPanic extends Error {
  constructor(readonly info: PanicInfo) {
    super(`panic ${info.id} at ${info.site}`);
  }
}

/** A model limit of spec/catalogue.ts LIMITS was exceeded. */
export class ModelLimit extends Error {
  constructor(readonly limitId: string) {
    super(`model limit ${limitId}`);
  }
}

function emptyThread(id: ThreadId, td_gd: CpuId): Thread {
  return {
    id,
    zfreed: false,
    td_gd,
    td_pri: 0,
    td_flags: 0,
    td_mpcount: 0,
    td_cscount: 0,
    td_refs: 0,
    td_nest_count: 0,
    td_wait: null,
    td_wmesg: null,
    td_preempted: null,
    td_toks: [],
    td_proc: null,
    td_release: false,
    td_preemptable: false,
    td_comm: '',
    td_kstack: false,
    td_kstack_size: 0,
    frames: [],
    td_call: null,
  };
}

/** Clears every field of a thread structure except its identity (bzero). */
export function bzeroThread(td: Thread): void {
  Object.assign(td, emptyThread(td.id, td.td_gd), { zfreed: td.zfreed, td_gd: 0 });
}

export class Machine {
  readonly config: Config;
  readonly threads: Thread[] = [];
  readonly cpus: Globaldata[] = [];
  readonly waits: Wait[] = [];
  readonly tokens: Token[] = [];
  readonly tokrefs = new Map<number, Tokref>();
  mp_lock: number = MP_FREE_LOCK;
  readonly counters: Counters = { switch_count: 0, preempt_hit: 0, preempt_miss: 0, preempt_weird: 0 };
  panicked: PanicInfo | null = null;
  /** Id of the limit that stopped the machine, if any. */
  limited: string | null = null;

  // Per-step bookkeeping.
  printed: Printed[] = [];
  /** Frames recorded while the current thread unwinds, innermost first. */
  unwound: Frame[] = [];
  switchCalls = 0;
  ipiSelfDepth = 0;

  // Coverage, cumulative since construction.
  readonly functionCalls: Record<string, number> = {};
  readonly assertionCounts: Record<string, { evaluated: number; failed: number }> = {};

  private nextTokref = 0;

  constructor(config: Config) {
    this.config = config;
    for (const f of SEED_FUNCTIONS) this.functionCalls[f.name] = 0;
    for (const a of ASSERTIONS) this.assertionCounts[a.id] = { evaluated: 0, failed: 0 };
  }

  /** Counts one call of a modelled function for coverage. */
  enter(fn: string): void {
    this.functionCalls[fn] = (this.functionCalls[fn] ?? 0) + 1;
  }

  thread(id: ThreadId): Thread {
    const td = this.threads[id];
    if (td === undefined) throw new Error(`internal error: no thread structure ${id}`);
    return td;
  }

  gd(cpu: CpuId): Globaldata {
    const gd = this.cpus[cpu];
    if (gd === undefined) throw new Error(`internal error: no cpu ${cpu}`);
    return gd;
  }

  curthread(cpu: CpuId): Thread {
    return this.thread(this.gd(cpu).gd_curthread);
  }

  wait(id: number): Wait {
    const w = this.waits[id];
    if (w === undefined) throw new Error(`internal error: no wait queue ${id}`);
    return w;
  }

  token(id: number): Token {
    const tok = this.tokens[id];
    if (tok === undefined) throw new Error(`internal error: no token ${id}`);
    return tok;
  }

  tokref(id: number): Tokref {
    const ref = this.tokrefs.get(id);
    if (ref === undefined) throw new Error(`internal error: no tokref ${id}`);
    return ref;
  }

  addCpu(cpu: CpuId, ncpus: number): Globaldata {
    const gd: Globaldata = {
      gd_cpuid: cpu,
      gd_curthread: cpu,
      gd_idlethread: cpu,
      gd_runqmask: 0,
      gd_tdrunq: Array.from({ length: NQS }, () => []),
      gd_reqflags: 0,
      gd_intr_nesting_level: 0,
      gd_tdallq: [],
      gd_tdfreeq: [],
      gd_tdfreecount: 0,
      gd_ipending: [],
      gd_fpending: false,
      gd_tokreqbase: [],
      gd_ipiq: Array.from({ length: ncpus }, () => []),
    };
    this.cpus.push(gd);
    return gd;
  }

  /** Allocates a new, zeroed thread structure (zalloc never hands out a freed one here). */
  allocThreadStructure(mycpu: CpuId): Thread {
    const td = emptyThread(this.threads.length, mycpu);
    this.threads.push(td);
    return td;
  }

  /** lwkt_tokref_init on a new stack tokref: MAGIC1, no request. */
  newTokref(tok: number): Tokref {
    const ref: Tokref = { id: this.nextTokref++, tr_tok: tok, tr_magic: 1, tr_reqgd: null };
    this.tokrefs.set(ref.id, ref);
    return ref;
  }

  /** Takes the frames recorded by the last unwinding, innermost first. */
  takeUnwound(): Frame[] {
    const frames = this.unwound;
    this.unwound = [];
    return frames;
  }
}

/** Records the frame of a function whose thread stops inside one of its callees. */
export function pushFrame(m: Machine, frame: Frame): Suspended {
  m.unwound.push(frame);
  return SUSPEND;
}
