import { spawnSync } from "node:child_process";
import { closeSync, existsSync, mkdtempSync, openSync, rmSync, symlinkSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/**
 * A file on a disk the test can fill and free.
 *
 * `tmpfs`: a small tmpfs mounted for the test (needs root); filling it
 * writes a filler file until the kernel answers ENOSPC, so a file that
 * already holds data may still take the rest of its last page (a partial
 * write), as a real disk does. `dev-full`: without a mount, the file is a
 * symbolic link to /dev/full while full (writes fail with ENOSPC; what the
 * file held is gone) and removed when freed, so the next open creates a
 * regular file.
 */
export interface FullDisk {
  readonly kind: "tmpfs" | "dev-full";
  /** The file the tests write (not created). */
  readonly file: string;
  readonly dir: string;
  /** Makes writes to `file` fail with ENOSPC. */
  fill(): void;
  /** Makes room again. */
  free(): void;
  /** Unmounts and removes everything. */
  dispose(): void;
}

let reported = false;
const mounted = new Set<string>();

/**
 * A full-disk fixture, or undefined (after one line saying why) when neither
 * a tmpfs can be mounted nor /dev/full exists. `needPartialWrites`: only a
 * real filesystem will do (no /dev/full fallback). AGENT_AUTH_TEST_FULL_DISK=dev-full
 * uses the fallback even where a mount would work (to test the fallback).
 */
export function fullDisk(options: { readonly sizeKiB?: number; readonly needPartialWrites?: boolean } = {}): FullDisk | undefined {
  const dir = mkdtempSync(join(tmpdir(), "agent-auth-full-disk-"));
  const mount =
    process.env["AGENT_AUTH_TEST_FULL_DISK"] === "dev-full"
      ? { status: 1 }
      : spawnSync("mount", ["-t", "tmpfs", "-o", `size=${options.sizeKiB ?? 1024}k`, "tmpfs", dir], { stdio: "ignore" });
  if (mount.status === 0) {
    mounted.add(dir);
    return tmpfsDisk(dir);
  }
  const hasDevFull = existsSync("/dev/full");
  report(
    hasDevFull
      ? "full-disk tests use /dev/full and the partial-write test is skipped: no tmpfs could be mounted (mounting needs root)"
      : "full-disk tests skipped: no tmpfs could be mounted (mounting needs root) and /dev/full is missing",
  );
  if (options.needPartialWrites === true || !hasDevFull) {
    rmSync(dir, { recursive: true, force: true });
    return undefined;
  }
  return devFullDisk(dir);
}

function report(line: string): void {
  if (reported) return;
  reported = true;
  process.stdout.write(`  ${line}\n`);
}

function tmpfsDisk(dir: string): FullDisk {
  const filler = join(dir, "filler");
  return {
    kind: "tmpfs",
    dir,
    file: join(dir, "audit.jsonl"),
    fill() {
      const fd = openSync(filler, "a");
      try {
        // Large writes first, then ever smaller ones, until not one byte fits.
        for (const size of [256 * 1024, 4096, 1]) {
          const chunk = Buffer.alloc(size, 0x2e);
          for (;;) {
            try {
              writeSync(fd, chunk);
            } catch (error) {
              if ((error as NodeJS.ErrnoException).code === "ENOSPC") break;
              throw error;
            }
          }
        }
      } finally {
        closeSync(fd);
      }
    },
    free() {
      rmSync(filler, { force: true });
    },
    dispose() {
      unmount(dir);
    },
  };
}

function devFullDisk(dir: string): FullDisk {
  const file = join(dir, "audit.jsonl");
  return {
    kind: "dev-full",
    dir,
    file,
    fill() {
      rmSync(file, { force: true });
      symlinkSync("/dev/full", file);
    },
    free() {
      rmSync(file, { force: true });
    },
    dispose() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function unmount(dir: string): void {
  // Lazily when busy: a process that still holds files there (a leak under test) must not fail the cleanup.
  if (mounted.delete(dir) && spawnSync("umount", [dir], { stdio: "ignore" }).status !== 0) spawnSync("umount", ["-l", dir], { stdio: "ignore" });
  rmSync(dir, { recursive: true, force: true });
}

// A test that fails between mount and dispose must not leave a mount behind.
process.on("exit", () => {
  for (const dir of [...mounted]) unmount(dir);
});
