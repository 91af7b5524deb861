// Validity of a step against an abstract state (spec/semantics.md 2.1): the
// checks made before a step runs, for the model of DragonFly BSD
// sys/kern/lwkt_thread.c rev 1.71. Only steps the model cannot run at all are
// rejected here. A valid step may still be misuse of the API, such as freeing
// a running thread or leaving a critical section never entered.
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { Value, ValueErrorType } from '@sinclair/typebox/value';
import { LWKT_CREATE_FLAGS_ALLOWED } from '../spec/constants.js';
import { ENVIRONMENT_CALLS, Step, StepSchemas, type AbstractState, type Frame, type StepCall } from '../spec/schema.js';

// Steps are checked once per step of a run, so the union of all step schemas
// is compiled instead of interpreted by Value.Check; Value.Errors explains a
// failure.
const stepChecker = TypeCompiler.Compile(Step);

function isStepCall(call: unknown): call is StepCall {
  return typeof call === 'string' && Object.hasOwn(StepSchemas, call);
}

/** Spin stages of spec/semantics.md 2.4: the thread waits in a loop for another cpu. */
function isSpinFrame(frame: Frame | undefined): boolean {
  if (frame === undefined) return false;
  if (frame.fn === 'lwkt_acquire') return true;
  return (frame.fn === 'lwkt_gettoken' || frame.fn === 'lwkt_reltoken') && 'stage' in frame && frame.stage === 'spin';
}

/** Tests whether the current thread of `cpu` is in a spin loop, that is, its innermost frame is a spin stage. */
export function isSpinning(state: AbstractState, cpu: number): boolean {
  const gd = state.cpus[cpu];
  if (gd === undefined) return false;
  const td = state.threads.find((t) => t.id === gd.gd_curthread);
  return isSpinFrame(td?.frames[0]);
}

function idRange(ids: readonly number[]): string {
  if (ids.length === 0) return 'none';
  const sorted = [...ids].sort((a, b) => a - b);
  const first = sorted[0] as number;
  const last = sorted[sorted.length - 1] as number;
  const contiguous = last - first + 1 === sorted.length;
  return contiguous ? `${first}..${last}` : sorted.join(', ');
}

function existing(ids: readonly number[], singular: string, plural: string): string {
  return ids.length === 0 ? `no ${singular} exists yet` : `only ${plural} ${idRange(ids)} exist`;
}

/** Checks the step object against its schema and names the offending field on failure. */
export function checkStepShape(step: unknown): string | null {
  if (stepChecker.Check(step)) return null;

  const call = typeof step === 'object' && step !== null ? (step as { call?: unknown }).call : undefined;
  if (!isStepCall(call)) {
    return `step has call ${JSON.stringify(call)}, which is not a step; use one of the calls of StepSchemas in spec/schema.ts (for example 'lwkt_switch')`;
  }

  const error = Value.Errors(StepSchemas[call], step).First();
  if (error === undefined) return `step '${call}' does not match spec/schema.ts; fix its fields`;
  if (error.value === undefined) {
    return `step '${call}' is missing field ${error.path}; add it as the '${call}' step of spec/schema.ts defines it`;
  }
  if (error.type === ValueErrorType.ObjectAdditionalProperties) {
    return `step '${call}' has unexpected field ${error.path}; remove it, since the '${call}' step of spec/schema.ts does not define it`;
  }
  const field = error.path === '' ? 'the step object' : `field ${error.path}`;
  return `step '${call}' has an invalid ${field}: ${error.message} (got ${JSON.stringify(error.value)}); fix it to match the '${call}' step of spec/schema.ts`;
}

function checkCpus(state: AbstractState, step: Step): string | null {
  const ncpus = state.config.ncpus;
  if (step.cpu >= ncpus) {
    return `step '${step.call}' runs on cpu ${step.cpu}, but only cpus 0..${ncpus - 1} exist; use a cpu below ${ncpus}`;
  }

  if (step.call === 'lwkt_setcpu_self' && step.target >= ncpus) {
    return `step 'lwkt_setcpu_self' moves to cpu ${step.target}, but only cpus 0..${ncpus - 1} exist; use a target in 0..${ncpus - 1}`;
  }
  if ((step.call === 'lwkt_create' || step.call === 'lwkt_alloc_thread') && step.target >= ncpus) {
    return `step '${step.call}' has target ${step.target}, but only cpus 0..${ncpus - 1} exist; use -1 for the current cpu or a cpu in 0..${ncpus - 1}`;
  }
  return null;
}

function checkReferences(state: AbstractState, step: Step): string | null {
  if ('td' in step && !state.threads.some((t) => t.id === step.td)) {
    const ids = state.threads.map((t) => t.id);
    return `step '${step.call}' names thread ${step.td}, but only threads ${idRange(ids)} exist; use a thread id from the state`;
  }

  if ('w' in step && !state.waits.some((w) => w.id === step.w)) {
    return `step '${step.call}' names wait queue ${step.w}, but ${existing(state.waits.map((w) => w.id), 'wait queue', 'wait queues')}; create one with 'lwkt_wait_init' or use an id from the state`;
  }
  if ('tok' in step && !state.tokens.some((t) => t.id === step.tok)) {
    return `step '${step.call}' names token ${step.tok}, but ${existing(state.tokens.map((t) => t.id), 'token', 'tokens')}; each 'lwkt_wait_init' creates one, so use an id from the state`;
  }

  if (step.call === 'lwkt_create') {
    // td_flags is a 32-bit int, and JavaScript's & would drop the bits above 31.
    const extra = step.tdflags > 0xffffffff ? step.tdflags : (step.tdflags & ~LWKT_CREATE_FLAGS_ALLOWED) >>> 0;
    if (extra !== 0) {
      return `step 'lwkt_create' has tdflags 0x${step.tdflags.toString(16)}, with bits 0x${extra.toString(16)} outside LWKT_CREATE_FLAGS_ALLOWED (0x${LWKT_CREATE_FLAGS_ALLOWED.toString(16)}); pass only TDF_STOPREQ, TDF_INTTHREAD, TDF_NORESCHED and TDF_SYSTHREAD`;
    }
  }
  return null;
}

function checkSpinning(state: AbstractState, step: Step): string | null {
  const spinning = isSpinning(state, step.cpu);

  if (step.call === 'spin') {
    return spinning ? null : `step 'spin' on cpu ${step.cpu}, but its current thread is not in a spin loop; run a thread call or another environment step instead`;
  }
  if (spinning && !ENVIRONMENT_CALLS.includes(step.call)) {
    const frame = state.threads.find((t) => t.id === state.cpus[step.cpu]?.gd_curthread)?.frames[0];
    return `cpu ${step.cpu} is spinning in ${frame?.fn ?? 'a spin loop'}; only 'spin' and environment steps are valid on it, so send step '${step.call}' after the loop ends`;
  }
  return null;
}

/**
 * Checks `step` against `state` as spec/semantics.md 2.1 defines validity, and
 * checks the step object against its schema. Returns null for a valid step,
 * else a message that names the offending value and how to fix it.
 */
export function validateStep(state: AbstractState, step: Step): string | null {
  const shape = checkStepShape(step);
  if (shape !== null) return shape;

  // NOTE: a step that ends with a model limit also stops the machine, but the
  // abstract state records no limit, so the caller has to stop sending steps.
  if (state.panicked !== null) {
    return `the machine panicked (${state.panicked.id} at ${state.panicked.site}), so no step is valid any more; start a new run`;
  }

  return checkCpus(state, step) ?? checkReferences(state, step) ?? checkSpinning(state, step);
}
