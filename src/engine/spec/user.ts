/**
 * `--user` resolved as Docker does (moby/sys/user GetExecUser): "name", "uid", "name:group",
 * "uid:gid" against the image's /etc/passwd and /etc/group, read inside the rootfs without following
 * a symlink out of it. Numeric ids absent from the files are taken as they are; names must exist.
 */
import { invalidArgument, readFileInRoot } from '../../common/index.ts';

export interface ResolvedUser {
  readonly uid: number;
  readonly gid: number;
  readonly additionalGids: number[];
}

interface PasswdEntry {
  readonly name: string;
  readonly uid: number;
  readonly gid: number;
}

interface GroupEntry {
  readonly name: string;
  readonly gid: number;
  readonly members: readonly string[];
}

const MAX_ID = 2 ** 31 - 1;

/** Go's strconv.Atoi for ids: decimal digits only (a leading + or - is not an id). */
function numericId(text: string): number | undefined {
  return /^[0-9]+$/.test(text) ? Number(text) : undefined;
}

function lines(text: string | undefined): string[][] {
  if (!text) return [];
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((l) => l.split(':'));
}

export function parsePasswd(text: string | undefined): PasswdEntry[] {
  return lines(text).map(([name = '', , uid = '', gid = '']) => ({
    name,
    uid: Number.parseInt(uid, 10),
    gid: Number.parseInt(gid, 10),
  }));
}

export function parseGroup(text: string | undefined): GroupEntry[] {
  return lines(text).map(([name = '', , gid = '', members = '']) => ({
    name,
    gid: Number.parseInt(gid, 10),
    members: members === '' ? [] : members.split(','),
  }));
}

function checkRange(id: number, what: string, spec: string): number {
  if (id > MAX_ID) throw invalidArgument(`${what} ${id} of user "${spec}" is out of range (0 to ${MAX_ID})`);
  return id;
}

/** Resolution from the files' text, for tests and for callers that already read them. */
export function resolveUserFrom(passwdText: string | undefined, groupText: string | undefined, spec: string) {
  const [userArg = '', groupArg = ''] = spec.split(/:(.*)/s, 2);
  const uidArg = numericId(userArg);
  const passwd = parsePasswd(passwdText);
  const match = passwd.find((u) =>
    userArg === '' ? u.uid === 0 : uidArg !== undefined ? u.uid === uidArg : u.name === userArg,
  );
  let uid = 0;
  let gid = 0;
  if (match) {
    uid = match.uid;
    gid = match.gid;
  } else if (userArg !== '') {
    if (uidArg === undefined)
      throw invalidArgument(`unable to find user ${userArg}: no matching entries in passwd file`);
    uid = checkRange(uidArg, 'uid', spec);
  }
  const additionalGids: number[] = [];
  if (groupArg !== '' || match) {
    const gidArg = numericId(groupArg);
    const groups = parseGroup(groupText).filter((g) => {
      if (groupArg === '') return g.members.includes(match!.name);
      return gidArg !== undefined ? g.gid === gidArg : g.name === groupArg;
    });
    if (groupArg !== '') {
      if (groups.length > 0) gid = groups[0]!.gid;
      else if (gidArg === undefined)
        throw invalidArgument(`unable to find group ${groupArg}: no matching entries in group file`);
      else gid = checkRange(gidArg, 'gid', spec);
    } else additionalGids.push(...groups.map((g) => g.gid));
  }
  return { uid, gid, additionalGids };
}

/** The user a container's process runs as, from the files inside `rootfs`. */
export function resolveUser(rootfs: string, user: string): ResolvedUser {
  return resolveUserFrom(readFileInRoot(rootfs, '/etc/passwd'), readFileInRoot(rootfs, '/etc/group'), user);
}
