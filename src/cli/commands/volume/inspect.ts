/** `skiff volume inspect`: Docker's Volume JSON (API 1.50 shape) or a --format template. */
import type { Volume } from '../../../engine/index.ts';
import type { CommandDef } from '../../command.ts';
import { compileTemplate, expandEscapes, struct } from '../../render/index.ts';
import { createdAt, volumeError, withVolumes } from './shared.ts';

/** The fields `docker volume inspect` prints, in its order. */
export function volumeInspect(v: Volume): Record<string, unknown> {
  return struct('volume.Volume', {
    CreatedAt: createdAt(v),
    Driver: v.driver,
    Labels: { ...v.labels },
    Mountpoint: v.mountpoint,
    Name: v.name,
    Options: { ...v.options },
    Scope: 'local',
  });
}

const command: CommandDef = {
  usage: '[OPTIONS] VOLUME [VOLUME...]',
  summary: 'Display detailed information on one or more volumes',
  args: { min: 1 },
  flags: [
    {
      name: 'format',
      short: 'f',
      type: 'string',
      description:
        "Format output using a custom template:\n'json':             Print in JSON format\n'TEMPLATE':         Print output using the given Go template",
    },
  ],
  async run(ctx, { flags, args }) {
    const format = String(flags.format ?? '');
    const template = format && format !== 'json' ? compileTemplate(expandEscapes(format)) : undefined;
    const found: Record<string, unknown>[] = [];
    const errors: string[] = [];
    await withVolumes(ctx, (store) => {
      for (const name of args) {
        try {
          found.push(volumeInspect(store.get(name)));
        } catch (err) {
          errors.push(volumeError(err).message);
        }
      }
    });
    if (template) for (const item of found) ctx.out(`${template.execute(item)}\n`);
    else ctx.out(`${indentJson(found)}\n`);
    for (const message of errors) ctx.err(`${message}\n`);
    return errors.length > 0 ? 1 : 0;
  },
};

/** json.MarshalIndent(v, "", "    ") with Go's HTML escaping, as docker prints inspect output. */
function indentJson(value: unknown): string {
  if (Array.isArray(value) && value.length === 0) return '[]';
  return JSON.stringify(value, null, 4)
    .replaceAll('<', '\\u003c')
    .replaceAll('>', '\\u003e')
    .replaceAll('&', '\\u0026');
}

export default command;
