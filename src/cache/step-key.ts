/**
 * The layer cache's key of one step (issue 15; ARCHITECTURE.md "Layer cache keys"). PURE.
 *
 * A step's key covers every input that can change what the step leaves behind, each input hashed
 * on its own (the key's parts) and the key hashed over the parts: a miss can then say which input
 * changed against the closest entry it finds, by comparing the parts stored with that entry.
 *
 * Beyond Kaniko, which chains each key on the previous step's key, the filesystem a step runs on
 * enters as the diffIDs of the layers below it, its content: when a rebuilt step leaves a layer
 * identical to the cached one, the steps after it still hit. Secret values never enter a key
 * (BuildKit leaves them out too): a RUN's secret mounts are named by id and target only.
 */
import { createHash } from 'node:crypto';

/** What can change a step's result. Strings are compared exactly; lists in order unless said otherwise. */
export interface StepKeyInputs {
  /** The platform the step's stage is built for, `os/arch[/variant]`. */
  platform: string;
  /** The stage's base: its manifest digest for that platform, `scratch`, or an earlier stage's image digest. */
  base: string;
  /** diffIDs of the layers the step runs on (the base's, then the stage's so far), bottom first. */
  below: readonly string[];
  /** The instruction after expansion, with its flags, as the history's `created_by` would show it. */
  step: string;
  /** `KEY=VALUE` the step can see: the config's Env and the ARGs in scope. Order does not matter. */
  env: readonly string[];
  user: string;
  workdir: string;
  shell: readonly string[];
  /** COPY/ADD: the digest of the sources after `.dockerignore` (content, mode, owner of each). */
  sources?: string;
  /** RUN: each `--mount` as a canonical spec, a bind's source content digest included, secrets by id. */
  mounts?: readonly string[];
}

/** The name of each part of a key. */
export type KeyPart = keyof StepKeyInputs;

/** Every part's name, sorted. */
export const KEY_PARTS: readonly KeyPart[] = [
  'base',
  'below',
  'env',
  'mounts',
  'platform',
  'shell',
  'sources',
  'step',
  'user',
  'workdir',
];

/** A step's key: its digest, and the digest of each input it was made from. */
export interface StepKey {
  /** `sha256:<hex>` over the parts. */
  digest: string;
  /** Each input's own digest (absent inputs have none), stored with a cache entry to explain a miss. */
  parts: Partial<Record<KeyPart, string>>;
}

/** Bumped when the meaning of a part changes, so that old entries stop matching. */
const VERSION = 'kiln-step-key/v1';

const sha256 = (text: string): string => `sha256:${createHash('sha256').update(text).digest('hex')}`;

/** The key of a step with inputs `i`. */
export function stepKey(i: StepKeyInputs): StepKey {
  const values: Partial<Record<KeyPart, unknown>> = {
    ...i,
    // The same variables in another order are the same environment; a name given twice keeps its last value.
    env: [...new Map(i.env.map((kv) => [kv.split('=', 1)[0], kv])).values()].sort(),
  };
  const parts: Partial<Record<KeyPart, string>> = {};
  for (const name of Object.keys(values).sort() as KeyPart[]) {
    const v = values[name];
    if (v !== undefined) parts[name] = sha256(JSON.stringify(v));
  }
  const body = Object.entries(parts)
    .map(([name, digest]) => `${name}=${digest}\n`)
    .join('');
  return { digest: sha256(`${VERSION}\n${body}`), parts };
}

/** The parts in which two keys differ (an input present in one only counts), sorted by name. */
export function changedParts(a: StepKey['parts'], b: StepKey['parts']): KeyPart[] {
  const names = new Set([...Object.keys(a), ...Object.keys(b)] as KeyPart[]);
  return [...names].filter((n) => a[n] !== b[n]).sort();
}
