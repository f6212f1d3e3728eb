/**
 * What the stages of a build share (stages.ts): the images FROM and `COPY --from` name, pulled
 * once per build; their filesystems, and those of stages built in place, unpacked on demand; and
 * the RUN runner, chosen once.
 */
import { selectRunner } from '../exec/select.js';
import type { ProcessRunner } from '../exec/runner.js';
import type { ImageSource } from '../image/image-source.js';
import { registrySource } from '../image/registry-source.js';
import type { Image } from '../oci/image.js';
import { formatPlatform, type Platform } from '../oci/platform.js';
import { formatReference, type Reference } from '../oci/reference.js';
import type { ImageRef } from '../plan/sources.js';
import { detectContainer } from '../rootfs/container.js';
import { readContainerFacts } from '../rootfs/host-facts.js';
import type { SleepFn } from '../registry/index.js';
import type { Rootfs } from '../rootfs/rootfs.js';
import { unpackBase } from './base.js';
import type { StagesContext } from './stages.js';

/** Pulls images on first use (FROM and COPY --from share them) and unpacks them on demand. */
export class ImageCache {
  private readonly images = new Map<string, Promise<Image>>();
  private readonly rootfses = new Map<string, Promise<Rootfs>>();
  private runner: Promise<ProcessRunner> | undefined;
  private readonly registry: ImageSource<Reference>;

  constructor(private readonly ctx: StagesContext) {
    this.registry = registrySource({
      client: ctx.clients.pull,
      logger: ctx.env.logger,
      policy: ctx.clients.pullPolicy,
    });
  }

  /** The image `src` names, pulled for `platform` once per build (by the name as written). */
  image(src: ImageRef, platform: Platform): Promise<Image> {
    const key = `${src.ref}|${formatPlatform(platform)}`;
    let got = this.images.get(key);
    if (!got) {
      const env = this.ctx.env;
      env.logger.info(`retrieving image ${formatReference(src.reference)}`, { platform: formatPlatform(platform) });
      got = this.registry.resolve(src.reference, platform, env.signal);
      this.images.set(key, got);
    }
    return got;
  }

  /** The unpacked filesystem of an image used by `COPY --from=<image>`. */
  rootfsOf(src: ImageRef, platform: Platform): Promise<Rootfs> {
    return this.unpacked(`${src.ref}|${formatPlatform(platform)}`, src.ref, () => this.image(src, platform));
  }

  /** `image` unpacked into a fresh directory of the workspace, once per `key`. */
  unpacked(key: string, imageName: string, image: () => Promise<Image>): Promise<Rootfs> {
    let got = this.rootfses.get(key);
    if (!got) {
      got = (async () => {
        const rootfs = await this.ctx.workspace.imageRootfs();
        await unpackBase(await image(), rootfs, {
          imageName,
          store: this.ctx.store,
          logger: this.ctx.env.logger,
          signal: this.ctx.env.signal,
          helpers: this.ctx.layerTools,
          pullRetries: pullRetries(this.ctx),
        });
        return rootfs;
      })();
      this.rootfses.set(key, got);
    }
    return got;
  }

  processRunner(): Promise<ProcessRunner> {
    const env = this.ctx.env.env;
    const inContainer = async (): Promise<boolean> => detectContainer(await readContainerFacts(env)).inContainer;
    const choose = (): Promise<ProcessRunner> =>
      this.ctx.runner
        ? Promise.resolve(this.ctx.runner)
        : selectRunner({ path: env.PATH ?? '', workDir: this.ctx.workspace.work, inContainer });
    this.runner ??= choose().then((r) => {
      this.ctx.env.logger.info(`RUN isolation: ${r.mode} (${r.reason})`);
      if (this.ctx.workspace.mode) this.ctx.env.logger.info(this.ctx.workspace.mode);
      return r;
    });
    return this.runner;
  }
}

/** `--image-fs-extract-retry`, with the clients' sleep (injectable in tests). */
export function pullRetries(ctx: StagesContext): { retries: number; sleep: SleepFn } {
  return { retries: ctx.env.options.imageFsExtractRetry, sleep: ctx.clients.pullPolicy.sleep };
}
