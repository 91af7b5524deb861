// Responds to the first step request with an endless line: 1 MiB chunks of 'x'
// without a newline, until the harness closes the pipe.
import { serve } from './serve.mjs';

const chunk = 'x'.repeat(1024 * 1024);

function writeForever() {
  while (process.stdout.write(chunk));
  process.stdout.once('drain', writeForever);
}

serve(() => {
  process.stderr.write('huge-line: writing an endless line\n');
  process.stdout.on('error', () => process.exit(0));
  writeForever();
});
