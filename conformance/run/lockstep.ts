// Lockstep runner: the model and the implementation under test take the same
// steps, and after each step their results, running threads and (when the
// implementation offers one) abstract states are compared. The model's state
// is then checked against the invariant catalogue.
import { findInvariant } from '../../spec/catalogue.js';
import type { SchedulerFactory } from '../../spec/api.js';
import type { AbstractState, Config, Step, StepResult, TraceStepRecord } from '../../spec/schema.js';
import { LwktModel, checkInvariants } from '../../model/index.js';
import { createGuarded, describeThrown, type GuardedImplementation } from '../adapters/guard.js';
import { comparableResults, comparableState, comparesState, FULL_POLICY, type ComparisonPolicy } from '../profiles/compare.js';
import { capDifferences, diffValues } from './diff.js';

/** An invariant failure, or a panic reached by legal steps alone. */
export interface Finding {
  readonly kind: 'invariant' | 'panic';
  readonly id: string;
  readonly class: 'structure' | 'intent' | 'assertion';
  readonly stepIndex: number;
  readonly message: string;
  /** Every step up to and including this one was legal use of the API. */
  readonly legalOnly: boolean;
}

export type RunEnd =
  | { readonly kind: 'difference'; readonly stepIndex: number }
  | { readonly kind: 'panic' | 'limit'; readonly stepIndex: number; readonly id: string }
  | { readonly kind: 'structure'; readonly stepIndex: number; readonly id: string }
  | { readonly kind: 'model-error'; readonly stepIndex: number; readonly message: string };

export interface RecordedStep extends TraceStepRecord {
  /** Reason the step is misuse, or null for a legal step. */
  readonly misuse: string | null;
}

/** Options of a lockstep run. */
export interface LockstepOptions {
  /** Record a panic reached by legal steps alone as a finding. */
  readonly legalPanicsAreFindings?: boolean;
  /** Comparison policy: the profile's parts of results and states, within the implementation's capabilities (default: everything). */
  readonly policy?: ComparisonPolicy;
}

/** An invariant that failed on the implementation's state but held on the model's after the same step. */
export interface ImplInvariantFailure {
  readonly stepIndex: number;
  readonly id: string;
  readonly message: string;
}

export class LockstepRun {
  readonly model: LwktModel;
  readonly steps: RecordedStep[] = [];
  readonly findings: Finding[] = [];
  /** Invariant id to the number of steps after which it failed. */
  readonly invariantFailures = new Map<string, number>();
  invariantChecks = 0;
  /** Checks of the invariant catalogue on the implementation's snapshots, and the failures the model's state did not share. */
  readonly implInvariants: { checks: number; readonly failures: ImplInvariantFailure[] } = { checks: 0, failures: [] };
  firstDifference: { stepIndex: number; differences: string[] } | null = null;
  end: RunEnd | null = null;
  /** Rare states reached, for the coverage report. */
  readonly reached = { maxPreemptDepth: 0, mplockHandovers: 0, staleBlocks: 0 };
  private lastMplockOwner = -1;
  /** Model state after the last step (or at boot). */
  state: AbstractState;
  private readonly impl: GuardedImplementation | null;
  private misuseSeen = false;
  readonly policy: ComparisonPolicy;
  /** The implementation's state fetched by the last comparison, or null, and whether it differed from the model's. */
  private implState: AbstractState | null = null;
  private implStateDiffers = false;

  constructor(readonly config: Config, factory: SchedulerFactory, private readonly options: LockstepOptions = {}) {
    this.policy = options.policy ?? FULL_POLICY;
    this.model = new LwktModel(config);
    this.state = this.model.snapshot();
    const booted = createGuarded(() => factory(config));
    this.impl = booted.ok ? booted.value : null;
    const bootDifferences = booted.ok ? this.compareMachines([], booted.value, true) : [booted.error];
    if (bootDifferences.length > 0) {
      this.firstDifference = { stepIndex: 0, differences: capDifferences(bootDifferences.map((d) => `boot: ${d}`)) };
      this.end = { kind: 'difference', stepIndex: 0 };
    }
  }

  get stopped(): boolean {
    return this.end !== null;
  }

  get implementationName(): string {
    return this.impl?.name ?? 'unknown';
  }

  /** Runs one valid step on both sides. Returns the differences found (empty when they agree). */
  apply(step: Step, misuse: string | null): string[] {
    if (this.end !== null) throw new Error('LockstepRun.apply after the run ended');
    const stepIndex = this.steps.length;
    this.misuseSeen ||= misuse !== null;

    if (step.call === 'lwkt_block' && this.state.waits.find((w) => w.id === step.w)?.wa_gen !== step.gen) this.reached.staleBlocks++;

    let modelResult: StepResult;
    try {
      modelResult = this.model.step(step);
      this.state = this.model.snapshot();
    } catch (err) {
      const message = `model threw: ${describeThrown(err)}`;
      this.end = { kind: 'model-error', stepIndex, message };
      this.firstDifference = { stepIndex, differences: [message] };
      // The model has no result to record, so the step shows a limit named model-error, which the catalogue does not list.
      this.record(step, misuse, { status: 'limit', limit: 'model-error', completed: [], printed: [] }, undefined, undefined, [message], []);
      return [message];
    }

    const impl = this.impl!;
    const implResult = impl.step(step);
    const differences: string[] = [];
    if (!implResult.ok) differences.push(implResult.error);
    else differences.push(...diffValues(...comparableResults(modelResult, implResult.value, this.policy), 'result'));

    // A panic or limit freezes the machine in the middle of a call, where the
    // between-steps invariants do not apply.
    const stopped = modelResult.status === 'panic' || modelResult.status === 'limit';
    const failed = stopped ? [] : this.checkInvariants(stepIndex);

    // Once a structure invariant fails the model's lists hold entries that C
    // lists (and intrusive lists) cannot, so only results and running threads compare.
    const corrupted = failed.some((id) => findInvariant(id)?.class === 'structure');
    differences.push(...this.compareMachines(differences, impl, !corrupted));
    if (!stopped && !corrupted) this.checkImplInvariants(stepIndex, failed);

    this.noteReached();
    const implRunning = impl.running();
    this.record(step, misuse, modelResult, implResult.ok ? implResult.value : undefined,
      implRunning.ok ? implRunning.value : undefined, capDifferences(differences), failed);
    this.noteEnd(stepIndex, modelResult, differences);
    return differences;
  }

  /**
   * Compares running threads and, when `withState` holds and the implementation
   * offers snapshots, whole abstract states. `prior` suppresses the state diff
   * after a step error.
   */
  private compareMachines(prior: readonly string[], impl: GuardedImplementation, withState: boolean): string[] {
    const out: string[] = [];
    this.implState = null;
    // After the implementation failed the step, its running threads and state tell nothing more.
    if (prior.length > 0 && prior[0]!.startsWith('implementation')) return out;
    const running = impl.running();
    if (!running.ok) out.push(running.error);
    else out.push(...diffValues(this.model.running(), running.value, 'running'));
    if (!withState || !comparesState(this.policy)) return out;

    const snapshot = impl.snapshot();
    if (snapshot === null) return out;
    if (!snapshot.ok) {
      out.push(snapshot.error);
      return out;
    }
    this.implState = snapshot.value;
    const stateDifferences = diffValues(comparableState(this.state, this.policy), comparableState(snapshot.value, this.policy), 'state');
    this.implStateDiffers = stateDifferences.length > 0;
    out.push(...stateDifferences);
    return out;
  }

  /**
   * Checks the invariant catalogue on the implementation's state, when the
   * profile compares whole states, and keeps each failure that the model's
   * state (`modelFailed`) did not have after the same step.
   */
  private checkImplInvariants(stepIndex: number, modelFailed: readonly string[]): void {
    if (this.implState === null || this.policy.profile.state !== 'full') return;
    // Invariants are a function of the state, so a state equal to the model's fails exactly where the model's did.
    if (!this.implStateDiffers) {
      this.implInvariants.checks++;
      return;
    }
    let failures: ReturnType<typeof checkInvariants>;
    try {
      failures = checkInvariants(this.implState);
    } catch {
      // A state the checker cannot index differs from the model's, which the state comparison already reports.
      return;
    }
    this.implInvariants.checks++;
    for (const f of failures) {
      if (!modelFailed.includes(f.id)) this.implInvariants.failures.push({ stepIndex, id: f.id, message: f.message });
    }
  }

  /** Tracks the deepest td_preempted chain and MP lock hand-overs between cpus. */
  private noteReached(): void {
    for (const td of this.state.threads) {
      let depth = 0;
      for (let t = td.td_preempted; t !== null && depth <= this.state.threads.length; t = this.state.threads[t]?.td_preempted ?? null) depth++;
      this.reached.maxPreemptDepth = Math.max(this.reached.maxPreemptDepth, depth);
    }
    const owner = this.state.mp_lock;
    if (owner !== -1) {
      if (this.lastMplockOwner !== -1 && owner !== this.lastMplockOwner) this.reached.mplockHandovers++;
      this.lastMplockOwner = owner;
    }
  }

  private checkInvariants(stepIndex: number): string[] {
    this.invariantChecks++;
    const failures = checkInvariants(this.state);
    for (const f of failures) {
      this.invariantFailures.set(f.id, (this.invariantFailures.get(f.id) ?? 0) + 1);
      const cls = findInvariant(f.id)?.class ?? 'structure';
      this.findings.push({ kind: 'invariant', id: f.id, class: cls, stepIndex, message: f.message, legalOnly: !this.misuseSeen });
      if (cls === 'structure' && this.end === null) this.end = { kind: 'structure', stepIndex, id: f.id };
    }
    return failures.map((f) => f.id);
  }

  private noteEnd(stepIndex: number, result: StepResult, differences: readonly string[]): void {
    if (differences.length > 0) {
      this.firstDifference ??= { stepIndex, differences: capDifferences(differences) };
      this.end = { kind: 'difference', stepIndex };
      return;
    }
    if (result.status === 'panic' && result.panic !== undefined) {
      if (this.options.legalPanicsAreFindings === true && !this.misuseSeen) {
        this.findings.push({
          kind: 'panic', id: result.panic.id, class: 'assertion', stepIndex,
          message: `panic ${result.panic.id} at ${result.panic.site}`, legalOnly: true,
        });
      }
      this.end ??= { kind: 'panic', stepIndex, id: result.panic.id };
    } else if (result.status === 'limit') {
      this.end ??= { kind: 'limit', stepIndex, id: result.limit ?? 'unknown' };
    }
  }

  private record(
    step: Step, misuse: string | null, model: StepResult, impl: StepResult | undefined,
    implRunning: number[] | undefined, differences: string[], invariantsFailed: string[],
  ): void {
    this.steps.push({
      step, model,
      ...(impl === undefined ? {} : { impl }),
      running: this.state.cpus.map((c) => c.gd_curthread),
      ...(implRunning === undefined ? {} : { implRunning }),
      differences, invariantsFailed, misuse,
    });
  }
}
