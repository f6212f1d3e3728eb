/** The image config before and after a stage: pure functions of the base config and the stage's output. */
import { DEFAULT_PATH, envValue, withEnv, type StageState } from '../commands/step.js';
import type { ImageConfig } from '../oci/schemas.js';
import type { StageOutput } from './stage.js';

/**
 * The state a stage starts from: the base image's runtime config, with Docker's default PATH
 * added when the base defines none (BuildKit does this for every stage, `FROM scratch` included),
 * and the ARGs of the base when it is an earlier stage (`inherited`: that stage's final ARGs,
 * which BuildKit's `dispatchState.init` carries over with their values); none from an image.
 */
export function initialState(
  base: ImageConfig,
  escape: string,
  inherited: ReadonlyMap<string, string | undefined> = new Map(),
): StageState {
  const config = { ...(base.config ?? {}) };
  if (envValue(config.Env, 'PATH') === undefined) config.Env = withEnv(config.Env, 'PATH', DEFAULT_PATH);
  return {
    config,
    args: new Map(inherited),
    escape,
    cmdSet: false,
    ...(base.author ? { author: base.author } : {}),
  };
}

/** The final image config: base fields kept, runtime config replaced, `--label`s applied, new layers and history appended. */
export function finalConfig(
  base: ImageConfig,
  out: StageOutput,
  labels: ReadonlyMap<string, string>,
  created: string,
): ImageConfig {
  const runtime = { ...out.state.config };
  if (labels.size > 0) runtime.Labels = { ...(runtime.Labels ?? {}), ...Object.fromEntries(labels) };
  const config: ImageConfig = {
    ...base,
    created,
    config: runtime,
    rootfs: { type: 'layers', diff_ids: [...base.rootfs.diff_ids, ...out.layers.map((l) => l.diffId)] },
    history: [...(base.history ?? []), ...out.history],
  };
  if (out.state.author !== undefined) config.author = out.state.author;
  return config;
}
