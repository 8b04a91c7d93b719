/** `portcullis init yarn`. */
import { PortcullisError } from '@portcullis/core';

export async function initYarn(_dir: string): Promise<number> {
  throw new PortcullisError('USAGE', 'portcullis init yarn is not available in this version yet');
}
