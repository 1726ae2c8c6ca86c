// The json-file log reader behind `logs` (tail, since, until, follow, timestamps).
export { formatLogEntry, type LogEntry, parseLogLine, type ReadLogsOptions, readLogs } from './reader.ts';
export {
  formatRfc3339NanoFixed,
  type LogTime,
  parseGoDuration,
  parseRfc3339Nano,
  parseTimeArg,
} from './time.ts';
