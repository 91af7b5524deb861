// Executable reference model of the LWKT scheduler of DragonFly BSD
// sys/kern/lwkt_thread.c rev 1.71 (April 2005), stepped as spec/semantics.md
// describes.
import type { SchedulerFactory, SchedulerImplementation } from '../spec/api.js';
import type { AbstractState, Config, Step, StepResult } from '../spec/schema.js';
import { boot } from './boot.js';
import { coverage, type ModelCoverage } from './coverage.js';
import type { Machine } from './machine.js';
import { snapshot } from './snapshot.js';
import { runStep } from './step.js';

export class LwktModel implements SchedulerImplementation {
  readonly name = 'model';
  private readonly machine: Machine;

  /** Builds the boot state of spec/semantics.md 1.1. */
  constructor(config: Config) {
    this.machine = boot(config);
  }

  /** Runs one step; the caller has validated it (see validateStep). */
  step(step: Step): StepResult {
    const m = this.machine;
    if (m.panicked !== null || m.limited !== null) {
      throw new Error(`invalid step ${step.call}: the machine stopped (${m.panicked?.id ?? m.limited}); build a new LwktModel`);
    }
    return runStep(m, step);
  }

  /** gd_curthread of each CPU. */
  running(): number[] {
    return this.machine.cpus.map((gd) => gd.gd_curthread);
  }

  /** Returns a fresh deep copy of the abstract state. */
  snapshot(): AbstractState {
    return snapshot(this.machine);
  }

  coverage(): ModelCoverage {
    return coverage(this.machine);
  }
}

export const createModel: SchedulerFactory = (config) => new LwktModel(config);

export { checkStepShape, validateStep } from './validate.js';
export { checkInvariants } from './invariants.js';
export type { InvariantFailure } from './invariants.js';
export type { ModelCoverage } from './coverage.js';
