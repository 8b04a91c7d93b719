/** What every demo section gets: the running test registry, a policy, and ways to show what happens. */
import { demoDependencies, type TestRegistry } from '@portcullis/test-registry';
import { createProject, portcullis, type PackageManagerName, type Project, type RunResult } from '../project.js';
import { readdirSync } from 'node:fs';

export interface DemoContext {
  registry: TestRegistry;
  /** The demo's portcullis.json: trusts the test registry's keys, allows one build (fast-compiler). */
  policy: object;
  say(text: string): void;
  /** Prints a command's output, indented. */
  show(result: RunResult): void;
}

export function demoPolicy(registry: TestRegistry): object {
  return {
    scripts: { allow: ['fast-compiler@^3.2.0'] },
    signatures: { require: 'registry' },
    registries: { [registry.url]: { keys: registry.keys.keys } },
  };
}

/** A project depending on the whole demo set (signed, unsigned, tampered, scripts). */
export function demoProject(ctx: DemoContext, pm: PackageManagerName, dependencies: Record<string, string> = demoDependencies): Project {
  return createProject(pm, ctx.registry.url, dependencies, { policy: ctx.policy });
}

/** Which install scripts actually ran (each fixture script writes a marker file). */
export function scriptsThatRan(project: Project): string[] {
  return readdirSync(project.markers).map((f) => f.replace(/\.ran$/, '')).sort();
}

/** Runs `portcullis check` in the project and shows it. */
export async function showCheck(ctx: DemoContext, project: Project): Promise<RunResult> {
  const result = await portcullis(project, ['check']);
  ctx.show(result);
  return result;
}
