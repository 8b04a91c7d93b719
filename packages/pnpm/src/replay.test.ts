import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { applyAnswer, canonicalJson, configChanges, configFromSnapshot, configSnapshot, fileStates, questionOf, recordUpdateConfig, REPLAY_FOR_MS, replayUpdateConfig, sameChanges, changesDiffer, type ReplayAnswer, type ReplayQuestion } from './replay.js';
import { listSourceFiles, type AdvisorySourcesState } from '@portcullis/core/loader';

let root: string;
let env: NodeJS.ProcessEnv;
let project: string;
const pnpm = { pid: 4242, startTime: '123456', argv: ['install', '--frozen-lockfile'] };

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'portcullis-replay-'));
  env = { PORTCULLIS_CACHE_DIR: join(root, 'cache'), PORTCULLIS_STATE_DIR: join(root, 'state'), PATH: '/usr/bin' };
  project = join(root, 'project');
  mkdirSync(project);
  writeFileSync(join(project, 'pnpm-lock.yaml'), "lockfileVersion: '9.0'\n");
  writeFileSync(join(project, 'package.json'), '{"name":"app"}\n');
  writeFileSync(join(project, 'portcullis.json'), '{"scripts":{"allow":[]}}\n');
});

const pnpmConfig = (): Record<string, unknown> => ({ lockfileDir: project, allowBuilds: { 'evil-postinstall': true }, dangerouslyAllowAllBuilds: true, globalShims: { node: 'auto', bun: 'auto' }, registry: 'http://127.0.0.1:9/' });
const question = (config = pnpmConfig(), over: Partial<ReplayQuestion> = {}): ReplayQuestion => ({ engine: 'e1', pnpmfile: join(project, '.pnpmfile.cjs'), pnpm, config: configSnapshot(config)!, env, cwd: project, ...over });
const inputs = () => [join(project, 'pnpm-lock.yaml'), join(project, 'package.json'), join(project, 'pnpm-workspace.yaml'), join(project, 'portcullis.json'), join(root, 'portcullis.json')];

/** What the engine's updateConfig does to the configuration (narrowed, never widened). */
function decide(config: Record<string, unknown>): Record<string, unknown> {
  config.allowBuilds = { 'evil-postinstall': false };
  config.dangerouslyAllowAllBuilds = false;
  config.strictDepBuilds = false;
  delete config.onlyBuiltDependenciesFile;
  return config;
}

/** Records the engine's answer to `q` as hooks.ts does: the files' states taken before deciding. */
function recordFor(q: ReplayQuestion, now = Date.now(), advisories: AdvisorySourcesState | null = null): { answer: ReplayAnswer; decided: Record<string, unknown> } {
  const files = fileStates(inputs(), now)!;
  const before = pnpmConfig();
  const snapshot = configSnapshot(before)!;
  const decided = decide(before);
  const lockfile = join(project, 'pnpm-lock.yaml');
  const judged = files.find(([path]) => path === lockfile)![1]!;
  const answer: ReplayAnswer = { ...configChanges(snapshot, decided)!, said: 'portcullis: skipped evil-postinstall@1.0.0\n', lockfile, judged, noticed: ['evil-postinstall@1.0.0'] };
  expect(recordUpdateConfig(questionOf(q)!, env, files, advisories, answer, now)).toBe(true);
  return { answer, decided };
}

describe("pnpm 12's updateConfig replayed from a record", () => {
  it("is keyed by pnpm's whole configuration: another storeDir is another question (an answer that judged one store never answers for another)", () => {
    recordFor(question());
    expect(replayUpdateConfig(question({ ...pnpmConfig(), storeDir: '.pnpm-store' }))).toBeUndefined();
    expect(questionOf(question({ ...pnpmConfig(), storeDir: '/home/u/store' }))!.text).not.toBe(questionOf(question({ ...pnpmConfig(), storeDir: '.pnpm-store' }))!.text);
  });

  it('another virtualStoreDir or enableGlobalVirtualStore is another question too (r43b: a virtual store inside the checkout is judged again)', () => {
    recordFor(question());
    expect(replayUpdateConfig(question({ ...pnpmConfig(), virtualStoreDir: 'gvs' }))).toBeUndefined();
    expect(replayUpdateConfig(question({ ...pnpmConfig(), enableGlobalVirtualStore: true }))).toBeUndefined();
    const texts = [{}, { virtualStoreDir: 'gvs' }, { virtualStoreDir: 'gvs', enableGlobalVirtualStore: true }, { enableGlobalVirtualStore: false }].map((extra) => questionOf(question({ ...pnpmConfig(), ...extra }))!.text);
    expect(new Set(texts).size).toBe(texts.length);
  });

  it('the same question gets the same answer, applied as the engine applied it; map order does not matter', () => {
    const { decided } = recordFor(question());
    // pnpm 12 does not keep every map's order from one run to the next (measured): the question is compared key-sorted.
    const reordered = { ...pnpmConfig(), globalShims: { bun: 'auto', node: 'auto' } };
    const answer = replayUpdateConfig(question(reordered));
    expect(answer).toBeDefined();
    expect(answer!.said).toBe('portcullis: skipped evil-postinstall@1.0.0\n');
    expect(answer!.noticed).toEqual(['evil-postinstall@1.0.0']);
    expect(canonicalJson(applyAnswer(reordered, answer!))).toBe(canonicalJson(decided));
  });

  it('any other question, or any file the answer came from changed, appeared or disappeared, gets no answer', () => {
    recordFor(question());
    const misses: Array<[string, () => ReplayQuestion]> = [
      ['another configuration (a user allowBuilds)', () => question({ ...pnpmConfig(), allowBuilds: { 'evil-postinstall': true, other: true } })],
      ['another command line', () => question(pnpmConfig(), { pnpm: { ...pnpm, argv: ['install', '--config.allow-builds={"evil-postinstall":true}'] } })],
      ['another environment', () => question(pnpmConfig(), { env: { ...env, PORTCULLIS_STRICT_SCRIPTS: '1' } })],
      ['another folder', () => question(pnpmConfig(), { cwd: root })],
      ['another engine', () => question(pnpmConfig(), { engine: 'e2' })],
      ['another pnpmfile', () => question(pnpmConfig(), { pnpmfile: join(root, '.pnpmfile.cjs') })],
    ];
    for (const [what, q] of misses) expect(replayUpdateConfig(q()), what).toBeUndefined();
    expect(replayUpdateConfig(question())).toBeDefined();

    const edits: Array<[string, () => void, () => void]> = [
      ['the lockfile', () => writeFileSync(join(project, 'pnpm-lock.yaml'), "lockfileVersion: '9.0'\n# edited\n"), () => writeFileSync(join(project, 'pnpm-lock.yaml'), "lockfileVersion: '9.0'\n")],
      ['the policy', () => writeFileSync(join(project, 'portcullis.json'), '{"scripts":{"allow":["evil-postinstall"]}}\n'), () => writeFileSync(join(project, 'portcullis.json'), '{"scripts":{"allow":[]}}\n')],
      ['the policy removed', () => rmSync(join(project, 'portcullis.json')), () => writeFileSync(join(project, 'portcullis.json'), '{"scripts":{"allow":[]}}\n')],
      ['a policy file appearing at a path the lookup looked at', () => writeFileSync(join(root, 'portcullis.json'), '{}\n'), () => rmSync(join(root, 'portcullis.json'))],
      ['pnpm-workspace.yaml appearing', () => writeFileSync(join(project, 'pnpm-workspace.yaml'), 'strictDepBuilds: true\n'), () => rmSync(join(project, 'pnpm-workspace.yaml'))],
      ['package.json', () => writeFileSync(join(project, 'package.json'), '{"name":"app","dependencies":{"x":"1"}}\n'), () => writeFileSync(join(project, 'package.json'), '{"name":"app"}\n')],
      ['a folder where a file was', () => mkdirSync(join(project, 'pnpm-workspace.yaml')), () => rmSync(join(project, 'pnpm-workspace.yaml'), { recursive: true })],
    ];
    for (const [what, edit, undo] of edits) {
      edit();
      expect(replayUpdateConfig(question()), what).toBeUndefined();
      undo();
      expect(replayUpdateConfig(question()), `${what}, undone`).toBeDefined();
    }
  });

  it('files not changed for a few seconds are kept as their stamps: replayed while each has it, never after a change', async () => {
    // `later` is well past the files' changes: their states are stamps (a stat), not bytes.
    const later = Date.now() + 10_000;
    recordFor(question(), later);
    const folder = join(env.PORTCULLIS_STATE_DIR!, 'pnpm-replay-v3');
    const record = readFileSync(join(folder, readdirSync(folder)[0]!), 'latin1');
    expect(record).not.toContain('lockfileVersion');
    expect(record).not.toContain('"allow":[]');
    const answer = replayUpdateConfig(question(), later);
    expect(typeof answer?.judged).toBe('string');
    // The kernel's clock moves on between changes (ctime is kept in steps as coarse as a few milliseconds).
    const tick = () => new Promise((done) => setTimeout(done, 30));
    const lockfile = join(project, 'pnpm-lock.yaml');
    const changes: Array<[string, () => void]> = [
      ['the lockfile, the same number of other bytes', () => writeFileSync(lockfile, "lockfileVersion: '6.0'\n")],
      ['the lockfile written again with the same bytes', () => writeFileSync(lockfile, "lockfileVersion: '9.0'\n")],
      ["the lockfile's times set back", () => utimesSync(lockfile, new Date(2020, 1, 1), new Date(2020, 1, 1))],
      ['another lockfile renamed over it', () => {
        writeFileSync(`${lockfile}.new`, "lockfileVersion: '9.0'\n");
        renameSync(`${lockfile}.new`, lockfile);
      }],
      ['the policy, the same number of other bytes', () => writeFileSync(join(project, 'portcullis.json'), '{"scripts":{"allow":[1]}}\n')],
      ['a policy file appearing at a path the lookup looked at', () => writeFileSync(join(root, 'portcullis.json'), '{}\n')],
      ['package.json removed', () => rmSync(join(project, 'package.json'))],
    ];
    for (const [what, change] of changes) {
      recordFor(question(), later);
      expect(replayUpdateConfig(question(), later), what).toBeDefined();
      await tick();
      change();
      expect(replayUpdateConfig(question(), later), what).toBeUndefined();
    }
  });

  it('a file changed in the last few seconds is kept whole and compared byte for byte, and as its stamp once a stat can vouch for it', () => {
    const now = Date.now();
    recordFor(question(), now);
    const folder = join(env.PORTCULLIS_STATE_DIR!, 'pnpm-replay-v3');
    const file = join(folder, readdirSync(folder)[0]!);
    const kept = readFileSync(file, 'latin1');
    expect(kept).toContain("lockfileVersion: '9.0'");
    expect(Buffer.isBuffer(replayUpdateConfig(question(), now)?.judged)).toBe(true);
    expect(readFileSync(file, 'latin1')).toBe(kept);

    // Other bytes, however old: no answer, and the record keeps the bytes it was decided from.
    const later = Date.now() + 10_000;
    const lockfile = join(project, 'pnpm-lock.yaml');
    writeFileSync(lockfile, "lockfileVersion: '6.0'\n");
    expect(replayUpdateConfig(question(), later)).toBeUndefined();
    expect(readFileSync(file, 'latin1')).toBe(kept);

    // The same bytes, a stat now vouching for them: the answer, and from then on the record keeps stamps (same answer, same age).
    writeFileSync(lockfile, "lockfileVersion: '9.0'\n");
    const answer = replayUpdateConfig(question(), later);
    expect(typeof answer?.judged).toBe('string');
    const restated = readFileSync(file, 'latin1');
    expect(restated).not.toContain('lockfileVersion');
    expect(restated).toContain(`"at":${now}`);
    expect(replayUpdateConfig(question(), later)).toEqual(answer);
    expect(replayUpdateConfig(question(), now + REPLAY_FOR_MS)).toBeUndefined();
  });

  it('advisory sources: replayed while their state has the key the decision used; touched, added to or gone, not', () => {
    const folder = join(root, 'osv');
    mkdirSync(folder);
    writeFileSync(join(folder, 'a.json'), '[]');
    const advisories = { sources: [folder], format: 'test-format', key: listSourceFiles([folder], 'test-format').key };
    recordFor(question(), Date.now(), advisories);
    expect(replayUpdateConfig(question())).toBeDefined();
    utimesSync(join(folder, 'a.json'), new Date(2020, 1, 1), new Date(2020, 1, 1));
    expect(replayUpdateConfig(question()), 'a record file touched').toBeUndefined();

    recordFor(question(), Date.now(), { ...advisories, key: listSourceFiles([folder], 'test-format').key });
    expect(replayUpdateConfig(question())).toBeDefined();
    writeFileSync(join(folder, 'b.json'), '[]');
    expect(replayUpdateConfig(question()), 'a record file added').toBeUndefined();
    rmSync(folder, { recursive: true });
    expect(replayUpdateConfig(question()), 'the source gone').toBeUndefined();
  });

  it("a record is believed only from this user's state folder, not writable by others, whole, for an hour, naming its own question", () => {
    const q = question();
    const now = Date.now();
    recordFor(q, now);
    const folder = join(env.PORTCULLIS_STATE_DIR!, 'pnpm-replay-v3');
    const [name] = readdirSync(folder);
    const file = join(folder, name!);
    const stored = readFileSync(file);

    // The answer gives back the lockfile's bytes it was decided from (changed just now: kept as bytes, not as a stamp;
    // the token carries them to the second worker).
    expect(Buffer.isBuffer(replayUpdateConfig(q)!.judged)).toBe(true);
    expect(replayUpdateConfig(q)!.judged.toString()).toBe("lockfileVersion: '9.0'\n");

    // Cut short, or with bytes after the files it keeps: not believed.
    writeFileSync(file, stored.subarray(0, stored.length - 1));
    expect(replayUpdateConfig(q)).toBeUndefined();
    writeFileSync(file, Buffer.concat([stored, Buffer.from('x')]));
    expect(replayUpdateConfig(q)).toBeUndefined();
    // The lockfile's kept bytes are what the file is compared with: other kept bytes, no answer.
    writeFileSync(file, Buffer.from(stored.toString('latin1').replace("lockfileVersion: '9.0'", "lockfileVersion: '6.0'"), 'latin1'));
    expect(replayUpdateConfig(q)).toBeUndefined();
    writeFileSync(file, stored);
    expect(replayUpdateConfig(q)).toBeDefined();
    // A link to a record (even this user's own) is not followed.
    renameSync(file, join(root, 'record-elsewhere'));
    symlinkSync(join(root, 'record-elsewhere'), file);
    expect(replayUpdateConfig(q)).toBeUndefined();
    rmSync(file);
    renameSync(join(root, 'record-elsewhere'), file);
    expect(replayUpdateConfig(q)).toBeDefined();
    // Writable by others: not this user's word.
    chmodSync(file, 0o666);
    expect(replayUpdateConfig(q)).toBeUndefined();
    chmodSync(file, 0o600);
    // Another user's state folder says nothing; nor does a record put in the cache folder (a CI may restore it from elsewhere).
    expect(replayUpdateConfig({ ...q, env: { ...env, PORTCULLIS_STATE_DIR: join(root, 'other-state') } })).toBeUndefined();
    mkdirSync(join(env.PORTCULLIS_CACHE_DIR!, 'pnpm-replay-v3'), { recursive: true });
    writeFileSync(join(env.PORTCULLIS_CACHE_DIR!, 'pnpm-replay-v3', name!), stored);
    rmSync(file);
    expect(replayUpdateConfig(q)).toBeUndefined();
    writeFileSync(file, stored);
    expect(replayUpdateConfig(q)).toBeDefined();
    // Another question of the same folder and command line takes the same file: each is compared in full, so the record
    // answers only the question it holds.
    const other = question({ ...pnpmConfig(), registry: 'http://127.0.0.1:8/' });
    recordFor(other, now);
    expect(readdirSync(folder)).toEqual([name]);
    expect(replayUpdateConfig(q)).toBeUndefined();
    expect(replayUpdateConfig(other)).toBeDefined();
    // An hour at most, and never from the future. (Last: a replay this much later finds the files settled and keeps
    // their stamps from then on, which a replay at the real time cannot vouch for yet.)
    expect(replayUpdateConfig(other, now - 1000)).toBeUndefined();
    expect(replayUpdateConfig(other, now + REPLAY_FOR_MS)).toBeUndefined();
    expect(replayUpdateConfig(other, now + REPLAY_FOR_MS - 1)).toBeDefined();
  });

  it('is not recorded when a file changed while updateConfig decided, nor without the lockfile judged among its files', () => {
    const files = fileStates(inputs())!;
    writeFileSync(join(project, 'portcullis.json'), '{"scripts":{"allow":["evil-postinstall"]}}\n');
    const lockfile = join(project, 'pnpm-lock.yaml');
    const answer: ReplayAnswer = { set: [], removed: [], said: '', lockfile, judged: files.find(([p]) => p === lockfile)![1]!, noticed: [] };
    expect(recordUpdateConfig(questionOf(question())!, env, files, null, answer)).toBe(false);

    const q = question();
    const withoutLockfile = fileStates(inputs().filter((p) => p !== lockfile))!;
    expect(recordUpdateConfig(questionOf(q)!, env, withoutLockfile, null, answer)).toBe(false);
    expect(replayUpdateConfig(q)).toBeUndefined();
    // Nor with other bytes than the lockfile had when its states were taken.
    writeFileSync(join(project, 'portcullis.json'), '{"scripts":{"allow":[]}}\n');
    expect(recordUpdateConfig(questionOf(q)!, env, fileStates(inputs())!, null, { ...answer, judged: Buffer.from('other') })).toBe(false);
    expect(recordUpdateConfig(questionOf(q)!, env, fileStates(inputs())!, null, answer)).toBe(true);
    expect(replayUpdateConfig(q)).toBeDefined();
  });

  it("never sets an object's prototype", () => {
    const config: Record<string, unknown> = {};
    applyAnswer(config, { set: [['__proto__', { polluted: true }], ['constructor', 1], ['allowBuilds', {}]], removed: ['prototype'] });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.getPrototypeOf(config)).toBe(Object.prototype);
    expect(Object.keys(config)).toEqual(['allowBuilds']);
  });
});

describe("pnpm 10 and 11's configuration (pnpm's own objects in it)", () => {
  class LogStream {
    write() {}
  }
  const handed = () => ({ ...pnpmConfig(), hooks: { updateConfig: [(c: unknown) => c] }, logstream: new LogStream(), rawConfig: { registry: 'http://127.0.0.1:9/' } });

  it('leaves out what is not data (functions, objects of a class), and only that: the engine decides again from the rest', () => {
    const snapshot = configSnapshot(handed())!;
    expect([...snapshot.keys()].sort()).toEqual(['allowBuilds', 'dangerouslyAllowAllBuilds', 'globalShims', 'lockfileDir', 'rawConfig', 'registry']);
    // Made again for the engine: the same settings, none of pnpm's objects.
    expect(canonicalJson(configFromSnapshot(snapshot))).toBe(canonicalJson({ ...pnpmConfig(), rawConfig: { registry: 'http://127.0.0.1:9/' } }));
    // A setting too deep to compare is still no question at all (no record, no replay).
    let deep: Record<string, unknown> = {};
    const top = deep;
    for (let i = 0; i < 80; i++) deep = (deep.next = {}) as Record<string, unknown>;
    expect(configSnapshot({ ...pnpmConfig(), nested: top })).toBeUndefined();
  });

  it("the answer names what the hook changed, not pnpm's objects; a setting turned into one is no answer", () => {
    const before = handed();
    const snapshot = configSnapshot(before)!;
    const changes = configChanges(snapshot, decide(before))!;
    expect(changes.set.map(([key]) => key).sort()).toEqual(['allowBuilds', 'dangerouslyAllowAllBuilds', 'strictDepBuilds']);
    expect(changes.removed).toEqual([]);
    expect(configChanges(snapshot, { ...decide(handed()), registry: new LogStream() })).toBeUndefined();
  });

  it('two answers are the same when they set the same keys to the same values and remove the same keys, in any order', () => {
    const a = { set: [['allowBuilds', { x: false, y: true }], ['strictDepBuilds', false]] as Array<[string, unknown]>, removed: ['onlyBuiltDependenciesFile', 'neverBuiltDependencies'] };
    const reordered = { set: [['strictDepBuilds', false], ['allowBuilds', { y: true, x: false }]] as Array<[string, unknown]>, removed: ['neverBuiltDependencies', 'onlyBuiltDependenciesFile'] };
    expect(sameChanges(a, reordered)).toBe(true);
    expect(sameChanges(a, { ...a, set: [['allowBuilds', { x: true, y: true }], ['strictDepBuilds', false]] })).toBe(false);
    expect(sameChanges(a, { ...a, set: [['allowBuilds', { x: false, y: true }]] })).toBe(false);
    expect(sameChanges(a, { ...a, removed: ['onlyBuiltDependenciesFile'] })).toBe(false);
    // Where they differ, as the refusal names it: a map's entries, another value, a key one of them removes.
    expect(changesDiffer(a, reordered)).toEqual([]);
    expect(changesDiffer(a, { set: [['allowBuilds', { x: true, y: true, z: false }], ['strictDepBuilds', true]], removed: ['onlyBuiltDependenciesFile'] })).toEqual(['allowBuilds (x, z)', 'neverBuiltDependencies', 'strictDepBuilds']);
    const many = Object.fromEntries(Array.from({ length: 12 }, (_, i) => [`p${String(i).padStart(2, '0')}`, true]));
    expect(changesDiffer({ set: [['allowBuilds', many]], removed: [] }, { set: [['allowBuilds', {}]], removed: [] })).toEqual(['allowBuilds (p00, p01, p02, p03, p04, p05, p06, p07, p08, p09, and 2 more)']);
  });
});
