// The filter version in the configure log line; a test keeps it equal to package.json's.
export const VERSION = "0.1.0";
// The root id this module serves: Envoy's `root_id`, Istio's `pluginName`, ASM's `rootID`.
export const ROOT_ID = "lane-tag";
