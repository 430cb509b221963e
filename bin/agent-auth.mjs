#!/usr/bin/env node
// Runs the TypeScript sources directly through tsx's loader, so the command
// always matches the code in src/.
import { register } from "tsx/esm/api";

register();
const { main } = await import("../src/cli/main.ts");
await main();
