/**
 * The progress line of long work on a terminal: "checking 1,234/3,000 packages…" on stderr, redrawn at most every
 * 100 ms and erased at the end. Only on a TTY and only beside the human report: never in JSON, SARIF or CI logs.
 */

/** What a command tells the line. */
export interface Progress {
  update(done: number, total: number): void;
  /** Erases the line (call before printing the report). */
  clear(): void;
}

const SILENT: Progress = { update() {}, clear() {} };

/** How often the line is redrawn at most. */
const REDRAW_MS = 100;

/** A progress line on `stream` when it is a terminal and `wanted`; a silent one otherwise. */
export function progressLine(stream: NodeJS.WriteStream, wanted: boolean, now: () => number = Date.now): Progress {
  if (!wanted || stream.isTTY !== true) return SILENT;
  let last = -Infinity;
  let shown = false;
  const count = new Intl.NumberFormat('en-US');
  return {
    update(done, total) {
      const t = now();
      // The first and the last count are always drawn; those between, throttled.
      if (shown && done !== total && t - last < REDRAW_MS) return;
      last = t;
      shown = true;
      stream.write(`\r\u001b[2Kchecking ${count.format(done)}/${count.format(total)} packages…`);
    },
    clear() {
      if (shown) stream.write('\r\u001b[2K');
      shown = false;
    },
  };
}
