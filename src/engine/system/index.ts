// The engine's system verbs: disk usage (`system df`) and the prune of everything unused (`system prune`).
export * from './disk-usage.ts';
export {
  matchesPruneFilters,
  type PruneFilters,
  parsePruneFilters as parseSystemPruneFilters,
  parseUntil,
  type SystemPruneOptions,
  type SystemPruneResult,
  systemPrune,
} from './prune.ts';
