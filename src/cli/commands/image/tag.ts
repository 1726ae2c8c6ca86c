/** `skiff tag SOURCE TARGET` / `skiff image tag`. */
import { parseDockerRef } from '../../../image/index.ts';
import { type CommandDef, EXIT_FAILURE, StatusError } from '../../command.ts';
import { emitImageEvent } from './events.ts';
import { familiar, familiarInput, imageError, withStore } from './shared.ts';

const command: CommandDef = {
  usage: 'SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]',
  summary: 'Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE',
  args: { min: 2, max: 2 },
  flags: [],
  async run(ctx, { args }) {
    const [source, target] = args as [string, string];
    try {
      parseDockerRef(target);
    } catch {
      throw new StatusError(
        `Error parsing reference: "${target}" is not a valid repository/tag: invalid reference format`,
        EXIT_FAILURE,
      );
    }
    await withStore(ctx, (store) => {
      try {
        store.tag(source, target);
        emitImageEvent(ctx, 'tag', store.resolve(source).id, familiar(familiarInput(target)));
      } catch (err) {
        throw imageError(err, source);
      }
    });
    return 0;
  },
};

export default command;
