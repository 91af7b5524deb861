// Tokens (sys/kern/lwkt_token.c rev 1.13). A token belongs to a CPU (t_cpu);
// a thread holds it while a tokref for it is on td_toks and the thread runs on
// the owning CPU. Requests for a token owned elsewhere travel by IPI.
// Seed lines cite DragonFly BSD sys/kern/lwkt_thread.c rev 1.71.
import { check, unmodelledSwitch } from './checks.js';
import { crit_enter, crit_exit } from './crit.js';
import type { FrameOf } from './frames.js';
import { splz } from './intr.js';
import { lwkt_process_ipiq, lwkt_send_ipiq_nowait } from './ipiq.js';
import { pushFrame, SUSPEND, type CpuId, type Flow, type Machine, type Thread, type Tokref } from './machine.js';
import { lwkt_yield } from './yield.js';

/** True when a thread on the td_preempted chain starting at `first` holds a tokref for `tok`. */
function chainHoldsToken(m: Machine, first: number | null, tok: number): boolean {
  for (let id = first; id !== null; id = m.thread(id).td_preempted) {
    const holder = m.thread(id);
    if (holder.td_toks.some((ref) => m.tokref(ref).tr_tok === tok)) return true;
  }
  return false;
}

/** lwkt_token_init(): the token starts out owned by mycpu. */
export function lwkt_token_init(m: Machine, mycpu: CpuId, id: number): void {
  m.enter('lwkt_token_init');
  m.tokens.push({ id, t_cpu: mycpu, t_reqcpu: mycpu });
}

/** lwkt_gettoken() on a new tokref: push it, then make sure this CPU owns the token. */
export function lwkt_gettoken(m: Machine, mycpu: CpuId, ref: Tokref): Flow {
  m.enter('lwkt_gettoken');
  const td = m.curthread(mycpu);
  const tok = m.token(ref.tr_tok);

  td.td_toks.unshift(ref.id);

  // Owned by another CPU: request it and spin until lwkt_chktokens finds it owned here.
  if (m.config.smp && tok.t_cpu !== mycpu) {
    crit_enter(m, mycpu);
    return gettoken_spin_test(m, mycpu, td, ref);
  }

  // A preempted thread holds it: yield so that thread runs first. The
  // preempted-chain test is skipped on the path above (lwkt_token.c rev 1.13).
  if (chainHoldsToken(m, td.td_preempted, ref.tr_tok)) {
    if (lwkt_yield(m, mycpu) === SUSPEND) return pushFrame(m, { fn: 'lwkt_gettoken', stage: 'yield', ref: ref.id });
    gettoken_assert_owned(m, mycpu, ref);
  }
}

function gettoken_assert_owned(m: Machine, mycpu: CpuId, ref: Tokref): void {
  check(m, 'gettoken.not-owned', m.token(ref.tr_tok).t_cpu === mycpu);
}

/** Tests the gettoken spin loop, and enters the spin stage while the test fails. */
function gettoken_spin_test(m: Machine, mycpu: CpuId, td: Thread, ref: Tokref): Flow {
  if (lwkt_chktokens(m, mycpu, td) === 0) return pushFrame(m, { fn: 'lwkt_gettoken', stage: 'spin', ref: ref.id });
  return gettoken_after_spin(m, mycpu, ref);
}

function gettoken_after_spin(m: Machine, mycpu: CpuId, ref: Tokref): Flow {
  if (crit_exit(m, mycpu) === SUSPEND) return pushFrame(m, { fn: 'lwkt_gettoken', stage: 'crit-exit', ref: ref.id });
  gettoken_assert_owned(m, mycpu, ref);
}

export function lwkt_gettoken_resume(m: Machine, mycpu: CpuId, td: Thread, frame: FrameOf<'lwkt_gettoken'>): Flow {
  const ref = m.tokref(frame.ref);
  switch (frame.stage) {
    case 'spin':
      // One iteration of the loop body, then the loop test.
      lwkt_process_ipiq(m, mycpu);
      lwkt_drain_token_requests(m, mycpu);
      if (splz(m, mycpu) === SUSPEND) return pushFrame(m, { fn: 'lwkt_gettoken', stage: 'spin-body', ref: ref.id });
      return gettoken_spin_test(m, mycpu, td, ref);
    case 'spin-body':
      return gettoken_spin_test(m, mycpu, td, ref);
    case 'crit-exit':
    case 'yield':
      gettoken_assert_owned(m, mycpu, ref);
      return;
  }
}

/** lwkt_trytoken() on a new tokref: 1 when the token is usable right now, else 0 and no request. */
export function lwkt_trytoken(m: Machine, mycpu: CpuId, ref: Tokref): number {
  m.enter('lwkt_trytoken');
  const td = m.curthread(mycpu);
  const tok = m.token(ref.tr_tok);

  td.td_toks.unshift(ref.id);
  if ((m.config.smp && tok.t_cpu !== mycpu) || chainHoldsToken(m, td.td_preempted, ref.tr_tok)) {
    td.td_toks.shift();
    return 0;
  }
  return 1;
}

/** lwkt_reltoken(): hand the token to the last requester, unlink ref, wait for its request to finish. */
export function lwkt_reltoken(m: Machine, mycpu: CpuId, ref: Tokref): Flow {
  m.enter('lwkt_reltoken');
  const td = m.curthread(mycpu);
  const tok = m.token(ref.tr_tok);

  check(m, 'reltoken.not-held', td.td_toks.includes(ref.id));
  check(m, 'reltoken.not-owned', tok.t_cpu === mycpu);

  // Hands the token away even when td holds it through another tokref.
  tok.t_cpu = tok.t_reqcpu;
  const at = td.td_toks.indexOf(ref.id);
  if (at >= 0) td.td_toks.splice(at, 1);

  return reltoken_spin_test(m, ref);
}

function reltoken_spin_test(m: Machine, ref: Tokref): Flow {
  if (ref.tr_magic === 2) return pushFrame(m, { fn: 'lwkt_reltoken', stage: 'spin', ref: ref.id });
}

export function lwkt_reltoken_resume(m: Machine, mycpu: CpuId, frame: FrameOf<'lwkt_reltoken'>): Flow {
  const ref = m.tokref(frame.ref);
  if (frame.stage === 'spin') {
    // The loop body, up to its crit_exit.
    crit_enter(m, mycpu);
    if (m.config.smp) lwkt_process_ipiq(m, mycpu);
    if (splz(m, mycpu) === SUSPEND) unmodelledSwitch();
    if (crit_exit(m, mycpu) === SUSPEND) return pushFrame(m, { fn: 'lwkt_reltoken', stage: 'spin-body', ref: ref.id });
  }
  return reltoken_spin_test(m, ref);
}

/**
 * lwkt_chktokens(): 1 when td_gd owns every token td holds. For each token
 * owned elsewhere without a request in flight, send one (MAGIC2).
 */
export function lwkt_chktokens(m: Machine, mycpu: CpuId, td: Thread): number {
  m.enter('lwkt_chktokens');
  let r = 1;

  for (const refId of [...td.td_toks]) {
    const ref = m.tokref(refId);
    const tok = m.token(ref.tr_tok);
    if (tok.t_cpu === td.td_gd) continue;

    r = 0;
    if (ref.tr_magic === 1) {
      ref.tr_magic = 2;
      ref.tr_reqgd = td.td_gd;
      tok.t_reqcpu = td.td_gd;
      if (lwkt_send_ipiq_nowait(m, mycpu, tok.t_cpu, 'lwkt_reqtoken_remote', ref.id) !== 0) {
        // The FIFO is too full: retry at the next test.
        ref.tr_magic = 1;
        break;
      }
    }
  }
  return r;
}

/** IPI callback on the owning CPU: give the token away unless a thread here holds it. */
export function lwkt_reqtoken_remote(m: Machine, mycpu: CpuId, ref: Tokref): void {
  m.enter('lwkt_reqtoken_remote');
  check(m, 'reqtoken.bad-magic', ref.tr_magic === 2);

  const tok = m.token(ref.tr_tok);
  const cur = m.gd(mycpu).gd_curthread;
  if (chainHoldsToken(m, cur, ref.tr_tok)) {
    m.gd(mycpu).gd_tokreqbase.unshift(ref.id);
    return;
  }

  if (tok.t_cpu === mycpu && ref.tr_reqgd !== null) tok.t_cpu = ref.tr_reqgd;
  ref.tr_magic = 1;
}

/** Grants every deferred request, without asking whether a thread here still holds the token. */
export function lwkt_drain_token_requests(m: Machine, mycpu: CpuId): void {
  m.enter('lwkt_drain_token_requests');
  const gd = m.gd(mycpu);

  for (let refId = gd.gd_tokreqbase.shift(); refId !== undefined; refId = gd.gd_tokreqbase.shift()) {
    const ref = m.tokref(refId);
    // NOTE: lwkt_token.c also KKASSERTs MAGIC2 here. The catalogue has no id
    // for it, and only lwkt_reqtoken_remote queues refs, always with MAGIC2.
    const tok = m.token(ref.tr_tok);
    if (tok.t_cpu === mycpu && ref.tr_reqgd !== null) tok.t_cpu = ref.tr_reqgd;
    ref.tr_magic = 1;
  }
}
