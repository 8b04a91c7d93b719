import { generateKeyPairSync } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createRegistrySigner, type PackageNode } from '@portcullis/core';
import { JudgeWorker, serveJudgements, type JudgeWorkerStart } from './judge-worker.js';
import { registrySettingsOf } from './project.js';

const REGISTRY = 'http://127.0.0.1:9/';
const INTEGRITY = `sha512-${Buffer.alloc(64, 1).toString('base64')}`;

/** A stand-in for the pnpmfile started as the judging thread: `source` is its whole behaviour. */
function standIn(source: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'judge-worker-')), 'pnpmfile.cjs');
  writeFileSync(file, `const { parentPort, workerData } = require('node:worker_threads');\n${source}\n`);
  return file;
}

const node = (name: string, version: string): PackageNode => ({ id: `${name}@${version}`, name, version, integrity: INTEGRITY, source: 'registry', registry: REGISTRY, aliases: [], paths: [], dependents: ['.'] });
const ask = (worker: JudgeWorker) => worker.judge([node('a', '1.0.0')], new Map(), { partial: true, wholeGraphFollows: true });
const START = { dir: '/nowhere', registrySettings: {} };

describe('JudgeWorker: the hooks\' side fails closed', () => {
  it('a thread that ends fails the judgement waiting on it, and every one after it (UNDECIDED)', async () => {
    const worker = new JudgeWorker(standIn("parentPort.on('message', () => process.exit(0));"), START);
    await expect(ask(worker)).rejects.toMatchObject({ code: 'ERR_PNPM_PORTCULLIS_UNDECIDED', message: expect.stringContaining('fail closed') });
    await expect(ask(worker)).rejects.toMatchObject({ code: 'ERR_PNPM_PORTCULLIS_UNDECIDED' });
  });

  it('a thread that cannot start (its file throws) fails closed', async () => {
    const worker = new JudgeWorker(standIn("throw new Error('broken');"), START);
    await expect(ask(worker)).rejects.toMatchObject({ code: 'ERR_PNPM_PORTCULLIS_UNDECIDED', message: expect.stringContaining('broken') });
  });

  it('an answer to another question, or one with no verdict, is never taken as allowed', async () => {
    const empty = { findings: [], blocking: [], skipped: [], blocked: new Set(), exitCode: 0, notices: [], strippedRegistries: [] };
    const other = new JudgeWorker(standIn(`parentPort.on('message', (q) => parentPort.postMessage({ id: q.id + 1, verdict: ${JSON.stringify(empty).replace('{}', 'new Set()')} }));`), START);
    await expect(ask(other)).rejects.toMatchObject({ code: 'ERR_PNPM_PORTCULLIS_UNDECIDED', message: expect.stringContaining('not asked') });
    const none = new JudgeWorker(standIn("parentPort.on('message', (q) => parentPort.postMessage({ id: q.id }));"), START);
    await expect(ask(none)).rejects.toMatchObject({ code: 'ERR_PNPM_PORTCULLIS_UNDECIDED', message: expect.stringContaining('no verdict') });
    const junk = new JudgeWorker(standIn("parentPort.on('message', () => parentPort.postMessage('allowed'));"), START);
    await expect(ask(junk)).rejects.toMatchObject({ code: 'ERR_PNPM_PORTCULLIS_UNDECIDED' });
    // A verdict of another shape (no blocked set, no findings): never read as "nothing blocks".
    const shapeless = new JudgeWorker(standIn("parentPort.on('message', (q) => parentPort.postMessage({ id: q.id, verdict: { blocking: [], exitCode: 0 } }));"), START);
    await expect(ask(shapeless)).rejects.toMatchObject({ code: 'ERR_PNPM_PORTCULLIS_UNDECIDED', message: expect.stringContaining('another shape') });
  });

  it("the engine's own refusal (a broken portcullis.json) crosses as pnpm's error; any other error is UNDECIDED", async () => {
    const policy = new JudgeWorker(standIn("parentPort.on('message', (q) => parentPort.postMessage({ id: q.id, error: { message: 'portcullis.json:1:1 bad', code: 'ERR_PNPM_PORTCULLIS_POLICY', hint: 'Fix portcullis.json' } }));"), START);
    await expect(ask(policy)).rejects.toMatchObject({ code: 'ERR_PNPM_PORTCULLIS_POLICY', message: 'portcullis.json:1:1 bad', hint: 'Fix portcullis.json' });
    const other = new JudgeWorker(standIn("parentPort.on('message', (q) => parentPort.postMessage({ id: q.id, error: { message: 'boom', code: 'EACCES' } }));"), START);
    await expect(ask(other)).rejects.toMatchObject({ code: 'ERR_PNPM_PORTCULLIS_UNDECIDED', message: expect.stringContaining('boom') });
    const unknown = new JudgeWorker(standIn("parentPort.on('message', (q) => parentPort.postMessage({ id: q.id, error: { message: 'odd', code: 'ERR_PNPM_PORTCULLIS_ALLOWED', hint: 'h' } }));"), START);
    await expect(ask(unknown)).rejects.toMatchObject({ code: 'ERR_PNPM_PORTCULLIS_UNDECIDED', message: expect.stringContaining('odd') });
  });

  it('retire() tells the thread no question follows; a question after all is asked of a new thread', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'judge-worker-retire-'));
    // Answers with its own thread id (in a finding's message, so that the verdict keeps its shape); told to retire,
    // notes it and ends.
    const worker = new JudgeWorker(
      standIn(
        `parentPort.on('message', (m) => { if (m.retire === true) { require('node:fs').writeFileSync(require('node:path').join(${JSON.stringify(dir)}, 'told-' + require('node:worker_threads').threadId), 'x'); process.exit(0); } parentPort.postMessage({ id: m.id, verdict: { findings: [], blocking: [{ message: String(require('node:worker_threads').threadId) }], skipped: [], blocked: new Set(), exitCode: 0, notices: [], strippedRegistries: [] } }); });`,
      ),
      START,
    );
    const threadOf = async () => (await ask(worker)).blocking[0]!.message;
    const first = await threadOf();
    worker.retire();
    worker.retire();
    const second = await threadOf();
    expect(second).not.toBe(first);
    for (let i = 0; i < 100 && !existsSync(join(dir, `told-${first}`)); i++) await new Promise((resolve) => setTimeout(resolve, 20));
    // The first thread was told once and ended; the new one was not told, and still answers.
    expect(readdirSync(dir)).toEqual([`told-${first}`]);
    expect(await threadOf()).toBe(second);
  });

  it('a thread that ends without being retired is not replaced: every later question fails closed', async () => {
    const worker = new JudgeWorker(standIn("parentPort.on('message', () => process.exit(0));"), START);
    await expect(ask(worker)).rejects.toMatchObject({ code: 'ERR_PNPM_PORTCULLIS_UNDECIDED' });
    worker.retire();
    await expect(ask(worker)).rejects.toMatchObject({ code: 'ERR_PNPM_PORTCULLIS_UNDECIDED', message: expect.stringContaining('exit code 0') });
  });

  it('hands the question over whole and returns the verdict as it was given (blocked as a set)', async () => {
    const worker = new JudgeWorker(
      standIn(
        "parentPort.on('message', (q) => parentPort.postMessage({ id: q.id, verdict: { findings: [], blocking: [{ package: q.packages[0].name, version: q.packages[0].version, rule: 'signatures', code: 'UNSIGNED', message: JSON.stringify([q.partial, q.wholeGraphFollows, q.supplied.length, workerData.dir]), fix: 'f' }], skipped: [], blocked: new Set([q.packages[0].id]), exitCode: 1, notices: [], strippedRegistries: [] } }));",
      ),
      START,
    );
    const supplied = new Map([['a@1.0.0', { name: 'a', version: '1.0.0', dist: { integrity: INTEGRITY } }]]);
    const verdict = await worker.judge([node('a', '1.0.0')], supplied, { partial: true, wholeGraphFollows: false });
    expect(verdict.blocked).toBeInstanceOf(Set);
    expect(verdict.blocked.has('a@1.0.0')).toBe(true);
    expect(verdict.blocking[0]!.message).toBe(JSON.stringify([true, false, 1, '/nowhere']));
  });
});

describe('serveJudgements: the thread\'s side', () => {
  /** A project whose policy trusts `signer`'s key for the test registry (no provenance check: no release line to read). */
  function project(policy: unknown): string {
    const dir = mkdtempSync(join(tmpdir(), 'judge-worker-project-'));
    writeFileSync(join(dir, 'package.json'), '{"name":"app","version":"1.0.0"}');
    writeFileSync(join(dir, 'portcullis.json'), typeof policy === 'string' ? policy : JSON.stringify(policy));
    return dir;
  }
  const pem = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
  const signer = createRegistrySigner(pem);

  /** Asks `start`'s thread one question through a port of its own; the answer it posts. */
  async function answer(start: JudgeWorkerStart, question: object): Promise<{ id: number; verdict?: { blocking: Array<{ code: string; package: string }>; blocked: Set<string> }; error?: { code?: unknown; message: string } }> {
    let listener: ((q: never) => void) | undefined;
    const posted = new Promise<never>((resolve) => {
      void serveJudgements(start, { on: (_event, l) => void (listener = l as never), postMessage: (a) => resolve(a as never) });
    });
    listener!(question as never);
    return posted;
  }

  const settings = registrySettingsOf({ rawConfig: { registry: REGISTRY, '//127.0.0.1:9/:_authToken': 'secret', 'not-a-string': 7 }, registry: REGISTRY, other: 'x' });

  it('copies only the registry settings pnpm handed over, as strings', () => {
    expect(settings).toEqual({ rawConfig: { registry: REGISTRY, '//127.0.0.1:9/:_authToken': 'secret' }, registry: REGISTRY });
  });

  it('judges with the project\'s gate: a version signed by the trusted key passes, an unsigned one blocks', async () => {
    const dir = project({ registries: { [REGISTRY]: { keys: [signer.publicKey] } }, provenance: { noDowngrade: false } });
    const start: JudgeWorkerStart = { portcullisJudge: 1, dir, registrySettings: settings };
    // As readPackage hands it over (translate.ts suppliedFields): the manifest's own fields, read as a registry document here.
    const manifest = (signatures: unknown[]) => ({ name: 'a', version: '1.0.0', dist: { integrity: INTEGRITY, tarball: `${REGISTRY}a/-/a-1.0.0.tgz`, signatures } });
    const signed = manifest([signer.sign('a', '1.0.0', INTEGRITY)]);
    const ok = await answer(start, { id: 7, packages: [node('a', '1.0.0')], supplied: [['a@1.0.0', signed]], partial: true, wholeGraphFollows: true });
    expect(ok.id).toBe(7);
    expect(ok.verdict?.blocking).toEqual([]);
    const forged = manifest([signer.sign('a', '1.0.1', INTEGRITY)]);
    const bad = await answer(start, { id: 8, packages: [node('a', '1.0.0')], supplied: [['a@1.0.0', forged]], partial: true, wholeGraphFollows: true });
    expect(bad.verdict?.blocking.map((f) => f.code)).toEqual(['BAD_SIGNATURE']);
    expect(bad.verdict?.blocked).toEqual(new Set(['a@1.0.0']));
  });

  const doc = (name: string, signatures: unknown[]) => ({ name, version: '1.0.0', dist: { integrity: INTEGRITY, tarball: `${REGISTRY}${name}/-/${name}-1.0.0.tgz`, signatures } });

  /** A thread judging for a project that trusts `signer` (readPackage's batches held `holdMs`): ask it, and wait for `count` answers. */
  function serving(holdMs: number, count: number, end: () => void = () => undefined) {
    const dir = project({ registries: { [REGISTRY]: { keys: [signer.publicKey] } }, provenance: { noDowngrade: false } });
    const start: JudgeWorkerStart = { portcullisJudge: 1, dir, registrySettings: settings };
    const answers: Array<{ id: number; blocked?: string[]; codes?: string[] }> = [];
    let listener: ((q: never) => void) | undefined;
    let done: () => void;
    const all = new Promise<void>((resolve) => (done = resolve));
    const port = {
      on: (_event: 'message', l: unknown) => void (listener = l as never),
      postMessage: (a: { id: number; verdict?: { blocked: Set<string>; blocking: Array<{ code: string }> } }) => {
        answers.push({ id: a.id, ...(a.verdict ? { blocked: [...a.verdict.blocked], codes: a.verdict.blocking.map((f) => f.code) } : {}) });
        if (answers.length === count) done();
      },
    };
    void serveJudgements(start, port as never, holdMs, end);
    return { ask: (question: object) => listener!(question as never), answers, all };
  }

  it("holds readPackage's batches and judges them together; the graph question is judged after them, without waiting for the hold", async () => {
    const batch = (id: number, name: string, signatures: unknown[]) => ({ id, packages: [node(name, '1.0.0')], supplied: [[`${name}@1.0.0`, doc(name, signatures)]], partial: true, wholeGraphFollows: true });
    // Held a minute: only the graph question can let the batches through within the test's time.
    const thread = serving(60_000, 3);
    thread.ask(batch(1, 'a', [signer.sign('a', '1.0.0', INTEGRITY)]));
    thread.ask(batch(2, 'evil', []));
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(thread.answers).toEqual([]);
    thread.ask({ id: 3, packages: [node('a', '1.0.0'), node('evil', '1.0.0')], supplied: [], partial: false, wholeGraphFollows: false });
    await thread.all;
    // The batches first, judged together (each answered with the verdict of both), then the graph, which finds their
    // verdicts (evil's signatures were only supplied with its batch).
    expect(thread.answers.map(({ id, blocked }) => ({ id, blocked }))).toEqual([
      { id: 1, blocked: ['evil@1.0.0'] },
      { id: 2, blocked: ['evil@1.0.0'] },
      { id: 3, blocked: ['evil@1.0.0'] },
    ]);
  });

  it('told to retire, it first judges and answers the batches it holds, then ends (once)', async () => {
    const ended: number[] = [];
    const thread = serving(60_000, 2, () => void ended.push(thread.answers.length));
    thread.ask({ id: 1, packages: [node('a', '1.0.0')], supplied: [['a@1.0.0', doc('a', [signer.sign('a', '1.0.0', INTEGRITY)])]], partial: true, wholeGraphFollows: true });
    // Nothing supplied, a registry that does not answer: judged by a request that fails (METADATA_UNAVAILABLE).
    thread.ask({ id: 2, packages: [node('other', '1.0.0')], supplied: [], partial: true, wholeGraphFollows: true });
    thread.ask({ retire: true });
    await thread.all;
    for (let i = 0; i < 100 && ended.length === 0; i++) await new Promise((resolve) => setTimeout(resolve, 10));
    // Both held batches answered (judged together), before the end; the end came once.
    expect(thread.answers.map((a) => a.id)).toEqual([1, 2]);
    expect(thread.answers[0]!.blocked).toEqual(['other@1.0.0']);
    expect(ended).toEqual([2]);
  });

  it('after a refusal every later question gets the same answer, and nothing more is judged (pnpm is ending)', async () => {
    const thread = serving(10, 3);
    // Signed for another version: BAD_SIGNATURE, judged from what was supplied alone.
    thread.ask({ id: 1, packages: [node('evil', '1.0.0')], supplied: [['evil@1.0.0', doc('evil', [signer.sign('evil', '1.0.1', INTEGRITY)])]], partial: true, wholeGraphFollows: true });
    await new Promise((resolve) => setTimeout(resolve, 200));
    // Judged afresh, `other` (nothing supplied, a registry that does not answer) would be METADATA_UNAVAILABLE.
    thread.ask({ id: 2, packages: [node('other', '1.0.0')], supplied: [], partial: true, wholeGraphFollows: true });
    thread.ask({ id: 3, packages: [node('evil', '1.0.0'), node('other', '1.0.0')], supplied: [], partial: false, wholeGraphFollows: false });
    await thread.all;
    expect(thread.answers).toEqual([
      { id: 1, blocked: ['evil@1.0.0'], codes: ['BAD_SIGNATURE'] },
      { id: 2, blocked: ['evil@1.0.0'], codes: ['BAD_SIGNATURE'] },
      { id: 3, blocked: ['evil@1.0.0'], codes: ['BAD_SIGNATURE'] },
    ]);
  });

  it("a portcullis.json that cannot be used answers with pnpm's POLICY error, not a verdict", async () => {
    const start: JudgeWorkerStart = { portcullisJudge: 1, dir: project('{ "scripts": '), registrySettings: settings };
    const r = await answer(start, { id: 1, packages: [node('a', '1.0.0')], supplied: [], partial: true, wholeGraphFollows: true });
    expect(r.verdict).toBeUndefined();
    expect(r.error).toMatchObject({ code: 'ERR_PNPM_PORTCULLIS_POLICY' });
  });

  it('without pnpm\'s registry settings it answers with an error, not a verdict', async () => {
    const r = await answer({ portcullisJudge: 1, dir: project({}), registrySettings: {} }, { id: 1, packages: [], supplied: [], partial: false, wholeGraphFollows: false });
    expect(r.verdict).toBeUndefined();
    expect(r.error?.message).toContain('registry settings');
  });
});
