// Catalogue of every check the model makes, under stable ids.
//
// Seed sites cite DragonFly BSD sys/kern/lwkt_thread.c rev 1.71 by line
// (`lwkt_thread.c:NNN`). Environment checks come from the headers and companion
// files of the same tree (sys/sys/systm.h, sys/i386/i386/mplock.s,
// sys/kern/lwkt_token.c rev 1.13, sys/kern/lwkt_ipiq.c rev 1.10,
// sys/i386/i386/vm_machdep.c rev 1.34). In that tree both KASSERT and KKASSERT
// compile to nothing unless the kernel is built with INVARIANTS.

export type AssertionKind = 'KASSERT' | 'KKASSERT' | 'panic' | 'ASSERT_MP_LOCK_HELD' | 'crit_panic';

/** Build options under which a check is compiled in. */
export interface ActiveWhen {
  readonly invariants: boolean;
  readonly smp: boolean;
  /** Also requires sysctl lwkt.panic_on_cscount. */
  readonly panicOnCscount?: boolean;
}

export interface AssertionSite {
  readonly id: string;
  readonly site: string;
  readonly fn: string;
  readonly kind: AssertionKind;
  readonly activeWhen: ActiveWhen;
  /** The condition that must hold; the check panics when it is false. */
  readonly condition: string;
  /** How a run reaches the failing case, or why no step sequence can. */
  readonly reach: string;
}

const INV = { invariants: true, smp: false } as const;
const INV_SMP = { invariants: true, smp: true } as const;
const ALWAYS = { invariants: false, smp: false } as const;
const ALWAYS_SMP = { invariants: false, smp: true } as const;

export const SEED_ASSERTIONS: readonly AssertionSite[] = [
  {
    id: 'schedule_self.td-wait-set', site: 'lwkt_thread.c:163', fn: 'lwkt_schedule_self', kind: 'KASSERT', activeWhen: INV,
    condition: 'td_wait == NULL',
    reach: 'A thread that returned from lwkt_block with a NULL wmesg while still on the wait queue (the idle thread, when nothing else is runnable) calls lwkt_schedule_self or lwkt_yield.',
  },
  {
    id: 'schedule_self.idle-thread', site: 'lwkt_thread.c:164', fn: 'lwkt_schedule_self', kind: 'KASSERT', activeWhen: INV,
    condition: "td is not its CPU's idle thread",
    reach: 'The idle thread calls lwkt_schedule_self or lwkt_yield.',
  },
  {
    id: 'schedule_self.proc-sleeping', site: 'lwkt_thread.c:168', fn: 'lwkt_schedule_self', kind: 'panic', activeWhen: ALWAYS,
    condition: 'td_proc == NULL or td_proc->p_stat != SSLEEP',
    reach: 'set_proc gives the running thread a process in SSLEEP, then it calls lwkt_schedule_self.',
  },
  {
    id: 'deschedule_self.td-wait-set', site: 'lwkt_thread.c:182', fn: 'lwkt_deschedule_self', kind: 'KASSERT', activeWhen: INV,
    condition: 'td_wait == NULL',
    reach: 'As for lwkt_thread.c:163, with lwkt_deschedule_self or lwkt_exit instead.',
  },
  {
    id: 'alloc_thread.cached-td-corrupt', site: 'lwkt_thread.c:241', fn: 'lwkt_alloc_thread', kind: 'KASSERT', activeWhen: INV,
    condition: 'the first cached thread exists and is not TDF_RUNNING',
    reach: 'A suspended thread is freed into the cache, scheduled again by mistake and run; the next allocation on that CPU takes it from the cache while it runs.',
  },
  {
    id: 'rele.refs-zero', site: 'lwkt_thread.c:367', fn: 'lwkt_rele', kind: 'KKASSERT', activeWhen: INV,
    condition: 'td_refs > 0',
    reach: 'lwkt_rele on a thread without a matching lwkt_hold.',
  },
  {
    id: 'free_thread.running', site: 'lwkt_thread.c:387', fn: 'lwkt_free_thread', kind: 'KASSERT', activeWhen: INV,
    condition: 'td is not TDF_RUNNING',
    reach: 'lwkt_free_thread on a thread that runs on some CPU, the caller included.',
  },
  {
    id: 'switch.in-fast-interrupt', site: 'lwkt_thread.c:459', fn: 'lwkt_switch', kind: 'panic', activeWhen: ALWAYS,
    condition: 'gd_intr_nesting_level == 0 (or a panic is already in progress)',
    reach: 'The fastintr_switch step: a fast interrupt handler that calls lwkt_switch.',
  },
  {
    id: 'switch.mastering-cpusync', site: 'lwkt_thread.c:491', fn: 'lwkt_switch', kind: 'panic',
    activeWhen: { invariants: true, smp: true, panicOnCscount: true },
    condition: 'td_cscount == 0',
    reach: 'With lwkt.panic_on_cscount set, a thread calls lwkt_switch after cpusync_enter.',
  },
  {
    id: 'switch.preempted-not-locked', site: 'lwkt_thread.c:506', fn: 'lwkt_switch', kind: 'KKASSERT', activeWhen: INV,
    condition: 'td_preempted has TDF_PREEMPT_LOCK',
    reach: 'A preempting thread frees the thread it preempted, reallocates the structure (clearing its flags) and switches.',
  },
  {
    id: 'switch.mplock-not-held-on-return', site: 'lwkt_thread.c:509', fn: 'lwkt_switch', kind: 'panic', activeWhen: ALWAYS_SMP,
    condition: 'the preempted thread needs no MP lock, or this CPU held it when lwkt_switch began',
    reach: 'A preempting thread drops the MP lock it inherited with more rel_mplock calls than it made get_mplock calls, then switches back.',
  },
  {
    id: 'switch.mpcount-negative', site: 'lwkt_thread.c:514', fn: 'lwkt_switch', kind: 'KKASSERT', activeWhen: INV_SMP,
    condition: "td_mpcount >= 0 after the preempted thread's count is taken back",
    reach: 'A preempting thread calls rel_mplock more often than get_mplock while keeping the lock, then switches back.',
  },
  {
    id: 'switch.target-pri-below-crit', site: 'lwkt_thread.c:616', fn: 'lwkt_switch', kind: 'KASSERT', activeWhen: INV,
    condition: 'ntd->td_pri >= TDPRI_CRIT',
    reach: 'A thread leaves a critical section it never entered with crit_exit_quick (which has no negative check) and then switches to itself.',
  },
  {
    id: 'switch.mplock-not-held', site: 'lwkt_thread.c:629', fn: 'lwkt_switch', kind: 'ASSERT_MP_LOCK_HELD', activeWhen: INV_SMP,
    condition: 'the MP lock is held when the chosen thread has td_mpcount > 0',
    reach: 'The idle thread of one CPU calls get_mplock while another CPU holds the lock, so the switcher falls back to it without the lock.',
  },
  {
    id: 'preempt.target-not-in-crit', site: 'lwkt_thread.c:696', fn: 'lwkt_preempt', kind: 'KASSERT', activeWhen: INV,
    condition: 'ntd->td_pri >= TDPRI_CRIT',
    reach: 'A preemptable thread leaves a critical section it never entered, switches away, and is scheduled again.',
  },
  {
    id: 'preempt.not-done-on-return', site: 'lwkt_thread.c:765', fn: 'lwkt_preempt', kind: 'KKASSERT', activeWhen: INV,
    condition: 'ntd->td_preempted != NULL and td has TDF_PREEMPT_DONE',
    reach: 'Another CPU takes a preempted, descheduled thread with lwkt_acquire and schedules it, so it resumes without being switched back by its preemptor.',
  },
  {
    id: 'preempt.mpcount-changed', site: 'lwkt_thread.c:767', fn: 'lwkt_preempt', kind: 'KKASSERT', activeWhen: INV_SMP,
    condition: 'td_mpcount equals its value when the preemption began',
    reach: "No step sequence reaches it. Only the running thread changes its own td_mpcount, and a preempted thread runs again either through its preemptor's lwkt_switch, which leaves the count alone, or from another CPU's run queue, where lwkt_thread.c:765 fails first. Reallocating the structure discards the lwkt_preempt continuation. The witness test corrupts td_mpcount of a preempted thread directly.",
  },
  {
    id: 'preempt.mplock-not-held-through', site: 'lwkt_thread.c:772', fn: 'lwkt_preempt', kind: 'panic', activeWhen: ALWAYS_SMP,
    condition: 'the MP lock is held when the resumed thread has td_mpcount > 0',
    reach: 'Without INVARIANTS: an idle thread that called get_mplock without the lock is preempted and later resumed as the fallback idle thread without the lock.',
  },
  {
    id: 'schedule.idle-thread', site: 'lwkt_thread.c:883', fn: 'lwkt_schedule', kind: 'KASSERT', activeWhen: INV,
    condition: "td is not its CPU's idle thread",
    reach: 'lwkt_schedule of an idle thread.',
  },
  {
    id: 'schedule.proc-sleeping', site: 'lwkt_thread.c:895', fn: 'lwkt_schedule', kind: 'panic', activeWhen: INV,
    condition: 'td has TDF_PREEMPT_LOCK, or td_proc == NULL, or td_proc->p_stat != SSLEEP',
    reach: 'set_proc gives a thread a process in SSLEEP, then some thread calls lwkt_schedule on it. The printf before the panic prints the caller\'s pid and p_stat in the target\'s columns.',
  },
  {
    id: 'acquire.on-runq', site: 'lwkt_thread.c:979', fn: 'lwkt_acquire', kind: 'KKASSERT', activeWhen: INV,
    condition: 'td is not TDF_RUNQ',
    reach: 'lwkt_acquire of a thread that is on a run queue.',
  },
  {
    id: 'setpri.negative', site: 'lwkt_thread.c:1030', fn: 'lwkt_setpri', kind: 'KKASSERT', activeWhen: INV,
    condition: 'pri >= 0 (there is no upper bound check)',
    reach: 'lwkt_setpri with a negative priority.',
  },
  {
    id: 'setpri.remote-thread', site: 'lwkt_thread.c:1031', fn: 'lwkt_setpri', kind: 'KKASSERT', activeWhen: INV,
    condition: 'td->td_gd == mycpu',
    reach: 'lwkt_setpri of a thread owned by another CPU.',
  },
  {
    id: 'setpri_self.out-of-range', site: 'lwkt_thread.c:1048', fn: 'lwkt_setpri_self', kind: 'KKASSERT', activeWhen: INV,
    condition: '0 <= pri <= TDPRI_MAX',
    reach: 'lwkt_setpri_self with a priority below 0 or above 31.',
  },
  {
    id: 'exit.wrong-cpu', site: 'lwkt_thread.c:1285', fn: 'lwkt_exit', kind: 'KKASSERT', activeWhen: INV,
    condition: 'mycpu == td->td_gd',
    reach: 'A preempted, descheduled thread is moved to another CPU by lwkt_acquire, is switched back on its old CPU by its preemptor, and exits there.',
  },
  {
    id: 'crit_panic.negative', site: 'lwkt_thread.c:1303', fn: 'crit_panic', kind: 'crit_panic', activeWhen: INV,
    condition: 'td_pri stays >= 0 after crit_enter, crit_exit or crit_exit_noyield',
    reach: 'crit_exit without a matching crit_enter.',
  },
];

/** Checks made by the code the seed calls (headers and companion files). */
export const ENVIRONMENT_ASSERTIONS: readonly AssertionSite[] = [
  {
    id: 'get_mplock.not-held-after-switch', site: 'mplock.s:get_mplock', fn: 'get_mplock', kind: 'panic', activeWhen: INV_SMP,
    condition: 'mp_lock == mycpu when lwkt_switch returns into get_mplock',
    reach: 'No step sequence reaches it. Every switch to a thread waiting in get_mplock takes the lock for it first (lwkt_thread.c:573, lwkt_thread.c:749) or fails lwkt_thread.c:629, which is compiled in under the same options. The witness test clears td_mpcount of the waiting thread before the switch.',
  },
  {
    id: 'rel_mplock.count-zero', site: 'mplock.s:rel_mplock', fn: 'rel_mplock', kind: 'panic', activeWhen: INV_SMP,
    condition: 'td_mpcount != 0 (a negative count passes)',
    reach: 'rel_mplock by a thread with td_mpcount == 0.',
  },
  {
    id: 'gettoken.not-owned', site: 'lwkt_token.c:_lwkt_gettokref', fn: 'lwkt_gettoken', kind: 'KKASSERT', activeWhen: INV,
    condition: 'tok->t_cpu == mycpu once the token is acquired',
    reach: 'A thread whose td_gd differs from the CPU it runs on acquires a token.',
  },
  {
    id: 'reltoken.not-held', site: 'lwkt_token.c:lwkt_reltoken', fn: 'lwkt_reltoken', kind: 'KKASSERT', activeWhen: INV,
    condition: "the reference is on the current thread's td_toks",
    reach: 'lwkt_reltoken of a token the running thread does not hold.',
  },
  {
    id: 'reltoken.not-owned', site: 'lwkt_token.c:lwkt_reltoken', fn: 'lwkt_reltoken', kind: 'KKASSERT', activeWhen: INV,
    condition: 'tok->t_cpu == mycpu',
    reach: 'A token held by a thread is handed to another CPU by lwkt_drain_token_requests, then the holder releases it.',
  },
  {
    id: 'reqtoken.bad-magic', site: 'lwkt_token.c:lwkt_reqtoken_remote', fn: 'lwkt_reqtoken_remote', kind: 'KKASSERT', activeWhen: INV_SMP,
    condition: 'the request reference carries LWKT_TOKREF_MAGIC2',
    reach: 'Not reachable through steps: only lwkt_chktokens queues requests and it sets MAGIC2 first.',
  },
  {
    id: 'send_ipiq.up-kernel', site: 'lwkt_ipiq.c:lwkt_send_ipiq', fn: 'lwkt_send_ipiq', kind: 'panic', activeWhen: ALWAYS,
    condition: 'the kernel is built with SMP',
    reach: 'Uniprocessor: lwkt_schedule of a thread on a wait queue whose token a preempted thread holds, so lwkt_trytoken fails and the request goes to lwkt_send_ipiq.',
  },
  {
    id: 'cpu_thread_exit.returned', site: 'vm_machdep.c:cpu_thread_exit', fn: 'cpu_thread_exit', kind: 'panic', activeWhen: ALWAYS,
    condition: 'an exited thread is never switched to again',
    reach: 'A thread that called lwkt_exit is scheduled again and run.',
  },
  {
    id: 'null-dereference', site: 'lwkt_thread.c:892', fn: 'lwkt_schedule', kind: 'panic', activeWhen: INV,
    condition: 'curthread->td_proc != NULL when the target has a process',
    reach: 'A thread without a process schedules a thread whose process is in SSLEEP: the printf reads curthread->td_proc->p_pid and faults.',
  },
];

export const ASSERTIONS: readonly AssertionSite[] = [...SEED_ASSERTIONS, ...ENVIRONMENT_ASSERTIONS];

export function findAssertion(id: string): AssertionSite | undefined {
  return ASSERTIONS.find((a) => a.id === id);
}

// ---------------------------------------------------------------------------
// Model limits: bounds the model puts where the kernel has none, or where the
// kernel would wait for another CPU inside a call. Exceeding one ends the step
// with status `limit`.

export interface ModelLimit {
  readonly id: string;
  readonly description: string;
}

export const LIMITS: readonly ModelLimit[] = [
  { id: 'ipiq-full', description: 'lwkt_send_ipiq found more than MAXCPUFIFO/2 messages queued; the kernel would wait for the target to drain them inside the call.' },
  { id: 'step-switch-budget', description: 'more than STEP_SWITCH_BUDGET calls of lwkt_switch or lwkt_preempt in one step, which means the threads on this CPU livelock.' },
  { id: 'unmodelled-switch', description: 'a thread switched at a point where spec/semantics.md defines no frame; this only happens after a critical-section count went negative.' },
  { id: 'ipi-spin', description: 'lwkt_setcpu_remote found the thread still TDF_RUNNING and would spin inside an IPI handler forever.' },
  { id: 'ipi-self-recursion', description: 'lwkt_send_ipiq to the current CPU called itself more than 16 times in a row.' },
  { id: 'threads-max', description: 'more thread structures than THREADS_MAX were allocated.' },
  { id: 'waits-max', description: 'more wait queues than WAITS_MAX were created.' },
];

// ---------------------------------------------------------------------------
// Structural invariants, checked after every step by model/invariants.ts.
//
// A `structure` invariant states that the C data structures are consistent. Once
// one fails, the C code would be working on corrupted lists, so the model no
// longer describes the source and a conformance run stops comparing.
// An `intent` invariant says what the source plainly means to keep true. The
// data structures are still consistent when one fails, so a run records a
// finding and goes on.

export type InvariantClass = 'structure' | 'intent';

export interface Invariant {
  readonly id: string;
  readonly class: InvariantClass;
  readonly description: string;
}

export const INVARIANTS: readonly Invariant[] = [
  { id: 'runq.flag-matches-membership', class: 'structure', description: 'TDF_RUNQ is set exactly when the thread is on the run queue of its own CPU (td_gd) at index td_pri & TDPRI_MASK.' },
  { id: 'runq.no-duplicates', class: 'structure', description: 'No thread appears twice on the run queues.' },
  { id: 'threadq.single-link', class: 'structure', description: 'A thread is on at most one of the lists linked through td_threadq: run queues, wait queues and free-thread caches.' },
  { id: 'runqmask.covers-nonempty', class: 'structure', description: 'Every non-empty run queue has its bit set in gd_runqmask; stale bits of empty queues are allowed.' },
  { id: 'allq.single', class: 'structure', description: 'A thread is on at most one gd_tdallq, at most once.' },
  { id: 'waitq.count-matches', class: 'structure', description: 'wa_count equals the length of wa_waitq.' },
  { id: 'waitq.td-wait-matches', class: 'structure', description: 'A thread on a wait queue has td_wait set to that queue, and a thread with td_wait set is on that queue.' },
  { id: 'freeq.count-matches', class: 'structure', description: 'gd_tdfreecount equals the length of gd_tdfreeq.' },
  { id: 'curthread.running', class: 'structure', description: 'Each CPU\'s gd_curthread is TDF_RUNNING, and every TDF_RUNNING thread is the gd_curthread of exactly one CPU.' },
  { id: 'preempt.chain-acyclic', class: 'structure', description: 'Following td_preempted from any thread never returns to it.' },
  { id: 'preempt.chain-locked', class: 'structure', description: 'Every thread on a td_preempted chain has TDF_PREEMPT_LOCK and is not TDF_RUNNING.' },
  { id: 'tokref.single-holder', class: 'structure', description: 'A token reference is on at most one thread\'s td_toks, at most once.' },
  { id: 'idle.never-on-runq', class: 'intent', description: 'An idle thread is never on a run queue.' },
  { id: 'crit.count-nonnegative', class: 'intent', description: 'The critical-section count in td_pri (td_pri >> 5) is never negative.' },
  { id: 'waitq.not-runnable', class: 'intent', description: 'A thread on a wait queue is on no run queue and is not running.' },
  { id: 'block.waiting-thread-reachable', class: 'intent', description: 'A thread suspended in the retry loop of lwkt_block with td_wmesg set is on its wait queue, so that lwkt_signal can still wake it.' },
  { id: 'mplock.owner-valid', class: 'intent', description: 'mp_lock is -1 or the id of a CPU.' },
  { id: 'mplock.held-by-runner', class: 'intent', description: 'A CPU whose current thread has td_mpcount > 0 owns the MP lock.' },
  { id: 'mpcount.conservation', class: 'intent', description: 'While A is preempted by B, B\'s td_mpcount includes A\'s, and A\'s td_mpcount equals the value saved when the preemption began.' },
  { id: 'mpcount.nonnegative', class: 'intent', description: 'td_mpcount is never negative.' },
  { id: 'freeq.bounded', class: 'intent', description: 'gd_tdfreecount never exceeds CACHE_NTHREADS.' },
  { id: 'refs.nonnegative', class: 'intent', description: 'td_refs is never negative.' },
  { id: 'running.matches-td-gd', class: 'intent', description: 'A thread running on a CPU has that CPU as td_gd.' },
  { id: 'allq.matches-td-gd', class: 'intent', description: 'A thread on a CPU\'s gd_tdallq has that CPU as td_gd, unless it is TDF_MIGRATING.' },
  { id: 'nesting.zero-between-steps', class: 'intent', description: 'gd_intr_nesting_level is 0 between steps.' },
];

export function findInvariant(id: string): Invariant | undefined {
  return INVARIANTS.find((i) => i.id === id);
}

// ---------------------------------------------------------------------------
// The 33 functions defined in lwkt_thread.c rev 1.71, with the line of each
// definition's name. Coverage reports count calls of each.

export const SEED_FUNCTIONS: readonly { readonly name: string; readonly line: number }[] = [
  { name: '_lwkt_dequeue', line: 126 },
  { name: '_lwkt_enqueue', line: 140 },
  { name: 'lwkt_schedule_self', line: 160 },
  { name: 'lwkt_deschedule_self', line: 179 },
  { name: 'lwkt_gdinit', line: 195 },
  { name: 'lwkt_wait_init', line: 213 },
  { name: 'lwkt_alloc_thread', line: 230 },
  { name: 'lwkt_init_thread_remote', line: 302 },
  { name: 'lwkt_init_thread', line: 312 },
  { name: 'lwkt_set_comm', line: 349 },
  { name: 'lwkt_hold', line: 359 },
  { name: 'lwkt_rele', line: 365 },
  { name: 'lwkt_wait_free', line: 374 },
  { name: 'lwkt_free_thread', line: 383 },
  { name: 'lwkt_switch', line: 445 },
  { name: 'lwkt_preempt', line: 673 },
  { name: 'lwkt_yield_quick', line: 794 },
  { name: 'lwkt_yield', line: 849 },
  { name: '_lwkt_schedule_post', line: 866 },
  { name: 'lwkt_schedule', line: 878 },
  { name: 'lwkt_acquire', line: 972 },
  { name: 'lwkt_deschedule', line: 999 },
  { name: 'lwkt_setpri', line: 1028 },
  { name: 'lwkt_setpri_self', line: 1044 },
  { name: 'lwkt_checkpri_self', line: 1072 },
  { name: 'lwkt_setcpu_self', line: 1098 },
  { name: 'lwkt_setcpu_remote', line: 1131 },
  { name: 'lwkt_preempted_proc', line: 1146 },
  { name: 'lwkt_block', line: 1161 },
  { name: 'lwkt_signal', line: 1195 },
  { name: 'lwkt_create', line: 1230 },
  { name: 'lwkt_exit', line: 1274 },
  { name: 'crit_panic', line: 1297 },
];
