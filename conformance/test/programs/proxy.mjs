// Runs the implementation server (conformance/exec/impl-server.ts) as a child
// and connects it to this process: stdin goes to the server unchanged, and
// each response line the server writes is passed to `onResponse` as parsed
// JSON, which writes it on (possibly altered) or ends the process.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

/** Starts the server and calls `onResponse(response, server)` for every line it writes. */
export function proxyImplServer(onResponse) {
  const root = fileURLToPath(new URL('../../../', import.meta.url));
  const server = spawn(process.execPath, ['--import', 'tsx', 'conformance/exec/impl-server.ts'], { cwd: root, stdio: ['pipe', 'pipe', 'inherit'] });
  process.stdin.pipe(server.stdin);
  server.on('exit', (code) => process.exit(code ?? 1));
  createInterface({ input: server.stdout }).on('line', (line) => onResponse(JSON.parse(line), server));
}

/** Writes one response line on stdout. */
export function respond(response) {
  process.stdout.write(`${JSON.stringify(response)}\n`);
}
