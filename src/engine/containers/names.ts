/** Container ids and names as Docker makes and accepts them. */
import { randomBytes } from 'node:crypto';
import { invalidArgument } from '../../common/index.ts';

/** 64 lowercase hex digits; never all digits (Docker avoids ids that read as numbers, too). */
export function newContainerId(): string {
  for (;;) {
    const id = randomBytes(32).toString('hex');
    if (!/^\d+$/.test(id.slice(0, 12))) return id;
  }
}

const NAME = /^\/?[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;

/** A user-given name: Docker's rule, with the leading slash of its API names dropped. */
export function checkName(name: string): string {
  if (!NAME.test(name))
    throw invalidArgument(`Invalid container name (${name}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
  return name.replace(/^\//, '');
}

// A short list in the spirit of Docker's namesgenerator: adjective_scientist.
const LEFT = [
  'admiring',
  'agitated',
  'amazing',
  'bold',
  'brave',
  'busy',
  'clever',
  'cool',
  'dazzling',
  'eager',
  'elated',
  'epic',
  'festive',
  'focused',
  'gallant',
  'gifted',
  'happy',
  'hopeful',
  'jolly',
  'keen',
  'kind',
  'lucid',
  'modest',
  'nifty',
  'optimistic',
  'peaceful',
  'quirky',
  'relaxed',
  'serene',
  'sharp',
  'stoic',
  'tender',
  'upbeat',
  'vibrant',
  'wizardly',
  'youthful',
  'zealous',
];
const RIGHT = [
  'almeida',
  'babbage',
  'bohr',
  'curie',
  'darwin',
  'dijkstra',
  'einstein',
  'euler',
  'fermat',
  'feynman',
  'galileo',
  'gauss',
  'hopper',
  'hypatia',
  'kepler',
  'knuth',
  'lamarr',
  'lovelace',
  'maxwell',
  'meitner',
  'newton',
  'noether',
  'pascal',
  'ritchie',
  'shannon',
  'thompson',
  'turing',
  'volhard',
  'wozniak',
  'yalow',
];

/** A random name; `attempt` > 0 appends a digit, as Docker does after a collision. */
export function randomName(attempt = 0): string {
  const pick = (list: readonly string[]) => list[randomBytes(2).readUInt16BE() % list.length]!;
  const name = `${pick(LEFT)}_${pick(RIGHT)}`;
  return attempt > 0 ? `${name}${randomBytes(1)[0]! % 10}` : name;
}
