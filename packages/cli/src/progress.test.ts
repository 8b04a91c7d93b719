import { describe, expect, it } from 'vitest';
import { progressLine } from './progress.js';

function stream(isTTY: boolean) {
  const written: string[] = [];
  return { written, stream: { isTTY, write: (s: string) => written.push(s) } as unknown as NodeJS.WriteStream };
}

describe('the progress line', () => {
  it('on a terminal: counts with thousands separators, throttled, always the first and last count, erased at the end', () => {
    const { written, stream: s } = stream(true);
    let t = 0;
    const progress = progressLine(s, true, () => t);
    progress.update(0, 3000);
    progress.update(1, 3000); // within 100 ms: not drawn
    t = 150;
    progress.update(1234, 3000);
    progress.update(3000, 3000); // the last count is drawn at once
    progress.clear();
    expect(written).toEqual(['\r\u001b[2Kchecking 0/3,000 packages…', '\r\u001b[2Kchecking 1,234/3,000 packages…', '\r\u001b[2Kchecking 3,000/3,000 packages…', '\r\u001b[2K']);
  });

  it('never without a terminal, and never when the format is read by machines', () => {
    for (const [tty, wanted] of [[false, true], [true, false]] as const) {
      const { written, stream: s } = stream(tty);
      const progress = progressLine(s, wanted);
      progress.update(0, 10);
      progress.update(10, 10);
      progress.clear();
      expect(written).toEqual([]);
    }
  });
});
