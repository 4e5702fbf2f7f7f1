// Test guest: never returns.
export { cabi_realloc } from "../lib/wit";

export function handle_message(sp: usize, sl: usize, bp: usize, bl: usize, hasReply: i32, rp: usize, rl: usize): usize {
  let x: usize = sp + sl + bp + bl + <usize>hasReply + rp + rl;
  while (true) x = x * 31 + bl;
  return x;
}
