import { describe, expect, it } from 'vitest';
import { splitCommandLine } from '../exec/argv.js';
import { InputError } from '../run/errors.js';

describe('splitCommandLine', () => {
  it.each([
    ['./my-lwkt', ['./my-lwkt']],
    ['  node   prog.mjs\t--fast ', ['node', 'prog.mjs', '--fast']],
    ["node 'my prog.mjs'", ['node', 'my prog.mjs']],
    ['node "my prog.mjs"', ['node', 'my prog.mjs']],
    ['a"b c"d', ['ab cd']],
    ["say '' end", ['say', '', 'end']],
    ['say "" end', ['say', '', 'end']],
    ['echo "a \\"quoted\\" \\\\ word"', ['echo', 'a "quoted" \\ word']],
    ['echo "keep \\n as is"', ['echo', 'keep \\n as is']],
    ["echo 'no \\escapes \"here\"'", ['echo', 'no \\escapes "here"']],
    ['my\\ prog arg\\"', ['my prog', 'arg"']],
    ['run $HOME ~ *.js', ['run', '$HOME', '~', '*.js']],
    ["sh -c 'prog | tee log'", ['sh', '-c', 'prog | tee log']],
    ['prog "a;b" \\&', ['prog', 'a;b', '&']],
  ])('splits %j', (text, words) => {
    expect(splitCommandLine(text)).toEqual(words);
  });

  it.each([
    ['', 'the command is empty'],
    [' \t ', 'the command is empty'],
    ["prog 'open", 'the single quote at position 5 is not closed'],
    ['prog "open', 'the double quote at position 5 is not closed'],
    ['prog \\', 'it ends with a backslash'],
    ['prog > out', 'the shell operator > at position 5 is not supported'],
    ['a && b', 'the shell operator & at position 2 is not supported'],
    ['prog; rm', 'the shell operator ; at position 4 is not supported'],
  ])('rejects %j', (text, fragment) => {
    expect(() => splitCommandLine(text)).toThrow(InputError);
    expect(() => splitCommandLine(text)).toThrow(fragment);
  });
});
