// State-relative step resolution. A generated command carries only small
// integers, a call kind and selectors, which are turned into a concrete step
// against the model's current abstract state when the command runs. Because
// resolution happens at run time, a shrunk command list still yields valid
// steps, and the same integers and state always give the same step.
import {
  IPIQ_SEND_WAIT_FILL, LWKT_THREAD_STACK, TDF_INTTHREAD, TDF_NORESCHED, TDF_STOPREQ, TDF_SYSTHREAD, TDPRI_CRIT, TDPRI_INT_LOW,
  TDPRI_MASK, WAITS_MAX,
} from '../../spec/constants.js';
import type { AbstractState, Step, StepCall } from '../../spec/schema.js';
import { ENVIRONMENT_CALLS } from '../../spec/schema.js';
import { validateStep } from '../../model/index.js';
import { judgeStep } from './legality.js';
import { FULL_SCOPE, type GeneratorScope } from './scope.js';
import { critCount, curthread, isInterruptThread, isOnRunq, isRunning, isSpinning, ownMpcount } from './state.js';

export type StepMode = 'legal' | 'misuse';

/**
 * A step call, or `ithread_loop`: the next step of an interrupt thread's main
 * loop (drop the MP lock, raise the priority to interrupt level, block) for a
 * cpu whose current thread has TDF_INTTHREAD. Blocked interrupt threads at
 * high priority are what later interrupts preempt into.
 */
export type GeneratedCall = StepCall | 'ithread_loop';

export interface WeightedCall {
  readonly call: GeneratedCall;
  readonly weight: number;
}

/**
 * Weights of legal calls. Interrupts, IPIs, spins, creation of interrupt
 * threads and priority changes are heavy so that runs reach preemption chains,
 * remote scheduling, MP lock hand-over and cross-cpu token requests.
 */
export const LEGAL_CALLS: readonly WeightedCall[] = [
  { call: 'lwkt_switch', weight: 8 },
  { call: 'spin', weight: 10 },
  { call: 'ipi', weight: 10 },
  { call: 'intr', weight: 9 },
  { call: 'ithread_loop', weight: 10 },
  { call: 'lwkt_create', weight: 8 },
  { call: 'cpu_idle', weight: 6 },
  { call: 'lwkt_setpri_self', weight: 5 },
  { call: 'lwkt_deschedule_self', weight: 5 },
  { call: 'lwkt_block', weight: 5 },
  { call: 'lwkt_schedule', weight: 5 },
  { call: 'lwkt_signal', weight: 4 },
  { call: 'get_mplock', weight: 4 },
  { call: 'rel_mplock', weight: 4 },
  { call: 'lwkt_gettoken', weight: 4 },
  { call: 'lwkt_reltoken', weight: 4 },
  { call: 'lwkt_setcpu_self', weight: 3 },
  { call: 'lwkt_deschedule', weight: 3 },
  { call: 'lwkt_setpri', weight: 3 },
  { call: 'lwkt_yield', weight: 3 },
  { call: 'crit_enter', weight: 2 },
  { call: 'crit_exit', weight: 2 },
  { call: 'lwkt_wait_init', weight: 2 },
  { call: 'lwkt_acquire', weight: 2 },
  { call: 'lwkt_exit', weight: 2 },
  { call: 'splz', weight: 2 },
  { call: 'lwkt_yield_quick', weight: 2 },
  { call: 'lwkt_schedule_self', weight: 2 },
  { call: 'try_mplock', weight: 2 },
  { call: 'lwkt_trytoken', weight: 2 },
  { call: 'crit_enter_quick', weight: 1 },
  { call: 'crit_enter_gd', weight: 1 },
  { call: 'crit_exit_quick', weight: 1 },
  { call: 'crit_exit_gd', weight: 1 },
  { call: 'crit_exit_noyield', weight: 1 },
  { call: 'lwkt_free_thread', weight: 1 },
  { call: 'lwkt_alloc_thread', weight: 1 },
  { call: 'lwkt_hold', weight: 1 },
  { call: 'lwkt_rele', weight: 1 },
  { call: 'lwkt_wait_free', weight: 1 },
  { call: 'lwkt_set_comm', weight: 1 },
  { call: 'lwkt_checkpri_self', weight: 1 },
  { call: 'lwkt_preempted_proc', weight: 1 },
  { call: 'cpusync_enter', weight: 1 },
  { call: 'cpusync_exit', weight: 1 },
  { call: 'userenter', weight: 1 },
  { call: 'set_proc', weight: 1 },
];

/** Calls whose misuse reaches an assertion or a quirk. The misuse mode draws from this table only. */
export const MISUSE_CALLS: readonly WeightedCall[] = [
  { call: 'crit_exit', weight: 3 },
  { call: 'crit_exit_quick', weight: 2 },
  { call: 'crit_exit_noyield', weight: 1 },
  { call: 'rel_mplock', weight: 3 },
  { call: 'lwkt_schedule', weight: 3 },
  { call: 'intr', weight: 2 },
  { call: 'lwkt_free_thread', weight: 2 },
  { call: 'lwkt_setpri', weight: 2 },
  { call: 'lwkt_setpri_self', weight: 2 },
  { call: 'lwkt_rele', weight: 1 },
  { call: 'lwkt_acquire', weight: 2 },
  { call: 'fastintr_switch', weight: 1 },
  { call: 'cpusync_exit', weight: 1 },
  { call: 'lwkt_reltoken', weight: 1 },
  { call: 'lwkt_block', weight: 2 },
  { call: 'lwkt_yield', weight: 1 },
  { call: 'lwkt_schedule_self', weight: 1 },
  { call: 'get_mplock', weight: 2 },
  { call: 'lwkt_exit', weight: 1 },
  { call: 'set_proc', weight: 2 },
  { call: 'cpu_idle', weight: 1 },
  { call: 'lwkt_deschedule', weight: 1 },
  { call: 'lwkt_wait_free', weight: 1 },
];

const scopedTables = new WeakMap<GeneratorScope, { legal: readonly WeightedCall[]; misuse: readonly WeightedCall[] }>();

/**
 * Returns the weighted call table of `mode` without the calls outside
 * `scope`. `ithread_loop` stays, and its steps are filtered one by one.
 */
export function callTable(mode: StepMode, scope: GeneratorScope = FULL_SCOPE): readonly WeightedCall[] {
  if (scope === FULL_SCOPE) return mode === 'legal' ? LEGAL_CALLS : MISUSE_CALLS;
  let tables = scopedTables.get(scope);
  if (tables === undefined) {
    const inScope = (e: WeightedCall): boolean => e.call === 'ithread_loop' || scope.calls.has(e.call);
    tables = { legal: LEGAL_CALLS.filter(inScope), misuse: MISUSE_CALLS.filter(inScope) };
    scopedTables.set(scope, tables);
  }
  return mode === 'legal' ? tables.legal : tables.misuse;
}

export function totalWeight(table: readonly WeightedCall[]): number {
  return table.reduce((sum, c) => sum + c.weight, 0);
}

function entryIndex(table: readonly WeightedCall[], kind: number): number {
  let rest = kind % totalWeight(table);
  for (let i = 0; i < table.length; i++) {
    rest -= table[i]!.weight;
    if (rest < 0) return i;
  }
  return 0;
}

const pick = <T>(list: readonly T[], sel: number): T => list[sel % list.length]!;

// Argument tables. Misuse draws from the out-of-range values as well.
const PRIS = [12, 10, 20, 28, 14, 16, 4, 31, 0, 29];
const INTERRUPT_PRIS = [28, 29, 28, 27, 28];
const BAD_PRIS = [-1, 32, 45];
const COMMS = ['kthread', 'netisr', 'softclock', 'a-thread-name-longer-than-maxcomlen'];
const SIGNAL_COUNTS = [1, -1, 2, 0];
const STACK_SIZES = [LWKT_THREAD_STACK, 4096, 8192];
const PROC_STATS = ['SRUN', 'SIDL', 'SSTOP', 'SZOMB'] as const;

interface CreateTemplate { tdflags: number; preemptable: boolean; remote: boolean; comm: string }
const CREATE_TEMPLATES: readonly CreateTemplate[] = [
  { tdflags: TDF_INTTHREAD, preemptable: true, remote: false, comm: 'ithread' },
  { tdflags: TDF_INTTHREAD, preemptable: true, remote: true, comm: 'ithread' },
  { tdflags: 0, preemptable: false, remote: false, comm: 'kthread' },
  { tdflags: 0, preemptable: false, remote: true, comm: 'kthread' },
  { tdflags: TDF_INTTHREAD | TDF_STOPREQ, preemptable: true, remote: false, comm: 'swi' },
  { tdflags: TDF_STOPREQ, preemptable: false, remote: false, comm: 'stopped' },
  { tdflags: TDF_NORESCHED | TDF_SYSTHREAD, preemptable: false, remote: false, comm: 'a-thread-name-longer-than-maxcomlen' },
];

/** Templates for profiles without interrupts: the same threads, none of them preemptable. */
const UNPREEMPTABLE_TEMPLATES: readonly CreateTemplate[] = CREATE_TEMPLATES.map((t) => ({ ...t, preemptable: false }));

const threadIds = (s: AbstractState): number[] => s.threads.map((t) => t.id);
const waitIds = (s: AbstractState): number[] => s.waits.map((w) => w.id);

function ipiWouldSpin(s: AbstractState, cpu: number): boolean {
  return s.cpus.some((c) => (c.gd_ipiq[cpu] ?? []).some((m) =>
    m.func === 'lwkt_setcpu_remote' && s.threads[m.arg] !== undefined && isRunning(s.threads[m.arg]!)));
}

/** Returns the next step of the interrupt thread loop on `cpu`, or none when no interrupt thread runs there. */
function ithreadLoopStep(s: AbstractState, cpu: number, a: number): Step[] {
  const td = curthread(s, cpu);
  if (!isInterruptThread(td)) return [];
  if (ownMpcount(s, td) > 0) return [{ cpu, call: 'rel_mplock' }];
  if ((td.td_pri & TDPRI_MASK) < TDPRI_INT_LOW) return [{ cpu, call: 'lwkt_setpri_self', pri: pick(INTERRUPT_PRIS, a) }];
  if (critCount(td) > 0) return [{ cpu, call: 'crit_exit' }];
  if (isOnRunq(td)) return [{ cpu, call: 'lwkt_deschedule_self' }];
  return [{ cpu, call: 'lwkt_switch' }];
}

/** Lists candidate steps of `call` on `cpu`. Scalar arguments come from the selectors, and thread and wait ids are enumerated. */
function shapes(s: AbstractState, call: GeneratedCall, cpu: number, sel: readonly number[], mode: StepMode, scope: GeneratorScope): Step[] {
  const a = sel[1] ?? 0;
  const b = sel[2] ?? 0;
  const ncpus = s.cpus.length;
  switch (call) {
    case 'ithread_loop':
      return ithreadLoopStep(s, cpu, a);
    case 'intr': {
      // An interrupt for a blocked interrupt thread at interrupt priority is the one that can preempt.
      const blocked = s.threads.filter((t) => isInterruptThread(t) && !isOnRunq(t) && !isRunning(t));
      const high = blocked.filter((t) => (t.td_pri & TDPRI_MASK) >= TDPRI_INT_LOW);
      let targets = s.threads;
      if (mode === 'legal' && high.length > 0) targets = high;
      else if (mode === 'legal' && blocked.length > 0) targets = blocked;
      return targets.map((t) => ({ cpu, call, td: t.id }));
    }
    case 'lwkt_schedule': case 'lwkt_deschedule': case 'lwkt_free_thread': case 'lwkt_hold': case 'lwkt_rele':
    case 'lwkt_wait_free': case 'lwkt_acquire':
      return threadIds(s).map((td) => ({ cpu, call, td }));
    case 'lwkt_set_comm':
      return threadIds(s).map((td) => ({ cpu, call, td, comm: pick(COMMS, a) }));
    case 'set_proc': {
      const stat = mode === 'misuse' ? 'SSLEEP' : pick(PROC_STATS, b);
      const pid = a % 5 === 4 ? null : 100 + (a % 7);
      return threadIds(s).map((td) => ({ cpu, call, td, pid, stat }));
    }
    case 'lwkt_setpri':
      return s.threads.map((t) => {
        const legal = isInterruptThread(t) ? INTERRUPT_PRIS : PRIS;
        return { cpu, call, td: t.id, pri: mode === 'misuse' ? pick([...BAD_PRIS, ...legal], a) : pick(legal, a) };
      });
    case 'lwkt_setpri_self': {
      const legal = isInterruptThread(curthread(s, cpu)) ? INTERRUPT_PRIS : PRIS;
      return [{ cpu, call, pri: mode === 'misuse' ? pick(BAD_PRIS, a) : pick(legal, a) }];
    }
    case 'lwkt_create': {
      const t = pick(scope.preemptable ? CREATE_TEMPLATES : UNPREEMPTABLE_TEMPLATES, a);
      const target = t.remote ? (cpu + 1 + (b % Math.max(1, ncpus - 1))) % ncpus : -1;
      return [{ cpu, call, target, tdflags: t.tdflags, preemptable: t.preemptable, comm: t.comm }];
    }
    case 'lwkt_alloc_thread':
      return [{ cpu, call, target: (a % (ncpus + 1)) - 1, stksize: pick(STACK_SIZES, b) }];
    case 'lwkt_block':
      return s.waits.map((w) => ({
        cpu, call, w: w.id,
        wmesg: mode === 'misuse' ? null : 'lwktwait',
        // Mostly the current generation, so the thread blocks, and sometimes a stale one, so it returns at once.
        gen: a % 4 === 3 ? w.wa_gen - 1 - (b % 2) : w.wa_gen,
      }));
    case 'lwkt_signal':
      return waitIds(s).map((w) => ({ cpu, call, w, count: pick(SIGNAL_COUNTS, a) }));
    case 'lwkt_gettoken': case 'lwkt_trytoken': case 'lwkt_reltoken':
      return waitIds(s).map((tok) => ({ cpu, call, tok }));
    case 'lwkt_setcpu_self':
      return s.cpus.map((c) => ({ cpu, call, target: c.cpuid }));
    case 'ipi':
      // lwkt_setcpu_remote of a thread still TDF_RUNNING would spin inside the IPI handler,
      // which the model stops with the ipi-spin limit. Legal runs wait until that thread has switched out.
      return mode === 'legal' && ipiWouldSpin(s, cpu) ? [] : [{ cpu, call }];
    case 'lwkt_wait_init':
      return s.waits.length < Math.min(WAITS_MAX, 4) ? [{ cpu, call }] : [];
    default:
      return [{ cpu, call } as Step];
  }
}

/** CPUs on which `call` can be a valid step. */
function cpusFor(s: AbstractState, call: GeneratedCall): number[] {
  const cpus = s.cpus.map((c) => c.cpuid);
  if (call === 'spin') return cpus.filter((c) => isSpinning(curthread(s, c)));
  if (call !== 'ithread_loop' && ENVIRONMENT_CALLS.includes(call)) return cpus;
  return cpus.filter((c) => !isSpinning(curthread(s, c)));
}

export interface ResolvedStep {
  readonly step: Step;
  /** Reason the step is misuse, or null when it is legal. */
  readonly misuse: string | null;
}

function candidates(s: AbstractState, call: GeneratedCall, sel: readonly number[], mode: StepMode, scope: GeneratorScope): Step[] {
  const out: Step[] = [];
  for (const cpu of cpusFor(s, call)) {
    for (const step of shapes(s, call, cpu, sel, mode, scope)) {
      if (!scope.calls.has(step.call) || validateStep(s, step) !== null) continue;
      if ((judgeStep(s, step) === null) === (mode === 'legal')) out.push(step);
    }
  }
  return out;
}

/**
 * Finds a cpu whose incoming FIFOs are at least half way to the `ipiq-full`
 * limit and whose current thread is outside any critical section. Inside one an
 * `ipi` step only sets RQF_IPIQ, so drain attempts there would repeat forever.
 */
function congestedCpu(s: AbstractState): number | null {
  for (const target of s.cpus) {
    if (curthread(s, target.cpuid).td_pri >= TDPRI_CRIT) continue;
    const queued = s.cpus.reduce((n, c) => n + (c.gd_ipiq[target.cpuid]?.length ?? 0), 0);
    if (queued >= IPIQ_SEND_WAIT_FILL / 2) return target.cpuid;
  }
  return null;
}

/**
 * Resolves a command's integers to a step. The call is drawn from the mode's
 * weighted table by `kind`. When that call has no candidate in this state,
 * `kind` draws again among the calls that have one, with the same weights,
 * and misuse falls back to legal use. Legal mode first drains a congested IPI
 * FIFO, since the model stops a run at `ipiq-full` where the kernel would
 * wait. Only calls inside `scope` are drawn. Returns null only when no step
 * is possible (the machine stopped).
 */
export function resolveStep(
  s: AbstractState, mode: StepMode, kind: number, sel: readonly number[], scope: GeneratorScope = FULL_SCOPE,
): ResolvedStep | null {
  if (s.panicked !== null) return null;
  const chosen = (steps: Step[]): ResolvedStep => {
    const step = pick(steps, sel[0] ?? 0);
    return { step, misuse: judgeStep(s, step) };
  };

  const congested = mode === 'legal' ? congestedCpu(s) : null;
  if (congested !== null) {
    const drain = candidates(s, 'ipi', sel, mode, scope).filter((step) => step.cpu === congested);
    if (drain.length > 0) return chosen(drain);
  }

  const table = callTable(mode, scope);
  if (table.length === 0) return mode === 'misuse' ? resolveStep(s, 'legal', kind, sel, scope) : null;
  const first = candidates(s, table[entryIndex(table, kind)]!.call, sel, mode, scope);
  if (first.length > 0) return chosen(first);

  const available = table
    .map((entry) => ({ entry, steps: candidates(s, entry.call, sel, mode, scope) }))
    .filter((c) => c.steps.length > 0);
  if (available.length > 0) {
    const redraw = entryIndex(available.map((c) => c.entry), kind);
    return chosen(available[redraw]!.steps);
  }
  return mode === 'misuse' ? resolveStep(s, 'legal', kind, sel, scope) : null;
}
