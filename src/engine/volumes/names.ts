/** Volume names as Docker's local driver accepts them, and the random names of anonymous volumes. */
import { randomBytes } from 'node:crypto';
import { invalidArgument } from '../../common/index.ts';

/** moby's names.RestrictedNameChars: the pattern Docker prints in its error. */
export const VOLUME_NAME_CHARS = '[a-zA-Z0-9][a-zA-Z0-9_.-]';
const VOLUME_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;

/** Throws Docker's words when name is not a valid local volume name. */
export function validateVolumeName(name: string): void {
  if (!VOLUME_NAME.test(name))
    throw invalidArgument(
      `create ${name}: "${name}" includes invalid characters for a local volume name, only ` +
        `"${VOLUME_NAME_CHARS}" are allowed. If you intended to pass a host directory, use absolute path`,
    );
}

export function isValidVolumeName(name: string): boolean {
  return VOLUME_NAME.test(name);
}

/** An anonymous volume's name: 64 hex, as Docker's. */
export function anonymousVolumeName(): string {
  return randomBytes(32).toString('hex');
}
