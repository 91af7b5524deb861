// Splitting of the --exec command line into argv, without a shell. The rules
// are the quoting rules of the POSIX shell and nothing else: no variables,
// globs, redirections or pipes, so the program starts the same on every
// platform and a failure to start is the program's, not a shell's.
import { InputError } from '../run/errors.js';

/** Characters that a shell treats as operators. Unquoted ones are rejected, because no pipe or redirection would happen. */
const OPERATORS = new Set(['|', '&', ';', '<', '>', '(', ')']);

const isBlank = (c: string): boolean => c === ' ' || c === '\t' || c === '\n' || c === '\r';

/**
 * Splits `text` into words. Blanks separate words; 'single quotes' keep
 * everything literally; "double quotes" keep everything but \" and \\, which
 * stand for " and \; outside quotes a backslash makes the next character
 * literal. Throws an InputError for an empty command, an unterminated quote, a
 * trailing backslash or an unquoted shell operator.
 */
export function splitCommandLine(text: string, option = '--exec'): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let i = 0;
  const fail = (what: string): never => {
    throw new InputError(`${option} ${JSON.stringify(text)} is invalid: ${what}`);
  };

  while (i < text.length) {
    const c = text[i]!;
    if (isBlank(c)) {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
      i++;
      continue;
    }
    inWord = true;
    if (c === "'") {
      const end = text.indexOf("'", i + 1);
      if (end === -1) fail(`the single quote at position ${i} is not closed; add a closing '`);
      word += text.slice(i + 1, end);
      i = end + 1;
    } else if (c === '"') {
      i = readDoubleQuoted(text, i + 1, (s) => { word += s; }, () => fail(`the double quote at position ${i} is not closed; add a closing "`));
    } else if (c === '\\') {
      if (i + 1 >= text.length) fail('it ends with a backslash; remove it or quote it');
      word += text[i + 1];
      i += 2;
    } else if (OPERATORS.has(c)) {
      fail(`the shell operator ${c} at position ${i} is not supported because --exec runs the program without a shell; quote it, or run a shell explicitly: sh -c '...'`);
    } else {
      word += c;
      i++;
    }
  }
  if (inWord) words.push(word);
  if (words.length === 0) fail('the command is empty; give the program and its arguments, for example --exec "./my-lwkt --protocol"');
  return words;
}

/** Reads a double-quoted string that starts at `start`; returns the index after the closing quote. */
function readDoubleQuoted(text: string, start: number, emit: (s: string) => void, unterminated: () => never): number {
  let i = start;
  while (i < text.length) {
    const c = text[i]!;
    if (c === '"') return i + 1;
    if (c === '\\' && (text[i + 1] === '"' || text[i + 1] === '\\')) {
      emit(text[i + 1]!);
      i += 2;
      continue;
    }
    emit(c);
    i++;
  }
  return unterminated();
}
