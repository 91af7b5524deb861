// Closes its standard output at the first step request and keeps running.
import { closeSync } from 'node:fs';
import { serve } from './serve.mjs';

serve((request) => {
  process.stderr.write(`close-stdout: closing stdout at request ${request.id}\n`);
  closeSync(1);
  setInterval(() => {}, 1000);
});
