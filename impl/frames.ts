// Frame codes and the preallocated frame storage of the optimized LWKT
// implementation. A frame is the rest of one function of a switched-out
// thread, as in the frame table of the step semantics. Here it is a row of
// small typed arrays, and `toFrame` builds the spec's object form only for
// snapshots.
//
// The functions named are those of DragonFly BSD sys/kern/lwkt_thread.c
// rev 1.71 and of the kernel files it calls.
import { FrameSchemas, STEP_CALLS, type Frame, type StepCall } from '../spec/index.js';
import { Arena, grownArray } from './arena.js';

/** Every frame `fn`: the frame types of the spec, then the step calls that have none (bare frames). */
export const FN_NAMES: readonly string[] = [
  ...Object.keys(FrameSchemas),
  ...STEP_CALLS.filter((c) => !(c in FrameSchemas)),
];

function fnCode(name: string): number {
  const i = FN_NAMES.indexOf(name);
  if (i < 0) throw new Error(`unknown frame fn ${name}`);
  return i;
}

/** Codes of the frame types that the implementation pushes by name. */
export const FN = {
  lwkt_switch: fnCode('lwkt_switch'),
  lwkt_preempt: fnCode('lwkt_preempt'),
  lwkt_schedule: fnCode('lwkt_schedule'),
  splz: fnCode('splz'),
  lwkt_yield_quick: fnCode('lwkt_yield_quick'),
  lwkt_yield: fnCode('lwkt_yield'),
  lwkt_block: fnCode('lwkt_block'),
  lwkt_signal: fnCode('lwkt_signal'),
  lwkt_setcpu_self: fnCode('lwkt_setcpu_self'),
  cpu_thread_exit: fnCode('cpu_thread_exit'),
  get_mplock: fnCode('get_mplock'),
  cpu_kthread_restore: fnCode('cpu_kthread_restore'),
  lwkt_gettoken: fnCode('lwkt_gettoken'),
  lwkt_reltoken: fnCode('lwkt_reltoken'),
  lwkt_acquire: fnCode('lwkt_acquire'),
  lwkt_alloc_thread: fnCode('lwkt_alloc_thread'),
  lwkt_create: fnCode('lwkt_create'),
  lwkt_free_thread: fnCode('lwkt_free_thread'),
  lwkt_wait_free: fnCode('lwkt_wait_free'),
  cpu_idle: fnCode('cpu_idle'),
  intr: fnCode('intr'),
} as const;

/** Whether a frame fn code is one of the spec's frame types (not a bare step frame). */
export const HAS_FRAME_TYPE: readonly boolean[] = FN_NAMES.map((n) => n in FrameSchemas);

/**
 * Frame fn code of each step call: its own frame type, or its bare frame. A
 * Map, because V8 looks a string up in a Map about twice as fast as it loads
 * a property named by a varying string.
 */
export const STEP_FRAME_FN: ReadonlyMap<StepCall, number> = new Map(STEP_CALLS.map((c) => [c, fnCode(c)]));

/**
 * The same codes as an object, for the `case` labels of the step dispatch.
 * Each step call has its own code, because its name is in FN_NAMES once.
 */
export const CALL_FN = Object.fromEntries(STEP_CALLS.map((c) => [c, fnCode(c)])) as { readonly [C in StepCall]: number };

/** Frame stages, for the frame types that have a `stage` field; `spin` also marks a lwkt_acquire frame. */
export const ST = {
  none: 0,
  release: 1,
  switch: 2,
  splz: 3,
  untimelyRunq: 4,
  untimelySched: 5,
  scheduleSelf: 6,
  gettoken: 7,
  loop: 8,
  critExit: 9,
  reltoken: 10,
  spin: 11,
  spinBody: 12,
  yield: 13,
  cached: 14,
  fresh: 15,
  init: 16,
  alloc: 17,
  schedule: 18,
} as const;

const STAGE_NAMES = [
  '', 'release', 'switch', 'splz', 'untimely-runq', 'untimely-sched', 'schedule-self', 'gettoken', 'loop',
  'crit-exit', 'reltoken', 'spin', 'spin-body', 'yield', 'cached', 'fresh', 'init', 'alloc', 'schedule',
] as const;

/** Frames per thread before the storage doubles; most suspended threads hold one to five. */
const INITIAL_DEPTH = 4;

/**
 * Frame stacks of all threads, outermost frame at index 0. Fields a, b, c hold
 * the integer fields of a frame (see `toFrame` for which is which), s its
 * string field. Null integers are stored as -1 where the field cannot be
 * negative otherwise.
 */
export class FrameStore {
  cap = INITIAL_DEPTH;
  depth: Int32Array;
  fn: Uint8Array;
  stage: Uint8Array;
  a: Float64Array;
  b: Float64Array;
  c: Float64Array;
  s: (string | null)[];

  constructor(
    private threads: number,
    private readonly arena = new Arena(),
  ) {
    this.depth = arena.int32(threads);
    const n = threads * this.cap;
    this.fn = arena.uint8(n);
    this.stage = arena.uint8(n);
    this.a = arena.float64(n);
    this.b = arena.float64(n);
    this.c = arena.float64(n);
    this.s = new Array<string | null>(n).fill(null);
  }

  /** Bytes of typed arrays per thread at the current depth capacity: depth, then per frame fn, stage, a, b, c. */
  bytesPerThread(): number {
    return 4 + this.cap * (1 + 1 + 3 * 8);
  }

  /**
   * Makes room for threads up to `threads - 1`, taking the arrays from
   * `arena`. Rows are `td * cap + d`, so existing rows keep their place.
   */
  growThreads(threads: number, arena: Arena): void {
    const n = threads * this.cap;
    this.depth = arena.grownInt32(this.depth, threads);
    this.fn = arena.grownUint8(this.fn, n);
    this.stage = arena.grownUint8(this.stage, n);
    this.a = arena.grownFloat64(this.a, n);
    this.b = arena.grownFloat64(this.b, n);
    this.c = arena.grownFloat64(this.c, n);
    this.s = grownArray(this.s, n, null);
    this.threads = threads;
  }

  push(td: number, fn: number, stage: number, a: number, b: number, c: number, s: string | null): void {
    const d = this.depth[td]!;
    if (d === this.cap) this.grow();
    const i = td * this.cap + d;
    this.fn[i] = fn;
    this.stage[i] = stage;
    this.a[i] = a;
    this.b[i] = b;
    this.c[i] = c;
    this.s[i] = s;
    this.depth[td] = d + 1;
  }

  /** Row index of the innermost frame of `td`; the thread must have one. */
  top(td: number): number {
    return td * this.cap + this.depth[td]! - 1;
  }

  /** Reverses frames [from, depth) of `td`: frames pushed innermost first become innermost on top. */
  reverseFrom(td: number, from: number): void {
    let i = td * this.cap + from;
    let j = td * this.cap + this.depth[td]! - 1;
    for (; i < j; i++, j--) {
      this.swap(i, j);
    }
  }

  private swap(i: number, j: number): void {
    const fn = this.fn[i]!, stage = this.stage[i]!, a = this.a[i]!, b = this.b[i]!, c = this.c[i]!, s = this.s[i]!;
    this.fn[i] = this.fn[j]!;
    this.stage[i] = this.stage[j]!;
    this.a[i] = this.a[j]!;
    this.b[i] = this.b[j]!;
    this.c[i] = this.c[j]!;
    this.s[i] = this.s[j]!;
    this.fn[j] = fn;
    this.stage[j] = stage;
    this.a[j] = a;
    this.b[j] = b;
    this.c[j] = c;
    this.s[j] = s;
  }

  private grow(): void {
    const old = { cap: this.cap, fn: this.fn, stage: this.stage, a: this.a, b: this.b, c: this.c, s: this.s };
    this.cap *= 2;
    const n = this.threads * this.cap;
    this.fn = this.arena.uint8(n);
    this.stage = this.arena.uint8(n);
    this.a = this.arena.float64(n);
    this.b = this.arena.float64(n);
    this.c = this.arena.float64(n);
    this.s = new Array<string | null>(n).fill(null);
    for (let td = 0; td < this.threads; td++) {
      for (let d = 0; d < this.depth[td]!; d++) {
        const from = td * old.cap + d;
        const to = td * this.cap + d;
        this.fn[to] = old.fn[from]!;
        this.stage[to] = old.stage[from]!;
        this.a[to] = old.a[from]!;
        this.b[to] = old.b[from]!;
        this.c[to] = old.c[from]!;
        this.s[to] = old.s[from]!;
      }
    }
  }

  /** Builds the frames of `td` in the spec's form, innermost first. Allocates. */
  toFrames(td: number): Frame[] {
    const out: Frame[] = [];
    for (let d = this.depth[td]! - 1; d >= 0; d--) out.push(this.toFrame(td * this.cap + d));
    return out;
  }

  private toFrame(i: number): Frame {
    const fn = this.fn[i]!;
    const stage = this.stage[i]!;
    const a = this.a[i]!, b = this.b[i]!, c = this.c[i]!, s = this.s[i]!;
    const nullable = (v: number): number | null => (v < 0 ? null : v);
    const st = <T extends string>(): T => STAGE_NAMES[stage] as T;
    switch (fn) {
      case FN.lwkt_switch: return { fn: 'lwkt_switch', stage: st<'release' | 'switch'>() };
      case FN.lwkt_preempt: return { fn: 'lwkt_preempt', ntd: a, savecnt: b };
      case FN.lwkt_schedule: return { fn: 'lwkt_schedule', mygd: a, wref: nullable(b) };
      case FN.splz: return { fn: 'splz' };
      case FN.lwkt_yield_quick: return { fn: 'lwkt_yield_quick', stage: st<'splz' | 'untimely-runq' | 'untimely-sched'>() };
      case FN.lwkt_yield: return { fn: 'lwkt_yield', stage: st<'schedule-self' | 'switch'>() };
      case FN.lwkt_block:
        return { fn: 'lwkt_block', stage: st<'gettoken' | 'loop' | 'crit-exit' | 'reltoken'>(), w: a, wmesg: s, gen: b, ilock: c };
      case FN.lwkt_signal:
        return { fn: 'lwkt_signal', stage: st<'gettoken' | 'crit-exit' | 'reltoken'>(), w: a, count: b, ilock: c };
      case FN.lwkt_setcpu_self: return { fn: 'lwkt_setcpu_self' };
      case FN.cpu_thread_exit: return { fn: 'cpu_thread_exit' };
      case FN.get_mplock: return { fn: 'get_mplock' };
      case FN.cpu_kthread_restore: return { fn: 'cpu_kthread_restore' };
      case FN.lwkt_gettoken: return { fn: 'lwkt_gettoken', stage: st<'spin' | 'spin-body' | 'crit-exit' | 'yield'>(), ref: a };
      case FN.lwkt_reltoken: return { fn: 'lwkt_reltoken', stage: st<'spin' | 'spin-body'>(), ref: a };
      case FN.lwkt_acquire: return { fn: 'lwkt_acquire', td: a, gd: b };
      case FN.lwkt_alloc_thread:
        return { fn: 'lwkt_alloc_thread', stage: st<'cached' | 'fresh' | 'init'>(), td: nullable(a), stksize: b, target: c };
      case FN.lwkt_create:
        return { fn: 'lwkt_create', stage: st<'alloc' | 'schedule'>(), td: nullable(a), tdflags: b, preemptable: c !== 0, comm: s ?? '' };
      case FN.lwkt_free_thread: return { fn: 'lwkt_free_thread', td: a };
      case FN.lwkt_wait_free: return { fn: 'lwkt_wait_free', td: a };
      case FN.cpu_idle: return { fn: 'cpu_idle', stage: st<'switch' | 'splz'>() };
      case FN.intr: return { fn: 'intr', td: a };
      default: return { fn: FN_NAMES[fn] } as Frame;
    }
  }
}
