// One-line rendering of steps and results for tables and command names.
import type { Step, StepResult } from '../../spec/schema.js';

/** Formats a step as `lwkt_schedule(td=5)`, without its cpu. */
export function formatCall(step: Step): string {
  const args = Object.entries(step)
    .filter(([k]) => k !== 'cpu' && k !== 'call')
    .map(([k, v]) => `${k}=${JSON.stringify(v)}`);
  return `${step.call}(${args.join(', ')})`;
}

export function formatStep(step: Step): string {
  return `cpu${step.cpu}:${formatCall(step)}`;
}

/** Formats a result as `returned 7`, `panic crit_panic.negative`, `suspended`. */
export function formatResult(r: StepResult): string {
  let text: string = r.status;
  if (r.status === 'returned' && r.ret !== undefined && r.ret !== null) text += ` ${r.ret}`;
  if (r.panic !== undefined) text += ` ${r.panic.id}`;
  if (r.limit !== undefined) text += ` ${r.limit}`;
  if (r.completed.length > 0) text += `; completed ${r.completed.map((c) => `${c.td}:${c.call}`).join(' ')}`;
  if (r.printed.length > 0) text += `; printed ${r.printed.map((p) => p.site).join(' ')}`;
  return text;
}
