/** Phase timings on stderr with PORTCULLIS_TIMING set (profiling only): wall ms since the process started, CPU ms of this process. */
import { performance } from 'node:perf_hooks';

export function mark(label: string): void {
  if (!process.env.PORTCULLIS_TIMING) return;
  const cpu = process.cpuUsage();
  process.stderr.write(`portcullis-yarn timing: ${label} ${performance.now().toFixed(0)} ms cpu ${((cpu.user + cpu.system) / 1000).toFixed(0)} ms\n`);
}
