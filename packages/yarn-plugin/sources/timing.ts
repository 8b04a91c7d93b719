/**
 * Phase timings on stderr with PORTCULLIS_TIMING set (profiling only): wall ms since the process started, CPU ms of this
 * process, and memory in MB: resident, V8's heap in use of what the heap holds, memory outside the heap and array buffers.
 */
import { performance } from 'node:perf_hooks';

export function mark(label: string): void {
  if (!process.env.PORTCULLIS_TIMING) return;
  const cpu = process.cpuUsage();
  const memory = process.memoryUsage();
  const mb = (bytes: number) => (bytes / 1024 / 1024).toFixed(0);
  process.stderr.write(`portcullis-yarn timing: ${label} ${performance.now().toFixed(0)} ms cpu ${((cpu.user + cpu.system) / 1000).toFixed(0)} ms rss ${mb(memory.rss)} MB heap ${mb(memory.heapUsed)} MB of ${mb(memory.heapTotal)} external ${mb(memory.external)} buffers ${mb(memory.arrayBuffers)}\n`);
}
