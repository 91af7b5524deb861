// The optimized implementation (impl/, an implementation of DragonFly BSD's
// sys/kern/lwkt_thread.c rev 1.71) as a standalone program that speaks the line
// protocol of spec/protocol.md on stdin and stdout, with every capability.
// Run it with `node --import tsx conformance/exec/impl-server.ts`; the test
// suite checks it through `lwkt-conformance check --exec`.
import { createInterface } from 'node:readline';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { PROTOCOL_VERSION, Request, type Capabilities } from '../../spec/protocol.js';
import type { Config, Step } from '../../spec/schema.js';
import { LwktImpl } from '../../impl/index.js';
import { IN_PROCESS_CAPABILITIES } from '../profiles/capabilities.js';

// The server wraps the in-process implementation, so it claims the same.
const CAPABILITIES: Capabilities = IN_PROCESS_CAPABILITIES;

const requestChecker = TypeCompiler.Compile(Request);

type ErrorCode = 'unsupported' | 'invalid-request' | 'internal';

let impl: LwktImpl | null = null;

function send(response: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(response)}\n`);
}

function sendError(id: number | null, code: ErrorCode, message: string): void {
  send({ id, ok: false, error: { code, message } });
}

function reset(config: Config): void {
  if (!config.smp && config.ncpus !== 1) throw new RangeError(`smp false needs ncpus 1, not ${config.ncpus}`);
  impl = new LwktImpl(config);
}

/** Runs one parsed request and writes its response. */
function serve(request: Request): void {
  const { id } = request;
  switch (request.op) {
    case 'hello':
      send({ id, ok: true, protocol: PROTOCOL_VERSION, name: 'lwkt-impl', capabilities: CAPABILITIES });
      return;
    case 'reset':
      reset(request.config);
      send({ id, ok: true });
      return;
    case 'step': {
      if (impl === null) return sendError(id, 'invalid-request', 'step before the first reset');
      const result = impl.step(request.step as Step);
      send({ id, ok: true, result, running: impl.running() });
      return;
    }
    case 'snapshot':
      if (impl === null) return sendError(id, 'invalid-request', 'snapshot before the first reset');
      send({ id, ok: true, state: impl.snapshot() });
      return;
    case 'quit':
      send({ id, ok: true });
      process.stdout.end(() => process.exit(0));
      return;
  }
}

function onLine(line: string): void {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return sendError(null, 'invalid-request', 'the request line is not JSON');
  }
  const id = typeof (value as { id?: unknown } | null)?.id === 'number' ? (value as { id: number }).id : null;
  if (!requestChecker.Check(value)) {
    const e = requestChecker.Errors(value).First();
    return sendError(id, 'invalid-request', `the request does not match the protocol schema at ${e?.path || '(root)'}: ${e?.message ?? 'mismatch'}`);
  }
  try {
    serve(value);
  } catch (err) {
    process.stderr.write(`impl-server: request ${id}: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
    sendError(id, 'internal', err instanceof Error ? err.message : String(err));
  }
}

createInterface({ input: process.stdin, crlfDelay: Infinity }).on('line', onLine);
