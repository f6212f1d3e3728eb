/** `FROM <stage>` as an image source: the image an earlier stage of this build produced, once it has. */
import type { ImageSource } from '../image/image-source.js';
import type { Image } from '../oci/image.js';

/** The stages of the build by index, each settling when the stage is built (`stages.ts`). */
export type BuiltStages = ReadonlyMap<number, Promise<{ image: Image }>>;

/** A source of the images of `built`, named by stage index; the plan orders a stage after the stages it starts from. */
export function stageSource(built: BuiltStages): ImageSource<number> {
  return {
    async resolve(index) {
      const earlier = built.get(index);
      if (!earlier) throw new Error(`stage ${index} was not built before the stage that starts from it`);
      return (await earlier).image;
    },
  };
}
