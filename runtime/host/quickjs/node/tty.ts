// `node:tty`: whether a descriptor is a terminal, from QuickJS's os module.
import * as os from "os";

export function isatty(fd: number): boolean {
  return os.isatty(fd);
}
export class ReadStream {}
export class WriteStream {}
export default { isatty, ReadStream, WriteStream };
