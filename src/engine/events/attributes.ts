/**
 * The attributes Docker puts on a container's events (the daemon's LogContainerEventWithAttributes):
 * the event's own (exitCode, signal…), the container's labels over them, then `image` (Config.Image as
 * the user gave it, when there is one) and `name` (without the leading slash) over both.
 */

/** The fields of a container record its events are described by. */
export interface EventSubject {
  readonly name: string;
  readonly image: string;
  readonly config: { readonly Labels?: Record<string, string> | null };
}

export function containerEventAttributes(
  c: EventSubject,
  extra: Record<string, string> = {},
): Record<string, string> {
  return { ...extra, ...(c.config.Labels ?? {}), ...(c.image ? { image: c.image } : {}), name: c.name };
}
