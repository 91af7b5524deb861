// Structural comparison of plain JSON values, reported as one readable line
// per difference: `threads[5].td_pri: model 44, impl 12`.

/** Maximum differences listed for one step. The rest are only counted. */
export const MAX_DIFFERENCES = 20;

function show(v: unknown): string {
  if (v === undefined) return 'absent';
  if (typeof v === 'string') return JSON.stringify(v);
  const text = JSON.stringify(v);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function walk(model: unknown, impl: unknown, path: string, out: string[]): void {
  if (Object.is(model, impl)) return;
  if (Array.isArray(model) && Array.isArray(impl)) {
    if (model.length !== impl.length) {
      out.push(`${path}: model ${show(model)}, impl ${show(impl)}`);
      return;
    }
    for (let i = 0; i < model.length; i++) walk(model[i], impl[i], `${path}[${i}]`, out);
    return;
  }
  if (isObject(model) && isObject(impl)) {
    const keys = [...new Set([...Object.keys(model), ...Object.keys(impl)])].sort();
    for (const k of keys) walk(model[k], impl[k], path === '' ? k : `${path}.${k}`, out);
    return;
  }
  out.push(`${path}: model ${show(model)}, impl ${show(impl)}`);
}

/** Lists where `impl` differs from `model`, each path prefixed by `root`. */
export function diffValues(model: unknown, impl: unknown, root: string): string[] {
  const out: string[] = [];
  walk(model, impl, root, out);
  return out;
}

/** Caps a difference list at MAX_DIFFERENCES lines. */
export function capDifferences(all: readonly string[]): string[] {
  if (all.length <= MAX_DIFFERENCES) return [...all];
  return [...all.slice(0, MAX_DIFFERENCES), `... and ${all.length - MAX_DIFFERENCES} more differences`];
}
