// Readable rendering of a trace: one table row per step.
import Table from 'cli-table3';
import type { Trace } from '../../spec/schema.js';
import { formatCall, formatResult } from '../generate/format.js';

/** Differences shown per step. The saved trace has them all. */
const DIFFERENCES_SHOWN = 4;

function runningText(model: readonly number[], impl: readonly number[] | undefined): string {
  const text = model.map((td, cpu) => `${cpu}:${td}`).join(' ');
  if (impl === undefined || impl.every((td, i) => td === model[i])) return text;
  return `${text}\nimpl ${impl.map((td, cpu) => `${cpu}:${td}`).join(' ')}`;
}

function differsText(differences: readonly string[], invariants: readonly string[]): string {
  const lines = differences.slice(0, DIFFERENCES_SHOWN);
  if (differences.length > DIFFERENCES_SHOWN) lines.push(`(${differences.length - DIFFERENCES_SHOWN} more in the trace file)`);
  for (const id of invariants) lines.push(`invariant ${id} fails`);
  return lines.join('\n');
}

/** Renders `trace` as a table. When given, `misuse[i]` marks step i as misuse. */
export function renderTrace(trace: Trace, misuse: readonly (string | null)[] = []): string {
  const table = new Table({
    head: ['step', 'cpu', 'call', 'model result', 'running (cpu:td)', 'differs'],
    style: { head: [], border: [] },
    wordWrap: true,
    colWidths: [6, 5, 34, 24, 18, 48],
  });
  for (const [i, record] of trace.steps.entries()) {
    const tag = misuse[i] === undefined || misuse[i] === null ? '' : ' [misuse]';
    table.push([
      String(i),
      String(record.step.cpu),
      `${formatCall(record.step)}${tag}`,
      formatResult(record.model),
      runningText(record.running, record.implRunning),
      differsText(record.differences, record.invariantsFailed),
    ]);
  }
  return table.toString();
}
