/**
 * The pnpm process a hook worker belongs to, from /proc (Linux): pnpm 12 runs hooks in child Node processes. Its own
 * module, with Node built-ins only, so that the pnpmfile's small loader can use it without the engine.
 */
import { readFileSync } from 'node:fs';

/** The pnpm process a hook runs under (pnpm 12: an ancestor of the hook worker): its pid, start time and command line. */
export interface PnpmProcess {
  pid: number;
  /** Field 22 of `/proc/<pid>/stat` (undefined if unreadable): with the pid, names this process and no later one reusing the pid. */
  startTime: string | undefined;
  argv: string[];
}

/**
 * The nearest ancestor process that is pnpm. Not simply the parent: pnpm 12 starts its hook worker with the
 * `node` on PATH, and a `node` shim (volta, asdf, a package's bin script) puts a shell in between.
 */
export function pnpmAncestor(start: number, proc = '/proc'): PnpmProcess | undefined {
  let pid = start;
  for (let hops = 0; hops < 8 && pid > 1; hops++) {
    let argv: string[];
    let stat: string;
    try {
      argv = readFileSync(`${proc}/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
      stat = readFileSync(`${proc}/${pid}/stat`, 'utf8');
    } catch {
      return undefined;
    }
    // `pid (comm) state ppid …`: comm may hold spaces and parentheses, so read after the last `)`.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const program = (argv[0] ?? '').split('/').pop() ?? '';
    if (/^(pnpm|pnpx|pn)$/.test(program)) {
      const startTime = fields[19];
      return { pid, startTime: startTime !== undefined && /^\d+$/.test(startTime) ? startTime : undefined, argv: argv.slice(1) };
    }
    const ppid = Number(fields[1]);
    if (!Number.isInteger(ppid) || ppid === pid) return undefined;
    pid = ppid;
  }
  return undefined;
}

