/** `portcullis init npm`. */
import { PortcullisError } from '@portcullis/core';

export async function initNpm(_dir: string): Promise<number> {
  throw new PortcullisError('USAGE', 'portcullis init npm is not available in this version yet');
}
