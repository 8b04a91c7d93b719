/** pnpm's way of refusing: an Error whose `code` starts with ERR_PNPM_ and whose `hint` says what to do. */

export type PortcullisPnpmCode = 'BLOCKED' | 'UNDECIDED' | 'POLICY' | 'SETTINGS';

export interface PnpmError extends Error {
  code: `ERR_PNPM_PORTCULLIS_${PortcullisPnpmCode}`;
  hint: string;
}

/** pnpm 10 and 11 print `message` and `hint` cleanly; pnpm 12 prints the stack, so the stack is the same text. */
export function pnpmError(code: PortcullisPnpmCode, message: string, hint: string): PnpmError {
  const error = new Error(message) as PnpmError;
  error.code = `ERR_PNPM_PORTCULLIS_${code}`;
  error.hint = hint;
  error.stack = `${message}\n${hint}`;
  return error;
}
