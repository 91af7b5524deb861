// Optimized implementation of the LWKT scheduler of DragonFly BSD
// sys/kern/lwkt_thread.c rev 1.71 (April 2005), with the step behaviour of
// spec/semantics.md. State lives in typed arrays (state.ts), lists are
// intrusive (lists.ts) and frames are rows of preallocated arrays (frames.ts).
//
// The seed's functions are protected methods with the seed's names, so that a
// test can derive a faulty variant by overriding one of them. Every function
// that may switch threads returns OK, or SUSP while its thread is unwound
// (env.ts explains the protocol).
import {
  CACHE_NTHREADS,
  LWKT_THREAD_STACK,
  MAXCOMLEN,
  NQS,
  RQF_IDLECHECK_MASK,
  RQF_INTPEND,
  RQF_IPIQ,
  SSLEEP,
  TDF_ALLOCATED_STACK,
  TDF_ALLOCATED_THREAD,
  TDF_IDLE_NOHLT,
  TDF_MIGRATING,
  TDF_NORESCHED,
  TDF_PREEMPT_DONE,
  TDF_PREEMPT_LOCK,
  TDF_RUNNING,
  TDF_RUNQ,
  TDF_STOPREQ,
  TDF_VERBOSE,
  TDPRI_CRIT,
  TDPRI_KERN_DAEMON,
  TDPRI_KERN_USER,
  TDPRI_MASK,
  TDPRI_MAX,
  THREADS_MAX,
  type Config,
  type SchedulerFactory,
  type SchedulerImplementation,
  type Step,
  type StepCall,
  type StepOf,
  type StepResult,
} from '../spec/index.js';
import { LwktEnv } from './env.js';
import { CALL_FN, FN, FN_NAMES, HAS_FRAME_TYPE, ST, STEP_FRAME_FN } from './frames.js';
import { bsrl, NIL } from './lists.js';
import { IPI, OK, StepStop, SUSP, procStatNumber } from './state.js';

export class LwktImpl extends LwktEnv implements SchedulerImplementation {
  readonly name: string = 'impl';

  /** Return value of the call or frame rest that finished last. */
  protected rv: number | null = null;
  /** Thread returned by the last lwkt_alloc_thread. */
  protected lastAlloc = 0;
  /** Frame depth of `xtd` when the running call chain started. */
  private chainBase = 0;

  constructor(config: Config) {
    super(config);
  }

  // =========================================================================
  // The step loop (spec/semantics.md 2.3).

  /**
   * Runs one valid step. The returned object, its `completed` and `printed`
   * arrays and the completion records in it are reused: they are valid until
   * the next call of `step`.
   */
  step(step: Step): StepResult {
    // Setting `length` is a runtime call, so the arrays are cleared only when a step filled them.
    if (this.completed.length !== 0) this.completed.length = 0;
    if (this.printed.length !== 0) this.printed.length = 0;
    this.mycpu = step.cpu;
    this.switchCalls = 0;
    this.ipiSelfDepth = 0;
    this.exitSwitch = false;
    this.rv = null;
    try {
      // Steps of different calls have different shapes, so every read of a
      // step property is a megamorphic load. `call` is read once, here, and
      // each handler reads only the fields of its call.
      this.result = this.runStep(step, step.call);
    } catch (e) {
      if (!(e instanceof StepStop)) throw e;
      // A limit met while unwinding leaves no partial frames behind.
      this.exitSwitch = false;
      if (this.frames.depth[this.xtd]! > this.chainBase) this.frames.depth[this.xtd] = this.chainBase;
    }
    return this.result;
  }

  private runStep(step: Step, call: StepCall): StepResult {
    const gd = this.mycpu;
    const depth = this.frames.depth;
    const caller = this.curthread(gd);
    let callerBase: number;
    let callerDone = false;
    let callerRet: number | null = null;

    this.xtd = caller;
    if (call === 'spin') {
      // The spinning call continues: the whole frame stack is that call.
      callerBase = 0;
      this.chainBase = depth[caller]! - 1;
      const r = this.runSpin(caller);
      if (r !== OK) this.finishUnwind(caller, this.chainBase);
      else if (depth[caller] === 0) {
        callerDone = true;
        callerRet = this.rv;
        this.td_call[caller] = NIL;
      }
    } else {
      callerBase = depth[caller]!;
      this.chainBase = callerBase;
      const own = STEP_FRAME_FN.get(call)!;
      // An environment step on a spinning thread leaves the spinning call's name alone.
      if (callerBase === 0) this.td_call[caller] = own;
      if (this.runCall(own, step, caller) !== OK) {
        this.pushStepFrame(own);
        this.finishUnwind(caller, this.chainBase);
      } else {
        callerDone = true;
        callerRet = this.rv;
        if (callerBase === 0) this.td_call[caller] = NIL;
      }
    }

    // Resume the current thread of mycpu until it is at a call boundary or spinning.
    for (;;) {
      const cur = this.curthread(gd);
      const d = depth[cur]!;
      if (d === 0) break;
      const row = this.frames.top(cur);
      if (this.frames.stage[row] === ST.spin) break;
      const fn = this.frames.fn[row]!;
      this.xtd = cur;
      this.chainBase = d - 1;
      depth[cur] = d - 1;
      const r = this.runRest(row);
      if (r !== OK) {
        this.finishUnwind(cur, this.chainBase);
        continue;
      }
      if (cur === caller && !callerDone && depth[cur] === callerBase) {
        callerDone = true;
        callerRet = this.rv;
        if (callerBase === 0) this.td_call[cur] = NIL;
      } else if (depth[cur] === 0) {
        // Reported under the thread's `call`, even when that call's own frame is long gone.
        const call = this.td_call[cur]!;
        this.complete(cur, FN_NAMES[call === NIL ? fn : call]!, this.rv);
        this.td_call[cur] = NIL;
      }
    }

    if (callerDone) {
      this.rReturned.ret = callerRet;
      return this.rReturned;
    }
    if (this.curthread(gd) === caller && depth[caller]! > 0 && this.frames.stage[this.frames.top(caller)] === ST.spin) {
      return this.rSpinning;
    }
    return this.rSuspended;
  }

  /**
   * Pushes the bare frame (fn code `own`) of a suspended step call that has no frame type of
   * its own; its rest only returns. A call with its own frame type has pushed it at
   * one of the points of the frame table, or pushes none when it was switched
   * out after its last statement (a crit_exit at its end).
   */
  private pushStepFrame(own: number): void {
    if (this.exitSwitch) return;
    if (!HAS_FRAME_TYPE[own]) this.pushFrame(own, ST.none);
  }

  /** Runs the rest of the frame in `row`, which the caller already popped. */
  private runRest(row: number): number {
    const f = this.frames;
    const fn = f.fn[row]!, stage = f.stage[row]!, a = f.a[row]!, b = f.b[row]!, c = f.c[row]!, s = f.s[row]!;
    const inRv = this.rv;
    this.rv = null;
    const td = this.curthread(this.mycpu);
    switch (fn) {
      case FN.lwkt_switch:
        return stage === ST.release ? this.lwkt_switch_choose(td) : this.crit_exit_quick(td);
      case FN.lwkt_preempt:
        return this.lwkt_preempt_return(a, b);
      case FN.lwkt_schedule:
        return this.lwkt_schedule_finish(a, b);
      case FN.splz:
        return this.splz_resume();
      case FN.lwkt_yield_quick:
        return this.lwkt_yield_quick_rest(td, stage);
      case FN.lwkt_yield:
        return stage === ST.scheduleSelf ? this.lwkt_yield_switch() : OK;
      case FN.lwkt_block:
        return this.lwkt_block_rest(stage, a, s, b, c);
      case FN.lwkt_signal:
        return this.lwkt_signal_rest(stage, a, b, c);
      case FN.lwkt_setcpu_self:
        return this.crit_exit_quick(td);
      case FN.cpu_thread_exit:
        this.panic('cpu_thread_exit.returned');
      case FN.get_mplock:
        this.get_mplock_check();
        return OK;
      case FN.cpu_kthread_restore:
        this.td_pri[td]! -= TDPRI_CRIT;
        return OK;
      case FN.lwkt_gettoken:
        if (stage === ST.spinBody) return this.gettoken_test(a);
        this.gettoken_check(a);
        return OK;
      case FN.lwkt_reltoken:
        return this.reltoken_test(a);
      case FN.lwkt_alloc_thread:
        return this.lwkt_alloc_thread_rest(stage, a, b, c);
      case FN.lwkt_create:
        if (stage === ST.alloc) return this.lwkt_create_finish(inRv ?? NIL, b, c !== 0, s ?? '');
        this.rv = a;
        return OK;
      case FN.lwkt_free_thread:
        return this.lwkt_free_thread_release(a);
      case FN.lwkt_wait_free:
        return this.lwkt_wait_free(a);
      case FN.cpu_idle:
        return stage === ST.switch ? this.cpu_idle_halt() : OK;
      default:
        // intr and bare step frames only return.
        return OK;
    }
  }

  /** Runs one iteration of the spin loop of the current thread (step `spin`). */
  private runSpin(td: number): number {
    const f = this.frames;
    const row = f.top(td);
    const fn = f.fn[row]!, a = f.a[row]!, b = f.b[row]!;
    f.depth[td]!--;
    this.rv = null;
    if (fn === FN.lwkt_gettoken) return this.gettoken_spin(a);
    if (fn === FN.lwkt_reltoken) return this.reltoken_spin(a);
    return this.lwkt_acquire_test(a, b);
  }

  /**
   * The call of every step other than `spin`: runs it on mycpu, whose current
   * thread is `cur`, sets `rv` to its return value, and returns OK or SUSP.
   * `own` is the call's frame fn code (CALL_FN). The cases call the seed
   * functions through `this`, so a subclass that overrides one of them is used.
   *
   * An integer switch, most frequent calls first, lets V8 inline the common
   * handlers here. A table of closures would cost an indirect call per step,
   * and each closure would warm up on its own.
   */
  private runCall(own: number, step: Step, cur: number): number {
    switch (own) {
      case CALL_FN.ipi:
        this.ipi();
        return OK;
      case CALL_FN.lwkt_switch:
        return this.lwkt_switch();
      case CALL_FN.intr:
        return this.intr((step as StepOf<'intr'>).td);
      case CALL_FN.lwkt_create:
        {
        const st = step as StepOf<'lwkt_create'>;
        return this.lwkt_create(st.target, st.tdflags, st.preemptable, st.comm);
      }
      case CALL_FN.cpu_idle:
        return this.cpu_idle();
      case CALL_FN.lwkt_schedule:
        return this.lwkt_schedule((step as StepOf<'lwkt_schedule'>).td);
      case CALL_FN.rel_mplock:
        this.rel_mplock();
        return OK;
      case CALL_FN.lwkt_deschedule_self:
        return this.lwkt_deschedule_self(cur);
      case CALL_FN.lwkt_setpri_self:
        return this.lwkt_setpri_self((step as StepOf<'lwkt_setpri_self'>).pri);
      case CALL_FN.lwkt_setpri:
        {
        const st = step as StepOf<'lwkt_setpri'>;
        return this.lwkt_setpri(st.td, st.pri);
      }
      case CALL_FN.get_mplock:
        return this.get_mplock();
      case CALL_FN.lwkt_block:
        {
        const st = step as StepOf<'lwkt_block'>;
        return this.lwkt_block(st.w, st.wmesg, st.gen);
      }
      case CALL_FN.lwkt_deschedule:
        return this.lwkt_deschedule((step as StepOf<'lwkt_deschedule'>).td);
      case CALL_FN.lwkt_gettoken:
        return this.lwkt_gettokref(this.newTokref((step as StepOf<'lwkt_gettoken'>).tok));
      case CALL_FN.lwkt_yield:
        return this.lwkt_yield();
      case CALL_FN.set_proc:
        this.set_proc(step as StepOf<'set_proc'>);
        return OK;
      case CALL_FN.lwkt_signal:
        {
        const st = step as StepOf<'lwkt_signal'>;
        return this.lwkt_signal(st.w, st.count);
      }
      case CALL_FN.splz:
        return this.splz();
      case CALL_FN.crit_enter:
        this.crit_enter();
        return OK;
      case CALL_FN.lwkt_wait_init:
        this.rv = this.lwkt_wait_init();
        return OK;
      case CALL_FN.lwkt_yield_quick:
        return this.lwkt_yield_quick();
      case CALL_FN.try_mplock:
        this.rv = this.try_mplock();
        return OK;
      case CALL_FN.lwkt_acquire:
        return this.lwkt_acquire((step as StepOf<'lwkt_acquire'>).td);
      case CALL_FN.lwkt_schedule_self:
        return this.lwkt_schedule_self(cur);
      case CALL_FN.lwkt_reltoken:
        return this.lwkt_reltoken_step((step as StepOf<'lwkt_reltoken'>).tok);
      case CALL_FN.lwkt_trytoken:
        this.rv = this.lwkt_trytokref(this.newTokref((step as StepOf<'lwkt_trytoken'>).tok));
        return OK;
      case CALL_FN.lwkt_setcpu_self:
        return this.lwkt_setcpu_self((step as StepOf<'lwkt_setcpu_self'>).target);
      case CALL_FN.crit_exit:
        return this.crit_exit();
      case CALL_FN.lwkt_preempted_proc:
        this.rv = this.lwkt_preempted_proc();
        return OK;
      case CALL_FN.lwkt_alloc_thread:
        {
        const st = step as StepOf<'lwkt_alloc_thread'>;
        return this.lwkt_alloc_thread_step(st.stksize, st.target);
      }
      case CALL_FN.cpusync_enter:
        ++this.td_cscount[cur]!;
        return OK;
      case CALL_FN.userenter:
        this.td_release[cur] = 1;
        return OK;
      case CALL_FN.lwkt_wait_free:
        return this.lwkt_wait_free((step as StepOf<'lwkt_wait_free'>).td);
      case CALL_FN.lwkt_checkpri_self:
        this.rv = this.lwkt_checkpri_self();
        return OK;
      case CALL_FN.lwkt_set_comm:
        {
        const st = step as StepOf<'lwkt_set_comm'>;
        this.lwkt_set_comm(st.td, st.comm);
        return OK;
      }
      case CALL_FN.crit_enter_quick:
        this.crit_enter_quick(cur);
        return OK;
      case CALL_FN.lwkt_exit:
        return this.lwkt_exit();
      case CALL_FN.crit_enter_gd:
        this.crit_enter_gd(this.mycpu);
        return OK;
      case CALL_FN.lwkt_hold:
        this.lwkt_hold((step as StepOf<'lwkt_hold'>).td);
        return OK;
      case CALL_FN.lwkt_free_thread:
        return this.lwkt_free_thread((step as StepOf<'lwkt_free_thread'>).td);
      case CALL_FN.crit_exit_noyield:
        this.crit_exit_noyield(cur);
        return OK;
      case CALL_FN.lwkt_rele:
        this.lwkt_rele((step as StepOf<'lwkt_rele'>).td);
        return OK;
      case CALL_FN.crit_exit_gd:
        return this.crit_exit_gd(this.mycpu);
      case CALL_FN.crit_exit_quick:
        return this.crit_exit_quick(cur);
      case CALL_FN.cpusync_exit:
        --this.td_cscount[cur]!;
        return OK;
      case CALL_FN.fastintr_switch:
        return this.fastintr_switch();
      default:
        throw new Error(`no handler for step call ${step.call}`);
    }
  }

  // =========================================================================
  // Run queue helpers (lwkt_thread.c:126-150) are _lwkt_dequeue and
  // _lwkt_enqueue in env.ts.

  /** lwkt_thread.c:160 */
  protected lwkt_schedule_self(td: number): number {
    this.crit_enter_quick(td);
    if (this.invariants && this.td_wait[td] !== NIL) this.panic('schedule_self.td-wait-set');
    if (this.invariants && td === this.idlethread(this.td_gd[td]!)) this.panic('schedule_self.idle-thread');
    this._lwkt_enqueue(td);
    if (this.td_proc_pid[td]! >= 0 && this.td_proc_stat[td] === SSLEEP) this.panic('schedule_self.proc-sleeping');
    return this.crit_exit_quick(td);
  }

  /** lwkt_thread.c:179 */
  protected lwkt_deschedule_self(td: number): number {
    this.crit_enter_quick(td);
    if (this.invariants && this.td_wait[td] !== NIL) this.panic('deschedule_self.td-wait-set');
    this._lwkt_dequeue(td);
    return this.crit_exit_quick(td);
  }

  /** lwkt_thread.c:213 */
  protected lwkt_wait_init(): number {
    const w = this.newWait();
    this.t_cpu[w] = this.mycpu; // lwkt_token_init
    this.t_reqcpu[w] = this.mycpu;
    this.wa_gen[w] = 0;
    this.wa_count[w] = 0;
    return w;
  }

  // =========================================================================
  // Thread creation and destruction.

  private lwkt_alloc_thread_step(stksize: number, cpu: number): number {
    const r = this.lwkt_alloc_thread(stksize, cpu);
    if (r === OK) this.rv = this.lastAlloc;
    return r;
  }

  /** lwkt_thread.c:230, with td == NULL; the new thread is left in `lastAlloc`. */
  protected lwkt_alloc_thread(stksize: number, cpu: number): number {
    const gd = this.mycpu;
    this.crit_enter_gd(gd);
    if (this.gd_tdfreecount[gd]! > 0) {
      --this.gd_tdfreecount[gd]!;
      const td = this.freeq.first(gd);
      // A NULL td would fault in C even without INVARIANTS; it needs an already corrupt cache.
      if (td === NIL || (this.invariants && (this.td_flags[td]! & TDF_RUNNING) !== 0)) {
        this.panic('alloc_thread.cached-td-corrupt');
      }
      this.freeq.remove(td);
      if (this.crit_exit_gd(gd) !== OK) {
        this.pushFrame(FN.lwkt_alloc_thread, ST.cached, td, stksize, cpu);
        return SUSP;
      }
      return this.lwkt_alloc_thread_cached(td, stksize, cpu);
    }
    if (this.crit_exit_gd(gd) !== OK) {
      this.pushFrame(FN.lwkt_alloc_thread, ST.fresh, NIL, stksize, cpu);
      return SUSP;
    }
    return this.lwkt_alloc_thread_fresh(stksize, cpu);
  }

  /** lwkt_thread.c:245 */
  private lwkt_alloc_thread_cached(td: number, stksize: number, cpu: number): number {
    const flags = this.td_flags[td]! & (TDF_ALLOCATED_STACK | TDF_ALLOCATED_THREAD);
    return this.lwkt_alloc_thread_stack(td, flags, stksize, cpu);
  }

  /** lwkt_thread.c:249-255: the zone always returns a new structure. */
  private lwkt_alloc_thread_fresh(stksize: number, cpu: number): number {
    const td = this.zalloc();
    this.td_kstack[td] = 0;
    this.td_kstack_size[td] = 0;
    return this.lwkt_alloc_thread_stack(td, TDF_ALLOCATED_THREAD, stksize, cpu);
  }

  /** lwkt_thread.c:258-280 */
  private lwkt_alloc_thread_stack(td: number, flags: number, stksize: number, cpu: number): number {
    let stack = this.td_kstack[td] !== 0;
    // A stack of the wrong size is freed only if this code allocated it.
    if (stack && this.td_kstack_size[td] !== stksize && (flags & TDF_ALLOCATED_STACK) !== 0) stack = false;
    if (!stack) {
      stack = true;
      flags |= TDF_ALLOCATED_STACK;
    }
    const gd = cpu < 0 ? this.mycpu : cpu;
    if (this.lwkt_init_thread(td, stack, stksize, flags, gd) !== OK) {
      this.pushFrame(FN.lwkt_alloc_thread, ST.init, td, stksize, cpu);
      return SUSP;
    }
    this.lastAlloc = td;
    return OK;
  }

  private lwkt_alloc_thread_rest(stage: number, td: number, stksize: number, cpu: number): number {
    let r: number;
    if (stage === ST.cached) r = this.lwkt_alloc_thread_cached(td, stksize, cpu);
    else if (stage === ST.fresh) r = this.lwkt_alloc_thread_fresh(stksize, cpu);
    else {
      r = OK;
      this.lastAlloc = td;
    }
    if (r === OK) this.rv = this.lastAlloc;
    return r;
  }

  /** lwkt_thread.c:302 (IPI callback) */
  protected lwkt_init_thread_remote(td: number): void {
    this.allq.insertTail(this.td_gd[td]!, td);
  }

  /** lwkt_thread.c:312. A thread that is on a td_threadq list stays there (C keeps the stale links). */
  protected lwkt_init_thread(td: number, stack: boolean, stksize: number, flags: number, gd: number): number {
    const mygd = this.mycpu;
    this.bzeroThread(td);
    this.td_kstack[td] = stack ? 1 : 0;
    this.td_kstack_size[td] = stksize;
    this.td_flags[td]! |= flags;
    this.td_gd[td] = gd;
    this.td_pri[td] = TDPRI_KERN_DAEMON + TDPRI_CRIT;
    this.frames.push(td, FN.cpu_kthread_restore, ST.none, 0, 0, 0, null);
    this.td_call[td] = FN.cpu_kthread_restore;
    // Reinitialising the running thread itself (misuse) keeps later frames in front of this one.
    if (td === this.xtd) this.chainBase = this.frames.depth[td]!;

    if (this.smp && gd !== mygd && td !== this.idlethread(gd)) {
      return this.lwkt_send_ipiq(gd, IPI.lwkt_init_thread_remote, td);
    }
    this.crit_enter_gd(mygd);
    this.allq.insertTail(gd, td);
    return this.crit_exit_gd(mygd);
  }

  /** bzero(td, sizeof(struct thread)); `zfreed` is the zone's mark, not a field. */
  private bzeroThread(td: number): void {
    this.td_gd[td] = 0;
    this.td_pri[td] = 0;
    this.td_flags[td] = 0;
    this.td_mpcount[td] = 0;
    this.td_cscount[td] = 0;
    this.td_refs[td] = 0;
    this.td_nest_count[td] = 0;
    this.td_wait[td] = NIL;
    this.td_wmesg[td] = null;
    this.td_preempted[td] = NIL;
    this.toksClear(td);
    this.td_proc_pid[td] = -1;
    this.td_proc_stat[td] = 0;
    this.td_release[td] = 0;
    this.td_preemptable[td] = 0;
    this.td_comm[td] = '';
    this.td_kstack[td] = 0;
    this.td_kstack_size[td] = 0;
    this.td_exiting[td] = 0;
    this.frames.depth[td] = 0;
  }

  /** lwkt_thread.c:349 */
  protected lwkt_set_comm(td: number, comm: string): void {
    this.td_comm[td] = comm.slice(0, MAXCOMLEN);
  }

  /** lwkt_thread.c:359 */
  protected lwkt_hold(td: number): void {
    ++this.td_refs[td]!;
  }

  /** lwkt_thread.c:365 */
  protected lwkt_rele(td: number): void {
    if (this.invariants && this.td_refs[td]! <= 0) this.panic('rele.refs-zero');
    --this.td_refs[td]!;
  }

  /** lwkt_thread.c:374, with lwkt_yield in place of tsleep. */
  protected lwkt_wait_free(td: number): number {
    while (this.td_refs[td] !== 0) {
      if (this.lwkt_yield() !== OK) {
        this.pushFrame(FN.lwkt_wait_free, ST.none, td);
        return SUSP;
      }
    }
    return OK;
  }

  /** lwkt_thread.c:383 */
  protected lwkt_free_thread(td: number): number {
    const gd = this.mycpu;
    if (this.invariants && (this.td_flags[td]! & TDF_RUNNING) !== 0) this.panic('free_thread.running');

    this.crit_enter_gd(gd);
    this.allqRemove(gd, td);
    if (this.gd_tdfreecount[gd]! < CACHE_NTHREADS && (this.td_flags[td]! & TDF_ALLOCATED_THREAD) !== 0) {
      ++this.gd_tdfreecount[gd]!;
      this.freeq.insertHead(gd, td);
      return this.crit_exit_gd(gd);
    }
    if (this.crit_exit_gd(gd) !== OK) {
      this.pushFrame(FN.lwkt_free_thread, ST.none, td);
      return SUSP;
    }
    return this.lwkt_free_thread_release(td);
  }

  /** lwkt_thread.c:400-416 */
  private lwkt_free_thread_release(td: number): number {
    if (this.td_kstack[td] !== 0 && (this.td_flags[td]! & TDF_ALLOCATED_STACK) !== 0) {
      this.td_kstack[td] = 0;
      this.td_kstack_size[td] = 0;
    }
    if ((this.td_flags[td]! & TDF_ALLOCATED_THREAD) !== 0) this.zfreed[td] = 1;
    return OK;
  }

  /**
   * TAILQ_REMOVE from gd_tdallq of `gd`. A thread that is on another CPU's
   * list is removed from that one (C would damage the other list's tail).
   */
  protected allqRemove(_gd: number, td: number): void {
    this.allq.remove(td);
  }

  /** lwkt_thread.c:1230; returns the new thread's id rather than 0. */
  protected lwkt_create(cpu: number, tdflags: number, preemptable: boolean, comm: string): number {
    if (this.lwkt_alloc_thread(LWKT_THREAD_STACK, cpu) !== OK) {
      this.pushFrame(FN.lwkt_create, ST.alloc, NIL, tdflags, preemptable ? 1 : 0, comm);
      return SUSP;
    }
    return this.lwkt_create_finish(this.lastAlloc, tdflags, preemptable, comm);
  }

  /** lwkt_thread.c:1240-1260 */
  private lwkt_create_finish(td: number, tdflags: number, preemptable: boolean, comm: string): number {
    this.td_flags[td]! |= TDF_VERBOSE | tdflags;
    if (this.smp) this.td_mpcount[td] = 1;
    this.td_comm[td] = comm.slice(0, MAXCOMLEN);
    this.td_preemptable[td] = preemptable ? 1 : 0;
    if ((this.td_flags[td]! & TDF_STOPREQ) === 0) {
      if (this.lwkt_schedule(td) !== OK) {
        this.pushFrame(FN.lwkt_create, ST.schedule, td, tdflags, preemptable ? 1 : 0, comm);
        return SUSP;
      }
    } else {
      this.td_flags[td]! &= ~TDF_STOPREQ;
    }
    this.rv = td;
    return OK;
  }

  /** lwkt_thread.c:1274 */
  protected lwkt_exit(): number {
    const td = this.curthread(this.mycpu);
    if ((this.td_flags[td]! & TDF_VERBOSE) !== 0) this.printf('lwkt_thread.c:1280', [td, this.td_comm[td]!]);
    this.crit_enter_quick(td);
    if (this.lwkt_deschedule_self(td) !== OK) this.unmodelledSwitch();
    const gd = this.mycpu;
    if (this.invariants && gd !== this.td_gd[td]) this.panic('exit.wrong-cpu');
    this.allqRemove(gd, td);
    if ((this.td_flags[td]! & TDF_ALLOCATED_THREAD) !== 0) {
      // No CACHE_NTHREADS bound here, unlike lwkt_free_thread.
      ++this.gd_tdfreecount[gd]!;
      this.freeq.insertTail(gd, td);
    }
    return this.cpu_thread_exit(td);
  }

  /** vm_machdep.c cpu_thread_exit: switch away through cpu_exit_switch, never to return. */
  protected cpu_thread_exit(td: number): number {
    this.td_exiting[td] = 1;
    if (this.lwkt_switch() !== OK) return SUSP;
    this.panic('cpu_thread_exit.returned');
  }

  // =========================================================================
  // The switcher.

  /** lwkt_thread.c:445 */
  protected lwkt_switch(): number {
    this.countSwitchCall();
    const gd = this.mycpu;
    const td = this.curthread(gd);
    if (this.gd_intr_nesting_level[gd] !== 0) this.panic('switch.in-fast-interrupt');
    if (this.td_release[td] !== 0) {
      if (this.passive_release(td) !== OK) {
        this.pushFrame(FN.lwkt_switch, ST.release);
        return SUSP;
      }
    }
    return this.lwkt_switch_choose(td);
  }

  /** trap.c passive_release, the td_release hook of a thread that entered from user mode. */
  protected passive_release(td: number): number {
    this.td_release[td] = 0;
    return this.lwkt_setpri_self(TDPRI_KERN_USER);
  }

  /** lwkt_thread.c:474-637: choose the next thread and switch to it. */
  protected lwkt_switch_choose(td: number): number {
    const gd = this.mycpu;
    this.crit_enter_gd(gd);
    let mpheld = false;
    if (this.smp) {
      mpheld = this.MP_LOCK_HELD();
      if (this.invariants && this.td_cscount[td] !== 0) {
        this.printf('lwkt_thread.c:488', [td]);
        if (this.panicOnCscount) this.panic('switch.mastering-cpusync');
      }
    }

    let ntd = this.td_preempted[td]!;
    if (ntd !== NIL) this.lwkt_switch_unpreempt(td, ntd, mpheld);
    else ntd = this.lwkt_switch_next(mpheld);

    if (this.invariants && this.td_pri[ntd]! < TDPRI_CRIT) this.panic('switch.target-pri-below-crit');
    if (this.smp) {
      if (this.td_mpcount[ntd] === 0) {
        if (this.MP_LOCK_HELD()) this.cpu_rel_mplock();
      } else if (this.invariants && !this.MP_LOCK_HELD()) {
        this.panic('switch.mplock-not-held');
      }
    }

    if (td !== ntd) {
      ++this.switch_count;
      this.td_switch(td, ntd);
      this.pushFrame(FN.lwkt_switch, ST.switch);
      return SUSP;
    }
    return this.crit_exit_quick(td);
  }

  /** lwkt_thread.c:506-525: return to the thread `td` preempted. */
  protected lwkt_switch_unpreempt(td: number, ntd: number, mpheld: boolean): void {
    if (this.invariants && (this.td_flags[ntd]! & TDF_PREEMPT_LOCK) === 0) this.panic('switch.preempted-not-locked');
    if (this.smp) {
      if (this.td_mpcount[ntd] !== 0 && !mpheld) this.panic('switch.mplock-not-held-on-return');
      if (this.td_mpcount[ntd] !== 0) {
        // Take back the MP count the preemptor inherited.
        this.td_mpcount[td]! -= this.td_mpcount[ntd]!;
        if (this.invariants && this.td_mpcount[td]! < 0) this.panic('switch.mpcount-negative');
      }
    }
    this.td_flags[ntd]! |= TDF_PREEMPT_DONE;
    if (this.gd_runqmask[this.mycpu]! > this.maskAbove(this.td_pri[ntd]! & TDPRI_MASK)) this.need_lwkt_resched();
  }

  /** (2 << nq) - 1 as an unsigned 32-bit value: 0xffffffff for nq = 31, where the shift wraps to 0. */
  protected maskAbove(nq: number): number {
    return ((2 << nq) - 1) >>> 0;
  }

  /** lwkt_thread.c:549-614: the highest-priority runnable thread, rotated to its queue's tail. */
  protected lwkt_switch_next(mpheld: boolean): number {
    const gd = this.mycpu;
    if (this.smp && this.gd_tokreqbase[gd] !== NIL) this.lwkt_drain_token_requests();
    this.clear_lwkt_resched();
    for (;;) {
      const mask = this.gd_runqmask[gd]!;
      if (mask === 0) {
        // Nothing to run; the idle loop must not halt while interrupts are pending.
        const idle = this.idlethread(gd);
        if ((this.gd_reqflags[gd]! & RQF_IDLECHECK_MASK) !== 0) this.td_flags[idle]! |= TDF_IDLE_NOHLT;
        return idle;
      }
      const nq = bsrl(mask);
      const ntd = this.runq.first(gd * NQS + nq);
      if (ntd === NIL) {
        // A stale bit: dequeue leaves it for the switcher to clear.
        this.gd_runqmask[gd] = mask & ~(1 << nq);
        continue;
      }
      if (this.smp && !this.lwkt_switch_runnable(ntd, mpheld)) return this.lwkt_switch_search(nq, mpheld);
      this.runq.rotateToTail(ntd);
      return ntd;
    }
  }

  /** lwkt_thread.c:573-574: the first candidate gets the MP lock and its tokens, or is passed over. */
  private lwkt_switch_runnable(ntd: number, mpheld: boolean): boolean {
    if (this.td_mpcount[ntd] !== 0 && !mpheld && !this.cpu_try_mplock()) return false;
    return this.td_toks[ntd] === NIL || this.lwkt_chktokens(ntd) !== 0;
  }

  /** lwkt_thread.c:576-597: look for any thread whose MP lock and tokens are available. */
  protected lwkt_switch_search(nq: number, mpheld: boolean): number {
    const gd = this.mycpu;
    let rqmask = this.gd_runqmask[gd]!;
    let ntd = NIL;
    while (rqmask !== 0) {
      for (ntd = this.runq.first(gd * NQS + nq); ntd !== NIL; ntd = this.runq.next[ntd]!) {
        // mpheld is stale after a successful cpu_try_mplock, so a second candidate needing the lock is skipped.
        if (this.td_mpcount[ntd] !== 0 && !mpheld && !this.cpu_try_mplock()) continue;
        mpheld = this.MP_LOCK_HELD();
        if (this.td_toks[ntd] !== NIL && this.lwkt_chktokens(ntd) === 0) continue;
        break;
      }
      if (ntd !== NIL) break;
      rqmask = (rqmask & ~(1 << nq)) >>> 0;
      nq = bsrl(rqmask);
    }
    if (ntd === NIL) {
      ntd = this.idlethread(gd);
      this.td_flags[ntd]! |= TDF_IDLE_NOHLT;
    } else {
      this.runq.rotateToTail(ntd);
    }
    return ntd;
  }

  /** lwkt_thread.c:673 */
  protected lwkt_preempt(ntd: number, critpri: number): number {
    this.countSwitchCall();
    const gd = this.mycpu;
    if (this.invariants && this.td_pri[ntd]! < TDPRI_CRIT) this.panic('preempt.target-not-in-crit');

    const td = this.curthread(gd);
    if ((this.td_pri[ntd]! & TDPRI_MASK) <= (this.td_pri[td]! & TDPRI_MASK)) {
      ++this.preempt_miss;
      return OK;
    }
    if ((this.td_pri[td]! & ~TDPRI_MASK) > critpri) return this.preempt_refused();
    if (this.smp && this.td_gd[ntd] !== gd) return this.preempt_refused();
    if (this.td_toks[ntd] !== NIL) return this.preempt_refused();
    if (td === ntd || ((this.td_flags[td]! | this.td_flags[ntd]!) & TDF_PREEMPT_LOCK) !== 0) {
      ++this.preempt_weird;
      this.need_lwkt_resched();
      return OK;
    }
    if (this.td_preempted[ntd] !== NIL) {
      // Counted as a hit although nothing is preempted (lwkt_thread.c:732-735).
      ++this.preempt_hit;
      this.need_lwkt_resched();
      return OK;
    }

    let savecnt = 0;
    if (this.smp) {
      // The target inherits our MP count for the duration of the preemption.
      savecnt = this.td_mpcount[td]!;
      const mpheld = this.MP_LOCK_HELD();
      this.td_mpcount[ntd]! += this.td_mpcount[td]!;
      if (!mpheld && this.td_mpcount[ntd] !== 0 && !this.cpu_try_mplock()) {
        this.td_mpcount[ntd]! -= this.td_mpcount[td]!;
        return this.preempt_refused();
      }
    }

    ++this.preempt_hit;
    this.td_preempted[ntd] = td;
    this.td_flags[td]! |= TDF_PREEMPT_LOCK;
    this.td_switch(td, ntd);
    this.pushFrame(FN.lwkt_preempt, ST.none, ntd, savecnt);
    return SUSP;
  }

  private preempt_refused(): number {
    ++this.preempt_miss;
    this.need_lwkt_resched();
    return OK;
  }

  /** lwkt_thread.c:765-775: the preemptor switched back. */
  protected lwkt_preempt_return(ntd: number, savecnt: number): number {
    const td = this.curthread(this.mycpu);
    if (this.invariants && (this.td_preempted[ntd] === NIL || (this.td_flags[td]! & TDF_PREEMPT_DONE) === 0)) {
      this.panic('preempt.not-done-on-return');
    }
    if (this.smp) {
      if (this.invariants && savecnt !== this.td_mpcount[td]) this.panic('preempt.mpcount-changed');
      const mpheld = this.MP_LOCK_HELD();
      if (mpheld && this.td_mpcount[td] === 0) this.cpu_rel_mplock();
      else if (!mpheld && this.td_mpcount[td] !== 0) this.panic('preempt.mplock-not-held-through');
    }
    this.td_preempted[ntd] = NIL;
    this.td_flags[td]! &= ~(TDF_PREEMPT_LOCK | TDF_PREEMPT_DONE);
    return OK;
  }

  /** lwkt_thread.c:794 */
  protected lwkt_yield_quick(): number {
    const gd = this.mycpu;
    const td = this.curthread(gd);
    // td_nest_count keeps splz from nesting more than once.
    if (this.gd_reqflags[gd] !== 0 && this.td_nest_count[td]! < 2) {
      if (this.splz() !== OK) {
        this.pushFrame(FN.lwkt_yield_quick, ST.splz);
        return SUSP;
      }
    }
    return this.lwkt_yield_quick_untimely(td);
  }

  /** lwkt_thread.c:822-838: with lwkt.untimely_switch, switch even to equal priority. */
  protected lwkt_yield_quick_untimely(td: number): number {
    if (!this.untimelySwitch || this.td_nest_count[td] !== 0 || this.gd_intr_nesting_level[this.mycpu] !== 0) return OK;
    this.crit_enter_quick(td);
    if ((this.td_flags[td]! & TDF_RUNQ) !== 0) {
      if (this.lwkt_switch() !== OK) {
        this.pushFrame(FN.lwkt_yield_quick, ST.untimelyRunq);
        return SUSP;
      }
    } else {
      if (this.lwkt_schedule_self(td) !== OK) this.unmodelledSwitch();
      if (this.lwkt_switch() !== OK) {
        this.pushFrame(FN.lwkt_yield_quick, ST.untimelySched);
        return SUSP;
      }
      if (this.lwkt_deschedule_self(td) !== OK) this.unmodelledSwitch();
    }
    this.crit_exit_noyield(td);
    return OK;
  }

  private lwkt_yield_quick_rest(td: number, stage: number): number {
    if (stage === ST.splz) return this.lwkt_yield_quick_untimely(td);
    if (stage === ST.untimelySched && this.lwkt_deschedule_self(td) !== OK) this.unmodelledSwitch();
    this.crit_exit_noyield(td);
    return OK;
  }

  /** lwkt_thread.c:849 */
  protected lwkt_yield(): number {
    if (this.lwkt_schedule_self(this.curthread(this.mycpu)) !== OK) {
      this.pushFrame(FN.lwkt_yield, ST.scheduleSelf);
      return SUSP;
    }
    return this.lwkt_yield_switch();
  }

  private lwkt_yield_switch(): number {
    if (this.lwkt_switch() !== OK) {
      this.pushFrame(FN.lwkt_yield, ST.switch);
      return SUSP;
    }
    return OK;
  }

  // =========================================================================
  // Scheduling.

  /** lwkt_thread.c:866; a set td_preemptable is cpu_intr_preempt, which calls lwkt_preempt. */
  protected _lwkt_schedule_post(gd: number, ntd: number, cpri: number): number {
    if (this.td_preemptable[ntd] !== 0) return this.lwkt_preempt(ntd, cpri);
    if ((this.td_flags[ntd]! & TDF_NORESCHED) === 0 &&
        (this.td_pri[ntd]! & TDPRI_MASK) > (this.td_pri[this.curthread(gd)]! & TDPRI_MASK)) {
      this.need_lwkt_resched();
    }
    return OK;
  }

  /** lwkt_thread.c:878 */
  protected lwkt_schedule(td: number): number {
    const mygd = this.mycpu;
    if (this.invariants) this.lwkt_schedule_checks(td);

    this.crit_enter_gd(mygd);
    if (td === this.curthread(mygd)) {
      this._lwkt_enqueue(td);
    } else if (this.td_wait[td] !== NIL) {
      const r = this.lwkt_schedule_waiting(mygd, td, this.td_wait[td]!);
      if (r !== OK) return r;
    } else if (this.lwkt_schedule_owner(mygd, td) !== OK) {
      this.pushFrame(FN.lwkt_schedule, ST.none, mygd, NIL);
      return SUSP;
    }
    return this.crit_exit_gd(mygd);
  }

  /** lwkt_thread.c:882-896 (INVARIANTS) */
  private lwkt_schedule_checks(td: number): void {
    if (td === this.idlethread(this.td_gd[td]!)) this.panic('schedule.idle-thread');
    if ((this.td_flags[td]! & TDF_PREEMPT_LOCK) !== 0 || this.td_proc_pid[td]! < 0 || this.td_proc_stat[td] !== SSLEEP) return;
    // The printf reads the current thread's process in the target's columns too.
    const cur = this.curthread(this.mycpu);
    if (this.td_proc_pid[cur]! < 0) this.panic('null-dereference');
    const pid = this.td_proc_pid[cur]!;
    const stat = this.td_proc_stat[cur]!;
    this.printf('lwkt_thread.c:887', [cur, pid, stat, td, pid, stat]);
    this.panic('schedule.proc-sleeping');
  }

  /** lwkt_thread.c:918-939: take the thread off its wait queue if the queue's token is ours. */
  private lwkt_schedule_waiting(mygd: number, td: number, w: number): number {
    const wref = this.newTokref(w);
    if (this.lwkt_trytokref(wref) === 0) {
      if (this.lwkt_send_ipiq(this.t_cpu[w]!, IPI.lwkt_schedule, td) !== OK) {
        this.pushFrame(FN.lwkt_schedule, ST.none, mygd, NIL);
        return SUSP;
      }
      return OK;
    }
    this.waitq.remove(td);
    --this.wa_count[w]!;
    this.td_wait[td] = NIL;
    if (this.lwkt_schedule_owner(mygd, td) !== OK) {
      this.pushFrame(FN.lwkt_schedule, ST.none, mygd, wref);
      return SUSP;
    }
    if (this.lwkt_reltoken(wref) !== OK) {
      this.pushFrame(FN.lwkt_schedule, ST.none, mygd, NIL);
      return SUSP;
    }
    return OK;
  }

  /** lwkt_thread.c:926-931 and 948-953: enqueue here, or ask the owning CPU. */
  private lwkt_schedule_owner(mygd: number, td: number): number {
    if (this.smp && this.td_gd[td] !== mygd) return this.lwkt_send_ipiq(this.td_gd[td]!, IPI.lwkt_schedule, td);
    this._lwkt_enqueue(td);
    return this._lwkt_schedule_post(mygd, td, TDPRI_CRIT);
  }

  /** Rest of a `lwkt_schedule` frame: lwkt_thread.c:936 and 960. */
  protected lwkt_schedule_finish(mygd: number, wref: number): number {
    if (wref !== NIL && this.lwkt_reltoken(wref) !== OK) {
      this.pushFrame(FN.lwkt_schedule, ST.none, mygd, NIL);
      return SUSP;
    }
    return this.crit_exit_gd(mygd);
  }

  /** lwkt_thread.c:972 */
  protected lwkt_acquire(td: number): number {
    const gd = this.td_gd[td]!;
    if (this.invariants && (this.td_flags[td]! & TDF_RUNQ) !== 0) this.panic('acquire.on-runq');
    return this.lwkt_acquire_test(td, gd);
  }

  /** lwkt_thread.c:980-988: wait until the thread is switched out on its CPU, then take it. */
  private lwkt_acquire_test(td: number, gd: number): number {
    if ((this.td_flags[td]! & TDF_RUNNING) !== 0) {
      this.pushFrame(FN.lwkt_acquire, ST.spin, td, gd);
      return SUSP;
    }
    const mygd = this.mycpu;
    if (gd === mygd) return OK;
    this.crit_enter_gd(mygd);
    this.allqRemove(gd, td);
    this.td_gd[td] = mygd;
    this.allq.insertTail(mygd, td);
    return this.crit_exit_gd(mygd);
  }

  /** lwkt_thread.c:999 */
  protected lwkt_deschedule(td: number): number {
    this.crit_enter();
    if (td === this.curthread(this.mycpu) || this.td_gd[td] === this.mycpu) {
      this._lwkt_dequeue(td);
    } else if (this.lwkt_send_ipiq(this.td_gd[td]!, IPI.lwkt_deschedule, td) !== OK) {
      this.unmodelledSwitch();
    }
    return this.crit_exit();
  }

  /** lwkt_thread.c:1028: only pri >= 0 is checked; pri >= 32 adds critical sections. */
  protected lwkt_setpri(td: number, pri: number): number {
    if (this.invariants && pri < 0) this.panic('setpri.negative');
    if (this.invariants && this.td_gd[td] !== this.mycpu) this.panic('setpri.remote-thread');
    this.crit_enter();
    this.requeueAtPri(td, pri);
    return this.crit_exit();
  }

  /** lwkt_thread.c:1044 */
  protected lwkt_setpri_self(pri: number): number {
    const td = this.curthread(this.mycpu);
    if (this.invariants && (pri < 0 || pri > TDPRI_MAX)) this.panic('setpri_self.out-of-range');
    this.crit_enter();
    this.requeueAtPri(td, pri);
    return this.crit_exit();
  }

  /** Sets the priority bits of td_pri, moving a queued thread to the tail of its new queue. */
  private requeueAtPri(td: number, pri: number): void {
    if ((this.td_flags[td]! & TDF_RUNQ) !== 0) {
      this._lwkt_dequeue(td);
      this.td_pri[td] = (this.td_pri[td]! & ~TDPRI_MASK) + pri;
      this._lwkt_enqueue(td);
    } else {
      this.td_pri[td] = (this.td_pri[td]! & ~TDPRI_MASK) + pri;
    }
  }

  /** lwkt_thread.c:1072 */
  protected lwkt_checkpri_self(): number {
    const gd = this.mycpu;
    let nq = this.td_pri[this.curthread(gd)]! & TDPRI_MASK;
    while (this.gd_runqmask[gd]! > this.maskAbove(nq)) {
      if (this.runq.first(gd * NQS + nq + 1) !== NIL) return 1;
      ++nq;
    }
    return 0;
  }

  /** lwkt_thread.c:1098 */
  protected lwkt_setcpu_self(rgd: number): number {
    if (!this.smp) return OK;
    const td = this.curthread(this.mycpu);
    if (this.td_gd[td] === rgd) return OK;

    this.crit_enter_quick(td);
    this.td_flags[td]! |= TDF_MIGRATING;
    if (this.lwkt_deschedule_self(td) !== OK) this.unmodelledSwitch();
    this.allqRemove(this.td_gd[td]!, td);
    this.allq.insertTail(rgd, td);
    if (this.lwkt_send_ipiq(rgd, IPI.lwkt_setcpu_remote, td) !== OK) this.unmodelledSwitch();
    if (this.lwkt_switch() !== OK) {
      this.pushFrame(FN.lwkt_setcpu_self, ST.none);
      return SUSP;
    }
    return this.crit_exit_quick(td);
  }

  /** lwkt_thread.c:1131 (IPI callback); spinning on TDF_RUNNING inside it is limit ipi-spin. */
  protected lwkt_setcpu_remote(td: number): void {
    if ((this.td_flags[td]! & TDF_RUNNING) !== 0) this.limit('ipi-spin');
    this.td_gd[td] = this.mycpu;
    this.td_flags[td]! &= ~TDF_MIGRATING;
    this._lwkt_enqueue(td);
  }

  /** lwkt_thread.c:1146: the pid of the last thread on the preemption chain, or null. */
  protected lwkt_preempted_proc(): number | null {
    let td = this.curthread(this.mycpu);
    for (let n = 0; this.td_preempted[td] !== NIL && n <= THREADS_MAX; n++) td = this.td_preempted[td]!;
    const pid = this.td_proc_pid[td]!;
    return pid < 0 ? null : pid;
  }

  // =========================================================================
  // Wait queues. Frame fields: a = w, b = gen or count, c = ilock, s = wmesg.

  /** lwkt_thread.c:1161; returns the new generation. */
  protected lwkt_block(w: number, wmesg: string | null, gen: number): number {
    const ilock = this.newTokref(w);
    if (this.lwkt_gettokref(ilock) !== OK) {
      this.pushFrame(FN.lwkt_block, ST.gettoken, w, gen, ilock, wmesg);
      return SUSP;
    }
    return this.lwkt_block_locked(w, wmesg, gen, ilock);
  }

  /** lwkt_thread.c:1167-1180 */
  private lwkt_block_locked(w: number, wmesg: string | null, gen: number, ilock: number): number {
    const td = this.curthread(this.mycpu);
    this.crit_enter();
    if (this.wa_gen[w] === gen) {
      this._lwkt_dequeue(td);
      this.waitq.insertTail(w, td);
      ++this.wa_count[w]!;
      this.td_wait[td] = w;
      this.td_wmesg[td] = wmesg;
      return this.lwkt_block_loop(w, wmesg, gen, ilock);
    }
    return this.lwkt_block_crit_exit(w, wmesg, gen, ilock);
  }

  /** lwkt_thread.c:1174-1179: switch until lwkt_signal clears td_wmesg. */
  private lwkt_block_loop(w: number, wmesg: string | null, gen: number, ilock: number): number {
    if (this.lwkt_switch() !== OK) {
      this.pushFrame(FN.lwkt_block, ST.loop, w, gen, ilock, wmesg);
      return SUSP;
    }
    return this.lwkt_block_retest(w, wmesg, gen, ilock);
  }

  private lwkt_block_retest(w: number, wmesg: string | null, gen: number, ilock: number): number {
    const td = this.curthread(this.mycpu);
    if (this.td_wmesg[td] !== null) {
      this._lwkt_dequeue(td);
      return this.lwkt_block_loop(w, wmesg, gen, ilock);
    }
    return this.lwkt_block_crit_exit(w, wmesg, gen, ilock);
  }

  /** lwkt_thread.c:1181-1183 */
  private lwkt_block_crit_exit(w: number, wmesg: string | null, gen: number, ilock: number): number {
    if (this.crit_exit() !== OK) {
      this.pushFrame(FN.lwkt_block, ST.critExit, w, gen, ilock, wmesg);
      return SUSP;
    }
    return this.lwkt_block_release(w, wmesg, ilock);
  }

  private lwkt_block_release(w: number, wmesg: string | null, ilock: number): number {
    const gen = this.wa_gen[w]!;
    if (this.lwkt_reltoken(ilock) !== OK) {
      this.pushFrame(FN.lwkt_block, ST.reltoken, w, gen, ilock, wmesg);
      return SUSP;
    }
    this.rv = gen;
    return OK;
  }

  private lwkt_block_rest(stage: number, w: number, wmesg: string | null, gen: number, ilock: number): number {
    switch (stage) {
      case ST.gettoken: return this.lwkt_block_locked(w, wmesg, gen, ilock);
      case ST.loop: return this.lwkt_block_retest(w, wmesg, gen, ilock);
      case ST.critExit: return this.lwkt_block_release(w, wmesg, ilock);
      default:
        this.rv = gen;
        return OK;
    }
  }

  /** lwkt_thread.c:1195 */
  protected lwkt_signal(w: number, count: number): number {
    const ilock = this.newTokref(w);
    if (this.lwkt_gettokref(ilock) !== OK) {
      this.pushFrame(FN.lwkt_signal, ST.gettoken, w, count, ilock);
      return SUSP;
    }
    return this.lwkt_signal_locked(w, count, ilock);
  }

  /** lwkt_thread.c:1201-1218; a local thread is enqueued without _lwkt_schedule_post. */
  private lwkt_signal_locked(w: number, count: number, ilock: number): number {
    ++this.wa_gen[w]!;
    this.crit_enter();
    if (count < 0) count = this.wa_count[w]!;
    for (let td = this.waitq.first(w); td !== NIL && count !== 0; td = this.waitq.first(w)) {
      --count;
      --this.wa_count[w]!;
      this.waitq.remove(td);
      this.td_wait[td] = NIL;
      this.td_wmesg[td] = null;
      if (this.td_gd[td] === this.mycpu) this._lwkt_enqueue(td);
      else if (this.lwkt_send_ipiq(this.td_gd[td]!, IPI.lwkt_schedule, td) !== OK) this.unmodelledSwitch();
    }
    if (this.crit_exit() !== OK) {
      this.pushFrame(FN.lwkt_signal, ST.critExit, w, count, ilock);
      return SUSP;
    }
    return this.lwkt_signal_release(w, count, ilock);
  }

  private lwkt_signal_release(w: number, count: number, ilock: number): number {
    if (this.lwkt_reltoken(ilock) !== OK) {
      this.pushFrame(FN.lwkt_signal, ST.reltoken, w, count, ilock);
      return SUSP;
    }
    return OK;
  }

  private lwkt_signal_rest(stage: number, w: number, count: number, ilock: number): number {
    if (stage === ST.gettoken) return this.lwkt_signal_locked(w, count, ilock);
    if (stage === ST.critExit) return this.lwkt_signal_release(w, count, ilock);
    return OK;
  }

  // =========================================================================
  // Environment steps and calls outside lwkt_thread.c (spec/semantics.md 4).

  /** mplock.s get_mplock */
  protected get_mplock(): number {
    if (!this.smp) return OK;
    const td = this.curthread(this.mycpu);
    ++this.td_mpcount[td]!;
    if (this.MP_LOCK_HELD() || this.cpu_try_mplock()) return OK;
    // Stay on the run queue; lwkt_switch takes the lock before it runs us again.
    if (this.lwkt_switch() !== OK) {
      this.pushFrame(FN.get_mplock, ST.none);
      return SUSP;
    }
    this.get_mplock_check();
    return OK;
  }

  private get_mplock_check(): void {
    if (this.invariants && this.smp && !this.MP_LOCK_HELD()) this.panic('get_mplock.not-held-after-switch');
  }

  /** mplock.s rel_mplock */
  protected rel_mplock(): void {
    if (!this.smp) return;
    const td = this.curthread(this.mycpu);
    if (this.invariants && this.td_mpcount[td] === 0) this.panic('rel_mplock.count-zero');
    --this.td_mpcount[td]!;
    if (this.td_mpcount[td] === 0 && this.MP_LOCK_HELD()) this.cpu_rel_mplock();
  }

  /** mplock.s try_mplock */
  protected try_mplock(): number {
    if (!this.smp) return 1;
    const td = this.curthread(this.mycpu);
    ++this.td_mpcount[td]!;
    if (this.MP_LOCK_HELD() || this.cpu_try_mplock()) return 1;
    --this.td_mpcount[td]!;
    return 0;
  }

  /** Step lwkt_reltoken: releases the newest tokref of the current thread for `tok`. */
  private lwkt_reltoken_step(tok: number): number {
    const td = this.curthread(this.mycpu);
    let ref = this.td_toks[td]!;
    while (ref !== NIL && this.tr_tok[ref] !== tok) ref = this.tr_next[ref]!;
    if (ref === NIL) {
      if (this.invariants) this.panic('reltoken.not-held');
      return OK;
    }
    return this.lwkt_reltoken(ref);
  }

  /** machdep.c cpu_idle, one iteration with cpu_idle_hlt set. */
  protected cpu_idle(): number {
    if (this.lwkt_switch() !== OK) {
      this.pushFrame(FN.cpu_idle, ST.switch);
      return SUSP;
    }
    return this.cpu_idle_halt();
  }

  /** Decides whether the idle loop would halt after lwkt_switch; only the splz of either branch is modelled. */
  private cpu_idle_halt(): number {
    const gd = this.mycpu;
    const td = this.curthread(gd);
    if (this.gd_runqmask[gd] !== 0 || (this.td_flags[td]! & TDF_IDLE_NOHLT) !== 0) this.td_flags[td]! &= ~TDF_IDLE_NOHLT;
    if (this.splz() !== OK) {
      this.pushFrame(FN.cpu_idle, ST.splz);
      return SUSP;
    }
    return OK;
  }

  /** Delivers a threaded interrupt for `td`: it stays pending inside a critical section, else sched_ithd runs. */
  protected intr(td: number): number {
    const gd = this.mycpu;
    const cur = this.curthread(gd);
    if (this.td_pri[cur]! >= TDPRI_CRIT) {
      this.gd_ipending.add(gd, td);
      this.gd_reqflags[gd]! |= RQF_INTPEND;
      return OK;
    }
    if (this.sched_ithd(td) !== OK) {
      this.pushFrame(FN.intr, ST.none, td);
      return SUSP;
    }
    return OK;
  }

  /** A fast interrupt whose handler calls lwkt_switch. */
  protected fastintr_switch(): number {
    const gd = this.mycpu;
    const cur = this.curthread(gd);
    if (this.td_pri[cur]! >= TDPRI_CRIT) {
      this.gd_fpending[gd] = 1;
      this.gd_reqflags[gd]! |= RQF_INTPEND;
      return OK;
    }
    ++this.gd_intr_nesting_level[gd]!;
    this.td_pri[cur]! += TDPRI_CRIT;
    if (this.lwkt_switch() !== OK) this.unmodelledSwitch();
    return OK;
  }

  /** Delivers the IPI vector: deferred inside a critical section, else the FIFOs are drained. */
  protected ipi(): void {
    if (!this.smp) return;
    const gd = this.mycpu;
    const td = this.curthread(gd);
    if (this.td_pri[td]! >= TDPRI_CRIT) {
      this.gd_reqflags[gd]! |= RQF_IPIQ;
      return;
    }
    ++this.gd_intr_nesting_level[gd]!;
    this.td_pri[td]! += TDPRI_CRIT;
    this.lwkt_process_ipiq();
    this.td_pri[td]! -= TDPRI_CRIT;
    --this.gd_intr_nesting_level[gd]!;
  }

  private set_proc(step: StepOf<'set_proc'>): void {
    if (step.pid === null) {
      this.td_proc_pid[step.td] = -1;
      this.td_proc_stat[step.td] = 0;
    } else {
      this.td_proc_pid[step.td] = step.pid;
      this.td_proc_stat[step.td] = procStatNumber(step.stat);
    }
  }
}

export const createImpl: SchedulerFactory = (config) => new LwktImpl(config);
