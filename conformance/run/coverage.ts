// Coverage of a set of runs: seed functions called, assertion sites evaluated
// and failed, invariants checked and failed, and how often each call ran.
import { ASSERTIONS, INVARIANTS, SEED_FUNCTIONS } from '../../spec/catalogue.js';
import { STEP_CALLS } from '../../spec/schema.js';
import type { ModelCoverage } from '../../model/index.js';
import type { LockstepRun } from './lockstep.js';

export interface CoverageReport {
  readonly runs: number;
  readonly steps: number;
  readonly misuseSteps: number;
  /** Count of runs by their end: panic, limit, structure, difference, model-error, or complete. */
  readonly runEnds: Record<string, number>;
  /** Counters of the final model states, summed, and rare states reached. */
  readonly reached: {
    readonly switch_count: number; readonly preempt_hit: number; readonly preempt_miss: number; readonly preempt_weird: number;
    readonly maxPreemptDepth: number; readonly mplockHandovers: number; readonly staleBlocks: number;
  };
  readonly seedFunctions: { readonly name: string; readonly line: number; readonly calls: number }[];
  readonly environmentFunctions: Record<string, number>;
  readonly assertions: { readonly id: string; readonly evaluated: number; readonly failed: number }[];
  readonly invariants: { readonly id: string; readonly class: string; readonly checks: number; readonly failures: number }[];
  readonly calls: { readonly call: string; readonly legal: number; readonly misuse: number }[];
}

export class CoverageCollector {
  private runs = 0;
  private steps = 0;
  private misuseSteps = 0;
  private invariantChecks = 0;
  private readonly runEnds = new Map<string, number>();
  private readonly reached = { switch_count: 0, preempt_hit: 0, preempt_miss: 0, preempt_weird: 0, maxPreemptDepth: 0, mplockHandovers: 0, staleBlocks: 0 };
  private readonly functions = new Map<string, number>();
  private readonly assertions = new Map<string, { evaluated: number; failed: number }>();
  private readonly invariantFailures = new Map<string, number>();
  private readonly calls = new Map<string, { legal: number; misuse: number }>();

  add(run: LockstepRun): void {
    this.runs++;
    const end = run.end?.kind ?? 'complete';
    this.runEnds.set(end, (this.runEnds.get(end) ?? 0) + 1);
    this.addModelCoverage(run.model.coverage());
    const r = this.reached;
    r.switch_count += run.state.counters.switch_count;
    r.preempt_hit += run.state.counters.preempt_hit;
    r.preempt_miss += run.state.counters.preempt_miss;
    r.preempt_weird += run.state.counters.preempt_weird;
    r.maxPreemptDepth = Math.max(r.maxPreemptDepth, run.reached.maxPreemptDepth);
    r.mplockHandovers += run.reached.mplockHandovers;
    r.staleBlocks += run.reached.staleBlocks;
    this.invariantChecks += run.invariantChecks;
    for (const [id, n] of run.invariantFailures) this.invariantFailures.set(id, (this.invariantFailures.get(id) ?? 0) + n);
    for (const s of run.steps) {
      this.steps++;
      const counts = this.calls.get(s.step.call) ?? { legal: 0, misuse: 0 };
      if (s.misuse === null) counts.legal++;
      else { counts.misuse++; this.misuseSteps++; }
      this.calls.set(s.step.call, counts);
    }
  }

  private addModelCoverage(c: ModelCoverage): void {
    for (const [name, n] of Object.entries(c.functions)) this.functions.set(name, (this.functions.get(name) ?? 0) + n);
    for (const [id, a] of Object.entries(c.assertions)) {
      const sum = this.assertions.get(id) ?? { evaluated: 0, failed: 0 };
      sum.evaluated += a.evaluated;
      sum.failed += a.failed;
      this.assertions.set(id, sum);
    }
  }

  report(): CoverageReport {
    const seedNames = new Set(SEED_FUNCTIONS.map((f) => f.name));
    const environmentFunctions: Record<string, number> = {};
    for (const name of [...this.functions.keys()].sort()) {
      if (!seedNames.has(name)) environmentFunctions[name] = this.functions.get(name) ?? 0;
    }
    const assertionIds = [...ASSERTIONS.map((a) => a.id), ...[...this.assertions.keys()].filter((id) => !ASSERTIONS.some((a) => a.id === id)).sort()];
    return {
      runs: this.runs,
      steps: this.steps,
      misuseSteps: this.misuseSteps,
      reached: { ...this.reached },
      runEnds: Object.fromEntries([...this.runEnds.entries()].sort(([a], [b]) => a.localeCompare(b))),
      seedFunctions: SEED_FUNCTIONS.map((f) => ({ name: f.name, line: f.line, calls: this.functions.get(f.name) ?? 0 })),
      environmentFunctions,
      assertions: assertionIds.map((id) => ({ id, ...(this.assertions.get(id) ?? { evaluated: 0, failed: 0 }) })),
      invariants: INVARIANTS.map((i) => ({ id: i.id, class: i.class, checks: this.invariantChecks, failures: this.invariantFailures.get(i.id) ?? 0 })),
      calls: STEP_CALLS.map((call) => ({ call, ...(this.calls.get(call) ?? { legal: 0, misuse: 0 }) })),
    };
  }
}
