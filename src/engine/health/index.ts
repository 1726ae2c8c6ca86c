// Health checks as dockerd runs them (see ./run.ts); the monitor's timer triggers them.
export * from './probe.ts';
export { type HealthCheckOutcome, runHealthCheck } from './run.ts';
export * from './state.ts';
export { HealthStore } from './store.ts';
