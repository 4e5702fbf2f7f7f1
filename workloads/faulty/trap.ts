// Test guest: traps on every message (before it can publish a reply: the host answers for it).
export { cabi_realloc } from "../lib/wit";

export function handle_message(sp: usize, sl: usize, bp: usize, bl: usize, hasReply: i32, rp: usize, rl: usize): usize {
  unreachable();
  return sp + sl + bp + bl + <usize>hasReply + rp + rl;
}
