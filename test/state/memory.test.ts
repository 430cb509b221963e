import { createMemoryStore } from "../../src/state/memory/memory-store.ts";
import { runStateStoreContract } from "./contract.ts";

runStateStoreContract("memory", {
  create: async (clock) => createMemoryStore({ clock }),
  destroy: async (store) => store.close(),
});
