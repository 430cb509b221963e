import { createMemoryStore } from "../../src/state/memory/memory-store.ts";
import { runApprovalContract } from "./approval-contract.ts";
import { runStateStoreContract, type StoreFixture } from "./contract.ts";

const fixture: StoreFixture = {
  create: async (clock) => createMemoryStore({ clock }),
  destroy: async (store) => store.close(),
};
runStateStoreContract("memory", fixture);
runApprovalContract("memory", fixture);
