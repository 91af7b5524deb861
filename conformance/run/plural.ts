/** Formats a count with its noun, adding an s unless the count is 1: `plural(1, 'step')` is "1 step". */
export function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}
