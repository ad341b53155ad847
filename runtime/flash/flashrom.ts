// Real boards reach their flash chip through flashrom (or its fork flashprog). Heads names the
// flasher with CONFIG_FLASH_OPTIONS, the whole command as plain words ("flashrom -p internal",
// "flashprog --progress --programmer internal"), and adds "-r FILE" or "-w FILE" to it. bootward
// does the same with an argv, never a shell, so a word only a shell would understand is refused
// instead of reaching flashrom with another meaning.
import type { ExecResult, Sys } from "../host/sys.ts";
import { describeError } from "../errors.ts";
import { toHex } from "../../lib/bytes.ts";
import { FlashError, type FlashDevice } from "./face.ts";

/** Characters of Heads' values (programmer names, param=value lists, paths); no quote, glob, $, ; or |. */
const PLAIN = /^[A-Za-z0-9_.,:=/+@%-]$/;

/** Words that pick flashrom's operation or skip its verification, which bootward decides itself. */
const OPERATIONS = new Set(["-r", "--read", "-w", "--write", "-v", "--verify", "-E", "--erase", "-n", "--noverify"]);

/** Lines flashrom prints around the cause (where to report, how to get help), never the cause. */
const BOILERPLATE = [/flashrom\.org|flashprog\.org/i, /^please (run|report)\b/i, /^on irc\b/i, /^note:/i, /^thanks\b/i];

/** The flasher's argv prefix from CONFIG_FLASH_OPTIONS. */
export function flasherArgv(options: string): string[] {
  const words = options.split(/\s+/).filter((word) => word !== "");
  if (words.length === 0) throw new FlashError("CONFIG_FLASH_OPTIONS is empty; set it to the flasher command for this board, e.g. \"flashrom -p internal\".");
  for (const word of words) {
    const odd = [...word].find((c) => !PLAIN.test(c));
    if (odd !== undefined) {
      throw new FlashError(`CONFIG_FLASH_OPTIONS contains "${odd}" (in "${word}"), which only a shell would interpret; bootward runs the flasher without a shell, so write the command as plain words, e.g. "flashrom -p internal".`);
    }
    if (OPERATIONS.has(word)) {
      throw new FlashError(`CONFIG_FLASH_OPTIONS contains "${word}"; it should name only the flasher and its programmer, because bootward adds -r or -w itself and always lets the flasher verify what it wrote.`);
    }
  }
  if (words[0]!.startsWith("-")) throw new FlashError(`CONFIG_FLASH_OPTIONS starts with "${words[0]}"; it must start with the flasher program (flashrom or flashprog), e.g. "flashrom -p internal".`);
  return words;
}

/** The line of flashrom's output that says what went wrong: the last meaningful line on stderr, else on stdout. */
export function flasherComplaint(result: ExecResult): string | null {
  const meaningful = (bytes: Uint8Array) =>
    new TextDecoder()
      .decode(bytes)
      .split(/\r?\n|\r/)
      .map((line) => line.trim())
      .filter((line) => line !== "" && !BOILERPLATE.some((pattern) => pattern.test(line)));
  return meaningful(result.stderr).at(-1) ?? meaningful(result.stdout).at(-1) ?? null;
}

/** The flash chip as CONFIG_FLASH_OPTIONS reaches it; each read and each write is one run of the flasher. */
export function flashromDevice(sys: Sys, options: string): FlashDevice {
  const argv = flasherArgv(options);
  const command = argv.join(" ");
  // The chip's size as last read: a write is checked against it without reading the chip again.
  let chipSize: number | null = null;

  const tempFile = () => `/tmp/flashrom-${toHex(sys.randomBytes(8))}.rom`;
  const removeTemp = (file: string) => {
    if (sys.stat(file)) sys.remove(file);
  };
  const run = async (operation: string[]): Promise<ExecResult> => {
    try {
      return await sys.exec([...argv, ...operation]);
    } catch (error) {
      throw new FlashError(`${argv[0]} could not be started (${describeError(error)}), so nothing was read or written; this firmware must carry the flasher that CONFIG_FLASH_OPTIONS names.`);
    }
  };
  const why = (result: ExecResult) => {
    const complaint = flasherComplaint(result)?.replace(/[.:!]+$/, "");
    return `"${command}" failed with status ${result.status}${complaint ? `, saying "${complaint}"` : ""}`;
  };

  const read = async (): Promise<Uint8Array> => {
    const file = tempFile();
    try {
      const result = await run(["-r", sys.hostPath(file)]);
      if (result.status !== 0) {
        throw new FlashError(`the ROM could not be read: ${why(result)}; check that CONFIG_FLASH_OPTIONS names the right programmer for this board.`);
      }
      let image: Uint8Array;
      try {
        image = sys.readFile(file);
      } catch (error) {
        throw new FlashError(`the ROM was read but ${file} could not be opened (${describeError(error)}); check that /tmp is writable and try again.`);
      }
      chipSize = image.length;
      return image;
    } finally {
      removeTemp(file);
    }
  };

  return {
    name: command,
    read,
    async write(image) {
      const expected = chipSize ?? (await read()).length;
      if (image.length !== expected) throw new FlashError(`the new ROM image is ${image.length} bytes but the flash chip holds ${expected}; nothing was written.`);
      const file = tempFile();
      try {
        try {
          sys.writeFile(file, image, 0o600);
        } catch (error) {
          throw new FlashError(`the new ROM image could not be staged in ${file} (${describeError(error)}); nothing was written, so free space in /tmp and try again.`);
        }
        const result = await run(["-w", sys.hostPath(file)]);
        if (result.status !== 0) {
          throw new FlashError(
            `writing the ROM failed: ${why(result)}; do not power off or reboot, as the flash may be half written: try again, or flash a known-good image from the recovery shell.`,
          );
        }
      } finally {
        removeTemp(file);
      }
    },
  };
}
