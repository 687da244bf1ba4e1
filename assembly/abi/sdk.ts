// @solo-io/proxy-runtime 0.1.8 on AssemblyScript 0.27: the one place where this module meets the SDK.
//
// We take the SDK's ABI declarations (its `imports.ts`: the proxy-wasm 0.2.x host functions, with the
// import names Envoy provides) and nothing else. Its Context classes and `proxy_on_*` exports stay out of
// the build, and with them its known defects; what stands in for each, and the test that pins it:
//  1. RootContext.onConfigure passes `configuration_size` as the size *pointer* of proxy_get_buffer_bytes
//     (the host writes a word to address <size>: memory corruption). We read the plugin configuration with
//     real out-pointers (host.ts readPluginConfiguration).  Test: "configuration is read through real
//     out-pointers" in test/filter/filter.test.ts.
//  2. It aborts on an empty configuration (Envoy passes pointer 0, size 0 and does not call malloc), and
//     an abort is proc_exit(255): a dead VM. Empty means defaults here, without a host read.
//     Test: "empty configuration means defaults".
//  3. Its `proxy_set_buffer_status` is bound to the `proxy_get_buffer_status` import. It is not re-exported
//     below, so it can never be called. Test: "imports only ABI 0.2.x host functions" (import list).
//  4. Its dispatch builds ~10 debug log strings per request (one joins every live context id). Our own
//     dispatch (the root's glue.ts, pipeline/filter.ts) logs only at configure. Test: "never logs, whatever the request".
// The SDK's malloc (an ArrayBuffer per host write, `__retain`) is replaced by an arena reset per callback.
// Because nothing from the SDK's runtime.ts/malloc.ts is compiled, AS 0.27 needs no `rt/index-full` or
// `bindings/wasi_unstable` shims here; `proc_exit` is declared below for the abort handler. (The full SDK
// does build on AS 0.27 with two such shims: test/fixtures/sdk-dispatch, which `npm run bench` uses to
// measure what the SDK's own dispatch costs.)

export {
  proxy_log,
  proxy_get_property,
  proxy_get_buffer_bytes,
  proxy_get_header_map_pairs,
  proxy_replace_header_map_value,
  proxy_remove_header_map_value,
  proxy_define_metric,
  proxy_increment_metric,
  proxy_get_shared_data,
  proxy_set_shared_data,
  proxy_get_current_time_nanoseconds,
  proxy_set_property,
  proxy_get_header_map_value,
} from "@solo-io/proxy-runtime/assembly/imports";

// proxy-wasm enum values used by host.ts (the SDK defines them in runtime.ts, which we do not compile).
export const LOG_INFO: usize = 2;
export const LOG_WARN: usize = 3;
export const LOG_ERROR: usize = 4;
export const LOG_CRITICAL: usize = 5;
export const RESULT_OK: u32 = 0;
export const RESULT_NOT_FOUND: u32 = 1;
export const RESULT_CAS_MISMATCH: u32 = 8;
export const HEADERS_REQUEST: i32 = 0;
export const HEADERS_RESPONSE: i32 = 2;
export const BUFFER_PLUGIN_CONFIGURATION: i32 = 7;
export const METRIC_COUNTER: i32 = 0;
export const HEADERS_CONTINUE: u32 = 0;

// @ts-ignore: decorator
@external("wasi_snapshot_preview1", "proc_exit")
declare function proc_exit(code: u32): void;

/**
 * AssemblyScript's abort (`--use abort=`). Nothing on the request path can reach it: it exists so that a
 * defect kills the VM the way Envoy expects (proc_exit, the VM is marked failed) instead of importing an
 * `env.abort` that Envoy does not provide and would refuse to load.
 */
export function abortProcExit(message: string | null, fileName: string | null, line: u32, column: u32): void {
  proc_exit(255);
}
