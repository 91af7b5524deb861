// Passes every line between the harness and the implementation server
// (conformance/exec/impl-server.ts), except that the first process started
// with a given MARKER file path shifts the running thread ids of its third
// step response. Later processes find the marker and pass every response unchanged.
// Usage: node flaky.mjs MARKER
import { spawn } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const marker = process.argv[2];
const corrupting = !existsSync(marker);
if (corrupting) writeFileSync(marker, 'started\n');

const root = fileURLToPath(new URL('../../../', import.meta.url));
const server = spawn(process.execPath, ['--import', 'tsx', 'conformance/exec/impl-server.ts'], { cwd: root, stdio: ['pipe', 'pipe', 'inherit'] });
process.stdin.pipe(server.stdin);
server.on('exit', (code) => process.exit(code ?? 1));

let steps = 0;
createInterface({ input: server.stdout }).on('line', (line) => {
  const response = JSON.parse(line);
  if (response.running !== undefined && ++steps === 3 && corrupting) {
    process.stderr.write('flaky: shifting the running threads of the third step\n');
    response.running = response.running.map((td) => td + 100);
  }
  process.stdout.write(`${JSON.stringify(response)}\n`);
});
