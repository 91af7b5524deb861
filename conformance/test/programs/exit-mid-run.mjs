// Exits with status 3 at the first step request.
import { serve } from './serve.mjs';

serve((request) => {
  process.stderr.write(`exit-mid-run: giving up at request ${request.id}\n`);
  process.exit(3);
});
