/** The environment a command runs in (`process.env` or a test's own), read-only. */
export type Env = Readonly<Record<string, string | undefined>>;
