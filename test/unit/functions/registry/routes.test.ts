import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { registryRoutes } from '../../../../functions/registry/routes/index.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../../..');

/** The run-time imports of each TypeScript file below `dir` (type-only imports cannot form a cycle). */
function runtimeImports(dir: string): Map<string, string[]> {
  const files = (readdirSync(dir, { recursive: true }) as string[])
    .filter((file) => file.endsWith('.ts'))
    .map((file) => join(dir, file));
  const graph = new Map<string, string[]>();
  const statement = /^\s*(?:import|export)\s+(type\s+)?([^'";]*?)\s*from\s*'(\.[^']+)'/gm;
  for (const file of files) {
    const imports: string[] = [];
    for (const [, typeOnly, clause = '', specifier = ''] of readFileSync(file, 'utf8').matchAll(statement)) {
      const names = /^\{([\s\S]*)\}$/
        .exec(clause.trim())?.[1]
        ?.split(',')
        .map((name) => name.trim());
      if (typeOnly || names?.filter(Boolean).every((name) => name.startsWith('type '))) continue;
      const target = resolve(dirname(file), specifier).replace(/\.js$/, '.ts');
      if (files.includes(target)) imports.push(target);
    }
    graph.set(file, imports);
  }
  return graph;
}

function findCycle(graph: Map<string, string[]>): string[] | undefined {
  const done = new Set<string>();
  const walk = (file: string, path: string[]): string[] | undefined => {
    if (path.includes(file)) return [...path.slice(path.indexOf(file)), file];
    if (done.has(file)) return undefined;
    for (const next of graph.get(file) ?? []) {
      const cycle = walk(next, [...path, file]);
      if (cycle) return cycle;
    }
    done.add(file);
    return undefined;
  };
  for (const file of graph.keys()) {
    const cycle = walk(file, []);
    if (cycle) return cycle.map((f) => relative(root, f));
  }
  return undefined;
}

describe('registry route table', () => {
  it('has no run-time import cycle among the registry modules', () => {
    const graph = runtimeImports(join(root, 'functions/registry'));
    expect(graph.size).toBeGreaterThan(10);
    expect(findCycle(graph)).toBeUndefined();
  });

  it('names each operation once and honours If-Match on every change of a versioned item', () => {
    const ids = registryRoutes.map((route) => route.operationId);
    expect(new Set(ids).size).toBe(ids.length);
    const items = ['Pool', 'Backend', 'UserMapping', 'GroupMapping', 'ProxyUser', 'Token'];
    for (const name of items) {
      for (const verb of ['put', 'patch', 'delete']) {
        expect(registryRoutes.find((route) => route.operationId === `${verb}${name}`)?.ifMatch).toBe(true);
      }
      for (const verb of ['get', 'create']) {
        expect(registryRoutes.find((route) => route.operationId === `${verb}${name}`)?.ifMatch).toBe(false);
      }
    }
  });
});
