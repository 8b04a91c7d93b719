/** `portcullis init pnpm`. */
import { PortcullisError } from '@portcullis/core';

export async function initPnpm(_dir: string): Promise<number> {
  throw new PortcullisError('USAGE', 'portcullis init pnpm is not available in this version yet');
}
