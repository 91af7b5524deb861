// Passes every line between the harness and the implementation server
// (conformance/exec/impl-server.ts), except that the first process started
// with a given MARKER file path writes a line to stderr and exits after its
// third step response. Later processes find the marker, say so on stderr and
// pass every response unchanged, so the crash does not happen again.
// Usage: node crash-once.mjs MARKER
import { existsSync, writeFileSync } from 'node:fs';
import { proxyImplServer, respond } from './proxy.mjs';

const marker = process.argv[2];
const crashing = !existsSync(marker);
if (crashing) writeFileSync(marker, 'started\n');
else process.stderr.write('crash-once: healthy process\n');

let steps = 0;
proxyImplServer((response, server) => {
  if (response.running !== undefined && ++steps === 3 && crashing) {
    process.stderr.write('crash-once: aborting after the third step\n');
    server.kill('SIGKILL');
    process.exit(134);
  }
  respond(response);
});
