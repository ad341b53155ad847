// The bundle's entry: the shims come first so every library module sees the globals it needs.
import "./host/quickjs/shims.ts";
import { createQuickJsSys } from "./host/quickjs/sys.ts";
import { runCli } from "./cli/index.ts";
import { bootAsPid1, isPid1Invocation } from "./pid1/init.ts";

declare const scriptArgs: string[];

const sys = createQuickJsSys();
const argv = scriptArgs.slice(1);

if (isPid1Invocation(scriptArgs)) {
  void bootAsPid1(sys);
} else {
  runCli(argv, sys).then(
    (status) => sys.exit(status),
    (error) => {
      sys.console.writeError(`bootward: ${String(error)}\n`);
      sys.exit(1);
    },
  );
}
