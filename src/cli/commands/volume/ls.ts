/** `skiff volume ls`: DRIVER and VOLUME NAME, as `docker volume ls`. */
import { parseVolumeFilters, type Volume } from '../../../engine/index.ts';
import type { CommandDef } from '../../command.ts';
import { renderItems, struct } from '../../render/index.ts';
import { labelsText, naturalCompare, withVolumes } from './shared.ts';

const DEFAULT_FORMAT = 'table {{.Driver}}\t{{.Name}}';
const HEADERS = {
  Name: 'VOLUME NAME',
  Driver: 'DRIVER',
  Scope: 'SCOPE',
  Mountpoint: 'MOUNTPOINT',
  Labels: 'LABELS',
  Links: 'LINKS',
  Size: 'SIZE',
  Group: 'GROUP',
  Availability: 'AVAILABILITY',
  Status: 'STATUS',
};

/** The fields of docker's volumeContext. */
export function volumeItem(v: Volume): Record<string, unknown> {
  return struct('*formatter.volumeContext', {
    Availability: 'N/A',
    Driver: v.driver,
    Group: 'N/A',
    Labels: labelsText(v.labels),
    Links: 'N/A',
    Mountpoint: v.mountpoint,
    Name: v.name,
    Scope: 'local',
    Size: 'N/A',
    Status: 'N/A',
  });
}

const command: CommandDef = {
  usage: '[OPTIONS]',
  summary: 'List volumes',
  args: { min: 0, max: 0 },
  flags: [
    {
      name: 'filter',
      short: 'f',
      type: 'list',
      description: "Provide filter values (e.g. 'dangling=true')",
    },
    {
      name: 'format',
      type: 'string',
      description:
        "Format output using a custom template:\n'table':            Print output in table format with column headers (default)\n'table TEMPLATE':   Print output in table format using the given Go template\n'json':             Print in JSON format\n'TEMPLATE':         Print output using the given Go template",
    },
    { name: 'quiet', short: 'q', type: 'bool', description: 'Only display volume names' },
  ],
  async run(ctx, { flags }) {
    const volumes = await withVolumes(ctx, (store) =>
      store.list(parseVolumeFilters((flags.filter as string[]) ?? [])),
    );
    volumes.sort((a, b) => naturalCompare(a.name, b.name));
    const format = flags.quiet ? '{{.Name}}' : String(flags.format ?? '');
    ctx.out(
      renderItems(volumes.map(volumeItem), { format, defaultFormat: DEFAULT_FORMAT, headers: HEADERS }),
    );
    return 0;
  },
};

export default command;
