// The kernel code that DragonFly BSD sys/kern/lwkt_thread.c rev 1.71 calls but
// does not define, as the step semantics describe it. It covers critical sections
// (thread2.h), the MP lock (mplock.s), IPI queues (lwkt_ipiq.c), splz and
// sched_ithd (ipl.s, intr_machdep.c), tokens (lwkt_token.c) and the switch
// primitive (swtch.s). The seed functions themselves are in index.ts.
//
// Every function that may switch threads returns OK or SUSP. SUSP means the
// current thread was switched out (or entered a spin) and its call chain is
// being unwound: each caller that has work left pushes its frame and returns
// SUSP too, up to the step loop.
import {
  ENOENT,
  IPIQ_NOWAIT_LIMIT,
  IPIQ_SEND_WAIT_FILL,
  NQS,
  RQF_AST_LWKT_RESCHED,
  RQF_INTPEND,
  RQF_IPIQ,
  STEP_SWITCH_BUDGET,
  TDF_MIGRATING,
  TDF_RUNNING,
  TDF_RUNQ,
  TDPRI_CRIT,
} from '../spec/index.js';
import { FN, ST } from './frames.js';
import { NIL } from './lists.js';
import { IPI, LwktState, OK, SUSP } from './state.js';

/** Nested direct lwkt_send_ipiq calls to the current CPU allowed before limit ipi-self-recursion. */
const IPI_SELF_DEPTH_MAX = 16;

export abstract class LwktEnv extends LwktState {
  /** The step's CPU ("mycpu"). */
  protected mycpu = 0;
  /** lwkt_switch and lwkt_preempt calls in this step. */
  protected switchCalls = 0;
  /** Depth of direct lwkt_send_ipiq calls to mycpu. */
  protected ipiSelfDepth = 0;

  // Seed functions the environment calls back into (index.ts).
  protected abstract lwkt_switch(): number;
  protected abstract lwkt_yield(): number;
  protected abstract lwkt_yield_quick(): number;
  protected abstract lwkt_schedule(td: number): number;
  protected abstract lwkt_deschedule(td: number): number;
  protected abstract lwkt_init_thread_remote(td: number): void;
  protected abstract lwkt_setcpu_remote(td: number): void;

  /** Ends the step with limit unmodelled-switch: the caller has work left where the frame table has no frame. */
  protected unmodelledSwitch(): never {
    this.limit('unmodelled-switch');
  }

  /** Counts one lwkt_switch or lwkt_preempt call against STEP_SWITCH_BUDGET. */
  protected countSwitchCall(): void {
    if (++this.switchCalls > STEP_SWITCH_BUDGET) this.limit('step-switch-budget');
  }

  // -------------------------------------------------------------------------
  // Critical sections (thread2.h rev 1.17).

  protected crit_enter(): void {
    const td = this.curthread(this.mycpu);
    this.td_pri[td]! += TDPRI_CRIT;
    if (this.invariants && this.td_pri[td]! < 0) this.crit_panic();
  }

  protected crit_enter_quick(td: number): void {
    this.td_pri[td]! += TDPRI_CRIT;
  }

  protected crit_enter_gd(gd: number): void {
    this.crit_enter_quick(this.curthread(gd));
  }

  protected crit_exit(): number {
    const td = this.curthread(this.mycpu);
    this.td_pri[td]! -= TDPRI_CRIT;
    if (this.invariants && this.td_pri[td]! < 0) this.crit_panic();
    if (this.gd_reqflags[this.td_gd[td]!] !== 0 && this.td_pri[td]! < TDPRI_CRIT) return this.lwkt_yield_quick();
    return OK;
  }

  /** crit_exit_quick has no negative check. */
  protected crit_exit_quick(td: number): number {
    const gd = this.td_gd[td]!;
    this.td_pri[td]! -= TDPRI_CRIT;
    if (this.gd_reqflags[gd] !== 0 && this.td_pri[td]! < TDPRI_CRIT) return this.lwkt_yield_quick();
    return OK;
  }

  protected crit_exit_gd(gd: number): number {
    return this.crit_exit_quick(this.curthread(gd));
  }

  protected crit_exit_noyield(td: number): void {
    this.td_pri[td]! -= TDPRI_CRIT;
    if (this.invariants && this.td_pri[td]! < 0) this.crit_panic();
  }

  /** lwkt_thread.c:1297: td_pri is cleared before the panic. */
  protected crit_panic(): never {
    this.td_pri[this.curthread(this.mycpu)] = 0;
    this.panic('crit_panic.negative');
  }

  protected need_lwkt_resched(): void {
    this.gd_reqflags[this.mycpu]! |= RQF_AST_LWKT_RESCHED;
  }

  protected clear_lwkt_resched(): void {
    this.gd_reqflags[this.mycpu]! &= ~RQF_AST_LWKT_RESCHED;
  }

  // -------------------------------------------------------------------------
  // Run queues (lwkt_thread.c:126-150).

  protected _lwkt_dequeue(td: number): void {
    if ((this.td_flags[td]! & TDF_RUNQ) === 0) return;
    this.td_flags[td]! &= ~TDF_RUNQ;
    this.runq.remove(td);
    // gd_runqmask keeps its bit; lwkt_switch clears it when it finds the queue empty.
  }

  protected _lwkt_enqueue(td: number): void {
    if ((this.td_flags[td]! & (TDF_RUNQ | TDF_MIGRATING)) !== 0) return;
    const nq = this.td_pri[td]! & 31;
    const gd = this.td_gd[td]!;
    this.td_flags[td]! |= TDF_RUNQ;
    this.runq.insertTail(gd * NQS + nq, td);
    this.gd_runqmask[gd]! |= 1 << nq;
  }

  // -------------------------------------------------------------------------
  // The switch primitive (cpu_lwkt_switch or cpu_exit_switch, swtch.s rev 1.37).

  /** Makes `ntd` the current thread of mycpu; the caller then unwinds with SUSP. */
  protected td_switch(td: number, ntd: number): number {
    this.gd_curthread[this.mycpu] = ntd;
    this.td_flags[td]! &= ~TDF_RUNNING;
    this.td_flags[ntd]! |= TDF_RUNNING;
    if (this.td_exiting[td] !== 0) this.exitSwitch = true;
    return SUSP;
  }

  // -------------------------------------------------------------------------
  // MP lock (mplock.s rev 1.15). Only called with SMP.

  protected MP_LOCK_HELD(): boolean {
    return this.mp_lock === this.mycpu;
  }

  protected cpu_try_mplock(): boolean {
    if (this.mp_lock !== -1) return false;
    this.mp_lock = this.mycpu;
    return true;
  }

  protected cpu_rel_mplock(): void {
    this.mp_lock = -1;
  }

  // -------------------------------------------------------------------------
  // IPI queues (lwkt_ipiq.c rev 1.10).

  protected lwkt_send_ipiq(target: number, func: number, arg: number): number {
    if (!this.smp) this.panic('send_ipiq.up-kernel');
    const gd = this.mycpu;
    if (target === gd) return this.ipiDirectCall(func, arg);

    this.crit_enter();
    ++this.gd_intr_nesting_level[gd]!;
    if (this.ipiq.count(gd, target) > IPIQ_SEND_WAIT_FILL) this.limit('ipiq-full');
    this.ipiq.push(gd, target, func, arg);
    --this.gd_intr_nesting_level[gd]!;
    return this.crit_exit();
  }

  /** lwkt_send_ipiq_nowait: returns 0 or ENOENT; the caller is in a critical section. */
  protected lwkt_send_ipiq_nowait(target: number, func: number, arg: number): number {
    const gd = this.mycpu;
    if (target === gd) {
      if (this.ipiDirectCall(func, arg) !== OK) this.unmodelledSwitch();
      return 0;
    }
    if (this.ipiq.count(gd, target) >= IPIQ_NOWAIT_LIMIT) return ENOENT;
    this.ipiq.push(gd, target, func, arg);
    return 0;
  }

  /** Runs a message to mycpu at once, as an ordinary call whose switches unwind normally. */
  private ipiDirectCall(func: number, arg: number): number {
    if (++this.ipiSelfDepth > IPI_SELF_DEPTH_MAX) this.limit('ipi-self-recursion');
    const r = this.ipiCall(func, arg);
    --this.ipiSelfDepth;
    return r;
  }

  protected ipiCall(func: number, arg: number): number {
    switch (func) {
      case IPI.lwkt_schedule: return this.lwkt_schedule(arg);
      case IPI.lwkt_deschedule: return this.lwkt_deschedule(arg);
      case IPI.lwkt_init_thread_remote: this.lwkt_init_thread_remote(arg); return OK;
      case IPI.lwkt_setcpu_remote: this.lwkt_setcpu_remote(arg); return OK;
      case IPI.sched_ithd_remote: return this.sched_ithd(arg);
      default: this.lwkt_reqtoken_remote(arg); return OK;
    }
  }

  /** Drains every FIFO into mycpu, sources in ascending order; a callback may not switch. */
  protected lwkt_process_ipiq(): void {
    const gd = this.mycpu;
    for (let n = 0; n < this.ncpus; n++) {
      if (n === gd) continue;
      while (this.ipiq.shift(n, gd)) {
        if (this.ipiCall(this.ipiq.lastFunc, this.ipiq.lastArg) !== OK) this.unmodelledSwitch();
      }
    }
  }

  // -------------------------------------------------------------------------
  // Interrupts (intr_machdep.c rev 1.25, ipl.s rev 1.17).

  protected sched_ithd(td: number): number {
    if (this.td_gd[td] === this.mycpu) return this.lwkt_schedule(td);
    return this.lwkt_send_ipiq(this.td_gd[td]!, IPI.sched_ithd_remote, td);
  }

  /** splz(): runs pending IPIs, fast interrupts and interrupt threads inside its own critical section. */
  protected splz(): number {
    const td = this.curthread(this.mycpu);
    this.td_pri[td]! += TDPRI_CRIT;
    return this.splz_loop(td);
  }

  protected splz_loop(td: number): number {
    const gd = this.mycpu;
    for (;;) {
      if (this.smp && (this.gd_reqflags[gd]! & RQF_IPIQ) !== 0) {
        this.gd_reqflags[gd]! &= ~RQF_IPIQ;
        this.lwkt_process_ipiq();
        continue;
      }
      if (this.gd_fpending[gd] !== 0) {
        // The fast handler calls lwkt_switch, which panics at lwkt_thread.c:459.
        this.gd_fpending[gd] = 0;
        ++this.gd_intr_nesting_level[gd]!;
        if (this.lwkt_switch() !== OK) this.unmodelledSwitch();
        continue;
      }
      const ithd = this.gd_ipending.lowest(gd);
      if (ithd === NIL) break;
      this.gd_ipending.remove(gd, ithd);
      this.td_pri[td]! -= TDPRI_CRIT;
      ++this.td_nest_count[td]!;
      if (this.sched_ithd(ithd) !== OK) {
        this.pushFrame(FN.splz, ST.none);
        return SUSP;
      }
      this.td_pri[td]! += TDPRI_CRIT;
      --this.td_nest_count[td]!;
    }
    this.td_pri[td]! -= TDPRI_CRIT;
    if (this.gd_ipending.isEmpty(gd) && this.gd_fpending[gd] === 0) this.gd_reqflags[gd]! &= ~RQF_INTPEND;
    return OK;
  }

  /** Rest of a `splz` frame: back from sched_ithd, continue the loop. */
  protected splz_resume(): number {
    const td = this.curthread(this.mycpu);
    this.td_pri[td]! += TDPRI_CRIT;
    --this.td_nest_count[td]!;
    return this.splz_loop(td);
  }

  // -------------------------------------------------------------------------
  // Tokens (lwkt_token.c rev 1.13).

  /** _lwkt_gettokref: acquires the token of `ref` for the current thread. */
  protected lwkt_gettokref(ref: number): number {
    const td = this.curthread(this.mycpu);
    const tok = this.tr_tok[ref]!;
    this.toksPush(td, ref);
    if (this.smp && this.t_cpu[tok] !== this.mycpu) {
      this.crit_enter();
      return this.gettoken_test(ref);
    }
    const preempted = this.td_preempted[td]!;
    if (preempted !== NIL && this.chainHoldsToken(preempted, tok)) {
      // A thread this one preempted holds the token: let it run first.
      if (this.lwkt_yield() !== OK) {
        this.pushFrame(FN.lwkt_gettoken, ST.yield, ref);
        return SUSP;
      }
      this.gettoken_check(ref);
    }
    return OK;
  }

  /** Tests the gettoken spin loop; entering or staying in the spin unwinds with a `spin` frame. */
  protected gettoken_test(ref: number): number {
    if (this.lwkt_chktokens(this.curthread(this.mycpu)) === 0) {
      this.pushFrame(FN.lwkt_gettoken, ST.spin, ref);
      return SUSP;
    }
    if (this.crit_exit() !== OK) {
      this.pushFrame(FN.lwkt_gettoken, ST.critExit, ref);
      return SUSP;
    }
    this.gettoken_check(ref);
    return OK;
  }

  /** Runs one iteration of the gettoken spin: the body, then the test. */
  protected gettoken_spin(ref: number): number {
    this.lwkt_process_ipiq();
    this.lwkt_drain_token_requests();
    if (this.splz() !== OK) {
      this.pushFrame(FN.lwkt_gettoken, ST.spinBody, ref);
      return SUSP;
    }
    return this.gettoken_test(ref);
  }

  protected gettoken_check(ref: number): void {
    if (this.invariants && this.t_cpu[this.tr_tok[ref]!] !== this.mycpu) this.panic('gettoken.not-owned');
  }

  /** lwkt_trytokref: 1 when the current thread now holds the token, else 0 (and `ref` is dropped). */
  protected lwkt_trytokref(ref: number): number {
    const td = this.curthread(this.mycpu);
    const tok = this.tr_tok[ref]!;
    this.toksPush(td, ref);
    const preempted = this.td_preempted[td]!;
    if ((this.smp && this.t_cpu[tok] !== this.mycpu) || (preempted !== NIL && this.chainHoldsToken(preempted, tok))) {
      this.toksUnlink(td, ref);
      return 0;
    }
    return 1;
  }

  protected lwkt_reltoken(ref: number): number {
    const td = this.curthread(this.mycpu);
    const tok = this.tr_tok[ref]!;
    if (this.invariants && this.t_cpu[tok] !== this.mycpu) this.panic('reltoken.not-owned');
    this.t_cpu[tok] = this.t_reqcpu[tok]!;
    this.toksUnlink(td, ref);
    return this.reltoken_test(ref);
  }

  /** Waits while a remote request for `ref` is still in flight (MAGIC2). */
  protected reltoken_test(ref: number): number {
    if (this.tr_magic[ref] === 2) {
      this.pushFrame(FN.lwkt_reltoken, ST.spin, ref);
      return SUSP;
    }
    return OK;
  }

  /** Runs one iteration of the reltoken spin. */
  protected reltoken_spin(ref: number): number {
    this.crit_enter();
    if (this.smp) this.lwkt_process_ipiq();
    if (this.splz() !== OK) this.unmodelledSwitch();
    if (this.crit_exit() !== OK) {
      this.pushFrame(FN.lwkt_reltoken, ST.spinBody, ref);
      return SUSP;
    }
    return this.reltoken_test(ref);
  }

  /** Returns 1 when the CPU of `td` owns every token `td` holds; requests the others from their owners. */
  protected lwkt_chktokens(td: number): number {
    const tdgd = this.td_gd[td]!;
    let r = 1;
    for (let ref = this.td_toks[td]!; ref !== NIL; ref = this.tr_next[ref]!) {
      const tok = this.tr_tok[ref]!;
      if (this.t_cpu[tok] === tdgd) continue;
      r = 0;
      if (this.tr_magic[ref] !== 1) continue;
      this.tr_magic[ref] = 2;
      this.tr_reqgd[ref] = tdgd;
      this.t_reqcpu[tok] = tdgd;
      if (this.lwkt_send_ipiq_nowait(this.t_cpu[tok]!, IPI.lwkt_reqtoken_remote, ref) !== 0) {
        // The FIFO is too full; retry on a later call.
        this.tr_magic[ref] = 1;
        break;
      }
    }
    return r;
  }

  /** IPI callback on the owning CPU: hand the token over unless a thread here still holds it. */
  protected lwkt_reqtoken_remote(ref: number): void {
    const gd = this.mycpu;
    const tok = this.tr_tok[ref]!;
    if (this.invariants && this.smp && this.tr_magic[ref] !== 2) this.panic('reqtoken.bad-magic');
    if (!this.chainHoldsToken(this.curthread(gd), tok)) {
      if (this.t_cpu[tok] === gd) this.t_cpu[tok] = this.tr_reqgd[ref]!;
      this.tr_magic[ref] = 1;
      return;
    }
    this.tr_gdreqnext[ref] = this.gd_tokreqbase[gd]!;
    this.gd_tokreqbase[gd] = ref;
  }

  /** Grants every deferred request of mycpu, without asking whether a thread still holds the token. */
  protected lwkt_drain_token_requests(): void {
    const gd = this.mycpu;
    for (let ref = this.gd_tokreqbase[gd]!; ref !== NIL; ref = this.gd_tokreqbase[gd]!) {
      this.gd_tokreqbase[gd] = this.tr_gdreqnext[ref]!;
      this.tr_gdreqnext[ref] = NIL;
      if (this.invariants && this.tr_magic[ref] !== 2) this.panic('reqtoken.bad-magic');
      const tok = this.tr_tok[ref]!;
      if (this.t_cpu[tok] === gd) this.t_cpu[tok] = this.tr_reqgd[ref]!;
      this.tr_magic[ref] = 1;
    }
  }
}
