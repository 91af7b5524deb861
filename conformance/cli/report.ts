// Human-readable and JSON reports of `check` and `replay`.
import type { CoverageReport } from '../run/coverage.js';
import type { CheckResult } from '../run/check.js';
import type { Config } from '../../spec/schema.js';
import { plural } from '../run/plural.js';

/** Lays out `name count` pairs in lines of at most `width` characters. */
function pairs(entries: readonly (readonly [string, number])[], width = 100): string[] {
  const lines: string[] = [];
  let line = ' ';
  for (const [name, n] of entries) {
    const item = ` ${name} ${n}`;
    if (line.length + item.length > width && line.trim() !== '') {
      lines.push(line);
      line = ' ';
    }
    line += item;
  }
  if (line.trim() !== '') lines.push(line);
  return lines;
}

export function describeConfig(c: Config): string {
  return [
    `${c.ncpus} cpu${c.ncpus === 1 ? '' : 's'}`,
    c.smp ? 'SMP' : 'no SMP',
    c.invariants ? 'INVARIANTS' : 'no INVARIANTS',
    ...(c.untimelySwitch ? ['lwkt.untimely_switch=1'] : []),
    ...(c.panicOnCscount ? ['lwkt.panic_on_cscount=1'] : []),
  ].join(', ');
}

export function formatCoverage(c: CoverageReport): string[] {
  const called = c.seedFunctions.filter((f) => f.calls > 0).length;
  const failed = c.assertions.filter((a) => a.failed > 0);
  const evaluated = c.assertions.filter((a) => a.evaluated > 0).length;
  const neverEvaluated = c.assertions.filter((a) => a.evaluated === 0).map((a) => a.id);
  const invariantsFailed = c.invariants.filter((i) => i.failures > 0);
  const uncalled = c.seedFunctions.filter((f) => f.calls === 0).map((f) => f.name);
  const misuseRatio = c.steps === 0 ? 0 : (100 * c.misuseSteps) / c.steps;
  return [
    `coverage over ${plural(c.runs, 'run')}, ${plural(c.steps, 'step')} run (${c.misuseSteps} misuse, ${misuseRatio.toFixed(1)}% of the steps run)`,
    `  run ends: ${Object.entries(c.runEnds).map(([k, n]) => `${k} ${n}`).join(', ')}`,
    `  reached: switches ${c.reached.switch_count}, preemptions ${c.reached.preempt_hit} (missed ${c.reached.preempt_miss}, weird ${c.reached.preempt_weird}), deepest preemption chain ${c.reached.maxPreemptDepth}, MP lock hand-overs between cpus ${c.reached.mplockHandovers}, lwkt_block with a stale generation ${c.reached.staleBlocks}`,
    `  seed functions called: ${called} of ${c.seedFunctions.length}${uncalled.length > 0 ? ` (never: ${uncalled.join(', ')})` : ''}`,
    ...pairs(c.seedFunctions.map((f) => [f.name, f.calls] as const)),
    `  environment functions:`,
    ...pairs(Object.entries(c.environmentFunctions)),
    `  assertion sites evaluated: ${evaluated} of ${c.assertions.length}${neverEvaluated.length > 0 ? ` (never: ${neverEvaluated.join(', ')})` : ''}`,
    `  assertion sites failed (the step panicked there): ${failed.length}`,
    ...pairs(failed.map((a) => [a.id, a.failed] as const)),
    `  invariants checked after ${c.invariants[0]?.checks ?? 0} steps; failed: ${invariantsFailed.length} of ${c.invariants.length}`,
    ...pairs(invariantsFailed.map((i) => [`${i.id} (${i.class})`, i.failures] as const)),
    `  calls (legal+misuse):`,
    ...pairs(c.calls.filter((k) => k.legal + k.misuse > 0).map((k) => [k.call, k.legal + k.misuse] as const)),
    `  calls never made: ${c.calls.filter((k) => k.legal + k.misuse === 0).map((k) => k.call).join(', ') || 'none'}`,
  ];
}

export interface SavedFiles {
  readonly counterexample: string | null;
  readonly findings: readonly (string | null)[];
}

/** Builds the machine-readable report of `check --json`. */
export function checkJson(result: CheckResult, files: SavedFiles, header: Record<string, unknown>): unknown {
  const cx = result.counterexample;
  return {
    ...header,
    verdict: result.verdict,
    runs: result.runs,
    counterexample: cx === null ? null : {
      run: cx.run,
      originalSteps: cx.originalSteps,
      shrinks: cx.shrinks,
      steps: cx.trace.steps.length,
      path: cx.trace.path ?? null,
      firstDifference: cx.trace.firstDifference,
      file: files.counterexample,
    },
    findings: result.findings.map((f, i) => ({
      kind: f.kind, id: f.id, class: f.class, run: f.run, stepIndex: f.stepIndex,
      legalOnly: f.legalOnly, message: f.message, file: files.findings[i] ?? null,
    })),
    coverage: result.coverage,
    verdicts: result.verdicts.verdicts,
    totals: result.verdicts.totals,
  };
}
