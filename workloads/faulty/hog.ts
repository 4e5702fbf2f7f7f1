// Test guest: grows its memory until the host's limit stops it.
export { cabi_realloc } from "../lib/wit";

export function handle_message(sp: usize, sl: usize, bp: usize, bl: usize, hasReply: i32, rp: usize, rl: usize): usize {
  while (memory.grow(16) >= 0) {}
  unreachable();
  return sp + sl + bp + bl + <usize>hasReply + rp + rl;
}
