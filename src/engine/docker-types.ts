// PLACEHOLDER until the SPEC branch lands its full version (take theirs at merge).
export interface ContainerConfig {
  Hostname?: string;
  User?: string;
  Env?: string[];
  Cmd?: string[];
  Entrypoint?: string[];
  WorkingDir?: string;
  Image?: string;
  Labels?: Record<string, string>;
  Tty?: boolean;
  OpenStdin?: boolean;
  StdinOnce?: boolean;
  AttachStdin?: boolean;
  AttachStdout?: boolean;
  AttachStderr?: boolean;
  StopSignal?: string;
  StopTimeout?: number;
  Volumes?: Record<string, object>;
}
export interface HostConfig {
  AutoRemove?: boolean;
  LogConfig?: { Type: string; Config?: Record<string, string> };
  NetworkMode?: string;
  Init?: boolean;
  Binds?: string[];
}
