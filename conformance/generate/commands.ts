// fast-check model-based commands. A command holds a mode (legal or misuse),
// a call kind and three selectors, and is resolved against the model's state
// when it runs (generate/steps.ts), so shrinking by dropping commands keeps
// every trace valid.
import fc from 'fast-check';
import type { Step } from '../../spec/schema.js';
import type { LockstepRun } from '../run/lockstep.js';
import { formatStep } from './format.js';
import { FULL_SCOPE, type GeneratorScope } from './scope.js';
import { callTable, resolveStep, totalWeight, type ResolvedStep, type StepMode } from './steps.js';

/** Thrown by a command when the implementation disagrees with the model. */
export class DivergenceError extends Error {
  constructor(readonly stepIndex: number, readonly differences: readonly string[]) {
    super(`step ${stepIndex}: ${differences[0] ?? 'difference'}`);
    this.name = 'DivergenceError';
  }
}

export class StepCommand implements fc.Command<LockstepRun, LockstepRun> {
  private resolved: ResolvedStep | null = null;
  private lastStep: Step | null = null;

  constructor(
    readonly mode: StepMode, readonly kind: number, readonly selectors: readonly number[],
    readonly scope: GeneratorScope = FULL_SCOPE,
  ) {}

  check(run: Readonly<LockstepRun>): boolean {
    this.resolved = run.stopped ? null : resolveStep(run.state, this.mode, this.kind, this.selectors, this.scope);
    return this.resolved !== null;
  }

  run(run: LockstepRun): void {
    const resolved = this.resolved ?? resolveStep(run.state, this.mode, this.kind, this.selectors, this.scope);
    this.resolved = null;
    if (resolved === null) return;
    this.lastStep = resolved.step;
    const stepIndex = run.steps.length;
    const differences = run.apply(resolved.step, resolved.misuse);
    if (differences.length > 0) throw new DivergenceError(stepIndex, differences);
  }

  toString(): string {
    const tag = this.mode === 'misuse' ? 'misuse ' : '';
    if (this.lastStep !== null) return `${tag}${formatStep(this.lastStep)}`;
    return `${this.mode}(${this.kind}, ${this.selectors.join(', ')})`;
  }
}

const SELECTOR = fc.nat({ max: 1023 });

function commandArbitrary(mode: StepMode, scope: GeneratorScope): fc.Arbitrary<StepCommand> {
  const table = callTable(mode, scope);
  return fc
    .tuple(fc.noBias(fc.nat({ max: Math.max(1, totalWeight(table)) - 1 })), fc.tuple(SELECTOR, SELECTOR, SELECTOR))
    .map(([kind, selectors]) => new StepCommand(mode, kind, selectors, scope));
}

/** Scale of the integer weights that express the misuse rate. */
const RATE_SCALE = 10_000;

function mixedCommands(maxSteps: number, misuseRate: number, scope: GeneratorScope): fc.Arbitrary<Iterable<fc.Command<LockstepRun, LockstepRun>>> {
  const misuseWeight = Math.round(misuseRate * RATE_SCALE);
  const arbitraries: fc.WeightedArbitrary<StepCommand>[] = [];
  if (misuseWeight < RATE_SCALE) arbitraries.push({ arbitrary: commandArbitrary('legal', scope), weight: RATE_SCALE - misuseWeight });
  if (misuseWeight > 0) arbitraries.push({ arbitrary: commandArbitrary('misuse', scope), weight: misuseWeight });
  return fc.commands([fc.oneof(...arbitraries)], { maxCommands: maxSteps, size: 'max' });
}

/**
 * Commands of one run, with misuse at `misuseRate` (0..1) on average. Most
 * misuse panics at once under INVARIANTS and ends its run. So, up to a rate of
 * 0.5, half of the runs are legal only and reach deep states, and the other
 * half carry misuse at twice the rate. Shrinking prefers the
 * legal-only half. Every step's call is inside `scope`.
 */
export function stepCommands(
  maxSteps: number, misuseRate: number, scope: GeneratorScope = FULL_SCOPE,
): fc.Arbitrary<Iterable<fc.Command<LockstepRun, LockstepRun>>> {
  if (misuseRate === 0 || misuseRate > 0.5) return mixedCommands(maxSteps, misuseRate, scope);
  return fc.oneof(mixedCommands(maxSteps, 0, scope), mixedCommands(maxSteps, 2 * misuseRate, scope));
}
