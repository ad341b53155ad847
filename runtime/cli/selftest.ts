import type { CommandContext } from "./context.ts";
import { UsageError } from "./context.ts";
import { selftest } from "../selftest.ts";

export async function selftestCommand(args: string[], ctx: CommandContext): Promise<number> {
  let vectorsDir: string | undefined;
  for (let i = 0; i < args.length; i++) {
    if (args[i] === "--vectors" && args[i + 1]) vectorsDir = args[++i]!;
    else throw new UsageError(`selftest: unexpected argument "${args[i]}"`);
  }
  const result = await selftest(ctx.sys, { vectorsDir });
  for (const line of result.lines) (line.startsWith("ok") ? ctx.out : ctx.err)(line);
  return result.ok ? 0 : 1;
}
