// Passes every line between the harness and the implementation server
// (conformance/exec/impl-server.ts), except that the first process started
// with a given MARKER file path writes a line to stderr and exits after its
// third step response. Later processes find the marker, say so on stderr and
// pass every response unchanged, so the crash does not happen again.
// Usage: node crash-once.mjs MARKER
import { spawn } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const marker = process.argv[2];
const crashing = !existsSync(marker);
if (crashing) writeFileSync(marker, 'started\n');
else process.stderr.write('crash-once: healthy process\n');

const root = fileURLToPath(new URL('../../../', import.meta.url));
const server = spawn(process.execPath, ['--import', 'tsx', 'conformance/exec/impl-server.ts'], { cwd: root, stdio: ['pipe', 'pipe', 'inherit'] });
process.stdin.pipe(server.stdin);
server.on('exit', (code) => process.exit(code ?? 1));

let steps = 0;
createInterface({ input: server.stdout }).on('line', (line) => {
  const response = JSON.parse(line);
  if (response.running !== undefined && ++steps === 3 && crashing) {
    process.stderr.write('crash-once: aborting after the third step\n');
    server.kill('SIGKILL');
    process.exit(134);
  }
  process.stdout.write(`${JSON.stringify(response)}\n`);
});
