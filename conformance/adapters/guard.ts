// Guard around an implementation under test. Every call into the
// implementation goes through here, so that an exception or a malformed value
// becomes a reported difference instead of a harness crash.
//
// An in-process implementation runs on the harness's thread, so the guard
// cannot stop one of its steps that never returns. Programs checked with
// --exec run in their own process, and their adapter (conformance/exec/)
// enforces the per-step timeout and reports it as an ImplementationFailure.
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { AbstractState, StepResult, type Step } from '../../spec/schema.js';
import type { SchedulerImplementation } from '../../spec/api.js';

/**
 * A failure that an adapter has already described in full, such as a program
 * that timed out or broke the line protocol. The guard reports its message
 * unchanged instead of as an exception.
 */
export class ImplementationFailure extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ImplementationFailure';
  }
}

export type Outcome<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: string };

const stepResultChecker = TypeCompiler.Compile(StepResult);
const stateChecker = TypeCompiler.Compile(AbstractState);

/** Formats a thrown value as one line. */
export function describeThrown(err: unknown): string {
  if (err instanceof ImplementationFailure) return err.message;
  if (err instanceof Error) return `${err.name}: ${err.message}`.split('\n')[0] ?? err.name;
  return String(err);
}

function firstSchemaError(checker: { Errors(value: unknown): Iterable<{ path: string; message: string }> }, value: unknown): string {
  for (const e of checker.Errors(value)) return `${e.path === '' ? '(root)' : e.path}: ${e.message}`;
  return 'value does not match the schema';
}

/** Prefix of a step error: `implementation failed` for a described ImplementationFailure, else `implementation threw`. */
const failedOrThrew = (err: unknown): string => (err instanceof ImplementationFailure ? 'implementation failed' : 'implementation threw');

export class GuardedImplementation {
  readonly name: string;
  readonly hasSnapshot: boolean;

  constructor(private readonly inner: SchedulerImplementation) {
    this.name = inner.name;
    this.hasSnapshot = typeof inner.snapshot === 'function';
  }

  step(step: Step): Outcome<StepResult> {
    let value: unknown;
    try {
      value = this.inner.step(step);
    } catch (err) {
      return { ok: false, error: `${failedOrThrew(err)}: ${describeThrown(err)}` };
    }
    if (!stepResultChecker.Check(value)) {
      return { ok: false, error: `implementation returned a malformed StepResult (${firstSchemaError(stepResultChecker, value)})` };
    }
    // Implementations may reuse the result object between steps, so keep a copy.
    return { ok: true, value: structuredClone(value) };
  }

  running(): Outcome<number[]> {
    let value: unknown;
    try {
      value = this.inner.running();
    } catch (err) {
      return { ok: false, error: `implementation threw in running(): ${describeThrown(err)}` };
    }
    if (!Array.isArray(value) || !value.every((v) => Number.isInteger(v))) {
      return { ok: false, error: 'implementation running() did not return an array of thread ids' };
    }
    return { ok: true, value: [...(value as number[])] };
  }

  /** Returns the implementation's abstract state, or null when it offers none. */
  snapshot(): Outcome<AbstractState> | null {
    const snapshot = this.inner.snapshot;
    if (snapshot === undefined) return null;
    let value: unknown;
    try {
      value = snapshot.call(this.inner);
    } catch (err) {
      return { ok: false, error: `${failedOrThrew(err)} in snapshot(): ${describeThrown(err)}` };
    }
    if (!stateChecker.Check(value)) {
      return { ok: false, error: `implementation snapshot() is not a valid AbstractState (${firstSchemaError(stateChecker, value)})` };
    }
    return { ok: true, value };
  }
}

/** Creates the implementation, turning a constructor exception into an error outcome. */
export function createGuarded(create: () => SchedulerImplementation): Outcome<GuardedImplementation> {
  try {
    return { ok: true, value: new GuardedImplementation(create()) };
  } catch (err) {
    return { ok: false, error: `${failedOrThrew(err)} while booting: ${describeThrown(err)}` };
  }
}
