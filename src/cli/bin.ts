#!/usr/bin/env node
// The `agent-auth` program.
import { main } from "./main.ts";

await main();
