// Tool version string written into reports and traces, from package.json.
import { readFileSync } from 'node:fs';

function readVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { name?: string; version?: string };
  return `${pkg.name ?? 'lwkt-conformance'} ${pkg.version ?? '0.0.0'}`;
}

export const TOOL_VERSION = readVersion();
