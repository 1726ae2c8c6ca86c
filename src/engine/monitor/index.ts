// PLACEHOLDER (reverted before the MON branch merges).
export interface ExitStatus {
  exitCode: number;
  signal: number;
  oomKilled: boolean;
  finishedAt: string;
}
export async function readExitFile(_dir: string): Promise<ExitStatus | undefined> {
  return undefined;
}
export interface AttachClient {
  readonly exit: Promise<ExitStatus>;
  onStdout(fn: (b: Buffer) => void): void;
  onStderr(fn: (b: Buffer) => void): void;
  writeStdin(b: Buffer): void;
  closeStdin(): void;
  resize(rows: number, cols: number): void;
  claimCleanup(): void;
  cleanupDone(): void;
  close(): void;
}
export async function connectAttach(_dir: string): Promise<AttachClient> {
  throw new Error('placeholder');
}
