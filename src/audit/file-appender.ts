import { Buffer } from "node:buffer";
import { mkdirSync } from "node:fs";
import { open, type FileHandle } from "node:fs/promises";
import { dirname } from "node:path";

/** A failed append, and how many of its bytes reached the file before the error. */
export class AppendError extends Error {
  override readonly name = "AppendError" as const;
  constructor(
    override readonly cause: unknown,
    /** Bytes of the append that are in the file: a retry starts after them. */
    readonly written: number,
  ) {
    super(cause instanceof Error ? cause.message : String(cause));
  }
}

/** Whether `e` is an {@link AppendError} (by name, so it works across copies of the module). */
export const isAppendError = (e: unknown): e is AppendError => e instanceof Error && e.name === "AppendError";

const NEWLINE = Buffer.from("\n");

/**
 * Appends bytes to one file, opened on first use (its directory created).
 *
 * After a failed write the handle is closed at once, so retries against a
 * full or failing disk leave no descriptor behind and the next append opens
 * the path again (a replaced file or a remounted disk is picked up). The
 * error says how many bytes did reach the file, so the caller resumes exactly
 * there: a retry never writes a line twice or glues two halves of different
 * lines. A file found ending in the middle of a line when first opened (a
 * process stopped mid-write) gets a newline first, so the next record starts
 * on a line of its own.
 */
export class FileAppender {
  readonly path: string;
  #file: FileHandle | undefined;
  #opened = false;

  constructor(path: string) {
    this.path = path;
  }

  /** Appends every byte of `buffers`, in order; throws {@link AppendError} when the file refuses them. */
  async append(buffers: readonly Buffer[]): Promise<void> {
    let written = 0;
    try {
      const file = this.#file ?? (await this.#open());
      // writev may write part of the data; continue from where it stopped.
      let pending = buffers;
      while (pending.length > 0) {
        const { bytesWritten } = await file.writev(pending as Buffer[]);
        written += bytesWritten;
        pending = skipBytes(pending, bytesWritten);
      }
    } catch (error) {
      await this.close();
      throw new AppendError(error, written);
    }
  }

  /** Closes the file; the next append opens it again. */
  async close(): Promise<void> {
    const file = this.#file;
    this.#file = undefined;
    // A descriptor whose last write failed may fail to close too; it is released either way.
    await file?.close().catch(() => undefined);
  }

  async #open(): Promise<FileHandle> {
    mkdirSync(dirname(this.path), { recursive: true });
    const file = await open(this.path, "a");
    try {
      if (!this.#opened && (await endsMidLine(this.path))) await file.write(NEWLINE);
    } catch (error) {
      await file.close().catch(() => undefined);
      throw error;
    }
    this.#opened = true;
    this.#file = file;
    return file;
  }
}

/** Whether the file's last byte is there and is not a newline (false when it cannot be read: a write-only file, a device). */
async function endsMidLine(path: string): Promise<boolean> {
  let file: FileHandle | undefined;
  try {
    file = await open(path, "r");
    const { size } = await file.stat();
    if (size === 0) return false;
    const last = Buffer.alloc(1);
    const { bytesRead } = await file.read(last, 0, 1, size - 1);
    return bytesRead === 1 && last[0] !== 10;
  } catch {
    return false;
  } finally {
    await file?.close().catch(() => undefined);
  }
}

/** The buffers left after the first `n` bytes. */
export function skipBytes(buffers: readonly Buffer[], n: number): Buffer[] {
  let i = 0;
  while (i < buffers.length && n >= buffers[i]!.length) n -= buffers[i++]!.length;
  if (i >= buffers.length) return [];
  return [buffers[i]!.subarray(n), ...buffers.slice(i + 1)];
}
