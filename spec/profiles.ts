// Conformance profiles: the levels an implementation can claim. Each level is a
// fixed set of calls, build options and comparisons, and contains the levels
// below it. `lwkt-conformance check --profile NAME` generates only steps inside
// the profile and compares only what the profile lists.
import { RQF_AST_LWKT_RESCHED, TDF_RUNNING, TDF_RUNQ } from './constants.js';
import type { AbstractState, StepCall } from './schema.js';

/** What of the abstract state a profile compares when the implementation offers snapshots. */
export type StateProjection = 'scheduling' | 'full';

export interface Profile {
  readonly name: string;
  readonly level: number;
  readonly title: string;
  readonly description: string;
  /** Step calls the generator may use. */
  readonly calls: readonly StepCall[];
  /** CPU counts, SMP and INVARIANTS settings the profile is checked with. */
  readonly cpus: readonly number[];
  readonly smp: readonly boolean[];
  readonly invariants: readonly boolean[];
  /** Allowed values of the sysctls lwkt.untimely_switch and lwkt.panic_on_cscount. */
  readonly untimelySwitch: readonly boolean[];
  readonly panicOnCscount: readonly boolean[];
  /**
   * Whether lwkt_create steps may pass preemptable: true. A preemptable thread
   * turns every schedule of it into lwkt_preempt (lwkt_thread.c:869), so only
   * profiles with interrupts allow it.
   */
  readonly preemptableThreads: boolean;
  /** Whether misuse steps are generated and panic ids compared. */
  readonly assertions: boolean;
  readonly state: StateProjection;
}

const UP_SCHEDULING: readonly StepCall[] = [
  'lwkt_create', 'lwkt_schedule', 'lwkt_deschedule', 'lwkt_schedule_self', 'lwkt_deschedule_self',
  'lwkt_switch', 'lwkt_yield', 'lwkt_setpri', 'lwkt_setpri_self', 'lwkt_checkpri_self', 'cpu_idle',
];

const PREEMPTION: readonly StepCall[] = [
  'crit_enter', 'crit_enter_quick', 'crit_enter_gd', 'crit_exit', 'crit_exit_quick', 'crit_exit_gd',
  'crit_exit_noyield', 'intr', 'splz', 'lwkt_yield_quick', 'lwkt_preempted_proc',
];

const SMP: readonly StepCall[] = ['ipi', 'lwkt_setcpu_self', 'lwkt_acquire'];

const MPLOCK_TOKENS: readonly StepCall[] = [
  'get_mplock', 'rel_mplock', 'try_mplock', 'lwkt_wait_init', 'lwkt_block', 'lwkt_signal',
  'lwkt_gettoken', 'lwkt_trytoken', 'lwkt_reltoken', 'spin',
];

const EVERYTHING_ELSE: readonly StepCall[] = [
  'lwkt_alloc_thread', 'lwkt_free_thread', 'lwkt_hold', 'lwkt_rele', 'lwkt_wait_free', 'lwkt_set_comm',
  'lwkt_exit', 'cpusync_enter', 'cpusync_exit', 'userenter', 'fastintr_switch', 'set_proc',
];

export const PROFILES: readonly Profile[] = [
  {
    name: 'up-scheduling',
    level: 1,
    title: 'uniprocessor scheduling',
    description:
      'One CPU without SMP: thread creation, scheduling and descheduling, lwkt_switch, yield and priorities. ' +
      'Compares step results, the running thread and the scheduling part of the state: run queues, gd_runqmask, ' +
      'the reschedule request bit, td_pri, TDF_RUNQ and TDF_RUNNING, switch_count.',
    calls: UP_SCHEDULING,
    cpus: [1],
    smp: [false],
    invariants: [true],
    untimelySwitch: [false],
    panicOnCscount: [false],
    preemptableThreads: false,
    assertions: false,
    state: 'scheduling',
  },
  {
    name: 'preemption',
    level: 2,
    title: 'plus critical sections, interrupts and preemption',
    description:
      'Adds the crit_enter/crit_exit family, interrupts to preemptable interrupt threads, splz and lwkt_yield_quick. ' +
      'Compares the whole abstract state, frames included.',
    calls: [...UP_SCHEDULING, ...PREEMPTION],
    cpus: [1],
    smp: [false],
    invariants: [true],
    untimelySwitch: [false],
    panicOnCscount: [false],
    preemptableThreads: true,
    assertions: false,
    state: 'full',
  },
  {
    name: 'smp',
    level: 3,
    title: 'plus SMP',
    description: 'Adds 2 to 4 CPUs with SMP: IPI delivery, scheduling of remote threads, migration and lwkt_acquire.',
    calls: [...UP_SCHEDULING, ...PREEMPTION, ...SMP],
    cpus: [1, 2, 3, 4],
    smp: [true, false],
    invariants: [true],
    untimelySwitch: [false],
    panicOnCscount: [false],
    preemptableThreads: true,
    assertions: false,
    state: 'full',
  },
  {
    name: 'mplock-tokens',
    level: 4,
    title: 'plus the MP lock, tokens and wait queues',
    description: 'Adds get_mplock/rel_mplock/try_mplock, wait queues (lwkt_block, lwkt_signal) and tokens with their spin loops.',
    calls: [...UP_SCHEDULING, ...PREEMPTION, ...SMP, ...MPLOCK_TOKENS],
    cpus: [1, 2, 3, 4],
    smp: [true, false],
    invariants: [true],
    untimelySwitch: [false],
    panicOnCscount: [false],
    preemptableThreads: true,
    assertions: false,
    state: 'full',
  },
  {
    name: 'full',
    level: 5,
    title: 'plus the assertion behaviour',
    description:
      'Every call, both build settings of INVARIANTS, and misuse at the configured rate: a panic must name the same ' +
      'catalogue id as the model.',
    calls: [...UP_SCHEDULING, ...PREEMPTION, ...SMP, ...MPLOCK_TOKENS, ...EVERYTHING_ELSE],
    cpus: [1, 2, 3, 4],
    smp: [true, false],
    invariants: [true, false],
    untimelySwitch: [false, true],
    panicOnCscount: [false, true],
    preemptableThreads: true,
    assertions: true,
    state: 'full',
  },
];

export function findProfile(name: string): Profile | undefined {
  return PROFILES.find((p) => p.name === name);
}

/** The scheduling part of the abstract state, compared by profiles with state 'scheduling'. */
export interface SchedulingState {
  readonly cpus: readonly {
    readonly cpuid: number;
    readonly gd_curthread: number;
    readonly gd_runqmask: number;
    readonly gd_tdrunq: readonly (readonly number[])[];
    readonly lwkt_resched: boolean;
  }[];
  readonly threads: readonly { readonly id: number; readonly td_pri: number; readonly runq: boolean; readonly running: boolean }[];
  readonly switch_count: number;
}


/** Reduces an abstract state to what a profile with state 'scheduling' compares. */
export function schedulingState(state: AbstractState): SchedulingState {
  return {
    cpus: state.cpus.map((c) => ({
      cpuid: c.cpuid,
      gd_curthread: c.gd_curthread,
      gd_runqmask: c.gd_runqmask,
      gd_tdrunq: c.gd_tdrunq,
      lwkt_resched: (c.gd_reqflags & RQF_AST_LWKT_RESCHED) !== 0,
    })),
    threads: state.threads.map((t) => ({
      id: t.id,
      td_pri: t.td_pri,
      runq: (t.td_flags & TDF_RUNQ) !== 0,
      running: (t.td_flags & TDF_RUNNING) !== 0,
    })),
    switch_count: state.counters.switch_count,
  };
}
