// Machine state of the optimized LWKT implementation: every field of the
// abstract state kept in typed arrays indexed by thread, CPU, wait queue or
// token reference id, the boot state, the step result objects and `snapshot`.
//
// It stands for the data of DragonFly BSD sys/kern/lwkt_thread.c rev 1.71:
// struct thread, struct globaldata, lwkt_wait, lwkt_token and lwkt_tokref.
import {
  ASSERTIONS,
  LWKT_THREAD_STACK,
  MAXCPUFIFO,
  NQS,
  STATE_SCHEMA_ID,
  TDF_RUNNING,
  TDPRI_CRIT,
  TDPRI_KERN_DAEMON,
  THREADS_MAX,
  WAITS_MAX,
  type AbstractState,
  type Completion,
  type Config,
  type CpuState,
  type IpiFunc,
  type PanicInfo,
  type Printed,
  type ProcStat,
  type StepResult,
  type ThreadState,
  type TokrefState,
} from '../spec/index.js';
import { Arena, grownArray } from './arena.js';
import { FrameStore, FN, FN_NAMES, ST } from './frames.js';
import { IntrusiveLists, IpiRings, NIL, ThreadBitsets } from './lists.js';

/** IPI callback codes, in the order of the spec's IpiFunc names. */
export const IPI = {
  lwkt_schedule: 0,
  lwkt_deschedule: 1,
  lwkt_init_thread_remote: 2,
  lwkt_setcpu_remote: 3,
  sched_ithd_remote: 4,
  lwkt_reqtoken_remote: 5,
} as const;
const IPI_NAMES: readonly IpiFunc[] = [
  'lwkt_schedule', 'lwkt_deschedule', 'lwkt_init_thread_remote', 'lwkt_setcpu_remote', 'sched_ithd_remote', 'lwkt_reqtoken_remote',
];

/** p_stat names by number (sys/proc.h of 2005: SIDL = 1 ... SZOMB = 5); index 0 is unused. */
const PROC_STATS: readonly ProcStat[] = ['SIDL', 'SIDL', 'SRUN', 'SSLEEP', 'SSTOP', 'SZOMB'];
export function procStatNumber(stat: ProcStat): number {
  return PROC_STATS.indexOf(stat, 1);
}

const SITES = new Map(ASSERTIONS.map((a) => [a.id, a.site]));

/** Thrown to end a step at a panic or a model limit; the result is already filled in. */
export class StepStop {}
const STOP = new StepStop();

/** Return codes of every function that may switch: it finished, or its thread is being unwound. */
export const OK = 0;
export const SUSP = 1;

const TOKREFS_INITIAL = 64;

/**
 * Thread structures an instance has room for before its per-thread arrays
 * grow fourfold (up to THREADS_MAX). Runs of a few hundred steps mostly stay
 * under 64 threads, so they never pay for a growth (a new buffer, some thirty
 * views and their copies). A smaller instance would be a little faster to create.
 */
const THREADS_INITIAL = 64;
const THREADS_GROWTH = 4;

/**
 * Bytes of the per-thread arrays that growThreads reallocates, frames aside:
 * 19 typed arrays of struct thread fields and the next, prev and on links of
 * four list families.
 */
const THREAD_BYTES = 6 * 1 + 9 * 4 + 3 * 8 + 2 + 4 * 3 * 4;

/** Room for the 8-byte alignment of each array an arena hands out. */
const ARENA_SLACK = 64 * 8;

export class LwktState {
  // Configuration.
  protected readonly ncpus: number;
  protected readonly smp: boolean;
  protected readonly invariants: boolean;
  protected readonly untimelySwitch: boolean;
  protected readonly panicOnCscount: boolean;
  private readonly config: Config;

  /** Backing store of every typed array of this instance. */
  private readonly arena = new Arena();

  // struct thread, by thread id. The arrays hold `threadCap` threads and grow in zalloc.
  protected nthreads = 0;
  private threadCap = THREADS_INITIAL;
  protected zfreed = this.arena.uint8(THREADS_INITIAL);
  protected td_gd = this.arena.int32(THREADS_INITIAL);
  /** Float64 so that lwkt_setpri with a large priority behaves like JavaScript numbers, not int32. */
  protected td_pri = this.arena.float64(THREADS_INITIAL);
  protected td_flags = this.arena.int32(THREADS_INITIAL);
  protected td_mpcount = this.arena.int32(THREADS_INITIAL);
  protected td_cscount = this.arena.int32(THREADS_INITIAL);
  protected td_refs = this.arena.int32(THREADS_INITIAL);
  protected td_nest_count = this.arena.int32(THREADS_INITIAL);
  protected td_wait = this.arena.int32(THREADS_INITIAL, NIL);
  protected td_wmesg: (string | null)[] = new Array<string | null>(THREADS_INITIAL).fill(null);
  protected td_preempted = this.arena.int32(THREADS_INITIAL, NIL);
  /** Head tokref of td_toks (newest first), linked through tr_next. */
  protected td_toks = this.arena.int32(THREADS_INITIAL, NIL);
  /** td_proc: pid, or -1 for no process, and its p_stat number. */
  protected td_proc_pid = this.arena.float64(THREADS_INITIAL, -1);
  protected td_proc_stat = this.arena.uint8(THREADS_INITIAL);
  protected td_release = this.arena.uint8(THREADS_INITIAL);
  protected td_preemptable = this.arena.uint8(THREADS_INITIAL);
  protected td_comm: string[] = new Array<string>(THREADS_INITIAL).fill('');
  protected td_kstack = this.arena.uint8(THREADS_INITIAL);
  protected td_kstack_size = this.arena.float64(THREADS_INITIAL);
  /** td_switch is cpu_exit_switch (set by cpu_thread_exit, cleared by lwkt_init_thread). */
  protected td_exiting = this.arena.uint8(THREADS_INITIAL);
  protected readonly frames = new FrameStore(THREADS_INITIAL, this.arena);
  /** `call`: frame fn code of the step call the thread is in the middle of, or NIL at a call boundary. */
  protected td_call = this.arena.int16(THREADS_INITIAL, NIL);

  // Lists linked through td_threadq (run queues, wait queues, free caches) and td_allq.
  /** gd_tdrunq: list cpu * NQS + priority. */
  protected readonly runq: IntrusiveLists;
  protected readonly waitq = new IntrusiveLists(THREADS_INITIAL, WAITS_MAX, this.arena);
  protected readonly freeq: IntrusiveLists;
  protected readonly allq: IntrusiveLists;

  // struct globaldata, by cpu id.
  protected readonly gd_curthread: Int32Array;
  protected readonly gd_runqmask: Uint32Array;
  protected readonly gd_reqflags: Int32Array;
  protected readonly gd_intr_nesting_level: Int32Array;
  protected readonly gd_tdfreecount: Int32Array;
  protected readonly gd_ipending: ThreadBitsets;
  protected readonly gd_fpending: Uint8Array;
  /** Head tokref of gd_tokreqbase, linked through tr_gdreqnext. */
  protected readonly gd_tokreqbase: Int32Array;
  protected readonly ipiq: IpiRings;

  // lwkt_wait and its wa_token, by wait queue id.
  protected nwaits = 0;
  protected readonly wa_gen = this.arena.float64(WAITS_MAX);
  protected readonly wa_count = this.arena.int32(WAITS_MAX);
  protected readonly t_cpu = this.arena.int32(WAITS_MAX);
  protected readonly t_reqcpu = this.arena.int32(WAITS_MAX);

  // lwkt_tokref, by id; the arrays grow.
  protected ntokrefs = 0;
  protected tr_tok = this.arena.int32(TOKREFS_INITIAL);
  /** 1 for LWKT_TOKREF_MAGIC1, 2 for LWKT_TOKREF_MAGIC2. */
  protected tr_magic = this.arena.uint8(TOKREFS_INITIAL);
  protected tr_reqgd = this.arena.int32(TOKREFS_INITIAL);
  protected tr_next = this.arena.int32(TOKREFS_INITIAL);
  /** Thread whose td_toks contains the tokref, or NIL. */
  protected tr_owner = this.arena.int32(TOKREFS_INITIAL);
  protected tr_gdreqnext = this.arena.int32(TOKREFS_INITIAL);
  /** Ids that may still be live; `snapshot` drops the dead ones, which never come back. */
  private tokrefCandidates = this.arena.int32(TOKREFS_INITIAL);
  private ncandidates = 0;

  protected mp_lock = -1;
  protected switch_count = 0;
  protected preempt_hit = 0;
  protected preempt_miss = 0;
  protected preempt_weird = 0;
  protected panicked: PanicInfo | null = null;

  // Step results. One object per result shape, reused by every step.
  protected readonly completed: Completion[] = [];
  protected readonly printed: Printed[] = [];
  private readonly completionPool: Completion[] = [];
  protected readonly rReturned: StepResult & { ret: number | null } = { status: 'returned', ret: null, completed: this.completed, printed: this.printed };
  protected readonly rSuspended: StepResult = { status: 'suspended', completed: this.completed, printed: this.printed };
  protected readonly rSpinning: StepResult = { status: 'spinning', completed: this.completed, printed: this.printed };
  protected result: StepResult = this.rReturned;

  constructor(config: Config) {
    this.config = { ...config };
    this.ncpus = config.ncpus;
    this.smp = config.smp;
    this.invariants = config.invariants;
    this.untimelySwitch = config.untimelySwitch;
    this.panicOnCscount = config.panicOnCscount;
    const arena = this.arena;
    const n = config.ncpus;
    this.runq = new IntrusiveLists(THREADS_INITIAL, n * NQS, arena);
    this.freeq = new IntrusiveLists(THREADS_INITIAL, n, arena);
    this.allq = new IntrusiveLists(THREADS_INITIAL, n, arena);

    this.gd_curthread = arena.int32(n);
    this.gd_runqmask = arena.uint32(n);
    this.gd_reqflags = arena.int32(n);
    this.gd_intr_nesting_level = arena.int32(n);
    this.gd_tdfreecount = arena.int32(n);
    this.gd_ipending = new ThreadBitsets(n, THREADS_MAX, arena);
    this.gd_fpending = arena.uint8(n);
    this.gd_tokreqbase = arena.int32(n, NIL);
    this.ipiq = new IpiRings(n, MAXCPUFIFO, arena);
    this.boot();
  }

  /**
   * Boot state: per CPU, lwkt_gdinit (the arrays start empty) and
   * lwkt_init_thread of its idle thread, which then leaves the initial
   * critical section as cpu_idle does on its first run.
   */
  private boot(): void {
    for (let c = 0; c < this.ncpus; c++) {
      const td = this.zalloc();
      this.td_gd[td] = c;
      this.td_kstack[td] = 1;
      this.td_kstack_size[td] = LWKT_THREAD_STACK;
      this.td_pri[td] = TDPRI_KERN_DAEMON + TDPRI_CRIT;
      this.allq.insertTail(c, td);
      this.td_pri[td] -= TDPRI_CRIT;
      this.td_flags[td] = TDF_RUNNING;
      this.gd_curthread[c] = td;
    }
  }

  /** Returns the current thread of `gd` (gd_curthread). */
  protected curthread(gd: number): number {
    return this.gd_curthread[gd]!;
  }

  /** Returns the idle thread of `gd`, because thread ids 0..ncpus-1 are the idle threads. */
  protected idlethread(gd: number): number {
    return gd;
  }

  // -------------------------------------------------------------------------
  // Allocation.

  /** Allocates a thread structure from the zone (ids are never reused); limit threads-max past THREADS_MAX. */
  protected zalloc(): number {
    if (this.nthreads >= THREADS_MAX) this.limit('threads-max');
    if (this.nthreads === this.threadCap) this.growThreads();
    return this.nthreads++;
  }

  /**
   * Quadruples the room of every per-thread array (up to THREADS_MAX); new
   * entries hold the values of a zeroed struct thread. The new arrays share
   * one buffer of the size they need, because every ArrayBuffer has a fixed
   * allocation cost besides its zeroing.
   */
  private growThreads(): void {
    const t = Math.min(this.threadCap * THREADS_GROWTH, THREADS_MAX);
    const arena = new Arena(t * (THREAD_BYTES + this.frames.bytesPerThread()) + ARENA_SLACK);
    this.zfreed = arena.grownUint8(this.zfreed, t);
    this.td_gd = arena.grownInt32(this.td_gd, t);
    this.td_pri = arena.grownFloat64(this.td_pri, t);
    this.td_flags = arena.grownInt32(this.td_flags, t);
    this.td_mpcount = arena.grownInt32(this.td_mpcount, t);
    this.td_cscount = arena.grownInt32(this.td_cscount, t);
    this.td_refs = arena.grownInt32(this.td_refs, t);
    this.td_nest_count = arena.grownInt32(this.td_nest_count, t);
    this.td_wait = arena.grownInt32(this.td_wait, t, NIL);
    this.td_wmesg = grownArray(this.td_wmesg, t, null);
    this.td_preempted = arena.grownInt32(this.td_preempted, t, NIL);
    this.td_toks = arena.grownInt32(this.td_toks, t, NIL);
    this.td_proc_pid = arena.grownFloat64(this.td_proc_pid, t, -1);
    this.td_proc_stat = arena.grownUint8(this.td_proc_stat, t);
    this.td_release = arena.grownUint8(this.td_release, t);
    this.td_preemptable = arena.grownUint8(this.td_preemptable, t);
    this.td_comm = grownArray(this.td_comm, t, '');
    this.td_kstack = arena.grownUint8(this.td_kstack, t);
    this.td_kstack_size = arena.grownFloat64(this.td_kstack_size, t);
    this.td_exiting = arena.grownUint8(this.td_exiting, t);
    this.frames.growThreads(t, arena);
    this.td_call = arena.grownInt16(this.td_call, t, NIL);
    this.runq.growElements(t, arena);
    this.waitq.growElements(t, arena);
    this.freeq.growElements(t, arena);
    this.allq.growElements(t, arena);
    this.threadCap = t;
  }

  /** Allocates a wait queue and its token for lwkt_wait_init; limit waits-max past WAITS_MAX. */
  protected newWait(): number {
    if (this.nwaits >= WAITS_MAX) this.limit('waits-max');
    return this.nwaits++;
  }

  /** Creates a tokref for `tok` with LWKT_TOKREF_MAGIC1, on no list. */
  protected newTokref(tok: number): number {
    if (this.ntokrefs === this.tr_tok.length) this.growTokrefs();
    const ref = this.ntokrefs++;
    this.tr_tok[ref] = tok;
    this.tr_magic[ref] = 1;
    this.tr_reqgd[ref] = NIL;
    this.tr_next[ref] = NIL;
    this.tr_owner[ref] = NIL;
    this.tr_gdreqnext[ref] = NIL;
    if (this.ncandidates === this.tokrefCandidates.length) {
      this.tokrefCandidates = this.arena.grownInt32(this.tokrefCandidates, this.ncandidates * 2);
    }
    this.tokrefCandidates[this.ncandidates++] = ref;
    return ref;
  }

  private growTokrefs(): void {
    const arena = this.arena;
    const n = this.tr_tok.length * 2;
    this.tr_tok = arena.grownInt32(this.tr_tok, n);
    this.tr_magic = arena.grownUint8(this.tr_magic, n);
    this.tr_reqgd = arena.grownInt32(this.tr_reqgd, n);
    this.tr_next = arena.grownInt32(this.tr_next, n);
    this.tr_owner = arena.grownInt32(this.tr_owner, n);
    this.tr_gdreqnext = arena.grownInt32(this.tr_gdreqnext, n);
  }

  private tokrefIsLive(ref: number): boolean {
    return this.tr_owner[ref] !== NIL || this.tr_magic[ref] === 2;
  }

  // -------------------------------------------------------------------------
  // td_toks and gd_tokreqbase.

  protected toksPush(td: number, ref: number): void {
    this.tr_next[ref] = this.td_toks[td]!;
    this.td_toks[td] = ref;
    this.tr_owner[ref] = td;
  }

  /** Removes `ref` from the td_toks of `td` if it is there. */
  protected toksUnlink(td: number, ref: number): void {
    let prev = NIL;
    for (let r = this.td_toks[td]!; r !== NIL; prev = r, r = this.tr_next[r]!) {
      if (r !== ref) continue;
      if (prev === NIL) this.td_toks[td] = this.tr_next[r]!;
      else this.tr_next[prev] = this.tr_next[r]!;
      this.tr_next[r] = NIL;
      this.tr_owner[r] = NIL;
      return;
    }
  }

  /** Empties td_toks of `td` (bzero in lwkt_init_thread); MAGIC2 refs stay listed through their magic. */
  protected toksClear(td: number): void {
    let r = this.td_toks[td]!;
    while (r !== NIL) {
      const next = this.tr_next[r]!;
      this.tr_next[r] = NIL;
      this.tr_owner[r] = NIL;
      r = next;
    }
    this.td_toks[td] = NIL;
  }

  /** Returns whether `td` has a tokref for `tok` on its td_toks. */
  protected holdsToken(td: number, tok: number): boolean {
    for (let r = this.td_toks[td]!; r !== NIL; r = this.tr_next[r]!) {
      if (this.tr_tok[r] === tok) return true;
    }
    return false;
  }

  /** Returns whether `start` or any thread on its td_preempted chain holds `tok`. */
  protected chainHoldsToken(start: number, tok: number): boolean {
    // The bound only guards against a cyclic chain in an already corrupt state.
    for (let td = start, n = 0; td !== NIL && n <= THREADS_MAX; td = this.td_preempted[td]!, n++) {
      if (this.holdsToken(td, tok)) return true;
    }
    return false;
  }

  // -------------------------------------------------------------------------
  // Frames go to `xtd`, the thread whose call chain is running or being
  // unwound. They are pushed innermost first, so the end of the unwinding
  // reverses them (see LwktImpl.runStep).

  /** Thread whose stack the running code is on. */
  protected xtd = 0;
  /** Set by a switch through cpu_exit_switch: the unwinding thread keeps no frames but cpu_thread_exit. */
  protected exitSwitch = false;

  protected pushFrame(fn: number, stage: number, a = 0, b = 0, c = 0, s: string | null = null): void {
    if (this.exitSwitch) return;
    this.frames.push(this.xtd, fn, stage, a, b, c, s);
  }

  /** Ends an unwinding of `td` that started at frame depth `base`. */
  protected finishUnwind(td: number, base: number): void {
    if (this.exitSwitch) {
      this.exitSwitch = false;
      this.frames.depth[td] = 0;
      this.frames.push(td, FN.cpu_thread_exit, ST.none, 0, 0, 0, null);
      return;
    }
    if (this.frames.depth[td]! > base) this.frames.reverseFrom(td, base);
  }

  // -------------------------------------------------------------------------
  // Panics, limits and printfs.

  /** panic(), a failed KASSERT or KKASSERT: the machine stops with the catalogue id. */
  protected panic(id: string): never {
    const site = SITES.get(id);
    if (site === undefined) throw new Error(`no catalogue entry for assertion ${id}`);
    this.panicked = { id, site };
    this.result = { status: 'panic', panic: { id, site }, completed: this.completed, printed: this.printed };
    throw STOP;
  }

  /** Ends the step with a model limit, which also stops the machine. */
  protected limit(id: string): never {
    this.result = { status: 'limit', limit: id, completed: this.completed, printed: this.printed };
    throw STOP;
  }

  protected printf(site: string, values: (number | string | null)[]): void {
    this.printed.push({ site, values });
  }

  protected complete(td: number, fn: string, ret: number | null): void {
    const i = this.completed.length;
    let c = this.completionPool[i];
    if (c === undefined) {
      c = { td, call: fn, ret };
      this.completionPool.push(c);
    } else {
      c.td = td;
      c.call = fn;
      c.ret = ret;
    }
    this.completed.push(c);
  }

  // -------------------------------------------------------------------------
  // Abstract state.

  /** gd_curthread of each cpu, by cpu id. */
  running(): number[] {
    return Array.from(this.gd_curthread);
  }

  /** Builds the full abstract state in the spec's format. Allocates, so it is not for the hot path. */
  snapshot(): AbstractState {
    return {
      schema: STATE_SCHEMA_ID,
      config: {
        ncpus: this.config.ncpus,
        smp: this.config.smp,
        invariants: this.config.invariants,
        untimelySwitch: this.config.untimelySwitch,
        panicOnCscount: this.config.panicOnCscount,
      },
      panicked: this.panicked === null ? null : { id: this.panicked.id, site: this.panicked.site },
      mp_lock: this.mp_lock,
      counters: {
        switch_count: this.switch_count,
        preempt_hit: this.preempt_hit,
        preempt_miss: this.preempt_miss,
        preempt_weird: this.preempt_weird,
      },
      cpus: Array.from({ length: this.ncpus }, (_, c) => this.cpuState(c)),
      threads: Array.from({ length: this.nthreads }, (_, td) => this.threadState(td)),
      waits: Array.from({ length: this.nwaits }, (_, w) => ({
        id: w,
        wa_waitq: this.waitq.toArray(w),
        wa_gen: this.wa_gen[w]!,
        wa_count: this.wa_count[w]!,
      })),
      tokens: Array.from({ length: this.nwaits }, (_, w) => ({ id: w, t_cpu: this.t_cpu[w]!, t_reqcpu: this.t_reqcpu[w]! })),
      tokrefs: this.liveTokrefs(),
    };
  }

  private cpuState(c: number): CpuState {
    const runq: number[][] = [];
    for (let q = 0; q < NQS; q++) runq.push(this.runq.toArray(c * NQS + q));
    const tokreq: number[] = [];
    for (let r = this.gd_tokreqbase[c]!; r !== NIL; r = this.tr_gdreqnext[r]!) tokreq.push(r);
    const ipiq = Array.from({ length: this.ncpus }, (_, t) =>
      this.ipiq.toArray(c, t).map(([func, arg]) => ({ func: IPI_NAMES[func]!, arg })),
    );
    return {
      cpuid: c,
      gd_curthread: this.gd_curthread[c]!,
      gd_idlethread: this.idlethread(c),
      gd_runqmask: this.gd_runqmask[c]!,
      gd_tdrunq: runq,
      gd_reqflags: this.gd_reqflags[c]!,
      gd_intr_nesting_level: this.gd_intr_nesting_level[c]!,
      gd_tdallq: this.allq.toArray(c),
      gd_tdfreeq: this.freeq.toArray(c),
      gd_tdfreecount: this.gd_tdfreecount[c]!,
      gd_ipending: this.gd_ipending.toArray(c),
      gd_fpending: this.gd_fpending[c] !== 0,
      gd_tokreqbase: tokreq,
      gd_ipiq: ipiq,
    };
  }

  private threadState(td: number): ThreadState {
    const toks: number[] = [];
    for (let r = this.td_toks[td]!; r !== NIL; r = this.tr_next[r]!) toks.push(r);
    const pid = this.td_proc_pid[td]!;
    return {
      id: td,
      zfreed: this.zfreed[td] !== 0,
      td_gd: this.td_gd[td]!,
      td_pri: this.td_pri[td]!,
      td_flags: this.td_flags[td]!,
      td_mpcount: this.td_mpcount[td]!,
      td_cscount: this.td_cscount[td]!,
      td_refs: this.td_refs[td]!,
      td_nest_count: this.td_nest_count[td]!,
      td_wait: this.td_wait[td] === NIL ? null : this.td_wait[td]!,
      td_wmesg: this.td_wmesg[td]!,
      td_preempted: this.td_preempted[td] === NIL ? null : this.td_preempted[td]!,
      td_toks: toks,
      td_proc: pid < 0 ? null : { pid, stat: PROC_STATS[this.td_proc_stat[td]!]! },
      td_release: this.td_release[td] !== 0,
      td_preemptable: this.td_preemptable[td] !== 0,
      td_comm: this.td_comm[td]!,
      td_kstack: this.td_kstack[td] !== 0,
      td_kstack_size: this.td_kstack_size[td]!,
      frames: this.frames.toFrames(td),
      call: this.td_call[td] === NIL ? null : FN_NAMES[this.td_call[td]!]!,
    };
  }

  private liveTokrefs(): TokrefState[] {
    const out: TokrefState[] = [];
    let kept = 0;
    for (let i = 0; i < this.ncandidates; i++) {
      const ref = this.tokrefCandidates[i]!;
      if (!this.tokrefIsLive(ref)) continue;
      this.tokrefCandidates[kept++] = ref;
      const reqgd = this.tr_reqgd[ref]!;
      out.push({ id: ref, tr_tok: this.tr_tok[ref]!, tr_magic: this.tr_magic[ref] === 2 ? 2 : 1, tr_reqgd: reqgd === NIL ? null : reqgd });
    }
    this.ncandidates = kept;
    return out;
  }
}
