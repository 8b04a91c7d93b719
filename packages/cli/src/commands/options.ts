/** Options shared by the commands. */
import { resolve } from 'node:path';

/** The project directory: --dir, else the working directory. */
export function projectDir(dir: string | undefined): string {
  return resolve(process.cwd(), dir ?? '.');
}
