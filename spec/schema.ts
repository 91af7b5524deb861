// Versioned schema of the configuration, steps, step results, abstract state and
// traces. Each TypeBox definition is both a JSON Schema (see `jsonSchemas` and
// spec/schema/*.json) and the TypeScript type of the same name. The meaning of
// every field is given in spec/semantics.md.
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { SCHEMA_VERSION, STATE_SCHEMA_ID, TRACE_SCHEMA_ID } from './constants.js';

const Nat = Type.Integer({ minimum: 0 });
const Int = Type.Integer();
const ThreadId = Type.Integer({ minimum: 0, description: 'thread structure id' });
const CpuId = Type.Integer({ minimum: 0, description: 'cpu id (gd_cpuid)' });
const WaitId = Type.Integer({ minimum: 0, description: 'wait queue id (also the id of its wa_token)' });
const TokrefId = Type.Integer({ minimum: 0, description: 'token reference id' });

// ---------------------------------------------------------------------------
// Configuration: the kernel build options and sysctls of one run.

export const Config = Type.Object(
  {
    ncpus: Type.Integer({ minimum: 1, maximum: 4, description: 'number of CPUs' }),
    smp: Type.Boolean({ description: 'kernel built with options SMP; false requires ncpus = 1' }),
    invariants: Type.Boolean({ description: 'kernel built with options INVARIANTS (KASSERT, KKASSERT, crit_panic checks)' }),
    untimelySwitch: Type.Boolean({ description: 'sysctl lwkt.untimely_switch' }),
    panicOnCscount: Type.Boolean({ description: 'sysctl lwkt.panic_on_cscount' }),
  },
  { additionalProperties: false },
);
export type Config = Static<typeof Config>;

// ---------------------------------------------------------------------------
// Steps. Every step runs on one CPU. A "call" step is performed by the thread
// running there; an "environment" step is an event delivered to that CPU.

function step<N extends string, P extends Record<string, TSchema>>(name: N, props: P) {
  return Type.Object(
    { cpu: CpuId, call: Type.Literal(name), ...props },
    { additionalProperties: false },
  );
}

const Target = Type.Integer({ minimum: -1, description: 'cpu id, or -1 for the current cpu' });
const ProcStat = Type.Union(
  [Type.Literal('SIDL'), Type.Literal('SRUN'), Type.Literal('SSLEEP'), Type.Literal('SSTOP'), Type.Literal('SZOMB')],
  { description: 'p_stat of the process attached to a thread' },
);
export type ProcStat = Static<typeof ProcStat>;

export const StepSchemas = {
  lwkt_switch: step('lwkt_switch', {}),
  lwkt_yield: step('lwkt_yield', {}),
  lwkt_yield_quick: step('lwkt_yield_quick', {}),
  lwkt_schedule_self: step('lwkt_schedule_self', {}),
  lwkt_deschedule_self: step('lwkt_deschedule_self', {}),
  lwkt_schedule: step('lwkt_schedule', { td: ThreadId }),
  lwkt_deschedule: step('lwkt_deschedule', { td: ThreadId }),
  lwkt_setpri: step('lwkt_setpri', { td: ThreadId, pri: Int }),
  lwkt_setpri_self: step('lwkt_setpri_self', { pri: Int }),
  lwkt_checkpri_self: step('lwkt_checkpri_self', {}),
  lwkt_create: step('lwkt_create', {
    target: Target,
    tdflags: Nat,
    preemptable: Type.Boolean({ description: 'install cpu_intr_preempt as td_preemptable before scheduling' }),
    comm: Type.String({ maxLength: 64 }),
  }),
  lwkt_alloc_thread: step('lwkt_alloc_thread', { target: Target, stksize: Type.Integer({ minimum: 1 }) }),
  lwkt_free_thread: step('lwkt_free_thread', { td: ThreadId }),
  lwkt_hold: step('lwkt_hold', { td: ThreadId }),
  lwkt_rele: step('lwkt_rele', { td: ThreadId }),
  lwkt_wait_free: step('lwkt_wait_free', { td: ThreadId }),
  lwkt_set_comm: step('lwkt_set_comm', { td: ThreadId, comm: Type.String({ maxLength: 64 }) }),
  lwkt_wait_init: step('lwkt_wait_init', {}),
  lwkt_block: step('lwkt_block', { w: WaitId, wmesg: Type.Union([Type.String({ maxLength: 64 }), Type.Null()]), gen: Int }),
  lwkt_signal: step('lwkt_signal', { w: WaitId, count: Int }),
  lwkt_acquire: step('lwkt_acquire', { td: ThreadId }),
  lwkt_setcpu_self: step('lwkt_setcpu_self', { target: CpuId }),
  lwkt_preempted_proc: step('lwkt_preempted_proc', {}),
  lwkt_exit: step('lwkt_exit', {}),
  crit_enter: step('crit_enter', {}),
  crit_enter_quick: step('crit_enter_quick', {}),
  crit_enter_gd: step('crit_enter_gd', {}),
  crit_exit: step('crit_exit', {}),
  crit_exit_quick: step('crit_exit_quick', {}),
  crit_exit_gd: step('crit_exit_gd', {}),
  crit_exit_noyield: step('crit_exit_noyield', {}),
  get_mplock: step('get_mplock', {}),
  rel_mplock: step('rel_mplock', {}),
  try_mplock: step('try_mplock', {}),
  lwkt_gettoken: step('lwkt_gettoken', { tok: WaitId }),
  lwkt_trytoken: step('lwkt_trytoken', { tok: WaitId }),
  lwkt_reltoken: step('lwkt_reltoken', { tok: WaitId }),
  splz: step('splz', {}),
  cpu_idle: step('cpu_idle', {}),
  cpusync_enter: step('cpusync_enter', {}),
  cpusync_exit: step('cpusync_exit', {}),
  userenter: step('userenter', {}),
  // Environment steps.
  intr: step('intr', { td: ThreadId }),
  fastintr_switch: step('fastintr_switch', {}),
  ipi: step('ipi', {}),
  spin: step('spin', {}),
  set_proc: step('set_proc', { td: ThreadId, pid: Type.Union([Nat, Type.Null()]), stat: ProcStat }),
} as const;

export type StepCall = keyof typeof StepSchemas;
export const STEP_CALLS = Object.keys(StepSchemas) as StepCall[];

/** Steps delivered by the environment rather than called by the running thread. */
export const ENVIRONMENT_CALLS: readonly StepCall[] = ['intr', 'fastintr_switch', 'ipi', 'spin', 'set_proc'];

export const Step = Type.Union(Object.values(StepSchemas), { description: 'one step of a run' });
export type Step = Static<typeof Step>;
export type StepOf<C extends StepCall> = Static<(typeof StepSchemas)[C]>;

// ---------------------------------------------------------------------------
// Results.

const RetValue = Type.Union([Int, Type.Null()], { description: 'return value of the call; null for void functions' });

export const Completion = Type.Object(
  {
    td: ThreadId,
    call: Type.String({ description: 'step call whose frame completed' }),
    ret: RetValue,
  },
  { additionalProperties: false },
);
export type Completion = Static<typeof Completion>;

export const Printed = Type.Object(
  {
    site: Type.String({ description: 'seed line of the printf, for example lwkt_thread.c:887' }),
    values: Type.Array(Type.Union([Int, Type.String(), Type.Null()]), { description: 'the printed values in format order; pointers are thread ids' }),
  },
  { additionalProperties: false },
);
export type Printed = Static<typeof Printed>;

export const PanicInfo = Type.Object(
  {
    id: Type.String({ description: 'assertion catalogue id' }),
    site: Type.String({ description: 'source line of the check' }),
  },
  { additionalProperties: false },
);
export type PanicInfo = Static<typeof PanicInfo>;

export const StepStatus = Type.Union([
  Type.Literal('returned'),
  Type.Literal('suspended'),
  Type.Literal('spinning'),
  Type.Literal('panic'),
  Type.Literal('limit'),
]);
export type StepStatus = Static<typeof StepStatus>;

export const StepResult = Type.Object(
  {
    status: StepStatus,
    ret: Type.Optional(RetValue),
    panic: Type.Optional(PanicInfo),
    limit: Type.Optional(Type.String({ description: 'id of the model limit that ended the step' })),
    completed: Type.Array(Completion, { description: 'calls of other threads, resumed during this step, that completed, in order' }),
    printed: Type.Array(Printed),
  },
  { additionalProperties: false },
);
export type StepResult = Static<typeof StepResult>;

// ---------------------------------------------------------------------------
// Frames: the continuation of a thread that was switched out in the middle of
// a call, innermost first. spec/semantics.md lists when each frame is pushed
// and what its rest does.

function frame<N extends string, P extends Record<string, TSchema>>(fn: N, props: P) {
  return Type.Object({ fn: Type.Literal(fn), ...props }, { additionalProperties: false });
}
const stages = <S extends string>(...names: S[]) => Type.Union(names.map((n) => Type.Literal(n)));
const NullableInt = Type.Union([Int, Type.Null()]);

export const FrameSchemas = {
  lwkt_switch: frame('lwkt_switch', { stage: stages('release', 'switch') }),
  lwkt_preempt: frame('lwkt_preempt', { ntd: ThreadId, savecnt: Int }),
  lwkt_schedule: frame('lwkt_schedule', { mygd: CpuId, wref: NullableInt }),
  splz: frame('splz', {}),
  lwkt_yield_quick: frame('lwkt_yield_quick', { stage: stages('splz', 'untimely-runq', 'untimely-sched') }),
  lwkt_yield: frame('lwkt_yield', { stage: stages('schedule-self', 'switch') }),
  lwkt_block: frame('lwkt_block', {
    stage: stages('gettoken', 'loop', 'crit-exit', 'reltoken'),
    w: WaitId,
    wmesg: Type.Union([Type.String(), Type.Null()]),
    gen: Int,
    ilock: TokrefId,
  }),
  lwkt_signal: frame('lwkt_signal', { stage: stages('gettoken', 'crit-exit', 'reltoken'), w: WaitId, count: Int, ilock: TokrefId }),
  lwkt_setcpu_self: frame('lwkt_setcpu_self', {}),
  cpu_thread_exit: frame('cpu_thread_exit', {}),
  get_mplock: frame('get_mplock', {}),
  cpu_kthread_restore: frame('cpu_kthread_restore', {}),
  lwkt_gettoken: frame('lwkt_gettoken', { stage: stages('spin', 'spin-body', 'crit-exit', 'yield'), ref: TokrefId }),
  lwkt_reltoken: frame('lwkt_reltoken', { stage: stages('spin', 'spin-body'), ref: TokrefId }),
  lwkt_acquire: frame('lwkt_acquire', { td: ThreadId, gd: CpuId }),
  lwkt_alloc_thread: frame('lwkt_alloc_thread', {
    stage: stages('cached', 'fresh', 'init'),
    td: NullableInt,
    stksize: Nat,
    target: Int,
  }),
  lwkt_create: frame('lwkt_create', {
    stage: stages('alloc', 'schedule'),
    td: NullableInt,
    tdflags: Nat,
    preemptable: Type.Boolean(),
    comm: Type.String(),
  }),
  lwkt_free_thread: frame('lwkt_free_thread', { td: ThreadId }),
  lwkt_wait_free: frame('lwkt_wait_free', { td: ThreadId }),
  cpu_idle: frame('cpu_idle', { stage: stages('switch', 'splz') }),
  intr: frame('intr', { td: ThreadId }),
} as const;

export type FrameFn = keyof typeof FrameSchemas;

/** A frame of a step call that has no frame type of its own (its rest is empty). */
export const BareStepFrame = Type.Object(
  { fn: Type.Union(STEP_CALLS.filter((c) => !(c in FrameSchemas)).map((c) => Type.Literal(c))) },
  { additionalProperties: false },
);

export const Frame = Type.Union([...Object.values(FrameSchemas), BareStepFrame]);
export type Frame = Static<typeof Frame>;

// ---------------------------------------------------------------------------
// Abstract state.

export const ProcInfo = Type.Object({ pid: Nat, stat: ProcStat }, { additionalProperties: false });
export type ProcInfo = Static<typeof ProcInfo>;

export const ThreadState = Type.Object(
  {
    id: ThreadId,
    zfreed: Type.Boolean({ description: 'structure returned to the thread zone; the id is never reused' }),
    td_gd: CpuId,
    td_pri: Int,
    td_flags: Nat,
    td_mpcount: Int,
    td_cscount: Int,
    td_refs: Int,
    td_nest_count: Int,
    td_wait: Type.Union([WaitId, Type.Null()]),
    td_wmesg: Type.Union([Type.String(), Type.Null()]),
    td_preempted: Type.Union([ThreadId, Type.Null()]),
    td_toks: Type.Array(TokrefId, { description: 'token references held, newest first' }),
    td_proc: Type.Union([ProcInfo, Type.Null()]),
    td_release: Type.Boolean({ description: 'td_release is passive_release' }),
    td_preemptable: Type.Boolean({ description: 'td_preemptable is cpu_intr_preempt' }),
    td_comm: Type.String(),
    td_kstack: Type.Boolean({ description: 'td_kstack is not NULL' }),
    td_kstack_size: Nat,
    frames: Type.Array(Frame, { description: 'continuation, innermost first; empty when at a call boundary' }),
    call: Type.Union([Type.String(), Type.Null()], {
      description: 'the step call this thread is in the middle of (cpu_kthread_restore for a thread not yet run), or null at a call boundary',
    }),
  },
  { additionalProperties: false },
);
export type ThreadState = Static<typeof ThreadState>;

export const IpiFunc = Type.Union([
  Type.Literal('lwkt_schedule'),
  Type.Literal('lwkt_deschedule'),
  Type.Literal('lwkt_init_thread_remote'),
  Type.Literal('lwkt_setcpu_remote'),
  Type.Literal('sched_ithd_remote'),
  Type.Literal('lwkt_reqtoken_remote'),
]);
export type IpiFunc = Static<typeof IpiFunc>;

export const IpiMessage = Type.Object(
  { func: IpiFunc, arg: Nat },
  { additionalProperties: false, description: 'arg is a thread id, or a token reference id for lwkt_reqtoken_remote' },
);
export type IpiMessage = Static<typeof IpiMessage>;

export const CpuState = Type.Object(
  {
    cpuid: CpuId,
    gd_curthread: ThreadId,
    gd_idlethread: ThreadId,
    gd_runqmask: Type.Integer({ minimum: 0, maximum: 0xffffffff }),
    gd_tdrunq: Type.Array(Type.Array(ThreadId), { minItems: 32, maxItems: 32 }),
    gd_reqflags: Nat,
    gd_intr_nesting_level: Int,
    gd_tdallq: Type.Array(ThreadId),
    gd_tdfreeq: Type.Array(ThreadId),
    gd_tdfreecount: Int,
    gd_ipending: Type.Array(ThreadId, { description: 'interrupt threads whose interrupt is pending, ascending' }),
    gd_fpending: Type.Boolean({ description: 'a fastintr_switch interrupt is pending' }),
    gd_tokreqbase: Type.Array(TokrefId, { description: 'deferred remote token requests, head first' }),
    gd_ipiq: Type.Array(Type.Array(IpiMessage), { description: 'outgoing FIFO to each cpu, indexed by target; the entry for this cpu stays empty' }),
  },
  { additionalProperties: false },
);
export type CpuState = Static<typeof CpuState>;

export const WaitState = Type.Object(
  { id: WaitId, wa_waitq: Type.Array(ThreadId), wa_gen: Int, wa_count: Int },
  { additionalProperties: false },
);
export type WaitState = Static<typeof WaitState>;

export const TokenState = Type.Object(
  { id: WaitId, t_cpu: CpuId, t_reqcpu: CpuId },
  { additionalProperties: false },
);
export type TokenState = Static<typeof TokenState>;

export const TokrefState = Type.Object(
  {
    id: TokrefId,
    tr_tok: WaitId,
    tr_magic: Type.Union([Type.Literal(1), Type.Literal(2)], { description: '1 for LWKT_TOKREF_MAGIC1, 2 for LWKT_TOKREF_MAGIC2' }),
    tr_reqgd: Type.Union([CpuId, Type.Null()]),
  },
  { additionalProperties: false },
);
export type TokrefState = Static<typeof TokrefState>;

export const Counters = Type.Object(
  { switch_count: Nat, preempt_hit: Nat, preempt_miss: Nat, preempt_weird: Nat },
  { additionalProperties: false },
);
export type Counters = Static<typeof Counters>;

export const AbstractState = Type.Object(
  {
    schema: Type.Literal(STATE_SCHEMA_ID),
    config: Config,
    panicked: Type.Union([PanicInfo, Type.Null()]),
    mp_lock: Type.Integer({ minimum: -1, description: 'owning cpu id, or -1 when free' }),
    counters: Counters,
    cpus: Type.Array(CpuState),
    threads: Type.Array(ThreadState, { description: 'every thread structure ever allocated, by ascending id' }),
    waits: Type.Array(WaitState),
    tokens: Type.Array(TokenState),
    tokrefs: Type.Array(TokrefState, { description: 'live token references, by ascending id' }),
  },
  { additionalProperties: false },
);
export type AbstractState = Static<typeof AbstractState>;

// ---------------------------------------------------------------------------
// Traces: a saved run, replayable by `lwkt-conformance replay`.

export const TraceStepRecord = Type.Object(
  {
    step: Step,
    model: StepResult,
    impl: Type.Optional(StepResult),
    running: Type.Array(ThreadId, { description: 'gd_curthread of each cpu after the step (model)' }),
    implRunning: Type.Optional(Type.Array(ThreadId)),
    differences: Type.Array(Type.String()),
    invariantsFailed: Type.Array(Type.String()),
  },
  { additionalProperties: false },
);
export type TraceStepRecord = Static<typeof TraceStepRecord>;

/** The program of a run checked with `--exec` (spec/protocol.md). */
export const ExecRecord = Type.Object(
  {
    command: Type.Array(Type.String(), { minItems: 1, description: 'argv of the program, as split from --exec' }),
    name: Type.Union([Type.String(), Type.Null()], { description: 'name stated by hello, or null when hello did not complete' }),
    stderr: Type.String({
      description: 'last 64 KiB of the standard error of the process that replayed the saved steps, or of the last process of the check when that replay did not fail',
    }),
    stderrBytes: Type.Integer({ minimum: 0, description: 'bytes that process wrote to standard error in all' }),
    nondeterministic: Type.Union([Type.Boolean(), Type.Null()], {
      description: 'true when the failing run did not fail again when replayed from a fresh process; null when not replayed',
    }),
  },
  { additionalProperties: false },
);
export type ExecRecord = Static<typeof ExecRecord>;

export const Trace = Type.Object(
  {
    schema: Type.Literal(TRACE_SCHEMA_ID),
    tool: Type.String(),
    config: Config,
    implementation: Type.String({ description: 'name of the implementation under test' }),
    profile: Type.Optional(Type.String({ description: 'conformance profile of the run (spec/profiles.ts); full when absent' })),
    exec: Type.Optional(ExecRecord),
    seed: Type.Integer(),
    path: Type.Optional(Type.String({ description: 'fast-check replay path of the failing run' })),
    verdict: Type.Union([Type.Literal('conforms'), Type.Literal('counterexample'), Type.Literal('finding')]),
    firstDifference: Type.Union([
      Type.Null(),
      Type.Object({ stepIndex: Nat, differences: Type.Array(Type.String()) }, { additionalProperties: false }),
    ]),
    findings: Type.Array(
      Type.Object(
        {
          stepIndex: Nat,
          kind: Type.Union([Type.Literal('invariant'), Type.Literal('panic')]),
          id: Type.String({ description: 'invariant id, or the assertion id of a panic reached by legal steps only' }),
        },
        { additionalProperties: false },
      ),
    ),
    steps: Type.Array(TraceStepRecord),
  },
  { additionalProperties: false },
);
export type Trace = Static<typeof Trace>;

/** JSON Schemas written to spec/schema/ by `npm run schema`. */
export const jsonSchemas: Record<string, TSchema> = {
  config: Config,
  step: Step,
  'step-result': StepResult,
  'abstract-state': AbstractState,
  trace: Trace,
};

export { SCHEMA_VERSION };
