/**
 * A hook for the recovery tests (test/e2e/skiff-recovery.test.ts), which must kill the CLI at an
 * exact step of a lifecycle verb rather than after a guessed delay: with SKIFF_TEST_PAUSE=<step> the
 * process stops itself (SIGSTOP) on reaching that step, and the test kills it with -9 there. The
 * variable is read once and removed from the environment, so the monitor and its exit command
 * (which inherit the environment) never pause. Unset, this costs one comparison per step.
 */
const pauseAt = process.env.SKIFF_TEST_PAUSE;
delete process.env.SKIFF_TEST_PAUSE;

/** Steps: create:inserted, start:created, start:started, stop:signalled, stop:killed, rm:killed, rm:removing, restart:stopped. */
export function pausePoint(step: string): void {
  if (pauseAt === step) process.kill(process.pid, 'SIGSTOP');
}
