// The ABI's status codes and log levels, and what proc_exit throws: used by every part of the emulator,
// so they live apart from the Host (index.ts re-exports them).

export const WasmResult = {
  Ok: 0, NotFound: 1, BadArgument: 2, SerializationFailure: 3, ParseFailure: 4, BadExpression: 5,
  InvalidMemoryAccess: 6, Empty: 7, CasMismatch: 8, ResultMismatch: 9, InternalFailure: 10,
  BrokenConnection: 11, Unimplemented: 12,
} as const;

export const LogLevel = ["trace", "debug", "info", "warn", "error", "critical"] as const;

export class ProcExit extends Error {
  constructor(public code: number) { super(`proc_exit(${code})`); }
}
