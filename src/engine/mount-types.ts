/** A container mount once the engine has resolved it (volumes created, paths absolute). */
export interface ResolvedMount {
  readonly type: 'bind' | 'volume' | 'tmpfs';
  /** Host path of a bind or a volume's _data; '' for tmpfs. */
  readonly source: string;
  /** Absolute path inside the container. */
  readonly destination: string;
  readonly readOnly: boolean;
  /** The volume's name (type volume). */
  readonly name?: string;
  /** An anonymous volume (removed with `rm -v`). */
  readonly anonymous?: boolean;
  /** rprivate (default), private, rshared, shared, rslave, slave. */
  readonly propagation?: string;
  /** Further OCI mount options (tmpfs size= / mode=, nocopy is handled by the resolver). */
  readonly options: readonly string[];
  /** Copy the image's content at destination into the volume on first use (Docker's copy-up). */
  readonly copyUp?: boolean;
}
