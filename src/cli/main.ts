/** `skiff`: one command line, run in this process against its own terminal. */
import { runCli } from './cli.ts';

runCli(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
