/**
 * The latticeform CrossGuard pack: `pulumi preview --policy-pack policies`. Constructing a PolicyPack starts
 * the policy server, so the list itself lives in policies.ts (imported by the offline review and the tests).
 */
import { PolicyPack } from "@pulumi/policy";
import { policies } from "./policies";

new PolicyPack("latticeform", { policies: [...policies] });
