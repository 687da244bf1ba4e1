// lane-tag: keeps a request in its traffic lane (baggage <-> x-asm-prefer-tag). The exports Envoy calls.
export {
  malloc,
  proxy_abi_version_0_2_0,
  proxy_on_vm_start,
  proxy_on_configure,
  proxy_on_context_create,
  proxy_on_request_headers,
  proxy_on_response_headers,
  proxy_on_delete,
} from "./glue";
