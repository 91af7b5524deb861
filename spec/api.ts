// The interface every implementation under test provides, in-process.
// model/ and impl/ both implement it; conformance/ drives it.
import type { AbstractState, Config, Step, StepResult } from './schema.js';

export interface SchedulerImplementation {
  /** Name shown in reports and saved in traces. */
  readonly name: string;

  /**
   * Runs one valid step (spec/semantics.md section 2) and returns its result.
   * The caller never passes an invalid step.
   */
  step(step: Step): StepResult;

  /** gd_curthread of each CPU, by CPU id. */
  running(): number[];

  /** The abstract state; optional for implementations that cannot produce it. */
  snapshot?(): AbstractState;
}

/** Creates an implementation in the boot state of spec/semantics.md section 1.1. */
export type SchedulerFactory = (config: Config) => SchedulerImplementation;
