/**
 * pnpm's way of refusing: an Error whose `code` starts with ERR_PNPM_ and whose `hint` says what to do. A module of its
 * own, with nothing from the engine, so that the pnpmfile's loader can refuse in pnpm's words too; refuse.ts builds
 * every other refusal on it.
 */
export type PortcullisPnpmCode = 'BLOCKED' | 'UNDECIDED' | 'POLICY' | 'SETTINGS' | 'RECORD' | 'STORE';

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

/**
 * pnpm 10 and 11: the build settings replayed from a record (replay.ts) are not what the engine decides now for the same
 * question. `differ`: where (replay.ts `changesDiffer`); `records`: the folder the record is kept in.
 */
export function recordDiffersError(differ: readonly string[], records: string): PnpmError {
  return pnpmError(
    'RECORD',
    `portcullis stopped pnpm: the build settings replayed for this command from the record of an earlier, identical one differ from what portcullis.json gives now, in ${differ.join('; ')}. Nothing was fetched or built`,
    `  fix: run the command again: the record now holds what portcullis.json gives. If neither portcullis.json nor the registry's versions of a ranged scripts.allow entry changed since the last run, the record was edited: check who can write ${records}.`,
  );
}
